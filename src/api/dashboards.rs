//! A minimal dashboard API (Grafana's `pkg/api/dashboard.go`, `pkg/api/search.go`): save, read
//! and delete dashboards of the request's org by uid, and search them. Dashboards live in the
//! General folder (this server holds no folders); Viewers read, Editors write.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::query::{first_value, page_schema, page_size_schema, GrafanaQuery};
use super::{Op, Routes};
use crate::auth::{actions, Access, Caller, OrgRole};
use crate::domain::dashboard::{prepare, Invalid};
use crate::domain::{new_uid, rfc3339, Paging, PagingError};
use crate::error::{ApiError, ApiResult, GrafanaJson};
use crate::state::AppState;
use crate::store::dashboards::{DashboardRow, DashboardSearch, SaveDashboard, SaveRefusal, Saved};

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::post(
            "/api/dashboards/db",
            "dashboards",
            "Create or update a dashboard",
            Access::action(actions::DASHBOARDS_CREATE),
        )
        .body::<SaveBody>()
        .returns::<SavedDto>()
        .errors(&[412]),
        save,
    )
    .add(
        Op::get(
            "/api/dashboards/uid/{uid}",
            "dashboards",
            "A dashboard and its meta data",
            Access::perm(actions::DASHBOARDS_READ, "dashboards:uid:{uid}"),
        ),
        get,
    )
    .add(
        Op::delete(
            "/api/dashboards/uid/{uid}",
            "dashboards",
            "Delete a dashboard (its tags and stars go with it)",
            Access::perm(actions::DASHBOARDS_DELETE, "dashboards:uid:{uid}"),
        ),
        delete,
    )
    .add(
        Op::get(
            "/api/dashboards/tags",
            "dashboards",
            "Tags of the organization's dashboards, with how many dashboards carry each",
            Access::SignedIn,
        )
        .returns::<Vec<TagCount>>(),
        tags,
    )
    .add(
        Op::get(
            "/api/search",
            "dashboards",
            "Search dashboards",
            Access::SignedIn,
        )
        .query::<SearchQuery>()
        .returns::<Vec<Hit>>()
        .errors(&[422]),
        search,
    );
}

/// Grafana's dashboard errors with a `status` (`pkg/api/apierrors/dashboard.go`): `{message,
/// status}` bodies.
fn dashboard_error(status: StatusCode, message: &str, code: &str) -> Response {
    (status, Json(json!({"message": message, "status": code}))).into_response()
}

pub(super) fn dashboard_not_found() -> ApiError {
    ApiError::not_found("Dashboard not found")
}

/// Grafana's `SaveDashboardCommand`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaveBody {
    pub dashboard: Option<Map<String, Value>>,
    #[serde(default)]
    pub overwrite: bool,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub folder_id: i64,
    #[serde(default)]
    pub folder_uid: String,
    #[serde(default)]
    pub is_folder: bool,
}

/// `{folderUid, id, slug, status, uid, url, version}`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SavedDto {
    pub folder_uid: String,
    pub id: i64,
    pub slug: String,
    pub status: String,
    pub uid: String,
    pub url: String,
    pub version: i64,
}

pub(super) fn url(uid: &str, slug: &str) -> String {
    format!("/d/{uid}/{slug}")
}

