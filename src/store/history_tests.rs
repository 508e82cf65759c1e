use super::*;
use crate::model::{BinaryInfo, BuildInfo, ExitInfo, MachineInfo, ModelInfo, Num, Timings};

fn record(sha: &str, commit: &str, eval: f64, at: &str) -> RunRecord {
    RunRecord {
        schema_version: 1,
        tokbench_version: "0.1.0".into(),
        label: format!("build-{commit}"),
        seq: 0,
        started_at: at.into(),
        warmup: false,
        side: None,
        cell: None,
        binary: BinaryInfo {
            path: "/opt/llama/llama-completion".into(),
            sha256: sha.into(),
            libs_sha256: None,
        },
        argv: vec!["llama-completion".into(), "-n".into(), "16".into()],
        env: Default::default(),
        build: BuildInfo {
            commit: Some(commit.into()),
            build_number: Some(7),
            backend: Some("CPU".into()),
            ..BuildInfo::default()
        },
        model: ModelInfo {
            path: "/nonexistent/model.gguf".into(),
            size_bytes: 1234,
            gguf: None,
        },
        machine: MachineInfo::default(),
        exit: ExitInfo::default(),
        status: "ok".into(),
        error: None,
        wall_ms: 100.0,
        timings: Some(Timings {
            eval_tps: Some(Num(eval)),
            ..Timings::default()
        }),
        blocks: vec![],
        bench: vec![],
        stdout_bytes: 0,
        stderr_bytes: 0,
        warnings: vec![],
        notes: vec![],
        sampled: None,
        timeline: vec![],
        ops: vec![],
    }
}

fn count(h: &History, table: &str) -> i64 {
    h.conn()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn new_database_is_migrated_to_the_current_version_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let h = History::open(&dir.path().join("sub/h.sqlite")).unwrap();
    let v: i64 = h
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    let mode: String = h
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // Opening again applies nothing twice.
    drop(h);
    let h = History::open(&dir.path().join("sub/h.sqlite")).unwrap();
    assert_eq!(count(&h, "builds"), 0);
}

#[test]
fn same_commit_with_different_binary_hash_is_two_builds() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
    let t = "2026-01-01T00:00:00Z";
    assert!(h
        .record(&record("aa", "0c1e570", 50.0, t), "run")
        .unwrap()
        .is_some());
    let t2 = "2026-01-01T00:00:01Z";
    h.record(&record("aa", "0c1e570", 51.0, t2), "run").unwrap();
    h.record(&record("bb", "0c1e570", 60.0, t2), "run").unwrap();
    assert_eq!(count(&h, "builds"), 2);
    assert_eq!(count(&h, "runs"), 3);
    assert_eq!(count(&h, "models"), 1);
    let evals: Vec<f64> = h
        .conn()
        .prepare("SELECT eval_tps FROM runs ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|v| v.unwrap())
        .collect();
    assert_eq!(evals, vec![50.0, 51.0, 60.0]);
}

#[test]
fn the_same_record_twice_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
    let r = record("aa", "abc1234", 50.0, "2026-01-01T00:00:00Z");
    assert!(h.record(&r, "run").unwrap().is_some());
    assert_eq!(h.record(&r, "import:tokbench-jsonl").unwrap(), None);
    assert_eq!(count(&h, "runs"), 1);
}

#[test]
fn newer_schema_is_refused_and_the_file_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = History::open(&path).err().expect("must refuse");
    let text = err.to_string();
    assert!(
        matches!(err, HistoryError::Newer { found: 99, .. }),
        "{text}"
    );
    assert!(
        text.contains("schema version 99") && text.contains("left untouched"),
        "{text}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(!dir.path().join("h.sqlite-wal").exists());
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    std::fs::write(&path, b"{\"not\": \"a database\"}\n").unwrap();
    let err = History::open(&path).err().expect("must refuse");
    assert!(matches!(err, HistoryError::NotSqlite { .. }), "{err}");
    assert!(err.to_string().contains("--db"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"{\"not\": \"a database\"}\n".to_vec()
    );
}

#[test]
fn a_damaged_database_gives_an_error_not_a_new_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let mut bytes = SQLITE_MAGIC.to_vec();
    bytes.extend(vec![0xffu8; 4096]);
    std::fs::write(&path, &bytes).unwrap();
    let err = History::open(&path).err().expect("must refuse");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn model_hash_covers_header_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.gguf");
    std::fs::write(&p, b"GGUF-header").unwrap();
    let a = model_head_sha256(&p, 11).unwrap();
    assert_ne!(a, model_head_sha256(&p, 12).unwrap());
    std::fs::write(&p, b"GGUF-HEADER").unwrap();
    assert_ne!(a, model_head_sha256(&p, 11).unwrap());
    assert_eq!(model_head_sha256(&dir.path().join("none"), 1), None);
}
