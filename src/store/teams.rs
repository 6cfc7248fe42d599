//! Teams and their members (Grafana's `pkg/services/team/teamimpl/store.go`). A member's
//! permission is a [`TeamPermission`], stored as Grafana stores it in `team_member`.

use chrono::NaiveDateTime;

use super::users::{like_pattern, UserTeamRow};
use super::{Conflict, Db, DbTime, Dialect, Missing, Store, StoreError, StoreResult, Tx};
use crate::domain::role::TeamPermission;
use crate::{with_conn, with_db, with_tx};

/// A membership of a team: who, in which team of which org, with what permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamMembership {
    pub org_id: i64,
    pub team_id: i64,
    pub user_id: i64,
    pub permission: TeamPermission,
}

/// `team_member` rows with their users, as the members listing shows them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamMemberRow {
    pub org_id: i64,
    pub team_id: i64,
    pub team_uid: Option<String>,
    pub user_id: i64,
    pub user_uid: Option<String>,
    pub email: String,
    pub name: Option<String>,
    pub login: String,
    pub permission: Option<i64>,
    pub created: NaiveDateTime,
}

#[derive(sqlx::FromRow)]
struct TeamSearchRow {
    #[sqlx(flatten)]
    team: UserTeamRow,
    total_count: i64,
}

/// Sort options of `/api/teams/search` (`pkg/services/team/sortopts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamSort {
    NameAsc,
    NameDesc,
    EmailAsc,
    EmailDesc,
    MemberCountAsc,
    MemberCountDesc,
}

impl TeamSort {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "name-asc" => Self::NameAsc,
            "name-desc" => Self::NameDesc,
            "email-asc" => Self::EmailAsc,
            "email-desc" => Self::EmailDesc,
            "memberCount-asc" => Self::MemberCountAsc,
            "memberCount-desc" => Self::MemberCountDesc,
            _ => return None,
        })
    }
    fn order_by(self) -> &'static str {
        match self {
            Self::NameAsc => "t.name ASC",
            Self::NameDesc => "t.name DESC",
            Self::EmailAsc => "t.email ASC",
            Self::EmailDesc => "t.email DESC",
            Self::MemberCountAsc => "member_count ASC",
            Self::MemberCountDesc => "member_count DESC",
        }
    }
}

/// `/api/teams/search` in one org.
#[derive(Debug, Clone, Default)]
pub struct TeamSearch {
    pub query: String,
    pub name: String,
    pub sort: Vec<TeamSort>,
    pub limit: i64,
    pub offset: i64,
    /// Only these teams (the caller may read no others); `None`: every team of the org.
    pub only: Option<Vec<i64>>,
}

const TEAM_COLUMNS: &str = "t.id, t.uid, t.org_id, t.name, t.email, \
     (SELECT COUNT(*) FROM team_member m WHERE m.team_id = t.id) AS member_count";

