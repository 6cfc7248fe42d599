//! Organizations and memberships (the Org API itself comes later; users need them now).

use super::{DbTime, Store, StoreResult, Tx};
use crate::{with_conn, with_tx};

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
        org_id: i64,
        user_id: i64,
        role: &str,
        now: DbTime,
    ) -> StoreResult<()> {
        let sql = self.sql(
            "INSERT INTO org_user (org_id, user_id, role, created, updated) VALUES (?, ?, ?, ?, ?)",
        );
        with_tx!(tx, c => {
            sqlx::query(&sql).bind(org_id).bind(user_id).bind(role)
                .bind(now.get()).bind(now.get()).execute(c).await?;
        });
        Ok(())
    }

    /// Creates an org and returns its id.
    pub async fn create_org(&self, name: &str, now: DbTime) -> StoreResult<i64> {
        let _changed = self.changed();
        let mut tx = self.begin().await?;
        let id = self
            .insert_returning_id(
                &mut tx,
                "INSERT INTO org (version, name, created, updated) VALUES (0, ?, ?, ?)",
                |a| a.text(name).time(now.get()).time(now.get()),
            )
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Number of orgs, for first-start set-up.
    pub async fn count_orgs(&self) -> StoreResult<i64> {
        let n = with_conn!(&self.pool, c => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM org").fetch_one(c).await?
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
    pub async fn add_org_user(
        &self,
        org_id: i64,
        user_id: i64,
        role: &str,
        now: DbTime,
    ) -> StoreResult<()> {
        let _changed = self.changed();
        let mut tx = self.begin().await?;
        self.add_org_user_tx(&mut tx, org_id, user_id, role, now)
            .await?;
        tx.commit().await
    }

    /// Creates a team in an org and returns its id.
    pub async fn create_team(
        &self,
        org_id: i64,
        name: &str,
        email: &str,
        now: DbTime,
    ) -> StoreResult<i64> {
        let _changed = self.changed();
        let mut tx = self.begin().await?;
        let id = self
            .insert_returning_id(
                &mut tx,
                "INSERT INTO team (name, org_id, created, updated, uid, email) VALUES (?, ?, ?, ?, ?, ?)",
                |a| {
                    a.text(name)
                        .int(org_id)
                        .time(now.get())
                        .time(now.get())
                        .text(&crate::domain::new_uid())
                        .text(email)
                },
            )
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a user to a team (`permission` 0 = member, 4 = admin, as in Grafana).
    pub async fn add_team_member(
        &self,
        org_id: i64,
        team_id: i64,
        user_id: i64,
        permission: i64,
        now: DbTime,
    ) -> StoreResult<()> {
        let _changed = self.changed();
        let sql = self.sql(
            "INSERT INTO team_member (org_id, team_id, user_id, external, permission, created, updated) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        );
        with_conn!(&self.pool, c => {
            sqlx::query(&sql).bind(org_id).bind(team_id).bind(user_id).bind(false).bind(permission)
                .bind(now.get()).bind(now.get()).execute(c).await?;
        });
        Ok(())
    }
}
