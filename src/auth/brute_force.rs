//! Failed-login limits (Grafana's `pkg/services/loginattempt`), shared by `POST /login` and basic
//! auth and stored in `login_attempt`, so they hold across instances. Inside Grafana's 5-minute
//! sliding window a password check is refused, before any hashing, when
//! - the login has `brute_force_login_protection_max_attempts` (5) failures from the caller's
//!   address. Grafana counts a login's failures from every address together, which lets anyone
//!   lock the real `admin` out from one address; here each address has its own count, and
//! - the caller's address has `ip_address_login_protection_max_attempts` (20) failures for any
//!   logins (Grafana's per-address limit, on by default here), unless the login is *known* at
//!   that address (below), and
//! - the login has `brute_force_login_protection_max_attempts_all_addresses` (50) failures from
//!   all addresses together, which bounds a guessing attack spread over many addresses.
//!
//! A refused attempt answers exactly like a wrong password and is not recorded (it checked
//! nothing). Failures are recorded under the user's login when the name (login or email) belongs
//! to a user, else under the name as typed, so unknown names lock the same way and locking reveals
//! nothing about which logins exist. A success forgets that login's failures from that address.
//!
//! Known logins. The per-address limit stops one address from spraying guesses over many logins,
//! but on its own it also refuses everyone else behind that address (a company NAT, a proxy):
//! one misbehaving script would lock the server admin out. So a success is also recorded, in
//! `login_success` (shared by instances like `login_attempt`), and a login that signed in from an
//! address within `ip_address_login_protection_known_login_duration` (30 days) is not refused
//! there by the per-address limit. Its own limits still apply: 5 failures of that login from that
//! address, 50 from all addresses. This gives an address no more guesses at a known login than
//! any fresh address gets, and none at all at the logins it has never signed in as, so spraying
//! stays blocked; the period only bounds how long the table remembers. Failures for a known login
//! still count towards the address's limit for the other logins.
//!
//! Basic auth checks the limits before it trusts a cached credential (src/auth/cache.rs). So that
//! this does not cost a database read per request, a passed check is remembered per login and
//! address ([`RecentChecks`]) for `[auth.basic] cache_revalidate_interval` (1 s), and forgotten as
//! soon as this instance records any failure; failures recorded by another instance apply within
//! that interval, like the other changes it makes. That memory holds at most `[auth.basic]
//! cache_max_entries` checks and, when full, forgets them one at a time (least recently or
//! frequently used first), never all at once.

use super::AuthError;
use crate::config::BruteForce;
pub use crate::state::checks::RecentChecks;
use crate::state::AppState;
use crate::store::login_attempts::AttemptCounts;

/// Grafana's window.
pub const WINDOW_SECS: i64 = 300;

/// One password attempt under watch.
pub struct Attempt {
    pub key: String,
    pub ip: String,
    counts: AttemptCounts,
}

fn reached(limit: Option<i64>, count: i64) -> bool {
    limit.is_some_and(|l| count >= l)
}

/// A recorded success newer than this is not written again (one write per login, address and
/// hour at most, however often basic auth verifies the password).
const SUCCESS_REFRESH_SECS: i64 = 3600;

/// Whether the login signed in from this address within the known-login period before `now`.
fn known_here(limits: &BruteForce, c: &AttemptCounts, now: i64) -> bool {
    match (limits.known_login_secs, c.last_success) {
        (Some(period), Some(at)) => at > now - period,
        _ => false,
    }
}

/// True when one of the limits refuses the attempt at `now` (Unix seconds).
pub fn is_locked(limits: &BruteForce, c: &AttemptCounts, now: i64) -> bool {
    reached(limits.per_login, c.login_from_ip)
        || (reached(limits.per_ip, c.from_ip) && !known_here(limits, c, now))
        || reached(limits.per_login_all_addresses, c.login_total)
}

fn enabled(limits: &BruteForce) -> bool {
    limits.per_login.is_some() || limits.per_ip.is_some()
}

