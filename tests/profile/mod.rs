//! `--profile` end to end: `run` and `compare` of the llama.cpp stand-in,
//! wrapped in the profiler stand-in (`tests/support/standin_profiler.rs`,
//! linked as ncu, nsys and xctrace on PATH). No real nsys or xctrace runs
//! here; the ncu export it replays is a real H200 recording.

use super::*;

const STANDIN_PROFILER: &str = env!("CARGO_BIN_EXE_tokbench-standin-profiler");

/// A PATH whose first directory holds the profiler stand-in under `tools`' names.
fn path_with(sb: &Sandbox, tools: &[&str]) -> String {
    let dir = sb.path("profilers");
    std::fs::create_dir_all(&dir).unwrap();
    for t in tools {
        std::os::unix::fs::symlink(STANDIN_PROFILER, dir.join(t)).unwrap();
    }
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `tokbench run` of the stand-in (2 counted runs, `-o r.jsonl`) under `--profile tool`.
fn run_profiled(sb: &Sandbox, tool: &str) -> Output {
    let args = ["--reps", "2", "-n", "8", "-o", "r.jsonl", "--profile", tool];
    sb.run(&[&args[..], &["--profile-dir", "prof"]].concat())
}

fn profile_lines(sb: &Sandbox) -> Vec<Value> {
    sb.results("r.jsonl")
        .into_iter()
        .filter(|l| l["kind"] == "profile")
        .collect()
}

#[test]
fn run_profile_nsys_adds_one_uncounted_run_and_prints_and_stores_the_summary() {
    let sb = Sandbox::new();
    let path = path_with(&sb, &["nsys"]);
    let sb = sb.set("PATH", &path);
    let o = run_profiled(&sb, "nsys");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("profiled run (not counted):\nnsys: 4 kernel(s), 538.025 ms of kernel time"),
        "{out}"
    );
    assert!(out.contains("FLASH_ATTN_EXT"), "{out}");
    // 1 warmup + 2 counted runs in the results, then the profile line; the
    // binary ran a fourth time, under the profiler.
    let lines = sb.results("r.jsonl");
    assert_eq!(lines.len(), 4);
    assert_eq!(sb.argvs().len(), 4);
    let p = &profile_lines(&sb)[0];
    assert_eq!(p["tool"], "nsys");
    assert_eq!(p["commands"][0][2], "--cuda-graph-trace=node");
    assert_eq!(p["summary"]["kernels"][0]["op"], "MUL_MAT");
    assert_eq!(p["summary"]["kernels"][0]["launches"], 2880);
    for f in [
        "run-nsys.nsys-rep",
        "run-cuda_gpu_kern_sum.csv",
        "run-summary.json",
    ] {
        assert!(sb.path("prof").join(f).is_file(), "{f}");
    }
}

#[test]
fn compare_profile_ncu_profiles_each_side_and_prints_the_per_kernel_diff() {
    let sb = Sandbox::new();
    let path = path_with(&sb, &["ncu"]);
    let sb = sb.set("PATH", &path);
    let model = sb.model();
    let args = [
        "compare",
        "--a",
        STANDIN,
        "-m",
        &model,
        "--b-args",
        "--standin-scale 0.97",
        "-n",
        "8",
        "--pairs",
        "2",
        "-o",
        "r.jsonl",
        "--profile",
        "ncu",
        "--profile-dir",
        "prof",
        "--profile-launch-count",
        "40",
    ];
    let o = sb.cmd(&args).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("A ncu: 19 kernel(s), 1.826 ms of kernel time"),
        "{out}"
    );
    assert!(
        out.contains("per kernel, one profiled run per side (no interval)"),
        "{out}"
    );
    let p = profile_lines(&sb);
    let sides: Vec<&str> = p.iter().map(|l| l["side"].as_str().unwrap()).collect();
    assert_eq!(sides, ["a", "b"]);
    let cmd = p[1]["commands"][0].as_array().unwrap();
    let at = cmd.iter().position(|a| a == "--launch-count").unwrap();
    assert_eq!(cmd[at + 1], "40");
    assert_eq!(cmd[cmd.len() - 2..], ["--standin-scale", "0.97"]);
    assert!(sb.path("prof").join("b-ncu.csv").is_file());
}

#[test]
fn run_profile_xctrace_reads_the_metal_intervals_and_says_they_are_encoders() {
    let sb = Sandbox::new();
    let path = path_with(&sb, &["xctrace"]);
    let sb = sb.set("PATH", &path);
    let o = sb.run(&[
        "--reps",
        "1",
        "-n",
        "8",
        "--profile",
        "xctrace",
        "--profile-dir",
        "prof",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // stdout stays one JSON report; the summary goes to stderr.
    let r = json(&o);
    assert_eq!(r["runs"].as_array().unwrap().len(), 2);
    let err = stderr(&o);
    assert!(
        err.contains("xctrace: ") && err.contains("GPU busy"),
        "{err}"
    );
    assert!(err.contains("encoder"), "{err}");
    assert!(sb
        .path("prof")
        .join("run-metal-gpu-intervals.xml")
        .is_file());
    assert!(sb.path("prof").join("run-metal.trace").is_dir());
}

#[test]
fn a_missing_or_refusing_profiler_is_a_warning_and_the_measured_runs_stand() {
    let sb = Sandbox::new();
    let o = run_profiled(&sb, "ncu");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning: --profile ncu: 'ncu' is not on PATH"),
        "{err}"
    );
    assert!(err.contains("the measured runs are unaffected"), "{err}");
    assert!(stdout(&o).contains("eval"), "{}", stdout(&o));
    let p = &profile_lines(&sb)[0];
    assert!(p["summary"].is_null());
    assert!(p["error"].as_str().unwrap().contains("not on PATH"));

    let sb = Sandbox::new();
    let path = path_with(&sb, &["ncu"]);
    let sb = sb.set("PATH", &path).set("STANDIN_PROFILER_REFUSE", "1");
    let o = sb.run(&[
        "--reps",
        "1",
        "-n",
        "8",
        "--profile",
        "ncu",
        "--profile-dir",
        "prof",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("ERR_NVGPUCTRPERM"), "{}", stderr(&o));
}
