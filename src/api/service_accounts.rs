//! The Service Accounts API (Grafana's `pkg/services/serviceaccounts/api/api.go` and
//! `token.go`): machine identities of the request's org, each with a basic role, and their
//! tokens. Secrets are shown once, in the response that creates them; the database keeps only
//! their hashes. Paths take a service account's id or its uid.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::dto::{message, Message};
use super::query::{go_bool, page_schema, page_size_schema, GrafanaQuery};
use super::{Op, Routes};
use crate::audit::{Event, Target};
use crate::auth::tokens::ServiceAccountToken;
use crate::auth::{actions, Access, Caller, OrgRole, Permissions};
use crate::domain::{avatar_url, rfc3339, text, Paging};
use crate::error::{ApiError, ApiResult, GrafanaJson};
use crate::state::AppState;
use crate::store::service_accounts::{
    service_account_login, ApiKeyRow, NewApiKey, ServiceAccountRow, ServiceAccountSearch,
    ServiceAccountUpdate,
};
use crate::store::{NewUser, StoreError};

const ID: &str = "serviceaccounts:id:{serviceAccountId}";

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/serviceaccounts/search",
            "serviceaccounts",
            "Search the service accounts of the current organization",
            Access::action(actions::SERVICEACCOUNTS_READ),
        )
        .query::<SearchQuery>()
        .returns::<SearchResult>(),
        search,
    );
    // grafana-client posts to `/api/serviceaccounts/`: the router trims the slash (api/mod.rs).
    r.add(
        Op::post(
            "/api/serviceaccounts",
            "serviceaccounts",
            "Create a service account (201)",
            Access::action(actions::SERVICEACCOUNTS_CREATE),
        )
        .body::<CreateBody>()
        .returns::<ServiceAccountDto>()
        .success(201),
        create,
    );
    r.add(
        Op::get(
            "/api/serviceaccounts/{serviceAccountId}",
            "serviceaccounts",
            "Get a service account by id or uid",
            Access::perm(actions::SERVICEACCOUNTS_READ, ID),
        )
        .query::<AccessControlQuery>()
        .returns::<Profile>(),
        get,
    )
    .add(
        Op::patch(
            "/api/serviceaccounts/{serviceAccountId}",
            "serviceaccounts",
            "Change a service account's name, role or disabled flag",
            Access::perm(actions::SERVICEACCOUNTS_WRITE, ID),
        )
        .body::<UpdateBody>()
        .returns::<Updated>(),
        update,
    )
    .add(
        Op::delete(
            "/api/serviceaccounts/{serviceAccountId}",
            "serviceaccounts",
            "Delete a service account and its tokens",
            Access::perm(actions::SERVICEACCOUNTS_DELETE, ID),
        )
        .returns::<Message>(),
        delete,
    )
    .add(
        Op::get(
            "/api/serviceaccounts/{serviceAccountId}/tokens",
            "serviceaccounts",
            "Tokens of a service account (never their secrets)",
            Access::perm(actions::SERVICEACCOUNTS_READ, ID),
        )
        .returns::<Vec<TokenDto>>(),
        tokens,
    )
    .add(
        Op::post(
            "/api/serviceaccounts/{serviceAccountId}/tokens",
            "serviceaccounts",
            "Create a token; its secret is in this response only",
            Access::perm(actions::SERVICEACCOUNTS_WRITE, ID),
        )
        .body::<AddTokenBody>()
        .returns::<NewToken>(),
        add_token,
    )
    .add(
        Op::delete(
            "/api/serviceaccounts/{serviceAccountId}/tokens/{tokenId}",
            "serviceaccounts",
            "Delete (revoke) a token",
            Access::perm(actions::SERVICEACCOUNTS_WRITE, ID),
        )
        .returns::<Message>(),
        delete_token,
    );
}

fn not_found() -> ApiError {
    ApiError::coded(
        StatusCode::NOT_FOUND,
        "service account not found",
        "serviceaccounts.ErrNotFound",
    )
}

