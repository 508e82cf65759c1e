//! Real llama.cpp binaries of three eras (Nov 2023 `main`, Jun 2024 and Nov
//! 2024 `llama-cli`), run with tokbench's defaults: tokbench's figures must
//! equal what each binary printed (its stderr, kept with --keep-logs).
//! `scripts/fetch-eras.sh` builds them; the test runs when
//! `TOKBENCH_ERAS_DIR` and `TOKBENCH_ERAS_MODEL` are set (CI sets them and
//! `TOKBENCH_REQUIRE_ERAS=1`, so that a missing build fails there).

use super::*;

struct Era {
    commit: &'static str,
    tool: &'static str,
    /// The -c tokbench must pass (its default context cannot hold the prompt).
    fitted_ctx: Option<&'static str>,
    /// The printer of its timing lines.
    printer: &'static str,
}

const ERAS: [Era; 3] = [
    Era {
        commit: "b38a16d",
        tool: "main",
        fitted_ctx: Some("1024"),
        printer: "llama_print_timings",
    },
    Era {
        commit: "9c77ec1",
        tool: "llama-cli",
        fitted_ctx: None,
        printer: "llama_print_timings",
    },
    Era {
        commit: "74d73dc",
        tool: "llama-cli",
        fitted_ctx: None,
        printer: "llama_perf_context_print",
    },
];

/// The builds and the model, or None (with one line saying how to enable
/// the test) when they are absent.
fn eras() -> Option<(PathBuf, PathBuf)> {
    let dir = std::env::var_os("TOKBENCH_ERAS_DIR").map(PathBuf::from);
    let model = std::env::var_os("TOKBENCH_ERAS_MODEL").map(PathBuf::from);
    match (dir, model) {
        (Some(d), Some(m)) => Some((d, m)),
        _ if std::env::var_os("TOKBENCH_REQUIRE_ERAS").is_some() => {
            panic!("TOKBENCH_REQUIRE_ERAS is set but TOKBENCH_ERAS_DIR/TOKBENCH_ERAS_MODEL are not")
        }
        _ => {
            eprintln!(
                "skipped: llama.cpp builds of three eras absent; to run this test: \
                 eval \"$(scripts/fetch-eras.sh | sed 's/^/export /')\""
            );
            None
        }
    }
}

/// `<printer>: <field> = X ms [/ N tokens|runs] [(..., Z tokens per second)]`
/// as printed, read with plain string handling independent of tokbench's
/// parser: (ms, count, t/s).
fn printed(log: &str, printer: &str, field: &str) -> (f64, Option<u64>, Option<f64>) {
    let line = log
        .lines()
        .find(|l| {
            l.starts_with(printer)
                && l.split_once(':')
                    .is_some_and(|(_, r)| r.trim_start().starts_with(&format!("{field} =")))
        })
        .unwrap_or_else(|| panic!("no '{printer}: {field} =' line in:\n{log}"));
    let rest = line.split_once('=').unwrap().1;
    let ms: f64 = rest.split_whitespace().next().unwrap().parse().unwrap();
    let count = rest
        .split_once('/')
        .and_then(|(_, r)| r.split_whitespace().next()?.parse().ok());
    let tps = rest.split_once(" tokens per second").and_then(|(b, _)| {
        b.rsplit([',', '(', ' '])
            .find(|s| !s.is_empty())?
            .parse()
            .ok()
    });
    (ms, count, tps)
}

