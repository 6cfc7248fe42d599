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
    audited: bool,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let request_id = crate::audit::request_id(req.headers());
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let method = req.method().clone();
    let client = client_info(&app, req.headers(), req.extensions());
    let context = crate::audit::Context {
        client_ip: client.ip.clone(),
        user_agent: client.stored_user_agent().to_string(),
        request_id: request_id.clone(),
        ..crate::audit::Context::server("anonymous")
    };
    let (res, committed, actor) =
        crate::audit::scoped(context, identify_and_run(&app, access, req, next)).await;
    let (mut res, reason) = match res {
        Ok(res) => (res, "forbidden".to_string()),
        Err(e) => {
            let reason = e.to_string();
            (e.into_response(), reason)
        }
    };
    // A refused change is recorded (a refused read is not): who asked, for what.
    if audited && res.status() == StatusCode::FORBIDDEN {
        let event = crate::audit::Event::new(
            &format!("{method} {route}"),
            crate::audit::Target::new("route", &route, &route),
        )
        .denied(&reason);
        let (written, _, _) = crate::audit::scoped(actor, app.store.audit_now(event)).await;
        if let Err(err) = written {
            tracing::error!(error = %err, "could not record a refused request");
        }
    }
    if audited && res.status().is_success() && committed == 0 {
        // A state-changing route answered success without committing its record: a route
        // that forgot to audit. Every test runs a debug build, where it fails loudly.
        tracing::error!(%method, route, "a state-changing route committed no audit record");
        if cfg!(debug_assertions) {
            res = ApiError::internal(
                "unaudited state change",
                anyhow::anyhow!("{method} {route} committed no audit record"),
            )
            .into_response();
        }
    }
    if let Ok(v) = axum::http::HeaderValue::from_str(&request_id) {
        res.headers_mut().insert("x-request-id", v);
    }
    Ok(res)
}

/// [`authorize`]'s work inside the request's audit scope.
async fn identify_and_run(
    app: &AppState,
    access: Access,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let app = app.clone();
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
    crate::audit::set_context(crate::auth::audit_context(
        &caller,
        &client,
        &crate::audit::current().request_id,
    ));
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
