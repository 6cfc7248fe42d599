//! Preferences of the signed-in user, the request's org and a team (Grafana's
//! `pkg/api/preferences.go`, `pkg/services/preference/prefapi/api.go`). GET shows what is stored
//! (`{}` for nothing); PUT replaces it all; PATCH changes only the fields given.
//!
//! Grafana checks only the theme and the home dashboard; here the timezone (IANA name, `utc`,
//! `browser` or empty, as Grafana's newer preferences API checks it) and the week start are
//! checked too, so that nothing unusable — or longer than Grafana's columns — is stored.

use std::str::FromStr;

use axum::extract::{Path, State};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::dashboards::dashboard_not_found;
use super::dto::{message, Message};
use super::{Op, Routes};
use crate::audit::{Event, Target};
use crate::auth::{actions, Access, Caller};
use crate::domain::text;
use crate::error::{ApiError, ApiResult, GrafanaJson};
use crate::state::AppState;
use crate::store::preferences::{PrefsOwner, PrefsRow};

pub(super) fn routes(r: &mut Routes) {
    type Area = (&'static str, [&'static str; 3], Access, Access);
    let areas: [Area; 3] = [
        (
            "/api/user/preferences",
            [
                "Preferences of the signed-in user",
                "Replace the preferences of the signed-in user",
                "Change some preferences of the signed-in user",
            ],
            Access::SignedIn,
            Access::SignedIn,
        ),
        (
            "/api/org/preferences",
            [
                "Preferences of the current organization",
                "Replace the preferences of the current organization",
                "Change some preferences of the current organization",
            ],
            Access::action(actions::ORGS_PREFERENCES_READ),
            Access::action(actions::ORGS_PREFERENCES_WRITE),
        ),
        (
            // Grafana has no PATCH for teams; it is served here as for users and orgs.
            "/api/teams/{teamId}/preferences",
            [
                "Preferences of a team",
                "Replace the preferences of a team",
                "Change some preferences of a team",
            ],
            Access::perm(actions::TEAMS_READ, "teams:id:{teamId}"),
            Access::perm(actions::TEAMS_WRITE, "teams:id:{teamId}"),
        ),
    ];
    for (path, [read_doc, put_doc, patch_doc], read, write) in areas {
        r.add(
            Op::get(path, "preferences", read_doc, read).returns::<Prefs>(),
            get,
        )
        .add(
            Op::put(path, "preferences", put_doc, write)
                .body::<PutBody>()
                .returns::<Message>(),
            put,
        )
        .add(
            Op::patch(path, "preferences", patch_doc, write)
                .body::<PatchBody>()
                .returns::<Message>(),
            patch,
        );
    }
}

/// Grafana's theme ids (`pkg/services/preference/themes_generated.go`).
const THEMES: &[&str] = &[
    "light",
    "dark",
    "system",
    "aubergine",
    "debug",
    "desertbloom",
    "gildedgrove",
    "gloom",
    "mars",
    "matrix",
    "sapphiredusk",
    "synthwave",
    "tron",
    "victorian",
    "zen",
];

const WEEK_STARTS: &[&str] = &["", "browser", "saturday", "sunday", "monday"];

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryHistory {
    #[serde(default)]
    pub home_tab: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Navbar {
    #[serde(default)]
    pub bookmark_urls: Vec<String>,
}

/// What GET shows: only the fields that are set (Grafana's `omitempty` spec).
#[derive(Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Prefs {
    #[serde(rename = "homeDashboardUID", skip_serializing_if = "Option::is_none")]
    pub home_dashboard_uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub week_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_history: Option<QueryHistory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub navbar: Option<Navbar>,
}

/// Preferences as the handlers work with them.
#[derive(Debug, Clone, Default)]
struct Values {
    theme: String,
    timezone: String,
    week_start: String,
    home_dashboard_id: i64,
    home_dashboard_uid: String,
    language: String,
    query_history: Option<QueryHistory>,
    navbar: Option<Navbar>,
}

impl Values {
    fn from_row(row: PrefsRow) -> Self {
        let json: Value = row
            .json_data
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or(Value::Null);
        Values {
            theme: row.theme,
            timezone: row.timezone,
            week_start: row.week_start.unwrap_or_default(),
            home_dashboard_id: row.home_dashboard_id,
            home_dashboard_uid: row.home_dashboard_uid.unwrap_or_default(),
            language: json["language"].as_str().unwrap_or("").to_string(),
            query_history: serde_json::from_value(json["queryHistory"].clone()).ok(),
            navbar: serde_json::from_value(json["navbar"].clone()).ok(),
        }
    }

