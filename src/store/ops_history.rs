//! `tokbench ops` rounds in the history, read back: one `ops_rounds` row
//! per test-backend-ops invocation (keyed to its build like a run, the
//! whole record kept as JSON) and one `op_results` row per case it printed
//! (written by [`super::ops_rows`]). They are not generation runs (no model, no tokens per second), so they
//! stay out of `runs` and of the listings and exports built on it;
//! `tokbench history --ops` lists them per build and case, and `tokbench
//! export --format test-backend-ops-sqlite` writes them in test-backend-ops'
//! own table.

use rusqlite::params;
use serde::Serialize;

use super::history::{History, HistoryError};
use crate::model::{op_rate, OpResult};
use crate::stats::median;

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
