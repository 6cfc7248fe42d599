//! The rules of every change to users, orgs, memberships and teams, in one place that every
//! writer goes through: the HTTP API, provisioning and the command line.
//!
//! Each change runs inside a caller's transaction (`op(app, tx, …)`), together with the checks
//! that guard it (last enabled server admin, last org Admin, quotas, the role ceiling of a
//! grant), so that a check and its write see the same data and two instances cannot both pass
//! one check. A handler making one change wraps it in [`in_tx`]; a caller making several (a
//! provisioning reload) opens one transaction for all of them and commits once.
//! Work that must not hold a transaction open — password hashing — happens before.

pub mod dashboards;
pub mod orgs;
pub mod quotas;
pub mod teams;
pub mod users;

use crate::auth::Caller;
use crate::store::StoreError;

/// Why a change was refused. The HTTP edge (`crate::error`) turns each into Grafana's status and
/// message; provisioning names the file it came from.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Grafana's `user.ErrLastGrafanaAdmin`: the change would leave no enabled server admin.
    #[error("cannot remove last grafana admin")]
    LastServerAdmin,
    /// A quota's limit is reached (Grafana's quota middleware: "<target> Quota reached").
    #[error("{0} Quota reached")]
    QuotaReached(QuotaKind),
    /// A grant above the granter's own role (Grafana's `pkg/api/org_users.go`).
    #[error("Cannot assign a role higher than user's role")]
    RoleCeiling,
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Which quota refused a change, as Grafana names it in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaKind {
    User,
    Org,
}

impl std::fmt::Display for QuotaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            QuotaKind::User => "user",
            QuotaKind::Org => "org",
        })
    }
}

/// Who asks for a change: a signed-in caller (whose grants are bounded by their own role) or the
/// server itself (provisioning, the command line, first start).
#[derive(Clone, Copy)]
pub enum Actor<'a> {
    System,
    Caller(&'a Caller),
}

impl<'a> From<&'a Caller> for Actor<'a> {
    fn from(caller: &'a Caller) -> Self {
        Actor::Caller(caller)
    }
}

/// Runs `change` in a new transaction and commits it when it succeeds (dropped on an error, the
/// transaction rolls back).
pub async fn in_tx<T>(
    app: &crate::state::AppState,
    change: impl AsyncFnOnce(&mut crate::store::Tx) -> ServiceResult<T>,
) -> ServiceResult<T> {
    let mut tx = app.store.begin().await?;
    let out = change(&mut tx).await?;
    tx.commit().await?;
    Ok(out)
}
