//! The `-o` results file: one self-contained JSON object per line, appended
//! and flushed the moment each run ends, so a crash, a timeout or Ctrl-C in a
//! later run never loses a finished one. Existing content is never truncated.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crate::model::RunRecord;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open results file '{path}' for appending: {why}; choose another path with -o")]
    Open { path: String, why: String },
    #[error("cannot write to results file '{path}': {why}; the runs written before are intact")]
    Write { path: String, why: String },
    #[error("cannot read results file '{path}': {why}")]
    Read { path: String, why: String },
    #[error("results file '{path}' line {line}: {why}")]
    Bad {
        path: String,
        line: usize,
        why: String,
    },
}

pub struct JsonlWriter {
    path: PathBuf,
    file: File,
}

impl JsonlWriter {
    /// Opens `path` for appending, creating it (not its directory) if needed.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        if path.is_dir() {
            return Err(StoreError::Open {
                path: shown,
                why: "it is a directory".to_string(),
            });
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| StoreError::Open {
                path: shown,
                why: e.to_string(),
            })?;
        Ok(JsonlWriter {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends one record as one line and flushes it to the OS.
    pub fn append<T: serde::Serialize>(&mut self, record: &T) -> Result<(), StoreError> {
        self.append_value(record)
    }

    /// Appends any serializable value as one line (other commands' records).
    pub fn append_value<T: serde::Serialize>(&mut self, record: &T) -> Result<(), StoreError> {
        let err = |e: String| StoreError::Write {
            path: self.path.display().to_string(),
            why: e,
        };
        let mut line = serde_json::to_vec(record).map_err(|e| err(e.to_string()))?;
        line.push(b'\n');
        // One write_all of the whole line: concurrent appenders never interleave inside a line.
        let before = self.file.metadata().map(|m| m.len()).ok();
        if let Err(e) = self.file.write_all(&line) {
            self.drop_partial_line(before);
            return Err(err(e.to_string()));
        }
        self.file.flush().map_err(|e| err(e.to_string()))?;
        self.file
            .sync_data()
            .or_else(ignore_unsupported)
            .map_err(|e| err(e.to_string()))
    }

    /// A full disk (or a file size limit) can take part of a line: cut it off
    /// so the file stays one record per line and later appends stay readable.
    /// Only bytes past the length seen before this write are removed.
    fn drop_partial_line(&self, before: Option<u64>) {
        let Some(before) = before else { return };
        let meta = self.file.metadata();
        if meta.is_ok_and(|m| m.is_file() && m.len() > before) {
            let _ = self.file.set_len(before);
        }
    }
}

/// `sync_data` fails with EINVAL on pipes and character devices such as
/// /dev/stdout; that is no loss of data.
fn ignore_unsupported(e: std::io::Error) -> std::io::Result<()> {
    if e.raw_os_error() == Some(nix::libc::EINVAL) {
        Ok(())
    } else {
        Err(e)
    }
}

/// Why a line that is not a run record is something else: a `tokbench
/// serve` record (it has a `kind`), which the run readers do not take.
fn not_a_run(line: &str) -> Option<String> {
    let kind = kind_of(line)?;
    Some(format!(
        "a '{kind}' record from 'tokbench serve', not a run: draw it with 'tokbench plot serve'"
    ))
}

/// The `kind` of a line that has one (records of other commands).
fn kind_of(line: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    Some(v.get("kind")?.as_str()?.to_string())
}

/// Reads every run record of a results file; blank lines and `--profile`
/// lines are skipped.
pub fn read(path: &Path) -> Result<Vec<RunRecord>, StoreError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|e| StoreError::Read {
        path: shown.clone(),
        why: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| StoreError::Read {
            path: shown.clone(),
            why: e.to_string(),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let rec = match serde_json::from_str(&line) {
            Ok(rec) => rec,
            // `--profile` appends its summary beside the runs it followed.
            Err(_) if kind_of(&line).as_deref() == Some("profile") => continue,
            Err(e) => {
                return Err(StoreError::Bad {
                    path: shown.clone(),
                    line: i + 1,
                    why: not_a_run(&line).unwrap_or_else(|| e.to_string()),
                })
            }
        };
        out.push(rec);
    }
    Ok(out)
}
