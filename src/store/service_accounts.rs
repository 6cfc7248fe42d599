//! Service accounts and their tokens. A service account is a row of `user` flagged
//! `is_service_account`, member of exactly one org with a basic role there
//! (`pkg/services/serviceaccounts/database/store.go`); its tokens are rows of `api_key` that name
//! it in `service_account_id`. Legacy API keys are `api_key` rows without one; Grafana 12 turns
//! them into service accounts at start-up, and so does [`Store::migrate_legacy_api_keys`].

use chrono::NaiveDateTime;

use super::orgs::OrgMembership;
use super::users::{like_pattern, SignedInRow, USER_COLUMNS};
use super::{Conflict, Db, DbTime, NewUser, Store, StoreError, StoreResult, Tx};
use crate::audit::{Event, Target};
use crate::domain::role::OrgRole;
use crate::{bind_args, with_conn, with_db, with_tx};

/// A service account as the API shows it: the user row with its role in its org and its number
/// of tokens.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServiceAccountRow {
    pub id: i64,
    pub uid: Option<String>,
    pub name: Option<String>,
    pub login: String,
    pub org_id: i64,
    pub is_disabled: bool,
    pub role: String,
    pub created: NaiveDateTime,
    pub updated: NaiveDateTime,
    pub tokens: i64,
}

const SA_COLUMNS: &str = "u.id, u.uid, u.name, u.login, ou.org_id, u.is_disabled, ou.role, \
     u.created, u.updated, \
     (SELECT COUNT(*) FROM api_key k WHERE k.service_account_id = u.id AND k.org_id = ou.org_id) \
     AS tokens";

/// A row of `api_key`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub role: String,
    pub created: NaiveDateTime,
    /// Unix seconds; `None`: never.
    pub expires: Option<i64>,
    pub service_account_id: Option<i64>,
    pub last_used_at: Option<NaiveDateTime>,
    pub is_revoked: Option<bool>,
}

const KEY_COLUMNS: &str = "k.id, k.org_id, k.name, k.role, k.created, k.expires, \
     k.service_account_id, k.last_used_at, k.is_revoked";

/// A token with its service account, as authentication needs it: one round trip.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenAuthRow {
    pub key_id: i64,
    pub key_org_id: i64,
    pub key_name: String,
    pub key_expires: Option<i64>,
    pub key_is_revoked: Option<bool>,
    pub key_last_used_at: Option<NaiveDateTime>,
    /// The service account, with its role in the token's org.
    #[sqlx(flatten)]
    pub account: SignedInRow,
}

/// What `GET /api/serviceaccounts/search` asks for.
#[derive(Debug, Clone, Default)]
pub struct ServiceAccountSearch {
    pub org_id: i64,
    pub query: String,
    /// Only accounts with an expired token.
    pub expired_tokens: bool,
    pub disabled: bool,
    /// Only these accounts (a caller allowed to read some of them only); `None`: all.
    pub only: Option<Vec<i64>>,
    pub page: i64,
    pub per_page: i64,
    /// Unix seconds, for `expired_tokens`.
    pub now: i64,
}

/// A token to store; `key` is already hashed.
#[derive(Debug, Clone)]
pub struct NewApiKey<'a> {
    pub org_id: i64,
    pub name: &'a str,
    pub key: &'a str,
    pub role: &'a str,
    pub expires: Option<i64>,
    pub service_account_id: i64,
}

/// A service account change (`PATCH /api/serviceaccounts/:id`); `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ServiceAccountUpdate {
    pub name: Option<String>,
    pub role: Option<String>,
    pub is_disabled: Option<bool>,
}

/// Grafana's service-account login: `<prefix>-<org>-<lower-case name>`, spaces as dashes
/// (`generateLogin` in `pkg/services/serviceaccounts/database/store.go`; only the prefix's own
/// double dash is collapsed, and only spaces are replaced).
pub fn service_account_login(prefix: &str, org_id: i64, name: &str) -> String {
    format!("{prefix}-{org_id}-{}", name.to_lowercase())
        .replacen("--", "-", 1)
        .replace(' ', "-")
}

