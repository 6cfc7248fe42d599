//! User API for server admins (`/api/users…`, Grafana's `pkg/api/user.go` and `users.go`).

use axum::extract::{Path, State};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::dto::{message, Message, UserOrg, UserProfile, UserSearchHit, UserTeam};
use super::query::{page_schema, page_size_schema, sort_list_schema, GrafanaQuery};
use super::{Op, Routes};
use crate::audit::{Event, Target};
use crate::auth::{actions, Access, SignedInUser};
use crate::domain::{login, parse_id, text, Paging};
use crate::error::{ApiError, ApiResult, GrafanaJson};
use crate::service::ServiceError;
use crate::state::AppState;
use crate::store::{StoreError, UserRow, UserSearch, UserSort, UserUpdate};

const USERS_READ: Access = Access::perm(actions::USERS_READ, "global.users:*");
const USER_READ: Access = Access::perm(actions::USERS_READ, "users:id:{id}");
const USER_WRITE: Access = Access::perm(actions::USERS_WRITE, "users:id:{id}");

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/users",
            "users",
            "Get users (paged, no total)",
            USERS_READ,
        )
        .query::<UserSearchQuery>()
        .returns::<Vec<UserSearchHit>>(),
        list_users,
    )
    .add(
        Op::get(
            "/api/users/search",
            "users",
            "Search users with paging",
            USERS_READ,
        )
        .query::<UserSearchQuery>()
        .returns::<SearchResult>(),
        search_users,
    )
    .add(
        Op::get(
            "/api/users/lookup",
            "users",
            "Get a user by login or email",
            USERS_READ,
        )
        .query::<LookupQuery>()
        .returns::<UserProfile>(),
        lookup_user,
    )
    .add(
        Op::get("/api/users/{id}", "users", "Get a user by id", USER_READ).returns::<UserProfile>(),
        get_user,
    )
    .add(
        Op::put("/api/users/{id}", "users", "Update a user", USER_WRITE)
            .body::<UpdateUserBody>()
            .returns::<Message>(),
        update_user,
    )
    .add(
        Op::get(
            "/api/users/{id}/orgs",
            "users",
            "Organizations of a user",
            USER_READ,
        )
        .returns::<Vec<UserOrg>>(),
        user_orgs,
    )
    .add(
        Op::get(
            "/api/users/{id}/teams",
            "users",
            "Teams of a user",
            Access::perm(actions::USERS_TEAMS_READ, "users:id:{id}"),
        )
        .returns::<Vec<UserTeam>>(),
        user_teams,
    )
    .add(
        Op::post(
            "/api/users/{id}/using/{orgId}",
            "users",
            "Switch a user's current organization",
            USER_WRITE,
        )
        .returns::<Message>(),
        switch_user_org,
    );
}

/// `{totalCount, users, page, perPage}`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    pub total_count: i64,
    pub users: Vec<UserSearchHit>,
    pub page: i64,
    pub per_page: i64,
}

/// `?perpage=&page=&query=&sort=`: a user search (also of an org's members).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct UserSearchQuery {
    /// Users per page (0 or absent: 1000).
    #[schemars(schema_with = "page_size_schema")]
    pub perpage: Option<String>,
    /// The page, from 1 (0 or absent: 1).
    #[schemars(schema_with = "page_schema")]
    pub page: Option<String>,
    /// Text to search for (at most 190 bytes).
    pub query: Option<String>,
    /// Comma-separated sort options.
    #[schemars(schema_with = "user_sort_schema")]
    pub sort: Option<String>,
}

fn user_sort_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    sort_list_schema(&[
        "login-asc",
        "login-desc",
        "email-asc",
        "email-desc",
        "name-asc",
        "name-desc",
        "lastSeenAtAge-asc",
        "lastSeenAtAge-desc",
    ])
}

