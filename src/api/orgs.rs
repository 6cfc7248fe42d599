//! Organizations: the current-org API (`/api/org…`) and the server-admin Orgs API (`/api/orgs…`),
//! Grafana's `pkg/api/org.go` and `pkg/api/org_users.go`. Both share the member operations.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::dto::{message, Message};
use super::query::{page_schema, page_size_schema, GrafanaQuery};
use super::users::{parse_search, user_from_path, UserSearchQuery};
use super::{Op, Routes};
use crate::auth::{actions, Access, Caller, OrgRole};
use crate::domain::{
    age_string, auth_label, avatar_url, page_number, page_size, parse_id, rfc3339, text,
};
use crate::error::{ApiError, ApiResult, GrafanaJson};
use crate::service::{self, ServiceError};
use crate::state::AppState;
use crate::store::orgs::{OrgAddress, OrgDetails, OrgMembership, OrgUserRow, Removed};
use crate::store::{Conflict, StoreError};

pub(super) fn routes(r: &mut Routes) {
    // The current org (the caller's, or X-Grafana-Org-Id).
    r.add(
        Op::get(
            "/api/org",
            "org",
            "The current organization",
            Access::action(actions::ORGS_READ),
        )
        .returns::<OrgDetailsDto>(),
        get_current,
    )
    .add(
        Op::put(
            "/api/org",
            "org",
            "Rename the current organization",
            Access::action(actions::ORGS_WRITE),
        )
        .body::<OrgNameBody>()
        .returns::<Message>(),
        update_current,
    )
    .add(
        Op::put(
            "/api/org/address",
            "org",
            "Set the current organization's address",
            Access::action(actions::ORGS_WRITE),
        )
        .body::<AddressBody>()
        .returns::<Message>(),
        update_current_address,
    )
    .add(
        Op::get(
            "/api/org/users",
            "org",
            "Members of the current organization",
            Access::action(actions::ORG_USERS_READ),
        )
        .query::<MembersQuery>()
        .returns::<Vec<OrgUserDto>>(),
        current_users,
    )
    .add(
        Op::get(
            "/api/org/users/search",
            "org",
            "Search the members of the current organization",
            Access::action(actions::ORG_USERS_READ),
        )
        .query::<UserSearchQuery>()
        .returns::<OrgUserSearch>(),
        search_current_users,
    )
    .add(
        Op::get(
            "/api/org/users/lookup",
            "org",
            "Look members of the current organization up by name",
            Access::action(actions::ORG_USERS_READ),
        )
        .query::<MembersQuery>()
        .returns::<Vec<UserLookup>>(),
        lookup_current_users,
    )
    .add(
        Op::post(
            "/api/org/users",
            "org",
            "Add a user to the current organization",
            Access::perm(actions::ORG_USERS_ADD, "users:*"),
        )
        .body::<AddMemberBody>()
        .returns::<Message>(),
        add_current_user,
    )
    .add(
        Op::patch(
            "/api/org/users/{userId}",
            "org",
            "Change a member's role in the current organization",
            Access::perm(actions::ORG_USERS_WRITE, "users:id:{userId}"),
        )
        .body::<RoleBody>()
        .returns::<Message>(),
        update_current_user,
    )
    .add(
        Op::delete(
            "/api/org/users/{userId}",
            "org",
            "Remove a member from the current organization (a user left in no org is deleted)",
            Access::perm(actions::ORG_USERS_REMOVE, "users:id:{userId}"),
        )
        .returns::<Message>(),
        remove_current_user,
    );

    // Any org, by id or name.
    r.add(
        Op::get(
            "/api/orgs",
            "orgs",
            "Search organizations",
            Access::action(actions::ORGS_READ).global(),
        )
        .query::<OrgSearchQuery>()
        .returns::<Vec<OrgDto>>(),
        search_orgs,
    )
    .add(
        // Grafana Admins, or every signed-in user when [users] allow_org_create is set (checked
        // in the handler against the same orgs:create action).
        Op::post(
            "/api/orgs",
            "orgs",
            "Create an organization",
            Access::SignedIn,
        )
        .body::<OrgNameBody>()
        .returns::<Created>(),
        create_org,
    )
    .add(
        Op::get(
            "/api/orgs/name/{orgName}",
            "orgs",
            "Get an organization by name",
            Access::action(actions::ORGS_READ).global(),
        )
        .returns::<OrgDetailsDto>(),
        get_org_by_name,
    )
    .add(
        Op::get(
            "/api/orgs/{orgId}",
            "orgs",
            "Get an organization",
            Access::action(actions::ORGS_READ).in_org("orgId"),
        )
        .returns::<OrgDetailsDto>(),
        get_org,
    )
    .add(
        Op::put(
            "/api/orgs/{orgId}",
            "orgs",
            "Rename an organization",
            Access::action(actions::ORGS_WRITE).in_org("orgId"),
        )
        .body::<OrgNameBody>()
        .returns::<Message>(),
        update_org,
    )
    .add(
        Op::put(
            "/api/orgs/{orgId}/address",
            "orgs",
            "Set an organization's address",
            Access::action(actions::ORGS_WRITE).in_org("orgId"),
        )
        .body::<AddressBody>()
        .returns::<Message>(),
        update_org_address,
    )
    .add(
        Op::delete(
            "/api/orgs/{orgId}",
            "orgs",
            "Delete an organization with its memberships and teams",
            Access::action(actions::ORGS_DELETE).in_org("orgId"),
        )
        .returns::<Message>(),
        delete_org,
    )
    .add(
        Op::get(
            "/api/orgs/{orgId}/users",
            "orgs",
            "Members of an organization",
            Access::action(actions::ORG_USERS_READ).in_org("orgId"),
        )
        .returns::<Vec<OrgUserDto>>(),
        org_users,
    )
    .add(
        Op::get(
            "/api/orgs/{orgId}/users/search",
            "orgs",
            "Search the members of an organization",
            Access::action(actions::ORG_USERS_READ).in_org("orgId"),
        )
        .query::<UserSearchQuery>()
        .returns::<OrgUserSearch>(),
        search_org_users,
    )
    .add(
        Op::post(
            "/api/orgs/{orgId}/users",
            "orgs",
            "Add a user to an organization",
            Access::perm(actions::ORG_USERS_ADD, "users:*").in_org("orgId"),
        )
        .body::<AddMemberBody>()
        .returns::<Message>(),
        add_org_user,
    )
    .add(
        Op::patch(
            "/api/orgs/{orgId}/users/{userId}",
            "orgs",
            "Change a member's role in an organization",
            Access::perm(actions::ORG_USERS_WRITE, "users:id:{userId}").in_org("orgId"),
        )
        .body::<RoleBody>()
        .returns::<Message>(),
        update_org_user,
    )
    .add(
        Op::delete(
            "/api/orgs/{orgId}/users/{userId}",
            "orgs",
            "Remove a member from an organization",
            Access::perm(actions::ORG_USERS_REMOVE, "users:id:{userId}").in_org("orgId"),
        )
        .returns::<Message>(),
        remove_org_user,
    );
}

