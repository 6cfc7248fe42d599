//! `ApiError` turns every failure into Grafana's JSON body (`{"message": …}`) with Grafana's
//! status. Storage errors become a 500 whose cause is logged under an id the message points to;
//! they are never a 401 and never leak the database's text.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::store::StoreError;

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with Grafana's message.
    #[error("{0}")]
    BadRequest(String),
    /// An error from Grafana's `errutil` package: the body carries a messageId and statusCode
    /// beside the message (all 401s, and newer 4xx such as a wrong old password).
    #[error("{message}")]
    Coded {
        status: StatusCode,
        message: &'static str,
        message_id: &'static str,
    },
    /// 403 with a plain message (Grafana's `response.Error(403, …)`).
    #[error("{0}")]
    Forbidden(String),
    /// 403 from the access-control evaluator (Grafana's `accesscontrol.Deny` body).
    #[error("access denied: {action}")]
    AccessDenied { action: String },
    #[error("{0}")]
    NotFound(String),
    /// Grafana's 401 for an unknown, expired or revoked session cookie: a plain body, not the
    /// errutil shape (`pkg/middleware/auth.go` notAuthorized).
    #[error("invalid session")]
    InvalidSession,
    /// Any other 4xx with Grafana's wording (409, 412, 413, 422 …).
    #[error("{message}")]
    Status { status: StatusCode, message: String },
    /// 503 with `Retry-After`: the password-hashing queue is full (`auth::hasher`).
    #[error("too many password checks at once")]
    Overloaded,
    /// 500. The message is Grafana's for the operation; the cause is only logged.
    #[error("{message}: {cause}")]
    Internal {
        message: String,
        cause: anyhow::Error,
    },
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }
    pub fn status(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Status {
            status,
            message: message.into(),
        }
    }
    pub fn internal(message: impl Into<String>, cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal {
            message: message.into(),
            cause: cause.into(),
        }
    }
    pub fn coded(status: StatusCode, message: &'static str, message_id: &'static str) -> Self {
        Self::Coded {
            status,
            message,
            message_id,
        }
    }
    /// Grafana's 401 for a request without valid credentials.
    pub fn unauthorized() -> Self {
        Self::coded(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "auth.unauthorized",
        )
    }
    /// Grafana's 401 for a wrong login or password (also used while a login is locked).
    pub fn invalid_credentials() -> Self {
        Self::coded(
            StatusCode::UNAUTHORIZED,
            "Invalid username or password",
            "password-auth.failed",
        )
    }
    /// Replaces the message of a 500 with the operation's Grafana wording.
    pub fn context(self, message: &str) -> Self {
        match self {
            Self::Internal { cause, .. } => Self::Internal {
                message: message.into(),
                cause,
            },
            other => other,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => Self::NotFound(what.to_string()),
            StoreError::Conflict(what) => Self::status(StatusCode::CONFLICT, what),
            other => Self::internal("Internal server error", other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::Overloaded => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(axum::http::header::RETRY_AFTER, "1")],
                    Json(
                        json!({ "message": "Too many password checks at once, try again shortly" }),
                    ),
                )
                    .into_response();
            }
            ApiError::BadRequest(message) => {
                (StatusCode::BAD_REQUEST, json!({ "message": message }))
            }
            ApiError::Coded {
                status,
                message,
                message_id,
            } => {
                let mut body = json!({
                    "message": message,
                    "messageId": message_id,
                    "statusCode": status.as_u16(),
                    "traceID": "",
                });
                // Authentication failures are written by Grafana's middleware, which adds a
                // null `extra`; handlers' errors leave it out
                // (`pkg/services/contexthandler/model/model.go`, `errutil.PublicError`).
                if status == StatusCode::UNAUTHORIZED {
                    body["extra"] = serde_json::Value::Null;
                }
                (status, body)
            }
            ApiError::Forbidden(message) => (StatusCode::FORBIDDEN, json!({ "message": message })),
            ApiError::AccessDenied { action } => (
                StatusCode::FORBIDDEN,
                json!({
                    "accessErrorId": format!("ACE{:010}", rand::random::<u32>()),
                    "message": format!(
                        "You'll need additional permissions to perform this action. Permissions needed: {action}"
                    ),
                    "title": "Access denied",
                }),
            ),
            ApiError::NotFound(message) => (StatusCode::NOT_FOUND, json!({ "message": message })),
            ApiError::InvalidSession => (
                StatusCode::UNAUTHORIZED,
                json!({ "message": "Unauthorized", "traceID": "" }),
            ),
            ApiError::Status { status, message } => (status, json!({ "message": message })),
            ApiError::Internal { message, cause } => {
                let error_id = format!("{:016x}", rand::random::<u64>());
                tracing::error!(error_id, error = ?cause, "{message}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "message": message, "errorId": error_id }),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

/// `Json` for object bodies whose rejection is Grafana's `{"message":"bad request data"}` (400), or 413 for a body
/// over the size limit, instead of axum's plain-text errors.
pub struct GrafanaJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for GrafanaJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // Grafana decodes the body as JSON whatever the Content-Type says (`pkg/web/binding.go`),
        // and curl scripts from its docs often send `-d` without a JSON content type.
        let bytes = match Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::status(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "request body too large",
                ))
            }
            Err(_) => return Err(ApiError::bad_request("bad request data")),
        };
        // Request bodies are JSON objects. serde would also fill a struct from an array, which
        // Go's decoder refuses; refuse it here too.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::bad_request("bad request data"));
        }
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|_| ApiError::bad_request("bad request data"))
    }
}
