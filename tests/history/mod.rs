//! The SQLite history through the real CLI: recording runs, listing builds,
//! comparing from the database, llama-bench import and export, two writers
//! at once, and compare-llama-bench.py reading the export.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use super::{json, stderr, stdout, Sandbox, STANDIN};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/llama-bench");
pub(crate) const COMPARE_SCRIPT: &str =
    "/root/.cache/tokbench/llama.cpp-0c1e570/src/scripts/compare-llama-bench.py";

fn db(sb: &Sandbox) -> PathBuf {
    sb.path("history.sqlite")
}

/// A copy of the stand-in with extra bytes: another build of the same program.
fn standin_copy(sb: &Sandbox, name: &str, extra: &[u8]) -> String {
    let p = sb.path(name);
    let mut bytes = std::fs::read(STANDIN).unwrap();
    bytes.extend_from_slice(extra);
    std::fs::write(&p, bytes).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}

fn run_bin(sb: &Sandbox, bin: &str, label: &str, eval: &str, reps: &str) -> Output {
    let model = sb.model();
    sb.cmd(&[
        "run",
        "--bin",
        bin,
        "-m",
        &model,
        "--reps",
        reps,
        "-n",
        "8",
        "--label",
        label,
        "--sampler",
        "none",
    ])
    .env("STANDIN_EVAL_TPS", eval)
    .output()
    .unwrap()
}

fn history_json(sb: &Sandbox, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["history", "--json"];
    args.extend_from_slice(extra);
    let o = sb.cmd(&args).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    json(&o).as_array().unwrap().clone()
}

