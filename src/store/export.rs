//! `tokbench export`: the history in llama-bench's own formats, so
//! `scripts/compare-llama-bench.py -i FILE` reads it.
//!
//! * `llama-bench-sqlite`: a new SQLite file with llama-bench's `llama_bench`
//!   table (the columns of `llama-bench -o sql` at the pinned llama.cpp).
//! * `llama-bench-json`: the array `llama-bench -o json` prints.
//!
//! `build_commit` is written as `<commit, 7 chars>-<6 hex of tokbench's build
//! key>`: two builds (or llama-bench configurations) of one commit stay
//! apart, and every value has the same length, because compare-llama-bench.py
//! cuts all of them to the shortest one. A tokbench run of llama-completion
//! becomes two rows, `pp<prompt tokens>` and `tg<generated tokens>`.
//! Columns a run does not know are written as '' or 0 (never NULL: the
//! script joins rows on them, and NULL never equals NULL).

use std::path::Path;

use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::history::{History, HistoryError};
use crate::model::{BenchTest, RunRecord};

/// llama-bench's SQL columns and types (tools/llama-bench, `-o sql`).
pub const LLAMA_BENCH_COLUMNS: [(&str, &str); 42] = [
    ("build_commit", "TEXT"),
    ("build_number", "INTEGER"),
    ("cpu_info", "TEXT"),
    ("gpu_info", "TEXT"),
    ("backends", "TEXT"),
    ("model_filename", "TEXT"),
    ("model_type", "TEXT"),
    ("model_size", "INTEGER"),
    ("model_n_params", "INTEGER"),
    ("n_batch", "INTEGER"),
    ("n_ubatch", "INTEGER"),
    ("n_threads", "INTEGER"),
    ("cpu_mask", "TEXT"),
    ("cpu_strict", "INTEGER"),
    ("poll", "INTEGER"),
    ("type_k", "TEXT"),
    ("type_v", "TEXT"),
    ("n_gpu_layers", "INTEGER"),
    ("n_cpu_moe", "INTEGER"),
    ("split_mode", "TEXT"),
    ("main_gpu", "INTEGER"),
    ("no_kv_offload", "INTEGER"),
    ("flash_attn", "INTEGER"),
    ("devices", "TEXT"),
    ("tensor_split", "TEXT"),
    ("tensor_buft_overrides", "TEXT"),
    ("load_mode", "TEXT"),
    ("lazy_mode", "TEXT"),
    ("embeddings", "INTEGER"),
    ("no_op_offload", "INTEGER"),
    ("no_host", "INTEGER"),
    ("repack", "INTEGER"),
    ("fit_target", "INTEGER"),
    ("fit_min_ctx", "INTEGER"),
    ("n_prompt", "INTEGER"),
    ("n_gen", "INTEGER"),
    ("n_depth", "INTEGER"),
    ("test_time", "TEXT"),
    ("avg_ns", "INTEGER"),
    ("stddev_ns", "INTEGER"),
    ("avg_ts", "REAL"),
    ("stddev_ts", "REAL"),
];

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "'{path}' already exists; export never overwrites a file: remove it or choose another path"
    )]
    Exists { path: String },
    #[error("cannot write '{path}': {why}")]
    Write { path: String, why: String },
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// One stored run with what the export needs of its build.
pub struct StoredRun {
    pub build_id: i64,
    pub build_key: String,
    pub record: RunRecord,
}

/// `0c1e570-3fa2b1`: the commit (7 chars, `unknown` when none) and the build.
pub fn export_commit(commit: Option<&str>, build_key: &str) -> String {
    let c: String = commit.unwrap_or("unknown").chars().take(7).collect();
    format!("{c:0<7}-{}", &build_key[..6.min(build_key.len())])
}

/// The rows of one run, as llama-bench would print them (typed JSON values).
pub fn rows_of(run: &StoredRun) -> Vec<Map<String, Value>> {
    let r = &run.record;
    let commit = export_commit(r.build.commit.as_deref(), &run.build_key);
    let tests = if r.bench.is_empty() {
        completion_tests(r)
    } else {
        r.bench.clone()
    };
    tests
        .iter()
        .map(|t| {
            let mut row = base_row(r);
            fill_from_test(&mut row, t);
            row.insert("build_commit".into(), commit.clone().into());
            row
        })
        .collect()
}

