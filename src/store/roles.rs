//! Custom roles and their assignments to users, teams and basic roles (Grafana's `role`,
//! `permission`, `user_role`, `team_role` and `builtin_role` tables). Org id 0 means global.

use chrono::NaiveDateTime;

use super::{Conflict, DbTime, Store, StoreError, StoreResult, Tx};
use crate::{with_conn, with_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoleRow {
    pub id: i64,
    pub uid: String,
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub group_name: Option<String>,
    pub hidden: bool,
    pub version: i64,
    pub org_id: i64,
    pub created: NaiveDateTime,
    pub updated: NaiveDateTime,
}

/// A role to create or replace.
#[derive(Debug, Clone)]
pub struct RoleSpec {
    pub uid: String,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub group: String,
    pub hidden: bool,
    pub version: i64,
    pub org_id: i64,
    pub permissions: Vec<(String, String)>,
}

/// Whom a role is assigned to.
#[derive(Debug, Clone, Copy)]
pub enum Assignee<'a> {
    User(i64),
    Team(i64),
    /// A basic role: "Viewer", "Editor", "Admin", "None" or "Grafana Admin".
    Basic(&'a str),
}

/// Which assignments [`Store::assigned_roles`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assigned {
    /// Those that apply in the org: its own and the global ones (`org_id` 0).
    Applying,
    /// Those made in exactly this org (`org_id` 0: the global ones only): what
    /// [`Store::set_assigned_roles`] replaces.
    Exactly,
}

const ROLE_COLUMNS: &str = "r.id, r.uid, r.name, r.display_name, r.description, r.group_name, \
     r.hidden, r.version, r.org_id, r.created, r.updated";

