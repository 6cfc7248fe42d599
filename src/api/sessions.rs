//! Login sessions: `POST /login`, `GET /logout`, token rotation, the auth-token ("devices")
//! listings and revocations of the User and Admin APIs (Grafana's `pkg/api/login.go`,
//! `pkg/api/user_token.go`, `pkg/api/admin_users.go`), and this server's lockout endpoints.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::dto::{message, Message};
use super::users::user_from_path;
use super::{Op, Routes};
use crate::audit::{Event, Target};
use crate::auth::brute_force::WINDOW_SECS;
use crate::auth::session::{self, ClientInfo, Cookies, Lookup};
use crate::auth::{actions, csrf, sign_in, user_context, useragent, Access, AuthMethod, Caller};
use crate::domain::rfc3339;
use crate::error::{ApiError, ApiResult, GrafanaJson};
use crate::state::AppState;
use crate::store::{SessionRow, UserRow};

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::post(
            "/login",
            "sessions",
            "Log in with a password",
            Access::Public,
        )
        .body::<LoginBody>()
        .returns::<LoggedIn>()
        .errors(&[401, 403]),
        login,
    )
    .add(
        Op::get(
            "/logout",
            "sessions",
            "End the session and clear its cookies",
            Access::Public,
        )
        .success(302),
        logout,
    )
    .add(
        // A rotation records itself (`users.authtoken:rotate`); a request that finds the token
        // rotated a moment ago answers success having changed nothing, which the middleware's
        // "no unaudited success" check cannot tell from a forgotten record.
        Op::post(
            "/api/user/auth-tokens/rotate",
            "sessions",
            "Rotate the session token",
            Access::Public,
        )
        .errors(&[401])
        .changes_nothing(),
        rotate,
    )
    .add(
        Op::get(
            "/api/user/auth-tokens",
            "user",
            "Sessions (devices) of the signed-in user",
            Access::SignedIn,
        )
        .returns::<Vec<UserToken>>(),
        my_tokens,
    )
    .add(
        Op::post(
            "/api/user/revoke-auth-token",
            "user",
            "End one session of the signed-in user",
            Access::SignedIn,
        )
        .body::<RevokeBody>()
        .returns::<Message>(),
        revoke_my_token,
    )
    .add(
        Op::get(
            "/api/admin/users/{id}/auth-tokens",
            "admin",
            "Sessions (devices) of a user",
            Access::perm(actions::USERS_AUTHTOKEN_READ, "users:id:{id}"),
        )
        .returns::<Vec<UserToken>>(),
        user_tokens,
    )
    .add(
        Op::post(
            "/api/admin/users/{id}/revoke-auth-token",
            "admin",
            "End one session of a user",
            Access::perm(actions::USERS_AUTHTOKEN_WRITE, "users:id:{id}"),
        )
        .body::<RevokeBody>()
        .returns::<Message>(),
        revoke_user_token,
    )
    .add(
        Op::post(
            "/api/admin/users/{id}/logout",
            "admin",
            "End every session of a user",
            Access::perm(actions::USERS_LOGOUT, "users:id:{id}"),
        )
        .returns::<Message>(),
        logout_user,
    )
    .add(
        Op::get(
            "/api/admin/users/{id}/lockout",
            "admin",
            "Failed logins of a user and whether they are locked out (not in Grafana)",
            Access::perm(actions::USERS_AUTHTOKEN_READ, "users:id:{id}"),
        )
        .returns::<Lockout>(),
        get_lockout,
    )
    .add(
        Op::delete(
            "/api/admin/users/{id}/lockout",
            "admin",
            "Forget a user's failed logins, ending a lockout (not in Grafana)",
            Access::perm(actions::USERS_AUTHTOKEN_WRITE, "users:id:{id}"),
        )
        .returns::<Message>(),
        clear_lockout,
    );
}

/// Grafana's `LoginCommand`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct LoginBody {
    #[schemars(length(min = 1))]
    pub user: String,
    #[schemars(length(min = 1))]
    pub password: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggedIn {
    pub message: String,
    pub redirect_url: String,
}

/// The path of `root_url` with a trailing slash (Grafana's `AppSubURL + "/"`).
fn sub_path(app: &AppState) -> String {
    format!("{}/", session::app_sub_url(app))
}

