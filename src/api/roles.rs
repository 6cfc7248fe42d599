//! Custom roles (`/api/access-control/…`): Grafana keeps this API for Enterprise
//! (`docs/sources/developers/http_api/access_control.md`); this server implements it. A role is a
//! named set of permissions, org-local or global, assigned to users, teams or basic roles. Callers
//! may only put into a role, hand out or take back permissions they hold themselves (Grafana's
//! delegation rule), server admins excepted — and hold them where the grant takes effect: a global
//! role or assignment applies in every org, so it needs the permissions globally; an org's role
//! or assignment needs them in that org.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::dto::{message, Message};
use super::query::GrafanaQuery;
use super::{Op, Routes};
use crate::audit::{Event, Target};
use crate::auth::{actions, permissions_in, Access, Caller, Permissions, Reach};
use crate::domain::{new_uid, rfc3339, text};
use crate::error::{ApiError, ApiResult, GrafanaJson};
use crate::state::AppState;
use crate::store::roles::{Assigned, Assignee, RoleRow, RoleSpec};
use crate::store::StoreError;
use crate::store::Tx;

const DELEGATE: &str = "permissions:type:delegate";

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/access-control/roles",
            "access-control",
            "Custom roles of the current org and global ones",
            Access::perm(actions::ROLES_READ, "roles:*"),
        )
        .returns::<Vec<RoleDto>>(),
        list_roles,
    )
    .add(
        Op::post(
            "/api/access-control/roles",
            "access-control",
            "Create a custom role",
            Access::perm(actions::ROLES_WRITE, DELEGATE),
        )
        .body::<RoleBody>()
        .returns::<RoleDto>(),
        create_role,
    )
    .add(
        Op::get(
            "/api/access-control/roles/{roleUID}",
            "access-control",
            "Get a role with its permissions",
            Access::perm(actions::ROLES_READ, "roles:*"),
        )
        .returns::<RoleDto>(),
        get_role,
    )
    .add(
        Op::put(
            "/api/access-control/roles/{roleUID}",
            "access-control",
            "Update a role (its version must grow)",
            Access::perm(actions::ROLES_WRITE, DELEGATE),
        )
        .body::<RoleBody>()
        .returns::<RoleDto>(),
        update_role,
    )
    .add(
        Op::delete(
            "/api/access-control/roles/{roleUID}",
            "access-control",
            "Delete a role (force=true also when assigned)",
            Access::perm(actions::ROLES_DELETE, DELEGATE),
        )
        .query::<DeleteRoleQuery>()
        .returns::<Message>(),
        delete_role,
    )
    .add(
        Op::get(
            "/api/access-control/users/{userId}/roles",
            "access-control",
            "Roles assigned to a user",
            Access::perm(actions::USERS_ROLES_READ, "users:id:{userId}"),
        )
        .returns::<Vec<RoleDto>>(),
        user_roles,
    )
    .add(
        Op::post(
            "/api/access-control/users/{userId}/roles",
            "access-control",
            "Assign a role to a user",
            Access::perm(actions::USERS_ROLES_ADD, DELEGATE),
        )
        .body::<AssignBody>()
        .returns::<Message>(),
        add_user_role,
    )
    .add(
        Op::put(
            "/api/access-control/users/{userId}/roles",
            "access-control",
            "Set the roles of a user",
            Access::perm(actions::USERS_ROLES_ADD, DELEGATE),
        )
        .body::<SetRolesBody>()
        .returns::<Message>(),
        set_user_roles,
    )
    .add(
        Op::delete(
            "/api/access-control/users/{userId}/roles/{roleUID}",
            "access-control",
            "Take a role from a user",
            Access::perm(actions::USERS_ROLES_REMOVE, DELEGATE),
        )
        .query::<GlobalQuery>()
        .returns::<Message>(),
        remove_user_role,
    )
    .add(
        Op::get(
            "/api/access-control/teams/{teamId}/roles",
            "access-control",
            "Roles assigned to a team",
            Access::perm(actions::TEAMS_ROLES_READ, "teams:id:{teamId}"),
        )
        .returns::<Vec<RoleDto>>(),
        team_roles,
    )
    .add(
        Op::post(
            "/api/access-control/teams/{teamId}/roles",
            "access-control",
            "Assign a role to a team",
            Access::perm(actions::TEAMS_ROLES_ADD, DELEGATE),
        )
        .body::<AssignBody>()
        .returns::<Message>(),
        add_team_role,
    )
    .add(
        Op::put(
            "/api/access-control/teams/{teamId}/roles",
            "access-control",
            "Set the roles of a team",
            Access::perm(actions::TEAMS_ROLES_ADD, DELEGATE),
        )
        .body::<SetRolesBody>()
        .returns::<Message>(),
        set_team_roles,
    )
    .add(
        Op::delete(
            "/api/access-control/teams/{teamId}/roles/{roleUID}",
            "access-control",
            "Take a role from a team",
            Access::perm(actions::TEAMS_ROLES_REMOVE, DELEGATE),
        )
        .returns::<Message>(),
        remove_team_role,
    )
    .add(
        Op::get(
            "/api/access-control/builtin-roles",
            "access-control",
            "Roles assigned to basic roles (Grafana 8's API)",
            Access::perm(actions::ROLES_BUILTIN_LIST, "roles:*"),
        )
        .returns::<BTreeMap<String, Vec<RoleDto>>>(),
        builtin_roles,
    )
    .add(
        Op::post(
            "/api/access-control/builtin-roles",
            "access-control",
            "Assign a role to a basic role (Grafana 8's API)",
            Access::perm(actions::ROLES_BUILTIN_ADD, DELEGATE),
        )
        .body::<BuiltinBody>()
        .returns::<Message>(),
        add_builtin_role,
    )
    .add(
        Op::delete(
            "/api/access-control/builtin-roles/{builtinRole}/roles/{roleUID}",
            "access-control",
            "Take a role from a basic role (Grafana 8's API)",
            Access::perm(actions::ROLES_BUILTIN_REMOVE, DELEGATE),
        )
        .query::<GlobalQuery>()
        .returns::<Message>(),
        remove_builtin_role,
    );
}

