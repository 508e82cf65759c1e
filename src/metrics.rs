//! The one registry of the metrics tokbench reports: for each its name,
//! unit, direction (higher or lower is better), how it is read from a run
//! and how it renders. llama-bench results are metrics too, named by their
//! key (`tg128`, `tg64 @ d512`, `pp512 fa=1`; see `parse::bench::key`):
//! tokens per second, higher is better.
//!
//! Every command asks here: the summaries, the comparison and its gate,
//! `--auto`, the plots and the history's main figure. The direction of a
//! metric is written in its entry, never guessed from its unit, and the
//! primary metric of a llama-bench session is decided by [`primary`] alone.

use serde::{Deserialize, Serialize};

use crate::model::{BenchTest, RunRecord, Timings};
use crate::sample::summarize::SampledFigures;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

/// Where a metric's per-run value comes from.
#[derive(Clone, Copy)]
enum Read {
    Timing(fn(&Timings) -> Option<f64>),
    Wall,
    Sampled(fn(&SampledFigures) -> Option<f64>),
    /// A llama-bench result, found by its key.
    Bench,
}

/// One entry of the registry.
#[derive(Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub unit: &'static str,
    pub direction: Direction,
    /// Speeds and times are called faster/slower; the rest higher/lower.
    pub speed: bool,
    /// Decimals it is printed with.
    pub decimals: usize,
    read: Read,
}

use Direction::{HigherIsBetter as Higher, LowerIsBetter as Lower};

const fn m(
    name: &'static str,
    unit: &'static str,
    d: Direction,
    speed: bool,
    read: Read,
) -> Metric {
    Metric {
        name,
        unit,
        direction: d,
        speed,
        decimals: 2,
        read,
    }
}

/// A byte count: lower is better, printed whole.
const fn bytes(name: &'static str, get: fn(&SampledFigures) -> Option<f64>) -> Metric {
    Metric {
        decimals: 0,
        ..m(name, "bytes", Lower, false, Read::Sampled(get))
    }
}

fn fin(n: Option<crate::model::Num>) -> Option<f64> {
    n.and_then(|n| n.finite())
}

/// Every named metric, in table order: timings, wall time, sampled figures.
/// llama-bench keys follow them (see [`lookup`]).
pub const REGISTRY: [Metric; 19] = [
    m(
        "eval_tps",
        "t/s",
        Higher,
        true,
        Read::Timing(|t| fin(t.eval_tps)),
    ),
    m(
        "prompt_eval_tps",
        "t/s",
        Higher,
        true,
        Read::Timing(|t| fin(t.prompt_eval_tps)),
    ),
    m(
        "load_ms",
        "ms",
        Lower,
        true,
        Read::Timing(|t| fin(t.load_ms)),
    ),
    m(
        "prompt_eval_ms",
        "ms",
        Lower,
        true,
        Read::Timing(|t| fin(t.prompt_eval_ms)),
    ),
    m(
        "eval_ms",
        "ms",
        Lower,
        true,
        Read::Timing(|t| fin(t.eval_ms)),
    ),
    m(
        "sampling_ms",
        "ms",
        Lower,
        true,
        Read::Timing(|t| fin(t.sampling_ms)),
    ),
    m(
        "total_ms",
        "ms",
        Lower,
        true,
        Read::Timing(|t| fin(t.total_ms)),
    ),
    m("wall_ms", "ms", Lower, true, Read::Wall),
    m(
        "gpu_busy_pct",
        "%",
        Higher,
        false,
        Read::Sampled(|f| f.gpu_busy_pct_mean),
    ),
    m(
        "gpu_power_w",
        "W",
        Lower,
        false,
        Read::Sampled(|f| f.gpu_power_w_mean),
    ),
    m(
        "gpu_energy_j",
        "J",
        Lower,
        false,
        Read::Sampled(|f| f.gpu_energy_j),
    ),
    m(
        "gpu_j_per_token",
        "J/token",
        Lower,
        false,
        Read::Sampled(|f| f.gpu_j_per_token),
    ),
    m(
        "tokens_per_j",
        "token/J",
        Higher,
        false,
        Read::Sampled(|f| f.tokens_per_j),
    ),
    m(
        "combined_j_per_token",
        "J/token",
        Lower,
        false,
        Read::Sampled(|f| f.combined_j_per_token),
    ),
    m(
        "gpu_temp_c_max",
        "°C",
        Lower,
        false,
        Read::Sampled(|f| f.gpu_temp_c_max),
    ),
    bytes("peak_rss_bytes", |f| f.peak_rss_bytes.map(|b| b as f64)),
    bytes("peak_phys_footprint_bytes", |f| {
        f.peak_phys_footprint_bytes.map(|b| b as f64)
    }),
    bytes("gpu_mem_bytes", |f| f.gpu_mem_bytes_peak.map(|b| b as f64)),
    m(
        "roofline_pct",
        "%",
        Higher,
        false,
        Read::Sampled(|f| f.roofline_pct),
    ),
];

/// What a llama-bench key is as a metric: t/s, higher is better.
const BENCH: Metric = m("llama-bench test", "t/s", Higher, true, Read::Bench);

/// The registry entry of a named metric.
pub fn named(name: &str) -> Option<&'static Metric> {
    REGISTRY.iter().find(|m| m.name == name)
}

/// Whether `name` has the shape of a llama-bench key: a test name
/// (`pp512`, `tg128`, `pp512+tg128`, `tg64 @ d512`) then ` flag=value`s.
pub fn is_bench_key(name: &str) -> bool {
    crate::parse::bench::key::is_key(name)
}

