//! Login sessions: `POST /login`, `GET /logout`, the session cookie, rotation, lifetimes, the
//! auth-token listings and revocations, CSRF, and sessions shared by two instances (Grafana's
//! `pkg/api/login.go`, `pkg/api/user_token.go`, `pkg/api/admin_users.go`,
//! `pkg/services/auth/authimpl/auth_token.go`, `pkg/middleware/csrf/csrf.go`).

use axum::http::{Method, StatusCode};
use chrono::Duration;
use serde_json::json;

use crate::{assert_message, each_backend, each_backend_with, each_db, Backend, Browser, TestApp};
use usher::auth::session::hash_token;

const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.119 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 11_0 like Mac OS X) AppleWebKit/604.1.38 (KHTML, like Gecko) Version/11.0 Mobile/15A372 Safari/604.1";

/// Grafana's body for an unknown, expired or revoked session cookie (`pkg/middleware/auth.go`).
#[track_caller]
fn assert_session_refused(res: &crate::TestResponse) {
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
    assert_eq!(res.json, json!({"message": "Unauthorized", "traceID": ""}));
}

#[tokio::test]
async fn login_sets_grafanas_cookies_and_logout_ends_the_session() {
    each_backend(|app| async move {
        let b = Browser::new(&app, CHROME, None);
        let res = b.login("admin", "admin").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(
            res.json,
            json!({"message": "Logged in", "redirectUrl": "/"})
        );
        let token = res.cookie("grafana_session").unwrap();
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|c| c.is_ascii_hexdigit()));
        // Max-Age is the absolute lifetime (30 days); HttpOnly; SameSite from cookie_samesite.
        assert_eq!(
            res.set_cookie("grafana_session").unwrap(),
            format!("grafana_session={token}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax")
        );
        // grafana_session_expiry: when the token should be rotated (now + 10 min - 5 s), readable
        // by scripts.
        let rotate_at = app.clock.now().timestamp() + 600 - 5;
        assert_eq!(
            res.set_cookie("grafana_session_expiry").unwrap(),
            format!("grafana_session_expiry={rotate_at}; Path=/; Max-Age=2592000; SameSite=Lax")
        );

        // Only the hash is stored: hex(SHA-256(token + secret_key)).
        let secret = app.state.config.security.secret_key.expose();
        assert!(app
            .state
            .store
            .session_by_token(&token)
            .await
            .unwrap()
            .is_none());
        let row = app
            .state
            .store
            .session_by_token(&hash_token(&token, secret))
            .await
            .unwrap()
            .expect("the hashed token is stored");
        assert_eq!(row.session.user_agent, CHROME);

        let me = b.get("/api/user").await;
        assert_eq!(me.status, StatusCode::OK, "{me:?}");
        assert_eq!(me.json["login"], "admin");

        let out = b.get("/logout").await;
        assert_eq!(out.status, StatusCode::FOUND, "{out:?}");
        assert_eq!(out.headers["location"], "/login");
        assert_eq!(
            out.set_cookie("grafana_session").unwrap(),
            "grafana_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            out.set_cookie("grafana_session_expiry").unwrap(),
            "grafana_session_expiry=; Path=/; Max-Age=0; SameSite=Lax"
        );
        // The browser dropped the cookie; the old value is refused anyway.
        b.set_token(&token);
        assert_session_refused(&b.get("/api/user").await);
        assert_eq!(app.state.store.count_sessions().await.unwrap(), 0);
        // Logging out without a session is harmless.
        let out = app.anonymous().get("/logout").await;
        assert_eq!(out.status, StatusCode::FOUND);
    })
    .await;
}

