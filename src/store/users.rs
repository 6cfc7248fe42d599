//! Users, their org memberships and their teams, as the User and Admin APIs need them.

use chrono::NaiveDateTime;

use super::orgs::OrgMembership;
use super::{Conflict, Db, DbTime, Dialect, Missing, Store, StoreError, StoreResult, Tx};
use crate::domain::role::OrgRole;
use crate::{with_conn, with_db, with_tx};

pub(super) const USER_COLUMNS: &str =
    "u.id, u.uid, u.login, u.email, u.name, u.password, u.salt, u.org_id, \
     u.is_admin, u.theme, u.created, u.updated, u.last_seen_at, u.is_disabled, \
     u.is_service_account, u.is_provisioned";

/// A user's `user` columns except the password hash and salt: what a signed-in caller carries
/// (`crate::auth::SignedInUser`) and what handlers show.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserProfile {
    pub id: i64,
    pub uid: Option<String>,
    pub login: String,
    pub email: String,
    pub name: Option<String>,
    /// The user's current (default) org, `user.org_id`.
    pub org_id: i64,
    pub is_admin: bool,
    pub theme: Option<String>,
    pub created: NaiveDateTime,
    pub updated: NaiveDateTime,
    pub last_seen_at: Option<NaiveDateTime>,
    pub is_disabled: bool,
    pub is_service_account: Option<bool>,
    pub is_provisioned: bool,
}

/// A row of `user`: the profile with the password hash and salt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    #[sqlx(flatten)]
    pub profile: UserProfile,
    pub password: Option<String>,
    pub salt: Option<String>,
}

impl std::ops::Deref for UserRow {
    type Target = UserProfile;
    fn deref(&self) -> &UserProfile {
        &self.profile
    }
}

impl From<UserRow> for UserProfile {
    /// Drops the password hash and salt.
    fn from(row: UserRow) -> Self {
        row.profile
    }
}

impl From<&UserRow> for UserProfile {
    fn from(row: &UserRow) -> Self {
        row.profile.clone()
    }
}

#[cfg(test)]
impl UserRow {
    /// A row for unit tests: `login` with an email of its own, no password, in org 1.
    pub fn for_test(id: i64, login: &str) -> Self {
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 0)
            .unwrap()
            .naive_utc();
        UserRow {
            profile: UserProfile {
                id,
                uid: Some(format!("u{id}")),
                login: login.into(),
                email: format!("{login}@example.com"),
                name: None,
                org_id: 1,
                is_admin: false,
                theme: None,
                created: t,
                updated: t,
                last_seen_at: None,
                is_disabled: false,
                is_service_account: Some(false),
                is_provisioned: false,
            },
            password: None,
            salt: None,
        }
    }
}

/// A user with their role in their current org, as authentication needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignedInRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub role: Option<String>,
    /// The user's latest `user_auth.auth_module`, if any (what Grafana's profile labels).
    pub auth_module: Option<String>,
}

/// A search hit with the total number of matches.
#[derive(sqlx::FromRow)]
struct SearchRow {
    #[sqlx(flatten)]
    user: UserRow,
    total_count: i64,
}

/// What creating a user needs, already validated. Built with [`NewUser::new`] and its setters,
/// the one place a new user's defaults are decided.
#[derive(Clone)]
pub struct NewUser {
    pub uid: String,
    pub login: String,
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub salt: String,
    pub rands: String,
    pub is_admin: bool,
    pub is_disabled: bool,
    /// A service account (a machine identity of `org_id`, never listed among users).
    pub is_service_account: bool,
    pub theme: String,
    /// The org to join, with the role to take there.
    pub org_id: i64,
    pub role: OrgRole,
    /// Instead of joining `org_id`, create an org of this name and be its Admin (Grafana's
    /// `[users] auto_assign_org = false`).
    pub own_org: Option<String>,
}

impl NewUser {
    /// A person who joins `org_id` as `role`: a fresh uid and `rands`, no password (a random
    /// salt), enabled, not a server admin.
    pub fn new(login: String, email: String, name: String, org_id: i64, role: OrgRole) -> Self {
        NewUser {
            uid: crate::domain::new_uid(),
            login,
            email,
            name,
            password_hash: None,
            salt: crate::domain::random_string(10),
            rands: crate::domain::random_string(10),
            is_admin: false,
            is_disabled: false,
            is_service_account: false,
            theme: String::new(),
            org_id,
            role,
            own_org: None,
        }
    }

    /// The stored password: a hash, with the salt Grafana's PBKDF2 format needs.
    pub fn with_password(mut self, hash: String, salt: String) -> Self {
        self.password_hash = Some(hash);
        self.salt = salt;
        self
    }

    pub fn server_admin(mut self, is_admin: bool) -> Self {
        self.is_admin = is_admin;
        self
    }

