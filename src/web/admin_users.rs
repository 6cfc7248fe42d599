//! Administration → Users, at Grafana's URLs: the server's user list (`/admin/users`, a search
//! with paging and sortable columns over `GET /api/users/search`), the form to create a user
//! (`/admin/users/new`, `POST /api/admin/users`) and a user's page (`/admin/users/edit/{uid}`,
//! a uid or a numeric id as the API takes them): profile, password, Server admin, disable /
//! enable, delete, organizations with their roles, teams, sessions, failed logins (lockout) and
//! quotas. Each change is one small form posted to `/admin/users/edit/{uid}/…`, sent on to the
//! API route that makes it; what the API would refuse the person is not shown.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use super::context::{avatar_of, Chrome, WebState};
use super::format::{age, Errors};
use super::forms::{Empty, Form};
use super::links::{page_number, pages_of, segment};
use super::profile::DeviceRow;
use super::Web;
use crate::api::UserToken;

pub(super) fn routes(r: Router<WebState>) -> Router<WebState> {
    r.route("/admin/users", get(list))
        .route("/admin/users/new", get(new_page).post(create))
        .route("/admin/users/edit/{uid}", get(user_page).post(save_profile))
        .route(
            "/admin/users/edit/{uid}/password",
            get(back_to_user).post(set_password),
        )
        .route(
            "/admin/users/edit/{uid}/permissions",
            post(set_server_admin),
        )
        .route("/admin/users/edit/{uid}/disable", post(disable))
        .route("/admin/users/edit/{uid}/enable", post(enable))
        .route("/admin/users/edit/{uid}/delete", post(delete))
        .route(
            "/admin/users/edit/{uid}/orgs/add",
            get(back_to_user).post(add_to_org),
        )
        .route(
            "/admin/users/edit/{uid}/orgs/{org_id}/role",
            post(change_role),
        )
        .route(
            "/admin/users/edit/{uid}/orgs/{org_id}/remove",
            post(remove_from_org),
        )
        .route(
            "/admin/users/edit/{uid}/sessions/{token_id}/revoke",
            post(revoke_session),
        )
        .route("/admin/users/edit/{uid}/sessions/logout", post(logout_all))
        .route("/admin/users/edit/{uid}/lockout/clear", post(unlock))
        .route(
            "/admin/users/edit/{uid}/quotas/{target}",
            get(back_to_target).post(set_quota),
        )
}

/// Users per page of the list.
const PER_PAGE: i64 = 50;

/// The sort options of `GET /api/users/search` (src/api/users.rs), by column.
const SORT_COLUMNS: &[&str] = &["login", "email", "name", "lastSeenAtAge"];

/// The org roles a membership can have, in Grafana's spelling.
pub const ORG_ROLES: &[&str] = &["Viewer", "Editor", "Admin", "None"];

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    query: String,
    page: String,
    sort: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SearchHit {
    id: i64,
    uid: String,
    name: String,
    login: String,
    email: String,
    is_admin: bool,
    is_disabled: bool,
    last_seen_at_age: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SearchResult {
    total_count: i64,
    users: Vec<SearchHit>,
}

/// A user as a row of the list shows them.
struct UserRow {
    /// The uid, or the id of a user without one.
    key: String,
    login: String,
    email: String,
    name: String,
    avatar: String,
    last_seen: String,
    is_admin: bool,
    is_disabled: bool,
}

/// Grafana's "Never" for a user never seen: the API answers their age from a last-seen time
/// set ten years before they were made (Grafana's UsersTable shows "Never" for "10 years":
/// `public/app/features/admin/Users/UsersTable.tsx`).
fn last_seen(age: &str) -> String {
    let years = age
        .strip_suffix(" years")
        .and_then(|n| n.parse::<i64>().ok());
    if years.is_some_and(|n| n >= 10) {
        "Never".to_string()
    } else {
        age.to_string()
    }
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct ListPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    query: &'a str,
    sort: &'a str,
    users: &'a [UserRow],
    total: i64,
    page: i64,
    pages: i64,
    can_create: bool,
}

impl ListPage<'_> {
    fn href(&self, query: &str, sort: &str, page: i64) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if !query.is_empty() {
            q.append_pair("query", query);
        }
        if !sort.is_empty() {
            q.append_pair("sort", sort);
        }
        if page > 1 {
            q.append_pair("page", &page.to_string());
        }
        let q = q.finish();
        let base = format!("{}/admin/users", self.chrome.base);
        if q.is_empty() {
            base
        } else {
            format!("{base}?{q}")
        }
    }

    /// The link of a column's header: ascending, or descending when it is sorted ascending.
    fn sort_link(&self, column: &str) -> String {
        let next = if self.sort == format!("{column}-asc") {
            format!("{column}-desc")
        } else {
            format!("{column}-asc")
        };
        self.href(self.query, &next, 1)
    }

    fn aria_sort(&self, column: &str) -> &'static str {
        if self.sort == format!("{column}-asc") {
            "ascending"
        } else if self.sort == format!("{column}-desc") {
            "descending"
        } else {
            "none"
        }
    }

    fn arrow(&self, column: &str) -> &'static str {
        match self.aria_sort(column) {
            "ascending" => " ▲",
            "descending" => " ▼",
            _ => "",
        }
    }

    fn page_link(&self, page: i64) -> String {
        self.href(self.query, self.sort, page)
    }
}

