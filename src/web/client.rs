//! The web interface's way to the API: each page asks the API's own routes for what it shows and
//! sends them what it changes, as the signed-in person, through the same router, access rules,
//! validation and messages a script gets. A page can therefore never show or do what the API
//! would refuse.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower::ServiceExt;

use crate::api::InternalCaller;
use crate::auth::Caller;

/// What the API answered when it did not succeed: its status and message, shown to the person.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: StatusCode,
    pub message: String,
}

impl Failure {
    /// What the API answers a caller without `action`, for a page that knows the answer without
    /// asking (the API's own message).
    pub fn denied(action: &str) -> Self {
        Failure::new(
            StatusCode::FORBIDDEN,
            crate::error::access_denied_message(action),
        )
    }

    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }
}

/// The API, called as one signed-in caller.
#[derive(Clone)]
pub struct Api {
    router: Router,
    caller: Caller,
    headers: HeaderMap,
    peer: Option<ConnectInfo<SocketAddr>>,
}

/// The headers of the browser's request the API may read: who the client is (user agent, the
/// proxy's address header) and where it came to (host).
fn forwarded(headers: &HeaderMap, client_ip_header: Option<&str>) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in [header::USER_AGENT, header::HOST] {
        if let Some(v) = headers.get(&name) {
            out.insert(name, v.clone());
        }
    }
    if let Some(name) = client_ip_header {
        if let (Ok(name), Some(v)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            headers.get(name),
        ) {
            out.insert(name, v.clone());
        }
    }
    out
}

impl Api {
    pub fn new(
        router: Router,
        caller: Caller,
        headers: &HeaderMap,
        peer: Option<ConnectInfo<SocketAddr>>,
        client_ip_header: Option<&str>,
    ) -> Self {
        Api {
            router,
            caller,
            headers: forwarded(headers, client_ip_header),
            peer,
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Failure> {
        self.call(Method::GET, path, None).await
    }

    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: Value) -> Result<T, Failure> {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put<T: DeserializeOwned>(&self, path: &str, body: Value) -> Result<T, Failure> {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn patch<T: DeserializeOwned>(&self, path: &str, body: Value) -> Result<T, Failure> {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, Failure> {
        self.call(Method::DELETE, path, None).await
    }

    /// One API request. A 2xx answer is read as `T` (an empty body as JSON `null`); anything
    /// else is a [`Failure`] with the API's message.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<T, Failure> {
        let mut req = Request::builder().method(method).uri(path);
        for (name, value) in &self.headers {
            req = req.header(name, value);
        }
        let body = match body {
            Some(v) => {
                req = req.header(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                Body::from(serde_json::to_vec(&v).unwrap_or_default())
            }
            None => Body::empty(),
        };
        let mut req = req
            .body(body)
            .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        req.extensions_mut()
            .insert(InternalCaller(self.caller.clone()));
        if let Some(peer) = self.peer {
            req.extensions_mut().insert(peer);
        }
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .unwrap_or_else(|never| match never {});
        let status = res.status();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let json: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        if !status.is_success() {
            let message = json
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
            return Err(Failure::new(status, message));
        }
        serde_json::from_value(json).map_err(|e| {
            tracing::error!(error = %e, path, "the web interface could not read an API answer");
            Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "Unexpected answer")
        })
    }
}
