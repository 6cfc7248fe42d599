//! Orgs and their members: creation (with the org quotas), renaming, deletion, and membership
//! changes bound by the role ceiling (a caller grants at most their own role), the membership
//! quotas and "keep one Admin per org" (checked by the store under the org-admin lock).

use super::{quotas, Actor, ServiceError, ServiceResult};
use crate::domain::role::OrgRole;
use crate::state::AppState;
use crate::store::orgs::{OrgMembership, Removed};
use crate::store::{Db, Missing, StoreError, Tx};

/// Refuses a grant of `role` in `org_id` above the actor's own role there; server admins and
/// the server itself grant anything. The changes below check it in their transaction; a handler
/// may check it first too, so that a refused grant answers 403 before anything is looked up.
pub async fn check_grant(
    app: &AppState,
    db: Db<'_>,
    actor: Actor<'_>,
    org_id: i64,
    role: OrgRole,
) -> ServiceResult<()> {
    let Actor::Caller(caller) = actor else {
        return Ok(());
    };
    if caller.is_server_admin() {
        return Ok(());
    }
    // The request's own role in its org (an API key's role is its own, not a membership's).
    let have = if org_id == caller.org_id {
        caller.org_role
    } else {
        app.store.org_role_in(db, caller.id(), org_id).await?
    };
    if have.is_some_and(|have| have.includes(role)) {
        Ok(())
    } else {
        Err(ServiceError::RoleCeiling)
    }
}

/// Creates an org; `creator` (if any) becomes its Admin and counts its `user_org` quota.
pub async fn create(
    app: &AppState,
    tx: &mut Tx,
    name: &str,
    creator: Option<i64>,
) -> ServiceResult<i64> {
    quotas::check_orgs(app, tx, creator).await?;
    let id = match creator {
        Some(user) => {
            app.store
                .create_org_with_admin(tx, name, user, app.now())
                .await?
        }
        None => app.store.create_org(tx, name, app.now()).await?,
    };
    Ok(id)
}

/// Renames an org (`NotFound(Org)` if it does not exist).
pub async fn rename(app: &AppState, tx: &mut Tx, id: i64, name: &str) -> ServiceResult<()> {
    if !app.store.rename_org(tx, id, name, app.now()).await? {
        return Err(StoreError::NotFound(Missing::Org).into());
    }
    Ok(())
}

/// Deletes an org with everything in it (`NotFound(Org)` if it does not exist).
pub async fn delete(app: &AppState, tx: &mut Tx, id: i64) -> ServiceResult<()> {
    if !app.store.delete_org(tx, id).await? {
        return Err(StoreError::NotFound(Missing::Org).into());
    }
    Ok(())
}

/// Adds a member (`Conflict(AlreadyOrgMember)` if they are one).
pub async fn add_member(
    app: &AppState,
    tx: &mut Tx,
    actor: Actor<'_>,
    member: OrgMembership,
) -> ServiceResult<()> {
    check_grant(app, tx.db(), actor, member.org_id, member.role).await?;
    quotas::check_membership(app, tx, member.org_id, member.user_id).await?;
    app.store.add_org_member(tx, member, app.now()).await?;
    Ok(())
}

/// Changes a member's role (`NotFound(OrgUser)` for a non-member, `Conflict(LastOrgAdmin)`).
pub async fn set_member_role(
    app: &AppState,
    tx: &mut Tx,
    actor: Actor<'_>,
    member: OrgMembership,
) -> ServiceResult<()> {
    check_grant(app, tx.db(), actor, member.org_id, member.role).await?;
    app.store.set_org_member_role(tx, member, app.now()).await?;
    Ok(())
}

/// Removes a member (see [`crate::store::Store::remove_org_member`] for `delete_orphan`).
pub async fn remove_member(
    app: &AppState,
    tx: &mut Tx,
    org_id: i64,
    user_id: i64,
    delete_orphan: bool,
) -> ServiceResult<Removed> {
    Ok(app
        .store
        .remove_org_member(tx, org_id, user_id, delete_orphan)
        .await?)
}
