//! Bad strings in every text input: a NUL or another control character, or a value longer than
//! its column, is a 400 with a message on every database — never a 500 (PostgreSQL cannot store
//! a NUL, PostgreSQL and MySQL refuse an over-long value that SQLite would store). Beyond
//! Grafana, which leaves these to the database.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{assert_message, basic, each_backend, Browser, TestApp};

/// One request and the message its 400 must carry.
struct Case {
    method: Method,
    path: String,
    body: Value,
    message: &'static str,
}

fn case(method: Method, path: &str, body: Value, message: &'static str) -> Case {
    Case {
        method,
        path: path.to_string(),
        body,
        message,
    }
}

/// Sends each case as the server admin and checks its 400.
async fn all_refused(app: &TestApp, cases: &[Case]) {
    for c in cases {
        let res = app
            .request(
                c.method.clone(),
                &c.path,
                Some(&basic("admin", "admin")),
                Some(&c.body.to_string()),
            )
            .await;
        assert_eq!(
            (res.status, res.json["message"].as_str()),
            (StatusCode::BAD_REQUEST, Some(c.message)),
            "{} {} {}: {res:?}",
            c.method,
            c.path,
            c.body
        );
    }
}

fn long(n: usize) -> String {
    "é".repeat(n)
}

#[tokio::test]
async fn bad_strings_in_users_are_refused() {
    each_backend(|app| async move {
        let bob = app.create_user("bob", "password1").await;
        let user_path = format!("/api/users/{bob}");
        let mut cases = Vec::new();
        for (method, path) in [
            (Method::POST, "/api/admin/users"),
            (Method::PUT, user_path.as_str()),
            (Method::PUT, "/api/user"),
        ] {
            let with = |field: &str, value: String| {
                let mut body = json!({"login": "carol", "email": "carol@example.com",
                                      "name": "Carol", "password": "password1"});
                body[field] = Value::String(value);
                body
            };
            let m = method.clone();
            cases.extend([
                case(
                    m.clone(),
                    path,
                    with("login", "car\0ol".into()),
                    "login must not contain control characters",
                ),
                case(
                    m.clone(),
                    path,
                    with("login", "car\u{7}ol".into()),
                    "login must not contain control characters",
                ),
                case(
                    m.clone(),
                    path,
                    with("login", long(191)),
                    "login must not be longer than 190 characters",
                ),
                case(
                    m.clone(),
                    path,
                    with("email", "carol\0@example.com".into()),
                    "email must not contain control characters",
                ),
                case(
                    m.clone(),
                    path,
                    with("email", format!("{}@example.com", long(179))),
                    "email must not be longer than 190 characters",
                ),
                case(
                    m.clone(),
                    path,
                    with("name", "Car\0ol".into()),
                    "name must not contain control characters",
                ),
                case(
                    m.clone(),
                    path,
                    with("name", "Car\u{85}ol".into()),
                    "name must not contain control characters",
                ),
                case(
                    m,
                    path,
                    with("name", long(256)),
                    "name must not be longer than 255 characters",
                ),
            ]);
        }
        // PUT /api/user is the caller's own profile: send those as bob.
        let (own, others): (Vec<Case>, Vec<Case>) =
            cases.into_iter().partition(|c| c.path == "/api/user");
        all_refused(&app, &others).await;
        for c in own {
            let res = app
                .as_user("bob", "password1")
                .put(&c.path, &c.body.to_string())
                .await;
            assert_message(&res, StatusCode::BAD_REQUEST, c.message);
        }
        // The longest values the columns hold are stored on every database.
        let body = json!({"login": long(190), "email": format!("{}@example.com", long(178)),
                          "name": long(255), "password": "password1"});
        let res = app
            .admin()
            .post("/api/admin/users", &body.to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn bad_strings_in_orgs_and_members_are_refused() {
    each_backend(|app| async move {
        app.create_user("bob", "password1").await;
        all_refused(
            &app,
            &[
                case(
                    Method::POST,
                    "/api/orgs",
                    json!({"name": "Ac\0me"}),
                    "Organization name must not contain control characters",
                ),
                case(
                    Method::POST,
                    "/api/orgs",
                    json!({"name": "Ac\u{1b}me"}),
                    "Organization name must not contain control characters",
                ),
                case(
                    Method::POST,
                    "/api/orgs",
                    json!({"name": long(191)}),
                    "Organization name is too long",
                ),
                case(
                    Method::PUT,
                    "/api/orgs/1",
                    json!({"name": "Ac\0me"}),
                    "Organization name must not contain control characters",
                ),
                case(
                    Method::PUT,
                    "/api/org",
                    json!({"name": "Ac\0me"}),
                    "Organization name must not contain control characters",
                ),
                case(
                    Method::PUT,
                    "/api/org/address",
                    json!({"address1": "1 Main\0 St"}),
                    "Address field must not contain control characters",
                ),
                case(
                    Method::PUT,
                    "/api/orgs/1/address",
                    json!({"city": long(256)}),
                    "Address field is too long",
                ),
                case(
                    Method::PUT,
                    "/api/orgs/1/address",
                    json!({"zipcode": long(51)}),
                    "Address field is too long",
                ),
                case(
                    Method::POST,
                    "/api/org/users",
                    json!({"loginOrEmail": "bo\0b", "role": "Viewer"}),
                    "loginOrEmail must not contain control characters",
                ),
                case(
                    Method::POST,
                    "/api/orgs/1/users",
                    json!({"loginOrEmail": "bo\0b", "role": "Viewer"}),
                    "loginOrEmail must not contain control characters",
                ),
            ],
        )
        .await;
        // A login or email too long to exist is simply not a user.
        let res = app
            .admin()
            .post(
                "/api/org/users",
                &json!({"loginOrEmail": long(300), "role": "Viewer"}).to_string(),
            )
            .await;
        assert_message(&res, StatusCode::NOT_FOUND, "User not found");
    })
    .await;
}

#[tokio::test]
async fn bad_strings_in_teams_are_refused() {
    each_backend(|app| async move {
        let res = app.admin().post("/api/teams", r#"{"name": "ops"}"#).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let team = res.json["teamId"].as_i64().unwrap();
        let path = format!("/api/teams/{team}");
        let mut cases = Vec::new();
        for (method, path) in [(Method::POST, "/api/teams"), (Method::PUT, path.as_str())] {
            cases.extend([
                case(
                    method.clone(),
                    path,
                    json!({"name": "de\0v"}),
                    "Team name must not contain control characters",
                ),
                case(
                    method.clone(),
                    path,
                    json!({"name": long(191)}),
                    "Team name is too long",
                ),
                case(
                    method.clone(),
                    path,
                    json!({"name": "dev", "email": "dev\0@example.com"}),
                    "Team email must not contain control characters",
                ),
                case(
                    method,
                    path,
                    json!({"name": "dev", "email": long(191)}),
                    "Team email must not be longer than 190 characters",
                ),
            ]);
        }
        all_refused(&app, &cases).await;
    })
    .await;
}

#[tokio::test]
async fn bad_strings_in_service_accounts_and_tokens_are_refused() {
    each_backend(|app| async move {
        let res = app
            .admin()
            .post("/api/serviceaccounts", r#"{"name": "deploy"}"#)
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        let id = res.json["id"].as_i64().unwrap();
        let sa = format!("/api/serviceaccounts/{id}");
        let tokens = format!("{sa}/tokens");
        all_refused(
            &app,
            &[
                case(
                    Method::POST,
                    "/api/serviceaccounts",
                    json!({"name": "bu\0ild"}),
                    "name must not contain control characters",
                ),
                // Its login `sa-1-<name>` must fit 190 characters.
                case(
                    Method::POST,
                    "/api/serviceaccounts",
                    json!({"name": "x".repeat(186)}),
                    "name must not be longer than 185 characters",
                ),
                case(
                    Method::PATCH,
                    &sa,
                    json!({"name": "de\0ploy"}),
                    "name must not contain control characters",
                ),
                case(
                    Method::PATCH,
                    &sa,
                    json!({"name": long(256)}),
                    "name must not be longer than 255 characters",
                ),
                case(
                    Method::POST,
                    &tokens,
                    json!({"name": "to\0ken"}),
                    "name must not contain control characters",
                ),
                case(
                    Method::POST,
                    &tokens,
                    json!({"name": long(191)}),
                    "name must not be longer than 190 characters",
                ),
            ],
        )
        .await;
        let res = app
            .admin()
            .post(
                "/api/serviceaccounts",
                &json!({"name": "x".repeat(185)}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        assert_eq!(res.json["login"].as_str().map(str::len), Some(190));
    })
    .await;
}

#[tokio::test]
async fn bad_strings_in_dashboards_and_preferences_are_refused() {
    each_backend(|app| async move {
        all_refused(
            &app,
            &[
                case(
                    Method::POST,
                    "/api/dashboards/db",
                    json!({"dashboard": {"title": "Sys\0tem"}}),
                    "Dashboard title cannot contain control characters",
                ),
                case(
                    Method::POST,
                    "/api/dashboards/db",
                    json!({"dashboard": {"title": "System", "tags": ["o\0ps"]}}),
                    "tag cannot contain control characters",
                ),
                case(
                    Method::PUT,
                    "/api/user/preferences",
                    json!({"language": "e\0n"}),
                    "language must not contain control characters",
                ),
                case(
                    Method::PATCH,
                    "/api/org/preferences",
                    json!({"homeDashboardUID": "a\0b"}),
                    "homeDashboardUID must not contain control characters",
                ),
                case(
                    Method::PATCH,
                    "/api/user/preferences",
                    json!({"navbar": {"bookmarkUrls": ["/d/\0"]}}),
                    "navbar.bookmarkUrls must not contain control characters",
                ),
            ],
        )
        .await;
        // A dashboard is a document: its own strings may hold line breaks.
        let body = json!({"dashboard": {"title": "System", "description": "two\nlines",
                                        "panels": [{"title": "a\tb"}]}});
        let res = app
            .admin()
            .post("/api/dashboards/db", &body.to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn bad_strings_in_roles_are_refused() {
    each_backend(|app| async move {
        let role = |field: &str, value: Value| {
            let mut body = json!({"uid": "r1", "name": "custom:r1", "displayName": "R1",
                                  "description": "d", "group": "Tests", "version": 1,
                                  "permissions": [{"action": "users:read", "scope": "global.users:*"}]});
            if field.starts_with("permission.") {
                body["permissions"][0][field.trim_start_matches("permission.")] = value;
            } else {
                body[field] = value;
            }
            body
        };
        let path = "/api/access-control/roles";
        all_refused(
            &app,
            &[
                case(Method::POST, path, role("name", json!("custom:r\0")), "name must not contain control characters"),
                case(Method::POST, path, role("displayName", json!("R\u{1}")), "displayName must not contain control characters"),
                case(Method::POST, path, role("displayName", json!(long(191))), "displayName must not be longer than 190 characters"),
                case(Method::POST, path, role("description", json!("a\0b")), "description must not contain control characters"),
                case(Method::POST, path, role("group", json!("Te\0sts")), "group must not contain control characters"),
                case(Method::POST, path, role("group", json!(long(191))), "group must not be longer than 190 characters"),
                case(Method::POST, path, role("permission.action", json!("users:re\0ad")), "action must not contain control characters"),
                case(Method::POST, path, role("permission.scope", json!("users:\u{7f}")), "scope must not contain control characters"),
                case(Method::POST, "/api/access-control/users/1/roles", json!({"roleUid": "r\0"}), "roleUid must not contain control characters"),
            ],
        )
        .await;
        // A description is prose: line breaks and tabs are kept.
        let body = role("description", json!("first line\n\tsecond line"));
        let res = app.admin().post(path, &body.to_string()).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["description"], "first line\n\tsecond line");
    })
    .await;
}

#[tokio::test]
async fn control_characters_in_search_queries_and_paths_are_refused() {
    each_backend(|app| async move {
        for path in [
            "/api/users/search?query=ab%00cd",
            "/api/users/search?query=%00",
            "/api/users?query=abc%00",
            "/api/users/lookup?loginOrEmail=ad%00min",
            "/api/search?query=sys%00tem",
            "/api/teams/search?query=dev%00ops",
            "/api/orgs?query=ma%00in",
            "/api/org/users/lookup?query=ad%00min",
            "/api/org/users?query=ad%0Amin",
            "/api/serviceaccounts/search?query=dep%00loy",
            "/api/orgs/name/Main%00Org",
            "/api/dashboards/uid/ab%00cd",
            "/api/access-control/roles/r%C2%851",
        ] {
            let res = app.admin().get(path).await;
            assert_message(
                &res,
                StatusCode::BAD_REQUEST,
                "URL must not contain control characters",
            );
        }
        // Percent signs and non-ASCII letters are ordinary query text.
        let res = app
            .admin()
            .get("/api/users/search?query=caf%C3%A9%25")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn bad_strings_at_sign_in_are_invalid_credentials() {
    each_backend(|app| async move {
        let browser = Browser::new(&app, "test-agent", None);
        for (user, password) in [
            ("ad\0min", "admin"),
            ("admin", "ad\0min"),
            ("ad\u{202E}min", "admin"),
            (&*"a".repeat(300), "admin"),
            (&*long(191), "admin"),
        ] {
            let res = browser.login(user, password).await;
            assert_message(
                &res,
                StatusCode::UNAUTHORIZED,
                "Invalid username or password",
            );
            let res = app.as_user(user, password).get("/api/user").await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{user:?}: {res:?}");
            assert_message(
                &res,
                StatusCode::UNAUTHORIZED,
                "Invalid username or password",
            );
        }
    })
    .await;
}
