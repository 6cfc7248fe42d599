//! Who is looking at a page, and what every page needs to draw its frame: the [`Web`] extractor
//! identifies the person by the session cookie (the one `POST /login` sets), refuses a
//! cross-origin write, refreshes the session as the API does, works out the CSRF token of the
//! session and which navigation links the API would answer for them, and carries the cookies
//! the response must set.

use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::client::{Api, Failure};
use super::pages::ErrorPage;
use super::prefs::Prefs;
use crate::api::{check_access, AccessTable};
use crate::auth::session::{self, Cookies};
use crate::auth::{client_info, csrf, identify_session, AuthMethod, Caller};
use crate::state::AppState;

/// The web interface's state: the server's, the API router its pages call, and the API's
/// access table.
#[derive(Clone)]
pub struct WebState {
    pub app: AppState,
    pub api: Router,
    pub access: AccessTable,
    csrf_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

impl FromRef<WebState> for AppState {
    fn from_ref(s: &WebState) -> AppState {
        s.app.clone()
    }
}

/// `kv_store` namespace and key of the key CSRF tokens are made with. It is random, made once
/// and kept in the database so every instance behind a load balancer makes the same tokens.
const CSRF_NAMESPACE: &str = "usher.web";
const CSRF_KEY: &str = "csrf_key";

impl WebState {
    pub fn new(app: AppState, api: Router, access: AccessTable) -> Self {
        WebState {
            app,
            api,
            access,
            csrf_key: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    async fn csrf_key(&self) -> Result<&[u8], Failure> {
        self.csrf_key
            .get_or_try_init(|| async {
                let fresh = hex::encode(rand::random::<[u8; 32]>());
                let value = self
                    .app
                    .store
                    .shared_value(CSRF_NAMESPACE, CSRF_KEY, &fresh, self.app.now())
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %e, "could not read the web interface's CSRF key");
                        Failure {
                            status: StatusCode::INTERNAL_SERVER_ERROR,
                            message: "Internal server error".into(),
                        }
                    })?;
                Ok(value.into_bytes())
            })
            .await
            .map(Vec::as_slice)
    }

    /// The CSRF token of a session: bound to the session (its id and creation time, which the
    /// token's rotation leaves alone) and to the user, and unforgeable without the key.
    pub async fn csrf_token(
        &self,
        session_id: i64,
        user_id: i64,
        created_at: i64,
    ) -> Result<String, Failure> {
        let key = self.csrf_key().await?;
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(format!("session:{session_id}:{user_id}:{created_at}").as_bytes());
        Ok(hex::encode(mac.finalize().into_bytes()))
    }
}

/// The session's CSRF token, left on the request by [`Web`] for [`super::forms::Form`].
#[derive(Clone)]
pub(super) struct CsrfToken(pub String);

/// A one-time message shown on the next page (after a redirect).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    /// `ok` or `error`.
    pub kind: String,
    pub text: String,
}

const FLASH_COOKIE: &str = "usher_flash";

/// The links of the navigation bar the signed-in person may follow: each is shown when the API
/// route its page reads would answer them.
#[derive(Debug, Clone, Default)]
pub struct Nav {
    /// `/org`, the org's name and default preferences: for those who may change either.
    pub org: bool,
    pub org_users: bool,
    pub teams: bool,
    pub service_accounts: bool,
    pub admin_users: bool,
    pub admin_orgs: bool,
    pub settings: bool,
    pub stats: bool,
    pub roles: bool,
    /// `/admin/audit`: every org's audit records.
    pub audit: bool,
    /// `/org/audit`: the current org's audit records.
    pub org_audit: bool,
}

impl Nav {
    pub fn any_org(&self) -> bool {
        self.org || self.org_users || self.teams || self.service_accounts || self.org_audit
    }
    pub fn any_admin(&self) -> bool {
        self.admin_users
            || self.admin_orgs
            || self.roles
            || self.settings
            || self.stats
            || self.audit
    }
}

/// What the frame of every page shows.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// `root_url`'s sub path ("" at the root): every link starts with it.
    pub base: String,
    /// The path of this page, for the navigation's current link.
    pub path: String,
    pub csrf: String,
    /// `light`, `dark` or `system`.
    pub theme: String,
    pub login: String,
    pub name: String,
    pub avatar_url: String,
    pub nav: Nav,
    pub flash: Option<Flash>,
    pub version: &'static str,
}

