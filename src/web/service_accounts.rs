//! `/org/serviceaccounts`: the service accounts of the current organization, as Grafana's pages
//! — a search (`GET /api/serviceaccounts/search`), a form for a new one
//! (`POST /api/serviceaccounts`, at Grafana's `/org/serviceaccounts/create`) and each account's
//! page (`GET/PATCH/DELETE /api/serviceaccounts/{id}`): name and role, disable/enable, deletion,
//! and its tokens (`GET/POST /api/serviceaccounts/{id}/tokens`, `DELETE …/tokens/{tokenId}`).
//! A new token's secret is shown once, in the page that answers the form that created it (never
//! through a redirect, the flash cookie or a URL); the API keeps only its hash.

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
use super::format::{age, Errors};
use super::forms::{Empty, Form};
use super::links::{page_number, query_string, segment, Pager, SearchParams};
use super::Web;
use crate::auth::{actions, OrgRole};

pub(super) fn routes(r: Router<WebState>) -> Router<WebState> {
    r.route("/org/serviceaccounts", get(list))
        .route("/org/serviceaccounts/create", get(new_page).post(create))
        .route("/org/serviceaccounts/{id}", get(page).post(save))
        .route("/org/serviceaccounts/{id}/disable", post(disable))
        .route("/org/serviceaccounts/{id}/enable", post(enable))
        .route("/org/serviceaccounts/{id}/delete", post(delete))
        .route("/org/serviceaccounts/{id}/tokens", post(add_token))
        .route(
            "/org/serviceaccounts/{id}/tokens/{token}/delete",
            post(revoke_token),
        )
}

/// Accounts per page of the search (Grafana's list asks for 30).
const PER_PAGE: i64 = 30;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Account {
    id: i64,
    name: String,
    login: String,
    role: String,
    is_disabled: bool,
    avatar_url: String,
    tokens: i64,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SearchResult {
    total_count: i64,
    service_accounts: Vec<Account>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Token {
    id: i64,
    name: String,
    created: String,
    last_used_at: Option<String>,
    expiration: Option<String>,
    has_expired: bool,
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
    key: String,
}

/// The avatar path of an account, under the sub path.
fn avatar(base: &str, a: &Account) -> String {
    let url = if a.avatar_url.is_empty() {
        avatar_of("", &a.login)
    } else {
        a.avatar_url.clone()
    };
    format!("{base}{url}")
}

/// Grafana's label of a basic role in the service account pages.
fn role_label(role: &str) -> &str {
    match role {
        "None" => "No basic role",
        other => other,
    }
}

/// The basic roles this person may give (the API refuses one above their own).
fn grantable(web: &Web) -> Vec<&'static str> {
    OrgRole::ALL
        .iter()
        .filter(|r| web.caller.may_grant(**r))
        .map(|r| r.as_str())
        .collect()
}

// ---- the list ---------------------------------------------------------------------------

struct Row {
    name: String,
    login: String,
    role: String,
    disabled: bool,
    tokens: i64,
    href: String,
    avatar: String,
}

#[derive(Template)]
#[template(path = "service_accounts.html")]
struct ListPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    query: &'a str,
    accounts: &'a [Row],
    pager: &'a Pager,
    can_create: bool,
}

async fn list(web: Web, Query(q): Query<SearchParams>) -> Response {
    let page = page_number(&q.page);
    let (per, at) = (PER_PAGE.to_string(), page.to_string());
    let params = query_string(&[("query", &q.query), ("perpage", &per), ("page", &at)]);
    let found: SearchResult = match web
        .api
        .get(&format!("/api/serviceaccounts/search?{params}"))
        .await
    {
        Ok(found) => found,
        Err(f) => return web.refused(f),
    };
    let base = &web.chrome.base;
    let accounts: Vec<Row> = found
        .service_accounts
        .iter()
        .map(|a| Row {
            name: a.name.clone(),
            login: a.login.clone(),
            role: role_label(&a.role).to_string(),
            disabled: a.is_disabled,
            tokens: a.tokens,
            href: format!("{base}/org/serviceaccounts/{}", a.id),
            avatar: avatar(base, a),
        })
        .collect();
    let pager = Pager::counting(
        "service account(s)",
        &format!("{base}/org/serviceaccounts"),
        &q.query,
        page,
        PER_PAGE,
        found.total_count,
    );
    let can_create = web.can(Method::POST, "/api/serviceaccounts").await;
    web.render(ListPage {
        chrome: &web.chrome,
        title: "Service accounts",
        query: &q.query,
        accounts: &accounts,
        pager: &pager,
        can_create,
    })
}

