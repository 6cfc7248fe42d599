//! Logins and emails: the form they are stored, compared and looked up in.
//!
//! Both are kept NFKC-normalised and lower-cased (Grafana 10.3+ lower-cases them; NFKC is
//! beyond Grafana), so that a full-width `ＡＤＭＩＮ` is `admin` and two accounts cannot differ
//! only in how a letter is encoded. Comparing two stored values is then byte equality on every
//! database: SQLite's and PostgreSQL's `lower()` leave a lower-cased value as it is, and MySQL
//! compares byte copies of the columns (migration 0008), not with an accent-blind collation
//! that would take `jose` for `josé`. Characters that print as nothing or reorder the text
//! (bidi overrides, zero-width joiners, other format characters) are refused, as are control
//! characters, so two logins cannot look identical.

use unicode_normalization::UnicodeNormalization;

use super::text::{self, is_invisible, VARCHAR_190};
use super::Invalid;
use super::{is_email, is_login};

/// NFKC, trimmed, lower case: the stored and compared form of a login or email.
pub fn fold(raw: &str) -> String {
    let composed: String = raw.trim().nfkc().collect();
    composed.to_lowercase().nfkc().collect()
}

/// The login a user (not a service account) may take: folded, then refused with a 400 when it
/// holds control, invisible or space characters, is longer than the column, or has the shape of
/// a service account's login.
pub fn user_login(raw: &str) -> Result<String, Invalid> {
    let login = fold(raw);
    identity_chars("login", &login)?;
    if !is_login(&login) {
        return Err(Invalid::new("invalid login"));
    }
    if is_service_account_login(&login) {
        return Err(reserved("login"));
    }
    Ok(login)
}

/// A user's email: folded, then checked as a login is, and for the shape of an address.
pub fn user_email(raw: &str) -> Result<String, Invalid> {
    let email = fold(raw);
    identity_chars("email", &email)?;
    if !is_email(&email) {
        return Err(Invalid::new("invalid email address"));
    }
    // A service account's email is its login: an address of that shape would block its
    // creation just as a login would.
    if is_service_account_login(&email) {
        return Err(reserved("email"));
    }
    Ok(email)
}

/// What a login or email typed at sign-in (or given to a lookup) is compared with; `None` when
/// no stored login or email can equal it, so that no database sees a value it cannot store.
pub fn lookup_key(raw: &str) -> Option<String> {
    let key = fold(raw);
    let storable = !key.is_empty()
        && !text::has_control(&key)
        && !key.chars().any(is_invisible)
        && key.chars().count() <= VARCHAR_190;
    storable.then_some(key)
}

/// The name a failed sign-in is counted under (`login_attempt.username`): the folded login,
/// with what the column cannot hold replaced, so that any typed login can be recorded.
pub fn attempt_key(raw: &str) -> String {
    fold(raw)
        .chars()
        .map(|c| {
            if c.is_control() || is_invisible(c) {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .take(VARCHAR_190)
        .collect()
}

/// The shape of the logins service accounts get (`sa-<org id>-<name>`, and
/// `sa-autogen-<org id>-<name>` for migrated API keys): a user taking one would block the
/// creation of that service account. Beyond Grafana, which has no such rule.
pub fn is_service_account_login(login: &str) -> bool {
    let Some(rest) = login.strip_prefix("sa-") else {
        return false;
    };
    if rest.starts_with("autogen-") {
        return true;
    }
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with('-')
}

fn identity_chars(field: &str, value: &str) -> Result<(), Invalid> {
    if text::has_control(value) {
        return Err(text::control(field));
    }
    if value.chars().any(is_invisible) {
        return Err(Invalid::new(format!(
            "{field} must not contain invisible or text-direction characters"
        )));
    }
    text::length(field, value, VARCHAR_190)
}

fn reserved(field: &str) -> Invalid {
    Invalid::new(format!(
        "{field} must not start with 'sa-<org id>-': that form is reserved for service accounts"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_case_fold_to_one_login() {
        assert_eq!(fold("ＡＤＭＩＮ"), "admin");
        assert_eq!(fold(" José "), "josé");
        assert_ne!(fold("jose"), fold("José"));
        // A decomposed é (e + combining acute) is the composed one.
        assert_eq!(fold("Jose\u{301}"), "josé");
    }

    #[test]
    fn invisible_and_control_characters_are_refused_in_logins() {
        for bad in ["ad\u{202E}min", "ad\u{200B}min", "a\0b", "\u{FEFF}admin"] {
            assert!(user_login(bad).is_err(), "{bad:?}");
            assert!(lookup_key(bad).is_none(), "{bad:?}");
        }
        assert_eq!(user_login("José").unwrap(), "josé");
    }

    #[test]
    fn service_account_shapes_are_reserved() {
        for sa in [
            "sa-1-deploybot",
            "sa-12-x",
            "sa-autogen-1-key",
            "SA-1-Deploybot",
        ] {
            assert!(user_login(sa).is_err(), "{sa}");
        }
        for ok in ["sa-jones", "sam", "sa-", "sa-1x-y"] {
            assert!(user_login(ok).is_ok(), "{ok}");
        }
        assert!(user_email("sa-1-bot@example.com").is_err());
        assert!(user_email("sa-team@example.com").is_ok());
    }

    #[test]
    fn attempt_keys_fit_the_column() {
        let key = attempt_key(&format!("a\0{}", "x".repeat(300)));
        assert_eq!(key.chars().count(), 190);
        assert!(!key.contains('\0'));
    }
}
