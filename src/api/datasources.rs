//! `GET /api/datasources` (Grafana's `pkg/api/datasources.go` `GetDataSources`): the org's data
//! sources. This server holds none, so the list is empty; it is served so that tools which list
//! data sources before a backup or a sync (and stop on a 404) go on. The other data-source routes
//! stay unserved.

use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::{Op, Routes};
use crate::auth::{actions, Access};

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/datasources",
            "datasources",
            "Data sources of the current organization (this server holds none)",
            // Grafana: `authorize(ac.EvalPermission(datasources.ActionRead))`.
            Access::action(actions::DATASOURCES_READ),
        )
        .returns::<Vec<DataSourceListItem>>(),
        list,
    );
}

/// An entry of Grafana's `DataSourceList` (`pkg/api/dtos/datasource.go`), documented for clients
/// that read the schema; never produced here.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataSourceListItem {
    pub id: i64,
    pub uid: String,
    pub org_id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub type_name: String,
    pub type_logo_url: String,
    pub access: String,
    pub url: String,
    pub user: String,
    pub database: String,
    pub basic_auth: bool,
    pub is_default: bool,
    pub json_data: Value,
    pub read_only: bool,
}

async fn list() -> Json<Vec<DataSourceListItem>> {
    Json(Vec::new())
}
