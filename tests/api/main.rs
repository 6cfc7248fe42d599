//! API integration tests: one test binary, a module per API area. Every test boots the real
//! router (`build_state` + `build_router`, as `main` does) on a fresh database and runs once per
//! configured backend: SQLite always, PostgreSQL when `USHER_TEST_POSTGRES_URL` is set and
//! MySQL/MariaDB when `USHER_TEST_MYSQL_URL` is set. A configured but unreachable database fails
//! the test; it is never skipped.

mod admin;
mod admin_users;
mod audit;
mod audit_orgs_teams;
mod audit_roles_accounts;
mod audit_users;
mod auth;
mod caches;
mod compat;
mod custom_roles;
mod dashboards;
mod errors;
mod frontend;
mod hashing;
mod input;
mod lockout;
mod logins;
mod migrations;
mod openapi;
mod orgs;
mod paging;
mod preferences;
mod provisioning;
mod query;
mod quotas;
mod role_delegation;
mod roles;
mod server;
mod service_accounts;
mod sessions;
mod teams;
mod terraform;
mod user;
mod users;
mod web;
mod web_audit;
mod web_orgs;
mod web_roles;
mod web_server;
mod web_teams;
mod web_users;

use std::future::Future;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use usher::app::{build_router, build_state, AppState, Clock};
use usher::config::Config;

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
    MySql(String),
}

impl Backend {
    pub fn all() -> Vec<Backend> {
        let mut v = vec![Backend::Sqlite];
        if let Ok(url) = std::env::var("USHER_TEST_POSTGRES_URL") {
            v.push(Backend::Postgres(url));
        }
        if let Ok(url) = std::env::var("USHER_TEST_MYSQL_URL") {
            v.push(Backend::MySql(url));
        }
        v
    }
}

/// A throw-away database on one backend.
pub struct TestDb {
    pub backend: Backend,
    pub overrides: Vec<(String, String, String)>,
    _dir: Option<tempfile::TempDir>,
    name: Option<String>,
}

fn random_name() -> String {
    format!("usher_t_{:016x}", rand::random::<u64>())
}

fn with_database(url: &str, db: &str) -> String {
    // Replace the path part of the URL (the database name).
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_end], db);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestDb {
    pub async fn create(backend: &Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("grafana.db").display().to_string();
                TestDb {
                    backend: backend.clone(),
                    overrides: vec![
                        ("database".into(), "type".into(), "sqlite3".into()),
                        ("database".into(), "path".into(), path),
                    ],
                    _dir: Some(dir),
                    name: None,
                }
            }
            Backend::Postgres(url) => {
                use sqlx::Connection;
                let name = random_name();
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap_or_else(|e| {
                    panic!("USHER_TEST_POSTGRES_URL is set but unreachable: {e}")
                });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                Self::server_db(backend, "postgres", url, name)
            }
            Backend::MySql(url) => {
                use sqlx::Connection;
                let name = random_name();
                let mut conn = sqlx::MySqlConnection::connect(url)
                    .await
                    .unwrap_or_else(|e| panic!("USHER_TEST_MYSQL_URL is set but unreachable: {e}"));
                sqlx::query(&format!(
                    "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
                ))
                .execute(&mut conn)
                .await
                .expect("create test database");
                Self::server_db(backend, "mysql", url, name)
            }
        }
    }

    /// Settings for the freshly created database `name` on a database server.
    fn server_db(backend: &Backend, db_type: &str, url: &str, name: String) -> TestDb {
        TestDb {
            backend: backend.clone(),
            overrides: vec![
                ("database".into(), "type".into(), db_type.into()),
                ("database".into(), "url".into(), with_database(url, &name)),
                ("database".into(), "max_open_conn".into(), "4".into()),
            ],
            _dir: None,
            name: Some(name),
        }
    }

    /// Runs one SQL statement directly on the database, as a Grafana instance sharing it (or a
    /// copied Grafana database) would have written it. `{key}` in the SQL becomes the quoted
    /// name of the `key` column.
    pub async fn execute(&self, sql: &str) {
        use sqlx::Connection;
        match &self.backend {
            Backend::Sqlite => {
                let path = &self
                    .overrides
                    .iter()
                    .find(|(_, k, _)| k == "path")
                    .expect("sqlite path")
                    .2;
                let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
                    .await
                    .unwrap();
                sqlx::query(&sql.replace("{key}", "`key`"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            Backend::Postgres(_) | Backend::MySql(_) => {
                let url = &self
                    .overrides
                    .iter()
                    .find(|(_, k, _)| k == "url")
                    .expect("database url")
                    .2;
                if matches!(self.backend, Backend::Postgres(_)) {
                    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                    sqlx::query(&sql.replace("{key}", "\"key\""))
                        .execute(&mut conn)
                        .await
                        .unwrap();
                } else {
                    let mut conn = sqlx::MySqlConnection::connect(url).await.unwrap();
                    sqlx::query(&sql.replace("{key}", "`key`"))
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
            }
        }
    }

    /// Drops the database (SQLite's temp dir goes with `self`).
    pub async fn drop_db(&self) {
        use sqlx::Connection;
        match (&self.backend, &self.name) {
            (Backend::Postgres(url), Some(name)) => {
                if let Ok(mut conn) = sqlx::PgConnection::connect(url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            }
            (Backend::MySql(url), Some(name)) => {
                if let Ok(mut conn) = sqlx::MySqlConnection::connect(url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                        .execute(&mut conn)
                        .await;
                }
            }
            _ => {}
        }
    }
}

/// The server under test, driven through its router.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub clock: Clock,
    pub backend: Backend,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub json: Value,
    pub text: String,
    pub headers: HeaderMap,
}

impl TestResponse {
    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
    /// The whole `Set-Cookie` header for cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}=");
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&prefix))
    }
    /// The value `Set-Cookie` gives cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let c = self.set_cookie(name)?;
        let value = c.split(';').next()?.split_once('=')?.1;
        Some(value.to_string())
    }
}

