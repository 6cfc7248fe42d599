//! Organizations, as Grafana's pages for them: the server admin's list (`/admin/orgs`, over
//! `GET /api/orgs`), a form for a new one (`POST /api/orgs`) and each org's page at
//! `/admin/orgs/edit/{id}` (rename `PUT /api/orgs/{id}`, delete, members with their roles over
//! `/api/orgs/{id}/users…`); and, for the org one is signed in to, `/org` (rename
//! `PUT /api/org`, preferences `GET/PUT /api/org/preferences`) and `/org/users` (the members:
//! search, add by login or email with a role, change a role, remove, over `/api/org/users…`).
//!
//! Both member lists are one [`Members`] part over a [`Scope`]: the admin's org by id, or the
//! current org. Each button shows only where the API's rule for its route passes.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin_users::ORG_ROLES;
use super::client::Failure;
use super::context::{avatar_of, Chrome, WebState};
use super::format::Errors;
use super::forms::{Empty, Form};
use super::links::{page_number, query_string, Pager, SearchParams};
use super::prefs::{self, zones, Dashboard, PreferencesForm, Prefs, FIELDS as PREFERENCE_FIELDS};
use super::Web;
use crate::auth::actions;

pub(super) fn routes(r: Router<WebState>) -> Router<WebState> {
    r.route("/admin/orgs", get(list))
        .route("/admin/orgs/new", get(new_page).post(create))
        .route("/admin/orgs/edit/{id}", get(org_page).post(rename_org))
        .route(
            "/admin/orgs/edit/{id}/users",
            get(org_page).post(add_to_org),
        )
        .route(
            "/admin/orgs/edit/{id}/users/{user}/role",
            post(change_in_org),
        )
        .route(
            "/admin/orgs/edit/{id}/users/{user}/remove",
            post(remove_from_org),
        )
        .route("/admin/orgs/edit/{id}/delete", post(delete_org))
        .route("/org", get(current_page).post(rename_current))
        .route("/org/preferences", get(current_page).post(save_preferences))
        .route("/org/users", get(users_page).post(add_to_current))
        .route("/org/users/{user}/role", post(change_in_current))
        .route("/org/users/{user}/remove", post(remove_from_current))
}

/// Orgs per page of the admin's list.
const PER_PAGE: i64 = 30;

/// Members per page of a member list (Grafana's org users page asks for 30).
const MEMBERS_PER_PAGE: i64 = 30;

/// Where an API message about an org name goes.
const NAME_FIELDS: &[(&str, &str)] = &[("name", "name"), ("organization", "name")];

/// Where an API message about adding a member goes.
const ADD_FIELDS: &[(&str, &str)] = &[
    ("role", "role"),
    ("user", "login"),
    ("login", "login"),
    ("email", "login"),
];

