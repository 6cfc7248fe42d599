//! A minimal dashboard store — Grafana's `dashboard`, `dashboard_tag` and `star` tables — enough
//! for stars, search, preferences' home dashboards and provisioning to be real
//! (`pkg/services/dashboards/database/database.go`, `pkg/services/star/starimpl`). Dashboards
//! live in the General folder; this server holds no folders.

use chrono::NaiveDateTime;

use super::users::like_pattern;
use super::{DbTime, Store, StoreError, StoreResult, Tx};
use crate::{bind_args, with_conn, with_tx};

/// A row of `dashboard`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DashboardRow {
    pub id: i64,
    pub uid: String,
    pub org_id: i64,
    pub title: String,
    pub slug: String,
    pub version: i64,
    pub data: String,
    pub created: NaiveDateTime,
    pub updated: NaiveDateTime,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
    pub folder_uid: Option<String>,
    /// Set when a provisioning row names this dashboard.
    pub provisioned: Option<String>,
}

impl Store {
    fn dashboard_columns(&self) -> String {
        let d = self.dialect;
        format!(
            "d.id, COALESCE(d.uid, '') AS uid, d.org_id, d.title, d.slug, {} AS version, d.data, \
             d.created, d.updated, {} AS created_by, {} AS updated_by, d.folder_uid, \
             (SELECT MIN(p.name) FROM dashboard_provisioning p WHERE p.dashboard_id = d.id) \
             AS provisioned",
            d.bigint("d.version"),
            d.bigint("d.created_by"),
            d.bigint("d.updated_by"),
        )
    }
}

/// What saving a dashboard needs, already validated (Grafana's `SaveDashboardCommand` after
/// `BuildSaveDashboardCommand`).
#[derive(Debug, Clone)]
pub struct SaveDashboard {
    pub org_id: i64,
    /// `dashboard.id` of the body, if a positive number.
    pub id: Option<i64>,
    /// `dashboard.uid`, trimmed; empty: none.
    pub uid: String,
    /// A fresh uid, used when the dashboard is new and has none.
    pub new_uid: String,
    pub title: String,
    pub slug: String,
    /// `dashboard.version` of the body (0 when absent).
    pub version: i64,
    pub overwrite: bool,
    /// The dashboard JSON as sent (title trimmed).
    pub data: serde_json::Value,
    pub tags: Vec<String>,
    pub user_id: i64,
    /// Saving over a provisioned dashboard is allowed (its provider has `allowUiUpdates`).
    pub allow_provisioned: bool,
    /// Set by provisioning: the file this dashboard comes from, recorded in the same
    /// transaction.
    pub provisioning: Option<super::provisioning::ProvisioningRecord>,
}

/// Why a save was refused.
#[derive(Debug)]
pub enum SaveRefusal {
    NotFound,
    SameUidExists,
    VersionMismatch,
    Provisioned,
    Store(StoreError),
}

impl<E: Into<StoreError>> From<E> for SaveRefusal {
    fn from(e: E) -> Self {
        SaveRefusal::Store(e.into())
    }
}

/// A saved dashboard: id, uid, version.
#[derive(Debug, Clone)]
pub struct Saved {
    pub id: i64,
    pub uid: String,
    pub version: i64,
    pub created: bool,
}

/// What `GET /api/search` asks for.
#[derive(Debug, Clone, Default)]
pub struct DashboardSearch {
    pub org_id: i64,
    pub user_id: i64,
    pub query: String,
    pub tags: Vec<String>,
    pub uids: Vec<String>,
    pub ids: Vec<i64>,
    pub starred: bool,
    pub limit: i64,
    pub page: i64,
    /// `alpha-desc`.
    pub descending: bool,
}

/// A search hit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DashboardHit {
    pub id: i64,
    pub uid: String,
    pub title: String,
    pub slug: String,
    pub starred: i64,
}

impl Store {
    fn dashboard_sql(&self, condition: &str) -> String {
        self.sql(&format!(
            "SELECT {} FROM dashboard d WHERE d.org_id = ? AND {condition} \
             AND d.is_folder = {} AND d.deleted IS NULL",
            self.dashboard_columns(),
            self.dialect.bool_lit(false)
        ))
    }

