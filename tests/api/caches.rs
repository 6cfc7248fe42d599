//! Bounded caches (issue 13): past their size, the credential, session and token caches evict
//! entries one at a time and keep the ones in use, instead of emptying at once. Hashes are
//! counted (`Hasher::verifications`), never timed.
//!
//! Creating 20,000 users through the API would cost 20,000 password hashes, so these tests create
//! a few hundred through the router, with Grafana's cheaper PBKDF2 scheme, and put the rest of the
//! load straight into the real cache (the same calls a basic-auth request makes on a miss: a
//! read, then an insert), under credentials that no request uses again.

use axum::http::StatusCode;
use serde_json::json;

use crate::{each_backend_with, Browser, TestApp};

/// Cheap password hashes: the tests count them, and create a few hundred users.
const CHEAP_HASHES: (&str, &str, &str) = ("security", "password_hash", "pbkdf2");

fn password(i: usize) -> String {
    format!("secret-{i}")
}

/// Creates `n` users `user0`… and signs each in once with basic auth (a verification each).
async fn users_signed_in(app: &TestApp, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(app.create_user(&format!("user{i}"), &password(i)).await);
    }
    let before = app.state.hasher.verifications();
    sign_in_all(app, n).await;
    assert_eq!(
        app.state.hasher.verifications() - before,
        n as u64,
        "each first sign-in verifies the password"
    );
    ids
}

/// Every one of `user0`…`user{n-1}` makes a basic-auth request.
async fn sign_in_all(app: &TestApp, n: usize) {
    for i in 0..n {
        let res = app
            .as_user(&format!("user{i}"), &password(i))
            .get("/api/user")
            .await;
        assert_eq!(res.status, StatusCode::OK, "user{i}: {res:?}");
    }
}

/// Fills the credential cache with `n` distinct credentials besides the real users', as `n`
/// other users signing in would.
async fn flood_credentials(app: &TestApp, like_user: i64, from: usize, n: usize) {
    let row = app
        .state
        .store
        .signed_in_user(like_user)
        .await
        .unwrap()
        .unwrap();
    let cache = &app.state.credentials;
    let generation = app.state.store.generation();
    let now = app.clock.now();
    for i in from..from + n {
        let key = cache.key_for(&format!("other{i}"), &password(i));
        assert!(cache.get(&key, now).is_none());
        cache.insert(key, row.clone(), generation, now);
    }
}

/// 20,000 distinct signed-in users with the default size (100,000): the old cache emptied itself
/// at 10,000, so the first users paid a hash again; now they are still served from the cache.
#[tokio::test]
async fn twenty_thousand_basic_auth_users_fit_the_default_cache() {
    each_backend_with(&[CHEAP_HASHES], |app| async move {
        const REAL: usize = 200;
        const TOTAL: usize = 20_000;
        let ids = users_signed_in(&app, REAL).await;
        flood_credentials(&app, ids[0], REAL, TOTAL - REAL).await;
        assert!(
            app.state.credentials.len() >= TOTAL as u64,
            "{} entries",
            app.state.credentials.len()
        );

        let before = app.state.hasher.verifications();
        sign_in_all(&app, REAL).await;
        assert_eq!(
            app.state.hasher.verifications(),
            before,
            "the first users are still served from the cache"
        );
    })
    .await;
}

/// With a cache of 1,000 entries and 20,000 other credentials arriving, the users who keep making
/// requests stay cached: entries are evicted one at a time, the least used first, and the cache
/// never holds more than its size.
#[tokio::test]
async fn past_a_small_cache_size_the_basic_auth_users_in_use_stay_cached() {
    let settings = [CHEAP_HASHES, ("auth.basic", "cache_max_entries", "1000")];
    each_backend_with(&settings, |app| async move {
        const HOT: usize = 50;
        const OTHERS: usize = 20_000;
        const ROUND: usize = 200;
        let ids = users_signed_in(&app, HOT).await;
        let before = app.state.hasher.verifications();
        for round in 0..OTHERS / ROUND {
            flood_credentials(&app, ids[0], round * ROUND, ROUND).await;
            sign_in_all(&app, HOT).await;
            let held = app.state.credentials.len();
            let offered = (HOT + 1 + (round + 1) * ROUND).min(900) as u64;
            assert!(held <= 1000, "{held} entries held, more than the size");
            assert!(
                held >= offered,
                "only {held} entries held: the cache was emptied"
            );
        }
        assert_eq!(
            app.state.hasher.verifications(),
            before,
            "users in use never paid a hash again"
        );
    })
    .await;
}