pub(super) fn parse_search(q: &UserSearchQuery) -> ApiResult<UserSearch> {
    let paging = Paging::parse(q.page.as_deref(), q.perpage.as_deref(), 1000)?;
    let mut sort = Vec::new();
    if let Some(raw) = q.sort.as_ref().filter(|s| !s.trim().is_empty()) {
        for name in raw.split(',') {
            let parsed = UserSort::parse(name.trim()).ok_or_else(|| {
                ApiError::bad_request(format!("unknown sort option {:?}", name.trim()))
            })?;
            sort.push(parsed);
        }
    }
    let query = q.query.clone().unwrap_or_default();
    if query.len() > 190 {
        return Err(ApiError::bad_request("query is too long"));
    }
    Ok(UserSearch {
        query,
        page: paging.page,
        per_page: paging.per_page,
        sort,
    })
}

async fn search(app: &AppState, q: &UserSearchQuery) -> ApiResult<SearchResult> {
    let search = parse_search(q)?;
    let (total, rows) = app
        .store
        .search_users(&search)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to fetch users"))?;
    Ok(SearchResult {
        total_count: total,
        users: UserSearchHit::from_rows(app, &rows).await?,
        page: search.page,
        per_page: search.per_page,
    })
}

async fn list_users(
    State(app): State<AppState>,
    GrafanaQuery(q): GrafanaQuery<UserSearchQuery>,
) -> ApiResult<Json<Vec<UserSearchHit>>> {
    Ok(Json(search(&app, &q).await?.users))
}

async fn search_users(
    State(app): State<AppState>,
    GrafanaQuery(q): GrafanaQuery<UserSearchQuery>,
) -> ApiResult<Json<SearchResult>> {
    Ok(Json(search(&app, &q).await?))
}

/// Loads a user by path id or uid: 404 "user not found" for an unknown id.
pub(super) async fn find_user(app: &AppState, raw_id: &str) -> ApiResult<UserRow> {
    user_from_path(app, raw_id, "user not found").await
}

/// The user (never a service account) a path parameter names by id or uid
/// ([`super::resolve::user_id`]), with the route's Grafana message for an unknown id (404).
/// Every value is an id or a uid, so nothing is "invalid".
pub(super) async fn user_from_path(
    app: &AppState,
    raw_id: &str,
    missing: &str,
) -> ApiResult<UserRow> {
    let id = super::resolve::user_id(app, raw_id).await?;
    app.store
        .user_by_id(id)
        .await?
        .filter(|u| !u.is_service_account.unwrap_or(false))
        .ok_or_else(|| ApiError::not_found(missing))
}

async fn get_user(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<UserProfile>> {
    let user = find_user(&app, &id).await?;
    Ok(Json(UserProfile::load(&app, &user).await?))
}

/// `?loginOrEmail=`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct LookupQuery {
    /// The user's login or email (required; surrounding spaces are ignored).
    pub login_or_email: Option<String>,
}

async fn lookup_user(
    State(app): State<AppState>,
    GrafanaQuery(q): GrafanaQuery<LookupQuery>,
) -> ApiResult<Json<UserProfile>> {
    // Grafana looks the empty string up like any other and finds nobody: 404 "user not found"
    // (pkg/api/user.go, `GetUserByLoginOrEmail`).
    let needle = q.login_or_email.as_deref().map(str::trim).unwrap_or("");
    let user = match needle {
        "" => None,
        needle => app.store.user_by_login_or_email(needle).await?,
    }
    .filter(|u| !u.is_service_account.unwrap_or(false))
    .ok_or_else(|| ApiError::not_found("user not found"))?;
    // Grafana builds this profile without the auth-info lookup, so `authLabels` is `null`.
    let profile = UserProfile {
        auth_labels: None,
        ..UserProfile::load(&app, &user).await?
    };
    Ok(Json(profile))
}

/// `PUT /api/users/:id` and `PUT /api/user` body (Grafana's `UpdateUserCommand`).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateUserBody {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub login: Option<String>,
    #[serde(default)]
    pub theme: Option<String>,
}

