//! Ops rounds in the history: stored apart from runs, listed per case,
//! and the migration from a schema 4 database made by the previous tokbench.

use super::*;
use crate::model::RunRecord;
use crate::store::ops_rows::is_ops_round;
use crate::store::query::{query_runs, Filter};

fn case(op: &str, params: &str, time_us: f64, gb_s: f64) -> OpResult {
    OpResult {
        backend: "CPU".into(),
        op: op.into(),
        params: params.into(),
        supported: true,
        time_us,
        bandwidth_gb_s: gb_s,
        memory_kb: 24576,
        n_runs: 512,
        device: "Stand-in CPU".into(),
        ..OpResult::default()
    }
}

/// A successful record of `binary` (no timings, no cases).
fn record(binary: &str) -> RunRecord {
    serde_json::from_value(serde_json::json!({
        "schema_version": 2, "tokbench_version": "0", "label": "test-backend-ops A", "seq": 0,
        "started_at": "2026-12-02T01:00:00Z", "warmup": false,
        "binary": {"path": binary, "sha256": "ab"}, "argv": [], "env": {},
        "build": {"commit": "0c1e570"}, "model": {"path": "", "size_bytes": 0},
        "machine": {"arch": "x86_64", "cpu_logical_cores": 2, "memory_total_bytes": 1},
        "exit": {"code": 0, "signal": null}, "status": "ok", "wall_ms": 1000.0,
        "stdout_bytes": 0, "stderr_bytes": 0
    }))
    .expect("a valid record")
}

fn round(side: &str, seq: u32, times: [f64; 2]) -> RunRecord {
    let mut r = record("/builds/a/bin/test-backend-ops");
    r.side = Some(side.into());
    r.seq = seq;
    r.started_at = format!("2026-12-02T01:0{seq}:00Z");
    r.argv = vec![
        "test-backend-ops".into(),
        "perf".into(),
        "-b".into(),
        "CPU".into(),
    ];
    r.ops = vec![
        case("ADD", "ne=[4096,1,1,1]", times[0], 29.0),
        case("ADD", "ne=[4096,512,1,1]", times[1], 9.0),
        OpResult {
            supported: false,
            ..case("FLASH_ATTN_EXT", "hs=64", 0.0, 0.0)
        },
    ];
    r
}

#[test]
fn a_round_is_stored_with_its_cases_apart_from_the_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
    let id = h.record(&round("a", 0, [1.5, 2600.0]), "run").unwrap();
    assert!(id.is_some());
    // The same record again is skipped.
    assert_eq!(
        h.record(&round("a", 0, [1.5, 2600.0]), "run").unwrap(),
        None
    );
    h.record(&round("a", 1, [1.7, 2500.0]), "run").unwrap();
    h.record(&round("a", 2, [1.6, 2700.0]), "run").unwrap();
    assert!(query_runs(&h, &Filter::default()).unwrap().is_empty());
    let stored = h.stored_ops(&OpsFilter::default()).unwrap();
    assert_eq!(stored.len(), 9);
    assert_eq!(
        stored[1].result,
        case("ADD", "ne=[4096,512,1,1]", 2600.0, 9.0)
    );
    let lines = ops_lines(&stored);
    assert_eq!(lines.len(), 2, "the unsupported case is left out");
    assert_eq!(lines[1].params, "ne=[4096,512,1,1]");
    assert_eq!(lines[1].rounds, 3);
    assert_eq!(lines[1].median_time_us, 2600.0);
    assert_eq!(
        (lines[1].median_gb_s, lines[1].median_tflops),
        (Some(9.0), None)
    );
    assert_eq!(lines[1].last_round, "2026-12-02T01:02:00Z");
    let later = OpsFilter {
        since: Some("2026-12-02T01:01:00Z".into()),
        ..OpsFilter::default()
    };
    assert_eq!(h.stored_ops(&later).unwrap().len(), 6);
    let other = OpsFilter {
        builds: Some(vec![stored[0].build_id + 1]),
        ..OpsFilter::default()
    };
    assert!(h.stored_ops(&other).unwrap().is_empty());
}

#[test]
fn a_failed_round_of_test_backend_ops_is_an_ops_round_without_cases() {
    let mut r = round("b", 0, [1.0, 1.0]);
    r.ops.clear();
    r.status = "failed".into();
    assert!(is_ops_round(&r));
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
    h.record(&r, "run").unwrap();
    let n: i64 = h
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM ops_rounds WHERE status = 'failed'",
            [],
            |x| x.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    assert!(h.stored_ops(&OpsFilter::default()).unwrap().is_empty());
    assert!(!is_ops_round(&record("/builds/a/bin/llama-completion")));
}

#[test]
fn a_schema_4_database_of_the_previous_tokbench_migrates_and_keeps_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.sqlite");
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/history/v4_main_8ec6055.sqlite"
    );
    std::fs::copy(fixture, &path).unwrap();
    let before: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(before, 4);
    let mut h = History::open(&path).unwrap();
    let v: i64 = h
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, crate::store::history::SCHEMA_VERSION);
    let runs = query_runs(&h, &Filter::default()).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].label, "cpu-bench");
    h.record(&round("a", 0, [1.5, 2600.0]), "run").unwrap();
    assert_eq!(h.stored_ops(&OpsFilter::default()).unwrap().len(), 3);
    assert_eq!(query_runs(&h, &Filter::default()).unwrap().len(), 1);
    // Opening again migrates nothing twice.
    drop(h);
    let h = History::open(&path).unwrap();
    assert_eq!(h.stored_ops(&OpsFilter::default()).unwrap().len(), 3);
}

#[test]
fn importing_an_ops_results_file_stores_its_rounds_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.jsonl");
    let lines: Vec<String> = [round("a", 0, [1.5, 2600.0]), round("b", 1, [1.6, 2900.0])]
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
    let c = crate::store::import::import_file(&mut h, &file, None).unwrap();
    assert_eq!((c.runs_added, c.runs_skipped), (2, 0));
    let again = crate::store::import::import_file(&mut h, &file, None).unwrap();
    assert_eq!((again.runs_added, again.runs_skipped), (0, 2));
    let stored = h.stored_ops(&OpsFilter::default()).unwrap();
    assert_eq!(stored.len(), 6);
    assert_eq!(stored[4].side.as_deref(), Some("b"));
    assert_eq!(stored[4].result.time_us, 2900.0);
    assert!(query_runs(&h, &Filter::default()).unwrap().is_empty());
}
