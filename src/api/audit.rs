//! The audit log's reader (Usher's own; see `crate::audit`): `GET /api/admin/audit` for server
//! admins, over every org, and `GET /api/org/audit` for an org's Admins, over their org.

use axum::extract::State;
use axum::Json;
use base64::Engine;
use schemars::gen::SchemaGenerator;
use schemars::schema::Schema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::query::GrafanaQuery;
use super::{Op, Routes};
use crate::audit::Outcome;
use crate::auth::{actions, Access, Caller};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{AuditFilter, AuditRecord, DbTime};

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/admin/audit",
            "audit",
            "Audit records of every org, newest first",
            Access::action(actions::AUDIT_READ),
        )
        .query::<AuditQuery>()
        .returns::<AuditPage>(),
        admin_audit,
    )
    .add(
        Op::get(
            "/api/org/audit",
            "audit",
            "Audit records of the current org, newest first",
            Access::action(actions::ORG_AUDIT_READ),
        )
        .query::<AuditQuery>()
        .returns::<AuditPage>(),
        org_audit,
    );
}

/// The filters: every one optional, all of them applying together.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct AuditQuery {
    /// The actor's login (or `provisioning`, `cli`, `system`), exactly.
    pub actor: Option<String>,
    /// What was changed: `user`, `org`, `team`, `service_account`, `token`, `session`, …
    pub target_kind: Option<String>,
    /// The target's id (a user's id, a team's id …), exactly.
    pub target_id: Option<String>,
    /// A prefix of the action: `users:` matches `users:create`, `users:delete` …
    pub action: Option<String>,
    /// Only this org's records (`/api/admin/audit` only).
    #[schemars(schema_with = "org_id_schema")]
    pub org_id: Option<String>,
    /// `success`, `failure` or `denied`.
    #[schemars(schema_with = "outcome_schema")]
    pub outcome: Option<String>,
    /// From this time on: RFC 3339, or milliseconds since the epoch.
    pub from: Option<String>,
    /// Up to this time.
    pub to: Option<String>,
    /// Records per page: 1 to 1000 (default 100).
    #[schemars(schema_with = "limit_schema")]
    pub limit: Option<String>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

fn schema(value: serde_json::Value) -> Schema {
    serde_json::from_value(value).expect("a literal schema")
}

fn org_id_schema(_: &mut SchemaGenerator) -> Schema {
    schema(serde_json::json!({ "anyOf": [
        { "type": "integer", "minimum": 0 },
        { "type": "string", "maxLength": 0 },
    ] }))
}

fn limit_schema(_: &mut SchemaGenerator) -> Schema {
    schema(serde_json::json!({ "anyOf": [
        { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT },
        { "type": "string", "maxLength": 0 },
    ] }))
}

fn outcome_schema(_: &mut SchemaGenerator) -> Schema {
    schema(serde_json::json!({ "type": "string", "enum": ["", "success", "failure", "denied"] }))
}

/// Any JSON value (an old or new value of a changed field).
fn any_value(_: &mut SchemaGenerator) -> Schema {
    Schema::Object(schemars::schema::SchemaObject::default())
}

/// A record as the reader answers it (see `crate::store::AuditRecord`), for the document.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
struct RecordDoc {
    id: i64,
    /// RFC 3339, UTC.
    created: String,
    actor_kind: String,
    actor_id: Option<i64>,
    actor_login: String,
    token_id: Option<i64>,
    auth_method: String,
    client_ip: String,
    user_agent: String,
    request_id: String,
    org_id: i64,
    action: String,
    target_kind: String,
    target_id: String,
    target_name: String,
    changes: Vec<ChangeDoc>,
    outcome: String,
    reason: String,
    prev_hash: String,
    hash: String,
}

/// One changed field: `old` and `new` for values, `secret: true` (and no values) for secrets.
#[allow(dead_code)]
#[derive(JsonSchema)]
struct ChangeDoc {
    field: String,
    #[serde(default)]
    #[schemars(schema_with = "any_value")]
    old: Option<serde_json::Value>,
    #[serde(default)]
    #[schemars(schema_with = "any_value")]
    new: Option<serde_json::Value>,
    #[serde(default)]
    secret: Option<bool>,
}

