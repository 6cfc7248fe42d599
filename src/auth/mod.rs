//! Who is calling. The route table wraps every route in [`authorize`], which identifies the
//! caller (HTTP basic auth, or the session cookie), refuses cross-site cookie requests (CSRF),
//! checks the route's [`Access`] and leaves a [`Caller`] in the request for the handler. Storage
//! failures surface as 500s, never as 401s.

pub mod access;
pub mod actions;
pub mod apikey;
pub mod brute_force;
pub use crate::state::credentials as cache;
pub mod csrf;
pub mod error;
pub use crate::state::hasher;
pub mod identity;
pub use crate::domain::password;
pub mod session;
pub mod tokens;
pub mod useragent;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request};
use axum::http::{header, Extensions, HeaderMap};
use base64::Engine;
use subtle::ConstantTimeEq;
use tokio::sync::OnceCell;

pub use access::{Access, InOrg, OrgRole, Permissions};
pub use error::AuthError;
pub use identity::SignedInUser;

use crate::audit;
use crate::state::AppState;
use crate::store::{DbTime, SessionRow, SignedInRow, UserRow};
use session::{ClientInfo, Lookup};

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Basic,
    Session,
    /// A service-account token or legacy API key (`Authorization: Bearer …`).
    ApiKey,
}

/// The login session of a cookie-authenticated request.
#[derive(Debug, Clone)]
pub struct CallerSession {
    /// `user_auth_token.id`: what the auth-token listings call this device.
    pub id: i64,
    pub(crate) row: SessionRow,
    /// The client presented the current token rather than the previous one.
    pub(crate) current: bool,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who signed in, without their password hash and salt.
    pub user: SignedInUser,
    /// Latest external auth module of the user (`user_auth`), for `authLabels`.
    pub auth_module: Option<String>,
    pub org_id: i64,
    pub org_role: Option<OrgRole>,
    pub method: AuthMethod,
    /// What the caller holds in `org_id`: see [`Caller::permissions`].
    permissions: CallerPermissions,
    pub session: Option<CallerSession>,
    /// The token of a machine-authenticated request.
    pub api_key: Option<apikey::CallerKey>,
}

/// The caller's permissions in the request's org. The basic role's grants are known at once;
/// the complete set (basic role, team grants and custom roles) is read from the store the first
/// time a check needs more than the basic role, once per request, and shared by every later check
/// (clones of the caller share it too). Grants only ever add, so a check the basic role passes
/// passes with the complete set as well; no check ever reads a partial set.
#[derive(Debug, Clone)]
struct CallerPermissions {
    basic: Permissions,
    complete: Arc<OnceCell<Permissions>>,
}

impl CallerPermissions {
    fn new(server_admin: bool, org_role: Option<OrgRole>) -> Self {
        Self {
            basic: Permissions::new(server_admin, org_role),
            complete: Arc::new(OnceCell::new()),
        }
    }
}

impl Caller {
    pub(crate) fn new(
        user: SignedInUser,
        org_id: i64,
        org_role: Option<OrgRole>,
        method: AuthMethod,
    ) -> Self {
        Caller {
            permissions: CallerPermissions::new(user.is_admin, org_role),
            user,
            auth_module: None,
            org_id,
            org_role,
            method,
            session: None,
            api_key: None,
        }
    }

    fn from_row(row: SignedInRow, method: AuthMethod) -> Self {
        let org_role = row.role.as_deref().and_then(OrgRole::parse);
        let org_id = row.user.org_id;
        let mut caller = Caller::new(row.user.into(), org_id, org_role, method);
        caller.auth_module = row.auth_module;
        caller
    }

    /// Acts in `org_id` with `role` there: the permission set starts afresh.
    fn switch_org(&mut self, org_id: i64, role: Option<OrgRole>) {
        self.org_id = org_id;
        self.org_role = role;
        self.permissions = CallerPermissions::new(self.is_server_admin(), role);
    }

    /// Everything the caller holds in the request's org — basic role, team grants and custom
    /// roles — loaded on first use and complete whenever it is read.
    pub async fn permissions(&self, app: &AppState) -> Result<&Permissions, AuthError> {
        self.permissions
            .complete
            .get_or_try_init(|| async {
                let mut held = self.permissions.basic.clone();
                // Team members hold permissions on their own teams; custom roles add more.
                held.add_team_grants(&app.store.team_permissions(self.id(), self.org_id).await?);
                held.add_grants(custom_grants(app, self, self.org_id, self.org_role).await?);
                Ok(held)
            })
            .await
    }

