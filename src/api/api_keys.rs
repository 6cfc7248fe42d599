//! Legacy API keys (`/api/auth/keys`) as Grafana 12 keeps them: no new keys (`410 Gone`), the
//! list and delete routes for keys not yet linked to a service account. Existing keys keep
//! authenticating: they are turned into service accounts at start-up
//! ([`crate::store::Store::migrate_legacy_api_keys`]), as Grafana 12 does.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::dto::{message, Message};
use super::query::GrafanaQuery;
use super::{Op, Routes};
use crate::audit::{Event, Target};
use crate::auth::{actions, Access, Caller};
use crate::domain::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/auth/keys",
            "api_keys",
            "Legacy API keys of the current organization",
            Access::perm(actions::APIKEYS_READ, "apikeys:*"),
        )
        .query::<ListQuery>()
        .returns::<Vec<ApiKeyDto>>(),
        list,
    )
    .add(
        Op::post(
            "/api/auth/keys",
            "api_keys",
            "Gone: create a service account token instead (410)",
            Access::action(actions::APIKEYS_CREATE),
        )
        .returns::<Message>()
        .errors(&[410]),
        create,
    )
    .add(
        Op::delete(
            "/api/auth/keys/{id}",
            "api_keys",
            "Delete a legacy API key",
            Access::perm(actions::APIKEYS_DELETE, "apikeys:id:{id}"),
        )
        .returns::<Message>(),
        delete,
    );
}

/// Grafana's `ApiKeyDTO` (`pkg/api/dtos/apikey.go`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyDto {
    pub id: i64,
    pub name: String,
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
}

/// `?includeExpired=`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct ListQuery {
    /// `true`: expired keys too.
    pub include_expired: Option<String>,
}

async fn list(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaQuery(q): GrafanaQuery<ListQuery>,
) -> ApiResult<Json<Vec<ApiKeyDto>>> {
    let include_expired = q.include_expired.as_deref() == Some("true");
    let rows = app
        .store
        .legacy_api_keys(caller.org_id, include_expired, app.clock.now().timestamp())
        .await
        .map_err(|e| ApiError::from(e).context("Failed to list api keys"))?;
    Ok(Json(
        rows.into_iter()
            .map(|k| ApiKeyDto {
                id: k.id,
                name: k.name,
                role: k.role,
                expiration: k
                    .expires
                    .and_then(|e| chrono::DateTime::from_timestamp(e, 0))
                    .map(|e| rfc3339(e.naive_utc())),
                last_used_at: k.last_used_at.map(rfc3339),
            })
            .collect(),
    ))
}

/// Grafana 11.3+ (`pkg/api/apikey.go`).
async fn create() -> ApiError {
    ApiError::status(
        StatusCode::GONE,
        "this endpoint has been removed, please use POST /api/serviceaccounts and POST /api/serviceaccounts/{id}/tokens instead",
    )
}

async fn delete(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    let id = parse_id(&id, "id is invalid")?;
    let missing = || ApiError::not_found("Failed to delete API key");
    let mut tx = app.store.begin().await?;
    let key = app
        .store
        .api_key(tx.db(), caller.org_id, id)
        .await?
        .filter(|k| k.service_account_id.is_none())
        .ok_or_else(missing)?;
    if !app
        .store
        .delete_legacy_api_key(&mut tx, caller.org_id, id)
        .await?
    {
        return Err(missing());
    }
    tx.audit(
        Event::new(
            actions::APIKEYS_DELETE,
            Target::new("api_key", key.id, &key.name),
        )
        .change("role", Some(key.role.as_str()), None::<&str>),
    )
    .await?;
    tx.commit().await?;
    Ok(message("API key deleted"))
}
