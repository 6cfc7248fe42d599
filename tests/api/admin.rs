//! `/api/admin/settings`, `/api/admin/stats` and `/api/health` (Grafana's `pkg/api/admin.go`,
//! `pkg/api/health.go`).

use axum::http::StatusCode;

use chrono::Duration;
use serde_json::json;

use crate::{each_backend, each_backend_with, TestApp};

/// Grafana lists every section and key of its configuration, its defaults included
/// (`pkg/setting/provider.go`, `OSSImpl.Current`), and hides values by the `GF_<SECTION>_<KEY>`
/// name of their key (`pkg/setting/setting.go`, `RedactedValue`): names holding PASSWORD,
/// SECRET, CERTIFICATE … or ending in AUTH_TOKEN, API_TOKEN …; the password in a URL becomes
/// `xxxxx` (Go's `url.URL.Redacted`, via `RedactedURL`).
#[tokio::test]
async fn settings_list_grafanas_sections_and_redact_by_grafanas_key_rules() {
    let extra = [
        ("security", "secret_key", "s3cr3t-value"),
        ("database", "password", "dbpass"),
        ("smtp", "password", "mailpass"),
        ("auth.generic_oauth", "client_secret", "oauth-s3cret"),
        ("auth.generic_oauth", "client_id", "usher-client"),
        ("rendering", "renderer_token", "render-t0ken"),
        (
            "remote_cache",
            "connstr",
            "redis://cache:hunter2@cache.example:6379/0",
        ),
        (
            "server",
            "root_url",
            "https://user:rootpw@grafana.example.com/",
        ),
        ("auth", "token_rotation_interval_minutes", "20"),
    ];
    each_backend_with(&extra, |app| async move {
        let res = app.admin().get("/api/admin/settings").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let s = &res.json;
        // Sections of conf/defaults.ini, with Grafana's defaults.
        for section in [
            "DEFAULT",
            "paths",
            "server",
            "database",
            "security",
            "users",
            "auth",
            "auth.basic",
            "auth.anonymous",
            "auth.proxy",
            "auth.generic_oauth",
            "auth.jwt",
            "auth.ldap",
            "quota",
            "log",
            "plugins",
            "analytics",
            "smtp",
        ] {
            assert!(s[section].is_object(), "[{section}] missing: {s}");
        }
        assert_eq!(s["DEFAULT"]["app_mode"], "production");
        assert_eq!(s["auth.anonymous"]["org_role"], "Viewer");
        assert_eq!(s["auth.proxy"]["header_name"], "X-WEBAUTH-USER");
        assert_eq!(s["auth.ldap"]["config_file"], "/etc/grafana/ldap.toml");
        assert_eq!(s["plugins"]["plugin_admin_enabled"], "true");
        assert_eq!(s["server"]["http_port"], "3000");
        assert_eq!(s["security"]["admin_user"], "admin");
        // Set values win over the defaults.
        assert_eq!(s["auth.generic_oauth"]["client_id"], "usher-client");
        // Not secrets by Grafana's rules: shown as they are.
        assert_eq!(s["auth"]["token_rotation_interval_minutes"], "20");
        assert_eq!(s["auth"]["api_key_max_seconds_to_live"], "-1");
        assert_eq!(s["quota"]["org_api_key"], "10");
        assert_eq!(
            s["auth.github"]["token_url"],
            "https://github.com/login/oauth/access_token"
        );
        // Secrets: `setting.RedactedPassword`.
        assert_eq!(s["security"]["secret_key"], "*********");
        assert_eq!(s["security"]["admin_password"], "*********");
        assert_eq!(s["database"]["password"], "*********");
        assert_eq!(s["smtp"]["password"], "*********");
        assert_eq!(s["auth.generic_oauth"]["client_secret"], "*********");
        assert_eq!(s["rendering"]["renderer_token"], "*********");
        // An empty secret stays empty.
        assert_eq!(s["auth.github"]["client_secret"], "");
        // Passwords inside URLs.
        assert_eq!(
            s["server"]["root_url"],
            "https://user:xxxxx@grafana.example.com/"
        );
        assert_eq!(
            s["remote_cache"]["connstr"],
            "redis://cache:xxxxx@cache.example:6379/0"
        );
        for secret in [
            "s3cr3t-value",
            "dbpass",
            "mailpass",
            "oauth-s3cret",
            "render-t0ken",
            "hunter2",
            "rootpw",
        ] {
            assert!(!res.text.contains(secret), "{secret} leaked: {res:?}");
        }
        app.create_user("carl", "password1").await;
        assert_eq!(
            app.as_user("carl", "password1")
                .get("/api/admin/settings")
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    })
    .await;
}

#[tokio::test]
async fn stats_count_what_is_stored() {
    each_backend(|app| async move {
        let a = app.create_user("dina", "password1").await;
        let b = app.create_user("eli", "password1").await;
        let now = app.state.now();
        let store = &app.state.store;
        let org = usher::service::in_tx(&app.state, async |tx| {
            usher::service::orgs::create(&app.state, tx, "Org B", None).await
        })
        .await
        .unwrap();
        store
            .add_org_user(
                usher::store::orgs::OrgMembership {
                    org_id: org,
                    user_id: a,
                    role: usher::auth::OrgRole::Editor,
                },
                now,
            )
            .await
            .unwrap();
        let team = store.create_team(1, "T1", "", now).await.unwrap();
        store
            .add_team_member(
                usher::store::teams::TeamMembership {
                    org_id: 1,
                    team_id: team,
                    user_id: b,
                    permission: usher::domain::role::TeamPermission::Member,
                },
                now,
            )
            .await
            .unwrap();
        app.admin()
            .post(&format!("/api/admin/users/{b}/disable"), "")
            .await;

        // Grafana counts dashboards (not folders) and distinct tags
        // (pkg/services/stats/statsimpl/stats.go, GetAdminStats).
        for (title, tags) in [("One", r#"["ops", "db"]"#), ("Two", r#"["ops"]"#)] {
            let body = format!(r#"{{"dashboard": {{"title": "{title}", "tags": {tags}}}}}"#);
            let res = app.admin().post("/api/dashboards/db", &body).await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
        }

        let res = app.admin().get("/api/admin/stats").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let s = &res.json;
        assert_eq!(s["users"], 3, "{s}");
        assert_eq!(s["orgs"], 2, "{s}");
        assert_eq!(s["teams"], 1, "{s}");
        assert_eq!(s["admins"], 1, "{s}");
        assert_eq!(s["editors"], 1, "{s}");
        // Dina is Viewer in the main org and Editor in Org B: counted once, as Editor.
        assert_eq!(s["viewers"], 1, "{s}");
        assert_eq!(s["disabledUsers"], 1, "{s}");
        assert_eq!(s["dashboards"], 2, "{s}");
        assert_eq!(s["tags"], 2, "{s}");
        for field in [
            "activeUsers",
            "activeAdmins",
            "activeSessions",
            "dailyActiveUsers",
            "monthlyActiveUsers",
            "stars",
            "datasources",
        ] {
            assert!(s[field].is_i64(), "{field}: {s}");
        }
        assert_eq!(
            app.as_user("dina", "password1")
                .get("/api/admin/stats")
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    })
    .await;
}

const AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// Logs `login` in (a session) and makes one request as them, then waits until the server has
/// written `last_seen_at` (it does so off the request path).
async fn sign_in_and_look(app: &TestApp, login: &str, password: &str) {
    let browser = app.login(login, password, AGENT).await;
    let res = browser.get("/api/user").await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    let now = app.state.now().get();
    for _ in 0..500 {
        let user = app
            .state
            .store
            .user_by_login_or_email(login)
            .await
            .unwrap()
            .unwrap();
        if user.last_seen_at == Some(now) {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("last_seen_at of {login} was not written");
}

/// Creates an org named `name` holding user `login` with `role`.
async fn org_with(app: &TestApp, name: &str, login: &str, role: &str) {
    let res = app
        .admin()
        .post("/api/orgs", &json!({ "name": name }).to_string())
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    let org = res.json["orgId"].as_i64().unwrap();
    let res = app
        .admin()
        .post(
            &format!("/api/orgs/{org}/users"),
            &json!({ "loginOrEmail": login, "role": role }).to_string(),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
}

/// Every field of Grafana's `stats.AdminStats` (pkg/services/stats/models.go), counted as
/// `GetAdminStats` counts it (pkg/services/stats/statsimpl/stats.go): roles once per account by
/// its highest org role (`updateUserRoleCounts`, service accounts included, as in Grafana);
/// "active" is seen in the last 30 days, "daily" in the last 24 hours, "monthly" since the first
/// of the month; sessions by `rotated_at`. Snapshots, data sources, playlists and alerts are not
/// held by this server and stay 0.
#[tokio::test]
async fn stats_count_each_account_once_by_its_highest_role_and_by_when_it_was_seen() {
    each_backend(|app| async move {
        // 2026-01-15 10:00 UTC.
        app.create_user("dina", "password1").await;
        app.create_user("eli", "password1").await;
        app.create_user("fay", "password1").await;
        org_with(&app, "Org B", "dina", "Editor").await;
        let res = app
            .admin()
            .post(
                "/api/serviceaccounts",
                &json!({"name": "robot", "role": "Editor"}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        for (title, tags) in [("One", json!(["ops", "db"])), ("Two", json!(["ops"]))] {
            let body = json!({"dashboard": {"title": title, "tags": tags}}).to_string();
            let res = app.admin().post("/api/dashboards/db", &body).await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            let uid = res.json["uid"].as_str().unwrap().to_string();
            if title == "One" {
                let res = app
                    .admin()
                    .post(&format!("/api/user/stars/dashboard/uid/{uid}"), "")
                    .await;
                assert_eq!(res.status, StatusCode::OK, "{res:?}");
            }
        }
        sign_in_and_look(&app, "dina", "password1").await;
        // 2026-02-01 08:00: eli signs in.
        app.clock.advance(Duration::hours(17 * 24 - 2));
        sign_in_and_look(&app, "eli", "password1").await;
        // 2026-02-02 09:30: the admin signs in; the stats are read at 10:00.
        app.clock.advance(Duration::minutes(25 * 60 + 30));
        sign_in_and_look(&app, "admin", "admin").await;
        app.clock.advance(Duration::minutes(30));

        let res = app.admin().get("/api/admin/stats").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let expected = json!({
            "orgs": 2,
            "dashboards": 2,
            "tags": 2,
            "stars": 1,
            // People only: admin, dina, eli, fay.
            "users": 4,
            "admins": 1,
            // Dina (Editor in Org B, Viewer in the main org) and the robot.
            "editors": 2,
            "viewers": 2,
            // Seen since 2026-01-03 10:00: admin, dina, eli.
            "activeUsers": 3,
            "activeAdmins": 1,
            "activeEditors": 1,
            "activeViewers": 1,
            // Seen since 2026-02-01 10:00: the admin.
            "dailyActiveUsers": 1,
            "dailyActiveAdmins": 1,
            "dailyActiveEditors": 0,
            "dailyActiveViewers": 0,
            // Seen since 2026-02-01 00:00: admin and eli (not dina, seen in January).
            "monthlyActiveUsers": 2,
            // Sessions rotated since 2026-01-03 10:00 and since 2026-02-01 10:00.
            "activeSessions": 3,
            "dailyActiveSessions": 1,
            "snapshots": 0,
            "datasources": 0,
            "playlists": 0,
            "alerts": 0,
            // Not Grafana's; this server's admin page shows them.
            "teams": 0,
            "disabledUsers": 0,
        });
        assert_eq!(res.json, expected, "{res:?}");
    })
    .await;
}

/// Grafana OSS always serves the usage report preview (`pkg/api/api.go`,
/// `pkg/infra/usagestats/service/api.go`), to holders of `server.stats.report:read`, which only
/// Grafana Admins hold (`fixed:usagestats:reader`, `service/accesscontrol.go`). The report is
/// `usagestats.Report` (`pkg/infra/usagestats/service.go`) with the collectors' `stats.*`
/// counters (`statscollector/service.go`; service accounts from
/// `pkg/services/serviceaccounts/database/store.go`); the id is kept in `kv_store`.
#[tokio::test]
async fn usage_report_preview_reports_stored_counts_to_server_admins_only() {
    each_backend(|app| async move {
        let kim = app.create_user("kim", "password1").await;
        app.create_user("lou", "password1").await;
        let res = app.admin().post("/api/teams", r#"{"name": "Ops"}"#).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let team = res.json["teamId"].as_i64().unwrap();
        let res = app
            .admin()
            .post(
                "/api/serviceaccounts",
                &json!({"name": "robot", "role": "Viewer"}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        let robot = res.json["id"].as_i64().unwrap();
        for name in ["t1", "t2"] {
            let res = app
                .admin()
                .post(
                    &format!("/api/serviceaccounts/{robot}/tokens"),
                    &json!({ "name": name }).to_string(),
                )
                .await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
        }
        let res = app
            .admin()
            .post(
                &format!("/api/teams/{team}/members"),
                &json!({ "userId": robot }).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let body = json!({"dashboard": {"title": "Board"}}).to_string();
        let res = app.admin().post("/api/dashboards/db", &body).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        app.login("kim", "password1", AGENT).await;
        app.login("kim", "password1", AGENT).await;
        app.login("lou", "password1", AGENT).await;
        app.clock.advance(Duration::seconds(90));

        let res = app.admin().get("/api/admin/usage-report-preview").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = &res.json;
        assert_eq!(r["version"], "12_0_0", "{r}");
        assert_eq!(r["os"], std::env::consts::OS, "{r}");
        assert!(r["arch"].is_string(), "{r}");
        assert_eq!(r["edition"], "oss", "{r}");
        assert_eq!(r["hasValidLicense"], false, "{r}");
        assert_eq!(r["packaging"], "unknown", "{r}");
        let id = r["usageStatsId"].as_str().unwrap().to_string();
        assert_eq!(id.len(), 36, "{r}");
        let m = &r["metrics"];
        for (metric, value) in [
            ("stats.users.count", 3),
            ("stats.orgs.count", 1),
            ("stats.dashboards.count", 1),
            ("stats.folders.count", 0),
            ("stats.teams.count", 1),
            ("stats.admins.count", 1),
            // kim, lou and the robot.
            ("stats.viewers.count", 3),
            ("stats.serviceaccounts.count", 1),
            ("stats.serviceaccounts.tokens.count", 2),
            ("stats.serviceaccounts.in_teams.count", 1),
            ("stats.api_keys.count", 0),
            ("stats.total_auth_token.count", 3),
            ("stats.active_sessions.count", 3),
            // 3 sessions / 3 users.
            ("stats.avg_auth_token_per_user.count", 1),
            // Two users hold sessions, each at most 3.
            ("stats.auth_token_per_user_le_3", 2),
            ("stats.auth_token_per_user_le_inf", 2),
            ("stats.auth_enabled.basic_auth.count", 1),
            ("stats.datasources.count", 0),
            ("stats.edition.oss.count", 1),
            ("stats.edition.enterprise.count", 0),
            ("stats.valid_license.count", 0),
            ("stats.packaging.unknown.count", 1),
            ("stats.distributor.grafana-labs.count", 1),
            ("stats.uptime", 90),
        ] {
            assert_eq!(m[metric], value, "{metric}: {m}");
        }
        // The id is kept: a second preview reports the same one.
        let again = app.admin().get("/api/admin/usage-report-preview").await;
        assert_eq!(again.json["usageStatsId"], id.as_str(), "{again:?}");

        // Org Admins and other users are refused.
        app.set_org_role(kim, "Admin").await;
        let res = app
            .as_user("kim", "password1")
            .get("/api/admin/usage-report-preview")
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        assert!(res.json["message"].is_string(), "{res:?}");
        let res = app.anonymous().get("/api/admin/usage-report-preview").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn health_reports_the_database_and_a_grafana_version() {
    each_backend(|app| async move {
        let res = app.anonymous().get("/api/health").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["database"], "ok");
        assert_eq!(res.json["version"], "12.0.0");
        app.state.store.close().await;
        let res = app.anonymous().get("/api/health").await;
        assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{res:?}");
        assert_eq!(res.json["database"], "failing");
    })
    .await;
}
