//! Values parsed once from requests and valid afterwards.

pub mod dashboard;
pub mod login;
pub mod password;
pub mod role;
pub mod text;

use rand::Rng;
use serde::Serialize;

use std::borrow::Cow;

/// A value the domain's rules refuse, with Grafana's message: a 400 at the HTTP edge
/// (`From<Invalid> for ApiError` in src/error.rs). `code` is Grafana's status word for the
/// dashboard API's `{message, status}` bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub message: Cow<'static, str>,
    pub code: Option<&'static str>,
}

impl Invalid {
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Invalid {
            message: message.into(),
            code: None,
        }
    }
}

/// Grafana's short uid: 14 lower-case alphanumerics starting with a letter.
/// `len` random letters and digits from the OS's generator (salts, `rands`, passwords).
pub fn random_string(len: usize) -> String {
    rand::rngs::OsRng
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

pub fn new_uid() -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    let mut uid = String::with_capacity(14);
    uid.push(LETTERS[rng.gen_range(0..LETTERS.len())] as char);
    for _ in 1..14 {
        uid.push(ALNUM[rng.gen_range(0..ALNUM.len())] as char);
    }
    uid
}

/// A numeric id from a path segment; Grafana answers `400 "id is invalid"` otherwise.
pub fn parse_id(raw: &str, message: &str) -> Result<i64, Invalid> {
    // Grafana's `strconv.ParseInt`: any 64-bit integer parses; a non-positive id is simply not
    // found.
    raw.parse::<i64>()
        .map_err(|_| Invalid::new(message.to_string()))
}

/// A plausible email address: one `@`, something on each side, no spaces. A dotless domain is
/// allowed, as Go's `mail.ParseAddress` allows it (Grafana's default `admin@localhost`).
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && s.chars().count() <= 190
}

/// A login: not empty, no spaces or control characters, at most 190 characters (the column).
pub fn is_login(s: &str) -> bool {
    !s.is_empty()
        && s.chars().count() <= 190
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Grafana's `util.GetAgeString` (`pkg/util/strings.go`): "10 years", "1 month", "3 days",
/// "1 hour", "12 minutes" or "< 1 minute".
pub fn age_string(since: chrono::Duration) -> String {
    let minutes = since.num_seconds() as f64 / 60.0;
    let units = [
        (525_600.0, "year"),
        (43_800.0, "month"),
        (1_440.0, "day"),
        (60.0, "hour"),
        (1.0, "minute"),
    ];
    for (per, unit) in units {
        let n = (minutes / per).floor() as i64;
        if n > 0 {
            let plural = if n == 1 { "" } else { "s" };
            return format!("{n} {unit}{plural}");
        }
    }
    "< 1 minute".to_string()
}

/// `/avatar/` + md5 of the lower-cased email (Grafana's `dtos.GetGravatarUrl`, which does not
/// trim).
pub fn avatar_url(email: &str) -> String {
    use md5::{Digest, Md5};
    if email.is_empty() {
        return String::new();
    }
    let digest = Md5::digest(email.to_lowercase().as_bytes());
    format!("/avatar/{}", hex::encode(digest))
}

/// RFC 3339 in UTC with whole seconds, as Go marshals a `time.Time` stored at second precision.
pub fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Paging from `page`/`perpage` (or `limit`) query values, under one rule for every route:
/// - absent, empty or 0: the route's default, as Grafana (`if perPage <= 0 { perPage = 1000 }`,
///   `if page < 1 { page = 1 }` in pkg/api/users.go, team.go, org_users.go and the service
///   accounts API): the Terraform provider pages from `page=0`;
/// - not a whole number, negative, or a page size above [`MAX_PER_PAGE`]: 400 with a message
///   (Grafana reads such values as 0; this server refuses what cannot be meant, see README);
/// - a page above [`MAX_PAGE`]: 400 (so that no offset overflows).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

pub const MAX_PER_PAGE: i64 = 5000;
/// The largest page number: with [`MAX_PER_PAGE`], offsets stay far inside 64 bits.
pub const MAX_PAGE: i64 = 1_000_000_000;

/// Why a paging value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagingError {
    /// Not a whole number, or negative.
    Invalid(&'static str),
    /// A page size above [`MAX_PER_PAGE`].
    TooLarge(&'static str),
    /// A page above [`MAX_PAGE`].
    PageTooLarge,
}

impl From<PagingError> for Invalid {
    fn from(err: PagingError) -> Self {
        Invalid::new(match err {
            PagingError::Invalid(name) => format!("{name} must be a whole number, 0 or more"),
            PagingError::TooLarge(name) => {
                format!("{name} must not be greater than {MAX_PER_PAGE}")
            }
            PagingError::PageTooLarge => format!("page must not be greater than {MAX_PAGE}"),
        })
    }
}

/// A page number as given (`Ok(0)` when absent or empty): a whole number from 0 to [`MAX_PAGE`].
pub fn page_number(raw: Option<&str>) -> Result<i64, PagingError> {
    match paging_number(raw, "page")? {
        n if n > MAX_PAGE => Err(PagingError::PageTooLarge),
        n => Ok(n),
    }
}

/// One paging number: `Ok(0)` when absent or empty, an error when not a whole number ≥ 0.
pub fn paging_number(raw: Option<&str>, name: &'static str) -> Result<i64, PagingError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(0),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n),
            _ => Err(PagingError::Invalid(name)),
        },
    }
}

