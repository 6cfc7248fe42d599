//! Configuration the way Grafana users know it: `grafana.ini` sections and keys with Grafana's
//! defaults, an optional INI file, then `GF_<SECTION>_<KEY>` environment overrides
//! (Grafana's `pkg/setting/setting.go`: section names upper-cased, `.` and `-` turned into `_`).
//!
//! The raw, merged key/value map is kept for `GET /api/admin/settings`; typed sections are parsed
//! from it once, and a bad value stops start-up with an error that names the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::domain::role::OrgRole;

/// Grafana's defaults for every key this server reads (`conf/defaults.ini`).
const DEFAULTS: &[(&str, &str, &str)] = &[
    // Usher's own audit log (src/audit): on by default, records kept a year, and optionally
    // copied as JSON lines to a file or to `stdout`.
    ("audit", "enabled", "true"),
    ("audit", "retention_days", "365"),
    ("audit", "log_path", ""),
    ("server", "protocol", "http"),
    ("server", "http_addr", ""),
    ("server", "http_port", "3000"),
    ("server", "domain", "localhost"),
    (
        "server",
        "root_url",
        "%(protocol)s://%(domain)s:%(http_port)s/",
    ),
    ("server", "router_logging", "false"),
    // Usher's own: the request header that carries the client's address when a reverse proxy
    // sits in front (e.g. X-Forwarded-For, whose last entry is used, or X-Real-IP). Empty: the
    // socket's peer address, so that a client cannot choose the address it is throttled by.
    ("server", "client_ip_header", ""),
    // Connection limits (src/server.rs); 0 turns one off. Grafana's `read_timeout` (Go's
    // ReadTimeout: the whole request, head and body) defaults to 0 there; the others are Usher's.
    ("server", "read_header_timeout", "10s"),
    ("server", "read_timeout", "30s"),
    ("server", "idle_timeout", "120s"),
    ("server", "max_connections", "512"),
    ("paths", "data", "data"),
    ("paths", "logs", "data/log"),
    ("paths", "provisioning", "conf/provisioning"),
    ("database", "type", "sqlite3"),
    ("database", "host", "127.0.0.1:3306"),
    ("database", "name", "grafana"),
    ("database", "user", "root"),
    ("database", "password", ""),
    ("database", "url", ""),
    ("database", "path", "grafana.db"),
    ("database", "max_open_conn", "0"),
    ("database", "ssl_mode", "disable"),
    // Grafana defaults `wal` to false; this server's embedded default is WAL (see README).
    ("database", "wal", "true"),
    ("database", "busy_timeout", "5000"),
    ("security", "admin_user", "admin"),
    ("security", "admin_password", "admin"),
    ("security", "admin_email", "admin@localhost"),
    ("security", "secret_key", "SW2YcwTIb9zpOOhoPsMm"),
    ("security", "disable_initial_admin_creation", "false"),
    ("security", "cookie_secure", "false"),
    ("security", "cookie_samesite", "lax"),
    ("security", "csrf_trusted_origins", ""),
    ("security", "csrf_additional_headers", ""),
    ("security", "csrf_always_check", "false"),
    ("security", "disable_brute_force_login_protection", "false"),
    ("security", "brute_force_login_protection_max_attempts", "5"),
    // Grafana defaults this to true (no per-address limit); this server limits addresses too.
    ("security", "disable_ip_address_login_protection", "false"),
    // Usher's own: failures from one address (any login) before it is refused, and failures for
    // one login from all addresses before it is refused everywhere (see README).
    ("security", "ip_address_login_protection_max_attempts", "20"),
    (
        "security",
        "brute_force_login_protection_max_attempts_all_addresses",
        "50",
    ),
    // Usher's own: how long a successful sign-in exempts that login, from that address, from the
    // per-address limit (0: no exemption). See src/auth/brute_force.rs.
    (
        "security",
        "ip_address_login_protection_known_login_duration",
        "30d",
    ),
    // Not a Grafana key: `argon2id` (default) or `pbkdf2` (Grafana's own format).
    ("security", "password_hash", "argon2id"),
    // Usher's own: threads that compute password and token hashes (0 = one per core), each
    // keeping one argon2 buffer (19 MiB); and how many hashes may wait for a thread before
    // further sign-ins are refused with 503 and Retry-After (about a second of waiting on two
    // cores).
    ("security", "password_hash_concurrency", "0"),
    ("security", "password_hash_queue", "64"),
    ("users", "allow_sign_up", "false"),
    ("users", "allow_org_create", "false"),
    ("users", "auto_assign_org", "true"),
    ("users", "auto_assign_org_id", "1"),
    ("users", "auto_assign_org_role", "Viewer"),
    ("users", "default_theme", "dark"),
    ("users", "last_seen_update_interval", "15m"),
    ("users", "login_hint", "email or username"),
    ("users", "password_hint", "password"),
    ("users", "viewers_can_edit", "false"),
    ("dashboards", "min_refresh_interval", "5s"),
    // A list of toggle names to turn on; `[feature_toggles] <name> = true|false` sets one.
    ("feature_toggles", "enable", ""),
    ("auth", "login_cookie_name", "grafana_session"),
    ("auth", "login_maximum_inactive_lifetime_duration", "7d"),
    ("auth", "login_maximum_lifetime_duration", "30d"),
    ("auth", "token_rotation_interval_minutes", "10"),
    ("auth", "disable_login_form", "false"),
    ("auth", "signout_redirect_url", ""),
    // Usher's own: how long a session row read for a cookie may be reused before it is read again
    // (0 = every request). Empty: 1s on SQLite (one server per database file), 0 on PostgreSQL
    // and MySQL, where another instance may revoke a session at any time.
    ("auth", "session_cache_revalidate_interval", ""),
    // Usher's own: the most session rows kept by that cache; when full, rows are evicted one at a
    // time (least recently or frequently used first), never all at once.
    ("auth", "session_cache_max_entries", "100000"),
    // Grafana's: the longest lifetime a service-account token may be given, in seconds (-1: no
    // limit, and a token may live forever).
    ("auth", "api_key_max_seconds_to_live", "-1"),
    // Usher's own: how long a verified machine token's row may be reused before it is read again
    // (0 = every request). Empty: as session_cache_revalidate_interval (1s on SQLite, 0 on
    // PostgreSQL and MySQL). Token hashes are cached either way.
    ("auth", "api_key_cache_revalidate_interval", ""),
    // Usher's own: the most verified machine tokens kept (evicted one at a time when full).
    ("auth", "api_key_cache_max_entries", "100000"),
    // Grafana's: the most days ahead a service-account token may expire (-1: no limit).
    ("service_accounts", "token_expiration_day_limit", "-1"),
    ("auth.basic", "enabled", "true"),
    ("auth.basic", "password_policy", "false"),
    // Usher's own: how long a cached basic-auth credential is trusted before the user's row is
    // read again (0 = on every request). Changes made through this instance apply at once.
    ("auth.basic", "cache_revalidate_interval", "1s"),
    // Usher's own: the most verified basic-auth credentials kept (evicted one at a time when
    // full, so a flood of new credentials never makes every user pay a password hash again).
    ("auth.basic", "cache_max_entries", "100000"),
    ("quota", "enabled", "false"),
    ("quota", "org_user", "10"),
    ("quota", "org_dashboard", "100"),
    ("quota", "org_api_key", "10"),
    ("quota", "user_org", "10"),
    ("quota", "global_user", "-1"),
    ("quota", "global_org", "-1"),
    ("quota", "global_dashboard", "-1"),
    ("quota", "global_api_key", "-1"),
    ("log", "level", "info"),
    ("log", "mode", "console"),
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not parse config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid value for [{section}] {key}: {message}")]
    Invalid {
        section: String,
        key: String,
        message: String,
    },
}

