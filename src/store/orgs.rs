//! Organizations and memberships (Grafana's `pkg/services/org/orgimpl/store.go`).

use chrono::NaiveDateTime;

use super::teams::TeamMembership;
use super::users::{like_prefix, UserSort};
use super::{Conflict, Db, DbTime, Dialect, Lock, Missing, Store, StoreError, StoreResult, Tx};
use crate::domain::role::OrgRole;
use crate::{with_conn, with_db, with_tx};

/// An org with its address.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgDetails {
    pub id: i64,
    pub name: String,
    #[sqlx(flatten)]
    pub address: OrgAddress,
}

/// An org's address, as Grafana's `AddressDTO` shows it (empty for a column never set).
#[derive(Debug, Clone, Default, sqlx::FromRow, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgAddress {
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub zip_code: String,
    pub state: String,
    pub country: String,
}

/// A membership of an org: who, in which org, as what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgMembership {
    pub org_id: i64,
    pub user_id: i64,
    pub role: OrgRole,
}

/// A member of an org, as the org-user listings show them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgUserRow {
    pub org_id: i64,
    pub user_id: i64,
    pub uid: Option<String>,
    pub email: String,
    pub name: Option<String>,
    pub login: String,
    pub role: String,
    pub last_seen_at: Option<NaiveDateTime>,
    pub created: NaiveDateTime,
    pub is_disabled: bool,
    pub is_provisioned: bool,
}

#[derive(sqlx::FromRow)]
struct OrgUserSearchRow {
    #[sqlx(flatten)]
    row: OrgUserRow,
    total_count: i64,
}

/// What removing a member did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// The membership is gone (or there was none).
    Membership,
    /// The user was in no other org and was deleted (`DELETE /api/org/users/:id`).
    User,
}

const ORG_DETAILS: &str = "SELECT id, name, COALESCE(address1, '') AS address1, \
     COALESCE(address2, '') AS address2, COALESCE(city, '') AS city, \
     COALESCE(zip_code, '') AS zip_code, COALESCE(state, '') AS state, \
     COALESCE(country, '') AS country FROM org";

const ORG_USER_COLUMNS: &str = "ou.org_id, u.id AS user_id, u.uid, u.email, u.name, u.login, \
     ou.role, u.last_seen_at, u.created, u.is_disabled, u.is_provisioned";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgRow {
    pub id: i64,
    pub name: String,
}

