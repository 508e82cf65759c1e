//! `tokbench ops` end to end: two "builds" of the test-backend-ops stand-in
//! (`tests/support/standin_ops.rs`), one with a planted 10% slowdown of
//! MUL_MAT; and the real test-backend-ops on CPU when CI built it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::{stderr, stdout, TOKBENCH};

const STANDIN_OPS: &str = env!("CARGO_BIN_EXE_tokbench-standin-ops");

mod auto;
mod history;

/// A directory holding `test-backend-ops` (a link to the stand-in) and its config.
fn build_dir(root: &Path, name: &str, conf: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(STANDIN_OPS, dir.join("test-backend-ops")).unwrap();
    std::fs::write(dir.join("standin-ops.conf"), conf).unwrap();
    dir
}

fn ops(root: &Path, args: &[&str]) -> Output {
    Command::new(TOKBENCH)
        .env("TOKBENCH_NO_HISTORY", "1")
        .arg("ops")
        .args(args)
        .current_dir(root)
        .output()
        .unwrap()
}

fn rows(json: &Value) -> Vec<(String, String)> {
    json["comparison"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["op"].as_str().unwrap().to_string(),
                r["verdict_text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_planted_ten_percent_slowdown_of_one_op_is_judged_slower_the_others_not() {
    let t = tempfile::tempdir().unwrap();
    let a = build_dir(t.path(), "a", "noise 0.003\nalloc_noise 1\n");
    let b = build_dir(t.path(), "b", "noise 0.003\nscale MUL_MAT 1.10\n");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let o = ops(
        t.path(),
        &[
            "--a",
            a,
            "--b",
            b,
            "--device",
            "CPU",
            "--json",
            "--export-sql",
            "o.sqlite",
            "-o",
            "r.jsonl",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let got = rows(&json);
    assert_eq!(
        got[0],
        ("MUL_MAT".to_string(), "slower".to_string()),
        "{got:?}"
    );
    for (op, verdict) in &got[1..] {
        assert_eq!(verdict, "no significant change", "{op}");
    }
    let mm = &json["comparison"]["rows"][0];
    let change = mm["change_pct"].as_f64().unwrap();
    assert!((change - 10.0).abs() < 0.5, "{change}");
    assert_eq!(json["rounds"], 10);
    // 20 invocations on disk, ABBA order.
    let lines: Vec<Value> = std::fs::read_to_string(t.path().join("r.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sides: String = lines
        .iter()
        .take(4)
        .map(|l| l["side"].as_str().unwrap().to_uppercase())
        .collect();
    assert_eq!((lines.len(), sides.as_str()), (20, "ABBA"));
    // Each line is a run record of the engine, its cases in `ops`.
    assert_eq!(lines[0]["status"], "ok");
    assert_eq!(lines[0]["argv"][1], "perf");
    assert_eq!(lines[1]["ops"].as_array().unwrap().len(), 3);
    assert_eq!(lines[1]["ops"][1]["op"], "MUL_MAT");
    assert!(lines[1]["ops"][1]["time_us"].as_f64().unwrap() > 2000.0);
    let conn = rusqlite::Connection::open(t.path().join("o.sqlite")).unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(DISTINCT build_commit) FROM test_backend_ops",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn fail_if_slower_exits_3_only_beyond_the_limit() {
    let t = tempfile::tempdir().unwrap();
    let a = build_dir(t.path(), "a", "noise 0.003\n");
    let b = build_dir(t.path(), "b", "noise 0.003\nscale MUL_MAT 1.10\n");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let o = ops(
        t.path(),
        &[
            "--a",
            a,
            "--b",
            b,
            "--device",
            "CPU",
            "--fail-if-slower",
            "5",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("--fail-if-slower 5%: REGRESSION in 1 case(s)"),
        "{}",
        stdout(&o)
    );
    let o = ops(
        t.path(),
        &[
            "--a",
            a,
            "--b",
            b,
            "--device",
            "CPU",
            "--fail-if-slower",
            "20",
            "--op",
            "MUL_MAT,ADD",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("2 op case(s): 1 slower"), "{out}");
    assert!(!out.contains("SOFT_MAX"), "{out}");
}

#[test]
fn an_old_console_build_against_an_sql_build_matches_the_same_cases() {
    let t = tempfile::tempdir().unwrap();
    let a = build_dir(t.path(), "a", "console 1\n");
    let b = build_dir(t.path(), "b", "");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let o = ops(
        t.path(),
        &["--a", a, "--b", b, "--rounds", "6", "--format", "markdown"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("| MUL_MAT |"), "{out}");
    assert!(out.contains("3 op case(s)"), "{out}");
    assert!(!out.contains("only in A"), "{out}");
    // --device defaulted to CPU: the stand-in lists no GPU.
    assert!(out.contains("perf -b CPU"), "{out}");
}

#[test]
fn one_build_alone_is_summarised_and_a_missing_binary_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    let a = build_dir(t.path(), "a", "");
    let o = ops(
        t.path(),
        &["--a", a.to_str().unwrap(), "--rounds", "2", "--op", "ADD"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("time/run (median)") && out.contains("400.00 us"),
        "{out}"
    );
    let o = ops(t.path(), &["--a", t.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is neither test-backend-ops nor a directory holding it"),
        "{}",
        stderr(&o)
    );
}

/// The real test-backend-ops of the pinned tree on CPU, two cases of at
/// least a second each, the build against itself (CI sets
/// TOKBENCH_TEST_BACKEND_OPS through scripts/quickstart.sh).
#[test]
fn real_test_backend_ops_on_cpu_against_itself() {
    let Some(bin) = std::env::var_os("TOKBENCH_TEST_BACKEND_OPS").filter(|v| !v.is_empty()) else {
        eprintln!("TOKBENCH_TEST_BACKEND_OPS is not set: skipping the real test-backend-ops test");
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let bin = PathBuf::from(bin);
    let args = [
        "--a",
        bin.to_str().unwrap(),
        "--b",
        bin.to_str().unwrap(),
        "--device",
        "CPU",
    ];
    let filter = [
        "--op",
        "ADD",
        "--params",
        r"ne=\[4096",
        "--rounds",
        "2",
        "--json",
        "-o",
        "r.jsonl",
    ];
    let o = ops(t.path(), &[&args[..], &filter[..]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = json["comparison"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{json}");
    for r in rows {
        assert_eq!(r["op"], "ADD");
        assert!(r["params"].as_str().unwrap().contains("ne=[4096,"));
        assert!(r["a"]["time_us"].as_f64().unwrap() > 0.0);
        assert!(r["b"]["gb_s"].as_f64().unwrap() > 0.0);
        // Two rounds cannot carry an interval: never a claim.
        assert_eq!(r["verdict_text"], "inconclusive");
    }
    let text = std::fs::read_to_string(t.path().join("r.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 4);
}

#[test]
fn kernels_summarises_an_ncu_export_and_diffs_two() {
    let dir = format!("{}/fixtures/profile", env!("CARGO_MANIFEST_DIR"));
    let ncu = format!("{dir}/ncu_base_units.csv");
    let o = Command::new(TOKBENCH)
        .args(["kernels", &ncu])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("ncu: 2 kernel(s), 0.249 ms of kernel time"),
        "{out}"
    );
    assert!(out.contains("MUL_MAT") && out.contains("RMS_NORM"), "{out}");
    let nsys = format!("{dir}/nsys_cuda_gpu_kern_sum.csv");
    let o = Command::new(TOKBENCH)
        .args(["kernels", &nsys, &nsys, "--json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["diff"][0]["change_pct"], 0.0);
    let o = Command::new(TOKBENCH)
        .args(["kernels", "Cargo.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("Cargo.toml: neither an nsys"),
        "{}",
        stderr(&o)
    );
}
