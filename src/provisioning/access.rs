//! Users, orgs, teams and memberships from declarative files — beyond Grafana, which declines to
//! provision them (grafana/grafana#12119, PR #78253). Files: `<provisioning>/users/*.yaml|yml`:
//!
//! ```yaml
//! apiVersion: 1
//! orgs:
//!   - name: Engineering            # state: present (default) or absent
//! users:
//!   - login: alice
//!     email: alice@example.com
//!     name: Alice
//!     password: $__env{ALICE_PASSWORD}   # or passwordHash: "$argon2id$v=19$…"
//!     isAdmin: false
//!     isDisabled: false
//!     orgs:
//!       - name: Engineering
//!         role: Editor                 # state: absent removes the membership
//! teams:
//!   - name: Backend
//!     org: Engineering
//!     email: backend@example.com
//!     members: [alice]
//!     admins: [bob]
//! ```
//!
//! Everything declared is brought about; nothing undeclared is touched (members added through
//! the API stay). Every file is read and checked — references, roles, emails, password hashes,
//! `$__env{…}`/`$__file{…}` values — before anything is written, so a bad file changes nothing;
//! errors name the file and line. A password is written only when the stored one does not
//! already match, so a reload does not end the user's sessions.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::values::interpolate;
use super::Problem;
use crate::auth::password;
use crate::domain::role::{OrgRole, TeamPermission};
use crate::domain::{login as logins, text};
use crate::service::{self, Actor, ServiceError};
use crate::state::AppState;
use crate::store::orgs::OrgMembership;
use crate::store::teams::{TeamKey, TeamMembership};
use crate::store::{Lock, NewUser, StoreError, Tx, UserRow, UserUpdate};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    #[default]
    Present,
    Absent,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    #[serde(default)]
    #[allow(dead_code)]
    api_version: Option<serde_norway::Value>,
    #[serde(default)]
    orgs: Vec<OrgEntry>,
    #[serde(default)]
    users: Vec<UserEntry>,
    #[serde(default)]
    teams: Vec<TeamEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OrgEntry {
    name: String,
    #[serde(default)]
    state: State,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MembershipEntry {
    name: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    state: State,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserEntry {
    login: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    password_hash: Option<String>,
    #[serde(default)]
    is_admin: Option<bool>,
    #[serde(default)]
    is_disabled: Option<bool>,
    #[serde(default)]
    orgs: Vec<MembershipEntry>,
    #[serde(default)]
    state: State,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TeamEntry {
    name: String,
    org: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    admins: Vec<String>,
    #[serde(default)]
    state: State,
}

/// A checked user: values interpolated, password given as plain text or as a hash.
#[derive(Debug, Clone)]
struct User {
    login: String,
    /// `None`: left as it is (a new user gets the login, as Grafana stores it).
    email: Option<String>,
    name: String,
    password: Option<Secret>,
    is_admin: Option<bool>,
    is_disabled: Option<bool>,
    orgs: Vec<(String, Option<OrgRole>, State)>,
    state: State,
    /// Where it is declared: file and line.
    at: (PathBuf, Option<usize>),
}

/// A checked org, with where it is declared.
#[derive(Debug, Clone)]
struct Org {
    name: String,
    state: State,
    at: (PathBuf, Option<usize>),
}

/// A checked team, with where it is declared.
#[derive(Debug, Clone)]
struct Team {
    entry: TeamEntry,
    at: (PathBuf, Option<usize>),
}

#[derive(Clone)]
enum Secret {
    Plain(String),
    Hash(String),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Everything the files declare, checked.
#[derive(Debug, Default)]
pub struct Declared {
    orgs: Vec<Org>,
    users: Vec<User>,
    teams: Vec<Team>,
}

/// The line of the first line of `text` containing `needle`, for messages.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// Reads and checks every file; any error means nothing is declared.
pub fn read(dir: &Path) -> Result<Declared, Problem> {
    // No folder: nothing declared (Grafana: no providers).
    let files = super::yaml_files(&dir.join("users"));
    let mut declared = Declared::default();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| Problem::new(&file, None, format!("cannot read: {e}")))?;
        let parsed: File = serde_norway::from_str(&text).map_err(|e| {
            Problem::new(
                &file,
                e.location().map(|l| l.line()),
                format!("could not parse provisioning file: {e}"),
            )
        })?;
        let at =
            |needle: &str, message: String| Problem::new(&file, line_of(&text, needle), message);
        for o in parsed.orgs {
            let name = interpolate(&o.name).map_err(|m| at(&o.name, m))?;
            if name.trim().is_empty() {
                return Err(at("orgs", "an organization needs a name".into()));
            }
            text::line("organization name", &name, text::VARCHAR_190)
                .map_err(|e| at(&o.name, e.to_string()))?;
            let line = line_of(&text, &format!("name: {}", o.name));
            declared.orgs.push(Org {
                name,
                state: o.state,
                at: (file.clone(), line),
            });
        }
        for u in parsed.users {
            let raw_login = interpolate(&u.login).map_err(|m| at(&u.login, m))?;
            let err = |m: String| at(&format!("login: {}", u.login), m);
            let login = logins::user_login(&raw_login)
                .map_err(|e| err(format!("user {raw_login:?}: {e}")))?;
            let email = u
                .email
                .as_deref()
                .map(interpolate)
                .transpose()
                .map_err(&err)?
                .map(|e| {
                    logins::user_email(&e).map_err(|m| err(format!("user {login:?}: {m} {e:?}")))
                })
                .transpose()?;
            let name = u
                .name
                .as_deref()
                .map(interpolate)
                .transpose()
                .map_err(&err)?;
            if let Some(name) = &name {
                text::line("name", name, text::VARCHAR_255)
                    .map_err(|e| err(format!("user {login:?}: {e}")))?;
            }
            let password = match (&u.password, &u.password_hash) {
                (Some(_), Some(_)) => {
                    return Err(err(format!(
                        "user {login:?}: give password or passwordHash, not both"
                    )))
                }
                (Some(p), None) => {
                    let p = interpolate(p).map_err(&err)?;
                    password::validate_new_password(&p, false)
                        .map_err(|m| err(format!("user {login:?}: {m}")))?;
                    Some(Secret::Plain(p))
                }
                (None, Some(h)) => {
                    let h = interpolate(h).map_err(&err)?;
                    if argon2::PasswordHash::new(&h).is_err() || !h.starts_with("$argon2") {
                        return Err(err(format!(
                            "user {login:?}: passwordHash must be an argon2 hash in PHC form ($argon2id$v=19$…)"
                        )));
                    }
                    Some(Secret::Hash(h))
                }
                (None, None) => None,
            };
            let mut orgs = Vec::new();
            for m in &u.orgs {
                let org = interpolate(&m.name).map_err(&err)?;
                text::line("organization name", &org, text::VARCHAR_190)
                    .map_err(|e| err(format!("user {login:?}: {e}")))?;
                let role = match &m.role {
                    Some(r) => Some(OrgRole::parse(r).ok_or_else(|| {
                        err(format!("user {login:?}: invalid role {r:?} in {org:?}"))
                    })?),
                    None => None,
                };
                orgs.push((org, role, m.state));
            }
            declared.users.push(User {
                name: name.unwrap_or_default(),
                login,
                email,
                password,
                is_admin: u.is_admin,
                is_disabled: u.is_disabled,
                orgs,
                state: u.state,
                at: (file.clone(), line_of(&text, &format!("login: {}", u.login))),
            });
        }
        for t in parsed.teams {
            let mut t = t;
            t.name = interpolate(&t.name).map_err(|m| at(&t.name, m))?;
            t.org = interpolate(&t.org).map_err(|m| at(&t.org, m))?;
            if t.name.trim().is_empty() {
                return Err(at("teams", "a team needs a name".into()));
            }
            let checked = text::line("team name", &t.name, text::VARCHAR_190)
                .and_then(|()| text::line("organization name", &t.org, text::VARCHAR_190))
                .and_then(|()| match &t.email {
                    Some(e) => text::line("team email", e, text::VARCHAR_190),
                    None => Ok(()),
                });
            checked.map_err(|e| at(&t.name, e.to_string()))?;
            let line = line_of(&text, &format!("name: {}", t.name));
            declared.teams.push(Team {
                entry: t,
                at: (file.clone(), line),
            });
        }
    }
    // Logins declared twice would fight each other.
    let mut seen = HashSet::new();
    for u in &declared.users {
        if !seen.insert(u.login.clone()) {
            return Err(Problem::new(
                &u.at.0,
                u.at.1,
                format!("user {:?} is declared twice", u.login),
            ));
        }
    }
    Ok(declared)
}

fn server(e: impl std::fmt::Display) -> Problem {
    Problem::server(e.to_string())
}

/// A refused change of a declared user, org or team, named by where it is declared; a failure of
/// the database itself is the server's.
fn refused(at: &(PathBuf, Option<usize>), what: &str, e: ServiceError) -> Problem {
    match e {
        ServiceError::Store(
            e @ (StoreError::Db(_) | StoreError::Migration { .. } | StoreError::Config(_)),
        ) => server(e),
        e => Problem::new(&at.0, at.1, format!("{what}: {e}")),
    }
}

/// What one run changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    pub changes: usize,
}

/// What to do with a declared password, decided before the transaction (hashing is slow and
/// must not hold the database's locks).
enum PasswordPlan {
    /// The stored password is the declared one.
    Keep,
    /// Store this hash and salt.
    Set(String, String),
}

/// Hashes or verifies every declared password against the stored one.
async fn plan_passwords(
    app: &AppState,
    d: &Declared,
) -> Result<Vec<Option<PasswordPlan>>, Problem> {
    let mut plans = Vec::with_capacity(d.users.len());
    for u in &d.users {
        let Some(secret) = u.password.clone().filter(|_| u.state == State::Present) else {
            plans.push(None);
            continue;
        };
        let row = app
            .store
            .user_by_login_or_email(&u.login)
            .await
            .map_err(server)?;
        let stored = row.as_ref().and_then(|r| r.password.clone());
        let salt = row.as_ref().and_then(|r| r.salt.clone());
        let plan = match secret {
            Secret::Hash(h) if stored.as_deref() == Some(h.as_str()) => PasswordPlan::Keep,
            Secret::Hash(h) => {
                PasswordPlan::Set(h, salt.unwrap_or_else(|| password::random_string(10)))
            }
            Secret::Plain(p) => {
                let same = match (stored, salt) {
                    (Some(stored), Some(salt)) => app
                        .hasher
                        .verify_internal(p.clone(), stored, salt)
                        .await
                        .map_err(server)?,
                    _ => false,
                };
                if same {
                    PasswordPlan::Keep
                } else {
                    let h = app
                        .hasher
                        .hash_internal(p, app.config.security.password_hash)
                        .await
                        .map_err(server)?;
                    PasswordPlan::Set(h.hash, h.salt)
                }
            }
        };
        plans.push(Some(plan));
    }
    Ok(plans)
}

/// Checks references against the database (orgs and users that must exist), then applies
/// everything in one transaction: a refusal anywhere leaves the database as it was.
pub async fn apply(app: &AppState, d: &Declared, trigger: &str) -> Result<Applied, Problem> {
    let passwords = plan_passwords(app, d).await?;
    let mut tx = app.store.begin().await.map_err(server)?;
    // Every lock a change below may take, in their one order, so that this transaction never
    // waits for one while holding another that a concurrent request waits for.
    for lock in Lock::ALL {
        tx.lock(lock).await.map_err(server)?;
    }
    let applied = apply_in(app, &mut tx, d, &passwords).await?;
    // The run itself, in the same transaction: recorded whether or not it changed anything.
    let event = super::reload_event("users")
        .set("trigger", trigger)
        .set("changes", applied.changes as i64);
    tx.audit(event).await.map_err(server)?;
    tx.commit().await.map_err(server)?;
    Ok(applied)
}

async fn org_id(app: &AppState, tx: &mut Tx, name: &str) -> Result<Option<i64>, Problem> {
    Ok(app
        .store
        .org_by_name_in(tx.db(), name)
        .await
        .map_err(server)?
        .map(|o| o.id))
}

async fn user_row(app: &AppState, tx: &mut Tx, login: &str) -> Result<Option<UserRow>, Problem> {
    app.store
        .user_by_login_or_email_in(tx.db(), login)
        .await
        .map_err(server)
}

async fn apply_in(
    app: &AppState,
    tx: &mut Tx,
    d: &Declared,
    passwords: &[Option<PasswordPlan>],
) -> Result<Applied, Problem> {
    let present_orgs: HashSet<&str> = d
        .orgs
        .iter()
        .filter(|o| o.state == State::Present)
        .map(|o| o.name.as_str())
        .collect();
    let absent_orgs: HashSet<&str> = d
        .orgs
        .iter()
        .filter(|o| o.state == State::Absent)
        .map(|o| o.name.as_str())
        .collect();
    // The org new users join stays (see `AppState::is_default_org`).
    for o in d.orgs.iter().filter(|o| o.state == State::Absent) {
        if let Some(org) = org_id(app, tx, &o.name).await? {
            if app.is_default_org(org) {
                return Err(Problem::new(
                    &o.at.0,
                    o.at.1,
                    format!(
                        "organization {:?} is the one new users join ([users] auto_assign_org_id) and stays",
                        o.name
                    ),
                ));
            }
        }
    }
    let present_users: HashSet<&str> = d
        .users
        .iter()
        .filter(|u| u.state == State::Present)
        .map(|u| u.login.as_str())
        .collect();
    // Every org a present user or team names must be declared present or exist already.
    let org_ok = |name: &str, exists: bool| {
        !absent_orgs.contains(name) && (present_orgs.contains(name) || exists)
    };
    for u in d.users.iter().filter(|u| u.state == State::Present) {
        for (org, _, state) in &u.orgs {
            if *state == State::Present {
                let exists = org_id(app, tx, org).await?.is_some();
                if !org_ok(org, exists) {
                    return Err(Problem::new(
                        &u.at.0,
                        u.at.1,
                        format!(
                            "user {:?}: organization {org:?} is neither declared nor existing",
                            u.login
                        ),
                    ));
                }
            }
        }
    }
    for Team { entry: t, at } in d.teams.iter().filter(|t| t.entry.state == State::Present) {
        let exists = org_id(app, tx, &t.org).await?.is_some();
        if !org_ok(&t.org, exists) {
            return Err(Problem::new(
                &at.0,
                at.1,
                format!(
                    "team {:?}: organization {:?} is neither declared nor existing",
                    t.name, t.org
                ),
            ));
        }
        for login in t.members.iter().chain(&t.admins) {
            let login = login.to_lowercase();
            if !present_users.contains(login.as_str()) && user_row(app, tx, &login).await?.is_none()
            {
                return Err(Problem::new(
                    &at.0,
                    at.1,
                    format!(
                        "team {:?}: user {login:?} is neither declared nor existing",
                        t.name
                    ),
                ));
            }
        }
    }

    let mut applied = Applied::default();
    // Orgs first, so that users and teams can join them.
    for Org { name, state, at } in &d.orgs {
        if *state == State::Present && org_id(app, tx, name).await?.is_none() {
            service::orgs::create(app, tx, name, None)
                .await
                .map_err(|e| refused(at, &format!("organization {name:?}"), e))?;
            applied.changes += 1;
        }
    }
    for (u, password) in d.users.iter().zip(passwords) {
        if u.state == State::Present {
            applied.changes += apply_user(app, tx, u, password.as_ref()).await?;
        }
    }
    for t in &d.teams {
        applied.changes += apply_team(app, tx, t).await?;
    }
    for u in d.users.iter().filter(|u| u.state == State::Absent) {
        if let Some(row) = user_row(app, tx, &u.login).await? {
            service::users::delete(app, tx, row.id)
                .await
                .map_err(|e| user_refused(u, e, ""))?;
            applied.changes += 1;
        }
    }
    for Org { name, state, at } in &d.orgs {
        if *state == State::Absent {
            if let Some(org) = org_id(app, tx, name).await? {
                service::orgs::delete(app, tx, org)
                    .await
                    .map_err(|e| refused(at, &format!("organization {name:?}"), e))?;
                applied.changes += 1;
            }
        }
    }
    Ok(applied)
}

/// A refused change of a declared user; `stays` says what the last server admin stays.
fn user_refused(u: &User, e: ServiceError, stays: &str) -> Problem {
    match e {
        ServiceError::LastServerAdmin => Problem::new(
            &u.at.0,
            u.at.1,
            format!(
                "user {:?} is the last server admin and stays{stays} (Grafana: {e})",
                u.login
            ),
        ),
        e => refused(&u.at, &format!("user {:?}", u.login), e),
    }
}

async fn apply_user(
    app: &AppState,
    tx: &mut Tx,
    u: &User,
    password: Option<&PasswordPlan>,
) -> Result<usize, Problem> {
    let mut changes = 0;
    let id = match user_row(app, tx, &u.login).await? {
        Some(row) => {
            let wanted_name = if u.name.is_empty() {
                row.name.clone().unwrap_or_default()
            } else {
                u.name.clone()
            };
            let wanted_email = u.email.clone().unwrap_or_else(|| row.email.clone());
            if row.email != wanted_email || row.name.as_deref().unwrap_or("") != wanted_name {
                let update = UserUpdate {
                    login: row.login.clone(),
                    email: wanted_email,
                    name: wanted_name,
                    theme: None,
                };
                service::users::update(app, tx, row.id, &update)
                    .await
                    .map_err(|e| user_refused(u, e, ""))?;
                changes += 1;
            }
            if let Some(PasswordPlan::Set(hash, salt)) = password {
                service::users::set_password(app, tx, row.id, hash, salt, None)
                    .await
                    .map_err(|e| user_refused(u, e, ""))?;
                changes += 1;
            }
            if let Some(admin) = u.is_admin.filter(|a| *a != row.is_admin) {
                service::users::set_server_admin(app, tx, row.id, admin)
                    .await
                    .map_err(|e| user_refused(u, e, " a server admin"))?;
                changes += 1;
            }
            if let Some(disabled) = u.is_disabled.filter(|d| *d != row.is_disabled) {
                service::users::set_disabled(app, tx, row.id, disabled)
                    .await
                    .map_err(|e| user_refused(u, e, " enabled"))?;
                changes += 1;
            }
            row.id
        }
        None => {
            // The first org listed is the user's current org; else [users] auto_assign_org_id.
            let first = u.orgs.iter().find(|(_, _, s)| *s == State::Present);
            let (org, role) = match first {
                Some((name, role, _)) => (
                    org_id(app, tx, name)
                        .await?
                        .unwrap_or(app.config.users.auto_assign_org_id),
                    role.unwrap_or(OrgRole::Viewer),
                ),
                None => (
                    app.config.users.auto_assign_org_id,
                    app.config.users.auto_assign_org_role,
                ),
            };
            let email = u.email.clone().unwrap_or_else(|| u.login.clone());
            let mut new = NewUser::new(u.login.clone(), email, u.name.clone(), org, role)
                .server_admin(u.is_admin.unwrap_or(false))
                .disabled(u.is_disabled.unwrap_or(false));
            if let Some(PasswordPlan::Set(hash, salt)) = password {
                new = new.with_password(hash.clone(), salt.clone());
            }
            changes += 1;
            service::users::create(app, tx, &new)
                .await
                .map_err(|e| user_refused(u, e, ""))?
        }
    };
    for (org, role, state) in &u.orgs {
        let Some(org) = org_id(app, tx, org).await? else {
            continue;
        };
        let current = app
            .store
            .org_role_in(tx.db(), id, org)
            .await
            .map_err(server)?;
        let member = |role| OrgMembership {
            org_id: org,
            user_id: id,
            role,
        };
        let change = match (state, current) {
            (State::Present, None) => {
                let member = member(role.unwrap_or(OrgRole::Viewer));
                service::orgs::add_member(app, tx, Actor::System, member).await
            }
            (State::Present, Some(current)) => match role {
                Some(role) if current != *role => {
                    service::orgs::set_member_role(app, tx, Actor::System, member(*role)).await
                }
                _ => continue,
            },
            (State::Absent, Some(_)) => service::orgs::remove_member(app, tx, org, id, false)
                .await
                .map(|_| ()),
            (State::Absent, None) => continue,
        };
        change.map_err(|e| user_refused(u, e, ""))?;
        changes += 1;
    }
    Ok(changes)
}

async fn apply_team(app: &AppState, tx: &mut Tx, team: &Team) -> Result<usize, Problem> {
    let Team { entry: t, at } = team;
    let what = format!("team {:?}", t.name);
    let Some(org) = org_id(app, tx, &t.org).await? else {
        return Ok(0);
    };
    let existing = app
        .store
        .team_by(tx.db(), org, TeamKey::Name(&t.name))
        .await
        .map_err(server)?;
    let mut changes = 0;
    if t.state == State::Absent {
        if let Some(existing) = existing {
            service::teams::delete(app, tx, org, existing.id)
                .await
                .map_err(|e| refused(at, &what, e))?;
            changes += 1;
        }
        return Ok(changes);
    }
    let email = t.email.clone().unwrap_or_default();
    let team_id = match existing {
        Some(existing) => {
            if t.email.is_some() && existing.email.as_deref().unwrap_or("") != email {
                service::teams::update(app, tx, org, existing.id, None, &email)
                    .await
                    .map_err(|e| refused(at, &what, e))?;
                changes += 1;
            }
            existing.id
        }
        None => {
            changes += 1;
            service::teams::create(app, tx, org, &t.name, &email, None)
                .await
                .map_err(|e| refused(at, &what, e))?
                .0
        }
    };
    let wanted = t
        .members
        .iter()
        .map(|l| (l, TeamPermission::Member))
        .chain(t.admins.iter().map(|l| (l, TeamPermission::Admin)));
    for (login, permission) in wanted {
        let Some(user) = user_row(app, tx, &login.to_lowercase()).await? else {
            continue;
        };
        let member = app
            .store
            .org_role_in(tx.db(), user.id, org)
            .await
            .map_err(server)?;
        if member.is_none() {
            let viewer = OrgMembership {
                org_id: org,
                user_id: user.id,
                role: OrgRole::Viewer,
            };
            service::orgs::add_member(app, tx, Actor::System, viewer)
                .await
                .map_err(|e| refused(at, &what, e))?;
            changes += 1;
        }
        let current = app
            .store
            .team_member_permission(tx.db(), team_id, user.id)
            .await
            .map_err(server)?;
        let membership = TeamMembership {
            org_id: org,
            team_id,
            user_id: user.id,
            permission,
        };
        if let Some(current) = current {
            if current != permission {
                service::teams::set_member_permission(app, tx, membership)
                    .await
                    .map_err(|e| refused(at, &what, e))?;
                changes += 1;
            }
        } else {
            service::teams::add_member(app, tx, membership)
                .await
                .map_err(|e| refused(at, &what, e))?;
            changes += 1;
        }
    }
    Ok(changes)
}
