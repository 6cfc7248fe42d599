//! Failed-login limits (Grafana's `pkg/services/loginattempt`), shared by `POST /login` and basic
//! auth and stored in `login_attempt`, so they hold across instances. Inside Grafana's 5-minute
//! sliding window a password check is refused, before any hashing, when
//! - the login has `brute_force_login_protection_max_attempts` (5) failures from the caller's
//!   address. Grafana counts a login's failures from every address together, which lets anyone
//!   lock the real `admin` out from one address; here each address has its own count, and
//! - the caller's address has `ip_address_login_protection_max_attempts` (20) failures for any
//!   logins (Grafana's per-address limit, on by default here), and
//! - the login has `brute_force_login_protection_max_attempts_all_addresses` (50) failures from
//!   all addresses together, which bounds a guessing attack spread over many addresses.
//!
//! A refused attempt answers exactly like a wrong password and is not recorded (it checked
//! nothing). Failures are recorded under the user's login when the name (login or email) belongs
//! to a user, else under the name as typed, so unknown names lock the same way and locking reveals
//! nothing about which logins exist. A success forgets that login's failures from that address.

use crate::app::AppState;
use crate::config::BruteForce;
use crate::error::ApiError;
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

/// True when one of the limits refuses the attempt.
pub fn is_locked(limits: &BruteForce, c: &AttemptCounts) -> bool {
    reached(limits.per_login, c.login_from_ip)
        || reached(limits.per_ip, c.from_ip)
        || reached(limits.per_login_all_addresses, c.login_total)
}

fn enabled(limits: &BruteForce) -> bool {
    limits.per_login.is_some() || limits.per_ip.is_some()
}

/// Checks the limits for `key` (a lower-cased login) from `ip`. `Err` is Grafana's
/// wrong-password 401.
pub async fn check(app: &AppState, key: &str, ip: &str) -> Result<Attempt, ApiError> {
    let limits = &app.config.security.brute_force;
    let mut attempt = Attempt {
        key: key.to_string(),
        ip: ip.to_string(),
        counts: AttemptCounts::default(),
    };
    if !enabled(limits) {
        return Ok(attempt);
    }
    let since = app.clock.now().timestamp() - WINDOW_SECS;
    attempt.counts = app.store.login_attempt_counts(key, ip, since).await?;
    if is_locked(limits, &attempt.counts) {
        tracing::warn!(ip, "login refused: too many failed attempts");
        // As slow as a real check, so that the lockout does not show in the answer's timing.
        app.hasher.pause_like_verify().await?;
        return Err(ApiError::invalid_credentials());
    }
    Ok(attempt)
}

impl Attempt {
    pub async fn failed(&self, app: &AppState) -> Result<(), ApiError> {
        if enabled(&app.config.security.brute_force) {
            let now = app.clock.now().timestamp();
            app.store
                .add_login_attempt(&self.key, &self.ip, now)
                .await?;
        }
        Ok(())
    }

    pub async fn succeeded(&self, app: &AppState) -> Result<(), ApiError> {
        if self.counts.login_from_ip > 0 {
            app.store
                .clear_login_attempts_from(&self.key, &self.ip)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_locks_on_its_own() {
        let limits = BruteForce {
            per_login: Some(5),
            per_ip: Some(20),
            per_login_all_addresses: Some(50),
        };
        let c = |a, b, t| AttemptCounts {
            login_from_ip: a,
            from_ip: b,
            login_total: t,
        };
        assert!(!is_locked(&limits, &c(4, 19, 49)));
        assert!(is_locked(&limits, &c(5, 5, 5)));
        assert!(is_locked(&limits, &c(0, 20, 0)));
        assert!(is_locked(&limits, &c(0, 0, 50)));
        let off = BruteForce {
            per_login: None,
            per_ip: None,
            per_login_all_addresses: None,
        };
        assert!(!is_locked(&off, &c(100, 100, 100)));
    }
}