/// Past `[auth] session_cache_max_entries`, the sessions in use stay cached while the cache
/// holds no more than its size.
#[tokio::test]
async fn past_the_session_cache_size_the_sessions_in_use_stay_cached() {
    // On PostgreSQL and MySQL the default revalidate interval is 0 (every request re-reads its
    // row, nothing is cached); an interval makes the cache hold rows on every database.
    let settings = [
        CHEAP_HASHES,
        ("auth", "session_cache_max_entries", "50"),
        ("auth", "session_cache_revalidate_interval", "1h"),
    ];
    each_backend_with(&settings, |app| async move {
        let secret = app.state.config.security.secret_key.expose().to_string();
        let sessions = &app.state.sessions;
        let hot: Vec<Browser> = {
            let mut v = Vec::new();
            for i in 0..5 {
                let b = app.login("admin", "admin", &format!("hot-{i}")).await;
                assert_eq!(b.get("/api/user").await.status, StatusCode::OK);
                v.push(b);
            }
            v
        };
        for batch in 0..8 {
            for i in 0..25 {
                let other = app
                    .login("admin", "admin", &format!("other-{batch}-{i}"))
                    .await;
                assert_eq!(other.get("/api/user").await.status, StatusCode::OK);
            }
            for b in &hot {
                assert_eq!(b.get("/api/user").await.status, StatusCode::OK);
            }
            let held = sessions.len();
            let offered = (5 + (batch + 1) * 25).min(40) as u64;
            assert!(held <= 50, "{held} sessions held, more than the size");
            assert!(
                held >= offered,
                "only {held} sessions held: the cache was emptied"
            );
        }
        for b in &hot {
            assert!(
                sessions.holds(&b.token(), &secret),
                "{} was evicted",
                b.agent
            );
        }
    })
    .await;
}

/// Past `[auth] api_key_cache_max_entries`, the service-account tokens in use stay cached (they
/// pay no token hash again) while the cache holds no more than its size.
#[tokio::test]
async fn past_the_token_cache_size_the_tokens_in_use_stay_cached() {
    let settings = [
        ("auth", "api_key_cache_max_entries", "20"),
        ("auth", "api_key_cache_revalidate_interval", "1h"),
    ];
    each_backend_with(&settings, |app| async move {
        let res = app
            .admin()
            .post(
                "/api/serviceaccounts",
                &json!({"name": "robot", "role": "Viewer"}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        let sa = res.json["id"].as_i64().unwrap();
        let mut n = 0;
        let mut new_token = || {
            n += 1;
            let app = &app;
            async move {
                let res = app
                    .admin()
                    .post(
                        &format!("/api/serviceaccounts/{sa}/tokens"),
                        &json!({ "name": format!("t{n}") }).to_string(),
                    )
                    .await;
                assert_eq!(res.status, StatusCode::OK, "{res:?}");
                let token = res.json["key"].as_str().unwrap().to_string();
                let used = app.bearer(&token).get("/api/org").await;
                assert_eq!(used.status, StatusCode::OK, "{used:?}");
                token
            }
        };
        let mut hot = Vec::new();
        for _ in 0..3 {
            hot.push(new_token().await);
        }
        let tokens = &app.state.tokens;
        for batch in 0..12 {
            for _ in 0..10 {
                new_token().await;
            }
            for t in &hot {
                assert_eq!(app.bearer(t).get("/api/org").await.status, StatusCode::OK);
            }
            let held = tokens.len();
            let offered = (3 + (batch + 1) * 10).min(15) as u64;
            assert!(held <= 20, "{held} tokens held, more than the size");
            assert!(
                held >= offered,
                "only {held} tokens held: the cache was emptied"
            );
        }
        for t in &hot {
            assert!(tokens.holds(t), "a token in use was evicted");
        }
    })
    .await;
}
