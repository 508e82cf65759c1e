//! A stand-in for llama.cpp's `test-backend-ops`, used only by tokbench's
//! tests: `perf` prints three op cases in the binary's own SQL (or console)
//! format with deterministic noise, so a planted slowdown of one op between
//! two "builds" can be judged end to end.
//!
//! Two builds are two directories holding a link to this program. Each reads
//! `standin-ops.conf` beside the path it was invoked by (argv[0]), lines of:
//!
//! ```text
//! scale MUL_MAT 1.10   # this op's time per run times 1.10 (a planted change)
//! noise 0.005          # relative standard deviation of every time
//! console 1            # no --output in the usage: print the console form
//! alloc_noise 1        # print 'failed to allocate tensors' into the stream
//! ```
//!
//! A counter file `standin-ops.count` in the same directory numbers the
//! invocations, which seeds the noise: the same sequence of calls always
//! gives the same figures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

const CASES: [(&str, &str, f64, f64); 3] = [
    (
        "ADD",
        "type=f32,ne=[4096,512,1,1],nr=[1,1,1,1],nf=1",
        400.0,
        0.0,
    ),
    (
        "MUL_MAT",
        "type_a=f16,type_b=f32,m=4096,n=64,k=4096,bs=[1,1],nr=[1,1]",
        2000.0,
        2.147e9,
    ),
    (
        "SOFT_MAX",
        "type=f32,ne=[4096,512,1,1],mask=0,scale=1.000000",
        250.0,
        0.0,
    ),
];

fn config(dir: &Path) -> (HashMap<String, f64>, HashMap<String, f64>) {
    let text = std::fs::read_to_string(dir.join("standin-ops.conf")).unwrap_or_default();
    let (mut scale, mut opts) = (HashMap::new(), HashMap::new());
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["scale", op, f] => {
                scale.insert(op.to_string(), f.parse().unwrap_or(1.0));
            }
            [k, v] => {
                opts.insert(k.to_string(), v.parse().unwrap_or(0.0));
            }
            _ => {}
        }
    }
    (scale, opts)
}

/// Next invocation number, kept in a counter file beside the binary.
fn next_count(dir: &Path) -> u64 {
    let path = dir.join("standin-ops.count");
    let n: u64 = std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let _ = std::fs::write(&path, (n + 1).to_string());
    n
}

/// A standard normal from a 64-bit seed (SplitMix64 + Box-Muller).
fn gaussian(seed: u64) -> f64 {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    };
    let u = |z: u64| ((mix(z) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let (u1, u2) = (u(seed), u(seed.wrapping_add(0x9e3779b97f4a7c15)));
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn usage(console: bool) {
    println!("Usage: test-backend-ops [mode] [options]\n");
    println!("  -o <op|regex,..>            op filter");
    println!("  -b <backend>                run tests on the given backend");
    println!("  -p <params regex>           filter test cases by params");
    if !console {
        println!("  --output <console|sql|csv>  output format (default: console)");
    }
}

fn arg<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1).map(String::as_str)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(&args[0])
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let (scale, opts) = config(&dir);
    let console = opts.get("console").is_some_and(|v| *v != 0.0);
    let rest = &args[1..];
    if rest.first().map(String::as_str) != Some("perf") {
        usage(console);
        std::process::exit(1);
    }
    let filter = arg(rest, "-o").unwrap_or("");
    let sql = arg(rest, "--output") == Some("sql");
    let backend = arg(rest, "-b").unwrap_or("");
    if !sql {
        println!("Testing 1 devices\n\nBackend 1/1: CPU");
    }
    if backend != "CPU" {
        println!("  Skipping CPU backend\n1/1 backends passed");
        return;
    }
    let count = next_count(&dir);
    let noise = opts.get("noise").copied().unwrap_or(0.0);
    if sql {
        println!("CREATE TABLE IF NOT EXISTS test_backend_ops (\n  op_name TEXT\n);\n");
    } else {
        println!("  Device description: Stand-in CPU\n");
    }
    for (i, (op, params, base, flop)) in CASES.iter().enumerate() {
        if !filter.is_empty() && !filter.split(',').any(|f| f == *op) {
            continue;
        }
        let z = gaussian(count * 16 + i as u64);
        let t = base * scale.get(*op).copied().unwrap_or(1.0) * (1.0 + noise * z);
        print_case(op, params, t, *flop, sql);
        if opts.get("alloc_noise").is_some_and(|v| *v != 0.0) && i == 0 {
            println!("failed to allocate tensors");
        }
    }
}

fn print_case(op: &str, params: &str, t_us: f64, flop: f64, sql: bool) {
    let (flops, gb_s) = if flop > 0.0 {
        (flop / (t_us / 1e6), 0.0)
    } else {
        (0.0, 24576.0 * 1024.0 / (t_us / 1e6) / 1073741824.0)
    };
    let runs = (1e6 / t_us) as u64 + 1;
    if sql {
        println!(
            "INSERT INTO test_backend_ops (test_time, build_commit, backend_name, op_name, op_params, test_mode, supported, passed, error_message, time_us, flops, bandwidth_gb_s, memory_kb, n_runs, device_description, backend_reg_name) VALUES ('2026-12-01T00:00:00Z', 'standin', 'CPU', '{op}', '{params}', 'perf', '1', '1', '', '{t_us:.6}', '{flops:.6}', '{gb_s:.6}', '24576', '{runs}', 'Stand-in CPU', 'CPU');"
        );
    } else if flops > 0.0 {
        println!("  {op}({params}):     {runs:8} runs - {t_us:8.2} us/run - {:6.2} GFLOP/run - \x1b[1;34m{:6.2} GFLOPS\x1b[0m", flop / 1e9, flops / 1e9);
    } else {
        println!("  {op}({params}):     {runs:8} runs - {t_us:8.2} us/run -    24576 kB/run - \x1b[1;34m{gb_s:7.2} GB/s\x1b[0m");
    }
}
