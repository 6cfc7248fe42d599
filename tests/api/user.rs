//! `/api/user…`: the signed-in user's own API (Grafana's `pkg/api/user.go`).

use axum::http::StatusCode;
use serde_json::json;

use crate::{assert_message, each_backend};

#[tokio::test]
async fn get_signed_in_user_returns_grafanas_profile_shape() {
    each_backend(|app| async move {
        let res = app.admin().get("/api/user").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let u = &res.json;
        assert_eq!(u["id"], 1);
        assert_eq!(u["login"], "admin");
        assert_eq!(u["email"], "admin@localhost");
        assert_eq!(u["isGrafanaAdmin"], true);
        assert_eq!(u["isDisabled"], false);
        assert_eq!(u["orgId"], 1);
        assert_eq!(u["theme"], "");
        assert_eq!(u["authLabels"], json!([]));
        assert_eq!(u["avatarUrl"], "/avatar/46d229b033af06a191ff2267bca9ae56");
        assert!(u["uid"].as_str().is_some_and(|s| !s.is_empty()), "{res:?}");
        // RFC 3339 timestamps at second precision, as Grafana's JSON has them.
        assert_eq!(u["createdAt"], "2026-01-15T10:00:00Z");
        assert_eq!(u["updatedAt"], "2026-01-15T10:00:00Z");
        for field in [
            "isExternal",
            "isExternallySynced",
            "isGrafanaAdminExternallySynced",
            "isProvisioned",
        ] {
            assert_eq!(u[field], false, "{field}: {res:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn theme_is_the_stored_one_not_the_configured_default() {
    // Grafana's `UserProfileDTO.Theme` is the `user.theme` column (`pkg/api/user.go`
    // getUserUserProfile); `[users] default_theme` only feeds preferences.
    crate::each_backend_with(&[("users", "default_theme", "light")], |app| async move {
        assert_eq!(app.admin().get("/api/user").await.json["theme"], "");
        let res = app
            .admin()
            .put(
                "/api/user",
                r#"{"theme":"dark","login":"admin","email":"admin@localhost"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "User updated");
        assert_eq!(app.admin().get("/api/user").await.json["theme"], "dark");
    })
    .await;
}

#[tokio::test]
async fn update_signed_in_user_changes_own_fields() {
    each_backend(|app| async move {
        app.create_user("kim", "password1").await;
        let kim = app.as_user("kim", "password1");
        let res = kim
            .put(
                "/api/user",
                r#"{"name":"Kim K","email":"kim@example.com","login":"kim"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "User updated");
        let me = kim.get("/api/user").await.json;
        assert_eq!(me["name"], "Kim K");
        // The update took the clock's time.
        app.clock.advance(chrono::Duration::hours(1));
        kim.put(
            "/api/user",
            r#"{"name":"Kim L","email":"kim@example.com","login":"kim"}"#,
        )
        .await;
        assert_eq!(
            kim.get("/api/user").await.json["updatedAt"],
            "2026-01-15T11:00:00Z"
        );
        // Taking the admin's login is a conflict, and nothing changes.
        let res = kim
            .put(
                "/api/user",
                r#"{"login":"Admin","email":"kim@example.com"}"#,
            )
            .await;
        assert_message(
            &res,
            StatusCode::CONFLICT,
            "Update would result in user login conflict",
        );
        assert_eq!(kim.get("/api/user").await.json["login"], "kim");
    })
    .await;
}

#[tokio::test]
async fn change_password_checks_the_old_one_and_the_length() {
    each_backend(|app| async move {
        app.create_user("lee", "password1").await;
        let lee = app.as_user("lee", "password1");
        // Grafana v12 answers a wrong old password with an errutil 400
        // (`pkg/services/user/error.go` ErrPasswordMismatch, used by `pkg/api/user.go`).
        let res = lee
            .put(
                "/api/user/password",
                r#"{"oldPassword":"wrong","newPassword":"password2"}"#,
            )
            .await;
        assert_message(&res, StatusCode::BAD_REQUEST, "Invalid old password");
        assert_eq!(res.json["messageId"], "user.password.mismatch");
        let res = lee
            .put(
                "/api/user/password",
                r#"{"oldPassword":"password1","newPassword":"abc"}"#,
            )
            .await;
        assert_message(&res, StatusCode::BAD_REQUEST, "New password is too short");
        let res = lee
            .put(
                "/api/user/password",
                r#"{"oldPassword":"password1","newPassword":"password2","confirmNew":"other"}"#,
            )
            .await;
        assert_message(&res, StatusCode::BAD_REQUEST, "Passwords do not match");
        // Still the old password after the refusals.
        assert_eq!(lee.get("/api/user").await.status, StatusCode::OK);

        let res = lee
            .put(
                "/api/user/password",
                r#"{"oldPassword":"password1","newPassword":"password2"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "User password changed");
        // The old credentials stop working at once (the credential cache is invalidated) …
        assert_eq!(lee.get("/api/user").await.status, StatusCode::UNAUTHORIZED);
        // … and the new ones work.
        assert_eq!(
            app.as_user("lee", "password2")
                .get("/api/user")
                .await
                .status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn own_orgs_and_teams_and_org_switch() {
    each_backend(|app| async move {
        let id = app.create_user("max", "password1").await;
        let now = app.state.now();
        let store = &app.state.store;
        let org = usher::service::in_tx(&app.state, async |tx| {
            usher::service::orgs::create(&app.state, tx, "Team Org", None).await
        })
        .await
        .unwrap();
        store
            .add_org_user(
                usher::store::orgs::OrgMembership {
                    org_id: org,
                    user_id: id,
                    role: usher::auth::OrgRole::Admin,
                },
                now,
            )
            .await
            .unwrap();
        let team_main = store.create_team(1, "Main team", "", now).await.unwrap();
        store
            .add_team_member(
                usher::store::teams::TeamMembership {
                    org_id: 1,
                    team_id: team_main,
                    user_id: id,
                    permission: usher::domain::role::TeamPermission::Member,
                },
                now,
            )
            .await
            .unwrap();
        let team_other = store.create_team(org, "Other team", "", now).await.unwrap();
        store
            .add_team_member(
                usher::store::teams::TeamMembership {
                    org_id: org,
                    team_id: team_other,
                    user_id: id,
                    permission: usher::domain::role::TeamPermission::Member,
                },
                now,
            )
            .await
            .unwrap();

        let max = app.as_user("max", "password1");
        let res = max.get("/api/user/orgs").await;
        assert_eq!(
            res.json,
            json!([
                {"orgId": 1, "name": "Main Org.", "role": "Viewer"},
                {"orgId": org, "name": "Team Org", "role": "Admin"},
            ]),
            "{res:?}"
        );
        // Teams of the current org only.
        let res = max.get("/api/user/teams").await;
        let names: Vec<_> = res
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].clone())
            .collect();
        assert_eq!(names, vec![json!("Main team")], "{res:?}");
        // A team without email has the avatar of its name (Grafana's GetGravatarUrlWithDefault).
        assert_eq!(
            res.json[0]["avatarUrl"],
            usher::domain::avatar_url("Main team")
        );

        assert_message(
            &max.post(&format!("/api/user/using/{org}"), "").await,
            StatusCode::OK,
            "Active organization changed",
        );
        assert_eq!(max.get("/api/user").await.json["orgId"], org);
        let res = max.get("/api/user/teams").await;
        assert_eq!(res.json[0]["name"], "Other team", "{res:?}");

        let res = max.post("/api/user/using/9999", "").await;
        assert_message(&res, StatusCode::UNAUTHORIZED, "Not a valid organization");
        let res = max.post("/api/user/using/abc", "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn last_seen_is_recorded_and_aged_in_grafanas_words() {
    each_backend(|app| async move {
        let id = app.create_user("ned", "password1").await;
        // Never seen: Grafana stores "ten years ago" for new users.
        let hit = |res: &crate::TestResponse| {
            res.json["users"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["id"] == id)
                .cloned()
                .unwrap()
        };
        let before = hit(&app.admin().get("/api/users/search?query=ned").await);
        assert_eq!(before["lastSeenAtAge"], "10 years", "{before}");

        app.as_user("ned", "password1").get("/api/user").await;
        // The update is written off the request path; wait for it to land.
        let mut seen = serde_json::Value::Null;
        for _ in 0..100 {
            seen = hit(&app.admin().get("/api/users/search?query=ned").await);
            if seen["lastSeenAtAge"] == "< 1 minute" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(seen["lastSeenAtAge"], "< 1 minute", "{seen}");
        assert_eq!(seen["lastSeenAt"], "2026-01-15T10:00:00Z");

        app.clock.advance(chrono::Duration::minutes(2));
        let later = hit(&app.admin().get("/api/users/search?query=ned").await);
        assert_eq!(later["lastSeenAtAge"], "2 minutes", "{later}");
        // Within the update interval (15 minutes) a new request does not rewrite it.
        app.as_user("ned", "password1").get("/api/user").await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let later = hit(&app.admin().get("/api/users/search?query=ned").await);
        assert_eq!(later["lastSeenAt"], "2026-01-15T10:00:00Z", "{later}");
    })
    .await;
}

#[tokio::test]
async fn user_routes_need_a_signed_in_user() {
    each_backend(|app| async move {
        for path in ["/api/user", "/api/user/orgs", "/api/user/teams"] {
            let res = app.anonymous().get(path).await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{path}: {res:?}");
        }
        let res = app
            .anonymous()
            .put(
                "/api/user/password",
                r#"{"oldPassword":"a","newPassword":"bbbbbb"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}
