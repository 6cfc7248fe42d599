//! Bearer authentication for machines: service-account tokens (`glsa_…`) and legacy API keys
//! (`eyJrIjoi…`), Grafana's `pkg/services/authn/clients/api_key.go`.
//!
//! A token is checked in Grafana's order — malformed (or a wrong checksum, before any database
//! work), unknown, expired, revoked, another org than the one asked for, disabled account — and
//! each refusal is Grafana's 401 body. The request then acts as the service account, in the
//! token's org, with the account's role there.
//!
//! Verifying a token means a PBKDF2 hash (about 2 ms). [`TokenCache`] remembers, for tokens
//! that verified, the hash (keyed by an HMAC of the token under a key that lives only in this
//! process) and the row that was read. The hash never goes stale: it is a pure function of the
//! token. The row is trusted without reading it again only while the store's generation is
//! unchanged (any revocation, disable or delete through this process bumps it) and for at most
//! `[auth] api_key_cache_revalidate_interval` — off by default on PostgreSQL and MySQL, so
//! another instance's revocation is refused on the very next request; 1 s on SQLite. Expiry is
//! checked against the clock on every request, cached or not. Failures are never cached; instead
//! unknown well-formed tokens count as failed logins of the caller's address, and an address past
//! `[security] ip_address_login_protection_max_attempts` in the brute-force window gets no more
//! hashing for tokens it has not verified before (answered `api-key.invalid` as any unknown
//! token). Malformed tokens cost nothing and are not counted.
//!
//! The cache holds at most `[auth] api_key_cache_max_entries` tokens (default 100,000); when full,
//! tokens are evicted one at a time (moka's TinyLFU policy), never all at once, so a burst of new
//! tokens does not make every machine client pay its hash again.

use super::tokens::{LegacyApiKey, ServiceAccountToken};
use super::AuthError;
use super::{AuthMethod, Caller, OrgRole};
pub use crate::state::tokens::{Entry, TokenCache, DEFAULT_MAX_ENTRIES};
use crate::state::AppState;
use crate::store::service_accounts::TokenAuthRow;
use crate::store::DbTime;

/// Why a token was refused, each with Grafana's 401 body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Invalid,
    Expired,
    Revoked,
    OrgMismatch,
    Disabled,
}

/// Grafana's checks on a found token, in Grafana's order. `requested_org`: the org the request
/// asks for (`X-Grafana-Org-Id` or `targetOrgId`), if any.
pub fn check(row: &TokenAuthRow, now_unix: i64, requested_org: Option<i64>) -> Result<(), Refusal> {
    if row.key_expires.is_some_and(|e| e <= now_unix) {
        return Err(Refusal::Expired);
    }
    if row.key_is_revoked.unwrap_or(false) {
        return Err(Refusal::Revoked);
    }
    if requested_org.is_some_and(|org| org != row.key_org_id) {
        return Err(Refusal::OrgMismatch);
    }
    if !row.account.user.is_service_account.unwrap_or(false) {
        return Err(Refusal::Invalid);
    }
    if row.account.user.is_disabled {
        return Err(Refusal::Disabled);
    }
    Ok(())
}

/// A decoded token: what to look up and, for legacy keys, what the row must say.
struct Decoded {
    hashed: String,
    /// Legacy keys carry their org and name; the row found must match both.
    legacy: Option<(i64, String)>,
}

/// A well-formed token, not yet hashed.
enum Parsed {
    ServiceAccount(ServiceAccountToken),
    Legacy(LegacyApiKey),
}

/// Grafana: tokens starting with "gl" are service-account tokens, anything else a legacy key.
/// Cheap: checksums and base64 only.
fn parse(token: &str) -> Result<Parsed, Refusal> {
    if token.starts_with("gl") {
        ServiceAccountToken::parse(token)
            .map(Parsed::ServiceAccount)
            .ok_or(Refusal::Invalid)
    } else {
        LegacyApiKey::parse(token)
            .map(Parsed::Legacy)
            .ok_or(Refusal::Invalid)
    }
}