/// What every view of a service account shows.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: i64,
    pub uid: String,
    pub name: String,
    pub login: String,
    pub org_id: i64,
    pub is_disabled: bool,
    pub role: String,
    pub avatar_url: String,
}

/// Grafana's `ServiceAccountDTO` (create and search results).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountDto {
    #[serde(flatten)]
    pub account: Account,
    pub tokens: i64,
    /// With `?accesscontrol=true`: what the caller may do with this account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_control: Option<BTreeMap<&'static str, bool>>,
}

/// Grafana's `ServiceAccountProfileDTO` (get and update).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    #[serde(flatten)]
    pub account: Account,
    pub created_at: String,
    pub updated_at: String,
    /// Always `null`: Grafana never fills it.
    pub teams: Option<Vec<String>>,
    /// Left out when 0, as Grafana's `omitempty`.
    // Omitted when zero, so not required in the OpenAPI document.
    #[serde(skip_serializing_if = "is_zero")]
    #[schemars(default)]
    pub tokens: i64,
    /// With `?accesscontrol=true`: what the caller may do with this account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_control: Option<BTreeMap<&'static str, bool>>,
}

/// The actions Grafana's `accesscontrol=true` metadata reports on a service account.
const ACTIONS: &[&str] = &[
    actions::SERVICEACCOUNTS_READ,
    actions::SERVICEACCOUNTS_WRITE,
    actions::SERVICEACCOUNTS_DELETE,
    actions::SERVICEACCOUNTS_PERMISSIONS_READ,
    actions::SERVICEACCOUNTS_PERMISSIONS_WRITE,
];

/// Grafana's access-control metadata: `{action: true}` for each action the caller holds on
/// the account, when the query asks for it (`accesscontrol=true`).
fn metadata(
    held: &Permissions,
    id: i64,
    accesscontrol: Option<&str>,
) -> Option<BTreeMap<&'static str, bool>> {
    if accesscontrol != Some("true") {
        return None;
    }
    let scope = format!("serviceaccounts:id:{id}");
    Some(
        ACTIONS
            .iter()
            .filter(|a| held.allows(a, Some(&scope)))
            .map(|a| (*a, true))
            .collect(),
    )
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Grafana's service-account avatar: the gravatar of `<name without punctuation>@localhost`
/// (`GetGravatarUrlWithDefault` in `pkg/api/dtos/models.go`).
fn avatar(name: &str) -> String {
    let plain: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
    avatar_url(&format!("{plain}@localhost"))
}

impl Account {
    fn new(row: &ServiceAccountRow) -> Self {
        let name = row.name.clone().unwrap_or_default();
        Account {
            id: row.id,
            uid: row.uid.clone().unwrap_or_default(),
            avatar_url: avatar(&name),
            name,
            login: row.login.clone(),
            org_id: row.org_id,
            is_disabled: row.is_disabled,
            role: row.role.clone(),
        }
    }
}

impl ServiceAccountDto {
    fn new(row: &ServiceAccountRow) -> Self {
        ServiceAccountDto {
            account: Account::new(row),
            tokens: row.tokens,
            access_control: None,
        }
    }
}

impl Profile {
    fn new(row: &ServiceAccountRow) -> Self {
        Profile {
            account: Account::new(row),
            created_at: rfc3339(row.created),
            updated_at: rfc3339(row.updated),
            teams: None,
            tokens: row.tokens,
            access_control: None,
        }
    }
}

/// Grafana's `RoleType` decoding: the first letter upper-cased (`strings.Title`), `""` is
/// Viewer; anything else that is not a basic role is a binding error, 400 "bad request data"
/// (`pkg/apimachinery/identity/role.go`).
fn parse_role(raw: Option<&str>) -> ApiResult<Option<OrgRole>> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.is_empty() {
        return Ok(Some(OrgRole::Viewer));
    }
    let mut chars = raw.chars();
    let titled: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    OrgRole::parse(&titled)
        .map(Some)
        .ok_or_else(|| ApiError::bad_request("bad request data"))
}