    /// Whether the caller holds `action` on `scope` in the request's org (with the complete set).
    pub async fn allows(
        &self,
        app: &AppState,
        action: &str,
        scope: Option<&str>,
    ) -> Result<bool, AuthError> {
        // Grants only add: what the basic role allows, the complete set allows.
        if self.permissions.basic.allows(action, scope) {
            return Ok(true);
        }
        Ok(self.permissions(app).await?.allows(action, scope))
    }

    /// Whether the caller may hand `role` out in the request's org: no more than their own
    /// (Grafana's `validateRole` for service accounts).
    pub fn may_grant(&self, role: OrgRole) -> bool {
        self.org_role.is_some_and(|own| own >= role)
    }

    /// A service account (authenticated by one of its tokens) rather than a person.
    pub fn is_service_account(&self) -> bool {
        self.user.is_service_account.unwrap_or(false)
    }

    /// The id of the session this request came with, if it came with one.
    pub fn session_id(&self) -> Option<i64> {
        self.session.as_ref().map(|s| s.id)
    }

    pub fn id(&self) -> i64 {
        self.user.id
    }

    pub fn is_server_admin(&self) -> bool {
        self.user.is_admin
    }

    /// The caller's basic role in `org_id`: the request's own without a read, else from the
    /// membership (`None` when not a member).
    pub async fn role_in(&self, app: &AppState, org_id: i64) -> Result<Option<OrgRole>, AuthError> {
        if org_id == self.org_id {
            return Ok(self.org_role);
        }
        Ok(app.store.org_role(self.id(), org_id).await?)
    }

    /// Refuses with Grafana's access-denied body unless the caller holds `action` on `scope` in
    /// the request's org.
    pub async fn require(
        &self,
        app: &AppState,
        action: &str,
        scope: Option<&str>,
    ) -> Result<(), AuthError> {
        if self.allows(app, action, scope).await? {
            Ok(())
        } else {
            Err(AuthError::access_denied(action))
        }
    }
}

/// The org a request asks to act in: Grafana's `targetOrgId` query parameter, else the
/// `X-Grafana-Org-Id` header; values that are not positive integers are ignored
/// (`orgIDFromRequest` in `pkg/services/authn/authnimpl/service.go`).
pub(crate) fn requested_org(req: &Request) -> Option<i64> {
    let positive = |v: &str| v.trim().parse::<i64>().ok().filter(|id| *id > 0);
    req.uri()
        .query()
        .and_then(|q| {
            q.split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| *k == "targetOrgId")
                .and_then(|(_, v)| positive(v))
        })
        .or_else(|| {
            req.headers()
                .get("x-grafana-org-id")
                .and_then(|v| v.to_str().ok())
                .and_then(positive)
        })
}

/// Grafana's `X-Grafana-Org-Id`: the request acts in that org with the caller's role there. A
/// caller who is not a member acts in no org (id -1, no role), so org-scoped routes deny them
/// while their own profile still answers (`pkg/services/authn/authnimpl/service.go`).
pub(crate) async fn select_org(
    app: &AppState,
    caller: &mut Caller,
    requested: Option<i64>,
) -> Result<(), AuthError> {
    let Some(org_id) = requested else {
        return Ok(());
    };
    if org_id == caller.org_id {
        return Ok(());
    }
    let role = app.store.org_role(caller.id(), org_id).await?;
    caller.switch_org(if role.is_some() { org_id } else { -1 }, role);
    Ok(())
}

/// The client's address and user agent. The address is the socket peer's unless
/// `[server] client_ip_header` names a header set by a trusted proxy (for `X-Forwarded-For`, its
/// last entry: the one that proxy added).
pub fn client_info(app: &AppState, headers: &HeaderMap, extensions: &Extensions) -> ClientInfo {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical().to_string());
    let forwarded = app
        .config
        .server
        .client_ip_header
        .as_deref()
        .and_then(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            let last = value.rsplit(',').map(str::trim).find(|v| !v.is_empty())?;
            let ip = last
                .parse::<IpAddr>()
                .or_else(|_| last.parse::<SocketAddr>().map(|a| a.ip()))
                .ok()?;
            Some(ip.to_canonical().to_string())
        });
    let user_agent = headers
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    ClientInfo {
        ip: forwarded.or(peer).unwrap_or_default(),
        user_agent,
    }
}

/// Where a grant takes effect: in one org, or in every org (`Global`, org id 0 in the role
/// tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Org(i64),
    Global,
}