/// Checks the limits for `key` (a lower-cased login) from `ip`. `Err` is Grafana's
/// wrong-password 401.
pub async fn check(app: &AppState, key: &str, ip: &str) -> Result<Attempt, AuthError> {
    check_limits(app, key, ip)
        .await?
        .ok_or(AuthError::InvalidCredentials)
}

/// As [`check`], telling a refusal by the limits (`None`: locked out) from an error.
pub async fn check_limits(
    app: &AppState,
    key: &str,
    ip: &str,
) -> Result<Option<Attempt>, AuthError> {
    let limits = &app.config.security.brute_force;
    let mut attempt = Attempt {
        key: key.to_string(),
        ip: ip.to_string(),
        counts: AttemptCounts::default(),
    };
    if !enabled(limits) {
        return Ok(Some(attempt));
    }
    let now = app.clock.now().timestamp();
    attempt.counts = app
        .store
        .login_attempt_counts(key, ip, now - WINDOW_SECS)
        .await?;
    if is_locked(limits, &attempt.counts, now) {
        tracing::warn!(ip, "login refused: too many failed attempts");
        // As slow as a real check, so that the lockout does not show in the answer's timing.
        app.hasher.pause_like_verify().await?;
        return Ok(None);
    }
    Ok(Some(attempt))
}

/// Checks the limits for a basic-auth request whose credentials are cached as verified. A check
/// of the same login and address that passed less than `[auth.basic] cache_revalidate_interval`
/// ago, with no failure recorded here since, stands; otherwise as [`check`]. Call
/// [`CachedCheck::succeeded`] once the credentials are accepted.
pub async fn check_cached(app: &AppState, key: &str, ip: &str) -> Result<CachedCheck, AuthError> {
    if !enabled(&app.config.security.brute_force) {
        return Ok(CachedCheck(None));
    }
    let now = app.clock.now();
    let revalidate = chrono::Duration::from_std(app.config.auth_basic.cache_revalidate_interval)
        .unwrap_or_default();
    if app.recent_checks.passed(key, ip, now, revalidate) {
        return Ok(CachedCheck(None));
    }
    // Taken before the check: a failure recorded meanwhile makes the memory stale at once.
    let failures = app.recent_checks.failures();
    let attempt = check(app, key, ip).await?;
    Ok(CachedCheck(Some((attempt, failures))))
}

/// A passed [`check_cached`]: the database check it made, if it made one.
pub struct CachedCheck(Option<(Attempt, u64)>);

impl CachedCheck {
    /// The cached credentials were accepted: as [`Attempt::succeeded`], and the check is
    /// remembered.
    pub async fn succeeded(self, app: &AppState) -> Result<(), AuthError> {
        let Some((attempt, failures)) = self.0 else {
            return Ok(());
        };
        attempt.succeeded(app).await?;
        if !app.config.auth_basic.cache_revalidate_interval.is_zero() {
            let now = app.clock.now();
            app.recent_checks
                .remember(&attempt.key, &attempt.ip, now, failures);
        }
        Ok(())
    }
}

