//! Quotas (Grafana's `pkg/api/quota.go`, `pkg/services/quota`): limits per org and per user,
//! their usage, and the checks made when users, orgs, memberships and dashboards are created.
//! Off unless `[quota] enabled`; then the reads and updates answer Grafana's 403 "Quotas not
//! enabled". Only the targets this server holds are listed: `org_user`, `dashboard` and `api_key`
//! per org, `org_user` (orgs joined) per user.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::dto::{message, Message};
use super::users::find_user;
use super::{Op, Routes};
use crate::auth::{actions, Access, Caller};
use crate::domain::parse_id;
use crate::error::{ApiError, ApiResult, GrafanaJson};
use crate::service::{self, quotas};
use crate::state::AppState;
use crate::store::quotas::QuotaScope;

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/org/quotas",
            "quotas",
            "Quotas of the current organization",
            Access::action(actions::ORGS_QUOTAS_READ),
        )
        .returns::<Vec<QuotaDto>>(),
        current_org,
    )
    .add(
        Op::get(
            "/api/orgs/{orgId}/quotas",
            "quotas",
            "Quotas of an organization",
            Access::action(actions::ORGS_QUOTAS_READ).in_org("orgId"),
        )
        .returns::<Vec<QuotaDto>>(),
        org,
    )
    .add(
        Op::put(
            "/api/orgs/{orgId}/quotas/{target}",
            "quotas",
            "Set an organization's limit for a target",
            Access::action(actions::ORGS_QUOTAS_WRITE).in_org("orgId"),
        )
        .body::<LimitBody>()
        .returns::<Message>(),
        update_org,
    )
    .add(
        Op::get(
            "/api/admin/users/{id}/quotas",
            "quotas",
            "Quotas of a user",
            Access::perm(actions::USERS_QUOTAS_READ, "global.users:id:{id}").global(),
        )
        .returns::<Vec<QuotaDto>>(),
        user,
    )
    .add(
        Op::put(
            "/api/admin/users/{id}/quotas/{target}",
            "quotas",
            "Set a user's limit for a target",
            Access::perm(actions::USERS_QUOTAS_WRITE, "global.users:id:{id}").global(),
        )
        .body::<LimitBody>()
        .returns::<Message>(),
        update_user,
    );
}

/// Grafana's `QuotaDTO`: `org_id` or `user_id`, target, limit (-1: none), used.
#[derive(Debug, Serialize, JsonSchema)]
pub struct QuotaDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    pub target: String,
    pub limit: i64,
    pub used: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LimitBody {
    #[serde(default)]
    pub limit: i64,
}

fn disabled() -> ApiError {
    ApiError::coded(
        StatusCode::FORBIDDEN,
        "Quotas not enabled",
        "quota.disabled",
    )
}

fn require_enabled(app: &AppState) -> ApiResult<()> {
    if app.config.quota.enabled {
        Ok(())
    } else {
        Err(disabled())
    }
}

/// The quotas of `scope`; the caller has checked that quotas are on.
async fn list(app: &AppState, scope: QuotaScope) -> ApiResult<Json<Vec<QuotaDto>>> {
    let targets = quotas::targets_of(scope);
    let mut out = Vec::with_capacity(targets.len());
    for target in targets {
        let (org_id, user_id) = match scope {
            QuotaScope::Org(id) => (Some(id), None),
            QuotaScope::User(id) => (None, Some(id)),
        };
        out.push(QuotaDto {
            org_id,
            user_id,
            target: target.to_string(),
            limit: quotas::limit_of(app, app.store.db(), scope, target).await?,
            used: quotas::used(app, app.store.db(), scope, target).await?,
        });
    }
    Ok(Json(out))
}

/// Sets a limit of `scope`; the caller has checked that quotas are on.
async fn set(app: &AppState, scope: QuotaScope, target: &str, limit: i64) -> ApiResult<()> {
    if !quotas::targets_of(scope).contains(&target) {
        // Grafana answers a 500 (`quota.invalid-target-table`); an unknown target is the
        // client's mistake, so a 400 with the same message id.
        return Err(ApiError::coded(
            StatusCode::BAD_REQUEST,
            "Invalid quota target",
            "quota.invalid-target-table",
        ));
    }
    service::in_tx(app, async |tx| {
        quotas::set_limit(app, tx, scope, target, limit).await
    })
    .await?;
    Ok(())
}

async fn existing_org(app: &AppState, raw: &str) -> ApiResult<i64> {
    let id = parse_id(raw, "orgId is invalid")?;
    app.store
        .org_details(id)
        .await?
        .map(|_| id)
        .ok_or_else(|| ApiError::not_found("Organization not found"))
}

async fn current_org(
    caller: Caller,
    State(app): State<AppState>,
) -> ApiResult<Json<Vec<QuotaDto>>> {
    require_enabled(&app)?;
    list(&app, QuotaScope::Org(caller.org_id)).await
}

async fn org(
    State(app): State<AppState>,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<QuotaDto>>> {
    require_enabled(&app)?;
    let org = existing_org(&app, &org).await?;
    list(&app, QuotaScope::Org(org)).await
}

async fn update_org(
    State(app): State<AppState>,
    Path((org, target)): Path<(String, String)>,
    GrafanaJson(body): GrafanaJson<LimitBody>,
) -> ApiResult<Json<Message>> {
    require_enabled(&app)?;
    let org = existing_org(&app, &org).await?;
    set(&app, QuotaScope::Org(org), &target, body.limit).await?;
    Ok(message("Organization quota updated"))
}

async fn user(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<QuotaDto>>> {
    require_enabled(&app)?;
    let user = find_user(&app, &id).await?;
    list(&app, QuotaScope::User(user.id)).await
}

async fn update_user(
    State(app): State<AppState>,
    Path((id, target)): Path<(String, String)>,
    GrafanaJson(body): GrafanaJson<LimitBody>,
) -> ApiResult<Json<Message>> {
    require_enabled(&app)?;
    let user = find_user(&app, &id).await?;
    set(&app, QuotaScope::User(user.id), &target, body.limit).await?;
    // Grafana's user-quota handler says "Organization quota" too (`pkg/api/quota.go`).
    Ok(message("Organization quota updated"))
}
