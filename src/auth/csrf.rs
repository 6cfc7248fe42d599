//! Cross-site request forgery, Grafana's way (`pkg/middleware/csrf/csrf.go`): a request that
//! authenticates with the session cookie and carries an `Origin` must come from the request's own
//! host, from a host in `[security] csrf_trusted_origins`, or from the host named by one of the
//! `csrf_additional_headers` (e.g. `X-Forwarded-Host`). Beyond Grafana, a state-changing request
//! without `Origin` is refused when the browser says, in `Sec-Fetch-Site`, that it comes from
//! another site. Requests authenticated by an `Authorization` header are not checked (a browser
//! never adds one on its own), unless `csrf_always_check` is set.
//!
//! Grafana answers `origin not allowed` as plain text; this server sends the same message as
//! JSON, like every other error. `POST /login` applies the same rule although it carries no
//! credentials ([`check_origin`]).

use axum::http::{header, HeaderMap, Method};

use super::AuthError;
use super::AuthMethod;
use crate::state::AppState;

fn refused() -> AuthError {
    AuthError::OriginRefused
}

/// The host name of an origin or `Host` value (`https://a.example:3000` → `a.example`).
fn host_name(value: &str) -> Option<String> {
    let rest = value.split_once("://").map(|(_, r)| r).unwrap_or(value);
    let authority = rest.split('/').next()?;
    let authority = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

pub fn check(
    app: &AppState,
    method: &Method,
    headers: &HeaderMap,
    auth: AuthMethod,
) -> Result<(), AuthError> {
    if auth != AuthMethod::Session && !app.config.security.csrf_always_check {
        return Ok(());
    }
    check_origin(app, method, headers)
}

/// The origin rule on its own, for requests that carry no credentials yet: `POST /login` would
/// otherwise let a page on another site sign the browser in to the attacker's account (login
/// CSRF). Grafana checks only requests that come with its cookie (`pkg/middleware/csrf/csrf.go`).
pub fn check_origin(app: &AppState, method: &Method, headers: &HeaderMap) -> Result<(), AuthError> {
    let security = &app.config.security;
    if matches!(*method, Method::HEAD | Method::OPTIONS | Method::TRACE) {
        return Ok(());
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        let safe = *method == Method::GET;
        let cross_site = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| !matches!(v, "same-origin" | "none"));
        return if !safe && cross_site {
            Err(refused())
        } else {
            Ok(())
        };
    };
    let origin = origin
        .to_str()
        .ok()
        .and_then(host_name)
        .ok_or_else(refused)?;
    let own = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(host_name);
    if own.as_deref() == Some(origin.as_str()) {
        return Ok(());
    }
    let trusted = security
        .csrf_trusted_origins
        .iter()
        .filter_map(|t| host_name(t))
        .any(|t| t == origin);
    let forwarded = security.csrf_additional_headers.iter().any(|name| {
        headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .and_then(host_name)
            .is_some_and(|h| h == origin)
    });
    if trusted || forwarded {
        Ok(())
    } else {
        Err(refused())
    }
}

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn host_names() {
        assert_eq!(
            host_name("https://a.example:3000").as_deref(),
            Some("a.example")
        );
        assert_eq!(host_name("A.example").as_deref(), Some("a.example"));
        assert_eq!(host_name("localhost:3000").as_deref(), Some("localhost"));
        assert_eq!(host_name("http://[::1]:3000").as_deref(), Some("::1"));
        // Browsers send `Origin: null` from sandboxed frames and file URLs.
        assert_eq!(host_name("null").as_deref(), Some("null"));
        assert_eq!(host_name("").as_deref(), None);
    }
}
