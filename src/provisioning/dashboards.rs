//! Dashboards from files, as Grafana provisions them (`pkg/services/provisioning/dashboards`):
//! provider files `<provisioning>/dashboards/*.yaml|*.yml` name folders of `*.json` dashboards.
//! A dashboard is identified by (provider name, absolute file path) and saved again only when
//! the file's MD5 changes; when its file is gone it is deleted, or with `disableDeletion` just
//! forgotten; providers no longer configured lose their dashboards. This server holds no
//! folders, so providers put dashboards in General and `folder`/`folderUid` are refused.
//!
//! A provider file that does not parse stops the whole run before anything changes. A dashboard
//! file that does not parse is reported and skipped, and what it created earlier stays.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::values::interpolate;
use super::Problem;
use crate::domain::dashboard::prepare;
use crate::domain::new_uid;
use crate::service;
use crate::state::AppState;
use crate::store::dashboards::{SaveDashboard, SaveRefusal};
use crate::store::provisioning::ProvisioningRecord;

/// A number or a string that interpolates to one (Grafana's `Int64Value`, `BoolValue`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Int(i64),
    Bool(bool),
    Text(String),
}

impl Scalar {
    fn text(&self) -> Result<String, String> {
        match self {
            Scalar::Int(n) => Ok(n.to_string()),
            Scalar::Bool(b) => Ok(b.to_string()),
            Scalar::Text(s) => interpolate(s),
        }
    }
    fn int(&self, what: &str) -> Result<i64, String> {
        let t = self.text()?;
        if t.trim().is_empty() {
            return Ok(0);
        }
        t.trim()
            .parse()
            .map_err(|_| format!("{what}: {t:?} is not an integer"))
    }
    fn boolean(&self, what: &str) -> Result<bool, String> {
        match self.text()?.trim() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
            other => Err(format!("{what}: {other:?} is not a boolean")),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProviderFile {
    #[serde(default)]
    #[allow(dead_code)]
    api_version: Option<Scalar>,
    #[serde(default)]
    providers: Vec<RawProvider>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProvider {
    name: Option<Scalar>,
    #[serde(default)]
    org_id: Option<Scalar>,
    #[serde(default, rename = "type")]
    kind: Option<Scalar>,
    #[serde(default)]
    folder: Option<Scalar>,
    #[serde(default, rename = "folderUid")]
    folder_uid: Option<Scalar>,
    #[serde(default)]
    disable_deletion: Option<Scalar>,
    #[serde(default)]
    update_interval_seconds: Option<Scalar>,
    #[serde(default, rename = "allowUiUpdates")]
    allow_ui_updates: Option<Scalar>,
    #[serde(default)]
    options: HashMap<String, serde_norway::Value>,
}

pub use crate::state::provisioner::Provider;

/// Reads every provider file. Any error (with its file and line) means no providers at all.
pub fn read_providers(dir: &Path) -> Result<Vec<Provider>, Problem> {
    // No folder: nothing declared (Grafana: no providers).
    let files = super::yaml_files(&dir.join("dashboards"));
    let mut providers: Vec<Provider> = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| Problem::new(&file, None, format!("cannot read: {e}")))?;
        let parsed: ProviderFile = serde_norway::from_str(&text).map_err(|e| {
            Problem::new(
                &file,
                e.location().map(|l| l.line()),
                format!("could not parse provisioning config file: {e}"),
            )
        })?;
        for raw in parsed.providers {
            let line = provider_line(&text, raw.name.as_ref());
            let p = check(raw, &file).map_err(|m| Problem::new(&file, line, m))?;
            if providers.iter().any(|q| q.name == p.name) {
                return Err(Problem::new(
                    &file,
                    line,
                    format!("dashboard name {:?} is not unique", p.name),
                ));
            }
            providers.push(p);
        }
    }
    Ok(providers)
}

/// The line of a provider's `name:` in its file, for messages.
fn provider_line(text: &str, name: Option<&Scalar>) -> Option<usize> {
    let name = name?.text().ok()?;
    text.lines()
        .position(|l| l.contains("name") && l.contains(name.as_str()))
        .map(|i| i + 1)
}

fn check(raw: RawProvider, file: &Path) -> Result<Provider, String> {
    let name = raw
        .name
        .as_ref()
        .map(Scalar::text)
        .transpose()?
        .unwrap_or_default();
    if name.is_empty() {
        return Err("a dashboard provider needs a name".into());
    }
    let kind = raw
        .kind
        .as_ref()
        .map(Scalar::text)
        .transpose()?
        .unwrap_or_default();
    if !kind.is_empty() && kind != "file" {
        return Err(format!("type {kind} is not supported"));
    }
    for (what, v) in [("folder", &raw.folder), ("folderUid", &raw.folder_uid)] {
        if v.as_ref()
            .map(Scalar::text)
            .transpose()?
            .is_some_and(|s| !s.is_empty())
        {
            return Err(format!(
                "provider {name:?}: {what} is not supported: this server keeps every dashboard in the General folder"
            ));
        }
    }
    let option_text = |key: &str| -> Result<Option<String>, String> {
        match raw.options.get(key) {
            None | Some(serde_norway::Value::Null) => Ok(None),
            Some(serde_norway::Value::String(s)) => interpolate(s).map(Some),
            Some(serde_norway::Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(format!("options.{key}: unexpected value {other:?}")),
        }
    };
    if option_text("foldersFromFilesStructure")?.is_some_and(|v| v == "true") {
        return Err(format!(
            "provider {name:?}: foldersFromFilesStructure is not supported: this server keeps every dashboard in the General folder"
        ));
    }
    let path = option_text("path")?
        .or(option_text("folder")?)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| "failed to load dashboards, path param is not a string".to_string())?;
    let mut path = PathBuf::from(path);
    if path.is_relative() {
        // Relative to the working directory, as Grafana resolves it.
        path = std::env::current_dir().unwrap_or_default().join(path);
    }
    let org_id = match &raw.org_id {
        Some(v) => v.int("orgId")?,
        None => 0,
    };
    let interval = match &raw.update_interval_seconds {
        Some(v) => v.int("updateIntervalSeconds")?,
        None => 0,
    };
    Ok(Provider {
        name,
        org_id: if org_id <= 0 { 1 } else { org_id },
        path,
        disable_deletion: match &raw.disable_deletion {
            Some(v) => v.boolean("disableDeletion")?,
            None => false,
        },
        update_interval_seconds: if interval <= 0 { 10 } else { interval as u64 },
        allow_ui_updates: match &raw.allow_ui_updates {
            Some(v) => v.boolean("allowUiUpdates")?,
            None => false,
        },
        file: file.to_path_buf(),
    })
}

/// Every `*.json` below `dir`, skipping hidden folders (Grafana's `walkDisk`).
fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if path.is_dir() {
            if !hidden {
                json_files(&path, out)?;
            }
        } else if path.extension().and_then(|e| e.to_str()) == Some("json") {
            out.push(path);
        }
    }
    Ok(())
}

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub saved: usize,
    pub unchanged: usize,
    pub deleted: usize,
    pub problems: Vec<Problem>,
}

