//! Brute-force protection on `POST /login` and basic auth, and the lockout endpoints
//! (Grafana's `pkg/services/loginattempt/loginattemptimpl/login_attempt.go`; the per-address
//! counting and the endpoints are this server's, see src/auth/brute_force.rs).

use axum::http::{Method, StatusCode};
use chrono::Duration;
use serde_json::json;

use crate::{assert_message, basic, each_backend_with, each_db, Browser, TestApp, TestResponse};

const PROXIED: &[(&str, &str, &str)] = &[("server", "client_ip_header", "X-Forwarded-For")];

async fn login_from(app: &TestApp, ip: &str, user: &str, password: &str) -> TestResponse {
    Browser::new(app, "test", Some(ip))
        .login(user, password)
        .await
}

async fn basic_from(app: &TestApp, ip: &str, user: &str, password: &str) -> TestResponse {
    let auth = basic(user, password);
    app.request_with(
        Method::GET,
        "/api/user",
        &[("authorization", &auth), ("x-forwarded-for", ip)],
        None,
    )
    .await
}

#[track_caller]
fn assert_wrong_password(res: &TestResponse) {
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
    assert_eq!(
        res.json,
        json!({"extra": null, "message": "Invalid username or password",
               "messageId": "password-auth.failed", "statusCode": 401, "traceID": ""})
    );
}