async fn save(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaJson(body): GrafanaJson<SaveBody>,
) -> ApiResult<Response> {
    let Some(data) = body.dashboard else {
        return Err(ApiError::bad_request("bad request data"));
    };
    if body.is_folder {
        return Err(ApiError::bad_request(
            "Use folders endpoint for saving folders.",
        ));
    }
    let has_id = data
        .get("id")
        .and_then(Value::as_f64)
        .is_some_and(|id| id as i64 > 0);
    // Grafana checks the dashboard quota whenever the body names no id.
    if !has_id && crate::service::quotas::dashboards_reached(&app, caller.org_id).await? {
        // Grafana 12's answer (`dashboards.ErrQuotaReached`).
        return Ok(dashboard_error(
            StatusCode::FORBIDDEN,
            "Dashboard quota reached",
            "quota-reached",
        ));
    }
    let prepared = match prepare(data) {
        Ok(p) => p,
        Err(Invalid {
            message,
            code: Some(code),
        }) => return Ok(dashboard_error(StatusCode::BAD_REQUEST, &message, code)),
        Err(e) => return Err(e.into()),
    };
    if body.message.len() > 500 {
        return Err(ApiError::bad_request(
            "message too long, max 500 characters",
        ));
    }
    // This server holds no folders: every dashboard lives in General.
    if !body.folder_uid.is_empty() || body.folder_id != 0 {
        return Err(ApiError::bad_request("folder not found"));
    }
    let slug = prepared.slug.clone();
    let id = prepared.id;
    let cmd = SaveDashboard {
        org_id: caller.org_id,
        id,
        uid: prepared.uid,
        new_uid: new_uid(),
        title: prepared.title,
        slug: slug.clone(),
        version: prepared.version,
        overwrite: body.overwrite,
        data: prepared.data,
        tags: prepared.tags,
        user_id: caller.id(),
        // Provisioned dashboards change through their files unless their provider allows UI
        // updates.
        allow_provisioned: false,
        provisioning: None,
    };
    // Updating an existing dashboard needs write on it; a provisioned one, a provider that
    // allows UI updates.
    let existing = match id {
        Some(id) => app.store.dashboard_by_id(caller.org_id, id).await?,
        None if !cmd.uid.is_empty() => app.store.dashboard_by_uid(caller.org_id, &cmd.uid).await?,
        None => None,
    };
    let mut cmd = cmd;
    if let Some(existing) = &existing {
        require_write(&app, &caller, existing).await?;
        cmd.allow_provisioned = existing
            .provisioned
            .as_deref()
            .is_some_and(|name| app.provisioner.allows_ui_updates(name));
    }
    match crate::service::dashboards::save(&app, &cmd).await {
        Ok(Saved {
            id, uid, version, ..
        }) => Ok(Json(SavedDto {
            folder_uid: String::new(),
            id,
            url: url(&uid, &slug),
            uid,
            slug,
            status: "success".into(),
            version,
        })
        .into_response()),
        Err(SaveRefusal::NotFound) => Ok(dashboard_error(
            StatusCode::NOT_FOUND,
            "Dashboard not found",
            "not-found",
        )),
        Err(SaveRefusal::SameUidExists) => Err(ApiError::bad_request(
            "A dashboard with the same uid already exists",
        )),
        Err(SaveRefusal::VersionMismatch) => Ok(dashboard_error(
            StatusCode::PRECONDITION_FAILED,
            "The dashboard has been changed by someone else",
            "version-mismatch",
        )),
        Err(SaveRefusal::Provisioned) => {
            Err(ApiError::bad_request("Cannot save provisioned dashboard"))
        }
        Err(SaveRefusal::Store(e)) => Err(ApiError::from(e).context("Failed to save dashboard")),
    }
}

async fn require_write(app: &AppState, caller: &Caller, existing: &DashboardRow) -> ApiResult<()> {
    let scope = format!("dashboards:uid:{}", existing.uid);
    if caller
        .allows(app, actions::DASHBOARDS_WRITE, Some(&scope))
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Access denied to save dashboard".into(),
        ))
    }
}

/// Creator and updater names: the login, or "Anonymous" (Grafana's `getUserLogin`).
async fn login_or_anonymous(app: &AppState, id: Option<i64>) -> ApiResult<String> {
    Ok(match id.filter(|id| *id > 0) {
        Some(id) => app
            .store
            .user_by_id(id)
            .await?
            .map_or_else(|| "Anonymous".into(), |u| u.profile.login),
        None => "Anonymous".into(),
    })
}