    fn to_row(&self) -> PrefsRow {
        let mut json = serde_json::Map::new();
        if !self.language.is_empty() {
            json.insert("language".into(), json!(self.language));
        }
        if let Some(q) = &self.query_history {
            json.insert("queryHistory".into(), json!(q));
        }
        if let Some(n) = &self.navbar {
            json.insert("navbar".into(), json!(n));
        }
        PrefsRow {
            theme: self.theme.clone(),
            timezone: self.timezone.clone(),
            week_start: Some(self.week_start.clone()),
            home_dashboard_id: self.home_dashboard_id,
            home_dashboard_uid: Some(self.home_dashboard_uid.clone()),
            json_data: Some(Value::Object(json).to_string()),
        }
    }

    fn shown(self) -> Prefs {
        let some = |s: String| (!s.is_empty()).then_some(s);
        Prefs {
            home_dashboard_uid: some(self.home_dashboard_uid),
            timezone: some(self.timezone),
            week_start: some(self.week_start),
            theme: some(self.theme),
            language: some(self.language),
            query_history: self.query_history.filter(|q| !q.home_tab.is_empty()),
            navbar: self.navbar,
        }
    }
}

/// Whose preferences a request addresses, and their name (a login or a team's name) for the
/// audit record.
async fn owner(
    app: &AppState,
    caller: &Caller,
    path: &axum::http::Uri,
    team: Option<Path<String>>,
) -> ApiResult<(PrefsOwner, String)> {
    if let Some(Path(raw)) = team {
        let team_id = super::resolve::team_id(app, caller.org_id, &raw).await?;
        // Grafana stores preferences for any team id; only teams of the org have them here.
        let team = app
            .store
            .team(caller.org_id, team_id)
            .await?
            .ok_or_else(|| ApiError::not_found("Team not found"))?;
        let owner = PrefsOwner::Team {
            org_id: caller.org_id,
            team_id,
        };
        return Ok((owner, team.name));
    }
    Ok(if path.path().starts_with("/api/org/") {
        let owner = PrefsOwner::Org {
            org_id: caller.org_id,
        };
        (owner, String::new())
    } else {
        let owner = PrefsOwner::User {
            org_id: caller.org_id,
            user_id: caller.id(),
        };
        (owner, caller.user.login.clone())
    })
}

async fn stored(app: &AppState, owner: PrefsOwner) -> ApiResult<Values> {
    Ok(app
        .store
        .preferences(owner)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get preferences"))?
        .map(Values::from_row)
        .unwrap_or_default())
}

async fn get(
    caller: Caller,
    State(app): State<AppState>,
    uri: axum::http::Uri,
    team: Option<Path<String>>,
) -> ApiResult<Json<Prefs>> {
    let (owner, _) = owner(&app, &caller, &uri, team).await?;
    Ok(Json(stored(&app, owner).await?.shown()))
}

/// A string from `values`; null too where the field is optional.
fn enum_schema(values: &[&str], nullable: bool) -> schemars::schema::Schema {
    let mut values: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
    if nullable {
        values.push(serde_json::Value::Null);
    }
    serde_json::from_value(
        serde_json::json!({ "type": "string", "nullable": nullable, "enum": values }),
    )
    .expect("a valid schema")
}

fn themes() -> Vec<&'static str> {
    THEMES.iter().copied().filter(|t| !t.is_empty()).collect()
}

/// PUT: a theme, or `""` for none.
fn theme_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    let mut values = vec![""];
    values.extend(themes());
    enum_schema(&values, false)
}

/// PATCH: a theme, or null to leave it.
fn patch_theme_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    enum_schema(&themes(), true)
}

fn week_start_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    enum_schema(WEEK_STARTS, false)
}

fn patch_week_start_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    enum_schema(WEEK_STARTS, true)
}

/// A nested object or null. serde's derived structs also take a JSON array (as a tuple), which
/// Grafana refuses: so does this server (400 "bad request data").
fn object_or_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    match Option::<serde_json::Value>::deserialize(deserializer)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value @ serde_json::Value::Object(_)) => serde_json::from_value(value)
            .map(Some)
            .map_err(D::Error::custom),
        Some(_) => Err(D::Error::custom("expected an object")),
    }
}

fn check_theme(theme: &str) -> ApiResult<()> {
    if THEMES.contains(&theme) {
        Ok(())
    } else {
        Err(ApiError::bad_request("Invalid theme"))
    }
}

fn check_timezone(tz: &str) -> ApiResult<()> {
    if tz.is_empty() || tz == "utc" || tz == "browser" || chrono_tz::Tz::from_str(tz).is_ok() {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid timezone: must be a valid IANA timezone (e.g., America/New_York), 'utc', 'browser', or empty string",
        ))
    }
}