impl Reach {
    /// The reach of a row's `org_id`, 0 meaning global.
    pub fn of_org(org_id: i64) -> Self {
        if org_id == 0 {
            Reach::Global
        } else {
            Reach::Org(org_id)
        }
    }

    /// The `org_id` stored for this reach.
    pub fn org_id(self) -> i64 {
        match self {
            Reach::Org(id) => id,
            Reach::Global => 0,
        }
    }
}

/// Everything the caller holds where a grant of `reach` takes effect. In an org: their basic
/// role there, their team permissions and their custom roles (the org's and the global ones).
/// Globally: only server-wide grants, the server admin's and global custom roles assigned to the
/// caller — what someone holds in one org, as an org Admin or through a basic role, is not held
/// everywhere.
pub async fn permissions_in(
    app: &AppState,
    caller: &Caller,
    reach: Reach,
) -> Result<Permissions, AuthError> {
    match reach {
        Reach::Global => {
            let mut held = Permissions::new(caller.is_server_admin(), None);
            held.add_grants(custom_grants(app, caller, 0, None).await?);
            Ok(held)
        }
        Reach::Org(org_id) if org_id == caller.org_id => Ok(caller.permissions(app).await?.clone()),
        Reach::Org(org_id) => {
            let role = caller.role_in(app, org_id).await?;
            let mut held = Permissions::new(caller.is_server_admin(), role);
            held.add_team_grants(&app.store.team_permissions(caller.id(), org_id).await?);
            held.add_grants(custom_grants(app, caller, org_id, role).await?);
            Ok(held)
        }
    }
}

/// What custom roles grant the caller in `org_id` (0: global assignments only): their own, their
/// teams' and those given to their basic roles there.
pub(crate) async fn custom_grants(
    app: &AppState,
    caller: &Caller,
    org_id: i64,
    role: Option<OrgRole>,
) -> Result<Vec<(String, String)>, AuthError> {
    let mut basic: Vec<&str> = role.map(OrgRole::as_str).into_iter().collect();
    if caller.is_server_admin() {
        basic.push("Grafana Admin");
    }
    Ok(app
        .store
        .custom_permissions(caller.id(), org_id, &basic)
        .await?)
}

/// Replaces `{name}` in a scope template with the request's path parameter of that name.
pub(crate) fn fill_scope(template: &str, params: &[(String, String)]) -> String {
    let mut scope = template.to_string();
    for (name, value) in params {
        scope = scope.replace(&format!("{{{name}}}"), value);
    }
    scope
}

/// Finds out who is calling: the `Authorization` header if there is one, else the session
/// cookie. `Ok(None)` means "no credentials" (a 401); a bad credential is its own 401; storage
/// errors are 5xx.
pub async fn identify(
    headers: &HeaderMap,
    requested_org: Option<i64>,
    client: &ClientInfo,
    app: &AppState,
) -> Result<Option<Caller>, AuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return match session::cookie_token(headers, &app.config.auth.login_cookie_name) {
            Some(token) => cookie_session(app, token).await.map(Some),
            None => Ok(None),
        };
    };
    let value = value.to_str().map_err(|_| AuthError::Unauthorized)?;
    if let Some(token) = strip_scheme(value, "Bearer") {
        return apikey::authenticate(app, token, requested_org, &client.ip)
            .await
            .map(Some);
    }
    if let Some(encoded) = strip_scheme(value, "Basic") {
        let decoded = decode_basic(encoded);
        // Grafana takes a token as the password of the user "api_key".
        if let Some(("api_key", token)) = decoded.as_ref().map(|(l, p)| (l.as_str(), p.as_str())) {
            return apikey::authenticate(app, token, requested_org, &client.ip)
                .await
                .map(Some);
        }
        if !app.config.auth_basic.enabled {
            return Ok(None);
        }
        let (login, password) = decoded.ok_or(AuthError::InvalidCredentials)?;
        return basic(app, &login, &password, &client.ip).await.map(Some);
    }
    Ok(None)
}

