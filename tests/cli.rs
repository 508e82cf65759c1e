//! Integration tests of the real `tokbench` binary against the stand-in
//! llama.cpp binary (`tests/support/standin.rs`), plus one end-to-end test
//! against a real llama.cpp build (see `e2e_real_llama_cpp`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

const STANDIN: &str = env!("CARGO_BIN_EXE_tokbench-standin");
const TOKBENCH: &str = env!("CARGO_BIN_EXE_tokbench");

/// A temporary directory with a minimal GGUF "model" and stand-in settings.
struct Sandbox {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut model = b"GGUF\x03\x00\x00\x00".to_vec();
        model.extend_from_slice(&[0u8; 56]);
        std::fs::write(dir.path().join("model.gguf"), model).unwrap();
        let state = dir.path().join("state").display().to_string();
        let argv_log = dir.path().join("argv.log").display().to_string();
        Sandbox {
            dir,
            env: vec![
                ("STANDIN_STATE".into(), state),
                ("STANDIN_ARGV_LOG".into(), argv_log),
            ],
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn model(&self) -> String {
        self.path("model.gguf").display().to_string()
    }
    fn set(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_string(), v.to_string()));
        self
    }
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(TOKBENCH);
        c.args(args).current_dir(self.dir.path());
        c.env("TOKBENCH_DB", self.dir.path().join("history.sqlite"));
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.env_remove("NO_COLOR");
        c
    }
    /// `tokbench run --bin STANDIN -m MODEL <args>`
    fn run(&self, args: &[&str]) -> Output {
        let model = self.model();
        let mut all = vec!["run", "--bin", STANDIN, "-m", &model];
        all.extend_from_slice(args);
        self.cmd(&all).output().unwrap()
    }
    /// Argument vectors the stand-in received (runs only, not --help/--version).
    fn argvs(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(self.path("argv.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
    fn results(&self, name: &str) -> Vec<Value> {
        std::fs::read_to_string(self.path(name))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}
fn metric<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["summary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == name)
        .unwrap_or_else(|| panic!("no metric {name} in {report}"))
}

#[test]
fn run_reports_the_rates_the_binary_printed() {
    let sb = Sandbox::new()
        .set("STANDIN_EVAL_TPS", "42.5")
        .set("STANDIN_PROMPT_TPS", "480");
    let o = sb.run(&["--reps", "3", "-n", "16", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&o);
    let eval = metric(&r, "eval_tps");
    assert_eq!(eval["n"], 3);
    assert_eq!(eval["median"], 42.5);
    assert_eq!(metric(&r, "prompt_eval_tps")["median"], 480.0);
    assert_eq!(metric(&r, "load_ms")["mean"], 410.05);
    assert_eq!(
        r["runs"].as_array().unwrap().len(),
        4,
        "1 warmup + 3 counted"
    );
    assert_eq!(r["build"]["commit"], "abc1234");
    assert_eq!(r["label"], "tokbench-standin@abc1234");
}

#[test]
fn table_output_shows_statistics_build_and_machine() {
    let sb = Sandbox::new().set("STANDIN_NOISE", "0.02");
    let o = sb.run(&["--reps", "5", "-n", "8"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "eval_tps",
        "prompt_eval_tps",
        "median",
        "95% CI of mean",
        "commit abc1234",
        "logical cores",
        "tokbench: 0.1.0",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
}

#[test]
fn results_file_gets_one_self_contained_line_per_run() {
    let sb = Sandbox::new();
    let o = sb.run(&[
        "--reps",
        "2",
        "--warmup",
        "1",
        "-n",
        "8",
        "-o",
        "res.jsonl",
        "--label",
        "mine",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = sb.results("res.jsonl");
    assert_eq!(lines.len(), 3);
    let seqs: Vec<_> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![0, 1, 2]);
    assert_eq!(lines[0]["warmup"], true);
    assert_eq!(lines[1]["warmup"], false);
    let l = &lines[1];
    assert_eq!(l["schema_version"], 2);
    assert_eq!(l["label"], "mine");
    assert_eq!(l["status"], "ok");
    assert_eq!(l["exit"]["code"], 0);
    assert_eq!(l["timings"]["eval_tps"], 50.0);
    assert_eq!(l["timings"]["eval_tokens"], 7);
    assert_eq!(l["binary"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(l["model"]["size_bytes"], 64);
    assert!(l["wall_ms"].as_f64().unwrap() > 0.0);
    assert!(l["started_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(l["argv"][0], STANDIN);
    assert!(l["machine"]["cpu_logical_cores"].as_u64().unwrap() >= 1);
    // A second invocation appends, never truncates.
    let o = sb.run(&["--reps", "1", "--warmup", "0", "-n", "8", "-o", "res.jsonl"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(sb.results("res.jsonl").len(), 4);
}

#[test]
fn llama_arg_environment_is_recorded() {
    let sb = Sandbox::new().set("LLAMA_ARG_THREADS", "3");
    let o = sb.run(&["--reps", "1", "--warmup", "0", "-o", "r.jsonl"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(sb.results("r.jsonl")[0]["env"]["LLAMA_ARG_THREADS"], "3");
}

#[test]
fn fixed_seed_temperature_and_length_and_flags_read_from_help() {
    let sb = Sandbox::new();
    let o = sb.run(&[
        "--reps", "1", "--warmup", "0", "-n", "32", "-p", "hi", "--gpu", "cpu",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let argv = &sb.argvs()[0];
    let joined = argv.join(" ");
    for part in [
        "-n 32",
        "--seed 42",
        "--temp 0",
        "--ignore-eos",
        "-no-cnv",
        "-ngl 0",
        "-dev none",
    ] {
        assert!(joined.contains(part), "{part:?} not in {joined}");
    }
}

#[test]
fn gpu_cuda_offloads_every_layer_and_auto_adds_nothing() {
    let sb = Sandbox::new();
    assert_eq!(
        sb.run(&["--reps", "1", "--warmup", "0", "--gpu", "cuda"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        sb.run(&["--reps", "1", "--warmup", "0"]).status.code(),
        Some(0)
    );
    let argvs = sb.argvs();
    assert!(argvs[0].windows(2).any(|w| w[0] == "-ngl" && w[1] == "999"));
    assert!(!argvs[1].iter().any(|a| a == "-ngl" || a == "-dev"));
}

#[test]
fn prompts_and_extra_args_pass_through_verbatim() {
    let sb = Sandbox::new();
    let prompt = "it's \"quoted\" $HOME `id` ; rm -rf / && echo\nnew line, ünïcødé 日本語 | > <";
    let o = sb.run(&[
        "--reps",
        "1",
        "--warmup",
        "0",
        "-p",
        prompt,
        "--",
        "-t",
        "3",
        "--extra thing",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let argv = &sb.argvs()[0];
    let i = argv.iter().position(|a| a == "-p").unwrap();
    assert_eq!(argv[i + 1], prompt);
    assert_eq!(&argv[argv.len() - 3..], &["-t", "3", "--extra thing"]);
}

#[test]
fn prompt_file_and_paths_with_spaces() {
    let sb = Sandbox::new();
    let spaced = sb.path("my model.gguf");
    std::fs::copy(sb.path("model.gguf"), &spaced).unwrap();
    std::fs::write(sb.path("prompt file.txt"), "from a file").unwrap();
    let o = sb
        .cmd(&[
            "run",
            "--bin",
            STANDIN,
            "-m",
            spaced.to_str().unwrap(),
            "-f",
            "prompt file.txt",
            "--reps",
            "1",
            "--warmup",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let argv = &sb.argvs()[0];
    assert!(argv
        .windows(2)
        .any(|w| w[0] == "-m" && w[1] == spaced.to_str().unwrap()));
    assert!(argv
        .windows(2)
        .any(|w| w[0] == "-f" && w[1] == "prompt file.txt"));
}

#[test]
fn dry_run_prints_the_command_and_runs_nothing() {
    let sb = Sandbox::new();
    let o = sb.run(&["--dry-run", "-p", "a b", "-n", "4"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with(STANDIN), "{out}");
    assert!(out.contains("-p 'a b' -n 4"), "{out}");
    assert!(out.contains("1 warmup + 5 counted"), "{out}");
    assert!(sb.argvs().is_empty(), "dry run launched the binary");
}

#[test]
fn default_prompt_is_the_builtin_text() {
    let sb = Sandbox::new();
    assert_eq!(
        sb.run(&["--reps", "1", "--warmup", "0"]).status.code(),
        Some(0)
    );
    let argv = &sb.argvs()[0];
    let i = argv.iter().position(|a| a == "-p").unwrap();
    assert!(argv[i + 1].starts_with("The lighthouse keeper"));
    assert!(argv[i + 1].split_whitespace().count() > 400);
}

#[test]
fn bad_model_is_refused_before_launching_anything() {
    let sb = Sandbox::new();
    std::fs::write(sb.path("notgguf.bin"), b"PK\x03\x04 a zip file").unwrap();
    std::fs::create_dir(sb.path("adir")).unwrap();
    let cases = [
        ("missing.gguf", "does not exist"),
        ("notgguf.bin", "is not a GGUF file"),
        ("adir", "is a directory"),
    ];
    for (model, msg) in cases {
        let o = sb
            .cmd(&["run", "--bin", STANDIN, "-m", model])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{model}");
        let err = stderr(&o);
        assert!(err.contains(msg) && err.contains(model), "{model}: {err}");
    }
    assert!(sb.argvs().is_empty(), "a bad model launched the binary");
}

#[test]
fn bad_binaries_are_refused_with_a_reason() {
    let sb = Sandbox::new();
    std::fs::write(sb.path("noexec"), "#!/bin/sh\n").unwrap();
    let model = sb.model();
    for (bin, msg) in [
        ("/nonexistent/llama-completion", "does not exist"),
        (sb.path("noexec").to_str().unwrap(), "is not executable"),
        ("/bin/ls", "does not look like a llama.cpp binary"),
        ("/tmp", "is a directory"),
    ] {
        let o = sb
            .cmd(&["run", "--bin", bin, "-m", &model])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{bin}");
        assert!(stderr(&o).contains(msg), "{bin}: {}", stderr(&o));
    }
}

#[test]
fn a_crash_stops_the_benchmark_and_keeps_finished_runs() {
    let sb = Sandbox::new()
        .set("STANDIN_FAIL_AT", "2")
        .set("STANDIN_CRASH", "segv");
    let o = sb.run(&["--reps", "4", "-o", "r.jsonl"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("run 2 of") && err.contains("killed by SIGSEGV"),
        "{err}"
    );
    assert!(err.contains("last lines of its stderr"), "{err}");
    let lines = sb.results("r.jsonl");
    assert_eq!(
        lines.len(),
        3,
        "runs 0 and 1 ok, run 2 failed, nothing after"
    );
    assert_eq!(lines[2]["status"], "failed");
    assert_eq!(lines[2]["exit"]["signal"], 11);
}

#[test]
fn abort_is_reported_as_sigabrt() {
    let sb = Sandbox::new().set("STANDIN_CRASH", "abort");
    let o = sb.run(&["--reps", "1", "--warmup", "0"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("killed by SIGABRT"), "{}", stderr(&o));
}

#[test]
fn keep_going_runs_everything_and_still_exits_1() {
    let sb = Sandbox::new()
        .set("STANDIN_FAIL_AT", "1")
        .set("STANDIN_EXIT", "3");
    let o = sb.run(&["--reps", "3", "--keep-going", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let r = json(&o);
    assert_eq!(r["runs"].as_array().unwrap().len(), 4);
    assert_eq!(r["failed_runs"], serde_json::json!([1]));
    assert_eq!(
        metric(&r, "eval_tps")["n"],
        2,
        "the failed run is not counted"
    );
    assert!(stderr(&o).contains("exited with code 3"));
}

#[test]
fn a_hang_is_killed_at_the_timeout_with_its_process_group() {
    let sb = Sandbox::new().set("STANDIN_HANG", "1");
    let t = Instant::now();
    let o = sb.run(&[
        "--reps",
        "1",
        "--warmup",
        "0",
        "--timeout",
        "1s",
        "-o",
        "r.jsonl",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "took {:?}",
        t.elapsed()
    );
    assert!(stderr(&o).contains("timed out after 1s"), "{}", stderr(&o));
    let rec = &sb.results("r.jsonl")[0];
    assert_eq!(rec["exit"]["timed_out"], true);
    assert!(
        no_standin_left(&sb),
        "a stand-in process outlived the timeout"
    );
}

/// True when no process runs with this sandbox's stand-in state file.
fn no_standin_left(sb: &Sandbox) -> bool {
    let state = sb.path("state").display().to_string();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if String::from_utf8_lossy(&environ).contains(&state) {
            return false;
        }
    }
    true
}

#[test]
fn no_timing_block_is_an_error() {
    let sb = Sandbox::new().set("STANDIN_NO_TIMINGS", "1");
    let o = sb.run(&["--reps", "1", "--warmup", "0"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("exited 0 but printed no timing block"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_load_failure_names_its_cause() {
    let sb = Sandbox::new()
        .set(
            "STANDIN_MESSAGE",
            "llama_model_load: error loading model: failed to load model 'x'",
        )
        .set("STANDIN_NO_TIMINGS", "1")
        .set("STANDIN_EXIT", "1");
    let o = sb.run(&["--reps", "1", "--warmup", "0"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("exited with code 1"), "{err}");
    assert!(
        err.contains("cause: ") && err.contains("failed to load model"),
        "{err}"
    );
}

#[test]
fn keep_logs_writes_each_runs_raw_output() {
    let sb = Sandbox::new();
    let o = sb.run(&["--reps", "1", "--warmup", "1", "--keep-logs", "logs"]);
    assert_eq!(o.status.code(), Some(0));
    let mut names: Vec<String> = std::fs::read_dir(sb.path("logs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    let err = names.iter().find(|n| n.ends_with("-001.stderr")).unwrap();
    let text = std::fs::read_to_string(sb.path("logs").join(err)).unwrap();
    assert!(text.contains("common_perf_print:        eval time"));
}

#[test]
fn llama_bench_gets_reps_as_r_and_jsonl_and_reports_its_samples() {
    let sb = Sandbox::new()
        .set("STANDIN_MODE", "bench")
        .set("STANDIN_NOISE", "0.01");
    let o = sb.run(&["--reps", "3", "--json", "--", "-p", "64", "-n", "16"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let argv = &sb.argvs()[0];
    assert_eq!(argv.len(), 1 + 1 + 4 + 4, "{argv:?}");
    assert!(
        argv.join(" ").contains("-r 3 -o jsonl -p 64 -n 16"),
        "{argv:?}"
    );
    let r = json(&o);
    assert_eq!(metric(&r, "pp64")["n"], 3);
    assert_eq!(metric(&r, "tg16")["n"], 3);
    let samples = r["runs"][0]["bench"][1]["samples_tps"].as_array().unwrap();
    assert_eq!(samples.len(), 3);
}

#[test]
fn interactive_llama_cli_is_driven_single_turn_with_a_note() {
    let sb = Sandbox::new()
        .set("STANDIN_MODE", "interactive-cli")
        .set("STANDIN_EVAL_TPS", "44.44")
        .set("STANDIN_PROMPT_TPS", "186.86");
    let o = sb.run(&["--reps", "2", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let argv = sb.argvs()[0].join(" ");
    assert!(argv.contains("--single-turn --simple-io"), "{argv}");
    assert!(!argv.contains("-no-cnv"), "{argv}");
    let r = json(&o);
    assert_eq!(metric(&r, "eval_tps")["median"], 44.4);
    assert_eq!(metric(&r, "prompt_eval_tps")["median"], 186.9);
    assert!(
        stderr(&o).contains("prints only '[ Prompt: x t/s | Generation: y t/s ]'"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("llama-completion"), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_2() {
    let sb = Sandbox::new();
    assert_eq!(
        sb.cmd(&["run", "-m", "x"]).output().unwrap().status.code(),
        Some(2)
    );
    assert_eq!(sb.run(&["--reps", "0"]).status.code(), Some(2));
    assert_eq!(sb.run(&["--gpu", "rocm"]).status.code(), Some(2));
    assert_eq!(sb.run(&["--timeout", "soon"]).status.code(), Some(2));
    assert_eq!(
        sb.cmd(&["frobnicate"]).output().unwrap().status.code(),
        Some(2)
    );
}

/// `--sample-interval 100` was read as 100 seconds, silently.
#[test]
fn a_bare_number_for_a_duration_is_a_usage_error_naming_the_units() {
    let sb = Sandbox::new();
    for opt in ["--sample-interval", "--timeout"] {
        let o = sb.run(&[opt, "100"]);
        assert_eq!(o.status.code(), Some(2), "{opt}");
        let err = stderr(&o);
        assert!(err.contains("'100' has no unit"), "{err}");
        assert!(err.contains("'100ms' or '100s'"), "{err}");
    }
    let o = sb
        .cmd(&[
            "compare",
            "--a",
            "x",
            "--b",
            "y",
            "-m",
            "m",
            "--max-time",
            "5",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("'5' has no unit"), "{}", stderr(&o));
}

#[test]
fn help_documents_exit_codes() {
    let o = Command::new(TOKBENCH)
        .args(["run", "--help"])
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(
        out.contains("Exit codes:") && out.contains("130") && out.contains("143"),
        "{out}"
    );
}

#[test]
fn sigint_stops_the_child_keeps_finished_runs_and_exits_130() {
    interrupt_case(nix::sys::signal::Signal::SIGINT, 130);
}

#[test]
fn sigterm_exits_143() {
    interrupt_case(nix::sys::signal::Signal::SIGTERM, 143);
}

fn interrupt_case(sig: nix::sys::signal::Signal, code: i32) {
    let sb = Sandbox::new()
        .set("STANDIN_FAIL_AT", "2")
        .set("STANDIN_HANG", "1");
    let model = sb.model();
    let child = sb
        .cmd(&[
            "run", "--bin", STANDIN, "-m", &model, "--reps", "5", "-o", "r.jsonl",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until two runs are on disk and the third (hanging) one started.
    let t = Instant::now();
    while std::fs::read_to_string(sb.path("r.jsonl"))
        .unwrap_or_default()
        .lines()
        .count()
        < 2
    {
        assert!(t.elapsed() < Duration::from_secs(20), "runs never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("interrupted; 1 counted run(s) finished and kept"),
        "{}",
        stderr(&o)
    );
    let lines = sb.results("r.jsonl");
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["exit"]["interrupted"], true);
    assert!(no_standin_left(&sb));
}

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
        .display()
        .to_string()
}

#[test]
fn parse_reads_a_saved_log_and_prints_its_numbers() {
    let o = Command::new(TOKBENCH)
        .args([
            "parse",
            "--json",
            &fixture("llama/2026_completion_cpu_stderr.txt"),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let t = &v[0]["blocks"][0]["timings"];
    assert_eq!(t["eval_tps"], 50.12);
    assert_eq!(t["eval_tokens"], 63);
    assert_eq!(t["load_ms"], 410.05);
}

#[test]
fn parse_reads_stdin_and_refuses_garbage() {
    use std::io::Write;
    let mut child = Command::new(TOKBENCH)
        .args(["parse", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"llama_print_timings:        eval time =  1000.00 ms /   100 runs   (   10.00 ms per token,   100.00 tokens per second)\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("100"), "{}", stdout(&o));

    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.txt");
    std::fs::write(&garbage, "nothing to see here\n").unwrap();
    let o = Command::new(TOKBENCH)
        .args(["parse", garbage.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("garbage.txt") && stderr(&o).contains("no llama.cpp timings"),
        "{}",
        stderr(&o)
    );
}

/// The real llama.cpp build and model from `LLAMA_CPP_BIN_DIR` and
/// `TOKBENCH_MODEL` (what `scripts/quickstart.sh --fetch-only` prints; `.ci/run`
/// exports both). None, after one line on stderr, when they are not set: a
/// plain clone has no build, and building one (minutes) is not a test's job.
fn real_llama(test: &str) -> Option<(PathBuf, PathBuf)> {
    let get = |key: &str| std::env::var_os(key).filter(|v| !v.is_empty());
    let (Some(bin_dir), Some(model)) = (get("LLAMA_CPP_BIN_DIR"), get("TOKBENCH_MODEL")) else {
        use std::io::Write as _;
        // Written past libtest's capture so that the skip shows in the output.
        let _ = writeln!(
            std::io::stderr(),
            "{test} skipped: LLAMA_CPP_BIN_DIR and TOKBENCH_MODEL are not both set; to run it: \
             eval \"$(scripts/quickstart.sh --fetch-only | sed 's/^/export /')\""
        );
        return None;
    };
    let (bin_dir, model) = (PathBuf::from(bin_dir), PathBuf::from(model));
    assert!(
        bin_dir.join("llama-completion").is_file() && model.is_file(),
        "LLAMA_CPP_BIN_DIR '{}' has no llama-completion or TOKBENCH_MODEL '{}' is not a file",
        bin_dir.display(),
        model.display()
    );
    Some((bin_dir, model))
}

/// "eval time = ... tokens per second)" as llama.cpp printed it, read with
/// a plain string search independent of tokbench's parser.
fn printed_eval_tps(log: &str) -> f64 {
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains(" eval time =") && !l.contains("prompt"))
        .unwrap();
    let before = line.rsplit_once(" tokens per second").unwrap().0;
    before
        .rsplit([',', '(', ' '])
        .find(|s| !s.is_empty())
        .unwrap()
        .parse()
        .unwrap()
}

/// `tokbench serve --a-server --b-server` on the real llama-server (Gemma 3
/// 270M, CPU, one ABBA pair of tiny blocks): each block runs against its own
/// side's freshly started server (A has 1 slot, B 2), which is stopped
/// before the next starts; one pair gives no interval, so no claim.
#[test]
fn e2e_real_llama_server_ab() {
    if std::env::var_os("TOKBENCH_SKIP_E2E").is_some() {
        eprintln!("TOKBENCH_SKIP_E2E is set: skipping the real llama-server A/B test");
        return;
    }
    let Some((bin_dir, model)) = real_llama("e2e_real_llama_server_ab") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = |np: u32| {
        format!(
            "'{}' -m '{}' -np {np} -c 1024 -t 2",
            bin_dir.join("llama-server").display(),
            model.display()
        )
    };
    let (a, b) = (server(1), server(2));
    let o = Command::new(TOKBENCH)
        .env("TOKBENCH_NO_HISTORY", "1")
        .args(["serve", "--a-server", &a, "--b-server", &b, "--pairs", "1"])
        .args(["--concurrency", "1", "--requests", "2", "--warmup", "0"])
        .args(["--max-tokens", "4", "--prompt-tokens", "16", "--json"])
        .args(["-o", "ab.jsonl"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v["verdicts"][0]["verdict"], "inconclusive",
        "one pair: no claim"
    );
    let text = std::fs::read_to_string(dir.path().join("ab.jsonl")).unwrap();
    let blocks: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["kind"] == "serve_block")
        .collect();
    let seen: Vec<(&str, u64)> = blocks
        .iter()
        .map(|b| {
            (
                b["side"].as_str().unwrap(),
                b["server"]["total_slots"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen, [("a", 1), ("b", 2)]);
    for b in &blocks {
        assert_eq!(b["metrics_delta"]["tokens_predicted_total"], 8.0, "{b}");
        // The proc sampler watched this block's server: the model is in its memory.
        let rss = b["sampled"]["peak_rss_bytes"].as_u64().unwrap_or(0);
        assert!(
            rss > 100 << 20,
            "server RSS peak {rss} bytes: {}",
            b["sampled"]
        );
        let log = b["server"]["log"].as_str().unwrap();
        assert!(dir.path().join(log).is_file(), "server log '{log}' kept");
        // Stopped: its port no longer answers.
        let url = b["server"]["url"].as_str().unwrap();
        let addr = url.trim_start_matches("http://");
        assert!(
            std::net::TcpStream::connect(addr).is_err(),
            "{url} still up"
        );
    }
}

/// `tokbench serve --server` on the real llama-server (Gemma 3 270M, CPU, a
/// small load): tokbench starts and stops it, and its client-side figures
/// agree with the server's own `timings` and `/metrics` on the same run.
#[test]
fn e2e_real_llama_server() {
    if std::env::var_os("TOKBENCH_SKIP_E2E").is_some() {
        eprintln!("TOKBENCH_SKIP_E2E is set: skipping the real llama-server test");
        return;
    }
    let Some((bin_dir, model)) = real_llama("e2e_real_llama_server") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = format!(
        "'{}' -m '{}' -np 2 -c 2048 -t 2",
        bin_dir.join("llama-server").display(),
        model.display()
    );
    let o = Command::new(TOKBENCH)
        .env("TOKBENCH_NO_HISTORY", "1")
        .args([
            "serve",
            "--server",
            &server,
            "--rate",
            "1",
            "--requests",
            "6",
            "--warmup",
            "1",
        ])
        .args([
            "--max-tokens",
            "16",
            "--prompt-tokens",
            "64",
            "--format",
            "json",
            "-o",
            "s.jsonl",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let block: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (block["completed"].as_u64(), block["early_stops"].as_u64()),
        (Some(6), Some(0))
    );
    assert_eq!(block["server"]["total_slots"], 2);
    let text = std::fs::read_to_string(dir.path().join("s.jsonl")).unwrap();
    let reqs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["kind"] == "serve_request" && r["warmup"] == false)
        .collect();
    // The counters moved by exactly what the counted requests asked for and the server reported.
    let m = &block["metrics_delta"];
    assert_eq!(m["tokens_predicted_total"], 6.0 * 16.0, "{m}");
    let prompt_n: u64 = reqs
        .iter()
        .map(|r| r["timings"]["prompt_n"].as_u64().unwrap())
        .sum();
    assert_eq!(
        m["prompt_tokens_total"].as_f64(),
        Some(prompt_n as f64),
        "{m}"
    );
    for r in &reqs {
        let t = &r["timings"];
        let n = t["prompt_n"].as_u64().unwrap();
        assert!(
            (60..=72).contains(&n),
            "prompt of {n} tokens for --prompt-tokens 64"
        );
        assert_eq!(
            (t["predicted_n"].as_u64(), t["cache_n"].as_u64()),
            (Some(16), Some(0))
        );
        // The client saw the first token after the server's prompt time, and the end after all of it.
        let (ttft, e2e) = (
            r["ttft_from_send_ms"].as_f64().unwrap(),
            r["e2e_from_send_ms"].as_f64().unwrap(),
        );
        let (pms, gms) = (
            t["prompt_ms"].as_f64().unwrap(),
            t["predicted_ms"].as_f64().unwrap(),
        );
        assert!(
            ttft >= pms - 5.0 && e2e >= pms + gms - 5.0,
            "ttft {ttft} prompt_ms {pms} e2e {e2e} predicted_ms {gms}"
        );
        assert_eq!(
            r["chunk_tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_f64().unwrap())
                .sum::<f64>(),
            16.0
        );
    }
    assert!(std::path::Path::new(&format!("{}/s.jsonl.server.log", dir.path().display())).exists());
}

#[test]
fn e2e_real_llama_cpp() {
    if std::env::var_os("TOKBENCH_SKIP_E2E").is_some() {
        eprintln!("TOKBENCH_SKIP_E2E is set: skipping the real llama.cpp test");
        return;
    }
    let Some((bin_dir, model)) = real_llama("e2e_real_llama_cpp") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let completion = bin_dir.join("llama-completion");
    let o = Command::new(TOKBENCH)
        .args([
            "run",
            "--bin",
            completion.to_str().unwrap(),
            "-m",
            model.to_str().unwrap(),
        ])
        .args([
            "--reps",
            "2",
            "--warmup",
            "1",
            "-n",
            "16",
            "-o",
            "r.jsonl",
            "--keep-logs",
            "logs",
            "--",
            "-t",
            "2",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let text = std::fs::read_to_string(dir.path().join("r.jsonl")).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir.path().join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "stderr"))
        .collect();
    logs.sort();
    for (rec, log) in records.iter().zip(&logs) {
        let printed = printed_eval_tps(&std::fs::read_to_string(log).unwrap());
        assert_eq!(
            rec["timings"]["eval_tps"].as_f64().unwrap(),
            printed,
            "{}",
            log.display()
        );
        assert_eq!(rec["timings"]["eval_tokens"], 15);
        assert!(rec["timings"]["prompt_eval_tokens"].as_u64().unwrap() > 400);
    }
    assert_eq!(records[0]["build"]["commit"], "0c1e570");
    assert_eq!(records[0]["build"]["backend"], "CPU");

    let bench = bin_dir.join("llama-bench");
    let o = Command::new(TOKBENCH)
        .args([
            "run",
            "--bin",
            bench.to_str().unwrap(),
            "-m",
            model.to_str().unwrap(),
            "--reps",
            "2",
            "--json",
        ])
        .args(["--", "-p", "32", "-n", "8", "-t", "2"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(metric(&r, "pp32")["n"], 2);
    assert_eq!(metric(&r, "tg8")["n"], 2);
    assert_eq!(r["runs"][0]["bench"][0]["build_commit"], "0c1e570");
}

#[test]
fn gpu_offload_on_a_binary_without_ngl_is_refused_and_cpu_adds_no_ngl() {
    let sb = Sandbox::new().set("STANDIN_HELP_OMIT", "-ngl");
    let o = sb.run(&["--reps", "1", "--gpu", "cuda"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("takes no -ngl/--n-gpu-layers"),
        "{}",
        stderr(&o)
    );
    assert!(sb.argvs().is_empty());
    let o = sb.run(&["--reps", "1", "--warmup", "0", "--gpu", "cpu"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let argv = &sb.argvs()[0];
    assert!(
        !argv.contains(&"-ngl".to_string()) && argv.contains(&"-dev".to_string()),
        "{argv:?}"
    );
}

#[test]
fn gpu_requested_on_a_cpu_only_build_is_a_warning() {
    let sb = Sandbox::new();
    let o = sb.run(&["--reps", "1", "--warmup", "0", "--gpu", "cuda"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains("--gpu cuda was asked for but the build reports backend 'CPU'"),
        "{out}"
    );
}
mod eras;
mod samplers;

mod compare {
    use super::*;

    /// `tokbench compare` of the stand-in against itself; B gets `b_args`.
    fn compare(sb: &Sandbox, b_args: &str, extra: &[&str]) -> Output {
        let model = sb.model();
        let mut args = vec![
            "compare", "--a", STANDIN, "-m", &model, "--b-args", b_args, "-n", "8",
        ];
        args.extend_from_slice(extra);
        sb.cmd(&args).output().unwrap()
    }

    fn primary(report: &Value) -> &Value {
        report["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric"] == "eval_tps")
            .unwrap()
    }

    #[test]
    fn a_3pct_slower_build_is_called_slower_with_its_interval() {
        let sb = Sandbox::new().set("STANDIN_NOISE", "0.01");
        let o = compare(
            &sb,
            "--standin-scale 0.97",
            &["--pairs", "10", "--json", "-o", "r.jsonl"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let r = json(&o);
        let m = primary(&r);
        assert_eq!(m["verdict"], "slower", "{m}");
        assert_eq!(m["verdict_text"], "slower");
        let (lo, hi) = (
            m["change_ci_low_pct"].as_f64().unwrap(),
            m["change_ci_high_pct"].as_f64().unwrap(),
        );
        assert!(lo < -3.0 + 2.0 && hi < -1.0 && lo < hi, "{lo} .. {hi}");
        assert_eq!(r["pairs"], 10);
        assert_eq!(r["interleaved"], true);
        // Every run on disk with its side, in warmup-then-ABBA order.
        let sides: Vec<String> = sb
            .results("r.jsonl")
            .iter()
            .map(|l| l["side"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(sides[..10].join(""), "ababbaabba");
        assert_eq!(sides.len(), 22);
        // B's extra argument reached B only.
        let argvs = sb.argvs();
        assert!(!argvs[0].contains(&"--standin-scale".to_string()));
        assert!(argvs[1].contains(&"--standin-scale".to_string()));
    }

    #[test]
    fn fail_if_slower_exits_3_only_beyond_the_limit() {
        let sb = Sandbox::new().set("STANDIN_NOISE", "0.005");
        let o = compare(
            &sb,
            "--standin-scale 0.95",
            &["--pairs", "8", "--fail-if-slower", "2%"],
        );
        assert_eq!(o.status.code(), Some(3), "{}\n{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains("REGRESSION"), "{}", stdout(&o));
        let sb = Sandbox::new().set("STANDIN_NOISE", "0.005");
        let o = compare(
            &sb,
            "--standin-scale 0.95",
            &["--pairs", "8", "--fail-if-slower", "10"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    }

    #[test]
    fn fail_if_slower_on_a_metric_never_measured_is_an_error_not_a_pass() {
        let sb = Sandbox::new();
        let o = compare(
            &sb,
            "--standin-scale 1.0",
            &[
                "--pairs",
                "6",
                "--metric",
                "gpu_energy_j",
                "--fail-if-slower",
                "3",
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
        assert!(
            stderr(&o).contains("--fail-if-slower 3% could not be checked"),
            "{}",
            stderr(&o)
        );
    }

    #[test]
    fn identical_builds_give_no_significant_change() {
        let sb = Sandbox::new().set("STANDIN_NOISE", "0.002");
        let o = compare(
            &sb,
            "--standin-scale 1.0",
            &["--pairs", "10", "--json", "--fail-if-slower", "1"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(primary(&json(&o))["verdict"], "no_change");
    }

    #[test]
    fn drift_is_reported_and_cancelled_by_interleaving() {
        // -0.5% per run over 22 runs: about -10% across the session.
        let sb = Sandbox::new()
            .set("STANDIN_NOISE", "0.002")
            .set("STANDIN_DRIFT", "-0.005");
        let o = compare(&sb, "--standin-scale 1.0", &["--pairs", "10", "--json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let r = json(&o);
        assert!(!["faster", "slower"].contains(&primary(&r)["verdict"].as_str().unwrap()));
        let warnings = r["warnings"].to_string();
        assert!(
            warnings.contains("drift in eval_tps") && warnings.contains("cancelled"),
            "{warnings}"
        );
    }

    #[test]
    fn auto_stops_once_decided() {
        let sb = Sandbox::new().set("STANDIN_NOISE", "0.01");
        let o = compare(&sb, "--standin-scale 0.90", &["--auto", "--json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let r = json(&o);
        assert_eq!(primary(&r)["verdict"], "slower");
        let pairs = r["pairs"].as_u64().unwrap();
        assert!((6..50).contains(&pairs), "{pairs}");
        assert!(
            r["auto"].as_str().unwrap().starts_with("decided after"),
            "{}",
            r["auto"]
        );
    }

    #[test]
    fn stored_files_are_compared_unpaired_with_a_warning() {
        let sb = Sandbox::new().set("STANDIN_NOISE", "0.005");
        let model = sb.model();
        for (file, scale) in [("before.jsonl", "1.0"), ("after.jsonl", "1.10")] {
            let o = sb
                .cmd(&[
                    "run",
                    "--bin",
                    STANDIN,
                    "-m",
                    &model,
                    "--reps",
                    "8",
                    "-o",
                    file,
                    "--",
                    "--standin-scale",
                    scale,
                ])
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(0));
        }
        let o = sb
            .cmd(&[
                "compare",
                "before.jsonl",
                "after.jsonl",
                "--format",
                "markdown",
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let md = stdout(&o);
        assert!(
            md.contains("| metric | unit | A median | B median | medians B/A | B/A (HL est.) | 95% CI | p | verdict |"),
            "{md}"
        );
        let row = md.lines().find(|l| l.starts_with("| eval_tps |")).unwrap();
        assert!(
            row.starts_with("| eval_tps | t/s | 50.")
                && row.contains(" | 55.")
                && row.ends_with("| faster |"),
            "{row}"
        );
        // The PR table: one row per test, both rates, the speedup.
        let pr = md.lines().find(|l| l.contains("| tg128 |")).unwrap();
        assert!(pr.contains("| 1.100 | 1.097 .. 1.104 | faster |"), "{pr}");
        assert!(
            md.contains("faster") && md.contains("not interleaved"),
            "{md}"
        );
    }

    #[test]
    fn comparing_a_build_with_itself_is_a_usage_error() {
        let sb = Sandbox::new();
        let model = sb.model();
        let o = sb
            .cmd(&["compare", "--a", STANDIN, "-m", &model])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("same binary with the same arguments"),
            "{}",
            stderr(&o)
        );
        let o = sb
            .cmd(&[
                "compare",
                "--a",
                STANDIN,
                "-m",
                &model,
                "--b-args",
                "'unclosed",
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        let o = sb
            .cmd(&[
                "compare",
                "--a",
                STANDIN,
                "-m",
                &model,
                "--threshold",
                "abc",
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
    }

    #[test]
    fn dry_run_shows_both_command_lines() {
        let sb = Sandbox::new();
        let o = compare(&sb, "-t 4", &["--a-args", "-t 2", "--dry-run"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.contains("-t 2") && out.contains("-t 4") && out.contains("ABBA"),
            "{out}"
        );
        assert!(sb.argvs().is_empty());
    }
}

mod build;
mod faults;
mod history;
mod install;
mod keys;
mod llama_flags;
mod ops;
mod plots;
mod profile;
mod sweep;

#[test]
fn doctor_lists_samplers_and_finds_llama_binaries_in_llama_cpp_bin_dir() {
    let sb = Sandbox::new();
    let bin_dir = sb.path("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    std::fs::copy(STANDIN, bin_dir.join("llama-completion")).unwrap();
    let o = sb
        .cmd(&["doctor"])
        .env("LLAMA_CPP_BIN_DIR", &bin_dir)
        .env("TOKBENCH_CACHE_DIR", sb.path("no-cache"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("proc") && out.contains("usable, in auto"),
        "{out}"
    );
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("llama-completion"))
        .unwrap();
    assert!(
        line.contains(bin_dir.to_str().unwrap()) && line.contains("commit abc1234"),
        "{line}"
    );
}

/// The H200 recordings (fixtures/results): what tokbench wrote from a real
/// CUDA run reads back into the same figures.
mod h200 {
    use super::*;

    #[test]
    fn the_recorded_eval_rate_is_the_one_llama_cpp_printed() {
        let stderr_log = fixture("llama/2026_tokbench_h200_cuda_n1024.stderr");
        let printed = printed_eval_tps(&std::fs::read_to_string(&stderr_log).unwrap());
        assert_eq!(printed, 873.14);
        let text = std::fs::read_to_string(fixture("results/h200_completion_cuda.jsonl")).unwrap();
        let rec: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
        assert_eq!(rec["seq"], 1);
        assert_eq!(rec["timings"]["eval_tps"], printed);
        assert_eq!(rec["timings"]["eval_tokens"], 1023);
        assert_eq!(rec["build"]["backend"], "CUDA");
        let s = &rec["sampled"];
        assert_eq!(s["window"]["kind"], "generation");
        assert!(s["gpu_busy_pct_mean"].as_f64().unwrap() > 50.0);
        assert!(s["gpu_j_per_token"].as_f64().unwrap() > 0.0);
        // At least 10 nvidia-smi samples inside the generation window.
        let (a, b) = (
            s["window"]["start_ms"].as_f64().unwrap(),
            s["window"]["end_ms"].as_f64().unwrap(),
        );
        let inside = rec["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| {
                x["source"] == "nvidia-smi" && (a..=b).contains(&x["t_ms"].as_f64().unwrap())
            })
            .count();
        assert!(inside >= 10, "{inside}");
    }

    #[test]
    fn stored_cpu_vs_cuda_session_gives_the_same_verdict() {
        let o = Command::new(TOKBENCH)
            .args([
                "compare",
                &fixture("results/h200_compare_cpu_vs_cuda.jsonl"),
                "--json",
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let r = json(&o);
        assert_eq!(r["pairs"], 6);
        assert_eq!(r["interleaved"], true);
        let m = r["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric"] == "eval_tps")
            .unwrap();
        assert_eq!(m["verdict"], "faster");
        // Medians of the six runs each side printed (51.57 and 52.62 for A).
        assert_eq!(m["median_a"], 52.095);
        assert_eq!(m["median_b"], 809.245);
    }
}