    pub fn disabled(mut self, is_disabled: bool) -> Self {
        self.is_disabled = is_disabled;
        self
    }

    /// A machine identity of its org, never listed among users.
    pub fn service_account(mut self) -> Self {
        self.is_service_account = true;
        self
    }

    /// Instead of joining an org, create one of this name and be its Admin.
    pub fn in_own_org(mut self, name: String) -> Self {
        self.own_org = Some(name);
        self
    }
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("uid", &self.uid)
            .field("login", &self.login)
            .field("org_id", &self.org_id)
            .field("role", &self.role)
            .field("is_admin", &self.is_admin)
            .field("is_service_account", &self.is_service_account)
            .finish_non_exhaustive()
    }
}

/// `PUT /api/users/:id` and `PUT /api/user`.
#[derive(Debug, Clone)]
pub struct UserUpdate {
    pub login: String,
    pub email: String,
    pub name: String,
    pub theme: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    LoginAsc,
    LoginDesc,
    EmailAsc,
    EmailDesc,
    NameAsc,
    NameDesc,
    LastSeenAsc,
    LastSeenDesc,
}

impl UserSort {
    /// Grafana's sort option names (`pkg/services/user/sortopts`).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "login-asc" => Self::LoginAsc,
            "login-desc" => Self::LoginDesc,
            "email-asc" => Self::EmailAsc,
            "email-desc" => Self::EmailDesc,
            "name-asc" => Self::NameAsc,
            "name-desc" => Self::NameDesc,
            // "lastSeenAtAge-asc": youngest age first, i.e. most recently seen first.
            "lastSeenAtAge-asc" => Self::LastSeenAsc,
            "lastSeenAtAge-desc" => Self::LastSeenDesc,
            _ => return None,
        })
    }

    pub(super) fn order_by(self) -> &'static str {
        match self {
            Self::LoginAsc => "u.login ASC",
            Self::LoginDesc => "u.login DESC",
            Self::EmailAsc => "u.email ASC",
            Self::EmailDesc => "u.email DESC",
            Self::NameAsc => "u.name ASC",
            Self::NameDesc => "u.name DESC",
            Self::LastSeenAsc => "u.last_seen_at DESC",
            Self::LastSeenDesc => "u.last_seen_at ASC",
        }
    }
}

/// `ORDER BY` for a user search: the sorts asked for (login by default), then the id in the
/// direction of the last sort, so that an `IDX_user_list_*` index gives the order by itself.
pub(super) fn user_order(sort: &[UserSort]) -> String {
    let mut terms: Vec<&str> = sort.iter().map(|s| s.order_by()).collect();
    if terms.is_empty() {
        terms.push(UserSort::LoginAsc.order_by());
    }
    let tie = if terms.last().is_some_and(|t| t.ends_with("DESC")) {
        "u.id DESC"
    } else {
        "u.id ASC"
    };
    terms.push(tie);
    terms.join(", ")
}

#[derive(Debug, Clone)]
pub struct UserSearch {
    pub query: String,
    pub page: i64,
    pub per_page: i64,
    pub sort: Vec<UserSort>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserOrgRow {
    pub org_id: i64,
    pub name: String,
    pub role: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserTeamRow {
    pub id: i64,
    pub uid: Option<String>,
    pub org_id: i64,
    pub name: String,
    pub email: Option<String>,
    pub member_count: i64,
}

/// What `GET /api/admin/stats` counts (Grafana's `AdminStats`, JSON in camelCase).
#[derive(Debug, Clone, Default, sqlx::FromRow, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub orgs: i64,
    /// Dashboards, not folders.
    pub dashboards: i64,
    /// Distinct dashboard tags.
    pub tags: i64,
    pub stars: i64,
    /// People, not service accounts.
    pub users: i64,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub roles: RoleCounts,
    /// Seen in the last 30 days.
    pub active_users: i64,
    /// Seen in the last 24 hours.
    pub daily_active_users: i64,
    /// Seen since the first day of the current month (UTC).
    pub monthly_active_users: i64,
    /// Sessions rotated in the last 30 days.
    pub active_sessions: i64,
    /// Sessions rotated in the last 24 hours.
    pub daily_active_sessions: i64,
    /// Not in Grafana's `AdminStats`; kept for this server's admin page.
    pub teams: i64,
    /// Not in Grafana's `AdminStats`; kept for this server's admin page.
    pub disabled_users: i64,
}

/// Accounts by their highest role in any org, as Grafana's `updateUserRoleCounts`
/// (`pkg/services/stats/statsimpl/stats.go`) counts them: each account once, under Admin if it
/// is Admin anywhere, else Editor if Editor anywhere, else Viewer (a `None` role counts as
/// Viewer). Like Grafana, service accounts with an org role are counted too.
#[derive(Debug, Clone, Default, sqlx::FromRow, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleCounts {
    pub admins: i64,
    pub editors: i64,
    pub viewers: i64,
    /// Seen in the last 30 days.
    pub active_admins: i64,
    pub active_editors: i64,
    pub active_viewers: i64,
    /// Seen in the last 24 hours.
    pub daily_active_admins: i64,
    pub daily_active_editors: i64,
    pub daily_active_viewers: i64,
}

