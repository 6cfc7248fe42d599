//! OpenAPI 3 document generated from the route table (`GET /api/openapi.json`): every route's
//! path, method, parameters, access rule and body/response schemas (from the DTOs' `JsonSchema`).

use std::sync::Arc;

use axum::{Extension, Json};
use schemars::gen::SchemaSettings;
use serde_json::{json, Map, Value};

use super::{Op, Routes};
use crate::auth::{Access, InOrg};

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/openapi.json",
            "meta",
            "This OpenAPI document",
            Access::Public,
        ),
        serve,
    );
}

async fn serve(Extension(doc): Extension<Arc<Value>>) -> Json<Value> {
    Json((*doc).clone())
}

/// The `Authorization`/cookie schemes any non-public route accepts (one of them).
const SECURITY: &[&str] = &["basic", "bearer", "cookie"];

/// Builds the document from the registered operations.
pub fn document(ops: &[Op]) -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let mut paths = Map::new();
    for op in ops {
        let mut parameters: Vec<Value> = path_params(op.path)
            .into_iter()
            .map(|name| {
                json!({ "name": name, "in": "path", "required": true, "schema": path_param_schema(name) })
            })
            .collect();
        parameters.extend(op.query.iter().map(|name| {
            json!({ "name": name, "in": "query", "required": false, "schema": query_param_schema(op.path, name) })
        }));
        let mut operation = json!({
            "summary": op.summary,
            "tags": [op.tag],
            "operationId": format!("{}{}", op.method.as_str().to_lowercase(), op.path.replace(['/', '{', '}', '-', '.'], "_")),
            "parameters": parameters,
            "x-access": access_doc(op.access),
        });
        let mut responses = Map::new();
        let success = match (op.success, op.response) {
            (302, _) => json!({ "description": "Found (a redirect)" }),
            (status, Some(schema)) => {
                let schema = serde_json::to_value(schema(&mut generator)).unwrap_or(Value::Null);
                json!({ "description": reason(status), "content": { "application/json": { "schema": schema } } })
            }
            (status, None) => json!({ "description": reason(status) }),
        };
        responses.insert(op.success.to_string(), success);
        for status in error_statuses(op) {
            responses.insert(
                status.to_string(),
                json!({
                    "description": reason(status),
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorResponse" } } }
                }),
            );
        }
        operation["responses"] = Value::Object(responses);
        if let Some(schema) = op.body {
            let schema = serde_json::to_value(schema(&mut generator)).unwrap_or(Value::Null);
            operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": schema } } });
        }
        if !matches!(op.access, Access::Public) {
            operation["security"] = Value::Array(
                SECURITY
                    .iter()
                    .map(|scheme| json!({ *scheme: [] }))
                    .collect(),
            );
        }
        let entry = paths
            .entry(op.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[op.method.as_str().to_lowercase()] = operation;
    }
    let mut schemas = serde_json::to_value(generator.take_definitions())
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    // `{"message"}`, with Grafana's extra fields on some errors (`messageId`, `status`,
    // `errorId` naming a logged internal error, …).
    schemas.insert(
        "ErrorResponse".into(),
        json!({ "type": "object", "properties": { "message": { "type": "string" } }, "required": ["message"] }),
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Usher: Grafana-compatible user and admin HTTP API",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "basic": { "type": "http", "scheme": "basic", "description": "A user's login or email and password" },
                "bearer": { "type": "http", "scheme": "bearer", "description": "A service account token (`glsa_…`) or API key" },
                "cookie": { "type": "apiKey", "in": "cookie", "name": "grafana_session", "description": "The session cookie set by `POST /login`" },
            },
        },
    })
}

