//! Health endpoints: `/api/health` (with a database round trip, Grafana's shape) and `/healthz`
//! (liveness only).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

use super::{Op, Routes};
use crate::auth::Access;
use crate::state::AppState;

/// The Grafana API level this server answers for; clients such as `grafana-client` read
/// `version` to pick code paths.
pub const GRAFANA_COMPAT_VERSION: &str = "12.0.0";

/// The build this server reports as its commit, in `/api/health` and the frontend settings'
/// `buildInfo`, so that the two agree.
pub fn build_commit() -> String {
    format!("usher-{}", env!("CARGO_PKG_VERSION"))
}

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/health",
            "health",
            "Health with a database check",
            Access::Public,
        )
        .returns::<Health>(),
        health,
    )
    .add(
        Op::get(
            "/healthz",
            "health",
            "Liveness (no database)",
            Access::Public,
        ),
        liveness,
    );
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Health {
    pub commit: String,
    pub database: String,
    pub version: String,
}

async fn health(State(app): State<AppState>) -> impl IntoResponse {
    let ok = app.store.ping().await.is_ok();
    let body = Health {
        commit: build_commit(),
        database: if ok { "ok" } else { "failing" }.into(),
        version: GRAFANA_COMPAT_VERSION.into(),
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

async fn liveness() -> &'static str {
    "Ok"
}
