//! Teams of an org and their members: unique names per org, members only from the org, the team
//! permission typed (Member or Admin).

use super::ServiceResult;
use crate::audit::{Event, Target};
use crate::domain::role::TeamPermission;
use crate::state::AppState;
use crate::store::teams::{TeamKey, TeamMembership};
use crate::store::users::UserTeamRow;
use crate::store::Tx;

/// How a record names a team permission.
fn permission_name(p: TeamPermission) -> &'static str {
    match p {
        TeamPermission::Member => "Member",
        TeamPermission::Admin => "Admin",
    }
}

async fn team_in(
    app: &AppState,
    tx: &mut Tx,
    org_id: i64,
    id: i64,
) -> ServiceResult<Option<UserTeamRow>> {
    Ok(app.store.team_by(tx.db(), org_id, TeamKey::Id(id)).await?)
}

fn team_target(team: &UserTeamRow) -> Target {
    Target::new("team", team.id, &team.name)
}

/// A team membership's record: the member (id and login), with the team named in the changes.
async fn member_event(
    app: &AppState,
    tx: &mut Tx,
    member: &TeamMembership,
) -> ServiceResult<Event> {
    let login = app
        .store
        .user_by_id_in(tx.db(), member.user_id)
        .await?
        .map(|u| u.login.clone())
        .unwrap_or_default();
    let team = team_in(app, tx, member.org_id, member.team_id)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    Ok(Event::new(
        "teams.permissions:write",
        Target::new("team_member", member.user_id, &login),
    )
    .in_org(member.org_id)
    .set("teamId", member.team_id)
    .set("team", team))
}

/// Creates a team of `org_id`; `admin` (the creating user, if a person) becomes its Admin.
/// Returns the id and uid.
pub async fn create(
    app: &AppState,
    tx: &mut Tx,
    org_id: i64,
    name: &str,
    email: &str,
    admin: Option<i64>,
) -> ServiceResult<(i64, String)> {
    let (id, uid) = app
        .store
        .create_team_with_admin(tx, org_id, name, email, admin, app.now())
        .await?;
    let mut event = Event::new("teams:create", Target::new("team", id, name))
        .in_org(org_id)
        .set("uid", uid.as_str())
        .set("name", name)
        .set("email", email);
    if let Some(admin) = admin {
        event = event.set("adminUserId", admin);
    }
    tx.audit(event).await?;
    Ok((id, uid))
}

/// Renames a team (when `name` is given) and sets its email. `false`: no such team in the org.
pub async fn update(
    app: &AppState,
    tx: &mut Tx,
    org_id: i64,
    id: i64,
    name: Option<&str>,
    email: &str,
) -> ServiceResult<bool> {
    let Some(old) = team_in(app, tx, org_id, id).await? else {
        return Ok(false);
    };
    if !app
        .store
        .update_team(tx, org_id, id, name, email, app.now())
        .await?
    {
        return Ok(false);
    }
    let event = Event::new("teams:write", team_target(&old))
        .in_org(org_id)
        .change(
            "name",
            Some(old.name.as_str()),
            Some(name.unwrap_or(&old.name)),
        )
        .change(
            "email",
            Some(old.email.as_deref().unwrap_or("")),
            Some(email),
        );
    tx.audit(event).await?;
    Ok(true)
}

/// Deletes a team. `false`: no such team in the org.
pub async fn delete(app: &AppState, tx: &mut Tx, org_id: i64, id: i64) -> ServiceResult<bool> {
    let Some(old) = team_in(app, tx, org_id, id).await? else {
        return Ok(false);
    };
    if !app.store.delete_team(tx, org_id, id).await? {
        return Ok(false);
    }
    tx.audit(Event::new("teams:delete", team_target(&old)).in_org(org_id))
        .await?;
    Ok(true)
}

/// Adds a member of the org to a team (`NotFound(User)` for someone outside the org,
/// `Conflict(AlreadyTeamMember)`).
pub async fn add_member(app: &AppState, tx: &mut Tx, member: TeamMembership) -> ServiceResult<()> {
    app.store.add_member_to_team(tx, member, app.now()).await?;
    let event = member_event(app, tx, &member).await?.change(
        "permission",
        None::<&str>,
        Some(permission_name(member.permission)),
    );
    tx.audit(event).await?;
    Ok(())
}

/// Sets a member's permission. `false`: not a member.
pub async fn set_member_permission(
    app: &AppState,
    tx: &mut Tx,
    member: TeamMembership,
) -> ServiceResult<bool> {
    let Some(old) = app
        .store
        .team_member_permission(tx.db(), member.team_id, member.user_id)
        .await?
    else {
        return Ok(false);
    };
    if !app
        .store
        .set_team_member_permission(tx, member, app.now())
        .await?
    {
        return Ok(false);
    }
    let event = member_event(app, tx, &member).await?.change(
        "permission",
        Some(permission_name(old)),
        Some(permission_name(member.permission)),
    );
    tx.audit(event).await?;
    Ok(true)
}

/// Removes a member. `false`: they were not one.
pub async fn remove_member(
    app: &AppState,
    tx: &mut Tx,
    org_id: i64,
    team_id: i64,
    user_id: i64,
) -> ServiceResult<bool> {
    let old = app
        .store
        .team_member_permission(tx.db(), team_id, user_id)
        .await?;
    if !app
        .store
        .remove_team_member(tx, org_id, team_id, user_id)
        .await?
    {
        return Ok(false);
    }
    let member = TeamMembership {
        org_id,
        team_id,
        user_id,
        permission: old.unwrap_or_default(),
    };
    let event = member_event(app, tx, &member).await?.change(
        "permission",
        old.map(permission_name),
        None::<&str>,
    );
    tx.audit(event).await?;
    Ok(true)
}
