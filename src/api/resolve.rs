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
/// and `global.users:id:{p}` name a user, `teams:id:{p}` a team. A uid that names nothing stays
/// as given, so only a grant on every user (or team) matches it and the handler answers the 404;
/// any other caller is refused as for a uid that exists. Grafana resolves before it authorizes
/// and so tells anyone signed in which uids exist; this server does not (tests/api/compat.rs).
/// Other parameters are left as given.
pub async fn scope_params(
    app: &AppState,
    org_id: i64,
    template: &str,
    params: Vec<(String, String)>,
) -> ApiResult<Vec<(String, String)>> {
    let mut out = Vec::with_capacity(params.len());
    for (name, value) in params {
        let placeholder = format!("{{{name}}}");
        let resolved = if !template.ends_with(&placeholder) || value.parse::<i64>().is_ok() {
            None
        } else if template.starts_with("users:id:") || template.starts_with("global.users:id:") {
            app.store.user_id_by_uid(&value).await?
        } else if template.starts_with("teams:id:") {
            app.store.team_id_by_uid(org_id, &value).await?
        } else {
            None
        };
        out.push((name, resolved.map_or(value, |id| id.to_string())));
    }
    Ok(out)
}
