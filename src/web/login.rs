//! Signing in with the form at `GET /login` (Grafana's page): login or email and password,
//! Grafana's wording, the brute-force refusal answered like a wrong password (by
//! `auth::sign_in`, the code `POST /login` runs, which also records the sign-in), `[auth] disable_login_form`
//! respected, and back to the page asked for afterwards. `POST /login` with a form body is this
//! page's; with JSON it is the API's, unchanged. Signing out is Grafana's `GET /logout`.

use askama::Template;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use tower::ServiceExt;

use super::context::{see_other, WebState};
use super::forms::{is_form, LoginForm, CSRF_FIELD, LOGIN_CSRF_COOKIE};
use crate::auth::session::{self, Cookies, Lookup};
use crate::auth::{client_info, csrf, sign_in, AuthError};
use crate::state::AppState;

pub(super) fn routes(r: Router<WebState>) -> Router<WebState> {
    r.route("/login", get(page).post(submit))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    base: &'a str,
    version: &'static str,
    csrf_field: &'static str,
    csrf: &'a str,
    redirect_to: &'a str,
    user: &'a str,
    login_hint: &'a str,
    password_hint: &'a str,
    form_disabled: bool,
    error: Option<&'a str>,
    user_error: Option<&'a str>,
    password_error: Option<&'a str>,
}

#[derive(Deserialize, Default)]
pub struct Back {
    #[serde(rename = "redirectTo", default)]
    redirect_to: String,
}

#[derive(Deserialize, Default)]
pub struct Credentials {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(rename = "redirectTo", default)]
    redirect_to: String,
}

/// Where to go after signing in: a path of this server (under the sub path), never another
/// site (`//evil.example`, `/\evil.example`, `https://…`); otherwise the start page.
pub fn safe_target(base: &str, raw: &str) -> String {
    let home = format!("{base}/");
    let local = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.contains('\\')
        && !raw.chars().any(|c| c.is_control())
        && (base.is_empty() || raw == base || raw.starts_with(&format!("{base}/")));
    let is_login = raw.trim_start_matches(base).starts_with("/login");
    if local && !is_login {
        raw.to_string()
    } else {
        home
    }
}

fn login_token(headers: &HeaderMap) -> Option<String> {
    session::cookie_token(headers, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
}

fn token_cookie(app: &AppState, token: &str) -> HeaderValue {
    Cookies::other(app, LOGIN_CSRF_COOKIE, token, 86_400)
}

struct Shown<'a> {
    status: StatusCode,
    user: &'a str,
    redirect_to: &'a str,
    error: Option<&'a str>,
    user_error: Option<&'a str>,
    password_error: Option<&'a str>,
}

fn show(app: &AppState, headers: &HeaderMap, shown: Shown<'_>) -> Response {
    let base = session::app_sub_url(app);
    let token = login_token(headers).unwrap_or_else(|| hex::encode(rand::random::<[u8; 32]>()));
    let page = LoginPage {
        base: &base,
        version: env!("CARGO_PKG_VERSION"),
        csrf_field: CSRF_FIELD,
        csrf: &token,
        redirect_to: shown.redirect_to,
        user: shown.user,
        login_hint: &app.config.frontend.login_hint,
        password_hint: &app.config.frontend.password_hint,
        form_disabled: app.config.auth.disable_login_form,
        error: shown.error,
        user_error: shown.user_error,
        password_error: shown.password_error,
    };
    let html = page.render().unwrap_or_default();
    let mut res = (shown.status, axum::response::Html(html)).into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, token_cookie(app, &token));
    res
}

async fn signed_in(app: &AppState, headers: &HeaderMap) -> bool {
    match session::cookie_token(headers, &app.config.auth.login_cookie_name) {
        Some(token) => matches!(session::lookup(app, token).await, Ok(Lookup::Valid { .. })),
        None => false,
    }
}

async fn page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(back): Query<Back>,
) -> Response {
    let app = &state.app;
    let base = session::app_sub_url(app);
    if signed_in(app, &headers).await {
        return see_other(&safe_target(&base, &back.redirect_to));
    }
    show(
        app,
        &headers,
        Shown {
            status: StatusCode::OK,
            user: "",
            redirect_to: &back.redirect_to,
            error: None,
            user_error: None,
            password_error: None,
        },
    )
}