/// Grafana's `OrgDetailsDTO`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OrgDetailsDto {
    pub id: i64,
    pub name: String,
    pub address: OrgAddress,
}

impl From<OrgDetails> for OrgDetailsDto {
    fn from(o: OrgDetails) -> Self {
        OrgDetailsDto {
            id: o.id,
            name: o.name,
            address: o.address,
        }
    }
}

/// Grafana's `OrgDTO` (search hits).
#[derive(Debug, Serialize, JsonSchema)]
pub struct OrgDto {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub org_id: i64,
    pub message: String,
}

/// Grafana's `OrgUserDTO`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgUserDto {
    pub org_id: i64,
    pub user_id: i64,
    pub uid: String,
    pub email: String,
    pub name: String,
    pub avatar_url: String,
    pub login: String,
    pub role: String,
    pub last_seen_at: String,
    pub last_seen_at_age: String,
    pub created: String,
    pub is_disabled: bool,
    pub auth_labels: Vec<String>,
    pub is_externally_synced: bool,
    pub is_provisioned: bool,
}

/// `{totalCount, orgUsers, page, perPage}`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgUserSearch {
    pub total_count: i64,
    pub org_users: Vec<OrgUserDto>,
    pub page: i64,
    pub per_page: i64,
}

/// Grafana's `UserLookupDTO`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserLookup {
    pub user_id: i64,
    pub uid: String,
    pub login: String,
    pub avatar_url: String,
}

