//! The signed-in user's own API (`/api/user…`, Grafana's `pkg/api/user.go`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::Deserialize;

use super::dto::{message, Message, UserOrg, UserProfile, UserTeam};
use super::users::{apply_update, switch_org, UpdateUserBody};
use super::{Op, Routes};
use crate::auth::{password, Access, Caller};
use crate::error::{ApiError, ApiResult, GrafanaJson};
use crate::state::AppState;

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get("/api/user", "user", "The signed-in user", Access::SignedIn)
            .returns::<UserProfile>(),
        get_signed_in,
    )
    .add(
        Op::put(
            "/api/user",
            "user",
            "Update the signed-in user",
            Access::UserOnly,
        )
        .body::<UpdateUserBody>()
        .returns::<Message>(),
        update_signed_in,
    )
    .add(
        Op::put(
            "/api/user/password",
            "user",
            "Change the signed-in user's password",
            Access::UserOnly,
        )
        .body::<ChangePasswordBody>()
        .returns::<Message>(),
        change_password,
    )
    .add(
        Op::get(
            "/api/user/orgs",
            "user",
            "Organizations of the signed-in user",
            Access::UserOnly,
        )
        .returns::<Vec<UserOrg>>(),
        my_orgs,
    )
    .add(
        Op::get(
            "/api/user/teams",
            "user",
            "Teams of the signed-in user",
            Access::UserOnly,
        )
        .returns::<Vec<UserTeam>>(),
        my_teams,
    )
    .add(
        Op::post(
            "/api/user/using/{orgId}",
            "user",
            "Switch the signed-in user's organization",
            Access::UserOnly,
        )
        .returns::<Message>(),
        switch_my_org,
    );
}

async fn get_signed_in(caller: Caller) -> Json<UserProfile> {
    if caller.is_service_account() {
        return Json(UserProfile::of_service_account(&caller.user, caller.org_id));
    }
    // The caller's row was read while authenticating; no further query.
    Json(UserProfile::new(
        &caller.user,
        caller.auth_module.as_deref(),
    ))
}

async fn update_signed_in(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaJson(body): GrafanaJson<UpdateUserBody>,
) -> ApiResult<Json<Message>> {
    apply_update(&app, &caller.user, body).await?;
    Ok(message("User updated"))
}

/// Grafana's `ChangeUserPasswordCommand`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordBody {
    pub old_password: String,
    pub new_password: String,
    #[serde(default)]
    pub confirm_new: Option<String>,
}

async fn change_password(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaJson(body): GrafanaJson<ChangePasswordBody>,
) -> ApiResult<Json<Message>> {
    let user = &caller.user;
    // The identity carries no hash: the one to verify against is read here.
    let stored_row = app
        .store
        .user_by_id(user.id)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to change user password"))?;
    let (stored, salt) = stored_row
        .map(|u| (u.password.unwrap_or_default(), u.salt.unwrap_or_default()))
        .unwrap_or_default();
    let old = body.old_password.clone();
    let old_ok = !stored.is_empty()
        && app
            .hasher
            .verify(old, stored, salt)
            .await
            .map_err(|e| ApiError::from(e).context("Failed to change user password"))?;
    if !old_ok {
        // Grafana v12 answers 400 here (`pkg/api/user.go` ChangeUserPassword).
        return Err(ApiError::coded(
            StatusCode::BAD_REQUEST,
            "Invalid old password",
            "user.password.mismatch",
        ));
    }
    if let Some(confirm) = &body.confirm_new {
        if !confirm.is_empty() && *confirm != body.new_password {
            return Err(ApiError::bad_request("Passwords do not match"));
        }
    }
    password::validate_new_password(&body.new_password, app.config.auth_basic.password_policy)
        .map_err(ApiError::bad_request)?;
    // Unlike Grafana (#75601), a new password ends the user's other sessions (ASVS 7.4.3); the
    // session that made the change stays.
    set_password(&app, user.id, body.new_password, caller.session_id()).await?;
    Ok(message("User password changed"))
}

/// Hashes and stores a new password and ends the user's sessions but `keep_session` (cached
/// basic-auth credentials go stale with the store's generation).
pub(super) async fn set_password(
    app: &AppState,
    user_id: i64,
    new_password: String,
    keep_session: Option<i64>,
) -> ApiResult<()> {
    let scheme = app.config.security.password_hash;
    let stored = app
        .hasher
        .hash(new_password, scheme)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to update user password"))?;
    crate::service::in_tx(app, async |tx| {
        crate::service::users::set_password(
            app,
            tx,
            user_id,
            &stored.hash,
            &stored.salt,
            keep_session,
        )
        .await
    })
    .await
    .map_err(|e| ApiError::from(e).context("Failed to update user password"))
}

async fn my_orgs(caller: Caller, State(app): State<AppState>) -> ApiResult<Json<Vec<UserOrg>>> {
    let orgs = app.store.user_orgs(caller.id()).await?;
    Ok(Json(orgs.into_iter().map(UserOrg::from).collect()))
}

async fn my_teams(caller: Caller, State(app): State<AppState>) -> ApiResult<Json<Vec<UserTeam>>> {
    // Grafana lists the teams of the caller's current org.
    let teams = app
        .store
        .user_teams(caller.id(), Some(caller.org_id))
        .await?;
    Ok(Json(teams.into_iter().map(UserTeam::from).collect()))
}

async fn switch_my_org(
    caller: Caller,
    State(app): State<AppState>,
    Path(org_id): Path<String>,
) -> ApiResult<Json<Message>> {
    // Grafana's `UserSetUsingOrg` names its parameter `:id` (pkg/api/user.go).
    switch_org(
        &app,
        caller.id(),
        &caller.user.login,
        &org_id,
        "id is invalid",
    )
    .await
}