/// Every merged setting, section → key → value, as `GET /api/admin/settings` shows them.
pub type RawSettings = BTreeMap<String, BTreeMap<String, String>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbType {
    Sqlite,
    Postgres,
    MySql,
}

pub use crate::domain::password::PasswordHashScheme;

/// A secret setting (a password, a key, a URL that may hold a password). Its `Debug` shows
/// `Secret(…)`, never the value; code that needs the value asks for it with [`Secret::expose`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Whether a setting's name says it holds a secret (Grafana's `RedactedValue` list: a name that
/// contains `password`, `secret`, `token` …). `GET /api/admin/settings` redacts by it too.
pub fn is_secret_name(key: &str) -> bool {
    let key = key.to_lowercase();
    [
        "password",
        "secret",
        "provider_config",
        "private_key",
        "certificate",
        "account_key",
        "token",
        "api_key",
    ]
    .iter()
    .any(|s| key.contains(s))
}

/// Whether a setting holds a secret by its name ([`is_secret_name`]) or its value (a URL with a
/// password in it).
fn is_secret_setting(key: &str, value: &str) -> bool {
    let named = is_secret_name(key);
    let url_with_userinfo = value
        .split_once("://")
        .is_some_and(|(_, rest)| rest.split('/').next().unwrap_or("").contains('@'));
    named || url_with_userinfo || key == "url"
}

/// The raw settings as `Debug` shows them: secret values as `Secret(…)`.
struct RedactedRaw<'a>(&'a RawSettings);

impl std::fmt::Debug for RedactedRaw<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for (section, keys) in self.0 {
            let shown: BTreeMap<&str, &dyn std::fmt::Debug> = keys
                .iter()
                .map(|(k, v)| {
                    let v: &dyn std::fmt::Debug = if is_secret_setting(k, v) {
                        &REDACTED_SECRET
                    } else {
                        v
                    };
                    (k.as_str(), v)
                })
                .collect();
            map.entry(section, &shown);
        }
        map.finish()
    }
}

static REDACTED_SECRET: Secret = Secret(String::new());

#[derive(Clone)]
pub struct Config {
    pub raw: RawSettings,
    pub server: ServerSection,
    pub paths: PathsSection,
    pub database: DatabaseSection,
    pub security: SecuritySection,
    pub users: UsersSection,
    pub auth: AuthSection,
    pub auth_basic: AuthBasicSection,
    pub quota: QuotaSection,
    pub audit: AuditSection,
    pub frontend: FrontendSection,
    pub log_level: String,
}

/// `[audit]`: Usher's audit log (`crate::audit`).
#[derive(Debug, Clone)]
pub struct AuditSection {
    pub enabled: bool,
    /// Records older than this many days are removed (0: kept for ever).
    pub retention_days: i64,
    /// A file to append JSON lines to, `stdout`, or empty for none.
    pub log_path: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Config {
            raw,
            server,
            paths,
            database,
            security,
            users,
            auth,
            auth_basic,
            quota,
            audit,
            frontend,
            log_level,
        } = self;
        f.debug_struct("Config")
            .field("raw", &RedactedRaw(raw))
            .field("server", server)
            .field("paths", paths)
            .field("database", database)
            .field("security", security)
            .field("users", users)
            .field("auth", auth)
            .field("auth_basic", auth_basic)
            .field("quota", quota)
            .field("audit", audit)
            .field("frontend", frontend)
            .field("log_level", log_level)
            .finish()
    }
}

