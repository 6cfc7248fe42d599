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
        app.set_org_role(editor, "Editor").await;
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

/// A request as the admin in another org (`X-Grafana-Org-Id`).
async fn admin_in_org(
    app: &TestApp,
    org: i64,
    method: axum::http::Method,
    path: &str,
    body: Option<&str>,
) -> crate::TestResponse {
    let auth = crate::basic("admin", "admin");
    let org = org.to_string();
    app.request_with(
        method,
        path,
        &[("authorization", &auth), ("x-grafana-org-id", &org)],
        body,
    )
    .await
}

#[tokio::test]
async fn dashboard_tags_are_counted_per_org_and_sorted_by_term() {
    each_backend(|app| async move {
        // Nothing tagged yet: an empty list, not null.
        let res = app.admin().get("/api/dashboards/tags").await;
        assert_eq!(
            (res.status, &res.json),
            (StatusCode::OK, &json!([])),
            "{res:?}"
        );

        create(&app, "A", &["prod", "web"]).await;
        create(&app, "B", &["web"]).await;
        create(&app, "C", &["db", "web"]).await;
        create(&app, "Untagged", &[]).await;
        // Another org's tags are not counted here.
        let org = app
            .admin()
            .post("/api/orgs", r#"{"name": "Other"}"#)
            .await
            .json["orgId"]
            .as_i64()
            .unwrap();
        let body = json!({"dashboard": {"title": "Elsewhere", "tags": ["web", "zeta"]}});
        let res = admin_in_org(
            &app,
            org,
            axum::http::Method::POST,
            "/api/dashboards/db",
            Some(&body.to_string()),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");

        // Grafana's shape and order: `[{term, count}]`, `GROUP BY term ORDER BY term`
        // (`pkg/services/dashboards/database/database.go` GetDashboardTags).
        let res = app.admin().get("/api/dashboards/tags").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(
            res.json,
            json!([{"term": "db", "count": 1}, {"term": "prod", "count": 1},
                   {"term": "web", "count": 3}])
        );
        let res = admin_in_org(
            &app,
            org,
            axum::http::Method::GET,
            "/api/dashboards/tags",
            None,
        )
        .await;
        assert_eq!(
            res.json,
            json!([{"term": "web", "count": 1}, {"term": "zeta", "count": 1}])
        );

        // Any signed-in member reads them (no permission check in `GetDashboardTags`,
        // `pkg/api/dashboard.go`); an unauthenticated request is a 401 (`reqSignedIn`).
        app.create_user("viv", "viv-secret").await;
        let res = app
            .as_user("viv", "viv-secret")
            .get("/api/dashboards/tags")
            .await;
        assert_eq!(res.json.as_array().map(Vec::len), Some(3), "{res:?}");
        let res = app.anonymous().get("/api/dashboards/tags").await;
        assert_message(&res, StatusCode::UNAUTHORIZED, "Unauthorized");

        // Deleting a dashboard takes its tags out of the counts.
        let (_, d_uid) = create(&app, "D", &["db"]).await;
        app.admin()
            .delete(&format!("/api/dashboards/uid/{d_uid}"))
            .await;
        let res = app.admin().get("/api/dashboards/tags").await;
        assert_eq!(res.json[0], json!({"term": "db", "count": 1}));
    })
    .await;
}

#[tokio::test]
async fn home_dashboard_without_preferences_is_the_built_in_one() {
    each_backend(|app| async move {
        // Grafana's GetHomeDashboard (`pkg/api/dashboard.go`) with no home dashboard preference:
        // `public/dashboards/home.json` with a meta that sets only canEdit and folderTitle.
        app.create_user("viv", "viv-secret").await;
        let res = app
            .as_user("viv", "viv-secret")
            .get("/api/dashboards/home")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let d = &res.json["dashboard"];
        assert_eq!(d["title"], "Home");
        let types: Vec<&str> = d["panels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["welcome", "dashlist", "news"]);
        let meta = &res.json["meta"];
        assert_eq!(meta["canEdit"], false, "a Viewer");
        assert_eq!(meta["canSave"], false);
        assert_eq!(meta["canStar"], false);
        assert_eq!(meta["folderTitle"], "General");
        assert_eq!(meta["slug"], "");
        assert_eq!(meta["version"], 0);
        assert_eq!(meta["created"], "0001-01-01T00:00:00Z");
        assert!(meta["annotationsPermissions"].is_null(), "{meta}");
        assert!(res.json.get("redirectUri").is_none());

        // Org Admins also get the getting-started panel (addGettingStartedPanelToHomeDashboard)
        // while they have not dismissed it; Editors and up may edit.
        let res = app.admin().get("/api/dashboards/home").await;
        let panels = res.json["dashboard"]["panels"].as_array().unwrap().clone();
        assert_eq!(
            panels.last().map(|p| (&p["type"], &p["id"])),
            Some((&json!("gettingstarted"), &json!(123123)))
        );
        assert_eq!(res.json["meta"]["canEdit"], true);

        let res = app.anonymous().get("/api/dashboards/home").await;
        assert_message(&res, StatusCode::UNAUTHORIZED, "Unauthorized");
    })
    .await;
}

#[tokio::test]
async fn home_dashboard_follows_the_user_team_org_preference_chain() {
    each_backend(|app| async move {
        let (_, org_uid) = create(&app, "Org Home", &[]).await;
        let (_, team_uid) = create(&app, "Team Home", &[]).await;
        let (_, user_uid) = create(&app, "User Home", &[]).await;
        let viv = app.create_user("viv", "viv-secret").await;
        let team = app
            .admin()
            .post("/api/teams", r#"{"name": "Ops"}"#)
            .await
            .json["teamId"]
            .as_i64()
            .unwrap();
        let res = app
            .admin()
            .post(
                &format!("/api/teams/{team}/members"),
                &json!({"userId": viv}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let viv_client = app.as_user("viv", "viv-secret");
        let home = || async { viv_client.get("/api/dashboards/home").await };

        // Org preference: a redirect to it (Grafana's `DashboardRedirect`).
        let put = |uid: &str| json!({"homeDashboardUID": uid}).to_string();
        app.admin()
            .put("/api/org/preferences", &put(&org_uid))
            .await;
        let res = home().await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(
            res.json,
            json!({"redirectUri": format!("/d/{org_uid}/org-home")})
        );

        // A team of the user outranks the org (prefimpl merges org, teams, user in that order).
        app.admin()
            .put(&format!("/api/teams/{team}/preferences"), &put(&team_uid))
            .await;
        assert_eq!(
            home().await.json["redirectUri"],
            format!("/d/{team_uid}/team-home")
        );
        // Someone outside the team still gets the org's.
        app.create_user("sam", "sam-secret").await;
        assert_eq!(
            app.as_user("sam", "sam-secret")
                .get("/api/dashboards/home")
                .await
                .json["redirectUri"],
            format!("/d/{org_uid}/org-home")
        );

        // The user's own preference outranks both.
        viv_client
            .put("/api/user/preferences", &put(&user_uid))
            .await;
        assert_eq!(
            home().await.json["redirectUri"],
            format!("/d/{user_uid}/user-home")
        );

        // A preferred dashboard that is gone: Grafana falls back to the built-in one.
        for uid in [&user_uid, &team_uid, &org_uid] {
            app.admin()
                .delete(&format!("/api/dashboards/uid/{uid}"))
                .await;
        }
        let res = home().await;
        assert_eq!(res.json["dashboard"]["title"], "Home", "{res:?}");
    })
    .await;
}