impl Store {
    pub async fn search_teams(
        &self,
        org_id: i64,
        s: &TeamSearch,
    ) -> StoreResult<(i64, Vec<UserTeamRow>)> {
        let mut filter = "t.org_id = ?".to_string();
        let mut binds: Vec<String> = Vec::new();
        let query = s.query.trim();
        if self.dialect == Dialect::Sqlite && query.chars().count() >= 3 {
            // The trigram index answers substrings of three characters or more.
            filter
                .push_str(" AND t.id IN (SELECT rowid FROM team_search WHERE team_search MATCH ?)");
            binds.push(format!("\"{}\"", query.replace('"', "\"\"")));
        } else if !query.is_empty() {
            filter.push_str(&format!(" AND {}", self.like_any(&["t.name"])));
            binds.push(like_pattern(query));
        }
        if !s.name.is_empty() {
            filter.push_str(" AND LOWER(t.name) = LOWER(?)");
            binds.push(s.name.clone());
        }
        if let Some(only) = &s.only {
            if only.is_empty() {
                return Ok((0, Vec::new()));
            }
            let ids: Vec<String> = only.iter().map(i64::to_string).collect();
            filter.push_str(&format!(" AND t.id IN ({})", ids.join(", ")));
        }
        let order = if s.sort.is_empty() {
            "t.name ASC".to_string()
        } else {
            s.sort
                .iter()
                .map(|o| o.order_by())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sql = self.sql(&format!(
            "SELECT {TEAM_COLUMNS}, COUNT(*) OVER () AS total_count FROM team t \
             WHERE {filter} ORDER BY {order}, t.id LIMIT ? OFFSET ?"
        ));
        let count_sql = self.sql(&format!("SELECT COUNT(*) FROM team t WHERE {filter}"));
        let (total, rows) = with_conn!(&self.pool, c => {
            let mut q = sqlx::query_as::<_, TeamSearchRow>(&sql).bind(org_id);
            for b in &binds {
                q = q.bind(b);
            }
            let rows = q.bind(s.limit).bind(s.offset).fetch_all(c).await?;
            let total = match rows.first() {
                Some(r) => r.total_count,
                None if s.offset == 0 => 0,
                None => {
                    let mut q = sqlx::query_scalar::<_, i64>(&count_sql).bind(org_id);
                    for b in &binds {
                        q = q.bind(b);
                    }
                    q.fetch_one(c).await?
                }
            };
            (total, rows.into_iter().map(|r| r.team).collect::<Vec<_>>())
        });
        Ok((total, rows))
    }

    /// A team of an org (a team of another org is "not found").
    /// The id of the org's team with this uid.
    pub async fn team_id_by_uid(&self, org_id: i64, uid: &str) -> StoreResult<Option<i64>> {
        let sql = self.sql("SELECT id FROM team WHERE org_id = ? AND uid = ?");
        let id = with_conn!(&self.pool, c => {
            sqlx::query_scalar::<_, i64>(&sql)
                .bind(org_id)
                .bind(uid)
                .fetch_optional(c)
                .await?
        });
        Ok(id)
    }

    pub async fn team(&self, org_id: i64, id: i64) -> StoreResult<Option<UserTeamRow>> {
        self.team_by(self.db(), org_id, TeamKey::Id(id)).await
    }

    /// A team of an org by id or by exact name, on a pool or inside a transaction.
    pub async fn team_by(
        &self,
        db: Db<'_>,
        org_id: i64,
        key: TeamKey<'_>,
    ) -> StoreResult<Option<UserTeamRow>> {
        let column = match key {
            TeamKey::Id(_) => "id",
            TeamKey::Name(_) => "name",
        };
        let sql = self.sql(&format!(
            "SELECT {TEAM_COLUMNS} FROM team t WHERE t.org_id = ? AND t.{column} = ?"
        ));
        let row = with_db!(db, c => {
            let q = sqlx::query_as::<_, UserTeamRow>(&sql).bind(org_id);
            match key {
                TeamKey::Id(id) => q.bind(id),
                TeamKey::Name(name) => q.bind(name),
            }
            .fetch_optional(c)
            .await?
        });
        Ok(row)
    }

    /// Creates a team, with `admin` (the creating user) as its first member with Admin
    /// permission, in one transaction. Returns the id and uid.
    pub async fn create_team_with_admin(
        &self,
        tx: &mut Tx,
        org_id: i64,
        name: &str,
        email: &str,
        admin: Option<i64>,
        now: DbTime,
    ) -> StoreResult<(i64, String)> {
        let uid = crate::domain::new_uid();
        if self.team_name_taken(tx, org_id, name, 0).await? {
            return Err(StoreError::Conflict(Conflict::TeamNameTaken));
        }
        let id = self
            .insert_returning_id(
                tx,
                "INSERT INTO team (name, org_id, created, updated, uid, email) VALUES (?, ?, ?, ?, ?, ?)",
                |a| {
                    a.text(name)
                        .int(org_id)
                        .time(now.get())
                        .time(now.get())
                        .text(&uid)
                        .text(email)
                },
            )
            .await
            .map_err(|e| e.or_conflict(Conflict::TeamNameTaken))?;
        if let Some(user_id) = admin {
            let admin = TeamMembership {
                org_id,
                team_id: id,
                user_id,
                permission: TeamPermission::Admin,
            };
            self.insert_team_member(tx, admin, now).await?;
        }
        Ok((id, uid))
    }

    async fn team_name_taken(
        &self,
        tx: &mut Tx,
        org_id: i64,
        name: &str,
        except: i64,
    ) -> StoreResult<bool> {
        let sql = self.sql("SELECT COUNT(*) FROM team WHERE org_id = ? AND name = ? AND id <> ?");
        let n: i64 = with_tx!(tx, c => {
            sqlx::query_scalar(&sql).bind(org_id).bind(name).bind(except).fetch_one(c).await?
        });
        Ok(n > 0)
    }

    pub(super) async fn insert_team_member(
        &self,
        tx: &mut Tx,
        member: TeamMembership,
        now: DbTime,
    ) -> StoreResult<()> {
        let sql = self.sql(
            "INSERT INTO team_member (org_id, team_id, user_id, external, permission, created, updated) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        );
        with_tx!(tx, c => {
            sqlx::query(&sql).bind(member.org_id).bind(member.team_id).bind(member.user_id).bind(false).bind(member.permission.value())
                .bind(now.get()).bind(now.get()).execute(c).await?;
        });
        Ok(())
    }

    /// Renames a team and sets its email. `Ok(false)` if it is not a team of the org.
    pub async fn update_team(
        &self,
        tx: &mut Tx,
        org_id: i64,
        id: i64,
        name: Option<&str>,
        email: &str,
        now: DbTime,
    ) -> StoreResult<bool> {
        if let Some(name) = name {
            if self.team_name_taken(tx, org_id, name, id).await? {
                return Err(StoreError::Conflict(Conflict::TeamNameTaken));
            }
        }
        let sql = self.sql(
            "UPDATE team SET name = COALESCE(?, name), email = ?, updated = ? WHERE org_id = ? AND id = ?",
        );
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(name).bind(email).bind(now.get()).bind(org_id).bind(id)
                .execute(c).await.map_err(|e| StoreError::from(e).or_conflict(Conflict::TeamNameTaken))?.rows_affected()
        });
        Ok(n > 0
            || self
                .team_by(Db::Tx(tx), org_id, TeamKey::Id(id))
                .await?
                .is_some())
    }