impl std::fmt::Debug for TestResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.text)
    }
}

pub fn basic(login: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"))
    )
}

impl TestApp {
    /// A server on `db` with extra settings.
    pub async fn start(db: &TestDb, extra: &[(&str, &str, &str)]) -> TestApp {
        let mut overrides: Vec<(&str, &str, &str)> = db
            .overrides
            .iter()
            .map(|(s, k, v)| (s.as_str(), k.as_str(), v.as_str()))
            .collect();
        overrides.push(("log", "level", "warn"));
        overrides.extend_from_slice(extra);
        let config = Config::with_overrides(&overrides).expect("test config is valid");
        let clock = Clock::manual(
            chrono::DateTime::parse_from_rfc3339("2026-01-15T10:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
        );
        let state = build_state(config, clock.clone())
            .await
            .unwrap_or_else(|e| panic!("server start on {:?}: {e:#}", db.backend));
        TestApp {
            router: build_router(state.clone()),
            state,
            clock,
            backend: db.backend.clone(),
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<&str>,
    ) -> TestResponse {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        self.request_with(method, path, &headers, body).await
    }

    /// A request with arbitrary headers.
    pub async fn request_with(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> TestResponse {
        let mut req = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let typed = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !typed {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(Body::from(body.unwrap_or("").to_string()))
            .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).to_string();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        TestResponse {
            status,
            json,
            text,
            headers,
        }
    }

    /// Logs in through `POST /login` like a browser with user agent `agent` and returns it.
    pub async fn login(&self, login: &str, password: &str, agent: &str) -> Browser<'_> {
        let browser = Browser {
            app: self,
            token: std::sync::Mutex::new(String::new()),
            agent: agent.to_string(),
            ip: None,
        };
        let res = browser.login(login, password).await;
        assert_eq!(res.status, StatusCode::OK, "login: {res:?}");
        browser
    }

    pub fn admin(&self) -> Client<'_> {
        Client {
            app: self,
            auth: Some(basic("admin", "admin")),
        }
    }
    pub fn as_user(&self, login: &str, password: &str) -> Client<'_> {
        Client {
            app: self,
            auth: Some(basic(login, password)),
        }
    }
    /// Requests with `Authorization: Bearer <token>`.
    pub fn bearer(&self, token: &str) -> Client<'_> {
        Client {
            app: self,
            auth: Some(format!("Bearer {token}")),
        }
    }
    pub fn anonymous(&self) -> Client<'_> {
        Client {
            app: self,
            auth: None,
        }
    }

    /// Gives a member of the admin's current org (Main Org.) `role` there, through the API.
    pub async fn set_org_role(&self, user_id: i64, role: &str) {
        let body = serde_json::json!({ "role": role });
        let res = self
            .admin()
            .patch(&format!("/api/org/users/{user_id}"), &body.to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    }

    /// Creates a user through the admin API and returns their id.
    pub async fn create_user(&self, login: &str, password: &str) -> i64 {
        let body = serde_json::json!({
            "name": format!("{login} name"), "login": login,
            "email": format!("{login}@example.com"), "password": password,
        });
        let res = self
            .admin()
            .post("/api/admin/users", &body.to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        res.json["id"].as_i64().unwrap()
    }
}

/// Requests made with one set of credentials.
pub struct Client<'a> {
    app: &'a TestApp,
    auth: Option<String>,
}