/// One page of records and where the next begins.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    #[schemars(with = "Vec<RecordDoc>")]
    pub records: Vec<AuditRecord>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

const MAX_LIMIT: i64 = 1000;

fn parse(q: &AuditQuery) -> ApiResult<AuditFilter> {
    let text = |v: &Option<String>, name: &str| -> ApiResult<Option<String>> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) if s.chars().count() > 190 => {
                Err(ApiError::bad_request(format!("{name} is too long")))
            }
            Some(s) => Ok(Some(s.to_string())),
        }
    };
    let limit = match q.limit.as_deref().map(str::trim) {
        None | Some("") => 100,
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::bad_request("limit must be a whole number from 1 to 1000"))?,
    };
    let org_id = match q.org_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(
            s.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| ApiError::bad_request("orgId must be a whole number"))?,
        ),
    };
    let outcome = text(&q.outcome, "outcome")?;
    if let Some(o) = &outcome {
        if Outcome::parse(o).is_none() {
            return Err(ApiError::bad_request(
                "outcome must be success, failure or denied",
            ));
        }
    }
    let from = time(q.from.as_deref(), "from")?;
    let to = time(q.to.as_deref(), "to")?;
    Ok(AuditFilter {
        actor: text(&q.actor, "actor")?,
        target_kind: text(&q.target_kind, "targetKind")?,
        target_id: text(&q.target_id, "targetId")?,
        action_prefix: text(&q.action, "action")?,
        org_id,
        outcome,
        from,
        to,
        before_id: cursor(q.cursor.as_deref())?,
        limit,
    })
}

fn time(raw: Option<&str>, name: &str) -> ApiResult<Option<DbTime>> {
    let raw = match raw.map(str::trim) {
        None | Some("") => return Ok(None),
        Some(s) => s,
    };
    if let Ok(ms) = raw.parse::<i64>() {
        if let Some(t) = chrono::DateTime::from_timestamp_millis(ms) {
            return Ok(Some(DbTime::from_utc(t)));
        }
    }
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(DbTime::from_utc(t.with_timezone(&chrono::Utc))))
        .map_err(|_| {
            ApiError::bad_request(format!(
                "{name} must be an RFC 3339 time or milliseconds since the epoch"
            ))
        })
}

/// A cursor is the id of the last record shown, opaque to clients.
fn cursor(raw: Option<&str>) -> ApiResult<Option<i64>> {
    let raw = match raw.map(str::trim) {
        None | Some("") => return Ok(None),
        Some(s) => s,
    };
    let invalid = || ApiError::bad_request("invalid cursor");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix("before:")
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .map(Some)
        .ok_or_else(invalid)
}

fn encode_cursor(id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("before:{id}"))
}

async fn page(app: &AppState, mut filter: AuditFilter) -> ApiResult<AuditPage> {
    let limit = filter.limit;
    filter.limit = limit + 1;
    let mut records = app.store.search_audit(&filter).await?;
    let next_cursor = if records.len() as i64 > limit {
        records.truncate(limit as usize);
        records.last().map(|r| encode_cursor(r.id))
    } else {
        None
    };
    Ok(AuditPage {
        records,
        next_cursor,
    })
}

async fn admin_audit(
    State(app): State<AppState>,
    GrafanaQuery(q): GrafanaQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    Ok(Json(page(&app, parse(&q)?).await?))
}

async fn org_audit(
    State(app): State<AppState>,
    caller: Caller,
    GrafanaQuery(q): GrafanaQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let mut filter = parse(&q)?;
    if filter.org_id.is_some_and(|o| o != caller.org_id) {
        return Err(ApiError::bad_request(
            "orgId: this list shows the current org's records only",
        ));
    }
    filter.org_id = Some(caller.org_id);
    Ok(Json(page(&app, filter).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        assert_eq!(cursor(Some(&encode_cursor(42))).unwrap(), Some(42));
        for bad in [
            "x",
            "!!",
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("before:-1"),
        ] {
            assert!(cursor(Some(bad)).is_err(), "{bad}");
        }
    }
}