/// The caller of a session cookie alone (the web interface, whose pages and forms are bound to a
/// session): `Ok(None)` without the cookie, `InvalidSession` for a dead one.
pub async fn identify_session(
    app: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Caller>, AuthError> {
    match session::cookie_token(headers, &app.config.auth.login_cookie_name) {
        Some(token) => cookie_session(app, token).await.map(Some),
        None => Ok(None),
    }
}

/// The session cookie: Grafana's plain 401 for an unknown, expired or stale token.
async fn cookie_session(app: &AppState, token: &str) -> Result<Caller, AuthError> {
    match session::lookup(app, token).await? {
        Lookup::Invalid => Err(AuthError::InvalidSession),
        Lookup::Valid { row, current } => {
            let row = *row;
            let mut caller = Caller::from_row(row.user, AuthMethod::Session);
            caller.session = Some(CallerSession {
                id: row.session.id,
                row: row.session,
                current,
            });
            Ok(caller)
        }
    }
}

fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

fn decode_basic(encoded: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (login, password) = text.split_once(':')?;
    Some((login.to_string(), password.to_string()))
}

/// Basic auth: login or email plus password. Wrong password, unknown login and disabled user
/// all get Grafana's "Invalid username or password" 401.
async fn basic(app: &AppState, login: &str, password: &str, ip: &str) -> Result<Caller, AuthError> {
    let key = app.credentials.key_for(login, password);
    let now = app.clock.now();
    // Read before any row: a write that lands after this read makes the entry stale again.
    let generation = app.store.generation();
    if let Some(hit) = app.credentials.get(&key, now) {
        // The lockout is decided before a cached success is trusted: otherwise the right
        // password would still pass, from an address locked out for this login, while someone
        // else's use keeps it cached, and so confirm a guess. The entry names the user, whose
        // login is what failures are recorded under. (A passed check is itself remembered for
        // the revalidation interval, until this instance records a failure.)
        let check = brute_force::check_cached(app, &hit.row.user.login.to_lowercase(), ip).await?;
        let revalidate =
            chrono::Duration::from_std(app.config.auth_basic.cache_revalidate_interval)
                .unwrap_or_default();
        if hit.is_current(generation, now, revalidate) {
            check.succeeded(app).await?;
            return Ok(Caller::from_row(hit.row, AuthMethod::Basic));
        }
        if let Some(row) = app.store.signed_in_user(hit.user_id()).await? {
            let stored = row.user.password.as_deref().unwrap_or("");
            let unchanged: bool = stored.as_bytes().ct_eq(hit.stored_hash().as_bytes()).into();
            if unchanged && !row.user.is_disabled {
                check.succeeded(app).await?;
                app.credentials.refresh(&key, row.clone(), generation, now);
                return Ok(Caller::from_row(row, AuthMethod::Basic));
            }
        }
        app.credentials.remove(&key);
    }

    let user = password_login(app, login, password, ip).await?;
    // After a hash upgrade the generation moved on; take it again before reading the row.
    let generation = app.store.generation();
    let row = app
        .store
        .signed_in_user(user.id)
        .await?
        .ok_or(AuthError::InvalidCredentials)?;
    // Cache only if the row still holds the hash these credentials verified against.
    if row.user.password == user.password {
        app.credentials.insert(key, row.clone(), generation, now);
    }
    Ok(Caller::from_row(row, AuthMethod::Basic))
}

/// Checks a login (or email) and password against the database under the brute-force limits,
/// upgrading a legacy hash on success (the returned row then holds the new hash). A wrong
/// password, an unknown login and a refused attempt all get Grafana's "Invalid username or
/// password" 401; a disabled user with the right password gets Grafana's `identity.disabled`.
pub async fn password_login(
    app: &AppState,
    login: &str,
    password: &str,
    ip: &str,
) -> Result<UserRow, AuthError> {
    check_password(app, login, password, ip)
        .await?
        .map_err(|failed| failed.failure.error())
}

/// Why a password sign-in failed, as its audit record names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    UnknownUser,
    WrongPassword,
    /// Refused by the brute-force limits, before the password was checked.
    LockedOut,
    /// The right password for a disabled user.
    Disabled,
}

impl LoginFailure {
    pub fn reason(self) -> &'static str {
        match self {
            LoginFailure::UnknownUser => "unknown user",
            LoginFailure::WrongPassword => "wrong password",
            LoginFailure::LockedOut => "locked out: too many failed attempts",
            LoginFailure::Disabled => "user disabled",
        }
    }

    /// What the caller is answered: the same for all but a disabled user.
    pub fn error(self) -> AuthError {
        match self {
            LoginFailure::Disabled => AuthError::Disabled,
            _ => AuthError::InvalidCredentials,
        }
    }
}

/// A failed password check: why, and the user the name belongs to, if any.
#[derive(Debug)]
pub struct FailedLogin {
    pub failure: LoginFailure,
    pub user: Option<(i64, String)>,
}