/// Shapes member rows, loading their auth labels in one query.
async fn member_dtos(app: &AppState, rows: Vec<OrgUserRow>) -> ApiResult<Vec<OrgUserDto>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.user_id).collect();
    let modules = app.store.auth_modules(&ids).await?;
    let now = app.clock.now().naive_utc();
    Ok(rows
        .into_iter()
        .map(|r| {
            let labels: Vec<String> = modules
                .iter()
                .filter(|(id, _)| *id == r.user_id)
                .map(|(_, m)| auth_label(m))
                .collect();
            let seen = r.last_seen_at.unwrap_or(r.created);
            OrgUserDto {
                org_id: r.org_id,
                user_id: r.user_id,
                uid: r.uid.unwrap_or_default(),
                avatar_url: avatar_url(&r.email),
                email: r.email,
                name: r.name.unwrap_or_default(),
                login: r.login,
                role: r.role,
                last_seen_at: rfc3339(seen),
                last_seen_at_age: age_string(now - seen),
                created: rfc3339(r.created),
                is_disabled: r.is_disabled,
                is_externally_synced: false,
                auth_labels: labels,
                is_provisioned: r.is_provisioned,
            }
        })
        .collect())
}

/// `{"name": …}` (Grafana's `UpdateOrgForm` / `CreateOrgCommand`; the name is required).
#[derive(Debug, Deserialize)]
pub struct OrgNameBody {
    // Defaulted so that `POST /api/orgs` checks the caller's right before the body.
    #[serde(default)]
    pub name: String,
}

/// Written by hand: the name is required (missing, blank or longer than 190 characters after
/// trimming: 400), though serde defaults it.
impl JsonSchema for OrgNameBody {
    fn schema_name() -> String {
        "OrgNameBody".into()
    }
    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        serde_json::from_value(serde_json::json!({
            "type": "object",
            "required": ["name"],
            "properties": { "name": { "type": "string", "pattern": "\\S", "maxLength": 190 } },
        }))
        .expect("a valid schema")
    }
}

impl OrgNameBody {
    fn name(&self) -> ApiResult<&str> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(ApiError::bad_request("bad request data"));
        }
        if name.chars().count() > 190 {
            return Err(ApiError::bad_request("Organization name is too long"));
        }
        if text::has_control(name) {
            return Err(text::control("Organization name").into());
        }
        Ok(name)
    }
}

/// Grafana's `UpdateOrgAddressForm` (its JSON tag is `zipcode`; Go also accepts `zipCode`).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AddressBody {
    #[serde(default)]
    pub address1: String,
    #[serde(default)]
    pub address2: String,
    #[serde(default)]
    pub city: String,
    #[serde(default, alias = "zipCode")]
    pub zipcode: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub country: String,
}

/// Grafana's `AddOrgUserCommand`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddMemberBody {
    #[schemars(regex(pattern = r"\S"))]
    pub login_or_email: String,
    // Case-insensitive on input (`parse_role`); documented in Grafana's spelling.
    #[schemars(schema_with = "org_role_schema")]
    pub role: String,
}

/// An org role as Grafana spells it.
pub(super) fn org_role_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    serde_json::from_value(
        serde_json::json!({ "type": "string", "enum": ["Viewer", "Editor", "Admin", "None"] }),
    )
    .expect("a valid schema")
}

