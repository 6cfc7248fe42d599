//! `/profile`: the signed-in person's own page, as Grafana's profile — name, email and login;
//! password; preferences (the theme applies to these pages); orgs with a switch; teams; and the
//! sessions ("devices") with the current one marked, each revocable, and signing out everywhere
//! else. Every change goes through the User API (`PUT /api/user`, `PUT /api/user/password`,
//! `PUT /api/user/preferences`, `POST /api/user/using/:id`, `POST /api/user/revoke-auth-token`).

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use super::context::{Chrome, WebState};
use super::format::{age, Errors};
use super::forms::{Empty, Form};
use super::prefs::{self, zones, Dashboard, PreferencesForm, Prefs, FIELDS as PREFERENCE_FIELDS};
use super::Web;
use crate::api::UserToken;

pub(super) fn routes(r: Router<WebState>) -> Router<WebState> {
    r.route("/profile", get(page).post(save_profile))
        .route("/profile/password", get(page).post(change_password))
        .route("/profile/preferences", get(page).post(save_preferences))
        .route("/profile/orgs/{id}/switch", post(switch_org))
        .route("/profile/sessions/{id}/revoke", post(revoke))
        .route("/profile/sessions/revoke-others", post(revoke_others))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Me {
    pub id: i64,
    pub login: String,
    pub email: String,
    pub name: String,
    pub org_id: i64,
    pub is_grafana_admin: bool,
    pub is_external: bool,
    pub auth_labels: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MyOrg {
    pub org_id: i64,
    pub name: String,
    pub role: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[derive(Default)]
pub struct MyTeam {
    pub uid: String,
    pub name: String,
    pub email: String,
    pub member_count: i64,
}

/// A session as the table shows it.
pub struct DeviceRow {
    pub id: i64,
    pub current: bool,
    pub browser: String,
    pub os: String,
    pub device: String,
    pub ip: String,
    pub seen: String,
    pub created: String,
}

impl DeviceRow {
    pub fn of(d: UserToken, now: chrono::DateTime<chrono::Utc>) -> Self {
        let with_version = |name: &str, version: &str| {
            if version.is_empty() {
                name.to_string()
            } else {
                format!("{name} {version}")
            }
        };
        DeviceRow {
            id: d.id,
            current: d.is_active,
            browser: with_version(&d.browser, &d.browser_version),
            os: with_version(&d.os, &d.os_version),
            device: d.device,
            ip: d.client_ip,
            seen: age(&d.seen_at, now),
            created: d.created_at.get(..10).unwrap_or("").to_string(),
        }
    }
}

/// What the profile form shows: the stored values, or those just sent back with an error.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProfileForm {
    name: String,
    email: String,
    login: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    me: &'a Me,
    form: &'a ProfileForm,
    errors: &'a Errors,
    prefs: &'a Prefs,
    orgs: &'a [MyOrg],
    teams: &'a [MyTeam],
    devices: &'a [DeviceRow],
    dashboards: &'a [Dashboard],
    zones: &'a [&'static str],
    /// The prefix of the preference fields' ids (`preferences_fields.html`).
    pid: &'a str,
}

impl ProfilePage<'_> {
    fn others(&self) -> usize {
        self.devices.iter().filter(|d| !d.current).count()
    }
}

async fn render(
    web: &Web,
    status: StatusCode,
    errors: Errors,
    sent: Option<ProfileForm>,
) -> Response {
    let me: Me = match web.api.get("/api/user").await {
        Ok(me) => me,
        Err(f) => return web.refused(f),
    };
    let orgs: Vec<MyOrg> = web.api.get("/api/user/orgs").await.unwrap_or_default();
    let teams: Vec<MyTeam> = web.api.get("/api/user/teams").await.unwrap_or_default();
    let dashboards: Vec<Dashboard> = web
        .api
        .get("/api/search?type=dash-db&limit=500")
        .await
        .unwrap_or_default();
    let now = web.app().clock.now();
    let devices: Vec<DeviceRow> = web
        .api
        .get::<Vec<UserToken>>("/api/user/auth-tokens")
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|d| DeviceRow::of(d, now))
        .collect();
    let form = sent.unwrap_or_else(|| ProfileForm {
        name: me.name.clone(),
        email: me.email.clone(),
        login: me.login.clone(),
    });
    web.render_status(
        status,
        ProfilePage {
            chrome: &web.chrome,
            title: "Profile",
            me: &me,
            form: &form,
            errors: &errors,
            prefs: &web.prefs,
            orgs: &orgs,
            teams: &teams,
            devices: &devices,
            dashboards: &dashboards,
            zones: zones(),
            pid: "",
        },
    )
}

