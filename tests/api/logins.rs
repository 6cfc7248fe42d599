//! Logins that look alike or collide: comparison is exact after case folding on every database
//! (MariaDB's accent-blind collation took `jose` for `josé`), full-width forms fold to ASCII
//! (NFKC), invisible and text-direction characters are refused, and no user may take the login
//! of a service account. Beyond Grafana, which compares in the database's collation and has no
//! such rules.

use axum::http::StatusCode;
use serde_json::json;

use crate::each_backend;
use crate::{assert_message, Browser, TestApp};

async fn create(app: &TestApp, login: &str, email: &str) -> crate::TestResponse {
    let body = json!({"login": login, "email": email, "name": login, "password": "password1"});
    app.admin()
        .post("/api/admin/users", &body.to_string())
        .await
}

#[tokio::test]
async fn a_plain_login_does_not_sign_in_as_the_accented_one() {
    each_backend(|app| async move {
        let res = create(&app, "José", "jose.accent@example.com").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = app.as_user("jose", "password1").get("/api/user").await;
        assert_message(
            &res,
            StatusCode::UNAUTHORIZED,
            "Invalid username or password",
        );
        let res = Browser::new(&app, "agent", None)
            .login("jose", "password1")
            .await;
        assert_message(
            &res,
            StatusCode::UNAUTHORIZED,
            "Invalid username or password",
        );
        // The same letters in another case are the same login.
        let res = app.as_user("JOSÉ", "password1").get("/api/user").await;
        assert_eq!(
            (res.status, res.json["login"].as_str()),
            (StatusCode::OK, Some("josé")),
            "{res:?}"
        );
        let res = Browser::new(&app, "agent", None)
            .login("JOSÉ", "password1")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn accented_and_plain_logins_are_two_users() {
    each_backend(|app| async move {
        let res = create(&app, "José", "jose.accent@example.com").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = create(&app, "jose", "jose.plain@example.com").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        // Emails compare the same way.
        let res = create(&app, "other", "josé@example.com").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = create(&app, "another", "jose@example.com").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        for (needle, login) in [
            ("jose", "jose"),
            ("José", "josé"),
            ("josé@example.com", "other"),
            ("jose@example.com", "another"),
        ] {
            let res = app
                .admin()
                .get(&format!(
                    "/api/users/lookup?loginOrEmail={}",
                    urlencode(needle)
                ))
                .await;
            assert_eq!(res.json["login"].as_str(), Some(login), "{needle}: {res:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_full_width_login_is_the_ascii_login() {
    each_backend(|app| async move {
        let res = create(&app, "ＡＤＭＩＮ", "fullwidth@example.com").await;
        assert_message(
            &res,
            StatusCode::PRECONDITION_FAILED,
            "User with email 'fullwidth@example.com' or username 'ＡＤＭＩＮ' already exists",
        );
        let res = create(&app, "ｂｏｂ", "ｂｏｂ@ｅｘａｍｐｌｅ.ｃｏｍ").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = app.as_user("bob", "password1").get("/api/user").await;
        assert_eq!(res.json["login"], "bob", "{res:?}");
        assert_eq!(res.json["email"], "bob@example.com", "{res:?}");
        // Typed in full width at sign-in, it is the same account: same password, same lockout.
        let res = app.as_user("ＢＯＢ", "password1").get("/api/user").await;
        assert_eq!(res.json["login"], "bob", "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn invisible_and_text_direction_characters_are_refused_in_logins_and_emails() {
    each_backend(|app| async move {
        let bob = app.create_user("bob", "password1").await;
        let message = "login must not contain invisible or text-direction characters";
        for login in [
            "ad\u{202E}nim",
            "ad\u{200B}min",
            "\u{FEFF}admin",
            "ad\u{2066}min",
            "ad\u{00AD}min",
        ] {
            let res = create(&app, login, "x@example.com").await;
            assert_message(&res, StatusCode::BAD_REQUEST, message);
            let body = json!({"login": login}).to_string();
            let res = app.admin().put(&format!("/api/users/{bob}"), &body).await;
            assert_message(&res, StatusCode::BAD_REQUEST, message);
            let res = app
                .as_user("bob", "password1")
                .put("/api/user", &body)
                .await;
            assert_message(&res, StatusCode::BAD_REQUEST, message);
        }
        let res = create(&app, "carol", "ca\u{200D}rol@example.com").await;
        assert_message(
            &res,
            StatusCode::BAD_REQUEST,
            "email must not contain invisible or text-direction characters",
        );
    })
    .await;
}

#[tokio::test]
async fn users_cannot_take_a_service_account_login() {
    each_backend(|app| async move {
        let bob = app.create_user("bob", "password1").await;
        let message =
            "login must not start with 'sa-<org id>-': that form is reserved for service accounts";
        let res = create(&app, "sa-1-deploybot", "deploy@example.com").await;
        assert_message(&res, StatusCode::BAD_REQUEST, message);
        // An email becomes the login when none is given.
        let body = json!({"email": "sa-1-deploybot@example.com", "password": "password1"});
        let res = app
            .admin()
            .post("/api/admin/users", &body.to_string())
            .await;
        assert_message(
            &res,
            StatusCode::BAD_REQUEST,
            "email must not start with 'sa-<org id>-': that form is reserved for service accounts",
        );
        let body = json!({"login": "SA-1-DeployBot"}).to_string();
        let res = app
            .as_user("bob", "password1")
            .put("/api/user", &body)
            .await;
        assert_message(&res, StatusCode::BAD_REQUEST, message);
        let res = app.admin().put(&format!("/api/users/{bob}"), &body).await;
        assert_message(&res, StatusCode::BAD_REQUEST, message);
        let body = json!({"login": "sa-autogen-1-key"}).to_string();
        let res = app.admin().put(&format!("/api/users/{bob}"), &body).await;
        assert_message(&res, StatusCode::BAD_REQUEST, message);
        // So the org Admin can create that service account.
        let res = app
            .admin()
            .post("/api/serviceaccounts", r#"{"name": "deploybot"}"#)
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        assert_eq!(res.json["login"], "sa-1-deploybot");
        // Logins merely starting with "sa-" stay allowed.
        let res = create(&app, "sa-jones", "jones@example.com").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    })
    .await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