/// What `GET /api/frontend/settings` reports from the configuration beyond the typed sections
/// (Grafana's `pkg/setting/setting.go`, `pkg/setting/setting_feature_toggles.go`).
#[derive(Debug, Clone)]
pub struct FrontendSection {
    /// `[feature_toggles] enable` (names separated by spaces or commas) turns toggles on; then
    /// `[feature_toggles] <name> = true|false` sets one.
    pub feature_toggles: BTreeMap<String, bool>,
    /// `[dashboards] min_refresh_interval`.
    pub min_refresh_interval: String,
    /// `[users] login_hint` and `password_hint`: the sign-in form's placeholders.
    pub login_hint: String,
    pub password_hint: String,
    /// `[users] viewers_can_edit`.
    pub viewers_can_edit: bool,
    /// `app_mode`, the key above every section: `production` (its default) or `development`.
    pub app_mode: String,
}

/// `[quota]`: limits, -1 meaning none (Grafana's `pkg/setting/setting_quota.go`).
#[derive(Debug, Clone)]
pub struct QuotaSection {
    pub enabled: bool,
    pub org_user: i64,
    pub org_dashboard: i64,
    pub org_api_key: i64,
    pub user_org: i64,
    pub global_user: i64,
    pub global_org: i64,
    pub global_dashboard: i64,
    pub global_api_key: i64,
}

#[derive(Debug, Clone)]
pub struct ServerSection {
    pub http_addr: String,
    pub http_port: u16,
    pub root_url: String,
    pub client_ip_header: Option<String>,
    /// A request head must arrive within this time; `None`: no limit.
    pub read_header_timeout: Option<Duration>,
    /// A whole request (head and body) must arrive within this time; `None`: no limit.
    pub read_timeout: Option<Duration>,
    /// A kept-alive connection waits this long for its next request; `None`: no limit.
    pub idle_timeout: Option<Duration>,
    /// Open connections at most; `None`: no limit.
    pub max_connections: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct PathsSection {
    pub data: PathBuf,
    /// Provisioning files (`dashboards/*.yaml`, `access/*.yaml`).
    pub provisioning: PathBuf,
}

#[derive(Debug, Clone)]
pub struct DatabaseSection {
    pub db_type: DbType,
    pub host: String,
    pub name: String,
    pub user: String,
    pub password: Secret,
    /// May hold a password (`postgres://user:password@host/db`).
    pub url: Secret,
    pub path: PathBuf,
    pub wal: bool,
    pub max_open_conn: u32,
    pub busy_timeout: Duration,
    pub ssl_mode: String,
}

#[derive(Debug, Clone)]
pub struct SecuritySection {
    pub admin_user: String,
    pub admin_password: Secret,
    pub admin_email: String,
    pub secret_key: Secret,
    pub disable_initial_admin_creation: bool,
    pub password_hash: PasswordHashScheme,
    /// Hashing threads; 0 = one per core.
    pub password_hash_concurrency: usize,
    /// Hashes that may wait for a thread before requests are shed with 503.
    pub password_hash_queue: usize,
    pub cookie_secure: bool,
    pub cookie_samesite: SameSite,
    /// Host names allowed as `Origin` beside the request's own host.
    pub csrf_trusted_origins: Vec<String>,
    /// Headers whose host also counts as the request's own (e.g. `X-Forwarded-Host`).
    pub csrf_additional_headers: Vec<String>,
    pub csrf_always_check: bool,
    pub brute_force: BruteForce,
}

/// `[security] cookie_samesite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
    None,
    /// No SameSite attribute at all.
    Disabled,
}

/// Limits on failed logins inside Grafana's 5-minute window; `None` means the limit is off.
#[derive(Debug, Clone, Copy)]
pub struct BruteForce {
    /// Grafana's per-login limit, counted per login and client address.
    pub per_login: Option<i64>,
    /// Failures from one address, whatever the login.
    pub per_ip: Option<i64>,
    /// Failures for one login from every address together.
    pub per_login_all_addresses: Option<i64>,
    /// Seconds a successful sign-in exempts that login, from that address, from `per_ip`;
    /// `None`: no exemption.
    pub known_login_secs: Option<i64>,
}

