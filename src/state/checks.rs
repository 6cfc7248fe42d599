//! Brute-force checks that passed, remembered per login and address (see
//! `crate::auth::brute_force`).

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

/// Checks that passed, by login and address, for `crate::auth::brute_force::check_cached`.
pub struct RecentChecks {
    /// Failures recorded by this instance so far.
    failures: AtomicU64,
    pub(crate) passed: moka::sync::Cache<(String, String), Passed>,
}

/// When a check passed, and this instance's failure count then.
type Passed = (DateTime<Utc>, u64);

impl Default for RecentChecks {
    fn default() -> Self {
        Self::new(crate::state::credentials::DEFAULT_MAX_ENTRIES)
    }
}

impl RecentChecks {
    /// A memory of at most `max_entries` passed checks.
    pub fn new(max_entries: u64) -> Self {
        Self {
            failures: AtomicU64::new(0),
            passed: moka::sync::Cache::new(max_entries),
        }
    }

    pub(crate) fn failures(&self) -> u64 {
        self.failures.load(Ordering::SeqCst)
    }

    pub(crate) fn note_failure(&self) {
        self.failures.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn passed(
        &self,
        key: &str,
        ip: &str,
        now: DateTime<Utc>,
        within: chrono::Duration,
    ) -> bool {
        self.passed
            .get(&(key.to_string(), ip.to_string()))
            .is_some_and(|(at, failures)| {
                failures == self.failures() && now - at < within && at <= now
            })
    }

    pub(crate) fn remember(&self, key: &str, ip: &str, now: DateTime<Utc>, failures: u64) {
        self.passed
            .insert((key.to_string(), ip.to_string()), (now, failures));
    }
}
