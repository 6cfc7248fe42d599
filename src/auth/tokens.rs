//! Machine token formats, byte for byte as Grafana makes them, so that tokens minted by Grafana
//! keep working after a move (`pkg/components/satokengen/tokengen.go`,
//! `pkg/components/apikeygen/apikeygen.go`):
//!
//! - service-account tokens: `glsa_<32 alphanumerics>_<checksum>`, the checksum being the
//!   CRC-32 (IEEE) of `glsa_<secret>` as four little-endian bytes in hex. The stored hash is
//!   Grafana's PBKDF2 of the secret salted with the checksum, so it is deterministic and serves as
//!   the lookup key. A malformed token or a wrong checksum is refused before any database work.
//! - legacy API keys: standard base64 of `{"k": secret, "n": key name, "id": org id}` (hence
//!   `eyJrIjoi…`), stored as PBKDF2 of the secret salted with the key name.
//!
//! Used by the service-account and API-key authentication (issue 5); the formats come first so
//! that they are pinned by tests.

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::password::{pbkdf2_hex, random_string};

const PREFIX: &str = "gl";
const SERVICE_ACCOUNT: &str = "sa";
const SECRET_LEN: usize = 32;

/// A decoded `glsa_` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountToken {
    pub secret: String,
    pub checksum: String,
}

fn checksum(key: &str) -> String {
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(key.as_bytes());
    hex::encode(crc.to_le_bytes())
}

impl ServiceAccountToken {
    /// A fresh token from the OS CSPRNG.
    pub fn generate() -> Self {
        let secret = random_string(SECRET_LEN);
        let checksum = checksum(&format!("{PREFIX}{SERVICE_ACCOUNT}_{secret}"));
        ServiceAccountToken { secret, checksum }
    }

    /// Parses a token as a client sends it; `None` for anything that is not a well-formed
    /// `glsa_` token with the right checksum.
    pub fn parse(token: &str) -> Option<Self> {
        let rest = token.strip_prefix(PREFIX)?;
        let mut parts = rest.split('_');
        let (service, secret, sum) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || service != SERVICE_ACCOUNT || secret.is_empty() {
            return None;
        }
        let expected = checksum(&format!("{PREFIX}{service}_{secret}"));
        let matches: bool =
            subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), sum.as_bytes()).into();
        matches.then(|| ServiceAccountToken {
            secret: secret.to_string(),
            checksum: sum.to_string(),
        })
    }

    /// What the client holds.
    pub fn client_secret(&self) -> String {
        format!(
            "{PREFIX}{SERVICE_ACCOUNT}_{}_{}",
            self.secret, self.checksum
        )
    }

    /// What the database holds (`api_key.key`). CPU-heavy (PBKDF2).
    pub fn hashed(&self) -> String {
        pbkdf2_hex(&self.secret, &self.checksum)
    }
}

/// A decoded legacy API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyApiKey {
    #[serde(rename = "k")]
    pub secret: String,
    #[serde(rename = "n")]
    pub name: String,
    #[serde(rename = "id")]
    pub org_id: i64,
}

impl LegacyApiKey {
    /// Decodes `eyJrIjoi…`; `None` when it is not base64 of that JSON.
    pub fn parse(token: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn client_secret(&self) -> String {
        let json = serde_json::to_vec(self).expect("a key serializes");
        base64::engine::general_purpose::STANDARD.encode(json)
    }

    /// What the database holds (`api_key.key`). CPU-heavy (PBKDF2).
    pub fn hashed(&self) -> String {
        pbkdf2_hex(&self.secret, &self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_tokens_round_trip() {
        let t = ServiceAccountToken::generate();
        let s = t.client_secret();
        assert!(s.starts_with("glsa_"));
        assert_eq!(s.len(), 5 + 32 + 1 + 8);
        assert_eq!(ServiceAccountToken::parse(&s), Some(t.clone()));
        assert_eq!(
            t.hashed(),
            t.hashed(),
            "deterministic: the hash is the lookup key"
        );
    }

    #[test]
    fn checksums_are_grafanas() {
        // CRC-32/IEEE of "glsa_" + secret as little-endian bytes in hex, computed independently
        // with Python: struct.pack('<I', zlib.crc32(b'glsa_…')).hex().
        assert_eq!(checksum("glsa_abc"), "ecf6f583");
        let token = "glsa_0123456789abcdefghijABCDEFGHIJkl_181dc044";
        let t = ServiceAccountToken::parse(token).expect("a valid token");
        assert_eq!(t.secret, "0123456789abcdefghijABCDEFGHIJkl");
        assert_eq!(t.client_secret(), token);
        assert_eq!(
            t.hashed(),
            pbkdf2_hex("0123456789abcdefghijABCDEFGHIJkl", "181dc044")
        );
    }

    #[test]
    fn malformed_tokens_are_refused_early() {
        let good = ServiceAccountToken::generate().client_secret();
        let mut bad_sum = good.clone();
        let last = bad_sum.pop().unwrap();
        bad_sum.push(if last == '0' { '1' } else { '0' });
        for t in [
            "",
            "glsa_",
            "glsa_abc",
            "glxx_abc_00000000",
            "glsa_a_b_c",
            bad_sum.as_str(),
            &good.replacen("glsa", "GLSA", 1),
        ] {
            assert_eq!(ServiceAccountToken::parse(t), None, "{t}");
        }
    }

    #[test]
    fn legacy_keys_decode_the_eyjrijoi_form() {
        let key = LegacyApiKey {
            secret: "Zm9vYmFyYmF6".into(),
            name: "ci".into(),
            org_id: 1,
        };
        let token = key.client_secret();
        assert!(token.starts_with("eyJrIjoi"), "{token}");
        assert_eq!(LegacyApiKey::parse(&token), Some(key.clone()));
        assert_eq!(key.hashed(), pbkdf2_hex("Zm9vYmFyYmF6", "ci"));
        assert_eq!(LegacyApiKey::parse("not base64!"), None);
        assert_eq!(LegacyApiKey::parse("e30="), None, "{{}} lacks the fields");
    }
}
