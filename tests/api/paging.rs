//! One paging rule on every paged route (issue 12, item 12): Grafana's zeroes are its defaults
//! (`if perPage <= 0 { perPage = 1000 }`, `if page < 1 { page = 1 }` in pkg/api/users.go,
//! team.go, org_users.go and pkg/services/serviceaccounts/api/api.go), while values that cannot be
//! meant (not a whole number, negative, a page size above 5000) are a 400 with a message (a
//! documented deviation: Grafana reads them as 0).

use axum::http::StatusCode;
use serde_json::Value;

use crate::{assert_message, each_backend, TestResponse};

/// A paged route: its path (with `?` or `&` ready for more), the page-size parameter's name, and
/// where the page number and size are echoed in the answer (if they are).
struct Paged {
    path: &'static str,
    size: &'static str,
    echoes: bool,
}

const PAGED: &[Paged] = &[
    Paged {
        path: "/api/users?",
        size: "perpage",
        echoes: false,
    },
    Paged {
        path: "/api/users/search?",
        size: "perpage",
        echoes: true,
    },
    Paged {
        path: "/api/orgs?",
        size: "perpage",
        echoes: false,
    },
    Paged {
        path: "/api/org/users?",
        size: "limit",
        echoes: false,
    },
    Paged {
        path: "/api/org/users/lookup?",
        size: "limit",
        echoes: false,
    },
    Paged {
        path: "/api/org/users/search?",
        size: "perpage",
        echoes: true,
    },
    Paged {
        path: "/api/orgs/1/users/search?",
        size: "perpage",
        echoes: true,
    },
    Paged {
        path: "/api/teams/search?",
        size: "perpage",
        echoes: true,
    },
    Paged {
        path: "/api/teams/1/members?",
        size: "perpage",
        echoes: false,
    },
    Paged {
        path: "/api/serviceaccounts/search?",
        size: "perpage",
        echoes: true,
    },
    Paged {
        path: "/api/search?",
        size: "limit",
        echoes: false,
    },
];

fn ok(res: &TestResponse, what: &str) {
    assert_eq!(res.status, StatusCode::OK, "{what}: {res:?}");
    assert!(
        res.json.is_array() || res.json.is_object(),
        "{what}: {res:?}"
    );
}

#[tokio::test]
async fn zero_page_and_zero_size_are_grafanas_defaults_on_every_paged_route() {
    each_backend(|app| async move {
        let admin = app.admin();
        assert_eq!(
            admin.post("/api/teams", r#"{"name":"Ops"}"#).await.status,
            StatusCode::OK
        );
        for route in PAGED {
            let size = route.size;
            for q in [
                "page=0".to_string(),
                format!("{size}=0"),
                format!("page=0&{size}=0"),
                format!("page=&{size}="),
            ] {
                let url = format!("{}{q}", route.path);
                let res = admin.get(&url).await;
                ok(&res, &url);
                if route.echoes {
                    assert_eq!(
                        (&res.json["page"], &res.json["perPage"]),
                        (&Value::from(1), &Value::from(1000)),
                        "{url}: {res:?}"
                    );
                }
            }
            // The largest page size is allowed.
            let url = format!("{}{size}=5000&page=2", route.path);
            ok(&admin.get(&url).await, &url);
        }
    })
    .await;
}

#[tokio::test]
async fn the_terraform_providers_page_zero_of_service_accounts_is_page_one() {
    each_backend(|app| async move {
        let admin = app.admin();
        let res = admin
            .post(
                "/api/serviceaccounts",
                r#"{"name":"deploy","role":"Viewer"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        let res = admin
            .get("/api/serviceaccounts/search?perpage=10&page=0&query=")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(
            (
                &res.json["page"],
                &res.json["perPage"],
                &res.json["totalCount"]
            ),
            (&Value::from(1), &Value::from(10), &Value::from(1))
        );
        assert_eq!(res.json["serviceAccounts"][0]["name"], "deploy");
    })
    .await;
}

#[tokio::test]
async fn paging_values_that_cannot_be_meant_are_a_400_on_every_paged_route() {
    each_backend(|app| async move {
        let admin = app.admin();
        assert_eq!(admin.post("/api/teams", r#"{"name":"Ops"}"#).await.status, StatusCode::OK);
        for route in PAGED {
            let size = route.size;
            let cases = [
                ("page=-1".to_string(), "page must be a whole number, 0 or more".to_string()),
                ("page=abc".to_string(), "page must be a whole number, 0 or more".to_string()),
                ("page=1.5".to_string(), "page must be a whole number, 0 or more".to_string()),
                ("page=99999999999999999999".to_string(), "page must be a whole number, 0 or more".to_string()),
                (format!("{size}=-1"), format!("{size} must be a whole number, 0 or more")),
                (format!("{size}=abc"), format!("{size} must be a whole number, 0 or more")),
                (format!("page=1000000001&{size}=10"), "page must not be greater than 1000000000".to_string()),
            ];
            for (q, message) in cases {
                let url = format!("{}{q}", route.path);
                let res = admin.get(&url).await;
                if route.size == "limit" && q.starts_with("page=") && route.path != "/api/search?" {
                    // `limit` routes take no page (Grafana's `GetOrgUsersForCurrentOrg`).
                    ok(&res, &url);
                    continue;
                }
                assert_message(&res, StatusCode::BAD_REQUEST, &message);
            }
            let url = format!("{}{size}=5001", route.path);
            let res = admin.get(&url).await;
            if route.path == "/api/search?" {
                // Grafana's own refusal (pkg/api/search.go).
                assert_message(&res, StatusCode::UNPROCESSABLE_ENTITY, "Limit is above maximum allowed (5000), use page parameter to access hits beyond limit");
            } else {
                assert_message(&res, StatusCode::BAD_REQUEST, &format!("{size} must not be greater than 5000"));
            }
        }
    })
    .await;
}

#[tokio::test]
async fn the_members_of_an_unknown_org_are_a_404() {
    each_backend(|app| async move {
        let admin = app.admin();
        for path in ["/api/orgs/999/users", "/api/orgs/999/users/search"] {
            assert_message(
                &admin.get(path).await,
                StatusCode::NOT_FOUND,
                "Organization not found",
            );
        }
        // A known org still lists its members.
        let res = admin.get("/api/orgs/1/users").await;
        assert_eq!(res.json[0]["login"], "admin", "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn a_paging_parameter_given_twice_is_a_400() {
    each_backend(|app| async move {
        let admin = app.admin();
        for (url, message) in [
            (
                "/api/users/search?perpage=abc&perpage=",
                "perpage must be given once",
            ),
            ("/api/users?page=1&page=2", "page must be given once"),
            ("/api/org/users?limit=1&limit=", "limit must be given once"),
        ] {
            assert_message(&admin.get(url).await, StatusCode::BAD_REQUEST, message);
        }
    })
    .await;
}