/// Grafana's `Permission` as roles show it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PermissionDto {
    pub action: String,
    #[serde(default)]
    pub scope: String,
}

/// Grafana's `RoleDTO`: `global` for an org id of 0; no ids.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleDto {
    pub version: i64,
    pub uid: String,
    pub name: String,
    // Omitted when empty, so not required in the OpenAPI document.
    #[serde(skip_serializing_if = "String::is_empty")]
    #[schemars(default)]
    pub display_name: String,
    pub description: String,
    pub group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<PermissionDto>>,
    pub hidden: bool,
    pub updated: String,
    pub created: String,
    pub global: bool,
}

impl RoleDto {
    fn new(r: &RoleRow, permissions: Option<Vec<(String, String)>>) -> Self {
        RoleDto {
            version: r.version,
            uid: r.uid.clone(),
            name: r.name.clone(),
            display_name: r.display_name.clone().unwrap_or_default(),
            description: r.description.clone().unwrap_or_default(),
            group: r.group_name.clone().unwrap_or_default(),
            permissions: permissions.map(|ps| {
                ps.into_iter()
                    .map(|(action, scope)| PermissionDto { action, scope })
                    .collect()
            }),
            hidden: r.hidden,
            updated: rfc3339(r.updated),
            created: rfc3339(r.created),
            global: r.org_id == 0,
        }
    }
}

