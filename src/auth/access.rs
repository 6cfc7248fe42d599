//! Access control shaped like Grafana's RBAC (`pkg/services/accesscontrol`): a caller holds
//! permissions — an action on a scope — derived from their basic roles, and every route asks for
//! one action on one scope. Scopes match Grafana's way: a granted scope ending in `*` covers every
//! scope with that prefix (`users:*` covers `users:id:7`), and `*` covers everything.

pub use crate::domain::role::OrgRole;

use super::actions;

/// Which org a permission is evaluated in (Grafana's `authorize` / `authorizeInOrg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InOrg {
    /// The request's org: the caller's current org, or `X-Grafana-Org-Id`.
    Current,
    /// The org named by a path parameter (`/api/orgs/{orgId}/…`): the caller's role there counts.
    Path(&'static str),
    /// No org: only server-wide grants (Grafana Admin) count.
    Global,
}

/// What a route asks of its caller. Declared once per route, in the route table.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// No credentials needed (health, login).
    Public,
    /// Any signed-in caller.
    SignedIn,
    /// A signed-in person: service accounts get Grafana's `304 Not Modified` ("Endpoint only
    /// available for users", its body dropped as HTTP requires; `getUserID` in
    /// `pkg/api/user.go`).
    UserOnly,
    /// An RBAC permission. `scope` may name a path parameter in braces, e.g. `users:id:{id}`.
    Permission {
        action: &'static str,
        scope: Option<&'static str>,
        org: InOrg,
    },
}

impl Access {
    pub const fn perm(action: &'static str, scope: &'static str) -> Self {
        Access::Permission {
            action,
            scope: Some(scope),
            org: InOrg::Current,
        }
    }
    pub const fn action(action: &'static str) -> Self {
        Access::Permission {
            action,
            scope: None,
            org: InOrg::Current,
        }
    }
    /// Evaluated in the org named by path parameter `param` instead of the request's org.
    pub const fn in_org(self, param: &'static str) -> Self {
        self.evaluated_in(InOrg::Path(param))
    }
    /// Evaluated with server-wide grants only.
    pub const fn global(self) -> Self {
        self.evaluated_in(InOrg::Global)
    }
    const fn evaluated_in(self, org: InOrg) -> Self {
        match self {
            Access::Permission { action, scope, .. } => Access::Permission { action, scope, org },
            other => other,
        }
    }
}

type Grant = (&'static str, &'static str);