/// The stored hash of a parsed token. CPU-heavy (PBKDF2).
fn hash(parsed: Parsed) -> Decoded {
    match parsed {
        Parsed::ServiceAccount(t) => Decoded {
            hashed: t.hashed(),
            legacy: None,
        },
        Parsed::Legacy(k) => Decoded {
            hashed: k.hashed(),
            legacy: Some((k.org_id, k.name)),
        },
    }
}

#[cfg(test)]
fn decode(token: &str) -> Result<Decoded, Refusal> {
    parse(token).map(hash)
}

/// The name failed token verifications are recorded under in `login_attempt` (Grafana's basic
/// auth user for tokens). Only the per-address limit applies to it: a limit over all addresses
/// would let anyone lock every new token out.
const FAILURE_KEY: &str = "api_key";

/// Whether `ip` has used up `[security] ip_address_login_protection_max_attempts` with unknown
/// tokens (and failed logins) inside the brute-force window.
async fn address_blocked(app: &AppState, ip: &str) -> Result<bool, AuthError> {
    let Some(limit) = app.config.security.brute_force.per_ip else {
        return Ok(false);
    };
    let since = app.clock.now().timestamp() - super::brute_force::WINDOW_SECS;
    let counts = app
        .store
        .login_attempt_counts(FAILURE_KEY, ip, since)
        .await?;
    Ok(counts.from_ip >= limit)
}

async fn record_failure(app: &AppState, ip: &str) -> Result<(), AuthError> {
    if app.config.security.brute_force.per_ip.is_some() {
        let now = app.clock.now().timestamp();
        app.store.add_login_attempt(FAILURE_KEY, ip, now).await?;
    }
    Ok(())
}

/// How often a token's `last_used_at` is written at most (Grafana's 5 minutes,
/// `shouldUpdateLastUsedAt` in `pkg/services/authn/clients/api_key.go`).
const KEY_USED_INTERVAL_MINUTES: i64 = 5;

impl AppState {
    /// Records a token's use (`lastUsedAt`) at most once per five minutes, off the request path.
    pub fn note_key_used(&self, key: &CallerKey) {
        let now = self.clock.now();
        let interval = chrono::Duration::minutes(KEY_USED_INTERVAL_MINUTES);
        if !crate::state::stale(key.last_used_at, now, interval)
            || !self.key_used.admit(key.id, now, interval)
        {
            return;
        }
        let store = self.store.clone();
        let id = key.id;
        let threshold = DbTime::from_utc(now - interval);
        tokio::spawn(async move {
            if let Err(e) = store
                .touch_api_key(id, DbTime::from_utc(now), threshold)
                .await
            {
                tracing::warn!(key_id = id, error = %e, "could not update last_used_at");
            }
        });
    }
}

/// Authenticates a bearer token (see the module documentation).
pub async fn authenticate(
    app: &AppState,
    token: &str,
    requested_org: Option<i64>,
    ip: &str,
) -> Result<Caller, AuthError> {
    let key = app.tokens.key_for(token);
    let now = app.clock.now();
    // Read before any row: a write that lands after this read makes the entry stale again.
    let generation = app.store.generation();
    let revalidate = app
        .config
        .auth
        .api_key_cache_revalidate_interval
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .filter(|d| !d.is_zero());
    let cached = app.tokens.get(&key);
    let was_cached = cached.is_some();
    let (hashed, legacy, fresh) = match cached {
        Some(e) => {
            let fresh = revalidate
                .is_some_and(|r| e.generation == generation && now - e.checked_at < r)
                .then_some(e.row);
            (e.hashed, e.legacy, fresh)
        }
        None => {
            let parsed = parse(token)?;
            // A token never verified here costs a hash: an address guessing tokens is refused,
            // with the same answer, once it has used up its failures.
            if address_blocked(app, ip).await? {
                tracing::warn!(ip, "token refused: too many failed attempts");
                return Err(Refusal::Invalid.into());
            }
            let decoded = app.hasher.run(move |_| hash(parsed)).await?;
            (decoded.hashed, decoded.legacy, None)
        }
    };
    let from_cache = fresh.is_some();
    let row = match fresh {
        Some(row) => row,
        None => match app.store.token_for_auth(&hashed).await? {
            Some(row) => row,
            None => {
                app.tokens.remove(&key);
                record_failure(app, ip).await?;
                return Err(Refusal::Invalid.into());
            }
        },
    };
    let verdict = match &legacy {
        Some((org, name)) if *org != row.key_org_id || *name != row.key_name => {
            record_failure(app, ip).await?;
            Err(Refusal::Invalid)
        }
        _ => check(&row, now.timestamp(), requested_org),
    };
    if let Err(refusal) = verdict {
        app.tokens.remove(&key);
        return Err(refusal.into());
    }
    // Without revalidation an entry only saves the hash, so one already held is kept as it is;
    // with it, a re-read row refreshes the entry.
    if !from_cache && (!was_cached || revalidate.is_some()) {
        app.tokens.insert(
            key,
            Entry {
                hashed,
                legacy,
                row: row.clone(),
                generation,
                checked_at: now,
            },
        );
    }
    Ok(caller(row))
}