/// Grafana's `CreateRoleForm` / update form.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleBody {
    #[serde(default)]
    pub uid: String,
    #[serde(default)]
    pub global: bool,
    #[serde(default)]
    pub version: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub permissions: Vec<PermissionDto>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignBody {
    #[serde(default)]
    pub role_uid: String,
    #[serde(default)]
    pub global: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetRolesBody {
    #[serde(default)]
    pub role_uids: Vec<String>,
    #[serde(default)]
    pub global: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct BuiltinBody {
    #[serde(default, rename = "roleUid")]
    pub role_uid: String,
    #[serde(default, rename = "builtinRole", alias = "builtInRole")]
    pub builtin_role: String,
    #[serde(default)]
    pub global: bool,
}

const RESERVED_PREFIXES: &[&str] = &["fixed:", "basic:", "managed:", "plugins:"];
const BASIC_ROLES: &[&str] = &["None", "Viewer", "Editor", "Admin", "Grafana Admin"];

fn role_not_found() -> ApiError {
    ApiError::not_found("Role not found.")
}

/// Where a role or an assignment the request asks for takes effect: every org when `global`,
/// else the request's org.
fn reach(caller: &Caller, global: bool) -> Reach {
    if global {
        Reach::Global
    } else {
        Reach::of_org(caller.org_id)
    }
}

/// What the caller may hand on where a grant takes effect (Grafana's delegation rule, evaluated
/// in the grant's reach). Server admins may hand on anything.
struct Delegation {
    reach: Reach,
    /// `None` for a server admin.
    held: Option<Permissions>,
}

impl Delegation {
    /// The caller's permissions in `reach`; refused unless they hold the route's `action` (on
    /// `permissions:type:delegate`) there too.
    async fn new(app: &AppState, caller: &Caller, reach: Reach, action: &str) -> ApiResult<Self> {
        let held = if caller.is_server_admin() {
            None
        } else {
            Some(permissions_in(app, caller, reach).await?)
        };
        let delegation = Delegation { reach, held };
        delegation.require(action)?;
        Ok(delegation)
    }

    /// A route action on `permissions:type:delegate`, held in this reach.
    fn require(&self, action: &str) -> ApiResult<()> {
        if self.holds(action, DELEGATE) {
            Ok(())
        } else {
            Err(self.denied(action.to_string()))
        }
    }

    fn holds(&self, action: &str, scope: &str) -> bool {
        self.held.as_ref().is_none_or(|p| p.holds(action, scope))
    }

    /// Grafana's access-denied body; a global grant says so.
    fn denied(&self, needed: String) -> ApiError {
        let action = match self.reach {
            Reach::Global => format!("{needed} (global)"),
            Reach::Org(_) => needed,
        };
        ApiError::AccessDenied { action }
    }

    /// Only permissions held here may be put into a role, handed on or taken back. A permission
    /// without a scope must be held without one (or on `*`): holding it on one scope does not
    /// cover every scope.
    fn may_hand_on(&self, permissions: &[(String, String)]) -> ApiResult<()> {
        for (action, scope) in permissions {
            if !self.holds(action, scope) {
                return Err(self.denied(if scope.is_empty() {
                    action.clone()
                } else {
                    format!("{action} on {scope}")
                }));
            }
        }
        Ok(())
    }

    /// A role the caller could have created here: its permissions are all held here.
    async fn may_handle(&self, app: &AppState, role: &RoleRow) -> ApiResult<()> {
        self.may_hand_on(&app.store.role_permissions(role.id).await?)
    }

    /// A role to assign: it exists in the request's org or globally, an org's role is never
    /// assigned globally (it would apply in every org), and the caller could have created it.
    async fn assignable(&self, app: &AppState, caller: &Caller, uid: &str) -> ApiResult<RoleRow> {
        if uid.is_empty() {
            return Err(ApiError::bad_request("bad request data"));
        }
        if text::has_control(uid) {
            return Err(text::control("roleUid").into());
        }
        let row = find_role(app, caller, uid).await?;
        if row.org_id != 0 && self.reach == Reach::Global {
            return Err(ApiError::bad_request(
                "a role of one organization cannot be assigned globally",
            ));
        }
        self.may_handle(app, &row).await?;
        Ok(row)
    }

    /// A role to take back: assigned roles of any reach may be removed by whoever could have
    /// assigned them.
    async fn removable(&self, app: &AppState, caller: &Caller, uid: &str) -> ApiResult<RoleRow> {
        let row = find_role(app, caller, uid).await?;
        self.may_handle(app, &row).await?;
        Ok(row)
    }
}

fn validate(body: &RoleBody) -> ApiResult<Vec<(String, String)>> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 190 {
        return Err(ApiError::bad_request("bad request data"));
    }
    text::line("name", name, text::VARCHAR_190)?;
    text::line("displayName", body.display_name.trim(), text::VARCHAR_190)?;
    text::line("group", body.group.trim(), text::VARCHAR_190)?;
    text::multiline("description", &body.description, text::TEXT)?;
    if RESERVED_PREFIXES.iter().any(|p| name.starts_with(p)) {
        return Err(ApiError::bad_request(
            "roles with the same prefix as Fixed roles can't be created",
        ));
    }
    if body.uid.chars().count() > 40
        || !body
            .uid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::bad_request("invalid role uid"));
    }
    if body.version < 0 {
        return Err(ApiError::bad_request("bad request data"));
    }
    let mut permissions = Vec::new();
    for p in &body.permissions {
        let action = p.action.trim();
        if action.is_empty() || action.len() > 190 || p.scope.len() > 190 || !action.contains(':') {
            return Err(ApiError::bad_request(
                "Failed to validate provided permissions",
            ));
        }
        text::line("action", action, text::VARCHAR_190)?;
        text::line("scope", p.scope.trim(), text::VARCHAR_190)?;
        let pair = (action.to_string(), p.scope.trim().to_string());
        if !permissions.contains(&pair) {
            permissions.push(pair);
        }
    }
    Ok(permissions)
}