/// `[auth]`: login sessions.
#[derive(Debug, Clone)]
pub struct AuthSection {
    pub login_cookie_name: String,
    pub max_inactive_lifetime: Duration,
    pub max_lifetime: Duration,
    pub token_rotation_interval: Duration,
    pub disable_login_form: bool,
    pub signout_redirect_url: String,
    /// `None` or zero: no session cache.
    pub session_cache_revalidate_interval: Option<Duration>,
    /// `None`: no limit.
    pub api_key_max_seconds_to_live: Option<i64>,
    /// `None` or zero: machine-token rows are read on every request.
    pub api_key_cache_revalidate_interval: Option<Duration>,
    /// The most session rows the session cache keeps (at least 1).
    pub session_cache_max_entries: u64,
    /// The most verified machine tokens the token cache keeps (at least 1).
    pub api_key_cache_max_entries: u64,
    /// `[service_accounts] token_expiration_day_limit`; `None`: no limit.
    pub token_expiration_day_limit: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct UsersSection {
    pub allow_sign_up: bool,
    pub allow_org_create: bool,
    pub auto_assign_org: bool,
    pub auto_assign_org_id: i64,
    pub auto_assign_org_role: OrgRole,
    pub default_theme: String,
    pub last_seen_update_interval: Duration,
}

#[derive(Debug, Clone)]
pub struct AuthBasicSection {
    pub enabled: bool,
    pub password_policy: bool,
    pub cache_revalidate_interval: Duration,
    /// The most verified credentials the basic-auth cache keeps (at least 1).
    pub cache_max_entries: u64,
}

impl Config {
    /// Grafana's defaults, then `file` (if any), then `GF_*` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut raw = defaults();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            merge_ini(&mut raw, &text).map_err(|message| ConfigError::Parse {
                path: path.to_owned(),
                message,
            })?;
        }
        apply_env(&mut raw, env)?;
        Self::from_raw(raw)
    }

    /// Defaults with `overrides` applied as if they came from an INI file (used by tests).
    pub fn with_overrides(overrides: &[(&str, &str, &str)]) -> Result<Self, ConfigError> {
        let mut raw = defaults();
        for (section, key, value) in overrides {
            raw.entry(section.to_string())
                .or_default()
                .insert(key.to_string(), value.to_string());
        }
        Self::from_raw(raw)
    }

    pub fn from_raw(mut raw: RawSettings) -> Result<Self, ConfigError> {
        expand_root_url(&mut raw);
        let get = |section: &str, key: &str| -> String {
            raw.get(section)
                .and_then(|s| s.get(key))
                .cloned()
                .unwrap_or_default()
        };
        let data = PathBuf::from(get("paths", "data"));
        let db_type = match get("database", "type").as_str() {
            "sqlite3" | "sqlite" => DbType::Sqlite,
            "postgres" | "postgresql" => DbType::Postgres,
            "mysql" | "mariadb" => DbType::MySql,
            other => {
                return Err(invalid(
                    "database",
                    "type",
                    format!(
                        "unknown database type {other:?} (expected sqlite3, postgres or mysql)"
                    ),
                ))
            }
        };
        let db_path = {
            let p = PathBuf::from(get("database", "path"));
            if p.is_absolute() {
                p
            } else {
                data.join(p)
            }
        };
        let password_hash = match get("security", "password_hash").as_str() {
            "argon2id" | "argon2" | "" => PasswordHashScheme::Argon2id,
            "pbkdf2" => PasswordHashScheme::Pbkdf2,
            other => {
                return Err(invalid(
                    "security",
                    "password_hash",
                    format!("unknown scheme {other:?} (expected argon2id or pbkdf2)"),
                ))
            }
        };
        let role: OrgRole = get("users", "auto_assign_org_role").parse().map_err(
            |e: crate::domain::role::UnknownRole| {
                invalid("users", "auto_assign_org_role", e.to_string())
            },
        )?;
        let last_seen = parse_duration(&get("users", "last_seen_update_interval"))
            .map_err(|m| invalid("users", "last_seen_update_interval", m))?;
        // Grafana: "last_seen_update_interval must be between 5m and 1h".
        let last_seen = last_seen.clamp(Duration::from_secs(300), Duration::from_secs(3600));
        let level = get("log", "level");
        if !matches!(
            level.as_str(),
            "trace" | "debug" | "info" | "warn" | "error" | "critical"
        ) {
            return Err(invalid(
                "log",
                "level",
                format!("{level:?} is not one of debug, info, warn, error, critical"),
            ));
        }
        let busy_ms: u64 = parse_num(&get("database", "busy_timeout"), "database", "busy_timeout")?;
        let flag = |section: &str, key: &str| parse_bool(&get(section, key), section, key);
        let samesite = match get("security", "cookie_samesite").as_str() {
            "strict" => SameSite::Strict,
            "none" => SameSite::None,
            "disabled" => SameSite::Disabled,
            // Grafana falls back to lax for anything else.
            _ => SameSite::Lax,
        };
        let list = |section: &str, key: &str| -> Vec<String> {
            get(section, key)
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let limit = |key: &str| -> Result<i64, ConfigError> {
            // Grafana: a limit of 0 or less means 1.
            Ok(parse_num::<i64>(&get("security", key), "security", key)?.max(1))
        };
        let brute_force = if flag("security", "disable_brute_force_login_protection")? {
            BruteForce {
                per_login: None,
                per_ip: None,
                per_login_all_addresses: None,
                known_login_secs: None,
            }
        } else {
            BruteForce {
                per_login: Some(limit("brute_force_login_protection_max_attempts")?),
                per_ip: if flag("security", "disable_ip_address_login_protection")? {
                    None
                } else {
                    Some(limit("ip_address_login_protection_max_attempts")?)
                },
                per_login_all_addresses: Some(limit(
                    "brute_force_login_protection_max_attempts_all_addresses",
                )?),
                known_login_secs: {
                    let key = "ip_address_login_protection_known_login_duration";
                    let d = parse_duration(&get("security", key))
                        .map_err(|m| invalid("security", key, m))?;
                    Some(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)).filter(|s| *s > 0)
                },
            }
        };
        // Usher's row caches: empty means 1 s on SQLite (one server per database file) and off
        // where several instances may share the database.
        let row_cache = |key: &str| -> Result<Option<Duration>, ConfigError> {
            match get("auth", key).trim() {
                "" if db_type == DbType::Sqlite => Ok(Some(Duration::from_secs(1))),
                "" => Ok(None),
                v => Ok(Some(
                    parse_duration(v).map_err(|m| invalid("auth", key, m))?,
                )),
            }
        };
        // Usher's cache sizes: a whole number of entries, at least one.
        let max_entries = |section: &str, key: &str| -> Result<u64, ConfigError> {
            let n: u64 = parse_num(&get(section, key), section, key)?;
            if n == 0 {
                return Err(invalid(section, key, "must be at least 1"));
            }
            Ok(n)
        };
        // Grafana's "-1 means no limit" integers.
        let positive_limit = |section: &str, key: &str| -> Result<Option<i64>, ConfigError> {
            let value = get(section, key);
            let n: i64 = value
                .trim()
                .parse()
                .map_err(|_| invalid(section, key, "must be an integer"))?;
            Ok((n >= 0).then_some(n))
        };
        let lifetime = |key: &str, default: &str| -> Result<Duration, ConfigError> {
            // Grafana's defaults.ini leaves these empty, meaning the built-in default.
            let value = get("auth", key);
            let value = if value.trim().is_empty() {
                default.to_string()
            } else {
                value
            };
            let d = parse_duration(&value).map_err(|m| invalid("auth", key, m))?;
            if d.is_zero() {
                return Err(invalid("auth", key, "must be longer than 0"));
            }
            Ok(d)
        };
        let rotation_minutes: u64 = parse_num(
            &get("auth", "token_rotation_interval_minutes"),
            "auth",
            "token_rotation_interval_minutes",
        )?;
        let cookie_name = get("auth", "login_cookie_name");
        if cookie_name.is_empty()
            || !cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(invalid(
                "auth",
                "login_cookie_name",
                format!("{cookie_name:?} is not a valid cookie name"),
            ));
        }
        let client_ip_header = get("server", "client_ip_header").trim().to_string();
        // Connection limits: 0 means none.
        let timeout = |key: &str| -> Result<Option<Duration>, ConfigError> {
            let d = parse_duration(&get("server", key)).map_err(|m| invalid("server", key, m))?;
            Ok((!d.is_zero()).then_some(d))
        };
        let max_connections: usize = parse_num(
            &get("server", "max_connections"),
            "server",
            "max_connections",
        )?;
        let frontend = {
            let mut feature_toggles = BTreeMap::new();
            for name in list("feature_toggles", "enable") {
                feature_toggles.insert(name, true);
            }
            let toggles = raw.get("feature_toggles").cloned().unwrap_or_default();
            for (name, value) in toggles.iter().filter(|(name, _)| *name != "enable") {
                feature_toggles.insert(name.clone(), parse_bool(value, "feature_toggles", name)?);
            }
            let app_mode = get(DEFAULT_SECTION, "app_mode");
            FrontendSection {
                feature_toggles,
                min_refresh_interval: get("dashboards", "min_refresh_interval"),
                login_hint: get("users", "login_hint"),
                password_hint: get("users", "password_hint"),
                viewers_can_edit: flag("users", "viewers_can_edit")?,
                app_mode: if app_mode.is_empty() {
                    "production".into()
                } else {
                    app_mode
                },
            }
        };
        Ok(Config {
            server: ServerSection {
                http_addr: get("server", "http_addr"),
                http_port: parse_num(&get("server", "http_port"), "server", "http_port")?,
                root_url: get("server", "root_url"),
                client_ip_header: (!client_ip_header.is_empty()).then_some(client_ip_header),
                read_header_timeout: timeout("read_header_timeout")?,
                read_timeout: timeout("read_timeout")?,
                idle_timeout: timeout("idle_timeout")?,
                max_connections: (max_connections > 0).then_some(max_connections),
            },
            paths: PathsSection {
                data,
                provisioning: PathBuf::from(get("paths", "provisioning")),
            },
            database: DatabaseSection {
                db_type,
                host: get("database", "host"),
                name: get("database", "name"),
                user: get("database", "user"),
                password: get("database", "password").into(),
                url: get("database", "url").into(),
                path: db_path,
                wal: parse_bool(&get("database", "wal"), "database", "wal")?,
                max_open_conn: parse_num(
                    &get("database", "max_open_conn"),
                    "database",
                    "max_open_conn",
                )?,
                busy_timeout: Duration::from_millis(busy_ms),
                ssl_mode: get("database", "ssl_mode"),
            },
            security: SecuritySection {
                admin_user: get("security", "admin_user"),
                admin_password: get("security", "admin_password").into(),
                admin_email: get("security", "admin_email"),
                secret_key: get("security", "secret_key").into(),
                disable_initial_admin_creation: parse_bool(
                    &get("security", "disable_initial_admin_creation"),
                    "security",
                    "disable_initial_admin_creation",
                )?,
                password_hash,
                password_hash_concurrency: parse_num(
                    &get("security", "password_hash_concurrency"),
                    "security",
                    "password_hash_concurrency",
                )?,
                password_hash_queue: parse_num(
                    &get("security", "password_hash_queue"),
                    "security",
                    "password_hash_queue",
                )?,
                cookie_secure: flag("security", "cookie_secure")?,
                cookie_samesite: samesite,
                csrf_trusted_origins: list("security", "csrf_trusted_origins"),
                csrf_additional_headers: list("security", "csrf_additional_headers"),
                csrf_always_check: flag("security", "csrf_always_check")?,
                brute_force,
            },
            auth: AuthSection {
                login_cookie_name: cookie_name,
                max_inactive_lifetime: lifetime("login_maximum_inactive_lifetime_duration", "7d")?,
                max_lifetime: lifetime("login_maximum_lifetime_duration", "30d")?,
                // Grafana's minimum is 2 minutes.
                token_rotation_interval: Duration::from_secs(rotation_minutes.max(2) * 60),
                disable_login_form: flag("auth", "disable_login_form")?,
                signout_redirect_url: get("auth", "signout_redirect_url"),
                session_cache_revalidate_interval: row_cache("session_cache_revalidate_interval")?,
                api_key_max_seconds_to_live: positive_limit("auth", "api_key_max_seconds_to_live")?,
                api_key_cache_revalidate_interval: row_cache("api_key_cache_revalidate_interval")?,
                session_cache_max_entries: max_entries("auth", "session_cache_max_entries")?,
                api_key_cache_max_entries: max_entries("auth", "api_key_cache_max_entries")?,
                token_expiration_day_limit: positive_limit(
                    "service_accounts",
                    "token_expiration_day_limit",
                )?,
            },
            users: UsersSection {
                allow_sign_up: parse_bool(
                    &get("users", "allow_sign_up"),
                    "users",
                    "allow_sign_up",
                )?,
                allow_org_create: parse_bool(
                    &get("users", "allow_org_create"),
                    "users",
                    "allow_org_create",
                )?,
                auto_assign_org: parse_bool(
                    &get("users", "auto_assign_org"),
                    "users",
                    "auto_assign_org",
                )?,
                auto_assign_org_id: parse_num(
                    &get("users", "auto_assign_org_id"),
                    "users",
                    "auto_assign_org_id",
                )?,
                auto_assign_org_role: role,
                default_theme: get("users", "default_theme"),
                last_seen_update_interval: last_seen,
            },
            auth_basic: AuthBasicSection {
                enabled: parse_bool(&get("auth.basic", "enabled"), "auth.basic", "enabled")?,
                password_policy: parse_bool(
                    &get("auth.basic", "password_policy"),
                    "auth.basic",
                    "password_policy",
                )?,
                cache_revalidate_interval: parse_duration(&get(
                    "auth.basic",
                    "cache_revalidate_interval",
                ))
                .map_err(|m| invalid("auth.basic", "cache_revalidate_interval", m))?,
                cache_max_entries: max_entries("auth.basic", "cache_max_entries")?,
            },
            audit: AuditSection {
                enabled: flag("audit", "enabled")?,
                retention_days: get("audit", "retention_days")
                    .trim()
                    .parse()
                    .ok()
                    .filter(|d: &i64| *d >= 0)
                    .ok_or_else(|| {
                        invalid("audit", "retention_days", "must be a whole number of days")
                    })?,
                log_path: get("audit", "log_path").trim().to_string(),
            },
            quota: {
                let limit = |key: &str| -> Result<i64, ConfigError> {
                    get("quota", key)
                        .trim()
                        .parse()
                        .map_err(|_| invalid("quota", key, "must be an integer"))
                };
                QuotaSection {
                    enabled: flag("quota", "enabled")?,
                    org_user: limit("org_user")?,
                    org_dashboard: limit("org_dashboard")?,
                    org_api_key: limit("org_api_key")?,
                    user_org: limit("user_org")?,
                    global_user: limit("global_user")?,
                    global_org: limit("global_org")?,
                    global_dashboard: limit("global_dashboard")?,
                    global_api_key: limit("global_api_key")?,
                }
            },
            frontend,
            log_level: if level == "critical" {
                "error".into()
            } else {
                level
            },
            raw,
        })
    }
}