// ---- the API's answers ------------------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase", default)]
struct Org {
    id: i64,
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct OrgUser {
    user_id: i64,
    login: String,
    email: String,
    name: String,
    avatar_url: String,
    role: String,
    last_seen_at_age: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct OrgUserSearch {
    total_count: i64,
    org_users: Vec<OrgUser>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Created {
    org_id: i64,
}

// ---- the admin's list -------------------------------------------------------------------

struct OrgRow {
    id: i64,
    name: String,
    href: String,
}

#[derive(Template)]
#[template(path = "admin_orgs.html")]
struct ListPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    query: &'a str,
    orgs: &'a [OrgRow],
    pager: &'a Pager,
    can_create: bool,
}

/// Whether the person may create an org: `POST /api/orgs` lets every signed-in caller in and
/// decides in the handler (server admins, or everyone under `[users] allow_org_create`).
async fn may_create_org(web: &Web) -> bool {
    web.app().config.users.allow_org_create
        || web
            .caller
            .allows(web.app(), actions::ORGS_CREATE, None)
            .await
            .unwrap_or(false)
}

async fn list(web: Web, Query(q): Query<SearchParams>) -> Response {
    let page = page_number(&q.page);
    // Grafana's org search counts pages from 0.
    let (per, at) = (PER_PAGE.to_string(), (page - 1).to_string());
    let params = query_string(&[("query", &q.query), ("perpage", &per), ("page", &at)]);
    let found: Vec<Org> = match web.api.get(&format!("/api/orgs?{params}")).await {
        Ok(found) => found,
        Err(f) => return web.refused(f),
    };
    let base = &web.chrome.base;
    let more = found.len() as i64 == PER_PAGE;
    let orgs: Vec<OrgRow> = found
        .into_iter()
        .map(|o| OrgRow {
            href: format!("{base}/admin/orgs/edit/{}", o.id),
            id: o.id,
            name: o.name,
        })
        .collect();
    let pager = Pager::open(
        "organization(s)",
        &format!("{base}/admin/orgs"),
        &q.query,
        page,
        more,
    );
    let can_create = may_create_org(&web).await;
    web.render(ListPage {
        chrome: &web.chrome,
        title: "Organizations",
        query: &q.query,
        orgs: &orgs,
        pager: &pager,
        can_create,
    })
}

// ---- a new org --------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
struct NameForm {
    name: String,
}

#[derive(Template)]
#[template(path = "admin_orgs_new.html")]
struct NewPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    form: &'a NameForm,
    errors: &'a Errors,
}

fn render_new(web: &Web, status: StatusCode, form: &NameForm, errors: &Errors) -> Response {
    web.render_status(
        status,
        NewPage {
            chrome: &web.chrome,
            title: "New organization",
            form,
            errors,
        },
    )
}

async fn new_page(web: Web) -> Response {
    if !may_create_org(&web).await {
        return web.refused(Failure::denied(actions::ORGS_CREATE));
    }
    render_new(&web, StatusCode::OK, &NameForm::default(), &Errors::none())
}

async fn create(web: Web, Form(form): Form<NameForm>) -> Response {
    if form.name.trim().is_empty() {
        let errors = Errors::field("org", "name", "Name is required");
        return render_new(&web, StatusCode::BAD_REQUEST, &form, &errors);
    }
    match web
        .api
        .post::<Created>("/api/orgs", json!({"name": form.name}))
        .await
    {
        Ok(created) => web.done(
            &format!("/admin/orgs/edit/{}", created.org_id),
            "Organization created",
        ),
        Err(f) if f.status == StatusCode::FORBIDDEN => web.refused(f),
        Err(f) => {
            let errors = Errors::from_message("org", &f.message, NAME_FIELDS);
            render_new(&web, f.status, &form, &errors)
        }
    }
}

// ---- the members of an org --------------------------------------------------------------

/// Whose members a member list shows: an org by id (the admin's org page) or the org the
/// person is signed in to (`/org/users`).
#[derive(Clone, Copy)]
enum Scope {
    Org(i64),
    Current,
}

impl Scope {
    /// The API's prefix for this org: `/api/orgs/{id}` or `/api/org`.
    fn api(self) -> String {
        match self {
            Scope::Org(id) => format!("/api/orgs/{id}"),
            Scope::Current => "/api/org".to_string(),
        }
    }

    /// The page the member forms post below (without the sub path).
    fn page(self) -> String {
        match self {
            Scope::Org(id) => format!("/admin/orgs/edit/{id}/users"),
            Scope::Current => "/org/users".to_string(),
        }
    }

    /// Where the person goes back to after a change (the org's page or the member list).
    fn back(self) -> String {
        match self {
            Scope::Org(id) => format!("/admin/orgs/edit/{id}"),
            Scope::Current => "/org/users".to_string(),
        }
    }

    /// The API route (as the access table names it) and its path parameters.
    fn route(self, rest: &str) -> String {
        match self {
            Scope::Org(_) => format!("/api/orgs/{{orgId}}{rest}"),
            Scope::Current => format!("/api/org{rest}"),
        }
    }

    fn params(self) -> Vec<(&'static str, String)> {
        match self {
            Scope::Org(id) => vec![("orgId", id.to_string())],
            Scope::Current => Vec::new(),
        }
    }

    async fn can(self, web: &Web, method: Method, rest: &str, extra: &[(&str, &str)]) -> bool {
        let mut params: Vec<(&str, String)> = self.params();
        params.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        web.can_with(method, &self.route(rest), &params).await
    }
}

/// A member as a row of the list, with what the person may do to them.
struct MemberRow {
    user_id: i64,
    login: String,
    email: String,
    name: String,
    avatar: String,
    role: String,
    last_seen: String,
    can_change: bool,
    can_remove: bool,
}

/// The member list of a page: its rows, paging and forms.
struct Members {
    /// Where the forms post (with the sub path): `…/users`, `…/users/{id}/role`, ….
    href: String,
    rows: Vec<MemberRow>,
    pager: Pager,
    query: String,
    can_add: bool,
    /// The login or email and role of an add that failed, to show again.
    add_login: String,
    add_role: String,
    roles: &'static [&'static str],
}

