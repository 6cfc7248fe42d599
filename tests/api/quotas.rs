//! Quotas (Grafana's `pkg/api/quota.go`, `pkg/services/quota`): reads and updates per org and
//! per user, and enforcement on dashboards, users, orgs and memberships.

use axum::http::StatusCode;
use serde_json::json;

use crate::{assert_message, each_backend, each_backend_with};

/// Off by default: Grafana 12's 403 `quota.disabled`.
#[tokio::test]
async fn quotas_are_off_by_default() {
    each_backend(|app| async move {
        let res = app.admin().get("/api/org/quotas").await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        assert_eq!(
            res.json,
            json!({"message": "Quotas not enabled", "messageId": "quota.disabled",
                   "statusCode": 403, "traceID": ""})
        );
        // Nothing is limited either.
        for n in 0..3 {
            let body = json!({"dashboard": {"title": format!("d{n}")}});
            let res = app
                .admin()
                .post("/api/dashboards/db", &body.to_string())
                .await;
            assert_eq!(res.status, StatusCode::OK);
        }
    })
    .await;
}

#[tokio::test]
async fn org_and_user_quotas_are_read_updated_and_enforced() {
    let settings = [
        ("quota", "enabled", "true"),
        ("quota", "org_dashboard", "2"),
    ];
    each_backend_with(&settings, |app| async move {
        let admin = app.admin();
        let res = admin.get("/api/org/quotas").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(
            res.json,
            json!([{"org_id": 1, "target": "org_user", "limit": 10, "used": 1},
                   {"org_id": 1, "target": "dashboard", "limit": 2, "used": 0},
                   {"org_id": 1, "target": "api_key", "limit": 10, "used": 0}])
        );
        // Dashboards: the third is refused with Grafana 12's body; updates are not creations.
        let mut uid = String::new();
        for n in 0..2 {
            let body = json!({"dashboard": {"title": format!("d{n}")}});
            let res = admin.post("/api/dashboards/db", &body.to_string()).await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            uid = res.json["uid"].as_str().unwrap().to_string();
        }
        let res = admin
            .post("/api/dashboards/db", r#"{"dashboard": {"title": "d3"}}"#)
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        assert_eq!(
            res.json,
            json!({"message": "Dashboard quota reached", "status": "quota-reached"})
        );
        let id =
            admin.get(&format!("/api/dashboards/uid/{uid}")).await.json["dashboard"]["id"].clone();
        let body = json!({"dashboard": {"id": id, "title": "renamed"}, "overwrite": true});
        assert_eq!(
            admin
                .post("/api/dashboards/db", &body.to_string())
                .await
                .status,
            StatusCode::OK
        );
        // Raising the org's limit lets the next one in.
        let res = admin
            .put("/api/orgs/1/quotas/dashboard", r#"{"limit": 3}"#)
            .await;
        assert_message(&res, StatusCode::OK, "Organization quota updated");
        assert_eq!(
            admin
                .post("/api/dashboards/db", r#"{"dashboard": {"title": "d3"}}"#)
                .await
                .status,
            StatusCode::OK
        );
        let quotas = admin.get("/api/orgs/1/quotas").await.json;
        assert_eq!(
            quotas[1],
            json!({"org_id": 1, "target": "dashboard", "limit": 3, "used": 3})
        );
        let res = admin
            .put("/api/orgs/1/quotas/nope", r#"{"limit": 3}"#)
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert_eq!(res.json["messageId"], "quota.invalid-target-table");
        // Grafana lists default limits for any org id; an unknown org is a 404 here.
        assert_message(
            &admin.get("/api/orgs/999/quotas").await,
            StatusCode::NOT_FOUND,
            "Organization not found",
        );

        // Per user: orgs joined. Grafana's user handler also says "Organization quota updated".
        let uid = app.create_user("ulla", "password1").await;
        let res = admin.get(&format!("/api/admin/users/{uid}/quotas")).await;
        assert_eq!(
            res.json,
            json!([{"user_id": uid, "target": "org_user", "limit": 10, "used": 1}])
        );
        let res = admin
            .put(
                &format!("/api/admin/users/{uid}/quotas/org_user"),
                r#"{"limit": 1}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Organization quota updated");
        // A second org for her is over her limit. (Grafana's middleware checks the caller's own
        // org count here, not the added member's; the member's limit is the one that means
        // something.)
        let org2 = admin.post("/api/orgs", r#"{"name": "Second"}"#).await.json["orgId"]
            .as_i64()
            .unwrap();
        let res = admin
            .post(
                &format!("/api/orgs/{org2}/users"),
                r#"{"loginOrEmail": "ulla", "role": "Viewer"}"#,
            )
            .await;
        assert_message(&res, StatusCode::FORBIDDEN, "org Quota reached");
        assert_eq!(
            admin
                .get(&format!("/api/admin/users/{uid}/quotas"))
                .await
                .json[0]["used"],
            1,
            "nothing added"
        );
        assert_message(
            &admin.get("/api/admin/users/99999/quotas").await,
            StatusCode::NOT_FOUND,
            "user not found",
        );
        // Not an admin: the quota routes are refused.
        assert_eq!(
            app.as_user("ulla", "password1")
                .put("/api/orgs/1/quotas/dashboard", r#"{"limit": 9}"#)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    })
    .await;
}

#[tokio::test]
async fn global_user_and_org_limits_are_enforced() {
    let settings = [
        ("quota", "enabled", "true"),
        ("quota", "global_user", "2"),
        ("quota", "global_org", "2"),
    ];
    each_backend_with(&settings, |app| async move {
        app.create_user("one", "password1").await;
        let body = json!({"login": "two", "password": "password1"}).to_string();
        let res = app.admin().post("/api/admin/users", &body).await;
        assert_message(&res, StatusCode::FORBIDDEN, "user Quota reached");
        let res = app.admin().post("/api/orgs", r#"{"name": "Second"}"#).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = app.admin().post("/api/orgs", r#"{"name": "Third"}"#).await;
        assert_message(&res, StatusCode::FORBIDDEN, "org Quota reached");
    })
    .await;
}

/// How many parallel writes race for the last places under a limit.
const RACERS: usize = 6;

/// Sends `bodies` to `path` all at once, alternately through two instances on one database,
/// and returns how many were created and how many were refused with `refusal`.
async fn race(
    apps: [&crate::TestApp; 2],
    path: &str,
    bodies: Vec<serde_json::Value>,
    refusal: &str,
) -> (usize, usize) {
    let requests = bodies.iter().enumerate().map(|(i, body)| {
        let app = apps[i % 2];
        async move { app.admin().post(path, &body.to_string()).await }
    });
    let results = futures::future::join_all(requests).await;
    let mut created = 0;
    let mut refused = 0;
    for res in &results {
        match res.status {
            StatusCode::OK => created += 1,
            StatusCode::FORBIDDEN => {
                assert_eq!(res.json["message"], refusal, "{res:?}");
                refused += 1;
            }
            _ => panic!("neither created nor refused by the quota: {res:?}"),
        }
    }
    (created, refused)
}

/// Limits are compared with usage inside the writing transaction, after the quota lock
/// (`src/service/quotas.rs`): N creates racing for N-1 places through two instances of one
/// database end with exactly N-1 created — memberships, users and orgs alike.
#[tokio::test]
async fn parallel_creates_cannot_exceed_a_limit() {
    crate::each_db(|db| async move {
        const N: usize = RACERS;
        // At start: one user (admin) and one org (Main Org.). Limits leave N-1 places for each
        // race below, counting what the earlier steps created.
        let users_limit = (2 * N).to_string(); // admin + N joiners + (N-1) racers
        let orgs_limit = (N + 1).to_string(); // Main Org. + Members + (N-1) racers
        let members_limit = N.to_string(); // admin + (N-1) joiners
        let settings = [
            ("quota", "enabled", "true"),
            ("quota", "global_user", users_limit.as_str()),
            ("quota", "global_org", orgs_limit.as_str()),
            ("quota", "org_user", members_limit.as_str()),
            ("quota", "user_org", "-1"),
        ];
        let one = crate::TestApp::start(&db, &settings).await;
        let two = crate::TestApp::start(&db, &settings).await;

        for i in 0..N {
            one.create_user(&format!("joiner{i}"), "password1").await;
        }
        let res = one
            .admin()
            .post("/api/orgs", &json!({"name": "Members"}).to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let org = res.json["orgId"].as_i64().unwrap();
        let joiners = (0..N)
            .map(|i| json!({"loginOrEmail": format!("joiner{i}"), "role": "Viewer"}))
            .collect();
        let path = format!("/api/orgs/{org}/users");
        let (created, refused) = race([&one, &two], &path, joiners, "org Quota reached").await;
        assert_eq!((created, refused), (N - 1, 1), "memberships");
        let members = one.admin().get(&path).await;
        assert_eq!(members.json.as_array().unwrap().len(), N, "{members:?}");

        let users = (0..N)
            .map(|i| json!({"login": format!("racer{i}"), "password": "password1"}))
            .collect();
        let (created, refused) = race(
            [&one, &two],
            "/api/admin/users",
            users,
            "user Quota reached",
        )
        .await;
        assert_eq!((created, refused), (N - 1, 1), "users");

        let orgs = (0..N)
            .map(|i| json!({"name": format!("Race org {i}")}))
            .collect();
        let (created, refused) = race([&one, &two], "/api/orgs", orgs, "org Quota reached").await;
        assert_eq!((created, refused), (N - 1, 1), "orgs");
        db
    })
    .await;
}