async fn get(
    caller: Caller,
    State(app): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = app
        .store
        .dashboard_by_uid(caller.org_id, &uid)
        .await?
        .ok_or_else(dashboard_not_found)?;
    let starred = app.store.is_starred(caller.id(), row.id).await?;
    let mut dashboard: Value = serde_json::from_str(&row.data).unwrap_or_else(|_| json!({}));
    if let Some(d) = dashboard.as_object_mut() {
        d.insert("id".into(), json!(row.id));
        d.insert("uid".into(), json!(row.uid));
        d.insert("version".into(), json!(row.version));
    }
    let scope = format!("dashboards:uid:{}", row.uid);
    let p = caller.permissions(&app).await?;
    let can_save = p.allows(actions::DASHBOARDS_WRITE, Some(&scope));
    let editor = caller.org_role.is_some_and(|r| r >= OrgRole::Editor);
    let mut meta = json!({
        "type": "db",
        "canSave": can_save,
        "canEdit": can_save,
        "canAdmin": p.allows(actions::DASHBOARDS_PERMISSIONS_WRITE, Some(&scope)),
        "canStar": true,
        "canDelete": p.allows(actions::DASHBOARDS_DELETE, Some(&scope)),
        "slug": row.slug,
        "url": url(&row.uid, &row.slug),
        "expires": "0001-01-01T00:00:00Z",
        "created": rfc3339(row.created),
        "updated": rfc3339(row.updated),
        "updatedBy": login_or_anonymous(&app, row.updated_by).await?,
        "createdBy": login_or_anonymous(&app, row.created_by).await?,
        "version": row.version,
        "hasAcl": false,
        "isFolder": false,
        "folderId": 0,
        "folderUid": "",
        "folderTitle": "General",
        "folderUrl": "",
        // Grafana: provisioned, unless its provider allows UI updates.
        "provisioned": row
            .provisioned
            .as_deref()
            .is_some_and(|name| !app.provisioner.allows_ui_updates(name)),
        "provisionedExternalId": "",
        "annotationsPermissions": {
            "dashboard": {"canAdd": true, "canEdit": true, "canDelete": true},
            "organization": {"canAdd": editor, "canEdit": editor, "canDelete": editor},
        },
    });
    if starred {
        meta["isStarred"] = json!(true);
    }
    Ok(Json(json!({"dashboard": dashboard, "meta": meta})))
}

async fn delete(
    caller: Caller,
    State(app): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    match crate::service::dashboards::delete(&app, caller.org_id, &uid, false).await {
        Ok(Some(row)) => Ok(Json(json!({
            "title": row.title,
            "message": format!("Dashboard {} deleted", row.title),
            "uid": row.uid,
        }))),
        Ok(None) => Err(dashboard_not_found()),
        Err(SaveRefusal::Provisioned) => Err(ApiError::bad_request(
            "provisioned dashboard cannot be deleted",
        )),
        Err(SaveRefusal::Store(e)) => Err(ApiError::from(e).context("Failed to delete dashboard")),
        Err(_) => Err(dashboard_not_found()),
    }
}

/// Grafana's `DashboardTagCloudItem`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TagCount {
    pub term: String,
    pub count: i64,
}

/// Every tag in the request's org. As Grafana (`GetDashboardTags`), the count covers every
/// dashboard of the org, whether or not the caller may read it.
async fn tags(caller: Caller, State(app): State<AppState>) -> ApiResult<Json<Vec<TagCount>>> {
    let rows = app
        .store
        .dashboard_tag_counts(caller.org_id)
        .await
        .map_err(|e| ApiError::from(e).context("Failed to get tags from database"))?;
    Ok(Json(
        rows.into_iter()
            .map(|(term, count)| TagCount { term, count })
            .collect(),
    ))
}

/// Grafana's search hit (`pkg/services/search/model/model.go`) for a General dashboard.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hit {
    pub id: i64,
    pub uid: String,
    pub org_id: i64,
    pub title: String,
    pub uri: String,
    pub url: String,
    /// Always "" (Grafana never fills it here).
    pub slug: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub tags: Vec<String>,
    pub is_starred: bool,
    pub sort_meta: i64,
    pub is_deleted: bool,
}

