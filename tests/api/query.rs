//! Typed query strings (issue 13, `src/api/query.rs`): each route reads its query into a struct,
//! answers a value it cannot use with the same Grafana-shaped 400 as before, and the OpenAPI
//! document lists exactly that struct's fields as the route's query parameters.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::Value;

use crate::{assert_message, each_backend};

#[tokio::test]
async fn garbage_in_a_typed_query_parameter_keeps_its_400_message() {
    each_backend(|app| async move {
        let admin = app.admin();
        let team = admin.post("/api/teams", r#"{"name":"Query"}"#).await;
        assert_eq!(team.status, StatusCode::OK, "{team:?}");
        let members = format!("/api/teams/{}/members?perpage=-1", team.json["teamId"]);
        assert_message(
            &admin.get(&members).await,
            StatusCode::BAD_REQUEST,
            "perpage must be a whole number, 0 or more",
        );
        for (path, message) in [
            (
                "/api/users/search?sort=bogus",
                r#"unknown sort option "bogus""#,
            ),
            (
                "/api/users?sort=login-asc,nope",
                r#"unknown sort option "nope""#,
            ),
            (
                "/api/org/users/search?sort=memberCount-asc",
                r#"unknown sort option "memberCount-asc""#,
            ),
            (
                "/api/teams/search?sort=login-asc",
                r#"unknown sort option "login-asc""#,
            ),
            ("/api/orgs?page=x", "page must be a whole number, 0 or more"),
            (
                "/api/org/users/lookup?limit=abc",
                "limit must be a whole number, 0 or more",
            ),
            (
                "/api/serviceaccounts/search?perpage=5001",
                "perpage must not be greater than 5000",
            ),
            (
                "/api/search?page=1.5",
                "page must be a whole number, 0 or more",
            ),
            // Paging is checked before the sort options, wherever each stands in the query.
            (
                "/api/users/search?sort=bogus&page=x",
                "page must be a whole number, 0 or more",
            ),
        ] {
            assert_message(&admin.get(path).await, StatusCode::BAD_REQUEST, message);
        }
        let long = format!("/api/users/search?query={}", "q".repeat(191));
        assert_message(
            &admin.get(&long).await,
            StatusCode::BAD_REQUEST,
            "query is too long",
        );
        // Grafana's own 422 for a dashboard search page size above 5000.
        assert_message(
            &admin.get("/api/search?limit=5001").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Limit is above maximum allowed (5000), use page parameter to access hits beyond limit",
        );
    })
    .await;
}

#[tokio::test]
async fn lenient_query_values_stay_lenient() {
    each_backend(|app| async move {
        let admin = app.admin();
        // Unknown names are ignored; a repeated (non-paging) name keeps its last value.
        let res = admin
            .get("/api/users/search?bogus=1&query=nobody-matches&query=admin")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["totalCount"], 1, "{res:?}");
        // Flags that are not Go booleans or `true` read as false, as in Grafana.
        for path in [
            "/api/serviceaccounts/search?disabled=maybe&expiredTokens=2&accesscontrol=yes",
            "/api/auth/keys?includeExpired=yes",
            "/api/search?starred=sure&dashboardIds=x&sort=sideways",
        ] {
            let res = admin.get(path).await;
            assert_eq!(res.status, StatusCode::OK, "{path}: {res:?}");
        }
        // Empty paging values are the defaults.
        let res = admin.get("/api/users/search?page=&perpage=").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(
            (&res.json["page"], &res.json["perPage"]),
            (&1.into(), &1000.into())
        );
    })
    .await;
}

#[tokio::test]
async fn the_document_lists_exactly_each_query_structs_fields() {
    each_backend(|app| async move {
        let doc = app.anonymous().get("/api/openapi.json").await.json;
        let query_params = |path: &str| -> Vec<Value> {
            doc["paths"][path]["get"]["parameters"]
                .as_array()
                .unwrap_or_else(|| panic!("{path}"))
                .iter()
                .filter(|p| p["in"] == "query")
                .cloned()
                .collect()
        };
        let names = |path: &str| -> BTreeSet<String> {
            query_params(path)
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect()
        };
        let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
        for (path, expected) in [
            (
                "/api/users/search",
                set(&["perpage", "page", "query", "sort"]),
            ),
            ("/api/users", set(&["perpage", "page", "query", "sort"])),
            ("/api/users/lookup", set(&["loginOrEmail"])),
            ("/api/org/users/lookup", set(&["query", "limit"])),
            ("/api/org/users", set(&["query", "limit"])),
            (
                "/api/teams/search",
                set(&["query", "name", "perpage", "page", "sort"]),
            ),
            ("/api/teams/{teamId}/members", set(&["perpage", "page"])),
            (
                "/api/serviceaccounts/search",
                set(&[
                    "query",
                    "perpage",
                    "page",
                    "expiredTokens",
                    "disabled",
                    "accesscontrol",
                ]),
            ),
            ("/api/users/{id}", set(&[])),
        ] {
            assert_eq!(names(path), expected, "{path}");
        }
        let param = |path: &str, name: &str| {
            query_params(path)
                .into_iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("{name} in {path}"))
        };
        // Optional, described by the field's doc comment, with the paging rule's schema and no
        // `nullable`/`default` from the struct's Option fields.
        let page = param("/api/users/search", "page");
        assert_eq!(page["required"], false, "{page}");
        assert!(page["description"].is_string(), "{page}");
        assert_eq!(
            page["schema"]["anyOf"][0]["maximum"], 1_000_000_000,
            "{page}"
        );
        assert_eq!(page["schema"]["anyOf"][1]["maxLength"], 0, "{page}");
        let limit = param("/api/org/users/lookup", "limit");
        assert_eq!(limit["schema"]["anyOf"][0]["maximum"], 5000, "{limit}");
        for (path, name) in [
            ("/api/users/search", "query"),
            ("/api/org/users/lookup", "query"),
            ("/api/users/lookup", "loginOrEmail"),
        ] {
            let p = param(path, name);
            assert_eq!(p["schema"]["type"], "string", "{p}");
            assert!(p["schema"].get("nullable").is_none(), "{p}");
            assert!(p["schema"].get("default").is_none(), "{p}");
        }
        // Each route's own sort options.
        let user_sort = param("/api/users/search", "sort")["schema"]["pattern"].clone();
        let team_sort = param("/api/teams/search", "sort")["schema"]["pattern"].clone();
        assert!(
            user_sort.as_str().unwrap().contains("lastSeenAtAge-asc"),
            "{user_sort}"
        );
        assert!(
            team_sort.as_str().unwrap().contains("memberCount-asc"),
            "{team_sort}"
        );
        assert!(
            !team_sort.as_str().unwrap().contains("login-asc"),
            "{team_sort}"
        );
    })
    .await;
}
