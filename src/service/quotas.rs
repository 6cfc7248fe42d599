//! Quota limits and usage (Grafana's `pkg/services/quota`), and the checks made inside the
//! transaction of the write they guard: the limit and the usage are read after the
//! transaction took the quota lock, so two concurrent creates cannot both pass a limit.

use super::{QuotaKind, ServiceError, ServiceResult};
use crate::audit::{Event, Target};
use crate::state::AppState;
use crate::store::quotas::QuotaScope;
use crate::store::{Db, Lock, StoreResult, Tx};

/// The targets each scope holds, in the order Grafana lists them.
pub const ORG_TARGETS: &[&str] = &["org_user", "dashboard", "api_key"];
pub const USER_TARGETS: &[&str] = &["org_user"];

pub fn targets_of(scope: QuotaScope) -> &'static [&'static str] {
    match scope {
        QuotaScope::Org(_) => ORG_TARGETS,
        QuotaScope::User(_) => USER_TARGETS,
    }
}

/// The configured default for a target of a scope.
fn default_limit(app: &AppState, scope: QuotaScope, target: &str) -> i64 {
    let q = &app.config.quota;
    match (scope, target) {
        (QuotaScope::Org(_), "org_user") => q.org_user,
        (QuotaScope::Org(_), "dashboard") => q.org_dashboard,
        (QuotaScope::Org(_), "api_key") => q.org_api_key,
        (QuotaScope::User(_), "org_user") => q.user_org,
        _ => -1,
    }
}

/// The limit in force: the stored one, else the configured default.
pub async fn limit_of(
    app: &AppState,
    db: Db<'_>,
    scope: QuotaScope,
    target: &str,
) -> StoreResult<i64> {
    Ok(match app.store.quota_limit(db, scope, target).await? {
        Some(limit) => limit,
        None => default_limit(app, scope, target),
    })
}

/// How much of `target` `scope` uses.
pub async fn used(app: &AppState, db: Db<'_>, scope: QuotaScope, target: &str) -> StoreResult<i64> {
    Ok(match (scope, target) {
        (QuotaScope::Org(org), "org_user") => app.store.count_org_members(db, org).await?,
        (QuotaScope::Org(org), "dashboard") => app.store.count_dashboards(Some(org)).await?,
        (QuotaScope::Org(org), "api_key") => app.store.count_legacy_api_keys(Some(org)).await?,
        (QuotaScope::User(user), "org_user") => app.store.count_user_orgs(db, user).await?,
        _ => 0,
    })
}

/// Grafana's limit rule: below 0 none, 0 always reached, else reached at `used >= limit`.
pub fn reached(limit: i64, used: i64) -> bool {
    limit >= 0 && used >= limit
}

/// Whether `scope`'s limit for `target` is reached, read inside `tx`.
async fn over(app: &AppState, tx: &mut Tx, scope: QuotaScope, target: &str) -> StoreResult<bool> {
    let limit = limit_of(app, tx.db(), scope, target).await?;
    Ok(limit >= 0 && reached(limit, used(app, tx.db(), scope, target).await?))
}

/// Before a user is created in `tx`: `global_user` ("user Quota reached").
pub async fn check_users(app: &AppState, tx: &mut Tx) -> ServiceResult<()> {
    let q = &app.config.quota;
    if !q.enabled || q.global_user < 0 {
        return Ok(());
    }
    tx.lock(Lock::Quota).await?;
    if reached(q.global_user, app.store.count_users(tx.db()).await?) {
        return Err(ServiceError::QuotaReached(QuotaKind::User));
    }
    Ok(())
}

/// Before an org is created in `tx` by `creator`: `global_org` and the creator's `user_org`
/// ("org Quota reached").
pub async fn check_orgs(app: &AppState, tx: &mut Tx, creator: Option<i64>) -> ServiceResult<()> {
    let q = &app.config.quota;
    if !q.enabled {
        return Ok(());
    }
    tx.lock(Lock::Quota).await?;
    let global = q.global_org >= 0 && reached(q.global_org, app.store.count_orgs(tx.db()).await?);
    let mine = match creator {
        Some(user) => over(app, tx, QuotaScope::User(user), "org_user").await?,
        None => false,
    };
    if global || mine {
        return Err(ServiceError::QuotaReached(QuotaKind::Org));
    }
    Ok(())
}

/// Before `user_id` joins `org_id` in `tx`: the org's `org_user` and the user's `user_org`
/// ("org Quota reached").
pub async fn check_membership(
    app: &AppState,
    tx: &mut Tx,
    org_id: i64,
    user_id: i64,
) -> ServiceResult<()> {
    if !app.config.quota.enabled {
        return Ok(());
    }
    tx.lock(Lock::Quota).await?;
    if over(app, tx, QuotaScope::Org(org_id), "org_user").await?
        || over(app, tx, QuotaScope::User(user_id), "org_user").await?
    {
        return Err(ServiceError::QuotaReached(QuotaKind::Org));
    }
    Ok(())
}

/// Before a dashboard is created: whether the org's or the global dashboard limit is reached.
pub async fn dashboards_reached(app: &AppState, org_id: i64) -> StoreResult<bool> {
    let q = &app.config.quota;
    if !q.enabled {
        return Ok(false);
    }
    let scope = QuotaScope::Org(org_id);
    let limit = limit_of(app, app.store.db(), scope, "dashboard").await?;
    if reached(limit, app.store.count_dashboards(Some(org_id)).await?) {
        return Ok(true);
    }
    Ok(q.global_dashboard >= 0
        && reached(q.global_dashboard, app.store.count_dashboards(None).await?))
}

/// Sets the limit of `target` for `scope` (`orgs.quotas:write` / `users.quotas:write`), the
/// limit in force before (stored or default) → the new one.
pub async fn set_limit(
    app: &AppState,
    tx: &mut Tx,
    scope: QuotaScope,
    target: &str,
    limit: i64,
) -> ServiceResult<()> {
    let old = limit_of(app, tx.db(), scope, target).await?;
    app.store
        .set_quota_limit(tx, scope, target, limit, app.now())
        .await?;
    let event = match scope {
        QuotaScope::Org(org) => Event::new(
            "orgs.quotas:write",
            Target::new("quota", format!("org:{org}:{target}"), target),
        )
        .in_org(org)
        .set("orgId", org),
        QuotaScope::User(user) => Event::new(
            "users.quotas:write",
            Target::new("quota", format!("user:{user}:{target}"), target),
        )
        .set("userId", user),
    };
    tx.audit(event.change("limit", Some(old), Some(limit)))
        .await?;
    Ok(())
}
