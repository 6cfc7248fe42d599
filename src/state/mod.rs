//! The state every request shares, below the layers that use it: the store, the clock, the
//! configuration, the bounded caches and the password-hashing pool.

pub mod checks;
pub mod credentials;
pub mod hasher;
pub mod provisioner;
pub mod sessions;
pub mod tokens;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::config::Config;
use crate::store::{DbTime, Store};
use checks::RecentChecks;
use credentials::CredentialCache;
use hasher::Hasher;
use provisioner::Provisioner;
use sessions::SessionCache;
use tokens::TokenCache;

/// Where "now" comes from: the system clock, or a clock the tests move by hand.
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    pub fn system() -> Self {
        Clock(None)
    }
    pub fn manual(start: DateTime<Utc>) -> Self {
        Clock(Some(Arc::new(Mutex::new(start))))
    }
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }
    /// Moves a manual clock forward (no effect on the system clock).
    pub fn advance(&self, by: chrono::Duration) {
        if let Some(t) = &self.0 {
            let mut t = t.lock().unwrap_or_else(|e| e.into_inner());
            *t += by;
        }
    }
}

/// At most one write per key and interval from this process: remembers when each key was
/// last written (`last_seen_at`, `last_used_at`). It remembers at most [`Throttle::MAX_KEYS`]
/// keys and, when full, forgets them one at a time (moka's TinyLFU policy), never all at once; a
/// forgotten key costs one more conditional write, which the database's own threshold makes a
/// no-op when the recorded time is recent.
pub struct Throttle(moka::sync::Cache<i64, DateTime<Utc>>);

impl Default for Throttle {
    fn default() -> Self {
        Self::with_capacity(Self::MAX_KEYS)
    }
}

impl Throttle {
    const MAX_KEYS: u64 = 100_000;

    fn with_capacity(keys: u64) -> Self {
        Throttle(moka::sync::Cache::new(keys))
    }

    /// True (and the time noted) when `key` was not let through within `interval` before `now`.
    /// Concurrent calls for one key are serialised, so only one of them is let through.
    pub(crate) fn admit(&self, key: i64, now: DateTime<Utc>, interval: chrono::Duration) -> bool {
        use moka::ops::compute::{CompResult, Op};
        let result = self.0.entry(key).and_compute_with(|seen| match seen {
            Some(at) if now - *at.value() < interval => Op::Nop,
            _ => Op::Put(now),
        });
        matches!(
            result,
            CompResult::Inserted(_) | CompResult::ReplacedWith(_)
        )
    }
}

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Clock,
    pub credentials: Arc<CredentialCache>,
    /// Brute-force checks that passed for cached basic-auth credentials.
    pub recent_checks: Arc<RecentChecks>,
    pub sessions: Arc<SessionCache>,
    pub tokens: Arc<TokenCache>,
    pub provisioner: Arc<Provisioner>,
    /// The bounded pool every password and token hash runs on.
    pub hasher: Hasher,
    /// Users whose `last_seen_at` this instance wrote, and when.
    pub(crate) last_seen: Arc<Throttle>,
    /// Tokens whose `last_used_at` this instance wrote, and when.
    pub(crate) key_used: Arc<Throttle>,
    /// When this instance started (the usage report's `stats.uptime`).
    pub started: DateTime<Utc>,
}

/// True when a recorded time is missing or at least `interval` old.
pub(crate) fn stale(
    recorded: Option<NaiveDateTime>,
    now: DateTime<Utc>,
    interval: chrono::Duration,
) -> bool {
    recorded.is_none_or(|at| now.naive_utc() - at >= interval)
}

impl AppState {
    pub fn now(&self) -> DbTime {
        DbTime::from_utc(self.clock.now())
    }

    /// The org new users join: `[users] auto_assign_org_id` (Main Org., 1, by default), used for
    /// admin-created users when `auto_assign_org` is on and for provisioned users without orgs.
    /// It is never deleted, by the API or by a file: user creation would fail with
    /// "organization not found".
    pub fn is_default_org(&self, org_id: i64) -> bool {
        org_id == self.config.users.auto_assign_org_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_admits_once_per_interval_and_forgets_keys_one_at_a_time() {
        let throttle = Throttle::with_capacity(100);
        let start = Utc::now();
        let interval = chrono::Duration::minutes(5);
        assert!(throttle.admit(1, start, interval));
        assert!(!throttle.admit(1, start + chrono::Duration::minutes(4), interval));
        assert!(throttle.admit(1, start + interval, interval));
        // Thousands of other keys: the one in use is still throttled.
        let now = start + interval;
        for key in 1_000..11_000 {
            assert!(throttle.admit(key, now, interval));
            if key % 20 == 0 {
                assert!(
                    !throttle.admit(1, now, interval),
                    "key 1 forgotten at {key}"
                );
            }
        }
        throttle.0.run_pending_tasks();
        let held = throttle.0.entry_count();
        assert!((80..=100).contains(&held), "{held} keys held");
    }
}