/// A page size (`perpage`, `limit`): `None` when absent, empty or 0 (the route's default).
pub fn page_size(raw: Option<&str>, name: &'static str) -> Result<Option<i64>, PagingError> {
    match paging_number(raw, name)? {
        0 => Ok(None),
        n if n > MAX_PER_PAGE => Err(PagingError::TooLarge(name)),
        n => Ok(Some(n)),
    }
}

impl Paging {
    /// `page` from 1 (0 or absent is page 1) and `perpage` (0 or absent is `default_per_page`).
    pub fn parse(
        page: Option<&str>,
        per_page: Option<&str>,
        default_per_page: i64,
    ) -> Result<Self, Invalid> {
        Ok(Self::parse_named(
            page,
            per_page,
            "perpage",
            default_per_page,
        )?)
    }

    /// As [`Paging::parse`], for a route whose page size is called `size_name` (`limit`).
    pub fn parse_named(
        page: Option<&str>,
        per_page: Option<&str>,
        size_name: &'static str,
        default_per_page: i64,
    ) -> Result<Self, PagingError> {
        let page = page_number(page)?.max(1);
        let per_page = page_size(per_page, size_name)?.unwrap_or(default_per_page);
        Ok(Paging { page, per_page })
    }

    /// Rows to skip.
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

/// `authLabels` names for `user_auth.auth_module` values (Grafana's `login.GetAuthProviderLabel`).
pub fn auth_label(module: &str) -> String {
    match module {
        "oauth_github" => "GitHub",
        "oauth_google" => "Google",
        "oauth_azuread" => "AzureAD",
        "oauth_gitlab" => "GitLab",
        "oauth_okta" => "Okta",
        "oauth_grafana_com" | "oauth_grafananet" => "grafana.com",
        "oauth_generic_oauth" => "Generic OAuth",
        "auth.saml" | "saml" => "SAML",
        "ldap" => "LDAP",
        "jwt" => "JWT",
        "authproxy" => "Auth Proxy",
        "extsvc" => "Service Account",
        _ => "OAuth",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_follow_grafana() {
        let d = chrono::Duration::seconds;
        assert_eq!(age_string(d(30)), "< 1 minute");
        assert_eq!(age_string(d(60)), "1 minute");
        assert_eq!(age_string(d(120)), "2 minutes");
        assert_eq!(age_string(d(3 * 3600)), "3 hours");
        assert_eq!(age_string(d(86400)), "1 day");
        assert_eq!(age_string(d(2 * 86400)), "2 days");
        assert_eq!(age_string(d(65 * 86400)), "2 months");
        assert_eq!(age_string(d(400 * 86400)), "1 year");
        assert_eq!(age_string(d(3652 * 86400)), "10 years");
    }

    #[test]
    fn avatar_is_md5_of_lowercased_email() {
        // md5("admin@localhost")
        assert_eq!(
            avatar_url("Admin@Localhost"),
            "/avatar/46d229b033af06a191ff2267bca9ae56"
        );
    }

    #[test]
    fn emails_and_logins_are_checked() {
        assert!(is_email("a@b.co"));
        assert!(is_email("admin@localhost"));
        assert!(!is_email("a@"));
        assert!(!is_email("not an email"));
        assert!(is_login("bob"));
        assert!(!is_login("bo b"));
    }

    #[test]
    fn paging_takes_grafanas_zeroes_and_rejects_nonsense() {
        let p = Paging::parse(Some("0"), Some("0"), 1000).unwrap();
        assert_eq!((p.page, p.per_page), (1, 1000));
        let p = Paging::parse(None, None, 1000).unwrap();
        assert_eq!((p.page, p.per_page, p.offset()), (1, 1000, 0));
        let p = Paging::parse(Some(" 3 "), Some("5000"), 1000).unwrap();
        assert_eq!((p.page, p.per_page, p.offset()), (3, 5000, 10000));
        assert!(Paging::parse(Some("-1"), None, 1000).is_err());
        assert!(Paging::parse(None, Some("-1"), 1000).is_err());
        assert!(Paging::parse(None, Some("x"), 1000).is_err());
        assert!(Paging::parse(None, Some("1.5"), 1000).is_err());
        assert!(Paging::parse(None, Some("5001"), 1000).is_err());
        assert!(Paging::parse(Some("1000000001"), Some("10"), 1000).is_err());
        let p = Paging::parse(Some("1000000000"), Some("5000"), 1000).unwrap();
        assert_eq!(p.offset(), 999_999_999 * 5000);
    }
}

/// Grafana's dashboard slug (`pkg/infra/slugify/slugify.go`): lower case, spaces as dashes, a
/// few symbols spelled out, common accented Latin letters folded, `,"'?.()` and line breaks
/// dropped, anything else as the hex of its UTF-8 bytes; empty or longer than 50 characters, a
/// UUIDv5 (OID namespace) of the title instead.
pub fn slugify(title: &str) -> String {
    let mut out = String::new();
    for c in title.trim().to_lowercase().chars() {
        match c {
            'a'..='z' | '0'..='9' | '_' | '-' => out.push(c),
            ' ' => out.push('-'),
            '&' => out.push_str("and"),
            '@' => out.push_str("at"),
            '©' => out.push('c'),
            '®' => out.push('r'),
            '™' => out.push_str("tm"),
            ',' | '"' | '\'' | '\n' | '\r' | '\0' | '?' | '.' | '(' | ')' => {}
            'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' => out.push('a'),
            'ä' | 'æ' => out.push_str("ae"),
            'ç' | 'č' | 'ć' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' | 'ī' => out.push('i'),
            'ñ' | 'ń' | 'ň' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'ō' => out.push('o'),
            'ö' | 'œ' => out.push_str("oe"),
            'ù' | 'ú' | 'û' | 'ū' | 'ů' => out.push('u'),
            'ü' => out.push_str("ue"),
            'ý' | 'ÿ' => out.push('y'),
            'ß' => out.push_str("ss"),
            'ł' => out.push('l'),
            'š' | 'ś' => out.push('s'),
            'ž' | 'ź' | 'ż' => out.push('z'),
            'ř' => out.push('r'),
            'đ' | 'ď' => out.push('d'),
            'ť' => out.push('t'),
            other => {
                let mut buf = [0u8; 4];
                out.push_str(&hex::encode(other.encode_utf8(&mut buf).as_bytes()));
            }
        }
    }
    if out.is_empty() || out.chars().count() > 50 {
        return uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, title.as_bytes()).to_string();
    }
    out
}

#[cfg(test)]
mod slug_tests {
    use super::slugify;

    /// Examples from Grafana's `pkg/infra/slugify/slugify_test.go` behaviour.
    #[test]
    fn slugs_are_grafanas() {
        assert_eq!(slugify("Production Overview"), "production-overview");
        assert_eq!(slugify("Hello World!"), "hello-world21");
        assert_eq!(slugify("  A & B @ C  "), "a-and-b-at-c");
        assert_eq!(slugify("Grüße (v2.0)"), "gruesse-v20");
        assert_eq!(slugify("a/b:c"), "a2fb3ac");
        let long = "x".repeat(51);
        assert_eq!(slugify(&long).len(), 36, "a UUID");
        assert_eq!(slugify(&long), slugify(&long), "deterministic");
        assert_eq!(slugify("???").len(), 36);
    }
}
