//! Issue #14: what real Grafana clients (backup tools, client libraries, the Terraform provider)
//! tripped on, each settled from Grafana's newest source (cited per test).

use axum::http::StatusCode;

use crate::{assert_message, each_backend};

/// Grafana matches a path with one trailing `/` trimmed (pkg/web/tree.go, `Tree.Match`): a
/// backup tool's first call is `GET /api/search/`.
#[tokio::test]
async fn every_route_answers_with_a_trailing_slash() {
    each_backend(|app| async move {
        let admin = app.admin();
        for path in [
            "/api/search/?type=dash-db",
            "/api/users/",
            "/api/users/search/?perpage=5",
            "/api/teams/search/",
            "/api/org/users/",
            "/api/user/",
            "/api/users/1/",
        ] {
            let res = admin.get(path).await;
            assert_eq!(res.status, StatusCode::OK, "{path}: {res:?}");
        }
        let team = admin.post("/api/teams/", r#"{"name":"Slash"}"#).await;
        assert_eq!(team.status, StatusCode::OK, "{team:?}");
        assert_eq!(
            admin.get("/api/teams/search/?name=Slash").await.json["totalCount"],
            1
        );
        // Only one slash is trimmed, as Grafana trims one.
        assert_message(
            &admin.get("/api/users//").await,
            StatusCode::NOT_FOUND,
            "Not found",
        );
    })
    .await;
}
