//! Refuses request targets that decode to control characters, before any handler reads them.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::domain::text::target_has_control;
use crate::error::ApiError;

/// A 400 for a path or query holding a control character (a NUL in a search query used to be a
/// 500 on SQLite and PostgreSQL): every path segment and query value is checked at once.
pub async fn refuse_control_characters(req: Request, next: Next) -> Response {
    let target = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("");
    if target_has_control(target) {
        return ApiError::bad_request("URL must not contain control characters").into_response();
    }
    next.run(req).await
}