    /// Deletes a team with its memberships and preferences. `Ok(false)` if not a team of the org.
    pub async fn delete_team(&self, tx: &mut Tx, org_id: i64, id: i64) -> StoreResult<bool> {
        let sql = self.sql("DELETE FROM team WHERE org_id = ? AND id = ?");
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(org_id).bind(id).execute(c).await?.rows_affected()
        });
        if n == 0 {
            return Ok(false);
        }
        for table in ["team_member", "preferences", "team_role"] {
            let sql = self.sql(&format!(
                "DELETE FROM {table} WHERE org_id = ? AND team_id = ?"
            ));
            with_tx!(tx, c => { sqlx::query(&sql).bind(org_id).bind(id).execute(c).await?; });
        }
        Ok(true)
    }

    /// A team's members (never service accounts), login order, with optional paging.
    pub async fn team_members(
        &self,
        org_id: i64,
        team_id: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<TeamMemberRow>> {
        let not_sa = self.not_service_account("u");
        let permission = self.dialect.bigint("tm.permission");
        let sql = self.sql(&format!(
            "SELECT tm.org_id, tm.team_id, t.uid AS team_uid, u.id AS user_id, u.uid AS user_uid, \
             u.email, u.name, u.login, {permission} AS permission, tm.created \
             FROM team_member tm JOIN team t ON t.id = tm.team_id JOIN `user` u ON u.id = tm.user_id \
             WHERE tm.org_id = ? AND tm.team_id = ? AND {not_sa} \
             ORDER BY u.login ASC, u.email ASC, u.id LIMIT ? OFFSET ?"
        ));
        let rows = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, TeamMemberRow>(&sql)
                .bind(org_id).bind(team_id).bind(limit).bind(offset).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// The user's team memberships in an org: (team id, permission).
    pub async fn team_permissions(
        &self,
        user_id: i64,
        org_id: i64,
    ) -> StoreResult<Vec<(i64, i64)>> {
        let sql = self.sql(&format!(
            "SELECT team_id, {} FROM team_member WHERE user_id = ? AND org_id = ?",
            self.dialect.bigint("COALESCE(permission, 0)")
        ));
        let rows = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, (i64, i64)>(&sql).bind(user_id).bind(org_id).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// Adds a member of the org to a team. `NotFound` for a user who is not in the org,
    /// `Conflict` for one already in the team.
    pub async fn add_member_to_team(
        &self,
        tx: &mut Tx,
        member: TeamMembership,
        now: DbTime,
    ) -> StoreResult<()> {
        if self
            .org_role_in(Db::Tx(tx), member.user_id, member.org_id)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound(Missing::User));
        }
        if self
            .is_team_member(Db::Tx(tx), member.team_id, member.user_id)
            .await?
        {
            return Err(StoreError::Conflict(Conflict::AlreadyTeamMember));
        }
        self.insert_team_member(tx, member, now)
            .await
            .map_err(|e| e.or_conflict(Conflict::AlreadyTeamMember))?;
        Ok(())
    }

    /// Sets a member's permission. `Ok(false)` if they are not a member.
    pub async fn set_team_member_permission(
        &self,
        tx: &mut Tx,
        member: TeamMembership,
        now: DbTime,
    ) -> StoreResult<bool> {
        let sql = self.sql(
            "UPDATE team_member SET permission = ?, updated = ? WHERE org_id = ? AND team_id = ? AND user_id = ?",
        );
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(member.permission.value()).bind(now.get()).bind(member.org_id).bind(member.team_id).bind(member.user_id)
                .execute(c).await?.rows_affected()
        });
        Ok(n > 0
            || self
                .is_team_member(Db::Tx(tx), member.team_id, member.user_id)
                .await?)
    }

    /// Whether the user is a member of the team, on a pool or inside a transaction.
    pub async fn is_team_member(
        &self,
        db: Db<'_>,
        team_id: i64,
        user_id: i64,
    ) -> StoreResult<bool> {
        let sql = self.sql("SELECT COUNT(*) FROM team_member WHERE team_id = ? AND user_id = ?");
        let n = with_db!(db, c => {
            sqlx::query_scalar::<_, i64>(&sql).bind(team_id).bind(user_id).fetch_one(c).await?
        });
        Ok(n > 0)
    }

    /// A member's stored permission (`None`: not a member), on a pool or inside a transaction.
    pub async fn team_member_permission(
        &self,
        db: Db<'_>,
        team_id: i64,
        user_id: i64,
    ) -> StoreResult<Option<TeamPermission>> {
        let sql = self.sql(&format!(
            "SELECT {} FROM team_member WHERE team_id = ? AND user_id = ?",
            self.dialect.bigint("COALESCE(permission, 0)")
        ));
        let v = with_db!(db, c => {
            sqlx::query_scalar::<_, i64>(&sql).bind(team_id).bind(user_id).fetch_optional(c).await?
        });
        Ok(v.map(|v| TeamPermission::from_value(Some(v))))
    }

    /// Removes a member. `Ok(false)` if they were not one.
    pub async fn remove_team_member(
        &self,
        tx: &mut Tx,
        org_id: i64,
        team_id: i64,
        user_id: i64,
    ) -> StoreResult<bool> {
        let sql =
            self.sql("DELETE FROM team_member WHERE org_id = ? AND team_id = ? AND user_id = ?");
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(org_id).bind(team_id).bind(user_id).execute(c).await?.rows_affected()
        });
        Ok(n > 0)
    }
}

/// How a team is looked up in its org.
#[derive(Clone, Copy)]
pub enum TeamKey<'a> {
    Id(i64),
    Name(&'a str),
}