/// A role's permissions as a record summarises them: `action` or `action scope`, sorted.
fn permissions_summary(permissions: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = permissions
        .iter()
        .map(|(action, scope)| {
            if scope.is_empty() {
                action.clone()
            } else {
                format!("{action} {scope}")
            }
        })
        .collect();
    out.sort();
    out
}

fn role_target(uid: &str, name: &str) -> Target {
    Target::new("role", uid, name)
}

/// The answer to a create or update that found the uid or name taken.
fn role_exists() -> ApiError {
    ApiError::status(
        StatusCode::CONFLICT,
        "a role with this uid or name already exists",
    )
}

async fn find_role(app: &AppState, caller: &Caller, uid: &str) -> ApiResult<RoleRow> {
    app.store
        .role(caller.org_id, uid)
        .await?
        .ok_or_else(role_not_found)
}

async fn list_roles(caller: Caller, State(app): State<AppState>) -> ApiResult<Json<Vec<RoleDto>>> {
    let rows = app.store.roles(caller.org_id).await?;
    Ok(Json(rows.iter().map(|r| RoleDto::new(r, None)).collect()))
}

async fn role_dto(app: &AppState, row: &RoleRow) -> ApiResult<RoleDto> {
    let permissions = app.store.role_permissions(row.id).await?;
    Ok(RoleDto::new(row, Some(permissions)))
}

async fn create_role(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaJson(body): GrafanaJson<RoleBody>,
) -> ApiResult<Json<RoleDto>> {
    let reach = reach(&caller, body.global);
    let delegation = Delegation::new(&app, &caller, reach, actions::ROLES_WRITE).await?;
    let permissions = validate(&body)?;
    delegation.may_hand_on(&permissions)?;
    let spec = RoleSpec {
        uid: if body.uid.is_empty() {
            new_uid()
        } else {
            body.uid.clone()
        },
        name: body.name.trim().to_string(),
        display_name: body.display_name.trim().to_string(),
        description: body.description.clone(),
        group: body.group.trim().to_string(),
        hidden: body.hidden,
        version: body.version.max(1),
        org_id: reach.org_id(),
        permissions,
    };
    let mut tx = app.store.begin().await?;
    match app.store.create_role(&mut tx, &spec, app.now()).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return Err(role_exists()),
        Err(e) => return Err(ApiError::from(e).context("Failed to create role")),
    }
    tx.audit(
        Event::new(actions::ROLES_WRITE, role_target(&spec.uid, &spec.name))
            .in_org(spec.org_id)
            .set("name", spec.name.as_str())
            .set("displayName", spec.display_name.as_str())
            .set("description", spec.description.as_str())
            .set("group", spec.group.as_str())
            .set("hidden", spec.hidden)
            .set("version", spec.version)
            .set("global", spec.org_id == 0)
            .set("permissions", permissions_summary(&spec.permissions)),
    )
    .await?;
    tx.commit().await?;
    let row = find_role(&app, &caller, &spec.uid).await?;
    Ok(Json(role_dto(&app, &row).await?))
}

