//! The bounded password-hashing pool (`src/auth/hasher.rs`): past `[security]
//! password_hash_queue` waiting hashes, sign-ins are shed with 503 and `Retry-After` (Usher's
//! own: Grafana hashes without a bound), and refusals by the lockout look like real checks.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::{basic, each_backend_with, Browser, TestApp, TestResponse};

const OVERLOADED: &str = "Too many password checks at once, try again shortly";

/// One hashing thread and no waiting room: a second concurrent hash is shed.
const TINY_POOL: &[(&str, &str, &str)] = &[
    ("security", "password_hash_concurrency", "1"),
    ("security", "password_hash_queue", "0"),
    ("server", "client_ip_header", "X-Forwarded-For"),
];

#[track_caller]
fn assert_shed(res: &TestResponse) {
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{res:?}");
    assert_eq!(res.json, json!({ "message": OVERLOADED }));
    assert_eq!(
        res.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
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

async fn login(app: &TestApp, user: &str, password: &str) -> TestResponse {
    let body = json!({"user": user, "password": password}).to_string();
    app.request(Method::POST, "/login", None, Some(&body)).await
}

/// Holds the only hashing thread until the returned sender is dropped or sent to.
async fn occupy_the_pool(
    app: &TestApp,
) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
    let hasher = app.state.hasher.clone();
    let job = tokio::spawn(async move {
        hasher
            .run(move |_| {
                let _ = started_tx.send(());
                let _ = wait.recv();
            })
            .await
            .expect("the pool was free");
    });
    started.await.unwrap();
    (release, job)
}

#[tokio::test]
async fn a_burst_of_sign_ins_beyond_the_queue_is_shed_with_503_never_500() {
    each_backend_with(TINY_POOL, |app| async move {
        app.create_user("ann", "ann-password").await;
        let burst = (0..24).map(|i| {
            let app = &app;
            async move {
                if i % 2 == 0 {
                    login(app, "ann", "ann-password").await
                } else {
                    // Basic auth hashes too (until its credentials are cached).
                    let auth = basic("ann", "ann-password");
                    app.request(Method::GET, "/api/user", Some(&auth), None)
                        .await
                }
            }
        });
        let answers = futures::future::join_all(burst).await;
        let shed = answers
            .iter()
            .filter(|r| r.status == StatusCode::SERVICE_UNAVAILABLE)
            .count();
        for res in &answers {
            match res.status {
                StatusCode::OK => {}
                StatusCode::SERVICE_UNAVAILABLE => assert_shed(res),
                _ => panic!("neither signed in nor shed: {res:?}"),
            }
        }
        assert!(shed > 0, "no sign-in was shed");
        assert!(shed < answers.len(), "every sign-in was shed");
        // Shed attempts checked nothing and are not failures: one at a time, all succeed.
        for _ in 0..3 {
            let res = login(&app, "ann", "ann-password").await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_locked_out_refusal_answers_like_a_wrong_password() {
    each_backend_with(TINY_POOL, |app| async move {
        app.create_user("bob", "bob-password").await;
        let from = |ip: &'static str| Browser::new(&app, "test", Some(ip));
        for _ in 0..5 {
            assert_wrong_password(&from("10.0.0.1").login("bob", "wrong").await);
        }
        // Refused without a hash, after a pause as long as a real check: the same body.
        assert_wrong_password(&from("10.0.0.1").login("bob", "bob-password").await);
        assert_wrong_password(&from("10.0.0.1").login("bob", "wrong").await);
        let auth = basic("bob", "bob-password");
        let res = app
            .request_with(
                Method::GET,
                "/api/user",
                &[("authorization", &auth), ("x-forwarded-for", "10.0.0.1")],
                None,
            )
            .await;
        assert_wrong_password(&res);
        assert_eq!(
            from("10.0.0.2").login("bob", "bob-password").await.status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn while_the_pool_is_full_a_locked_out_login_is_shed_like_a_real_check() {
    each_backend_with(TINY_POOL, |app| async move {
        app.create_user("cat", "cat-password").await;
        let from = |ip: &'static str| Browser::new(&app, "test", Some(ip));
        for _ in 0..5 {
            assert_wrong_password(&from("10.0.0.1").login("cat", "wrong").await);
        }
        let (release, job) = occupy_the_pool(&app).await;
        // A real check from elsewhere is shed; so is the locked-out one, or a 401 here would
        // tell the attacker that the login is locked.
        assert_shed(&from("10.0.0.2").login("cat", "cat-password").await);
        assert_shed(&from("10.0.0.1").login("cat", "cat-password").await);
        // So is an unknown login, which spends a dummy check.
        assert_shed(&from("10.0.0.3").login("nobody", "whatever").await);
        release.send(()).unwrap();
        job.await.unwrap();
        assert_wrong_password(&from("10.0.0.1").login("cat", "cat-password").await);
        assert_eq!(
            from("10.0.0.2").login("cat", "cat-password").await.status,
            StatusCode::OK
        );
    })
    .await;
}
