//! Admin user API (`/api/admin/users…`, Grafana's `pkg/api/admin_users.go`).

use axum::extract::{Path, State};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::dto::{message, Message};
use super::user::set_password;
use super::users::find_user;
use super::{Op, Routes};
use crate::auth::{actions, password, Access, Caller};
use crate::domain::{login, text};
use crate::error::{ApiError, ApiResult, GrafanaJson};
use crate::service::{self, ServiceError};
use crate::state::AppState;
use crate::store::{Conflict, NewUser, StoreError};
use axum::http::StatusCode;

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::post(
            "/api/admin/users",
            "admin",
            "Create a user",
            Access::action(actions::USERS_CREATE),
        )
        .body::<CreateUserBody>()
        .returns::<Created>()
        .errors(&[412]),
        create_user,
    )
    .add(
        Op::put(
            "/api/admin/users/{id}/password",
            "admin",
            "Set a user's password",
            Access::perm(actions::USERS_PASSWORD_WRITE, "users:id:{id}"),
        )
        .body::<SetPasswordBody>()
        .returns::<Message>(),
        admin_set_password,
    )
    .add(
        Op::put(
            "/api/admin/users/{id}/permissions",
            "admin",
            "Grant or revoke Grafana Admin",
            Access::perm(actions::USERS_PERMISSIONS_WRITE, "users:id:{id}"),
        )
        .body::<PermissionsBody>()
        .returns::<Message>(),
        set_permissions,
    )
    .add(
        Op::delete(
            "/api/admin/users/{id}",
            "admin",
            "Delete a user",
            Access::perm(actions::USERS_DELETE, "users:id:{id}"),
        )
        .returns::<Message>(),
        delete_user,
    )
    .add(
        Op::post(
            "/api/admin/users/{id}/disable",
            "admin",
            "Disable a user",
            Access::perm(actions::USERS_DISABLE, "users:id:{id}"),
        )
        .returns::<Message>(),
        disable_user,
    )
    .add(
        Op::post(
            "/api/admin/users/{id}/enable",
            "admin",
            "Enable a user",
            Access::perm(actions::USERS_ENABLE, "users:id:{id}"),
        )
        .returns::<Message>(),
        enable_user,
    );
}

/// Grafana's `AdminCreateUserForm`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateUserBody {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub login: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Grafana's spelling.
    #[serde(default, rename = "OrgId")]
    pub org_id: Option<i64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Created {
    pub id: i64,
    pub uid: String,
    pub message: String,
}

