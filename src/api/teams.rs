//! The Team API (Grafana's `pkg/services/team/teamapi`): teams of the request's org, their
//! members and team admins. Org Admins manage every team; a team's members may read it, and its
//! Admins (team permission Admin, stored as 4) may also change it and its members.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::dto::{message, Message, UserTeam};
use super::query::{page_schema, page_size_schema, sort_list_schema, GrafanaQuery};
use super::{Op, Routes};
use crate::auth::{actions, Access, AuthMethod, Caller};
use crate::domain::role::TeamPermission;
use crate::domain::{avatar_url, text, Paging};
use crate::error::{ApiError, ApiResult, GrafanaJson};
use crate::service::{self, ServiceError};
use crate::state::AppState;
use crate::store::teams::{TeamMemberRow, TeamMembership, TeamSearch, TeamSort};
use crate::store::StoreError;

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/teams/search",
            "teams",
            "Search the teams of the current organization",
            Access::action(actions::TEAMS_READ),
        )
        .query::<TeamSearchQuery>()
        .returns::<TeamSearchResult>(),
        search,
    )
    .add(
        Op::post(
            "/api/teams",
            "teams",
            "Create a team",
            Access::action(actions::TEAMS_CREATE),
        )
        .body::<CreateTeamBody>()
        .returns::<Created>(),
        create,
    )
    .add(
        Op::get(
            "/api/teams/{teamId}",
            "teams",
            "Get a team",
            Access::perm(actions::TEAMS_READ, "teams:id:{teamId}"),
        )
        .returns::<UserTeam>(),
        get,
    )
    .add(
        Op::put(
            "/api/teams/{teamId}",
            "teams",
            "Update a team",
            Access::perm(actions::TEAMS_WRITE, "teams:id:{teamId}"),
        )
        .body::<UpdateTeamBody>()
        .returns::<Message>(),
        update,
    )
    .add(
        Op::delete(
            "/api/teams/{teamId}",
            "teams",
            "Delete a team",
            Access::perm(actions::TEAMS_DELETE, "teams:id:{teamId}"),
        )
        .returns::<Message>(),
        delete,
    )
    .add(
        Op::get(
            "/api/teams/{teamId}/members",
            "teams",
            "Members of a team (optionally paged with perpage/page; X-Total-Count)",
            Access::perm(actions::TEAMS_PERMISSIONS_READ, "teams:id:{teamId}"),
        )
        .query::<MembersQuery>()
        .returns::<Vec<TeamMember>>(),
        members,
    )
    .add(
        Op::post(
            "/api/teams/{teamId}/members",
            "teams",
            "Add a member to a team",
            Access::perm(actions::TEAMS_PERMISSIONS_WRITE, "teams:id:{teamId}"),
        )
        .body::<AddMemberBody>()
        .returns::<Message>(),
        add_member,
    )
    .add(
        Op::put(
            "/api/teams/{teamId}/members/{userId}",
            "teams",
            "Make a member a team Admin (4) or a plain Member (0)",
            Access::perm(actions::TEAMS_PERMISSIONS_WRITE, "teams:id:{teamId}"),
        )
        .body::<MemberPermissionBody>()
        .returns::<Message>(),
        update_member,
    )
    .add(
        Op::delete(
            "/api/teams/{teamId}/members/{userId}",
            "teams",
            "Remove a member from a team",
            Access::perm(actions::TEAMS_PERMISSIONS_WRITE, "teams:id:{teamId}"),
        )
        .returns::<Message>(),
        remove_member,
    );
}

/// `{totalCount, teams, page, perPage}`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamSearchResult {
    pub total_count: i64,
    pub teams: Vec<UserTeam>,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub team_id: i64,
    pub uid: String,
    pub message: String,
}