/// What the "Grafana Admin" basic role grants (Grafana's fixed roles `fixed:users:writer`,
/// `fixed:settings:reader`, `fixed:stats:reader`, `fixed:organization:writer` …).
const SERVER_ADMIN: &[Grant] = &[
    (actions::USERS_READ, "global.users:*"),
    (actions::USERS_READ, "users:*"),
    (actions::USERS_WRITE, "global.users:*"),
    (actions::USERS_WRITE, "users:*"),
    (actions::USERS_CREATE, ""),
    (actions::USERS_DELETE, "global.users:*"),
    (actions::USERS_DELETE, "users:*"),
    (actions::USERS_ENABLE, "global.users:*"),
    (actions::USERS_ENABLE, "users:*"),
    (actions::USERS_DISABLE, "global.users:*"),
    (actions::USERS_DISABLE, "users:*"),
    (actions::USERS_PASSWORD_WRITE, "global.users:*"),
    (actions::USERS_PASSWORD_WRITE, "users:*"),
    (actions::USERS_PERMISSIONS_READ, "global.users:*"),
    (actions::USERS_PERMISSIONS_READ, "users:*"),
    (actions::USERS_PERMISSIONS_WRITE, "global.users:*"),
    (actions::USERS_PERMISSIONS_WRITE, "users:*"),
    (actions::USERS_TEAMS_READ, "global.users:*"),
    (actions::USERS_TEAMS_READ, "users:*"),
    (actions::USERS_LOGOUT, "global.users:*"),
    (actions::USERS_LOGOUT, "users:*"),
    (actions::USERS_AUTHTOKEN_READ, "global.users:*"),
    (actions::USERS_AUTHTOKEN_READ, "users:*"),
    (actions::USERS_AUTHTOKEN_WRITE, "global.users:*"),
    (actions::USERS_AUTHTOKEN_WRITE, "users:*"),
    (actions::USERS_QUOTAS_READ, "global.users:*"),
    (actions::USERS_QUOTAS_READ, "users:*"),
    (actions::USERS_QUOTAS_WRITE, "global.users:*"),
    (actions::USERS_QUOTAS_WRITE, "users:*"),
    (actions::USERS_ROLES_READ, "users:*"),
    (actions::USERS_ROLES_ADD, "users:*"),
    (actions::USERS_ROLES_REMOVE, "users:*"),
    // Grafana's fixed:roles:writer, granted to Grafana Admin.
    (actions::ROLES_READ, "roles:*"),
    (actions::ROLES_WRITE, "permissions:type:delegate"),
    (actions::ROLES_DELETE, "permissions:type:delegate"),
    (actions::USERS_ROLES_ADD, "permissions:type:delegate"),
    (actions::USERS_ROLES_REMOVE, "permissions:type:delegate"),
    (actions::TEAMS_ROLES_READ, "teams:*"),
    (actions::TEAMS_ROLES_ADD, "permissions:type:delegate"),
    (actions::TEAMS_ROLES_REMOVE, "permissions:type:delegate"),
    (actions::ROLES_BUILTIN_LIST, "roles:*"),
    (actions::ROLES_BUILTIN_ADD, "permissions:type:delegate"),
    (actions::ROLES_BUILTIN_REMOVE, "permissions:type:delegate"),
    (actions::SETTINGS_READ, "settings:*"),
    (actions::SETTINGS_WRITE, "settings:*"),
    (actions::SERVER_STATS_READ, ""),
    (actions::AUDIT_READ, ""),
    // fixed:usagestats:reader, granted to Grafana Admin.
    (actions::SERVER_STATS_REPORT_READ, ""),
    (actions::ORGS_READ, "orgs:*"),
    (actions::ORGS_WRITE, "orgs:*"),
    (actions::ORGS_CREATE, ""),
    (actions::ORGS_DELETE, "orgs:*"),
    (actions::ORGS_QUOTAS_READ, "orgs:*"),
    (actions::ORGS_QUOTAS_WRITE, "orgs:*"),
    (actions::ORG_USERS_READ, "users:*"),
    (actions::ORG_USERS_ADD, "users:*"),
    (actions::ORG_USERS_WRITE, "users:*"),
    (actions::ORG_USERS_REMOVE, "users:*"),
    (actions::PROVISIONING_RELOAD, "provisioners:*"),
];

/// What every member of an org holds there (Grafana's `fixed:organization:reader`, granted to
/// Viewer and so to Editor and Admin).
/// Dashboards in the General folder: Grafana writes managed View permissions for Viewers (and
/// the folder read grant `fixed:folders.general:reader`) when a dashboard is created there.
/// Data sources: in Grafana OSS (no `dspermissions.enforcement` licence) `fixed:datasources:reader`
/// is granted to Viewer, not only Admin (`pkg/api/accesscontrol.go`).
const ORG_VIEWER: &[Grant] = &[
    (actions::ORGS_READ, ""),
    (actions::ORGS_QUOTAS_READ, ""),
    (actions::DASHBOARDS_READ, "dashboards:*"),
    (actions::FOLDERS_READ, "folders:uid:general"),
    (actions::DATASOURCES_READ, "datasources:*"),
];

/// What an Editor holds beyond a Viewer: managed Edit on General's dashboards and
/// `fixed:dashboards:creator` (`dashboards:create` in General).
const ORG_EDITOR: &[Grant] = &[
    (actions::DASHBOARDS_WRITE, "dashboards:*"),
    (actions::DASHBOARDS_DELETE, "dashboards:*"),
    (actions::DASHBOARDS_CREATE, "folders:uid:general"),
];

