//! Verified-credentials cache for basic auth, so that a request does not pay a password hash.
//! A hit is trusted only after the brute-force limits have let the attempt through: a cached
//! success must not confirm a guess from a locked-out address (`basic` in src/auth/mod.rs; the
//! check itself is remembered briefly, see src/auth/brute_force.rs).
//!
//! Only successes are cached, keyed by an HMAC of the login and password under a key that lives
//! only in this process (so the map never holds anything that would verify a password). An entry
//! keeps the signed-in user's row as it was read, and is trusted as it stands while
//! - the store's generation is unchanged: any write through this process to users, org
//!   memberships or teams bumps it, so local changes apply on the very next request; and
//! - it was checked less than `[auth.basic] cache_revalidate_interval` ago (default 1 s).
//!
//! Past that, the next hit reads the row again and keeps the entry only if the stored password
//! hash is the one the credentials verified against and the user exists and is enabled; that is
//! how changes made by another instance sharing the database are noticed. Entries expire after a
//! fixed TTL whatever happens.
//!
//! The cache holds at most `[auth.basic] cache_max_entries` entries (default 100,000). It is a
//! [`moka`] cache: when full, entries are evicted one at a time by its TinyLFU policy (the least
//! recently used among the least frequently used), never all at once, so a flood of new
//! credentials cannot make every signed-in user pay a password hash again. A new entry may have to
//! be asked for more than once before it displaces one that is in use. The TTL is checked against
//! the application's clock (which tests move by hand), not with moka's time-to-live, which runs on
//! its own monotonic clock: an expired entry is dropped when it is next read, and otherwise goes
//! the way of any entry nobody uses.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use moka::ops::compute::Op;

use crate::store::SignedInRow;

/// `[auth.basic] cache_max_entries` by default.
pub const DEFAULT_MAX_ENTRIES: u64 = 100_000;

pub type CacheKey = [u8; 32];

#[derive(Debug, Clone)]
pub struct CachedCredential {
    /// The user's row at the last check; its `password` is the hash the credentials verified
    /// against (a re-check keeps the entry only while that is unchanged).
    pub row: SignedInRow,
    /// The store generation at the last check.
    pub generation: u64,
    pub checked_at: DateTime<Utc>,
    expires: DateTime<Utc>,
}

impl CachedCredential {
    pub fn user_id(&self) -> i64 {
        self.row.user.id
    }

    pub fn stored_hash(&self) -> &str {
        self.row.user.password.as_deref().unwrap_or("")
    }

    /// Whether the cached row may be used without reading it again.
    pub fn is_current(&self, generation: u64, now: DateTime<Utc>, revalidate: Duration) -> bool {
        self.generation == generation && now - self.checked_at < revalidate
    }
}

pub struct CredentialCache {
    key: [u8; 32],
    ttl: Duration,
    entries: moka::sync::Cache<CacheKey, CachedCredential>,
}

impl Default for CredentialCache {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_ENTRIES)
    }
}

impl CredentialCache {
    /// A cache of at most `max_entries` verified credentials.
    pub fn new(max_entries: u64) -> Self {
        Self {
            key: rand::random(),
            ttl: Duration::seconds(60),
            entries: moka::sync::Cache::new(max_entries),
        }
    }

    pub fn key_for(&self, login: &str, password: &str) -> CacheKey {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(login.as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn get(&self, key: &CacheKey, now: DateTime<Utc>) -> Option<CachedCredential> {
        let entry = self.entries.get(key)?;
        if entry.expires > now {
            return Some(entry);
        }
        // Only the expired entry: a fresh one inserted meanwhile stays.
        self.entries.entry(*key).and_compute_with(|e| match e {
            Some(e) if e.value().expires <= now => Op::Remove,
            _ => Op::Nop,
        });
        None
    }

    /// Stores a fresh verification.
    pub fn insert(&self, key: CacheKey, row: SignedInRow, generation: u64, now: DateTime<Utc>) {
        self.entries.insert(
            key,
            CachedCredential {
                row,
                generation,
                checked_at: now,
                expires: now + self.ttl,
            },
        );
    }

    /// Records a successful re-check of an entry (its TTL is unchanged). An entry removed
    /// meanwhile is not brought back.
    pub fn refresh(&self, key: &CacheKey, row: SignedInRow, generation: u64, now: DateTime<Utc>) {
        self.entries.entry(*key).and_compute_with(|e| match e {
            Some(e) => {
                let mut entry = e.into_value();
                entry.row = row;
                entry.generation = generation;
                entry.checked_at = now;
                Op::Put(entry)
            }
            None => Op::Nop,
        });
    }

    pub fn remove(&self, key: &CacheKey) {
        self.entries.invalidate(key);
    }

    /// The number of entries, once pending evictions have run (for tests and diagnostics).
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
