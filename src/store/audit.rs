//! The audit log's table (`audit_log`, migration 0013) and its hash chain (`audit_chain`).
//!
//! An append locks the chain's head row, so appends are serial across instances (SQLite's
//! write transactions are serial already), reads the previous record's hash, and stores
//! `hash = SHA-256(prev_hash ‖ content)`, where the content is the record's fields as one JSON
//! array in a fixed order ([`AuditRecord::content`]). The head row keeps the last record's id and
//! hash, so removing the newest records is detected too; the retention clean-up moves the
//! chain's anchor (the hash the oldest kept record follows) in the same transaction as its
//! delete.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Args, Dialect, Store, StoreResult, Tx};
use crate::audit::{self, Change, Event};
use crate::store::DbTime;
use crate::{with_conn, with_tx};

/// One stored record, as the API and the JSON sinks show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub id: i64,
    #[serde(serialize_with = "rfc3339")]
    pub created: chrono::NaiveDateTime,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_login: String,
    pub token_id: Option<i64>,
    pub auth_method: String,
    pub client_ip: String,
    pub user_agent: String,
    pub request_id: String,
    pub org_id: i64,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub target_name: String,
    /// The changed fields as JSON (`[{"field", "old", "new"} | {"field", "secret": true}]`).
    #[serde(serialize_with = "as_json")]
    pub changes: String,
    pub outcome: String,
    pub reason: String,
    pub prev_hash: String,
    pub hash: String,
}

fn rfc3339<S: serde::Serializer>(t: &chrono::NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(
        &t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

fn as_json<S: serde::Serializer>(raw: &str, s: S) -> Result<S::Ok, S::Error> {
    let value: serde_json::Value =
        serde_json::from_str(raw).unwrap_or(serde_json::Value::String(raw.to_string()));
    value.serialize(s)
}

/// The hash every chain starts from.
pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const COLUMNS: &str = "id, created, actor_kind, actor_id, actor_login, token_id, auth_method, \
     client_ip, user_agent, request_id, org_id, action, target_kind, target_id, target_name, \
     changes, outcome, reason, prev_hash, hash";

impl AuditRecord {
    /// What the hash covers: every field but the id (assigned by the database) and the hash.
    fn content(&self) -> String {
        serde_json::json!([
            self.created.format("%Y-%m-%d %H:%M:%S").to_string(),
            self.actor_kind,
            self.actor_id,
            self.actor_login,
            self.token_id,
            self.auth_method,
            self.client_ip,
            self.user_agent,
            self.request_id,
            self.org_id,
            self.action,
            self.target_kind,
            self.target_id,
            self.target_name,
            self.changes,
            self.outcome,
            self.reason,
        ])
        .to_string()
    }

    /// `SHA-256(prev_hash ‖ content)`, hex.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        h.update(self.content().as_bytes());
        hex::encode(h.finalize())
    }

    fn build(ctx: audit::Context, event: Event, created: DbTime, prev_hash: String) -> Self {
        let changes = changes_json(&event.changes);
        // Text a client chose (a login typed at sign-in, a user agent) may hold a NUL, which
        // PostgreSQL cannot store: it is kept visible as U+FFFD instead.
        let clean = |s: String| {
            if s.contains('\0') {
                s.replace('\0', "\u{FFFD}")
            } else {
                s
            }
        };
        let mut r = AuditRecord {
            id: 0,
            created: created.get(),
            actor_kind: clean(ctx.actor_kind),
            actor_id: ctx.actor_id,
            actor_login: clean(ctx.actor_login),
            token_id: ctx.token_id,
            auth_method: clean(ctx.auth_method),
            client_ip: clean(ctx.client_ip),
            user_agent: clean(ctx.user_agent),
            request_id: clean(ctx.request_id),
            org_id: event.org_id.unwrap_or(ctx.org_id),
            action: clean(event.action),
            target_kind: clean(event.target.kind),
            target_id: clean(event.target.id),
            target_name: clean(event.target.name),
            changes,
            outcome: event.outcome.as_str().to_string(),
            reason: clean(event.reason),
            prev_hash,
            hash: String::new(),
        };
        r.hash = r.compute_hash();
        r
    }
}

fn changes_json(changes: &[Change]) -> String {
    serde_json::to_string(changes).unwrap_or_else(|_| "[]".to_string())
}

impl Tx {
    /// Records `event` in this transaction, as the current [`audit::Context`]'s actor: the
    /// record is written when the transaction commits ([`Tx::commit`]), just before the commit
    /// and in it, so it commits with the change or not at all. The chain's head is locked then,
    /// last of every lock the transaction takes and only until its commit, so appends from
    /// several instances are serial without a lock-order deadlock.
    pub async fn audit(&mut self, event: Event) -> StoreResult<()> {
        self.audited += 1;
        if !self.audit_settings().disabled {
            self.queued_audit.push((audit::current(), event));
        }
        Ok(())
    }

    /// Writes the queued records (see [`Tx::audit`]); called by [`Tx::commit`].
    pub(super) async fn append_audit(&mut self) -> StoreResult<()> {
        if self.queued_audit.is_empty() {
            return Ok(());
        }
        let head_sql = format!(
            "SELECT last_hash FROM audit_chain WHERE id = 1{}",
            self.dialect.for_update()
        );
        let mut prev: String = with_tx!(self, c => {
            sqlx::query_scalar::<_, String>(&head_sql).fetch_one(c).await?
        });
        let insert =
            "INSERT INTO audit_log (created, actor_kind, actor_id, actor_login, token_id, \
             auth_method, client_ip, user_agent, request_id, org_id, action, target_kind, \
             target_id, target_name, changes, outcome, reason, prev_hash, hash) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        let now = DbTime::now();
        let mut last_id = 0;
        for (ctx, event) in std::mem::take(&mut self.queued_audit) {
            let mut record = AuditRecord::build(ctx, event, now, prev);
            let args = Args::default()
                .time(record.created)
                .text(&record.actor_kind)
                .opt_int(record.actor_id)
                .text(&record.actor_login)
                .opt_int(record.token_id)
                .text(&record.auth_method)
                .text(&record.client_ip)
                .text(&record.user_agent)
                .text(&record.request_id)
                .int(record.org_id)
                .text(&record.action)
                .text(&record.target_kind)
                .text(&record.target_id)
                .text(&record.target_name)
                .text(&record.changes)
                .text(&record.outcome)
                .text(&record.reason)
                .text(&record.prev_hash)
                .text(&record.hash);
            record.id = self.insert_returning_id(insert, args).await?;
            last_id = record.id;
            prev = record.hash.clone();
            self.pending_audit.push(record);
        }
        let head = self
            .dialect
            .sql("UPDATE audit_chain SET last_id = ?, last_hash = ? WHERE id = 1");
        with_tx!(self, c => {
            sqlx::query(&head).bind(last_id).bind(&prev).execute(c).await?;
        });
        Ok(())
    }
}

/// `GET /api/admin/audit`'s filters.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The actor's login, exactly.
    pub actor: Option<String>,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    /// A prefix of the action (`users:` matches `users:create` …).
    pub action_prefix: Option<String>,
    pub org_id: Option<i64>,
    pub outcome: Option<String>,
    pub from: Option<DbTime>,
    pub to: Option<DbTime>,
    /// Records older than this id (the cursor).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// What `usher audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub checked: u64,
    /// The first record that does not follow from the one before it, and why.
    pub broken: Option<(i64, String)>,
}

