//! Server settings, statistics and the usage report (`/api/admin/settings`, `/api/admin/stats`,
//! Grafana's `pkg/api/admin.go`; `/api/admin/usage-report-preview`,
//! `pkg/infra/usagestats/service/api.go`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use chrono::{Datelike, TimeZone, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use super::{Op, Routes};
use crate::auth::{actions, Access};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{DbTime, Stats, StatsWindows};

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
    )
    .add(
        Op::get(
            "/api/admin/usage-report-preview",
            "admin",
            "The anonymous usage report Grafana would send",
            Access::action(actions::SERVER_STATS_REPORT_READ),
        )
        .returns::<UsageReport>(),
        usage_report_preview,
    );
}

/// Grafana's `setting.RedactedPassword`.
const REDACTED: &str = "*********";

/// What Go's `url.URL.Redacted` puts in place of a URL's password.
const URL_PASSWORD_REDACTED: &str = "xxxxx";

/// Whether Grafana's `setting.RedactedValue` (pkg/setting/setting.go) hides a value by its name.
/// The settings endpoint passes it the environment-variable name of the key
/// (`GF_<SECTION>_<KEY>`, pkg/setting/provider.go), so the section name counts too, and the
/// patterns anchored at the end (`…TOKEN$`) only match names that end there:
/// `token_rotation_interval_minutes` and `api_key_max_seconds_to_live` are shown. This is a
/// narrower list than [`crate::config::is_secret_name`], which decides what `Debug` hides.
fn grafana_redacts_name(env_name: &str) -> bool {
    let name = env_name.to_uppercase();
    const CONTAINS: &[&str] = &[
        "PASSWORD",
        "SECRET",
        "PROVIDER_CONFIG",
        "PRIVATE_KEY",
        "CERTIFICATE",
        "ACCOUNT_KEY",
        "ENCRYPTION_KEY",
        "VAULT_TOKEN",
        "ENTERPRISE_LICENSE",
        "API_DB_PASS",
    ];
    const ENDS_WITH: &[&str] = &[
        "ID_FORWARDING_TOKEN",
        "AUTHENTICATION_TOKEN",
        "AUTH_TOKEN",
        "RENDERER_TOKEN",
        "API_TOKEN",
        "WEBHOOK_TOKEN",
        "INSTALL_TOKEN",
    ];
    // Grafana's list also has `^TOKEN$`, which a `GF_…` name never matches.
    CONTAINS.iter().any(|p| name.contains(p)) || ENDS_WITH.iter().any(|p| name.ends_with(p))
}

/// A value as Grafana's `RedactedURL` shows it: each URL in it (a value may list several,
/// separated by commas or spaces) with its password replaced. A value without a password in
/// it is returned as it is. (Grafana also re-joins every value it can parse as URLs with single
/// separators; this server keeps such values untouched.)
fn redact_urls(value: &str) -> String {
    let chunks: Vec<&str> = value
        .split([',', ' ', '\t', '\n'])
        .filter(|c| !c.is_empty())
        .collect();
    let redacted: Vec<Option<String>> = chunks.iter().map(|c| redact_url(c)).collect();
    if redacted.iter().all(Option::is_none) {
        return value.to_string();
    }
    let parts: Vec<String> = chunks
        .iter()
        .zip(redacted)
        .map(|(c, r)| r.unwrap_or_else(|| c.to_string()))
        .collect();
    parts.join(if value.contains(',') { "," } else { " " })
}

/// One URL with its password replaced, or `None` when it has no password. Like Grafana, a
/// chunk without `://` is read as if it began with `http://` (so `user:pw@host` is a URL too).
fn redact_url(chunk: &str) -> Option<String> {
    let (scheme, rest) = chunk.split_once("://").unwrap_or(("", chunk));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host) = authority.rsplit_once('@')?;
    let (user, _password) = userinfo.split_once(':')?;
    let prefix = if scheme.is_empty() {
        String::new()
    } else {
        format!("{scheme}://")
    };
    Some(format!(
        "{prefix}{user}:{URL_PASSWORD_REDACTED}@{host}{tail}"
    ))
}

/// A setting as `GET /api/admin/settings` shows it (Grafana's `RedactedValue`).
fn redact(section: &str, key: &str, value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    let name = crate::config::env_name(section, key);
    if grafana_redacts_name(&name) {
        return REDACTED.to_string();
    }
    // Grafana leaves these alone: their values are keys and URLs meant to be public.
    let upper = name.to_uppercase();
    if ["RUDDERSTACK", "APPLICATION_INSIGHTS", "SENTRY"]
        .iter()
        .any(|e| upper.contains(e))
    {
        return value.to_string();
    }
    redact_urls(value)
}

