//! Server settings and statistics (`/api/admin/settings`, `/api/admin/stats`, Grafana's
//! `pkg/api/admin.go`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

use super::{Op, Routes};
use crate::auth::{actions, Access};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{DbTime, Stats};

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/admin/settings",
            "admin",
            "Server settings (secrets redacted)",
            Access::perm(actions::SETTINGS_READ, "settings:*"),
        )
        .returns::<BTreeMap<String, BTreeMap<String, String>>>(),
        settings,
    )
    .add(
        Op::get(
            "/api/admin/stats",
            "admin",
            "Server statistics",
            Access::action(actions::SERVER_STATS_READ),
        )
        .returns::<AdminStats>(),
        stats,
    );
}

/// Grafana's `setting.RedactedPassword`.
const REDACTED: &str = "*********";

/// A URL with its password replaced (Grafana's `RedactedURL`).
fn redact_url(value: &str) -> String {
    if let Some((scheme, rest)) = value.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:{REDACTED}@{host}");
            }
        }
    }
    value.to_string()
}

fn redact(key: &str, value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    if crate::config::is_secret_name(key) {
        REDACTED.to_string()
    } else if key.to_lowercase().contains("url") {
        redact_url(value)
    } else {
        value.to_string()
    }
}

async fn settings(State(app): State<AppState>) -> Json<BTreeMap<String, BTreeMap<String, String>>> {
    let out = app
        .config
        .raw
        .iter()
        .map(|(section, keys)| {
            let keys = keys
                .iter()
                .map(|(k, v)| (k.clone(), redact(k, v)))
                .collect();
            (section.clone(), keys)
        })
        .collect();
    Json(out)
}

/// Grafana's `stats.AdminStats`: what the store counts, and zero for what this server does not
/// hold (snapshots, data sources, playlists, alerts).
#[derive(Debug, Serialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct AdminStats {
    #[serde(flatten)]
    pub counted: Stats,
    pub snapshots: i64,
    pub datasources: i64,
    pub playlists: i64,
    pub alerts: i64,
}

async fn stats(State(app): State<AppState>) -> ApiResult<Json<AdminStats>> {
    let now = app.clock.now();
    let at = |days: i64| DbTime::from_utc(now - chrono::Duration::days(days));
    let counted = app
        .store
        .stats(DbTime::from_utc(now), at(30), at(1), at(30))
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get admin stats from database"))?;
    Ok(Json(AdminStats {
        counted,
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_url_passwords_are_redacted() {
        assert_eq!(redact("admin_password", "admin"), REDACTED);
        assert_eq!(redact("secret_key", "abc"), REDACTED);
        assert_eq!(
            redact("url", "postgres://u:pw@h/db"),
            "postgres://u:*********@h/db"
        );
        assert_eq!(redact("http_port", "3000"), "3000");
        assert_eq!(redact("password", ""), "");
    }
}
