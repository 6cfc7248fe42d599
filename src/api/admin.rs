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
use crate::store::DbTime;

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

fn is_secret_key(key: &str) -> bool {
    let key = key.to_lowercase();
    [
        "password",
        "secret",
        "provider_config",
        "private_key",
        "certificate",
        "account_key",
        "token",
        "api_key",
    ]
    .iter()
    .any(|s| key.contains(s))
}

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
    if is_secret_key(key) {
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

/// Grafana's `stats.AdminStats`. Objects this server does not hold yet (dashboards,
/// datasources, alerts …) count zero because there are none.
#[derive(Debug, Serialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct AdminStats {
    pub orgs: i64,
    pub dashboards: i64,
    pub snapshots: i64,
    pub tags: i64,
    pub datasources: i64,
    pub playlists: i64,
    pub stars: i64,
    pub alerts: i64,
    pub users: i64,
    pub admins: i64,
    pub editors: i64,
    pub viewers: i64,
    pub active_users: i64,
    pub active_admins: i64,
    pub active_editors: i64,
    pub active_viewers: i64,
    pub active_sessions: i64,
    pub daily_active_users: i64,
    pub daily_active_sessions: i64,
    pub monthly_active_users: i64,
    pub teams: i64,
    pub disabled_users: i64,
}

async fn stats(State(app): State<AppState>) -> ApiResult<Json<AdminStats>> {
    let now = app.clock.now();
    let at = |days: i64| DbTime::from_utc(now - chrono::Duration::days(days));
    let s = app
        .store
        .stats(DbTime::from_utc(now), at(30), at(1), at(30))
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get admin stats from database"))?;
    Ok(Json(AdminStats {
        orgs: s.orgs,
        stars: s.stars,
        users: s.users,
        admins: s.admins,
        editors: s.editors,
        viewers: s.viewers,
        active_users: s.active_users,
        active_admins: s.active_admins,
        active_editors: s.active_editors,
        active_viewers: s.active_viewers,
        active_sessions: s.active_sessions,
        daily_active_users: s.daily_active_users,
        daily_active_sessions: s.daily_active_sessions,
        monthly_active_users: s.monthly_active_users,
        teams: s.teams,
        disabled_users: s.disabled_users,
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
