//! The OpenAPI document is generated from the route table; these tests fail when a route is
//! missing from it or documented but not served.

use axum::http::{Method, StatusCode};

use crate::{basic, each_backend};

/// Every route this server must serve (issues 2, 3 and 4). Adding a route means adding it here.
const EXPECTED: &[(&str, &str)] = &[
    ("get", "/api/health"),
    ("get", "/api/user"),
    ("put", "/api/user"),
    ("put", "/api/user/password"),
    ("get", "/api/user/orgs"),
    ("get", "/api/user/teams"),
    ("post", "/api/user/using/{orgId}"),
    ("get", "/api/users"),
    ("get", "/api/users/search"),
    ("get", "/api/users/lookup"),
    ("get", "/api/users/{id}"),
    ("put", "/api/users/{id}"),
    ("get", "/api/users/{id}/orgs"),
    ("get", "/api/users/{id}/teams"),
    ("post", "/api/users/{id}/using/{orgId}"),
    ("post", "/api/admin/users"),
    ("put", "/api/admin/users/{id}/password"),
    ("put", "/api/admin/users/{id}/permissions"),
    ("delete", "/api/admin/users/{id}"),
    ("post", "/api/admin/users/{id}/disable"),
    ("post", "/api/admin/users/{id}/enable"),
    ("get", "/api/admin/settings"),
    ("get", "/api/admin/stats"),
    ("get", "/api/admin/usage-report-preview"),
    ("post", "/login"),
    ("get", "/logout"),
    ("post", "/api/user/auth-tokens/rotate"),
    ("get", "/api/user/auth-tokens"),
    ("post", "/api/user/revoke-auth-token"),
    ("get", "/api/admin/users/{id}/auth-tokens"),
    ("post", "/api/admin/users/{id}/revoke-auth-token"),
    ("post", "/api/admin/users/{id}/logout"),
    ("get", "/api/admin/users/{id}/lockout"),
    ("delete", "/api/admin/users/{id}/lockout"),
    ("get", "/api/org"),
    ("put", "/api/org"),
    ("put", "/api/org/address"),
    ("get", "/api/org/users"),
    ("get", "/api/org/users/search"),
    ("get", "/api/org/users/lookup"),
    ("post", "/api/org/users"),
    ("patch", "/api/org/users/{userId}"),
    ("delete", "/api/org/users/{userId}"),
    ("get", "/api/orgs"),
    ("post", "/api/orgs"),
    ("get", "/api/orgs/name/{orgName}"),
    ("get", "/api/orgs/{orgId}"),
    ("put", "/api/orgs/{orgId}"),
    ("put", "/api/orgs/{orgId}/address"),
    ("delete", "/api/orgs/{orgId}"),
    ("get", "/api/orgs/{orgId}/users"),
    ("get", "/api/orgs/{orgId}/users/search"),
    ("post", "/api/orgs/{orgId}/users"),
    ("patch", "/api/orgs/{orgId}/users/{userId}"),
    ("delete", "/api/orgs/{orgId}/users/{userId}"),
    ("get", "/api/teams/search"),
    ("post", "/api/teams"),
    ("get", "/api/teams/{teamId}"),
    ("put", "/api/teams/{teamId}"),
    ("delete", "/api/teams/{teamId}"),
    ("get", "/api/teams/{teamId}/members"),
    ("post", "/api/teams/{teamId}/members"),
    ("put", "/api/teams/{teamId}/members/{userId}"),
    ("delete", "/api/teams/{teamId}/members/{userId}"),
    ("get", "/api/access-control/roles"),
    ("post", "/api/access-control/roles"),
    ("get", "/api/access-control/roles/{roleUID}"),
    ("put", "/api/access-control/roles/{roleUID}"),
    ("delete", "/api/access-control/roles/{roleUID}"),
    ("get", "/api/access-control/users/{userId}/roles"),
    ("post", "/api/access-control/users/{userId}/roles"),
    ("put", "/api/access-control/users/{userId}/roles"),
    (
        "delete",
        "/api/access-control/users/{userId}/roles/{roleUID}",
    ),
    ("get", "/api/access-control/teams/{teamId}/roles"),
    ("post", "/api/access-control/teams/{teamId}/roles"),
    ("put", "/api/access-control/teams/{teamId}/roles"),
    (
        "delete",
        "/api/access-control/teams/{teamId}/roles/{roleUID}",
    ),
    ("get", "/api/access-control/builtin-roles"),
    ("post", "/api/access-control/builtin-roles"),
    (
        "delete",
        "/api/access-control/builtin-roles/{builtinRole}/roles/{roleUID}",
    ),
    ("get", "/api/serviceaccounts/search"),
    ("post", "/api/serviceaccounts"),
    ("get", "/api/serviceaccounts/{serviceAccountId}"),
    ("patch", "/api/serviceaccounts/{serviceAccountId}"),
    ("delete", "/api/serviceaccounts/{serviceAccountId}"),
    ("get", "/api/serviceaccounts/{serviceAccountId}/tokens"),
    ("post", "/api/serviceaccounts/{serviceAccountId}/tokens"),
    (
        "delete",
        "/api/serviceaccounts/{serviceAccountId}/tokens/{tokenId}",
    ),
    ("get", "/api/auth/keys"),
    ("post", "/api/auth/keys"),
    ("delete", "/api/auth/keys/{id}"),
    ("post", "/api/dashboards/db"),
    ("get", "/api/dashboards/uid/{uid}"),
    ("delete", "/api/dashboards/uid/{uid}"),
    ("get", "/api/search"),
    ("get", "/api/dashboards/tags"),
    ("get", "/api/dashboards/home"),
    ("get", "/api/datasources"),
    ("get", "/api/frontend/settings"),
    ("get", "/api/user/stars"),
    ("post", "/api/user/stars/dashboard/{dashboardId}"),
    ("delete", "/api/user/stars/dashboard/{dashboardId}"),
    ("post", "/api/user/stars/dashboard/uid/{uid}"),
    ("delete", "/api/user/stars/dashboard/uid/{uid}"),
    ("get", "/api/org/quotas"),
    ("get", "/api/orgs/{orgId}/quotas"),
    ("put", "/api/orgs/{orgId}/quotas/{target}"),
    ("get", "/api/admin/users/{id}/quotas"),
    ("put", "/api/admin/users/{id}/quotas/{target}"),
    ("get", "/api/user/preferences"),
    ("put", "/api/user/preferences"),
    ("patch", "/api/user/preferences"),
    ("get", "/api/org/preferences"),
    ("put", "/api/org/preferences"),
    ("patch", "/api/org/preferences"),
    ("get", "/api/teams/{teamId}/preferences"),
    ("put", "/api/teams/{teamId}/preferences"),
    ("patch", "/api/teams/{teamId}/preferences"),
    ("post", "/api/admin/provisioning/dashboards/reload"),
    ("post", "/api/admin/provisioning/users/reload"),
    ("post", "/api/admin/provisioning/datasources/reload"),
    ("post", "/api/admin/provisioning/plugins/reload"),
    ("post", "/api/admin/provisioning/alerting/reload"),
    ("post", "/api/admin/provisioning/notifications/reload"),
];

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_is_served() {
    each_backend(|app| async move {
        let res = app.anonymous().get("/api/openapi.json").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let doc = &res.json;
        assert!(
            doc["openapi"].as_str().unwrap_or("").starts_with("3."),
            "{doc}"
        );
        let paths = doc["paths"].as_object().expect("paths");
        for (method, path) in EXPECTED {
            assert!(
                paths.get(*path).and_then(|p| p.get(*method)).is_some(),
                "{method} {path} missing from the OpenAPI document"
            );
        }
        // Each documented operation is served: calling it never hits the not-found fallback.
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                assert!(op["summary"].is_string(), "{method} {path} lacks a summary");
                // Every path parameter as 1.
                let concrete: String = path
                    .split('/')
                    .map(|seg| if seg.starts_with('{') { "1" } else { seg })
                    .collect::<Vec<_>>()
                    .join("/");
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let res = app
                    .request(
                        method.clone(),
                        &concrete,
                        Some(&basic("admin", "admin")),
                        Some("{}"),
                    )
                    .await;
                assert!(
                    res.status != StatusCode::NOT_FOUND || res.json["message"] != "Not found",
                    "{method} {concrete} documented but not routed: {res:?}"
                );
            }
        }
    })
    .await;
}

