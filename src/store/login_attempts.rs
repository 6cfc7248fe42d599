//! Failed logins in Grafana's `login_attempt` table and recent successful ones in this server's
//! `login_success` (`created` in Unix seconds in both), shared by every instance on the database
//! so that the limits hold across a load balancer.

use super::{Dialect, Store, StoreResult, Tx};
use crate::{with_conn, with_tx};

/// Failures inside the window that concern one attempt.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct AttemptCounts {
    /// Failures for this login from this address.
    pub login_from_ip: i64,
    /// Failures from this address, for any login.
    pub from_ip: i64,
    /// Failures for this login from any address.
    pub login_total: i64,
    /// The latest recorded successful sign-in of this login from this address, if any.
    pub last_success: Option<i64>,
}

/// One recorded failure.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub ip_address: String,
    pub created: i64,
}

impl Store {
    pub async fn add_login_attempt(&self, username: &str, ip: &str, now: i64) -> StoreResult<()> {
        let sql =
            self.sql("INSERT INTO login_attempt (username, ip_address, created) VALUES (?, ?, ?)");
        with_conn!(&self.pool, c => {
            sqlx::query(&sql).bind(username).bind(ip).bind(now).execute(c).await?;
        });
        Ok(())
    }

    /// The counts the brute-force rules look at and the latest success of this login from this
    /// address, in one round trip.
    pub async fn login_attempt_counts(
        &self,
        username: &str,
        ip: &str,
        since: i64,
    ) -> StoreResult<AttemptCounts> {
        let sql = self.sql(
            "SELECT \
             (SELECT COUNT(*) FROM login_attempt WHERE username = ? AND ip_address = ? AND created >= ?) AS login_from_ip, \
             (SELECT COUNT(*) FROM login_attempt WHERE ip_address = ? AND created >= ?) AS from_ip, \
             (SELECT COUNT(*) FROM login_attempt WHERE username = ? AND created >= ?) AS login_total, \
             (SELECT MAX(created) FROM login_success WHERE username = ? AND ip_address = ?) AS last_success",
        );
        let counts = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, AttemptCounts>(&sql)
                .bind(username).bind(ip).bind(since)
                .bind(ip).bind(since)
                .bind(username).bind(since)
                .bind(username).bind(ip)
                .fetch_one(c).await?
        });
        Ok(counts)
    }

    /// Records that `username` signed in from `ip` at `now` (one row per login and address).
    pub async fn add_login_success(&self, username: &str, ip: &str, now: i64) -> StoreResult<()> {
        let sql = self.sql(match self.dialect {
            Dialect::Sqlite | Dialect::Postgres => {
                "INSERT INTO login_success (username, ip_address, created) VALUES (?, ?, ?) \
                 ON CONFLICT (username, ip_address) DO UPDATE SET created = excluded.created"
            }
            Dialect::MySql => {
                "INSERT INTO login_success (username, ip_address, created) VALUES (?, ?, ?) \
                 ON DUPLICATE KEY UPDATE created = VALUES(created)"
            }
        });
        with_conn!(&self.pool, c => {
            sqlx::query(&sql).bind(username).bind(ip).bind(now).execute(c).await?;
        });
        Ok(())
    }

    /// Deletes recorded successes made at or before `until`.
    pub async fn delete_old_login_successes(&self, until: i64) -> StoreResult<u64> {
        self.execute("DELETE FROM login_success WHERE created <= ?", |a| {
            a.int(until)
        })
        .await
    }

    /// The failures for a login since `since`, newest first.
    pub async fn login_attempts(&self, username: &str, since: i64) -> StoreResult<Vec<AttemptRow>> {
        let sql = self.sql(
            "SELECT ip_address, created FROM login_attempt \
             WHERE username = ? AND created >= ? ORDER BY created DESC, id DESC",
        );
        let rows = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, AttemptRow>(&sql).bind(username).bind(since).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// Forgets the failures for a login (an admin clearing a lockout), inside `tx` (with its
    /// audit record); answers how many were forgotten.
    pub async fn clear_login_attempts(&self, tx: &mut Tx, username: &str) -> StoreResult<u64> {
        let sql = self.sql("DELETE FROM login_attempt WHERE username = ?");
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(username).execute(c).await?.rows_affected()
        });
        Ok(n)
    }

    /// Forgets the failures for a login from one address (after a successful login from it).
    pub async fn clear_login_attempts_from(&self, username: &str, ip: &str) -> StoreResult<()> {
        self.execute(
            "DELETE FROM login_attempt WHERE username = ? AND ip_address = ?",
            |a| a.text(username).text(ip),
        )
        .await?;
        Ok(())
    }

    /// Deletes failures older than `before`.
    pub async fn delete_old_login_attempts(&self, before: i64) -> StoreResult<u64> {
        self.execute("DELETE FROM login_attempt WHERE created < ?", |a| {
            a.int(before)
        })
        .await
    }
}