/// A caller may hand out no more than their own role (Grafana's `validateRole`).
fn check_role(caller: &Caller, role: OrgRole) -> ApiResult<()> {
    if caller.may_grant(role) {
        Ok(())
    } else {
        Err(ApiError::coded(
            StatusCode::FORBIDDEN,
            "can not assign a role higher than user's role",
            "serviceaccounts.ErrRoleForbidden",
        ))
    }
}

/// The service account a path names, by id or uid, in the caller's org. An unknown uid is
/// Grafana's resolver's plain 404; an unknown id its coded one.
async fn path_account(app: &AppState, caller: &Caller, raw: &str) -> ApiResult<ServiceAccountRow> {
    let id = match raw.parse::<i64>() {
        Ok(id) => id,
        Err(_) => app
            .store
            .service_account_id_by_uid(caller.org_id, raw)
            .await?
            .ok_or_else(|| ApiError::not_found("Not found"))?,
    };
    app.store
        .service_account(caller.org_id, id)
        .await?
        .ok_or_else(not_found)
}

/// `{totalCount, serviceAccounts, page, perPage}`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    pub total_count: i64,
    pub service_accounts: Vec<ServiceAccountDto>,
    pub page: i64,
    pub per_page: i64,
}

/// Go's `strconv.ParseBool`, anything else being false (Grafana ignores the error).
/// `?query=&perpage=&page=&expiredTokens=&disabled=&accesscontrol=`: a service account search.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SearchQuery {
    /// Text to search for.
    pub query: Option<String>,
    /// Accounts per page (0 or absent: 1000).
    #[schemars(schema_with = "page_size_schema")]
    pub perpage: Option<String>,
    /// The page, from 1 (0 or absent: 1).
    #[schemars(schema_with = "page_schema")]
    pub page: Option<String>,
    /// Only accounts with an expired token (a Go boolean: `true`, `1`, `t`…; anything else is
    /// false).
    #[serde(rename = "expiredTokens")]
    pub expired_tokens: Option<String>,
    /// Only disabled accounts (a Go boolean).
    pub disabled: Option<String>,
    /// `true`: each account with the caller's actions on it (`accessControl`).
    pub accesscontrol: Option<String>,
}

/// `?accesscontrol=`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AccessControlQuery {
    /// `true`: the account with the caller's actions on it (`accessControl`).
    pub accesscontrol: Option<String>,
}

async fn search(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaQuery(q): GrafanaQuery<SearchQuery>,
) -> ApiResult<Json<SearchResult>> {
    // Grafana's default page size here is 1000.
    let paging = Paging::parse(q.page.as_deref(), q.perpage.as_deref(), 1000)?;
    let held = caller.permissions(&app).await?;
    let search = ServiceAccountSearch {
        org_id: caller.org_id,
        query: q.query.clone().unwrap_or_default(),
        expired_tokens: go_bool(q.expired_tokens.as_deref()),
        disabled: go_bool(q.disabled.as_deref()),
        only: held.granted_ids(actions::SERVICEACCOUNTS_READ, "serviceaccounts"),
        page: paging.page,
        per_page: paging.per_page,
        now: app.clock.now().timestamp(),
    };
    let (total, rows) = app.store.search_service_accounts(&search).await?;
    Ok(Json(SearchResult {
        total_count: total,
        service_accounts: rows
            .iter()
            .map(|row| ServiceAccountDto {
                access_control: metadata(held, row.id, q.accesscontrol.as_deref()),
                ..ServiceAccountDto::new(row)
            })
            .collect(),
        page: paging.page,
        per_page: paging.per_page,
    }))
}

/// Grafana's `CreateServiceAccountForm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    #[schemars(length(min = 1))]
    pub name: String,
    // `""` is Viewer; the first letter may be lower-case (`parse_role`).
    #[serde(default)]
    #[schemars(schema_with = "service_account_role_schema")]
    pub role: Option<String>,
    #[serde(default)]
    pub is_disabled: Option<bool>,
}