impl Store {
    /// Roles visible in an org: its own and the global ones.
    pub async fn roles(&self, org_id: i64) -> StoreResult<Vec<RoleRow>> {
        let sql = self.sql(&format!(
            "SELECT {ROLE_COLUMNS} FROM role r WHERE r.org_id IN (?, 0) ORDER BY r.name, r.id"
        ));
        let rows = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, RoleRow>(&sql).bind(org_id).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// A role by uid, if it is the org's or global.
    pub async fn role(&self, org_id: i64, uid: &str) -> StoreResult<Option<RoleRow>> {
        let sql = self.sql(&format!(
            "SELECT {ROLE_COLUMNS} FROM role r WHERE r.uid = ? AND r.org_id IN (?, 0)"
        ));
        let row = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, RoleRow>(&sql).bind(uid).bind(org_id).fetch_optional(c).await?
        });
        Ok(row)
    }

    pub async fn role_permissions(&self, role_id: i64) -> StoreResult<Vec<(String, String)>> {
        let sql = self
            .sql("SELECT action, scope FROM permission WHERE role_id = ? ORDER BY action, scope");
        let rows = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, (String, String)>(&sql).bind(role_id).fetch_all(c).await?
        });
        Ok(rows)
    }

    async fn put_permissions(
        &self,
        tx: &mut Tx,
        role_id: i64,
        permissions: &[(String, String)],
        now: DbTime,
    ) -> StoreResult<()> {
        let sql = self.sql("DELETE FROM permission WHERE role_id = ?");
        with_tx!(&mut *tx, c => { sqlx::query(&sql).bind(role_id).execute(c).await?; });
        let sql = self.sql(
            "INSERT INTO permission (role_id, action, scope, created, updated) VALUES (?, ?, ?, ?, ?)",
        );
        for (action, scope) in permissions {
            with_tx!(&mut *tx, c => {
                sqlx::query(&sql).bind(role_id).bind(action).bind(scope)
                    .bind(now.get()).bind(now.get()).execute(c).await?;
            });
        }
        Ok(())
    }

    /// Creates a role with its permissions, in `tx`. `Conflict` on a taken uid or name.
    pub async fn create_role(&self, tx: &mut Tx, spec: &RoleSpec, now: DbTime) -> StoreResult<i64> {
        let sql = self.sql("SELECT COUNT(*) FROM role WHERE uid = ? OR (org_id = ? AND name = ?)");
        let n: i64 = with_tx!(&mut *tx, c => {
            sqlx::query_scalar(&sql).bind(&spec.uid).bind(spec.org_id).bind(&spec.name).fetch_one(c).await?
        });
        if n > 0 {
            return Err(StoreError::Conflict(Conflict::RoleExists));
        }
        let id = self
            .insert_returning_id(
                tx,
                "INSERT INTO role (name, description, version, org_id, uid, created, updated, \
                 display_name, group_name, hidden) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                |a| {
                    a.text(&spec.name)
                        .text(&spec.description)
                        .int(spec.version)
                        .int(spec.org_id)
                        .text(&spec.uid)
                        .time(now.get())
                        .time(now.get())
                        .text(&spec.display_name)
                        .text(&spec.group)
                        .boolean(spec.hidden)
                },
            )
            .await
            .map_err(|e| e.or_conflict(Conflict::RoleExists))?;
        self.put_permissions(tx, id, &spec.permissions, now).await?;
        Ok(id)
    }

    /// Replaces a role's fields and permissions, in `tx`.
    pub async fn update_role(
        &self,
        tx: &mut Tx,
        id: i64,
        spec: &RoleSpec,
        now: DbTime,
    ) -> StoreResult<()> {
        let sql = self.sql(
            "UPDATE role SET name = ?, description = ?, version = ?, display_name = ?, \
             group_name = ?, hidden = ?, updated = ? WHERE id = ?",
        );
        with_tx!(&mut *tx, c => {
            sqlx::query(&sql).bind(&spec.name).bind(&spec.description).bind(spec.version)
                .bind(&spec.display_name).bind(&spec.group).bind(spec.hidden).bind(now.get()).bind(id)
                .execute(c).await
                .map_err(|e| StoreError::from(e).or_conflict(Conflict::RoleExists))?;
        });
        self.put_permissions(tx, id, &spec.permissions, now).await?;
        Ok(())
    }

    /// True when the role is assigned to anyone.
    pub async fn role_is_assigned(&self, id: i64) -> StoreResult<bool> {
        let sql = self.sql(
            "SELECT (SELECT COUNT(*) FROM user_role WHERE role_id = ?) + \
             (SELECT COUNT(*) FROM team_role WHERE role_id = ?) + \
             (SELECT COUNT(*) FROM builtin_role WHERE role_id = ?)",
        );
        let n = with_conn!(&self.pool, c => {
            sqlx::query_scalar::<_, i64>(&sql).bind(id).bind(id).bind(id).fetch_one(c).await?
        });
        Ok(n > 0)
    }

    /// Deletes a role with its permissions and assignments, in `tx`.
    pub async fn delete_role(&self, tx: &mut Tx, id: i64) -> StoreResult<()> {
        for sql in [
            "DELETE FROM permission WHERE role_id = ?",
            "DELETE FROM user_role WHERE role_id = ?",
            "DELETE FROM team_role WHERE role_id = ?",
            "DELETE FROM builtin_role WHERE role_id = ?",
            "DELETE FROM role WHERE id = ?",
        ] {
            let sql = self.sql(sql);
            with_tx!(&mut *tx, c => { sqlx::query(&sql).bind(id).execute(c).await?; });
        }
        Ok(())
    }

    fn assignment_sql(who: Assignee<'_>) -> (&'static str, &'static str) {
        match who {
            Assignee::User(_) => ("user_role", "user_id"),
            Assignee::Team(_) => ("team_role", "team_id"),
            Assignee::Basic(_) => ("builtin_role", "role"),
        }
    }

    /// Roles assigned to someone in an org, as `which` says.
    pub async fn assigned_roles(
        &self,
        who: Assignee<'_>,
        org_id: i64,
        which: Assigned,
    ) -> StoreResult<Vec<RoleRow>> {
        let org_match = match which {
            Assigned::Applying => "IN (?, 0)",
            Assigned::Exactly => "= ?",
        };
        let (table, column) = Self::assignment_sql(who);
        let sql = self.sql(&format!(
            "SELECT {ROLE_COLUMNS} FROM role r JOIN {table} a ON a.role_id = r.id \
             WHERE a.{column} = ? AND a.org_id {org_match} ORDER BY r.name, r.id"
        ));
        let rows = with_conn!(&self.pool, c => {
            let q = sqlx::query_as::<_, RoleRow>(&sql);
            let q = match who {
                Assignee::User(id) | Assignee::Team(id) => q.bind(id),
                Assignee::Basic(name) => q.bind(name),
            };
            q.bind(org_id).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// Assigns a role, in `tx`. `Ok(false)` when it already was.
    pub async fn assign_role(
        &self,
        tx: &mut Tx,
        who: Assignee<'_>,
        role_id: i64,
        org_id: i64,
        now: DbTime,
    ) -> StoreResult<bool> {
        let (table, column) = Self::assignment_sql(who);
        let sql = self.sql(&format!(
            "SELECT COUNT(*) FROM {table} WHERE {column} = ? AND role_id = ? AND org_id = ?"
        ));
        let n: i64 = with_tx!(&mut *tx, c => {
            let q = sqlx::query_scalar(&sql);
            let q = match who {
                Assignee::User(id) | Assignee::Team(id) => q.bind(id),
                Assignee::Basic(name) => q.bind(name),
            };
            q.bind(role_id).bind(org_id).fetch_one(c).await?
        });
        if n > 0 {
            return Ok(false);
        }
        let extra = if matches!(who, Assignee::Basic(_)) {
            ", updated"
        } else {
            ""
        };
        let extra_value = if extra.is_empty() { "" } else { ", ?" };
        let sql = self.sql(&format!(
            "INSERT INTO {table} ({column}, role_id, org_id, created{extra}) VALUES (?, ?, ?, ?{extra_value})"
        ));
        with_tx!(&mut *tx, c => {
            let q = sqlx::query(&sql);
            let q = match who {
                Assignee::User(id) | Assignee::Team(id) => q.bind(id),
                Assignee::Basic(name) => q.bind(name),
            };
            let q = q.bind(role_id).bind(org_id).bind(now.get());
            let q = if extra.is_empty() { q } else { q.bind(now.get()) };
            q.execute(c).await?;
        });
        Ok(true)
    }

    /// Removes an assignment, in `tx`. `Ok(false)` when there was none.
    pub async fn unassign_role(
        &self,
        tx: &mut Tx,
        who: Assignee<'_>,
        role_id: i64,
        org_id: i64,
    ) -> StoreResult<bool> {
        let (table, column) = Self::assignment_sql(who);
        let sql = self.sql(&format!(
            "DELETE FROM {table} WHERE {column} = ? AND role_id = ? AND org_id = ?"
        ));
        let n = with_tx!(tx, c => {
            let q = sqlx::query(&sql);
            let q = match who {
                Assignee::User(id) | Assignee::Team(id) => q.bind(id),
                Assignee::Basic(name) => q.bind(name),
            };
            q.bind(role_id).bind(org_id).execute(c).await?.rows_affected()
        });
        Ok(n > 0)
    }

    /// Replaces someone's roles in one org (or globally) with `role_ids`, in `tx`.
    pub async fn set_assigned_roles(
        &self,
        tx: &mut Tx,
        who: Assignee<'_>,
        role_ids: &[i64],
        org_id: i64,
        now: DbTime,
    ) -> StoreResult<()> {
        let (table, column) = Self::assignment_sql(who);
        let sql = self.sql(&format!(
            "DELETE FROM {table} WHERE {column} = ? AND org_id = ?"
        ));
        with_tx!(&mut *tx, c => {
            let q = sqlx::query(&sql);
            let q = match who {
                Assignee::User(id) | Assignee::Team(id) => q.bind(id),
                Assignee::Basic(name) => q.bind(name),
            };
            q.bind(org_id).execute(c).await?;
        });
        for role_id in role_ids {
            self.assign_role(tx, who, *role_id, org_id, now).await?;
        }
        Ok(())
    }

    /// Every (action, scope) a user holds through custom roles in `org_id` (and globally): their
    /// own assignments, their teams' and their basic roles'. With `org_id` 0 only global
    /// assignments count.
    pub async fn custom_permissions(
        &self,
        user_id: i64,
        org_id: i64,
        basic_roles: &[&str],
    ) -> StoreResult<Vec<(String, String)>> {
        let basic = if basic_roles.is_empty() {
            "''".to_string()
        } else {
            vec!["?"; basic_roles.len()].join(", ")
        };
        let sql = self.sql(&format!(
            "SELECT p.action, p.scope FROM permission p WHERE p.role_id IN (\
             SELECT role_id FROM user_role WHERE user_id = ? AND org_id IN (?, 0) \
             UNION SELECT tr.role_id FROM team_role tr JOIN team_member tm ON tm.team_id = tr.team_id \
               WHERE tm.user_id = ? AND tr.org_id = ? \
             UNION SELECT role_id FROM builtin_role WHERE role IN ({basic}) AND org_id IN (?, 0))"
        ));
        let rows = with_conn!(&self.pool, c => {
            let mut q = sqlx::query_as::<_, (String, String)>(&sql)
                .bind(user_id).bind(org_id).bind(user_id).bind(org_id);
            for b in basic_roles {
                q = q.bind(*b);
            }
            q.bind(org_id).fetch_all(c).await?
        });
        Ok(rows)
    }
}
