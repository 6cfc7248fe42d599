//! `ApiError` turns every failure into Grafana's JSON body (`{"message": …}`) with Grafana's
//! status. Storage errors become a 500 whose cause is logged under an id the message points to;
//! they are never a 401 and never leak the database's text.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::auth::apikey::Refusal;
use crate::auth::hasher::HashError;
use crate::auth::AuthError;
use crate::domain::{Invalid, PagingError};
use crate::service::ServiceError;
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
    /// 413: a request body over `api::BODY_LIMIT`.
    pub fn too_large() -> Self {
        ApiError::status(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
    }

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
            StoreError::Conflict(what) => Self::status(StatusCode::CONFLICT, what.to_string()),
            // A value the database cannot store. Inputs are checked before they reach the store
            // (src/domain/text.rs); this keeps one that slipped through a 400, not a 500.
            other if other.is_unstorable_value() => {
                tracing::warn!(error = %other, "database refused a value");
                Self::bad_request("a value is too long or holds characters that cannot be stored")
            }
            other => Self::internal("Internal server error", other),
        }
    }
}

/// A value the domain refuses: Grafana's 400 with its message. (The dashboard API answers its own
/// `{message, status}` body where `code` is set; see src/api/dashboards.rs.)
impl From<Invalid> for ApiError {
    fn from(err: Invalid) -> Self {
        Self::BadRequest(err.message.into_owned())
    }
}

impl From<PagingError> for ApiError {
    fn from(err: PagingError) -> Self {
        Invalid::from(err).into()
    }
}

impl From<HashError> for ApiError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Overloaded => ApiError::Overloaded,
            HashError::Failed => ApiError::internal("Internal server error", err),
        }
    }
}

/// Grafana's answers to refused credentials and permissions.
/// Grafana's message for a caller without `action` (`pkg/api/accesscontrol.go`).
pub fn access_denied_message(action: &str) -> String {
    format!(
        "You'll need additional permissions to perform this action. Permissions needed: {action}"
    )
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Unauthorized => Self::unauthorized(),
            AuthError::InvalidCredentials => Self::invalid_credentials(),
            // Grafana's authn service: `identity.disabled` (pkg/services/authn/authnimpl/service.go).
            AuthError::Disabled => Self::coded(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "identity.disabled",
            ),
            AuthError::Token(refusal) => {
                let (message, id) = match refusal {
                    Refusal::Invalid => ("Invalid API key", "api-key.invalid"),
                    Refusal::Expired => ("Expired API key", "api-key.expired"),
                    Refusal::Revoked => ("Revoked API key", "api-key.revoked"),
                    Refusal::OrgMismatch => (
                        "API key does not belong to the requested organization",
                        "api-key.organization-mismatch",
                    ),
                    Refusal::Disabled => ("Unauthorized", "identity.disabled"),
                };
                Self::coded(StatusCode::UNAUTHORIZED, message, id)
            }
            AuthError::InvalidSession => Self::InvalidSession,
            AuthError::AccessDenied { action } => Self::AccessDenied { action },
            AuthError::OriginRefused => Self::Forbidden("origin not allowed".into()),
            AuthError::Hash(e) => e.into(),
            AuthError::Store { source, context } => {
                let err = Self::from(source);
                match context {
                    Some(message) => err.context(message),
                    None => err,
                }
            }
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Store(e) => e.into(),
            ServiceError::LastServerAdmin => Self::bad_request(err.to_string()),
            ServiceError::QuotaReached(_) | ServiceError::RoleCeiling => {
                Self::Forbidden(err.to_string())
            }
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
                    "message": access_denied_message(&action),
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
        // Grafana decodes the body as JSON whatever the Content-Type says (`pkg/web/binding.go`).
        // Here a body that says it is something else is refused: `text/plain`, form and
        // multipart bodies are what a page on another site can send without the browser asking
        // first (CORS), so refusing them keeps forged cross-site requests out of every JSON
        // route. A body without a Content-Type is still read as JSON, as Grafana does, for
        // scripts that send none (a browser only sends none from script, with an Origin header).
        if let Some(value) = req.headers().get(header::CONTENT_TYPE) {
            if !is_json(value) {
                return Err(ApiError::status(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Content-Type must be application/json",
                ));
            }
        }
        let bytes = match Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::too_large())
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

/// `application/json` or a `+json` type such as `application/merge-patch+json`, with any
/// parameters (`; charset=utf-8`).
fn is_json(value: &HeaderValue) -> bool {
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        let json = |v: &str| is_json(&HeaderValue::from_str(v).unwrap());
        assert!(json("application/json"));
        assert!(json("Application/JSON; charset=UTF-8"));
        assert!(json("application/merge-patch+json"));
        assert!(!json("text/plain"));
        assert!(!json("text/plain;charset=UTF-8"));
        assert!(!json("application/x-www-form-urlencoded"));
        assert!(!json("multipart/form-data; boundary=x"));
        assert!(!json("text/json"));
        assert!(!json(""));
    }

    #[test]
    fn domain_and_auth_errors_keep_grafanas_statuses() {
        let status = |e: ApiError| e.into_response().status();
        assert_eq!(
            status(Invalid::new("invalid login").into()),
            StatusCode::BAD_REQUEST
        );
        for (err, expected) in [
            (AuthError::Unauthorized, StatusCode::UNAUTHORIZED),
            (AuthError::InvalidCredentials, StatusCode::UNAUTHORIZED),
            (AuthError::Disabled, StatusCode::UNAUTHORIZED),
            (AuthError::Token(Refusal::Expired), StatusCode::UNAUTHORIZED),
            (AuthError::InvalidSession, StatusCode::UNAUTHORIZED),
            (
                AuthError::access_denied("users:read"),
                StatusCode::FORBIDDEN,
            ),
            (AuthError::OriginRefused, StatusCode::FORBIDDEN),
            (
                AuthError::Hash(HashError::Overloaded),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
        ] {
            assert_eq!(status(err.into()), expected);
        }
        match ApiError::from(AuthError::Disabled) {
            ApiError::Coded { message_id, .. } => assert_eq!(message_id, "identity.disabled"),
            other => panic!("{other:?}"),
        }
        let overloaded = ApiError::from(AuthError::Hash(HashError::Overloaded)).into_response();
        assert_eq!(overloaded.headers()[header::RETRY_AFTER], "1");
    }
}
