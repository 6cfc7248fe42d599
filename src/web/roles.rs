//! `/admin/roles`: custom roles (`/api/access-control/roles`), as a list, a form for a new role
//! (`POST /api/access-control/roles`) and each role's page at `/admin/roles/edit/{uid}`: its
//! settings and permissions (`PUT …/roles/{roleUID}`, with the version grown by one), its
//! assignment to users and teams (`POST /api/access-control/users/{userId}/roles`,
//! `DELETE …/users/{userId}/roles/{roleUID}`, the same for teams) and its deletion
//! (`DELETE …/roles/{roleUID}?force=true`, which takes its assignments too). The API has no cheap
//! way to list who holds a role, so the page offers assign and unassign forms only.
//! Permissions are edited as text, one `action` or `action scope` per line.

use askama::Template;
use axum::extract::Path;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use super::client::Failure;
use super::context::{Chrome, WebState};
use super::format::Errors;
use super::forms::{Empty, Form};
use super::links::{query_string, segment};
use super::Web;
use crate::auth::actions;

pub(super) fn routes(r: Router<WebState>) -> Router<WebState> {
    r.route("/admin/roles", get(list))
        .route("/admin/roles/new", get(new_page).post(create))
        .route("/admin/roles/edit/{uid}", get(page).post(save))
        .route("/admin/roles/edit/{uid}/users", post(assign_user))
        .route("/admin/roles/edit/{uid}/users/remove", post(unassign_user))
        .route("/admin/roles/edit/{uid}/teams", post(assign_team))
        .route("/admin/roles/edit/{uid}/teams/remove", post(unassign_team))
        .route("/admin/roles/edit/{uid}/delete", post(delete))
}

const ROLES: &str = "/api/access-control/roles";
const ROLE: &str = "/api/access-control/roles/{roleUID}";

/// Name prefixes of Grafana's own roles (fixed, basic, managed, plugins'): never edited here.
const RESERVED_PREFIXES: &[&str] = &["fixed:", "basic:", "managed:", "plugins:"];

// ---- the API's answers ------------------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct Permission {
    action: String,
    scope: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase", default)]
struct Role {
    version: i64,
    uid: String,
    name: String,
    display_name: String,
    description: String,
    group: String,
    permissions: Option<Vec<Permission>>,
    hidden: bool,
    global: bool,
}

impl Role {
    fn fixed(&self) -> bool {
        RESERVED_PREFIXES.iter().any(|p| self.name.starts_with(p))
    }

    fn permission_count(&self) -> usize {
        self.permissions.as_ref().map_or(0, Vec::len)
    }
}

fn role_api(uid: &str) -> String {
    format!("{ROLES}/{}", segment(uid))
}

fn role_path(uid: &str) -> String {
    format!("/admin/roles/edit/{}", segment(uid))
}

// ---- the list ---------------------------------------------------------------------------

struct RoleRow {
    name: String,
    display_name: String,
    description: String,
    group: String,
    global: bool,
    permissions: usize,
    fixed: bool,
    href: String,
}

#[derive(Template)]
#[template(path = "roles.html")]
struct ListPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    roles: &'a [RoleRow],
    can_create: bool,
}

async fn list(web: Web) -> Response {
    let found: Vec<Role> = match web.api.get(ROLES).await {
        Ok(found) => found,
        Err(f) => return web.refused(f),
    };
    let base = &web.chrome.base;
    let mut roles = Vec::with_capacity(found.len());
    for r in found {
        // The list leaves permissions out; each role's own answer has them (one in-process
        // call a role: custom roles are few).
        let count = match &r.permissions {
            Some(ps) => ps.len(),
            None => web
                .api
                .get::<Role>(&role_api(&r.uid))
                .await
                .map(|full| full.permission_count())
                .unwrap_or(0),
        };
        roles.push(RoleRow {
            fixed: r.fixed(),
            href: format!("{base}{}", role_path(&r.uid)),
            name: r.name,
            display_name: r.display_name,
            description: r.description,
            group: r.group,
            global: r.global,
            permissions: count,
        });
    }
    let can_create = web.can(Method::POST, ROLES).await;
    web.render(ListPage {
        chrome: &web.chrome,
        title: "Roles",
        roles: &roles,
        can_create,
    })
}

// ---- the role form ----------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
struct RoleForm {
    name: String,
    display_name: String,
    description: String,
    group: String,
    /// One `action` or `action scope` per line.
    permissions: String,
    global: Option<String>,
}

impl RoleForm {
    fn of(role: &Role) -> RoleForm {
        let lines: Vec<String> = role
            .permissions
            .iter()
            .flatten()
            .map(|p| {
                if p.scope.is_empty() {
                    p.action.clone()
                } else {
                    format!("{} {}", p.action, p.scope)
                }
            })
            .collect();
        RoleForm {
            name: role.name.clone(),
            display_name: role.display_name.clone(),
            description: role.description.clone(),
            group: role.group.clone(),
            permissions: lines.join("\n"),
            global: role.global.then(|| "true".to_string()),
        }
    }

