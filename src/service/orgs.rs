//! Orgs and their members: creation (with the org quotas), renaming, deletion, and membership
//! changes bound by the role ceiling (a caller grants at most their own role), the membership
//! quotas and "keep one Admin per org" (checked by the store under the org-admin lock).

use super::{quotas, Actor, ServiceError, ServiceResult};
use crate::audit::{Event, Target};
use crate::domain::role::OrgRole;
use crate::state::AppState;
use crate::store::orgs::{OrgAddress, OrgDetails, OrgMembership, Removed};
use crate::store::{Db, Missing, StoreError, Tx};

fn org_missing() -> ServiceError {
    StoreError::NotFound(Missing::Org).into()
}

/// The org's row inside `tx`, or "org not found".
async fn org_in(app: &AppState, tx: &mut Tx, id: i64) -> ServiceResult<OrgDetails> {
    app.store
        .org_details_in(tx.db(), id)
        .await?
        .ok_or_else(org_missing)
}

fn org_target(org: &OrgDetails) -> Target {
    Target::new("org", org.id, &org.name)
}

/// A membership's record target: the member (id and login), in the org.
async fn member_target(app: &AppState, tx: &mut Tx, user_id: i64) -> ServiceResult<Target> {
    let login = app
        .store
        .user_by_id_in(tx.db(), user_id)
        .await?
        .map(|u| u.login.clone())
        .unwrap_or_default();
    Ok(Target::new("org_user", user_id, &login))
}

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
    let mut event = Event::new("orgs:create", Target::new("org", id, name))
        .in_org(id)
        .set("name", name);
    if let Some(user) = creator {
        event = event.set("adminUserId", user);
    }
    tx.audit(event).await?;
    Ok(id)
}

/// Renames an org (`NotFound(Org)` if it does not exist).
pub async fn rename(app: &AppState, tx: &mut Tx, id: i64, name: &str) -> ServiceResult<()> {
    let old = org_in(app, tx, id).await?;
    if !app.store.rename_org(tx, id, name, app.now()).await? {
        return Err(org_missing());
    }
    tx.audit(
        Event::new("orgs:write", org_target(&old))
            .in_org(id)
            .change("name", Some(old.name.as_str()), Some(name)),
    )
    .await?;
    Ok(())
}

/// Sets an org's address (`NotFound(Org)` if it does not exist).
pub async fn set_address(
    app: &AppState,
    tx: &mut Tx,
    id: i64,
    address: &OrgAddress,
) -> ServiceResult<()> {
    let old = org_in(app, tx, id).await?;
    app.store
        .set_org_address(tx, id, address, app.now())
        .await?;
    let (a, b) = (&old.address, address);
    let mut event = Event::new("orgs:write", org_target(&old)).in_org(id);
    for (field, old, new) in [
        ("address1", &a.address1, &b.address1),
        ("address2", &a.address2, &b.address2),
        ("city", &a.city, &b.city),
        ("zipCode", &a.zip_code, &b.zip_code),
        ("state", &a.state, &b.state),
        ("country", &a.country, &b.country),
    ] {
        event = event.change(field, Some(old.as_str()), Some(new.as_str()));
    }
    tx.audit(event).await?;
    Ok(())
}

/// Deletes an org with everything in it (`NotFound(Org)` if it does not exist).
pub async fn delete(app: &AppState, tx: &mut Tx, id: i64) -> ServiceResult<()> {
    let old = org_in(app, tx, id).await?;
    if !app.store.delete_org(tx, id).await? {
        return Err(org_missing());
    }
    tx.audit(Event::new("orgs:delete", org_target(&old)).in_org(id))
        .await?;
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
    let target = member_target(app, tx, member.user_id).await?;
    tx.audit(
        Event::new("org.users:add", target)
            .in_org(member.org_id)
            .set("role", member.role.as_str()),
    )
    .await?;
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
    let old = app
        .store
        .org_role_in(tx.db(), member.user_id, member.org_id)
        .await?;
    app.store.set_org_member_role(tx, member, app.now()).await?;
    let target = member_target(app, tx, member.user_id).await?;
    tx.audit(
        Event::new("org.users:write", target)
            .in_org(member.org_id)
            .change("role", old.map(|r| r.as_str()), Some(member.role.as_str())),
    )
    .await?;
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
    let old = app.store.org_role_in(tx.db(), user_id, org_id).await?;
    // Read before: the user may be deleted with the membership.
    let target = member_target(app, tx, user_id).await?;
    let removed = app
        .store
        .remove_org_member(tx, org_id, user_id, delete_orphan)
        .await?;
    let mut event = Event::new("org.users:remove", target.clone())
        .in_org(org_id)
        .change("role", old.map(|r| r.as_str()), None::<&str>);
    if removed == Removed::User {
        event = event.set("userDeleted", true);
    }
    tx.audit(event).await?;
    if removed == Removed::User {
        let user = Target::new("user", user_id, &target.name);
        tx.audit(Event::new("users:delete", user).set("reason", "left in no organization"))
            .await?;
    }
    Ok(removed)
}