/// Grafana's `conf/defaults.ini` sections and keys (see the file's header).
const GRAFANA_DEFAULTS: &str = include_str!("../conf/grafana-defaults.ini");

/// The name Grafana's INI library gives the keys before the first section header.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// Grafana's defaults file, then this server's defaults over it.
fn defaults() -> RawSettings {
    let mut raw = RawSettings::new();
    // The embedded file is part of the binary: a test below parses it, so this cannot fail.
    if let Ok(ini) = ini::Ini::load_from_str(GRAFANA_DEFAULTS) {
        for (section, props) in ini.iter() {
            let keys = raw
                .entry(section.unwrap_or(DEFAULT_SECTION).to_string())
                .or_default();
            for (key, value) in props.iter() {
                keys.insert(key.to_string(), value.to_string());
            }
        }
    }
    // Grafana's `instance_name = ${HOSTNAME}`: the variable, else the host's name
    // (pkg/setting/expanders.go).
    if let Some(name) = raw
        .get_mut(DEFAULT_SECTION)
        .and_then(|s| s.get_mut("instance_name"))
    {
        *name = name.replace("${HOSTNAME}", &hostname());
    }
    for (section, key, value) in DEFAULTS {
        raw.entry(section.to_string())
            .or_default()
            .insert(key.to_string(), value.to_string());
    }
    raw
}

