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
use crate::app::AppState;
use crate::auth::{password, OrgRole};
use crate::domain::{login as logins, new_uid, text};
use crate::store::teams::TeamSearch;
use crate::store::{NewUser, StoreError};

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

fn server(e: StoreError) -> Problem {
    Problem::server(e.to_string())
}

/// What one run changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    pub changes: usize,
}

/// Checks references against the database (orgs and users that must exist), then applies.
pub async fn apply(app: &AppState, d: &Declared) -> Result<Applied, Problem> {
    let store = &app.store;
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
        if let Some(org) = store.org_by_name(&o.name).await.map_err(server)? {
            if app.is_default_org(org.id) {
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
    async fn org_ok(
        app: &AppState,
        present: &HashSet<&str>,
        absent: &HashSet<&str>,
        name: &str,
    ) -> Result<bool, Problem> {
        Ok(!absent.contains(name)
            && (present.contains(name)
                || app.store.org_by_name(name).await.map_err(server)?.is_some()))
    }
    for u in d.users.iter().filter(|u| u.state == State::Present) {
        for (org, _, state) in &u.orgs {
            if *state == State::Present && !org_ok(app, &present_orgs, &absent_orgs, org).await? {
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
    for Team { entry: t, at } in d.teams.iter().filter(|t| t.entry.state == State::Present) {
        if !org_ok(app, &present_orgs, &absent_orgs, &t.org).await? {
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
            if !present_users.contains(login.as_str())
                && store
                    .user_by_login_or_email(&login)
                    .await
                    .map_err(server)?
                    .is_none()
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

    let now = app.now();
    let mut applied = Applied::default();
    // Orgs first, so that users and teams can join them.
    for Org { name, state, .. } in &d.orgs {
        if *state == State::Present && store.org_by_name(name).await.map_err(server)?.is_none() {
            store.create_org(name, now).await.map_err(server)?;
            applied.changes += 1;
        }
    }
    for u in d.users.iter().filter(|u| u.state == State::Present) {
        applied.changes += apply_user(app, u).await?;
    }
    for t in &d.teams {
        applied.changes += apply_team(app, &t.entry).await?;
    }
    for u in d.users.iter().filter(|u| u.state == State::Absent) {
        if let Some(row) = store
            .user_by_login_or_email(&u.login)
            .await
            .map_err(server)?
        {
            if row.is_admin
                && store
                    .count_other_server_admins(row.id)
                    .await
                    .map_err(server)?
                    == 0
            {
                return Err(Problem::new(
                    &u.at.0,
                    u.at.1,
                    format!("user {:?} is the last server admin and stays", u.login),
                ));
            }
            store.delete_user(row.id).await.map_err(server)?;
            applied.changes += 1;
        }
    }
    for Org { name, state, .. } in &d.orgs {
        if *state == State::Absent {
            if let Some(org) = store.org_by_name(name).await.map_err(server)? {
                store.delete_org(org.id).await.map_err(server)?;
                applied.changes += 1;
            }
        }
    }
    Ok(applied)
}

async fn org_id(app: &AppState, name: &str) -> Result<Option<i64>, Problem> {
    Ok(app
        .store
        .org_by_name(name)
        .await
        .map_err(server)?
        .map(|o| o.id))
}

async fn apply_user(app: &AppState, u: &User) -> Result<usize, Problem> {
    let store = &app.store;
    let now = app.now();
    let mut changes = 0;
    let existing = store
        .user_by_login_or_email(&u.login)
        .await
        .map_err(server)?;
    let id = match existing {
        Some(row) => {
            let wanted_name = if u.name.is_empty() {
                row.name.clone().unwrap_or_default()
            } else {
                u.name.clone()
            };
            let wanted_email = u.email.clone().unwrap_or_else(|| row.email.clone());
            if row.email != wanted_email || row.name.as_deref().unwrap_or("") != wanted_name {
                let update = crate::store::UserUpdate {
                    login: row.login.clone(),
                    email: wanted_email,
                    name: wanted_name,
                    theme: None,
                };
                store.update_user(row.id, &update, now).await.map_err(|e| {
                    Problem::new(&u.at.0, u.at.1, format!("user {:?}: {e}", u.login))
                })?;
                changes += 1;
            }
            if let Some(secret) = &u.password {
                let stored = row.password.clone().unwrap_or_default();
                let salt = row.salt.clone().unwrap_or_default();
                let (matches, new) = match secret.clone() {
                    Secret::Hash(h) => (h == stored, Some((h, salt))),
                    Secret::Plain(p) => {
                        let scheme = app.config.security.password_hash;
                        let (s2, st2) = (salt.clone(), stored.clone());
                        let hasher = &app.hasher;
                        let same = hasher
                            .verify_internal(p.clone(), st2, s2)
                            .await
                            .map_err(|e| Problem::server(e.to_string()))?;
                        if same {
                            (true, None)
                        } else {
                            let h = hasher
                                .hash_internal(p, scheme)
                                .await
                                .map_err(|e| Problem::server(e.to_string()))?;
                            (false, Some((h.hash, h.salt)))
                        }
                    }
                };
                if !matches {
                    if let Some((hash, salt)) = new {
                        store
                            .set_password(row.id, &hash, &salt, None, now)
                            .await
                            .map_err(server)?;
                        changes += 1;
                    }
                }
            }
            if let Some(admin) = u.is_admin {
                if admin != row.is_admin {
                    store
                        .set_server_admin(row.id, admin, now)
                        .await
                        .map_err(server)?;
                    changes += 1;
                }
            }
            if let Some(disabled) = u.is_disabled {
                if disabled != row.is_disabled {
                    store
                        .set_disabled(row.id, disabled, now)
                        .await
                        .map_err(server)?;
                    changes += 1;
                }
            }
            row.id
        }
        None => {
            let (hash, salt) = match u.password.clone() {
                Some(Secret::Hash(h)) => (Some(h), password::random_string(10)),
                Some(Secret::Plain(p)) => {
                    let scheme = app.config.security.password_hash;
                    let h = app
                        .hasher
                        .hash_internal(p, scheme)
                        .await
                        .map_err(|e| Problem::server(e.to_string()))?;
                    (Some(h.hash), h.salt)
                }
                None => (None, password::random_string(10)),
            };
            // The first org listed is the user's current org; else [users] auto_assign_org_id.
            let first = u.orgs.iter().find(|(_, _, s)| *s == State::Present);
            let (org, role) = match first {
                Some((name, role, _)) => (
                    org_id(app, name)
                        .await?
                        .unwrap_or(app.config.users.auto_assign_org_id),
                    role.unwrap_or(OrgRole::Viewer),
                ),
                None => (
                    app.config.users.auto_assign_org_id,
                    OrgRole::parse(&app.config.users.auto_assign_org_role)
                        .unwrap_or(OrgRole::Viewer),
                ),
            };
            let new = NewUser {
                uid: new_uid(),
                login: u.login.clone(),
                email: u.email.clone().unwrap_or_else(|| u.login.clone()),
                name: u.name.clone(),
                password_hash: hash,
                salt,
                rands: password::random_string(10),
                is_admin: u.is_admin.unwrap_or(false),
                is_disabled: u.is_disabled.unwrap_or(false),
                is_service_account: false,
                theme: String::new(),
                org_id: org,
                role: role.as_str().to_string(),
                own_org: None,
            };
            changes += 1;
            store
                .create_user(&new, now)
                .await
                .map_err(|e| Problem::new(&u.at.0, u.at.1, format!("user {:?}: {e}", u.login)))?
        }
    };
    for (org, role, state) in &u.orgs {
        let Some(org) = org_id(app, org).await? else {
            continue;
        };
        let current = store.org_role(id, org).await.map_err(server)?;
        match (state, current) {
            (State::Present, None) => {
                let role = role.unwrap_or(OrgRole::Viewer);
                store
                    .add_org_member(org, id, role.as_str(), now)
                    .await
                    .map_err(server)?;
                changes += 1;
            }
            (State::Present, Some(current)) => {
                if let Some(role) = role {
                    if current != role.as_str() {
                        store
                            .set_org_member_role(org, id, role.as_str(), now)
                            .await
                            .map_err(|e| {
                                Problem::new(&u.at.0, u.at.1, format!("user {:?}: {e}", u.login))
                            })?;
                        changes += 1;
                    }
                }
            }
            (State::Absent, Some(_)) => {
                store.remove_org_member(org, id, false).await.map_err(|e| {
                    Problem::new(&u.at.0, u.at.1, format!("user {:?}: {e}", u.login))
                })?;
                changes += 1;
            }
            (State::Absent, None) => {}
        }
    }
    Ok(changes)
}

async fn apply_team(app: &AppState, t: &TeamEntry) -> Result<usize, Problem> {
    let store = &app.store;
    let now = app.now();
    let Some(org) = org_id(app, &t.org).await? else {
        return Ok(0);
    };
    let search = TeamSearch {
        name: t.name.clone(),
        limit: 1,
        ..Default::default()
    };
    let existing = store
        .search_teams(org, &search)
        .await
        .map_err(server)?
        .1
        .into_iter()
        .next();
    let mut changes = 0;
    if t.state == State::Absent {
        if let Some(team) = existing {
            store.delete_team(org, team.id).await.map_err(server)?;
            changes += 1;
        }
        return Ok(changes);
    }
    let email = t.email.clone().unwrap_or_default();
    let team_id = match existing {
        Some(team) => {
            if t.email.is_some() && team.email.as_deref().unwrap_or("") != email {
                store
                    .update_team(org, team.id, None, &email, now)
                    .await
                    .map_err(server)?;
                changes += 1;
            }
            team.id
        }
        None => {
            changes += 1;
            store
                .create_team_with_admin(org, &t.name, &email, None, now)
                .await
                .map_err(server)?
                .0
        }
    };
    let wanted = t
        .members
        .iter()
        .map(|l| (l, 0))
        .chain(t.admins.iter().map(|l| (l, 4)));
    for (login, permission) in wanted {
        let Some(user) = store
            .user_by_login_or_email(&login.to_lowercase())
            .await
            .map_err(server)?
        else {
            continue;
        };
        if store
            .org_role(user.id, org)
            .await
            .map_err(server)?
            .is_none()
        {
            store
                .add_org_member(org, user.id, "Viewer", now)
                .await
                .map_err(server)?;
            changes += 1;
        }
        if store
            .is_team_member(team_id, user.id)
            .await
            .map_err(server)?
        {
            store
                .set_team_member_permission(org, team_id, user.id, permission, now)
                .await
                .map_err(server)?;
        } else {
            store
                .add_member_to_team(org, team_id, user.id, permission, now)
                .await
                .map_err(server)?;
            changes += 1;
        }
    }
    Ok(changes)
}
