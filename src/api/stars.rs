//! Stars (Grafana's `pkg/services/star/api/api.go`): the signed-in user's starred dashboards of
//! the request's org, by uid (Grafana 12) and by id (the seeds' routes, which Grafana 12 dropped).
//! Starring twice and unstarring what is not starred succeed, as in Grafana 12.

use axum::extract::{Path, State};
use axum::Json;

use super::dashboards::dashboard_not_found;
use super::dto::{message, Message};
use super::{Op, Routes};
use crate::audit::{Event, Target};
use crate::auth::{Access, Caller};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::dashboards::DashboardRow;

pub(super) fn routes(r: &mut Routes) {
    r.add(
        Op::get(
            "/api/user/stars",
            "user",
            "Uids of the dashboards the signed-in user starred",
            Access::SignedIn,
        )
        .returns::<Vec<String>>(),
        list,
    )
    .add(
        Op::post(
            "/api/user/stars/dashboard/{dashboardId}",
            "user",
            "Star a dashboard by id",
            Access::SignedIn,
        )
        .returns::<Message>(),
        star_by_id,
    )
    .add(
        Op::delete(
            "/api/user/stars/dashboard/{dashboardId}",
            "user",
            "Unstar a dashboard by id",
            Access::SignedIn,
        )
        .returns::<Message>(),
        unstar_by_id,
    )
    .add(
        Op::post(
            "/api/user/stars/dashboard/uid/{uid}",
            "user",
            "Star a dashboard by uid",
            Access::SignedIn,
        )
        .returns::<Message>(),
        star_by_uid,
    )
    .add(
        Op::delete(
            "/api/user/stars/dashboard/uid/{uid}",
            "user",
            "Unstar a dashboard by uid",
            Access::SignedIn,
        )
        .returns::<Message>(),
        unstar_by_uid,
    );
}

async fn list(caller: Caller, State(app): State<AppState>) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(
        app.store.starred_uids(caller.id(), caller.org_id).await?,
    ))
}

/// The dashboard a path id names: 400 "Invalid dashboard ID" / "Missing dashboard id", and a 404
/// for an unknown one (Grafana 11 starred unknown ids blindly; its uid routes answer 404).
async fn by_id(app: &AppState, caller: &Caller, raw: &str) -> ApiResult<DashboardRow> {
    let id: i64 = raw
        .parse()
        .map_err(|_| ApiError::bad_request("Invalid dashboard ID"))?;
    if id <= 0 {
        return Err(ApiError::bad_request("Missing dashboard id"));
    }
    app.store
        .dashboard_by_id(caller.org_id, id)
        .await?
        .ok_or_else(dashboard_not_found)
}

async fn by_uid(app: &AppState, caller: &Caller, uid: &str) -> ApiResult<DashboardRow> {
    if uid.is_empty() {
        return Err(ApiError::bad_request("Invalid dashboard UID"));
    }
    app.store
        .dashboard_by_uid(caller.org_id, uid)
        .await?
        .ok_or_else(dashboard_not_found)
}

/// A star's audit record: the dashboard, and whether it is starred now (no change when it
/// already was, or was not).
fn star_event(action: &str, d: &DashboardRow, was: bool, now: bool) -> Event {
    Event::new(action, Target::new("star", &d.uid, &d.title))
        .in_org(d.org_id)
        .set("dashboardId", d.id)
        .change("starred", Some(was), Some(now))
}

async fn star(app: &AppState, caller: &Caller, d: &DashboardRow) -> ApiResult<Json<Message>> {
    let failed = |e| ApiError::from(e).context("Failed to star dashboard");
    let mut tx = app.store.begin().await.map_err(failed)?;
    let added = app
        .store
        .star_dashboard(&mut tx, caller.id(), d, app.now())
        .await
        .map_err(failed)?;
    tx.audit(star_event("dashboards:star", d, !added, true))
        .await
        .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    Ok(message("Dashboard starred!"))
}

async fn unstar(app: &AppState, caller: &Caller, d: &DashboardRow) -> ApiResult<Json<Message>> {
    let failed = |e| ApiError::from(e).context("Failed to unstar dashboard");
    let mut tx = app.store.begin().await.map_err(failed)?;
    let removed = app
        .store
        .unstar_dashboard(&mut tx, caller.id(), d.id)
        .await
        .map_err(failed)?;
    tx.audit(star_event("dashboards:unstar", d, removed, false))
        .await
        .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    Ok(message("Dashboard unstarred"))
}

async fn star_by_id(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    let d = by_id(&app, &caller, &id).await?;
    star(&app, &caller, &d).await
}

async fn unstar_by_id(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    let d = by_id(&app, &caller, &id).await?;
    unstar(&app, &caller, &d).await
}

async fn star_by_uid(
    caller: Caller,
    State(app): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<Json<Message>> {
    let d = by_uid(&app, &caller, &uid).await?;
    star(&app, &caller, &d).await
}

async fn unstar_by_uid(
    caller: Caller,
    State(app): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<Json<Message>> {
    let d = by_uid(&app, &caller, &uid).await?;
    unstar(&app, &caller, &d).await
}