/// Grafana's `TeamMemberDTO` (its own mixed spellings: `teamUID`, `userUID`, `auth_module`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamMember {
    pub org_id: i64,
    pub team_id: i64,
    #[serde(rename = "teamUID")]
    pub team_uid: String,
    pub user_id: i64,
    #[serde(rename = "userUID")]
    pub user_uid: String,
    #[serde(rename = "auth_module")]
    pub auth_module: String,
    pub email: String,
    pub name: String,
    pub login: String,
    pub avatar_url: String,
    pub labels: Vec<String>,
    pub permission: i64,
}

/// Grafana's `CreateTeamCommand` (the name is required).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateTeamBody {
    // Missing, blank or longer than 190 characters (trimmed): 400.
    #[schemars(regex(pattern = r"\S"), length(max = 190))]
    pub name: String,
    #[serde(default)]
    pub email: String,
}

/// Grafana's `UpdateTeamCommand`: an empty name keeps the name; the email is always written.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateTeamBody {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
}

/// Grafana's `AddTeamMemberCommand`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddMemberBody {
    #[serde(default)]
    pub user_id: i64,
}

/// Grafana's `UpdateTeamMemberCommand`: 4 is Admin, anything else Member.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct MemberPermissionBody {
    #[serde(default)]
    pub permission: i64,
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.chars().count() > 190 {
        return Err(ApiError::bad_request("Team name is too long"));
    }
    if text::has_control(name) {
        return Err(text::control("Team name").into());
    }
    Ok(())
}

/// A team's email is free text in Grafana (not checked as an address), stored in 190
/// characters.
fn check_email(email: &str) -> ApiResult<()> {
    Ok(text::line("Team email", email, text::VARCHAR_190)?)
}

/// The team id of a path parameter, an id or a uid in the caller's org.
async fn team_id(app: &AppState, caller: &Caller, raw: &str) -> ApiResult<i64> {
    super::resolve::team_id(app, caller.org_id, raw).await
}

fn team_not_found() -> ApiError {
    ApiError::not_found("Team not found")
}

/// The team of the path in the request's org, or Grafana's 404.
async fn find_team(app: &AppState, caller: &Caller, raw: &str) -> ApiResult<i64> {
    let id = team_id(app, caller, raw).await?;
    app.store
        .team(caller.org_id, id)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get Team"))?
        .map(|t| t.id)
        .ok_or_else(team_not_found)
}

/// `?query=&name=&perpage=&page=&sort=`: a team search.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct TeamSearchQuery {
    /// Text to search the team names for.
    pub query: Option<String>,
    /// The whole name (case-insensitive).
    pub name: Option<String>,
    /// Teams per page (0 or absent: 1000).
    #[schemars(schema_with = "page_size_schema")]
    pub perpage: Option<String>,
    /// The page, from 1 (0 or absent: 1).
    #[schemars(schema_with = "page_schema")]
    pub page: Option<String>,
    /// Comma-separated sort options.
    #[schemars(schema_with = "team_sort_schema")]
    pub sort: Option<String>,
}

fn team_sort_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    sort_list_schema(&[
        "name-asc",
        "name-desc",
        "email-asc",
        "email-desc",
        "memberCount-asc",
        "memberCount-desc",
    ])
}

async fn search(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaQuery(q): GrafanaQuery<TeamSearchQuery>,
) -> ApiResult<Json<TeamSearchResult>> {
    let paging = Paging::parse(q.page.as_deref(), q.perpage.as_deref(), 1000)?;
    let mut sort = Vec::new();
    if let Some(raw) = q.sort.as_ref().filter(|s| !s.trim().is_empty()) {
        for name in raw.split(',') {
            sort.push(TeamSort::parse(name.trim()).ok_or_else(|| {
                ApiError::bad_request(format!("unknown sort option {:?}", name.trim()))
            })?);
        }
    }
    // Callers who may not read every team see the teams they belong to.
    let only = if caller
        .allows(&app, actions::TEAMS_READ, Some("teams:*"))
        .await?
    {
        None
    } else {
        let mine = app
            .store
            .team_permissions(caller.id(), caller.org_id)
            .await?;
        Some(mine.into_iter().map(|(team, _)| team).collect())
    };
    let s = TeamSearch {
        query: q.query.unwrap_or_default(),
        name: q.name.unwrap_or_default(),
        sort,
        limit: paging.per_page,
        offset: (paging.page - 1) * paging.per_page,
        only,
    };
    let (total, rows) = app
        .store
        .search_teams(caller.org_id, &s)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to search Teams"))?;
    Ok(Json(TeamSearchResult {
        total_count: total,
        teams: rows.into_iter().map(UserTeam::from).collect(),
        page: paging.page,
        per_page: paging.per_page,
    }))
}

