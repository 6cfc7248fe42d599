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

/// Builds the document from the registered operations.
pub fn document(ops: &[Op]) -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let mut paths = Map::new();
    for op in ops {
        let mut parameters: Vec<Value> = path_params(op.path)
            .into_iter()
            .map(|name| {
                json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } })
            })
            .collect();
        parameters.extend(op.query.iter().map(|name| {
            json!({ "name": name, "in": "query", "required": false, "schema": { "type": "string" } })
        }));
        let mut operation = json!({
            "summary": op.summary,
            "tags": [op.tag],
            "operationId": format!("{}{}", op.method.as_str().to_lowercase(), op.path.replace(['/', '{', '}', '-', '.'], "_")),
            "parameters": parameters,
            "x-access": access_doc(op.access),
            "responses": {
                "default": {
                    "description": "Grafana-shaped error",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorResponse" } } }
                }
            },
        });
        let success = match op.response {
            Some(schema) => {
                let schema = serde_json::to_value(schema(&mut generator)).unwrap_or(Value::Null);
                json!({ "description": "OK", "content": { "application/json": { "schema": schema } } })
            }
            None => json!({ "description": "OK" }),
        };
        operation["responses"]["200"] = success;
        if let Some(schema) = op.body {
            let schema = serde_json::to_value(schema(&mut generator)).unwrap_or(Value::Null);
            operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": schema } } });
        }
        if !matches!(op.access, Access::Public) {
            operation["security"] = json!([{ "basic": [] }]);
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
            "securitySchemes": { "basic": { "type": "http", "scheme": "basic" } },
        },
    })
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