/// `HOSTNAME`, else the kernel's host name, as Go's `os.Hostname` reads it on Linux.
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown_instance_name".to_string())
}

/// Merges an INI text into `raw`. Keys outside the known set are kept (they show in the settings
/// API) but otherwise ignored. `$__env{VAR}` and `$__file{path}` expand as in Grafana.
fn merge_ini(raw: &mut RawSettings, text: &str) -> Result<(), String> {
    let ini = ini::Ini::load_from_str(text).map_err(|e| e.to_string())?;
    for (section, props) in ini.iter() {
        let section = section.unwrap_or(DEFAULT_SECTION).to_string();
        for (key, value) in props.iter() {
            let value = expand_value(value)?;
            raw.entry(section.clone())
                .or_default()
                .insert(key.to_string(), value);
        }
    }
    Ok(())
}

fn expand_value(value: &str) -> Result<String, String> {
    let mut out = value.to_string();
    for (prefix, is_file) in [("$__env{", false), ("$__file{", true)] {
        while let Some(start) = out.find(prefix) {
            let rest = &out[start + prefix.len()..];
            let Some(end) = rest.find('}') else { break };
            let arg = &rest[..end];
            let replacement = if is_file {
                std::fs::read_to_string(arg)
                    .map_err(|e| format!("cannot read {arg}: {e}"))?
                    .trim_end()
                    .to_string()
            } else {
                std::env::var(arg).unwrap_or_default()
            };
            out = format!("{}{}{}", &out[..start], replacement, &rest[end + 1..]);
        }
    }
    Ok(out)
}

