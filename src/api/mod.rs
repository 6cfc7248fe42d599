//! The route table. Every route is registered here through [`Routes::add`] with its method,
//! path (Grafana's), access rule and documentation, so that the whole permission table reads at
//! a glance and the OpenAPI document is generated from the same entries that build the router.

mod admin;
mod admin_users;
mod api_keys;
mod audit;
mod authorize;
mod dashboards;
mod datasources;
mod dto;
mod frontend;
mod health;
mod home;
pub mod openapi;
mod orgs;
mod preferences;
mod provisioning;
mod query;
mod quotas;
mod resolve;
mod roles;
mod service_accounts;
mod sessions;
mod stars;
mod teams;
pub(crate) mod url_guard;
mod user;
mod users;

use std::collections::BTreeMap;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use schemars::gen::SchemaGenerator;
use schemars::schema::Schema;
use tower::ServiceExt;
use tower_http::trace::TraceLayer;

use crate::auth::Access;
use crate::error::ApiError;
use crate::state::AppState;
use authorize::authorize;
pub use authorize::{check_access, InternalCaller};
pub use sessions::UserToken;

/// Request bodies above this size are refused with 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema_of<T: schemars::JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// One route: what it is, who may call it, and what it takes and returns.
#[derive(Clone)]
pub struct Op {
    pub method: Method,
    pub path: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    pub access: Access,
    /// The query parameters, as the object schema of the route's query struct
    /// (`query::params_schema`).
    pub query: Option<SchemaFn>,
    pub body: Option<SchemaFn>,
    pub response: Option<SchemaFn>,
    /// The success status: 200, or 201 for the routes that answer 201, 302 for redirects.
    pub success: u16,
    /// Error statuses beyond those the OpenAPI document derives from the route's shape (see
    /// `openapi::error_statuses`).
    pub errors: &'static [u16],
    /// Whether a success of this route must have committed an audit record: every `POST`,
    /// `PUT`, `PATCH` and `DELETE` unless marked [`Op::changes_nothing`] (see `crate::audit`).
    pub audited: bool,
}

impl Op {
    fn new(
        method: Method,
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
        access: Access,
    ) -> Self {
        let audited = method != Method::GET;
        Op {
            method,
            path,
            summary,
            tag,
            access,
            query: None,
            body: None,
            response: None,
            success: 200,
            errors: &[],
            audited,
        }
    }
    pub fn get(
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
        access: Access,
    ) -> Self {
        Self::new(Method::GET, path, tag, summary, access)
    }
    pub fn post(
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
        access: Access,
    ) -> Self {
        Self::new(Method::POST, path, tag, summary, access)
    }
    pub fn put(
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
        access: Access,
    ) -> Self {
        Self::new(Method::PUT, path, tag, summary, access)
    }
    pub fn patch(
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
        access: Access,
    ) -> Self {
        Self::new(Method::PATCH, path, tag, summary, access)
    }
    pub fn delete(
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
        access: Access,
    ) -> Self {
        Self::new(Method::DELETE, path, tag, summary, access)
    }
    /// The route reads its query string as `T` (`query::GrafanaQuery<T>`): the document lists
    /// `T`'s fields as the query parameters.
    pub fn query<T: schemars::JsonSchema>(mut self) -> Self {
        self.query = Some(query::params_schema::<T>);
        self
    }
    pub fn body<T: schemars::JsonSchema>(mut self) -> Self {
        self.body = Some(schema_of::<T>);
        self
    }
    pub fn returns<T: schemars::JsonSchema>(mut self) -> Self {
        self.response = Some(schema_of::<T>);
        self
    }
    /// The route answers `status` on success (201 Created, 302 Found).
    pub fn success(mut self, status: u16) -> Self {
        self.success = status;
        self
    }
    /// Error statuses this route answers beyond the derived ones (412, 422, …).
    pub fn errors(mut self, statuses: &'static [u16]) -> Self {
        self.errors = statuses;
        self
    }
    /// A non-`GET` route that changes no state (a search by `POST`, say): its success needs no
    /// audit record.
    pub fn changes_nothing(mut self) -> Self {
        self.audited = false;
        self
    }
}

/// Collects routes and their documentation.
pub struct Routes {
    state: AppState,
    methods: BTreeMap<&'static str, MethodRouter<AppState>>,
    pub ops: Vec<Op>,
}

impl Routes {
    pub fn new(state: AppState) -> Self {
        Routes {
            state,
            methods: BTreeMap::new(),
            ops: Vec::new(),
        }
    }

    /// Registers a handler behind its access rule.
    pub fn add<H, T>(&mut self, op: Op, handler: H) -> &mut Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let access = op.access;
        let audited = op.audited;
        let filter = MethodFilter::try_from(op.method.clone()).expect("route methods are standard");
        let route = on(filter, handler).layer(middleware::from_fn_with_state(
            self.state.clone(),
            move |state: State<AppState>, req: Request, next: Next| {
                authorize(state, access, audited, req, next)
            },
        ));
        let merged = match self.methods.remove(op.path) {
            Some(existing) => existing.merge(route),
            None => route,
        };
        self.methods.insert(op.path, merged);
        self.ops.push(op);
        self
    }
}