impl Store {
    fn is_sa(&self) -> String {
        format!("u.is_service_account = {}", self.dialect.bool_lit(true))
    }

    /// The service account `id` of `org_id`.
    pub async fn service_account(
        &self,
        org_id: i64,
        id: i64,
    ) -> StoreResult<Option<ServiceAccountRow>> {
        let sql = self.sql(&format!(
            "SELECT {SA_COLUMNS} FROM org_user ou JOIN `user` u ON u.id = ou.user_id \
             WHERE ou.org_id = ? AND u.id = ? AND {}",
            self.is_sa()
        ));
        let row = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, ServiceAccountRow>(&sql)
                .bind(org_id).bind(id).fetch_optional(c).await?
        });
        Ok(row)
    }

    /// The id of the service account of `org_id` with this uid.
    pub async fn service_account_id_by_uid(
        &self,
        org_id: i64,
        uid: &str,
    ) -> StoreResult<Option<i64>> {
        let sql = self.sql(&format!(
            "SELECT u.id FROM org_user ou JOIN `user` u ON u.id = ou.user_id \
             WHERE ou.org_id = ? AND u.uid = ? AND {}",
            self.is_sa()
        ));
        let id = with_conn!(&self.pool, c => {
            sqlx::query_scalar::<_, i64>(&sql).bind(org_id).bind(uid).fetch_optional(c).await?
        });
        Ok(id)
    }

    /// Changes name, role or disabled flag of a service account of `org_id`, in `tx`. False
    /// when there is no such account.
    pub async fn update_service_account(
        &self,
        tx: &mut Tx,
        org_id: i64,
        id: i64,
        update: &ServiceAccountUpdate,
        now: DbTime,
    ) -> StoreResult<bool> {
        if !self.service_account_in_tx(tx, org_id, id).await? {
            return Ok(false);
        }
        if let Some(role) = &update.role {
            let sql = self
                .sql("UPDATE org_user SET role = ?, updated = ? WHERE org_id = ? AND user_id = ?");
            with_tx!(&mut *tx, c => {
                sqlx::query(&sql).bind(role).bind(now.get()).bind(org_id).bind(id)
                    .execute(c).await?;
            });
        }
        if let Some(name) = &update.name {
            let sql = self.sql("UPDATE `user` SET name = ?, updated = ? WHERE id = ?");
            with_tx!(&mut *tx, c => {
                sqlx::query(&sql).bind(name).bind(now.get()).bind(id).execute(c).await?;
            });
        }
        if let Some(disabled) = update.is_disabled {
            let sql = self.sql("UPDATE `user` SET is_disabled = ?, updated = ? WHERE id = ?");
            with_tx!(&mut *tx, c => {
                sqlx::query(&sql).bind(disabled).bind(now.get()).bind(id).execute(c).await?;
            });
        }
        Ok(true)
    }

    async fn service_account_in_tx(&self, tx: &mut Tx, org_id: i64, id: i64) -> StoreResult<bool> {
        let sql = self.sql(&format!(
            "SELECT COUNT(*) FROM org_user ou JOIN `user` u ON u.id = ou.user_id \
             WHERE ou.org_id = ? AND u.id = ? AND {}",
            self.is_sa()
        ));
        let n: i64 = with_tx!(tx, c => {
            sqlx::query_scalar(&sql).bind(org_id).bind(id).fetch_one(c).await?
        });
        Ok(n > 0)
    }

    /// Deletes a service account of `org_id` with its tokens and everything else it owns, in
    /// `tx`.
    pub async fn delete_service_account(
        &self,
        tx: &mut Tx,
        org_id: i64,
        id: i64,
    ) -> StoreResult<bool> {
        if !self.service_account_in_tx(tx, org_id, id).await? {
            return Ok(false);
        }
        self.delete_user(tx, id).await?;
        Ok(true)
    }

    /// Service accounts of an org, by login (Grafana orders by email, then login; for service
    /// accounts they are the same), with the total count.
    pub async fn search_service_accounts(
        &self,
        search: &ServiceAccountSearch,
    ) -> StoreResult<(i64, Vec<ServiceAccountRow>)> {
        let mut filter = format!("ou.org_id = ? AND {}", self.is_sa());
        let mut args = super::Args::default().int(search.org_id);
        let query = search.query.trim();
        if !query.is_empty() {
            filter.push_str(" AND ");
            filter.push_str(&self.like_any(&["u.email", "u.name", "u.login"]));
            let pattern = like_pattern(query);
            args = args.text(&pattern).text(&pattern).text(&pattern);
        }
        if search.expired_tokens {
            filter.push_str(
                " AND EXISTS (SELECT 1 FROM api_key k WHERE k.service_account_id = u.id \
                 AND k.expires IS NOT NULL AND k.expires < ?)",
            );
            args = args.int(search.now);
        }
        if search.disabled {
            filter.push_str(&format!(
                " AND u.is_disabled = {}",
                self.dialect.bool_lit(true)
            ));
        }
        if let Some(ids) = &search.only {
            if ids.is_empty() {
                return Ok((0, Vec::new()));
            }
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            filter.push_str(&format!(" AND u.id IN ({})", list.join(", ")));
        }
        let from = "FROM org_user ou JOIN `user` u ON u.id = ou.user_id";
        let rows_sql = self.sql(&format!(
            "SELECT {SA_COLUMNS} {from} WHERE {filter} \
             ORDER BY u.email ASC, u.login ASC, u.id ASC LIMIT ? OFFSET ?"
        ));
        let count_sql = self.sql(&format!("SELECT COUNT(*) {from} WHERE {filter}"));
        let offset = (search.page - 1) * search.per_page;
        let page_args = args.clone().int(search.per_page).int(offset);
        let (total, rows) = with_conn!(&self.pool, c => {
            let rows = bind_args!(sqlx::query_as::<_, ServiceAccountRow>(&rows_sql), page_args)
                .fetch_all(c).await?;
            let total = bind_args!(sqlx::query_scalar::<_, i64>(&count_sql), args)
                .fetch_one(c).await?;
            (total, rows)
        });
        Ok((total, rows))
    }

    /// The tokens of a service account of `org_id`, by name (Grafana lists at most 300).
    pub async fn service_account_tokens(
        &self,
        org_id: i64,
        service_account_id: i64,
    ) -> StoreResult<Vec<ApiKeyRow>> {
        let sql = self.sql(&format!(
            "SELECT {KEY_COLUMNS} FROM api_key k JOIN `user` u ON u.id = k.service_account_id \
             WHERE k.service_account_id = ? AND k.org_id = ? AND u.org_id = ? \
             ORDER BY k.name ASC LIMIT 300"
        ));
        let rows = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, ApiKeyRow>(&sql)
                .bind(service_account_id).bind(org_id).bind(org_id).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// The `api_key` row `id` of `org_id` (a token or a legacy key).
    pub async fn api_key(
        &self,
        db: Db<'_>,
        org_id: i64,
        id: i64,
    ) -> StoreResult<Option<ApiKeyRow>> {
        let sql = self.sql(&format!(
            "SELECT {KEY_COLUMNS} FROM api_key k WHERE k.id = ? AND k.org_id = ?"
        ));
        let row = with_db!(db, c => {
            sqlx::query_as::<_, ApiKeyRow>(&sql).bind(id).bind(org_id).fetch_optional(c).await?
        });
        Ok(row)
    }

    /// Stores a token, in `tx`. A name already used in the org (by any token or legacy key) is
    /// a conflict.
    pub async fn add_api_key(
        &self,
        tx: &mut Tx,
        new: &NewApiKey<'_>,
        now: DbTime,
    ) -> StoreResult<i64> {
        let sql = self.sql("SELECT COUNT(*) FROM api_key WHERE org_id = ? AND name = ?");
        let taken: i64 = with_tx!(&mut *tx, c => {
            sqlx::query_scalar(&sql).bind(new.org_id).bind(new.name).fetch_one(c).await?
        });
        if taken > 0 {
            return Err(StoreError::Conflict(Conflict::TokenNameTaken));
        }
        let id = self
            .insert_returning_id(
                tx,
                "INSERT INTO api_key (org_id, name, `key`, role, created, updated, expires, \
                 service_account_id, last_used_at, is_revoked) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                |a| {
                    let a = a
                        .int(new.org_id)
                        .text(new.name)
                        .text(new.key)
                        .text(new.role)
                        .time(now.get())
                        .time(now.get());
                    a.opt_int(new.expires)
                        .int(new.service_account_id)
                        .boolean(false)
                },
            )
            .await
            .map_err(|e| e.or_conflict(Conflict::TokenNameTaken))?;
        Ok(id)
    }

    /// Deletes a token of a service account of `org_id`, in `tx`. False when there is no such
    /// token.
    pub async fn delete_service_account_token(
        &self,
        tx: &mut Tx,
        org_id: i64,
        service_account_id: i64,
        token_id: i64,
    ) -> StoreResult<bool> {
        let sql =
            self.sql("DELETE FROM api_key WHERE id = ? AND org_id = ? AND service_account_id = ?");
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(token_id).bind(org_id).bind(service_account_id)
                .execute(c).await?.rows_affected()
        });
        Ok(n > 0)
    }

    /// The token stored under this hash, with its service account and the account's role in the
    /// token's org. Tokens without an account (legacy keys not yet migrated) are not found.
    pub async fn token_for_auth(&self, hashed: &str) -> StoreResult<Option<TokenAuthRow>> {
        let sql = self.sql(&format!(
            "SELECT k.id AS key_id, k.org_id AS key_org_id, k.name AS key_name, \
             k.expires AS key_expires, k.is_revoked AS key_is_revoked, \
             k.last_used_at AS key_last_used_at, {USER_COLUMNS}, ou.role, \
             CAST(NULL AS CHAR(1)) AS auth_module \
             FROM api_key k JOIN `user` u ON u.id = k.service_account_id \
             LEFT JOIN org_user ou ON ou.user_id = u.id AND ou.org_id = k.org_id \
             WHERE k.`key` = ?"
        ));
        let row = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, TokenAuthRow>(&sql).bind(hashed).fetch_optional(c).await?
        });
        Ok(row)
    }

    /// Records a use of a token unless one at or after `threshold` is already recorded.
    pub async fn touch_api_key(&self, id: i64, now: DbTime, threshold: DbTime) -> StoreResult<()> {
        let sql = self.sql(
            "UPDATE api_key SET last_used_at = ? \
             WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
        );
        with_conn!(&self.pool, c => {
            sqlx::query(&sql).bind(now.get()).bind(id).bind(threshold.get()).execute(c).await?;
        });
        Ok(())
    }

    /// Legacy API keys of an org (`GET /api/auth/keys`), by name, at most 100.
    pub async fn legacy_api_keys(
        &self,
        org_id: i64,
        include_expired: bool,
        now: i64,
    ) -> StoreResult<Vec<ApiKeyRow>> {
        let alive = if include_expired {
            ""
        } else {
            " AND (k.expires IS NULL OR k.expires >= ?)"
        };
        let sql = self.sql(&format!(
            "SELECT {KEY_COLUMNS} FROM api_key k \
             WHERE k.org_id = ? AND k.service_account_id IS NULL{alive} \
             ORDER BY k.name ASC LIMIT 100"
        ));
        let rows = with_conn!(&self.pool, c => {
            let q = sqlx::query_as::<_, ApiKeyRow>(&sql).bind(org_id);
            let q = if include_expired { q } else { q.bind(now) };
            q.fetch_all(c).await?
        });
        Ok(rows)
    }

    /// Deletes a legacy API key (never a service-account token) of an org, in `tx`.
    pub async fn delete_legacy_api_key(
        &self,
        tx: &mut Tx,
        org_id: i64,
        id: i64,
    ) -> StoreResult<bool> {
        let sql = self
            .sql("DELETE FROM api_key WHERE id = ? AND org_id = ? AND service_account_id IS NULL");
        let n = with_tx!(tx, c => {
            sqlx::query(&sql).bind(id).bind(org_id).execute(c).await?.rows_affected()
        });
        Ok(n > 0)
    }

    /// Grafana 12's start-up migration of legacy API keys: each key without a service account
    /// gets one of its own (`sa-autogen-<key name>`, the key's role, in the key's org) and is
    /// linked to it, so the key string keeps working, now as that service account
    /// (`CreateServiceAccountFromApikey` in `pkg/services/serviceaccounts/database/store.go`).
    /// One transaction per key, with its record (`serviceaccounts:create`, as the current
    /// actor: `system` at start-up); a key another instance migrated meanwhile is left alone.
    /// Returns how many keys were migrated.
    pub async fn migrate_legacy_api_keys(&self, now: DbTime) -> StoreResult<u64> {
        let sql = self.sql(&format!(
            "SELECT {KEY_COLUMNS} FROM api_key k WHERE k.service_account_id IS NULL ORDER BY k.id"
        ));
        let keys = with_conn!(&self.pool, c => {
            sqlx::query_as::<_, ApiKeyRow>(&sql).fetch_all(c).await?
        });
        let mut migrated = 0;
        for key in keys {
            let _changed = self.changed();
            let name = format!("sa-autogen-{}", key.name);
            let base = service_account_login("sa-autogen", key.org_id, &key.name);
            // Grafana retries a taken login with -001 … -010.
            let logins =
                std::iter::once(base.clone()).chain((1..=10).map(|n| format!("{base}-{n:03}")));
            let role = OrgRole::parse(&key.role).unwrap_or(OrgRole::Viewer);
            let mut tx = self.begin().await?;
            if !self.org_exists_tx(&mut tx, key.org_id).await? {
                continue;
            }
            let mut account = None;
            for login in logins {
                if !Self::login_or_email_taken(&mut tx, self.dialect, &login, &login, 0).await? {
                    account = Some(login);
                    break;
                }
            }
            let Some(login) = account else {
                tracing::warn!(key_id = key.id, "no free login to migrate a legacy API key");
                continue;
            };
            let new = NewUser::new(login.clone(), login.clone(), name.clone(), key.org_id, role)
                .service_account();
            let id = self.insert_user_tx(&mut tx, &new, key.org_id, now).await?;
            self.add_org_user_tx(
                &mut tx,
                OrgMembership {
                    org_id: key.org_id,
                    user_id: id,
                    role: new.role,
                },
                now,
            )
            .await?;
            let sql = self.sql(
                "UPDATE api_key SET service_account_id = ?, updated = ? \
                 WHERE id = ? AND service_account_id IS NULL",
            );
            let n = with_tx!(&mut tx, c => {
                sqlx::query(&sql).bind(id).bind(now.get()).bind(key.id)
                    .execute(c).await?.rows_affected()
            });
            if n == 1 {
                tx.audit(
                    Event::new(
                        "serviceaccounts:create",
                        Target::new("service_account", id, &login),
                    )
                    .in_org(key.org_id)
                    .set("login", login.as_str())
                    .set("name", name.as_str())
                    .set("role", role.as_str())
                    .set("apiKeyId", key.id)
                    .set("apiKeyName", key.name.as_str()),
                )
                .await?;
                tx.commit().await?;
                migrated += 1;
            }
        }
        Ok(migrated)
    }
}