/// `GF_<SECTION>_<KEY>` (and `GF_<SECTION>_<KEY>__FILE`) for every key of every known section.
fn apply_env(
    raw: &mut RawSettings,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let env: BTreeMap<String, String> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("GF_"))
        .collect();
    if env.is_empty() {
        return Ok(());
    }
    let mut known: Vec<(String, String)> = raw
        .iter()
        .flat_map(|(s, keys)| keys.keys().map(move |k| (s.clone(), k.clone())))
        .collect();
    known.dedup();
    for (section, key) in known {
        let name = env_name(&section, &key);
        if let Some(value) = env.get(&name) {
            raw.get_mut(&section)
                .map(|s| s.insert(key.clone(), value.clone()));
        } else if let Some(path) = env.get(&format!("{name}__FILE")) {
            let value = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
                section: section.clone(),
                key: key.clone(),
                message: format!("cannot read {name}__FILE {path}: {e}"),
            })?;
            raw.get_mut(&section)
                .map(|s| s.insert(key.clone(), value.trim_end().to_string()));
        }
    }
    Ok(())
}

pub fn env_name(section: &str, key: &str) -> String {
    let clean = |s: &str| s.to_uppercase().replace(['.', '-'], "_");
    format!("GF_{}_{}", clean(section), clean(key))
}

/// Grafana's root_url template `%(protocol)s://%(domain)s:%(http_port)s/`.
fn expand_root_url(raw: &mut RawSettings) {
    let Some(server) = raw.get_mut("server") else {
        return;
    };
    let mut url = server.get("root_url").cloned().unwrap_or_default();
    for key in ["protocol", "domain", "http_port"] {
        let value = server.get(key).cloned().unwrap_or_default();
        url = url.replace(&format!("%({key})s"), &value);
    }
    server.insert("root_url".into(), url);
}

fn invalid(section: &str, key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        section: section.into(),
        key: key.into(),
        message: message.into(),
    }
}

fn parse_bool(value: &str, section: &str, key: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        other => Err(invalid(section, key, format!("{other:?} is not a boolean"))),
    }
}

fn parse_num<T: std::str::FromStr>(
    value: &str,
    section: &str,
    key: &str,
) -> Result<T, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(section, key, format!("{value:?} is not a valid number")))
}

