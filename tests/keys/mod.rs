//! llama-bench results keyed by their configuration and the metric
//! registry, end to end: the stand-in's `-fa 0,1` grid through every
//! reporter, the results file, the history and the export; a `-d 512`
//! comparison that gates on `tg64 @ d512`; unknown `--metric` names.

use std::process::Output;

use serde_json::Value;

use super::{json, metric, stderr, stdout, Sandbox, STANDIN};

const GRID: [&str; 4] = ["pp512 fa=0", "tg128 fa=0", "pp512 fa=1", "tg128 fa=1"];

fn bench_sb() -> Sandbox {
    Sandbox::new().set("STANDIN_MODE", "bench")
}

fn grid_run(sb: &Sandbox, extra: &[&str]) -> Output {
    let mut args = vec!["--reps", "2"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "-p", "512", "-n", "128", "-fa", "0,1"]);
    sb.run(&args)
}

/// The defect: `-fa 0,1` printed two rows named `pp512` and two `tg128`.
#[test]
fn fa_grid_rows_stay_apart_in_every_format() {
    let sb = bench_sb();
    let o = grid_run(&sb, &["--json", "-o", "grid.jsonl"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&o);
    // The stand-in runs 500/50 t/s, 20% faster with flash attention.
    for (key, tps) in GRID.iter().zip([500.0, 50.0, 600.0, 60.0]) {
        assert_eq!(metric(&r, key)["median"], tps, "{key}");
        assert_eq!(metric(&r, key)["unit"], "t/s", "{key}");
    }
    let bench = &sb.results("grid.jsonl")[0]["bench"];
    let keys: Vec<&str> = (0..4).map(|i| bench[i]["key"].as_str().unwrap()).collect();
    assert_eq!(keys, GRID);
    let fa: Vec<i64> = (0..4)
        .map(|i| bench[i]["extra"]["flash_attn"].as_i64().unwrap())
        .collect();
    assert_eq!(fa, [0, 0, 1, 1]);
    for format in ["table", "markdown", "csv"] {
        let o = grid_run(&bench_sb(), &["--format", format]);
        let out = stdout(&o);
        for key in GRID {
            assert_eq!(out.matches(key).count(), 1, "{format}: {key} in\n{out}");
        }
    }
}

#[test]
fn fa_grid_keys_reach_the_history_and_the_export() {
    let sb = bench_sb();
    let o = grid_run(&sb, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let conn = rusqlite::Connection::open(sb.path("history.sqlite")).unwrap();
    let mut st = conn
        .prepare("SELECT key, avg_tps, config FROM bench_tests ORDER BY idx")
        .unwrap();
    let rows: Vec<(String, f64, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let keys: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(keys, GRID);
    assert_eq!(rows[3].1, 60.0);
    assert!(rows[2].2.contains(r#"["flash_attn","1"]"#), "{}", rows[2].2);
    let out = sb.path("export.json");
    let o = sb
        .cmd(&[
            "export",
            "--format",
            "llama-bench-json",
            &out.display().to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let seen: Vec<(i64, i64, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["flash_attn"].as_i64().unwrap(),
                r["n_prompt"].as_i64().unwrap(),
                r["n_gen"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen, [(0, 512, 0), (0, 0, 128), (1, 512, 0), (1, 0, 128)]);
}

/// `tokbench compare` of the bench stand-in against itself at B's `scale`.
fn depth_compare(sb: &Sandbox, scale: &str, extra: &[&str]) -> Output {
    let model = sb.model();
    let b_args = format!("--standin-scale {scale}");
    let mut args = vec!["compare", "--a", STANDIN, "-m", &model, "--b-args", &b_args];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "-n", "64", "-d", "512"]);
    sb.cmd(&args).output().unwrap()
}

/// The defect: the table judged `tg64 @ d512`, the gate looked for `tg64`.
#[test]
fn depth_compare_judges_and_gates_on_tg64_at_d512() {
    let sb = bench_sb().set("STANDIN_NOISE", "0.005");
    let o = depth_compare(
        &sb,
        "0.9",
        &["--pairs", "6", "--fail-if-slower", "2", "-o", "cmp.jsonl"],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(3), "{out}\n{}", stderr(&o));
    assert!(out.contains("REGRESSION"), "{out}");
    assert!(out.contains("tg64 @ d512"), "{out}");
    assert!(!out.contains("no comparison of"), "{out}");
    assert!(!stderr(&o).contains("was not measured"), "{}", stderr(&o));
    // Read back, the same file gives the same verdict on the same test.
    let o = sb
        .cmd(&["compare", "cmp.jsonl", "--json", "--fail-if-slower", "2"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(r["primary_metric"], "tg64 @ d512");
    assert_eq!(r["regression"]["metric"], "tg64 @ d512");
    assert_eq!(r["regression"]["regressed"], true);
    // Within the limit it passes.
    let sb = bench_sb().set("STANDIN_NOISE", "0.005");
    let o = depth_compare(&sb, "0.9", &["--pairs", "6", "--fail-if-slower", "20"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

/// The defect: a misspelt `--metric` was judged as a higher-is-better t/s figure.
#[test]
fn unknown_metric_is_a_usage_error_before_the_first_run() {
    let sb = Sandbox::new();
    let model = sb.model();
    let o = sb
        .cmd(&[
            "compare",
            "--a",
            STANDIN,
            "-m",
            &model,
            "--b-args",
            "--standin-scale 1.0",
            "--metric",
            "evl_tps",
            "--pairs",
            "6",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(
            "unknown metric 'evl_tps': known metrics are eval_tps, prompt_eval_tps, load_ms"
        ),
        "{err}"
    );
    assert!(sb.argvs().is_empty(), "ran {:?}", sb.argvs());
}

#[test]
fn unknown_llama_bench_key_is_a_usage_error_after_the_warmups_listing_the_keys() {
    let sb = bench_sb();
    let o = depth_compare(&sb, "1.0", &["--pairs", "6", "--metric", "tg64"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("unknown metric 'tg64'")
            && err.contains("this llama-bench session has pp512 @ d512, tg64 @ d512"),
        "{err}"
    );
    // The warmup of each side ran, no counted run.
    assert_eq!(sb.argvs().len(), 2, "{:?}", sb.argvs());
    let o = depth_compare(
        &bench_sb(),
        "1.0",
        &["--pairs", "6", "--metric", "pp512 @ d512", "--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["primary_metric"], "pp512 @ d512");
}

/// `tokbench history` of llama-bench runs: one row per key with its
/// median (it showed one eval figure per build), and `compare
/// --from-history` of two labels judges and gates each like key.
#[test]
fn history_lists_each_key_and_compare_from_history_gates_per_key() {
    let sb = bench_sb().set("STANDIN_NOISE", "0.002");
    for (label, scale) in [("base", "1.0"), ("slow", "0.9")] {
        for _ in 0..5 {
            let o = sb.run(&[
                "--reps",
                "1",
                "--label",
                label,
                "--",
                "-p",
                "512",
                "-n",
                "128",
                "-fa",
                "0,1",
                "--standin-scale",
                scale,
            ]);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        }
    }
    let o = sb.cmd(&["history", "--json"]).output().unwrap();
    let rows = json(&o);
    let base = &rows[0];
    assert_eq!(base["label"], "base");
    let keys: Vec<(&str, i64, f64)> = base["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let median = k["median_tps"].as_f64().unwrap();
            (
                k["key"].as_str().unwrap(),
                k["runs"].as_i64().unwrap(),
                median,
            )
        })
        .collect();
    assert_eq!(keys.iter().map(|k| k.0).collect::<Vec<_>>(), GRID);
    assert!(keys.iter().all(|k| k.1 == 5), "{keys:?}");
    // The stand-in runs 500/50 t/s, 20% faster with flash attention.
    for (k, want) in keys.iter().zip([500.0, 50.0, 600.0, 60.0]) {
        assert!((k.2 / want - 1.0).abs() < 0.01, "{k:?} against {want}");
    }
    let table = stdout(&sb.cmd(&["history"]).output().unwrap());
    for key in GRID {
        assert_eq!(table.matches(key).count(), 2, "{key} in\n{table}");
    }
    assert!(table.contains("median t/s"), "{table}");
    let gate = |metric: &str| {
        sb.cmd(&[
            "compare",
            "--from-history",
            "base",
            "slow",
            "--json",
            "--metric",
            metric,
            "--fail-if-slower",
            "2",
        ])
        .output()
        .unwrap()
    };
    let o = gate("tg128 fa=1");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(r["regression"]["metric"], "tg128 fa=1");
    let judged: Vec<&str> = r["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["verdict"] == "slower")
        .map(|m| m["metric"].as_str().unwrap())
        // wall_ms is judged too, and is at the machine's mercy.
        .filter(|m| GRID.contains(m))
        .collect();
    assert_eq!(judged, GRID, "{r}");
    assert_eq!(gate("pp512 fa=0").status.code(), Some(3));
}