async fn page(web: Web) -> Response {
    render(&web, StatusCode::OK, Errors::none(), None).await
}

const PROFILE_FIELDS: &[(&str, &str)] = &[
    ("login", "login"),
    ("username", "login"),
    ("email", "email"),
    ("name", "name"),
];

async fn save_profile(web: Web, Form(form): Form<ProfileForm>) -> Response {
    let body = json!({"name": form.name, "email": form.email, "login": form.login});
    match web.api.put::<serde_json::Value>("/api/user", body).await {
        Ok(_) => web.done("/profile", "Profile saved"),
        Err(f) => {
            let errors = Errors::from_message("profile", &f.message, PROFILE_FIELDS);
            render(&web, f.status, errors, Some(form)).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    old_password: String,
    new_password: String,
    confirm_new: String,
}

async fn change_password(web: Web, Form(form): Form<PasswordForm>) -> Response {
    if form.new_password != form.confirm_new {
        let errors = Errors::field("password", "confirm_new", "The new passwords do not match");
        return render(&web, StatusCode::BAD_REQUEST, errors, None).await;
    }
    let body = json!({
        "oldPassword": form.old_password,
        "newPassword": form.new_password,
        "confirmNew": form.confirm_new,
    });
    match web
        .api
        .put::<serde_json::Value>("/api/user/password", body)
        .await
    {
        Ok(_) => web.done(
            "/profile",
            "Password changed. Your other sessions were signed out.",
        ),
        Err(f) => {
            let errors = Errors::from_message(
                "password",
                &f.message,
                &[
                    ("old password", "old_password"),
                    ("invalid old", "old_password"),
                    ("password", "new_password"),
                ],
            );
            render(&web, f.status, errors, None).await
        }
    }
}

async fn save_preferences(web: Web, Form(form): Form<PreferencesForm>) -> Response {
    match prefs::save(&web.api, "/api/user/preferences", &form).await {
        Ok(_) => web.done("/profile", "Preferences saved"),
        Err(f) => {
            let errors = Errors::from_message("preferences", &f.message, PREFERENCE_FIELDS);
            render(&web, f.status, errors, None).await
        }
    }
}

async fn switch_org(web: Web, Path(id): Path<i64>, Form(_): Form<Empty>) -> Response {
    match web
        .api
        .post::<serde_json::Value>(&format!("/api/user/using/{id}"), json!({}))
        .await
    {
        Ok(_) => web.done("/profile", "Switched organization"),
        Err(f) => web.failed("/profile", &f),
    }
}

async fn revoke(web: Web, Path(id): Path<i64>, Form(_): Form<Empty>) -> Response {
    match web
        .api
        .post::<serde_json::Value>("/api/user/revoke-auth-token", json!({"authTokenId": id}))
        .await
    {
        Ok(_) => web.done("/profile", "Session revoked"),
        Err(f) => web.failed("/profile", &f),
    }
}

async fn revoke_others(web: Web, Form(_): Form<Empty>) -> Response {
    let devices: Vec<UserToken> = match web.api.get("/api/user/auth-tokens").await {
        Ok(d) => d,
        Err(f) => return web.failed("/profile", &f),
    };
    let mut ended = 0;
    for d in devices.iter().filter(|d| !d.is_active) {
        match web
            .api
            .post::<serde_json::Value>("/api/user/revoke-auth-token", json!({"authTokenId": d.id}))
            .await
        {
            Ok(_) => ended += 1,
            // Ended meanwhile (by another tab, or expiry): nothing left to do.
            Err(f) if f.status == StatusCode::NOT_FOUND => {}
            Err(f) => return web.failed("/profile", &f),
        }
    }
    web.done(
        "/profile",
        format!("Signed out of {ended} other session(s)"),
    )
}