/// The error statuses a route can answer, from its shape:
/// - 400 when it reads a path parameter, a query parameter or a body;
/// - 401 and 403 unless it is public (no or bad credentials; a missing permission, or a service
///   account or org role refused);
/// - 404 when it names something in its path, or acts for a caller (whose org or user may be gone);
/// - 409 on the writes (a name, login or email taken);
/// - 413 and 415 when it takes a body (too large; not JSON);
/// - 500 always (an internal error, logged under the `errorId` of the body); 503 always (the
///   database or the password hasher over capacity);
/// - and those the route lists itself (`Op::errors`).
pub fn error_statuses(op: &Op) -> Vec<u16> {
    let public = matches!(op.access, Access::Public);
    let has_path = !path_params(op.path).is_empty();
    let mut statuses = Vec::new();
    if has_path || !op.query.is_empty() || op.body.is_some() {
        statuses.push(400);
    }
    if !public {
        statuses.extend([401, 403]);
    }
    if has_path || !public {
        statuses.push(404);
    }
    if !public && matches!(op.method.as_str(), "POST" | "PUT" | "PATCH") {
        statuses.push(409);
    }
    if op.body.is_some() {
        statuses.extend([413, 415]);
    }
    statuses.extend([500, 503]);
    statuses.extend_from_slice(op.errors);
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

fn reason(status: u16) -> &'static str {
    axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

/// Path parameters: numeric ids are 64-bit integers (any, as Grafana's `strconv.ParseInt`: a
/// non-positive one is simply not found); a service account is named by id or uid; the rest are
/// strings.
fn path_param_schema(name: &str) -> Value {
    match name {
        "id" | "userId" | "teamId" | "orgId" | "tokenId" => {
            json!({ "type": "integer", "format": "int64" })
        }
        // 0 and below: 400 "Missing dashboard id" (Grafana's pkg/api/star.go).
        "dashboardId" => json!({ "type": "integer", "format": "int64", "minimum": 1 }),
        "serviceAccountId" => json!({
            "description": "The service account's numeric id or its uid",
            "type": "string",
            "minLength": 1,
        }),
        "builtinRole" => json!({
            "type": "string",
            "enum": ["None", "Viewer", "Editor", "Admin", "Grafana Admin"],
        }),
        _ => json!({ "type": "string", "minLength": 1 }),
    }
}

/// Query parameters: paging numbers under the one paging rule (`crate::domain::Paging`), sort
/// options as comma-separated lists of the route's options, the rest free text.
fn query_param_schema(path: &str, name: &str) -> Value {
    use crate::domain::{MAX_PAGE, MAX_PER_PAGE};
    let sort_list = |options: &[&str]| {
        let one = format!("({})", options.join("|"));
        json!({ "type": "string", "pattern": format!(r"^\s*$|^\s*{one}\s*(,\s*{one}\s*)*$") })
    };
    match name {
        // Empty is the default, as absent (Grafana's `QueryInt`); given once.
        "page" => json!({ "anyOf": [
            { "type": "integer", "minimum": 0, "maximum": MAX_PAGE },
            { "type": "string", "maxLength": 0 },
        ] }),
        "perpage" | "limit" => json!({ "anyOf": [
            { "type": "integer", "minimum": 0, "maximum": MAX_PER_PAGE },
            { "type": "string", "maxLength": 0 },
        ] }),
        "sort" if path.starts_with("/api/teams") => sort_list(&[
            "name-asc",
            "name-desc",
            "email-asc",
            "email-desc",
            "memberCount-asc",
            "memberCount-desc",
        ]),
        "sort" if path.starts_with("/api/users") || path.contains("/users/search") => sort_list(&[
            "login-asc",
            "login-desc",
            "email-asc",
            "email-desc",
            "name-asc",
            "name-desc",
            "lastSeenAtAge-asc",
            "lastSeenAtAge-desc",
        ]),
        _ => json!({ "type": "string" }),
    }
}

fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn access_doc(access: Access) -> Value {
    match access {
        Access::Public => json!({ "kind": "public" }),
        Access::SignedIn => json!({ "kind": "signedIn" }),
        Access::UserOnly => json!({ "kind": "signedInUser" }),
        Access::Permission { action, scope, org } => {
            let org = match org {
                InOrg::Current => "current".to_string(),
                InOrg::Global => "global".to_string(),
                InOrg::Path(param) => format!("{{{param}}}"),
            };
            json!({ "kind": "permission", "action": action, "scope": scope, "org": org })
        }
    }
}
