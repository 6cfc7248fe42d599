//! What the provisioning runs share through the application state: the dashboard providers in
//! force (read by the dashboard API for `allowUiUpdates`) and the lock that keeps runs apart.

use std::path::PathBuf;

/// A dashboard provider, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub name: String,
    pub org_id: i64,
    pub path: PathBuf,
    pub disable_deletion: bool,
    pub update_interval_seconds: u64,
    pub allow_ui_updates: bool,
    /// The file that declares it.
    pub file: PathBuf,
}

/// The dashboard providers in force, and one run at a time.
#[derive(Default)]
pub struct Provisioner {
    providers: std::sync::RwLock<Vec<Provider>>,
    /// Held by a provisioning run (dashboards or users), so that runs never overlap.
    pub(crate) running: tokio::sync::Mutex<()>,
}

impl Provisioner {
    /// Whether dashboards of this provider may be changed through the API (`allowUiUpdates`);
    /// false for a provider no longer configured, as in Grafana.
    pub fn allows_ui_updates(&self, name: &str) -> bool {
        let providers = self.providers.read().unwrap_or_else(|e| e.into_inner());
        providers
            .iter()
            .any(|p| p.name == name && p.allow_ui_updates)
    }

    pub(crate) fn set(&self, providers: Vec<Provider>) {
        *self.providers.write().unwrap_or_else(|e| e.into_inner()) = providers;
    }

    pub(crate) fn current(&self) -> Vec<Provider> {
        self.providers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