    /// The permissions of the text, or the field error of the line that is neither `action` nor
    /// `action scope`.
    fn parsed_permissions(&self) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        for (n, line) in self.permissions.lines().enumerate() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [] => {}
                [action] => out.push(json!({"action": action, "scope": ""})),
                [action, scope] => out.push(json!({"action": action, "scope": scope})),
                _ => {
                    return Err(format!(
                        "Line {}: expected an action, or an action and a scope",
                        n + 1
                    ))
                }
            }
        }
        Ok(out)
    }

    /// The API's body, or the field and message of what the form itself refuses.
    fn body(&self, version: i64, global: bool, hidden: bool) -> Result<Value, (&str, String)> {
        if self.name.trim().is_empty() {
            // The API's "bad request data" does not say which field; the form does.
            return Err(("name", "Name is required".into()));
        }
        let permissions = self.parsed_permissions().map_err(|e| ("permissions", e))?;
        Ok(json!({
            "name": self.name.trim(),
            "displayName": self.display_name.trim(),
            "description": self.description,
            "group": self.group.trim(),
            "version": version,
            "global": global,
            "hidden": hidden,
            "permissions": permissions,
        }))
    }
}

/// Keywords of the API's messages and the field each names (the first that matches).
const ROLE_FIELDS: &[(&str, &str)] = &[
    ("displayname", "display_name"),
    ("description", "description"),
    ("group", "group"),
    ("permission", "permissions"),
    ("action", "permissions"),
    ("scope", "permissions"),
    ("fixed roles", "name"),
    ("name", "name"),
];

#[derive(Template)]
#[template(path = "roles_new.html")]
struct NewPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    form: &'a RoleForm,
    errors: &'a Errors,
}

async fn new_page(web: Web) -> Response {
    if !web.can(Method::POST, ROLES).await {
        return web.refused(Failure::denied(actions::ROLES_WRITE));
    }
    web.render(NewPage {
        chrome: &web.chrome,
        title: "New role",
        form: &RoleForm::default(),
        errors: &Errors::none(),
    })
}

async fn create(web: Web, Form(form): Form<RoleForm>) -> Response {
    let again = |status: StatusCode, errors: Errors| {
        web.render_status(
            status,
            NewPage {
                chrome: &web.chrome,
                title: "New role",
                form: &form,
                errors: &errors,
            },
        )
    };
    let body = match form.body(1, form.global.is_some(), false) {
        Ok(body) => body,
        Err((field, message)) => {
            return again(
                StatusCode::BAD_REQUEST,
                Errors::field("role", field, &message),
            )
        }
    };
    match web.api.post::<Role>(ROLES, body).await {
        Ok(created) => web.done(&role_path(&created.uid), "Role created"),
        // A refusal of the route is the error page; one of a permission the person may not
        // hand on (Grafana's delegation rule) belongs to the form.
        Err(f) if f.status == StatusCode::FORBIDDEN && !web.can(Method::POST, ROLES).await => {
            web.refused(f)
        }
        Err(f) => again(
            f.status,
            Errors::from_message("role", &f.message, ROLE_FIELDS),
        ),
    }
}

// ---- a role's page ----------------------------------------------------------------------

/// What the person may do with this role, by the API's rules.
struct Abilities {
    write: bool,
    delete: bool,
    assign_users: bool,
    unassign_users: bool,
    assign_teams: bool,
    unassign_teams: bool,
    /// Finding a user by login or email, and a team by name.
    find_users: bool,
    find_teams: bool,
}

impl Abilities {
    async fn of(web: &Web, role: &Role) -> Abilities {
        let uid = &[("roleUID", role.uid.as_str())];
        let own = !role.fixed();
        Abilities {
            write: own && web.can_with(Method::PUT, ROLE, uid).await,
            delete: own && web.can_with(Method::DELETE, ROLE, uid).await,
            assign_users: web
                .can(Method::POST, "/api/access-control/users/{userId}/roles")
                .await,
            unassign_users: web
                .can_with(
                    Method::DELETE,
                    "/api/access-control/users/{userId}/roles/{roleUID}",
                    uid,
                )
                .await,
            assign_teams: web
                .can(Method::POST, "/api/access-control/teams/{teamId}/roles")
                .await,
            unassign_teams: web
                .can_with(
                    Method::DELETE,
                    "/api/access-control/teams/{teamId}/roles/{roleUID}",
                    uid,
                )
                .await,
            find_users: web.can(Method::GET, "/api/users/lookup").await
                || web.can(Method::GET, "/api/org/users/search").await
                || web.can(Method::GET, "/api/org/users/lookup").await,
            find_teams: web.can(Method::GET, "/api/teams/search").await,
        }
    }

