//! Preferences of a user, a team or an org (Grafana's `preferences` table: one row per
//! (org_id, user_id, team_id), the unused ids being 0; `pkg/services/preference/prefimpl`).

use super::{Db, DbTime, Store, StoreResult, Tx};
use crate::{with_db, with_tx};

/// Whose preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefsOwner {
    User { org_id: i64, user_id: i64 },
    Team { org_id: i64, team_id: i64 },
    Org { org_id: i64 },
}

impl PrefsOwner {
    /// (org_id, user_id, team_id) as stored.
    fn key(self) -> (i64, i64, i64) {
        match self {
            PrefsOwner::User { org_id, user_id } => (org_id, user_id, 0),
            PrefsOwner::Team { org_id, team_id } => (org_id, 0, team_id),
            PrefsOwner::Org { org_id } => (org_id, 0, 0),
        }
    }
}

/// The stored fields of a preferences row.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct PrefsRow {
    pub theme: String,
    pub timezone: String,
    pub week_start: Option<String>,
    pub home_dashboard_id: i64,
    pub home_dashboard_uid: Option<String>,
    /// JSON: `language`, `queryHistory.homeTab`, `navbar.bookmarkUrls`.
    pub json_data: Option<String>,
}

impl Store {
    /// The stored preferences of `owner`, if any.
    pub async fn preferences(&self, owner: PrefsOwner) -> StoreResult<Option<PrefsRow>> {
        self.preferences_in(self.db(), owner).await
    }

    /// [`Store::preferences`] on the pool, or inside a transaction (the row locked until it
    /// ends).
    pub async fn preferences_in(
        &self,
        db: Db<'_>,
        owner: PrefsOwner,
    ) -> StoreResult<Option<PrefsRow>> {
        let (org_id, user_id, team_id) = owner.key();
        let lock = if matches!(db, Db::Tx(_)) {
            self.dialect.for_update()
        } else {
            ""
        };
        let sql = self.sql(&format!(
            "SELECT theme, timezone, week_start, {} AS home_dashboard_id, home_dashboard_uid, \
             json_data FROM preferences \
             WHERE org_id = ? AND user_id = ? AND COALESCE(team_id, 0) = ? ORDER BY id LIMIT 1{lock}",
            self.dialect.bigint("home_dashboard_id")
        ));
        let row = with_db!(db, c => {
            sqlx::query_as::<_, PrefsRow>(&sql)
                .bind(org_id).bind(user_id).bind(team_id).fetch_optional(c).await?
        });
        Ok(row)
    }

    /// Every preferences row that applies to a user in an org, the org's first, then their
    /// teams' by team id, then their own: the order in which Grafana merges them, a later non-empty
    /// value winning (`pkg/services/preference/prefimpl/store.go` `List`, `ORDER BY user_id,
    /// team_id`).
    pub async fn preference_chain(
        &self,
        org_id: i64,
        user_id: i64,
        team_ids: &[i64],
    ) -> StoreResult<Vec<PrefsRow>> {
        let teams = if team_ids.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = team_ids.iter().map(i64::to_string).collect();
            format!(
                " OR (user_id = 0 AND COALESCE(team_id, 0) IN ({}))",
                list.join(", ")
            )
        };
        let sql = self.sql(&format!(
            "SELECT theme, timezone, week_start, {} AS home_dashboard_id, home_dashboard_uid, \
             json_data FROM preferences \
             WHERE org_id = ? AND ((user_id = ? AND COALESCE(team_id, 0) = 0) \
             OR (user_id = 0 AND COALESCE(team_id, 0) = 0){teams}) \
             ORDER BY user_id, COALESCE(team_id, 0), id",
            self.dialect.bigint("home_dashboard_id")
        ));
        let rows = crate::with_conn!(&self.pool, c => {
            sqlx::query_as::<_, PrefsRow>(&sql).bind(org_id).bind(user_id).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// Stores `owner`'s preferences (update, or insert the first time) inside `tx` (with their
    /// audit record); answers what was stored before, if anything.
    pub async fn save_preferences(
        &self,
        tx: &mut Tx,
        owner: PrefsOwner,
        prefs: &PrefsRow,
        now: DbTime,
    ) -> StoreResult<Option<PrefsRow>> {
        let (org_id, user_id, team_id) = owner.key();
        let old = self.preferences_in(tx.db(), owner).await?;
        let sql = self.sql(
            "UPDATE preferences SET theme = ?, timezone = ?, week_start = ?, home_dashboard_id = ?, \
             home_dashboard_uid = ?, json_data = ?, version = version + 1, updated = ? \
             WHERE org_id = ? AND user_id = ? AND COALESCE(team_id, 0) = ?",
        );
        let n = with_tx!(tx, c => {
            sqlx::query(&sql)
                .bind(&prefs.theme).bind(&prefs.timezone).bind(&prefs.week_start)
                .bind(prefs.home_dashboard_id).bind(&prefs.home_dashboard_uid)
                .bind(&prefs.json_data).bind(now.get())
                .bind(org_id).bind(user_id).bind(team_id)
                .execute(c).await?.rows_affected()
        });
        if n == 0 {
            let sql = self.sql(
                "INSERT INTO preferences (org_id, user_id, team_id, version, home_dashboard_id, \
                 home_dashboard_uid, timezone, theme, week_start, json_data, created, updated) \
                 VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
            );
            with_tx!(tx, c => {
                sqlx::query(&sql)
                    .bind(org_id).bind(user_id).bind(team_id)
                    .bind(prefs.home_dashboard_id).bind(&prefs.home_dashboard_uid)
                    .bind(&prefs.timezone).bind(&prefs.theme).bind(&prefs.week_start)
                    .bind(&prefs.json_data).bind(now.get()).bind(now.get())
                    .execute(c).await?;
            });
        }
        Ok(old)
    }
}