/// Every column at its "unknown" value, then what the record knows.
fn base_row(r: &RunRecord) -> Map<String, Value> {
    let mut row = Map::new();
    for (name, ty) in LLAMA_BENCH_COLUMNS {
        let v: Value = match ty {
            "TEXT" => "".into(),
            "REAL" => 0.0.into(),
            _ => 0.into(),
        };
        row.insert(name.to_string(), v);
    }
    let set = |row: &mut Map<String, Value>, k: &str, v: Value| {
        row.insert(k.to_string(), v);
    };
    set(
        &mut row,
        "build_number",
        r.build.build_number.unwrap_or(0).into(),
    );
    set(
        &mut row,
        "cpu_info",
        r.machine.cpu.clone().unwrap_or_default().into(),
    );
    set(
        &mut row,
        "backends",
        r.build.backend.clone().unwrap_or_default().into(),
    );
    set(&mut row, "model_filename", r.model.path.clone().into());
    set(&mut row, "model_size", r.model.size_bytes.into());
    set(&mut row, "test_time", r.started_at.clone().into());
    if let Some(n) = flag_value(&r.argv, &["-ngl", "--n-gpu-layers", "--gpu-layers"]) {
        set(&mut row, "n_gpu_layers", n.into());
    }
    if let Some(n) = flag_value(&r.argv, &["-t", "--threads"]) {
        set(&mut row, "n_threads", n.into());
    }
    row
}

fn flag_value(argv: &[String], names: &[&str]) -> Option<i64> {
    let i = argv.iter().position(|a| names.contains(&a.as_str()))?;
    argv.get(i + 1)?.parse().ok()
}

fn fill_from_test(row: &mut Map<String, Value>, t: &BenchTest) {
    for (k, v) in &t.extra {
        if row.contains_key(k) && !v.is_null() {
            row.insert(k.clone(), v.clone());
        }
    }
    let mut set = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            row.insert(k.to_string(), v);
        }
    };
    set("model_type", t.model_type.clone().map(Value::from));
    set("model_size", t.model_size_bytes.map(Value::from));
    set("model_n_params", t.model_n_params.map(Value::from));
    set("backends", t.backends.clone().map(Value::from));
    set("n_gpu_layers", t.n_gpu_layers.map(Value::from));
    set("n_threads", t.n_threads.map(Value::from));
    set("build_number", t.build_number.map(Value::from));
    set("n_prompt", Some(t.n_prompt.into()));
    set("n_gen", Some(t.n_gen.into()));
    set("n_depth", Some(t.n_depth.into()));
    set("avg_ts", t.avg_tps.finite().map(Value::from));
    set(
        "stddev_ts",
        Some(t.stddev_tps.finite().unwrap_or(0.0).into()),
    );
    let tokens = (t.n_prompt + t.n_gen) as f64;
    let avg_ns = t.avg_ns.map(Value::from).or_else(|| {
        let tps = t.avg_tps.finite().filter(|v| *v > 0.0)?;
        Some(((tokens / tps) * 1e9).round().into())
    });
    set("avg_ns", avg_ns);
    set("samples_ts", Some(t.samples_tps.clone().into()));
    set("samples_ns", Some(t.samples_ns.clone().into()));
}

/// A completion run as llama-bench tests: prompt processing and generation.
fn completion_tests(r: &RunRecord) -> Vec<BenchTest> {
    let Some(t) = &r.timings else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let (Some(n), Some(tps)) = (t.prompt_eval_tokens, t.prompt_eval_tps) {
        out.push(BenchTest {
            test: format!("pp{n}"),
            n_prompt: n,
            avg_tps: tps,
            ..BenchTest::default()
        });
    }
    if let (Some(n), Some(tps)) = (t.eval_tokens, t.eval_tps) {
        out.push(BenchTest {
            test: format!("tg{n}"),
            n_gen: n,
            avg_tps: tps,
            ..BenchTest::default()
        });
    }
    out
}

