//! The HTTP edge of authentication: the route middleware that identifies the caller and checks
//! the route's access rule (`crate::auth` does the work and answers `AuthError`s, turned into
//! Grafana's responses here), and the extractors handlers take the caller and client from.

use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::session::{self, ClientInfo, Cookies};
use crate::auth::{
    client_info, csrf, custom_grants, fill_scope, identify, requested_org, select_org, Access,
    AuthError, AuthMethod, Caller, InOrg, Permissions,
};
use crate::error::ApiError;
use crate::state::AppState;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _app: &AppState) -> Result<Self, ApiError> {
        // Set by `authorize`, which every non-public route runs first.
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| AuthError::Unauthorized.into())
    }
}

/// A caller the web interface has already identified (`crate::web`): its requests to the API
/// run the route's access rule for this caller instead of reading credentials again. Only code
/// of this server can put it on a request; a client cannot send one.
#[derive(Clone)]
pub struct InternalCaller(pub Caller);

/// Route middleware: identify the caller, check the route's access rule, hand the caller on.
pub async fn authorize(
    State(app): State<AppState>,
    access: Access,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Access::Public = access {
        return Ok(next.run(req).await);
    }
    // The web interface identified the caller, checked its CSRF token and refreshed its session
    // itself; the access rule below is the same for both.
    let internal = req.extensions_mut().remove::<InternalCaller>();
    let from_web = internal.is_some();
    let client = client_info(&app, req.headers(), req.extensions());
    let caller = match internal {
        Some(InternalCaller(caller)) => caller,
        None => {
            let requested_org = requested_org(&req);
            let mut caller = identify(req.headers(), requested_org, &client, &app)
                .await?
                .ok_or(AuthError::Unauthorized)?;
            // A token acts in its own org; asking for another was refused while authenticating.
            if caller.method != AuthMethod::ApiKey {
                select_org(&app, &mut caller, requested_org).await?;
            }
            csrf::check(&app, req.method(), req.headers(), caller.method)?;
            caller
        }
    };
    if matches!(access, Access::UserOnly) && caller.is_service_account() {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    if let Access::Permission { .. } = access {
        let (mut parts, body) = req.into_parts();
        let raw: Vec<(String, String)> = RawPathParams::from_request_parts(&mut parts, &app)
            .await
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        check_access(&app, &caller, access, raw).await?;
        req = Request::from_parts(parts, body);
    }
    // Only requests that pass every check mark their session seen or rotate it.
    let issued = match (&caller.session, from_web) {
        (Some(s), false) => session::refresh(&app, &s.row, s.current, &client).await?,
        _ => None,
    };
    app.note_seen(&caller);
    if let Some(key) = &caller.api_key {
        app.note_key_used(key);
    }
    req.extensions_mut().insert(caller);
    let mut res = next.run(req).await;
    if let Some(issued) = issued {
        for cookie in Cookies::issue(&app, &issued) {
            res.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
    Ok(res)
}

/// Whether `caller` passes `access` for a request with these path parameters: the one
/// evaluation of a route's rule, shared by the API middleware and the web interface (which asks
/// it before showing a link or a form the API would refuse).
pub async fn check_access(
    app: &AppState,
    caller: &Caller,
    access: Access,
    raw: Vec<(String, String)>,
) -> Result<(), ApiError> {
    match access {
        // Signed in is all these ask; `UserOnly`'s answer to a service account (304) is the
        // middleware's, and the web interface's callers are people.
        Access::Public | Access::SignedIn | Access::UserOnly => Ok(()),
        Access::Permission { action, scope, org } => {
            // A user or team named by uid is resolved to its id before the scope is checked, as
            // Grafana's resolvers run before `authorize`.
            let params = match scope {
                Some(template) => {
                    super::resolve::scope_params(app, caller.org_id, template, raw).await?
                }
                None => raw,
            };
            let scope = scope.map(|template| fill_scope(template, &params));
            let denied = || AuthError::access_denied(action);
            let scope = scope.as_deref();
            match org {
                InOrg::Current => caller.require(app, action, scope).await?,
                InOrg::Global => {
                    let mut global = Permissions::new(caller.is_server_admin(), None);
                    if !global.allows(action, scope) {
                        global.add_grants(custom_grants(app, caller, 0, None).await?);
                    }
                    if !global.allows(action, scope) {
                        return Err(denied().into());
                    }
                }
                InOrg::Path(name) => {
                    // Grafana's authorizeInOrg: an unparsable org id is denied, not "not found".
                    let org_id = params
                        .iter()
                        .find(|(k, _)| k == name)
                        .and_then(|(_, v)| v.parse::<i64>().ok())
                        .filter(|id| *id > 0)
                        .ok_or_else(denied)?;
                    let role = caller.role_in(app, org_id).await?;
                    let mut there = Permissions::new(caller.is_server_admin(), role);
                    if !there.allows(action, scope) {
                        there.add_grants(custom_grants(app, caller, org_id, role).await?);
                    }
                    if !there.allows(action, scope) {
                        return Err(denied().into());
                    }
                }
            }
            Ok(())
        }
    }
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        Ok(client_info(app, &parts.headers, &parts.extensions))
    }
}