/// The free-text values kept in `json_data`: no control characters.
fn check_json_values(
    language: Option<&str>,
    query_history: Option<&QueryHistory>,
    navbar: Option<&Navbar>,
) -> ApiResult<()> {
    if language.is_some_and(text::has_control) {
        return Err(text::control("language").into());
    }
    if query_history.is_some_and(|q| text::has_control(&q.home_tab)) {
        return Err(text::control("queryHistory.homeTab").into());
    }
    if navbar.is_some_and(|n| n.bookmark_urls.iter().any(|u| text::has_control(u))) {
        return Err(text::control("navbar.bookmarkUrls").into());
    }
    Ok(())
}

fn check_week_start(week_start: &str) -> ApiResult<()> {
    if WEEK_STARTS.contains(&week_start) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid week start: must be 'saturday', 'sunday', 'monday', 'browser' or empty string",
        ))
    }
}

/// The home dashboard a body names, by uid (preferred) or id, as (id, uid); `""` clears it.
async fn home_dashboard(
    app: &AppState,
    caller: &Caller,
    uid: Option<&str>,
    id: Option<i64>,
) -> ApiResult<Option<(i64, String)>> {
    match (uid, id) {
        (Some(""), _) => Ok(Some((0, String::new()))),
        (Some(uid), _) => {
            if text::has_control(uid) {
                return Err(text::control("homeDashboardUID").into());
            }
            let d = app
                .store
                .dashboard_by_uid(caller.org_id, uid)
                .await?
                .ok_or_else(dashboard_not_found)?;
            Ok(Some((d.id, d.uid)))
        }
        (None, Some(id)) if id != 0 => {
            let d = app
                .store
                .dashboard_by_id(caller.org_id, id)
                .await?
                .ok_or_else(dashboard_not_found)?;
            Ok(Some((d.id, d.uid)))
        }
        (None, Some(_)) => Ok(Some((0, String::new()))),
        (None, None) => Ok(None),
    }
}

/// Grafana's `UpdatePrefsCmd`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutBody {
    #[serde(default)]
    #[schemars(schema_with = "theme_schema")]
    pub theme: String,
    #[serde(default)]
    pub home_dashboard_id: i64,
    #[serde(default, rename = "homeDashboardUID")]
    pub home_dashboard_uid: Option<String>,
    #[serde(default)]
    pub timezone: String,
    #[serde(default)]
    #[schemars(schema_with = "week_start_schema")]
    pub week_start: String,
    #[serde(default, deserialize_with = "object_or_null")]
    #[schemars(with = "Option<QueryHistory>")]
    pub query_history: Option<QueryHistory>,
    #[serde(default)]
    pub language: String,
    #[serde(default, deserialize_with = "object_or_null")]
    #[schemars(with = "Option<Navbar>")]
    pub navbar: Option<Navbar>,
}

/// The action and target of a change to `owner`'s preferences.
fn prefs_target((owner, name): &(PrefsOwner, String)) -> (&'static str, Target) {
    let (action, id) = match *owner {
        PrefsOwner::User { user_id, .. } => ("users.preferences:write", format!("user:{user_id}")),
        PrefsOwner::Team { team_id, .. } => (actions::TEAMS_WRITE, format!("team:{team_id}")),
        PrefsOwner::Org { org_id } => (actions::ORGS_PREFERENCES_WRITE, format!("org:{org_id}")),
    };
    (action, Target::new("preferences", id, name))
}

/// The changed fields, old → new.
fn prefs_changes(event: Event, old: &Values, new: &Values) -> Event {
    let text = |v: &str| Value::String(v.to_string());
    let tab = |v: &Values| {
        v.query_history
            .as_ref()
            .map(|q| q.home_tab.clone())
            .unwrap_or_default()
    };
    let bookmarks = |v: &Values| {
        json!(v
            .navbar
            .as_ref()
            .map(|n| n.bookmark_urls.clone())
            .unwrap_or_default())
    };
    event
        .change("theme", Some(text(&old.theme)), Some(text(&new.theme)))
        .change(
            "timezone",
            Some(text(&old.timezone)),
            Some(text(&new.timezone)),
        )
        .change(
            "weekStart",
            Some(text(&old.week_start)),
            Some(text(&new.week_start)),
        )
        .change(
            "homeDashboardUID",
            Some(text(&old.home_dashboard_uid)),
            Some(text(&new.home_dashboard_uid)),
        )
        .change(
            "language",
            Some(text(&old.language)),
            Some(text(&new.language)),
        )
        .change("queryHistory.homeTab", Some(tab(old)), Some(tab(new)))
        .change(
            "navbar.bookmarkUrls",
            Some(bookmarks(old)),
            Some(bookmarks(new)),
        )
}