async fn create(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaJson(body): GrafanaJson<CreateTeamBody>,
) -> ApiResult<Json<Created>> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request("bad request data"));
    }
    check_name(name)?;
    check_email(body.email.trim())?;
    // Grafana makes the creating user the team's Admin (machine identities are not members).
    let creator =
        matches!(caller.method, AuthMethod::Basic | AuthMethod::Session).then(|| caller.id());
    match service::in_tx(&app, async |tx| {
        service::teams::create(&app, tx, caller.org_id, name, body.email.trim(), creator).await
    })
    .await
    {
        Ok((team_id, uid)) => Ok(Json(Created {
            team_id,
            uid,
            message: "Team created".into(),
        })),
        Err(ServiceError::Store(StoreError::Conflict(c))) => {
            Err(ApiError::status(StatusCode::CONFLICT, c.to_string()))
        }
        Err(e) => Err(ApiError::from(e).context("Failed to create Team")),
    }
}

async fn get(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<UserTeam>> {
    let team = app
        .store
        .team(caller.org_id, team_id(&app, &caller, &id).await?)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get Team"))?
        .ok_or_else(team_not_found)?;
    Ok(Json(team.into()))
}

async fn update(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaJson(body): GrafanaJson<UpdateTeamBody>,
) -> ApiResult<Json<Message>> {
    let id = team_id(&app, &caller, &id).await?;
    let name = Some(body.name.trim()).filter(|n| !n.is_empty());
    if let Some(n) = name {
        check_name(n)?;
    }
    check_email(body.email.trim())?;
    match service::in_tx(&app, async |tx| {
        service::teams::update(&app, tx, caller.org_id, id, name, body.email.trim()).await
    })
    .await
    {
        Ok(true) => Ok(message("Team updated")),
        Ok(false) => Err(team_not_found()),
        // Grafana: 400 on update (409 on create).
        Err(ServiceError::Store(StoreError::Conflict(c))) => {
            Err(ApiError::bad_request(c.to_string()))
        }
        Err(e) => Err(ApiError::from(e).context("Failed to update Team")),
    }
}

async fn delete(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    let id = team_id(&app, &caller, &id).await?;
    match service::in_tx(&app, async |tx| {
        service::teams::delete(&app, tx, caller.org_id, id).await
    })
    .await
    {
        Ok(true) => Ok(message("Team deleted")),
        Ok(false) => Err(ApiError::not_found("Failed to delete Team. ID not found")),
        Err(e) => Err(ApiError::from(e).context("Failed to delete Team")),
    }
}

fn member_dto(r: TeamMemberRow, modules: &[(i64, String)]) -> TeamMember {
    TeamMember {
        org_id: r.org_id,
        team_id: r.team_id,
        team_uid: r.team_uid.unwrap_or_default(),
        user_id: r.user_id,
        user_uid: r.user_uid.unwrap_or_default(),
        auth_module: modules
            .iter()
            .rev()
            .find(|(id, _)| *id == r.user_id)
            .map(|(_, m)| m.clone())
            .unwrap_or_default(),
        avatar_url: avatar_url(&r.email),
        email: r.email,
        name: r.name.unwrap_or_default(),
        login: r.login,
        labels: Vec::new(),
        permission: r.permission.unwrap_or(0),
    }
}

/// `?perpage=&page=`: members of a team, paged when either is given.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct MembersQuery {
    /// Members per page (0 or empty: 1000).
    #[schemars(schema_with = "page_size_schema")]
    pub perpage: Option<String>,
    /// The page, from 1 (0 or empty: 1).
    #[schemars(schema_with = "page_schema")]
    pub page: Option<String>,
}