/// The entry for any metric: a named one, or a llama-bench key.
pub fn lookup(name: &str) -> Option<&'static Metric> {
    named(name).or_else(|| is_bench_key(name).then_some(&BENCH))
}

/// Unit of a metric (`t/s` for llama-bench keys, `` for unknown names).
pub fn unit(name: &str) -> &'static str {
    lookup(name).map_or("", |m| m.unit)
}

/// Direction of a metric; `None` for a name the registry does not know.
pub fn direction(name: &str) -> Option<Direction> {
    lookup(name).map(|m| m.direction)
}

/// A value with the decimals its metric is printed with.
pub fn render(name: &str, v: f64) -> String {
    match lookup(name) {
        Some(m) => format!("{v:.*}", m.decimals),
        None => format!("{v}"),
    }
}

/// Counted runs: not warmups, and successful.
pub fn counted(records: &[RunRecord]) -> impl Iterator<Item = &RunRecord> {
    records.iter().filter(|r| !r.warmup && r.status == "ok")
}

/// One run's value of a metric: a named one, or a llama-bench key (that
/// test's mean over the invocation's repetitions).
pub fn value(r: &RunRecord, name: &str) -> Option<f64> {
    match named(name).map(|m| m.read) {
        Some(Read::Timing(get)) => get(r.timings.as_ref()?),
        Some(Read::Wall) => Some(r.wall_ms),
        Some(Read::Sampled(get)) => get(r.sampled.as_ref()?),
        Some(Read::Bench) | None => r
            .bench
            .iter()
            .find(|t| t.key() == name)
            .and_then(|t| t.avg_tps.finite()),
    }
}

/// Names of the metrics that some counted run has, in registry order, then
/// the llama-bench keys in the order printed.
pub fn names_in(records: &[RunRecord]) -> Vec<String> {
    let mut names: Vec<String> = REGISTRY
        .iter()
        .filter(|m| counted(records).any(|r| value(r, m.name).is_some()))
        .map(|m| m.name.to_string())
        .collect();
    for r in counted(records) {
        for t in &r.bench {
            if !names.iter().any(|n| n == t.key()) {
                names.push(t.key().to_string());
            }
        }
    }
    names
}

/// The generation test of a llama-bench invocation: its first pure `tg`
/// test (`tg128`, `tg64 @ d512`, `tg128 fa=0`).
pub fn generation_test(tests: &[BenchTest]) -> Option<&BenchTest> {
    tests.iter().find(|t| t.n_prompt == 0 && t.n_gen > 0)
}

/// The prompt test of a llama-bench invocation: its first pure `pp` test.
pub fn prompt_test(tests: &[BenchTest]) -> Option<&BenchTest> {
    tests.iter().find(|t| t.n_prompt > 0 && t.n_gen == 0)
}

/// The primary metric of a session as asked: `eval_tps` (the default)
/// means the generation test for llama-bench runs, which print no
/// `eval_tps`. The only place that decides it.
pub fn primary(asked: &str, records: &[RunRecord]) -> String {
    if asked != "eval_tps" || counted(records).any(|r| value(r, "eval_tps").is_some()) {
        return asked.to_string();
    }
    let ok = records.iter().filter(|r| r.status == "ok");
    ok.clone()
        .filter(|r| !r.warmup)
        .chain(ok)
        .find_map(|r| generation_test(&r.bench))
        .map_or_else(|| asked.to_string(), |t| t.key().to_string())
}

/// `--metric NAME` that names nothing measurable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown metric '{name}': {known}")]
pub struct UnknownMetric {
    pub name: String,
    known: String,
}

fn unknown(name: &str, keys: &[String]) -> UnknownMetric {
    let registry: Vec<&str> = REGISTRY.iter().map(|m| m.name).collect();
    let mut known = format!("known metrics are {}", registry.join(", "));
    if !keys.is_empty() {
        known.push_str(&format!(
            "; this llama-bench session has {}",
            keys.join(", ")
        ));
    }
    UnknownMetric {
        name: name.to_string(),
        known: known + " (pass one with --metric)",
    }
}

/// Before any run: a named metric, or for a llama-bench session a name
/// shaped like one of its keys (checked against its keys by [`check_keys`]).
pub fn check_planned(name: &str, llama_bench: bool) -> Result<(), UnknownMetric> {
    if named(name).is_some() || (llama_bench && is_bench_key(name)) {
        Ok(())
    } else {
        Err(unknown(name, &[]))
    }
}

/// Once results exist: a named metric, or one of the llama-bench keys the
/// records hold (`name` as resolved by [`primary`]).
pub fn check_keys(name: &str, records: &[RunRecord]) -> Result<(), UnknownMetric> {
    let keys: Vec<String> = records
        .iter()
        .filter(|r| r.status == "ok")
        .flat_map(|r| r.bench.iter().map(|t| t.key().to_string()))
        .fold(Vec::new(), |mut v, k| {
            if !v.contains(&k) {
                v.push(k);
            }
            v
        });
    if named(name).is_some() || keys.iter().any(|k| k == name) {
        Ok(())
    } else {
        Err(unknown(name, &keys))
    }
}

/// The primary metric of stored or finished runs ([`primary`]), checked
/// against what they hold ([`check_keys`]).
pub fn resolve(asked: &str, records: &[RunRecord]) -> Result<String, UnknownMetric> {
    let name = primary(asked, records);
    check_keys(&name, records)?;
    Ok(name)
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
