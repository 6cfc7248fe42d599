//! What Grafana's web app and client libraries read at start-up: `GET /api/frontend/settings`
//! (Grafana's `pkg/api/frontendsettings.go`, DTO in `pkg/api/dtos/frontend_settings.go`) and the
//! data-source list `GET /api/datasources` (`pkg/api/datasources.go`). Both sit in Grafana's
//! `/api` group behind `reqSignedIn` (`pkg/api/api.go`): an unauthenticated request is a 401.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::{assert_message, each_backend, each_backend_with};

#[tokio::test]
async fn frontend_settings_report_the_version_health_reports_and_the_configuration() {
    each_backend(|app| async move {
        let health = app.anonymous().get("/api/health").await.json;
        let res = app.admin().get("/api/frontend/settings").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let s = &res.json;

        // grafana-client's `connect()` reads `buildInfo.version`: the same as /api/health.
        let build = &s["buildInfo"];
        assert_eq!(build["version"], health["version"], "{build}");
        assert_eq!(build["commit"], health["commit"], "{build}");
        // Grafana's getShortCommitHash(commit, 10) cuts a git hash; Usher's commit is a name
        // (`usher-<version>`), kept whole. Then `<app> v<version> (<commitShort>)`.
        let commit = health["commit"].as_str().unwrap();
        let short: String = if commit.chars().all(|c| c.is_ascii_hexdigit()) {
            commit.chars().take(10).collect()
        } else {
            commit.to_string()
        };
        assert_eq!(build["commitShort"], short.as_str());
        assert_eq!(
            build["versionString"],
            format!("Grafana v{} ({short})", health["version"].as_str().unwrap())
        );
        assert_eq!(build["edition"], "Open Source");
        assert_eq!(build["env"], "production");
        assert_eq!(build["latestVersion"], "");
        assert_eq!(build["hasUpdate"], false);
        assert_eq!(build["hideVersion"], false);
        assert!(build["buildstamp"].is_i64(), "{build}");

        // Grafana's defaults.ini, as this server reads it.
        assert_eq!(s["appUrl"], "http://localhost:3000/");
        assert_eq!(s["appSubUrl"], "");
        assert_eq!(s["disableLoginForm"], false);
        assert_eq!(
            s["disableUserSignUp"], true,
            "[users] allow_sign_up = false"
        );
        assert_eq!(s["loginHint"], "email or username");
        assert_eq!(s["passwordHint"], "password");
        assert_eq!(s["autoAssignOrg"], true);
        assert_eq!(s["viewersCanEdit"], false);
        assert_eq!(s["editorsCanAdmin"], false);
        assert_eq!(s["minRefreshInterval"], "5s");
        assert_eq!(s["tokenExpirationDayLimit"], -1);
        // The server admin may create orgs whatever allow_org_create says.
        assert_eq!(s["allowOrgCreate"], true);
        assert_eq!(s["rbacEnabled"], true);
        assert_eq!(s["namespace"], "default", "org 1 in Grafana OSS");

        // What this server does not have reads as off and empty, with Grafana's JSON types.
        for key in [
            "authProxyEnabled",
            "ldapEnabled",
            "anonymousEnabled",
            "verifyEmailEnabled",
            "samlEnabled",
        ] {
            assert_eq!(s[key], false, "{key}");
        }
        assert_eq!(s["jwtHeaderName"], "");
        for key in ["oauth", "datasources", "panels", "apps"] {
            assert_eq!(s[key], json!({}), "{key} is an empty object");
        }
        assert_eq!(s["defaultDatasource"], "-- Grafana --");
        // Grafana always reports `topnav`; nothing else is on by default here.
        assert_eq!(s["featureToggles"], json!({"topnav": true}));
        assert_eq!(s["auth"]["basicAuthStrongPasswordPolicy"], false);
        assert_eq!(s["licenseInfo"]["edition"], "Open Source");
    })
    .await;
}

#[tokio::test]
async fn frontend_settings_follow_grafana_ini_and_the_caller() {
    let extra = [
        ("server", "root_url", "https://example.com/grafana/"),
        ("users", "allow_sign_up", "true"),
        ("users", "login_hint", "your e-mail"),
        ("auth", "disable_login_form", "true"),
        ("auth.basic", "password_policy", "true"),
        ("dashboards", "min_refresh_interval", "1m"),
        ("feature_toggles", "enable", "alpha beta,gamma"),
        ("feature_toggles", "beta", "false"),
    ];
    each_backend_with(&extra, |app| async move {
        // A password the strong policy accepts.
        app.create_user("viv", "Viv-secret-2026!").await;
        let res = app
            .as_user("viv", "Viv-secret-2026!")
            .get("/api/frontend/settings")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let s = &res.json;
        assert_eq!(s["appUrl"], "https://example.com/grafana/");
        assert_eq!(s["appSubUrl"], "/grafana");
        assert_eq!(s["disableUserSignUp"], false);
        assert_eq!(s["loginHint"], "your e-mail");
        assert_eq!(s["disableLoginForm"], true);
        assert_eq!(s["auth"]["basicAuthStrongPasswordPolicy"], true);
        assert_eq!(s["minRefreshInterval"], "1m");
        assert_eq!(
            s["featureToggles"],
            json!({"alpha": true, "beta": false, "gamma": true, "topnav": true})
        );
        // `(allow_org_create && signed in) || server admin`: neither for a Viewer by default.
        assert_eq!(s["allowOrgCreate"], false);
    })
    .await;
}

#[tokio::test]
async fn frontend_settings_need_a_signed_in_caller() {
    each_backend(|app| async move {
        let res = app.anonymous().get("/api/frontend/settings").await;
        assert_message(&res, StatusCode::UNAUTHORIZED, "Unauthorized");
    })
    .await;
}

#[tokio::test]
async fn datasource_list_is_empty_for_org_members_and_refused_otherwise() {
    each_backend(|app| async move {
        let res = app.admin().get("/api/datasources").await;
        assert_eq!(
            (res.status, &res.json),
            (StatusCode::OK, &json!([])),
            "{res:?}"
        );

        // Grafana OSS grants `fixed:datasources:reader` (datasources:read) to Viewer
        // (`pkg/api/accesscontrol.go`), so any org member lists them.
        app.create_user("viv", "viv-secret").await;
        let res = app
            .as_user("viv", "viv-secret")
            .get("/api/datasources")
            .await;
        assert_eq!(
            (res.status, &res.json),
            (StatusCode::OK, &json!([])),
            "{res:?}"
        );

        // A member with no basic role holds no datasources:read: 403.
        let none = app.create_user("nobody", "nobody-secret").await;
        app.set_org_role(none, "None").await;
        let res = app
            .as_user("nobody", "nobody-secret")
            .get("/api/datasources")
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");

        let res = app.anonymous().get("/api/datasources").await;
        assert_message(&res, StatusCode::UNAUTHORIZED, "Unauthorized");

        // Only the list is served; the other data-source routes stay unknown.
        let res = app.admin().get("/api/datasources/uid/abc").await;
        assert_eq!(
            (res.status, &res.json["message"]),
            (StatusCode::NOT_FOUND, &Value::from("Not found"))
        );
    })
    .await;
}
