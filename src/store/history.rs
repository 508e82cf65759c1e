//! The SQLite history: every run tokbench makes (and every llama-bench
//! result imported) keyed by build identity, so people who benchmark every
//! commit can list, filter and compare builds later.
//!
//! Safety rules, in order of importance:
//! * a file that is not SQLite, or a database written by a newer tokbench
//!   (`PRAGMA user_version` above [`SCHEMA_VERSION`]), is refused before
//!   anything is written to it;
//! * schema changes are numbered migrations ([`MIGRATIONS`]), applied in one
//!   transaction each, recorded in `user_version`;
//! * WAL journal + a busy timeout + `BEGIN IMMEDIATE` transactions, so several
//!   tokbench processes can write one database at once and lose nothing;
//!   `synchronous=NORMAL` and one transaction per run keep a run's cost
//!   under 1 ms (`cargo bench --bench history_sink`).
//!
//! Identity rows are keyed by a SHA-256 over their canonical JSON rather than
//! a UNIQUE index over the columns, because SQLite treats NULLs as distinct in
//! unique indexes and most identity fields may be unknown.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use super::build_key::sha256_json;
pub use super::build_key::BuildKey;
use super::ops_rows;
use crate::model::RunRecord;

/// Newest schema this build reads and writes.
pub const SCHEMA_VERSION: i64 = 5;

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes of the model file hashed for its identity (with its size).
const MODEL_HEAD_BYTES: usize = 1 << 20;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; 5] = [
    r#"
CREATE TABLE builds (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    binary_path TEXT,
    binary_sha256 TEXT,
    libs_sha256 TEXT,
    version TEXT,
    commit_hash TEXT,
    build_number INTEGER,
    backend TEXT,
    device TEXT,
    config_sha256 TEXT,
    first_seen TEXT NOT NULL
);
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    size_bytes INTEGER,
    head_sha256 TEXT
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    record_sha256 TEXT NOT NULL UNIQUE,
    build_id INTEGER NOT NULL REFERENCES builds(id),
    model_id INTEGER NOT NULL REFERENCES models(id),
    label TEXT NOT NULL,
    started_at TEXT NOT NULL,
    seq INTEGER NOT NULL,
    side TEXT,
    warmup INTEGER NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    argv TEXT NOT NULL,
    env TEXT NOT NULL,
    machine TEXT NOT NULL,
    eval_tps REAL,
    prompt_eval_tps REAL,
    load_ms REAL,
    wall_ms REAL,
    gpu_power_w REAL,
    peak_rss_bytes INTEGER,
    record TEXT NOT NULL
);
CREATE INDEX runs_build ON runs(build_id, started_at);
CREATE TABLE bench_tests (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    idx INTEGER NOT NULL,
    test TEXT NOT NULL,
    n_prompt INTEGER NOT NULL,
    n_gen INTEGER NOT NULL,
    n_depth INTEGER NOT NULL,
    avg_tps REAL,
    stddev_tps REAL,
    samples_tps TEXT NOT NULL,
    PRIMARY KEY (run_id, idx)
);
"#,
    r#"
ALTER TABLE bench_tests ADD COLUMN key TEXT;
ALTER TABLE bench_tests ADD COLUMN config TEXT;
"#,
    // The source commit of a build made by `tokbench build` (model.rs SourceInfo).
    r#"
ALTER TABLE builds ADD COLUMN src_commit TEXT;
ALTER TABLE builds ADD COLUMN src_subject TEXT;
ALTER TABLE builds ADD COLUMN src_date TEXT;
ALTER TABLE builds ADD COLUMN src_dirty INTEGER;
ALTER TABLE builds ADD COLUMN src_cmake_args TEXT;
"#,
    // `tokbench serve` sessions (store/serve_history.rs): not runs of a binary, so a table of their own.
    r#"
