//! Bad input of every kind gets a 4xx with a JSON `message`, never a 500 or a panic.

use axum::http::{Method, StatusCode};

use crate::{assert_message, basic, each_backend};

#[tokio::test]
async fn malformed_json_and_wrong_types_are_bad_request_data() {
    each_backend(|app| async move {
        let admin = app.admin();
        for body in [
            "{",
            "not json",
            "[]",
            r#"{"name": 5}"#,
            r#"{"email": ["a"]}"#,
            "",
        ] {
            let res = admin.put("/api/users/1", body).await;
            assert_message(&res, StatusCode::BAD_REQUEST, "bad request data");
        }
        // Missing required fields.
        assert_message(
            &admin
                .put("/api/user/password", r#"{"newPassword":"x"}"#)
                .await,
            StatusCode::BAD_REQUEST,
            "bad request data",
        );
        assert_message(
            &admin.put("/api/admin/users/1/permissions", "{}").await,
            StatusCode::BAD_REQUEST,
            "bad request data",
        );
        // The admin is untouched by all of it.
        assert_eq!(admin.get("/api/user").await.json["name"], "");
    })
    .await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    each_backend(|app| async move {
        let huge = format!(r#"{{"name":"{}"}}"#, "x".repeat(2 * 1024 * 1024));
        let res = app.admin().put("/api/user", &huge).await;
        assert_message(
            &res,
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
        );
    })
    .await;
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    each_backend(|app| async move {
        assert_message(
            &app.admin().get("/api/nothing-here").await,
            StatusCode::NOT_FOUND,
            "Not found",
        );
        let res = app
            .request(
                Method::PATCH,
                "/api/user",
                Some(&basic("admin", "admin")),
                None,
            )
            .await;
        // Grafana's router has no 405: an unserved method on a served path falls through to
        // its not-found handler (pkg/web/router.go, `Router.ServeHTTP`).
        assert_message(&res, StatusCode::NOT_FOUND, "Not found");
        for (method, path) in [
            (Method::POST, "/api/serviceaccounts/migrate"),
            (Method::PUT, "/api/admin/settings"),
            (Method::DELETE, "/api/health"),
        ] {
            let res = app
                .request(method.clone(), path, Some(&basic("admin", "admin")), None)
                .await;
            assert_message(&res, StatusCode::NOT_FOUND, "Not found");
        }
    })
    .await;
}

/// A page past the end is empty, not an error (the paging rule itself: tests/api/paging.rs).
#[tokio::test]
async fn a_page_past_the_end_is_empty() {
    each_backend(|app| async move {
        let res = app.admin().get("/api/users/search?page=50").await;
        assert_eq!(
            res.json["users"].as_array().map(Vec::len),
            Some(0),
            "{res:?}"
        );
        assert_eq!(res.json["totalCount"], 1);
    })
    .await;
}

#[tokio::test]
async fn non_numeric_and_unknown_ids() {
    each_backend(|app| async move {
        for path in [
            "/api/users/1x",
            "/api/users/%20",
            "/api/users/99999999999999999999999",
        ] {
            // Grafana 11.3+ resolves a non-numeric id as a uid: unknown, so 404 (tests/api/compat.rs).
            assert_message(
                &app.admin().get(path).await,
                StatusCode::NOT_FOUND,
                "User not found",
            );
        }
        assert_message(
            &app.admin().get("/api/users/-5").await,
            StatusCode::NOT_FOUND,
            "user not found",
        );
        assert_message(
            &app.admin().get("/api/users/424242/teams").await,
            StatusCode::NOT_FOUND,
            "user not found",
        );
    })
    .await;
}

#[tokio::test]
async fn invalid_emails_and_logins_are_refused() {
    each_backend(|app| async move {
        for email in ["plain", "a@", "@b.com", "a b@c.com"] {
            let body =
                serde_json::json!({"login": "okname", "email": email, "password": "password1"});
            let res = app
                .admin()
                .post("/api/admin/users", &body.to_string())
                .await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST, "{email}: {res:?}");
        }
        let res = app
            .admin()
            .put("/api/user", r#"{"login":"admin","email":"no-at-sign"}"#)
            .await;
        assert_message(&res, StatusCode::BAD_REQUEST, "invalid email address");
    })
    .await;
}

#[tokio::test]
async fn json_routes_refuse_bodies_that_say_they_are_not_json() {
    each_backend(|app| async move {
        let auth = basic("admin", "admin");
        let body = r#"{"name": "Refused", "login": "refused", "password": "password1"}"#;
        let create = |content_type: Option<&'static str>| {
            let auth = auth.clone();
            let app = &app;
            async move {
                let mut headers = vec![("authorization", auth.as_str())];
                headers.extend(content_type.map(|t| ("content-type", t)));
                app.request_with(Method::POST, "/api/admin/users", &headers, Some(body))
                    .await
            }
        };
        // What a page on another site can send without asking the browser first (CORS). Grafana
        // reads any body as JSON (`pkg/web/binding.go`); this server refuses these (README).
        for refused in [
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            let res = create(Some(refused)).await;
            assert_message(
                &res,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/json",
            );
        }
        assert_eq!(
            app.admin()
                .get("/api/users/lookup?loginOrEmail=refused")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // JSON with parameters is JSON; a body with no Content-Type is read as JSON, as Grafana
        // reads every body.
        let res = create(Some("application/json; charset=utf-8")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let req = axum::http::Request::builder()
            .method(Method::PUT)
            .uri("/api/users/1")
            .header("authorization", &auth)
            .body(axum::body::Body::from(
                r#"{"name": "No Type", "login": "admin"}"#,
            ))
            .unwrap();
        let res = tower::ServiceExt::oneshot(app.router.clone(), req)
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(app.admin().get("/api/user").await.json["name"], "No Type");
    })
    .await;
}