/// [`password_login`]'s work, telling why a check failed. A failure that starts a lockout is
/// recorded in the audit log (`users:lockout`), whichever way the password came.
async fn check_password(
    app: &AppState,
    login: &str,
    password: &str,
    ip: &str,
) -> Result<Result<UserRow, FailedLogin>, AuthError> {
    let user = app
        .store
        .user_by_login_or_email(login)
        .await?
        .filter(|u| !u.is_service_account.unwrap_or(false));
    // Counted under the folded login (`ＡＤＭＩＮ` is `admin`), cut to what the column holds.
    let key = match &user {
        Some(u) => u.login.to_lowercase(),
        None => crate::domain::login::attempt_key(login),
    };
    let named = user.as_ref().map(|u| (u.id, u.login.clone()));
    let failed = |failure| {
        Ok(Err(FailedLogin {
            failure,
            user: named.clone(),
        }))
    };
    let Some(attempt) = brute_force::check_limits(app, &key, ip).await? else {
        return failed(LoginFailure::LockedOut);
    };
    let Some(user) = user else {
        app.hasher.verify_dummy(password.to_string()).await?;
        let lockout = attempt.failed(app).await?;
        record_lockout(app, login, named.as_ref(), ip, lockout).await?;
        return failed(LoginFailure::UnknownUser);
    };
    let stored = user.password.clone().unwrap_or_default();
    let salt = user.salt.clone().unwrap_or_default();
    let given = password.to_string();
    let ok = if stored.is_empty() {
        false
    } else {
        app.hasher
            .verify(given, stored.clone(), salt.clone())
            .await?
    };
    if !ok {
        let lockout = attempt.failed(app).await?;
        record_lockout(app, login, named.as_ref(), ip, lockout).await?;
        return failed(LoginFailure::WrongPassword);
    }
    attempt.succeeded(app).await?;
    if user.is_disabled {
        // Grafana's authn service: `identity.disabled` (pkg/services/authn/authnimpl/service.go).
        return failed(LoginFailure::Disabled);
    }
    let scheme = app.config.security.password_hash;
    if password::needs_upgrade(&stored, scheme) {
        let new = app.hasher.hash(password.to_string(), scheme).await?;
        app.store
            .upgrade_password_hash(user.id, &stored, &new.hash, &new.salt)
            .await?;
        tracing::info!(user_id = user.id, "upgraded stored password hash");
        let mut user = user;
        user.password = Some(new.hash);
        user.salt = Some(new.salt);
        return Ok(Ok(user));
    }
    Ok(Ok(user))
}

/// The audit context of someone trying the login (or email) `login`: the client and request id
/// of the current scope.
fn attempt_context(login: &str) -> audit::Context {
    let current = audit::current();
    let client = ClientInfo {
        ip: current.client_ip,
        user_agent: current.user_agent,
    };
    audit::Context::anonymous(
        login,
        &client.ip,
        client.stored_user_agent(),
        &current.request_id,
    )
}

/// The audit context of a user who identified themselves to a route that reads its own
/// credentials (sign-in, sign-out, a session's rotation): the client and request id of the
/// current scope.
pub fn user_context(id: i64, login: &str, org_id: i64, method: &str) -> audit::Context {
    audit::Context {
        actor_kind: "user".to_string(),
        actor_id: Some(id),
        actor_login: login.to_string(),
        token_id: None,
        auth_method: method.to_string(),
        org_id,
        ..audit::current()
    }
}

/// The target of a sign-in's record: the user, or the name as typed when it is nobody's.
fn login_target(login: &str, user: Option<&(i64, String)>) -> audit::Target {
    match user {
        Some((id, name)) => audit::Target::new("user", id, name),
        None => audit::Target::new("user", "", login),
    }
}

/// Records that a failure started a lockout (`limit`: which limit it reached).
async fn record_lockout(
    app: &AppState,
    login: &str,
    user: Option<&(i64, String)>,
    ip: &str,
    limit: Option<&'static str>,
) -> Result<(), AuthError> {
    let Some(limit) = limit else {
        return Ok(());
    };
    tracing::warn!(ip, limit, "failed logins reached a limit: lockout started");
    let event = audit::Event::new("users:lockout", login_target(login, user))
        .set("limit", limit)
        .set("clientIp", ip);
    let (written, _, _) = audit::scoped(attempt_context(login), app.store.audit_now(event)).await;
    written.map_err(|e| AuthError::store(e, "failed to record a lockout"))
}

