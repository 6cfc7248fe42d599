//! Basic auth, the credential cache and password hashes (Grafana's `pkg/services/authn/clients/basic.go`
//! and `pkg/util/encoding.go`).

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::{basic, each_backend, each_backend_with, each_db, TestApp};

#[tokio::test]
async fn missing_or_bad_credentials_get_grafanas_401_body() {
    each_backend(|app| async move {
        let res = app.anonymous().get("/api/user").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            res.json,
            json!({"extra": null, "message": "Unauthorized", "messageId": "auth.unauthorized", "statusCode": 401, "traceID": ""})
        );
        let res = app.as_user("admin", "wrong").get("/api/user").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert_eq!(res.json["message"], "Invalid username or password");
        assert_eq!(res.json["messageId"], "password-auth.failed");
        // Unknown login: the same answer, so logins cannot be probed.
        let unknown = app.as_user("nobody", "wrong").get("/api/user").await;
        assert_eq!(unknown.json, res.json);
        // Garbage in the header.
        let res = app.request(Method::GET, "/api/user", Some("Basic !!!"), None).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
        let res = app.request(Method::GET, "/api/user", Some("Bearer nope"), None).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn basic_auth_takes_login_or_email_in_any_case() {
    each_backend(|app| async move {
        app.create_user("yuri", "Secret-pw1").await;
        for login in ["yuri", "YURI", "yuri@example.com", "Yuri@Example.COM"] {
            let res = app.as_user(login, "Secret-pw1").get("/api/user").await;
            assert_eq!(res.status, StatusCode::OK, "{login}: {res:?}");
            assert_eq!(res.json["login"], "yuri");
        }
        // The password is case-sensitive.
        assert_eq!(
            app.as_user("yuri", "secret-pw1")
                .get("/api/user")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        // A password containing ':' is split at the first colon only.
        app.create_user("zed", "pa:ss:word").await;
        assert_eq!(
            app.as_user("zed", "pa:ss:word")
                .get("/api/user")
                .await
                .status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn basic_auth_can_be_turned_off() {
    each_backend_with(&[("auth.basic", "enabled", "false")], |app| async move {
        let res = app.admin().get("/api/user").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
        assert_eq!(res.json["messageId"], "auth.unauthorized");
        // Public routes still answer.
        assert_eq!(
            app.anonymous().get("/api/health").await.status,
            StatusCode::OK
        );
    })
    .await;
}

/// The credential cache must notice changes made by another instance sharing the database: on
/// the next request with `cache_revalidate_interval = 0`, and once the interval has passed by
/// default (changes through the same instance apply at once; see the other tests).
#[tokio::test]
async fn cached_credentials_follow_changes_made_by_another_instance() {
    for (revalidate, wait) in [("0", 0), ("1s", 2)] {
        each_db(|db| async move {
            let settings = [("auth.basic", "cache_revalidate_interval", revalidate)];
            let one = TestApp::start(&db, &settings).await;
            let two = TestApp::start(&db, &settings).await;
            let pass = || one.clock.advance(chrono::Duration::seconds(wait));
            let id = one.create_user("ada", "password1").await;
            let ada_on_one = one.as_user("ada", "password1");
            assert_eq!(ada_on_one.get("/api/user").await.status, StatusCode::OK);
            assert_eq!(
                ada_on_one.get("/api/user").await.status,
                StatusCode::OK,
                "served from the cache"
            );

            // Password changed through instance two.
            let res = two
                .admin()
                .put(
                    &format!("/api/admin/users/{id}/password"),
                    r#"{"password":"password2"}"#,
                )
                .await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            pass();
            assert_eq!(
                ada_on_one.get("/api/user").await.status,
                StatusCode::UNAUTHORIZED
            );
            let ada2_on_one = one.as_user("ada", "password2");
            assert_eq!(ada2_on_one.get("/api/user").await.status, StatusCode::OK);

            // Disabled through instance two.
            two.admin()
                .post(&format!("/api/admin/users/{id}/disable"), "")
                .await;
            pass();
            assert_eq!(
                ada2_on_one.get("/api/user").await.status,
                StatusCode::UNAUTHORIZED
            );
            two.admin()
                .post(&format!("/api/admin/users/{id}/enable"), "")
                .await;
            pass();
            assert_eq!(ada2_on_one.get("/api/user").await.status, StatusCode::OK);

            // Admin flag granted through instance two is seen by instance one.
            assert_eq!(
                ada2_on_one.get("/api/users").await.status,
                StatusCode::FORBIDDEN
            );
            two.admin()
                .put(
                    &format!("/api/admin/users/{id}/permissions"),
                    r#"{"isGrafanaAdmin":true}"#,
                )
                .await;
            pass();
            assert_eq!(ada2_on_one.get("/api/users").await.status, StatusCode::OK);

            // Deleted through instance two.
            two.admin()
                .put(
                    &format!("/api/admin/users/{id}/permissions"),
                    r#"{"isGrafanaAdmin":false}"#,
                )
                .await;
            two.admin().delete(&format!("/api/admin/users/{id}")).await;
            pass();
            assert_eq!(
                ada2_on_one.get("/api/user").await.status,
                StatusCode::UNAUTHORIZED
            );
            db
        })
        .await;
    }
}

/// Within the revalidation interval, instance one keeps serving what it verified: the bound on
/// staleness across instances is exactly that interval.
#[tokio::test]
async fn another_instances_change_applies_after_the_revalidation_interval() {
    each_db(|db| async move {
        let one = TestApp::start(&db, &[("auth.basic", "cache_revalidate_interval", "30s")]).await;
        let two = TestApp::start(&db, &[]).await;
        let id = one.create_user("bo", "password1").await;
        let bo = one.as_user("bo", "password1");
        assert_eq!(bo.get("/api/user").await.status, StatusCode::OK);
        two.admin()
            .post(&format!("/api/admin/users/{id}/disable"), "")
            .await;
        assert_eq!(
            bo.get("/api/user").await.status,
            StatusCode::OK,
            "still within 30 s"
        );
        one.clock.advance(chrono::Duration::seconds(31));
        assert_eq!(bo.get("/api/user").await.status, StatusCode::UNAUTHORIZED);
        db
    })
    .await;
}

#[tokio::test]
async fn grafana_pbkdf2_hashes_verify_and_are_upgraded_on_login() {
    each_backend(|app| async move {
        let id = app.create_user("bea", "placeholder1").await;
        // A hash exactly as Grafana writes it (`util.EncodePassword`): PBKDF2-HMAC-SHA256,
        // 10,000 iterations, 50-byte key, hex. Computed independently with Python's
        // hashlib.pbkdf2_hmac('sha256', b'grafana-pw', b'AbCdEfGhIj', 10000, 50).hex().
        let grafana_hash = "00bd2319d9b03106c0c2d21f4c792bdd12e9070e07fb94b6a727683dc0ace1a6ba2d5e3a3da2ab941affa3352c18408513ac";
        usher::service::in_tx(&app.state, async |tx| usher::service::users::set_password(&app.state, tx, id, grafana_hash, "AbCdEfGhIj", None).await).await.unwrap();

        assert_eq!(app.as_user("bea", "wrong").get("/api/user").await.status, StatusCode::UNAUTHORIZED);
        let row = app.state.store.user_by_id(id).await.unwrap().unwrap();
        assert_eq!(row.password.as_deref(), Some(grafana_hash), "a failed login does not touch the hash");

        assert_eq!(app.as_user("bea", "grafana-pw").get("/api/user").await.status, StatusCode::OK);
        let row = app.state.store.user_by_id(id).await.unwrap().unwrap();
        let upgraded = row.password.unwrap();
        assert!(upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{upgraded}");
        // And the new hash verifies the password on its own.
        let salt = row.salt.unwrap_or_default();
        assert!(usher::auth::password::verify("grafana-pw", &upgraded, &salt));
        assert!(!usher::auth::password::verify("grafana-pwx", &upgraded, &salt));
    })
    .await;
}

#[tokio::test]
async fn a_database_failure_is_a_500_not_a_401() {
    each_backend(|app| async move {
        app.state.store.close().await;
        let res = app
            .request(
                Method::GET,
                "/api/user",
                Some(&basic("admin", "admin")),
                None,
            )
            .await;
        assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR, "{res:?}");
        assert!(res.json["message"].is_string(), "{res:?}");
        // The database's own text is not shown to the client.
        assert!(!res.text.to_lowercase().contains("pool"), "{res:?}");
    })
    .await;
}