// ---- a new service account --------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
struct CreateForm {
    name: String,
    role: String,
    disabled: Option<String>,
}

#[derive(Template)]
#[template(path = "service_accounts_new.html")]
struct NewPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    form: &'a CreateForm,
    roles: &'a [&'static str],
    errors: &'a Errors,
}

impl NewPage<'_> {
    fn role_is(&self, role: &str) -> bool {
        let chosen = if self.form.role.is_empty() {
            "Viewer"
        } else {
            &self.form.role
        };
        chosen == role
    }
    fn label(&self, role: &'static str) -> &'static str {
        if role == "None" {
            "No basic role"
        } else {
            role
        }
    }
}

const ACCOUNT_FIELDS: &[(&str, &str)] = &[
    ("role", "role"),
    ("already exists", "name"),
    ("name", "name"),
];

fn render_new(web: &Web, status: StatusCode, form: &CreateForm, errors: &Errors) -> Response {
    let roles = grantable(web);
    web.render_status(
        status,
        NewPage {
            chrome: &web.chrome,
            title: "Add service account",
            form,
            roles: &roles,
            errors,
        },
    )
}

async fn new_page(web: Web) -> Response {
    if !web.can(Method::POST, "/api/serviceaccounts").await {
        return web.refused(Failure::denied(actions::SERVICEACCOUNTS_CREATE));
    }
    render_new(
        &web,
        StatusCode::OK,
        &CreateForm::default(),
        &Errors::none(),
    )
}

async fn create(web: Web, Form(form): Form<CreateForm>) -> Response {
    if form.name.trim().is_empty() {
        let errors = Errors::field("account", "name", "Display name is required");
        return render_new(&web, StatusCode::BAD_REQUEST, &form, &errors);
    }
    let body = json!({
        "name": form.name.trim(),
        "role": form.role,
        "isDisabled": form.disabled.is_some(),
    });
    match web.api.post::<Account>("/api/serviceaccounts", body).await {
        Ok(a) => web.done(
            &format!("/org/serviceaccounts/{}", a.id),
            "Service account created",
        ),
        Err(f) if f.status == StatusCode::FORBIDDEN && !f.message.contains("role") => {
            web.refused(f)
        }
        Err(f) => {
            let errors = Errors::from_message("account", &f.message, ACCOUNT_FIELDS);
            render_new(&web, f.status, &form, &errors)
        }
    }
}

// ---- an account's page ------------------------------------------------------------------

struct TokenRow {
    id: i64,
    name: String,
    created: String,
    expires: String,
    last_used: String,
    expired: bool,
}

struct Abilities {
    write: bool,
    delete: bool,
    read_tokens: bool,
    write_tokens: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsForm {
    name: String,
    role: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenForm {
    name: String,
    /// `never` or `days`.
    expiry: String,
    days: String,
}

#[derive(Template)]
#[template(path = "service_accounts_edit.html")]
struct AccountPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    account: &'a Account,
    role: &'a str,
    href: &'a str,
    avatar: &'a str,
    created: &'a str,
    tokens: &'a [TokenRow],
    can: &'a Abilities,
    settings: &'a SettingsForm,
    roles: &'a [&'static str],
    token_form: &'a TokenForm,
    /// The token just created: its secret, shown this once.
    secret: Option<&'a NewToken>,
    errors: &'a Errors,
}

