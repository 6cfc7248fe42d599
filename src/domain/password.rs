//! Password hashing. New hashes are argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1),
//! stored as a PHC string in `user.password`. Grafana's own format — hex PBKDF2-HMAC-SHA256,
//! 10,000 iterations, 50-byte key, salted with `user.salt` (`pkg/util/encoding.go`
//! `EncodePassword`) — still verifies, and `[security] password_hash = pbkdf2` keeps writing it.

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

/// How new password hashes are written (`[security] password_hash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordHashScheme {
    Argon2id,
    Pbkdf2,
}

const ARGON2_PREFIX: &str = "$argon2";

fn argon2() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1.
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Grafana's `util.GetRandomString`: alphanumeric characters from a CSPRNG.
pub use crate::domain::random_string;

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

/// Argon2 working memory that a hashing worker keeps between calls: the configured cost's
/// blocks (19 MiB), allocated on first use. A stored hash with a higher memory cost (imported
/// from elsewhere) gets its own buffer for that one call.
#[derive(Default)]
pub struct Workspace {
    blocks: Vec<Block>,
}

/// The largest argon2 memory cost (KiB) a stored hash may ask for: 1 GiB. A hash asking for more
/// fails to verify instead of letting one row exhaust the server's memory.
const MAX_STORED_M_COST: u32 = 1024 * 1024;

impl Workspace {
    fn with_blocks<T>(&mut self, count: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        if count > argon2().params().block_count() {
            let mut once = vec![Block::default(); count];
            return f(&mut once);
        }
        if self.blocks.len() < count {
            self.blocks.resize(count, Block::default());
        }
        // No need to clear: argon2's first pass overwrites every block before reading it.
        f(&mut self.blocks[..count])
    }
}

/// Hashes a new password with the configured scheme. CPU-heavy: runs on the hashing pool
/// (`auth::hasher`), which passes its worker's memory.
pub fn hash_with(password: &str, scheme: PasswordHashScheme, ws: &mut Workspace) -> StoredPassword {
    let salt = random_string(10);
    match scheme {
        PasswordHashScheme::Pbkdf2 => StoredPassword {
            hash: pbkdf2_hex(password, &salt),
            salt,
        },
        PasswordHashScheme::Argon2id => StoredPassword {
            hash: argon2_phc(password, ws),
            salt,
        },
    }
}

/// A fresh argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) computed in the
/// worker's memory.
fn argon2_phc(password: &str, ws: &mut Workspace) -> String {
    const STATIC: &str = "argon2 hashing with static parameters cannot fail";
    let ctx = argon2();
    let params = ctx.params().clone();
    let phc_salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut salt_buf = [0u8; 64];
    let salt = phc_salt.decode_b64(&mut salt_buf).expect(STATIC);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    ws.with_blocks(params.block_count(), |blocks| {
        ctx.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks)
    })
    .expect(STATIC);
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).expect(STATIC),
        salt: Some(phc_salt.as_salt()),
        hash: Some(Output::new(&out).expect(STATIC)),
    }
    .to_string()
}

/// Checks a password against a stored hash in either format, in constant time. CPU-heavy: runs
/// on the hashing pool, which passes its worker's memory.
pub fn verify_with(password: &str, stored_hash: &str, salt: &str, ws: &mut Workspace) -> bool {
    if stored_hash.starts_with(ARGON2_PREFIX) {
        verify_argon2(password, stored_hash, ws).unwrap_or(false)
    } else {
        let computed = pbkdf2_hex(password, salt);
        computed.as_bytes().ct_eq(stored_hash.as_bytes()).into()
    }
}

/// Recomputes an argon2 hash with the stored algorithm, version, parameters and salt, and
/// compares. `None` for a malformed hash.
fn verify_argon2(password: &str, stored_hash: &str, ws: &mut Workspace) -> Option<bool> {
    let parsed = PasswordHash::new(stored_hash).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).ok()?;
    if params.m_cost() > MAX_STORED_M_COST {
        tracing::warn!(
            m_cost = params.m_cost(),
            "stored argon2 hash asks for too much memory"
        );
        return None;
    }
    let expected = parsed.hash?;
    let mut salt_buf = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt_buf).ok()?;
    let ctx = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    ws.with_blocks(params.block_count(), |blocks| {
        ctx.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks)
    })
    .ok()?;
    Some(out.ct_eq(expected.as_bytes()).into())
}

/// Hashes a new password in memory of its own (tests and tools without a hashing pool).
pub fn hash(password: &str, scheme: PasswordHashScheme) -> StoredPassword {
    hash_with(password, scheme, &mut Workspace::default())
}

/// Checks a password in memory of its own (tests and tools without a hashing pool).
pub fn verify(password: &str, stored_hash: &str, salt: &str) -> bool {
    verify_with(password, stored_hash, salt, &mut Workspace::default())
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
pub fn verify_dummy_with(password: &str, ws: &mut Workspace) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored =
        DUMMY.get_or_init(|| hash_with("dummy-password", PasswordHashScheme::Argon2id, ws).hash);
    let _ = verify_with(password, stored, "", ws);
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
    fn hashes_in_reused_memory_match_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let mut ws = Workspace::default();
        // Ours, checked by the crate's own verifier.
        let ours = hash_with("first", PasswordHashScheme::Argon2id, &mut ws).hash;
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(argon2().verify_password(b"first", &parsed).is_ok());
        // The crate's, with other parameters and algorithm, checked in the same memory.
        let params = Params::new(8 * 1024, 1, 1, None).unwrap();
        let other = Argon2::new(Algorithm::Argon2i, Version::V0x13, params);
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let theirs = other.hash_password(b"second", &salt).unwrap().to_string();
        assert!(verify_with("second", &theirs, "", &mut ws));
        assert!(!verify_with("first", &theirs, "", &mut ws));
        assert!(verify_with("first", &ours, "", &mut ws));
        // A higher memory cost than ours gets its own buffer for the call.
        let big = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(32 * 1024, 1, 1, None).unwrap(),
        );
        let imported = big.hash_password(b"third", &salt).unwrap().to_string();
        assert!(verify_with("third", &imported, "", &mut ws));
        assert!(!verify_with("thirds", &imported, "", &mut ws));
        assert_eq!(ws.blocks.len(), argon2().params().block_count());
        // Malformed hashes never verify.
        assert!(!verify_with(
            "x",
            "$argon2id$v=19$m=19456,t=2,p=1$bad",
            "",
            &mut ws
        ));
    }

    #[test]
    fn random_strings_are_alphanumeric() {
        let s = random_string(10);
        assert_eq!(s.len(), 10);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