/// Grafana returns every member at once (its #54251); `perpage`/`page` page the list here, with
/// the total in `X-Total-Count`. Without them the whole list comes back, as in Grafana.
async fn members(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaQuery(q): GrafanaQuery<MembersQuery>,
) -> ApiResult<Response> {
    let team = app
        .store
        .team(caller.org_id, team_id(&app, &caller, &id).await?)
        .await?
        .ok_or_else(team_not_found)?;
    let paged = q.perpage.is_some() || q.page.is_some();
    let (limit, offset) = if paged {
        let p = Paging::parse(q.page.as_deref(), q.perpage.as_deref(), 1000)?;
        (p.per_page, (p.page - 1) * p.per_page)
    } else {
        (i64::MAX, 0)
    };
    let rows = app
        .store
        .team_members(caller.org_id, team.id, limit, offset)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get Team Members"))?;
    let ids: Vec<i64> = rows.iter().map(|r| r.user_id).collect();
    let modules = app.store.auth_modules(&ids).await?;
    let list: Vec<TeamMember> = rows.into_iter().map(|r| member_dto(r, &modules)).collect();
    let mut res = Json(list).into_response();
    if let Ok(v) = HeaderValue::from_str(&team.member_count.to_string()) {
        res.headers_mut().insert("x-total-count", v);
    }
    Ok(res)
}

async fn add_member(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaJson(body): GrafanaJson<AddMemberBody>,
) -> ApiResult<Json<Message>> {
    let team = find_team(&app, &caller, &id).await?;
    if body.user_id <= 0 {
        return Err(ApiError::bad_request("bad request data"));
    }
    let member = TeamMembership {
        org_id: caller.org_id,
        team_id: team,
        user_id: body.user_id,
        permission: TeamPermission::Member,
    };
    match service::in_tx(&app, async |tx| {
        service::teams::add_member(&app, tx, member).await
    })
    .await
    {
        Ok(()) => Ok(message("Member added to Team")),
        Err(ServiceError::Store(StoreError::Conflict(c))) => {
            Err(ApiError::bad_request(c.to_string()))
        }
        // Grafana answers 500 "Failed to add Member to Team" for an unknown user.
        Err(ServiceError::Store(StoreError::NotFound(_))) => {
            Err(ApiError::not_found("User not found"))
        }
        Err(e) => Err(ApiError::from(e).context("Failed to add Member to Team")),
    }
}

async fn update_member(
    caller: Caller,
    State(app): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
    GrafanaJson(body): GrafanaJson<MemberPermissionBody>,
) -> ApiResult<Json<Message>> {
    let team = find_team(&app, &caller, &id).await?;
    let user_id = super::resolve::user_id(&app, &user_id).await?;
    // Grafana's values: 4 is Admin; anything else makes a plain member.
    let permission = TeamPermission::from_value(Some(body.permission));
    let member = TeamMembership {
        org_id: caller.org_id,
        team_id: team,
        user_id,
        permission,
    };
    match service::in_tx(&app, async |tx| {
        service::teams::set_member_permission(&app, tx, member).await
    })
    .await
    {
        Ok(true) => Ok(message("Team member updated")),
        Ok(false) => Err(ApiError::not_found("Team member not found.")),
        Err(e) => Err(ApiError::from(e).context("Failed to update team member.")),
    }
}

async fn remove_member(
    caller: Caller,
    State(app): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<Message>> {
    let team = find_team(&app, &caller, &id).await?;
    let user_id = super::resolve::user_id(&app, &user_id).await?;
    match service::in_tx(&app, async |tx| {
        service::teams::remove_member(&app, tx, caller.org_id, team, user_id).await
    })
    .await
    {
        Ok(true) => Ok(message("Team Member removed")),
        Ok(false) => Err(ApiError::not_found("Team member not found")),
        Err(e) => Err(ApiError::from(e).context("Failed to remove Member from Team")),
    }
}