impl Chrome {
    /// Whether `prefix` is the current section (for `aria-current`).
    pub fn is(&self, prefix: &str) -> bool {
        self.path == prefix || self.path.starts_with(&format!("{prefix}/"))
    }
}

/// The signed-in person looking at a page.
pub struct Web {
    pub state: WebState,
    pub caller: Caller,
    pub api: Api,
    pub chrome: Chrome,
    /// The person's own preferences (read for the theme; the profile shows them).
    pub prefs: Prefs,
    cookies: Vec<HeaderValue>,
}

/// The path to sign in at, coming back to `uri` afterwards.
pub fn login_path(base: &str, uri: &Uri) -> String {
    let back = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    let back = format!("{base}{back}");
    let encoded: String = form_urlencoded::byte_serialize(back.as_bytes()).collect();
    format!("{base}/login?redirectTo={encoded}")
}

/// A person's avatar path: by email as the API's `avatarUrl`, by login for a user without one.
pub fn avatar_of(email: &str, login: &str) -> String {
    let url = crate::domain::avatar_url(email);
    if url.is_empty() {
        crate::domain::avatar_url(login)
    } else {
        url
    }
}

pub fn see_other(location: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

fn read_flash(parts: &Parts) -> Option<Flash> {
    use base64::Engine;
    let raw = session::cookie_token(&parts.headers, FLASH_COOKIE)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .ok()?;
    let flash: Flash = serde_json::from_slice(&bytes).ok()?;
    matches!(flash.kind.as_str(), "ok" | "error").then_some(flash)
}

fn flash_cookie(app: &AppState, flash: Option<&Flash>) -> HeaderValue {
    use base64::Engine;
    match flash {
        Some(f) => {
            let json = serde_json::to_vec(f).unwrap_or_default();
            let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
            Cookies::other(app, FLASH_COOKIE, &encoded, 60)
        }
        None => Cookies::other(app, FLASH_COOKIE, "", 0),
    }
}

impl FromRequestParts<WebState> for Web {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Response> {
        let app = &state.app;
        let base = session::app_sub_url(app);
        let client = client_info(app, &parts.headers, &parts.extensions);
        let caller = match identify_session(app, &parts.headers).await {
            Ok(Some(caller)) => caller,
            Ok(None) => return Err(see_other(&login_path(&base, &parts.uri))),
            Err(crate::auth::AuthError::InvalidSession) => {
                let mut res = see_other(&login_path(&base, &parts.uri));
                for c in Cookies::clear(app) {
                    res.headers_mut().append(header::SET_COOKIE, c);
                }
                return Err(res);
            }
            Err(e) => {
                tracing::error!(error = %e, "the web interface could not identify the caller");
                return Err(ErrorPage::plain(
                    app,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error",
                ));
            }
        };
        // The API's origin rule first, as for every cookie-authenticated write.
        if csrf::check(app, &parts.method, &parts.headers, AuthMethod::Session).is_err() {
            return Err(ErrorPage::plain(
                app,
                StatusCode::FORBIDDEN,
                "origin not allowed",
            ));
        }
        let session = caller.session.clone().expect("identified by a session");
        let mut cookies = Vec::new();
        match session::refresh(app, &session.row, session.current, &client).await {
            Ok(Some(issued)) => cookies.extend(Cookies::issue(app, &issued)),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "could not refresh a session");
            }
        }
        app.note_seen(&caller);
        let csrf = state
            .csrf_token(session.id, caller.id(), session.row.created_at)
            .await
            .map_err(|f| ErrorPage::plain(app, f.status, &f.message))?;
        parts.extensions.insert(CsrfToken(csrf.clone()));

        let peer = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .copied();
        let api = Api::new(
            state.api.clone(),
            caller.clone(),
            &parts.headers,
            peer,
            app.config.server.client_ip_header.as_deref(),
        );
        let flash = read_flash(parts);
        if flash.is_some() {
            cookies.push(flash_cookie(app, None));
        }
        let prefs: Prefs = api.get("/api/user/preferences").await.unwrap_or_default();
        let theme = prefs
            .theme
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| app.config.users.default_theme.clone());
        let theme = match theme.as_str() {
            "light" | "dark" => theme,
            _ => "system".to_string(),
        };
        let mut web = Web {
            state: state.clone(),
            api,
            chrome: Chrome {
                base: base.clone(),
                path: parts.uri.path().to_string(),
                csrf,
                theme,
                login: caller.user.login.clone(),
                name: caller.user.name.clone().unwrap_or_default(),
                avatar_url: format!(
                    "{base}{}",
                    avatar_of(&caller.user.email, &caller.user.login)
                ),
                nav: Nav::default(),
                flash,
                version: env!("CARGO_PKG_VERSION"),
            },
            caller,
            prefs,
            cookies,
        };
        web.chrome.nav = Nav {
            org: web.can(Method::GET, "/api/org").await
                && (web.can(Method::PUT, "/api/org").await
                    || web.can(Method::PUT, "/api/org/preferences").await),
            org_users: web.can(Method::GET, "/api/org/users/search").await,
            admin_orgs: web.can(Method::GET, "/api/orgs").await,
            teams: web.can(Method::GET, "/api/teams/search").await,
            service_accounts: web.can(Method::GET, "/api/serviceaccounts/search").await,
            admin_users: web.can(Method::GET, "/api/users/search").await,
            settings: web.can(Method::GET, "/api/admin/settings").await,
            stats: web.can(Method::GET, "/api/admin/stats").await,
            roles: web.can(Method::GET, "/api/access-control/roles").await,
            audit: web.can(Method::GET, "/api/admin/audit").await,
            org_audit: web.can(Method::GET, "/api/org/audit").await,
        };
        Ok(web)
    }
}

