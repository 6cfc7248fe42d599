//! Users: creation (with the user quota), profile and password changes, and the changes bound by
//! "keep one enabled server admin" (Grafana's `user.ErrLastGrafanaAdmin`): demotion, disabling
//! and deletion.

use super::{quotas, ServiceError, ServiceResult};
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
    Ok(app.store.create_user(tx, new, app.now()).await?)
}

pub async fn update(
    app: &AppState,
    tx: &mut Tx,
    id: i64,
    update: &UserUpdate,
) -> ServiceResult<()> {
    Ok(app.store.update_user(tx, id, update, app.now()).await?)
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
    if !app
        .store
        .set_password(tx, id, hash, salt, keep_session, app.now())
        .await?
    {
        return Err(user_missing());
    }
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
    Ok(())
}

/// Deletes a user and everything that belongs to them.
pub async fn delete(app: &AppState, tx: &mut Tx, id: i64) -> ServiceResult<()> {
    let user = locked_user(app, tx, id).await?;
    keep_one_admin(app, tx, &user).await?;
    if !app.store.delete_user(tx, id).await? {
        return Err(user_missing());
    }
    Ok(())
}