fn caller(row: TokenAuthRow) -> Caller {
    let org_role = row.account.role.as_deref().and_then(OrgRole::parse);
    let mut caller = Caller::new(
        row.account.user.into(),
        row.key_org_id,
        org_role,
        AuthMethod::ApiKey,
    );
    // A service account is never a server admin.
    caller.permissions = super::CallerPermissions::new(false, org_role);
    caller.api_key = Some(CallerKey {
        id: row.key_id,
        last_used_at: row.key_last_used_at,
    });
    caller
}

/// The token a machine-authenticated request came with.
#[derive(Debug, Clone)]
pub struct CallerKey {
    pub id: i64,
    pub last_used_at: Option<chrono::NaiveDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{SignedInRow, UserRow};

    fn row() -> TokenAuthRow {
        let mut user = UserRow::for_test(2, "sa-1-k");
        user.profile.email = "sa-1-k".into();
        user.profile.is_service_account = Some(true);
        TokenAuthRow {
            key_id: 1,
            key_org_id: 1,
            key_name: "k".into(),
            key_expires: Some(1_000),
            key_is_revoked: Some(false),
            key_last_used_at: None,
            account: SignedInRow {
                user,
                role: Some("Viewer".into()),
                auth_module: None,
            },
        }
    }

    /// Grafana's order (`validateApiKey`, then the disabled check): expired, revoked, org,
    /// not a service account, disabled. Revocation is only ever set by Grafana itself (secret
    /// scanning); a copied database may hold revoked rows.
    #[test]
    fn refusals_come_in_grafanas_order() {
        let mut r = row();
        assert_eq!(check(&r, 999, None), Ok(()));
        assert_eq!(check(&r, 999, Some(1)), Ok(()));
        r.account.user.profile.is_disabled = true;
        assert_eq!(check(&r, 999, None), Err(Refusal::Disabled));
        r.account.user.profile.is_service_account = Some(false);
        assert_eq!(check(&r, 999, None), Err(Refusal::Invalid));
        assert_eq!(check(&r, 999, Some(2)), Err(Refusal::OrgMismatch));
        r.key_is_revoked = Some(true);
        assert_eq!(check(&r, 999, Some(2)), Err(Refusal::Revoked));
        assert_eq!(
            check(&r, 1_000, Some(2)),
            Err(Refusal::Expired),
            "at the second itself"
        );
        r.key_expires = None;
        assert_eq!(check(&r, i64::MAX, Some(2)), Err(Refusal::Revoked));
    }

    #[test]
    fn malformed_tokens_are_refused_before_any_lookup() {
        for token in [
            "",
            "gl",
            "glsa_abc",
            "glsa_abc_def_ghi",
            "glsa_0123456789abcdefghijABCDEFGHIJkl_181dc045",
            "eyJrIjoi",
            "bm90IGpzb24=",
        ] {
            assert!(matches!(decode(token), Err(Refusal::Invalid)), "{token}");
        }
        assert!(decode("glsa_0123456789abcdefghijABCDEFGHIJkl_181dc044").is_ok());
    }
}
