//! `GET /api/frontend/settings`: what Grafana's web app reads at start-up, and where client
//! libraries (grafana-client's `connect()`) read the server version, `buildInfo.version`
//! (Grafana's `pkg/api/frontendsettings.go`, `pkg/api/dtos/frontend_settings.go`).
//!
//! Every value comes from the configuration or from what this server is: it holds no plugins,
//! data sources or apps, and has no LDAP, auth proxy, JWT, OAuth, SAML or anonymous sign-in, so
//! those read as off and empty whatever grafana.ini says about them.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::health::{build_commit, GRAFANA_COMPAT_VERSION};
use super::{Op, Routes};
use crate::auth::{Access, Caller};
use crate::state::AppState;

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/frontend/settings",
            "frontend",
            "Settings the web app and client libraries read (version, sign-in options, toggles)",
            Access::SignedIn,
        )
        .returns::<FrontendSettings>(),
        settings,
    );
}

/// Grafana's `FrontendSettingsBuildInfoDTO`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuildInfo {
    pub hide_version: bool,
    /// The Grafana API level, as `/api/health` reports it.
    pub version: String,
    pub version_string: String,
    pub commit: String,
    pub commit_short: String,
    /// Unix seconds of the build; 0: not recorded.
    pub buildstamp: i64,
    pub edition: String,
    pub latest_version: String,
    pub has_update: bool,
    pub env: String,
}

/// Grafana's `FrontendSettingsLicenseInfoDTO`, as the open-source edition fills it.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LicenseInfo {
    pub expiry: i64,
    pub state_info: String,
    pub license_url: String,
    pub edition: String,
    pub enabled_features: BTreeMap<String, bool>,
}

/// Grafana's `FrontendSettingsAuthDTO` (its deprecated `…SkipOrgRoleSync` flags left out).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthSettings {
    #[serde(rename = "AuthProxyEnableLoginToken")]
    pub auth_proxy_enable_login_token: bool,
    pub disable_login: bool,
    pub basic_auth_strong_password_policy: bool,
    pub passwordless_enabled: bool,
    pub disable_signout_menu: bool,
}

/// Grafana's `FrontendSettingsDTO`: the fields that describe this server.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FrontendSettings {
    pub default_datasource: String,
    /// Data sources by name: none here.
    pub datasources: BTreeMap<String, Value>,
    pub min_refresh_interval: String,
    /// Panel plugins by id: none here.
    pub panels: BTreeMap<String, Value>,
    /// App plugins by id: none here.
    pub apps: BTreeMap<String, Value>,
    pub app_url: String,
    pub app_sub_url: String,
    pub allow_org_create: bool,
    pub auth_proxy_enabled: bool,
    pub ldap_enabled: bool,
    pub jwt_header_name: String,
    pub jwt_url_login: bool,
    pub live_enabled: bool,
    pub auto_assign_org: bool,
    pub verify_email_enabled: bool,
    pub rbac_enabled: bool,
    pub explore_enabled: bool,
    pub help_enabled: bool,
    pub profile_enabled: bool,
    pub news_feed_enabled: bool,
    pub query_history_enabled: bool,
    pub disable_login_form: bool,
    pub disable_user_sign_up: bool,
    pub login_hint: String,
    pub password_hint: String,
    pub viewers_can_edit: bool,
    pub editors_can_admin: bool,
    pub auth: AuthSettings,
    pub build_info: BuildInfo,
    pub license_info: LicenseInfo,
    pub feature_toggles: BTreeMap<String, bool>,
    pub anonymous_enabled: bool,
    pub anonymous_device_limit: i64,
    pub renderer_available: bool,
    pub plugin_admin_enabled: bool,
    pub expressions_enabled: bool,
    pub snapshot_enabled: bool,
    pub public_dashboards_enabled: bool,
    pub unified_alerting_enabled: bool,
    /// Enabled OAuth providers by key (`{name, icon}`): none here.
    pub oauth: BTreeMap<String, Value>,
    pub saml_enabled: bool,
    pub saml_name: String,
    /// `[service_accounts] token_expiration_day_limit`; -1: no limit.
    pub token_expiration_day_limit: i64,
    pub shared_with_me_folder_uid: String,
    #[serde(rename = "rootFolderUID")]
    pub root_folder_uid: String,
    /// The Kubernetes-style namespace of the request's org.
    pub namespace: String,
}

/// Grafana's `setting.ApplicationName` in the open-source build.
const APPLICATION_NAME: &str = "Grafana";

/// Grafana's `getShortCommitHash(commit, 10)`.
fn short_commit(commit: &str) -> String {
    // Grafana cuts a git hash to 10 characters; Usher's commit is a name (`usher-0.1.0`),
    // which is kept whole rather than cut mid-version.
    if commit.chars().all(|c| c.is_ascii_hexdigit()) {
        commit.chars().take(10).collect()
    } else {
        commit.to_string()
    }
}