async fn get_role(
    caller: Caller,
    State(app): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<Json<RoleDto>> {
    let row = find_role(&app, &caller, &uid).await?;
    Ok(Json(role_dto(&app, &row).await?))
}

async fn update_role(
    caller: Caller,
    State(app): State<AppState>,
    Path(uid): Path<String>,
    GrafanaJson(body): GrafanaJson<RoleBody>,
) -> ApiResult<Json<RoleDto>> {
    let row = app
        .store
        .role(caller.org_id, &uid)
        .await?
        .ok_or_else(|| ApiError::not_found("Role was not found to update."))?;
    // Nobody rewrites a role they could not have created, in the reach it has.
    let delegation = Delegation::new(
        &app,
        &caller,
        Reach::of_org(row.org_id),
        actions::ROLES_WRITE,
    )
    .await?;
    delegation.may_handle(&app, &row).await?;
    let permissions = validate(&body)?;
    if body.version <= row.version {
        return Err(ApiError::bad_request(format!(
            "the role version must be greater than the current one ({})",
            row.version
        )));
    }
    delegation.may_hand_on(&permissions)?;
    let old_permissions = app.store.role_permissions(row.id).await?;
    let spec = RoleSpec {
        uid: row.uid.clone(),
        name: body.name.trim().to_string(),
        display_name: body.display_name.trim().to_string(),
        description: body.description.clone(),
        group: body.group.trim().to_string(),
        hidden: body.hidden,
        version: body.version,
        org_id: row.org_id,
        permissions,
    };
    let mut tx = app.store.begin().await?;
    match app
        .store
        .update_role(&mut tx, row.id, &spec, app.now())
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(role_exists()),
        Err(e) => return Err(ApiError::from(e).context("Failed to update role")),
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    tx.audit(
        Event::new(actions::ROLES_WRITE, role_target(&row.uid, &spec.name))
            .in_org(row.org_id)
            .change("version", Some(row.version), Some(spec.version))
            .change("name", Some(row.name.as_str()), Some(spec.name.as_str()))
            .change(
                "displayName",
                Some(text(&row.display_name)),
                Some(spec.display_name.as_str()),
            )
            .change(
                "description",
                Some(text(&row.description)),
                Some(spec.description.as_str()),
            )
            .change(
                "group",
                Some(text(&row.group_name)),
                Some(spec.group.as_str()),
            )
            .change("hidden", Some(row.hidden), Some(spec.hidden))
            .change(
                "permissions",
                Some(permissions_summary(&old_permissions)),
                Some(permissions_summary(&spec.permissions)),
            ),
    )
    .await?;
    tx.commit().await?;
    let row = find_role(&app, &caller, &uid).await?;
    Ok(Json(role_dto(&app, &row).await?))
}

/// `?force=`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DeleteRoleQuery {
    /// `true`: delete the role even when assigned, with its assignments.
    pub force: Option<String>,
}

/// `?global=`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct GlobalQuery {
    /// `true`: the assignment that applies in every org (needs the permission globally).
    pub global: Option<String>,
}

async fn delete_role(
    caller: Caller,
    State(app): State<AppState>,
    Path(uid): Path<String>,
    GrafanaQuery(q): GrafanaQuery<DeleteRoleQuery>,
) -> ApiResult<Json<Message>> {
    let row = find_role(&app, &caller, &uid).await?;
    Delegation::new(
        &app,
        &caller,
        Reach::of_org(row.org_id),
        actions::ROLES_DELETE,
    )
    .await?
    .may_handle(&app, &row)
    .await?;
    let force = q.force.as_deref() == Some("true");
    if !force && app.store.role_is_assigned(row.id).await? {
        return Err(ApiError::bad_request(
            "the role is assigned; delete it with force=true to remove its assignments too",
        ));
    }
    let permissions = app.store.role_permissions(row.id).await?;
    let mut tx = app.store.begin().await?;
    app.store.delete_role(&mut tx, row.id).await?;
    let mut event = Event::new(actions::ROLES_DELETE, role_target(&row.uid, &row.name))
        .in_org(row.org_id)
        .change("version", Some(row.version), None::<i64>)
        .change(
            "permissions",
            Some(permissions_summary(&permissions)),
            None::<Vec<String>>,
        );
    if force {
        event = event.set("force", true);
    }
    tx.audit(event).await?;
    tx.commit().await?;
    Ok(message("Role deleted"))
}

