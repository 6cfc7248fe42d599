//! The web interface: server-rendered pages for people, at Grafana's URLs (`/login`,
//! `/profile`, `/admin/users`, …), served by the same binary in front of the API.
//!
//! Pages are askama templates (checked at compile time, HTML-escaped by default) over the API
//! itself: a page reads what it shows and sends what it changes through the API's own routes as
//! the signed-in person ([`client::Api`]), so the access rules, validation and messages are the
//! API's, and the navigation shows a link only where the API would answer
//! ([`context::Web::can`]). Every form works without JavaScript; `usher.js` adds
//! search-as-you-type, confirmations and copy buttons. Pages carry a strict
//! Content-Security-Policy (no inline script or style), `X-Frame-Options: DENY` and
//! `Cache-Control: no-store`; every state-changing form carries the session's CSRF token
//! ([`forms::Form`]).

mod admin_users;
mod assets;
mod audit;
mod avatar;
mod client;
mod context;
mod format;
mod forms;
mod links;
mod login;
mod orgs;
mod pages;
mod prefs;
mod profile;
mod roles;
mod server;
mod service_accounts;
mod teams;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::api::{AccessTable, BODY_LIMIT};
use crate::error::ApiError;
use crate::state::AppState;
pub use client::{Api, Failure};
pub use context::{Web, WebState};

/// The policy of every page: scripts, styles and images from this server only, no framing, no
/// plugins, forms posted only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Pages and their files in front of the API: what the pages do not serve goes to `api`.
pub fn router(app: AppState, api: Router, access: AccessTable) -> Router {
    let state = WebState::new(app, api.clone(), access);
    let pages = Router::new()
        .route("/", get(home))
        .route("/public/{file}", get(assets::serve))
        .route("/avatar/{hash}", get(avatar::serve));
    let pages = login::routes(pages);
    let pages = profile::routes(pages);
    let pages = teams::routes(pages);
    let pages = service_accounts::routes(pages);
    let pages = admin_users::routes(pages);
    let pages = orgs::routes(pages);
    let pages = server::routes(pages);
    let pages = audit::routes(pages);
    let pages = roles::routes(pages);
    pages
        .method_not_allowed_fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(
            crate::api::refuse_declared_oversized_bodies,
        ))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(
            crate::api::url_guard::refuse_control_characters,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
        .fallback_service(api)
}

/// Grafana's answer for what it does not serve.
async fn not_found() -> ApiError {
    ApiError::not_found("Not found")
}

/// The start page: the administration's user list for those who may read it, else the org's
/// users, else the profile.
async fn home(web: Web) -> Response {
    if web.chrome.nav.admin_users {
        web.redirect("/admin/users")
    } else if web.chrome.nav.org_users {
        web.redirect("/org/users")
    } else {
        web.redirect("/profile")
    }
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    // Pages show personal data: never kept by the browser or a proxy. Files set their own.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
