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
        if let Some(query) = op.query {
            parameters.extend(query_params(query(&mut generator)));
        }
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
    let mut doc = json!({
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
    });
    forbid_control_characters_in_requests(&mut doc);
    doc
}

/// Applies [`forbid_control_characters`] to what clients send: parameters, request bodies and
/// the component schemas request bodies refer to (transitively). Responses are left as they are.
fn forbid_control_characters_in_requests(doc: &mut Value) {
    let mut referenced = std::collections::BTreeSet::new();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            let Some(ops) = item.as_object_mut() else {
                continue;
            };
            for op in ops.values_mut() {
                if let Some(params) = op.get_mut("parameters") {
                    forbid_control_characters(params, None);
                }
                if let Some(body) = op.get_mut("requestBody") {
                    collect_refs(body, &mut referenced);
                    forbid_control_characters(body, None);
                }
            }
        }
    }
    let mut pending: Vec<String> = referenced.iter().cloned().collect();
    while let Some(name) = pending.pop() {
        let schema = &doc["components"]["schemas"][&name];
        let mut more = std::collections::BTreeSet::new();
        collect_refs(schema, &mut more);
        for r in more {
            if referenced.insert(r.clone()) {
                pending.push(r);
            }
        }
    }
    for name in referenced {
        if let Some(schema) = doc["components"]["schemas"].get_mut(&name) {
            forbid_control_characters(schema, None);
        }
    }
}

fn collect_refs(value: &Value, out: &mut std::collections::BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                    out.insert(name.to_string());
                }
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// No control characters (Unicode `Cc`, what `char::is_control` matches): the rule of every
/// text value, path segment and query value (`crate::domain::text`, `src/api/url_guard.rs`).
const NO_CONTROL: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";
/// Role descriptions may also hold tabs and line breaks (`text::multiline`).
const NO_CONTROL_BUT_LINE_BREAKS: &str =
    "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$";

/// Declares the control-character rule on every free string of the document (those without an
/// enum, a format or a pattern of their own), so that the document says what the server refuses.
fn forbid_control_characters(value: &mut Value, property: Option<&str>) {
    match value {
        Value::Object(map) => {
            let free_string = map.get("type").and_then(Value::as_str) == Some("string")
                && !["enum", "pattern", "format"]
                    .iter()
                    .any(|k| map.contains_key(*k))
                && map.get("maxLength").and_then(Value::as_u64) != Some(0);
            // Passwords are only hashed: any character is theirs (Grafana's rule too).
            let secret = property.is_some_and(|p| p.to_ascii_lowercase().contains("password"));
            if free_string && !secret {
                let pattern = if property == Some("description") {
                    NO_CONTROL_BUT_LINE_BREAKS
                } else {
                    NO_CONTROL
                };
                map.insert("pattern".into(), Value::String(pattern.into()));
            }
            for (key, child) in map.iter_mut() {
                if key == "properties" {
                    if let Value::Object(props) = child {
                        for (name, schema) in props.iter_mut() {
                            forbid_control_characters(schema, Some(name));
                        }
                    }
                } else if key != "example" && key != "default" {
                    forbid_control_characters(child, None);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                forbid_control_characters(item, None);
            }
        }
        _ => {}
    }
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
    if has_path || op.query.is_some() || op.body.is_some() {
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

/// Query parameters from the object schema of a route's query struct (`Op::query`): a property
/// each, optional unless the struct requires it, its doc comment as the description.
fn query_params(schema: schemars::schema::Schema) -> Vec<Value> {
    let schema = serde_json::to_value(schema).unwrap_or(Value::Null);
    let required = schema["required"].as_array().cloned().unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| {
            let mut property = property.clone();
            whole_numbers_as_integers(&mut property);
            let description = property.as_object_mut().and_then(|p| {
                // `#[serde(default)]` structs carry their fields' defaults (`null`, `[]`):
                // an absent parameter, not a value to send.
                p.remove("default");
                p.remove("description")
            });
            let mut param = json!({
                "name": name,
                "in": "query",
                "required": required.contains(&Value::String(name.clone())),
                "schema": property,
            });
            if let Some(description) = description {
                param["description"] = description;
            }
            param
        })
        .collect()
}

/// schemars keeps numbers as floats (`"maximum": 5000.0`); bounds of integer parameters read
/// as written (`5000`).
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15) {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
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