/// `GET /api/search`'s query (Grafana's `pkg/api/search.go`). A name given more than once keeps
/// its first value; the lists take every value (`tag=a&tag=b`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct SearchQuery {
    /// Text to find in the titles.
    #[serde(deserialize_with = "first_value")]
    pub query: Option<String>,
    /// Only dashboards with this tag (repeatable).
    #[schemars(with = "String")]
    pub tag: Vec<String>,
    /// `dash-db` or `dash-folder` (folders are never hits).
    #[serde(rename = "type", deserialize_with = "first_value")]
    pub kind: Option<String>,
    /// Only these dashboards (repeatable).
    #[serde(rename = "dashboardUIDs")]
    #[schemars(with = "String")]
    pub dashboard_uids: Vec<String>,
    /// The older spelling of `dashboardUIDs`, read when that is absent (repeatable).
    #[serde(rename = "dashboardUID")]
    #[schemars(with = "String")]
    pub dashboard_uid: Vec<String>,
    /// Only these dashboards, by id (repeatable; values that are not numbers are ignored).
    #[schemars(with = "String")]
    pub dashboard_ids: Vec<String>,
    /// Only dashboards in these folders (repeatable; only `general` exists).
    #[serde(rename = "folderUIDs")]
    #[schemars(with = "String")]
    pub folder_uids: Vec<String>,
    /// `true`: only the caller's starred dashboards.
    #[serde(deserialize_with = "first_value")]
    pub starred: Option<String>,
    /// Hits per page (0 or absent: 1000; above 5000: 422).
    #[serde(deserialize_with = "first_value")]
    #[schemars(schema_with = "page_size_schema")]
    pub limit: Option<String>,
    /// The page, from 1 (0 or absent: 1).
    #[serde(deserialize_with = "first_value")]
    #[schemars(schema_with = "page_schema")]
    pub page: Option<String>,
    /// `alpha-desc`: titles from Z to A (else from A to Z).
    #[serde(deserialize_with = "first_value")]
    pub sort: Option<String>,
}

async fn search(
    caller: Caller,
    State(app): State<AppState>,
    GrafanaQuery(q): GrafanaQuery<SearchQuery>,
) -> ApiResult<Response> {
    let mut uids = q.dashboard_uids;
    if uids.is_empty() {
        uids = q.dashboard_uid;
    }
    let ids: Vec<i64> = q
        .dashboard_ids
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    if !uids.is_empty() && !ids.is_empty() {
        return Err(ApiError::bad_request(
            "search supports UIDs or IDs, not both",
        ));
    }
    // The one paging rule (0 or absent: Grafana's defaults, page 1 and 1000 hits); above 5000,
    // Grafana's own 422 and message (pkg/api/search.go).
    let paging = Paging::parse_named(q.page.as_deref(), q.limit.as_deref(), "limit", 1000)
        .map_err(|e| {
            match e {
        PagingError::TooLarge(_) => ApiError::status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Limit is above maximum allowed (5000), use page parameter to access hits beyond limit",
        ),
        other => other.into(),
    }
        })?;
    let (page, limit) = (paging.page, paging.per_page);
    // Only General exists; folders themselves are never hits.
    let folders = q.folder_uids;
    let no_hits = q.kind.as_deref() == Some("dash-folder")
        || (!folders.is_empty() && !folders.iter().any(|f| f == "general"));
    // Without read on every dashboard (a custom role on some), hits are those it covers.
    let held = caller.permissions(&app).await?;
    let read_all = held.allows(actions::DASHBOARDS_READ, Some("dashboards:uid:*"));
    if no_hits || (!read_all && !held.allows(actions::DASHBOARDS_READ, None)) {
        return Ok(Json(Vec::<Hit>::new()).into_response());
    }
    let search = DashboardSearch {
        org_id: caller.org_id,
        user_id: caller.id(),
        query: q.query.unwrap_or_default(),
        tags: q.tag,
        uids,
        ids,
        starred: q.starred.as_deref() == Some("true"),
        limit,
        page,
        descending: q.sort.as_deref() == Some("alpha-desc"),
    };
    let rows = app.store.search_dashboards(&search).await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| {
            read_all
                || held.allows(
                    actions::DASHBOARDS_READ,
                    Some(&format!("dashboards:uid:{}", r.uid)),
                )
        })
        .collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, term) in app.store.dashboard_tags(&ids).await? {
        tags.entry(id).or_default().push(term);
    }
    let hits: Vec<Hit> = rows
        .into_iter()
        .map(|r| Hit {
            id: r.id,
            org_id: caller.org_id,
            uri: format!("db/{}", r.slug),
            url: url(&r.uid, &r.slug),
            uid: r.uid,
            title: r.title,
            slug: String::new(),
            kind: "dash-db".into(),
            tags: tags.remove(&r.id).unwrap_or_default(),
            is_starred: r.starred > 0,
            sort_meta: 0,
            is_deleted: false,
        })
        .collect();
    Ok(Json(hits).into_response())
}
