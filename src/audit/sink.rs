//! Where committed records go besides the database: JSON lines to a file (`[audit] log_path`) or
//! to standard output (`log_path = stdout`), one object per record, for shipping to a log system.

use std::io::Write;
use std::sync::Mutex;

/// `[audit]` as the store applies it.
#[derive(Default)]
pub struct AuditSettings {
    /// `[audit] enabled` (default true): false writes no record (changes still run).
    pub disabled: bool,
    pub sink: Option<Sink>,
}

pub struct Sink {
    out: Mutex<Box<dyn Write + Send>>,
}

impl Sink {
    /// `stdout`, or a file opened for appending (created if missing).
    pub fn open(path: &str) -> std::io::Result<Sink> {
        let out: Box<dyn Write + Send> = if path == "stdout" {
            Box::new(std::io::stdout())
        } else {
            if let Some(parent) = std::path::Path::new(path).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent)?;
                }
            }
            Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            )
        };
        Ok(Sink {
            out: Mutex::new(out),
        })
    }

    /// Writes committed records, one JSON object per line. A failed write is logged: the
    /// database holds the record already.
    pub fn emit<T: serde::Serialize>(&self, records: &[T]) {
        let mut lines = String::new();
        for r in records {
            if let Ok(line) = serde_json::to_string(r) {
                lines.push_str(&line);
                lines.push('\n');
            }
        }
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = out.write_all(lines.as_bytes()).and_then(|()| out.flush()) {
            tracing::error!(error = %e, "could not write to the audit log file");
        }
    }
}

impl std::fmt::Debug for AuditSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSettings")
            .field("disabled", &self.disabled)
            .field("sink", &self.sink.is_some())
            .finish()
    }
}