/// A user or a service account: service accounts take roles too, which is how one is given
/// server-wide permissions (an opt-in beyond Grafana, whose admin routes refuse every token;
/// grafana/grafana#71436).
async fn user_id(app: &AppState, raw: &str) -> ApiResult<i64> {
    Ok(user_target(app, raw).await?.0)
}

/// The user (or service account) a path names, and how a record names them.
async fn user_target(app: &AppState, raw: &str) -> ApiResult<(i64, Target)> {
    let id = super::resolve::user_id(app, raw).await?;
    let user = app
        .store
        .user_by_id(id)
        .await?
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    let kind = if user.is_service_account.unwrap_or(false) {
        "service_account"
    } else {
        "user"
    };
    Ok((user.id, Target::new(kind, user.id, &user.login)))
}

async fn team_id(app: &AppState, caller: &Caller, raw: &str) -> ApiResult<i64> {
    Ok(team_target(app, caller, raw).await?.0)
}

/// The team a path names, and how a record names it.
async fn team_target(app: &AppState, caller: &Caller, raw: &str) -> ApiResult<(i64, Target)> {
    let id = super::resolve::team_id(app, caller.org_id, raw).await?;
    let team = app
        .store
        .team(caller.org_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Team not found"))?;
    Ok((team.id, Target::new("team", team.id, &team.name)))
}

fn basic_target(basic: &str) -> Target {
    Target::new("basic_role", basic, basic)
}

/// Writes the record of an assignment change and commits it with the change.
async fn commit_audited(mut tx: Tx, event: Event) -> ApiResult<()> {
    tx.audit(event).await?;
    tx.commit().await?;
    Ok(())
}

async fn assigned(app: &AppState, who: Assignee<'_>, org_id: i64) -> ApiResult<Json<Vec<RoleDto>>> {
    let rows = app
        .store
        .assigned_roles(who, org_id, Assigned::Applying)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(role_dto(app, r).await?);
    }
    Ok(Json(out))
}