async fn create_user(
    State(app): State<AppState>,
    GrafanaJson(body): GrafanaJson<CreateUserBody>,
) -> ApiResult<Json<Created>> {
    // Grafana's conflict message quotes the form's values as sent (trimmed, case kept).
    let form_email = body.email.unwrap_or_default().trim().to_string();
    let form_login = body.login.unwrap_or_default().trim().to_string();
    if form_login.is_empty() && form_email.is_empty() {
        return Err(ApiError::bad_request(
            "Validation error, need specify either username or email",
        ));
    }
    let email = match form_email.as_str() {
        "" => String::new(),
        raw => login::user_email(raw)?,
    };
    // Without a login, the email is the login.
    let login = login::user_login(if form_login.is_empty() {
        &email
    } else {
        &form_login
    })?;
    let name = body.name.unwrap_or_default().trim().to_string();
    text::line("name", &name, text::VARCHAR_255)?;
    let pw = body.password.unwrap_or_default();
    password::validate_new_password(&pw, app.config.auth_basic.password_policy)
        .map_err(|_| ApiError::bad_request("Password is missing or too short"))?;
    // Grafana's getOrCreateOrg (pkg/services/user/userimpl/user.go): the given org, else
    // [users] auto_assign_org_id, else (auto_assign_org = false) an org of the user's own.
    let (org_id, own_org) = match body.org_id {
        Some(id) if id > 0 => (id, false),
        Some(_) => return Err(ApiError::bad_request("OrgId is invalid")),
        None if app.config.users.auto_assign_org => (app.config.users.auto_assign_org_id, false),
        None => (0, true),
    };
    let scheme = app.config.security.password_hash;
    let stored = app
        .hasher
        .hash(pw, scheme)
        .await
        .map_err(|e| ApiError::from(e).context("failed to create user"))?;
    // Grafana keeps the email empty only when the login is given; it stores the login then.
    let email = if email.is_empty() {
        login.clone()
    } else {
        email
    };
    let mut new = NewUser::new(
        login.clone(),
        email,
        name,
        org_id,
        app.config.users.auto_assign_org_role,
    )
    .with_password(stored.hash, stored.salt);
    if own_org {
        // Grafana names a user's own org after their login.
        new = new.in_own_org(login);
    }
    match service::in_tx(&app, async |tx| {
        service::users::create(&app, tx, &new).await
    })
    .await
    {
        Ok(id) => Ok(Json(Created {
            id,
            uid: new.uid,
            message: "User created".into(),
        })),
        Err(ServiceError::Store(StoreError::Conflict(Conflict::OrgNameTaken))) => Err(
            ApiError::status(StatusCode::CONFLICT, Conflict::OrgNameTaken.to_string()),
        ),
        Err(ServiceError::Store(StoreError::Conflict(_))) => Err(ApiError::status(
            StatusCode::PRECONDITION_FAILED,
            format!("User with email '{form_email}' or username '{form_login}' already exists"),
        )),
        Err(ServiceError::Store(StoreError::NotFound(_))) => {
            Err(ApiError::bad_request("organization not found"))
        }
        Err(e) => Err(ApiError::from(e).context("failed to create user")),
    }
}

/// Grafana's `AdminUpdateUserPasswordForm`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SetPasswordBody {
    pub password: String,
}

async fn admin_set_password(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaJson(body): GrafanaJson<SetPasswordBody>,
) -> ApiResult<Json<Message>> {
    let user = find_user(&app, &id).await?;
    password::validate_new_password(&body.password, app.config.auth_basic.password_policy)
        .map_err(|_| ApiError::bad_request("New password too short"))?;
    // Every session of the user ends, except the admin's own when they reset their own password.
    let keep = if user.id == caller.id() {
        caller.session_id()
    } else {
        None
    };
    set_password(&app, user.id, body.password, keep).await?;
    Ok(message("User password updated"))
}

/// Grafana's `AdminUpdateUserPermissionsForm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionsBody {
    pub is_grafana_admin: bool,
}

async fn set_permissions(
    State(app): State<AppState>,
    Path(id): Path<String>,
    GrafanaJson(body): GrafanaJson<PermissionsBody>,
) -> ApiResult<Json<Message>> {
    let user = find_user(&app, &id).await?;
    service::in_tx(&app, async |tx| {
        service::users::set_server_admin(&app, tx, user.id, body.is_grafana_admin).await
    })
    .await
    .map_err(|e| ApiError::from(e).context("Failed to update user permissions"))?;
    Ok(message("User permissions updated"))
}

async fn delete_user(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    let user = find_user(&app, &id).await?;
    service::in_tx(&app, async |tx| {
        service::users::delete(&app, tx, user.id).await
    })
    .await
    .map_err(|e| ApiError::from(e).context("Failed to delete user"))?;
    Ok(message("User deleted"))
}

async fn disable_user(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    let user = find_user(&app, &id).await?;
    service::in_tx(&app, async |tx| {
        service::users::set_disabled(&app, tx, user.id, true).await
    })
    .await
    .map_err(|e| ApiError::from(e).context("Failed to disable user"))?;
    Ok(message("User disabled"))
}

async fn enable_user(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    let user = find_user(&app, &id).await?;
    service::in_tx(&app, async |tx| {
        service::users::set_disabled(&app, tx, user.id, false).await
    })
    .await
    .map_err(|e| ApiError::from(e).context("Failed to enable user"))?;
    Ok(message("User enabled"))
}
