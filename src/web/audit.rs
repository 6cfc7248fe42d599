//! The audit log's pages: `/admin/audit` (every org's records, `GET /api/admin/audit`, for
//! server admins) and `/org/audit` (the current org's, `GET /api/org/audit`, for org Admins),
//! with the API's filters as a form that works without JavaScript and its cursor as an "Older"
//! link; and the recent events of one user, which the user's page shows
//! (`crate::web::admin_users`). What a page shows is what the API answers its caller.

use askama::Template;
use axum::extract::RawQuery;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::Value;

use super::context::{Chrome, WebState};
use super::Web;

pub(super) fn routes(r: Router<WebState>) -> Router<WebState> {
    r.route("/admin/audit", get(admin_audit))
        .route("/org/audit", get(org_audit))
}

/// One record as the API answers it (the fields the pages show).
#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub(super) struct Record {
    pub id: i64,
    pub created: String,
    pub actor_kind: String,
    pub actor_login: String,
    pub auth_method: String,
    pub client_ip: String,
    pub org_id: i64,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub target_name: String,
    #[serde(default)]
    pub changes: Vec<Value>,
    pub outcome: String,
    pub reason: String,
}

impl Record {
    /// The changes in words: `email: a@x → b@y`, `password changed`, `login = kim`.
    pub fn summary(&self) -> String {
        self.changes
            .iter()
            .filter_map(|c| {
                let field = c.get("field")?.as_str()?;
                if c.get("secret").and_then(Value::as_bool) == Some(true) {
                    return Some(format!("{field} changed"));
                }
                let show = |v: Option<&Value>| match v {
                    Some(Value::String(s)) => format!("{s:?}"),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                Some(match (c.get("old"), c.get("new")) {
                    (None, new) => format!("{field} = {}", show(new)),
                    (old, None) => format!("{field} was {}", show(old)),
                    (old, new) => format!("{field}: {} → {}", show(old), show(new)),
                })
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
    pub fn when(&self) -> String {
        self.created.replace('T', " ").replace('Z', " UTC")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    records: Vec<Record>,
    next_cursor: Option<String>,
}

/// The filter form's fields, as sent back in the page's query string.
#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
struct Filters {
    actor: String,
    action: String,
    target_kind: String,
    target_id: String,
    org_id: String,
    outcome: String,
    from: String,
    to: String,
}

impl Filters {
    /// The API query of these filters (empty ones left out).
    fn query(&self, with_org: bool) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("targetKind", &self.target_kind),
            ("targetId", &self.target_id),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        if with_org && !self.org_id.trim().is_empty() {
            q.append_pair("orgId", self.org_id.trim());
        }
        q.finish()
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    /// `/admin/audit` or `/org/audit`, with the sub path.
    path: String,
    every_org: bool,
    filters: &'a Filters,
    records: &'a [Record],
    /// The link to the next (older) page, if there is one.
    older: Option<String>,
    newest: bool,
    /// A filter the API refused, in its words.
    error: Option<String>,
}

async fn admin_audit(web: Web, RawQuery(raw): RawQuery) -> Response {
    list(web, raw, true).await
}

async fn org_audit(web: Web, RawQuery(raw): RawQuery) -> Response {
    list(web, raw, false).await
}

async fn list(web: Web, raw: Option<String>, every_org: bool) -> Response {
    let raw = raw.unwrap_or_default();
    let filters: Filters = serde_urlencoded::from_str(&raw).unwrap_or_default();
    let cursor = form_urlencoded::parse(raw.as_bytes())
        .find(|(k, _)| k == "cursor")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let (api, page_path, title) = if every_org {
        ("/api/admin/audit", "/admin/audit", "Audit log")
    } else {
        (
            "/api/org/audit",
            "/org/audit",
            "Audit log of the organization",
        )
    };
    let base_query = filters.query(every_org);
    let query = with_cursor(&base_query, &cursor);
    let path = format!("{}{page_path}", web.chrome.base);
    let (records, older, error) = match web
        .api
        .get::<Page>(&format!("{api}?limit=50&{query}"))
        .await
    {
        Ok(p) => {
            let older = p
                .next_cursor
                .map(|c| format!("{path}?{}", with_cursor(&base_query, &c)));
            (p.records, older, None)
        }
        // A filter the API refuses is shown next to the form; anything else is the API's.
        Err(f) if f.status == axum::http::StatusCode::BAD_REQUEST => {
            (Vec::new(), None, Some(f.message))
        }
        Err(f) => return web.refused(f),
    };
    web.render(AuditPage {
        chrome: &web.chrome,
        title,
        path,
        every_org,
        filters: &filters,
        records: &records,
        older,
        newest: cursor.is_empty(),
        error,
    })
}

/// `query` with `cursor` appended (when there is one).
fn with_cursor(query: &str, cursor: &str) -> String {
    if cursor.is_empty() {
        return query.to_string();
    }
    let mut q = form_urlencoded::Serializer::new(query.to_string());
    q.append_pair("cursor", cursor);
    q.finish()
}

/// The latest events about one user and by them (at most `limit`, newest first), when the
/// caller may read every org's records; `None` otherwise.
pub(super) async fn recent_for_user(
    web: &Web,
    id: i64,
    login: &str,
    limit: usize,
) -> Option<Vec<Record>> {
    if !web.can(axum::http::Method::GET, "/api/admin/audit").await {
        return None;
    }
    let about: Page = web
        .api
        .get(&format!(
            "/api/admin/audit?targetKind=user&targetId={id}&limit={limit}"
        ))
        .await
        .ok()?;
    let actor: String = form_urlencoded::byte_serialize(login.as_bytes()).collect();
    let by: Page = web
        .api
        .get(&format!("/api/admin/audit?actor={actor}&limit={limit}"))
        .await
        .ok()?;
    let mut all: Vec<Record> = about.records;
    for r in by.records {
        if !all.iter().any(|a| a.id == r.id) {
            all.push(r);
        }
    }
    all.sort_by_key(|r| std::cmp::Reverse(r.id));
    all.truncate(limit);
    Some(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_words_and_secrets_as_changed() {
        let r: Record = serde_json::from_value(serde_json::json!({
            "id": 1, "created": "2026-12-08T01:00:00Z", "actorKind": "user", "actorLogin": "admin",
            "authMethod": "password", "clientIp": "127.0.0.1", "orgId": 1, "action": "users:write",
            "targetKind": "user", "targetId": "2", "targetName": "kim", "outcome": "success", "reason": "",
            "changes": [{"field": "email", "old": "a@x", "new": "b@y"}, {"field": "password", "secret": true}, {"field": "login", "new": "kim"}]
        }))
        .unwrap();
        assert_eq!(
            r.summary(),
            r#"email: "a@x" → "b@y"; password changed; login = "kim""#
        );
        assert_eq!(r.when(), "2026-12-08 01:00:00 UTC");
    }
}