fn with_cookies(mut res: Response, cookies: [HeaderValue; 2]) -> Response {
    for c in cookies {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// Grafana's errors for a login form it cannot read (`pkg/services/authn/clients/form.go`).
fn bad_login_data() -> ApiError {
    ApiError::coded(
        StatusCode::BAD_REQUEST,
        "bad login data",
        "form-auth.invalid",
    )
}

async fn login(
    State(app): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    body: Result<GrafanaJson<Value>, ApiError>,
) -> ApiResult<Response> {
    csrf::check_origin(&app, &axum::http::Method::POST, &headers)?;
    if app.config.auth.disable_login_form {
        // Grafana does not register its form client (`authnimpl/registration.go`), so the login
        // fails as "client not configured".
        return Err(ApiError::coded(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "auth.client.notConfigured",
        ));
    }
    let body = match body {
        Ok(GrafanaJson(v)) => v,
        Err(e @ ApiError::Status { .. }) => return Err(e),
        Err(_) => return Err(bad_login_data()),
    };
    let form: LoginBody = serde_json::from_value(body).map_err(|_| bad_login_data())?;
    if form.user.is_empty() || form.password.is_empty() {
        return Err(bad_login_data());
    }
    let (user, issued) = sign_in(&app, &form.user, &form.password, &client).await?;
    tracing::info!(user_id = user.id, "logged in");
    let body = LoggedIn {
        message: "Logged in".into(),
        redirect_url: sub_path(&app),
    };
    Ok(with_cookies(
        Json(body).into_response(),
        Cookies::issue(&app, &issued),
    ))
}

/// Ends the session of the cookie, if any, clears the cookies and sends the browser to the login
/// page (or `[auth] signout_redirect_url`).
async fn logout(State(app): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = session::cookie_token(&headers, &app.config.auth.login_cookie_name) {
        if let Lookup::Valid { row, .. } = session::lookup(&app, token).await? {
            let user = &row.user.user;
            crate::audit::set_context(user_context(user.id, &user.login, user.org_id, "session"));
            let mut tx = app.store.begin().await?;
            if app.store.delete_session(&mut tx, row.session.id).await? {
                tx.audit(Event::new(
                    "users:logout",
                    Target::new("session", row.session.id, &user.login),
                ))
                .await?;
            }
            tx.commit().await?;
        }
    }
    let target = if app.config.auth.signout_redirect_url.is_empty() {
        format!("{}login", sub_path(&app))
    } else {
        app.config.auth.signout_redirect_url.clone()
    };
    let mut res = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&target) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(with_cookies(res, Cookies::clear(&app)))
}

/// Grafana's frontend calls this before `grafana_session_expiry`. This server also rotates during
/// ordinary requests, so the endpoint mostly finds nothing to do.
async fn rotate(
    State(app): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
) -> ApiResult<Response> {
    // Grafana: 401 `{"message":"Unauthorized"}` and the cookies cleared for a missing, unknown
    // or expired token (`pkg/api/user_token.go` RotateUserAuthToken).
    let refused = |app: &AppState| {
        with_cookies(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"message": "Unauthorized"})),
            )
                .into_response(),
            Cookies::clear(app),
        )
    };
    let Some(token) = session::cookie_token(&headers, &app.config.auth.login_cookie_name) else {
        return Ok(refused(&app));
    };
    let Lookup::Valid { row, current } = session::lookup(&app, token).await? else {
        return Ok(refused(&app));
    };
    csrf::check(
        &app,
        &axum::http::Method::POST,
        &headers,
        AuthMethod::Session,
    )?;
    let now = app.clock.now().timestamp();
    let ok = Json(json!({})).into_response();
    // Rotated a moment ago (by another tab, or another instance): keep it.
    if now - row.session.rotated_at < session::RESEND_AFTER {
        return Ok(ok);
    }
    let user = &row.user.user;
    crate::audit::set_context(user_context(user.id, &user.login, user.org_id, "session"));
    let mut tx = app.store.begin().await?;
    let issued = session::rotate(&app, tx.db(), &row.session, current, &client).await?;
    let Some(issued) = issued else {
        // Another request rotated first: nothing changed (the transaction rolls back empty).
        return Ok(ok);
    };
    tx.audit(Event::new(
        "users.authtoken:rotate",
        Target::new("session", row.session.id, &user.login),
    ))
    .await?;
    tx.commit().await?;
    Ok(with_cookies(ok, Cookies::issue(&app, &issued)))
}

