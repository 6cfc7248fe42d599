//! Reading a dashboard JSON the way Grafana's `NewDashboardFromJson` and
//! `BuildSaveDashboardCommand` do, for the API and for provisioning alike.

use serde_json::{Map, Value};

use super::slugify;

/// Column limits of Grafana's schema, refused with a 400 rather than left to the database.
const MAX_TITLE: usize = 189;
const MAX_TAG: usize = 50;

/// A dashboard JSON, checked: what saving it needs.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// `id`, if a positive number.
    pub id: Option<i64>,
    /// `uid`, trimmed; empty: none.
    pub uid: String,
    pub title: String,
    pub slug: String,
    /// `version` (0 when absent, or when neither id nor uid is given).
    pub version: i64,
    pub tags: Vec<String>,
    /// The JSON with its title trimmed and its uid written back.
    pub data: Value,
}

/// Why a dashboard JSON cannot be saved: Grafana's message (a 400) and, for the `{message,
/// status}` bodies, its status word.
pub use super::Invalid;

fn invalid(message: &'static str, code: Option<&'static str>) -> Invalid {
    Invalid {
        message: message.into(),
        code,
    }
}

/// Checks a dashboard JSON and reads what saving it needs.
pub fn prepare(mut data: Map<String, Value>) -> Result<Prepared, Invalid> {
    let id = data
        .get("id")
        .and_then(Value::as_f64)
        .map(|f| f as i64)
        .filter(|id| *id > 0);
    let title = data
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    if title.is_empty() {
        return Err(invalid(
            "Dashboard title cannot be empty",
            Some("empty-name"),
        ));
    }
    if title.chars().count() > MAX_TITLE {
        // Grafana's limit is 5,000 bytes, but its own `title` column holds 189 characters.
        return Err(invalid(
            "Dashboard title cannot contain more than 189 characters",
            Some("title-too-long"),
        ));
    }
    if super::text::has_control(&title) {
        // Beyond Grafana: a title is one line, and PostgreSQL cannot store a NUL.
        return Err(invalid(
            "Dashboard title cannot contain control characters",
            None,
        ));
    }
    let uid = data
        .get("uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    if !uid
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid("uid contains illegal characters", None));
    }
    if uid.len() > 40 {
        return Err(invalid("uid too long, max 40 characters", None));
    }
    // Grafana's MustStringArray: a tag that is not a string means no tags at all.
    let tags: Vec<String> = match data.get("tags").and_then(Value::as_array) {
        Some(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    if tags.iter().any(|t| t.chars().count() > MAX_TAG) {
        return Err(invalid("tag too long, max 50 characters", None));
    }
    if tags.iter().any(|t| super::text::has_control(t)) {
        return Err(invalid("tag cannot contain control characters", None));
    }
    let version = if id.is_some() || !uid.is_empty() {
        data.get("version").and_then(Value::as_i64).unwrap_or(0)
    } else {
        0
    };
    data.insert("title".into(), Value::String(title.clone()));
    if !uid.is_empty() {
        data.insert("uid".into(), Value::String(uid.clone()));
    }
    Ok(Prepared {
        id,
        slug: slugify(&title),
        uid,
        title,
        version,
        tags,
        data: Value::Object(data),
    })
}
