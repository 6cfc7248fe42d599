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
    let client = client_info(&app, req.headers(), req.extensions());
    let requested_org = requested_org(&req);
    let mut caller = identify(req.headers(), requested_org, &client, &app)
        .await?
        .ok_or(AuthError::Unauthorized)?;
    // A token acts in its own org; asking for another was refused while authenticating.
    if caller.method != AuthMethod::ApiKey {
        select_org(&app, &mut caller, requested_org).await?;
    }
    csrf::check(&app, req.method(), req.headers(), caller.method)?;
    if matches!(access, Access::UserOnly) && caller.is_service_account() {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    if let Access::Permission { action, scope, org } = access {
        let (mut parts, body) = req.into_parts();
        let raw: Vec<(String, String)> = RawPathParams::from_request_parts(&mut parts, &app)
            .await
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        // A user or team named by uid is resolved to its id before the scope is checked, as
        // Grafana's resolvers run before `authorize`.
        let params = match scope {
            Some(template) => {
                super::resolve::scope_params(&app, caller.org_id, template, raw).await?
            }
            None => raw,
        };
        let scope = scope.map(|template| fill_scope(template, &params));
        let denied = || AuthError::access_denied(action);
        let scope = scope.as_deref();
        match org {
            InOrg::Current => caller.require(&app, action, scope).await?,
            InOrg::Global => {
                let mut global = Permissions::new(caller.is_server_admin(), None);
                if !global.allows(action, scope) {
                    global.add_grants(custom_grants(&app, &caller, 0, None).await?);
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
                let role = caller.role_in(&app, org_id).await?;
                let mut there = Permissions::new(caller.is_server_admin(), role);
                if !there.allows(action, scope) {
                    there.add_grants(custom_grants(&app, &caller, org_id, role).await?);
                }
                if !there.allows(action, scope) {
                    return Err(denied().into());
                }
            }
        }
        req = Request::from_parts(parts, body);
    }
    // Only requests that pass every check mark their session seen or rotate it.
    let issued = match &caller.session {
        Some(s) => session::refresh(&app, &s.row, s.current, &client).await?,
        None => None,
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

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        Ok(client_info(app, &parts.headers, &parts.extensions))
    }
}
