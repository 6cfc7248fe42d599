//! Administration → Server, at Grafana's URLs: `/admin/settings`, the server's settings as
//! `GET /api/admin/settings` lists them (secrets already redacted by the API), one table per
//! section with a filter (`?query=`, done here so it works without JavaScript); and
//! `/admin/stats`, the counts of `GET /api/admin/stats` in Grafana's words. Each page is shown
//! to whoever the API answers its route for, and carries the API's refusal otherwise.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::Query;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::Value;

use super::context::{Chrome, WebState};
use super::Web;

pub(super) fn routes(r: Router<WebState>) -> Router<WebState> {
    r.route("/admin/settings", get(settings))
        .route("/admin/stats", get(stats))
}

// ---- settings ---------------------------------------------------------------------------

/// `GET /api/admin/settings`: section → key → value.
type Settings = BTreeMap<String, BTreeMap<String, String>>;

/// One section of the settings page.
struct Section {
    name: String,
    /// `(key, value)`, in key order.
    rows: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FilterParams {
    query: String,
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    query: &'a str,
    sections: &'a [Section],
}

/// The sections and rows that contain `query` (case-insensitively): a section whose name
/// matches keeps all its keys; otherwise only keys whose name or value matches are kept, and a
/// section left with none is dropped. An empty (or blank) query keeps everything.
fn filter(settings: Settings, query: &str) -> Vec<Section> {
    let needle = query.trim().to_lowercase();
    settings
        .into_iter()
        .filter_map(|(name, keys)| {
            let whole = needle.is_empty() || name.to_lowercase().contains(&needle);
            let rows: Vec<(String, String)> = keys
                .into_iter()
                .filter(|(k, v)| {
                    whole
                        || k.to_lowercase().contains(&needle)
                        || v.to_lowercase().contains(&needle)
                })
                .collect();
            (whole || !rows.is_empty()).then_some(Section { name, rows })
        })
        .collect()
}

async fn settings(web: Web, Query(q): Query<FilterParams>) -> Response {
    let all: Settings = match web.api.get("/api/admin/settings").await {
        Ok(all) => all,
        Err(f) => return web.refused(f),
    };
    let sections = filter(all, &q.query);
    web.render(SettingsPage {
        chrome: &web.chrome,
        title: "Settings",
        query: &q.query,
        sections: &sections,
    })
}

// ---- stats ------------------------------------------------------------------------------

/// The fields of `GET /api/admin/stats` (Grafana's `AdminStats`, camelCase), grouped and named
/// as Grafana's Stats page and usage report name them.
const STAT_GROUPS: &[(&str, &[(&str, &str)])] = &[
    (
        "Users",
        &[
            ("users", "Total users"),
            ("activeUsers", "Active users (last 30 days)"),
            ("monthlyActiveUsers", "Active users this month"),
            ("dailyActiveUsers", "Active users (last 24 hours)"),
            ("disabledUsers", "Disabled users"),
        ],
    ),
    (
        "Roles",
        &[
            ("admins", "Admins"),
            ("editors", "Editors"),
            ("viewers", "Viewers"),
            ("activeAdmins", "Active admins (last 30 days)"),
            ("activeEditors", "Active editors (last 30 days)"),
            ("activeViewers", "Active viewers (last 30 days)"),
            ("dailyActiveAdmins", "Active admins (last 24 hours)"),
            ("dailyActiveEditors", "Active editors (last 24 hours)"),
            ("dailyActiveViewers", "Active viewers (last 24 hours)"),
        ],
    ),
    (
        "Sessions",
        &[
            ("activeSessions", "Active sessions (last 30 days)"),
            ("dailyActiveSessions", "Active sessions (last 24 hours)"),
        ],
    ),
    (
        "Organizations",
        &[("orgs", "Organizations"), ("teams", "Teams")],
    ),
    (
        "Dashboards",
        &[
            ("dashboards", "Dashboards"),
            ("stars", "Starred dashboards"),
            ("tags", "Tags"),
            ("playlists", "Playlists"),
            ("snapshots", "Snapshots"),
        ],
    ),
    (
        "Data sources and alerting",
        &[("datasources", "Data sources"), ("alerts", "Alerts")],
    ),
];

/// One count of the stats page.
struct Stat {
    /// The API's field name (the element's id, `stat-<key>`).
    key: String,
    label: String,
    value: String,
}

struct StatGroup {
    title: String,
    stats: Vec<Stat>,
}

#[derive(Template)]
#[template(path = "admin_stats.html")]
struct StatsPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    groups: &'a [StatGroup],
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The API's counts in [`STAT_GROUPS`]; a field the groups do not name is shown under "Other"
/// by its API name, so nothing the API reports is left out.
fn group_stats(mut fields: serde_json::Map<String, Value>) -> Vec<StatGroup> {
    let mut groups: Vec<StatGroup> = STAT_GROUPS
        .iter()
        .map(|(title, names)| StatGroup {
            title: title.to_string(),
            stats: names
                .iter()
                .filter_map(|(key, label)| {
                    let value = fields.remove(*key)?;
                    Some(Stat {
                        key: key.to_string(),
                        label: label.to_string(),
                        value: shown(&value),
                    })
                })
                .collect(),
        })
        .filter(|g| !g.stats.is_empty())
        .collect();
    if !fields.is_empty() {
        groups.push(StatGroup {
            title: "Other".into(),
            stats: fields
                .into_iter()
                .map(|(key, value)| Stat {
                    label: key.clone(),
                    value: shown(&value),
                    key,
                })
                .collect(),
        });
    }
    groups
}

async fn stats(web: Web) -> Response {
    let fields: serde_json::Map<String, Value> = match web.api.get("/api/admin/stats").await {
        Ok(fields) => fields,
        Err(f) => return web.refused(f),
    };
    let groups = group_stats(fields);
    web.render(StatsPage {
        chrome: &web.chrome,
        title: "Stats",
        groups: &groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Settings {
        let mut s = Settings::new();
        s.entry("server".into())
            .or_default()
            .insert("http_port".into(), "3000".into());
        s.entry("server".into())
            .or_default()
            .insert("domain".into(), "Localhost".into());
        s.entry("security".into())
            .or_default()
            .insert("secret_key".into(), "*********".into());
        s.entry("security".into())
            .or_default()
            .insert("admin_user".into(), "admin".into());
        s.entry("empty".into()).or_default();
        s
    }

    fn names(sections: &[Section]) -> Vec<(&str, Vec<&str>)> {
        sections
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.rows.iter().map(|(k, _)| k.as_str()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn no_query_keeps_everything() {
        let all = filter(sample(), "  ");
        assert_eq!(
            names(&all),
            vec![
                ("empty", vec![]),
                ("security", vec!["admin_user", "secret_key"]),
                ("server", vec!["domain", "http_port"]),
            ]
        );
    }

    #[test]
    fn a_key_or_value_keeps_its_rows_only() {
        assert_eq!(
            names(&filter(sample(), "HTTP_")),
            vec![("server", vec!["http_port"])]
        );
        // By value, case-insensitively.
        assert_eq!(
            names(&filter(sample(), "localhost")),
            vec![("server", vec!["domain"])]
        );
        // "admin" is a key of one section and a value there.
        assert_eq!(
            names(&filter(sample(), "admin")),
            vec![("security", vec!["admin_user"])]
        );
        assert!(filter(sample(), "nothing-like-this").is_empty());
    }

    #[test]
    fn a_section_name_keeps_the_whole_section() {
        assert_eq!(
            names(&filter(sample(), "Secur")),
            vec![("security", vec!["admin_user", "secret_key"])]
        );
        assert_eq!(names(&filter(sample(), "empt")), vec![("empty", vec![])]);
    }

    #[test]
    fn every_stat_of_the_api_has_a_label() {
        let mut fields = match serde_json::to_value(crate::store::Stats::default()).unwrap() {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        for extra in ["snapshots", "datasources", "playlists", "alerts"] {
            fields.insert(extra.into(), Value::from(0));
        }
        let count = fields.len();
        let groups = group_stats(fields);
        assert!(
            groups.iter().all(|g| g.title != "Other"),
            "unlabelled stats"
        );
        assert_eq!(groups.iter().map(|g| g.stats.len()).sum::<usize>(), count);
    }

    #[test]
    fn an_unknown_stat_is_shown_by_its_name() {
        let mut fields = serde_json::Map::new();
        fields.insert("users".into(), Value::from(3));
        fields.insert("newThing".into(), Value::from(7));
        let groups = group_stats(fields);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].stats[0].label, "Total users");
        assert_eq!(groups[0].stats[0].value, "3");
        assert_eq!(groups[1].title, "Other");
        assert_eq!(groups[1].stats[0].label, "newThing");
    }
}
