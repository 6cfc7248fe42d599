//! Browser, OS and device from a stored user agent, for the auth-token listings. Grafana parses
//! with uap-go and the ua-parser project's rule set (`pkg/api/user_token.go`); this uses the same
//! project's Rust parser (`ua-parser`) with the same rules (uap-core, embedded as JSON). The
//! parser is built on first use: most processes never list devices.

use std::sync::OnceLock;

static RULES: &str = include_str!("../../assets/uap-core/regexes.json");

/// What the listing shows of a user agent. Unknown parts are Grafana's "Other" / "".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub browser: String,
    pub browser_version: String,
    pub os: String,
    pub os_version: String,
    pub device: String,
}

fn extractor() -> Option<&'static ua_parser::Extractor<'static>> {
    static EXTRACTOR: OnceLock<Option<ua_parser::Extractor<'static>>> = OnceLock::new();
    EXTRACTOR
        .get_or_init(|| {
            let regexes: ua_parser::Regexes<'static> = match serde_json::from_str(RULES) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "embedded user-agent rules do not parse");
                    return None;
                }
            };
            match ua_parser::Extractor::try_from(regexes) {
                Ok(e) => Some(e),
                Err(e) => {
                    tracing::error!(error = %e, "embedded user-agent rules do not compile");
                    None
                }
            }
        })
        .as_ref()
}

/// "major.minor", "major" or "" — Grafana's version format.
fn version(major: Option<&str>, minor: Option<&str>) -> String {
    match (
        major.filter(|m| !m.is_empty()),
        minor.filter(|m| !m.is_empty()),
    ) {
        (Some(major), Some(minor)) => format!("{major}.{minor}"),
        (Some(major), None) => major.to_string(),
        _ => String::new(),
    }
}

pub fn parse(user_agent: &str) -> Client {
    let other = || "Other".to_string();
    let Some(x) = extractor() else {
        return Client {
            browser: other(),
            browser_version: String::new(),
            os: other(),
            os_version: String::new(),
            device: other(),
        };
    };
    let (ua, os, device) = x.extract(user_agent);
    let (browser, browser_version) = match ua {
        Some(ua) => (ua.family.into_owned(), version(ua.major, ua.minor)),
        None => (other(), String::new()),
    };
    let (os, os_version) = match os {
        Some(os) => (
            os.os.to_string(),
            version(os.major.as_deref(), os.minor.as_deref()),
        ),
        None => (other(), String::new()),
    };
    let device = device.map(|d| d.device.into_owned()).unwrap_or_else(other);
    Client {
        browser,
        browser_version,
        os,
        os_version,
        device,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_examples() {
        // The two devices of the User API's auth-tokens example.
        let chrome = parse("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.119 Safari/537.36");
        assert_eq!(
            chrome,
            Client {
                browser: "Chrome".into(),
                browser_version: "72.0".into(),
                os: "Linux".into(),
                os_version: "".into(),
                device: "Other".into(),
            }
        );
        let iphone = parse("Mozilla/5.0 (iPhone; CPU iPhone OS 11_0 like Mac OS X) AppleWebKit/604.1.38 (KHTML, like Gecko) Version/11.0 Mobile/15A372 Safari/604.1");
        assert_eq!(
            iphone,
            Client {
                browser: "Mobile Safari".into(),
                browser_version: "11.0".into(),
                os: "iOS".into(),
                os_version: "11.0".into(),
                device: "iPhone".into(),
            }
        );
    }

    #[test]
    fn unknown_agents_are_other() {
        let c = parse("");
        assert_eq!(c.browser, "Other");
        assert_eq!(c.os, "Other");
        assert_eq!(c.device, "Other");
        assert_eq!(c.browser_version, "");
        let c = parse("curl/8.5.0");
        assert_eq!(c.browser, "curl");
        assert_eq!(c.browser_version, "8.5");
    }
}
