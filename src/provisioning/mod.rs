//! Provisioning from files under `[paths] provisioning`, re-read at start-up, by the reload
//! endpoints (which return once the database holds the result) and, for dashboards, every
//! provider's `updateIntervalSeconds`.

pub mod access;
pub mod dashboards;
pub mod values;

use std::path::Path;
use std::sync::Arc;

use crate::audit;
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

/// The actor of every change a provisioning run makes: `provisioning`, with the request (or
/// start-up) that asked for the run kept in the request id, client and user agent.
fn run_context() -> audit::Context {
    let asked = audit::current();
    audit::Context {
        client_ip: asked.client_ip,
        user_agent: asked.user_agent,
        request_id: asked.request_id,
        ..audit::Context::server("provisioning")
    }
}

/// Runs `work` as the `provisioning` actor. Its committed records count in the asking scope
/// too (a reload route succeeds only with a record), and `trigger` is who asked.
async fn as_provisioning<F: std::future::Future>(work: impl FnOnce(String) -> F) -> F::Output {
    let trigger = audit::current().actor_login;
    let (out, committed, _) = audit::scoped(run_context(), work(trigger)).await;
    audit::note_committed(committed);
    out
}

/// `provisioning:reload` of `kind` (`users`, `dashboards`): the run itself, with its counts.
pub(crate) fn reload_event(kind: &str) -> audit::Event {
    audit::Event::new(
        "provisioning:reload",
        audit::Target::new("provisioning", kind, kind),
    )
}

/// A run that changed nothing because of `problem`: recorded as failed, naming where (never
/// the message, which may quote a file's values).
async fn record_refused(app: &AppState, kind: &str, trigger: &str, problem: &Problem) {
    let place = match (&problem.file, problem.line) {
        (Some(file), Some(line)) => format!("not reloaded: {file}:{line}"),
        (Some(file), None) => format!("not reloaded: {file}"),
        _ => "not reloaded: server error".to_string(),
    };
    let event = reload_event(kind).set("trigger", trigger).failed(&place);
    if let Err(e) = app.store.audit_now(event).await {
        tracing::error!(error = %e, "could not record a refused provisioning run");
    }
}

/// Re-reads the dashboard provider files and provisions them. A provider file that does not
/// parse changes nothing (the providers in force stay); dashboard files that fail are reported
/// while the others are applied. Recorded as `provisioning:reload` of `dashboards`, each save
/// and deletion by the `provisioning` actor.
pub async fn reload_dashboards(app: &AppState) -> Result<dashboards::Outcome, Problem> {
    as_provisioning(async |trigger: String| {
        let provisioner: &Arc<Provisioner> = &app.provisioner;
        let _one_at_a_time = provisioner.running.lock().await;
        let run = async {
            let providers = dashboards::read_providers(&app.config.paths.provisioning)?;
            let outcome = dashboards::provision(app, &providers).await?;
            provisioner.set(providers);
            Ok::<_, Problem>(outcome)
        };
        match run.await {
            Ok(outcome) => {
                let event = reload_event("dashboards")
                    .set("trigger", trigger.as_str())
                    .set("saved", outcome.saved as i64)
                    .set("unchanged", outcome.unchanged as i64)
                    .set("deleted", outcome.deleted as i64)
                    .set("problems", outcome.problems.len() as i64);
                app.store
                    .audit_now(event)
                    .await
                    .map_err(|e| Problem::server(e.to_string()))?;
                Ok(outcome)
            }
            Err(p) => {
                record_refused(app, "dashboards", &trigger, &p).await;
                Err(p)
            }
        }
    })
    .await
}

/// Re-reads the user, org and team files and applies them. A file that does not parse or names
/// what does not exist changes nothing. Recorded as `provisioning:reload` of `users` in the
/// transaction of its changes, each change by the `provisioning` actor.
pub async fn reload_users(app: &AppState) -> Result<access::Applied, Problem> {
    as_provisioning(async |trigger: String| {
        let _one_at_a_time = app.provisioner.running.lock().await;
        let run = async {
            let declared = access::read(&app.config.paths.provisioning)?;
            access::apply(app, &declared, &trigger).await
        };
        match run.await {
            Ok(applied) => Ok(applied),
            Err(p) => {
                record_refused(app, "users", &trigger, &p).await;
                Err(p)
            }
        }
    })
    .await
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
            // Each change is recorded by the `provisioning` actor; a poll is no administrative
            // event of its own, so it writes no `provisioning:reload` record.
            let (done, _, _) = audit::scoped(
                audit::Context::server("provisioning"),
                dashboards::provision(&app, &providers),
            )
            .await;
            match done {
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
