//! Roles as every layer speaks of them: an org member's basic role and a team member's
//! permission. Parsed once where they enter (request bodies, config, provisioning files, stored
//! rows) and passed on typed.

use std::fmt;
use std::str::FromStr;

/// Grafana's basic org roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrgRole {
    None,
    Viewer,
    Editor,
    Admin,
}

impl OrgRole {
    pub const ALL: [OrgRole; 4] = [Self::None, Self::Viewer, Self::Editor, Self::Admin];

    /// Grafana's spelling, exactly (`Viewer`, not `viewer`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether a member with this role may grant `want` (Grafana's role ceiling: Admin grants
    /// anything, Editor anything but Admin, Viewer only Viewer and None, None nothing).
    pub fn includes(self, want: OrgRole) -> bool {
        match self {
            Self::Admin => true,
            Self::Editor => want != Self::Admin,
            Self::Viewer => matches!(want, Self::Viewer | Self::None),
            Self::None => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Viewer => "Viewer",
            Self::Editor => "Editor",
            Self::Admin => "Admin",
        }
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is none of Grafana's basic roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid role {0:?}: must be one of None, Viewer, Editor, Admin")]
pub struct UnknownRole(pub String);

impl FromStr for OrgRole {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, UnknownRole> {
        Self::parse(s).ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// A team member's permission, stored as Grafana stores it in `team_member.permission`
/// (`pkg/services/dashboards/dashboardaccess` `PERMISSION_ADMIN` = 4; members 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum TeamPermission {
    #[default]
    Member,
    Admin,
}

impl TeamPermission {
    /// The stored value.
    pub fn value(self) -> i64 {
        match self {
            Self::Member => 0,
            Self::Admin => 4,
        }
    }

    /// A stored value: 4 is Admin, anything else (0, NULL) a plain member, as Grafana reads it.
    pub fn from_value(v: Option<i64>) -> Self {
        if v == Some(4) {
            Self::Admin
        } else {
            Self::Member
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_exactly() {
        assert_eq!("Editor".parse::<OrgRole>(), Ok(OrgRole::Editor));
        assert!("editor".parse::<OrgRole>().is_err());
        assert!("Owner".parse::<OrgRole>().is_err());
        for r in OrgRole::ALL {
            assert_eq!(OrgRole::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn team_permission_values() {
        assert_eq!(TeamPermission::Admin.value(), 4);
        assert_eq!(TeamPermission::Member.value(), 0);
        assert_eq!(TeamPermission::from_value(Some(4)), TeamPermission::Admin);
        assert_eq!(TeamPermission::from_value(None), TeamPermission::Member);
        assert_eq!(TeamPermission::from_value(Some(0)), TeamPermission::Member);
    }
}
