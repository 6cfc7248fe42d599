//! `/api/admin/settings`, `/api/admin/stats` and `/api/health` (Grafana's `pkg/api/admin.go`,
//! `pkg/api/health.go`).

use axum::http::StatusCode;

use crate::{each_backend, each_backend_with};

#[tokio::test]
async fn settings_show_every_section_with_secrets_redacted() {
    let extra = [
        ("security", "secret_key", "s3cr3t-value"),
        ("database", "password", "dbpass"),
        ("smtp", "password", "mailpass"),
        (
            "server",
            "root_url",
            "https://user:hunter2@grafana.example.com/",
        ),
    ];
    each_backend_with(&extra, |app| async move {
        let res = app.admin().get("/api/admin/settings").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let s = &res.json;
        assert_eq!(s["server"]["http_port"], "3000");
        assert_eq!(s["security"]["admin_user"], "admin");
        // Grafana's `setting.RedactedPassword`.
        assert_eq!(s["security"]["secret_key"], "*********");
        assert_eq!(s["security"]["admin_password"], "*********");
        assert_eq!(s["database"]["password"], "*********");
        assert_eq!(s["smtp"]["password"], "*********");
        // Passwords inside URLs are hidden too.
        assert_eq!(
            s["server"]["root_url"],
            "https://user:*********@grafana.example.com/"
        );
        for secret in ["s3cr3t-value", "dbpass", "mailpass", "hunter2"] {
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
        assert_eq!(s["viewers"], 2, "{s}");
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
