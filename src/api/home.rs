//! `GET /api/dashboards/home` (Grafana's `pkg/api/dashboard.go` `GetHomeDashboard`): the home
//! dashboard of the caller. When the preferences that apply to them (org, then their teams, then
//! their own; `pkg/services/preference/prefimpl`) name a dashboard that exists, the answer points
//! there (`{"redirectUri": "/d/<uid>/<slug>"}`); otherwise it is the built-in Home dashboard with
//! its meta data.

use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Value};

use super::dashboards::url;
use super::{Op, Routes};
use crate::auth::{Access, Caller, OrgRole};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::dashboards::DashboardRow;

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/dashboards/home",
            "dashboards",
            "The caller's home dashboard: a redirect to the one their preferences name, or the built-in one",
            Access::SignedIn,
        )
        .returns::<HomeDashboard>(),
        home,
    );
}

/// The built-in Home dashboard (the shape of Grafana's `public/dashboards/home.json`: a welcome
/// banner, the caller's dashboards and the Grafana blog).
const DEFAULT_HOME: &str = include_str!("../../assets/dashboards/home.json");

/// Grafana's `user.HelpFlagGettingStartedPanelDismissed`.
const GETTING_STARTED_DISMISSED: i64 = 1;

/// Grafana's `DashboardMeta` as `GetHomeDashboard` fills it: only `canEdit` and `folderTitle` are
/// set, the rest keep their zero values.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HomeMeta {
    pub can_save: bool,
    pub can_edit: bool,
    pub can_admin: bool,
    pub can_star: bool,
    pub can_delete: bool,
    pub slug: String,
    pub url: String,
    pub expires: String,
    pub created: String,
    pub updated: String,
    pub updated_by: String,
    pub created_by: String,
    pub version: i64,
    pub has_acl: bool,
    pub is_folder: bool,
    pub folder_id: i64,
    pub folder_uid: String,
    pub folder_title: String,
    pub folder_url: String,
    pub provisioned: bool,
    pub provisioned_external_id: String,
    pub annotations_permissions: Option<Value>,
}

/// What `GET /api/dashboards/home` answers.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum HomeDashboard {
    /// A preference names a dashboard: Grafana's `DashboardRedirect`.
    Redirect {
        #[serde(rename = "redirectUri")]
        redirect_uri: String,
    },
    /// The built-in dashboard: Grafana's `DashboardFullWithMeta`.
    Default {
        dashboard: Value,
        meta: Box<HomeMeta>,
    },
}

/// Go's zero `time.Time`, as Grafana writes it.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The dashboard the caller's preferences name, if it exists in the request's org. Like Grafana,
/// the merged `homeDashboardId` decides (the last non-zero of org, teams, user); a row that
/// names a dashboard only by uid (`homeDashboardUID` with id 0) counts too.
async fn preferred(app: &AppState, caller: &Caller) -> ApiResult<Option<DashboardRow>> {
    let teams: Vec<i64> = app
        .store
        .team_permissions(caller.id(), caller.org_id)
        .await?
        .into_iter()
        .map(|(team, _)| team)
        .collect();
    let chain = app
        .store
        .preference_chain(caller.org_id, caller.id(), &teams)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get preferences"))?;
    let mut id = 0;
    let mut uid = String::new();
    for row in chain {
        if row.home_dashboard_id != 0 {
            id = row.home_dashboard_id;
        }
        if let Some(u) = row.home_dashboard_uid.filter(|u| !u.is_empty()) {
            uid = u;
        }
    }
    // A dashboard that is gone falls back to the built-in one (Grafana logs "Failed to get slug
    // from database" and goes on).
    if id != 0 {
        return Ok(app.store.dashboard_by_id(caller.org_id, id).await?);
    }
    if !uid.is_empty() {
        return Ok(app.store.dashboard_by_uid(caller.org_id, &uid).await?);
    }
    Ok(None)
}

async fn home(caller: Caller, State(app): State<AppState>) -> ApiResult<Json<HomeDashboard>> {
    if let Some(d) = preferred(&app, &caller).await? {
        return Ok(Json(HomeDashboard::Redirect {
            redirect_uri: url(&d.uid, &d.slug),
        }));
    }
    let mut dashboard: Value = serde_json::from_str(DEFAULT_HOME)
        .map_err(|e| ApiError::internal("Failed to load home dashboard", e))?;
    // Grafana adds the getting-started panel for org Admins who have not dismissed it.
    let admin = caller.org_role.is_some_and(|r| r >= OrgRole::Admin);
    if admin && app.store.help_flags(caller.id()).await? & GETTING_STARTED_DISMISSED == 0 {
        if let Some(panels) = dashboard["panels"].as_array_mut() {
            panels.push(json!({
                "type": "gettingstarted",
                "id": 123123,
                "gridPos": {"x": 0, "y": 3, "w": 24, "h": 9},
            }));
        }
    }
    let meta = HomeMeta {
        can_save: false,
        can_edit: caller.org_role.is_some_and(|r| r >= OrgRole::Editor),
        can_admin: false,
        can_star: false,
        can_delete: false,
        slug: String::new(),
        url: String::new(),
        expires: ZERO_TIME.into(),
        created: ZERO_TIME.into(),
        updated: ZERO_TIME.into(),
        updated_by: String::new(),
        created_by: String::new(),
        version: 0,
        has_acl: false,
        is_folder: false,
        folder_id: 0,
        folder_uid: String::new(),
        folder_title: "General".into(),
        folder_url: String::new(),
        provisioned: false,
        provisioned_external_id: String::new(),
        annotations_permissions: None,
    };
    Ok(Json(HomeDashboard::Default {
        dashboard,
        meta: Box::new(meta),
    }))
}
