//! Why authentication or authorization refused a request, or could not decide. The HTTP edge
//! turns each into Grafana's status, body and headers (`From<AuthError> for ApiError` in
//! src/error.rs); nothing here knows about HTTP.

use super::apikey::Refusal;
use super::hasher::HashError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No usable credentials (Grafana's `auth.unauthorized`).
    #[error("unauthorized")]
    Unauthorized,
    /// A wrong login or password, also while a login is locked (`password-auth.failed`).
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The right password for a disabled user (`identity.disabled`).
    #[error("the user is disabled")]
    Disabled,
    /// A token that was refused (`api-key.*`).
    #[error("token refused: {0:?}")]
    Token(Refusal),
    /// An unknown, expired or revoked session cookie.
    #[error("invalid session")]
    InvalidSession,
    /// The caller does not hold `action` (Grafana's access-control denial).
    #[error("access denied: {action}")]
    AccessDenied { action: String },
    /// A cookie-authenticated write from a foreign origin (CSRF).
    #[error("origin not allowed")]
    OriginRefused,
    /// The password hasher is overloaded or failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Storage failed; `context` is Grafana's wording for the operation, if it has one.
    #[error("{source}")]
    Store {
        source: StoreError,
        context: Option<&'static str>,
    },
}

impl AuthError {
    pub fn access_denied(action: &str) -> Self {
        AuthError::AccessDenied {
            action: action.to_string(),
        }
    }

    /// A storage failure reported under the operation's message.
    pub fn store(source: StoreError, context: &'static str) -> Self {
        AuthError::Store {
            source,
            context: Some(context),
        }
    }
}

impl From<StoreError> for AuthError {
    fn from(source: StoreError) -> Self {
        AuthError::Store {
            source,
            context: None,
        }
    }
}

impl From<Refusal> for AuthError {
    fn from(r: Refusal) -> Self {
        AuthError::Token(r)
    }
}