fn service_account_role_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    serde_json::from_value(serde_json::json!({
        "type": "string",
        "nullable": true,
        "enum": ["", "Viewer", "Editor", "Admin", "None", null],
    }))
    .expect("a valid schema")
}

async fn create(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaJson(body): GrafanaJson<CreateBody>,
) -> ApiResult<Response> {
    // `binding:"Required"` on name.
    if body.name.is_empty() {
        return Err(ApiError::bad_request("bad request data"));
    }
    // The login `sa-<org id>-<name>` must fit its 190 characters.
    let max = text::VARCHAR_190 - format!("sa-{}-", caller.org_id).chars().count();
    text::line("name", &body.name, max)?;
    let role = parse_role(body.role.as_deref())?.unwrap_or(OrgRole::Viewer);
    check_role(&caller, role)?;
    let login = service_account_login("sa", caller.org_id, &body.name);
    if login.chars().count() > text::VARCHAR_190 {
        // Lower-casing made it longer (`İ` is two characters in lower case).
        return Err(ApiError::bad_request(format!(
            "name is too long: the login {login:?} would exceed 190 characters"
        )));
    }
    let new = NewUser::new(login.clone(), login, body.name.clone(), caller.org_id, role)
        .disabled(body.is_disabled.unwrap_or(false))
        .service_account();
    let id = match crate::service::in_tx(&app, async |tx| {
        crate::service::users::create(&app, tx, &new).await
    })
    .await
    {
        Ok(id) => id,
        Err(crate::service::ServiceError::Store(StoreError::Conflict(_))) => {
            return Err(ApiError::coded(
                StatusCode::BAD_REQUEST,
                "service account already exists",
                "serviceaccounts.ErrAlreadyExists",
            ))
        }
        Err(e) => return Err(ApiError::from(e).context("Failed to create service account")),
    };
    let dto = ServiceAccountDto {
        account: Account {
            id,
            uid: new.uid,
            name: new.name,
            login: new.login,
            org_id: caller.org_id,
            is_disabled: new.is_disabled,
            role: new.role.to_string(),
            // Grafana's create handler leaves it empty.
            avatar_url: String::new(),
        },
        tokens: 0,
        access_control: None,
    };
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

async fn get(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaQuery(q): GrafanaQuery<AccessControlQuery>,
) -> ApiResult<Json<Profile>> {
    let row = path_account(&app, &caller, &id).await?;
    let held = caller.permissions(&app).await?;
    Ok(Json(Profile {
        access_control: metadata(held, row.id, q.accesscontrol.as_deref()),
        ..Profile::new(&row)
    }))
}

/// Grafana's `UpdateServiceAccountForm` (`serviceAccountId` in the body is ignored).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "service_account_role_schema")]
    pub role: Option<String>,
    #[serde(default)]
    pub is_disabled: Option<bool>,
}

/// `{id, message, name, serviceaccount}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Updated {
    pub id: i64,
    pub message: String,
    pub name: String,
    pub serviceaccount: Profile,
}

async fn update(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaJson(body): GrafanaJson<UpdateBody>,
) -> ApiResult<Json<Updated>> {
    let row = path_account(&app, &caller, &id).await?;
    let role = parse_role(body.role.as_deref())?;
    if let Some(role) = role {
        check_role(&caller, role)?;
    }
    if let Some(name) = &body.name {
        text::line("name", name, text::VARCHAR_255)?;
    }
    let update = ServiceAccountUpdate {
        name: body.name,
        role: role.map(|r| r.as_str().to_string()),
        is_disabled: body.is_disabled,
    };
    let mut tx = app.store.begin().await?;
    if !app
        .store
        .update_service_account(&mut tx, caller.org_id, row.id, &update, app.now())
        .await
        .map_err(|e| ApiError::from(e).context("Failed update service account"))?
    {
        return Err(not_found());
    }
    let mut event = Event::new(actions::SERVICEACCOUNTS_WRITE, account_target(&row));
    if let Some(name) = &update.name {
        event = event.change(
            "name",
            Some(row.name.as_deref().unwrap_or("")),
            Some(name.as_str()),
        );
    }
    if let Some(role) = &update.role {
        event = event.change("role", Some(row.role.as_str()), Some(role.as_str()));
    }
    if let Some(disabled) = update.is_disabled {
        event = event.change("isDisabled", Some(row.is_disabled), Some(disabled));
    }
    tx.audit(event).await?;
    tx.commit().await?;
    let row = app
        .store
        .service_account(caller.org_id, row.id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(Updated {
        id: row.id,
        message: "Service account updated".into(),
        name: row.name.clone().unwrap_or_default(),
        serviceaccount: Profile::new(&row),
    }))
}