/// What an org Admin holds in their org beyond a Viewer (Grafana's `fixed:organization:writer`,
/// `fixed:org.users:writer`, `fixed:teams:writer`, `fixed:teams:creator`).
const ORG_ADMIN: &[Grant] = &[
    (actions::ORGS_WRITE, ""),
    (actions::ORG_AUDIT_READ, ""),
    (actions::ORGS_PREFERENCES_READ, ""),
    (actions::ORGS_PREFERENCES_WRITE, ""),
    (actions::ORG_USERS_READ, "users:*"),
    (actions::ORG_USERS_ADD, "users:*"),
    (actions::ORG_USERS_WRITE, "users:*"),
    (actions::ORG_USERS_REMOVE, "users:*"),
    (actions::USERS_PERMISSIONS_READ, "users:*"),
    (actions::TEAMS_CREATE, ""),
    (actions::TEAMS_READ, "teams:*"),
    (actions::TEAMS_WRITE, "teams:*"),
    (actions::TEAMS_DELETE, "teams:*"),
    (actions::TEAMS_PERMISSIONS_READ, "teams:*"),
    (actions::TEAMS_PERMISSIONS_WRITE, "teams:*"),
    // Grafana's fixed:dashboards:writer.
    (actions::DASHBOARDS_CREATE, "folders:*"),
    (actions::DASHBOARDS_PERMISSIONS_READ, "dashboards:*"),
    (actions::DASHBOARDS_PERMISSIONS_WRITE, "dashboards:*"),
    // Grafana's fixed:serviceaccounts:reader, :creator and :writer, granted to Admin only
    // (`pkg/services/serviceaccounts/manager/roles.go`).
    (actions::SERVICEACCOUNTS_READ, "serviceaccounts:*"),
    (actions::SERVICEACCOUNTS_CREATE, ""),
    (actions::SERVICEACCOUNTS_WRITE, "serviceaccounts:*"),
    (actions::SERVICEACCOUNTS_DELETE, "serviceaccounts:*"),
    (
        actions::SERVICEACCOUNTS_PERMISSIONS_READ,
        "serviceaccounts:*",
    ),
    (
        actions::SERVICEACCOUNTS_PERMISSIONS_WRITE,
        "serviceaccounts:*",
    ),
    // Grafana 11's fixed:apikeys roles, for the legacy /api/auth/keys routes.
    (actions::APIKEYS_READ, "apikeys:*"),
    (actions::APIKEYS_CREATE, ""),
    (actions::APIKEYS_DELETE, "apikeys:*"),
];

/// What a team member holds on their team (Grafana's managed team permissions,
/// `pkg/services/accesscontrol/ossaccesscontrol/permissions_services.go`).
const TEAM_MEMBER: &[&str] = &[actions::TEAMS_READ];
const TEAM_ADMIN: &[&str] = &[
    actions::TEAMS_READ,
    actions::TEAMS_WRITE,
    actions::TEAMS_DELETE,
    actions::TEAMS_PERMISSIONS_READ,
    actions::TEAMS_PERMISSIONS_WRITE,
];

/// The permissions of one caller, computed per request from their roles (and, for team routes,
/// their team memberships).
#[derive(Debug, Clone)]
pub struct Permissions {
    server_admin: bool,
    org_role: Option<OrgRole>,
    /// Grants from team memberships and custom roles, as (action, scope).
    managed: Vec<(String, String)>,
}

impl Permissions {
    pub fn new(server_admin: bool, org_role: Option<OrgRole>) -> Self {
        Self {
            server_admin,
            org_role,
            managed: Vec::new(),
        }
    }

    /// Adds the grants of team memberships: (team id, permission), 4 being team Admin.
    pub fn add_team_grants(&mut self, memberships: &[(i64, i64)]) {
        for (team, permission) in memberships {
            let actions = if *permission == 4 {
                TEAM_ADMIN
            } else {
                TEAM_MEMBER
            };
            for action in actions {
                self.managed
                    .push((action.to_string(), format!("teams:id:{team}")));
            }
        }
    }

    /// Adds grants from custom roles.
    pub fn add_grants(&mut self, grants: Vec<(String, String)>) {
        self.managed.extend(grants);
    }

    pub fn is_server_admin(&self) -> bool {
        self.server_admin
    }