/// Grafana's `UpdateOrgUserCommand`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RoleBody {
    #[schemars(schema_with = "org_role_schema")]
    pub role: String,
}

/// Grafana's role decoding: case-insensitive ("viewer" is Viewer); empty or unknown is a 400
/// "bad request data" (`pkg/models/roletype`).
fn parse_role(raw: &str) -> ApiResult<OrgRole> {
    let lower = raw.trim().to_lowercase();
    let mut chars = lower.chars();
    let titled = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    OrgRole::parse(&titled).ok_or_else(|| ApiError::bad_request("bad request data"))
}

fn org_not_found() -> ApiError {
    ApiError::not_found("Organization not found")
}

async fn details(app: &AppState, org_id: i64) -> ApiResult<Json<OrgDetailsDto>> {
    let org = app
        .store
        .org_details(org_id)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get organization"))?
        .ok_or_else(org_not_found)?;
    Ok(Json(org.into()))
}

async fn rename(app: &AppState, org_id: i64, body: OrgNameBody) -> ApiResult<Json<Message>> {
    let name = body.name()?;
    match service::in_tx(app, async |tx| {
        service::orgs::rename(app, tx, org_id, name).await
    })
    .await
    {
        Ok(()) => Ok(message("Organization updated")),
        Err(ServiceError::Store(StoreError::NotFound(_))) => Err(org_not_found()),
        // Grafana: 400 on update (409 on create).
        Err(ServiceError::Store(StoreError::Conflict(c))) => {
            Err(ApiError::bad_request(c.to_string()))
        }
        Err(e) => Err(ApiError::from(e).context("Failed to update organization")),
    }
}

async fn set_address(app: &AppState, org_id: i64, b: AddressBody) -> ApiResult<Json<Message>> {
    if app.store.org_by_id(org_id).await?.is_none() {
        return Err(org_not_found());
    }
    let address = OrgAddress {
        address1: b.address1,
        address2: b.address2,
        city: b.city,
        zip_code: b.zipcode,
        state: b.state,
        country: b.country,
    };
    if [
        &address.address1,
        &address.address2,
        &address.city,
        &address.state,
        &address.country,
    ]
    .iter()
    .any(|f| f.chars().count() > 255)
        || address.zip_code.chars().count() > 50
    {
        return Err(ApiError::bad_request("Address field is too long"));
    }
    if [
        &address.address1,
        &address.address2,
        &address.city,
        &address.zip_code,
        &address.state,
        &address.country,
    ]
    .iter()
    .any(|f| text::has_control(f))
    {
        return Err(text::control("Address field").into());
    }
    match service::in_tx(app, async |tx| {
        service::orgs::set_address(app, tx, org_id, &address).await
    })
    .await
    {
        Ok(()) => Ok(message("Address updated")),
        Err(ServiceError::Store(StoreError::NotFound(_))) => Err(org_not_found()),
        Err(e) => Err(ApiError::from(e).context("Failed to update org address")),
    }
}

/// `?query=&limit=`: an org's members.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct MembersQuery {
    /// Text to search the members for.
    pub query: Option<String>,
    /// At most this many members (0 or absent: no limit).
    #[schemars(schema_with = "page_size_schema")]
    pub limit: Option<String>,
}

async fn list_members(app: &AppState, org_id: i64, q: &MembersQuery) -> ApiResult<Vec<OrgUserDto>> {
    // Grafana: `if query.Limit > 0 { sess.Limit(query.Limit, 0) }`, so 0 means every member.
    let limit = page_size(q.limit.as_deref(), "limit")?.unwrap_or(i64::MAX);
    let query = q.query.as_deref().unwrap_or("");
    let (_, rows) = app
        .store
        .search_org_users(org_id, query, &[], limit, 0)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get users for organization"))?;
    member_dtos(app, rows).await
}

