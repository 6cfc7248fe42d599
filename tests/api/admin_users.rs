//! `/api/admin/users…` (Grafana's `pkg/api/admin_users.go`).

use axum::http::StatusCode;
use serde_json::json;

use crate::{assert_message, each_backend, each_backend_with};

#[tokio::test]
async fn create_user_returns_id_and_puts_the_user_in_the_default_org() {
    each_backend(|app| async move {
        let res = app
            .admin()
            .post("/api/admin/users", r#"{"name":"Olga","email":"Olga@Example.com","login":"Olga","password":"password1"}"#)
            .await;
        assert_message(&res, StatusCode::OK, "User created");
        let id = res.json["id"].as_i64().unwrap();
        assert!(res.json["uid"].as_str().is_some_and(|u| !u.is_empty()));
        let u = app.admin().get(&format!("/api/users/{id}")).await.json;
        // Logins and emails are stored lower-cased (Grafana's case-insensitive login).
        assert_eq!((u["login"].as_str(), u["email"].as_str()), (Some("olga"), Some("olga@example.com")));
        assert_eq!(u["orgId"], 1);
        let orgs = app.admin().get(&format!("/api/users/{id}/orgs")).await.json;
        assert_eq!(orgs, json!([{"orgId": 1, "name": "Main Org.", "role": "Viewer"}]));
        // The new user can sign in, by login or by email.
        assert_eq!(app.as_user("olga", "password1").get("/api/user").await.status, StatusCode::OK);
        assert_eq!(app.as_user("OLGA@example.com", "password1").get("/api/user").await.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn create_user_into_another_org_and_login_from_email() {
    each_backend(|app| async move {
        let org = usher::service::in_tx(&app.state, async |tx| {
            usher::service::orgs::create(&app.state, tx, "Elsewhere", None).await
        })
        .await
        .unwrap();
        let body = json!({"email": "pat@example.com", "password": "password1", "OrgId": org});
        let res = app
            .admin()
            .post("/api/admin/users", &body.to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let id = res.json["id"].as_i64().unwrap();
        let u = app.admin().get(&format!("/api/users/{id}")).await.json;
        assert_eq!(u["login"], "pat@example.com", "login defaults to the email");
        assert_eq!(u["orgId"], org);
        // An org that does not exist is a 400 (Grafana: `org.ErrOrgNotFound`), and no user is left.
        let res = app
            .admin()
            .post(
                "/api/admin/users",
                r#"{"login":"ghost","password":"password1","OrgId":999}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert_eq!(
            app.admin()
                .get("/api/users/lookup?loginOrEmail=ghost")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

#[tokio::test]
async fn create_user_refuses_bad_input_and_duplicates() {
    each_backend(|app| async move {
        app.create_user("quinn", "password1").await;
        let admin = app.admin();
        let post = |body: &'static str| admin.post("/api/admin/users", body);
        // Grafana's wording, "need specify" included (`pkg/api/admin_users.go` AdminCreateUser).
        assert_message(
            &post(r#"{"password":"password1"}"#).await,
            StatusCode::BAD_REQUEST,
            "Validation error, need specify either username or email",
        );
        assert_message(
            &post(r#"{"login":"rita"}"#).await,
            StatusCode::BAD_REQUEST,
            "Password is missing or too short",
        );
        assert_message(
            &post(r#"{"login":"rita","password":"abc"}"#).await,
            StatusCode::BAD_REQUEST,
            "Password is missing or too short",
        );
        assert_eq!(
            post(r#"{"login":"rita","email":"not an email","password":"password1"}"#)
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            post(r#"{"login":"rita","password":12345}"#).await.status,
            StatusCode::BAD_REQUEST
        );
        assert_message(
            &post(r#"{"login":"#).await,
            StatusCode::BAD_REQUEST,
            "bad request data",
        );
        // Duplicates, in any case, are Grafana's 412 with the form's values quoted.
        let res =
            post(r#"{"login":"QUINN","email":"new@example.com","password":"password1"}"#).await;
        assert_message(
            &res,
            StatusCode::PRECONDITION_FAILED,
            "User with email 'new@example.com' or username 'QUINN' already exists",
        );
        let res =
            post(r#"{"login":"other","email":"Quinn@Example.com","password":"password1"}"#).await;
        assert_eq!(res.status, StatusCode::PRECONDITION_FAILED, "{res:?}");
        // Nothing half-written: two users only (admin and quinn).
        let users = app.admin().get("/api/users").await.json;
        assert_eq!(users.as_array().unwrap().len(), 2, "{users}");
    })
    .await;
}

#[tokio::test]
async fn admin_sets_a_users_password() {
    each_backend(|app| async move {
        let id = app.create_user("sam", "password1").await;
        assert_eq!(
            app.as_user("sam", "password1")
                .get("/api/user")
                .await
                .status,
            StatusCode::OK
        );
        let path = format!("/api/admin/users/{id}/password");
        assert_message(
            &app.admin().put(&path, r#"{"password":"abc"}"#).await,
            StatusCode::BAD_REQUEST,
            "New password too short",
        );
        assert_message(
            &app.admin().put(&path, r#"{"password":"password2"}"#).await,
            StatusCode::OK,
            "User password updated",
        );
        assert_eq!(
            app.as_user("sam", "password1")
                .get("/api/user")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.as_user("sam", "password2")
                .get("/api/user")
                .await
                .status,
            StatusCode::OK
        );
        assert_message(
            &app.admin()
                .put(
                    "/api/admin/users/999/password",
                    r#"{"password":"password2"}"#,
                )
                .await,
            StatusCode::NOT_FOUND,
            "user not found",
        );
        assert_message(
            &app.admin()
                .put("/api/admin/users/x/password", r#"{"password":"password2"}"#)
                .await,
            // Grafana 11.3+ resolves "x" as a uid: unknown (tests/api/compat.rs).
            StatusCode::NOT_FOUND,
            "User not found",
        );
    })
    .await;
}

#[tokio::test]
async fn permissions_grant_and_revoke_server_admin_but_keep_the_last_one() {
    each_backend(|app| async move {
        let id = app.create_user("tess", "password1").await;
        let tess = app.as_user("tess", "password1");
        assert_eq!(tess.get("/api/users").await.status, StatusCode::FORBIDDEN);
        let path = format!("/api/admin/users/{id}/permissions");
        assert_message(
            &app.admin().put(&path, r#"{"isGrafanaAdmin":true}"#).await,
            StatusCode::OK,
            "User permissions updated",
        );
        // Takes effect on the next request, although tess's credentials are cached.
        assert_eq!(tess.get("/api/users").await.status, StatusCode::OK);
        assert_eq!(
            app.admin().get(&format!("/api/users/{id}")).await.json["isGrafanaAdmin"],
            true
        );
        // Now admin may step down, since tess remains …
        assert_message(
            &app.admin()
                .put(
                    "/api/admin/users/1/permissions",
                    r#"{"isGrafanaAdmin":false}"#,
                )
                .await,
            StatusCode::OK,
            "User permissions updated",
        );
        // … but tess may not: she is the last one (Grafana's `user.ErrLastGrafanaAdmin`).
        assert_message(
            &tess.put(&path, r#"{"isGrafanaAdmin":false}"#).await,
            StatusCode::BAD_REQUEST,
            "cannot remove last grafana admin",
        );
        assert_eq!(tess.get("/api/users").await.status, StatusCode::OK);
        assert_eq!(
            tess.put(&path, r#"{"isGrafanaAdmin":"yes"}"#).await.status,
            StatusCode::BAD_REQUEST
        );
        assert_message(
            &tess
                .put(
                    "/api/admin/users/999/permissions",
                    r#"{"isGrafanaAdmin":true}"#,
                )
                .await,
            StatusCode::NOT_FOUND,
            "user not found",
        );
    })
    .await;
}

#[tokio::test]
async fn delete_user_removes_memberships_and_credentials() {
    each_backend(|app| async move {
        let id = app.create_user("uma", "password1").await;
        let now = app.state.now();
        let team = app.state.store.create_team(1, "T", "", now).await.unwrap();
        app.state
            .store
            .add_team_member(
                usher::store::teams::TeamMembership {
                    org_id: 1,
                    team_id: team,
                    user_id: id,
                    permission: usher::domain::role::TeamPermission::Member,
                },
                now,
            )
            .await
            .unwrap();
        let uma = app.as_user("uma", "password1");
        assert_eq!(uma.get("/api/user").await.status, StatusCode::OK);

        assert_message(
            &app.admin().delete(&format!("/api/admin/users/{id}")).await,
            StatusCode::OK,
            "User deleted",
        );
        assert_eq!(uma.get("/api/user").await.status, StatusCode::UNAUTHORIZED);
        assert_message(
            &app.admin().get(&format!("/api/users/{id}")).await,
            StatusCode::NOT_FOUND,
            "user not found",
        );
        assert_message(
            &app.admin().delete(&format!("/api/admin/users/{id}")).await,
            StatusCode::NOT_FOUND,
            "user not found",
        );
        // The org membership went with the user.
        let stats = app.admin().get("/api/admin/stats").await.json;
        assert_eq!(stats["users"], 1, "{stats}");
        assert_eq!(stats["viewers"], 0, "{stats}");
        // The only server admin cannot be deleted.
        assert_message(
            &app.admin().delete("/api/admin/users/1").await,
            StatusCode::BAD_REQUEST,
            "cannot remove last grafana admin",
        );
        // Grafana 11.3+ resolves a non-numeric id as a uid: unknown, so 404 (tests/api/compat.rs).
        assert_message(
            &app.admin().delete("/api/admin/users/abc").await,
            StatusCode::NOT_FOUND,
            "User not found",
        );
    })
    .await;
}

#[tokio::test]
async fn disable_and_enable_a_user() {
    each_backend(|app| async move {
        let id = app.create_user("vera", "password1").await;
        let vera = app.as_user("vera", "password1");
        assert_eq!(vera.get("/api/user").await.status, StatusCode::OK);
        assert_message(
            &app.admin()
                .post(&format!("/api/admin/users/{id}/disable"), "")
                .await,
            StatusCode::OK,
            "User disabled",
        );
        // The right password of a disabled user: Grafana's authn service answers
        // `identity.disabled` (pkg/services/authn/authnimpl/service.go, errDisabledIdentity).
        let res = vera.get("/api/user").await;
        assert_message(&res, StatusCode::UNAUTHORIZED, "Unauthorized");
        assert_eq!(res.json["messageId"], "identity.disabled", "{res:?}");
        assert_eq!(
            app.admin().get(&format!("/api/users/{id}")).await.json["isDisabled"],
            true
        );
        assert_message(
            &app.admin()
                .post(&format!("/api/admin/users/{id}/enable"), "")
                .await,
            StatusCode::OK,
            "User enabled",
        );
        assert_eq!(vera.get("/api/user").await.status, StatusCode::OK);
        assert_message(
            &app.admin().post("/api/admin/users/999/disable", "").await,
            StatusCode::NOT_FOUND,
            "user not found",
        );
        assert_message(
            &app.admin().post("/api/admin/users/999/enable", "").await,
            StatusCode::NOT_FOUND,
            "user not found",
        );
        // The last enabled server admin cannot be disabled.
        assert_message(
            &app.admin().post("/api/admin/users/1/disable", "").await,
            StatusCode::BAD_REQUEST,
            "cannot remove last grafana admin",
        );
    })
    .await;
}

#[tokio::test]
async fn admin_user_routes_need_a_server_admin() {
    each_backend(|app| async move {
        let id = app.create_user("walt", "password1").await;
        let walt = app.as_user("walt", "password1");
        let cases = [
            (
                "POST",
                "/api/admin/users".to_string(),
                r#"{"login":"x","password":"password1"}"#,
            ),
            (
                "PUT",
                format!("/api/admin/users/{id}/password"),
                r#"{"password":"password2"}"#,
            ),
            (
                "PUT",
                format!("/api/admin/users/{id}/permissions"),
                r#"{"isGrafanaAdmin":true}"#,
            ),
            ("DELETE", "/api/admin/users/1".to_string(), ""),
            ("POST", "/api/admin/users/1/disable".to_string(), ""),
            ("POST", format!("/api/admin/users/{id}/enable"), ""),
        ];
        for (method, path, body) in cases {
            let res = match method {
                "POST" => walt.post(&path, body).await,
                "PUT" => walt.put(&path, body).await,
                _ => walt.delete(&path).await,
            };
            assert_eq!(
                res.status,
                StatusCode::FORBIDDEN,
                "{method} {path}: {res:?}"
            );
            let anon = match method {
                "POST" => app.anonymous().post(&path, body).await,
                "PUT" => app.anonymous().put(&path, body).await,
                _ => app.anonymous().delete(&path).await,
            };
            assert_eq!(
                anon.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path}: {anon:?}"
            );
        }
        // Nothing was done by the refused calls.
        assert_eq!(walt.get("/api/user").await.json["isGrafanaAdmin"], false);
        assert_eq!(app.admin().get("/api/user").await.json["isDisabled"], false);
    })
    .await;
}

#[tokio::test]
async fn pbkdf2_setting_keeps_grafanas_hash_format() {
    each_backend_with(
        &[("security", "password_hash", "pbkdf2")],
        |app| async move {
            let id = app.create_user("xena", "password1").await;
            let row = app.state.store.user_by_id(id).await.unwrap().unwrap();
            let hash = row.password.unwrap();
            // Grafana's format: 50-byte PBKDF2 key, hex-encoded, with a 10-character salt.
            assert_eq!(hash.len(), 100, "{hash}");
            assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{hash}");
            assert_eq!(row.salt.unwrap().len(), 10);
            assert_eq!(
                app.as_user("xena", "password1")
                    .get("/api/user")
                    .await
                    .status,
                StatusCode::OK
            );
        },
    )
    .await;
}

/// Two admins removing each other at once, through two instances: the last-admin check and the
/// change share one transaction under the server-admin lock (`src/service/users.rs`), so exactly
/// one succeeds and one enabled admin remains, for demotion, disabling and deletion alike.
#[tokio::test]
async fn two_admins_removing_each_other_at_once_leave_one() {
    crate::each_db(|db| async move {
        let one = crate::TestApp::start(&db, &[]).await;
        let two = crate::TestApp::start(&db, &[]).await;
        // Whoever is the only enabled admin between rounds.
        let mut boss = ("admin".to_string(), "admin".to_string());
        for (round, (method, path)) in [("PUT", "permissions"), ("POST", "disable"), ("DELETE", "")]
            .into_iter()
            .enumerate()
        {
            let login = format!("second{round}");
            let res = one
                .as_user(&boss.0, &boss.1)
                .post(
                    "/api/admin/users",
                    &json!({"login": login, "password": "password1"}).to_string(),
                )
                .await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            let id = res.json["id"].as_i64().unwrap();
            let res = one
                .as_user(&boss.0, &boss.1)
                .put(
                    &format!("/api/admin/users/{id}/permissions"),
                    &json!({"isGrafanaAdmin": true}).to_string(),
                )
                .await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            // The first admin of this round: admin (id 1), or the survivor of the last round.
            let list = one
                .as_user(&boss.0, &boss.1)
                .get("/api/users/search?perpage=100")
                .await;
            let admins: Vec<i64> = list.json["users"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|u| u["isAdmin"] == true && u["isDisabled"] == false)
                .map(|u| u["id"].as_i64().unwrap())
                .collect();
            assert_eq!(admins.len(), 2, "two enabled admins: {list:?}");
            let other = *admins.iter().find(|a| **a != id).unwrap();
            let other_login = list.json["users"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["id"] == other)
                .unwrap()["login"]
                .as_str()
                .unwrap()
                .to_string();
            let other_password = boss.1.clone();
            let other_password = other_password.as_str();
            let url = |target: i64| {
                if path.is_empty() {
                    format!("/api/admin/users/{target}")
                } else {
                    format!("/api/admin/users/{target}/{path}")
                }
            };
            let body = json!({"isGrafanaAdmin": false}).to_string();
            let (a, b) = futures::join!(
                remove(&one, (&login, "password1"), method, url(other), &body),
                remove(&two, (&other_login, other_password), method, url(id), &body),
            );
            // The loser is refused by the rule, or — when the winner committed before the
            // loser was authenticated — is no longer an admin (403), enabled or there (401).
            let (won, lost) = if a.status == StatusCode::OK {
                (&a, &b)
            } else {
                (&b, &a)
            };
            assert_eq!(
                won.status,
                StatusCode::OK,
                "{method} {path}: one succeeds: {a:?} {b:?}"
            );
            match lost.status {
                StatusCode::BAD_REQUEST => assert_message(
                    lost,
                    StatusCode::BAD_REQUEST,
                    "cannot remove last grafana admin",
                ),
                StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => {}
                _ => panic!("{method} {path}: the other is refused: {a:?} {b:?}"),
            }
            // Restore a clean state for the next round: the survivor is the only enabled admin.
            boss = if a.status == StatusCode::OK {
                (login, "password1".to_string())
            } else {
                (other_login.clone(), other_password.to_string())
            };
            let res = one
                .as_user(&boss.0, &boss.1)
                .get("/api/users/search?perpage=100")
                .await;
            let enabled_admins = res.json["users"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|u| u["isAdmin"] == true && u["isDisabled"] == false)
                .count();
            assert_eq!(enabled_admins, 1, "{res:?}");
        }
        db
    })
    .await;
}

async fn remove(
    app: &crate::TestApp,
    who: (&str, &str),
    method: &str,
    url: String,
    body: &str,
) -> crate::TestResponse {
    let client = app.as_user(who.0, who.1);
    match method {
        "PUT" => client.put(&url, body).await,
        "POST" => client.post(&url, "").await,
        _ => client.delete(&url).await,
    }
}
