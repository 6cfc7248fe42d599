//! The interface's static files, compiled into the binary.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &str)] = &[
    (
        "usher.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/web/usher.css"),
    ),
    (
        "usher.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/web/usher.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../assets/web/favicon.svg"),
    ),
];

pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, body)) => (
            [
                (header::CONTENT_TYPE, *kind),
                // Links carry the version, so a new release is fetched afresh.
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "Not found").into_response(),
    }
}