CREATE TABLE serve_sessions (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    mode TEXT NOT NULL,
    label TEXT,
    servers TEXT NOT NULL,
    load TEXT NOT NULL,
    blocks INTEGER NOT NULL,
    interrupted INTEGER NOT NULL,
    headline TEXT NOT NULL,
    output TEXT,
    summary TEXT NOT NULL
);
"#,
    // `tokbench ops` rounds and their per-op cases (store/ops_history.rs).
    ops_rows::MIGRATION,
];

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("'{path}' is not a SQLite database (it starts with other bytes); it was left untouched: pass another path with --db or TOKBENCH_DB")]
    NotSqlite { path: String },
    #[error("history database '{path}' has schema version {found}, newer than this tokbench understands ({SCHEMA_VERSION}); it was left untouched: upgrade tokbench or pass another --db")]
    Newer { path: String, found: i64 },
    #[error("cannot open history database '{path}': {why}; pass another path with --db or TOKBENCH_DB, or skip it with --no-history")]
    Open { path: String, why: String },
    #[error("history database '{path}': {why}")]
    Sql { path: String, why: String },
}

/// An open, migrated history database.
pub struct History {
    path: PathBuf,
    conn: Connection,
}

/// SHA-256 of the first MiB of a model file and its size; None when the
/// file cannot be read (an imported result whose model is elsewhere).
pub fn model_head_sha256(path: &Path, size: u64) -> Option<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut head = Vec::with_capacity(MODEL_HEAD_BYTES);
    file.take(MODEL_HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .ok()?;
    let mut h = Sha256::new();
    h.update(&head);
    h.update(size.to_le_bytes());
    Some(hex::encode(h.finalize()))
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Refuses an existing, non-empty file that does not start like SQLite.
fn check_magic(path: &Path) -> Result<(), HistoryError> {
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open(path) else {
        return Ok(());
    };
    let mut head = Vec::new();
    let _ = f.by_ref().take(16).read_to_end(&mut head);
    if head.is_empty() || head.as_slice() == SQLITE_MAGIC {
        return Ok(());
    }
    Err(HistoryError::NotSqlite {
        path: path.display().to_string(),
    })
}

impl History {
    /// Opens (creating it and its directory if needed) and migrates.
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        let shown = path.display().to_string();
        let open_err = |why: String| HistoryError::Open {
            path: shown.clone(),
            why,
        };
        if path.is_dir() {
            return Err(open_err("it is a directory".to_string()));
        }
        check_magic(path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| open_err(format!("cannot create '{}': {e}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(|e| open_err(e.to_string()))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| open_err(e.to_string()))?;
        let h = History {
            path: path.to_path_buf(),
            conn,
        };
        // Read before any write: a newer or damaged file must stay as it is.
        let found: i64 = h
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| h.damaged(e))?;
        if found > SCHEMA_VERSION {
            return Err(HistoryError::Newer { path: shown, found });
        }
        h.conn
            .query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .map_err(|e| h.sql(e))?;
        // With WAL, NORMAL syncs at checkpoints, not at every commit: a run
        // costs well under 1 ms, and a power cut can lose only the last
        // runs, which the fsynced JSONL file (the durable record) still has.
        h.conn
            .execute_batch("PRAGMA synchronous=NORMAL")
            .map_err(|e| h.sql(e))?;
        h.migrate()?;
        Ok(h)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn sql(&self, e: rusqlite::Error) -> HistoryError {
        HistoryError::Sql {
            path: self.path.display().to_string(),
            why: e.to_string(),
        }
    }

    fn damaged(&self, e: rusqlite::Error) -> HistoryError {
        use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
        // Only a file SQLite cannot read as a database is damaged; a full
        // disk or an I/O error is the system's, and says so.
        if !matches!(e.sqlite_error_code(), Some(DatabaseCorrupt | NotADatabase)) {
            return HistoryError::Open {
                path: self.path.display().to_string(),
                why: e.to_string(),
            };
        }
        HistoryError::Sql {
            path: self.path.display().to_string(),
            why: format!("{e}; the file looks damaged and was left untouched: pass another --db"),
        }
    }

    fn migrate(&self) -> Result<(), HistoryError> {
        for (from, sql) in MIGRATIONS.iter().enumerate() {
            let to = from as i64 + 1;
            let mut conn = Connection::open(&self.path).map_err(|e| self.sql(e))?;
            conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| self.sql(e))?;
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| self.sql(e))?;
            // Another process may have migrated while we waited for the lock.
            let now: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(|e| self.sql(e))?;
            if now >= to {
                continue;
            }
            tx.execute_batch(sql).map_err(|e| self.sql(e))?;
            tx.execute_batch(&format!("PRAGMA user_version = {to}"))
                .map_err(|e| self.sql(e))?;
            tx.commit().map_err(|e| self.sql(e))?;
        }
        Ok(())
    }

    /// Stores one run record (a `tokbench ops` round into the ops tables);
    /// a record already stored (same content) is skipped. Returns the run's id, or None when it was already there.
    pub fn record(&mut self, r: &RunRecord, source: &str) -> Result<Option<i64>, HistoryError> {
        let json = serde_json::to_string(r).map_err(|e| HistoryError::Sql {
            path: self.path.display().to_string(),
            why: e.to_string(),
        })?;
        let path = self.path.display().to_string();
        let sql_err = |e: rusqlite::Error| HistoryError::Sql {
            path: path.clone(),
            why: e.to_string(),
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err)?;
        let id = store_record(&tx, r, source, &json).map_err(sql_err)?;
        tx.commit().map_err(sql_err)?;
        Ok(id)
    }
}

fn upsert_build(tx: &rusqlite::Transaction, k: &BuildKey, seen: &str) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT OR IGNORE INTO builds (key, source, binary_path, binary_sha256, libs_sha256, version,
         commit_hash, build_number, backend, device, config_sha256, first_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            k.digest(),
            k.source,
            k.binary_path,
            k.binary_sha256,
            k.libs_sha256,
            k.version,
            k.commit,
            k.build_number.map(|n| n as i64),
            k.backend,
            k.device,
            k.config_sha256,
            seen
        ],
    )?;
    tx.query_row(
        "SELECT id FROM builds WHERE key = ?1",
        [k.digest()],
        |row| row.get(0),
    )
}