/// Replaces someone's roles in one reach. The roles it takes away must be ones the caller could
/// take back (Grafana: `users.roles:add` and `users.roles:remove`).
async fn set_roles(
    app: &AppState,
    caller: &Caller,
    (who, target): (Assignee<'_>, Target),
    body: SetRolesBody,
    (add, remove): (&str, &str),
) -> ApiResult<()> {
    let reach = reach(caller, body.global);
    let delegation = Delegation::new(app, caller, reach, add).await?;
    let mut ids = Vec::new();
    let mut new_uids = Vec::new();
    for uid in &body.role_uids {
        let row = delegation.assignable(app, caller, uid).await?;
        if !ids.contains(&row.id) {
            ids.push(row.id);
            new_uids.push(row.uid);
        }
    }
    let before = app
        .store
        .assigned_roles(who, reach.org_id(), Assigned::Exactly)
        .await?;
    let mut old_uids: Vec<String> = before.iter().map(|r| r.uid.clone()).collect();
    old_uids.sort();
    new_uids.sort();
    let taken: Vec<&RoleRow> = before.iter().filter(|r| !ids.contains(&r.id)).collect();
    if !taken.is_empty() {
        delegation.require(remove)?;
    }
    for row in taken {
        delegation.may_handle(app, row).await?;
    }
    let mut tx = app.store.begin().await?;
    app.store
        .set_assigned_roles(&mut tx, who, &ids, reach.org_id(), app.now())
        .await?;
    let event = Event::new(add, target).in_org(reach.org_id()).change(
        "roles",
        Some(old_uids),
        Some(new_uids),
    );
    commit_audited(tx, event).await
}

async fn user_roles(
    caller: Caller,
    State(app): State<AppState>,
    Path(user): Path<String>,
) -> ApiResult<Json<Vec<RoleDto>>> {
    let user = user_id(&app, &user).await?;
    assigned(&app, Assignee::User(user), caller.org_id).await
}

/// Whether a role assignment is made or taken away.
#[derive(Clone, Copy)]
enum Change {
    Grant,
    Revoke,
}

/// Grants the role `uid` to `assignee`, or revokes it, where `reach` says, if the caller may
/// hand it on (or take it away) there under `action`.
///
/// Its record names the assignee as target, in the reach's org (0: global), with the role's uid
/// as `role` (added: new, removed: old; none when the request changed nothing).
async fn change_assignment(
    app: &AppState,
    caller: &Caller,
    change: Change,
    (assignee, target): (Assignee<'_>, Target),
    reach: Reach,
    action: &'static str,
    uid: &str,
) -> ApiResult<()> {
    let delegation = Delegation::new(app, caller, reach, action).await?;
    let event = Event::new(action, target).in_org(reach.org_id());
    let role = match change {
        Change::Grant => delegation.assignable(app, caller, uid).await?,
        Change::Revoke => delegation.removable(app, caller, uid).await?,
    };
    let mut tx = app.store.begin().await?;
    let event = match change {
        Change::Grant => {
            let added = app
                .store
                .assign_role(&mut tx, assignee, role.id, reach.org_id(), app.now())
                .await?;
            event.change(
                "role",
                (!added).then_some(role.uid.as_str()),
                Some(role.uid.as_str()),
            )
        }
        Change::Revoke => {
            let removed = app
                .store
                .unassign_role(&mut tx, assignee, role.id, reach.org_id())
                .await?;
            event.change(
                "role",
                Some(role.uid.as_str()),
                (!removed).then_some(role.uid.as_str()),
            )
        }
    };
    commit_audited(tx, event.set("roleName", role.name.as_str())).await
}

/// `?global=true`: a grant that applies in every org.
fn global_reach(caller: &Caller, q: &GlobalQuery) -> Reach {
    reach(caller, q.global.as_deref() == Some("true"))
}

async fn add_user_role(
    caller: Caller,
    State(app): State<AppState>,
    Path(user): Path<String>,
    GrafanaJson(body): GrafanaJson<AssignBody>,
) -> ApiResult<Json<Message>> {
    let (id, target) = user_target(&app, &user).await?;
    let user = (Assignee::User(id), target);
    change_assignment(
        &app,
        &caller,
        Change::Grant,
        user,
        reach(&caller, body.global),
        actions::USERS_ROLES_ADD,
        &body.role_uid,
    )
    .await?;
    Ok(message("Role added to the user."))
}

async fn set_user_roles(
    caller: Caller,
    State(app): State<AppState>,
    Path(user): Path<String>,
    GrafanaJson(body): GrafanaJson<SetRolesBody>,
) -> ApiResult<Json<Message>> {
    let (id, target) = user_target(&app, &user).await?;
    let user = (Assignee::User(id), target);
    let pair = (actions::USERS_ROLES_ADD, actions::USERS_ROLES_REMOVE);
    set_roles(&app, &caller, user, body, pair).await?;
    Ok(message("User roles have been updated."))
}

async fn remove_user_role(
    caller: Caller,
    State(app): State<AppState>,
    Path((user, uid)): Path<(String, String)>,
    GrafanaQuery(q): GrafanaQuery<GlobalQuery>,
) -> ApiResult<Json<Message>> {
    let (id, target) = user_target(&app, &user).await?;
    let user = (Assignee::User(id), target);
    change_assignment(
        &app,
        &caller,
        Change::Revoke,
        user,
        global_reach(&caller, &q),
        actions::USERS_ROLES_REMOVE,
        &uid,
    )
    .await?;
    Ok(message("Role removed from user."))
}

async fn team_roles(
    caller: Caller,
    State(app): State<AppState>,
    Path(team): Path<String>,
) -> ApiResult<Json<Vec<RoleDto>>> {
    let team = team_id(&app, &caller, &team).await?;
    assigned(&app, Assignee::Team(team), caller.org_id).await
}

/// Teams live in an org: their roles apply there (never globally).
async fn add_team_role(
    caller: Caller,
    State(app): State<AppState>,
    Path(team): Path<String>,
    GrafanaJson(body): GrafanaJson<AssignBody>,
) -> ApiResult<Json<Message>> {
    let (id, target) = team_target(&app, &caller, &team).await?;
    let team = (Assignee::Team(id), target);
    change_assignment(
        &app,
        &caller,
        Change::Grant,
        team,
        reach(&caller, false),
        actions::TEAMS_ROLES_ADD,
        &body.role_uid,
    )
    .await?;
    Ok(message("Role added to the team."))
}

async fn set_team_roles(
    caller: Caller,
    State(app): State<AppState>,
    Path(team): Path<String>,
    GrafanaJson(mut body): GrafanaJson<SetRolesBody>,
) -> ApiResult<Json<Message>> {
    let (id, target) = team_target(&app, &caller, &team).await?;
    let team = (Assignee::Team(id), target);
    body.global = false;
    let pair = (actions::TEAMS_ROLES_ADD, actions::TEAMS_ROLES_REMOVE);
    set_roles(&app, &caller, team, body, pair).await?;
    Ok(message("Team roles have been updated."))
}

async fn remove_team_role(
    caller: Caller,
    State(app): State<AppState>,
    Path((team, uid)): Path<(String, String)>,
) -> ApiResult<Json<Message>> {
    let (id, target) = team_target(&app, &caller, &team).await?;
    let team = (Assignee::Team(id), target);
    change_assignment(
        &app,
        &caller,
        Change::Revoke,
        team,
        reach(&caller, false),
        actions::TEAMS_ROLES_REMOVE,
        &uid,
    )
    .await?;
    Ok(message("Role removed from team."))
}

async fn builtin_roles(
    caller: Caller,
    State(app): State<AppState>,
) -> ApiResult<Json<BTreeMap<String, Vec<RoleDto>>>> {
    let mut out = BTreeMap::new();
    for basic in BASIC_ROLES {
        let rows = app
            .store
            .assigned_roles(Assignee::Basic(basic), caller.org_id, Assigned::Applying)
            .await?;
        if !rows.is_empty() {
            out.insert(
                basic.to_string(),
                rows.iter().map(|r| RoleDto::new(r, None)).collect(),
            );
        }
    }
    Ok(Json(out))
}

fn basic_role(name: &str) -> ApiResult<&'static str> {
    BASIC_ROLES
        .iter()
        .find(|b| **b == name)
        .copied()
        .ok_or_else(|| {
            ApiError::bad_request(
                "builtinRole must be one of None, Viewer, Editor, Admin, Grafana Admin",
            )
        })
}

async fn add_builtin_role(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaJson(body): GrafanaJson<BuiltinBody>,
) -> ApiResult<Json<Message>> {
    let basic = basic_role(&body.builtin_role)?;
    let basic = (Assignee::Basic(basic), basic_target(basic));
    // A global grant to a basic role applies to its holders in every org.
    change_assignment(
        &app,
        &caller,
        Change::Grant,
        basic,
        reach(&caller, body.global),
        actions::ROLES_BUILTIN_ADD,
        &body.role_uid,
    )
    .await?;
    Ok(message("Built-in role grant added"))
}

async fn remove_builtin_role(
    caller: Caller,
    State(app): State<AppState>,
    Path((basic, uid)): Path<(String, String)>,
    GrafanaQuery(q): GrafanaQuery<GlobalQuery>,
) -> ApiResult<Json<Message>> {
    let basic = basic_role(&basic)?;
    let basic = (Assignee::Basic(basic), basic_target(basic));
    change_assignment(
        &app,
        &caller,
        Change::Revoke,
        basic,
        global_reach(&caller, &q),
        actions::ROLES_BUILTIN_REMOVE,
        &uid,
    )
    .await?;
    Ok(message("Built-in role grant removed"))
}