#[tokio::test]
async fn five_failures_lock_a_login_from_that_address_only() {
    each_backend_with(PROXIED, |app| async move {
        let id = app.create_user("ann", "password1").await;
        // Failures through the form and basic auth count together.
        for i in 0..5 {
            let res = if i % 2 == 0 {
                login_from(&app, "10.0.0.1", "ann", "wrong").await
            } else {
                basic_from(&app, "10.0.0.1", "ann", "wrong").await
            };
            assert_wrong_password(&res);
        }
        // Locked: even the right password answers exactly like a wrong one.
        assert_wrong_password(&login_from(&app, "10.0.0.1", "ann", "password1").await);
        assert_wrong_password(&basic_from(&app, "10.0.0.1", "ann", "password1").await);
        // The email names the same user, so it is locked too.
        assert_wrong_password(&login_from(&app, "10.0.0.1", "ann@example.com", "password1").await);
        // The real user elsewhere is not locked out.
        assert_eq!(
            login_from(&app, "10.0.0.2", "ann", "password1")
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            basic_from(&app, "10.0.0.2", "ann", "password1")
                .await
                .status,
            StatusCode::OK
        );

        // An admin sees the lockout and clears it.
        let res = app
            .admin()
            .get(&format!("/api/admin/users/{id}/lockout"))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let now = app.clock.now().timestamp();
        let at = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        assert_eq!(
            res.json,
            json!({"login": "ann", "locked": true, "failedAttempts": 5, "windowSeconds": 300,
                   "addresses": [{"ip": "10.0.0.1", "failedAttempts": 5, "locked": true,
                                  "lastFailedAt": at(now), "lockedUntil": at(now + 300)}]})
        );
        let res = app
            .admin()
            .delete(&format!("/api/admin/users/{id}/lockout"))
            .await;
        assert_message(&res, StatusCode::OK, "User lockout cleared");
        assert_eq!(
            login_from(&app, "10.0.0.1", "ann", "password1")
                .await
                .status,
            StatusCode::OK
        );
        let res = app
            .admin()
            .get(&format!("/api/admin/users/{id}/lockout"))
            .await;
        assert_eq!(res.json["locked"], false);
        assert_eq!(res.json["addresses"], json!([]));

        // Bad ids and callers.
        assert_message(
            &app.admin().get("/api/admin/users/999/lockout").await,
            StatusCode::NOT_FOUND,
            "User not found",
        );
        assert_message(
            &app.admin().delete("/api/admin/users/x/lockout").await,
            // "x" is resolved as a user uid, as on every admin user path (tests/api/compat.rs).
            StatusCode::NOT_FOUND,
            "User not found",
        );
        assert_eq!(
            app.as_user("ann", "password1")
                .get(&format!("/api/admin/users/{id}/lockout"))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    })
    .await;
}

#[tokio::test]
async fn a_lockout_ends_when_the_failures_leave_the_window() {
    each_backend_with(PROXIED, |app| async move {
        app.create_user("bea", "password1").await;
        for _ in 0..5 {
            login_from(&app, "10.0.0.1", "bea", "wrong").await;
        }
        assert_wrong_password(&login_from(&app, "10.0.0.1", "bea", "password1").await);
        app.clock.advance(Duration::seconds(299));
        assert_wrong_password(&login_from(&app, "10.0.0.1", "bea", "password1").await);
        app.clock.advance(Duration::seconds(2));
        assert_eq!(
            login_from(&app, "10.0.0.1", "bea", "password1")
                .await
                .status,
            StatusCode::OK
        );
        // A success forgets that address's failures: four more do not lock.
        for _ in 0..4 {
            login_from(&app, "10.0.0.1", "bea", "wrong").await;
        }
        assert_eq!(
            login_from(&app, "10.0.0.1", "bea", "password1")
                .await
                .status,
            StatusCode::OK
        );
        // Old failures are purged by the clean-up, recent ones kept.
        login_from(&app, "10.0.0.5", "bea", "wrong").await;
        login_from(&app, "10.0.0.5", "bea", "wrong").await;
        app.clock.advance(Duration::minutes(11));
        login_from(&app, "10.0.0.6", "bea", "wrong").await;
        let done = app.state.clean_up().await.unwrap();
        assert_eq!(done.login_attempts, 2, "{done:?}");
    })
    .await;
}

#[tokio::test]
async fn unknown_logins_lock_the_same_way() {
    each_backend_with(PROXIED, |app| async move {
        // Locking reveals nothing about which logins exist.
        app.create_user("cal", "password1").await;
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for _ in 0..6 {
            known.push(login_from(&app, "10.0.0.3", "cal", "wrong").await.json);
            unknown.push(login_from(&app, "10.0.0.3", "nobody", "wrong").await.json);
        }
        assert_eq!(known, unknown);
    })
    .await;
}

#[tokio::test]
async fn one_address_cannot_spray_many_logins() {
    each_backend_with(PROXIED, |app| async move {
        // 20 failures from one address, four per login: no login reaches its own limit.
        for i in 0..20 {
            login_from(&app, "10.0.0.9", &format!("user{}", i / 4), "wrong").await;
        }
        // The address is refused for every login, the real admin included, with the
        // wrong-password answer (Grafana's per-address block says "Login temporarily blocked",
        // passwordless.invalid.login-attempt; here a lockout is indistinguishable from a typo).
        assert_wrong_password(&login_from(&app, "10.0.0.9", "admin", "admin").await);
        // …but the admin is not locked out anywhere else.
        assert_eq!(
            login_from(&app, "10.0.0.10", "admin", "admin").await.status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn many_addresses_lock_a_login_everywhere() {
    each_backend_with(PROXIED, |app| async move {
        let id = app.create_user("dan", "password1").await;
        for i in 0..50 {
            login_from(&app, &format!("10.1.0.{i}"), "dan", "wrong").await;
        }
        assert_wrong_password(&login_from(&app, "10.2.0.1", "dan", "password1").await);
        let res = app
            .admin()
            .get(&format!("/api/admin/users/{id}/lockout"))
            .await;
        assert_eq!(res.json["locked"], true);
        assert_eq!(res.json["failedAttempts"], 50);
        app.admin()
            .delete(&format!("/api/admin/users/{id}/lockout"))
            .await;
        assert_eq!(
            login_from(&app, "10.2.0.1", "dan", "password1")
                .await
                .status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn the_limits_follow_grafanas_settings() {
    each_backend_with(
        &[
            ("server", "client_ip_header", "X-Forwarded-For"),
            ("security", "brute_force_login_protection_max_attempts", "2"),
        ],
        |app| async move {
            app.create_user("eve", "password1").await;
            login_from(&app, "10.0.0.1", "eve", "wrong").await;
            assert_eq!(
                login_from(&app, "10.0.0.1", "eve", "password1")
                    .await
                    .status,
                StatusCode::OK
            );
            login_from(&app, "10.0.0.1", "eve", "wrong").await;
            login_from(&app, "10.0.0.1", "eve", "wrong").await;
            assert_wrong_password(&login_from(&app, "10.0.0.1", "eve", "password1").await);
        },
    )
    .await;
    each_backend_with(
        &[
            ("server", "client_ip_header", "X-Forwarded-For"),
            ("security", "disable_brute_force_login_protection", "true"),
        ],
        |app| async move {
            app.create_user("fay", "password1").await;
            for _ in 0..30 {
                login_from(&app, "10.0.0.1", "fay", "wrong").await;
            }
            assert_eq!(
                login_from(&app, "10.0.0.1", "fay", "password1")
                    .await
                    .status,
                StatusCode::OK
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_cached_basic_auth_credential_does_not_pass_a_lockout() {
    each_backend_with(PROXIED, |app| async move {
        app.create_user("gil", "password1").await;
        // The right password from this address puts the credentials in the cache (and the
        // second request, served from it, has its passed check remembered)…
        for _ in 0..2 {
            let res = basic_from(&app, "10.0.0.1", "gil", "password1").await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
        }
        // …then guesses from the same address lock the login there.
        for _ in 0..5 {
            assert_wrong_password(&basic_from(&app, "10.0.0.1", "gil", "wrong").await);
        }
        // A right guess now answers like a wrong one, although the credentials are cached: the
        // cache must not confirm a guess.
        assert_wrong_password(&basic_from(&app, "10.0.0.1", "gil", "password1").await);
        // Elsewhere the cached credentials still work.
        let res = basic_from(&app, "10.0.0.2", "gil", "password1").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn failures_on_another_instance_lock_cached_basic_auth_within_the_revalidate_interval() {
    each_db(|db| async move {
        {
            let one = TestApp::start(&db, PROXIED).await;
            let two = TestApp::start(&db, PROXIED).await;
            one.create_user("gus", "password1").await;
            for _ in 0..2 {
                let res = basic_from(&one, "10.0.0.1", "gus", "password1").await;
                assert_eq!(res.status, StatusCode::OK, "{res:?}");
            }
            for _ in 0..5 {
                assert_wrong_password(&basic_from(&two, "10.0.0.1", "gus", "wrong").await);
            }
            // Instance one trusts its passed check for [auth.basic] cache_revalidate_interval
            // (1 s), as it trusts the cached row; then it reads the failures.
            one.clock.advance(Duration::seconds(1));
            assert_wrong_password(&basic_from(&one, "10.0.0.1", "gus", "password1").await);
        }
        db
    })
    .await;
}

#[tokio::test]
async fn a_login_known_at_an_address_survives_others_failures_there() {
    each_backend_with(PROXIED, |app| async move {
        app.create_user("hal", "password1").await;
        app.create_user("ida", "password1").await;
        // hal has signed in from the office address before (a day ago).
        let res = login_from(&app, "10.0.0.7", "hal", "password1").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        app.clock.advance(Duration::days(1));
        // A script behind the same address fails 25 times for other logins.
        for i in 0..25 {
            login_from(&app, "10.0.0.7", &format!("script{}", i % 5), "wrong").await;
        }
        // hal still signs in there, with the form and with basic auth…
        let res = login_from(&app, "10.0.0.7", "hal", "password1").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = basic_from(&app, "10.0.0.7", "hal", "password1").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        // …but ida, who never signed in from there, is refused: spraying stays blocked.
        assert_wrong_password(&login_from(&app, "10.0.0.7", "ida", "password1").await);
        assert_wrong_password(&basic_from(&app, "10.0.0.7", "ida", "password1").await);
        // hal's own limit still applies: five failures lock hal there.
        for _ in 0..5 {
            assert_wrong_password(&login_from(&app, "10.0.0.7", "hal", "wrong").await);
        }
        assert_wrong_password(&login_from(&app, "10.0.0.7", "hal", "password1").await);
        assert_wrong_password(&basic_from(&app, "10.0.0.7", "hal", "password1").await);
    })
    .await;
}

#[tokio::test]
async fn a_login_known_on_one_instance_is_known_on_another() {
    each_db(|db| async move {
        {
            let one = TestApp::start(&db, PROXIED).await;
            let two = TestApp::start(&db, PROXIED).await;
            one.create_user("jan", "password1").await;
            let res = login_from(&one, "10.0.0.8", "jan", "password1").await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            for i in 0..20 {
                login_from(&one, "10.0.0.8", &format!("other{i}"), "wrong").await;
            }
            // Both the failures and the success are shared through the database.
            assert_wrong_password(&login_from(&two, "10.0.0.8", "admin", "admin").await);
            let res = login_from(&two, "10.0.0.8", "jan", "password1").await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
        }
        db
    })
    .await;
}

#[tokio::test]
async fn a_known_login_is_forgotten_after_the_known_login_duration() {
    each_backend_with(
        &[
            ("server", "client_ip_header", "X-Forwarded-For"),
            (
                "security",
                "ip_address_login_protection_known_login_duration",
                "7d",
            ),
        ],
        |app| async move {
            app.create_user("kim", "password1").await;
            let res = login_from(&app, "10.0.0.9", "kim", "password1").await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            app.clock.advance(Duration::days(7));
            for i in 0..20 {
                login_from(&app, "10.0.0.9", &format!("other{i}"), "wrong").await;
            }
            assert_wrong_password(&login_from(&app, "10.0.0.9", "kim", "password1").await);
            // The clean-up deletes the forgotten successes (kim's, and the admin's from creating
            // kim) and keeps a recent one.
            let res = login_from(&app, "10.0.0.10", "kim", "password1").await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            let done = app.state.clean_up().await.unwrap();
            assert_eq!(done.login_successes, 2, "{done:?}");
        },
    )
    .await;
    // 0 turns the exemption off: the per-address limit refuses everyone, as in Grafana.
    each_backend_with(
        &[
            ("server", "client_ip_header", "X-Forwarded-For"),
            (
                "security",
                "ip_address_login_protection_known_login_duration",
                "0",
            ),
        ],
        |app| async move {
            app.create_user("lou", "password1").await;
            let res = login_from(&app, "10.0.0.9", "lou", "password1").await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            for i in 0..20 {
                login_from(&app, "10.0.0.9", &format!("other{i}"), "wrong").await;
            }
            assert_wrong_password(&login_from(&app, "10.0.0.9", "lou", "password1").await);
        },
    )
    .await;
}

/// Failures are counted per login exactly on every database: five failures typed as `jose` do not
/// lock out `josé` (MariaDB's accent-blind collation counted them together; see
/// migrations/mysql/0009_login_attempt_exact.sql).
#[tokio::test]
async fn failures_of_a_look_alike_login_do_not_lock_the_other() {
    each_backend_with(PROXIED, |app| async move {
        app.create_user("josé", "password1").await;
        for _ in 0..5 {
            assert_wrong_password(&login_from(&app, "10.0.0.9", "jose", "wrong").await);
        }
        let res = login_from(&app, "10.0.0.9", "josé", "password1").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    })
    .await;
}
