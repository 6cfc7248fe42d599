//! Teams of an org and their members: unique names per org, members only from the org, the team
//! permission typed (Member or Admin).

use super::ServiceResult;
use crate::state::AppState;
use crate::store::teams::TeamMembership;
use crate::store::Tx;

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
    Ok(app
        .store
        .create_team_with_admin(tx, org_id, name, email, admin, app.now())
        .await?)
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
    Ok(app
        .store
        .update_team(tx, org_id, id, name, email, app.now())
        .await?)
}

/// Deletes a team. `false`: no such team in the org.
pub async fn delete(app: &AppState, tx: &mut Tx, org_id: i64, id: i64) -> ServiceResult<bool> {
    Ok(app.store.delete_team(tx, org_id, id).await?)
}

/// Adds a member of the org to a team (`NotFound(User)` for someone outside the org,
/// `Conflict(AlreadyTeamMember)`).
pub async fn add_member(app: &AppState, tx: &mut Tx, member: TeamMembership) -> ServiceResult<()> {
    app.store.add_member_to_team(tx, member, app.now()).await?;
    Ok(())
}

/// Sets a member's permission. `false`: not a member.
pub async fn set_member_permission(
    app: &AppState,
    tx: &mut Tx,
    member: TeamMembership,
) -> ServiceResult<bool> {
    Ok(app
        .store
        .set_team_member_permission(tx, member, app.now())
        .await?)
}

/// Removes a member. `false`: they were not one.
pub async fn remove_member(
    app: &AppState,
    tx: &mut Tx,
    org_id: i64,
    team_id: i64,
    user_id: i64,
) -> ServiceResult<bool> {
    Ok(app
        .store
        .remove_team_member(tx, org_id, team_id, user_id)
        .await?)
}
