//! Login sessions: the `grafana_session` cookie and Grafana's `user_auth_token` rows.
//!
//! A token is 16 bytes from the OS CSPRNG, hex-encoded; the database holds only
//! hex(SHA-256(token + secret_key)) (`pkg/services/auth/authimpl/auth_token.go`). Every request
//! reads the row (`auth_token = ? OR prev_auth_token = ?`), so a revocation on any instance is
//! refused on the next request everywhere.
//!
//! Rotation happens on the server, during a request, every `token_rotation_interval_minutes`;
//! the new token goes out in `Set-Cookie`. (Grafana 10+ leaves rotation to its frontend, which
//! calls `POST /api/user/auth-tokens/rotate`; that endpoint exists too, but scripts holding a
//! cookie jar need no special client.) The rotation is a conditional UPDATE on the token and
//! rotation time that were read, so of several requests or instances rotating at once exactly one
//! wins and the others carry on with the token they had, which stays valid as the previous token:
//! - while the client has not presented the new token, the previous one is accepted (its
//!   response may have been lost) and, after [`RESEND_AFTER`], a fresh token is issued to it;
//! - once the new token has been seen, the previous one is accepted for [`PREVIOUS_TOKEN_GRACE`]
//!   more, for requests that were already in flight, and refused after.
//!
//! Idle lifetime counts from the last rotation and absolute lifetime from creation, as in
//! Grafana.
//!
//! Rows read for cookies may be kept in a [`SessionCache`] for `[auth]
//! session_cache_revalidate_interval`. Every write through this process to sessions or users bumps
//! the store's generation, which empties the cache's validity at once; the interval only bounds
//! how long a change made by *another* process goes unseen. It is therefore on (1 s) by default
//! only for SQLite, whose database belongs to one server process, and off for PostgreSQL and
//! MySQL, where several instances share the database and every request reads the row. The cache
//! holds at most `[auth] session_cache_max_entries` rows (default 100,000); when full, rows are
//! evicted one at a time (moka's TinyLFU policy), never all at once.

use axum::http::{header, HeaderMap, HeaderValue};
use chrono::{DateTime, Utc};
use rand::RngCore;
use subtle::ConstantTimeEq;

use super::AuthError;
use crate::config::SameSite;
pub use crate::state::sessions::{hash_token, SessionCache, DEFAULT_MAX_CACHED};
use crate::state::AppState;
use crate::store::{Db, NewSession, Rotation, SessionRow, SessionWithUser, Tx};

/// How long the previous token keeps working once the client has used the new one.
pub const PREVIOUS_TOKEN_GRACE: i64 = 60;
/// A client still presenting the previous token this long after a rotation gets a new token.
pub const RESEND_AFTER: i64 = 5;
/// Grafana's `grafana_session_expiry` is the next rotation time minus this leeway.
const EXPIRY_LEEWAY: i64 = 5;
/// The longest user agent kept (the column is VARCHAR(255)).
const MAX_USER_AGENT: usize = 255;

/// A token as the client holds it: 32 lower-case hex characters.
pub fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn looks_like_token(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The session a request was authenticated with.
#[derive(Debug, Clone)]
pub struct SessionRef {
    pub id: i64,
    /// A token issued during this request, to send back in `Set-Cookie`.
    pub issued: Option<Issued>,
}

/// A freshly issued token, the session it belongs to and the time its rotation falls due.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub session_id: i64,
    pub rotated_at: i64,
}

/// Who the client is, as sessions record it.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

impl ClientInfo {
    /// The user agent as stored: at most 255 characters.
    pub fn stored_user_agent(&self) -> &str {
        truncate(&self.user_agent, MAX_USER_AGENT)
    }
}

fn truncate(s: &str, max_chars: usize) -> &str {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The value of the session cookie, if the request has one.
pub fn cookie_token<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

fn unix(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2)
}

/// A session is alive while `created_at` is after the first bound and `rotated_at` after the
/// second (Grafana's absolute and idle lifetimes), at Unix time `now`.
pub fn alive_after(app: &AppState, now: i64) -> (i64, i64) {
    let auth = &app.config.auth;
    (
        now - secs(auth.max_lifetime),
        now - secs(auth.max_inactive_lifetime),
    )
}

