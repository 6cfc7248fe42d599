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
use crate::app::AppState;
use crate::auth::{Access, Caller};
use crate::domain::parse_id;
use crate::error::{ApiError, ApiResult, GrafanaJson};
use crate::store::quotas::QuotaScope;

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/org/quotas",
            "quotas",
            "Quotas of the current organization",
            Access::action("orgs.quotas:read"),
        )
        .returns::<Vec<QuotaDto>>(),
        current_org,
    )
    .add(
        Op::get(
            "/api/orgs/{orgId}/quotas",
            "quotas",
            "Quotas of an organization",
            Access::action("orgs.quotas:read").in_org("orgId"),
        )
        .returns::<Vec<QuotaDto>>(),
        org,
    )
    .add(
        Op::put(
            "/api/orgs/{orgId}/quotas/{target}",
            "quotas",
            "Set an organization's limit for a target",
            Access::action("orgs.quotas:write").in_org("orgId"),
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
            Access::perm("users.quotas:read", "global.users:id:{id}").global(),
        )
        .returns::<Vec<QuotaDto>>(),
        user,
    )
    .add(
        Op::put(
            "/api/admin/users/{id}/quotas/{target}",
            "quotas",
            "Set a user's limit for a target",
            Access::perm("users.quotas:write", "global.users:id:{id}").global(),
        )
        .body::<LimitBody>()
        .returns::<Message>(),
        update_user,
    );
}

const ORG_TARGETS: &[&str] = &["org_user", "dashboard", "api_key"];
const USER_TARGETS: &[&str] = &["org_user"];

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

/// The configured default for a target of a scope.
fn default_limit(app: &AppState, scope: QuotaScope, target: &str) -> i64 {
    let q = &app.config.quota;
    match (scope, target) {
        (QuotaScope::Org(_), "org_user") => q.org_user,
        (QuotaScope::Org(_), "dashboard") => q.org_dashboard,
        (QuotaScope::Org(_), "api_key") => q.org_api_key,
        (QuotaScope::User(_), "org_user") => q.user_org,
        _ => -1,
    }
}

/// The limit in force: the stored one, else the configured default.
async fn limit_of(app: &AppState, scope: QuotaScope, target: &str) -> ApiResult<i64> {
    Ok(match app.store.quota_limit(scope, target).await? {
        Some(limit) => limit,
        None => default_limit(app, scope, target),
    })
}

async fn used(app: &AppState, scope: QuotaScope, target: &str) -> ApiResult<i64> {
    Ok(match (scope, target) {
        (QuotaScope::Org(org), "org_user") => app.store.count_org_members(org).await?,
        (QuotaScope::Org(org), "dashboard") => app.store.count_dashboards(Some(org)).await?,
        (QuotaScope::Org(org), "api_key") => app.store.count_legacy_api_keys(Some(org)).await?,
        (QuotaScope::User(user), "org_user") => app.store.count_user_orgs(user).await?,
        _ => 0,
    })
}

fn targets_of(scope: QuotaScope) -> &'static [&'static str] {
    match scope {
        QuotaScope::Org(_) => ORG_TARGETS,
        QuotaScope::User(_) => USER_TARGETS,
    }
}

/// Whether `scope`'s limit for `target` is reached.
async fn over(app: &AppState, scope: QuotaScope, target: &str) -> ApiResult<bool> {
    Ok(reached(
        limit_of(app, scope, target).await?,
        used(app, scope, target).await?,
    ))
}

/// The quotas of `scope`; the caller has checked that quotas are on.
async fn list(app: &AppState, scope: QuotaScope) -> ApiResult<Json<Vec<QuotaDto>>> {
    let targets = targets_of(scope);
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
            limit: limit_of(app, scope, target).await?,
            used: used(app, scope, target).await?,
        });
    }
    Ok(Json(out))
}

/// Sets a limit of `scope`; the caller has checked that quotas are on.
async fn set(app: &AppState, scope: QuotaScope, target: &str, limit: i64) -> ApiResult<()> {
    if !targets_of(scope).contains(&target) {
        // Grafana answers a 500 (`quota.invalid-target-table`); an unknown target is the
        // client's mistake, so a 400 with the same message id.
        return Err(ApiError::coded(
            StatusCode::BAD_REQUEST,
            "Invalid quota target",
            "quota.invalid-target-table",
        ));
    }
    app.store
        .set_quota_limit(scope, target, limit, app.now())
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

/// Grafana's limit rule: below 0 none, 0 always reached, else reached at `used >= limit`.
fn reached(limit: i64, used: i64) -> bool {
    limit >= 0 && used >= limit
}

/// Grafana's quota middleware answer: 403 "<service> Quota reached".
fn quota_reached(service: &str) -> ApiError {
    ApiError::Forbidden(format!("{service} Quota reached"))
}

/// A global limit (-1: none) against a count taken only when there is a limit.
async fn global_over<F>(limit: i64, count: F) -> ApiResult<bool>
where
    F: std::future::Future<Output = Result<i64, crate::store::StoreError>>,
{
    Ok(limit >= 0 && reached(limit, count.await?))
}

/// Before a dashboard is created: whether the org's or the global dashboard limit is reached.
pub(super) async fn dashboards_reached(app: &AppState, org_id: i64) -> ApiResult<bool> {
    let q = &app.config.quota;
    Ok(q.enabled
        && (over(app, QuotaScope::Org(org_id), "dashboard").await?
            || global_over(q.global_dashboard, app.store.count_dashboards(None)).await?))
}

/// Before a user is created: `global_user` ("user Quota reached").
pub(super) async fn check_users(app: &AppState) -> ApiResult<()> {
    let q = &app.config.quota;
    if q.enabled && global_over(q.global_user, app.store.count_users()).await? {
        return Err(quota_reached("user"));
    }
    Ok(())
}

/// Before an org is created by `user_id`: `global_org` and the creator's `user_org`
/// ("org Quota reached").
pub(super) async fn check_orgs(app: &AppState, user_id: i64) -> ApiResult<()> {
    let q = &app.config.quota;
    if q.enabled
        && (global_over(q.global_org, app.store.count_orgs()).await?
            || over(app, QuotaScope::User(user_id), "org_user").await?)
    {
        return Err(quota_reached("org"));
    }
    Ok(())
}

/// Before `user_id` joins `org_id`: the org's `org_user` and the user's `user_org`
/// ("org Quota reached").
pub(super) async fn check_membership(app: &AppState, org_id: i64, user_id: i64) -> ApiResult<()> {
    if app.config.quota.enabled
        && (over(app, QuotaScope::Org(org_id), "org_user").await?
            || over(app, QuotaScope::User(user_id), "org_user").await?)
    {
        return Err(quota_reached("org"));
    }
    Ok(())
}