/// Brings the database in line with the providers' files.
pub async fn provision(app: &AppState, providers: &[Provider]) -> Result<Outcome, Problem> {
    let mut outcome = Outcome::default();
    for p in providers {
        if app
            .store
            .org_details(p.org_id)
            .await
            .ok()
            .flatten()
            .is_none()
        {
            outcome.problems.push(Problem::new(
                &p.file,
                None,
                format!(
                    "provider {:?}: organization {} does not exist",
                    p.name, p.org_id
                ),
            ));
            continue;
        }
        provision_one(app, p, &mut outcome).await;
    }
    // Providers no longer configured lose their dashboards (Grafana's CleanUpOrphanedDashboards).
    let configured: HashSet<&str> = providers.iter().map(|p| p.name.as_str()).collect();
    let names = app
        .store
        .provisioner_names()
        .await
        .map_err(|e| Problem::server(e.to_string()))?;
    for name in names.iter().filter(|n| !configured.contains(n.as_str())) {
        let rows = app
            .store
            .provisioned_by(name)
            .await
            .map_err(|e| Problem::server(e.to_string()))?;
        for row in rows {
            service::dashboards::delete_provisioned(app, row.dashboard_id)
                .await
                .map_err(|e| Problem::server(e.to_string()))?;
            outcome.deleted += 1;
        }
    }
    Ok(outcome)
}