/// Starts a session for `user_id` inside `tx` (which records the sign-in) and returns the token
/// for the cookie.
pub async fn create(
    app: &AppState,
    tx: &mut Tx,
    user_id: i64,
    client: &ClientInfo,
) -> Result<Issued, AuthError> {
    let token = new_token();
    let hashed = hash_token(&token, app.config.security.secret_key.expose());
    let now = unix(app.clock.now());
    let session_id = app
        .store
        .create_session(
            tx,
            &NewSession {
                user_id,
                hashed_token: &hashed,
                user_agent: client.stored_user_agent(),
                client_ip: &client.ip,
                now,
            },
        )
        .await
        .map_err(|e| AuthError::store(e, "failed to create session"))?;
    Ok(Issued {
        token,
        session_id,
        rotated_at: now,
    })
}

/// The session row of a token hash, from the cache when allowed, else from the database.
async fn find(app: &AppState, hashed: &str) -> Result<Option<SessionWithUser>, AuthError> {
    let revalidate = app
        .config
        .auth
        .session_cache_revalidate_interval
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .filter(|d| !d.is_zero());
    let Some(revalidate) = revalidate else {
        return Ok(app.store.session_by_token(hashed).await?);
    };
    let now = app.clock.now();
    // Read before the row: a write that lands after this read makes the entry stale again.
    let generation = app.store.generation();
    if let Some(row) = app.sessions.get(hashed, generation, now, revalidate) {
        return Ok(Some(row));
    }
    let row = app.store.session_by_token(hashed).await?;
    if let Some(row) = &row {
        app.sessions
            .insert(hashed.to_string(), row.clone(), generation, now);
    }
    Ok(row)
}

/// What a presented token turned out to be.
pub enum Lookup {
    /// No such session, or it expired: Grafana's 401.
    Invalid,
    Valid {
        row: Box<SessionWithUser>,
        /// The client presented the current token (not the previous one).
        current: bool,
    },
}

/// Finds the session of a cookie value and checks its lifetimes and the previous-token rules.
/// Database errors are errors (a 500), never "invalid": a user is not logged out because the
/// database hiccuped.
pub async fn lookup(app: &AppState, token: &str) -> Result<Lookup, AuthError> {
    if !looks_like_token(token) {
        return Ok(Lookup::Invalid);
    }
    let hashed = hash_token(token, app.config.security.secret_key.expose());
    let Some(row) = find(app, &hashed).await? else {
        return Ok(Lookup::Invalid);
    };
    let now = unix(app.clock.now());
    let s = &row.session;
    let (created_after, rotated_after) = alive_after(app, now);
    if s.is_revoked()
        || s.created_at <= created_after
        || s.rotated_at <= rotated_after
        || row.user.user.is_disabled
    {
        return Ok(Lookup::Invalid);
    }
    let current: bool = s.auth_token.as_bytes().ct_eq(hashed.as_bytes()).into();
    if !current && s.auth_token_seen && now - s.rotated_at > PREVIOUS_TOKEN_GRACE {
        return Ok(Lookup::Invalid);
    }
    Ok(Lookup::Valid {
        row: Box::new(row),
        current,
    })
}

/// After a successful lookup: marks the current token seen, or rotates it when due. Returns the
/// token issued to this client, if any.
pub async fn refresh(
    app: &AppState,
    s: &SessionRow,
    current: bool,
    client: &ClientInfo,
) -> Result<Option<Issued>, AuthError> {
    let now = unix(app.clock.now());
    let due = if current {
        now - s.rotated_at >= secs(app.config.auth.token_rotation_interval)
    } else {
        // The previous token: the client may have missed the new one (see `rotate`).
        now - s.rotated_at >= RESEND_AFTER
    };
    if due {
        return rotate(app, app.store.db(), s, current, client).await;
    }
    if current && !s.auth_token_seen {
        app.store
            .mark_session_seen(s.id, &s.auth_token, now)
            .await?;
    }
    Ok(None)
}

/// Replaces the session's token unless another request did so first. A client presenting the
/// previous token gets a new one only while the current token has never been used: once it has,
/// the holder of the current token is the client, and the previous token is just a request that
/// was in flight (rotating then would log the real holder out). The write runs on `db`: the pool,
/// or a transaction that also records it.
pub async fn rotate(
    app: &AppState,
    db: Db<'_>,
    s: &SessionRow,
    current: bool,
    client: &ClientInfo,
) -> Result<Option<Issued>, AuthError> {
    if !current && s.auth_token_seen {
        return Ok(None);
    }
    let now = unix(app.clock.now());
    let token = new_token();
    let hashed = hash_token(&token, app.config.security.secret_key.expose());
    // The previous token becomes the one this client holds.
    let previous = if current {
        &s.auth_token
    } else {
        &s.prev_auth_token
    };
    let won = app
        .store
        .rotate_session(
            db,
            &Rotation {
                id: s.id,
                current: &s.auth_token,
                rotated_at: s.rotated_at,
                new_hashed_token: &hashed,
                new_previous: previous,
                user_agent: client.stored_user_agent(),
                client_ip: &client.ip,
                now,
            },
        )
        .await?;
    Ok(won.then_some(Issued {
        token,
        session_id: s.id,
        rotated_at: now,
    }))
}