async fn search_members(
    app: &AppState,
    org_id: i64,
    q: &UserSearchQuery,
) -> ApiResult<OrgUserSearch> {
    let search = parse_search(q)?;
    let (total, rows) = app
        .store
        .search_org_users(
            org_id,
            &search.query,
            &search.sort,
            search.per_page,
            (search.page - 1) * search.per_page,
        )
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get users for organization"))?;
    Ok(OrgUserSearch {
        total_count: total,
        org_users: member_dtos(app, rows).await?,
        page: search.page,
        per_page: search.per_page,
    })
}

async fn add_member(
    app: &AppState,
    caller: &Caller,
    org_id: i64,
    body: AddMemberBody,
) -> ApiResult<Response> {
    if body.login_or_email.trim().is_empty() {
        return Err(ApiError::bad_request("bad request data"));
    }
    if text::has_control(&body.login_or_email) {
        return Err(text::control("loginOrEmail").into());
    }
    let role = parse_role(&body.role)?;
    service::orgs::check_grant(app, app.store.db(), caller.into(), org_id, role).await?;
    let user = app
        .store
        .user_by_login_or_email(body.login_or_email.trim())
        .await?
        .filter(|u| !u.is_service_account.unwrap_or(false))
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    let member = OrgMembership {
        org_id,
        user_id: user.id,
        role,
    };
    match service::in_tx(app, async |tx| {
        service::orgs::add_member(app, tx, caller.into(), member).await
    })
    .await
    {
        Ok(()) => Ok(
            Json(json!({"message": "User added to organization", "userId": user.id}))
                .into_response(),
        ),
        Err(ServiceError::Store(StoreError::Conflict(c))) => Ok((
            StatusCode::CONFLICT,
            Json(json!({"message": c.to_string(), "userId": user.id})),
        )
            .into_response()),
        Err(ServiceError::Store(StoreError::NotFound(_))) => Err(org_not_found()),
        Err(e) => Err(ApiError::from(e).context("Could not add user to organization")),
    }
}

async fn member_user_id(app: &AppState, raw: &str) -> ApiResult<i64> {
    Ok(user_from_path(app, raw, "User not found").await?.id)
}

async fn update_member(
    app: &AppState,
    caller: &Caller,
    org_id: i64,
    raw_user: &str,
    body: RoleBody,
) -> ApiResult<Json<Message>> {
    let user_id = member_user_id(app, raw_user).await?;
    let role = parse_role(&body.role)?;
    service::orgs::check_grant(app, app.store.db(), caller.into(), org_id, role).await?;
    let member = OrgMembership {
        org_id,
        user_id,
        role,
    };
    match service::in_tx(app, async |tx| {
        service::orgs::set_member_role(app, tx, caller.into(), member).await
    })
    .await
    {
        Ok(()) => Ok(message("Organization user updated")),
        Err(ServiceError::Store(StoreError::Conflict(Conflict::LastOrgAdmin))) => Err(
            ApiError::bad_request("Cannot change role so that there is no organization admin left"),
        ),
        // Grafana answers 500 "Failed update org user" for a non-member; a 404 says what it is.
        Err(ServiceError::Store(StoreError::NotFound(_))) => {
            Err(ApiError::not_found("User not found in organization"))
        }
        Err(e) => Err(ApiError::from(e).context("Failed update org user")),
    }
}

async fn remove_member(
    app: &AppState,
    org_id: i64,
    raw_user: &str,
    delete_orphan: bool,
) -> ApiResult<Json<Message>> {
    let user_id = member_user_id(app, raw_user).await?;
    match service::in_tx(app, async |tx| {
        service::orgs::remove_member(app, tx, org_id, user_id, delete_orphan).await
    })
    .await
    {
        Ok(Removed::Membership) => Ok(message("User removed from organization")),
        Ok(Removed::User) => Ok(message("User deleted")),
        Err(ServiceError::Store(StoreError::Conflict(Conflict::LastOrgAdmin))) => Err(
            ApiError::bad_request("Cannot remove last organization admin"),
        ),
        Err(e) => Err(ApiError::from(e).context("Failed to remove user from organization")),
    }
}

