//! Free text from requests, checked once before it reaches a column: no control characters
//! (PostgreSQL cannot store a NUL, SQLite's FTS5 chokes on one) and no more characters than the
//! column holds (PostgreSQL and MySQL refuse what SQLite would store). Widths are those of
//! `migrations/{sqlite,postgres,mysql}/`, counted in characters as `VARCHAR(n)` counts them on
//! PostgreSQL and on MySQL's utf8mb4.

use super::Invalid;

/// `user.login`, `user.email`, `org.name`, `team.name`, `team.email`, `api_key.name`,
/// `role.name`, `role.display_name`, `role.group_name`, `permission.action`, `permission.scope`.
pub const VARCHAR_190: usize = 190;
/// `user.name`, `org.address1` … `org.country`.
pub const VARCHAR_255: usize = 255;
/// `org.zip_code`, `preferences.timezone`.
pub const VARCHAR_50: usize = 50;
/// Every `uid` column.
pub const UID: usize = 40;
/// A `TEXT` column (role descriptions): no width of its own, but a bound all the same.
pub const TEXT: usize = 4000;

/// True for C0 and C1 control characters and DEL.
pub fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// A one-line value of at most `max` characters: no control character at all.
pub fn line(field: &str, value: &str, max: usize) -> Result<(), Invalid> {
    if has_control(value) {
        return Err(control(field));
    }
    length(field, value, max)
}

/// A value that may span lines (descriptions): tabs and line breaks allowed, other control
/// characters not.
pub fn multiline(field: &str, value: &str, max: usize) -> Result<(), Invalid> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(control(field));
    }
    length(field, value, max)
}

/// At most `max` characters.
pub fn length(field: &str, value: &str, max: usize) -> Result<(), Invalid> {
    if value.chars().count() > max {
        return Err(Invalid::new(format!(
            "{field} must not be longer than {max} characters"
        )));
    }
    Ok(())
}

/// The refusal of a value holding a control character.
pub fn control(field: &str) -> Invalid {
    Invalid::new(format!("{field} must not contain control characters"))
}

/// Code points that print as nothing or reorder what follows: Unicode's format characters
/// (general category Cf: bidi overrides and isolates, zero-width space and joiners, the BOM,
/// soft hyphen, tags …) and the other default-ignorable code points (variation selectors,
/// Hangul fillers, the combining grapheme joiner). Two logins differing only by one of these
/// look identical. Ranges from Unicode 15's `DerivedCoreProperties.txt` and
/// `DerivedGeneralCategory.txt`.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x0600..=0x0605
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// True when a request target (path and query, percent-encoded) decodes to a control
/// character: no path segment or query value of this API can hold one, and a NUL would reach
/// the database (PostgreSQL refuses it, SQLite's FTS5 fails on it).
pub fn target_has_control(target: &str) -> bool {
    let bytes = target.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                decoded.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    has_control(&String::from_utf8_lossy(&decoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_lines_may_break_where_allowed() {
        assert!(line("name", "a\0b", 10).is_err());
        assert!(line("name", "a\u{85}b", 10).is_err(), "C1 NEL");
        assert!(line("name", "a\nb", 10).is_err());
        assert!(multiline("description", "a\nb\tc", 10).is_ok());
        assert!(multiline("description", "a\u{7}b", 10).is_err());
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(line("name", &"é".repeat(190), VARCHAR_190).is_ok());
        assert!(line("name", &"é".repeat(191), VARCHAR_190).is_err());
    }

    #[test]
    fn targets_are_decoded_before_looking_for_controls() {
        assert!(target_has_control("/api/search?query=abc%00"));
        assert!(target_has_control("/api/orgs/name/a%0Ab"));
        assert!(target_has_control("/api/search?query=%C2%85"), "C1 NEL");
        assert!(!target_has_control("/api/search?query=caf%C3%A9%20x%25"));
        assert!(!target_has_control("/api/search?query=100%"));
    }

    #[test]
    fn format_characters_are_invisible() {
        for c in [
            '\u{202E}',
            '\u{200B}',
            '\u{200D}',
            '\u{FEFF}',
            '\u{2066}',
            '\u{E0041}',
        ] {
            assert!(is_invisible(c), "{c:?}");
        }
        assert!(!is_invisible('a') && !is_invisible('é'));
    }
}
