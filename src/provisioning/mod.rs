//! Provisioning from files under `[paths] provisioning`, re-read at start-up, by the reload
//! endpoints (which return once the database holds the result) and, for dashboards, every
//! provider's `updateIntervalSeconds`.

pub mod access;
pub mod dashboards;
pub mod values;

use std::path::Path;
use std::sync::Arc;

use crate::state::AppState;

/// The `*.yaml`/`*.yml` files directly in `dir`, sorted; none when it does not exist.
fn yaml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// A provisioning error, naming the file and, when known, the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub message: String,
}

impl Problem {
    pub fn new(file: &Path, line: Option<usize>, message: String) -> Self {
        Problem {
            file: Some(file.display().to_string()),
            line,
            message,
        }
    }

    /// A failure of the server itself (the database), not of a file.
    pub fn server(message: String) -> Self {
        Problem {
            file: None,
            line: None,
            message,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: {}", self.message),
            (Some(file), None) => write!(f, "{file}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

pub use crate::state::provisioner::Provisioner;

/// Re-reads the dashboard provider files and provisions them. A provider file that does not
/// parse changes nothing (the providers in force stay); dashboard files that fail are reported
/// while the others are applied.
pub async fn reload_dashboards(app: &AppState) -> Result<dashboards::Outcome, Problem> {
    let provisioner: &Arc<Provisioner> = &app.provisioner;
    let _one_at_a_time = provisioner.running.lock().await;
    let providers = dashboards::read_providers(&app.config.paths.provisioning)?;
    let outcome = dashboards::provision(app, &providers).await?;
    provisioner.set(providers);
    Ok(outcome)
}

/// Re-reads the user, org and team files and applies them. A file that does not parse or names
/// what does not exist changes nothing.
pub async fn reload_users(app: &AppState) -> Result<access::Applied, Problem> {
    let _one_at_a_time = app.provisioner.running.lock().await;
    let declared = access::read(&app.config.paths.provisioning)?;
    access::apply(app, &declared).await
}

/// Polls the dashboard files of the providers in force, at the shortest of their intervals.
pub fn spawn_dashboard_polling(app: &AppState) {
    let app = app.clone();
    tokio::spawn(async move {
        loop {
            let interval = app
                .provisioner
                .current()
                .iter()
                .map(|p| p.update_interval_seconds)
                .min()
                .unwrap_or(10);
            tokio::time::sleep(std::time::Duration::from_secs(interval)).await;
            let providers = app.provisioner.current();
            if providers.is_empty() {
                continue;
            }
            let _one_at_a_time = app.provisioner.running.lock().await;
            match dashboards::provision(&app, &providers).await {
                Ok(outcome) => {
                    for p in &outcome.problems {
                        tracing::warn!(problem = %p, "dashboard provisioning");
                    }
                    if outcome.saved + outcome.deleted > 0 {
                        tracing::info!(
                            saved = outcome.saved,
                            deleted = outcome.deleted,
                            "dashboards provisioned"
                        );
                    }
                }
                Err(p) => tracing::warn!(problem = %p, "dashboard provisioning failed"),
            }
        }
    });
}
