//! Dashboard saves and deletions, each in its own transaction with its audit record: the API's
//! and provisioning's.

use crate::audit::{Event, Target};
use crate::state::AppState;
use crate::store::dashboards::{DashboardRow, SaveDashboard, SaveRefusal, Saved};
use crate::store::StoreResult;

fn target(uid: &str, title: &str) -> Target {
    Target::new("dashboard", uid, title)
}

/// Saves a dashboard (see [`crate::store::Store::save_dashboard`]): `dashboards:create` for a
/// new one, else `dashboards:write` with the title and version old → new.
pub async fn save(app: &AppState, cmd: &SaveDashboard) -> Result<Saved, SaveRefusal> {
    let mut tx = app.store.begin().await?;
    let (saved, before) = app.store.save_dashboard(&mut tx, cmd, app.now()).await?;
    let mut event = match &before {
        None => Event::new("dashboards:create", target(&saved.uid, &cmd.title))
            .set("title", cmd.title.as_str())
            .set("version", saved.version),
        Some(old) => Event::new("dashboards:write", target(&saved.uid, &cmd.title))
            .change("uid", Some(old.uid.as_str()), Some(saved.uid.as_str()))
            .change("title", Some(old.title.as_str()), Some(cmd.title.as_str()))
            .change("version", Some(old.version), Some(saved.version)),
    }
    .in_org(cmd.org_id)
    .set("id", saved.id);
    if let Some(p) = &cmd.provisioning {
        event = event
            .set("provisioner", p.name.as_str())
            .set("file", p.external_id.as_str());
    }
    tx.audit(event).await?;
    tx.commit().await?;
    Ok(saved)
}

fn deleted(row: &DashboardRow) -> Event {
    Event::new("dashboards:delete", target(&row.uid, &row.title))
        .in_org(row.org_id)
        .set("id", row.id)
        .change("version", Some(row.version), None::<i64>)
}

/// Deletes a dashboard of `org_id` by uid (see [`crate::store::Store::delete_dashboard`]).
pub async fn delete(
    app: &AppState,
    org_id: i64,
    uid: &str,
    allow_provisioned: bool,
) -> Result<Option<DashboardRow>, SaveRefusal> {
    let mut tx = app.store.begin().await?;
    let Some(row) = app
        .store
        .delete_dashboard(&mut tx, org_id, uid, allow_provisioned)
        .await?
    else {
        return Ok(None);
    };
    tx.audit(deleted(&row)).await?;
    tx.commit().await?;
    Ok(Some(row))
}

/// Deletes a provisioned dashboard whose file (or provider) is gone.
pub async fn delete_provisioned(app: &AppState, dashboard_id: i64) -> StoreResult<()> {
    let mut tx = app.store.begin().await?;
    let row = app.store.dashboard_by_id_in(&mut tx, dashboard_id).await?;
    app.store
        .delete_provisioned_dashboard(&mut tx, dashboard_id)
        .await?;
    if let Some(row) = row {
        let mut event = deleted(&row);
        if let Some(p) = &row.provisioned {
            event = event.set("provisioner", p.as_str());
        }
        tx.audit(event).await?;
    }
    tx.commit().await
}

/// Forgets that a dashboard was provisioned (its file is gone, its provider keeps it).
pub async fn unprovision(app: &AppState, dashboard_id: i64) -> StoreResult<()> {
    let mut tx = app.store.begin().await?;
    let row = app.store.dashboard_by_id_in(&mut tx, dashboard_id).await?;
    app.store
        .unprovision_dashboard(&mut tx, dashboard_id)
        .await?;
    if let Some(row) = row {
        tx.audit(
            Event::new("dashboards:write", target(&row.uid, &row.title))
                .in_org(row.org_id)
                .set("id", row.id)
                .change("provisioner", row.provisioned.as_deref(), None::<&str>),
        )
        .await?;
    }
    tx.commit().await
}
