//! `tokbench import`: llama-bench output (json, jsonl, csv, sql, markdown
//! with its `build:` footer) and tokbench JSONL results into the history, so
//! llama-bench users keep the data they already have.
//!
//! A llama-bench result carries no binary to hash, so its build is keyed by
//! what llama-bench printed: commit, build number, backends, device and a
//! hash of the configuration columns (threads, layers, batch sizes, ...).
//! Two configurations of one commit thus stay apart. Tests of one file that
//! share that key and the model become one run record, like a tokbench run
//! of llama-bench; their per-repetition samples are kept.

use std::path::Path;

use serde_json::{Map, Value};

use super::build_key::{test_key, text};
use super::history::{History, HistoryError};
use crate::model::{BenchTest, BinaryInfo, BuildInfo, ExitInfo, MachineInfo, ModelInfo, RunRecord};
use crate::parse::bench::parse_bench;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read '{path}': {why}")]
    Read { path: String, why: String },
    #[error("'{path}': {why}")]
    Unusable { path: String, why: String },
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// What one imported file added.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImportCount {
    pub file: String,
    /// `tokbench-jsonl` or `llama-bench-<format>`.
    pub format: String,
    /// llama-bench tests (or tokbench records) read.
    pub tests: usize,
    pub runs_added: usize,
    /// Runs already in the history (the same file imported twice).
    pub runs_skipped: usize,
}

fn model_of(t: &BenchTest) -> ModelInfo {
    ModelInfo {
        path: text(t, "model_filename")
            .or_else(|| t.model_type.clone())
            .unwrap_or_else(|| "unknown".to_string()),
        size_bytes: t.model_size_bytes.unwrap_or(0),
        gguf: None,
    }
}

/// One run record from tests that share a build and a model.
fn record_of(tests: Vec<BenchTest>, label: &str, source: &str) -> RunRecord {
    let first = &tests[0];
    let started_at = text(first, "test_time").unwrap_or_else(now_rfc3339);
    RunRecord {
        schema_version: crate::model::SCHEMA_VERSION,
        tokbench_version: env!("CARGO_PKG_VERSION").to_string(),
        label: label.to_string(),
        seq: 0,
        started_at,
        warmup: false,
        side: None,
        cell: None,
        binary: BinaryInfo::default(),
        argv: Vec::new(),
        env: Default::default(),
        build: BuildInfo {
            commit: first.build_commit.clone(),
            build_number: first.build_number,
            backend: first.backends.clone(),
            ..BuildInfo::default()
        },
        model: model_of(first),
        machine: MachineInfo {
            cpu: text(first, "cpu_info"),
            ..MachineInfo::default()
        },
        exit: ExitInfo {
            code: Some(0),
            ..ExitInfo::default()
        },
        status: "ok".to_string(),
        error: None,
        wall_ms: 0.0,
        timings: None,
        blocks: Vec::new(),
        bench: tests,
        stdout_bytes: 0,
        stderr_bytes: 0,
        warnings: vec![format!("imported from {source}")],
        notes: Vec::new(),
        sampled: None,
        timeline: Vec::new(),
        ops: Vec::new(),
    }
}

fn now_rfc3339() -> String {
    crate::identity::rfc3339(std::time::SystemTime::now())
}

/// Groups tests by (build key, model), keeping the order first seen.
fn group(tests: Vec<BenchTest>) -> Vec<Vec<BenchTest>> {
    let mut groups: Vec<(String, Vec<BenchTest>)> = Vec::new();
    for t in tests {
        let key = format!("{}|{}", test_key(&t).digest(), model_of(&t).path);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(t),
            None => groups.push((key, vec![t])),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

fn is_tokbench_jsonl(text: &str) -> bool {
    let Some(first) = text.lines().find(|l| !l.trim().is_empty()) else {
        return false;
    };
    serde_json::from_str::<Map<String, Value>>(first)
        .map(|m| m.contains_key("tokbench_version") && m.contains_key("schema_version"))
        .unwrap_or(false)
}

/// The records a file holds, and the name of its format.
pub fn read_records(
    path: &Path,
    label: Option<&str>,
) -> Result<(String, Vec<RunRecord>, usize), ImportError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ImportError::Read {
        path: shown.clone(),
        why: e.to_string(),
    })?;
    let unusable = |why: String| ImportError::Unusable {
        path: shown.clone(),
        why,
    };
    if is_tokbench_jsonl(&text) {
        let mut records = super::jsonl::read(path).map_err(|e| unusable(e.to_string()))?;
        if let Some(l) = label {
            records.iter_mut().for_each(|r| r.label = l.to_string());
        }
        let n = records.len();
        return Ok(("tokbench-jsonl".to_string(), records, n));
    }
    let out = parse_bench(&shown, &text).map_err(|e| {
        unusable(format!(
            "{e}; import takes llama-bench output (-o json, jsonl, csv, sql or md) or tokbench JSONL results"
        ))
    })?;
    let format = format!("llama-bench-{}", format_name(out.format));
    if out.tests.iter().any(|t| t.build_commit.is_none()) {
        return Err(unusable(format!(
            "this {format} output names no build (markdown without its 'build: <commit> (<number>)' footer): \
             it cannot be told apart from other builds; import llama-bench's json, jsonl, csv or sql output instead"
        )));
    }
    let n = out.tests.len();
    let source = format!("'{shown}' ({format})");
    let records = group(out.tests)
        .into_iter()
        .map(|g| {
            let default = format!(
                "{} {}",
                g[0].build_commit.as_deref().unwrap_or("unknown"),
                g[0].backends.as_deref().unwrap_or("")
            );
            record_of(g, label.unwrap_or(default.trim()), &source)
        })
        .collect();
    Ok((format, records, n))
}

fn format_name(f: crate::model::BenchFormat) -> &'static str {
    use crate::model::BenchFormat::*;
    match f {
        Md => "md",
        Json => "json",
        Jsonl => "jsonl",
        Csv => "csv",
        Sql => "sql",
    }
}

/// Imports one file into the history.
pub fn import_file(
    h: &mut History,
    path: &Path,
    label: Option<&str>,
) -> Result<ImportCount, ImportError> {
    let (format, records, tests) = read_records(path, label)?;
    let source = format!("import:{format}");
    let mut count = ImportCount {
        file: path.display().to_string(),
        format,
        tests,
        runs_added: 0,
        runs_skipped: 0,
    };
    for r in &records {
        match h.record(r, &source)? {
            Some(_) => count.runs_added += 1,
            None => count.runs_skipped += 1,
        }
    }
    Ok(count)
}