/// The path's org id; the access check already refused anything unparsable.
fn org_id(raw: &str) -> ApiResult<i64> {
    Ok(parse_id(raw, "orgId is invalid")?)
}

// --- /api/org ---

async fn get_current(
    caller: Caller,
    State(app): State<AppState>,
) -> ApiResult<Json<OrgDetailsDto>> {
    details(&app, caller.org_id).await
}

async fn update_current(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaJson(body): GrafanaJson<OrgNameBody>,
) -> ApiResult<Json<Message>> {
    rename(&app, caller.org_id, body).await
}

async fn update_current_address(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaJson(body): GrafanaJson<AddressBody>,
) -> ApiResult<Json<Message>> {
    set_address(&app, caller.org_id, body).await
}

async fn current_users(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaQuery(q): GrafanaQuery<MembersQuery>,
) -> ApiResult<Json<Vec<OrgUserDto>>> {
    Ok(Json(list_members(&app, caller.org_id, &q).await?))
}

async fn search_current_users(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaQuery(q): GrafanaQuery<UserSearchQuery>,
) -> ApiResult<Json<OrgUserSearch>> {
    Ok(Json(search_members(&app, caller.org_id, &q).await?))
}

async fn lookup_current_users(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaQuery(q): GrafanaQuery<MembersQuery>,
) -> ApiResult<Json<Vec<UserLookup>>> {
    let members = list_members(&app, caller.org_id, &q).await?;
    Ok(Json(
        members
            .into_iter()
            .map(|m| UserLookup {
                user_id: m.user_id,
                uid: m.uid,
                login: m.login,
                avatar_url: m.avatar_url,
            })
            .collect(),
    ))
}

async fn add_current_user(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaJson(body): GrafanaJson<AddMemberBody>,
) -> ApiResult<Response> {
    add_member(&app, &caller, caller.org_id, body).await
}

async fn update_current_user(
    caller: Caller,
    State(app): State<AppState>,
    Path(user_id): Path<String>,
    GrafanaJson(body): GrafanaJson<RoleBody>,
) -> ApiResult<Json<Message>> {
    update_member(&app, &caller, caller.org_id, &user_id, body).await
}

async fn remove_current_user(
    caller: Caller,
    State(app): State<AppState>,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Message>> {
    remove_member(&app, caller.org_id, &user_id, true).await
}

// --- /api/orgs ---

/// `?query=&name=&perpage=&page=`: an org search.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct OrgSearchQuery {
    /// The start of the name.
    pub query: Option<String>,
    /// The whole name.
    pub name: Option<String>,
    /// Organizations per page (0 or absent: 1000).
    #[schemars(schema_with = "page_size_schema")]
    pub perpage: Option<String>,
    /// The page, from 0.
    #[schemars(schema_with = "page_schema")]
    pub page: Option<String>,
}

async fn search_orgs(
    State(app): State<AppState>,
    GrafanaQuery(q): GrafanaQuery<OrgSearchQuery>,
) -> ApiResult<Json<Vec<OrgDto>>> {
    // Grafana's org search pages from 0 (`sess.Limit(query.Limit, query.Limit*query.Page)` in
    // pkg/services/org/orgimpl/store.go); the values follow the one paging rule.
    let per_page = page_size(q.perpage.as_deref(), "perpage")?.unwrap_or(1000);
    let page = page_number(q.page.as_deref())?;
    let query = q.query.as_deref().unwrap_or("");
    let name = q.name.as_deref().unwrap_or("");
    let rows = app
        .store
        .search_orgs(query, name, per_page, page * per_page)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to search orgs"))?;
    Ok(Json(
        rows.into_iter()
            .map(|o| OrgDto {
                id: o.id,
                name: o.name,
            })
            .collect(),
    ))
}