impl Attempt {
    /// Records the failure. Answers the limit it made refuse the next attempt, if it started a
    /// lockout: `login from address`, `address` or `login` (from all addresses).
    pub async fn failed(&self, app: &AppState) -> Result<Option<&'static str>, AuthError> {
        app.recent_checks.note_failure();
        let limits = &app.config.security.brute_force;
        if !enabled(limits) {
            return Ok(None);
        }
        let now = app.clock.now().timestamp();
        app.store
            .add_login_attempt(&self.key, &self.ip, now)
            .await?;
        // The check passed with these counts, so the limit this failure reaches is a new lockout.
        let c = &self.counts;
        let after = AttemptCounts {
            login_from_ip: c.login_from_ip + 1,
            from_ip: c.from_ip + 1,
            login_total: c.login_total + 1,
            last_success: c.last_success,
        };
        Ok(if reached(limits.per_login, after.login_from_ip) {
            Some("login from address")
        } else if reached(limits.per_ip, after.from_ip) && !known_here(limits, &after, now) {
            Some("address")
        } else if reached(limits.per_login_all_addresses, after.login_total) {
            Some("login")
        } else {
            None
        })
    }

    /// The password was right: forgets this login's failures from this address and records the
    /// success that makes the login known here.
    pub async fn succeeded(&self, app: &AppState) -> Result<(), AuthError> {
        if self.counts.login_from_ip > 0 {
            app.store
                .clear_login_attempts_from(&self.key, &self.ip)
                .await?;
        }
        let limits = &app.config.security.brute_force;
        let now = app.clock.now().timestamp();
        let stale = self
            .counts
            .last_success
            .is_none_or(|at| now - at >= SUCCESS_REFRESH_SECS);
        if limits.per_ip.is_some() && limits.known_login_secs.is_some() && stale {
            app.store
                .add_login_success(&self.key, &self.ip, now)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn passed_checks_in_use_survive_a_flood_of_others() {
        let checks = RecentChecks::new(100);
        let now = Utc::now();
        let within = chrono::Duration::seconds(1);
        checks.remember("admin", "10.0.0.1", now, 0);
        for i in 0..10_000 {
            let ip = format!("10.1.{}.{}", i / 256, i % 256);
            assert!(!checks.passed("someone", &ip, now, within));
            checks.remember("someone", &ip, now, 0);
            if i % 20 == 0 {
                assert!(
                    checks.passed("admin", "10.0.0.1", now, within),
                    "forgotten at {i}"
                );
            }
        }
        checks.passed.run_pending_tasks();
        let held = checks.passed.entry_count();
        assert!((80..=100).contains(&held), "{held} checks held");
        // A failure recorded here still makes every remembered check stale.
        checks.note_failure();
        assert!(!checks.passed("admin", "10.0.0.1", now, within));
    }

    #[test]
    fn each_limit_locks_on_its_own() {
        let limits = BruteForce {
            per_login: Some(5),
            per_ip: Some(20),
            per_login_all_addresses: Some(50),
            known_login_secs: Some(86_400),
        };
        let c = |a, b, t| AttemptCounts {
            login_from_ip: a,
            from_ip: b,
            login_total: t,
            last_success: None,
        };
        let now = 1_000_000;
        assert!(!is_locked(&limits, &c(4, 19, 49), now));
        assert!(is_locked(&limits, &c(5, 5, 5), now));
        assert!(is_locked(&limits, &c(0, 20, 0), now));
        assert!(is_locked(&limits, &c(0, 0, 50), now));
        let off = BruteForce {
            per_login: None,
            per_ip: None,
            per_login_all_addresses: None,
            known_login_secs: None,
        };
        assert!(!is_locked(&off, &c(100, 100, 100), now));
    }

    #[test]
    fn a_known_login_escapes_only_the_per_address_limit() {
        let limits = BruteForce {
            per_login: Some(5),
            per_ip: Some(20),
            per_login_all_addresses: Some(50),
            known_login_secs: Some(86_400),
        };
        let now = 1_000_000;
        let c = |a, b, t, at| AttemptCounts {
            login_from_ip: a,
            from_ip: b,
            login_total: t,
            last_success: Some(at),
        };
        assert!(!is_locked(&limits, &c(0, 20, 0, now - 86_399), now));
        assert!(is_locked(&limits, &c(0, 20, 0, now - 86_400), now));
        assert!(is_locked(&limits, &c(5, 20, 5, now), now));
        assert!(is_locked(&limits, &c(0, 20, 50, now), now));
        let no_exemption = BruteForce {
            known_login_secs: None,
            ..limits
        };
        assert!(is_locked(&no_exemption, &c(0, 20, 0, now), now));
    }
}