impl Members {
    fn pager(&self) -> &Pager {
        &self.pager
    }
    fn any_actions(&self) -> bool {
        self.rows.iter().any(|r| r.can_change || r.can_remove)
    }
}

/// An add that failed, to show again.
#[derive(Default)]
struct SentAdd {
    login: String,
    role: String,
}

async fn load_members(
    web: &Web,
    scope: Scope,
    query: &str,
    page: i64,
    sent: SentAdd,
) -> Result<Members, Failure> {
    let (per, at) = (MEMBERS_PER_PAGE.to_string(), page.to_string());
    let params = query_string(&[("query", query), ("perpage", &per), ("page", &at)]);
    let found: OrgUserSearch = web
        .api
        .get(&format!("{}/users/search?{params}", scope.api()))
        .await?;
    let base = &web.chrome.base;
    let mut rows = Vec::with_capacity(found.org_users.len());
    for u in found.org_users {
        let id = u.user_id.to_string();
        let user = [("userId", id.as_str())];
        rows.push(MemberRow {
            can_change: scope
                .can(web, Method::PATCH, "/users/{userId}", &user)
                .await,
            can_remove: scope
                .can(web, Method::DELETE, "/users/{userId}", &user)
                .await,
            avatar: format!(
                "{base}{}",
                if u.avatar_url.is_empty() {
                    avatar_of(&u.email, &u.login)
                } else {
                    u.avatar_url.clone()
                }
            ),
            user_id: u.user_id,
            login: u.login,
            email: u.email,
            name: u.name,
            role: u.role,
            last_seen: if u.last_seen_at_age.is_empty() {
                "Never".to_string()
            } else {
                u.last_seen_at_age
            },
        });
    }
    let href = format!("{base}{}", scope.page());
    let pager = Pager::counting(
        "user(s)",
        &href,
        query,
        page,
        MEMBERS_PER_PAGE,
        found.total_count,
    );
    Ok(Members {
        can_add: scope.can(web, Method::POST, "/users", &[]).await,
        href,
        rows,
        pager,
        query: query.to_string(),
        add_login: sent.login,
        add_role: if sent.role.is_empty() {
            "Viewer".to_string()
        } else {
            sent.role
        },
        roles: ORG_ROLES,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AddForm {
    login: String,
    role: String,
}

/// Adds a member; `Err` is the form's error with its status, to show the page again.
async fn add(web: &Web, scope: Scope, form: &AddForm) -> Result<(), (Errors, StatusCode)> {
    let wanted = form.login.trim();
    if wanted.is_empty() {
        return Err((
            Errors::field("add", "login", "Login or email is required"),
            StatusCode::BAD_REQUEST,
        ));
    }
    let body = json!({"loginOrEmail": wanted, "role": form.role});
    match web
        .api
        .post::<Value>(&format!("{}/users", scope.api()), body)
        .await
    {
        Ok(_) => Ok(()),
        Err(f) => Err((
            Errors::from_message("add", &f.message, ADD_FIELDS),
            f.status,
        )),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RoleForm {
    role: String,
}

async fn change_role(web: &Web, scope: Scope, user: i64, role: &str) -> Response {
    match web
        .api
        .patch::<Value>(
            &format!("{}/users/{user}", scope.api()),
            json!({"role": role}),
        )
        .await
    {
        Ok(_) => web.done(&scope.back(), "Organization user updated"),
        Err(f) => web.action_failed(&scope.back(), f),
    }
}

async fn remove(web: &Web, scope: Scope, user: i64) -> Response {
    match web
        .api
        .delete::<Value>(&format!("{}/users/{user}", scope.api()))
        .await
    {
        // Leaving the current org ends the access to its pages: to the profile then.
        Ok(_) if matches!(scope, Scope::Current) && user == web.caller.id() => {
            web.done("/profile", "User removed from organization")
        }
        Ok(_) => web.done(&scope.back(), "User removed from organization"),
        Err(f) => web.action_failed(&scope.back(), f),
    }
}

// ---- an org's page (server admin) -------------------------------------------------------

#[derive(Template)]
#[template(path = "admin_orgs_edit.html")]
struct OrgPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    org: &'a Org,
    href: &'a str,
    name: &'a str,
    can_rename: bool,
    can_delete: bool,
    members: Option<&'a Members>,
    errors: &'a Errors,
}

async fn render_org(
    web: &Web,
    id: i64,
    status: StatusCode,
    errors: Errors,
    name: Option<String>,
    sent: SentAdd,
) -> Response {
    let org: Org = match web.api.get(&format!("/api/orgs/{id}")).await {
        Ok(o) => o,
        Err(f) => return web.refused(f),
    };
    let scope = Scope::Org(org.id);
    let members = if scope.can(web, Method::GET, "/users/search", &[]).await {
        match load_members(web, scope, "", 1, sent).await {
            Ok(m) => Some(m),
            Err(f) => return web.refused(f),
        }
    } else {
        None
    };
    let href = format!("{}/admin/orgs/edit/{}", web.chrome.base, org.id);
    let title = format!("Organization {}", org.name);
    let name = name.unwrap_or_else(|| org.name.clone());
    web.render_status(
        status,
        OrgPage {
            chrome: &web.chrome,
            title: &title,
            org: &org,
            href: &href,
            name: &name,
            can_rename: scope.can(web, Method::PUT, "", &[]).await,
            can_delete: scope.can(web, Method::DELETE, "", &[]).await,
            members: members.as_ref(),
            errors: &errors,
        },
    )
}

async fn org_page(web: Web, Path(id): Path<i64>) -> Response {
    render_org(
        &web,
        id,
        StatusCode::OK,
        Errors::none(),
        None,
        SentAdd::default(),
    )
    .await
}

async fn rename_org(web: Web, Path(id): Path<i64>, Form(form): Form<NameForm>) -> Response {
    match web
        .api
        .put::<Value>(&format!("/api/orgs/{id}"), json!({"name": form.name}))
        .await
    {
        Ok(_) => web.done(&format!("/admin/orgs/edit/{id}"), "Organization updated"),
        Err(f) if f.status == StatusCode::FORBIDDEN => web.refused(f),
        Err(f) => {
            let errors = Errors::from_message("org", &f.message, NAME_FIELDS);
            let status = f.status;
            render_org(
                &web,
                id,
                status,
                errors,
                Some(form.name),
                SentAdd::default(),
            )
            .await
        }
    }
}

async fn delete_org(web: Web, Path(id): Path<i64>, Form(_): Form<Empty>) -> Response {
    let org: Org = match web.api.get(&format!("/api/orgs/{id}")).await {
        Ok(o) => o,
        Err(f) => return web.refused(f),
    };
    match web.api.delete::<Value>(&format!("/api/orgs/{id}")).await {
        Ok(_) => web.done("/admin/orgs", format!("Organization {} deleted", org.name)),
        Err(f) => web.action_failed(&format!("/admin/orgs/edit/{id}"), f),
    }
}

async fn add_to_org(web: Web, Path(id): Path<i64>, Form(form): Form<AddForm>) -> Response {
    let scope = Scope::Org(id);
    match add(&web, scope, &form).await {
        Ok(()) => web.done(&scope.back(), "User added to organization"),
        Err((errors, status)) => {
            let sent = SentAdd {
                login: form.login,
                role: form.role,
            };
            render_org(&web, id, status, errors, None, sent).await
        }
    }
}

async fn change_in_org(
    web: Web,
    Path((id, user)): Path<(i64, i64)>,
    Form(form): Form<RoleForm>,
) -> Response {
    change_role(&web, Scope::Org(id), user, &form.role).await
}

async fn remove_from_org(
    web: Web,
    Path((id, user)): Path<(i64, i64)>,
    Form(_): Form<Empty>,
) -> Response {
    remove(&web, Scope::Org(id), user).await
}

// ---- the current org --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "org.html")]
struct CurrentPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    org: &'a Org,
    name: &'a str,
    can_rename: bool,
    can_read_prefs: bool,
    can_write_prefs: bool,
    prefs: &'a Prefs,
    dashboards: &'a [Dashboard],
    zones: &'a [&'static str],
    pid: &'a str,
    errors: &'a Errors,
}

async fn render_current(
    web: &Web,
    status: StatusCode,
    errors: Errors,
    name: Option<String>,
    sent: Option<Prefs>,
) -> Response {
    let org: Org = match web.api.get("/api/org").await {
        Ok(o) => o,
        Err(f) => return web.refused(f),
    };
    let can_read_prefs = web.can(Method::GET, "/api/org/preferences").await;
    let can_write_prefs = web.can(Method::PUT, "/api/org/preferences").await;
    let prefs = match sent {
        Some(p) => p,
        None if can_read_prefs => web
            .api
            .get("/api/org/preferences")
            .await
            .unwrap_or_default(),
        None => Prefs::default(),
    };
    let dashboards: Vec<Dashboard> = if can_read_prefs {
        web.api
            .get("/api/search?type=dash-db&limit=500")
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let name = name.unwrap_or_else(|| org.name.clone());
    web.render_status(
        status,
        CurrentPage {
            chrome: &web.chrome,
            title: "Default preferences",
            org: &org,
            name: &name,
            can_rename: web.can(Method::PUT, "/api/org").await,
            can_read_prefs,
            can_write_prefs,
            prefs: &prefs,
            dashboards: &dashboards,
            zones: if can_write_prefs { zones() } else { &[] },
            pid: "org-",
            errors: &errors,
        },
    )
}

async fn current_page(web: Web) -> Response {
    render_current(&web, StatusCode::OK, Errors::none(), None, None).await
}

async fn rename_current(web: Web, Form(form): Form<NameForm>) -> Response {
    match web
        .api
        .put::<Value>("/api/org", json!({"name": form.name}))
        .await
    {
        Ok(_) => web.done("/org", "Organization updated"),
        Err(f) if f.status == StatusCode::FORBIDDEN => web.refused(f),
        Err(f) => {
            let errors = Errors::from_message("org", &f.message, NAME_FIELDS);
            render_current(&web, f.status, errors, Some(form.name), None).await
        }
    }
}

async fn save_preferences(web: Web, Form(form): Form<PreferencesForm>) -> Response {
    match prefs::save(&web.api, "/api/org/preferences", &form).await {
        Ok(_) => web.done("/org", "Preferences saved"),
        Err(f) if f.status == StatusCode::FORBIDDEN => web.refused(f),
        Err(f) => {
            let errors = Errors::from_message("preferences", &f.message, PREFERENCE_FIELDS);
            render_current(&web, f.status, errors, None, Some(form.sent())).await
        }
    }
}

#[derive(Template)]
#[template(path = "org_users.html")]
struct UsersPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    members: &'a Members,
    errors: &'a Errors,
}

async fn render_users(
    web: &Web,
    query: &str,
    page: i64,
    status: StatusCode,
    errors: Errors,
    sent: SentAdd,
) -> Response {
    let members = match load_members(web, Scope::Current, query, page, sent).await {
        Ok(m) => m,
        Err(f) => return web.refused(f),
    };
    web.render_status(
        status,
        UsersPage {
            chrome: &web.chrome,
            title: "Organization users",
            members: &members,
            errors: &errors,
        },
    )
}

async fn users_page(web: Web, Query(q): Query<SearchParams>) -> Response {
    let page = page_number(&q.page);
    render_users(
        &web,
        &q.query,
        page,
        StatusCode::OK,
        Errors::none(),
        SentAdd::default(),
    )
    .await
}

async fn add_to_current(web: Web, Form(form): Form<AddForm>) -> Response {
    match add(&web, Scope::Current, &form).await {
        Ok(()) => web.done("/org/users", "User added to organization"),
        Err((errors, status)) => {
            let sent = SentAdd {
                login: form.login,
                role: form.role,
            };
            render_users(&web, "", 1, status, errors, sent).await
        }
    }
}

async fn change_in_current(
    web: Web,
    Path(user): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Response {
    change_role(&web, Scope::Current, user, &form.role).await
}

async fn remove_from_current(web: Web, Path(user): Path<i64>, Form(_): Form<Empty>) -> Response {
    remove(&web, Scope::Current, user).await
}
