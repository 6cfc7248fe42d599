//! Forms posted by the pages. Every state-changing form carries the session's CSRF token in a
//! hidden `_csrf` field ([`Form`] refuses it otherwise, compared in constant time), on top of the
//! origin rule [`super::context::Web`] applies; the sign-in form, which has no session yet,
//! carries a token that must match a cookie set with the form ([`LoginForm`]).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::Response;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::context::{CsrfToken, WebState};
use super::pages::ErrorPage;

pub const CSRF_FIELD: &str = "_csrf";

/// A posted form, read as `T` once its CSRF token checked out. Take it after [`super::Web`] in
/// a handler's arguments: `Web` works the session's token out.
pub struct Form<T>(pub T);

/// Whether a request's body is a form (`application/x-www-form-urlencoded`).
pub(super) fn is_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

pub(super) fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(super) fn same_secret(given: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

#[allow(clippy::result_large_err)] // the rejection is the page to answer
/// The body of a form post, as pairs; a request that is not a form is refused.
async fn read_pairs(req: Request, state: &WebState) -> Result<Vec<(String, String)>, Response> {
    let app = &state.app;
    if !is_form(req.headers()) {
        return Err(ErrorPage::plain(
            app,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Expected a form (application/x-www-form-urlencoded)",
        ));
    }
    // Over the body limit is a 413; a body that broke off or never came (`read_timeout`) is
    // the client's 400, as the API answers it.
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        let status = e.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "The form is too large"
        } else {
            "The form could not be read"
        };
        ErrorPage::plain(app, status, message)
    })?;
    Ok(form_urlencoded::parse(&bytes).into_owned().collect())
}

#[allow(clippy::result_large_err)]
fn decode<T: DeserializeOwned>(
    pairs: &[(String, String)],
    state: &WebState,
) -> Result<T, Response> {
    let encoded: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(k, _)| k != CSRF_FIELD))
        .finish();
    serde_urlencoded::from_str(&encoded).map_err(|e| {
        ErrorPage::plain(
            &state.app,
            StatusCode::BAD_REQUEST,
            &format!("Bad form data: {e}"),
        )
    })
}

impl<T: DeserializeOwned> FromRequest<WebState> for Form<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Response> {
        let expected = req.extensions().get::<CsrfToken>().map(|t| t.0.clone());
        let pairs = read_pairs(req, state).await?;
        let given = field(&pairs, CSRF_FIELD).unwrap_or("");
        let ok = expected.is_some_and(|expected| same_secret(given, &expected));
        if !ok {
            return Err(ErrorPage::plain(
                &state.app,
                StatusCode::FORBIDDEN,
                "The form's security token is missing or out of date. Go back, reload the page and try again.",
            ));
        }
        decode(&pairs, state).map(Form)
    }
}

/// The sign-in form: its fields and whether its token matched the cookie set with the form.
pub struct LoginForm<T> {
    pub form: T,
    pub token_ok: bool,
}

/// The cookie the sign-in form's token is also set in (a double submit: another site can make a
/// browser post the form, but cannot read or set the cookie).
pub const LOGIN_CSRF_COOKIE: &str = "usher_login_csrf";

impl<T: DeserializeOwned> FromRequest<WebState> for LoginForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Response> {
        let cookie = crate::auth::session::cookie_token(req.headers(), LOGIN_CSRF_COOKIE)
            .unwrap_or("")
            .to_string();
        let pairs = read_pairs(req, state).await?;
        let given = field(&pairs, CSRF_FIELD).unwrap_or("");
        let token_ok = same_secret(given, &cookie);
        Ok(LoginForm {
            form: decode(&pairs, state)?,
            token_ok,
        })
    }
}

/// A form with nothing but its CSRF token (a button that does one thing).
#[derive(serde::Deserialize, Default)]
pub struct Empty {}
