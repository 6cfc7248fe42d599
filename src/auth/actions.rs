//! The names of the RBAC actions a caller may hold (Grafana's, `pkg/services/accesscontrol`),
//! used by the route table, the basic-role grants and the checks inside handlers.

pub const APIKEYS_CREATE: &str = "apikeys:create";
pub const APIKEYS_DELETE: &str = "apikeys:delete";
pub const APIKEYS_READ: &str = "apikeys:read";

pub const DASHBOARDS_PERMISSIONS_READ: &str = "dashboards.permissions:read";
pub const DASHBOARDS_PERMISSIONS_WRITE: &str = "dashboards.permissions:write";
pub const DASHBOARDS_CREATE: &str = "dashboards:create";
pub const DASHBOARDS_DELETE: &str = "dashboards:delete";
pub const DASHBOARDS_READ: &str = "dashboards:read";
pub const DASHBOARDS_WRITE: &str = "dashboards:write";

pub const DATASOURCES_READ: &str = "datasources:read";

pub const FOLDERS_READ: &str = "folders:read";

pub const ORG_USERS_ADD: &str = "org.users:add";
pub const ORG_USERS_READ: &str = "org.users:read";
pub const ORG_USERS_REMOVE: &str = "org.users:remove";
pub const ORG_USERS_WRITE: &str = "org.users:write";

pub const ORGS_PREFERENCES_READ: &str = "orgs.preferences:read";
pub const ORGS_PREFERENCES_WRITE: &str = "orgs.preferences:write";
pub const ORGS_QUOTAS_READ: &str = "orgs.quotas:read";
pub const ORGS_QUOTAS_WRITE: &str = "orgs.quotas:write";
pub const ORGS_CREATE: &str = "orgs:create";
pub const ORGS_DELETE: &str = "orgs:delete";
pub const ORGS_READ: &str = "orgs:read";
pub const ORGS_WRITE: &str = "orgs:write";

pub const PROVISIONING_RELOAD: &str = "provisioning:reload";

pub const ROLES_BUILTIN_ADD: &str = "roles.builtin:add";
pub const ROLES_BUILTIN_LIST: &str = "roles.builtin:list";
pub const ROLES_BUILTIN_REMOVE: &str = "roles.builtin:remove";
pub const ROLES_DELETE: &str = "roles:delete";
pub const ROLES_READ: &str = "roles:read";
pub const ROLES_WRITE: &str = "roles:write";

pub const SERVER_STATS_READ: &str = "server.stats:read";
/// The usage report preview (`pkg/infra/usagestats/service/accesscontrol.go`).
pub const SERVER_STATS_REPORT_READ: &str = "server.stats.report:read";

pub const SERVICEACCOUNTS_PERMISSIONS_READ: &str = "serviceaccounts.permissions:read";
pub const SERVICEACCOUNTS_PERMISSIONS_WRITE: &str = "serviceaccounts.permissions:write";
pub const SERVICEACCOUNTS_CREATE: &str = "serviceaccounts:create";
pub const SERVICEACCOUNTS_DELETE: &str = "serviceaccounts:delete";
pub const SERVICEACCOUNTS_READ: &str = "serviceaccounts:read";
pub const SERVICEACCOUNTS_WRITE: &str = "serviceaccounts:write";

pub const SETTINGS_READ: &str = "settings:read";
/// Usher's own: every org's audit records (`GET /api/admin/audit`), for server admins.
pub const AUDIT_READ: &str = "usher.audit:read";
/// Usher's own: the current org's audit records (`GET /api/org/audit`), for org Admins.
pub const ORG_AUDIT_READ: &str = "usher.org.audit:read";
pub const SETTINGS_WRITE: &str = "settings:write";

pub const TEAMS_PERMISSIONS_READ: &str = "teams.permissions:read";
pub const TEAMS_PERMISSIONS_WRITE: &str = "teams.permissions:write";
pub const TEAMS_ROLES_ADD: &str = "teams.roles:add";
pub const TEAMS_ROLES_READ: &str = "teams.roles:read";
pub const TEAMS_ROLES_REMOVE: &str = "teams.roles:remove";
pub const TEAMS_CREATE: &str = "teams:create";
pub const TEAMS_DELETE: &str = "teams:delete";
pub const TEAMS_READ: &str = "teams:read";
pub const TEAMS_WRITE: &str = "teams:write";

pub const USERS_AUTHTOKEN_READ: &str = "users.authtoken:read";
pub const USERS_AUTHTOKEN_WRITE: &str = "users.authtoken:write";
pub const USERS_LOGOUT: &str = "users.logout";
pub const USERS_PASSWORD_WRITE: &str = "users.password:write";
pub const USERS_PERMISSIONS_READ: &str = "users.permissions:read";
pub const USERS_PERMISSIONS_WRITE: &str = "users.permissions:write";
pub const USERS_QUOTAS_READ: &str = "users.quotas:read";
pub const USERS_QUOTAS_WRITE: &str = "users.quotas:write";
pub const USERS_ROLES_ADD: &str = "users.roles:add";
pub const USERS_ROLES_READ: &str = "users.roles:read";
pub const USERS_ROLES_REMOVE: &str = "users.roles:remove";
pub const USERS_TEAMS_READ: &str = "users.teams:read";
pub const USERS_CREATE: &str = "users:create";
pub const USERS_DELETE: &str = "users:delete";
pub const USERS_DISABLE: &str = "users:disable";
pub const USERS_ENABLE: &str = "users:enable";
pub const USERS_READ: &str = "users:read";
pub const USERS_WRITE: &str = "users:write";
