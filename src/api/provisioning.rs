//! Provisioning reloads (`POST /api/admin/provisioning/:kind/reload`, Grafana's
//! `pkg/api/admin_provisioning.go`). Dashboards are re-read and saved before the answer; kinds
//! this server does not hold answer a 404 saying so rather than a pretended success.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::dto::Message;
use super::{Op, Routes};
use crate::auth::{actions, Access};
use crate::error::{ApiError, ApiResult};
use crate::provisioning;
use crate::state::AppState;

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::post(
            "/api/admin/provisioning/dashboards/reload",
            "admin",
            "Re-read the dashboard provisioning files; answers once the database holds them",
            Access::perm(actions::PROVISIONING_RELOAD, "provisioners:dashboards").global(),
        )
        .returns::<Message>(),
        dashboards,
    );
    r.add(
        Op::post(
            "/api/admin/provisioning/users/reload",
            "admin",
            "Re-read the user, org and team files (Usher's own); answers once applied",
            Access::perm(actions::PROVISIONING_RELOAD, "provisioners:users").global(),
        )
        .returns::<Message>(),
        users,
    );
    for (path, scope, summary) in [
        (
            "/api/admin/provisioning/datasources/reload",
            "provisioners:datasources",
            "Not held here: data sources (404)",
        ),
        (
            "/api/admin/provisioning/plugins/reload",
            "provisioners:plugins",
            "Not held here: plugins (404)",
        ),
        (
            "/api/admin/provisioning/alerting/reload",
            "provisioners:alerting",
            "Not held here: alerting (404)",
        ),
        (
            "/api/admin/provisioning/notifications/reload",
            "provisioners:notifications",
            "Not held here: notification channels (404)",
        ),
    ] {
        r.add(
            Op::post(
                path,
                "admin",
                summary,
                Access::perm(actions::PROVISIONING_RELOAD, scope).global(),
            )
            .returns::<Message>(),
            not_held,
        );
    }
}

async fn dashboards(State(app): State<AppState>) -> ApiResult<Response> {
    let outcome = match provisioning::reload_dashboards(&app).await {
        Ok(outcome) => outcome,
        Err(p) if p.file.is_none() => {
            return Err(ApiError::internal(
                "Failed to reload dashboards config",
                anyhow::anyhow!(p.message),
            ))
        }
        // A provider file that does not parse: nothing changed.
        Err(p) => {
            return Ok((
                StatusCode::BAD_REQUEST,
                Json(json!({"message": format!("Dashboards config not reloaded: {p}")})),
            )
                .into_response())
        }
    };
    if outcome.problems.is_empty() {
        return Ok(Json(json!({"message": "Dashboards config reloaded"})).into_response());
    }
    let errors: Vec<String> = outcome.problems.iter().map(ToString::to_string).collect();
    Ok((
        StatusCode::BAD_REQUEST,
        Json(json!({
            "message": format!("Dashboards config reloaded with errors: {}", errors.join("; ")),
            "errors": errors,
        })),
    )
        .into_response())
}

async fn users(State(app): State<AppState>) -> ApiResult<Response> {
    match provisioning::reload_users(&app).await {
        Ok(_) => Ok(Json(json!({"message": "Users config reloaded"})).into_response()),
        Err(p) if p.file.is_none() => Err(ApiError::internal(
            "Failed to reload users config",
            anyhow::anyhow!(p.message),
        )),
        Err(p) => Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({"message": format!("Users config not reloaded: {p}")})),
        )
            .into_response()),
    }
}

async fn not_held(uri: axum::http::Uri) -> ApiError {
    let kind = uri
        .path()
        .trim_start_matches("/api/admin/provisioning/")
        .trim_end_matches("/reload");
    ApiError::not_found(format!(
        "This server does not provision {kind}: it holds no {kind}"
    ))
}
