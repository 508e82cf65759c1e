//! `tokbench ops` rounds in the history: one `ops_rounds` row per
//! test-backend-ops invocation (keyed to its build like a run, the whole
//! record kept as JSON) and one `op_results` row per case it printed.
//! They are not generation runs (no model, no tokens per second), so they
//! stay out of `runs` and of the listings and exports built on it;
//! `tokbench history --ops` lists them per build and case, and `tokbench
//! export --format test-backend-ops-sqlite` writes them in test-backend-ops'
//! own table.

use rusqlite::params;
use serde::Serialize;

use super::history::{new_record, record_build, History, HistoryError};
use crate::model::{op_rate, OpResult, RunRecord};
use crate::stats::median;

/// Migration 5: the tables of `tokbench ops` rounds.
pub const MIGRATION: &str = r#"
CREATE TABLE ops_rounds (
    id INTEGER PRIMARY KEY,
    record_sha256 TEXT NOT NULL UNIQUE,
    build_id INTEGER NOT NULL REFERENCES builds(id),
    label TEXT NOT NULL,
    started_at TEXT NOT NULL,
    seq INTEGER NOT NULL,
    side TEXT,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    argv TEXT NOT NULL,
    machine TEXT NOT NULL,
    wall_ms REAL,
    record TEXT NOT NULL
);
CREATE INDEX ops_rounds_build ON ops_rounds(build_id, started_at);
CREATE TABLE op_results (
    round_id INTEGER NOT NULL REFERENCES ops_rounds(id),
    idx INTEGER NOT NULL,
    backend TEXT NOT NULL,
    op TEXT NOT NULL,
    params TEXT NOT NULL,
    supported INTEGER NOT NULL,
    time_us REAL,
    flops REAL,
    bandwidth_gb_s REAL,
    memory_kb INTEGER,
    n_runs INTEGER,
    device TEXT,
    build_commit TEXT,
    test_time TEXT,
    PRIMARY KEY (round_id, idx)
);
CREATE INDEX op_results_case ON op_results(op, params);
"#;

/// A record of a `tokbench ops` round: it carries op cases, or its binary
/// is test-backend-ops (a failed round has no cases).
pub fn is_ops_round(r: &RunRecord) -> bool {
    !r.ops.is_empty()
        || std::path::Path::new(&r.binary.path)
            .file_name()
            .is_some_and(|n| n == "test-backend-ops")
}

/// Stores one ops round and its cases; None when the same record is stored.
pub(super) fn insert_ops_round(
    tx: &rusqlite::Transaction,
    r: &RunRecord,
    source: &str,
    json: &str,
) -> rusqlite::Result<Option<i64>> {
    let Some(digest) = new_record(tx, "ops_rounds", json)? else {
        return Ok(None);
    };
    let build_id = record_build(tx, r)?;
    let text = |v: &dyn Fn() -> serde_json::Result<String>| v().unwrap_or_default();
    tx.execute(
        "INSERT INTO ops_rounds (record_sha256, build_id, label, started_at, seq, side, status,
         source, argv, machine, wall_ms, record) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
        params![
            digest,
            build_id,
            r.label,
            r.started_at,
            r.seq,
            r.side,
            r.status,
            source,
            text(&|| serde_json::to_string(&r.argv)),
            text(&|| serde_json::to_string(&r.machine)),
            r.wall_ms,
            json
        ],
    )?;
    let round_id = tx.last_insert_rowid();
    for (i, o) in r.ops.iter().enumerate() {
        tx.execute(
            "INSERT INTO op_results (round_id, idx, backend, op, params, supported, time_us, flops,
             bandwidth_gb_s, memory_kb, n_runs, device, build_commit, test_time)
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
            params![
                round_id,
                i as i64,
                o.backend,
                o.op,
                o.params,
                o.supported,
                o.time_us.is_finite().then_some(o.time_us),
                o.flops.is_finite().then_some(o.flops),
                o.bandwidth_gb_s.is_finite().then_some(o.bandwidth_gb_s),
                o.memory_kb as i64,
                o.n_runs as i64,
                o.device,
                o.build_commit,
                o.test_time
            ],
        )?;
    }
    Ok(Some(round_id))
}

/// One stored case of one successful round, with its build.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredOp {
    pub round_id: i64,
    pub build_id: i64,
    pub build_key: String,
    pub commit: Option<String>,
    pub label: String,
    pub side: Option<String>,
    pub started_at: String,
    pub result: OpResult,
}

/// Which stored rounds: builds (all when None), a label, a start time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpsFilter {
    pub builds: Option<Vec<i64>>,
    pub label: Option<String>,
    pub since: Option<String>,
}