async fn provision_one(app: &AppState, p: &Provider, outcome: &mut Outcome) {
    let mut files = Vec::new();
    if let Err(e) = json_files(&p.path, &mut files) {
        // Nothing of this provider is touched when its folder cannot be read.
        outcome.problems.push(Problem::new(
            &p.file,
            None,
            format!(
                "provider {:?}: cannot read {}: {e}",
                p.name,
                p.path.display()
            ),
        ));
        return;
    }
    files.sort();
    let known = match app.store.provisioned_by(&p.name).await {
        Ok(rows) => rows,
        Err(e) => {
            outcome.problems.push(Problem::server(e.to_string()));
            return;
        }
    };
    let by_path: HashMap<&str, &crate::store::provisioning::ProvisionedRow> =
        known.iter().map(|r| (r.external_id.as_str(), r)).collect();
    let mut on_disk: HashSet<String> = HashSet::new();
    for file in &files {
        let external_id = file.display().to_string();
        on_disk.insert(external_id.clone());
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                outcome
                    .problems
                    .push(Problem::new(file, None, e.to_string()));
                continue;
            }
        };
        let check_sum = {
            use md5::{Digest, Md5};
            hex::encode(Md5::digest(&bytes))
        };
        let existing = by_path.get(external_id.as_str());
        if existing.is_some_and(|r| r.check_sum.as_deref() == Some(check_sum.as_str())) {
            outcome.unchanged += 1;
            continue;
        }
        let data: serde_json::Map<String, serde_json::Value> = match serde_json::from_slice(&bytes)
        {
            Ok(d) => d,
            Err(e) => {
                outcome.problems.push(Problem::new(
                    file,
                    Some(e.line()),
                    format!("failed to load dashboard: {e}"),
                ));
                continue;
            }
        };
        let mut prepared = match prepare(data) {
            Ok(p) => p,
            Err(e) => {
                outcome
                    .problems
                    .push(Problem::new(file, None, e.message.to_string()));
                continue;
            }
        };
        // The file's own id means nothing here; the record's dashboard is the one to update.
        if let Some(obj) = prepared.data.as_object_mut() {
            obj.remove("id");
        }
        let updated = std::fs::metadata(file)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let cmd = SaveDashboard {
            org_id: p.org_id,
            id: existing.map(|r| r.dashboard_id),
            uid: prepared.uid,
            new_uid: new_uid(),
            title: prepared.title,
            slug: prepared.slug,
            version: 0,
            overwrite: true,
            data: prepared.data,
            tags: prepared.tags,
            user_id: 0,
            allow_provisioned: true,
            provisioning: Some(ProvisioningRecord {
                name: p.name.clone(),
                external_id,
                updated,
                check_sum,
            }),
        };
        match service::dashboards::save(app, &cmd).await {
            Ok(_) => outcome.saved += 1,
            Err(SaveRefusal::SameUidExists) => outcome.problems.push(Problem::new(
                file,
                None,
                "A dashboard with the same uid already exists".into(),
            )),
            Err(SaveRefusal::Store(e)) => outcome.problems.push(Problem::server(e.to_string())),
            Err(_) => outcome
                .problems
                .push(Problem::new(file, None, "could not be saved".into())),
        }
    }
    for row in &known {
        if on_disk.contains(&row.external_id) {
            continue;
        }
        let done = if p.disable_deletion {
            service::dashboards::unprovision(app, row.dashboard_id).await
        } else {
            outcome.deleted += 1;
            service::dashboards::delete_provisioned(app, row.dashboard_id).await
        };
        if let Err(e) = done {
            outcome.problems.push(Problem::server(e.to_string()));
        }
    }
}
