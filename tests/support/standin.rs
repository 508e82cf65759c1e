//! A stand-in for llama.cpp binaries, used only by tokbench's tests. It
//! answers `--help` / `--version` like a real build and "runs" by printing a
//! timing block of the current format with a configurable rate, noise,
//! drift, exit status, crash or hang, so the CLI's integration tests are fast
//! and deterministic. Configured through environment variables:
//!
//! STANDIN_MODE       completion (default) | bench | interactive-cli | notllama
//! STANDIN_EVAL_TPS   generation rate (default 50)
//! STANDIN_PROMPT_TPS prompt rate (default 500)
//! STANDIN_NOISE      relative standard deviation of the rates (default 0)
//! STANDIN_DRIFT      relative change of the rates per run (default 0)
//! STANDIN_SEED       noise seed (default 1)
//! STANDIN_STATE      file counting runs (needed for drift, FAIL_AT, noise)
//! STANDIN_FAIL_AT    run index (from 0, --help/--version not counted) that fails as below
//! STANDIN_EXIT       exit code after printing (default 0)
//! STANDIN_CRASH      segv | abort: die by that signal mid-run
//! STANDIN_HANG       1: hang forever after the log header
//! STANDIN_NO_TIMINGS 1: print no timing block
//! STANDIN_MESSAGE    an extra stderr line (e.g. "failed to load model")
//! STANDIN_FLOOD      bytes of filler to write to stdout and stderr
//! STANDIN_SLEEP_MS   time to spend "generating" (default 0)
//! STANDIN_ARGV_LOG   file to append the received argv to (one JSON array per line)
//! STANDIN_VERSION    override the first --version line
//! STANDIN_HELP_OMIT  leave the --help lines containing this text out
//! STANDIN_HOT_FILE   after a run, write there the epoch second until which a
//!                    stand-in GPU counts as hot (now + 3)
//!
//! STANDIN_ALLOC_MB   memory to allocate and touch before "generating" (held to the end)
//! STANDIN_ARG_RULES  settings that depend on the arguments, for sweeps:
//!                    `ARGS => SETTING&SETTING; ARGS => ...`, where a rule
//!                    applies when its ARGS words appear in a row in argv and
//!                    a SETTING is `scale=F` (multiplies both rates) or
//!                    `STANDIN_X=VALUE` (sets that variable for this run),
//!                    e.g. `-t 2 => scale=1.1&STANDIN_ALLOC_MB=64; -t 8 => STANDIN_CRASH=segv`
//!
//! The argument `--standin-scale F` multiplies both rates by F, so two sides
//! of a comparison can differ through their arguments alone.

use std::io::Write;
use std::time::Duration;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

fn env_f64(name: &str, default: f64) -> f64 {
    env(name).and_then(|s| s.parse().ok()).unwrap_or(default)
}

const COMPLETION_HELP: &str = "----- common params -----

-h,    --help, --usage                  print usage and exit
--version                               show version and build info
-t,    --threads N                      number of CPU threads to use during generation
-p,    --prompt PROMPT                  prompt to start generation with
-f,    --file FNAME                     a file containing the prompt
-n,    --predict, --n-predict N         number of tokens to predict
-dev,  --device <dev1,dev2,..>          comma-separated list of devices to use for offloading
-ngl,  --gpu-layers, --n-gpu-layers N   max. number of layers to store in VRAM
-m,    --model FNAME                    model path to load
-s,    --seed SEED                      RNG seed
--ignore-eos                            ignore end of stream token and continue generating
--temp, --temperature N                 temperature
-cnv,  --conversation, -no-cnv, --no-conversation
                                        whether to run in conversation mode
--warmup, --no-warmup                   whether to perform warmup with an empty run
";

const CLI_HELP: &str = "-h,    --help, --usage                  print usage and exit
-m,    --model FNAME                    model path to load
-p,    --prompt PROMPT                  prompt to start generation with
-n,    --predict, --n-predict N         number of tokens to predict
--show-timings, --no-show-timings       whether to show timing information after each response
-st,   --single-turn                    run conversation for a single turn only, then exit when done
--simple-io                             use basic IO for better compatibility in subprocesses
";

const BENCH_HELP: &str = "usage: llama-bench [options]

options:
  -h, --help
  -r, --repetitions <n>                       number of times to repeat each test (default: 5)
  -o, --output <csv|json|jsonl|md|sql>        output format printed to stdout (default: md)
  --no-warmup                                 skip warmup runs before benchmarking

test parameters:
  -m, --model <filename>                            (default: models/7B/ggml-model-q4_0.gguf)
  -p, --n-prompt <n>                                (default: 512)
  -n, --n-gen <n>                                   (default: 128)
  -ngl, --n-gpu-layers <n>                          (default: 99)
  -dev, --device <dev0/dev1/...>                    (default: auto)
