//! Router assembly and start-up: connecting the store, first-start set-up, clean-up, shared by
//! `main` and the tests. The state itself lives in `crate::state`.

use std::sync::Arc;

use axum::Router;

use crate::auth::OrgRole;
use crate::config::Config;
use crate::state::{
    checks::RecentChecks, credentials::CredentialCache, hasher::Hasher, sessions::SessionCache,
    tokens::TokenCache, Throttle,
};
pub use crate::state::{AppState, Clock};
use crate::store::{NewUser, Store, StoreError};

impl AppState {
    /// Deletes sessions past their lifetimes, failed logins older than the brute-force window
    /// (twice over) and recorded successes older than the known-login period. Every instance may
    /// run it; the deletes are idempotent.
    pub async fn clean_up(&self) -> Result<CleanUp, StoreError> {
        let now = self.clock.now().timestamp();
        let (created_after, rotated_after) = crate::auth::session::alive_after(self, now);
        let sessions = self
            .store
            .delete_expired_sessions(created_after, rotated_after)
            .await?;
        let login_attempts = self
            .store
            .delete_old_login_attempts(now - 2 * crate::auth::brute_force::WINDOW_SECS)
            .await?;
        // A success at or before now - period no longer makes a login known (with the exemption
        // off, every recorded success is old).
        let known = self.config.security.brute_force.known_login_secs;
        let login_successes = self
            .store
            .delete_old_login_successes(now - known.unwrap_or(0))
            .await?;
        let days = self.config.audit.retention_days;
        let audit_records = if days > 0 {
            let before = self.clock.now() - chrono::Duration::days(days);
            self.store
                .prune_audit(crate::store::DbTime::from_utc(before))
                .await?
        } else {
            0
        };
        Ok(CleanUp {
            sessions,
            login_attempts,
            login_successes,
            audit_records,
        })
    }

    /// Runs [`AppState::clean_up`] now and every ten minutes, for as long as the runtime lives.
    pub fn spawn_clean_up(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                match app.clean_up().await {
                    Ok(done)
                        if done.sessions
                            + done.login_attempts
                            + done.login_successes
                            + done.audit_records
                            > 0 =>
                    {
                        tracing::info!(
                            sessions = done.sessions,
                            login_attempts = done.login_attempts,
                            audit_records = done.audit_records,
                            login_successes = done.login_successes,
                            "cleaned up expired sessions and old login records"
                        )
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "clean-up failed"),
                }
            }
        });
    }
}

/// What one clean-up removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanUp {
    pub sessions: u64,
    pub login_attempts: u64,
    /// Recorded successful sign-ins older than the known-login period.
    pub login_successes: u64,
    /// Audit records older than `[audit] retention_days`.
    pub audit_records: u64,
}

/// Connects to the database, migrates it and creates the first org and admin if needed.
pub async fn build_state(config: Config, clock: Clock) -> anyhow::Result<AppState> {
    let store = Store::connect(&config.database).await?;
    store.configure_audit(crate::audit::sink::AuditSettings {
        disabled: !config.audit.enabled,
        sink: match config.audit.log_path.as_str() {
            "" => None,
            path => Some(crate::audit::sink::Sink::open(path).map_err(|e| {
                anyhow::anyhow!("[audit] log_path {path}: cannot open for appending: {e}")
            })?),
        },
    });
    let hasher = Hasher::new(
        config.security.password_hash_concurrency,
        config.security.password_hash_queue,
    );
    let basic_entries = config.auth_basic.cache_max_entries;
    let state = AppState {
        store,
        started: clock.now(),
        clock,
        credentials: Arc::new(CredentialCache::new(basic_entries)),
        recent_checks: Arc::new(RecentChecks::new(basic_entries)),
        sessions: Arc::new(SessionCache::new(config.auth.session_cache_max_entries)),
        tokens: Arc::new(TokenCache::new(config.auth.api_key_cache_max_entries)),
        provisioner: Arc::default(),
        hasher,
        last_seen: Arc::new(Throttle::default()),
        key_used: Arc::new(Throttle::default()),
        config: Arc::new(config),
    };
    bootstrap(&state).await?;
    // Users, orgs and teams first (dashboards may name an org they create).
    crate::provisioning::reload_users(&state)
        .await
        .map_err(|p| anyhow::anyhow!("user provisioning: {p}"))?;
    // Grafana provisions dashboards at start-up and refuses to start on a bad provider file.
    let outcome = crate::provisioning::reload_dashboards(&state)
        .await
        .map_err(|p| anyhow::anyhow!("dashboard provisioning: {p}"))?;
    for p in &outcome.problems {
        tracing::warn!(problem = %p, "dashboard provisioning");
    }
    Ok(state)
}

/// First start: Grafana's "Main Org." (id 1) and the server admin from `[security]`.
async fn bootstrap(app: &AppState) -> Result<(), StoreError> {
    let now = app.now();
    {
        // Dropped at the end of the block when nothing was committed (on SQLite an open
        // transaction holds the write lock).
        let mut tx = app.store.begin().await?;
        if app.store.count_orgs(tx.db()).await? == 0 {
            match app.store.create_org(&mut tx, "Main Org.", now).await {
                Ok(id) => {
                    tx.commit().await?;
                    tracing::info!(org_id = id, "created the main organization");
                }
                // Another instance created it first.
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    // Grafana 12 turns legacy API keys into service accounts at start-up; the keys keep working.
    let migrated = app.store.migrate_legacy_api_keys(now).await?;
    if migrated > 0 {
        tracing::info!(
            keys = migrated,
            "migrated legacy API keys to service accounts"
        );
    }
    let security = &app.config.security;
    if security.disable_initial_admin_creation || app.store.count_all_users().await? > 0 {
        return Ok(());
    }
    let (pw, scheme) = (
        security.admin_password.expose().to_string(),
        security.password_hash,
    );
    let stored = app
        .hasher
        .hash_internal(pw, scheme)
        .await
        .map_err(|e| StoreError::Config(e.to_string()))?;
    let new = NewUser::new(
        crate::domain::login::fold(&security.admin_user),
        crate::domain::login::fold(&security.admin_email),
        String::new(),
        1,
        OrgRole::Admin,
    )
    .with_password(stored.hash, stored.salt)
    .server_admin(true);
    // Not through the service: the first admin exists whatever `[quota] global_user` says.
    let mut tx = app.store.begin().await?;
    match app.store.create_user(&mut tx, &new, now).await {
        Ok(id) => {
            tx.commit().await?;
            tracing::info!(user_id = id, login = %new.login, "created the server admin");
        }
        // Another instance created it first.
        Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e),
    }
    Ok(())
}

/// The whole HTTP surface: the web interface's pages in front of the API.
pub fn build_router(state: AppState) -> Router {
    let (api, access) = crate::api::router(state.clone());
    crate::api::with_trimmed_paths(crate::web::router(state, api, access))
}