    async fn dashboard_where(
        &self,
        tx: &mut Tx,
        condition: &str,
        org_id: i64,
        value: super::Arg,
    ) -> StoreResult<Option<DashboardRow>> {
        let sql = self.dashboard_sql(condition);
        let args = super::Args(vec![super::Arg::Int(org_id), value]);
        let row = with_tx!(tx, c => {
            bind_args!(sqlx::query_as::<_, DashboardRow>(&sql), args).fetch_optional(c).await?
        });
        Ok(row)
    }

    /// The dashboard of `org_id` with this uid.
    pub async fn dashboard_by_uid(
        &self,
        org_id: i64,
        uid: &str,
    ) -> StoreResult<Option<DashboardRow>> {
        let sql = self.dashboard_sql("d.uid = ?");
        let row = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, DashboardRow>(&sql).bind(org_id).bind(uid).fetch_optional(c).await?
        });
        Ok(row)
    }

    /// The dashboard of `org_id` with this id.
    pub async fn dashboard_by_id(&self, org_id: i64, id: i64) -> StoreResult<Option<DashboardRow>> {
        let sql = self.dashboard_sql("d.id = ?");
        let row = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, DashboardRow>(&sql).bind(org_id).bind(id).fetch_optional(c).await?
        });
        Ok(row)
    }

    /// Creates or updates a dashboard with Grafana's rules: an unknown id is not found; a uid
    /// taken by another dashboard than the id names is refused; an update must name the stored
    /// version unless `overwrite`; the new version is the stored one plus one. Tags are
    /// replaced. One transaction.
    ///
    /// Runs inside `tx`; answers the dashboard as it was before (`None`: created).
    pub async fn save_dashboard(
        &self,
        tx: &mut Tx,
        cmd: &SaveDashboard,
        now: DbTime,
    ) -> Result<(Saved, Option<DashboardRow>), SaveRefusal> {
        let by_id = match cmd.id {
            Some(id) => Some(
                self.dashboard_where(&mut *tx, "d.id = ?", cmd.org_id, super::Arg::Int(id))
                    .await?
                    .ok_or(SaveRefusal::NotFound)?,
            ),
            None => None,
        };
        let by_uid = if cmd.uid.is_empty() {
            None
        } else {
            self.dashboard_where(
                &mut *tx,
                "d.uid = ?",
                cmd.org_id,
                super::Arg::Text(cmd.uid.clone()),
            )
            .await?
        };
        if let (Some(a), Some(b)) = (&by_id, &by_uid) {
            if a.id != b.id {
                return Err(SaveRefusal::SameUidExists);
            }
        }
        let existing = by_id.or(by_uid);
        let before = existing.clone();
        if let Some(e) = &existing {
            if cmd.version != e.version && !cmd.overwrite {
                return Err(SaveRefusal::VersionMismatch);
            }
            if e.provisioned.is_some() && !cmd.allow_provisioned {
                return Err(SaveRefusal::Provisioned);
            }
        }
        let data = cmd.data.to_string();
        let saved = match existing {
            Some(e) => {
                let version = e.version + 1;
                let uid = if cmd.uid.is_empty() {
                    e.uid
                } else {
                    cmd.uid.clone()
                };
                let sql = self.sql(
                    "UPDATE dashboard SET version = ?, slug = ?, title = ?, data = ?, updated = ?, \
                     updated_by = ?, uid = ?, folder_id = 0, folder_uid = NULL WHERE id = ?",
                );
                with_tx!(&mut *tx, c => {
                    sqlx::query(&sql).bind(version).bind(&cmd.slug).bind(&cmd.title)
                        .bind(&data).bind(now.get()).bind(cmd.user_id).bind(&uid).bind(e.id)
                        .execute(c).await?;
                });
                Saved {
                    id: e.id,
                    uid,
                    version,
                    created: false,
                }
            }
            None => {
                let uid = if cmd.uid.is_empty() {
                    cmd.new_uid.clone()
                } else {
                    cmd.uid.clone()
                };
                let id = self
                    .insert_returning_id(
                        &mut *tx,
                        "INSERT INTO dashboard (version, slug, title, data, org_id, created, updated, \
                         updated_by, created_by, folder_id, is_folder, has_acl, uid, is_public) \
                         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
                        |a| {
                            a.text(&cmd.slug)
                                .text(&cmd.title)
                                .text(&data)
                                .int(cmd.org_id)
                                .time(now.get())
                                .time(now.get())
                                .int(cmd.user_id)
                                .int(cmd.user_id)
                                .boolean(false)
                                .boolean(false)
                                .text(&uid)
                                .boolean(false)
                        },
                    )
                    .await
                    .map_err(|e| {
                        if e.is_unique_violation() {
                            SaveRefusal::SameUidExists
                        } else {
                            SaveRefusal::Store(e)
                        }
                    })?;
                Saved {
                    id,
                    uid,
                    version: 1,
                    created: true,
                }
            }
        };
        let sql = self.sql("DELETE FROM dashboard_tag WHERE dashboard_id = ?");
        with_tx!(&mut *tx, c => { sqlx::query(&sql).bind(saved.id).execute(c).await?; });
        let sql = self.sql(
            "INSERT INTO dashboard_tag (dashboard_id, term, dashboard_uid, org_id) VALUES (?, ?, ?, ?)",
        );
        for tag in &cmd.tags {
            with_tx!(&mut *tx, c => {
                sqlx::query(&sql).bind(saved.id).bind(tag).bind(&saved.uid).bind(cmd.org_id)
                    .execute(c).await?;
            });
        }
        if let Some(p) = &cmd.provisioning {
            let sql = self.sql("DELETE FROM dashboard_provisioning WHERE dashboard_id = ?");
            with_tx!(&mut *tx, c => { sqlx::query(&sql).bind(saved.id).execute(c).await?; });
            let sql = self.sql(
                "INSERT INTO dashboard_provisioning (dashboard_id, name, external_id, updated, \
                 check_sum) VALUES (?, ?, ?, ?, ?)",
            );
            with_tx!(&mut *tx, c => {
                sqlx::query(&sql).bind(saved.id).bind(&p.name).bind(&p.external_id)
                    .bind(p.updated).bind(&p.check_sum).execute(c).await?;
            });
        }
        Ok((saved, before))
    }

    /// Deletes a dashboard with its tags and stars. `Err(Provisioned)` for a provisioned one
    /// unless `allow_provisioned`; `Ok(None)` when there is no such dashboard.
    pub async fn delete_dashboard(
        &self,
        tx: &mut Tx,
        org_id: i64,
        uid: &str,
        allow_provisioned: bool,
    ) -> Result<Option<DashboardRow>, SaveRefusal> {
        let Some(row) = self
            .dashboard_where(tx, "d.uid = ?", org_id, super::Arg::Text(uid.into()))
            .await?
        else {
            return Ok(None);
        };
        if row.provisioned.is_some() && !allow_provisioned {
            return Err(SaveRefusal::Provisioned);
        }
        self.delete_dashboard_tx(tx, row.id).await?;
        Ok(Some(row))
    }

    /// A dashboard by id in any org, inside `tx`.
    pub async fn dashboard_by_id_in(
        &self,
        tx: &mut Tx,
        id: i64,
    ) -> StoreResult<Option<DashboardRow>> {
        let sql = self.sql(&format!(
            "SELECT {} FROM dashboard d WHERE d.id = ?",
            self.dashboard_columns()
        ));
        let row = with_tx!(tx, c => {
            sqlx::query_as::<_, DashboardRow>(&sql).bind(id).fetch_optional(c).await?
        });
        Ok(row)
    }

    /// Deletes a dashboard with its tags, stars and provisioning record, inside `tx`.
    pub(super) async fn delete_dashboard_tx(&self, tx: &mut Tx, id: i64) -> StoreResult<()> {
        for sql in [
            "DELETE FROM dashboard_tag WHERE dashboard_id = ?",
            "DELETE FROM star WHERE dashboard_id = ?",
            "DELETE FROM dashboard_provisioning WHERE dashboard_id = ?",
            "DELETE FROM dashboard WHERE id = ?",
        ] {
            let sql = self.sql(sql);
            with_tx!(&mut *tx, c => { sqlx::query(&sql).bind(id).execute(c).await?; });
        }
        Ok(())
    }

    /// Tags of dashboards, as (dashboard id, term).
    pub async fn dashboard_tags(&self, ids: &[i64]) -> StoreResult<Vec<(i64, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let sql = format!(
            "SELECT dashboard_id, term FROM dashboard_tag WHERE dashboard_id IN ({}) \
             ORDER BY dashboard_id, term",
            list.join(", ")
        );
        let rows = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, (i64, String)>(&sql).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// Every tag of the org's dashboards with the number of dashboards carrying it, sorted by
    /// term as the database collates (Grafana's `GetDashboardTags`,
    /// `pkg/services/dashboards/database/database.go`).
    pub async fn dashboard_tag_counts(&self, org_id: i64) -> StoreResult<Vec<(String, i64)>> {
        let sql = self.sql(&format!(
            "SELECT t.term, {} FROM dashboard d \
             INNER JOIN dashboard_tag t ON t.dashboard_id = d.id \
             WHERE d.org_id = ? GROUP BY t.term ORDER BY t.term",
            self.dialect.bigint("COUNT(*)")
        ));
        let rows = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, (String, i64)>(&sql).bind(org_id).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// Dashboards matching `search`, one page, with whether the caller starred each.
    pub async fn search_dashboards(&self, s: &DashboardSearch) -> StoreResult<Vec<DashboardHit>> {
        let mut filter = format!(
            "d.org_id = ? AND d.is_folder = {} AND d.deleted IS NULL",
            self.dialect.bool_lit(false)
        );
        let mut args = super::Args::default().int(s.user_id).int(s.org_id);
        let query = s.query.trim();
        if !query.is_empty() {
            filter.push_str(" AND ");
            filter.push_str(&self.like_any(&["d.title"]));
            args = args.text(&like_pattern(query));
        }
        if !s.uids.is_empty() {
            filter.push_str(&format!(" AND d.uid IN ({})", placeholders(s.uids.len())));
            for uid in &s.uids {
                args = args.text(uid);
            }
        }
        if !s.ids.is_empty() {
            let list: Vec<String> = s.ids.iter().map(i64::to_string).collect();
            filter.push_str(&format!(" AND d.id IN ({})", list.join(", ")));
        }
        if s.starred {
            filter.push_str(
                " AND d.id IN (SELECT st.dashboard_id FROM star st WHERE st.user_id = ?)",
            );
            args = args.int(s.user_id);
        }
        if !s.tags.is_empty() {
            // Every tag asked for (Grafana's HAVING COUNT >= number of tags).
            filter.push_str(&format!(
                " AND d.id IN (SELECT t.dashboard_id FROM dashboard_tag t WHERE t.term IN ({}) \
                 GROUP BY t.dashboard_id HAVING COUNT(*) >= ?)",
                placeholders(s.tags.len())
            ));
            for tag in &s.tags {
                args = args.text(tag);
            }
            args = args.int(s.tags.len() as i64);
        }
        let direction = if s.descending { "DESC" } else { "ASC" };
        let sql = self.sql(&format!(
            "SELECT d.id, COALESCE(d.uid, '') AS uid, d.title, d.slug, \
             (SELECT COUNT(*) FROM star st WHERE st.dashboard_id = d.id AND st.user_id = ?) \
             AS starred \
             FROM dashboard d WHERE {filter} \
             ORDER BY LOWER(d.title) {direction}, d.id {direction} LIMIT ? OFFSET ?"
        ));
        let args = args.int(s.limit).int((s.page - 1) * s.limit);
        let rows = with_conn!(&self.pool, c => {
            bind_args!(sqlx::query_as::<_, DashboardHit>(&sql), args).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// Number of dashboards in an org, or everywhere (`None`), for quotas.
    pub async fn count_dashboards(&self, org_id: Option<i64>) -> StoreResult<i64> {
        let f = self.dialect.bool_lit(false);
        let n = match org_id {
            Some(org) => {
                let sql = self.sql(&format!(
                    "SELECT COUNT(*) FROM dashboard WHERE org_id = ? AND is_folder = {f}"
                ));
                with_conn!(&self.pool, c => {
                    sqlx::query_scalar::<_, i64>(&sql).bind(org).fetch_one(c).await?
                })
            }
            None => {
                let sql = format!("SELECT COUNT(*) FROM dashboard WHERE is_folder = {f}");
                with_conn!(&self.pool, c => {
                    sqlx::query_scalar::<_, i64>(&sql).fetch_one(c).await?
                })
            }
        };
        Ok(n)
    }

    /// Stars a dashboard for a user inside `tx` (with its audit record); answers false when it
    /// was starred already (which is no error, as in Grafana 12).
    pub async fn star_dashboard(
        &self,
        tx: &mut Tx,
        user_id: i64,
        dashboard: &DashboardRow,
        now: DbTime,
    ) -> StoreResult<bool> {
        // A duplicate is skipped rather than refused: a refused statement would abort the
        // transaction on PostgreSQL.
        let sql = self.sql(match self.dialect {
            super::Dialect::MySql => {
                "INSERT INTO star (user_id, dashboard_id, dashboard_uid, org_id, updated) \
                 VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE user_id = user_id"
            }
            _ => {
                "INSERT INTO star (user_id, dashboard_id, dashboard_uid, org_id, updated) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
            }
        });
        // Whether it was starred is read first: MySQL counts a duplicate skipped this way as a
        // changed row.
        let exists = self.sql(&format!(
            "SELECT COUNT(*) FROM star WHERE user_id = ? AND dashboard_id = ?{}",
            tx.db().current_read()
        ));
        let starred = with_tx!(tx, c => {
            sqlx::query_scalar::<_, i64>(&exists).bind(user_id).bind(dashboard.id)
                .fetch_one(&mut *c).await?
        });
        with_tx!(tx, c => {
            sqlx::query(&sql).bind(user_id).bind(dashboard.id).bind(&dashboard.uid)
                .bind(dashboard.org_id).bind(now.get()).execute(c).await?;
        });
        Ok(starred == 0)
    }

    /// Whether a user starred a dashboard.
    pub async fn is_starred(&self, user_id: i64, dashboard_id: i64) -> StoreResult<bool> {
        let sql = self.sql("SELECT COUNT(*) FROM star WHERE user_id = ? AND dashboard_id = ?");
        let n = with_conn!(&self.pool, c => {
            sqlx::query_scalar::<_, i64>(&sql).bind(user_id).bind(dashboard_id).fetch_one(c).await?
        });
        Ok(n > 0)
    }

    /// Removes a user's star from a dashboard inside `tx` (with its audit record); answers
    /// false when there was none (which is no error).
    pub async fn unstar_dashboard(
        &self,
        tx: &mut Tx,
        user_id: i64,
        dashboard_id: i64,
    ) -> StoreResult<bool> {
        let sql = self.sql("DELETE FROM star WHERE user_id = ? AND dashboard_id = ?");
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(user_id).bind(dashboard_id).execute(c).await?.rows_affected()
        });
        Ok(n > 0)
    }

    /// Uids of the dashboards of `org_id` a user starred, by title.
    pub async fn starred_uids(&self, user_id: i64, org_id: i64) -> StoreResult<Vec<String>> {
        let sql = self.sql(
            "SELECT d.uid FROM star s JOIN dashboard d ON d.id = s.dashboard_id \
             WHERE s.user_id = ? AND d.org_id = ? ORDER BY LOWER(d.title), d.id",
        );
        let rows = with_conn!(&self.pool, c => {
            sqlx::query_scalar::<_, String>(&sql).bind(user_id).bind(org_id).fetch_all(c).await?
        });
        Ok(rows)
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}
