//! `test-backend-ops perf` console output, for builds older than its
//! `--output sql` (and for logs saved from a terminal):
//!
//! ```text
//! Backend 2/2: CPU
//!   Device description: AMD EPYC 9654 96-Core Processor
//!   ADD(type=f32,ne=[4096,4096,1,1],nr=[1,1,1,1]):     2345 runs -   123.45 us/run -   196608 kB/run -   94.87 GB/s
//!   MUL_MAT(type_a=f16,...):                            1234 runs -   812.03 us/run - 117.44 MFLOP/run - 144.62 GFLOPS
//! ```
//!
//! The rate is wrapped in ANSI colour codes even when stdout is not a
//! terminal; they are removed first. The console rounds the rate to two
//! decimals of its unit, so `flops` read here is less precise than SQL's.

use std::sync::LazyLock;

use regex::Regex;

use super::OpsParseError;
use crate::model::OpResult;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("console regex compiles")
}

static ANSI: LazyLock<Regex> = LazyLock::new(|| re(r"\x1b\[[0-9;]*[A-Za-z]"));
static BACKEND: LazyLock<Regex> = LazyLock::new(|| re(r"^Backend \d+/\d+: (\S+)\s*$"));
static DEVICE: LazyLock<Regex> = LazyLock::new(|| re(r"^\s+Device description: (.+?)\s*$"));
static PERF: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^\s*([A-Za-z0-9_]+)\((.*)\):\s+(\d+) runs -\s+([0-9.]+) us/run -\s+(.+?)\s*$")
});
static UNSUPPORTED: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\s*([A-Za-z0-9_]+)\((.*)\): not supported"));
static FLOPS: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[0-9.]+ [kMGT]FLOP/run -\s+([0-9.]+) ([kMGT])FLOPS$"));
static BYTES: LazyLock<Regex> = LazyLock::new(|| re(r"^(\d+) kB/run -\s+([0-9.]+) GB/s$"));

/// Removes ANSI escape sequences (colours, bold).
pub fn strip_ansi(text: &str) -> String {
    ANSI.replace_all(text, "").into_owned()
}

/// True when the text holds at least one console perf line.
pub fn looks_like_console(text: &str) -> bool {
    strip_ansi(text).lines().any(|l| PERF.is_match(l))
}

/// Every perf and not-supported line, with the backend named by the last
/// `Backend i/n: NAME` header above it.
pub fn parse_console(source_name: &str, text: &str) -> Result<Vec<OpResult>, OpsParseError> {
    let clean = super::sql::strip_noise(&strip_ansi(text));
    let (mut backend, mut device) = (String::new(), String::new());
    let mut out = Vec::new();
    for (i, line) in clean.lines().enumerate() {
        if let Some(c) = BACKEND.captures(line) {
            backend = c[1].to_string();
            device.clear();
        } else if let Some(c) = DEVICE.captures(line) {
            device = c[1].to_string();
        } else if let Some(c) = PERF.captures(line) {
            let mut r = perf_line(&c).map_err(|why| OpsParseError::Line {
                source_name: source_name.to_string(),
                line: i + 1,
                why,
            })?;
            r.backend = backend.clone();
            r.device = device.clone();
            out.push(r);
        } else if let Some(c) = UNSUPPORTED.captures(line) {
            out.push(OpResult {
                backend: backend.clone(),
                op: c[1].to_string(),
                params: c[2].to_string(),
                device: device.clone(),
                ..OpResult::default()
            });
        }
    }
    if out.is_empty() {
        return Err(OpsParseError::Empty {
            source_name: source_name.to_string(),
        });
    }
    Ok(out)
}

fn perf_line(c: &regex::Captures<'_>) -> Result<OpResult, String> {
    let num = |s: &str| {
        s.parse::<f64>()
            .map_err(|_| format!("'{s}' is not a number"))
    };
    let mut r = OpResult {
        op: c[1].to_string(),
        params: c[2].to_string(),
        supported: true,
        n_runs: num(&c[3])? as u64,
        time_us: num(&c[4])?,
        ..OpResult::default()
    };
    let rate = &c[5];
    if let Some(f) = FLOPS.captures(rate) {
        r.flops = num(&f[1])? * unit_scale(&f[2]);
    } else if let Some(b) = BYTES.captures(rate) {
        r.memory_kb = num(&b[1])? as u64;
        r.bandwidth_gb_s = num(&b[2])?;
    } else {
        return Err(format!(
            "unknown rate '{rate}' (expected '... FLOP/run - ... FLOPS' or '... kB/run - ... GB/s')"
        ));
    }
    Ok(r)
}

fn unit_scale(prefix: &str) -> f64 {
    match prefix {
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        _ => 1e12,
    }
}
