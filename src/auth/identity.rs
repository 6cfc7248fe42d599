//! The signed-in identity handlers see: the user's row as authentication read it, without the
//! password hash and salt. Code that needs the hash (changing a password, upgrading a hash on
//! login) reads it from the store where it needs it.

use chrono::NaiveDateTime;

use crate::store::UserRow;

/// Who signed in: `user` columns except `password` and `salt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInUser {
    pub id: i64,
    pub uid: Option<String>,
    pub login: String,
    pub email: String,
    pub name: Option<String>,
    /// The user's current (default) org, `user.org_id`.
    pub org_id: i64,
    pub is_admin: bool,
    pub theme: Option<String>,
    pub created: NaiveDateTime,
    pub updated: NaiveDateTime,
    pub last_seen_at: Option<NaiveDateTime>,
    pub is_disabled: bool,
    pub is_service_account: Option<bool>,
    pub is_provisioned: bool,
}

impl From<UserRow> for SignedInUser {
    fn from(row: UserRow) -> Self {
        // Destructured so that a new column must be decided on here.
        let UserRow {
            id,
            uid,
            login,
            email,
            name,
            password: _,
            salt: _,
            org_id,
            is_admin,
            theme,
            created,
            updated,
            last_seen_at,
            is_disabled,
            is_service_account,
            is_provisioned,
        } = row;
        SignedInUser {
            id,
            uid,
            login,
            email,
            name,
            org_id,
            is_admin,
            theme,
            created,
            updated,
            last_seen_at,
            is_disabled,
            is_service_account,
            is_provisioned,
        }
    }
}

impl From<&UserRow> for SignedInUser {
    fn from(row: &UserRow) -> Self {
        row.clone().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_in_user_holds_no_password_hash_or_salt() {
        let t = chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc();
        let row = UserRow {
            id: 7,
            uid: Some("u7".into()),
            login: "alice".into(),
            email: "alice@example.com".into(),
            name: Some("Alice".into()),
            password: Some("HASH-5f0c1e9a7b".into()),
            salt: Some("SALT-3d2b9c".into()),
            org_id: 1,
            is_admin: false,
            theme: None,
            created: t,
            updated: t,
            last_seen_at: None,
            is_disabled: false,
            is_service_account: Some(false),
            is_provisioned: false,
        };
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
