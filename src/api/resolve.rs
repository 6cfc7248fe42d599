//! Path parameters that name a user or a team by id or by uid. Grafana 11.3+ resolves a uid
//! where an id is expected before it authorizes (pkg/api/api.go `middlewareUserUIDResolver`,
//! `user.UIDToIDHandler`; the team routes' `teamResolver`): a value that parses as a 64-bit
//! integer is the id, anything else is looked up as a uid, and an unknown uid is a 404.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The user id a path parameter names: the number itself (without a lookup), or the id of the
/// user with that uid; an unknown uid is 404 "User not found".
pub async fn user_id(app: &AppState, raw: &str) -> ApiResult<i64> {
    if let Ok(id) = raw.parse::<i64>() {
        return Ok(id);
    }
    app.store
        .user_id_by_uid(raw)
        .await?
        .ok_or_else(|| ApiError::not_found("User not found"))
}

/// The team id a path parameter names in `org_id`: the number itself, or the id of the org's
/// team with that uid; an unknown uid is 404 "Team not found".
pub async fn team_id(app: &AppState, org_id: i64, raw: &str) -> ApiResult<i64> {
    if let Ok(id) = raw.parse::<i64>() {
        return Ok(id);
    }
    app.store
        .team_id_by_uid(org_id, raw)
        .await?
        .ok_or_else(|| ApiError::not_found("Team not found"))
}

/// What an access rule's scope template names through its parameter, resolved: `users:id:{p}`
/// and `global.users:id:{p}` name a user, `teams:id:{p}` a team. Other parameters are left as
/// given.
pub async fn scope_params(
    app: &AppState,
    org_id: i64,
    template: &str,
    params: Vec<(String, String)>,
) -> ApiResult<Vec<(String, String)>> {
    let mut out = Vec::with_capacity(params.len());
    for (name, value) in params {
        let placeholder = format!("{{{name}}}");
        let value = if !template.ends_with(&placeholder) || value.parse::<i64>().is_ok() {
            value
        } else if template.starts_with("users:id:") || template.starts_with("global.users:id:") {
            user_id(app, &value).await?.to_string()
        } else if template.starts_with("teams:id:") {
            team_id(app, org_id, &value).await?.to_string()
        } else {
            value
        };
        out.push((name, value));
    }
    Ok(out)
}
