//! Templates shared by every area: the error pages.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::context::Chrome;
use crate::auth::session;
use crate::state::AppState;

/// An error inside the frame, for a signed-in person (403 from the API, 404, …).
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub chrome: &'a Chrome,
    pub title: &'a str,
    pub status: u16,
    pub message: &'a str,
}

/// An error without the frame: before anyone is identified, or when the frame itself failed.
#[derive(Template)]
#[template(path = "error_plain.html")]
struct PlainError<'a> {
    base: &'a str,
    title: &'a str,
    status: u16,
    message: &'a str,
    version: &'static str,
}

impl ErrorPage<'_> {
    pub fn plain(app: &AppState, status: StatusCode, message: &str) -> Response {
        let base = session::app_sub_url(app);
        let page = PlainError {
            base: &base,
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            message,
            version: env!("CARGO_PKG_VERSION"),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, message.to_string()).into_response(),
        }
    }
}