async fn delete(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    let row = path_account(&app, &caller, &id).await?;
    let mut tx = app.store.begin().await?;
    if !app
        .store
        .delete_service_account(&mut tx, caller.org_id, row.id)
        .await
        .map_err(|e| ApiError::from(e).context("Service account deletion error"))?
    {
        return Err(not_found());
    }
    tx.audit(Event::new(
        actions::SERVICEACCOUNTS_DELETE,
        account_target(&row),
    ))
    .await?;
    tx.commit().await?;
    Ok(message("Service account deleted"))
}

/// How a record names a service account.
fn account_target(row: &ServiceAccountRow) -> Target {
    Target::new("service_account", row.id, &row.login)
}

/// Grafana's token DTO (`pkg/services/serviceaccounts/api/token.go`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenDto {
    pub id: i64,
    pub name: String,
    pub created: String,
    pub last_used_at: Option<String>,
    pub expiration: Option<String>,
    /// Seconds left, only while the token expires within a week; else 0.
    pub seconds_until_expiration: f64,
    pub has_expired: bool,
    pub is_revoked: Option<bool>,
}

impl TokenDto {
    fn new(row: &ApiKeyRow, now: chrono::DateTime<chrono::Utc>) -> Self {
        let expiration = row
            .expires
            .and_then(|e| chrono::DateTime::from_timestamp(e, 0));
        let has_expired = expiration.is_some_and(|e| e < now);
        let seconds_until_expiration = match expiration {
            Some(e) if !has_expired && e - now <= chrono::Duration::days(7) => {
                (e - now).num_milliseconds() as f64 / 1000.0
            }
            _ => 0.0,
        };
        TokenDto {
            id: row.id,
            name: row.name.clone(),
            created: rfc3339(row.created),
            last_used_at: row.last_used_at.map(rfc3339),
            expiration: expiration.map(|e| rfc3339(e.naive_utc())),
            seconds_until_expiration,
            has_expired,
            is_revoked: row.is_revoked,
        }
    }
}

async fn tokens(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TokenDto>>> {
    // Grafana lists without checking that the account exists: an unknown one has no tokens.
    let id = match id.parse::<i64>() {
        Ok(id) => id,
        Err(_) => path_account(&app, &caller, &id).await?.id,
    };
    let rows = app.store.service_account_tokens(caller.org_id, id).await?;
    let now = app.clock.now();
    Ok(Json(rows.iter().map(|r| TokenDto::new(r, now)).collect()))
}

/// Grafana's `AddServiceAccountTokenCommand`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddTokenBody {
    #[schemars(length(min = 1))]
    pub name: String,
    /// Lifetime in seconds; 0 or absent: no expiry (unless `[auth] api_key_max_seconds_to_live`
    /// sets a limit).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub seconds_to_live: i64,
}

/// `{id, name, key}`: the only time the secret is shown.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NewToken {
    pub id: i64,
    pub name: String,
    pub key: String,
}

