//! The session cache: session rows by token hash (see `crate::auth::session`).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::store::SessionWithUser;

/// Grafana's stored form of a token.
pub fn hash_token(token: &str, secret_key: &str) -> String {
    let mut h = Sha256::new();
    h.update(token.as_bytes());
    h.update(secret_key.as_bytes());
    hex::encode(h.finalize())
}

/// `[auth] session_cache_max_entries` by default.
pub const DEFAULT_MAX_CACHED: u64 = 100_000;

#[derive(Clone)]
struct CachedSession {
    row: SessionWithUser,
    generation: u64,
    checked_at: DateTime<Utc>,
}

/// Session rows by token hash, trusted while the store's generation is unchanged and for at most
/// the revalidate interval. A row that is no longer trusted stays until the next read of it
/// replaces it, or until it is evicted.
pub struct SessionCache {
    entries: moka::sync::Cache<String, CachedSession>,
}

impl Default for SessionCache {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_CACHED)
    }
}

impl SessionCache {
    /// A cache of at most `max_entries` session rows.
    pub fn new(max_entries: u64) -> Self {
        Self {
            entries: moka::sync::Cache::new(max_entries),
        }
    }

    pub(crate) fn get(
        &self,
        hashed: &str,
        generation: u64,
        now: DateTime<Utc>,
        revalidate: chrono::Duration,
    ) -> Option<SessionWithUser> {
        let e = self.entries.get(hashed)?;
        (e.generation == generation && now - e.checked_at < revalidate).then_some(e.row)
    }

    pub(crate) fn insert(
        &self,
        hashed: String,
        row: SessionWithUser,
        generation: u64,
        now: DateTime<Utc>,
    ) {
        self.entries.insert(
            hashed,
            CachedSession {
                row,
                generation,
                checked_at: now,
            },
        );
    }

    /// Whether a row is held for this cookie value, trusted or not (for tests and diagnostics).
    pub fn holds(&self, token: &str, secret_key: &str) -> bool {
        self.entries.contains_key(&hash_token(token, secret_key))
    }

    /// The number of rows held, once pending evictions have run (for tests and diagnostics).
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