#[tokio::test]
async fn login_takes_login_or_email_and_refuses_bad_forms_with_grafanas_errors() {
    each_backend(|app| async move {
        app.create_user("mia", "password1").await;
        for name in ["mia", "MIA", "mia@example.com"] {
            let b = Browser::new(&app, CHROME, None);
            let res = b.login(name, "password1").await;
            assert_eq!(res.status, StatusCode::OK, "{name}: {res:?}");
            assert_eq!(b.get("/api/user").await.json["login"], "mia");
        }
        // pkg/services/authn/clients/form.go: errBadForm.
        let anon = app.anonymous();
        for body in [
            "not json",
            "[]",
            r#"{"user": "mia"}"#,
            r#"{"password": "password1"}"#,
            r#"{"user": 5, "password": "password1"}"#,
            r#"{"user": "", "password": ""}"#,
        ] {
            let res = anon.post("/login", body).await;
            assert_message(&res, StatusCode::BAD_REQUEST, "bad login data");
            assert_eq!(res.json["messageId"], "form-auth.invalid", "{body}");
            assert!(res.set_cookies().is_empty());
        }
        // Wrong password and unknown login: one answer (pkg/services/authn/clients/password.go).
        let wrong = anon
            .post("/login", r#"{"user": "mia", "password": "nope"}"#)
            .await;
        assert_eq!(
            wrong.json,
            json!({"extra": null, "message": "Invalid username or password",
                   "messageId": "password-auth.failed", "statusCode": 401, "traceID": ""})
        );
        let unknown = anon
            .post("/login", r#"{"user": "nobody", "password": "nope"}"#)
            .await;
        assert_eq!(unknown.json, wrong.json);
        assert!(wrong.set_cookies().is_empty());
        // Oversized bodies are refused before parsing.
        let big = format!(r#"{{"user": "{}", "password": "x"}}"#, "a".repeat(2 << 20));
        assert_eq!(
            anon.post("/login", &big).await.status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(app.state.store.count_sessions().await.unwrap(), 3);
    })
    .await;
}

#[tokio::test]
async fn disable_login_form_turns_password_login_off_but_not_basic_auth() {
    each_backend_with(
        &[("auth", "disable_login_form", "true")],
        |app| async move {
            let res = app
                .anonymous()
                .post("/login", r#"{"user": "admin", "password": "admin"}"#)
                .await;
            // Grafana registers no form client: "client not configured" (authnimpl/registration.go).
            assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
            assert_eq!(res.json["messageId"], "auth.client.notConfigured");
            assert_eq!(app.admin().get("/api/user").await.status, StatusCode::OK);
        },
    )
    .await;
}

#[tokio::test]
async fn cookie_flags_follow_the_security_settings() {
    type Settings<'a> = &'a [(&'a str, &'a str, &'a str)];
    // Settings, expected session cookie (T = the token), expected redirectUrl.
    let cases: &[(Settings, &str, &str)] = &[
        (
            &[
                ("security", "cookie_secure", "true"),
                ("security", "cookie_samesite", "strict"),
            ],
            "grafana_session=T; Path=/; Max-Age=2592000; HttpOnly; Secure; SameSite=Strict",
            "/",
        ),
        // https in root_url turns Secure on by itself (the issue asks for it; Grafana sets Secure
        // from cookie_secure only, pkg/middleware/cookies/cookies.go); "disabled" drops SameSite.
        (
            &[
                ("server", "root_url", "https://grafana.example.com/grafana/"),
                ("security", "cookie_samesite", "disabled"),
            ],
            "grafana_session=T; Path=/grafana; Max-Age=2592000; HttpOnly; Secure",
            "/grafana/",
        ),
        (
            &[
                ("security", "cookie_samesite", "none"),
                ("auth", "login_maximum_lifetime_duration", "1d"),
            ],
            "grafana_session=T; Path=/; Max-Age=86400; HttpOnly; SameSite=None",
            "/",
        ),
    ];
    for (settings, expected, redirect) in cases {
        each_backend_with(settings, |app| async move {
            let b = Browser::new(&app, CHROME, None);
            let res = b.login("admin", "admin").await;
            assert_eq!(res.json["redirectUrl"], *redirect);
            let token = res.cookie("grafana_session").unwrap();
            assert_eq!(
                res.set_cookie("grafana_session").unwrap(),
                expected.replace("=T;", &format!("={token};"))
            );
            assert_eq!(b.get("/api/user").await.status, StatusCode::OK);
        })
        .await;
    }
    // Another cookie name.
    each_backend_with(
        &[("auth", "login_cookie_name", "usher_sid")],
        |app| async move {
            let res = app
                .anonymous()
                .post("/login", r#"{"user": "admin", "password": "admin"}"#)
                .await;
            let token = res.cookie("usher_sid").expect("named cookie");
            assert!(res.cookie("usher_sid_expiry").is_some());
            let cookie = format!("usher_sid={token}");
            let me = app
                .request_with(Method::GET, "/api/user", &[("cookie", &cookie)], None)
                .await;
            assert_eq!(me.status, StatusCode::OK);
            let wrong_name = format!("grafana_session={token}");
            let me = app
                .request_with(Method::GET, "/api/user", &[("cookie", &wrong_name)], None)
                .await;
            assert_eq!(me.status, StatusCode::UNAUTHORIZED);
        },
    )
    .await;
}

#[tokio::test]
async fn the_token_rotates_and_the_previous_one_has_a_grace_window() {
    each_backend(|app| async move {
        let b = Browser::new(&app, CHROME, None);
        b.login("admin", "admin").await;
        let t0 = b.token();
        // Within the rotation interval nothing changes.
        app.clock.advance(Duration::minutes(9));
        let res = b.get("/api/user").await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(res.set_cookies().is_empty(), "{:?}", res.set_cookies());

        app.clock.advance(Duration::minutes(2));
        let res = b.get("/api/user").await;
        assert_eq!(res.status, StatusCode::OK);
        let t1 = b.token();
        assert_ne!(t1, t0, "rotated after token_rotation_interval_minutes");
        let rotate_at = app.clock.now().timestamp() + 600 - 5;
        assert_eq!(
            res.cookie("grafana_session_expiry").unwrap(),
            rotate_at.to_string()
        );

        // A request sent with t0 before the new cookie arrived still succeeds.
        let late = Browser::new(&app, CHROME, None);
        late.set_token(&t0);
        let res = late.get("/api/user").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert!(res.set_cookies().is_empty(), "no second rotation at once");
        // The client uses t1; t0 keeps working for the grace window only.
        assert_eq!(b.get("/api/user").await.status, StatusCode::OK);
        app.clock.advance(Duration::seconds(30));
        late.set_token(&t0);
        assert_eq!(late.get("/api/user").await.status, StatusCode::OK);
        app.clock.advance(Duration::seconds(31));
        late.set_token(&t0);
        assert_session_refused(&late.get("/api/user").await);
        assert_eq!(b.get("/api/user").await.status, StatusCode::OK);
        assert_eq!(b.token(), t1);
    })
    .await;
}

#[tokio::test]
async fn a_client_that_missed_the_new_cookie_gets_another_one() {
    each_backend(|app| async move {
        let b = Browser::new(&app, CHROME, None);
        b.login("admin", "admin").await;
        let t0 = b.token();
        app.clock.advance(Duration::minutes(11));
        // The response carrying t1 is lost.
        let lost = b.get("/api/user").await.cookie("grafana_session").unwrap();
        b.set_token(&t0);
        app.clock.advance(Duration::seconds(10));
        let res = b.get("/api/user").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let t2 = res.cookie("grafana_session").expect("a fresh token");
        assert!(t2 != t0 && t2 != lost);
        assert_eq!(b.get("/api/user").await.status, StatusCode::OK);
        // The token that never reached the client is dead.
        b.set_token(&lost);
        assert_session_refused(&b.get("/api/user").await);
        // One session throughout.
        assert_eq!(app.state.store.count_sessions().await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn simultaneous_requests_rotate_once() {
    each_backend(|app| async move {
        let b = Browser::new(&app, CHROME, None);
        b.login("admin", "admin").await;
        let t0 = b.token();
        app.clock.advance(Duration::minutes(11));
        let one = Browser::new(&app, CHROME, None);
        let two = Browser::new(&app, CHROME, None);
        one.set_token(&t0);
        two.set_token(&t0);
        let (r1, r2) = futures::join!(one.get("/api/user"), two.get("/api/user"));
        assert_eq!(r1.status, StatusCode::OK, "{r1:?}");
        assert_eq!(r2.status, StatusCode::OK, "{r2:?}");
        let issued: Vec<String> = [&r1, &r2]
            .iter()
            .filter_map(|r| r.cookie("grafana_session"))
            .collect();
        assert_eq!(issued.len(), 1, "exactly one request rotates");
        // Both the new token and (within the grace) the old one work.
        for t in [&issued[0], &t0] {
            let c = Browser::new(&app, CHROME, None);
            c.set_token(t);
            assert_eq!(c.get("/api/user").await.status, StatusCode::OK);
        }
    })
    .await;
}

#[tokio::test]
async fn sessions_expire_when_idle_and_at_their_absolute_lifetime() {
    each_backend(|app| async move {
        // Idle: 7 days after the last rotation.
        let idle = Browser::new(&app, CHROME, None);
        idle.login("admin", "admin").await;
        app.clock.advance(Duration::days(6));
        assert_eq!(idle.get("/api/user").await.status, StatusCode::OK);
        app.clock.advance(Duration::days(6));
        assert_eq!(
            idle.get("/api/user").await.status,
            StatusCode::OK,
            "activity keeps it alive"
        );
        app.clock.advance(Duration::days(7) + Duration::seconds(1));
        assert_session_refused(&idle.get("/api/user").await);

        // Absolute: 30 days after login, however active.
        let busy = Browser::new(&app, CHROME, None);
        busy.login("admin", "admin").await;
        for _ in 0..4 {
            app.clock.advance(Duration::days(6));
            assert_eq!(busy.get("/api/user").await.status, StatusCode::OK);
        }
        app.clock.advance(Duration::days(6) - Duration::seconds(1));
        assert_eq!(busy.get("/api/user").await.status, StatusCode::OK);
        // Grafana: expired once created_at <= now - login_maximum_lifetime_duration.
        app.clock.advance(Duration::seconds(1));
        assert_session_refused(&busy.get("/api/user").await);

        // Expired rows are purged by the periodic clean-up.
        assert_eq!(app.state.store.count_sessions().await.unwrap(), 2);
        let done = app.state.clean_up().await.unwrap();
        assert_eq!(done.sessions, 2);
        assert_eq!(app.state.store.count_sessions().await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn garbage_and_unknown_cookies_get_grafanas_401() {
    each_backend(|app| async move {
        let long = "f".repeat(10_000);
        for cookie in [
            "grafana_session=",
            "grafana_session=zzz",
            "grafana_session=00000000000000000000000000000000",
            "grafana_session=\"quoted\"",
            &format!("grafana_session={long}"),
        ] {
            let res = app
                .request_with(Method::GET, "/api/user", &[("cookie", cookie)], None)
                .await;
            assert_session_refused(&res);
        }
        // Without a cookie: Grafana's errutil 401.
        let res = app.anonymous().get("/api/user").await;
        assert_eq!(res.json["messageId"], "auth.unauthorized");
        // Basic auth wins over a bad cookie.
        let res = app
            .request_with(
                Method::GET,
                "/api/user",
                &[
                    ("cookie", "grafana_session=zzz"),
                    ("authorization", &crate::basic("admin", "admin")),
                ],
                None,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn a_database_failure_during_cookie_lookup_is_a_500_not_a_logout() {
    each_backend(|app| async move {
        let b = Browser::new(&app, CHROME, None);
        b.login("admin", "admin").await;
        app.state.store.close().await;
        let res = b.get("/api/user").await;
        assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR, "{res:?}");
        assert!(res.set_cookies().is_empty(), "the cookie is kept");
    })
    .await;
}

#[tokio::test]
async fn two_sessions_are_listed_with_parsed_user_agents() {
    each_backend_with(
        &[("server", "client_ip_header", "X-Forwarded-For")],
        |app| async move {
            let desk = Browser::new(&app, CHROME, Some("198.51.100.7"));
            desk.login("admin", "admin").await;
            app.clock.advance(Duration::minutes(1));
            let phone = Browser::new(&app, IPHONE, Some("10.1.1.1, 203.0.113.9"));
            phone.login("admin", "admin").await;

            let res = desk.get("/api/user/auth-tokens").await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            let list = res.json.as_array().unwrap().clone();
            assert_eq!(list.len(), 2, "{list:?}");
            let created = |secs: i64| {
                chrono::DateTime::from_timestamp(secs, 0)
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            };
            // Created at login; seen when its cookie was first used (this request).
            let t0 = app.clock.now().timestamp() - 60;
            assert_eq!(
                list[0],
                json!({"id": list[0]["id"], "isActive": true, "clientIp": "198.51.100.7",
                   "browser": "Chrome", "browserVersion": "72.0", "os": "Linux", "osVersion": "",
                   "device": "Other", "authModule": "",
                   "createdAt": created(t0), "seenAt": created(t0 + 60)})
            );
            // The proxy's last X-Forwarded-For entry is the client.
            assert_eq!(list[1]["clientIp"], "203.0.113.9");
            assert_eq!(list[1]["isActive"], false);
            assert_eq!(list[1]["browser"], "Mobile Safari");
            assert_eq!(list[1]["browserVersion"], "11.0");
            assert_eq!(list[1]["os"], "iOS");
            assert_eq!(list[1]["osVersion"], "11.0");
            assert_eq!(list[1]["device"], "iPhone");
            // From the phone, the phone is the active one; over basic auth neither is.
            let res = phone.get("/api/user/auth-tokens").await;
            assert_eq!(res.json[1]["isActive"], true);
            assert_eq!(res.json[0]["isActive"], false);
            let res = app.admin().get("/api/user/auth-tokens").await;
            assert!(res
                .json
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["isActive"] == false));
            // A user agent longer than the column is cut, not refused.
            let huge = Browser::new(&app, &"x".repeat(5000), None);
            assert_eq!(huge.login("admin", "admin").await.status, StatusCode::OK);
            assert_eq!(
                huge.get("/api/user/auth-tokens")
                    .await
                    .json
                    .as_array()
                    .unwrap()
                    .len(),
                3
            );
        },
    )
    .await;
}

#[tokio::test]
async fn the_client_address_header_counts_only_when_configured() {
    each_backend(|app| async move {
        let b = Browser::new(&app, CHROME, Some("203.0.113.9"));
        b.login("admin", "admin").await;
        let list = b.get("/api/user/auth-tokens").await.json;
        // No socket peer in these in-process requests, and the header is not trusted.
        assert_eq!(list[0]["clientIp"], "");
    })
    .await;
}

#[tokio::test]
async fn revoking_a_session_refuses_its_cookie_at_once() {
    each_backend(|app| async move {
        let a = Browser::new(&app, CHROME, None);
        a.login("admin", "admin").await;
        let b = Browser::new(&app, IPHONE, None);
        b.login("admin", "admin").await;
        // b's row is read and cached (SQLite) before it is revoked: the revocation still applies
        // on b's next request.
        for _ in 0..2 {
            assert_eq!(b.get("/api/user").await.status, StatusCode::OK);
        }
        let list = a.get("/api/user/auth-tokens").await.json;
        let (a_id, b_id) = (
            list[0]["id"].as_i64().unwrap(),
            list[1]["id"].as_i64().unwrap(),
        );

        // The caller's own session cannot be revoked this way.
        let res = a
            .post(
                "/api/user/revoke-auth-token",
                &json!({"authTokenId": a_id}).to_string(),
            )
            .await;
        assert_message(
            &res,
            StatusCode::BAD_REQUEST,
            "Cannot revoke active user auth token",
        );

        let res = a
            .post(
                "/api/user/revoke-auth-token",
                &json!({"authTokenId": b_id}).to_string(),
            )
            .await;
        assert_message(&res, StatusCode::OK, "User auth token revoked");
        assert_session_refused(&b.get("/api/user").await);
        assert_eq!(a.get("/api/user").await.status, StatusCode::OK);

        // Twice, unknown, missing, and another user's token: 404 (GetUserToken filters by user).
        let again = a
            .post(
                "/api/user/revoke-auth-token",
                &json!({"authTokenId": b_id}).to_string(),
            )
            .await;
        assert_message(&again, StatusCode::NOT_FOUND, "User auth token not found");
        let res = a
            .post("/api/user/revoke-auth-token", r#"{"authTokenId": 99999}"#)
            .await;
        assert_message(&res, StatusCode::NOT_FOUND, "User auth token not found");
        let res = a.post("/api/user/revoke-auth-token", "{}").await;
        assert_message(&res, StatusCode::NOT_FOUND, "User auth token not found");
        app.create_user("kim", "password1").await;
        let kim = app.login("kim", "password1", CHROME).await;
        let kims = kim.get("/api/user/auth-tokens").await.json[0]["id"]
            .as_i64()
            .unwrap();
        let res = a
            .post(
                "/api/user/revoke-auth-token",
                &json!({"authTokenId": kims}).to_string(),
            )
            .await;
        assert_message(&res, StatusCode::NOT_FOUND, "User auth token not found");
        assert_eq!(kim.get("/api/user").await.status, StatusCode::OK);
        // Wrong types and broken JSON.
        for body in [r#"{"authTokenId": "one"}"#, "nope", "[1]"] {
            let res = a.post("/api/user/revoke-auth-token", body).await;
            assert_message(&res, StatusCode::BAD_REQUEST, "bad request data");
        }
        // Anonymous callers get nothing.
        assert_eq!(
            app.anonymous().get("/api/user/auth-tokens").await.status,
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

#[tokio::test]
async fn admins_list_revoke_and_log_out_a_users_sessions() {
    each_backend(|app| async move {
        let id = app.create_user("lou", "password1").await;
        let one = app.login("lou", "password1", CHROME).await;
        let two = app.login("lou", "password1", IPHONE).await;
        for _ in 0..2 {
            assert_eq!(one.get("/api/user").await.status, StatusCode::OK);
            assert_eq!(two.get("/api/user").await.status, StatusCode::OK);
        }
        let admin = app.admin();

        let res = admin
            .get(&format!("/api/admin/users/{id}/auth-tokens"))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let list = res.json.as_array().unwrap().clone();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["browser"], "Chrome");
        assert!(list.iter().all(|t| t["isActive"] == false));

        let first = list[0]["id"].as_i64().unwrap();
        let res = admin
            .post(
                &format!("/api/admin/users/{id}/revoke-auth-token"),
                &json!({"authTokenId": first}).to_string(),
            )
            .await;
        assert_message(&res, StatusCode::OK, "User auth token revoked");
        assert_session_refused(&one.get("/api/user").await);
        assert_eq!(two.get("/api/user").await.status, StatusCode::OK);
        // A token id of another user (the admin's own sessions are not lou's).
        let res = admin
            .post(
                "/api/admin/users/1/revoke-auth-token",
                &json!({"authTokenId": list[1]["id"]}).to_string(),
            )
            .await;
        assert_message(&res, StatusCode::NOT_FOUND, "User auth token not found");

        let res = admin
            .post(&format!("/api/admin/users/{id}/logout"), "")
            .await;
        assert_message(&res, StatusCode::OK, "User logged out");
        assert_session_refused(&two.get("/api/user").await);
        assert_eq!(
            admin
                .get(&format!("/api/admin/users/{id}/auth-tokens"))
                .await
                .json,
            json!([])
        );

        // Grafana's refusals (pkg/api/admin_users.go).
        assert_message(
            &admin.post("/api/admin/users/1/logout", "").await,
            StatusCode::BAD_REQUEST,
            "You cannot logout yourself",
        );
        assert_message(
            &admin.post("/api/admin/users/999/logout", "").await,
            StatusCode::NOT_FOUND,
            "User not found",
        );
        assert_message(
            &admin.get("/api/admin/users/abc/auth-tokens").await,
            // Grafana 11.3+ resolves "abc" as a uid: unknown (tests/api/compat.rs).
            StatusCode::NOT_FOUND,
            "User not found",
        );
        assert_message(
            &admin.get("/api/admin/users/999/auth-tokens").await,
            StatusCode::NOT_FOUND,
            "User not found",
        );
        assert_message(
            &admin
                .post(
                    "/api/admin/users/999/revoke-auth-token",
                    r#"{"authTokenId": 1}"#,
                )
                .await,
            StatusCode::NOT_FOUND,
            "User not found",
        );
        // Not for ordinary users, with a cookie or basic auth.
        let lou = app.login("lou", "password1", CHROME).await;
        for res in [
            lou.get("/api/admin/users/1/auth-tokens").await,
            app.as_user("lou", "password1")
                .post("/api/admin/users/1/logout", "")
                .await,
        ] {
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn disabling_or_deleting_a_user_ends_their_sessions() {
    each_backend(|app| async move {
        let id = app.create_user("dee", "password1").await;
        let dee = app.login("dee", "password1", CHROME).await;
        for _ in 0..2 {
            assert_eq!(dee.get("/api/user").await.status, StatusCode::OK);
        }
        app.admin()
            .post(&format!("/api/admin/users/{id}/disable"), "")
            .await;
        assert_session_refused(&dee.get("/api/user").await);
        // A disabled user cannot log in, even with the right password (Grafana's
        // `identity.disabled`, pkg/services/authn/authnimpl/service.go).
        let res = Browser::new(&app, CHROME, None)
            .login("dee", "password1")
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
        assert_eq!(res.json["messageId"], "identity.disabled");
        assert!(res.set_cookies().is_empty());
        app.admin()
            .post(&format!("/api/admin/users/{id}/enable"), "")
            .await;
        // Enabling does not bring the session back; a new login works.
        assert_session_refused(&dee.get("/api/user").await);
        let dee = app.login("dee", "password1", CHROME).await;
        assert_eq!(
            app.admin()
                .delete(&format!("/api/admin/users/{id}"))
                .await
                .status,
            StatusCode::OK
        );
        assert_session_refused(&dee.get("/api/user").await);
        assert_eq!(app.state.store.count_sessions().await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_password_change_keeps_only_the_session_that_made_it() {
    each_backend(|app| async move {
        let id = app.create_user("pat", "password1").await;
        let here = app.login("pat", "password1", CHROME).await;
        let there = app.login("pat", "password1", IPHONE).await;
        for _ in 0..2 {
            assert_eq!(there.get("/api/user").await.status, StatusCode::OK);
        }
        let res = here
            .put(
                "/api/user/password",
                r#"{"oldPassword": "password1", "newPassword": "password2"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "User password changed");
        assert_eq!(here.get("/api/user").await.status, StatusCode::OK);
        assert_session_refused(&there.get("/api/user").await);

        // An admin's reset ends every session of the user.
        let again = app.login("pat", "password2", IPHONE).await;
        let res = app
            .admin()
            .put(
                &format!("/api/admin/users/{id}/password"),
                r#"{"password": "password3"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "User password updated");
        assert_session_refused(&here.get("/api/user").await);
        assert_session_refused(&again.get("/api/user").await);
        assert_eq!(
            app.login("pat", "password3", CHROME)
                .await
                .get("/api/user")
                .await
                .status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn cookie_requests_from_other_origins_are_refused() {
    each_backend_with(
        &[("security", "csrf_trusted_origins", "sso.example.com")],
        |app| async move {
            let b = Browser::new(&app, CHROME, None);
            b.login("admin", "admin").await;
            let body = r#"{"name": "Admin", "email": "admin@localhost", "login": "admin"}"#;
            let put = |extra: Vec<(&'static str, &'static str)>| {
                let b = &b;
                async move {
                    let mut headers = vec![("host", "grafana.example.com")];
                    headers.extend(extra);
                    b.send(Method::PUT, "/api/user", &headers, Some(body)).await
                }
            };
            // Grafana sends "origin not allowed" as text/plain; this server sends the same message
            // as JSON, like every other error (README, "Where Usher differs").
            let res = put(vec![("origin", "https://evil.example")]).await;
            assert_message(&res, StatusCode::FORBIDDEN, "origin not allowed");
            let res = put(vec![("origin", "null")]).await;
            assert_message(&res, StatusCode::FORBIDDEN, "origin not allowed");
            // No Origin, but the browser says the request is cross-site.
            let res = put(vec![("sec-fetch-site", "cross-site")]).await;
            assert_message(&res, StatusCode::FORBIDDEN, "origin not allowed");
            // Grafana checks reads with an Origin too.
            let res = b
                .send(
                    Method::GET,
                    "/api/user",
                    &[
                        ("host", "grafana.example.com"),
                        ("origin", "https://evil.example"),
                    ],
                    None,
                )
                .await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);

            for ok in [
                vec![("origin", "https://grafana.example.com")],
                vec![("origin", "http://grafana.example.com:3000")],
                vec![("origin", "https://sso.example.com")],
                vec![("sec-fetch-site", "same-origin")],
                // curl with a cookie jar sends neither.
                vec![],
            ] {
                let res = put(ok.clone()).await;
                assert_eq!(res.status, StatusCode::OK, "{ok:?}: {res:?}");
            }
            // Basic auth is not affected: browsers never add it on their own.
            let res = app
                .request_with(
                    Method::PUT,
                    "/api/user",
                    &[
                        ("authorization", &crate::basic("admin", "admin")),
                        ("origin", "https://evil.example"),
                    ],
                    Some(body),
                )
                .await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
        },
    )
    .await;
}

#[tokio::test]
async fn the_rotate_endpoint_works_like_grafanas() {
    each_backend(|app| async move {
        // No cookie, or a dead one: 401 and both cookies cleared (pkg/api/user_token.go).
        let res = app
            .anonymous()
            .post("/api/user/auth-tokens/rotate", "")
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert_eq!(res.json, json!({"message": "Unauthorized"}));
        assert!(res
            .set_cookie("grafana_session")
            .unwrap()
            .contains("Max-Age=0"));
        let b = Browser::new(&app, CHROME, None);
        b.login("admin", "admin").await;
        let t0 = b.token();
        // Just rotated (at login): nothing to do.
        let res = b.post("/api/user/auth-tokens/rotate", "").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.json, json!({}));
        assert!(res.set_cookies().is_empty());
        app.clock.advance(Duration::minutes(1));
        let res = b.post("/api/user/auth-tokens/rotate", "").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_ne!(b.token(), t0);
        assert!(res.cookie("grafana_session_expiry").is_some());
        assert_eq!(b.get("/api/user").await.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn a_revocation_on_one_instance_is_refused_on_the_other() {
    each_db(|db| async move {
        let one = TestApp::start(&db, &[]).await;
        let two = TestApp::start(&db, &[]).await;
        let id = one.create_user("ivy", "password1").await;
        let on_one = one.login("ivy", "password1", CHROME).await;
        let token = on_one.token();
        // Twice: the first request marks the token seen, the second reads it as it now stands.
        for _ in 0..2 {
            assert_eq!(on_one.get("/api/user").await.status, StatusCode::OK);
        }
        let on_two = Browser::new(&two, CHROME, None);
        on_two.set_token(&token);
        assert_eq!(on_two.get("/api/user").await.status, StatusCode::OK);

        let tokens = two
            .admin()
            .get(&format!("/api/admin/users/{id}/auth-tokens"))
            .await;
        let token_id = tokens.json[0]["id"].as_i64().unwrap();
        let res = two
            .admin()
            .post(
                &format!("/api/admin/users/{id}/revoke-auth-token"),
                &json!({"authTokenId": token_id}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        if matches!(db.backend, Backend::Sqlite) {
            // A SQLite file belongs to one server process: instance one may reuse the row it
            // read for up to [auth] session_cache_revalidate_interval (1 s by default).
            assert_eq!(on_one.get("/api/user").await.status, StatusCode::OK);
            one.clock.advance(Duration::seconds(1));
        }
        // On PostgreSQL and MySQL every request reads the row: refused at once.
        assert_session_refused(&on_one.get("/api/user").await);

        // A rotation on one instance is honoured by the other, and the two never both rotate.
        let s = one.login("ivy", "password1", CHROME).await;
        let t0 = s.token();
        one.clock.advance(Duration::minutes(11));
        two.clock.advance(Duration::minutes(11));
        let via_two = Browser::new(&two, CHROME, None);
        via_two.set_token(&t0);
        let (r1, r2) = futures::join!(s.get("/api/user"), via_two.get("/api/user"));
        assert_eq!((r1.status, r2.status), (StatusCode::OK, StatusCode::OK));
        let issued = [&r1, &r2]
            .iter()
            .filter(|r| r.cookie("grafana_session").is_some())
            .count();
        assert_eq!(issued, 1);
        db
    })
    .await;
}

/// Sends `POST /login` for admin/admin as a browser would, with `headers`.
async fn browser_login(app: &TestApp, headers: &[(&str, &str)]) -> crate::TestResponse {
    let body = r#"{"user": "admin", "password": "admin"}"#;
    let mut all = vec![("host", "grafana.example.com"), ("user-agent", CHROME)];
    all.extend_from_slice(headers);
    app.request_with(Method::POST, "/login", &all, Some(body))
        .await
}

#[tokio::test]
async fn a_cross_site_login_is_refused_and_sets_no_cookie() {
    each_backend(|app| async move {
        // A form on another site posting a JSON-looking text/plain body (login CSRF: it would sign
        // the victim's browser in to the attacker's account).
        let res = browser_login(
            &app,
            &[
                ("content-type", "text/plain"),
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
        )
        .await;
        assert_message(&res, StatusCode::FORBIDDEN, "origin not allowed");
        assert_eq!(res.set_cookies(), Vec::<String>::new());
        // The origin rule alone refuses it, whatever the body says it is…
        for headers in [
            vec![("origin", "https://evil.example")],
            vec![("origin", "null")],
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
        ] {
            let res = browser_login(&app, &headers).await;
            assert_message(&res, StatusCode::FORBIDDEN, "origin not allowed");
            assert_eq!(res.set_cookies(), Vec::<String>::new(), "{headers:?}");
        }
        // …and the content type alone too (this server's rule, see src/error.rs).
        let res = browser_login(&app, &[("content-type", "text/plain;charset=UTF-8")]).await;
        assert_message(
            &res,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
        assert_eq!(res.set_cookies(), Vec::<String>::new());
    })
    .await;
}

#[tokio::test]
async fn a_same_origin_json_login_works() {
    each_backend(|app| async move {
        for headers in [
            vec![
                ("origin", "https://grafana.example.com"),
                ("sec-fetch-site", "same-origin"),
            ],
            vec![("content-type", "application/json; charset=utf-8")],
            // Scripts (curl, grafana-client) send neither Origin nor Sec-Fetch-Site.
            vec![],
        ] {
            let res = browser_login(&app, &headers).await;
            assert_eq!(res.status, StatusCode::OK, "{headers:?}: {res:?}");
            assert!(res.cookie("grafana_session").is_some(), "{res:?}");
        }
    })
    .await;
}