async fn list(web: Web, Query(q): Query<ListQuery>) -> Response {
    let page = page_number(&q.page);
    let sort = q.sort.trim();
    // Only the API's own options are passed on; anything else is the default order.
    let sort = match sort.rsplit_once('-') {
        Some((col, "asc" | "desc")) if SORT_COLUMNS.contains(&col) => sort,
        _ => "",
    };
    let query = q.query.trim();
    // (The serializer is not `Send`: it is gone before the first await.)
    let path = {
        let mut params = form_urlencoded::Serializer::new(String::new());
        params
            .append_pair("perpage", &PER_PAGE.to_string())
            .append_pair("page", &page.to_string());
        if !query.is_empty() {
            params.append_pair("query", query);
        }
        if !sort.is_empty() {
            params.append_pair("sort", sort);
        }
        format!("/api/users/search?{}", params.finish())
    };
    let found: SearchResult = match web.api.get(&path).await {
        Ok(r) => r,
        Err(f) => return web.refused(f),
    };
    let base = &web.chrome.base;
    let users: Vec<UserRow> = found
        .users
        .into_iter()
        .map(|u| UserRow {
            key: if u.uid.is_empty() {
                u.id.to_string()
            } else {
                u.uid.clone()
            },
            avatar: format!("{base}{}", avatar_of(&u.email, &u.login)),
            last_seen: last_seen(&u.last_seen_at_age),
            login: u.login,
            email: u.email,
            name: u.name,
            is_admin: u.is_admin,
            is_disabled: u.is_disabled,
        })
        .collect();
    let pages = pages_of(found.total_count, PER_PAGE);
    let can_create = web.can(Method::POST, "/api/admin/users").await;
    web.render(ListPage {
        chrome: &web.chrome,
        title: "Users",
        query,
        sort,
        users: &users,
        total: found.total_count,
        page,
        pages,
        can_create,
    })
}

// ---------------------------------------------------------------------------------------------
// A new user

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewUserForm {
    name: String,
    email: String,
    login: String,
    password: String,
    org_id: String,
}

#[derive(Template)]
#[template(path = "admin_users_new.html")]
struct NewPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    form: &'a NewUserForm,
    errors: &'a Errors,
}

fn render_new(web: &Web, status: StatusCode, form: &NewUserForm, errors: &Errors) -> Response {
    web.render_status(
        status,
        NewPage {
            chrome: &web.chrome,
            title: "New user",
            form,
            errors,
        },
    )
}