async fn add_token(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaJson(body): GrafanaJson<AddTokenBody>,
) -> ApiResult<Response> {
    let account = path_account(&app, &caller, &id).await?;
    if body.name.is_empty() {
        return Err(ApiError::bad_request("bad request data"));
    }
    text::line("name", &body.name, text::VARCHAR_190)?;
    let ttl = body.seconds_to_live;
    if let Some(max) = app.config.auth.api_key_max_seconds_to_live {
        if ttl == 0 {
            return Err(ApiError::bad_request(
                "Number of seconds before expiration should be set",
            ));
        }
        if ttl > max {
            return Err(ApiError::bad_request(
                "Number of seconds before expiration is greater than the global limit",
            ));
        }
    }
    let now = app.clock.now();
    if let Some(days) = app.config.auth.token_expiration_day_limit {
        // Grafana compares whole days ahead, and answers in plain text.
        let limit = now.timestamp() / 86_400 + days;
        let wanted = now.timestamp().saturating_add(ttl) / 86_400;
        if ttl > 0 && wanted > limit {
            return Ok((
                StatusCode::BAD_REQUEST,
                "The expiration date input exceeds the limit for service account access tokens expiration date",
            )
                .into_response());
        }
    }
    let invalid_ttl = || {
        ApiError::coded(
            StatusCode::BAD_REQUEST,
            "invalid SecondsToLive value",
            "serviceaccounts.ErrInvalidInput",
        )
    };
    let expires = match ttl {
        0 => None,
        t if t < 0 => return Err(invalid_ttl()),
        t => Some(now.timestamp().checked_add(t).ok_or_else(invalid_ttl)?),
    };
    let token = ServiceAccountToken::generate();
    let secret = token.client_secret();
    let hashed = app
        .hasher
        .run(move |_| token.hashed())
        .await
        .map_err(|e| ApiError::from(e).context("Generating service account token failed"))?;
    let new = NewApiKey {
        org_id: caller.org_id,
        name: &body.name,
        key: &hashed,
        role: "Viewer",
        expires,
        service_account_id: account.id,
    };
    let mut tx = app.store.begin().await?;
    let id = match app.store.add_api_key(&mut tx, &new, app.now()).await {
        Ok(id) => id,
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::coded(
                StatusCode::BAD_REQUEST,
                "service account token with given name already exists in the organization",
                "serviceaccounts.ErrTokenAlreadyExists",
            ))
        }
        Err(e) => return Err(ApiError::from(e).context("failed to add service account token")),
    };
    // The token's id and name, never its secret (nor its hash): `key` is named only.
    let mut event = Event::new(
        "serviceaccounts.tokens:write",
        Target::new("token", id, new.name),
    )
    .set("serviceAccountId", account.id)
    .set("serviceAccount", account.login.as_str())
    .secret("key");
    if let Some(expires) = expires {
        event = event.set("expires", expires);
    }
    tx.audit(event).await?;
    tx.commit().await?;
    Ok(Json(NewToken {
        id,
        name: body.name,
        key: secret,
    })
    .into_response())
}

async fn delete_token(
    caller: Caller,
    State(app): State<AppState>,
    Path((id, token_id)): Path<(String, String)>,
) -> ApiResult<Json<Message>> {
    let account = path_account(&app, &caller, &id).await?;
    let token_id: i64 = token_id
        .parse()
        .map_err(|_| ApiError::bad_request("Token ID is invalid"))?;
    if token_id == 0 {
        return Err(ApiError::coded(
            StatusCode::BAD_REQUEST,
            "invalid service account token id specified",
            "serviceaccounts.ErrInvalidTokenId",
        ));
    }
    let token_missing = || {
        ApiError::coded(
            StatusCode::NOT_FOUND,
            "service account token not found",
            "serviceaccounts.ErrTokenNotFound",
        )
    };
    let mut tx = app.store.begin().await?;
    let token = app
        .store
        .api_key(tx.db(), caller.org_id, token_id)
        .await?
        .filter(|k| k.service_account_id == Some(account.id))
        .ok_or_else(token_missing)?;
    if !app
        .store
        .delete_service_account_token(&mut tx, caller.org_id, account.id, token_id)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to delete service account token"))?
    {
        return Err(token_missing());
    }
    tx.audit(
        Event::new(
            "serviceaccounts.tokens:delete",
            Target::new("token", token.id, &token.name),
        )
        .set("serviceAccountId", account.id)
        .set("serviceAccount", account.login.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(message("Service account token deleted"))
}
