//! Application state and router construction, shared by `main` and the tests.

use std::sync::{Arc, Mutex};

use axum::Router;
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::auth::apikey::{CallerKey, TokenCache};
use crate::auth::cache::CredentialCache;
use crate::auth::hasher::Hasher;
use crate::auth::session::SessionCache;
use crate::auth::{Caller, OrgRole};
use crate::config::Config;
use crate::store::{DbTime, NewUser, Store, StoreError};

/// Where "now" comes from: the system clock, or a clock the tests move by hand.
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    pub fn system() -> Self {
        Clock(None)
    }
    pub fn manual(start: DateTime<Utc>) -> Self {
        Clock(Some(Arc::new(Mutex::new(start))))
    }
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }
    /// Moves a manual clock forward (no effect on the system clock).
    pub fn advance(&self, by: chrono::Duration) {
        if let Some(t) = &self.0 {
            let mut t = t.lock().unwrap_or_else(|e| e.into_inner());
            *t += by;
        }
    }
}

/// At most one write per key and interval from this process: remembers when each key was
/// last written (`last_seen_at`, `last_used_at`). It remembers at most [`Throttle::MAX_KEYS`]
/// keys and, when full, forgets them one at a time (moka's TinyLFU policy), never all at once; a
/// forgotten key costs one more conditional write, which the database's own threshold makes a
/// no-op when the recorded time is recent.
pub struct Throttle(moka::sync::Cache<i64, DateTime<Utc>>);

impl Default for Throttle {
    fn default() -> Self {
        Self::with_capacity(Self::MAX_KEYS)
    }
}

impl Throttle {
    const MAX_KEYS: u64 = 100_000;

    fn with_capacity(keys: u64) -> Self {
        Throttle(moka::sync::Cache::new(keys))
    }

    /// True (and the time noted) when `key` was not let through within `interval` before `now`.
    /// Concurrent calls for one key are serialised, so only one of them is let through.
    fn admit(&self, key: i64, now: DateTime<Utc>, interval: chrono::Duration) -> bool {
        use moka::ops::compute::{CompResult, Op};
        let result = self.0.entry(key).and_compute_with(|seen| match seen {
            Some(at) if now - *at.value() < interval => Op::Nop,
            _ => Op::Put(now),
        });
        matches!(
            result,
            CompResult::Inserted(_) | CompResult::ReplacedWith(_)
        )
    }
}

/// How often a token's `last_used_at` is written at most (Grafana's 5 minutes,
/// `shouldUpdateLastUsedAt` in `pkg/services/authn/clients/api_key.go`).
const KEY_USED_INTERVAL_MINUTES: i64 = 5;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Clock,
    pub credentials: Arc<CredentialCache>,
    /// Brute-force checks that passed for cached basic-auth credentials.
    pub recent_checks: Arc<crate::auth::brute_force::RecentChecks>,
    pub sessions: Arc<SessionCache>,
    pub tokens: Arc<TokenCache>,
    pub provisioner: Arc<crate::provisioning::Provisioner>,
    /// The bounded pool every password and token hash runs on.
    pub hasher: Hasher,
    /// Users whose `last_seen_at` this instance wrote, and when.
    last_seen: Arc<Throttle>,
    /// Tokens whose `last_used_at` this instance wrote, and when.
    key_used: Arc<Throttle>,
}

/// True when a recorded time is missing or at least `interval` old.
fn stale(recorded: Option<NaiveDateTime>, now: DateTime<Utc>, interval: chrono::Duration) -> bool {
    recorded.is_none_or(|at| now.naive_utc() - at >= interval)
}

impl AppState {
    pub fn now(&self) -> DbTime {
        DbTime::from_utc(self.clock.now())
    }

    /// The org new users join: `[users] auto_assign_org_id` (Main Org., 1, by default), used for
    /// admin-created users when `auto_assign_org` is on and for provisioned users without orgs.
    /// It is never deleted, by the API or by a file: user creation would fail with
    /// "organization not found".
    pub fn is_default_org(&self, org_id: i64) -> bool {
        org_id == self.config.users.auto_assign_org_id
    }

    /// Refreshes the caller's `last_seen_at` at most once per `[users] last_seen_update_interval`,
    /// off the request path.
    pub fn note_seen(&self, caller: &Caller) {
        let now = self.clock.now();
        let interval = chrono::Duration::from_std(self.config.users.last_seen_update_interval)
            .unwrap_or(chrono::Duration::minutes(15));
        let id = caller.user.id;
        if !stale(caller.user.last_seen_at, now, interval)
            || !self.last_seen.admit(id, now, interval)
        {
            return;
        }
        let store = self.store.clone();
        let threshold = DbTime::from_utc(now - interval);
        tokio::spawn(async move {
            if let Err(e) = store
                .touch_last_seen(id, DbTime::from_utc(now), threshold)
                .await
            {
                tracing::warn!(user_id = id, error = %e, "could not update last_seen_at");
            }
        });
    }

    /// Records a token's use (`lastUsedAt`) at most once per five minutes, off the request path.
    pub fn note_key_used(&self, key: &CallerKey) {
        let now = self.clock.now();
        let interval = chrono::Duration::minutes(KEY_USED_INTERVAL_MINUTES);
        if !stale(key.last_used_at, now, interval) || !self.key_used.admit(key.id, now, interval) {
            return;
        }
        let store = self.store.clone();
        let id = key.id;
        let threshold = DbTime::from_utc(now - interval);
        tokio::spawn(async move {
            if let Err(e) = store
                .touch_api_key(id, DbTime::from_utc(now), threshold)
                .await
            {
                tracing::warn!(key_id = id, error = %e, "could not update last_used_at");
            }
        });
    }
}

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
        Ok(CleanUp {
            sessions,
            login_attempts,
            login_successes,
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
                    Ok(done) if done.sessions + done.login_attempts + done.login_successes > 0 => {
                        tracing::info!(
                            sessions = done.sessions,
                            login_attempts = done.login_attempts,
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
}

/// Connects to the database, migrates it and creates the first org and admin if needed.
pub async fn build_state(config: Config, clock: Clock) -> anyhow::Result<AppState> {
    let store = Store::connect(&config.database).await?;
    let hasher = Hasher::new(
        config.security.password_hash_concurrency,
        config.security.password_hash_queue,
    );
    let basic_entries = config.auth_basic.cache_max_entries;
    let state = AppState {
        store,
        clock,
        credentials: Arc::new(CredentialCache::new(basic_entries)),
        recent_checks: Arc::new(crate::auth::brute_force::RecentChecks::new(basic_entries)),
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

pub fn build_router(state: AppState) -> Router {
    crate::api::router(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_admits_once_per_interval_and_forgets_keys_one_at_a_time() {
        let throttle = Throttle::with_capacity(100);
        let start = Utc::now();
        let interval = chrono::Duration::minutes(5);
        assert!(throttle.admit(1, start, interval));
        assert!(!throttle.admit(1, start + chrono::Duration::minutes(4), interval));
        assert!(throttle.admit(1, start + interval, interval));
        // Thousands of other keys: the one in use is still throttled.
        let now = start + interval;
        for key in 1_000..11_000 {
            assert!(throttle.admit(key, now, interval));
            if key % 20 == 0 {
                assert!(
                    !throttle.admit(1, now, interval),
                    "key 1 forgotten at {key}"
                );
            }
        }
        throttle.0.run_pending_tasks();
        let held = throttle.0.entry_count();
        assert!((80..=100).contains(&held), "{held} keys held");
    }
}
