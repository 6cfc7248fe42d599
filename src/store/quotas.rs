//! Quota limits stored per org or per user (Grafana's `quota` table: org rows have `user_id` 0,
//! user rows `org_id` 0) and the usage counts they are compared with.

use super::{Db, DbTime, Store, StoreResult, Tx};
use crate::{with_conn, with_db, with_tx};

/// Whose limit: an org's or a user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaScope {
    Org(i64),
    User(i64),
}

impl QuotaScope {
    fn ids(self) -> (i64, i64) {
        match self {
            QuotaScope::Org(id) => (id, 0),
            QuotaScope::User(id) => (0, id),
        }
    }
}

impl Store {
    /// The stored limit of `target` for `scope`, if one was set.
    pub async fn quota_limit(
        &self,
        db: Db<'_>,
        scope: QuotaScope,
        target: &str,
    ) -> StoreResult<Option<i64>> {
        let (org_id, user_id) = scope.ids();
        let sql = self.sql(&format!(
            "SELECT {} FROM quota WHERE org_id = ? AND user_id = ? AND target = ?{}",
            self.dialect.bigint("`limit`"),
            db.current_read()
        ));
        let limit = with_db!(db, c => {
            sqlx::query_scalar::<_, i64>(&sql).bind(org_id).bind(user_id).bind(target)
                .fetch_optional(c).await?
        });
        Ok(limit)
    }

    /// Sets the limit of `target` for `scope` (insert or update), inside `tx`.
    pub async fn set_quota_limit(
        &self,
        tx: &mut Tx,
        scope: QuotaScope,
        target: &str,
        limit: i64,
        now: DbTime,
    ) -> StoreResult<()> {
        let (org_id, user_id) = scope.ids();
        let sql = self.sql(
            "UPDATE quota SET `limit` = ?, updated = ? WHERE org_id = ? AND user_id = ? AND target = ?",
        );
        let n = with_tx!(&mut *tx, c => {
            sqlx::query(&sql).bind(limit).bind(now.get()).bind(org_id).bind(user_id).bind(target)
                .execute(c).await?.rows_affected()
        });
        if n == 0 {
            let sql = self.sql(
                "INSERT INTO quota (org_id, user_id, target, `limit`, created, updated) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            );
            with_tx!(&mut *tx, c => {
                sqlx::query(&sql).bind(org_id).bind(user_id).bind(target).bind(limit)
                    .bind(now.get()).bind(now.get()).execute(c).await?;
            });
        }
        Ok(())
    }

    /// Members of an org (service accounts not counted), for the `org_user` quota.
    pub async fn count_org_members(&self, db: Db<'_>, org_id: i64) -> StoreResult<i64> {
        let sql = self.sql(&format!(
            "SELECT COUNT(*) FROM org_user ou JOIN `user` u ON u.id = ou.user_id \
             WHERE ou.org_id = ? AND {}{}",
            self.not_service_account("u"),
            db.current_read()
        ));
        let n = with_db!(db, c => {
            sqlx::query_scalar::<_, i64>(&sql).bind(org_id).fetch_one(c).await?
        });
        Ok(n)
    }

    /// Orgs a user belongs to, for the per-user `org_user` quota.
    pub async fn count_user_orgs(&self, db: Db<'_>, user_id: i64) -> StoreResult<i64> {
        let sql = self.sql(&format!(
            "SELECT COUNT(*) FROM org_user WHERE user_id = ?{}",
            db.current_read()
        ));
        let n = with_db!(db, c => {
            sqlx::query_scalar::<_, i64>(&sql).bind(user_id).fetch_one(c).await?
        });
        Ok(n)
    }

    /// Legacy API keys of an org (`None`: everywhere), for the `api_key` quota.
    pub async fn count_legacy_api_keys(&self, org_id: Option<i64>) -> StoreResult<i64> {
        let n = match org_id {
            Some(org) => {
                let sql = self.sql(
                    "SELECT COUNT(*) FROM api_key WHERE org_id = ? AND service_account_id IS NULL",
                );
                with_conn!(&self.pool, c => {
                    sqlx::query_scalar::<_, i64>(&sql).bind(org).fetch_one(c).await?
                })
            }
            None => {
                let sql = "SELECT COUNT(*) FROM api_key WHERE service_account_id IS NULL";
                with_conn!(&self.pool, c => {
                    sqlx::query_scalar::<_, i64>(sql).fetch_one(c).await?
                })
            }
        };
        Ok(n)
    }
}

impl Store {
    /// Users (not service accounts), for the `global_user` quota.
    pub async fn count_users(&self, db: Db<'_>) -> StoreResult<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM `user` u WHERE {}{}",
            self.not_service_account("u"),
            db.current_read()
        );
        let sql = self.sql(&sql);
        let n = with_db!(db, c => {
            sqlx::query_scalar::<_, i64>(&sql).fetch_one(c).await?
        });
        Ok(n)
    }
}
