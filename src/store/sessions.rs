//! Login sessions in Grafana's `user_auth_token` table. Tokens are stored only as hashes; times
//! are Unix seconds, as Grafana stores them. Rotation and the "seen" mark are conditional
//! updates, so that several instances sharing the database never undo each other's work. Every
//! method that changes or removes a session bumps the store's generation (cached session rows
//! are then read again).

use super::users::{SignedInRow, USER_COLUMNS};
use super::{Db, Store, StoreResult, Tx};
use crate::{with_conn, with_db, with_tx};

const TOKEN_COLUMNS: &str = "t.id AS t_id, t.user_id AS t_user_id, t.auth_token AS t_auth_token, \
     t.prev_auth_token AS t_prev_auth_token, t.user_agent AS t_user_agent, \
     t.client_ip AS t_client_ip, t.auth_token_seen AS t_auth_token_seen, t.seen_at AS t_seen_at, \
     t.rotated_at AS t_rotated_at, t.created_at AS t_created_at, t.revoked_at AS t_revoked_at";

/// A row of `user_auth_token` (hashes only).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    #[sqlx(rename = "t_id")]
    pub id: i64,
    #[sqlx(rename = "t_user_id")]
    pub user_id: i64,
    #[sqlx(rename = "t_auth_token")]
    pub auth_token: String,
    #[sqlx(rename = "t_prev_auth_token")]
    pub prev_auth_token: String,
    #[sqlx(rename = "t_user_agent")]
    pub user_agent: String,
    #[sqlx(rename = "t_client_ip")]
    pub client_ip: String,
    #[sqlx(rename = "t_auth_token_seen")]
    pub auth_token_seen: bool,
    #[sqlx(rename = "t_seen_at")]
    pub seen_at: Option<i64>,
    #[sqlx(rename = "t_rotated_at")]
    pub rotated_at: i64,
    #[sqlx(rename = "t_created_at")]
    pub created_at: i64,
    #[sqlx(rename = "t_revoked_at")]
    pub revoked_at: Option<i64>,
}

impl SessionRow {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.unwrap_or(0) > 0
    }
}

/// A session with its user, as one lookup per cookie-authenticated request reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionWithUser {
    #[sqlx(flatten)]
    pub session: SessionRow,
    #[sqlx(flatten)]
    pub user: SignedInRow,
}

/// What a new session records.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub user_id: i64,
    pub hashed_token: &'a str,
    pub user_agent: &'a str,
    pub client_ip: &'a str,
    pub now: i64,
}

/// A rotation: the new hash replaces the current one only if the row still holds `current` with
/// the rotation time that was read, so two instances rotating at once cannot both win.
#[derive(Debug, Clone)]
pub struct Rotation<'a> {
    pub id: i64,
    pub current: &'a str,
    pub rotated_at: i64,
    pub new_hashed_token: &'a str,
    /// What becomes the previous token: the one the rotating client holds.
    pub new_previous: &'a str,
    pub user_agent: &'a str,
    pub client_ip: &'a str,
    pub now: i64,
}