/// The moments `Store::stats` counts from.
#[derive(Debug, Clone, Copy)]
pub struct StatsWindows {
    /// 30 days ago: "active" users and sessions.
    pub month_ago: DbTime,
    /// 24 hours ago: "daily active".
    pub day_ago: DbTime,
    /// Midnight of the current month's first day: "monthly active users".
    pub month_start: DbTime,
}

/// `query` with LIKE's wildcards escaped (escape character `\`).
pub(super) fn like_escape(query: &str) -> String {
    query
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A LIKE pattern for "contains `query`".
pub(super) fn like_pattern(query: &str) -> String {
    format!("%{}%", like_escape(query))
}

/// A LIKE pattern for "starts with `query`".
pub(super) fn like_prefix(query: &str) -> String {
    format!("{}%", like_escape(query))
}

impl Store {
    /// The filter "`alias` is a user, not a service account". Written with COALESCE so that no
    /// database picks the (is_service_account, …) index for it: almost every row passes, and
    /// on SQLite that index would otherwise drive a search instead of the trigram index.
    pub(super) fn not_service_account(&self, alias: &str) -> String {
        format!(
            "COALESCE({alias}.is_service_account, {f}) = {f}",
            f = self.dialect.bool_lit(false)
        )
    }

    /// The id of the user (or service account) with this uid.
    pub async fn user_id_by_uid(&self, uid: &str) -> StoreResult<Option<i64>> {
        let sql = self.sql("SELECT id FROM `user` WHERE uid = ?");
        let id = with_conn!(&self.pool, c => {
            sqlx::query_scalar::<_, i64>(&sql).bind(uid).fetch_optional(c).await?
        });
        Ok(id)
    }

    pub async fn user_by_id(&self, id: i64) -> StoreResult<Option<UserRow>> {
        self.user_by_id_in(self.db(), id).await
    }

    /// The user's help flags (`user.help_flags1`, Grafana's bit set of dismissed hints), 0 for an
    /// unknown user.
    pub async fn help_flags(&self, id: i64) -> StoreResult<i64> {
        let sql = self.sql(&format!(
            "SELECT {} FROM `user` WHERE id = ?",
            self.dialect.bigint("COALESCE(help_flags1, 0)")
        ));
        let flags = with_conn!(&self.pool, c => {
            sqlx::query_scalar::<_, i64>(&sql).bind(id).fetch_optional(c).await?
        });
        Ok(flags.unwrap_or(0))
    }

    /// [`Store::user_by_id`] on a pool or inside a transaction; in a transaction on PostgreSQL
    /// and MySQL the row stays locked until it ends.
    pub async fn user_by_id_in(&self, db: Db<'_>, id: i64) -> StoreResult<Option<UserRow>> {
        let lock = if matches!(db, Db::Tx(_)) {
            self.dialect.for_update()
        } else {
            ""
        };
        let sql = self.sql(&format!(
            "SELECT {USER_COLUMNS} FROM `user` u WHERE u.id = ?{lock}"
        ));
        let row = with_db!(db, c => {
            sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(c).await?
        });
        Ok(row)
    }

    /// The user with their role in their current org and their auth module, for
    /// authentication: one round trip per authenticated request.
    pub async fn signed_in_user(&self, id: i64) -> StoreResult<Option<SignedInRow>> {
        let sql = self.sql(&format!(
            "SELECT {USER_COLUMNS}, ou.role, \
             (SELECT ua.auth_module FROM user_auth ua WHERE ua.user_id = u.id \
              ORDER BY ua.created DESC, ua.id DESC LIMIT 1) AS auth_module \
             FROM `user` u \
             LEFT JOIN org_user ou ON ou.user_id = u.id AND ou.org_id = u.org_id WHERE u.id = ?"
        ));
        let row = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, SignedInRow>(&sql).bind(id).fetch_optional(c).await?
        });
        Ok(row)
    }

    /// Grafana's lookup by login, then by email (`pkg/services/user/userimpl/store.go`),
    /// both case-insensitive: the value is folded as stored ones are (`domain::login::fold`),
    /// and a value no login or email can equal (control characters, too long) finds nobody.
    pub async fn user_by_login_or_email(
        &self,
        login_or_email: &str,
    ) -> StoreResult<Option<UserRow>> {
        self.user_by_login_or_email_in(self.db(), login_or_email)
            .await
    }

    /// [`Store::user_by_login_or_email`] on a pool or inside a transaction.
    pub async fn user_by_login_or_email_in(
        &self,
        mut db: Db<'_>,
        login_or_email: &str,
    ) -> StoreResult<Option<UserRow>> {
        let Some(needle) = crate::domain::login::lookup_key(login_or_email) else {
            return Ok(None);
        };
        for column in ["login", "email"] {
            let predicate = match self.dialect {
                // Stored values are folded already; their bytes (migration 0007) compare them
                // exactly (`jose` is not `josé`, as the column's collation would have it),
                // through a unique index.
                Dialect::MySql => format!("u.{column}_bytes = CAST(? AS BINARY)"),
                // lower() for rows written before logins were folded; on a folded value it
                // changes nothing.
                _ => format!("lower(u.{column}) = ?"),
            };
            let sql = self.sql(&format!(
                "SELECT {USER_COLUMNS} FROM `user` u WHERE {predicate}"
            ));
            let row = with_db!(&mut db, c => {
                sqlx::query_as::<_, UserRow>(&sql).bind(&needle).fetch_optional(c).await?
            });
            if row.is_some() {
                return Ok(row);
            }
        }
        Ok(None)
    }

    /// True when another user (not `except`) already has this login or email.
    pub(super) async fn login_or_email_taken(
        tx: &mut Tx,
        dialect: Dialect,
        login: &str,
        email: &str,
        except: i64,
    ) -> StoreResult<bool> {
        let sql = dialect.sql(match dialect {
            Dialect::MySql => "SELECT COUNT(*) FROM `user` WHERE (login_bytes = CAST(? AS BINARY) OR email_bytes = CAST(? AS BINARY) \
                OR login_bytes = CAST(? AS BINARY) OR email_bytes = CAST(? AS BINARY)) AND id <> ?",
            _ => "SELECT COUNT(*) FROM `user` WHERE (lower(login) = ? OR lower(email) = ? OR lower(login) = ? OR lower(email) = ?) AND id <> ?",
        });
        let (login, email) = (
            crate::domain::login::fold(login),
            crate::domain::login::fold(email),
        );
        let n: i64 = with_tx!(tx, c => {
            sqlx::query_scalar(&sql)
                .bind(&login).bind(&email).bind(&email).bind(&login).bind(except)
                .fetch_one(c).await?
        });
        Ok(n > 0)
    }

    /// Creates a user and their membership of `new.org_id` (or their own org).
    pub async fn create_user(&self, tx: &mut Tx, new: &NewUser, now: DbTime) -> StoreResult<i64> {
        if Self::login_or_email_taken(tx, self.dialect, &new.login, &new.email, 0).await? {
            return Err(StoreError::Conflict(Conflict::UserExists));
        }
        let (org_id, role) = match &new.own_org {
            Some(name) => {
                let sql = self.sql("SELECT COUNT(*) FROM org WHERE name = ?");
                let taken: i64 = with_tx!(tx, c => {
                    sqlx::query_scalar(&sql).bind(name).fetch_one(c).await?
                });
                if taken > 0 {
                    return Err(StoreError::Conflict(Conflict::OrgNameTaken));
                }
                let id = self
                    .insert_returning_id(
                        tx,
                        "INSERT INTO org (version, name, created, updated) VALUES (0, ?, ?, ?)",
                        |a| a.text(name).time(now.get()).time(now.get()),
                    )
                    .await?;
                (id, OrgRole::Admin)
            }
            None => {
                if !self.org_exists_tx(tx, new.org_id).await? {
                    return Err(StoreError::NotFound(Missing::Org));
                }
                (new.org_id, new.role)
            }
        };
        let id = self.insert_user_tx(tx, new, org_id, now).await?;
        let member = OrgMembership {
            org_id,
            user_id: id,
            role,
        };
        self.add_org_user_tx(tx, member, now).await?;
        Ok(id)
    }

    /// Inserts the `user` row of `new` (no membership), its current org being `org_id`.
    pub(super) async fn insert_user_tx(
        &self,
        tx: &mut Tx,
        new: &NewUser,
        org_id: i64,
        now: DbTime,
    ) -> StoreResult<i64> {
        // Grafana sets last_seen_at ten years back for a user never seen (`userimpl/user.go`).
        let never_seen = now.get() - chrono::Duration::days(3652);
        let insert =
            "INSERT INTO `user` (uid, version, login, email, name, password, salt, rands, \
             company, org_id, is_admin, email_verified, theme, created, updated, help_flags1, \
             last_seen_at, is_disabled, is_service_account, is_provisioned) \
             VALUES (?, 0, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)";
        self.insert_returning_id(tx, insert, |q| {
            q.text(&new.uid)
                .text(&new.login)
                .text(&new.email)
                .text(&new.name)
                .opt_text(new.password_hash.as_deref())
                .text(&new.salt)
                .text(&new.rands)
                .int(org_id)
                .boolean(new.is_admin)
                .boolean(false)
                .text(&new.theme)
                .time(now.get())
                .time(now.get())
                .time(never_seen)
                .boolean(new.is_disabled)
                .boolean(new.is_service_account)
                .boolean(false)
        })
        .await
        .map_err(|e| e.or_conflict(Conflict::UserExists))
    }

    pub async fn update_user(
        &self,
        tx: &mut Tx,
        id: i64,
        update: &UserUpdate,
        now: DbTime,
    ) -> StoreResult<()> {
        if Self::login_or_email_taken(tx, self.dialect, &update.login, &update.email, id).await? {
            return Err(StoreError::Conflict(Conflict::UserExists));
        }
        let sql = self.sql(
            "UPDATE `user` SET login = ?, email = ?, name = ?, theme = COALESCE(?, theme), updated = ? WHERE id = ?",
        );
        let affected = with_tx!(tx, c => {
            sqlx::query(&sql)
                .bind(&update.login).bind(&update.email).bind(&update.name)
                .bind(update.theme.as_deref()).bind(now.get()).bind(id)
                .execute(c).await.map_err(|e| StoreError::from(e).or_conflict(Conflict::UserExists))?.rows_affected()
        });
        if affected == 0 {
            return Err(StoreError::NotFound(Missing::User));
        }
        Ok(())
    }

    /// Replaces the stored password hash (and salt, for Grafana's PBKDF2 format) and ends every
    /// login session of the user but `keep_session`, in one transaction.
    pub async fn set_password(
        &self,
        tx: &mut Tx,
        id: i64,
        hash: &str,
        salt: &str,
        keep_session: Option<i64>,
        now: DbTime,
    ) -> StoreResult<bool> {
        let sql = self.sql("UPDATE `user` SET password = ?, salt = ?, updated = ? WHERE id = ?");
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(hash).bind(salt).bind(now.get()).bind(id).execute(c).await?.rows_affected()
        });
        if n == 0 {
            return Ok(false);
        }
        let sql = self.sql("DELETE FROM user_auth_token WHERE user_id = ? AND id <> ?");
        with_tx!(tx, c => {
            sqlx::query(&sql).bind(id).bind(keep_session.unwrap_or(0)).execute(c).await?;
        });
        Ok(true)
    }

    /// Swaps `old_hash` for `new_hash` only if the stored hash is still `old_hash` (used to
    /// upgrade a legacy hash after a successful login without racing a password change).
    pub async fn upgrade_password_hash(
        &self,
        id: i64,
        old_hash: &str,
        new_hash: &str,
        salt: &str,
    ) -> StoreResult<()> {
        let _changed = self.changed();
        let sql =
            self.sql("UPDATE `user` SET password = ?, salt = ? WHERE id = ? AND password = ?");
        with_conn!(&self.pool, c => {
            sqlx::query(&sql).bind(new_hash).bind(salt).bind(id).bind(old_hash).execute(c).await?;
        });
        Ok(())
    }

    pub async fn set_server_admin(
        &self,
        tx: &mut Tx,
        id: i64,
        is_admin: bool,
        now: DbTime,
    ) -> StoreResult<bool> {
        let sql = self.sql("UPDATE `user` SET is_admin = ?, updated = ? WHERE id = ?");
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(is_admin).bind(now.get()).bind(id).execute(c).await?.rows_affected()
        });
        Ok(n > 0)
    }

    /// Disables or enables a user. Disabling also ends every login session of the user.
    pub async fn set_disabled(
        &self,
        tx: &mut Tx,
        id: i64,
        disabled: bool,
        now: DbTime,
    ) -> StoreResult<bool> {
        let sql = self.sql("UPDATE `user` SET is_disabled = ?, updated = ? WHERE id = ?");
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(disabled).bind(now.get()).bind(id).execute(c).await?.rows_affected()
        });
        if disabled {
            let sql = self.sql("DELETE FROM user_auth_token WHERE user_id = ?");
            with_tx!(tx, c => { sqlx::query(&sql).bind(id).execute(c).await?; });
        }
        Ok(n > 0)
    }

    /// Deletes a user and everything that belongs to them.
    pub async fn delete_user(&self, tx: &mut Tx, id: i64) -> StoreResult<bool> {
        for table in [
            "org_user",
            "team_member",
            "star",
            "preferences",
            "user_auth_token",
            "quota",
            "user_auth",
            "user_role",
        ] {
            let sql = self.sql(&format!("DELETE FROM {table} WHERE user_id = ?"));
            with_tx!(&mut *tx, c => { sqlx::query(&sql).bind(id).execute(c).await?; });
        }
        // A service account's tokens.
        let sql = self.sql("DELETE FROM api_key WHERE service_account_id = ?");
        with_tx!(&mut *tx, c => { sqlx::query(&sql).bind(id).execute(c).await?; });
        let sql = self.sql("DELETE FROM `user` WHERE id = ?");
        let n = with_tx!(&mut *tx, c => {
            sqlx::query(&sql).bind(id).execute(c).await?.rows_affected()
        });
        Ok(n > 0)
    }

    /// Number of enabled server admins other than `except`. Their rows stay locked until the
    /// transaction ends (PostgreSQL, MySQL; SQLite's write transactions are serial), so two
    /// transactions each demoting one of the last two admins cannot both pass.
    pub async fn count_other_server_admins(&self, tx: &mut Tx, except: i64) -> StoreResult<i64> {
        let sql = self.sql(&format!(
            "SELECT id FROM `user` WHERE is_admin = {} AND is_disabled = {} AND id <> ?{}",
            self.dialect.bool_lit(true),
            self.dialect.bool_lit(false),
            self.dialect.for_update(),
        ));
        let ids: Vec<i64> = with_tx!(tx, c => {
            sqlx::query_scalar::<_, i64>(&sql).bind(except).fetch_all(c).await?
        });
        Ok(ids.len() as i64)
    }

    /// Records that the user was seen, at most once per `interval` (checked in SQL so that
    /// several instances agree).
    pub async fn touch_last_seen(
        &self,
        id: i64,
        now: DbTime,
        threshold: DbTime,
    ) -> StoreResult<()> {
        let sql = self.sql(
            "UPDATE `user` SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)",
        );
        with_conn!(&self.pool, c => {
            sqlx::query(&sql).bind(now.get()).bind(id).bind(threshold.get()).execute(c).await?;
        });
        Ok(())
    }

    /// "`column` matches `pattern`" (case-insensitively) for each column, joined with OR, with
    /// the escape clause each dialect needs (MySQL reads '\\' in a literal as one backslash).
    pub(super) fn like_any(&self, columns: &[&str]) -> String {
        let (like, escape) = match self.dialect {
            Dialect::Postgres => ("ILIKE", "'\\'"),
            Dialect::MySql => ("LIKE", "'\\\\'"),
            Dialect::Sqlite => ("LIKE", "'\\'"),
        };
        let parts: Vec<String> = columns
            .iter()
            .map(|c| format!("{c} {like} ? ESCAPE {escape}"))
            .collect();
        format!("({})", parts.join(" OR "))
    }

    /// The condition "user `u` is not a service account and matches `query`" (a substring of
    /// login, email or name) with its bound values: the trigram index on SQLite for three
    /// characters or more, `ILIKE` (backed by pg_trgm indexes) on PostgreSQL, `LIKE` otherwise.
    pub(super) fn user_filter(&self, query: &str) -> (String, Vec<String>) {
        let not_sa = self.not_service_account("u");
        let query = query.trim();
        let mut binds: Vec<String> = Vec::new();
        let filter = if query.is_empty() {
            not_sa
        } else if self.dialect == Dialect::Sqlite && query.chars().count() >= 3 {
            binds.push(format!("\"{}\"", query.replace('"', "\"\"")));
            format!(
                "{not_sa} AND u.id IN (SELECT rowid FROM user_search WHERE user_search MATCH ?)"
            )
        } else {
            let pattern = like_pattern(query);
            binds.extend([pattern.clone(), pattern.clone(), pattern]);
            format!(
                "{not_sa} AND {}",
                self.like_any(&["u.login", "u.email", "u.name"])
            )
        };
        (filter, binds)
    }

    /// Users (never service accounts) matching `search`, with the total count.
    pub async fn search_users(&self, search: &UserSearch) -> StoreResult<(i64, Vec<UserRow>)> {
        let order = user_order(&search.sort);
        if search.query.trim().is_empty() {
            return self.list_users(search, &order).await;
        }
        let (filter, binds) = self.user_filter(&search.query);
        // One pass over the matches gives both the page and the total (a window count), so the
        // trigram index is consulted once; only a page past the end needs a separate count.
        let rows_sql = self.sql(&format!(
            "SELECT {USER_COLUMNS}, COUNT(*) OVER () AS total_count FROM `user` u WHERE {filter} \
             ORDER BY {order} LIMIT ? OFFSET ?"
        ));
        let count_sql = self.sql(&format!("SELECT COUNT(*) FROM `user` u WHERE {filter}"));
        let offset = (search.page - 1) * search.per_page;
        let (total, rows) = with_conn!(&self.pool, c => {
            let mut rows = sqlx::query_as::<_, SearchRow>(&rows_sql);
            for b in &binds {
                rows = rows.bind(b);
            }
            let rows = rows.bind(search.per_page).bind(offset).fetch_all(c).await?;
            let total = match rows.first() {
                Some(first) => first.total_count,
                None if offset == 0 => 0,
                None => {
                    let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
                    for b in &binds {
                        count = count.bind(b);
                    }
                    count.fetch_one(c).await?
                }
            };
            (total, rows.into_iter().map(|r| r.user).collect())
        });
        Ok((total, rows))
    }

    /// Every user (never a service account), one page in `order`: the page's ids come from one
    /// of the `IDX_user_list_*` indexes alone (no sort, and the rows skipped to reach a deep page
    /// are never read), then only its rows are read. The total is every row less the service
    /// accounts, two counts an index answers without a scan of the table. A window count over
    /// the whole table, as a search with a query uses, would sort and count every user on each
    /// request.
    async fn list_users(
        &self,
        search: &UserSearch,
        order: &str,
    ) -> StoreResult<(i64, Vec<UserRow>)> {
        let not_sa = self.not_service_account("l");
        let page_order = order.replace("u.", "l.");
        // SQLite's CROSS JOIN fixes the join order: the page first, then its rows by id (left
        // to itself, SQLite 3.46 scans every user and probes the page).
        let join = match self.dialect {
            Dialect::Sqlite => "CROSS JOIN",
            _ => "JOIN",
        };
        let rows_sql = self.sql(&format!(
            "SELECT {USER_COLUMNS} FROM (SELECT l.id FROM `user` l WHERE {not_sa} \
             ORDER BY {page_order} LIMIT ? OFFSET ?) page {join} `user` u ON u.id = page.id \
             ORDER BY {order}"
        ));
        let count_sql = self.sql(&format!(
            "SELECT (SELECT COUNT(*) FROM `user`) - \
             (SELECT COUNT(*) FROM `user` WHERE is_service_account = {})",
            self.dialect.bool_lit(true)
        ));
        let offset = (search.page - 1) * search.per_page;
        let (total, rows) = with_conn!(&self.pool, c => {
            let rows = sqlx::query_as::<_, UserRow>(&rows_sql)
                .bind(search.per_page)
                .bind(offset)
                .fetch_all(c)
                .await?;
            let total = sqlx::query_scalar::<_, i64>(&count_sql).fetch_one(c).await?;
            (total, rows)
        });
        Ok((total, rows))
    }

    /// `user_auth.auth_module` of each given user, for `authLabels`.
    pub async fn auth_modules(&self, user_ids: &[i64]) -> StoreResult<Vec<(i64, String)>> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; user_ids.len()].join(", ");
        let sql = self.sql(&format!(
            "SELECT user_id, auth_module FROM user_auth WHERE user_id IN ({placeholders}) ORDER BY created ASC"
        ));
        let rows = with_conn!(&self.pool, c => {
            let mut q = sqlx::query_as::<_, (i64, String)>(&sql);
            for id in user_ids {
                q = q.bind(id);
            }
            q.fetch_all(c).await?
        });
        Ok(rows)
    }

    pub async fn user_orgs(&self, user_id: i64) -> StoreResult<Vec<UserOrgRow>> {
        let sql = self.sql(
            "SELECT o.id AS org_id, o.name, ou.role FROM org_user ou JOIN org o ON o.id = ou.org_id \
             WHERE ou.user_id = ? ORDER BY o.name ASC",
        );
        let rows = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, UserOrgRow>(&sql).bind(user_id).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// The user's role in an org, if they are a member.
    pub async fn org_role(&self, user_id: i64, org_id: i64) -> StoreResult<Option<OrgRole>> {
        self.org_role_in(self.db(), user_id, org_id).await
    }

    /// [`Store::org_role`] on a pool or inside a transaction.
    pub async fn org_role_in(
        &self,
        db: Db<'_>,
        user_id: i64,
        org_id: i64,
    ) -> StoreResult<Option<OrgRole>> {
        let sql = self.sql("SELECT role FROM org_user WHERE user_id = ? AND org_id = ?");
        let role = with_db!(db, c => {
            sqlx::query_scalar::<_, String>(&sql).bind(user_id).bind(org_id).fetch_optional(c).await?
        });
        // Only Grafana's four names are ever written; anything else counts as no basic role.
        Ok(role.map(|r| OrgRole::parse(&r).unwrap_or(OrgRole::None)))
    }

    /// Teams the user belongs to, in every org (`/api/users/:id/teams`) or one org.
    pub async fn user_teams(
        &self,
        user_id: i64,
        org_id: Option<i64>,
    ) -> StoreResult<Vec<UserTeamRow>> {
        let org_filter = if org_id.is_some() {
            " AND t.org_id = ?"
        } else {
            ""
        };
        let sql = self.sql(&format!(
            "SELECT t.id, t.uid, t.org_id, t.name, t.email, \
             (SELECT COUNT(*) FROM team_member m WHERE m.team_id = t.id) AS member_count \
             FROM team t JOIN team_member tm ON tm.team_id = t.id \
             WHERE tm.user_id = ?{org_filter} ORDER BY t.name ASC"
        ));
        let rows = with_conn!(&self.pool, c => {
            let mut q = sqlx::query_as::<_, UserTeamRow>(&sql).bind(user_id);
            if let Some(org) = org_id {
                q = q.bind(org);
            }
            q.fetch_all(c).await?
        });
        Ok(rows)
    }

    /// Makes `org_id` the user's current org, inside `tx` (with its audit record); answers the
    /// org they were in, or `None` if the user is not a member.
    pub async fn set_current_org(
        &self,
        tx: &mut Tx,
        user_id: i64,
        org_id: i64,
    ) -> StoreResult<Option<i64>> {
        let Some(user) = self.user_by_id_in(tx.db(), user_id).await? else {
            return Ok(None);
        };
        if self.org_role_in(tx.db(), user_id, org_id).await?.is_none() {
            return Ok(None);
        }
        let sql = self.sql("UPDATE `user` SET org_id = ? WHERE id = ?");
        with_tx!(tx, c => {
            sqlx::query(&sql).bind(org_id).bind(user_id).execute(c).await?;
        });
        Ok(Some(user.org_id))
    }

    /// Counts for `GET /api/admin/stats` (Grafana's `GetAdminStats`,
    /// `pkg/services/stats/statsimpl/stats.go`): one statement, so the counts agree.
    pub async fn stats(&self, at: StatsWindows) -> StoreResult<Stats> {
        let t = self.dialect.bool_lit(true);
        let f = self.dialect.bool_lit(false);
        let not_sa = self.not_service_account("`user`");
        // Each account once, with its highest org role: 4 Admin, 2 Editor, 1 anything else.
        let top_roles = "(SELECT u.id, u.last_seen_at, \
             MAX(CASE ou.role WHEN 'Admin' THEN 4 WHEN 'Editor' THEN 2 ELSE 1 END) AS top \
             FROM `user` u JOIN org_user ou ON ou.user_id = u.id GROUP BY u.id, u.last_seen_at) r";
        let role_count = |code: u8, since: bool| {
            format!(
                "(SELECT COUNT(*) FROM {top_roles} WHERE r.top = {code}{})",
                if since { " AND r.last_seen_at > ?" } else { "" }
            )
        };
        let sql = self.sql(&format!(
            "SELECT \
             (SELECT COUNT(*) FROM org) AS orgs, \
             (SELECT COUNT(*) FROM dashboard WHERE is_folder = {f}) AS dashboards, \
             (SELECT COUNT(DISTINCT term) FROM dashboard_tag) AS tags, \
             (SELECT COUNT(*) FROM star) AS stars, \
             (SELECT COUNT(*) FROM `user` WHERE {not_sa}) AS users, \
             {} AS admins, {} AS editors, {} AS viewers, \
             {} AS active_admins, {} AS active_editors, {} AS active_viewers, \
             {} AS daily_active_admins, {} AS daily_active_editors, {} AS daily_active_viewers, \
             (SELECT COUNT(*) FROM `user` WHERE {not_sa} AND last_seen_at > ?) AS active_users, \
             (SELECT COUNT(*) FROM `user` WHERE {not_sa} AND last_seen_at > ?) AS daily_active_users, \
             (SELECT COUNT(*) FROM `user` WHERE {not_sa} AND last_seen_at > ?) AS monthly_active_users, \
             (SELECT COUNT(*) FROM user_auth_token WHERE rotated_at > ?) AS active_sessions, \
             (SELECT COUNT(*) FROM user_auth_token WHERE rotated_at > ?) AS daily_active_sessions, \
             (SELECT COUNT(*) FROM team) AS teams, \
             (SELECT COUNT(*) FROM `user` WHERE {not_sa} AND is_disabled = {t}) AS disabled_users",
            role_count(4, false),
            role_count(2, false),
            role_count(1, false),
            role_count(4, true),
            role_count(2, true),
            role_count(1, true),
            role_count(4, true),
            role_count(2, true),
            role_count(1, true),
        ));
        // `rotated_at` holds Unix seconds.
        let secs = |t: DbTime| t.get().and_utc().timestamp();
        let stats: Stats = with_conn!(&self.pool, c => {
            sqlx::query_as(&sql)
                .bind(at.month_ago.get())
                .bind(at.month_ago.get())
                .bind(at.month_ago.get())
                .bind(at.day_ago.get())
                .bind(at.day_ago.get())
                .bind(at.day_ago.get())
                .bind(at.month_ago.get())
                .bind(at.day_ago.get())
                .bind(at.month_start.get())
                .bind(secs(at.month_ago))
                .bind(secs(at.day_ago))
                .fetch_one(c).await?
        });
        Ok(stats)
    }
}