/// Fills the source columns of a build row once (a build's source never changes).
fn set_build_source(
    tx: &rusqlite::Transaction,
    build_id: i64,
    src: &crate::model::SourceInfo,
) -> rusqlite::Result<()> {
    let cmake_args = serde_json::to_string(&src.cmake_args).unwrap_or_default();
    tx.execute(
        "UPDATE builds SET src_commit = ?2, src_subject = ?3, src_date = ?4, src_dirty = ?5,
         src_cmake_args = ?6 WHERE id = ?1 AND src_commit IS NULL",
        params![
            build_id,
            src.commit,
            src.subject,
            src.date,
            src.dirty,
            cmake_args
        ],
    )?;
    Ok(())
}

fn upsert_model(tx: &rusqlite::Transaction, r: &RunRecord) -> rusqlite::Result<i64> {
    let m = &r.model;
    let head = model_head_sha256(Path::new(&m.path), m.size_bytes);
    let key = sha256_json(&(&m.path, m.size_bytes, &head));
    tx.execute(
        "INSERT OR IGNORE INTO models (key, path, size_bytes, head_sha256) VALUES (?1, ?2, ?3, ?4)",
        params![key, m.path, m.size_bytes as i64, head],
    )?;
    tx.query_row("SELECT id FROM models WHERE key = ?1", [key], |row| {
        row.get(0)
    })
}

/// The main generation figure of a run: eval t/s, or for llama-bench the
/// first pure generation test (`tg128`).
pub fn main_eval_tps(r: &RunRecord) -> Option<f64> {
    r.timings
        .as_ref()
        .and_then(|t| t.eval_tps)
        .and_then(|n| n.finite())
        .or_else(|| crate::metrics::generation_test(&r.bench).and_then(|t| t.avg_tps.finite()))
}

fn main_prompt_tps(r: &RunRecord) -> Option<f64> {
    r.timings
        .as_ref()
        .and_then(|t| t.prompt_eval_tps)
        .and_then(|n| n.finite())
        .or_else(|| crate::metrics::prompt_test(&r.bench).and_then(|t| t.avg_tps.finite()))
}

