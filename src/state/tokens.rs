//! The token cache: verified service-account tokens and API keys (see `crate::auth::apikey`).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::store::service_accounts::TokenAuthRow;

/// `[auth] api_key_cache_max_entries` by default.
pub const DEFAULT_MAX_ENTRIES: u64 = 100_000;

#[derive(Clone)]
pub struct Entry {
    pub hashed: String,
    pub legacy: Option<(i64, String)>,
    pub row: TokenAuthRow,
    pub generation: u64,
    pub checked_at: DateTime<Utc>,
}

/// Verified tokens (see the module documentation).
pub struct TokenCache {
    key: [u8; 32],
    entries: moka::sync::Cache<[u8; 32], Entry>,
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_ENTRIES)
    }
}

impl TokenCache {
    /// A cache of at most `max_entries` verified tokens.
    pub fn new(max_entries: u64) -> Self {
        Self {
            key: rand::random(),
            entries: moka::sync::Cache::new(max_entries),
        }
    }

    pub(crate) fn key_for(&self, token: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(token.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub(crate) fn get(&self, key: &[u8; 32]) -> Option<Entry> {
        self.entries.get(key)
    }

    pub(crate) fn insert(&self, key: [u8; 32], entry: Entry) {
        self.entries.insert(key, entry);
    }

    pub(crate) fn remove(&self, key: &[u8; 32]) {
        self.entries.invalidate(key);
    }

    /// Whether this token is held as verified (for tests and diagnostics).
    pub fn holds(&self, token: &str) -> bool {
        self.entries.contains_key(&self.key_for(token))
    }

    /// The number of tokens held, once pending evictions have run (for tests and diagnostics).
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