async fn create_org(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaJson(body): GrafanaJson<OrgNameBody>,
) -> ApiResult<Json<Created>> {
    if !caller.allows(&app, actions::ORGS_CREATE, None).await? && !app.config.users.allow_org_create
    {
        return Err(ApiError::AccessDenied {
            action: actions::ORGS_CREATE.into(),
        });
    }
    let name = body.name()?;
    match service::in_tx(&app, async |tx| {
        service::orgs::create(&app, tx, name, Some(caller.id())).await
    })
    .await
    {
        Ok(org_id) => Ok(Json(Created {
            org_id,
            message: "Organization created".into(),
        })),
        Err(ServiceError::Store(StoreError::Conflict(c))) => {
            Err(ApiError::status(StatusCode::CONFLICT, c.to_string()))
        }
        Err(e) => Err(ApiError::from(e).context("Failed to create organization")),
    }
}

async fn get_org_by_name(
    State(app): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<OrgDetailsDto>> {
    let org = app
        .store
        .org_by_name(&name)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get organization"))?
        .ok_or_else(org_not_found)?;
    Ok(Json(org.into()))
}

async fn get_org(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<OrgDetailsDto>> {
    details(&app, org_id(&id)?).await
}

async fn update_org(
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaJson(body): GrafanaJson<OrgNameBody>,
) -> ApiResult<Json<Message>> {
    rename(&app, org_id(&id)?, body).await
}

async fn update_org_address(
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaJson(body): GrafanaJson<AddressBody>,
) -> ApiResult<Json<Message>> {
    set_address(&app, org_id(&id)?, body).await
}

async fn delete_org(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    let id = org_id(&id)?;
    if id == caller.org_id {
        return Err(ApiError::bad_request("Can not delete org for current user"));
    }
    if app.is_default_org(id) {
        return Err(ApiError::bad_request(
            "Cannot delete the organization new users join ([users] auto_assign_org_id)",
        ));
    }
    match service::in_tx(&app, async |tx| service::orgs::delete(&app, tx, id).await).await {
        Ok(()) => Ok(message("Organization deleted")),
        Err(ServiceError::Store(StoreError::NotFound(_))) => Err(ApiError::not_found(
            "Failed to delete organization. ID not found",
        )),
        Err(e) => Err(ApiError::from(e).context("Failed to delete organization")),
    }
}

async fn org_users(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<OrgUserDto>>> {
    let id = existing_org(&app, &id).await?;
    // Grafana's GetOrgUsers reads neither `query` nor `limit`.
    Ok(Json(
        list_members(&app, id, &MembersQuery::default()).await?,
    ))
}

/// An org id from the path that names an existing org; an unknown one is a 404 (Grafana answers
/// `[]` for the members of an org that does not exist; a 404 says which mistake was made).
async fn existing_org(app: &AppState, raw: &str) -> ApiResult<i64> {
    let id = org_id(raw)?;
    app.store
        .org_by_id(id)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get organization"))?
        .ok_or_else(org_not_found)?;
    Ok(id)
}

async fn search_org_users(
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaQuery(q): GrafanaQuery<UserSearchQuery>,
) -> ApiResult<Json<OrgUserSearch>> {
    let id = existing_org(&app, &id).await?;
    Ok(Json(search_members(&app, id, &q).await?))
}

async fn add_org_user(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaJson(body): GrafanaJson<AddMemberBody>,
) -> ApiResult<Response> {
    add_member(&app, &caller, org_id(&id)?, body).await
}

async fn update_org_user(
    caller: Caller,
    State(app): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
    GrafanaJson(body): GrafanaJson<RoleBody>,
) -> ApiResult<Json<Message>> {
    update_member(&app, &caller, org_id(&id)?, &user_id, body).await
}

async fn remove_org_user(
    State(app): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<Message>> {
    remove_member(&app, org_id(&id)?, &user_id, false).await
}
