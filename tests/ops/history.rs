//! `tokbench ops` rounds in the history database: stored per case,
//! listed by `history --ops`, exported in test-backend-ops' table.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use super::build_dir;
use crate::{stderr, stdout, TOKBENCH};

fn tokbench(root: &Path, args: &[&str]) -> Output {
    Command::new(TOKBENCH)
        .env_remove("TOKBENCH_NO_HISTORY")
        .env_remove("TOKBENCH_DB")
        .args(args)
        .current_dir(root)
        .output()
        .unwrap()
}

#[test]
fn ops_rounds_are_stored_listed_and_exported() {
    let t = tempfile::tempdir().unwrap();
    let a = build_dir(t.path(), "a", "noise 0.003\n");
    let b = build_dir(t.path(), "b", "noise 0.003\nscale MUL_MAT 1.10\n");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let side = [
        "ops", "--a", a, "--b", b, "--device", "CPU", "--rounds", "3",
    ];
    let o = tokbench(t.path(), &[&side[..], &["--db", "h.sqlite"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = tokbench(
        t.path(),
        &["history", "--ops", "--db", "h.sqlite", "--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    // Two builds x three cases, three rounds each.
    assert_eq!(lines.len(), 6, "{lines:?}");
    assert!(lines.iter().all(|l| l["rounds"] == 3));
    let mm: Vec<f64> = lines
        .iter()
        .filter(|l| l["op"] == "MUL_MAT")
        .map(|l| l["median_time_us"].as_f64().unwrap())
        .collect();
    assert!((mm[1] / mm[0] - 1.10).abs() < 0.02, "{mm:?}");
    assert_eq!(lines[0]["label"], "test-backend-ops A");
    // The rounds are not generation runs: the run listing stays empty.
    let o = tokbench(
        t.path(),
        &["history", "--runs", "--db", "h.sqlite", "--json"],
    );
    assert_eq!(stdout(&o).trim(), "[]");
    let o = tokbench(
        t.path(),
        &[
            "history",
            "--ops",
            "--db",
            "h.sqlite",
            "--label",
            "test-backend-ops B",
        ],
    );
    let table = stdout(&o);
    assert!(
        table.contains("MUL_MAT") && !table.contains("test-backend-ops A"),
        "{table}"
    );
    assert!(
        table.contains("time/run") && table.contains("GB/s"),
        "{table}"
    );
    let o = tokbench(
        t.path(),
        &[
            "export",
            "--format",
            "test-backend-ops-sqlite",
            "--db",
            "h.sqlite",
            "ops.sqlite",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let conn = rusqlite::Connection::open(t.path().join("ops.sqlite")).unwrap();
    let (rows, builds): (i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT build_commit) FROM test_backend_ops",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((rows, builds), (18, 2));
    // --no-history: nothing more is stored.
    let o = tokbench(
        t.path(),
        &[&side[..], &["--db", "h.sqlite", "--no-history"]].concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = tokbench(
        t.path(),
        &["history", "--ops", "--db", "h.sqlite", "--json"],
    );
    let lines: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(lines.iter().all(|l| l["rounds"] == 3));
}

#[test]
fn an_explicit_database_that_cannot_be_opened_is_an_error_for_ops() {
    let t = tempfile::tempdir().unwrap();
    let a = build_dir(t.path(), "a", "");
    std::fs::write(t.path().join("not.sqlite"), "plain text").unwrap();
    let args = [
        "ops",
        "--a",
        a.to_str().unwrap(),
        "--rounds",
        "1",
        "--db",
        "not.sqlite",
    ];
    let o = tokbench(t.path(), &args);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not a SQLite database"),
        "{}",
        stderr(&o)
    );
}

/// compare-llama-bench.py --tool test-backend-ops (pinned llama.cpp tree)
/// reads `export --format test-backend-ops-sqlite`. Skipped, with a message,
/// when python3, GitPython or tabulate is missing (not where .ci/run set
/// TOKBENCH_COMPARE_LLAMA_BENCH).
#[test]
fn compare_llama_bench_py_reads_the_ops_export() {
    let explicit = std::env::var("TOKBENCH_COMPARE_LLAMA_BENCH").ok();
    let script = explicit
        .clone()
        .unwrap_or(crate::history::COMPARE_SCRIPT.into());
    let have = Command::new("python3")
        .args(["-c", "import git, tabulate"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !Path::new(&script).exists() || !have {
        assert!(
            explicit.is_none(),
            "{script} or GitPython/tabulate is missing"
        );
        eprintln!("skipped: needs {script} and python3 with GitPython and tabulate");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let a = build_dir(t.path(), "a", "");
    let b = build_dir(t.path(), "b", "scale MUL_MAT 1.25\n");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let args = [
        "ops", "--a", a, "--b", b, "--device", "CPU", "--rounds", "2", "--db", "h.sqlite",
    ];
    assert_eq!(tokbench(t.path(), &args).status.code(), Some(0));
    let export = [
        "export",
        "--format",
        "test-backend-ops-sqlite",
        "--db",
        "h.sqlite",
        "o.sqlite",
    ];
    let o = tokbench(t.path(), &export);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let names: Vec<String> = {
        let conn = rusqlite::Connection::open(t.path().join("o.sqlite")).unwrap();
        let mut stmt = conn
            .prepare("SELECT build_commit FROM test_backend_ops GROUP BY build_commit ORDER BY MIN(rowid)")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(names.len(), 2, "{names:?}");
    let o = Command::new("python3")
        .args([
            &script,
            "--tool",
            "test-backend-ops",
            "-i",
            "o.sqlite",
            "-b",
            &names[0],
            "-c",
            &names[1],
        ])
        .current_dir(t.path())
        .output()
        .unwrap();
    let table = stdout(&o);
    assert!(o.status.success(), "{table}\n{}", stderr(&o));
    // No noise: MUL_MAT's rate falls to 1/1.25, the others stay.
    let mm = table
        .lines()
        .find(|l| l.contains("MUL_MAT"))
        .unwrap_or_default();
    assert!(mm.trim_end().ends_with("0.80 |"), "{table}");
    let add = table
        .lines()
        .find(|l| l.contains("| ADD"))
        .unwrap_or_default();
    assert!(add.trim_end().ends_with("1.00 |"), "{table}");
}