    /// The ids `action` is granted on through scopes `<kind>:id:<n>`, or `None` when it is
    /// granted on every one (`<kind>:*`). For listings that show only what the caller may see.
    pub fn granted_ids(&self, action: &str, kind: &str) -> Option<Vec<i64>> {
        if self.allows(action, Some(&format!("{kind}:id:*"))) {
            return None;
        }
        let prefix = format!("{kind}:id:");
        Some(
            self.managed
                .iter()
                .filter(|(a, _)| a == action)
                .filter_map(|(_, scope)| scope.strip_prefix(&prefix)?.parse().ok())
                .collect(),
        )
    }

    /// Every grant, static and managed, as (action, scope): what a role may delegate.
    pub fn holds(&self, action: &str, scope: &str) -> bool {
        self.allows(action, Some(scope))
    }

    pub fn org_role(&self) -> Option<OrgRole> {
        self.org_role
    }

    fn grants(&self) -> impl Iterator<Item = &Grant> {
        let admin: &[Grant] = if self.server_admin { SERVER_ADMIN } else { &[] };
        let (member, editor, org_admin): (&[Grant], &[Grant], &[Grant]) = match self.org_role {
            Some(OrgRole::Viewer) => (ORG_VIEWER, &[], &[]),
            Some(OrgRole::Editor) => (ORG_VIEWER, ORG_EDITOR, &[]),
            Some(OrgRole::Admin) => (ORG_VIEWER, ORG_EDITOR, ORG_ADMIN),
            Some(OrgRole::None) | None => (&[], &[], &[]),
        };
        admin.iter().chain(member).chain(editor).chain(org_admin)
    }

    /// Grafana's evaluator: the action must be granted on a scope covering `scope` (any scope
    /// when the route names none).
    pub fn allows(&self, action: &str, scope: Option<&str>) -> bool {
        let covers = |granted: &str| match scope {
            None => true,
            Some(wanted) => scope_covers(granted, wanted),
        };
        self.grants()
            .any(|(a, granted)| *a == action && covers(granted))
            || self
                .managed
                .iter()
                .any(|(a, granted)| *a == action && covers(granted))
    }
}

/// True when a granted scope covers a requested one.
pub fn scope_covers(granted: &str, wanted: &str) -> bool {
    if granted == wanted || granted == "*" {
        return true;
    }
    match granted.strip_suffix('*') {
        Some(prefix) => wanted.starts_with(prefix),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_prefixes_only() {
        assert!(scope_covers("users:*", "users:id:7"));
        assert!(scope_covers("*", "teams:id:1"));
        assert!(scope_covers("global.users:*", "global.users:*"));
        assert!(!scope_covers("users:id:7", "users:id:8"));
        assert!(!scope_covers("users:*", "global.users:*"));
    }

    #[test]
    fn only_server_admins_manage_users() {
        let admin = Permissions::new(true, Some(OrgRole::Viewer));
        let org_admin = Permissions::new(false, Some(OrgRole::Admin));
        assert!(admin.allows(actions::USERS_READ, Some("global.users:*")));
        assert!(admin.allows(actions::USERS_CREATE, None));
        assert!(!org_admin.allows(actions::USERS_READ, Some("global.users:*")));
        assert!(!org_admin.allows(actions::USERS_CREATE, None));
    }

    #[test]
    fn org_roles_grant_org_permissions() {
        let viewer = Permissions::new(false, Some(OrgRole::Viewer));
        let editor = Permissions::new(false, Some(OrgRole::Editor));
        let admin = Permissions::new(false, Some(OrgRole::Admin));
        let none = Permissions::new(false, Some(OrgRole::None));
        for p in [&viewer, &editor, &admin] {
            assert!(p.allows(actions::ORGS_READ, None));
        }
        assert!(!none.allows(actions::ORGS_READ, None));
        assert!(!editor.allows(actions::ORGS_WRITE, None));
        assert!(admin.allows(actions::ORGS_WRITE, None));
        assert!(admin.allows(actions::ORG_USERS_WRITE, Some("users:id:7")));
        assert!(!viewer.allows(actions::ORG_USERS_READ, None));
        assert!(!admin.allows(actions::ORGS_CREATE, None));
    }
}