";

/// xorshift64*: deterministic noise without dependencies.
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u1 = self.next_f64().max(1e-12);
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// The index of this run, counted in STANDIN_STATE.
fn next_run_index() -> u64 {
    let Some(path) = env("STANDIN_STATE") else {
        return 0;
    };
    let n: u64 = std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let _ = std::fs::write(&path, (n + 1).to_string());
    n
}

fn arg_value(args: &[String], names: &[&str]) -> Option<String> {
    args.windows(2)
        .find(|w| names.contains(&w[0].as_str()))
        .map(|w| w[1].clone())
}

fn print_version() {
    let first = env("STANDIN_VERSION")
        .unwrap_or_else(|| "version: 0.5.0-dev (build 7001, commit abc1234)".into());
    eprintln!("{first}");
    eprintln!("built with standin-cc 1.0 for x86_64-test-linux");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = env("STANDIN_MODE").unwrap_or_else(|| "completion".into());
    if args.iter().any(|a| a == "--help" || a == "-h") {
        let help = match mode.as_str() {
            "bench" => BENCH_HELP,
            "interactive-cli" => CLI_HELP,
            "notllama" => "usage: something else entirely\n",
            _ => COMPLETION_HELP,
        };
        let omit = env("STANDIN_HELP_OMIT");
        for line in help.lines() {
            if !omit.as_deref().is_some_and(|o| line.contains(o)) {
                println!("{line}");
            }
        }
        return;
    }
    if args.iter().any(|a| a == "--version") {
        print_version();
        return;
    }
    if let Some(path) = env("STANDIN_ARGV_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{}", json_array(&args));
        }
    }
    let rule_scale = apply_arg_rules(&args);
    let run = next_run_index();
    let failing = env("STANDIN_FAIL_AT").is_none_or(|s| s.parse::<u64>().ok() == Some(run));
    let scale: f64 = arg_value(&args, &["--standin-scale"])
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
        * rule_scale;
    let rates = Rates::new(run, scale);
    if mode == "bench" {
        bench(&args, &rates);
    } else if mode == "interactive-cli" {
        let p = rates.jitter(rates.prompt);
        let e = rates.jitter(rates.eval);
        println!("> hello\nthe generated text\n\n[ Prompt: {p:.1} t/s | Generation: {e:.1} t/s ]\n\n\nExiting...");
    } else {
        completion(&args, &rates, failing);
    }
}

struct Rates {
    eval: f64,
    prompt: f64,
    noise: f64,
    rng: std::cell::RefCell<Rng>,
}

impl Rates {
    fn new(run: u64, scale: f64) -> Self {
        let drift = scale * (1.0 + env_f64("STANDIN_DRIFT", 0.0) * run as f64);
        let seed = env_f64("STANDIN_SEED", 1.0) as u64;
        let rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (run + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)
            | 1);
        Rates {
            eval: env_f64("STANDIN_EVAL_TPS", 50.0) * drift,
            prompt: env_f64("STANDIN_PROMPT_TPS", 500.0) * drift,
            noise: env_f64("STANDIN_NOISE", 0.0),
            rng: std::cell::RefCell::new(rng),
        }
    }
    fn jitter(&self, rate: f64) -> f64 {
        rate * (1.0 + self.noise * self.rng.borrow_mut().normal())
    }
}

/// Applies the STANDIN_ARG_RULES that match `args`: sets their variables
/// and returns the product of their scales.
fn apply_arg_rules(args: &[String]) -> f64 {
    let Some(rules) = env("STANDIN_ARG_RULES") else {
        return 1.0;
    };
    let mut scale = 1.0;
    for rule in rules.split(';') {
        let Some((when, then)) = rule.split_once("=>") else {
            continue;
        };
        let want: Vec<&str> = when.split_whitespace().collect();
        let matches = !want.is_empty()
            && args
                .windows(want.len())
                .any(|w| w.iter().zip(&want).all(|(a, b)| a == b));
        if !matches {
            continue;
        }
        for setting in then.split('&') {
            match setting.trim().split_once('=') {
                Some(("scale", f)) => scale *= f.trim().parse::<f64>().unwrap_or(1.0),
                Some((k, v)) if k.starts_with("STANDIN_") => std::env::set_var(k, v),
                _ => {}
            }
        }
    }
    scale
}

/// Allocates and touches STANDIN_ALLOC_MB megabytes, so the process's peak
/// RSS depends on its arguments; the memory is held until exit.
fn allocate() -> Vec<u8> {
    let mb = env_f64("STANDIN_ALLOC_MB", 0.0).max(0.0) as usize;
    let mut v = vec![0u8; mb << 20];
    for i in (0..v.len()).step_by(4096) {
        v[i] = 1;
    }
    v
}

