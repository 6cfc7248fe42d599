//! The signed-in identity handlers see: the user's row as authentication read it, without the
//! password hash and salt. Code that needs the hash (changing a password, upgrading a hash on
//! login) reads it from the store where it needs it.

/// Who signed in: `user` columns except `password` and `salt` (`UserRow` into it drops them).
pub use crate::store::UserProfile as SignedInUser;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::UserRow;

    #[test]
    fn signed_in_user_holds_no_password_hash_or_salt() {
        let mut row = UserRow::for_test(7, "alice");
        row.password = Some("HASH-5f0c1e9a7b".into());
        row.salt = Some("SALT-3d2b9c".into());
        let user = SignedInUser::from(row);
        let shown = format!("{user:?}");
        assert!(shown.contains("alice@example.com"), "{shown}");
        assert!(!shown.contains("HASH-5f0c1e9a7b"), "{shown}");
        assert!(!shown.contains("SALT-3d2b9c"), "{shown}");
        assert!(
            !shown.contains("password") && !shown.contains("salt"),
            "{shown}"
        );
    }
}