/// `POST /login`: the form's, or (any other body) the API's.
async fn submit(State(state): State<WebState>, req: Request) -> Response {
    if !is_form(req.headers()) {
        return state
            .api
            .clone()
            .oneshot(req)
            .await
            .unwrap_or_else(|never| match never {});
    }
    let app = state.app.clone();
    let headers = req.headers().clone();
    let client = client_info(&app, req.headers(), req.extensions());
    let base = session::app_sub_url(&app);
    // The API's rule for `POST /login`: no sign-in posted from another site.
    if csrf::check_origin(&app, &Method::POST, &headers).is_err() {
        return super::pages::ErrorPage::plain(&app, StatusCode::FORBIDDEN, "origin not allowed");
    }
    let LoginForm { form, token_ok } =
        match LoginForm::<Credentials>::from_request(req, &state).await {
            Ok(f) => f,
            Err(res) => return res,
        };
    let again =
        |status, error: Option<&str>, user_error: Option<&str>, password_error: Option<&str>| {
            show(
                &app,
                &headers,
                Shown {
                    status,
                    user: &form.user,
                    redirect_to: &form.redirect_to,
                    error,
                    user_error,
                    password_error,
                },
            )
        };
    if app.config.auth.disable_login_form {
        return again(
            StatusCode::BAD_REQUEST,
            Some("Signing in with a password is turned off"),
            None,
            None,
        );
    }
    if !token_ok {
        return again(
            StatusCode::FORBIDDEN,
            Some("The sign-in form was out of date. Try again."),
            None,
            None,
        );
    }
    // Grafana's login form: "Email or username is required", "Password is required".
    let user_error = form
        .user
        .is_empty()
        .then_some("Email or username is required");
    let password_error = form.password.is_empty().then_some("Password is required");
    if user_error.is_some() || password_error.is_some() {
        return again(StatusCode::BAD_REQUEST, None, user_error, password_error);
    }
    // The web interface runs outside the API's route middleware: the sign-in's audit scope is
    // set here.
    let context = crate::audit::Context::anonymous(
        &form.user,
        &client.ip,
        client.stored_user_agent(),
        &crate::audit::request_id(&headers),
    );
    let (outcome, _, _) =
        crate::audit::scoped(context, sign_in(&app, &form.user, &form.password, &client)).await;
    let (user, issued) = match outcome {
        Ok(done) => done,
        // Grafana's message; a locked-out login is answered the same way.
        Err(AuthError::InvalidCredentials) => {
            return again(
                StatusCode::UNAUTHORIZED,
                Some("Invalid username or password"),
                None,
                None,
            )
        }
        // Grafana's API says only "Unauthorized" (`identity.disabled`); the page says why,
        // which it tells only someone who gave the right password.
        Err(AuthError::Disabled) => {
            return again(
                StatusCode::UNAUTHORIZED,
                Some("This user is disabled. Ask an administrator to enable it."),
                None,
                None,
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "sign-in failed");
            let status = crate::error::ApiError::from(e).into_response().status();
            return again(
                status,
                Some("Signing in failed. Try again in a moment."),
                None,
                None,
            );
        }
    };
    tracing::info!(user_id = user.id, "logged in with the web form");
    let mut res = see_other(&safe_target(&base, &form.redirect_to));
    for c in Cookies::issue(&app, &issued) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::safe_target;

    #[test]
    fn only_local_paths_are_followed_after_signing_in() {
        assert_eq!(
            safe_target("", "/admin/users?query=a"),
            "/admin/users?query=a"
        );
        assert_eq!(safe_target("", "//evil.example/x"), "/");
        assert_eq!(safe_target("", "/\\evil.example"), "/");
        assert_eq!(safe_target("", "https://evil.example"), "/");
        assert_eq!(safe_target("", ""), "/");
        assert_eq!(safe_target("", "/login"), "/");
        assert_eq!(
            safe_target("/grafana", "/grafana/profile"),
            "/grafana/profile"
        );
        assert_eq!(safe_target("/grafana", "/profile"), "/grafana/");
    }
}
