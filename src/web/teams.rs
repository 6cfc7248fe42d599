//! `/org/teams`: the teams of the current organization, as Grafana's team pages — a search
//! (`GET /api/teams/search`), a form for a new team (`POST /api/teams`) and each team's page at
//! `/org/teams/edit/{uid}` (a numeric id works too, as in the API): its members
//! (`GET/POST /api/teams/{teamId}/members`, `PUT/DELETE …/members/{userId}` for Team Admin and
//! removal), settings (`PUT /api/teams/{teamId}`), preferences
//! (`GET/PUT /api/teams/{teamId}/preferences`) and deletion (`DELETE /api/teams/{teamId}`).
//! Each part shows only what the API would let the person do on that team: an org Viewer who is
//! a Team Admin manages their own team, and only it.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use super::client::Failure;
use super::context::{avatar_of, Chrome, WebState};
use super::format::Errors;
use super::forms::{Empty, Form};
use super::links::{page_number, query_string, segment, Pager, SearchParams};
use super::prefs::{self, zones, Dashboard, PreferencesForm, Prefs, FIELDS as PREFERENCE_FIELDS};
use super::Web;
use crate::auth::actions;

pub(super) fn routes(r: Router<WebState>) -> Router<WebState> {
    r.route("/org/teams", get(list))
        .route("/org/teams/new", get(new_page).post(create))
        .route("/org/teams/edit/{team}", get(page).post(save_settings))
        .route("/org/teams/edit/{team}/members", get(page).post(add_member))
        .route("/org/teams/edit/{team}/settings", get(page))
        .route(
            "/org/teams/edit/{team}/members/{user}/permission",
            post(set_permission),
        )
        .route(
            "/org/teams/edit/{team}/members/{user}/remove",
            post(remove_member),
        )
        .route("/org/teams/edit/{team}/preferences", post(save_preferences))
        .route("/org/teams/edit/{team}/delete", post(delete))
}

/// Teams per page of the search (Grafana's team list asks for 30).
const PER_PAGE: i64 = 30;

/// Grafana's value of the Team Admin permission (`dashboardaccess.PERMISSION_ADMIN`).
const TEAM_ADMIN: i64 = 4;