fn run_era(era: &Era, dir: &Path, model: &Path) {
    let bin = dir.join(format!("legacy-{}/build/bin/{}", era.commit, era.tool));
    assert!(
        bin.is_file(),
        "'{}' is missing: run scripts/fetch-eras.sh",
        bin.display()
    );
    let work = tempfile::tempdir().unwrap();
    let o = Command::new(TOKBENCH)
        .args([
            "run",
            "--bin",
            bin.to_str().unwrap(),
            "-m",
            model.to_str().unwrap(),
        ])
        .args([
            "--reps",
            "2",
            "--warmup",
            "0",
            "-o",
            "r.jsonl",
            "--keep-logs",
            "logs",
            "--json",
        ])
        .args(["--", "-t", "2"])
        .env("TOKBENCH_DB", work.path().join("history.sqlite"))
        .current_dir(work.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}: {}\n{}",
        era.commit,
        stdout(&o),
        stderr(&o)
    );
    let text = std::fs::read_to_string(work.path().join("r.jsonl")).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    let mut logs: Vec<PathBuf> = std::fs::read_dir(work.path().join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "stderr"))
        .collect();
    logs.sort();
    for (rec, log) in records.iter().zip(&logs) {
        check_record(era, rec, &std::fs::read_to_string(log).unwrap());
    }
}

fn check_record(era: &Era, rec: &Value, log: &str) {
    let t = &rec["timings"];
    let (p_ms, p_n, p_tps) = printed(log, era.printer, "prompt eval time");
    let (e_ms, e_n, e_tps) = printed(log, era.printer, "eval time");
    let (l_ms, _, _) = printed(log, era.printer, "load time");
    let (tot_ms, _, _) = printed(log, era.printer, "total time");
    let c = era.commit;
    assert_eq!(t["prompt_eval_ms"].as_f64(), Some(p_ms), "{c}");
    assert_eq!(t["prompt_eval_tokens"].as_u64(), p_n, "{c}");
    assert_eq!(t["prompt_eval_tps"].as_f64(), p_tps, "{c}");
    assert_eq!(t["eval_ms"].as_f64(), Some(e_ms), "{c}");
    assert_eq!(t["eval_tokens"].as_u64(), e_n, "{c}");
    assert_eq!(t["eval_tps"].as_f64(), e_tps, "{c}");
    assert_eq!(t["load_ms"].as_f64(), Some(l_ms), "{c}");
    assert_eq!(t["total_ms"].as_f64(), Some(tot_ms), "{c}");
    assert_eq!(rec["build"]["commit"], c);
    assert_eq!(rec["build"]["build_number"], 1, "{c}");
    // The built-in prompt (545 tokens with this vocab) and -n 128.
    assert_eq!(t["prompt_eval_tokens"], 545, "{c}");
    assert_eq!(t["eval_tokens"], 127, "{c}");
    let argv: Vec<&str> = rec["argv"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let ctx = argv.iter().position(|a| *a == "-c").map(|i| argv[i + 1]);
    assert_eq!(ctx, era.fitted_ctx, "{c}: {argv:?}");
    let notes = rec["notes"].as_array().map_or(0, Vec::len);
    assert_eq!(
        notes,
        usize::from(era.fitted_ctx.is_some()),
        "{c}: {}",
        rec["notes"]
    );
}

#[test]
fn e2e_three_eras_with_the_defaults() {
    let Some((dir, model)) = eras() else { return };
    for era in &ERAS {
        run_era(era, &dir, &model);
    }
}

/// The 2023 `main` with its own default context (the user's -c wins) fails
/// as it did for users, and the error says what to pass.
#[test]
fn e2e_2023_main_prompt_too_long_says_what_to_pass() {
    let Some((dir, model)) = eras() else { return };
    let bin = dir.join("legacy-b38a16d/build/bin/main");
    let work = tempfile::tempdir().unwrap();
    let o = Command::new(TOKBENCH)
        .args([
            "run",
            "--bin",
            bin.to_str().unwrap(),
            "-m",
            model.to_str().unwrap(),
        ])
        .args(["--reps", "1", "--warmup", "0", "--", "-c", "512", "-t", "2"])
        .env("TOKBENCH_DB", work.path().join("history.sqlite"))
        .current_dir(work.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        out.contains("prompt is too long (545 tokens, max 508)"),
        "{out}"
    );
    assert!(out.contains("e.g. `-- -c 768`"), "{out}");
}