/// Grafana's `UserToken` DTO (the web interface reads it back).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserToken {
    pub id: i64,
    pub is_active: bool,
    pub client_ip: String,
    pub browser: String,
    pub browser_version: String,
    pub os: String,
    pub os_version: String,
    pub device: String,
    pub auth_module: String,
    pub created_at: String,
    pub seen_at: String,
}

fn time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| rfc3339(t.naive_utc()))
        .unwrap_or_default()
}

impl UserToken {
    fn new(row: &SessionRow, caller: &Caller) -> Self {
        let client = useragent::parse(&row.user_agent);
        let seen = row.seen_at.filter(|s| *s > 0).unwrap_or(row.created_at);
        UserToken {
            id: row.id,
            is_active: caller.session_id() == Some(row.id),
            client_ip: row.client_ip.clone(),
            browser: client.browser,
            browser_version: client.browser_version,
            os: client.os,
            os_version: client.os_version,
            device: client.device,
            auth_module: String::new(),
            created_at: time(row.created_at),
            seen_at: time(seen),
        }
    }
}

/// Grafana's `RevokeAuthTokenCmd`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokeBody {
    #[serde(default)]
    pub auth_token_id: i64,
}

/// Admin routes name users by id or uid: 404 "User not found".
async fn target_user(app: &AppState, raw_id: &str) -> ApiResult<UserRow> {
    user_from_path(app, raw_id, "User not found").await
}

async fn list_tokens(app: &AppState, caller: &Caller, user_id: i64) -> ApiResult<Vec<UserToken>> {
    let (created_after, rotated_after) = session::alive_after(app, app.clock.now().timestamp());
    let rows = app
        .store
        .user_sessions(user_id, created_after, rotated_after)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get user auth tokens"))?;
    Ok(rows.iter().map(|r| UserToken::new(r, caller)).collect())
}

async fn revoke_token(
    app: &AppState,
    caller: &Caller,
    (user_id, login): (i64, &str),
    token_id: i64,
) -> ApiResult<()> {
    let not_found = || ApiError::not_found("User auth token not found");
    let token = app
        .store
        .user_session(user_id, token_id)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get user auth token"))?
        .ok_or_else(not_found)?;
    if caller.session_id() == Some(token.id) {
        return Err(ApiError::bad_request(
            "Cannot revoke active user auth token",
        ));
    }
    let failed = |e| ApiError::from(e).context("Failed to revoke user auth token");
    let mut tx = app.store.begin().await.map_err(failed)?;
    if !app
        .store
        .delete_session(&mut tx, token.id)
        .await
        .map_err(failed)?
    {
        return Err(not_found());
    }
    tx.audit(
        Event::new(
            actions::USERS_AUTHTOKEN_WRITE,
            Target::new("session", token.id, login),
        )
        .set("userId", user_id),
    )
    .await
    .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    Ok(())
}

/// Only people have sessions: a service account is refused as Grafana refuses every identity
/// that is not a user (pkg/api/user_token.go, `GetUserAuthTokens` / `RevokeUserAuthToken`).
fn people_only(caller: &Caller, what: &str) -> ApiResult<()> {
    if caller.is_service_account() {
        return Err(ApiError::status(
            axum::http::StatusCode::FORBIDDEN,
            format!("entity not allowed to {what} tokens"),
        ));
    }
    Ok(())
}

async fn my_tokens(caller: Caller, State(app): State<AppState>) -> ApiResult<Json<Vec<UserToken>>> {
    people_only(&caller, "get")?;
    Ok(Json(list_tokens(&app, &caller, caller.id()).await?))
}

async fn revoke_my_token(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaJson(body): GrafanaJson<RevokeBody>,
) -> ApiResult<Json<Message>> {
    people_only(&caller, "revoke")?;
    revoke_token(
        &app,
        &caller,
        (caller.id(), &caller.user.login),
        body.auth_token_id,
    )
    .await?;
    Ok(message("User auth token revoked"))
}

