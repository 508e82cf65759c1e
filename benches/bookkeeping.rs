//! The cost of a run's bookkeeping, end to end (issue 9 item 7): the wall
//! time of `tokbench run --reps N` of a 0.1 s stand-in run against a plain
//! loop starting the same binary with the same arguments N times, one after
//! the other (what `for i in $(seq N); do llama-completion ...; done` does,
//! without the shell), with the history on and with `--no-history`.
//!
//! tokbench's time includes all it does around the runs: probing the binary
//! (`--version`, `--help`), hashing it and the model, spawning each run with
//! its output drained and parsed, the JSONL file (append + fsync) and the
//! history sink. Warmups and samplers are off (`--warmup 0 --sampler none`)
//! so both sides start the binary N times. The loop's argv is the one
//! tokbench recorded. The sides alternate over `BOOKKEEPING_TRIALS` trials
//! and the medians are printed: the wall ratio and the extra ms per run.
//!
//! Run: `cargo bench --bench bookkeeping` (BOOKKEEPING_RUNS, default 20;
//! BOOKKEEPING_TRIALS, default 5; BOOKKEEPING_SLEEP_MS, default 100).
//! Without `--bench` (`cargo test --all-targets`) a short smoke run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const TOKBENCH: &str = env!("CARGO_BIN_EXE_tokbench");
const STANDIN: &str = env!("CARGO_BIN_EXE_tokbench-standin");

type Error = Box<dyn std::error::Error>;

struct Setup {
    runs: u32,
    trials: usize,
    sleep_ms: u32,
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(long: bool) -> Result<Setup, Error> {
        let var = |k: &str, d: u32| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(d)
        };
        let (runs, trials, sleep) = match long {
            true => (20, 5, 100),
            false => (3, 1, 20),
        };
        let dir = tempfile::tempdir()?;
        let mut model = b"GGUF\x03\x00\x00\x00".to_vec();
        model.extend_from_slice(&[0u8; 56]);
        std::fs::write(dir.path().join("model.gguf"), model)?;
        Ok(Setup {
            runs: var("BOOKKEEPING_RUNS", runs),
            trials: var("BOOKKEEPING_TRIALS", trials) as usize,
            sleep_ms: var("BOOKKEEPING_SLEEP_MS", sleep),
            dir,
        })
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn standin_env(&self, c: &mut Command) {
        c.env("STANDIN_SLEEP_MS", self.sleep_ms.to_string())
            .env_remove("STANDIN_STATE")
            .env_remove("STANDIN_ARGV_LOG");
    }

    /// Seconds of one `tokbench run --reps REPS`; checks that they were recorded.
    fn tokbench(&self, history: bool, reps: u32, trial: usize) -> Result<f64, Error> {
        let out = self.path(&format!("runs-{history}-{reps}-{trial}.jsonl"));
        let model = self.path("model.gguf");
        let mut c = Command::new(TOKBENCH);
        c.args(["run", "--bin", STANDIN]);
        if !history {
            c.arg("--no-history");
        }
        c.arg("-m")
            .arg(&model)
            .args(["--reps", &reps.to_string(), "--warmup", "0"])
            .args(["--sampler", "none", "--format", "json", "-o"])
            .arg(&out)
            .env("TOKBENCH_DB", self.path("history.sqlite"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.standin_env(&mut c);
        let t = Instant::now();
        let status = c.status()?;
        let secs = t.elapsed().as_secs_f64();
        if !status.success() {
            return Err(format!("tokbench run exited with {status}").into());
        }
        let lines = std::fs::read_to_string(&out)?.lines().count();
        if lines != reps as usize {
            return Err(format!("{} holds {lines} runs, not {reps}", out.display()).into());
        }
        Ok(secs)
    }

    /// Seconds of N starts of the stand-in with `argv` (the loop).
    fn plain_loop(&self, argv: &[String]) -> Result<f64, Error> {
        let t = Instant::now();
        for _ in 0..self.runs {
            let mut c = Command::new(STANDIN);
            c.args(argv).stdout(Stdio::null()).stderr(Stdio::null());
            self.standin_env(&mut c);
            let status = c.status()?;
            if !status.success() {
                return Err(format!("the stand-in exited with {status}").into());
            }
        }
        Ok(t.elapsed().as_secs_f64())
    }
}

/// The argv tokbench gave the binary, from the first record of `file`.
fn recorded_argv(file: &Path) -> Result<Vec<String>, Error> {
    let text = std::fs::read_to_string(file)?;
    let first: serde_json::Value = serde_json::from_str(text.lines().next().ok_or("no run")?)?;
    let argv: Vec<String> = serde_json::from_value(first["argv"].clone())?;
    // argv[0] is the binary itself.
    Ok(argv.into_iter().skip(1).collect())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Error> {
    let long = std::env::args().any(|a| a == "--bench");
    let s = Setup::new(long)?;
    // One run first: the argv for the loop, and warm file caches.
    s.tokbench(false, 1, usize::MAX)?;
    let argv = recorded_argv(&s.path(&format!("runs-false-1-{}.jsonl", usize::MAX)))?;
    let mut t: [Vec<f64>; 5] = Default::default();
    for trial in 0..s.trials {
        t[0].push(s.plain_loop(&argv)?);
        t[1].push(s.tokbench(true, s.runs, trial)?);
        t[2].push(s.tokbench(false, s.runs, trial)?);
        // One run: tokbench's fixed start-up (probe, hashes), to split it
        // from the cost per run.
        t[3].push(s.tokbench(true, 1, trial)?);
        t[4].push(s.tokbench(false, 1, trial)?);
    }
    let [p, h, n, h1, n1] = t.map(median);
    let extra_ms = |t: f64| (t - p) * 1000.0 / s.runs as f64;
    // (T(N) - T(1)) / (N - 1): one more run's cost, less the binary's own.
    let marginal_ms =
        |tn: f64, t1: f64| ((tn - t1) / (s.runs.max(2) - 1) as f64 - p / s.runs as f64) * 1000.0;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "runs={} trials={} run_ms={} loop_s={p:.3} history_s={h:.3} no_history_s={n:.3}",
        s.runs, s.trials, s.sleep_ms
    );
    println!(
        "wall_ratio_history={:.3} wall_ratio_no_history={:.3} extra_ms_per_run_history={:.1} extra_ms_per_run_no_history={:.1} load={}",
        h / p,
        n / p,
        extra_ms(h),
        extra_ms(n),
        load.split_whitespace().next().unwrap_or("?")
    );
    println!(
        "startup_s_history={h1:.3} startup_s_no_history={n1:.3} marginal_ms_per_run_history={:.1} marginal_ms_per_run_no_history={:.1}",
        marginal_ms(h, h1),
        marginal_ms(n, n1)
    );
    Ok(())
}