    fn users(&self) -> bool {
        self.find_users && (self.assign_users || self.unassign_users)
    }

    fn teams(&self) -> bool {
        self.find_teams && (self.assign_teams || self.unassign_teams)
    }
}

#[derive(Template)]
#[template(path = "roles_edit.html")]
struct RolePage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    role: &'a Role,
    /// `{base}/admin/roles/edit/{uid}`: the forms post below it.
    href: &'a str,
    can: &'a Abilities,
    form: &'a RoleForm,
    sent: &'a Sent,
    errors: &'a Errors,
}

impl RolePage<'_> {
    fn permissions(&self) -> &[Permission] {
        self.role.permissions.as_deref().unwrap_or(&[])
    }
}

/// What a re-rendered page keeps of the form that was sent back.
#[derive(Default)]
struct Sent {
    form: Option<RoleForm>,
    /// The form (`user_add`, `user_remove`, `team_add`, `team_remove`) and the login or team
    /// name it was sent with.
    who: Option<(&'static str, String)>,
}

impl Sent {
    /// The value the assignment form `form` was sent with, "" for the others.
    fn kept(&self, form: &str) -> &str {
        match &self.who {
            Some((f, v)) if *f == form => v,
            _ => "",
        }
    }
}

async fn load(web: &Web, uid: &str) -> Result<Role, Failure> {
    web.api.get::<Role>(&role_api(uid)).await
}

async fn render(web: &Web, uid: &str, status: StatusCode, errors: Errors, sent: Sent) -> Response {
    let role = match load(web, uid).await {
        Ok(r) => r,
        Err(f) => return web.refused(f),
    };
    let can = Abilities::of(web, &role).await;
    let href = format!("{}{}", web.chrome.base, role_path(&role.uid));
    let stored;
    let form = match &sent.form {
        Some(f) => f,
        None => {
            stored = RoleForm::of(&role);
            &stored
        }
    };
    let shown = if role.display_name.is_empty() {
        &role.name
    } else {
        &role.display_name
    };
    let title = format!("Role {shown}");
    web.render_status(
        status,
        RolePage {
            chrome: &web.chrome,
            title: &title,
            role: &role,
            href: &href,
            can: &can,
            form,
            sent: &sent,
            errors: &errors,
        },
    )
}

async fn page(web: Web, Path(uid): Path<String>) -> Response {
    render(&web, &uid, StatusCode::OK, Errors::none(), Sent::default()).await
}

async fn save(web: Web, Path(uid): Path<String>, Form(form): Form<RoleForm>) -> Response {
    let role = match load(&web, &uid).await {
        Ok(r) => r,
        Err(f) => return web.refused(f),
    };
    let path = role_path(&role.uid);
    let again = |status: StatusCode, errors: Errors, form: RoleForm| {
        let sent = Sent {
            form: Some(form),
            who: None,
        };
        render(&web, &uid, status, errors, sent)
    };
    // Where a role applies is set when it is made: the update keeps it.
    let body = match form.body(role.version + 1, role.global, role.hidden) {
        Ok(body) => body,
        Err((field, message)) => {
            let errors = Errors::field("role", field, &message);
            return again(StatusCode::BAD_REQUEST, errors, form).await;
        }
    };
    match web.api.put::<Role>(&role_api(&role.uid), body).await {
        Ok(_) => web.done(&path, "Role updated"),
        Err(f)
            if f.status == StatusCode::FORBIDDEN
                && !web
                    .can_with(Method::PUT, ROLE, &[("roleUID", role.uid.as_str())])
                    .await =>
        {
            web.refused(f)
        }
        Err(f) if f.status == StatusCode::NOT_FOUND => web.refused(f),
        Err(f) => {
            let errors = Errors::from_message("role", &f.message, ROLE_FIELDS);
            again(f.status, errors, form).await
        }
    }
}

async fn delete(web: Web, Path(uid): Path<String>, Form(_): Form<Empty>) -> Response {
    let role = match load(&web, &uid).await {
        Ok(r) => r,
        Err(f) => return web.refused(f),
    };
    // The confirmation says the assignments go too: force them away with the role.
    match web
        .api
        .delete::<Value>(&format!("{}?force=true", role_api(&role.uid)))
        .await
    {
        Ok(_) => web.done("/admin/roles", format!("Role {} deleted", role.name)),
        Err(f) => web.action_failed(&role_path(&role.uid), f),
    }
}

// ---- assignments ------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
struct UserForm {
    login: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TeamForm {
    name: String,
}

/// The user a login or email names: by the server's user lookup when the person may call it,
/// else among the org's members (as the team pages find them).
async fn find_user(web: &Web, wanted: &str) -> Result<Option<i64>, Failure> {
    if web.can(Method::GET, "/api/users/lookup").await {
        #[derive(Deserialize)]
        struct Found {
            id: i64,
        }
        let q = query_string(&[("loginOrEmail", wanted)]);
        return match web
            .api
            .get::<Found>(&format!("/api/users/lookup?{q}"))
            .await
        {
            Ok(found) => Ok(Some(found.id)),
            Err(f) if f.status == StatusCode::NOT_FOUND => Ok(None),
            Err(f) => Err(f),
        };
    }
    super::teams::find_user(web, wanted).await
}

/// The team of the org with exactly this name.
async fn find_team(web: &Web, wanted: &str) -> Result<Option<i64>, Failure> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Team {
        id: i64,
        name: String,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Found {
        teams: Vec<Team>,
    }
    let q = query_string(&[("name", wanted)]);
    let found: Found = web.api.get(&format!("/api/teams/search?{q}")).await?;
    Ok(found.teams.iter().find(|t| t.name == wanted).map(|t| t.id))
}

/// Whether a role is given or taken back.
#[derive(Clone, Copy, PartialEq)]
enum Change {
    Assign,
    Unassign,
}

/// Who a role is given to or taken from.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    User,
    Team,
}

async fn change(web: Web, uid: String, kind: Kind, change: Change, wanted: String) -> Response {
    let role = match load(&web, &uid).await {
        Ok(r) => r,
        Err(f) => return web.refused(f),
    };
    let wanted = wanted.trim().to_string();
    let form: &'static str = match (kind, change) {
        (Kind::User, Change::Assign) => "user_add",
        (Kind::User, Change::Unassign) => "user_remove",
        (Kind::Team, Change::Assign) => "team_add",
        (Kind::Team, Change::Unassign) => "team_remove",
    };
    let field = if kind == Kind::User { "login" } else { "name" };
    let again = |message: &str, status: StatusCode| {
        let errors = Errors::field(form, field, message);
        let sent = Sent {
            form: None,
            who: Some((form, wanted.clone())),
        };
        (errors, sent, status)
    };
    let (errors, sent, status) = if wanted.is_empty() {
        let message = match kind {
            Kind::User => "Login or email is required",
            Kind::Team => "Team name is required",
        };
        again(message, StatusCode::BAD_REQUEST)
    } else {
        let found = match kind {
            Kind::User => find_user(&web, &wanted).await,
            Kind::Team => find_team(&web, &wanted).await,
        };
        match found {
            Err(f) if f.status == StatusCode::FORBIDDEN => return web.refused(f),
            Err(f) => again(&f.message, f.status),
            Ok(None) => again(
                match kind {
                    Kind::User => "No user has that login or email",
                    Kind::Team => "No team of this organization has that name",
                },
                StatusCode::NOT_FOUND,
            ),
            Ok(Some(id)) => {
                let who = match kind {
                    Kind::User => "users",
                    Kind::Team => "teams",
                };
                let done = match (kind, change) {
                    (Kind::User, Change::Assign) => format!("Role assigned to {wanted}"),
                    (Kind::Team, Change::Assign) => format!("Role assigned to team {wanted}"),
                    (Kind::User, Change::Unassign) => format!("Role taken from {wanted}"),
                    (Kind::Team, Change::Unassign) => format!("Role taken from team {wanted}"),
                };
                let base = format!("/api/access-control/{who}/{id}/roles");
                let answer = match change {
                    Change::Assign => {
                        web.api
                            .post::<Value>(&base, json!({"roleUid": role.uid}))
                            .await
                    }
                    Change::Unassign => {
                        web.api
                            .delete::<Value>(&format!("{base}/{}", segment(&role.uid)))
                            .await
                    }
                };
                match answer {
                    Ok(_) => return web.done(&role_path(&role.uid), done),
                    Err(f) if f.status == StatusCode::FORBIDDEN => return web.refused(f),
                    Err(f) => again(&f.message, f.status),
                }
            }
        }
    };
    render(&web, &uid, status, errors, sent).await
}

async fn assign_user(web: Web, Path(uid): Path<String>, Form(f): Form<UserForm>) -> Response {
    change(web, uid, Kind::User, Change::Assign, f.login).await
}

async fn unassign_user(web: Web, Path(uid): Path<String>, Form(f): Form<UserForm>) -> Response {
    change(web, uid, Kind::User, Change::Unassign, f.login).await
}

async fn assign_team(web: Web, Path(uid): Path<String>, Form(f): Form<TeamForm>) -> Response {
    change(web, uid, Kind::Team, Change::Assign, f.name).await
}

async fn unassign_team(web: Web, Path(uid): Path<String>, Form(f): Form<TeamForm>) -> Response {
    change(web, uid, Kind::Team, Change::Unassign, f.name).await
}