/// Signing in with a password (`POST /login`, the web form): the check of [`password_login`],
/// then a new session. Both outcomes are recorded (`users:login`): a success with the session,
/// in its transaction, as the user; a failure with its reason, as the name typed. The password
/// typed is never recorded. Runs inside an audit scope (the route's, or the web form's).
pub async fn sign_in(
    app: &AppState,
    login: &str,
    password: &str,
    client: &ClientInfo,
) -> Result<(UserRow, session::Issued), AuthError> {
    let user = match check_password(app, login, password, &client.ip).await? {
        Ok(user) => user,
        Err(FailedLogin { failure, user }) => {
            let event = audit::Event::new("users:login", login_target(login, user.as_ref()))
                .failed(failure.reason());
            let (written, _, _) =
                audit::scoped(attempt_context(login), app.store.audit_now(event)).await;
            written.map_err(|e| AuthError::store(e, "failed to record a sign-in"))?;
            return Err(failure.error());
        }
    };
    audit::set_context(user_context(user.id, &user.login, user.org_id, "password"));
    let mut tx = app
        .store
        .begin()
        .await
        .map_err(|e| AuthError::store(e, "failed to create session"))?;
    let issued = session::create(app, &mut tx, user.id, client).await?;
    tx.audit(
        audit::Event::new(
            "users:login",
            audit::Target::new("user", user.id, &user.login),
        )
        .in_org(user.org_id)
        .set("sessionId", issued.session_id),
    )
    .await
    .map_err(|e| AuthError::store(e, "failed to create session"))?;
    tx.commit()
        .await
        .map_err(|e| AuthError::store(e, "failed to create session"))?;
    Ok((user, issued))
}

/// The time as the database stores it.
pub fn db_now(app: &AppState) -> DbTime {
    DbTime::from_utc(app.clock.now())
}

impl AppState {
    /// Refreshes the caller's `last_seen_at` at most once per `[users] last_seen_update_interval`,
    /// off the request path.
    pub fn note_seen(&self, caller: &Caller) {
        let now = self.clock.now();
        let interval = chrono::Duration::from_std(self.config.users.last_seen_update_interval)
            .unwrap_or(chrono::Duration::minutes(15));
        let id = caller.user.id;
        if !crate::state::stale(caller.user.last_seen_at, now, interval)
            || !self.last_seen.admit(id, now, interval)
        {
            return;
        }
        let store = self.store.clone();
        let threshold = DbTime::from_utc(now - interval);
        tokio::spawn(async move {
            if let Err(e) = store
                .touch_last_seen(id, DbTime::from_utc(now), threshold)
                .await
            {
                tracing::warn!(user_id = id, error = %e, "could not update last_seen_at");
            }
        });
    }
}

/// The audit context of a signed-in caller of a request (`crate::audit`): who, how they
/// authenticated, from where.
pub fn audit_context(
    caller: &Caller,
    client: &session::ClientInfo,
    request_id: &str,
) -> crate::audit::Context {
    let kind = if caller.is_service_account() {
        "service_account"
    } else {
        "user"
    };
    crate::audit::Context {
        actor_kind: kind.to_string(),
        actor_id: Some(caller.user.id),
        actor_login: caller.user.login.clone(),
        token_id: caller.api_key.as_ref().map(|k| k.id),
        auth_method: audit_method(caller.method).to_string(),
        client_ip: client.ip.clone(),
        user_agent: client.stored_user_agent().to_string(),
        request_id: request_id.to_string(),
        org_id: caller.org_id,
    }
}

/// How a caller authenticated, as an audit record names it.
pub fn audit_method(method: AuthMethod) -> &'static str {
    match method {
        AuthMethod::Basic => "password",
        AuthMethod::Session => "session",
        AuthMethod::ApiKey => "token",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_debug_shows_no_password_hash_or_salt() {
        let mut user = UserRow::for_test(3, "bob");
        user.profile.is_admin = true;
        user.password = Some("HASH-a41f0be77c".into());
        user.salt = Some("SALT-9e8d7c".into());
        let row = SignedInRow {
            user,
            role: Some("Admin".into()),
            auth_module: None,
        };
        let caller = Caller::from_row(row, AuthMethod::Basic);
        let shown = format!("{caller:?}");
        assert!(shown.contains("bob@example.com"), "{shown}");
        assert!(!shown.contains("HASH-a41f0be77c"), "{shown}");
        assert!(!shown.contains("SALT-9e8d7c"), "{shown}");
    }
}