fn json_array(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| json_string(s)).collect();
    format!("[{}]", quoted.join(","))
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn flood() {
    let Some(n) = env("STANDIN_FLOOD").and_then(|s| s.parse::<u64>().ok()) else {
        return;
    };
    let chunk = vec![b'x'; 1 << 16];
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    let mut left = n;
    while left > 0 {
        let k = left.min(chunk.len() as u64) as usize;
        let _ = out.write_all(&chunk[..k]);
        let _ = err.write_all(&chunk[..k]);
        left -= k as u64;
    }
    let _ = err.write_all(b"\n");
}

fn die_as_asked(failing: bool) {
    if !failing {
        return;
    }
    if env("STANDIN_HANG").is_some() {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    match env("STANDIN_CRASH").as_deref() {
        Some("segv") => {
            let _ = std::io::stderr().flush();
            // SAFETY: restoring the default action and raising a signal on
            // ourselves is the point of this stand-in (Rust's runtime
            // installs its own SIGSEGV handler, which would swallow a raise).
            unsafe {
                libc_signal(11, 0);
                libc_raise(11);
            }
        }
        Some("abort") => std::process::abort(),
        _ => {}
    }
}

extern "C" {
    #[link_name = "raise"]
    fn libc_raise(sig: i32) -> i32;
    /// `signal(sig, SIG_DFL)`: SIG_DFL is 0.
    #[link_name = "signal"]
    fn libc_signal(sig: i32, handler: usize) -> usize;
}

fn completion(args: &[String], rates: &Rates, failing: bool) {
    let n: u64 = arg_value(args, &["-n", "--n-predict"])
        .and_then(|s| s.parse().ok())
        .unwrap_or(128);
    let prompt = arg_value(args, &["-p", "--prompt"]).unwrap_or_default();
    let prompt_tokens = (prompt.split_whitespace().count() as u64).max(1);
    print_version();
    eprintln!("0.00.001.250 I llama_completion: llama backend init");
    eprintln!(
        "0.00.405.100 I system_info: n_threads = 2 (n_threads_batch = 2) / 2 | CPU : AVX2 = 1 | "
    );
    if failing {
        if let Some(m) = env("STANDIN_MESSAGE") {
            eprintln!("0.00.405.200 E {m}");
        }
    }
    print!("{prompt}");
    let _ = std::io::stdout().flush();
    flood();
    die_as_asked(failing);
    let held = allocate();
    let sleep = env_f64("STANDIN_SLEEP_MS", 0.0);
    if sleep > 0.0 {
        std::thread::sleep(Duration::from_secs_f64(sleep / 1000.0));
    }
    std::hint::black_box(&held);
    println!(" and the generated text goes here");
    if !(failing && env("STANDIN_NO_TIMINGS").is_some()) {
        print_perf(n, prompt_tokens, rates);
    }
    if let Some(hot) = env("STANDIN_HOT_FILE") {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let _ = std::fs::write(hot, (now + 3).to_string());
    }
    let code: i32 = if failing {
        env("STANDIN_EXIT")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    } else {
        0
    };
    std::process::exit(code);
}

fn print_perf(n: u64, prompt_tokens: u64, rates: &Rates) {
    let eval_tps = rates.jitter(rates.eval);
    let prompt_tps = rates.jitter(rates.prompt);
    let runs = n.saturating_sub(1);
    let eval_ms = runs as f64 * 1000.0 / eval_tps;
    let prompt_ms = prompt_tokens as f64 * 1000.0 / prompt_tps;
    let total = eval_ms + prompt_ms + 5.0;
    let p = "0.02.549.483 I common_perf_print:";
    eprintln!("{p}    sampling time =      46.90 ms");
    eprintln!(
        "{p}    samplers time =      11.78 ms / {:5} tokens",
        n + prompt_tokens
    );
    eprintln!("{p}        load time =     410.05 ms");
    eprintln!(
        "{p} prompt eval time = {prompt_ms:10.2} ms / {prompt_tokens:5} tokens ({:8.2} ms per token, {prompt_tps:8.2} tokens per second)",
        1000.0 / prompt_tps
    );
    eprintln!(
        "{p}        eval time = {eval_ms:10.2} ms / {runs:5} runs   ({:8.2} ms per token, {eval_tps:8.2} tokens per second)",
        1000.0 / eval_tps
    );
    eprintln!(
        "{p}       total time = {total:10.2} ms / {:5} tokens",
        runs + prompt_tokens
    );
    eprintln!("{p}    graphs reused = {:10}", runs.saturating_sub(1));
}

/// A comma list of `-x a,b` (llama-bench's grid syntax), or the default.
fn arg_list(args: &[String], names: &[&str], default: &str) -> Vec<String> {
    arg_value(args, names)
        .unwrap_or_else(|| default.into())
        .split(',')
        .map(str::to_string)
        .collect()
}

/// One grid point: threads, layers, flash attention (-1 auto), depth.
struct Point {
    t: String,
    ngl: String,
    fa: i64,
    d: u64,
}

fn grid(args: &[String]) -> Vec<Point> {
    let mut out = Vec::new();
    for t in arg_list(args, &["-t", "--threads"], "2") {
        for ngl in arg_list(args, &["-ngl", "--n-gpu-layers"], "99") {
            for fa in arg_list(args, &["-fa", "--flash-attn"], "auto") {
                let fa = match fa.as_str() {
                    "1" | "on" => 1,
                    "0" | "off" => 0,
                    _ => -1,
                };
                for d in arg_list(args, &["-d", "--n-depth"], "0") {
                    let (t, ngl) = (t.clone(), ngl.clone());
                    out.push(Point {
                        t,
                        ngl,
                        fa,
                        d: d.parse().unwrap_or(0),
                    });
                }
            }
        }
    }
    out
}

/// Prints llama-bench results for every grid point (`-t`, `-ngl`, `-fa`,
/// `-d` comma lists) and test (`-p`, `-n` lists): flash attention on runs
/// 20% faster and depth 10% slower, so the grid's rows differ.
fn bench(args: &[String], rates: &Rates) {
    let reps: usize = arg_value(args, &["-r", "--repetitions"])
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let num = |s: &String| s.parse::<u64>().unwrap_or(0);
    let ps: Vec<u64> = arg_list(args, &["-p", "--n-prompt"], "512")
        .iter()
        .map(num)
        .collect();
    let ns: Vec<u64> = arg_list(args, &["-n", "--n-gen"], "128")
        .iter()
        .map(num)
        .collect();
    let fmt = arg_value(args, &["-o", "--output"]).unwrap_or_else(|| "md".into());
    if fmt != "jsonl" {
        println!("| model | size | params | backend | threads | fa | test | t/s |");
        println!("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
    }
    for pt in grid(args) {
        let factor = if pt.fa == 1 { 1.2 } else { 1.0 } * if pt.d > 0 { 0.9 } else { 1.0 };
        let tests = ps
            .iter()
            .filter(|&&p| p > 0)
            .map(|&p| (p, 0u64, rates.prompt));
        let tests = tests.chain(ns.iter().filter(|&&n| n > 0).map(|&n| (0, n, rates.eval)));
        for (np, ng, rate) in tests {
            let samples: Vec<f64> = (0..reps)
                .map(|_| (rates.jitter(rate * factor) * 1000.0).round() / 1000.0)
                .collect();
            bench_row(&fmt, &pt, np, ng, &samples);
        }
    }
}

fn bench_row(fmt: &str, pt: &Point, np: u64, ng: u64, samples: &[f64]) {
    let avg = samples.iter().sum::<f64>() / samples.len().max(1) as f64;
    let (t, ngl, fa, d) = (&pt.t, &pt.ngl, pt.fa, pt.d);
    if fmt == "jsonl" {
        let ns: Vec<String> = samples
            .iter()
            .map(|s| format!("{}", ((np + ng) as f64 / s * 1e9) as u64))
            .collect();
        let ts: Vec<String> = samples.iter().map(|s| format!("{s}")).collect();
        println!(
            "{{\"build_commit\": \"abc1234\", \"build_number\": 7001, \"backends\": \"CPU\", \"model_type\": \"standin 1M\", \"model_size\": 1000, \"model_n_params\": 1000000, \"n_threads\": {t}, \"n_gpu_layers\": {ngl}, \"flash_attn\": {fa}, \"n_prompt\": {np}, \"n_gen\": {ng}, \"n_depth\": {d}, \"test_time\": \"2026-11-29T00:00:00Z\", \"avg_ns\": 1, \"stddev_ns\": 0, \"avg_ts\": {avg:.6}, \"stddev_ts\": 0.0, \"samples_ns\": [ {} ],\"samples_ts\": [ {} ]}}",
            ns.join(", "),
            ts.join(", ")
        );
        return;
    }
    let mut test = if ng == 0 {
        format!("pp{np}")
    } else {
        format!("tg{ng}")
    };
    if d > 0 {
        test.push_str(&format!(" @ d{d}"));
    }
    println!("| standin 1M | 0.00 MiB | 1.00 M | CPU | {t} | {fa} | {test} | {avg:.2} ± 0.00 |");
}