impl Client<'_> {
    pub async fn get(&self, path: &str) -> TestResponse {
        self.app
            .request(Method::GET, path, self.auth.as_deref(), None)
            .await
    }
    pub async fn delete(&self, path: &str) -> TestResponse {
        self.app
            .request(Method::DELETE, path, self.auth.as_deref(), None)
            .await
    }
    pub async fn post(&self, path: &str, body: &str) -> TestResponse {
        self.app
            .request(Method::POST, path, self.auth.as_deref(), Some(body))
            .await
    }
    pub async fn put(&self, path: &str, body: &str) -> TestResponse {
        self.app
            .request(Method::PUT, path, self.auth.as_deref(), Some(body))
            .await
    }
    pub async fn patch(&self, path: &str, body: &str) -> TestResponse {
        self.app
            .request(Method::PATCH, path, self.auth.as_deref(), Some(body))
            .await
    }
}

/// A browser: keeps the session cookie it was given, like a cookie jar, and sends it with a user
/// agent (and, when set, an `X-Forwarded-For` address).
pub struct Browser<'a> {
    pub app: &'a TestApp,
    token: std::sync::Mutex<String>,
    pub agent: String,
    pub ip: Option<String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp, agent: &str, ip: Option<&str>) -> Self {
        Browser {
            app,
            token: std::sync::Mutex::new(String::new()),
            agent: agent.to_string(),
            ip: ip.map(str::to_string),
        }
    }

    pub fn token(&self) -> String {
        self.token.lock().unwrap().clone()
    }
    pub fn set_token(&self, token: &str) {
        *self.token.lock().unwrap() = token.to_string();
    }

    /// A request with the cookie and the given extra headers; a new session cookie is kept.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&str>,
    ) -> TestResponse {
        let cookie = format!("grafana_session={}", self.token());
        let mut headers = vec![("user-agent", self.agent.as_str())];
        if !self.token().is_empty() {
            headers.push(("cookie", cookie.as_str()));
        }
        if let Some(ip) = &self.ip {
            headers.push(("x-forwarded-for", ip.as_str()));
        }
        headers.extend_from_slice(extra);
        let res = self.app.request_with(method, path, &headers, body).await;
        if let Some(token) = res.cookie("grafana_session") {
            self.set_token(&token);
        }
        res
    }

    pub async fn login(&self, login: &str, password: &str) -> TestResponse {
        let body = serde_json::json!({"user": login, "password": password}).to_string();
        self.send(Method::POST, "/login", &[], Some(&body)).await
    }
    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Method::GET, path, &[], None).await
    }
    pub async fn post(&self, path: &str, body: &str) -> TestResponse {
        self.send(Method::POST, path, &[], Some(body)).await
    }
    pub async fn put(&self, path: &str, body: &str) -> TestResponse {
        self.send(Method::PUT, path, &[], Some(body)).await
    }
}

/// Runs `test` against a fresh server on every configured backend.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    each_backend_with(&[], test).await
}

/// Like [`each_backend`] with extra settings.
pub async fn each_backend_with<F, Fut>(extra: &[(&str, &str, &str)], test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in Backend::all() {
        let db = TestDb::create(&backend).await;
        let app = TestApp::start(&db, extra).await;
        eprintln!("-- backend {backend:?}");
        test(app).await;
        db.drop_db().await;
    }
}

/// Runs `test` with the database handle, for tests that start several instances.
pub async fn each_db<F, Fut>(test: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: Future<Output = TestDb>,
{
    for backend in Backend::all() {
        let db = TestDb::create(&backend).await;
        eprintln!("-- backend {backend:?}");
        let db = test(db).await;
        db.drop_db().await;
    }
}

/// Asserts status and `message` of a Grafana error body.
#[track_caller]
pub fn assert_message(res: &TestResponse, status: StatusCode, message: &str) {
    assert_eq!(res.status, status, "{res:?}");
    assert_eq!(res.json["message"].as_str(), Some(message), "{res:?}");
}