async fn settings(State(app): State<AppState>) -> Json<BTreeMap<String, BTreeMap<String, String>>> {
    let out = app
        .config
        .raw
        .iter()
        .map(|(section, keys)| {
            let keys = keys
                .iter()
                .map(|(k, v)| (k.clone(), redact(section, k, v)))
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

/// The moments the stats count from (Grafana's `activeUserTimeLimit`, `dailyActiveUserTimeLimit`
/// and the first day of the month; Grafana takes the month in the server's time zone, this
/// server in UTC).
fn stats_windows(app: &AppState) -> StatsWindows {
    let now = app.clock.now();
    let month_start = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    StatsWindows {
        month_ago: DbTime::from_utc(now - chrono::Duration::days(30)),
        day_ago: DbTime::from_utc(now - chrono::Duration::days(1)),
        month_start: DbTime::from_utc(month_start),
    }
}

async fn stats(State(app): State<AppState>) -> ApiResult<Json<AdminStats>> {
    let counted = app
        .store
        .stats(stats_windows(&app))
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get admin stats from database"))?;
    Ok(Json(AdminStats {
        counted,
        ..Default::default()
    }))
}

/// Grafana's `usagestats.Report` (pkg/infra/usagestats/service.go).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageReport {
    /// The Grafana version this server is compatible with, dots as underscores (`12_0_0`).
    pub version: String,
    /// `stats.…` counters, as Grafana's collectors name them.
    pub metrics: BTreeMap<String, i64>,
    /// Go's names: `linux`, `darwin`, `windows` …
    pub os: String,
    /// Go's names: `amd64`, `arm64` …
    pub arch: String,
    pub edition: String,
    pub has_valid_license: bool,
    pub packaging: String,
    pub usage_stats_id: String,
}

/// What Grafana reports when its build sets no packaging (`setting.Packaging`).
const PACKAGING: &str = "unknown";

/// Rust's architecture name as Go's `runtime.GOARCH` spells it.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// `GET /api/admin/usage-report-preview`: the report Grafana's usage stats service would send,
/// built from the same counts as Grafana's collectors
/// (pkg/infra/usagestats/statscollector/service.go). Counters of things this server does not
/// hold (data sources, playlists, alert rules, plugins, annotations …) are 0.
async fn usage_report_preview(State(app): State<AppState>) -> ApiResult<Json<UsageReport>> {
    let failed = |e| ApiError::from(e).context("failed to get usage report");
    let stats = app.store.stats(stats_windows(&app)).await.map_err(failed)?;
    let usage = app.store.usage_counts().await.map_err(failed)?;
    let fresh = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let usage_stats_id = app
        .store
        .usage_stats_id(&fresh.to_string(), app.now())
        .await
        .map_err(failed)?;
    let r = &stats.roles;
    let avg_tokens = if stats.users == 0 {
        usage.auth_tokens
    } else {
        usage.auth_tokens / stats.users
    };
    let distributor = app
        .config
        .raw
        .get("analytics")
        .and_then(|s| s.get("reporting_distributor"))
        .filter(|d| !d.is_empty())
        .map_or("grafana-labs", String::as_str);
    let uptime = (app.clock.now() - app.started).num_seconds().max(0);
    let counted: &[(&str, i64)] = &[
        ("stats.dashboards.count", stats.dashboards),
        ("stats.users.count", stats.users),
        ("stats.admins.count", r.admins),
        ("stats.editors.count", r.editors),
        ("stats.viewers.count", r.viewers),
        ("stats.orgs.count", stats.orgs),
        ("stats.active_users.count", stats.active_users),
        ("stats.active_admins.count", r.active_admins),
        ("stats.active_editors.count", r.active_editors),
        ("stats.active_viewers.count", r.active_viewers),
        ("stats.active_sessions.count", stats.active_sessions),
        (
            "stats.monthly_active_users.count",
            stats.monthly_active_users,
        ),
        ("stats.daily_active_users.count", stats.daily_active_users),
        ("stats.daily_active_admins.count", r.daily_active_admins),
        ("stats.daily_active_editors.count", r.daily_active_editors),
        ("stats.daily_active_viewers.count", r.daily_active_viewers),
        (
            "stats.daily_active_sessions.count",
            stats.daily_active_sessions,
        ),
        ("stats.stars.count", stats.stars),
        ("stats.folders.count", usage.folders),
        (
            "stats.provisioned_dashboards.count",
            usage.provisioned_dashboards,
        ),
        ("stats.teams.count", stats.teams),
        ("stats.total_auth_token.count", usage.auth_tokens),
        ("stats.avg_auth_token_per_user.count", avg_tokens),
        ("stats.api_keys.count", usage.api_keys),
        ("stats.serviceaccounts.count", usage.service_accounts),
        (
            "stats.serviceaccounts.tokens.count",
            usage.service_account_tokens,
        ),
        (
            "stats.serviceaccounts.in_teams.count",
            usage.service_accounts_in_teams,
        ),
        ("stats.auth_token_per_user_le_3", usage.sessions_le_3),
        ("stats.auth_token_per_user_le_6", usage.sessions_le_6),
        ("stats.auth_token_per_user_le_9", usage.sessions_le_9),
        ("stats.auth_token_per_user_le_12", usage.sessions_le_12),
        ("stats.auth_token_per_user_le_15", usage.sessions_le_15),
        ("stats.auth_token_per_user_le_inf", usage.sessions_le_inf),
        (
            "stats.auth_enabled.basic_auth.count",
            i64::from(app.config.auth_basic.enabled),
        ),
        // Sign-in methods this server does not offer.
        ("stats.auth_enabled.anonymous.count", 0),
        ("stats.auth_enabled.ldap.count", 0),
        ("stats.auth_enabled.auth_proxy.count", 0),
        // Held by Grafana's other services, not by this server.
        ("stats.playlist.count", 0),
        ("stats.alerts.count", 0),
        ("stats.alert_rules.count", 0),
        ("stats.datasources.count", 0),
        ("stats.snapshots.count", 0),
        ("stats.annotations.count", 0),
        ("stats.dashboard_versions.count", 0),
        ("stats.library_panels.count", 0),
        ("stats.library_variables.count", 0),
        ("stats.plugins.apps.count", 0),
        ("stats.plugins.panels.count", 0),
        ("stats.plugins.datasources.count", 0),
        ("stats.ds.other.count", 0),
        ("stats.edition.oss.count", 1),
        ("stats.edition.enterprise.count", 0),
        ("stats.valid_license.count", 0),
        ("stats.uptime", uptime),
    ];
    let mut metrics: BTreeMap<String, i64> =
        counted.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    metrics.insert(format!("stats.packaging.{PACKAGING}.count"), 1);
    metrics.insert(format!("stats.distributor.{distributor}.count"), 1);
    Ok(Json(UsageReport {
        version: super::health::GRAFANA_COMPAT_VERSION.replace('.', "_"),
        metrics,
        os: std::env::consts::OS.to_string(),
        arch: go_arch().to_string(),
        edition: "oss".into(),
        has_valid_license: false,
        packaging: PACKAGING.into(),
        usage_stats_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_url_passwords_are_redacted_by_grafanas_rules() {
        assert_eq!(redact("security", "admin_password", "admin"), REDACTED);
        assert_eq!(redact("security", "secret_key", "abc"), REDACTED);
        assert_eq!(redact("auth.generic_oauth", "client_secret", "x"), REDACTED);
        assert_eq!(redact("rendering", "renderer_token", "x"), REDACTED);
        assert_eq!(
            redact("database", "url", "postgres://u:pw@h/db"),
            "postgres://u:xxxxx@h/db"
        );
        assert_eq!(
            redact("live", "ha_engine_address", "a:1@h1:6379, b:2@h2:6379"),
            "a:xxxxx@h1:6379,b:xxxxx@h2:6379"
        );
        assert_eq!(redact("server", "http_port", "3000"), "3000");
        assert_eq!(
            redact("auth", "token_rotation_interval_minutes", "10"),
            "10"
        );
        assert_eq!(redact("auth", "api_key_max_seconds_to_live", "-1"), "-1");
        assert_eq!(redact("quota", "org_api_key", "10"), "10");
        assert_eq!(
            redact("date_formats", "full_date", "YYYY-MM-DD HH:mm:ss"),
            "YYYY-MM-DD HH:mm:ss"
        );
        assert_eq!(redact("database", "password", ""), "");
        assert_eq!(
            redact(
                "analytics",
                "rudderstack_data_plane_url",
                "https://k:v@r.example"
            ),
            "https://k:v@r.example"
        );
    }
}