/// Go-style durations as Grafana writes them: `15m`, `7d`, `1h30m`, `30s`, `500ms`; a bare
/// number is seconds.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let bad = || format!("{value:?} is not a duration");
    let mut total_ms = 0u64;
    let mut number = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().map_err(|_| bad())?;
        number.clear();
        let unit_ms = match c {
            'w' => 7 * 86_400_000,
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1
            }
            'm' => 60_000,
            's' => 1_000,
            _ => return Err(bad()),
        };
        total_ms = n
            .checked_mul(unit_ms)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or_else(bad)?;
    }
    if !number.is_empty() || value.is_empty() {
        return Err(bad());
    }
    Ok(Duration::from_millis(total_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_grafana_defaults_parse() {
        let ini = ini::Ini::load_from_str(GRAFANA_DEFAULTS).unwrap();
        assert!(ini.section(Some("auth.generic_oauth")).is_some());
        let raw = defaults();
        assert_eq!(raw["DEFAULT"]["app_mode"], "production");
        assert!(!raw["DEFAULT"]["instance_name"].contains("${"));
        // This server's defaults win over the file's.
        assert_eq!(raw["database"]["wal"], "true");
    }

    #[test]
    fn environment_overrides_reach_grafanas_default_keys() {
        let env = |k: &str, v: &str| (k.to_string(), v.to_string());
        let c = Config::load(
            None,
            vec![
                env("GF_AUTH_GENERIC_OAUTH_CLIENT_ID", "from-env"),
                env("GF_DEFAULT_INSTANCE_NAME", "usher-1"),
            ],
        )
        .unwrap();
        assert_eq!(c.raw["auth.generic_oauth"]["client_id"], "from-env");
        assert_eq!(c.raw["DEFAULT"]["instance_name"], "usher-1");
    }

    #[test]
    fn defaults_match_grafana() {
        let c = Config::load(None, Vec::new()).unwrap();
        assert_eq!(c.server.http_port, 3000);
        assert_eq!(c.server.root_url, "http://localhost:3000/");
        assert_eq!(c.database.db_type, DbType::Sqlite);
        assert_eq!(c.database.path, PathBuf::from("data/grafana.db"));
        assert_eq!(c.security.admin_user, "admin");
        assert_eq!(c.users.auto_assign_org_role, OrgRole::Viewer);
        assert!(c.auth_basic.enabled);
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let env = |k: &str, v: &str| (k.to_string(), v.to_string());
        let c = Config::load(
            None,
            vec![
                env("GF_SECURITY_SECRET_KEY", "key-7f3a9c21"),
                env("GF_SECURITY_ADMIN_PASSWORD", "adminpw-55e1b0"),
                env("GF_DATABASE_PASSWORD", "dbpw-c0ffee42"),
                env("GF_DATABASE_URL", "postgres://usher:urlpw-9d8e7f@db/usher"),
                env("GF_AUTH_SIGNOUT_REDIRECT_URL", "http://example.com/bye"),
            ],
        )
        .unwrap();
        assert_eq!(c.security.secret_key.expose(), "key-7f3a9c21");
        assert_eq!(c.database.password.expose(), "dbpw-c0ffee42");
        let shown = format!("{c:?}");
        for secret in [
            "key-7f3a9c21",
            "adminpw-55e1b0",
            "dbpw-c0ffee42",
            "urlpw-9d8e7f",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("Secret(…)"), "{shown}");
        // What is not secret still shows.
        assert!(shown.contains("http://example.com/bye"), "{shown}");
        assert_eq!(format!("{:?}", Secret::new("x")), "Secret(…)");
    }

    /// `app_mode` stands above every section, which Grafana's INI library calls `DEFAULT`
    /// (`GF_DEFAULT_APP_MODE` in the environment); `buildInfo.env` reports it.
    #[test]
    fn app_mode_is_read_from_the_top_of_the_file_and_the_environment() {
        assert_eq!(
            Config::load(None, Vec::new()).unwrap().frontend.app_mode,
            "production"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grafana.ini");
        std::fs::write(
            &path,
            "app_mode = development\n[server]\nhttp_port = 4000\n",
        )
        .unwrap();
        let c = Config::load(Some(&path), Vec::new()).unwrap();
        assert_eq!(c.frontend.app_mode, "development");
        assert_eq!(c.raw["DEFAULT"]["app_mode"], "development");
        let env = vec![("GF_DEFAULT_APP_MODE".to_string(), "development".to_string())];
        assert_eq!(
            Config::load(None, env).unwrap().frontend.app_mode,
            "development"
        );
    }

    #[test]
    fn env_overrides_file_and_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grafana.ini");
        std::fs::write(
            &path,
            "[server]\nhttp_port = 4000\n[auth.basic]\nenabled = false\n[x]\ny=1\n",
        )
        .unwrap();
        let c = Config::load(
            Some(&path),
            vec![("GF_SERVER_HTTP_PORT".to_string(), "5000".to_string())],
        )
        .unwrap();
        assert_eq!(c.server.http_port, 5000);
        assert!(!c.auth_basic.enabled);
        let c = Config::load(
            None,
            vec![("GF_AUTH_BASIC_ENABLED".to_string(), "false".to_string())],
        )
        .unwrap();
        assert!(!c.auth_basic.enabled);
    }

    #[test]
    fn password_hash_pool_settings_default_and_override() {
        let c = Config::load(None, Vec::new()).unwrap();
        assert_eq!(c.security.password_hash_concurrency, 0);
        assert_eq!(c.security.password_hash_queue, 64);
        let env = |k: &str, v: &str| (k.to_string(), v.to_string());
        let c = Config::load(
            None,
            vec![
                env("GF_SECURITY_PASSWORD_HASH_CONCURRENCY", "3"),
                env("GF_SECURITY_PASSWORD_HASH_QUEUE", "0"),
            ],
        )
        .unwrap();
        assert_eq!(c.security.password_hash_concurrency, 3);
        assert_eq!(c.security.password_hash_queue, 0);
        let err = Config::load(None, vec![env("GF_SECURITY_PASSWORD_HASH_QUEUE", "-1")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("[security] password_hash_queue"), "{err}");
    }

    #[test]
    fn an_unknown_auto_assign_role_is_an_error_naming_key_and_value() {
        let err =
            Config::with_overrides(&[("users", "auto_assign_org_role", "viewer")]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("[users] auto_assign_org_role"), "{text}");
        assert!(text.contains("\"viewer\""), "{text}");
        let ok = Config::with_overrides(&[("users", "auto_assign_org_role", "Editor")]).unwrap();
        assert_eq!(ok.users.auto_assign_org_role, OrgRole::Editor);
    }

    #[test]
    fn invalid_values_name_the_key() {
        let err = Config::with_overrides(&[("server", "http_port", "lots")]).unwrap_err();
        assert!(err.to_string().contains("[server] http_port"), "{err}");
        let err = Config::with_overrides(&[("database", "type", "oracle")]).unwrap_err();
        assert!(err.to_string().contains("[database] type"), "{err}");
    }

    #[test]
    fn connection_limits_parse_and_zero_turns_one_off() {
        let c = Config::load(None, Vec::new()).unwrap();
        assert_eq!(c.server.read_header_timeout, Some(Duration::from_secs(10)));
        assert_eq!(c.server.read_timeout, Some(Duration::from_secs(30)));
        assert_eq!(c.server.idle_timeout, Some(Duration::from_secs(120)));
        assert_eq!(c.server.max_connections, Some(512));
        let c = Config::load(
            None,
            vec![
                ("GF_SERVER_READ_TIMEOUT".to_string(), "0".to_string()),
                ("GF_SERVER_IDLE_TIMEOUT".to_string(), "1m30s".to_string()),
                ("GF_SERVER_MAX_CONNECTIONS".to_string(), "0".to_string()),
            ],
        )
        .unwrap();
        assert_eq!(c.server.read_timeout, None);
        assert_eq!(c.server.idle_timeout, Some(Duration::from_secs(90)));
        assert_eq!(c.server.max_connections, None);
        let err = Config::with_overrides(&[("server", "idle_timeout", "soon")]).unwrap_err();
        assert!(err.to_string().contains("[server] idle_timeout"), "{err}");
    }

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(
            parse_duration("7d").unwrap(),
            Duration::from_secs(7 * 86400)
        );
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(
            parse_duration("1s500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert!(parse_duration("abc").is_err());
    }
}