impl Store {
    pub async fn org_by_id(&self, id: i64) -> StoreResult<Option<OrgRow>> {
        let sql = self.sql("SELECT id, name FROM org WHERE id = ?");
        let row = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, OrgRow>(&sql).bind(id).fetch_optional(c).await?
        });
        Ok(row)
    }

    pub(crate) async fn org_exists_tx(&self, tx: &mut Tx, id: i64) -> StoreResult<bool> {
        let sql = self.sql("SELECT COUNT(*) FROM org WHERE id = ?");
        let n: i64 = with_tx!(tx, c => {
            sqlx::query_scalar(&sql).bind(id).fetch_one(c).await?
        });
        Ok(n > 0)
    }

    pub(crate) async fn add_org_user_tx(
        &self,
        tx: &mut Tx,
        member: OrgMembership,
        now: DbTime,
    ) -> StoreResult<()> {
        let sql = self.sql(
            "INSERT INTO org_user (org_id, user_id, role, created, updated) VALUES (?, ?, ?, ?, ?)",
        );
        with_tx!(tx, c => {
            sqlx::query(&sql).bind(member.org_id).bind(member.user_id).bind(member.role.as_str())
                .bind(now.get()).bind(now.get()).execute(c).await?;
        });
        Ok(())
    }

    /// Creates an org and returns its id.
    pub async fn create_org(&self, tx: &mut Tx, name: &str, now: DbTime) -> StoreResult<i64> {
        self.insert_returning_id(
            tx,
            "INSERT INTO org (version, name, created, updated) VALUES (0, ?, ?, ?)",
            |a| a.text(name).time(now.get()).time(now.get()),
        )
        .await
        .map_err(|e| e.or_conflict(Conflict::OrgNameTaken))
    }

    pub async fn org_details(&self, id: i64) -> StoreResult<Option<OrgDetails>> {
        self.org_details_in(self.db(), id).await
    }

    /// [`Store::org_details`] on a pool or inside a transaction.
    pub async fn org_details_in(&self, db: Db<'_>, id: i64) -> StoreResult<Option<OrgDetails>> {
        let sql = self.sql(&format!("{ORG_DETAILS} WHERE id = ?"));
        let row = with_db!(db, c => {
            sqlx::query_as::<_, OrgDetails>(&sql).bind(id).fetch_optional(c).await?
        });
        Ok(row)
    }

    pub async fn org_by_name(&self, name: &str) -> StoreResult<Option<OrgDetails>> {
        self.org_by_name_in(self.db(), name).await
    }

    /// [`Store::org_by_name`] on a pool or inside a transaction.
    pub async fn org_by_name_in(&self, db: Db<'_>, name: &str) -> StoreResult<Option<OrgDetails>> {
        let sql = self.sql(&format!("{ORG_DETAILS} WHERE name = ?"));
        let row = with_db!(db, c => {
            sqlx::query_as::<_, OrgDetails>(&sql).bind(name).fetch_optional(c).await?
        });
        Ok(row)
    }

    /// Grafana's org search: `query` is a name prefix, `name` an exact name; in id order.
    pub async fn search_orgs(
        &self,
        query: &str,
        name: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<OrgRow>> {
        let mut filters = Vec::new();
        let mut binds = Vec::new();
        if !query.is_empty() {
            // Grafana matches a prefix of the name (`name LIKE 'query%'`). The index on name
            // serves it on every dialect, so the LIKE stays case-sensitive here.
            filters.push(match self.dialect {
                Dialect::MySql => "name LIKE ? ESCAPE '\\\\'",
                _ => "name LIKE ? ESCAPE '\\'",
            });
            binds.push(like_prefix(query));
        }
        if !name.is_empty() {
            filters.push("name = ?");
            binds.push(name.to_string());
        }
        let filter = if filters.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", filters.join(" AND "))
        };
        let sql = self.sql(&format!(
            "SELECT id, name FROM org{filter} ORDER BY id LIMIT ? OFFSET ?"
        ));
        let rows = with_conn!(&self.pool, c => {
            let mut q = sqlx::query_as::<_, OrgRow>(&sql);
            for b in &binds {
                q = q.bind(b);
            }
            q.bind(limit).bind(offset).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// Creates an org with `creator` as its Admin, in one transaction.
    pub async fn create_org_with_admin(
        &self,
        tx: &mut Tx,
        name: &str,
        creator: i64,
        now: DbTime,
    ) -> StoreResult<i64> {
        let id = self.create_org(tx, name, now).await?;
        self.add_org_user_tx(
            tx,
            OrgMembership {
                org_id: id,
                user_id: creator,
                role: OrgRole::Admin,
            },
            now,
        )
        .await?;
        Ok(id)
    }

    /// Renames an org. `Ok(false)` if it does not exist.
    pub async fn rename_org(
        &self,
        tx: &mut Tx,
        id: i64,
        name: &str,
        now: DbTime,
    ) -> StoreResult<bool> {
        let sql = self.sql("UPDATE org SET name = ?, updated = ? WHERE id = ?");
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(name).bind(now.get()).bind(id).execute(c).await
                .map_err(|e| StoreError::from(e).or_conflict(Conflict::OrgNameTaken))?.rows_affected()
        });
        // MySQL reports 0 affected rows when nothing changed; tell that apart from a missing org.
        Ok(n > 0 || self.org_exists_tx(tx, id).await?)
    }

    pub async fn set_org_address(
        &self,
        tx: &mut Tx,
        id: i64,
        a: &OrgAddress,
        now: DbTime,
    ) -> StoreResult<()> {
        let sql = self.sql(
            "UPDATE org SET address1 = ?, address2 = ?, city = ?, zip_code = ?, state = ?, \
             country = ?, updated = ? WHERE id = ?",
        );
        with_tx!(tx, c => {
            sqlx::query(&sql)
                .bind(&a.address1).bind(&a.address2).bind(&a.city).bind(&a.zip_code)
                .bind(&a.state).bind(&a.country).bind(now.get()).bind(id)
                .execute(c).await?;
        });
        Ok(())
    }

    /// Deletes an org and everything in it — memberships, teams and their members, stars,
    /// preferences, quotas, its custom roles and role assignments — in one transaction, and moves users whose current org it was to
    /// another of their orgs (or to none, 0). `Ok(false)` if it does not exist.
    pub async fn delete_org(&self, tx: &mut Tx, id: i64) -> StoreResult<bool> {
        let sql = self
            .sql("DELETE FROM permission WHERE role_id IN (SELECT id FROM role WHERE org_id = ?)");
        with_tx!(&mut *tx, c => { sqlx::query(&sql).bind(id).execute(c).await?; });
        // The org's service accounts go with it (Grafana's DeleteOrg), and so do any keys left.
        let sql = self.sql(&format!(
            "SELECT id FROM `user` WHERE org_id = ? AND is_service_account = {}",
            self.dialect.bool_lit(true)
        ));
        let accounts: Vec<i64> = with_tx!(&mut *tx, c => {
            sqlx::query_scalar(&sql).bind(id).fetch_all(c).await?
        });
        for account in accounts {
            self.delete_user(tx, account).await?;
        }
        let sql = self.sql(
            "DELETE FROM dashboard_provisioning \
             WHERE dashboard_id IN (SELECT id FROM dashboard WHERE org_id = ?)",
        );
        with_tx!(&mut *tx, c => { sqlx::query(&sql).bind(id).execute(c).await?; });
        for table in [
            "api_key",
            "dashboard_tag",
            "dashboard",
            "team_member",
            "team",
            "star",
            "preferences",
            "quota",
            "org_user",
            "user_role",
            "team_role",
            "builtin_role",
            "role",
        ] {
            let sql = self.sql(&format!("DELETE FROM {table} WHERE org_id = ?"));
            with_tx!(&mut *tx, c => { sqlx::query(&sql).bind(id).execute(c).await?; });
        }
        let sql = self.sql("DELETE FROM org WHERE id = ?");
        let n = with_tx!(&mut *tx, c => {
            sqlx::query(&sql).bind(id).execute(c).await?.rows_affected()
        });
        if n == 0 {
            return Ok(false);
        }
        let sql = self.sql(
            "UPDATE `user` SET org_id = COALESCE(\
             (SELECT MIN(ou.org_id) FROM org_user ou WHERE ou.user_id = `user`.id), 0) \
             WHERE org_id = ?",
        );
        with_tx!(&mut *tx, c => { sqlx::query(&sql).bind(id).execute(c).await?; });
        Ok(true)
    }

    /// Members of an org matching `query` (login, email or name substring), login order.
    pub async fn search_org_users(
        &self,
        org_id: i64,
        query: &str,
        sort: &[UserSort],
        limit: i64,
        offset: i64,
    ) -> StoreResult<(i64, Vec<OrgUserRow>)> {
        if query.trim().is_empty() && sort.is_empty() {
            return self.org_users_page(org_id, limit, offset).await;
        }
        let (matches, binds) = self.user_filter(query);
        let filter = format!("ou.org_id = ? AND {matches}");
        let order = if sort.is_empty() {
            "u.login ASC, u.email ASC".to_string()
        } else {
            sort.iter()
                .map(|s| s.order_by())
                .collect::<Vec<_>>()
                .join(", ")
        };
        // On SQLite with a query, start from the users the trigram index found.
        let from = match self.dialect {
            Dialect::Sqlite if !query.trim().is_empty() => {
                "`user` u CROSS JOIN org_user ou ON ou.user_id = u.id"
            }
            _ => "org_user ou JOIN `user` u ON u.id = ou.user_id",
        };
        let sql = self.sql(&format!(
            "SELECT {ORG_USER_COLUMNS}, COUNT(*) OVER () AS total_count \
             FROM {from} WHERE {filter} ORDER BY {order}, u.id LIMIT ? OFFSET ?"
        ));
        let rows = with_conn!(&self.pool, c => {
            let mut q = sqlx::query_as::<_, OrgUserSearchRow>(&sql).bind(org_id);
            for b in &binds {
                q = q.bind(b);
            }
            q.bind(limit).bind(offset).fetch_all(c).await?
        });
        let total = match rows.first() {
            Some(r) => r.total_count,
            None if offset > 0 => {
                // Past the last page: count separately.
                let sql = self.sql(&format!(
                    "SELECT COUNT(*) FROM org_user ou JOIN `user` u ON u.id = ou.user_id WHERE {filter}"
                ));
                with_conn!(&self.pool, c => {
                    let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(org_id);
                    for b in &binds {
                        q = q.bind(b);
                    }
                    q.fetch_one(c).await?
                })
            }
            None => 0,
        };
        Ok((total, rows.into_iter().map(|r| r.row).collect()))
    }

    /// All members in login order: the page walks the login index and probes memberships, and
    /// the total comes from the membership index alone (less the org's service accounts), so
    /// neither sorts nor joins the whole org.
    async fn org_users_page(
        &self,
        org_id: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(i64, Vec<OrgUserRow>)> {
        let not_sa = self.not_service_account("u");
        // SQLite's CROSS JOIN fixes the join order: users first, in index order.
        let join = match self.dialect {
            Dialect::Sqlite => "CROSS JOIN",
            _ => "JOIN",
        };
        let page_sql = self.sql(&format!(
            "SELECT {ORG_USER_COLUMNS} FROM `user` u {join} org_user ou \
             ON ou.user_id = u.id AND ou.org_id = ? WHERE {not_sa} \
             ORDER BY u.login ASC, u.email ASC, u.id LIMIT ? OFFSET ?"
        ));
        let count_sql = self.sql(&format!(
            "SELECT (SELECT COUNT(*) FROM org_user WHERE org_id = ?) - \
             (SELECT COUNT(*) FROM org_user ou JOIN `user` u ON u.id = ou.user_id \
              WHERE ou.org_id = ? AND u.is_service_account = {})",
            self.dialect.bool_lit(true)
        ));
        let (total, rows) = with_conn!(&self.pool, c => {
            let rows = sqlx::query_as::<_, OrgUserRow>(&page_sql)
                .bind(org_id).bind(limit).bind(offset).fetch_all(c).await?;
            let total = sqlx::query_scalar::<_, i64>(&count_sql)
                .bind(org_id).bind(org_id).fetch_one(c).await?;
            (total, rows)
        });
        Ok((total, rows))
    }

    /// Adds a member. `Conflict` if they already are one. A user whose current org is not one of
    /// theirs (e.g. 0) is moved to this org, as Grafana does.
    pub async fn add_org_member(
        &self,
        tx: &mut Tx,
        member: OrgMembership,
        now: DbTime,
    ) -> StoreResult<()> {
        if !self.org_exists_tx(tx, member.org_id).await? {
            return Err(StoreError::NotFound(Missing::Org));
        }
        if self
            .org_role_in(Db::Tx(tx), member.user_id, member.org_id)
            .await?
            .is_some()
        {
            return Err(StoreError::Conflict(Conflict::AlreadyOrgMember));
        }
        self.add_org_user_tx(tx, member, now)
            .await
            .map_err(|e| e.or_conflict(Conflict::AlreadyOrgMember))?;
        let sql = self.sql(
            "UPDATE `user` SET org_id = ? WHERE id = ? AND org_id NOT IN \
             (SELECT ou.org_id FROM org_user ou WHERE ou.user_id = ? AND ou.org_id <> ?)",
        );
        with_tx!(tx, c => {
            sqlx::query(&sql).bind(member.org_id).bind(member.user_id).bind(member.user_id).bind(member.org_id).execute(c).await?;
        });
        Ok(())
    }

    /// Number of Admins of an org other than `except`, their rows locked until the
    /// transaction ends (see [`Store::count_other_server_admins`]).
    async fn other_admins_tx(&self, tx: &mut Tx, org_id: i64, except: i64) -> StoreResult<i64> {
        let sql = self.sql(&format!(
            "SELECT user_id FROM org_user WHERE org_id = ? AND role = 'Admin' AND user_id <> ?{}",
            self.dialect.for_update()
        ));
        let ids: Vec<i64> = with_tx!(tx, c => {
            sqlx::query_scalar(&sql).bind(org_id).bind(except).fetch_all(c).await?
        });
        Ok(ids.len() as i64)
    }

    /// Changes a member's role. `NotFound` if they are not a member; `Conflict` when the org
    /// would be left without an Admin.
    pub async fn set_org_member_role(
        &self,
        tx: &mut Tx,
        member: OrgMembership,
        now: DbTime,
    ) -> StoreResult<()> {
        tx.lock(Lock::OrgAdmin).await?;
        let Some(current) = self
            .org_role_in(Db::Tx(tx), member.user_id, member.org_id)
            .await?
        else {
            return Err(StoreError::NotFound(Missing::OrgUser));
        };
        if current == OrgRole::Admin
            && member.role != OrgRole::Admin
            && self
                .other_admins_tx(tx, member.org_id, member.user_id)
                .await?
                == 0
        {
            return Err(StoreError::Conflict(Conflict::LastOrgAdmin));
        }
        let sql =
            self.sql("UPDATE org_user SET role = ?, updated = ? WHERE org_id = ? AND user_id = ?");
        with_tx!(tx, c => {
            sqlx::query(&sql).bind(member.role.as_str()).bind(now.get()).bind(member.org_id).bind(member.user_id).execute(c).await?;
        });
        Ok(())
    }

    /// Removes a member with their team memberships in that org. `Conflict` when they are the
    /// org's last Admin. A user left in no org is deleted when `delete_orphan` is set (the
    /// current-org API) and otherwise keeps existing with current org 0 (the admin API); a user
    /// left in other orgs whose current org this was moves to one of them.
    pub async fn remove_org_member(
        &self,
        tx: &mut Tx,
        org_id: i64,
        user_id: i64,
        delete_orphan: bool,
    ) -> StoreResult<Removed> {
        tx.lock(Lock::OrgAdmin).await?;
        let role = self.org_role_in(Db::Tx(tx), user_id, org_id).await?;
        if role == Some(OrgRole::Admin)
            && self.other_admins_tx(&mut *tx, org_id, user_id).await? == 0
        {
            return Err(StoreError::Conflict(Conflict::LastOrgAdmin));
        }
        for table in ["org_user", "team_member", "user_role"] {
            let sql = self.sql(&format!(
                "DELETE FROM {table} WHERE org_id = ? AND user_id = ?"
            ));
            with_tx!(&mut *tx, c => { sqlx::query(&sql).bind(org_id).bind(user_id).execute(c).await?; });
        }
        let sql = self.sql("SELECT MIN(org_id) FROM org_user WHERE user_id = ?");
        let other: Option<i64> = with_tx!(&mut *tx, c => {
            sqlx::query_scalar(&sql).bind(user_id).fetch_one(c).await?
        });
        // Server admins and service accounts are never deleted this way: an org Admin may remove
        // them from the org, not from the server (Grafana's `RemoveOrgUser` in
        // pkg/services/org/orgimpl/store.go deletes orphans only when `!usr.IsAdmin`, and finds
        // no service accounts at all).
        let sql = self.sql("SELECT is_admin, is_service_account FROM `user` WHERE id = ?");
        let kind: Option<(bool, Option<bool>)> = with_tx!(&mut *tx, c => {
            sqlx::query_as(&sql).bind(user_id).fetch_optional(c).await?
        });
        let deletable = matches!(kind, Some((false, None | Some(false))));
        let removed = match other {
            None if delete_orphan && role.is_some() && deletable => {
                self.delete_user(tx, user_id).await?;
                Removed::User
            }
            _ => {
                let sql = self.sql("UPDATE `user` SET org_id = ? WHERE id = ? AND org_id = ?");
                with_tx!(&mut *tx, c => {
                    sqlx::query(&sql).bind(other.unwrap_or(0)).bind(user_id).bind(org_id).execute(c).await?;
                });
                Removed::Membership
            }
        };
        Ok(removed)
    }

    /// Number of orgs, for first-start set-up.
    pub async fn count_orgs(&self, db: Db<'_>) -> StoreResult<i64> {
        let sql = format!("SELECT COUNT(*) FROM org{}", db.current_read());
        let n = with_db!(db, c => {
            sqlx::query_scalar::<_, i64>(&sql).fetch_one(c).await?
        });
        Ok(n)
    }

    /// Number of users (service accounts included), for first-start set-up.
    pub async fn count_all_users(&self) -> StoreResult<i64> {
        let sql = self.sql("SELECT COUNT(*) FROM `user`");
        let n = with_conn!(&self.pool, c => {
            sqlx::query_scalar::<_, i64>(&sql).fetch_one(c).await?
        });
        Ok(n)
    }
}

impl Store {
    /// Adds a user to an org with a role.
    pub async fn add_org_user(&self, member: OrgMembership, now: DbTime) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        self.add_org_user_tx(&mut tx, member, now).await?;
        tx.commit().await
    }

    /// Creates a team in an org, without members, and returns its id.
    pub async fn create_team(
        &self,
        org_id: i64,
        name: &str,
        email: &str,
        now: DbTime,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id, _) = self
            .create_team_with_admin(&mut tx, org_id, name, email, None, now)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a user to a team, without the checks of [`Store::add_member_to_team`].
    pub async fn add_team_member(&self, member: TeamMembership, now: DbTime) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        self.insert_team_member(&mut tx, member, now).await?;
        tx.commit().await
    }
}