/// Grafana's `handleUpdateUser`: empty fields keep their value, a missing login falls back to the
/// email, and a clash with another user is a 409.
pub(super) async fn apply_update(
    app: &AppState,
    user: &SignedInUser,
    body: UpdateUserBody,
) -> ApiResult<()> {
    let trim = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let (email, name, login, theme) = (
        trim(body.email),
        trim(body.name),
        trim(body.login),
        trim(body.theme),
    );
    // Grafana's `handleUpdateUser` (pkg/api/user.go): no login means the email is the login,
    // and neither is a 400.
    let login = login.or_else(|| email.clone());
    if login.is_none() {
        return Err(ApiError::bad_request(
            "Validation error, need to specify either username or email",
        ));
    }
    // A changed login or email is checked as a new one is; an unchanged one is kept as stored.
    let email = match email {
        Some(e) if login::fold(&e) != user.email => login::user_email(&e)?,
        _ => user.email.clone(),
    };
    let login = match login {
        Some(l) if login::fold(&l) != user.login => login::user_login(&l)?,
        _ => user.login.clone(),
    };
    if let Some(name) = &name {
        text::line("name", name, text::VARCHAR_255)?;
    }
    if let Some(t) = &theme {
        if !matches!(t.as_str(), "light" | "dark" | "system") {
            return Err(ApiError::bad_request("invalid theme"));
        }
    }
    let update = UserUpdate {
        login,
        email,
        name: name.unwrap_or_else(|| user.name.clone().unwrap_or_default()),
        theme,
    };
    match crate::service::in_tx(app, async |tx| {
        crate::service::users::update(app, tx, user.id, &update).await
    })
    .await
    {
        Ok(()) => Ok(()),
        Err(ServiceError::Store(StoreError::Conflict(_))) => Err(ApiError::status(
            axum::http::StatusCode::CONFLICT,
            "Update would result in user login conflict",
        )),
        Err(e) => Err(ApiError::from(e).context("Failed to update user")),
    }
}

async fn update_user(
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaJson(body): GrafanaJson<UpdateUserBody>,
) -> ApiResult<Json<Message>> {
    let user = find_user(&app, &id).await?;
    apply_update(&app, &SignedInUser::from(user), body).await?;
    Ok(message("User updated"))
}

async fn user_orgs(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<UserOrg>>> {
    let user = find_user(&app, &id).await?;
    let orgs = app.store.user_orgs(user.id).await?;
    Ok(Json(orgs.into_iter().map(UserOrg::from).collect()))
}

async fn user_teams(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<UserTeam>>> {
    let user = find_user(&app, &id).await?;
    let teams = app.store.user_teams(user.id, None).await?;
    Ok(Json(teams.into_iter().map(UserTeam::from).collect()))
}

/// Switches a user's current org; they must be a member (Grafana's `UpdateUserActiveOrg`).
pub(super) async fn switch_org(
    app: &AppState,
    user_id: i64,
    login: &str,
    raw_org: &str,
    invalid: &str,
) -> ApiResult<Json<Message>> {
    let org_id = parse_id(raw_org, invalid)?;
    let mut tx = app.store.begin().await?;
    let Some(was) = app.store.set_current_org(&mut tx, user_id, org_id).await? else {
        return Err(not_a_valid_org());
    };
    tx.audit(
        Event::new(actions::USERS_WRITE, Target::new("user", user_id, login)).change(
            "orgId",
            Some(was),
            Some(org_id),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(message("Active organization changed"))
}

async fn switch_user_org(
    State(app): State<AppState>,
    Path((id, org_id)): Path<(String, String)>,
) -> ApiResult<Json<Message>> {
    // Grafana checks only the user's memberships: an unknown user has none, so the answer is
    // 401 "Not a valid organization" (pkg/api/user.go, `UpdateUserActiveOrg`); an unknown uid
    // is the resolver's 404.
    let user_id = super::resolve::user_id(&app, &id).await?;
    let person = app
        .store
        .user_by_id(user_id)
        .await?
        .filter(|u| !u.is_service_account.unwrap_or(false));
    match person {
        Some(user) => switch_org(&app, user.id, &user.login, &org_id, "orgId is invalid").await,
        None => {
            parse_id(&org_id, "orgId is invalid")?;
            Err(not_a_valid_org())
        }
    }
}

/// Grafana's answer to switching to an org the user is not a member of (pkg/api/user.go).
fn not_a_valid_org() -> ApiError {
    ApiError::status(
        axum::http::StatusCode::UNAUTHORIZED,
        "Not a valid organization",
    )
}