/// Every route of the server, in one table.
pub fn routes(state: AppState) -> Routes {
    let mut r = Routes::new(state);
    health::routes(&mut r);
    user::routes(&mut r);
    users::routes(&mut r);
    admin_users::routes(&mut r);
    sessions::routes(&mut r);
    orgs::routes(&mut r);
    teams::routes(&mut r);
    roles::routes(&mut r);
    service_accounts::routes(&mut r);
    api_keys::routes(&mut r);
    dashboards::routes(&mut r);
    home::routes(&mut r);
    datasources::routes(&mut r);
    frontend::routes(&mut r);
    stars::routes(&mut r);
    quotas::routes(&mut r);
    preferences::routes(&mut r);
    provisioning::routes(&mut r);
    admin::routes(&mut r);
    audit::routes(&mut r);
    openapi::routes(&mut r);
    r
}

/// The access rule of every route, by method and path template, for the web interface to ask
/// before it shows what a route would refuse.
#[derive(Clone, Default)]
pub struct AccessTable(std::sync::Arc<std::collections::HashMap<(Method, &'static str), Access>>);

impl AccessTable {
    /// The rule of the route `method path` (`path` as the table writes it, e.g.
    /// `/api/users/{id}`). Every path the web interface asks about is in the table; an unknown
    /// one is a programming error and refuses everything.
    pub fn of(&self, method: Method, path: &str) -> Option<Access> {
        self.0.get(&(method, path)).copied()
    }
}

/// The API: its router (without the trailing-slash trim, which `crate::app::build_router` puts
/// in front of everything) and its access table.
pub fn router(state: AppState) -> (Router, AccessTable) {
    let routes = routes(state.clone());
    let doc = openapi::document(&routes.ops);
    let table = AccessTable(std::sync::Arc::new(
        routes
            .ops
            .iter()
            .map(|op| ((op.method.clone(), op.path), op.access))
            .collect(),
    ));
    let mut router = Router::new();
    for (path, method_router) in routes.methods {
        router = router.route(path, method_router);
    }
    let inner = router
        .layer(axum::Extension(std::sync::Arc::new(doc)))
        .layer(middleware::from_fn(refuse_repeated_paging))
        .fallback(not_found)
        // Grafana's router has no 405: a path served for other methods is not found
        // (`pkg/web/router.go`, `Router.ServeHTTP` falls through to `notFound`).
        .method_not_allowed_fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(refuse_declared_oversized_bodies))
        .layer(axum::middleware::from_fn(
            url_guard::refuse_control_characters,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    (inner, table)
}

/// Puts the trailing-slash trim in front of a router (the path is matched before any layer of
/// the router runs, so it is done by a service in front of it), and the `Allow` rule behind it.
pub fn with_trimmed_paths(inner: Router) -> Router {
    Router::new().fallback_service(
        inner
            .map_request(trim_trailing_slash)
            .map_response(no_allow_on_not_found),
    )
}

/// axum lists a path's methods in `Allow` even when the method fallback answers 404 (it adds
/// the header outside every layer of the router, hence here); Grafana's 404 advertises nothing
/// (`pkg/web/router.go`), and a page's `GET /login` is not an API method.
fn no_allow_on_not_found(mut res: axum::response::Response) -> axum::response::Response {
    if res.status() == axum::http::StatusCode::NOT_FOUND {
        res.headers_mut().remove(axum::http::header::ALLOW);
    }
    res
}

/// Grafana matches a path with one trailing `/` trimmed (`pkg/web/tree.go`, `Tree.Match`):
/// `/api/search/` is `/api/search`.
pub(crate) fn trim_trailing_slash(mut req: Request) -> Request {
    let uri = req.uri();
    let path = uri.path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = &path[..path.len() - 1];
        let path_and_query = match uri.query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_string(),
        };
        let mut parts = uri.clone().into_parts();
        if let Ok(pq) = path_and_query.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

/// A paging parameter (`page`, `perpage`, `limit`) given more than once is a 400: handlers read
/// one value, and which of several a client meant cannot be known (part of the one paging rule,
/// `crate::domain::Paging`).
async fn refuse_repeated_paging(
    req: Request,
    next: Next,
) -> Result<axum::response::Response, ApiError> {
    if let Some(query) = req.uri().query() {
        for name in ["page", "perpage", "limit"] {
            let count = form_urlencoded::parse(query.as_bytes())
                .filter(|(key, _)| key == name)
                .count();
            if count > 1 {
                return Err(ApiError::bad_request(format!("{name} must be given once")));
            }
        }
    }
    Ok(next.run(req).await)
}

/// A body whose `Content-Length` is over [`BODY_LIMIT`] is refused with 413 before anything
/// reads it or asks who is calling, so a client is not invited (`100 Continue`) or left to send
/// megabytes that would be refused after the first one (the server then closes the connection,
/// `crate::server`). Bodies without a length are cut at the limit as they are read.
pub(crate) async fn refuse_declared_oversized_bodies(
    req: Request,
    next: Next,
) -> Result<axum::response::Response, ApiError> {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(ApiError::too_large());
    }
    Ok(next.run(req).await)
}

async fn not_found() -> ApiError {
    ApiError::not_found("Not found")
}