#[tokio::test]
async fn operations_carry_their_access_rule_and_body_schemas() {
    each_backend(|app| async move {
        let doc = app.anonymous().get("/api/openapi.json").await.json;
        let create = &doc["paths"]["/api/admin/users"]["post"];
        assert!(create["requestBody"].is_object(), "{create}");
        assert_eq!(
            create["security"],
            serde_json::json!([{"basic": []}, {"bearer": []}, {"cookie": []}]),
            "{create}"
        );
        assert!(
            create["x-access"].is_string() || create["x-access"].is_object(),
            "{create}"
        );
        let health = &doc["paths"]["/api/health"]["get"];
        assert!(
            health.get("security").is_none(),
            "a public route asks for no credentials: {health}"
        );
    })
    .await;
}

/// Issue 12, item 14: statuses, path id types, required fields and security schemes as served.
#[tokio::test]
async fn the_document_declares_statuses_id_types_and_security_schemes() {
    each_backend(|app| async move {
        let doc = app.anonymous().get("/api/openapi.json").await.json;
        let statuses = |path: &str, method: &str| -> Vec<String> {
            let mut v: Vec<String> = doc["paths"][path][method]["responses"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path}"))
                .keys()
                .cloned()
                .collect();
            v.sort();
            v
        };
        // 201 where the route answers 201, and no catch-all `default`.
        let create_sa = statuses("/api/serviceaccounts", "post");
        assert!(create_sa.contains(&"201".to_string()), "{create_sa:?}");
        assert!(!create_sa.contains(&"200".to_string()), "{create_sa:?}");
        for (path, method, expected) in [
            (
                "/api/serviceaccounts",
                "post",
                vec![
                    "201", "400", "401", "403", "404", "409", "413", "415", "500", "503",
                ],
            ),
            (
                "/api/admin/users",
                "post",
                vec![
                    "200", "400", "401", "403", "404", "409", "412", "413", "415", "500", "503",
                ],
            ),
            (
                "/api/teams/{teamId}",
                "delete",
                vec!["200", "400", "401", "403", "404", "500", "503"],
            ),
            (
                "/api/search",
                "get",
                vec!["200", "400", "401", "403", "404", "422", "500", "503"],
            ),
            (
                "/login",
                "post",
                vec!["200", "400", "401", "403", "413", "415", "500", "503"],
            ),
            ("/logout", "get", vec!["302", "500", "503"]),
        ] {
            assert_eq!(statuses(path, method), expected, "{method} {path}");
        }
        // Numeric ids are integers; service accounts take an id or a uid.
        let param = |path: &str, method: &str, name: &str| -> serde_json::Value {
            doc["paths"][path][method]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("{name} in {method} {path}"))["schema"]
                .clone()
        };
        assert_eq!(param("/api/users/{id}", "get", "id")["type"], "integer");
        assert_eq!(
            param("/api/orgs/{orgId}/users/{userId}", "delete", "userId")["type"],
            "integer"
        );
        assert_eq!(
            param(
                "/api/serviceaccounts/{serviceAccountId}",
                "get",
                "serviceAccountId"
            )["type"],
            "string"
        );
        // Security schemes: basic, bearer and the session cookie.
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["basic"]["scheme"], "basic");
        assert_eq!(schemes["bearer"]["scheme"], "bearer");
        assert_eq!(
            (&schemes["cookie"]["in"], &schemes["cookie"]["name"]),
            (
                &serde_json::json!("cookie"),
                &serde_json::json!("grafana_session")
            )
        );
        // Only always-present fields are required: preferences omit unset values.
        let prefs = &doc["components"]["schemas"]["Prefs"];
        let required = prefs["required"].as_array().cloned().unwrap_or_default();
        assert!(
            !required.contains(&serde_json::json!("weekStart")),
            "{prefs}"
        );
    })
    .await;
}