/// The digest of a record not yet stored in `table` (`runs` or
/// `ops_rounds`); None when the same record is there already.
fn new_record(
    tx: &rusqlite::Transaction,
    table: &str,
    json: &str,
) -> rusqlite::Result<Option<String>> {
    let digest = hex::encode(Sha256::digest(json.as_bytes()));
    let exists: Option<i64> = tx
        .query_row(
            &format!("SELECT id FROM {table} WHERE record_sha256 = ?1"),
            [&digest],
            |row| row.get(0),
        )
        .optional()?;
    Ok(exists.is_none().then_some(digest))
}

/// The id of the record's build, added (with its source) if new.
fn record_build(tx: &rusqlite::Transaction, r: &RunRecord) -> rusqlite::Result<i64> {
    let build_id = upsert_build(tx, &BuildKey::of(r), &r.started_at)?;
    if let Some(src) = &r.build.source {
        set_build_source(tx, build_id, src)?;
    }
    Ok(build_id)
}

/// Stores a record not stored yet, keyed to its build: a `tokbench ops`
/// round into `ops_rounds` (and its cases), any other run into `runs`.
fn store_record(
    tx: &rusqlite::Transaction,
    r: &RunRecord,
    source: &str,
    json: &str,
) -> rusqlite::Result<Option<i64>> {
    let ops = ops_rows::is_ops_round(r);
    let Some(digest) = new_record(tx, if ops { "ops_rounds" } else { "runs" }, json)? else {
        return Ok(None);
    };
    let build_id = record_build(tx, r)?;
    let row = ops_rows::NewRow {
        digest: &digest,
        build_id,
        source,
        json,
    };
    match ops {
        true => ops_rows::insert_ops_round(tx, r, &row),
        false => insert_run(tx, r, &row),
    }
    .map(Some)
}

fn insert_run(
    tx: &rusqlite::Transaction,
    r: &RunRecord,
    row: &ops_rows::NewRow,
) -> rusqlite::Result<i64> {
    let (digest, build_id, source, json) = (row.digest, row.build_id, row.source, row.json);
    let model_id = upsert_model(tx, r)?;
    let to_json = |v: &dyn erased::Ser| v.json();
    tx.execute(
        "INSERT INTO runs (record_sha256, build_id, model_id, label, started_at, seq, side, warmup,
         status, source, argv, env, machine, eval_tps, prompt_eval_tps, load_ms, wall_ms,
         gpu_power_w, peak_rss_bytes, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        params![
            digest,
            build_id,
            model_id,
            r.label,
            r.started_at,
            r.seq,
            r.side,
            r.warmup,
            r.status,
            source,
            to_json(&r.argv),
            to_json(&r.env),
            to_json(&r.machine),
            main_eval_tps(r),
            main_prompt_tps(r),
            r.timings.as_ref().and_then(|t| t.load_ms).and_then(|n| n.finite()),
            r.wall_ms,
            r.sampled.as_ref().and_then(|s| s.gpu_power_w_mean),
            r.sampled.as_ref().and_then(|s| s.peak_rss_bytes).map(|b| b as i64),
            json
        ],
    )?;
    let run_id = tx.last_insert_rowid();
    for (i, t) in r.bench.iter().enumerate() {
        tx.execute(
            "INSERT INTO bench_tests (run_id, idx, test, n_prompt, n_gen, n_depth, avg_tps, stddev_tps, samples_tps, key, config)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                run_id,
                i as i64,
                t.test,
                t.n_prompt as i64,
                t.n_gen as i64,
                t.n_depth as i64,
                t.avg_tps.finite(),
                t.stddev_tps.finite(),
                to_json(&t.samples_tps),
                t.key(),
                to_json(&crate::parse::bench::key::parameters(t))
            ],
        )?;
    }
    Ok(run_id)
}

/// Serialising heterogeneous values to JSON text through one closure.
mod erased {
    pub trait Ser {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_else(|_| "null".to_string())
        }
    }
}

/// Where the default database lives: `$XDG_DATA_HOME/tokbench/history.sqlite`
/// (or the platform's data directory).
pub fn default_path() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("tokbench").join("history.sqlite"))
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