async fn new_page(web: Web) -> Response {
    if !web.can(Method::POST, "/api/admin/users").await {
        return web.refused(super::Failure {
            status: StatusCode::FORBIDDEN,
            message: "You'll need additional permissions to perform this action. \
                      Permissions needed: users:create"
                .into(),
        });
    }
    render_new(
        &web,
        StatusCode::OK,
        &NewUserForm::default(),
        &Errors::none(),
    )
}

#[derive(Deserialize)]
struct Created {
    id: i64,
    #[serde(default)]
    uid: String,
}

async fn create(web: Web, Form(form): Form<NewUserForm>) -> Response {
    let mut body = json!({
        "name": form.name,
        "email": form.email,
        "login": form.login,
        "password": form.password,
    });
    let org = form.org_id.trim();
    if !org.is_empty() {
        match org.parse::<i64>() {
            // Grafana's spelling of the field (AdminCreateUserForm).
            Ok(id) => body["OrgId"] = json!(id),
            Err(_) => {
                let errors = Errors::field("new", "org_id", "The organization id is a number");
                return render_new(&web, StatusCode::BAD_REQUEST, &form, &errors);
            }
        }
    }
    match web.api.post::<Created>("/api/admin/users", body).await {
        Ok(c) => {
            let key = if c.uid.is_empty() {
                c.id.to_string()
            } else {
                c.uid
            };
            web.done(&format!("/admin/users/edit/{key}"), "User created")
        }
        Err(f) => {
            let errors = Errors::from_message(
                "new",
                &f.message,
                &[
                    ("already exists", "login"),
                    ("username or email", "login"),
                    ("password", "password"),
                    ("orgid", "org_id"),
                    ("organization", "org_id"),
                    ("email", "email"),
                    ("login", "login"),
                    ("username", "login"),
                    ("name", "name"),
                ],
            );
            render_new(&web, f.status, &form, &errors)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A user's page

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Profile {
    id: i64,
    uid: String,
    email: String,
    name: String,
    login: String,
    is_grafana_admin: bool,
    is_disabled: bool,
    is_external: bool,
    auth_labels: Option<Vec<String>>,
    created_at: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserOrg {
    org_id: i64,
    name: String,
    role: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct UserTeam {
    org_id: i64,
    name: String,
    email: String,
    member_count: i64,
}

#[derive(Deserialize)]
struct Org {
    id: i64,
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Lockout {
    locked: bool,
    failed_attempts: i64,
    window_seconds: i64,
    addresses: Vec<LockoutAddress>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct LockoutAddress {
    ip: String,
    failed_attempts: i64,
    locked: bool,
    last_failed_at: String,
    locked_until: Option<String>,
}

#[derive(Deserialize)]
struct Quota {
    target: String,
    limit: i64,
    used: i64,
}

/// A membership as the page shows it, with what may be done to it.
struct OrgRow {
    org_id: i64,
    name: String,
    role: String,
    can_change: bool,
    can_remove: bool,
}

struct QuotaRow {
    target: String,
    label: &'static str,
    limit: i64,
    used: i64,
    can_edit: bool,
}

/// A failed-login address as the page shows it.
struct AttemptRow {
    ip: String,
    failed: i64,
    locked: bool,
    last: String,
    until: String,
}

/// What the person may do on the page, by the API's rules for this user.
#[derive(Default)]
struct Allowed {
    edit: bool,
    password: bool,
    permissions: bool,
    disable: bool,
    enable: bool,
    delete: bool,
    revoke: bool,
    logout: bool,
    unlock: bool,
}

/// The values of the profile form: the stored ones, or those sent back with an error.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ProfileForm {
    name: String,
    email: String,
    login: String,
}

#[derive(Template)]
#[template(path = "admin_users_edit.html")]
struct UserPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    /// The user's path segment: `/admin/users/edit/{key}`.
    key: &'a str,
    user: &'a Profile,
    avatar: &'a str,
    created: &'a str,
    is_me: bool,
    form: &'a ProfileForm,
    errors: &'a Errors,
    allowed: &'a Allowed,
    orgs: Option<&'a [OrgRow]>,
    addable: &'a [Org],
    roles: &'a [&'static str],
    teams: Option<&'a [UserTeam]>,
    devices: Option<&'a [DeviceRow]>,
    lockout: Option<&'a Lockout>,
    attempts: &'a [AttemptRow],
    quotas: Option<&'a [QuotaRow]>,
    /// A quota limit sent back with an error: (target, value).
    sent_limit: Option<(&'a str, &'a str)>,
    /// The latest audit records about the user and by them (for whoever reads every org's).
    records: Option<&'a [super::audit::Record]>,
}

impl UserPage<'_> {
    fn path(&self, rest: &str) -> String {
        format!("{}/admin/users/edit/{}{rest}", self.chrome.base, self.key)
    }
    fn labels(&self) -> String {
        self.user
            .auth_labels
            .as_deref()
            .unwrap_or_default()
            .join(", ")
    }
    fn limit_value(&self, q: &QuotaRow) -> String {
        match self.sent_limit {
            Some((target, value)) if target == q.target => value.to_string(),
            _ => q.limit.to_string(),
        }
    }
    fn other_devices(&self) -> usize {
        self.devices
            .map(|d| d.iter().filter(|d| !d.current).count())
            .unwrap_or(0)
    }
}

fn quota_label(target: &str) -> &'static str {
    match target {
        "org_user" => "Organizations",
        _ => "",
    }
}

/// What the page re-renders with after a failed form.
#[derive(Default)]
struct Sent {
    profile: Option<ProfileForm>,
    limit: Option<(String, String)>,
}

async fn render_user(
    web: &Web,
    key: &str,
    status: StatusCode,
    errors: Errors,
    sent: Sent,
) -> Response {
    let user: Profile = match web.api.get(&format!("/api/users/{}", segment(key))).await {
        Ok(u) => u,
        Err(f) => return web.refused(f),
    };
    let id = user.id.to_string();
    let with_id = [("id", id.as_str())];
    let allowed = Allowed {
        edit: web.can_with(Method::PUT, "/api/users/{id}", &with_id).await,
        password: web
            .can_with(Method::PUT, "/api/admin/users/{id}/password", &with_id)
            .await,
        permissions: web
            .can_with(Method::PUT, "/api/admin/users/{id}/permissions", &with_id)
            .await,
        disable: web
            .can_with(Method::POST, "/api/admin/users/{id}/disable", &with_id)
            .await,
        enable: web
            .can_with(Method::POST, "/api/admin/users/{id}/enable", &with_id)
            .await,
        delete: web
            .can_with(Method::DELETE, "/api/admin/users/{id}", &with_id)
            .await,
        revoke: web
            .can_with(
                Method::POST,
                "/api/admin/users/{id}/revoke-auth-token",
                &with_id,
            )
            .await,
        // The API refuses to sign out the caller themselves ("You cannot logout yourself").
        logout: user.id != web.caller.id()
            && web
                .can_with(Method::POST, "/api/admin/users/{id}/logout", &with_id)
                .await,
        unlock: web
            .can_with(Method::DELETE, "/api/admin/users/{id}/lockout", &with_id)
            .await,
    };

    let memberships: Option<Vec<UserOrg>> =
        web.api.get(&format!("/api/users/{id}/orgs")).await.ok();
    let mut orgs = None;
    let mut addable = Vec::new();
    if let Some(memberships) = memberships {
        let mut rows = Vec::with_capacity(memberships.len());
        for m in &memberships {
            let org = m.org_id.to_string();
            let params = [("orgId", org.as_str()), ("userId", id.as_str())];
            rows.push(OrgRow {
                org_id: m.org_id,
                name: m.name.clone(),
                role: m.role.clone(),
                can_change: web
                    .can_with(Method::PATCH, "/api/orgs/{orgId}/users/{userId}", &params)
                    .await,
                can_remove: web
                    .can_with(Method::DELETE, "/api/orgs/{orgId}/users/{userId}", &params)
                    .await,
            });
        }
        if web.can(Method::GET, "/api/orgs").await {
            let all: Vec<Org> = web
                .api
                .get("/api/orgs?perpage=1000")
                .await
                .unwrap_or_default();
            for o in all {
                if memberships.iter().any(|m| m.org_id == o.id) {
                    continue;
                }
                let org = o.id.to_string();
                if web
                    .can_with(Method::POST, "/api/orgs/{orgId}/users", &[("orgId", &org)])
                    .await
                {
                    addable.push(o);
                }
            }
        }
        orgs = Some(rows);
    }
    let teams: Option<Vec<UserTeam>> = web.api.get(&format!("/api/users/{id}/teams")).await.ok();
    let now = web.app().clock.now();
    let devices: Option<Vec<DeviceRow>> = web
        .api
        .get::<Vec<UserToken>>(&format!("/api/admin/users/{id}/auth-tokens"))
        .await
        .ok()
        .map(|d| d.into_iter().map(|d| DeviceRow::of(d, now)).collect());
    let lockout: Option<Lockout> = web
        .api
        .get(&format!("/api/admin/users/{id}/lockout"))
        .await
        .ok();
    let attempts: Vec<AttemptRow> = lockout
        .iter()
        .flat_map(|l| l.addresses.iter())
        .map(|a| AttemptRow {
            ip: a.ip.clone(),
            failed: a.failed_attempts,
            locked: a.locked,
            last: age(&a.last_failed_at, now),
            until: a
                .locked_until
                .as_deref()
                .map(|t| t.replace('T', " ").replace('Z', " UTC"))
                .unwrap_or_default(),
        })
        .collect();
    // Off unless `[quota] enabled`: the API's 403 "Quotas not enabled" hides the section.
    let quotas: Option<Vec<QuotaRow>> = match web
        .api
        .get::<Vec<Quota>>(&format!("/api/admin/users/{id}/quotas"))
        .await
    {
        Ok(list) => {
            let mut rows = Vec::with_capacity(list.len());
            for q in list {
                let can_edit = web
                    .can_with(
                        Method::PUT,
                        "/api/admin/users/{id}/quotas/{target}",
                        &[("id", &id), ("target", &q.target)],
                    )
                    .await;
                rows.push(QuotaRow {
                    label: quota_label(&q.target),
                    target: q.target,
                    limit: q.limit,
                    used: q.used,
                    can_edit,
                });
            }
            Some(rows)
        }
        Err(_) => None,
    };
    let form = sent.profile.unwrap_or_else(|| ProfileForm {
        name: user.name.clone(),
        email: user.email.clone(),
        login: user.login.clone(),
    });
    let avatar = format!("{}{}", web.chrome.base, avatar_of(&user.email, &user.login));
    let created = user.created_at.get(..10).unwrap_or("").to_string();
    let records = super::audit::recent_for_user(web, user.id, &user.login, 10).await;
    let title = if user.login.is_empty() {
        "User".to_string()
    } else {
        user.login.clone()
    };
    web.render_status(
        status,
        UserPage {
            chrome: &web.chrome,
            title: &title,
            key,
            user: &user,
            avatar: &avatar,
            created: &created,
            is_me: user.id == web.caller.id(),
            form: &form,
            errors: &errors,
            allowed: &allowed,
            orgs: orgs.as_deref(),
            addable: &addable,
            roles: ORG_ROLES,
            teams: teams.as_deref(),
            devices: devices.as_deref(),
            lockout: lockout.as_ref(),
            attempts: &attempts,
            quotas: quotas.as_deref(),
            sent_limit: sent.limit.as_ref().map(|(t, v)| (t.as_str(), v.as_str())),
            records: records.as_deref(),
        },
    )
}

fn user_path(key: &str) -> String {
    format!("/admin/users/edit/{}", segment(key))
}

async fn user_page(web: Web, Path(key): Path<String>) -> Response {
    render_user(&web, &key, StatusCode::OK, Errors::none(), Sent::default()).await
}

/// A form's address loaded as a page (a reload after an error): the user's page.
async fn back_to_user(web: Web, Path(key): Path<String>) -> Response {
    web.redirect(&user_path(&key))
}

async fn back_to_target(web: Web, Path((key, _)): Path<(String, String)>) -> Response {
    web.redirect(&user_path(&key))
}

const PROFILE_FIELDS: &[(&str, &str)] = &[
    ("login", "login"),
    ("username", "login"),
    ("email", "email"),
    ("name", "name"),
];

async fn save_profile(
    web: Web,
    Path(key): Path<String>,
    Form(form): Form<ProfileForm>,
) -> Response {
    let body = json!({"name": form.name, "email": form.email, "login": form.login});
    match web
        .api
        .put::<Value>(&format!("/api/users/{}", segment(&key)), body)
        .await
    {
        Ok(_) => web.done(&user_path(&key), "User updated"),
        Err(f) => {
            let errors = Errors::from_message("profile", &f.message, PROFILE_FIELDS);
            let sent = Sent {
                profile: Some(form),
                ..Sent::default()
            };
            render_user(&web, &key, f.status, errors, sent).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    password: String,
}

async fn set_password(
    web: Web,
    Path(key): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let path = format!("/api/admin/users/{}/password", segment(&key));
    match web
        .api
        .put::<Value>(&path, json!({"password": form.password}))
        .await
    {
        Ok(_) => web.done(
            &user_path(&key),
            "Password changed. The user's sessions were signed out.",
        ),
        Err(f) => {
            let errors = Errors::from_message("password", &f.message, &[("password", "password")]);
            render_user(&web, &key, f.status, errors, Sent::default()).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AdminForm {
    is_grafana_admin: String,
}

async fn set_server_admin(
    web: Web,
    Path(key): Path<String>,
    Form(form): Form<AdminForm>,
) -> Response {
    let grant = form.is_grafana_admin == "true";
    let path = format!("/api/admin/users/{}/permissions", segment(&key));
    match web
        .api
        .put::<Value>(&path, json!({"isGrafanaAdmin": grant}))
        .await
    {
        Ok(_) if grant => web.done(&user_path(&key), "Server admin granted"),
        Ok(_) => web.done(&user_path(&key), "Server admin revoked"),
        Err(f) => web.failed(&user_path(&key), &f),
    }
}

/// One button that posts to an API route and comes back to the user's page.
async fn one_action(web: &Web, key: &str, api_path: &str, done: &str) -> Response {
    match web.api.post::<Value>(api_path, json!({})).await {
        Ok(_) => web.done(&user_path(key), done),
        Err(f) => web.failed(&user_path(key), &f),
    }
}

async fn disable(web: Web, Path(key): Path<String>, Form(_): Form<Empty>) -> Response {
    let path = format!("/api/admin/users/{}/disable", segment(&key));
    one_action(&web, &key, &path, "User disabled").await
}

async fn enable(web: Web, Path(key): Path<String>, Form(_): Form<Empty>) -> Response {
    let path = format!("/api/admin/users/{}/enable", segment(&key));
    one_action(&web, &key, &path, "User enabled").await
}

async fn delete(web: Web, Path(key): Path<String>, Form(_): Form<Empty>) -> Response {
    match web
        .api
        .delete::<Value>(&format!("/api/admin/users/{}", segment(&key)))
        .await
    {
        Ok(_) => web.done("/admin/users", "User deleted"),
        Err(f) => web.failed(&user_path(&key), &f),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RoleForm {
    role: String,
}

async fn change_role(
    web: Web,
    Path((key, org_id)): Path<(String, i64)>,
    Form(form): Form<RoleForm>,
) -> Response {
    let path = format!("/api/orgs/{org_id}/users/{}", segment(&key));
    match web
        .api
        .patch::<Value>(&path, json!({"role": form.role}))
        .await
    {
        Ok(_) => web.done(&user_path(&key), "Organization role changed"),
        Err(f) => web.failed(&user_path(&key), &f),
    }
}

async fn remove_from_org(
    web: Web,
    Path((key, org_id)): Path<(String, i64)>,
    Form(_): Form<Empty>,
) -> Response {
    let path = format!("/api/orgs/{org_id}/users/{}", segment(&key));
    match web.api.delete::<Value>(&path).await {
        Ok(_) => web.done(&user_path(&key), "Removed from the organization"),
        Err(f) => web.failed(&user_path(&key), &f),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AddOrgForm {
    org_id: String,
    role: String,
}

async fn add_to_org(web: Web, Path(key): Path<String>, Form(form): Form<AddOrgForm>) -> Response {
    let Ok(org_id) = form.org_id.trim().parse::<i64>() else {
        let errors = Errors::field("addorg", "org_id", "Choose an organization");
        return render_user(&web, &key, StatusCode::BAD_REQUEST, errors, Sent::default()).await;
    };
    // The org API adds by login or email: the user's login, as the API knows it.
    let user: Profile = match web.api.get(&format!("/api/users/{}", segment(&key))).await {
        Ok(u) => u,
        Err(f) => return web.failed(&user_path(&key), &f),
    };
    let body = json!({"loginOrEmail": user.login, "role": form.role});
    match web
        .api
        .post::<Value>(&format!("/api/orgs/{org_id}/users"), body)
        .await
    {
        Ok(_) => web.done(&user_path(&key), "Added to the organization"),
        Err(f) => {
            let errors = Errors::from_message(
                "addorg",
                &f.message,
                &[
                    ("role", "role"),
                    ("organization", "org_id"),
                    ("org", "org_id"),
                ],
            );
            render_user(&web, &key, f.status, errors, Sent::default()).await
        }
    }
}

async fn revoke_session(
    web: Web,
    Path((key, token_id)): Path<(String, i64)>,
    Form(_): Form<Empty>,
) -> Response {
    let path = format!("/api/admin/users/{}/revoke-auth-token", segment(&key));
    match web
        .api
        .post::<Value>(&path, json!({"authTokenId": token_id}))
        .await
    {
        Ok(_) => web.done(&user_path(&key), "Session revoked"),
        Err(f) => web.failed(&user_path(&key), &f),
    }
}

async fn logout_all(web: Web, Path(key): Path<String>, Form(_): Form<Empty>) -> Response {
    let path = format!("/api/admin/users/{}/logout", segment(&key));
    one_action(&web, &key, &path, "The user was signed out of all devices").await
}

async fn unlock(web: Web, Path(key): Path<String>, Form(_): Form<Empty>) -> Response {
    match web
        .api
        .delete::<Value>(&format!("/api/admin/users/{}/lockout", segment(&key)))
        .await
    {
        Ok(_) => web.done(
            &user_path(&key),
            "Failed logins cleared: the user may sign in again",
        ),
        Err(f) => web.failed(&user_path(&key), &f),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LimitForm {
    limit: String,
}

async fn set_quota(
    web: Web,
    Path((key, target)): Path<(String, String)>,
    Form(form): Form<LimitForm>,
) -> Response {
    let sent = || Sent {
        limit: Some((target.clone(), form.limit.clone())),
        ..Sent::default()
    };
    let Ok(limit) = form.limit.trim().parse::<i64>() else {
        let errors = Errors::field(
            "quota",
            &target,
            "The limit is a whole number (-1: no limit)",
        );
        return render_user(&web, &key, StatusCode::BAD_REQUEST, errors, sent()).await;
    };
    let path = format!(
        "/api/admin/users/{}/quotas/{}",
        segment(&key),
        segment(&target)
    );
    match web.api.put::<Value>(&path, json!({"limit": limit})).await {
        Ok(_) => web.done(&user_path(&key), "Quota saved"),
        Err(f) => {
            let errors = Errors::field("quota", &target, &f.message);
            render_user(&web, &key, f.status, errors, sent()).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::last_seen;

    #[test]
    fn never_seen_users_are_never_seen() {
        assert_eq!(last_seen("10 years"), "Never");
        assert_eq!(last_seen("11 years"), "Never");
        assert_eq!(last_seen("2 years"), "2 years");
        assert_eq!(last_seen("3 days"), "3 days");
        assert_eq!(last_seen("< 1 minute"), "< 1 minute");
    }
}