impl Store {
    /// Writes one record in a transaction of its own: for events that change nothing else (a
    /// failed sign-in, a refused request).
    pub async fn audit_now(&self, event: Event) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.audit(event).await?;
        tx.commit().await
    }

    /// Records matching `filter`, newest first, at most `filter.limit`.
    pub async fn search_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        let mut conds: Vec<&str> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut ints: Vec<i64> = Vec::new();
        // Binds are in placeholder order: every text condition first, then ints, then times.
        if let Some(a) = &filter.actor {
            conds.push("actor_login = ?");
            texts.push(a.clone());
        }
        if let Some(k) = &filter.target_kind {
            conds.push("target_kind = ?");
            texts.push(k.clone());
        }
        if let Some(t) = &filter.target_id {
            conds.push("target_id = ?");
            texts.push(t.clone());
        }
        let escape = match self.dialect {
            Dialect::MySql => "'\\\\'",
            _ => "'\\'",
        };
        let action_cond = format!("action LIKE ? ESCAPE {escape}");
        if let Some(p) = &filter.action_prefix {
            conds.push(&action_cond);
            texts.push(format!("{}%", super::users::like_escape(p)));
        }
        if let Some(o) = &filter.outcome {
            conds.push("outcome = ?");
            texts.push(o.clone());
        }
        if let Some(org) = filter.org_id {
            conds.push("org_id = ?");
            ints.push(org);
        }
        if let Some(id) = filter.before_id {
            conds.push("id < ?");
            ints.push(id);
        }
        // A time range is also turned into a range of ids (the first record at or after `from`
        // and the last at or before `to`, in time order), so that the newest-first scan walks
        // the primary key over that range only: records are appended under the chain's lock
        // with the appending server's clock, so ids and times agree. (Id conditions are ints,
        // bound before the times.)
        for (bound, after, cond) in [
            (filter.from, true, "id >= ?"),
            (filter.to, false, "id <= ?"),
        ] {
            if let Some(t) = bound {
                match self.audit_id_at(t, after).await? {
                    Some(id) => {
                        conds.push(cond);
                        ints.push(id);
                    }
                    None => return Ok(Vec::new()),
                }
            }
        }
        let mut times: Vec<chrono::NaiveDateTime> = Vec::new();
        if let Some(from) = filter.from {
            conds.push("created >= ?");
            times.push(from.get());
        }
        if let Some(to) = filter.to {
            conds.push("created <= ?");
            times.push(to.get());
        }
        let filter_sql = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        let sql = self.sql(&format!(
            "SELECT {COLUMNS} FROM audit_log{filter_sql} ORDER BY id DESC LIMIT ?"
        ));
        let rows = with_conn!(&self.pool, c => {
            let mut q = sqlx::query_as::<_, AuditRecord>(&sql);
            for t in &texts {
                q = q.bind(t);
            }
            for i in &ints {
                q = q.bind(i);
            }
            for t in &times {
                q = q.bind(t);
            }
            q.bind(filter.limit).fetch_all(c).await?
        });
        Ok(rows)
    }

    /// The id of the first record at or after `t` (`after`), or of the last at or before it.
    async fn audit_id_at(&self, t: DbTime, after: bool) -> StoreResult<Option<i64>> {
        let sql = self.sql(if after {
            "SELECT id FROM audit_log WHERE created >= ? ORDER BY created ASC, id ASC LIMIT 1"
        } else {
            "SELECT id FROM audit_log WHERE created <= ? ORDER BY created DESC, id DESC LIMIT 1"
        });
        let id = with_conn!(&self.pool, c => {
            sqlx::query_scalar::<_, i64>(&sql).bind(t.get()).fetch_optional(c).await?
        });
        Ok(id)
    }

    /// Walks the chain from its anchor to its head: each record must follow the one before it
    /// and hash to what it stores, and the last must be the head's.
    pub async fn verify_audit_chain(&self) -> StoreResult<ChainReport> {
        let (last_id, last_hash, anchor_hash): (i64, String, String) = with_conn!(&self.pool, c => {
            sqlx::query_as("SELECT last_id, last_hash, anchor_hash FROM audit_chain WHERE id = 1")
                .fetch_one(c)
                .await?
        });
        let page_sql = self.sql(&format!(
            "SELECT {COLUMNS} FROM audit_log WHERE id > ? ORDER BY id ASC LIMIT 5000"
        ));
        let mut report = ChainReport {
            checked: 0,
            broken: None,
        };
        let (mut prev_id, mut prev_hash) = (0i64, anchor_hash);
        loop {
            let rows = with_conn!(&self.pool, c => {
                sqlx::query_as::<_, AuditRecord>(&page_sql).bind(prev_id).fetch_all(c).await?
            });
            if rows.is_empty() {
                break;
            }
            for r in rows {
                report.checked += 1;
                if r.prev_hash != prev_hash {
                    report.broken = Some((
                        r.id,
                        format!(
                            "does not follow record {prev_id}: a record before it was removed or changed"
                        ),
                    ));
                    return Ok(report);
                }
                if r.compute_hash() != r.hash {
                    report.broken = Some((r.id, "its content was changed".to_string()));
                    return Ok(report);
                }
                prev_id = r.id;
                prev_hash = r.hash;
            }
        }
        if prev_id != last_id || prev_hash != last_hash {
            report.broken = Some((
                last_id,
                format!("the newest record {last_id} is missing or changed (the chain ends at {prev_id})"),
            ));
        }
        Ok(report)
    }

    /// Removes records older than `before` and moves the chain's anchor past them, in one
    /// transaction; answers how many were removed.
    pub async fn prune_audit(&self, before: DbTime) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let head_sql = format!(
            "SELECT last_id FROM audit_chain WHERE id = 1{}",
            self.dialect.for_update()
        );
        let newest_old =
            self.sql("SELECT id, hash FROM audit_log WHERE created < ? ORDER BY id DESC LIMIT 1");
        let delete = self.sql("DELETE FROM audit_log WHERE id <= ?");
        let anchor = self.sql("UPDATE audit_chain SET anchor_id = ?, anchor_hash = ? WHERE id = 1");
        let removed = with_tx!(&mut tx, c => {
            sqlx::query_scalar::<_, i64>(&head_sql).fetch_one(&mut *c).await?;
            let last: Option<(i64, String)> = sqlx::query_as(&newest_old)
                .bind(before.get())
                .fetch_optional(&mut *c)
                .await?;
            match last {
                None => 0,
                Some((id, hash)) => {
                    let n = sqlx::query(&delete).bind(id).execute(&mut *c).await?.rows_affected();
                    sqlx::query(&anchor).bind(id).bind(hash).execute(&mut *c).await?;
                    n
                }
            }
        });
        // The clean-up is recorded by the anchor's move, not by a record of its own.
        tx.commit().await?;
        Ok(removed)
    }
}
