//! `tokbench ops` rounds written into the history (schema 5): the tables'
//! migration, which records are ops rounds, and their rows. Reading them
//! back is [`super::ops_history`].

use rusqlite::params;

use crate::model::RunRecord;

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

/// What `History::record` settled for a record before its row is written.
pub struct NewRow<'a> {
    /// SHA-256 of the record's JSON (the dedup key).
    pub digest: &'a str,
    pub build_id: i64,
    pub source: &'a str,
    pub json: &'a str,
}

/// Stores one ops round and its cases; returns the round's id.
pub(super) fn insert_ops_round(
    tx: &rusqlite::Transaction,
    r: &RunRecord,
    row: &NewRow,
) -> rusqlite::Result<i64> {
    let (digest, build_id, source, json) = (row.digest, row.build_id, row.source, row.json);
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
    Ok(round_id)
}