/// `Set-Cookie` values.
pub struct Cookies;

impl Cookies {
    fn attributes(app: &AppState, max_age: i64, http_only: bool) -> String {
        let security = &app.config.security;
        let mut a = format!("; Path={}; Max-Age={max_age}", cookie_path(app));
        if http_only {
            a.push_str("; HttpOnly");
        }
        // Secure when configured, and always when the server is reached over https.
        if security.cookie_secure || app.config.server.root_url.starts_with("https://") {
            a.push_str("; Secure");
        }
        match security.cookie_samesite {
            SameSite::Lax => a.push_str("; SameSite=Lax"),
            SameSite::Strict => a.push_str("; SameSite=Strict"),
            SameSite::None => a.push_str("; SameSite=None"),
            SameSite::Disabled => {}
        }
        a
    }

    /// The session cookie and Grafana's `grafana_session_expiry` (readable by scripts: the Unix
    /// time at which the token should be rotated).
    pub fn issue(app: &AppState, issued: &Issued) -> [HeaderValue; 2] {
        let name = &app.config.auth.login_cookie_name;
        let max_age = secs(app.config.auth.max_lifetime);
        let next_rotation =
            issued.rotated_at + secs(app.config.auth.token_rotation_interval) - EXPIRY_LEEWAY;
        [
            format!(
                "{name}={}{}",
                issued.token,
                Self::attributes(app, max_age, true)
            ),
            format!(
                "{name}_expiry={next_rotation}{}",
                Self::attributes(app, max_age, false)
            ),
        ]
        .map(|v| HeaderValue::from_str(&v).expect("cookie values are ASCII"))
    }

    /// Another cookie of this server (the web interface's), HttpOnly, with the session cookie's
    /// path, `Secure` and `SameSite` rules; `Max-Age=0` clears it.
    pub fn other(app: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
        let value = format!("{name}={value}{}", Self::attributes(app, max_age, true));
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// Clears both cookies (Grafana sends them empty with `Max-Age=0`).
    pub fn clear(app: &AppState) -> [HeaderValue; 2] {
        let name = &app.config.auth.login_cookie_name;
        [
            format!("{name}={}", Self::attributes(app, 0, true)),
            format!("{name}_expiry={}", Self::attributes(app, 0, false)),
        ]
        .map(|v| HeaderValue::from_str(&v).expect("cookie values are ASCII"))
    }
}

/// The path part of `root_url` without its trailing slash (Grafana's AppSubURL): `""` when the
/// server is at the root, `/grafana` under a sub path.
pub fn app_sub_url(app: &AppState) -> String {
    let url = &app.config.server.root_url;
    let after_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = after_scheme
        .find('/')
        .map(|i| &after_scheme[i..])
        .unwrap_or("");
    path.trim_end_matches('/')
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != ';' && *c != ',')
        .collect()
}

/// The cookies' `Path`: the sub path, or `/`.
fn cookie_path(app: &AppState) -> String {
    let path = app_sub_url(app);
    if path.is_empty() {
        "/".into()
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn tokens_are_128_bit_hex_and_stored_as_grafana_does() {
        let t = new_token();
        assert_eq!(t.len(), 32);
        assert!(looks_like_token(&t));
        assert_ne!(t, new_token());
        // hex(SHA-256("token" + "secret")), as Grafana's hashToken computes it.
        assert_eq!(
            hash_token("token", "secret"),
            hex::encode(Sha256::digest(b"tokensecret"))
        );
    }

    #[test]
    fn cookie_header_parsing() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; grafana_session=abc; b=2"),
        );
        assert_eq!(cookie_token(&h, "grafana_session"), Some("abc"));
        assert_eq!(cookie_token(&h, "grafana"), None);
    }

    #[test]
    fn user_agents_are_cut_at_a_character_boundary() {
        let c = ClientInfo {
            ip: String::new(),
            user_agent: "é".repeat(300),
        };
        assert_eq!(c.stored_user_agent().chars().count(), 255);
    }
}