async fn user_tokens(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<UserToken>>> {
    let user = target_user(&app, &id).await?;
    Ok(Json(list_tokens(&app, &caller, user.id).await?))
}

async fn revoke_user_token(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaJson(body): GrafanaJson<RevokeBody>,
) -> ApiResult<Json<Message>> {
    let user = target_user(&app, &id).await?;
    revoke_token(&app, &caller, (user.id, &user.login), body.auth_token_id).await?;
    Ok(message("User auth token revoked"))
}

async fn logout_user(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    // The uid resolver runs first (pkg/api/api.go), then Grafana's `AdminLogoutUser` refuses the
    // caller's own id before it looks the user up.
    let id = super::resolve::user_id(&app, &id).await?;
    if id == caller.id() {
        return Err(ApiError::bad_request("You cannot logout yourself"));
    }
    let user = target_user(&app, &id.to_string()).await?;
    let failed = |e| ApiError::from(e).context("Failed to logout user");
    let mut tx = app.store.begin().await.map_err(failed)?;
    let ended = app
        .store
        .delete_user_sessions(&mut tx, user.id, None)
        .await
        .map_err(failed)?;
    tx.audit(
        Event::new(
            actions::USERS_LOGOUT,
            Target::new("user", user.id, &user.login),
        )
        .set("sessionsEnded", ended),
    )
    .await
    .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    Ok(message("User logged out"))
}

/// A user's failed logins inside the brute-force window.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Lockout {
    pub login: String,
    /// Refused from at least one address.
    pub locked: bool,
    pub failed_attempts: i64,
    pub window_seconds: i64,
    pub addresses: Vec<LockoutAddress>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LockoutAddress {
    pub ip: String,
    pub failed_attempts: i64,
    pub locked: bool,
    pub last_failed_at: String,
    /// When the address may try again, if it is locked out now.
    pub locked_until: Option<String>,
}

async fn get_lockout(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Lockout>> {
    let user = target_user(&app, &id).await?;
    let key = user.login.to_lowercase();
    let limits = app.config.security.brute_force;
    let since = app.clock.now().timestamp() - WINDOW_SECS;
    let rows = app.store.login_attempts(&key, since).await?;
    let total = rows.len() as i64;
    let everywhere = limits.per_login_all_addresses.is_some_and(|l| total >= l);
    // Rows are newest first; group them by address in that order.
    let mut by_ip: Vec<(String, Vec<i64>)> = Vec::new();
    for row in &rows {
        match by_ip.iter_mut().find(|(ip, _)| *ip == row.ip_address) {
            Some((_, times)) => times.push(row.created),
            None => by_ip.push((row.ip_address.clone(), vec![row.created])),
        }
    }
    // A sliding window: locked until the failure that reached the limit leaves it.
    let until = |times: &[i64], limit: Option<i64>| -> Option<i64> {
        let limit = usize::try_from(limit?).ok()?;
        times.get(limit.checked_sub(1)?).map(|t| t + WINDOW_SECS)
    };
    let all_times: Vec<i64> = rows.iter().map(|r| r.created).collect();
    let addresses: Vec<LockoutAddress> = by_ip
        .into_iter()
        .map(|(ip, times)| {
            let mine = until(&times, limits.per_login);
            let global = if everywhere {
                until(&all_times, limits.per_login_all_addresses)
            } else {
                None
            };
            let locked_until = mine.into_iter().chain(global).max();
            LockoutAddress {
                failed_attempts: times.len() as i64,
                locked: locked_until.is_some(),
                last_failed_at: time(times[0]),
                locked_until: locked_until.map(time),
                ip,
            }
        })
        .collect();
    Ok(Json(Lockout {
        login: user.profile.login,
        locked: everywhere || addresses.iter().any(|a| a.locked),
        failed_attempts: total,
        window_seconds: WINDOW_SECS,
        addresses,
    }))
}

async fn clear_lockout(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    let user = target_user(&app, &id).await?;
    let mut tx = app.store.begin().await?;
    let cleared = app
        .store
        .clear_login_attempts(&mut tx, &user.login.to_lowercase())
        .await?;
    tx.audit(
        Event::new("users:unlock", Target::new("user", user.id, &user.login)).change(
            "failedAttempts",
            Some(cleared),
            Some(0),
        ),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, "failed logins cleared by an admin");
    Ok(message("User lockout cleared"))
}
