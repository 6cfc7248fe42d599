//! Users: creation (with the user quota), profile and password changes, and the changes bound by
//! "keep one enabled server admin" (Grafana's `user.ErrLastGrafanaAdmin`): demotion, disabling
//! and deletion.

use super::{quotas, ServiceError, ServiceResult};
use crate::audit::{Event, Target};
use crate::state::AppState;
use crate::store::{Lock, Missing, NewUser, StoreError, Tx, UserRow, UserUpdate};

fn user_missing() -> ServiceError {
    StoreError::NotFound(Missing::User).into()
}

/// Creates a user (and their membership, or their own org). People count against `[quota]
/// global_user`; service accounts do not.
pub async fn create(app: &AppState, tx: &mut Tx, new: &NewUser) -> ServiceResult<i64> {
    if !new.is_service_account {
        quotas::check_users(app, tx).await?;
    }
    let id = app.store.create_user(tx, new, app.now()).await?;
    let (action, kind) = if new.is_service_account {
        ("serviceaccounts:create", "service_account")
    } else {
        ("users:create", "user")
    };
    let mut event = Event::new(action, Target::new(kind, id, &new.login))
        .in_org(new.org_id)
        .set("login", new.login.as_str())
        .set("email", new.email.as_str())
        .set("name", new.name.as_str())
        .set("isGrafanaAdmin", new.is_admin)
        .set("isDisabled", new.is_disabled)
        .set("orgId", new.org_id)
        .set("role", new.role.as_str());
    if let Some(own) = &new.own_org {
        event = event.set("ownOrg", own.as_str());
    }
    if new.password_hash.is_some() {
        event = event.secret("password");
    }
    tx.audit(event).await?;
    Ok(id)
}

/// A user's row inside `tx`, or "user not found".
async fn user_in(app: &AppState, tx: &mut Tx, id: i64) -> ServiceResult<UserRow> {
    app.store
        .user_by_id_in(tx.db(), id)
        .await?
        .ok_or_else(user_missing)
}

fn target(user: &UserRow) -> Target {
    let kind = if user.is_service_account.unwrap_or(false) {
        "service_account"
    } else {
        "user"
    };
    Target::new(kind, user.id, &user.login)
}

pub async fn update(
    app: &AppState,
    tx: &mut Tx,
    id: i64,
    update: &UserUpdate,
) -> ServiceResult<()> {
    let old = user_in(app, tx, id).await?;
    app.store.update_user(tx, id, update, app.now()).await?;
    let mut event = Event::new("users:write", target(&old))
        .change(
            "login",
            Some(old.login.as_str()),
            Some(update.login.as_str()),
        )
        .change(
            "email",
            Some(old.email.as_str()),
            Some(update.email.as_str()),
        )
        .change(
            "name",
            Some(old.name.as_deref().unwrap_or("")),
            Some(update.name.as_str()),
        );
    if let Some(theme) = &update.theme {
        event = event.change(
            "theme",
            Some(old.theme.as_deref().unwrap_or("")),
            Some(theme.as_str()),
        );
    }
    tx.audit(event).await?;
    Ok(())
}

/// Stores a password already hashed (hashing is done before, outside any transaction) and ends
/// every login session of the user but `keep_session`.
pub async fn set_password(
    app: &AppState,
    tx: &mut Tx,
    id: i64,
    hash: &str,
    salt: &str,
    keep_session: Option<i64>,
) -> ServiceResult<()> {
    let user = user_in(app, tx, id).await?;
    if !app
        .store
        .set_password(tx, id, hash, salt, keep_session, app.now())
        .await?
    {
        return Err(user_missing());
    }
    tx.audit(Event::new("users.password:write", target(&user)).secret("password"))
        .await?;
    Ok(())
}

/// The user's row, read inside `tx` after the server-admin lock: what the last-admin rule is
/// checked against.
async fn locked_user(app: &AppState, tx: &mut Tx, id: i64) -> ServiceResult<UserRow> {
    tx.lock(Lock::ServerAdmin).await?;
    app.store
        .user_by_id_in(tx.db(), id)
        .await?
        .ok_or_else(user_missing)
}

/// Refuses a change that takes `user` out of the enabled server admins when no other remains.
async fn keep_one_admin(app: &AppState, tx: &mut Tx, user: &UserRow) -> ServiceResult<()> {
    if user.is_admin
        && !user.is_disabled
        && app.store.count_other_server_admins(tx, user.id).await? == 0
    {
        return Err(ServiceError::LastServerAdmin);
    }
    Ok(())
}

pub async fn set_server_admin(
    app: &AppState,
    tx: &mut Tx,
    id: i64,
    is_admin: bool,
) -> ServiceResult<()> {
    let user = locked_user(app, tx, id).await?;
    if !is_admin {
        keep_one_admin(app, tx, &user).await?;
    }
    app.store
        .set_server_admin(tx, id, is_admin, app.now())
        .await?;
    tx.audit(Event::new("users.permissions:write", target(&user)).change(
        "isGrafanaAdmin",
        Some(user.is_admin),
        Some(is_admin),
    ))
    .await?;
    Ok(())
}

/// Disables (ending every session) or enables a user.
pub async fn set_disabled(
    app: &AppState,
    tx: &mut Tx,
    id: i64,
    disabled: bool,
) -> ServiceResult<()> {
    let user = locked_user(app, tx, id).await?;
    if disabled {
        keep_one_admin(app, tx, &user).await?;
    }
    app.store.set_disabled(tx, id, disabled, app.now()).await?;
    let action = if disabled {
        "users:disable"
    } else {
        "users:enable"
    };
    tx.audit(Event::new(action, target(&user)).change(
        "isDisabled",
        Some(user.is_disabled),
        Some(disabled),
    ))
    .await?;
    Ok(())
}

/// Deletes a user and everything that belongs to them.
pub async fn delete(app: &AppState, tx: &mut Tx, id: i64) -> ServiceResult<()> {
    let user = locked_user(app, tx, id).await?;
    keep_one_admin(app, tx, &user).await?;
    if !app.store.delete_user(tx, id).await? {
        return Err(user_missing());
    }
    let action = if user.is_service_account.unwrap_or(false) {
        "serviceaccounts:delete"
    } else {
        "users:delete"
    };
    tx.audit(Event::new(action, target(&user))).await?;
    Ok(())
}