async fn save(
    app: &AppState,
    owner: &(PrefsOwner, String),
    values: &Values,
) -> ApiResult<Json<Message>> {
    let failed = |e| ApiError::from(e).context("Failed to save preferences");
    let mut tx = app.store.begin().await.map_err(failed)?;
    let old = app
        .store
        .save_preferences(&mut tx, owner.0, &values.to_row(), app.now())
        .await
        .map_err(failed)?
        .map(Values::from_row)
        .unwrap_or_default();
    let (action, target) = prefs_target(owner);
    let event = prefs_changes(
        Event::new(action, target).in_org(owner_org(owner.0)),
        &old,
        values,
    );
    tx.audit(event).await.map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    Ok(message("Preferences updated"))
}

fn owner_org(owner: PrefsOwner) -> i64 {
    match owner {
        PrefsOwner::User { org_id, .. }
        | PrefsOwner::Team { org_id, .. }
        | PrefsOwner::Org { org_id } => org_id,
    }
}

async fn put(
    caller: Caller,
    State(app): State<AppState>,
    uri: axum::http::Uri,
    team: Option<Path<String>>,
    GrafanaJson(body): GrafanaJson<PutBody>,
) -> ApiResult<Json<Message>> {
    let owner = owner(&app, &caller, &uri, team).await?;
    if !body.theme.is_empty() {
        check_theme(&body.theme)?;
    }
    check_timezone(&body.timezone)?;
    check_week_start(&body.week_start)?;
    check_json_values(
        Some(&body.language),
        body.query_history.as_ref(),
        body.navbar.as_ref(),
    )?;
    let (home_id, home_uid) = home_dashboard(
        &app,
        &caller,
        body.home_dashboard_uid.as_deref(),
        Some(body.home_dashboard_id),
    )
    .await?
    .unwrap_or_default();
    let values = Values {
        theme: body.theme,
        timezone: body.timezone,
        week_start: body.week_start,
        home_dashboard_id: home_id,
        home_dashboard_uid: home_uid,
        language: body.language,
        query_history: body.query_history,
        navbar: body.navbar,
    };
    save(&app, &owner, &values).await
}

/// Grafana's `PatchPrefsCmd`: only what is given changes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatchBody {
    #[serde(default)]
    #[schemars(schema_with = "patch_theme_schema")]
    pub theme: Option<String>,
    #[serde(default)]
    pub home_dashboard_id: Option<i64>,
    #[serde(default, rename = "homeDashboardUID")]
    pub home_dashboard_uid: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "patch_week_start_schema")]
    pub week_start: Option<String>,
    #[serde(default, deserialize_with = "object_or_null")]
    #[schemars(with = "Option<QueryHistory>")]
    pub query_history: Option<QueryHistory>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default, deserialize_with = "object_or_null")]
    #[schemars(with = "Option<Navbar>")]
    pub navbar: Option<Navbar>,
}

async fn patch(
    caller: Caller,
    State(app): State<AppState>,
    uri: axum::http::Uri,
    team: Option<Path<String>>,
    GrafanaJson(body): GrafanaJson<PatchBody>,
) -> ApiResult<Json<Message>> {
    let owner = owner(&app, &caller, &uri, team).await?;
    let mut values = stored(&app, owner.0).await?;
    check_json_values(
        body.language.as_deref(),
        body.query_history.as_ref(),
        body.navbar.as_ref(),
    )?;
    if let Some(theme) = body.theme {
        // Grafana 12 refuses an empty theme in a PATCH.
        check_theme(&theme)?;
        values.theme = theme;
    }
    if let Some(tz) = body.timezone {
        check_timezone(&tz)?;
        values.timezone = tz;
    }
    if let Some(week_start) = body.week_start {
        check_week_start(&week_start)?;
        values.week_start = week_start;
    }
    if let Some((id, uid)) = home_dashboard(
        &app,
        &caller,
        body.home_dashboard_uid.as_deref(),
        body.home_dashboard_id,
    )
    .await?
    {
        values.home_dashboard_id = id;
        values.home_dashboard_uid = uid;
    }
    if let Some(language) = body.language {
        values.language = language;
    }
    // Grafana: a query history tab is only set, never cleared, by a PATCH.
    if let Some(q) = body.query_history.filter(|q| !q.home_tab.is_empty()) {
        values.query_history = Some(q);
    }
    if let Some(navbar) = body.navbar {
        values.navbar = Some(navbar);
    }
    save(&app, &owner, &values).await
}
