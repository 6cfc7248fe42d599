//! What the usage report (`GET /api/admin/usage-report-preview`) counts beyond the admin stats,
//! and the anonymous id it is sent under (Grafana's `pkg/infra/usagestats`).

use super::{DbTime, Dialect, Store, StoreResult};
use crate::with_conn;

/// Counts of Grafana's `SystemStats` that `AdminStats` lacks
/// (`pkg/services/stats/statsimpl/stats.go`, `GetSystemStats`), the service-account counts of
/// `pkg/services/serviceaccounts/database/store.go` and the sessions-per-user histogram of
/// `pkg/infra/usagestats/statscollector/concurrent_users.go`.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct UsageCounts {
    pub folders: i64,
    pub provisioned_dashboards: i64,
    /// Every stored session.
    pub auth_tokens: i64,
    /// Legacy API keys (not service-account tokens).
    pub api_keys: i64,
    pub service_accounts: i64,
    pub service_account_tokens: i64,
    pub service_accounts_in_teams: i64,
    /// Users with at most 3, 6, 9, 12, 15 and any number of sessions (cumulative buckets).
    pub sessions_le_3: i64,
    pub sessions_le_6: i64,
    pub sessions_le_9: i64,
    pub sessions_le_12: i64,
    pub sessions_le_15: i64,
    pub sessions_le_inf: i64,
}

/// Grafana's kv_store namespace and key of the usage report's id
/// (`pkg/infra/usagestats/service/usage_stats.go`, `GetUsageStatsId`).
const USAGE_NAMESPACE: &str = "infra.usagestats";
const USAGE_ID_KEY: &str = "anonymous_id";

impl Store {
    pub async fn usage_counts(&self) -> StoreResult<UsageCounts> {
        let t = self.dialect.bool_lit(true);
        let bucket = |le: u32| format!("COUNT(CASE WHEN tokens <= {le} THEN 1 END)");
        let sql = self.sql(&format!(
            "SELECT \
             (SELECT COUNT(*) FROM dashboard WHERE is_folder = {t}) AS folders, \
             (SELECT COUNT(*) FROM dashboard_provisioning) AS provisioned_dashboards, \
             (SELECT COUNT(*) FROM user_auth_token) AS auth_tokens, \
             (SELECT COUNT(*) FROM api_key WHERE service_account_id IS NULL) AS api_keys, \
             (SELECT COUNT(*) FROM `user` WHERE is_service_account = {t}) AS service_accounts, \
             (SELECT COUNT(*) FROM api_key WHERE service_account_id IS NOT NULL) AS service_account_tokens, \
             (SELECT COUNT(*) FROM team_member tm JOIN `user` u ON u.id = tm.user_id \
              WHERE u.is_service_account = {t}) AS service_accounts_in_teams, \
             s.* FROM (SELECT {} AS sessions_le_3, {} AS sessions_le_6, {} AS sessions_le_9, \
             {} AS sessions_le_12, {} AS sessions_le_15, COUNT(*) AS sessions_le_inf \
             FROM (SELECT COUNT(*) AS tokens FROM user_auth_token GROUP BY user_id) uat) s",
            bucket(3),
            bucket(6),
            bucket(9),
            bucket(12),
            bucket(15),
        ));
        let counts: UsageCounts = with_conn!(&self.pool, c => {
            sqlx::query_as(&sql).fetch_one(c).await?
        });
        Ok(counts)
    }

    /// The usage report's anonymous id: the stored one, or `fresh` stored now.
    pub async fn usage_stats_id(&self, fresh: &str, now: DbTime) -> StoreResult<String> {
        self.shared_value(USAGE_NAMESPACE, USAGE_ID_KEY, fresh, now)
            .await
    }

    /// A server-wide value in `kv_store` (org 0) that every instance must agree on: the stored
    /// one, or `fresh` stored now. When two instances store one at once, the unique index keeps
    /// the first and both answer it.
    pub async fn shared_value(
        &self,
        namespace: &str,
        key: &str,
        fresh: &str,
        now: DbTime,
    ) -> StoreResult<String> {
        let insert = match self.dialect {
            Dialect::Sqlite | Dialect::Postgres => {
                "INSERT INTO kv_store (org_id, namespace, `key`, value, created, updated) \
                 VALUES (0, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
            }
            Dialect::MySql => {
                "INSERT IGNORE INTO kv_store (org_id, namespace, `key`, value, created, updated) \
                 VALUES (0, ?, ?, ?, ?, ?)"
            }
        };
        let select =
            self.sql("SELECT value FROM kv_store WHERE org_id = 0 AND namespace = ? AND `key` = ?");
        let insert = self.sql(insert);
        let id: Option<String> = with_conn!(&self.pool, c => {
            sqlx::query_scalar(&select).bind(namespace).bind(key).fetch_optional(c).await?
        });
        if let Some(id) = id {
            return Ok(id);
        }
        let id: String = with_conn!(&self.pool, c => {
            sqlx::query(&insert)
                .bind(namespace).bind(key).bind(fresh)
                .bind(now.get()).bind(now.get())
                .execute(c).await?;
            sqlx::query_scalar(&select).bind(namespace).bind(key).fetch_one(c).await?
        });
        Ok(id)
    }
}
