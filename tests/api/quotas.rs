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