fn sql_value(v: &Value, ty: &str) -> SqlValue {
    let int = |v: &Value| match v {
        Value::Bool(b) => Some(*b as i64),
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => match s.as_str() {
            "true" => Some(1),
            "false" => Some(0),
            s => s.parse().ok(),
        },
        _ => None,
    };
    match ty {
        "INTEGER" => SqlValue::Integer(int(v).unwrap_or(0)),
        "REAL" => SqlValue::Real(v.as_f64().unwrap_or(0.0)),
        _ => SqlValue::Text(match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
    }
}

fn refuse_existing(path: &Path) -> Result<(), ExportError> {
    if path.exists() {
        return Err(ExportError::Exists {
            path: path.display().to_string(),
        });
    }
    Ok(())
}

/// Writes the rows into a new SQLite file in llama-bench's schema.
pub fn write_sqlite(path: &Path, rows: &[Map<String, Value>]) -> Result<(), ExportError> {
    refuse_existing(path)?;
    let err = |e: rusqlite::Error| ExportError::Write {
        path: path.display().to_string(),
        why: e.to_string(),
    };
    let mut conn = rusqlite::Connection::open(path).map_err(err)?;
    let cols: Vec<String> = LLAMA_BENCH_COLUMNS
        .iter()
        .map(|(n, t)| format!("  {n} {t}"))
        .collect();
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS llama_bench (\n{}\n);",
        cols.join(",\n")
    ))
    .map_err(err)?;
    let names: Vec<&str> = LLAMA_BENCH_COLUMNS.iter().map(|c| c.0).collect();
    let marks = vec!["?"; names.len()].join(", ");
    let sql = format!(
        "INSERT INTO llama_bench ({}) VALUES ({marks})",
        names.join(", ")
    );
    let tx = conn.transaction().map_err(err)?;
    {
        let mut stmt = tx.prepare(&sql).map_err(err)?;
        for row in rows {
            let values: Vec<SqlValue> = LLAMA_BENCH_COLUMNS
                .iter()
                .map(|(n, t)| sql_value(row.get(*n).unwrap_or(&Value::Null), t))
                .collect();
            stmt.execute(rusqlite::params_from_iter(values))
                .map_err(err)?;
        }
    }
    tx.commit().map_err(err)
}

/// Writes the rows as llama-bench's `-o json` array (with the samples).
pub fn write_json(path: &Path, rows: &[Map<String, Value>]) -> Result<(), ExportError> {
    let text = serde_json::to_string_pretty(rows).unwrap_or_else(|_| "[]".to_string());
    if path.as_os_str() == "-" {
        println!("{text}");
        return Ok(());
    }
    refuse_existing(path)?;
    std::fs::write(path, text + "\n").map_err(|e| ExportError::Write {
        path: path.display().to_string(),
        why: e.to_string(),
    })
}

/// Stored counted, successful runs of the given builds (all when empty), oldest first.
pub fn stored_runs(h: &History, builds: &[i64]) -> Result<Vec<StoredRun>, HistoryError> {
    let mut stmt = h
        .conn()
        .prepare(
            "SELECT r.build_id, b.key, r.record FROM runs r JOIN builds b ON b.id = r.build_id
             WHERE r.warmup = 0 AND r.status = 'ok' ORDER BY r.started_at, r.id",
        )
        .map_err(|e| h.sql(e))?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })
        .map_err(|e| h.sql(e))?;
    let mut out = Vec::new();
    for row in rows {
        let (build_id, build_key, json) = row.map_err(|e| h.sql(e))?;
        if !builds.is_empty() && !builds.contains(&build_id) {
            continue;
        }
        // A record this version cannot read is skipped, not fatal.
        if let Ok(record) = serde_json::from_str(&json) {
            out.push(StoredRun {
                build_id,
                build_key,
                record,
            });
        }
    }
    Ok(out)
}