impl Store {
    /// Creates a session inside `tx` (with the sign-in's audit record); the token is its own
    /// "previous" token until the first rotation, as in Grafana.
    pub async fn create_session(&self, tx: &mut Tx, new: &NewSession<'_>) -> StoreResult<i64> {
        let id = self
            .insert_returning_id(
                tx,
                "INSERT INTO user_auth_token (user_id, auth_token, prev_auth_token, user_agent, \
                 client_ip, auth_token_seen, seen_at, rotated_at, created_at, updated_at, revoked_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                |a| {
                    a.int(new.user_id)
                        .text(new.hashed_token)
                        .text(new.hashed_token)
                        .text(new.user_agent)
                        .text(new.client_ip)
                        .boolean(false)
                        .int(0)
                        .int(new.now)
                        .int(new.now)
                        .int(new.now)
                        .int(0)
                },
            )
            .await?;
        Ok(id)
    }

    /// The session whose current or previous token hashes to `hashed`, with its user (Grafana
    /// looks up `auth_token = ? OR prev_auth_token = ?`: a deleted row is refused at once on every
    /// instance).
    pub async fn session_by_token(&self, hashed: &str) -> StoreResult<Option<SessionWithUser>> {
        let sql = self.sql(&format!(
            "SELECT {TOKEN_COLUMNS}, {USER_COLUMNS}, ou.role, \
             (SELECT ua.auth_module FROM user_auth ua WHERE ua.user_id = u.id \
              ORDER BY ua.created DESC, ua.id DESC LIMIT 1) AS auth_module \
             FROM user_auth_token t \
             JOIN `user` u ON u.id = t.user_id \
             LEFT JOIN org_user ou ON ou.user_id = u.id AND ou.org_id = u.org_id \
             WHERE t.auth_token = ? OR t.prev_auth_token = ?"
        ));
        let row = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, SessionWithUser>(&sql)
                .bind(hashed).bind(hashed).fetch_optional(c).await?
        });
        Ok(row)
    }

    /// Records that the client presented the current token (once per rotation).
    pub async fn mark_session_seen(&self, id: i64, current: &str, now: i64) -> StoreResult<()> {
        let _changed = self.changed();
        let sql = self.sql(&format!(
            "UPDATE user_auth_token SET auth_token_seen = {}, seen_at = ? \
             WHERE id = ? AND auth_token = ?",
            self.dialect.bool_lit(true)
        ));
        with_conn!(&self.pool, c => {
            sqlx::query(&sql).bind(now).bind(id).bind(current).execute(c).await?;
        });
        Ok(())
    }

    /// Replaces the session's token, keeping `new_previous` as the previous one, on the pool or
    /// inside a transaction (with its audit record). Returns false if another request rotated
    /// first.
    pub async fn rotate_session(&self, db: Db<'_>, r: &Rotation<'_>) -> StoreResult<bool> {
        let _changed = self.changed();
        let f = self.dialect.bool_lit(false);
        let sql = self.sql(&format!(
            "UPDATE user_auth_token SET prev_auth_token = ?, \
             auth_token = ?, auth_token_seen = {f}, seen_at = ?, rotated_at = ?, updated_at = ?, \
             user_agent = ?, client_ip = ? \
             WHERE id = ? AND auth_token = ? AND rotated_at = ?"
        ));
        let n = with_db!(db, c => {
            sqlx::query(&sql)
                .bind(r.new_previous).bind(r.new_hashed_token).bind(r.now).bind(r.now).bind(r.now)
                .bind(r.user_agent).bind(r.client_ip)
                .bind(r.id).bind(r.current).bind(r.rotated_at)
                .execute(c).await?.rows_affected()
        });
        Ok(n == 1)
    }

    /// The user's sessions that are neither revoked nor expired, oldest first.
    pub async fn user_sessions(
        &self,
        user_id: i64,
        created_after: i64,
        rotated_after: i64,
    ) -> StoreResult<Vec<SessionRow>> {
        let sql = self.sql(&format!(
            "SELECT {TOKEN_COLUMNS} FROM user_auth_token t \
             WHERE t.user_id = ? AND COALESCE(t.revoked_at, 0) = 0 \
             AND t.created_at > ? AND t.rotated_at > ? ORDER BY t.id"
        ));
        let rows = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, SessionRow>(&sql)
                .bind(user_id).bind(created_after).bind(rotated_after)
                .fetch_all(c).await?
        });
        Ok(rows)
    }

    /// One session of one user (Grafana's `GetUserToken`: another user's id is "not found").
    pub async fn user_session(&self, user_id: i64, id: i64) -> StoreResult<Option<SessionRow>> {
        let sql = self.sql(&format!(
            "SELECT {TOKEN_COLUMNS} FROM user_auth_token t WHERE t.id = ? AND t.user_id = ?"
        ));
        let row = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, SessionRow>(&sql).bind(id).bind(user_id).fetch_optional(c).await?
        });
        Ok(row)
    }

    /// Ends one session inside `tx` (with its audit record). Returns false if it no longer
    /// exists.
    pub async fn delete_session(&self, tx: &mut Tx, id: i64) -> StoreResult<bool> {
        let sql = self.sql("DELETE FROM user_auth_token WHERE id = ?");
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(id).execute(c).await?.rows_affected()
        });
        Ok(n > 0)
    }

    /// Ends every session of a user but `keep` (the session that asked, when there is one),
    /// inside `tx` (with its audit record).
    pub async fn delete_user_sessions(
        &self,
        tx: &mut Tx,
        user_id: i64,
        keep: Option<i64>,
    ) -> StoreResult<u64> {
        let sql = self.sql("DELETE FROM user_auth_token WHERE user_id = ? AND id <> ?");
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(user_id).bind(keep.unwrap_or(0)).execute(c).await?.rows_affected()
        });
        Ok(n)
    }

    /// Deletes sessions past their absolute or idle lifetime, and revoked ones.
    pub async fn delete_expired_sessions(
        &self,
        created_before: i64,
        rotated_before: i64,
    ) -> StoreResult<u64> {
        self.execute(
            "DELETE FROM user_auth_token \
             WHERE created_at <= ? OR rotated_at <= ? OR COALESCE(revoked_at, 0) > 0",
            |a| a.int(created_before).int(rotated_before),
        )
        .await
    }

    /// Number of stored sessions (for tests of the clean-up and for stats).
    pub async fn count_sessions(&self) -> StoreResult<i64> {
        let n = with_conn!(&self.pool, c => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM user_auth_token").fetch_one(c).await?
        });
        Ok(n)
    }
}
