//! Preferences as the pages show them: the API's preferences DTO (user, team and org alike), the
//! dashboards a home dashboard is picked from, and the time zones offered.

use std::sync::LazyLock;

use serde::Deserialize;

/// Grafana's preferences, as `GET /api/user/preferences` (and the team's and org's) answer them.
#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase", default)]
pub struct Prefs {
    pub theme: Option<String>,
    pub timezone: Option<String>,
    pub week_start: Option<String>,
    #[serde(rename = "homeDashboardUID")]
    pub home_dashboard_uid: Option<String>,
}

impl Prefs {
    pub fn theme_is(&self, value: &str) -> bool {
        self.theme.as_deref().unwrap_or("") == value
    }
    pub fn week_is(&self, value: &str) -> bool {
        self.week_start.as_deref().unwrap_or("") == value
    }
    pub fn home_is(&self, uid: &str) -> bool {
        self.home_dashboard_uid.as_deref().unwrap_or("") == uid
    }
    pub fn zone(&self) -> &str {
        self.timezone.as_deref().unwrap_or("")
    }
}

/// Where an API message about preferences goes in `preferences_fields.html`: by the word it
/// names, the field.
pub const FIELDS: &[(&str, &str)] = &[
    ("theme", "theme"),
    ("timezone", "timezone"),
    ("week", "week_start"),
    ("dashboard", "home_dashboard_uid"),
];

/// A dashboard of `GET /api/search?type=dash-db`, for the home dashboard choice.
#[derive(Deserialize)]
pub struct Dashboard {
    pub uid: String,
    pub title: String,
}

/// The IANA time zones the timezone field suggests.
pub fn zones() -> &'static [&'static str] {
    static ZONES: LazyLock<Vec<&'static str>> =
        LazyLock::new(|| chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect());
    &ZONES
}