fn import(sb: &Sandbox, files: &[&Path]) -> (Output, Vec<Value>) {
    let mut args: Vec<String> = vec!["import".into(), "--json".into()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = sb.cmd(&refs).output().unwrap();
    let counts = serde_json::from_slice::<Value>(&o.stdout)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    (o, counts)
}

#[test]
fn every_run_is_recorded_under_its_build_and_listed() {
    let sb = Sandbox::new();
    let a = standin_copy(&sb, "llama-a", b"");
    let b = standin_copy(&sb, "llama-b", b"-O3");
    assert_eq!(run_bin(&sb, &a, "base", "40", "3").status.code(), Some(0));
    assert_eq!(run_bin(&sb, &b, "fast", "44", "3").status.code(), Some(0));
    assert_eq!(run_bin(&sb, &a, "base", "40", "2").status.code(), Some(0));
    assert!(db(&sb).exists());
    let builds = history_json(&sb, &[]);
    assert_eq!(builds.len(), 2, "{builds:?}");
    let base = builds.iter().find(|b| b["label"] == "base").unwrap();
    assert_eq!(base["runs"], 5);
    assert_eq!(base["median_eval_tps"], 40.0);
    let fast = builds.iter().find(|b| b["label"] == "fast").unwrap();
    assert_eq!(fast["runs"], 3);
    assert_eq!(fast["median_eval_tps"], 44.0);
    // Warmup runs are stored too, flagged.
    let runs = history_json(&sb, &["--runs", "--label", "fast"]);
    assert_eq!(runs.len(), 4);
    assert_eq!(runs.iter().filter(|r| r["warmup"] == true).count(), 1);
    // Filters.
    assert_eq!(history_json(&sb, &["--since", "2000-01-01"]).len(), 2);
    assert_eq!(history_json(&sb, &["--since", "2999-01-01"]).len(), 0);
    assert_eq!(history_json(&sb, &["--model", "nomatch"]).len(), 0);
    let table = stdout(&sb.cmd(&["history"]).output().unwrap());
    assert!(
        table.contains("median t/s") && table.contains(" eval ") && table.contains("fast"),
        "{table}"
    );
}

#[test]
fn compare_from_history_gives_the_verdict_and_says_runs_were_not_interleaved() {
    let sb = Sandbox::new();
    let a = standin_copy(&sb, "llama-a", b"");
    let b = standin_copy(&sb, "llama-b", b"x");
    for (bin, label, eval) in [(&a, "base", "40"), (&b, "slow", "30")] {
        let o = sb
            .cmd(&[
                "run",
                "--bin",
                bin,
                "-m",
                &sb.model(),
                "--reps",
                "8",
                "-n",
                "8",
                "--label",
                label,
                "--sampler",
                "none",
            ])
            .env("STANDIN_EVAL_TPS", eval)
            .env("STANDIN_NOISE", "0.01")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let o = sb
        .cmd(&["compare", "--from-history", "base", "slow", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(r["interleaved"], false);
    assert_eq!(r["a"]["runs"], 8);
    assert_eq!(r["b"]["label"], "slow");
    let eval = r["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "eval_tps")
        .unwrap();
    assert_eq!(eval["verdict_text"], "slower");
    let change = eval["change_pct"].as_f64().unwrap();
    assert!((change - -25.0).abs() < 2.0, "{change}");
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("not interleaved"), "{warnings}");
    // By build id too, and an unknown build is a clear error.
    let ids: Vec<String> = history_json(&sb, &[])
        .iter()
        .map(|b| b["id"].to_string())
        .collect();
    let o = sb
        .cmd(&[
            "compare",
            "--from-history",
            &ids[0],
            &ids[1],
            "--fail-if-slower",
            "5",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let o = sb
        .cmd(&["compare", "--from-history", "base", "nosuch"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no build in the history matches 'nosuch'"));
}

#[test]
fn no_history_and_explicit_unusable_db() {
    let sb = Sandbox::new();
    let o = sb.run(&["--reps", "1", "--no-history", "--sampler", "none"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!db(&sb).exists());
    let o = sb
        .cmd(&["run", "--bin", STANDIN, "-m", &sb.model(), "--reps", "1"])
        .env("TOKBENCH_NO_HISTORY", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(!db(&sb).exists());
    // An explicit --db that is not a database: exit 1 before any run, file untouched.
    std::fs::write(sb.path("notdb"), "hello\n").unwrap();
    let bad = sb.path("notdb").display().to_string();
    let runs_before = sb.argvs().len();
    let o = sb.run(&["--reps", "1", "--db", &bad]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not a SQLite database"),
        "{}",
        stderr(&o)
    );
    assert!(
        sb.argvs().len() == runs_before,
        "the binary was run: {:?}",
        sb.argvs()
    );
    assert_eq!(
        std::fs::read_to_string(sb.path("notdb")).unwrap(),
        "hello\n"
    );
    // The default database unusable: a warning, and the run goes on.
    let o = sb
        .cmd(&["run", "--bin", STANDIN, "-m", &sb.model(), "--reps", "1"])
        .env_remove("TOKBENCH_DB")
        .env("XDG_DATA_HOME", &bad)
        .env("HOME", &bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("will not be recorded"),
        "{}",
        stderr(&o)
    );
}

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

#[test]
fn import_reads_each_llama_bench_format_with_exact_values() {
    let sb = Sandbox::new();
    let files = [
        ("2026_current_cpu.json", "llama-bench-json"),
        ("2026_current_cpu.jsonl", "llama-bench-jsonl"),
        ("2026_current_cpu.csv", "llama-bench-csv"),
        ("2026_current_cpu.md", "llama-bench-md"),
        ("2026_cuda_h200.sql", "llama-bench-sql"),
    ];
    let paths: Vec<PathBuf> = files.iter().map(|f| fixture(f.0)).collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let (o, counts) = import(&sb, &refs);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got: Vec<(String, u64, u64)> = counts
        .iter()
        .map(|c| {
            (
                c["format"].as_str().unwrap().to_string(),
                c["tests"].as_u64().unwrap(),
                c["runs_added"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, u64, u64)> = vec![
        ("llama-bench-json".into(), 2, 1),
        ("llama-bench-jsonl".into(), 2, 1),
        ("llama-bench-csv".into(), 2, 1),
        ("llama-bench-md".into(), 2, 1),
        // two configurations (-ngl 99 and 0) of one build: two runs
        ("llama-bench-sql".into(), 4, 2),
    ];
    assert_eq!(got, want);
    // Importing again adds nothing.
    let (_, again) = import(&sb, &refs[..1]);
    assert_eq!(again[0]["runs_skipped"], 1);
    // json, jsonl and csv of one configuration are one build; per-repetition samples kept.
    let conn = rusqlite::Connection::open(db(&sb)).unwrap();
    let (avg, samples): (f64, String) = conn
        .query_row(
            "SELECT avg_tps, samples_tps FROM bench_tests t JOIN runs r ON r.id = t.run_id
             WHERE r.source = 'import:llama-bench-json' AND t.test = 'pp32'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(avg, 248.647764);
    assert_eq!(samples, "[248.047,249.248]");
    let builds = history_json(&sb, &[]);
    let cpu: Vec<&Value> = builds.iter().filter(|b| b["backend"] == "CPU").collect();
    let cuda: Vec<&Value> = builds.iter().filter(|b| b["backend"] == "CUDA").collect();
    assert_eq!(cuda.len(), 2, "{builds:?}");
    assert_eq!(cuda[0]["device"], "NVIDIA H200");
    // md carries no cpu_info, so it is its own build; json/jsonl/csv share one.
    assert_eq!(cpu.len(), 2, "{builds:?}");
    assert!(cpu.iter().any(|b| b["runs"] == 3));
}

#[test]
fn import_refuses_markdown_without_a_build_and_other_files() {
    let sb = Sandbox::new();
    let md = sb.path("nobuild.md");
    let text = std::fs::read_to_string(fixture("2026_current_cpu.md")).unwrap();
    std::fs::write(&md, text.replace("build: 0c1e570 (1)", "")).unwrap();
    std::fs::write(sb.path("x.txt"), "hello\n").unwrap();
    let (o, counts) = import(
        &sb,
        &[&md, &sb.path("x.txt"), &fixture("2026_current_cpu.json")],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(counts.len(), 1, "the good file is still imported");
    let err = stderr(&o);
    assert!(err.contains("names no build"), "{err}");
    assert!(err.contains("x.txt"), "{err}");
}

#[test]
fn tokbench_jsonl_results_are_imported() {
    let sb = Sandbox::new();
    let o = sb.run(&[
        "--reps",
        "2",
        "--no-history",
        "-o",
        "r.jsonl",
        "--sampler",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (o, counts) = import(&sb, &[&sb.path("r.jsonl")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(counts[0]["format"], "tokbench-jsonl");
    assert_eq!(counts[0]["runs_added"], 3);
    assert_eq!(history_json(&sb, &[])[0]["runs"], 2);
}

fn export_rows(path: &Path) -> Vec<(String, i64, i64, f64, String)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT build_commit, n_prompt, n_gen, avg_ts, cpu_info FROM llama_bench ORDER BY rowid")
        .unwrap();
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

#[test]
fn export_writes_llama_bench_schema_with_builds_apart() {
    let sb = Sandbox::new();
    let (o, _) = import(
        &sb,
        &[
            &fixture("2026_current_cpu.json"),
            &fixture("2026_cuda_h200.sql"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = sb.path("export.sqlite");
    let o = sb
        .cmd(&[
            "export",
            "--format",
            "llama-bench-sqlite",
            &out.display().to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows = export_rows(&out);
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0].1, 32);
    assert_eq!(rows[0].3, 248.647764);
    assert_eq!(rows[0].4, "Intel(R) Xeon(R) Processor");
    assert!(
        rows[0].0.starts_with("0c1e570-") && rows[0].0.len() == 14,
        "{:?}",
        rows[0]
    );
    // The two CUDA configurations of commit 'unknown' stay apart.
    let mut cuda: Vec<&String> = rows
        .iter()
        .filter(|r| r.0.starts_with("unknown"))
        .map(|r| &r.0)
        .collect();
    cuda.dedup();
    assert_eq!(cuda.len(), 2, "{rows:?}");
    // Every llama-bench column is there, and the file is never overwritten.
    let conn = rusqlite::Connection::open(&out).unwrap();
    let cols: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('llama_bench')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cols, 42);
    let o = sb
        .cmd(&[
            "export",
            "--format",
            "llama-bench-sqlite",
            &out.display().to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("never overwrites"), "{}", stderr(&o));
    // JSON export: llama-bench's array with samples.
    let o = sb
        .cmd(&["export", "--format", "llama-bench-json", "-"])
        .output()
        .unwrap();
    let arr = json(&o);
    assert_eq!(arr[0]["samples_ts"], serde_json::json!([248.047, 249.248]));
    assert_eq!(arr.as_array().unwrap().len(), 6);
}

#[test]
fn two_writers_at_once_lose_nothing() {
    let sb = Sandbox::new();
    // 40 runs each, recorded by two processes at the same time.
    let spawn = |label: &str| {
        sb.cmd(&[
            "run",
            "--bin",
            STANDIN,
            "-m",
            &sb.model(),
            "--reps",
            "40",
            "--warmup",
            "0",
            "-n",
            "4",
            "--label",
            label,
            "--sampler",
            "none",
        ])
        .env_remove("STANDIN_STATE")
        .spawn()
        .unwrap()
    };
    let (mut a, mut b) = (spawn("writer-a"), spawn("writer-b"));
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let runs = history_json(&sb, &["--runs"]);
    assert_eq!(runs.len(), 80);
    for l in ["writer-a", "writer-b"] {
        assert_eq!(runs.iter().filter(|r| r["label"] == l).count(), 40);
    }
}

/// compare-llama-bench.py (pinned llama.cpp tree) reads tokbench's export.
/// Skipped, with a message, when python3, GitPython or tabulate is missing.
#[test]
fn compare_llama_bench_py_reads_the_export() {
    // .ci/run sets this: there the test must run, not skip.
    let explicit = std::env::var("TOKBENCH_COMPARE_LLAMA_BENCH").ok();
    let script = explicit.clone().unwrap_or(COMPARE_SCRIPT.into());
    let have = std::process::Command::new("python3")
        .args(["-c", "import git, tabulate"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !Path::new(&script).exists() || !have {
        assert!(
            explicit.is_none(),
            "TOKBENCH_COMPARE_LLAMA_BENCH is set but {script} or python3 with GitPython and tabulate is missing"
        );
        eprintln!("skipped: needs {script} and python3 with GitPython and tabulate");
        return;
    }
    let sb = Sandbox::new();
    let (o, _) = import(&sb, &[&fixture("2026_current_cpu.json")]);
    assert_eq!(o.status.code(), Some(0));
    let csv = sb.path("other.csv");
    let text = std::fs::read_to_string(fixture("2026_current_cpu.csv")).unwrap();
    // Another build of the same commit: llama-bench's build number differs.
    std::fs::write(&csv, text.replace("\"0c1e570\",\"1\"", "\"0c1e570\",\"2\"")).unwrap();
    let (o, _) = import(&sb, &[&csv]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = sb.path("export.sqlite");
    let o = sb
        .cmd(&[
            "export",
            "--format",
            "llama-bench-sqlite",
            &out.display().to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let names: Vec<String> = {
        let mut v: Vec<String> = export_rows(&out).into_iter().map(|r| r.0).collect();
        v.dedup();
        v
    };
    assert_eq!(names.len(), 2, "{names:?}");
    let o = std::process::Command::new("python3")
        .args([
            &script,
            "-i",
            &out.display().to_string(),
            "-b",
            &names[0],
            "-c",
            &names[1],
        ])
        .current_dir(sb.path(""))
        .output()
        .unwrap();
    let table = stdout(&o);
    assert!(o.status.success(), "{}\n{}", table, stderr(&o));
    assert!(table.contains("pp32") && table.contains("tg8"), "{table}");
    assert!(
        table.contains("248.65") && table.contains("354.16"),
        "{table}"
    );
}

#[test]
fn configurations_of_one_build_are_listed_apart_by_label() {
    let sb = Sandbox::new();
    for (label, threads) in [("one-thread", "1"), ("two-threads", "2")] {
        let o = sb.run(&[
            "--reps",
            "2",
            "--sampler",
            "none",
            "--label",
            label,
            "--",
            "-t",
            threads,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let rows = history_json(&sb, &[]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["id"], rows[1]["id"], "one binary: one build");
    let labels: Vec<&str> = rows.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["one-thread", "two-threads"]);
    assert!(rows.iter().all(|r| r["runs"] == 2));
}

#[test]
fn export_of_a_label_kept_the_other_labels_runs_of_the_build() {
    let sb = Sandbox::new();
    for (label, threads) in [("one", "1"), ("two", "2")] {
        let o = sb.run(&[
            "--reps",
            "2",
            "--sampler",
            "none",
            "--label",
            label,
            "--",
            "-t",
            threads,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let rows = |build: Option<&str>| -> usize {
        let mut args = vec!["export", "--format", "llama-bench-json"];
        if let Some(b) = build {
            args.extend(["--build", b]);
        }
        args.push("-");
        let o = sb.cmd(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        json(&o).as_array().unwrap().len()
    };
    let (all, one) = (rows(None), rows(Some("one")));
    assert!(one > 0);
    assert_eq!(all, 2 * one, "label 'one' is half of the build's runs");
}
