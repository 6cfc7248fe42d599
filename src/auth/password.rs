//! Password hashing. New hashes are argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1),
//! stored as a PHC string in `user.password`. Grafana's own format — hex PBKDF2-HMAC-SHA256,
//! 10,000 iterations, 50-byte key, salted with `user.salt` (`pkg/util/encoding.go`
//! `EncodePassword`) — still verifies, and `[security] password_hash = pbkdf2` keeps writing it.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::distributions::Alphanumeric;
use rand::Rng;
use subtle::ConstantTimeEq;

use crate::config::PasswordHashScheme;

const ARGON2_PREFIX: &str = "$argon2";

fn argon2() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1.
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Grafana's `util.GetRandomString`: alphanumeric characters from a CSPRNG.
pub fn random_string(len: usize) -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Grafana's PBKDF2 encoding of a password with the user's salt.
pub fn pbkdf2_hex(password: &str, salt: &str) -> String {
    let mut key = [0u8; 50];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), 10_000, &mut key);
    hex::encode(key)
}

/// A stored hash together with the salt column it needs.
#[derive(Debug, Clone)]
pub struct StoredPassword {
    pub hash: String,
    pub salt: String,
}

/// Hashes a new password with the configured scheme. CPU-heavy: call from a blocking thread.
pub fn hash(password: &str, scheme: PasswordHashScheme) -> StoredPassword {
    let salt = random_string(10);
    match scheme {
        PasswordHashScheme::Pbkdf2 => StoredPassword {
            hash: pbkdf2_hex(password, &salt),
            salt,
        },
        PasswordHashScheme::Argon2id => {
            let phc_salt = SaltString::generate(&mut rand::rngs::OsRng);
            let hash = argon2()
                .hash_password(password.as_bytes(), &phc_salt)
                .expect("argon2 hashing with valid parameters cannot fail")
                .to_string();
            StoredPassword { hash, salt }
        }
    }
}

/// Checks a password against a stored hash in either format, in constant time.
/// CPU-heavy: call from a blocking thread.
pub fn verify(password: &str, stored_hash: &str, salt: &str) -> bool {
    if stored_hash.starts_with(ARGON2_PREFIX) {
        match PasswordHash::new(stored_hash) {
            Ok(parsed) => argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    } else {
        let computed = pbkdf2_hex(password, salt);
        computed.as_bytes().ct_eq(stored_hash.as_bytes()).into()
    }
}

/// True when a stored hash is not in the configured scheme and should be rewritten after a
/// successful login.
pub fn needs_upgrade(stored_hash: &str, scheme: PasswordHashScheme) -> bool {
    match scheme {
        PasswordHashScheme::Argon2id => !stored_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        PasswordHashScheme::Pbkdf2 => stored_hash.starts_with(ARGON2_PREFIX),
    }
}

/// Burns about as much time as a real verification, so that unknown logins cannot be told apart
/// from wrong passwords by timing.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("dummy-password", PasswordHashScheme::Argon2id).hash);
    let _ = verify(password, stored, "");
}

/// Grafana's password rules (`pkg/services/user/password.go`): at least 4 characters, or with
/// `[auth.basic] password_policy` at least 12 with upper, lower, digit and symbol.
pub fn validate_new_password(password: &str, strict_policy: bool) -> Result<(), &'static str> {
    if password.chars().count() > 1024 {
        return Err("new password is too long");
    }
    if !strict_policy {
        if password.chars().count() < 4 {
            return Err("New password is too short");
        }
        return Ok(());
    }
    if password.chars().count() < 12 {
        return Err("new password is too short");
    }
    let upper = password.chars().any(|c| c.is_uppercase());
    let lower = password.chars().any(|c| c.is_lowercase());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let symbol = password.chars().any(|c| !c.is_alphanumeric());
    if !(upper && lower && digit && symbol) {
        return Err("new password must include at least one uppercase letter, one lowercase letter, one number and one symbol");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_hashes_verify_and_use_owasp_parameters() {
        let stored = hash("s3cret", PasswordHashScheme::Argon2id);
        assert!(
            stored.hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            stored.hash
        );
        assert!(verify("s3cret", &stored.hash, &stored.salt));
        assert!(!verify("s3cret!", &stored.hash, &stored.salt));
        assert!(!needs_upgrade(&stored.hash, PasswordHashScheme::Argon2id));
    }

    #[test]
    fn grafana_pbkdf2_hashes_verify() {
        // Grafana's encoding: 100 hex characters (50-byte key) for a 10-character salt.
        let hash = pbkdf2_hex("admin", "F3FAxVm33R");
        assert_eq!(hash.len(), 100);
        assert!(verify("admin", &hash, "F3FAxVm33R"));
        assert!(!verify("admin2", &hash, "F3FAxVm33R"));
        assert!(needs_upgrade(&hash, PasswordHashScheme::Argon2id));
        assert!(!needs_upgrade(&hash, PasswordHashScheme::Pbkdf2));
    }

    #[test]
    fn random_strings_are_alphanumeric() {
        let s = random_string(10);
        assert_eq!(s.len(), 10);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
