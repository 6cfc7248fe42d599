//! The minimal dashboard store, search and stars (Grafana's `pkg/api/dashboard.go`,
//! `pkg/api/search.go`, `pkg/services/star/api/api.go`, 11.3+/12 behaviour).

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::{assert_message, each_backend, TestApp};

async fn save(app: &TestApp, body: Value) -> crate::TestResponse {
    app.admin()
        .post("/api/dashboards/db", &body.to_string())
        .await
}

/// Creates a dashboard; returns (id, uid).
async fn create(app: &TestApp, title: &str, tags: &[&str]) -> (i64, String) {
    let res = save(app, json!({"dashboard": {"title": title, "tags": tags}})).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    (
        res.json["id"].as_i64().unwrap(),
        res.json["uid"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn dashboards_are_saved_versioned_read_and_deleted() {
    each_backend(|app| async move {
        let res = save(
            &app,
            json!({"dashboard": {"title": " Production Overview ", "panels": [{"id": 1}]}}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let id = res.json["id"].as_i64().unwrap();
        let uid = res.json["uid"].as_str().unwrap().to_string();
        assert_eq!(uid.len(), 14, "Grafana's short uid length");
        assert_eq!(
            res.json,
            json!({"folderUid": "", "id": id, "slug": "production-overview", "status": "success",
                   "uid": uid, "url": format!("/d/{uid}/production-overview"), "version": 1})
        );

        // Update by uid naming the stored version: version 2; a stale version: 412; overwrite.
        let update = |version: i64, overwrite: bool| {
            json!({"dashboard": {"uid": uid, "title": "Prod", "version": version},
                   "overwrite": overwrite})
        };
        let res = save(&app, update(1, false)).await;
        assert_eq!(res.json["version"], 2, "{res:?}");
        assert_eq!(res.json["id"], id);
        let res = save(&app, update(1, false)).await;
        assert_eq!(res.status, StatusCode::PRECONDITION_FAILED);
        assert_eq!(
            res.json,
            json!({"message": "The dashboard has been changed by someone else",
                   "status": "version-mismatch"})
        );
        let res = save(&app, update(1, true)).await;
        assert_eq!(res.json["version"], 3, "{res:?}");

        let res = app.admin().get(&format!("/api/dashboards/uid/{uid}")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let d = &res.json["dashboard"];
        assert_eq!(
            (d["id"].as_i64(), d["uid"].as_str(), d["version"].as_i64()),
            (Some(id), Some(uid.as_str()), Some(3))
        );
        assert_eq!(d["title"], "Prod");
        let meta = &res.json["meta"];
        assert_eq!(meta["slug"], "prod");
        assert_eq!(meta["url"], format!("/d/{uid}/prod"));
        assert_eq!(meta["folderTitle"], "General");
        assert_eq!(meta["createdBy"], "admin");
        assert_eq!(meta["canSave"], true);
        assert_eq!(meta["canDelete"], true);
        assert_eq!(meta["provisioned"], false);
        assert!(meta.get("isStarred").is_none(), "omitted while not starred");

        // Same title again is fine (Grafana 11.3+ dropped title uniqueness).
        create(&app, "Prod", &[]).await;

        let res = app
            .admin()
            .delete(&format!("/api/dashboards/uid/{uid}"))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(
            res.json,
            json!({"title": "Prod", "message": "Dashboard Prod deleted", "uid": uid})
        );
        assert_message(
            &app.admin().get(&format!("/api/dashboards/uid/{uid}")).await,
            StatusCode::NOT_FOUND,
            "Dashboard not found",
        );
        assert_message(
            &app.admin()
                .delete(&format!("/api/dashboards/uid/{uid}"))
                .await,
            StatusCode::NOT_FOUND,
            "Dashboard not found",
        );
    })
    .await;
}

#[tokio::test]
async fn bad_dashboards_get_grafanas_errors() {
    each_backend(|app| async move {
        let (_, uid) = create(&app, "First", &[]).await;
        let (id2, _) = create(&app, "Second", &[]).await;
        let cases: Vec<(Value, StatusCode, Value)> = vec![
            (
                json!({"dashboard": {"title": "   "}}),
                StatusCode::BAD_REQUEST,
                json!({"message": "Dashboard title cannot be empty", "status": "empty-name"}),
            ),
            (
                json!({"dashboard": {"id": 999999, "title": "x"}}),
                StatusCode::NOT_FOUND,
                json!({"message": "Dashboard not found", "status": "not-found"}),
            ),
            (
                json!({"dashboard": {"uid": "a/b", "title": "x"}}),
                StatusCode::BAD_REQUEST,
                json!({"message": "uid contains illegal characters"}),
            ),
            (
                json!({"dashboard": {"uid": "a".repeat(41), "title": "x"}}),
                StatusCode::BAD_REQUEST,
                json!({"message": "uid too long, max 40 characters"}),
            ),
            (
                json!({"dashboard": {"title": "x"}, "folderUid": "nope"}),
                StatusCode::BAD_REQUEST,
                json!({"message": "folder not found"}),
            ),
            (
                // The id names one dashboard, the uid another.
                json!({"dashboard": {"id": id2, "uid": uid, "title": "x"}, "overwrite": true}),
                StatusCode::BAD_REQUEST,
                json!({"message": "A dashboard with the same uid already exists"}),
            ),
            (
                json!({"dashboard": {"title": "x"}, "isFolder": true}),
                StatusCode::BAD_REQUEST,
                json!({"message": "Use folders endpoint for saving folders."}),
            ),
            (
                json!({}),
                StatusCode::BAD_REQUEST,
                json!({"message": "bad request data"}),
            ),
            (
                json!({"dashboard": "x"}),
                StatusCode::BAD_REQUEST,
                json!({"message": "bad request data"}),
            ),
            (
                // Our column limit, where Grafana's database would fail.
                json!({"dashboard": {"title": "t".repeat(190)}}),
                StatusCode::BAD_REQUEST,
                json!({"message": "Dashboard title cannot contain more than 189 characters",
                       "status": "title-too-long"}),
            ),
            (
                json!({"dashboard": {"title": "x", "tags": ["t".repeat(51)]}}),
                StatusCode::BAD_REQUEST,
                json!({"message": "tag too long, max 50 characters"}),
            ),
        ];
        for (body, status, expected) in cases {
            let res = save(&app, body.clone()).await;
            assert_eq!((res.status, &res.json), (status, &expected), "{body}");
        }
        // Nothing half-written: still the two dashboards.
        let all = app.admin().get("/api/search").await.json;
        assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    })
    .await;
}

/// Viewers read, Editors write (Grafana's managed permissions on General's dashboards).
#[tokio::test]
async fn viewers_read_and_editors_write() {
    each_backend(|app| async move {
        let (_, uid) = create(&app, "Shared", &[]).await;
        app.create_user("vic", "password1").await;
        let editor = app.create_user("eddie", "password1").await;
        app.admin()
            .patch(&format!("/api/org/users/{editor}"), r#"{"role": "Editor"}"#)
            .await;
        let vic = app.as_user("vic", "password1");
        let res = vic.get(&format!("/api/dashboards/uid/{uid}")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["meta"]["canSave"], false);
        assert_eq!(res.json["meta"]["canDelete"], false);
        // Grafana asks for "any of dashboards:create, dashboards:write"; we name the first.
        let res = vic
            .post("/api/dashboards/db", r#"{"dashboard": {"title": "Mine"}}"#)
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        assert_eq!(
            vic.delete(&format!("/api/dashboards/uid/{uid}"))
                .await
                .status,
            StatusCode::FORBIDDEN
        );

        let eddie = app.as_user("eddie", "password1");
        let body = json!({"dashboard": {"uid": uid, "title": "Edited", "version": 1}});
        let res = eddie.post("/api/dashboards/db", &body.to_string()).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = eddie.get(&format!("/api/dashboards/uid/{uid}")).await;
        assert_eq!(res.json["meta"]["updatedBy"], "eddie");
        assert_eq!(res.json["meta"]["createdBy"], "admin");
        assert_eq!(
            eddie
                .delete(&format!("/api/dashboards/uid/{uid}"))
                .await
                .status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn search_filters_by_query_tags_uids_and_stars() {
    each_backend(|app| async move {
        let (a, a_uid) = create(&app, "alpha prod", &["prod", "web"]).await;
        let (_, b_uid) = create(&app, "Beta prod", &["prod"]).await;
        let (_, c_uid) = create(&app, "gamma", &[]).await;
        let titles = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|h| h["title"].as_str().unwrap().to_string())
                .collect()
        };
        let admin = app.admin();
        let all = admin.get("/api/search").await.json;
        assert_eq!(
            titles(&all),
            ["alpha prod", "Beta prod", "gamma"],
            "case-insensitive order"
        );
        assert_eq!(
            all[0],
            json!({"id": a, "uid": a_uid, "orgId": 1, "title": "alpha prod",
                   "uri": "db/alpha-prod", "url": format!("/d/{a_uid}/alpha-prod"), "slug": "",
                   "type": "dash-db", "tags": ["prod", "web"], "isStarred": false,
                   "sortMeta": 0, "isDeleted": false})
        );
        assert_eq!(all[2]["tags"], json!([]));
        assert_eq!(
            titles(&admin.get("/api/search?query=PROD").await.json),
            ["alpha prod", "Beta prod"]
        );
        assert_eq!(
            titles(&admin.get("/api/search?tag=prod&tag=web").await.json),
            ["alpha prod"]
        );
        assert_eq!(
            titles(
                &admin
                    .get(&format!(
                        "/api/search?dashboardUIDs={c_uid}&dashboardUIDs={b_uid}"
                    ))
                    .await
                    .json
            ),
            ["Beta prod", "gamma"]
        );
        assert_eq!(
            titles(&admin.get("/api/search?sort=alpha-desc&limit=1").await.json),
            ["gamma"]
        );
        assert_eq!(
            titles(&admin.get("/api/search?limit=1&page=2").await.json),
            ["Beta prod"]
        );
        assert_eq!(
            admin.get("/api/search?type=dash-folder").await.json,
            json!([])
        );
        assert_message(
            &admin.get("/api/search?limit=5001").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Limit is above maximum allowed (5000), use page parameter to access hits beyond limit",
        );
        assert_message(
            &admin
                .get(&format!(
                    "/api/search?dashboardUIDs={a_uid}&dashboardIds={a}"
                ))
                .await,
            StatusCode::BAD_REQUEST,
            "search supports UIDs or IDs, not both",
        );

        // Stars: by id (the seeds) and by uid (Grafana 12); twice is fine; unknown is a 404.
        assert_message(
            &admin
                .post(&format!("/api/user/stars/dashboard/{a}"), "")
                .await,
            StatusCode::OK,
            "Dashboard starred!",
        );
        assert_message(
            &admin
                .post(&format!("/api/user/stars/dashboard/{a}"), "")
                .await,
            StatusCode::OK,
            "Dashboard starred!",
        );
        assert_message(
            &admin
                .post(&format!("/api/user/stars/dashboard/uid/{c_uid}"), "")
                .await,
            StatusCode::OK,
            "Dashboard starred!",
        );
        assert_eq!(
            admin.get("/api/user/stars").await.json,
            json!([a_uid, c_uid])
        );
        assert_eq!(
            titles(&admin.get("/api/search?starred=true").await.json),
            ["alpha prod", "gamma"]
        );
        let res = admin.get(&format!("/api/dashboards/uid/{a_uid}")).await;
        assert_eq!(res.json["meta"]["isStarred"], true);
        assert_message(
            &admin.post("/api/user/stars/dashboard/abc", "").await,
            StatusCode::BAD_REQUEST,
            "Invalid dashboard ID",
        );
        assert_message(
            &admin.post("/api/user/stars/dashboard/0", "").await,
            StatusCode::BAD_REQUEST,
            "Missing dashboard id",
        );
        assert_message(
            &admin.post("/api/user/stars/dashboard/99999", "").await,
            StatusCode::NOT_FOUND,
            "Dashboard not found",
        );
        assert_message(
            &admin.post("/api/user/stars/dashboard/uid/nope", "").await,
            StatusCode::NOT_FOUND,
            "Dashboard not found",
        );
        assert_message(
            &admin
                .delete(&format!("/api/user/stars/dashboard/uid/{c_uid}"))
                .await,
            StatusCode::OK,
            "Dashboard unstarred",
        );
        assert_message(
            &admin
                .delete(&format!("/api/user/stars/dashboard/uid/{c_uid}"))
                .await,
            StatusCode::OK,
            "Dashboard unstarred",
        );
        // Another user's stars are their own.
        app.create_user("sam", "password1").await;
        assert_eq!(
            app.as_user("sam", "password1")
                .get("/api/user/stars")
                .await
                .json,
            json!([])
        );

        // Deleting a dashboard removes its stars.
        admin.delete(&format!("/api/dashboards/uid/{a_uid}")).await;
        assert_eq!(admin.get("/api/user/stars").await.json, json!([]));
    })
    .await;
}

/// Deleting a user removes their stars (and only theirs).
#[tokio::test]
async fn deleting_a_user_removes_their_stars() {
    each_backend(|app| async move {
        let (id, uid) = create(&app, "Starred", &[]).await;
        let sam = app.create_user("sam", "password1").await;
        let client = app.as_user("sam", "password1");
        client
            .post(&format!("/api/user/stars/dashboard/{id}"), "")
            .await;
        app.admin()
            .post(&format!("/api/user/stars/dashboard/{id}"), "")
            .await;
        app.admin().delete(&format!("/api/admin/users/{sam}")).await;
        assert_eq!(app.admin().get("/api/user/stars").await.json, json!([uid]));
        let again = app.create_user("sam", "password1").await;
        assert_ne!(again, sam);
        assert_eq!(client.get("/api/user/stars").await.json, json!([]));
    })
    .await;
}