const STORED_OPS: &str =
    "SELECT r.id, r.build_id, b.key, b.commit_hash, r.label, r.side, r.started_at,
    o.backend, o.op, o.params, o.supported, o.time_us, o.flops, o.bandwidth_gb_s, o.memory_kb,
    o.n_runs, o.device, o.build_commit, o.test_time
    FROM op_results o JOIN ops_rounds r ON r.id = o.round_id JOIN builds b ON b.id = r.build_id
    WHERE r.status = 'ok' AND (?1 IS NULL OR r.label = ?1) AND (?2 IS NULL OR r.started_at >= ?2)
    ORDER BY r.started_at, r.id, o.idx";

fn stored_op(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredOp> {
    let num = |i: usize| -> rusqlite::Result<f64> {
        Ok(row.get::<_, Option<f64>>(i)?.unwrap_or(f64::NAN))
    };
    let count = |i: usize| -> rusqlite::Result<u64> { Ok(row.get::<_, i64>(i)?.max(0) as u64) };
    Ok(StoredOp {
        round_id: row.get(0)?,
        build_id: row.get(1)?,
        build_key: row.get(2)?,
        commit: row.get(3)?,
        label: row.get(4)?,
        side: row.get(5)?,
        started_at: row.get(6)?,
        result: OpResult {
            backend: row.get(7)?,
            op: row.get(8)?,
            params: row.get(9)?,
            supported: row.get(10)?,
            time_us: num(11)?,
            flops: num(12)?,
            bandwidth_gb_s: num(13)?,
            memory_kb: count(14)?,
            n_runs: count(15)?,
            device: row.get::<_, Option<String>>(16)?.unwrap_or_default(),
            build_commit: row.get::<_, Option<String>>(17)?.unwrap_or_default(),
            test_time: row.get::<_, Option<String>>(18)?.unwrap_or_default(),
            error: String::new(),
        },
    })
}

impl History {
    /// The cases of the successful rounds the filter matches, oldest first.
    pub fn stored_ops(&self, f: &OpsFilter) -> Result<Vec<StoredOp>, HistoryError> {
        let mut stmt = self.conn().prepare(STORED_OPS).map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(params![f.label, f.since], stored_op)
            .map_err(|e| self.sql(e))?;
        let all = rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.sql(e))?;
        Ok(all
            .into_iter()
            .filter(|s| f.builds.as_ref().is_none_or(|b| b.contains(&s.build_id)))
            .collect())
    }
}

/// One line of `tokbench history --ops`: a build's figures for one case,
/// medians over its stored rounds (unsupported cases left out).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpsLine {
    pub build_id: i64,
    pub label: String,
    pub commit: Option<String>,
    pub backend: String,
    pub op: String,
    pub params: String,
    pub device: String,
    pub rounds: usize,
    pub median_time_us: f64,
    /// Median TFLOPS for a compute-bound case, else None.
    pub median_tflops: Option<f64>,
    /// Median GB/s for a memory-bound case, else None.
    pub median_gb_s: Option<f64>,
    pub last_round: String,
}

/// Groups stored cases by (build, label, backend, op, params), in the order
/// each group was first seen.
pub fn ops_lines(stored: &[StoredOp]) -> Vec<OpsLine> {
    let mut groups: Vec<(OpsLine, Vec<&OpResult>)> = Vec::new();
    for s in stored.iter().filter(|s| s.result.usable_time().is_some()) {
        let r = &s.result;
        let same = |l: &OpsLine| {
            (l.build_id, &l.label, &l.backend, &l.op, &l.params)
                == (s.build_id, &s.label, &r.backend, &r.op, &r.params)
        };
        match groups.iter_mut().find(|(l, _)| same(l)) {
            Some((l, v)) => {
                l.last_round = s.started_at.clone();
                v.push(r);
            }
            None => groups.push((line_of(s), vec![r])),
        }
    }
    groups
        .into_iter()
        .map(|(mut l, v)| {
            let med = |f: fn(&OpResult) -> f64| median(&v.iter().map(|r| f(r)).collect::<Vec<_>>());
            let (tflops, gb_s) = op_rate(med(|r| r.flops), med(|r| r.bandwidth_gb_s));
            l.rounds = v.len();
            l.median_time_us = med(|r| r.time_us);
            (l.median_tflops, l.median_gb_s) = (tflops, gb_s);
            l
        })
        .collect()
}

fn line_of(s: &StoredOp) -> OpsLine {
    OpsLine {
        build_id: s.build_id,
        label: s.label.clone(),
        commit: s.commit.clone(),
        backend: s.result.backend.clone(),
        op: s.result.op.clone(),
        params: s.result.params.clone(),
        device: s.result.device.clone(),
        rounds: 0,
        median_time_us: f64::NAN,
        median_tflops: None,
        median_gb_s: None,
        last_round: s.started_at.clone(),
    }
}

#[cfg(test)]
#[path = "ops_history_tests.rs"]
mod tests;
