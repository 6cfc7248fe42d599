//! Which dashboards came from which provisioning file (Grafana's `dashboard_provisioning`
//! table: provider name, absolute file path as `external_id`, file time and MD5 checksum).

use super::{Store, StoreResult, Tx};
use crate::{with_conn, with_tx};

/// A row of `dashboard_provisioning`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProvisionedRow {
    pub dashboard_id: i64,
    pub external_id: String,
    pub check_sum: Option<String>,
}

/// What to record about a provisioned dashboard when it is saved.
#[derive(Debug, Clone)]
pub struct ProvisioningRecord {
    pub name: String,
    pub external_id: String,
    pub updated: i64,
    pub check_sum: String,
}

impl Store {
    /// The dashboards a provider created, with their files.
    pub async fn provisioned_by(&self, name: &str) -> StoreResult<Vec<ProvisionedRow>> {
        let sql = self.sql(&format!(
            "SELECT {} AS dashboard_id, external_id, check_sum FROM dashboard_provisioning \
             WHERE name = ? AND dashboard_id IS NOT NULL ORDER BY id",
            self.dialect.bigint("dashboard_id")
        ));
        let rows = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, ProvisionedRow>(&sql).bind(name).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// Names of every provider that created dashboards.
    pub async fn provisioner_names(&self) -> StoreResult<Vec<String>> {
        let sql = "SELECT DISTINCT name FROM dashboard_provisioning ORDER BY name";
        let rows = with_conn!(&self.pool, c => {
            sqlx::query_scalar::<_, String>(sql).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// Forgets that a dashboard was provisioned; it stays as an ordinary one.
    pub async fn unprovision_dashboard(&self, tx: &mut Tx, dashboard_id: i64) -> StoreResult<()> {
        let sql = self.sql("DELETE FROM dashboard_provisioning WHERE dashboard_id = ?");
        with_tx!(tx, c => {
            sqlx::query(&sql).bind(dashboard_id).execute(c).await?;
        });
        Ok(())
    }

    /// Deletes a provisioned dashboard (its file is gone) with its tags, stars and record.
    pub async fn delete_provisioned_dashboard(
        &self,
        tx: &mut Tx,
        dashboard_id: i64,
    ) -> StoreResult<()> {
        self.delete_dashboard_tx(tx, dashboard_id).await
    }
}