impl Web {
    pub fn app(&self) -> &AppState {
        &self.state.app
    }

    /// Whether the API would let this person call `method path` (a route of the API's table,
    /// e.g. `/api/users/search`), by the route's own rule.
    pub async fn can(&self, method: Method, path: &str) -> bool {
        self.can_with(method, path, &[]).await
    }

    /// [`Web::can`] for a route with path parameters (`("id", "7")`).
    pub async fn can_with(&self, method: Method, path: &str, params: &[(&str, &str)]) -> bool {
        let Some(access) = self.state.access.of(method.clone(), path) else {
            tracing::error!(%method, path, "the web interface asked about a route the API lacks");
            return false;
        };
        let params = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        check_access(&self.state.app, &self.caller, access, params)
            .await
            .is_ok()
    }

    fn finish(&self, mut res: Response) -> Response {
        for c in &self.cookies {
            res.headers_mut().append(header::SET_COOKIE, c.clone());
        }
        res
    }

    /// A rendered page, 200.
    pub fn render(&self, page: impl askama::Template) -> Response {
        self.render_status(StatusCode::OK, page)
    }

    pub fn render_status(&self, status: StatusCode, page: impl askama::Template) -> Response {
        let res = match page.render() {
            Ok(html) => (status, axum::response::Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "a page did not render");
                ErrorPage::plain(
                    &self.state.app,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error",
                )
            }
        };
        self.finish(res)
    }

    /// Sends the browser on to `path` (under the sub path) after a change.
    pub fn redirect(&self, path: &str) -> Response {
        self.finish(see_other(&format!("{}{path}", self.chrome.base)))
    }

    /// [`Web::redirect`] with a message for the next page.
    pub fn done(&self, path: &str, text: impl Into<String>) -> Response {
        self.with_flash(path, "ok", text.into())
    }

    /// [`Web::redirect`] with an error for the next page (for list pages, where the form that
    /// failed is one of many).
    pub fn failed(&self, path: &str, failure: &Failure) -> Response {
        self.with_flash(path, "error", failure.message.clone())
    }

    fn with_flash(&self, path: &str, kind: &str, text: String) -> Response {
        let flash = Flash {
            kind: kind.into(),
            text,
        };
        let mut res = self.redirect(path);
        // The flash cookie set now replaces the clearing one `finish` may have added.
        res.headers_mut().append(
            header::SET_COOKIE,
            flash_cookie(&self.state.app, Some(&flash)),
        );
        res
    }

    /// A one-button action that failed: a refusal (403) or something gone (404) is the error page
    /// with the API's status; anything else goes back to `path` with the message.
    pub fn action_failed(&self, path: &str, f: Failure) -> Response {
        if matches!(f.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
            self.refused(f)
        } else {
            self.failed(path, &f)
        }
    }

    /// The page for an API refusal: 403, 404 or another status with the API's message.
    pub fn refused(&self, failure: Failure) -> Response {
        self.render_status(
            failure.status,
            ErrorPage {
                chrome: &self.chrome,
                title: failure.status.canonical_reason().unwrap_or("Error"),
                status: failure.status.as_u16(),
                message: &failure.message,
            },
        )
    }
}