/// `root_url` as Grafana's `parseAppUrlAndSubUrl` reads it: the URL with one trailing slash, and
/// its path without one (`""` at the root).
fn app_urls(root_url: &str) -> (String, String) {
    let app_url = format!("{}/", root_url.trim_end_matches('/'));
    let path = root_url
        .split_once("://")
        .map_or(root_url, |(_, rest)| rest)
        .split_once('/')
        .map_or("", |(_, path)| path);
    let sub_url = match path.trim_end_matches('/') {
        "" => String::new(),
        p => format!("/{p}"),
    };
    (app_url, sub_url)
}

/// Grafana's OSS namespacer (`pkg/services/apiserver/endpoints/request/namespace.go`): org 1 is
/// `default`, others `org-<id>`.
fn namespace(org_id: i64) -> String {
    if org_id == 1 {
        "default".into()
    } else {
        format!("org-{org_id}")
    }
}

async fn settings(caller: Caller, State(app): State<AppState>) -> Json<FrontendSettings> {
    let cfg = &app.config;
    let commit = build_commit();
    let commit_short = short_commit(&commit);
    let version = GRAFANA_COMPAT_VERSION.to_string();
    let (app_url, app_sub_url) = app_urls(&cfg.server.root_url);
    let mut feature_toggles = cfg.frontend.feature_toggles.clone();
    // Grafana always adds it, for plugins that still read it.
    feature_toggles.insert("topnav".into(), true);
    Json(FrontendSettings {
        // Grafana's built-in data source, the default when no data source is.
        default_datasource: "-- Grafana --".into(),
        datasources: BTreeMap::new(),
        min_refresh_interval: cfg.frontend.min_refresh_interval.clone(),
        panels: BTreeMap::new(),
        apps: BTreeMap::new(),
        app_url,
        app_sub_url,
        // Every caller here is signed in.
        allow_org_create: cfg.users.allow_org_create || caller.is_server_admin(),
        auth_proxy_enabled: false,
        ldap_enabled: false,
        jwt_header_name: String::new(),
        jwt_url_login: false,
        live_enabled: false,
        auto_assign_org: cfg.users.auto_assign_org,
        // No e-mail is sent, so none is verified.
        verify_email_enabled: false,
        rbac_enabled: true,
        explore_enabled: false,
        help_enabled: false,
        profile_enabled: true,
        news_feed_enabled: false,
        query_history_enabled: false,
        disable_login_form: cfg.auth.disable_login_form,
        disable_user_sign_up: !cfg.users.allow_sign_up,
        login_hint: cfg.frontend.login_hint.clone(),
        password_hint: cfg.frontend.password_hint.clone(),
        viewers_can_edit: cfg.frontend.viewers_can_edit,
        // Grafana 12 no longer reads `editors_can_admin`; the field stays false.
        editors_can_admin: false,
        auth: AuthSettings {
            auth_proxy_enable_login_token: false,
            // Grafana's `[auth] disable_login` hides sign-in for external providers only.
            disable_login: false,
            basic_auth_strong_password_policy: cfg.auth_basic.password_policy,
            passwordless_enabled: false,
            disable_signout_menu: false,
        },
        build_info: BuildInfo {
            // Grafana hides it from anonymous callers only; every caller here is signed in.
            hide_version: false,
            version_string: format!("{APPLICATION_NAME} v{version} ({commit_short})"),
            version,
            commit,
            commit_short,
            buildstamp: 0,
            edition: "Open Source".into(),
            // No update check is made (Grafana's `check_for_updates` off).
            latest_version: String::new(),
            has_update: false,
            env: cfg.frontend.app_mode.clone(),
        },
        license_info: LicenseInfo {
            expiry: 0,
            state_info: String::new(),
            license_url: String::new(),
            edition: "Open Source".into(),
            enabled_features: BTreeMap::new(),
        },
        feature_toggles,
        anonymous_enabled: false,
        anonymous_device_limit: 0,
        renderer_available: false,
        plugin_admin_enabled: false,
        expressions_enabled: false,
        snapshot_enabled: false,
        public_dashboards_enabled: false,
        unified_alerting_enabled: false,
        oauth: BTreeMap::new(),
        saml_enabled: false,
        saml_name: String::new(),
        token_expiration_day_limit: cfg.auth.token_expiration_day_limit.unwrap_or(-1),
        // Grafana's `folder.SharedWithMeFolderUID` and `accesscontrol.GeneralFolderUID`.
        shared_with_me_folder_uid: "sharedwithme".into(),
        root_folder_uid: "general".into(),
        namespace: namespace(caller.org_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_url_gives_app_url_and_sub_path() {
        assert_eq!(
            app_urls("http://localhost:3000/"),
            ("http://localhost:3000/".into(), String::new())
        );
        assert_eq!(
            app_urls("https://example.com/grafana"),
            ("https://example.com/grafana/".into(), "/grafana".into())
        );
    }

    #[test]
    fn commits_are_cut_to_ten_characters() {
        assert_eq!(short_commit("0123456789abcdef"), "0123456789");
        assert_eq!(short_commit("abc"), "abc");
        assert_eq!(short_commit("usher-0.1.0"), "usher-0.1.0");
    }
}
