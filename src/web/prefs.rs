//! Preferences as the pages show them: the API's preferences DTO (user, team and org alike), the
//! dashboards a home dashboard is picked from, and the time zones offered.

use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::{json, Value};

use super::client::{Api, Failure};

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
    /// The home dashboard's title among `dashboards` ("Default" for none, the uid if unknown).
    pub fn home_title<'a>(&'a self, dashboards: &'a [Dashboard]) -> &'a str {
        let uid = self.home_dashboard_uid.as_deref().unwrap_or("");
        if uid.is_empty() {
            return "Default";
        }
        dashboards
            .iter()
            .find(|d| d.uid == uid)
            .map(|d| d.title.as_str())
            .unwrap_or(uid)
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

/// A preferences form as `preferences_fields.html` sends it.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PreferencesForm {
    pub theme: String,
    pub timezone: String,
    pub week_start: String,
    pub home_dashboard_uid: String,
}

impl PreferencesForm {
    /// What was sent, to show again in a form that failed.
    pub fn sent(self) -> Prefs {
        let some = |s: String| Some(s).filter(|s| !s.is_empty());
        Prefs {
            theme: some(self.theme),
            timezone: some(self.timezone),
            week_start: some(self.week_start),
            home_dashboard_uid: some(self.home_dashboard_uid),
        }
    }
}

/// Saves a preferences form at `path` (`/api/user/preferences`, a team's or the org's). The
/// API's PUT replaces every preference, so those the form does not show (language, query
/// history, navbar) are read first and sent back unchanged.
pub async fn save(api: &Api, path: &str, form: &PreferencesForm) -> Result<(), Failure> {
    let stored: Value = api.get(path).await.unwrap_or(Value::Null);
    let mut body = json!({
        "theme": form.theme,
        "timezone": form.timezone,
        "weekStart": form.week_start,
        "homeDashboardUID": form.home_dashboard_uid,
    });
    for kept in ["language", "queryHistory", "navbar"] {
        if let Some(v) = stored.get(kept).filter(|v| !v.is_null()) {
            body[kept] = v.clone();
        }
    }
    api.put::<Value>(path, body).await.map(|_| ())
}

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
