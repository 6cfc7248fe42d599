//! Verified-credentials cache for basic auth, so that a request does not pay a password hash.
//!
//! Only successes are cached, keyed by an HMAC of the login and password under a key that lives
//! only in this process (so the map never holds anything that would verify a password). An entry
//! remembers the stored hash it was verified against; every hit re-reads the user row and is
//! honoured only while that hash is unchanged and the user exists and is enabled. That makes a
//! password change, a disable or a delete — by this instance or by another one sharing the
//! database — take effect on the very next request. Entries also expire after a short TTL.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;

const TTL: Duration = Duration::from_secs(60);
const MAX_ENTRIES: usize = 10_000;

pub type CacheKey = [u8; 32];

#[derive(Debug, Clone)]
pub struct CachedCredential {
    pub user_id: i64,
    /// `user.password` as it was when the credentials verified.
    pub stored_hash: String,
    expires: Instant,
}

pub struct CredentialCache {
    key: [u8; 32],
    entries: Mutex<HashMap<CacheKey, CachedCredential>>,
}

impl Default for CredentialCache {
    fn default() -> Self {
        Self {
            key: rand::random(),
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl CredentialCache {
    pub fn key_for(&self, login: &str, password: &str) -> CacheKey {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(login.as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn get(&self, key: &CacheKey) -> Option<CachedCredential> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some(entry) if entry.expires > Instant::now() => Some(entry.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn insert(&self, key: CacheKey, user_id: i64, stored_hash: String) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            let now = Instant::now();
            entries.retain(|_, e| e.expires > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            key,
            CachedCredential {
                user_id,
                stored_hash,
                expires: Instant::now() + TTL,
            },
        );
    }

    pub fn remove(&self, key: &CacheKey) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// Drops every entry of one user (after a local password change, disable or delete; other
    /// instances notice through the stored-hash check instead).
    pub fn forget_user(&self, user_id: i64) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, e| e.user_id != user_id);
    }
}
