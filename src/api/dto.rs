//! Wire shapes shared by several API areas, with Grafana's JSON names
//! (`pkg/services/user/model.go`, `pkg/services/team/model.go`, `pkg/services/org/model.go`).

use schemars::JsonSchema;
use serde::Serialize;

use crate::auth::SignedInUser;
use crate::domain::{age_string, auth_label, avatar_url, rfc3339};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::{UserOrgRow, UserRow, UserTeamRow};

/// `{"message": …}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Message {
    pub message: String,
}

pub fn message(text: &str) -> axum::Json<Message> {
    axum::Json(Message {
        message: text.to_string(),
    })
}

/// Grafana's `UserProfileDTO` (`GET /api/user`, `/api/users/:id`, `/api/users/lookup`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    pub id: i64,
    pub uid: String,
    pub email: String,
    pub name: String,
    pub login: String,
    pub theme: String,
    pub org_id: i64,
    pub is_grafana_admin: bool,
    pub is_disabled: bool,
    pub is_external: bool,
    pub is_externally_synced: bool,
    pub is_grafana_admin_externally_synced: bool,
    /// `null` for a service account (Grafana leaves the slice nil).
    pub auth_labels: Option<Vec<String>>,
    pub updated_at: String,
    pub created_at: String,
    pub avatar_url: String,
    pub is_provisioned: bool,
}

impl UserProfile {
    /// Grafana's `getUserUserProfile`: the label of the user's latest auth module only.
    pub async fn load(app: &AppState, user: &UserRow) -> ApiResult<Self> {
        let modules = app.store.auth_modules(&[user.id]).await?;
        Ok(Self::new(
            &SignedInUser::from(user),
            modules.last().map(|(_, m)| m.as_str()),
        ))
    }

    pub fn new(user: &SignedInUser, auth_module: Option<&str>) -> Self {
        let auth_labels: Vec<String> = auth_module.map(auth_label).into_iter().collect();
        UserProfile {
            id: user.id,
            uid: user.uid.clone().unwrap_or_default(),
            email: user.email.clone(),
            name: user.name.clone().unwrap_or_default(),
            login: user.login.clone(),
            // The stored theme, "" until set: Grafana's profile does not fill in `default_theme`.
            theme: user.theme.clone().unwrap_or_default(),
            org_id: user.org_id,
            is_grafana_admin: user.is_admin,
            is_disabled: user.is_disabled,
            is_external: !auth_labels.is_empty(),
            is_externally_synced: false,
            is_grafana_admin_externally_synced: false,
            auth_labels: Some(auth_labels),
            updated_at: rfc3339(user.updated),
            created_at: rfc3339(user.created),
            avatar_url: avatar_url(&user.email),
            is_provisioned: user.is_provisioned,
        }
    }
}

impl UserProfile {
    /// What Grafana 12 answers a service account asking `GET /api/user`: a profile built from
    /// the identity rather than the database — id 0, uid `service-account:<id>`, zero times
    /// (`GetSignedInUser` in `pkg/api/user.go`).
    pub fn of_service_account(account: &SignedInUser, org_id: i64) -> Self {
        const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
        let name = account
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| account.login.clone());
        UserProfile {
            id: 0,
            uid: format!("service-account:{}", account.id),
            email: account.email.clone(),
            name,
            login: account.login.clone(),
            theme: String::new(),
            org_id,
            is_grafana_admin: false,
            is_disabled: account.is_disabled,
            is_external: false,
            is_externally_synced: false,
            is_grafana_admin_externally_synced: false,
            auth_labels: None,
            updated_at: ZERO_TIME.to_string(),
            created_at: ZERO_TIME.to_string(),
            avatar_url: String::new(),
            is_provisioned: false,
        }
    }
}

/// Grafana's `UserSearchHitDTO` (`GET /api/users`, `/api/users/search`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserSearchHit {
    pub id: i64,
    pub uid: String,
    pub name: String,
    pub login: String,
    pub email: String,
    pub avatar_url: String,
    pub is_admin: bool,
    pub is_disabled: bool,
    pub last_seen_at: String,
    pub last_seen_at_age: String,
    pub auth_labels: Vec<String>,
    pub is_provisioned: bool,
}

impl UserSearchHit {
    /// Shapes rows, loading every row's auth labels in one query.
    pub async fn from_rows(app: &AppState, rows: &[UserRow]) -> ApiResult<Vec<Self>> {
        let ids: Vec<i64> = rows.iter().map(|u| u.id).collect();
        let modules = app.store.auth_modules(&ids).await?;
        let now = app.clock.now().naive_utc();
        Ok(rows
            .iter()
            .map(|u| {
                let labels = modules
                    .iter()
                    .filter(|(id, _)| *id == u.id)
                    .map(|(_, m)| auth_label(m))
                    .collect();
                let seen = u.last_seen_at.unwrap_or(u.created);
                UserSearchHit {
                    id: u.id,
                    uid: u.uid.clone().unwrap_or_default(),
                    name: u.name.clone().unwrap_or_default(),
                    login: u.login.clone(),
                    email: u.email.clone(),
                    avatar_url: avatar_url(&u.email),
                    is_admin: u.is_admin,
                    is_disabled: u.is_disabled,
                    last_seen_at: rfc3339(seen),
                    last_seen_at_age: age_string(now - seen),
                    auth_labels: labels,
                    is_provisioned: u.is_provisioned,
                }
            })
            .collect())
    }
}

/// Grafana's `UserOrgDTO`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserOrg {
    pub org_id: i64,
    pub name: String,
    pub role: String,
}

impl From<UserOrgRow> for UserOrg {
    fn from(r: UserOrgRow) -> Self {
        UserOrg {
            org_id: r.org_id,
            name: r.name,
            role: r.role,
        }
    }
}

/// Grafana's `TeamDTO` (`pkg/services/team/model.go`), as team search and the user endpoints
/// return it: `permission` is always 0 there and `accessControl` null.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserTeam {
    pub id: i64,
    pub uid: String,
    pub org_id: i64,
    pub name: String,
    pub email: String,
    #[serde(rename = "externalUID")]
    pub external_uid: String,
    pub is_provisioned: bool,
    pub avatar_url: String,
    pub member_count: i64,
    pub permission: i64,
    pub access_control: Option<std::collections::BTreeMap<String, bool>>,
}

impl From<UserTeamRow> for UserTeam {
    fn from(r: UserTeamRow) -> Self {
        let email = r.email.unwrap_or_default();
        // Grafana's team avatar: the gravatar of the team email, or of the team name.
        let avatar = if email.is_empty() {
            avatar_url(&r.name)
        } else {
            avatar_url(&email)
        };
        UserTeam {
            id: r.id,
            uid: r.uid.unwrap_or_default(),
            org_id: r.org_id,
            name: r.name,
            email,
            external_uid: String::new(),
            is_provisioned: false,
            avatar_url: avatar,
            member_count: r.member_count,
            permission: 0,
            access_control: None,
        }
    }
}