// ---- the API's answers ------------------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase", default)]
struct Team {
    id: i64,
    uid: String,
    name: String,
    email: String,
    avatar_url: String,
    member_count: i64,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct TeamSearch {
    total_count: i64,
    teams: Vec<Team>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Member {
    user_id: i64,
    login: String,
    email: String,
    name: String,
    avatar_url: String,
    permission: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lookup {
    user_id: i64,
    login: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct OrgUser {
    user_id: i64,
    login: String,
    email: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Created {
    uid: String,
}

// ---- the list ---------------------------------------------------------------------------

/// A team as a row of the list.
struct TeamRow {
    name: String,
    email: String,
    members: i64,
    href: String,
    avatar: String,
}

#[derive(Template)]
#[template(path = "teams.html")]
struct ListPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    query: &'a str,
    teams: &'a [TeamRow],
    pager: &'a Pager,
    can_create: bool,
}

fn team_avatar(base: &str, t: &Team) -> String {
    let url = if t.avatar_url.is_empty() {
        avatar_of(&t.email, &t.name)
    } else {
        t.avatar_url.clone()
    };
    format!("{base}{url}")
}

async fn list(web: Web, Query(q): Query<SearchParams>) -> Response {
    let page = page_number(&q.page);
    let (per, at) = (PER_PAGE.to_string(), page.to_string());
    let params = query_string(&[("query", &q.query), ("perpage", &per), ("page", &at)]);
    let found: TeamSearch = match web.api.get(&format!("/api/teams/search?{params}")).await {
        Ok(found) => found,
        Err(f) => return web.refused(f),
    };
    let base = &web.chrome.base;
    let teams: Vec<TeamRow> = found
        .teams
        .iter()
        .map(|t| TeamRow {
            name: t.name.clone(),
            email: t.email.clone(),
            members: t.member_count,
            href: format!("{base}/org/teams/edit/{}", segment(&t.uid)),
            avatar: team_avatar(base, t),
        })
        .collect();
    let pager = Pager::counting(
        "team(s)",
        &format!("{base}/org/teams"),
        &q.query,
        page,
        PER_PAGE,
        found.total_count,
    );
    let can_create = web.can(Method::POST, "/api/teams").await;
    web.render(ListPage {
        chrome: &web.chrome,
        title: "Teams",
        query: &q.query,
        teams: &teams,
        pager: &pager,
        can_create,
    })
}

// ---- a new team -------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
struct TeamForm {
    name: String,
    email: String,
}

#[derive(Template)]
#[template(path = "teams_new.html")]
struct NewPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    form: &'a TeamForm,
    errors: &'a Errors,
}

const TEAM_FIELDS: &[(&str, &str)] = &[("name", "name"), ("email", "email")];

async fn new_page(web: Web) -> Response {
    if !web.can(Method::POST, "/api/teams").await {
        return web.refused(Failure::denied(actions::TEAMS_CREATE));
    }
    web.render(NewPage {
        chrome: &web.chrome,
        title: "New team",
        form: &TeamForm::default(),
        errors: &Errors::none(),
    })
}

async fn create(web: Web, Form(form): Form<TeamForm>) -> Response {
    if form.name.trim().is_empty() {
        // The API's "bad request data" does not say which field; the form does.
        let errors = Errors::field("team", "name", "Name is required");
        return web.render_status(
            StatusCode::BAD_REQUEST,
            NewPage {
                chrome: &web.chrome,
                title: "New team",
                form: &form,
                errors: &errors,
            },
        );
    }
    let body = json!({"name": form.name, "email": form.email});
    match web.api.post::<Created>("/api/teams", body).await {
        Ok(created) => web.done(
            &format!("/org/teams/edit/{}", segment(&created.uid)),
            "Team created",
        ),
        Err(f) if f.status == StatusCode::FORBIDDEN => web.refused(f),
        Err(f) => {
            let errors = Errors::from_message("team", &f.message, TEAM_FIELDS);
            web.render_status(
                f.status,
                NewPage {
                    chrome: &web.chrome,
                    title: "New team",
                    form: &form,
                    errors: &errors,
                },
            )
        }
    }
}

// ---- a team's page ----------------------------------------------------------------------

struct MemberRow {
    user_id: i64,
    login: String,
    email: String,
    name: String,
    avatar: String,
    admin: bool,
}

/// What the person may do on this team, by the API's rules for it.
struct Abilities {
    write: bool,
    delete: bool,
    read_members: bool,
    write_members: bool,
    /// Looking users up by login or email, which adding one by name needs.
    lookup: bool,
    read_prefs: bool,
    write_prefs: bool,
}

impl Abilities {
    async fn of(web: &Web, id: &str) -> Abilities {
        let team = &[("teamId", id)];
        Abilities {
            write: web.can_with(Method::PUT, "/api/teams/{teamId}", team).await,
            delete: web
                .can_with(Method::DELETE, "/api/teams/{teamId}", team)
                .await,
            read_members: web
                .can_with(Method::GET, "/api/teams/{teamId}/members", team)
                .await,
            write_members: web
                .can_with(Method::POST, "/api/teams/{teamId}/members", team)
                .await,
            lookup: web.can(Method::GET, "/api/org/users/lookup").await,
            read_prefs: web
                .can_with(Method::GET, "/api/teams/{teamId}/preferences", team)
                .await,
            write_prefs: web
                .can_with(Method::PUT, "/api/teams/{teamId}/preferences", team)
                .await,
        }
    }
}

#[derive(Template)]
#[template(path = "teams_edit.html")]
struct TeamPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    team: &'a Team,
    /// `{base}/org/teams/edit/{uid}`: the forms post below it.
    href: &'a str,
    avatar: &'a str,
    members: &'a [MemberRow],
    can: &'a Abilities,
    settings: &'a TeamForm,
    add_login: &'a str,
    prefs: &'a Prefs,
    dashboards: &'a [Dashboard],
    zones: &'a [&'static str],
    /// The prefix of the preference fields' ids (`preferences_fields.html`).
    pid: &'a str,
    errors: &'a Errors,
}

/// What a re-rendered page keeps of the form that was sent back.
#[derive(Default)]
struct Sent {
    settings: Option<TeamForm>,
    add_login: String,
    prefs: Option<Prefs>,
}

/// The team a path names (uid or id), as the API answers it.
async fn load(web: &Web, raw: &str) -> Result<Team, Failure> {
    web.api
        .get::<Team>(&format!("/api/teams/{}", segment(raw)))
        .await
}

async fn render(web: &Web, raw: &str, status: StatusCode, errors: Errors, sent: Sent) -> Response {
    let team = match load(web, raw).await {
        Ok(t) => t,
        Err(f) => return web.refused(f),
    };
    let id = team.id.to_string();
    let can = Abilities::of(web, &id).await;
    let base = &web.chrome.base;
    let members: Vec<MemberRow> = if can.read_members {
        match web
            .api
            .get::<Vec<Member>>(&format!("/api/teams/{id}/members"))
            .await
        {
            Ok(list) => list
                .into_iter()
                .map(|m| MemberRow {
                    avatar: format!(
                        "{base}{}",
                        if m.avatar_url.is_empty() {
                            avatar_of(&m.email, &m.login)
                        } else {
                            m.avatar_url.clone()
                        }
                    ),
                    user_id: m.user_id,
                    login: m.login,
                    email: m.email,
                    name: m.name,
                    admin: m.permission == TEAM_ADMIN,
                })
                .collect(),
            Err(f) => return web.refused(f),
        }
    } else {
        Vec::new()
    };
    let prefs: Prefs = match sent.prefs {
        Some(p) => p,
        None if can.read_prefs => web
            .api
            .get(&format!("/api/teams/{id}/preferences"))
            .await
            .unwrap_or_default(),
        None => Prefs::default(),
    };
    let dashboards: Vec<Dashboard> = if can.write_prefs || can.read_prefs {
        web.api
            .get("/api/search?type=dash-db&limit=500")
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let settings = sent.settings.unwrap_or_else(|| TeamForm {
        name: team.name.clone(),
        email: team.email.clone(),
    });
    let zones: &[&str] = if can.write_prefs { zones() } else { &[] };
    let href = format!("{base}/org/teams/edit/{}", segment(&team.uid));
    let avatar = team_avatar(base, &team);
    let title = format!("Team {}", team.name);
    web.render_status(
        status,
        TeamPage {
            chrome: &web.chrome,
            title: &title,
            team: &team,
            href: &href,
            avatar: &avatar,
            members: &members,
            can: &can,
            settings: &settings,
            add_login: &sent.add_login,
            prefs: &prefs,
            dashboards: &dashboards,
            zones,
            pid: "team-",
            errors: &errors,
        },
    )
}

async fn page(web: Web, Path(team): Path<String>) -> Response {
    render(&web, &team, StatusCode::OK, Errors::none(), Sent::default()).await
}

/// The team's page path (below the sub path) by its uid, for redirects.
fn team_path(team: &Team) -> String {
    format!("/org/teams/edit/{}", segment(&team.uid))
}

async fn save_settings(web: Web, Path(raw): Path<String>, Form(form): Form<TeamForm>) -> Response {
    let team = match load(&web, &raw).await {
        Ok(t) => t,
        Err(f) => return web.refused(f),
    };
    let body = json!({"name": form.name, "email": form.email});
    match web
        .api
        .put::<Value>(&format!("/api/teams/{}", team.id), body)
        .await
    {
        Ok(_) => web.done(&team_path(&team), "Team updated"),
        Err(f) if f.status == StatusCode::FORBIDDEN => web.refused(f),
        Err(f) => {
            let errors = Errors::from_message("settings", &f.message, TEAM_FIELDS);
            let sent = Sent {
                settings: Some(form),
                ..Sent::default()
            };
            render(&web, &raw, f.status, errors, sent).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AddMemberForm {
    login: String,
}

/// The org member a login or email names: the one whose login or email is exactly it
/// (ignoring case), found with the org's user lookup.
pub(super) async fn find_user(web: &Web, wanted: &str) -> Result<Option<i64>, Failure> {
    let q = query_string(&[("query", wanted), ("limit", "50")]);
    // The lookup has no email; the search (same access) has. Ask the search when it is allowed.
    if web.can(Method::GET, "/api/org/users/search").await {
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "camelCase", default)]
        struct Found {
            org_users: Vec<OrgUser>,
        }
        let q = query_string(&[("query", wanted), ("perpage", "50"), ("page", "1")]);
        let found: Found = web.api.get(&format!("/api/org/users/search?{q}")).await?;
        return Ok(found
            .org_users
            .iter()
            .find(|u| u.login.eq_ignore_ascii_case(wanted) || u.email.eq_ignore_ascii_case(wanted))
            .map(|u| u.user_id));
    }
    let found: Vec<Lookup> = web.api.get(&format!("/api/org/users/lookup?{q}")).await?;
    Ok(found
        .iter()
        .find(|u| u.login.eq_ignore_ascii_case(wanted))
        .map(|u| u.user_id))
}

async fn add_member(
    web: Web,
    Path(raw): Path<String>,
    Form(form): Form<AddMemberForm>,
) -> Response {
    let team = match load(&web, &raw).await {
        Ok(t) => t,
        Err(f) => return web.refused(f),
    };
    let wanted = form.login.trim().to_string();
    let again = |message: &str, status: StatusCode| {
        let errors = Errors::field("add_member", "login", message);
        let sent = Sent {
            add_login: wanted.clone(),
            ..Sent::default()
        };
        (errors, sent, status)
    };
    let (errors, sent, status) = if wanted.is_empty() {
        again("Login or email is required", StatusCode::BAD_REQUEST)
    } else {
        match find_user(&web, &wanted).await {
            Err(f) if f.status == StatusCode::FORBIDDEN => return web.refused(f),
            Err(f) => again(&f.message, f.status),
            Ok(None) => again(
                "No member of this organization has that login or email",
                StatusCode::NOT_FOUND,
            ),
            Ok(Some(user_id)) => {
                match web
                    .api
                    .post::<Value>(
                        &format!("/api/teams/{}/members", team.id),
                        json!({"userId": user_id}),
                    )
                    .await
                {
                    Ok(_) => return web.done(&team_path(&team), "Member added to Team"),
                    Err(f) if f.status == StatusCode::FORBIDDEN => return web.refused(f),
                    Err(f) => again(&f.message, f.status),
                }
            }
        }
    };
    render(&web, &raw, status, errors, sent).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PermissionForm {
    permission: i64,
}

async fn set_permission(
    web: Web,
    Path((raw, user)): Path<(String, i64)>,
    Form(form): Form<PermissionForm>,
) -> Response {
    let team = match load(&web, &raw).await {
        Ok(t) => t,
        Err(f) => return web.refused(f),
    };
    let permission = if form.permission == TEAM_ADMIN {
        TEAM_ADMIN
    } else {
        0
    };
    let path = team_path(&team);
    match web
        .api
        .put::<Value>(
            &format!("/api/teams/{}/members/{user}", team.id),
            json!({"permission": permission}),
        )
        .await
    {
        Ok(_) if permission == TEAM_ADMIN => web.done(&path, "Member is now a Team Admin"),
        Ok(_) => web.done(&path, "Member is no longer a Team Admin"),
        Err(f) => web.action_failed(&path, f),
    }
}

async fn remove_member(
    web: Web,
    Path((raw, user)): Path<(String, i64)>,
    Form(_): Form<Empty>,
) -> Response {
    let team = match load(&web, &raw).await {
        Ok(t) => t,
        Err(f) => return web.refused(f),
    };
    let path = team_path(&team);
    match web
        .api
        .delete::<Value>(&format!("/api/teams/{}/members/{user}", team.id))
        .await
    {
        Ok(_) => {
            // Removing oneself may end the access to the team's page: back to the list then.
            if user == web.caller.id() {
                web.done("/org/teams", "Team Member removed")
            } else {
                web.done(&path, "Team Member removed")
            }
        }
        Err(f) => web.action_failed(&path, f),
    }
}

async fn save_preferences(
    web: Web,
    Path(raw): Path<String>,
    Form(form): Form<PreferencesForm>,
) -> Response {
    let team = match load(&web, &raw).await {
        Ok(t) => t,
        Err(f) => return web.refused(f),
    };
    let path = format!("/api/teams/{}/preferences", team.id);
    match prefs::save(&web.api, &path, &form).await {
        Ok(_) => web.done(&team_path(&team), "Preferences saved"),
        Err(f) if f.status == StatusCode::FORBIDDEN => web.refused(f),
        Err(f) => {
            let errors = Errors::from_message("preferences", &f.message, PREFERENCE_FIELDS);
            let sent = Sent {
                prefs: Some(form.sent()),
                ..Sent::default()
            };
            render(&web, &raw, f.status, errors, sent).await
        }
    }
}

async fn delete(web: Web, Path(raw): Path<String>, Form(_): Form<Empty>) -> Response {
    let team = match load(&web, &raw).await {
        Ok(t) => t,
        Err(f) => return web.refused(f),
    };
    match web
        .api
        .delete::<Value>(&format!("/api/teams/{}", team.id))
        .await
    {
        Ok(_) => web.done("/org/teams", format!("Team {} deleted", team.name)),
        Err(f) => web.action_failed(&team_path(&team), f),
    }
}