impl AccountPage<'_> {
    fn role_is(&self, role: &str) -> bool {
        self.settings.role == role
    }
    fn label(&self, role: &'static str) -> &'static str {
        if role == "None" {
            "No basic role"
        } else {
            role
        }
    }
    fn expires_in_days(&self) -> bool {
        self.token_form.expiry == "days"
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Profile {
    #[serde(flatten)]
    account: Account,
    created_at: String,
}

async fn load(web: &Web, raw: &str) -> Result<Profile, Failure> {
    web.api
        .get::<Profile>(&format!("/api/serviceaccounts/{}", segment(raw)))
        .await
}

#[derive(Default)]
struct Sent {
    settings: Option<SettingsForm>,
    token: Option<TokenForm>,
    secret: Option<NewToken>,
}

async fn render(web: &Web, raw: &str, status: StatusCode, errors: Errors, sent: Sent) -> Response {
    let profile = match load(web, raw).await {
        Ok(p) => p,
        Err(f) => return web.refused(f),
    };
    let account = profile.account;
    let id = account.id.to_string();
    let param = &[("serviceAccountId", id.as_str())];
    let can = Abilities {
        write: web
            .can_with(
                Method::PATCH,
                "/api/serviceaccounts/{serviceAccountId}",
                param,
            )
            .await,
        delete: web
            .can_with(
                Method::DELETE,
                "/api/serviceaccounts/{serviceAccountId}",
                param,
            )
            .await,
        read_tokens: web
            .can_with(
                Method::GET,
                "/api/serviceaccounts/{serviceAccountId}/tokens",
                param,
            )
            .await,
        write_tokens: web
            .can_with(
                Method::POST,
                "/api/serviceaccounts/{serviceAccountId}/tokens",
                param,
            )
            .await,
    };
    let now = web.app().clock.now();
    let tokens: Vec<TokenRow> = if can.read_tokens {
        match web
            .api
            .get::<Vec<Token>>(&format!("/api/serviceaccounts/{id}/tokens"))
            .await
        {
            Ok(list) => list
                .into_iter()
                .map(|t| TokenRow {
                    id: t.id,
                    name: t.name,
                    created: t.created.get(..10).unwrap_or("").to_string(),
                    expires: t
                        .expiration
                        .as_deref()
                        .and_then(|e| e.get(..10))
                        .unwrap_or("Never")
                        .to_string(),
                    last_used: match t.last_used_at.as_deref().map(|at| age(at, now)) {
                        Some(a) if !a.is_empty() => format!("{a} ago"),
                        _ => "Never".to_string(),
                    },
                    expired: t.has_expired,
                })
                .collect(),
            Err(f) => return web.refused(f),
        }
    } else {
        Vec::new()
    };
    let settings = sent.settings.unwrap_or_else(|| SettingsForm {
        name: account.name.clone(),
        role: account.role.clone(),
    });
    let token_form = sent.token.unwrap_or_else(|| TokenForm {
        expiry: "never".into(),
        ..TokenForm::default()
    });
    let mut roles = grantable(web);
    // The current role stays choosable (to keep it while renaming), even above one's own.
    if !roles.contains(&account.role.as_str()) {
        if let Some(r) = OrgRole::parse(&account.role) {
            roles.push(r.as_str());
        }
    }
    let base = &web.chrome.base;
    let href = format!("{base}/org/serviceaccounts/{id}");
    let avatar = avatar(base, &account);
    let created = profile.created_at.get(..10).unwrap_or("").to_string();
    let title = format!("Service account {}", account.name);
    web.render_status(
        status,
        AccountPage {
            chrome: &web.chrome,
            title: &title,
            role: role_label(&account.role),
            account: &account,
            href: &href,
            avatar: &avatar,
            created: &created,
            tokens: &tokens,
            can: &can,
            settings: &settings,
            roles: &roles,
            token_form: &token_form,
            secret: sent.secret.as_ref(),
            errors: &errors,
        },
    )
}

async fn page(web: Web, Path(id): Path<String>) -> Response {
    render(&web, &id, StatusCode::OK, Errors::none(), Sent::default()).await
}

async fn save(web: Web, Path(raw): Path<String>, Form(form): Form<SettingsForm>) -> Response {
    let account = match load(&web, &raw).await {
        Ok(p) => p.account,
        Err(f) => return web.refused(f),
    };
    let mut body = json!({ "name": form.name.trim() });
    // Only a change of role is sent: the API checks a role against one's own even when it is
    // the one the account has.
    if form.role != account.role {
        body["role"] = Value::String(form.role.clone());
    }
    let path = format!("/org/serviceaccounts/{}", account.id);
    if form.name.trim().is_empty() {
        let errors = Errors::field("settings", "name", "Display name is required");
        let sent = Sent {
            settings: Some(form),
            ..Sent::default()
        };
        return render(&web, &raw, StatusCode::BAD_REQUEST, errors, sent).await;
    }
    match web
        .api
        .patch::<Value>(&format!("/api/serviceaccounts/{}", account.id), body)
        .await
    {
        Ok(_) => web.done(&path, "Service account updated"),
        Err(f) if f.status == StatusCode::FORBIDDEN && !f.message.contains("role") => {
            web.refused(f)
        }
        Err(f) => {
            let errors = Errors::from_message("settings", &f.message, ACCOUNT_FIELDS);
            let sent = Sent {
                settings: Some(form),
                ..Sent::default()
            };
            render(&web, &raw, f.status, errors, sent).await
        }
    }
}

async fn set_disabled(web: &Web, raw: &str, disabled: bool) -> Response {
    let account = match load(web, raw).await {
        Ok(p) => p.account,
        Err(f) => return web.refused(f),
    };
    let path = format!("/org/serviceaccounts/{}", account.id);
    match web
        .api
        .patch::<Value>(
            &format!("/api/serviceaccounts/{}", account.id),
            json!({ "isDisabled": disabled }),
        )
        .await
    {
        Ok(_) if disabled => web.done(&path, "Service account disabled"),
        Ok(_) => web.done(&path, "Service account enabled"),
        Err(f) => web.action_failed(&path, f),
    }
}

async fn disable(web: Web, Path(raw): Path<String>, Form(_): Form<Empty>) -> Response {
    set_disabled(&web, &raw, true).await
}

async fn enable(web: Web, Path(raw): Path<String>, Form(_): Form<Empty>) -> Response {
    set_disabled(&web, &raw, false).await
}

async fn delete(web: Web, Path(raw): Path<String>, Form(_): Form<Empty>) -> Response {
    let account = match load(&web, &raw).await {
        Ok(p) => p.account,
        Err(f) => return web.refused(f),
    };
    match web
        .api
        .delete::<Value>(&format!("/api/serviceaccounts/{}", account.id))
        .await
    {
        Ok(_) => web.done(
            "/org/serviceaccounts",
            format!("Service account {} deleted", account.name),
        ),
        Err(f) => web.action_failed(&format!("/org/serviceaccounts/{}", account.id), f),
    }
}

const TOKEN_FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("expiration", "days"),
    ("secondstolive", "days"),
];

async fn add_token(web: Web, Path(raw): Path<String>, Form(form): Form<TokenForm>) -> Response {
    let account = match load(&web, &raw).await {
        Ok(p) => p.account,
        Err(f) => return web.refused(f),
    };
    let again = |errors: Errors, status: StatusCode, form: TokenForm| {
        let (web, raw) = (&web, &raw);
        async move {
            let sent = Sent {
                token: Some(form),
                ..Sent::default()
            };
            render(web, raw, status, errors, sent).await
        }
    };
    if form.name.trim().is_empty() {
        let errors = Errors::field("token", "name", "Display name is required");
        return again(errors, StatusCode::BAD_REQUEST, form).await;
    }
    let seconds = if form.expiry == "days" {
        match form.days.trim().parse::<i64>() {
            Ok(d) if d > 0 && d <= 36_500 => d * 86_400,
            _ => {
                let errors = Errors::field("token", "days", "Enter a number of days from 1");
                return again(errors, StatusCode::BAD_REQUEST, form).await;
            }
        }
    } else {
        0
    };
    let body = json!({ "name": form.name.trim(), "secondsToLive": seconds });
    match web
        .api
        .post::<NewToken>(&format!("/api/serviceaccounts/{}/tokens", account.id), body)
        .await
    {
        // The secret is in this page only: not a redirect, nothing in a cookie or a URL.
        Ok(token) => {
            let sent = Sent {
                secret: Some(token),
                ..Sent::default()
            };
            render(&web, &raw, StatusCode::OK, Errors::none(), sent).await
        }
        Err(f) if f.status == StatusCode::FORBIDDEN => web.refused(f),
        Err(f) => {
            let errors = Errors::from_message("token", &f.message, TOKEN_FIELDS);
            again(errors, f.status, form).await
        }
    }
}

async fn revoke_token(
    web: Web,
    Path((raw, token)): Path<(String, i64)>,
    Form(_): Form<Empty>,
) -> Response {
    let account = match load(&web, &raw).await {
        Ok(p) => p.account,
        Err(f) => return web.refused(f),
    };
    let path = format!("/org/serviceaccounts/{}", account.id);
    match web
        .api
        .delete::<Value>(&format!(
            "/api/serviceaccounts/{}/tokens/{token}",
            account.id
        ))
        .await
    {
        Ok(_) => web.done(&path, "Token revoked"),
        Err(f) => web.action_failed(&path, f),
    }
}