/// The document says what the server refuses: no control character in any text a client sends
/// (path segments, query values, body strings; `src/domain/text.rs`), line breaks allowed only in
/// role descriptions. Without it a schema-driven client (schemathesis) sends control characters
/// as valid data and the server's 400 looks like a bug.
#[tokio::test]
async fn request_strings_declare_the_control_character_rule() {
    each_backend(|app| async move {
        let doc = app.anonymous().get("/api/openapi.json").await.json;
        let no_control = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";
        let query = doc["paths"]["/api/users/search"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "query")
            .cloned()
            .unwrap();
        assert_eq!(query["schema"]["pattern"], no_control, "{query}");
        let target = doc["paths"]["/api/orgs/{orgId}/quotas/{target}"]["put"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "target")
            .cloned()
            .unwrap();
        assert_eq!(target["schema"]["pattern"], no_control, "{target}");
        // Body schemas, through their component references.
        let resolve = |schema: &serde_json::Value| -> serde_json::Value {
            match schema["$ref"].as_str() {
                Some(r) => doc["components"]["schemas"]
                    [r.trim_start_matches("#/components/schemas/")]
                .clone(),
                None => schema.clone(),
            }
        };
        let body = |path: &str, method: &str| {
            resolve(
                &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"],
            )
        };
        let address = body("/api/org/address", "put");
        assert_eq!(
            address["properties"]["address1"]["pattern"], no_control,
            "{address}"
        );
        let role = body("/api/access-control/roles", "post");
        assert_eq!(role["properties"]["name"]["pattern"], no_control, "{role}");
        let description = role["properties"]["description"]["pattern"]
            .as_str()
            .unwrap();
        assert_ne!(description, no_control);
        assert!(
            !description.contains("\\u000a") && description.contains("\\u000b"),
            "{description}"
        );
        // Passwords are only hashed: any character goes.
        let password = body("/api/admin/users/{id}/password", "put");
        assert!(
            password["properties"]["password"]["pattern"].is_null(),
            "{password}"
        );
    })
    .await;
}
