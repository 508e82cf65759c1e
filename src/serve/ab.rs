//! A/B between two servers: the figures a verdict can be drawn on, read
//! from each block's summary, and the verdict per figure from the blocks of
//! an ABBA session. Pure.
//!
//! # Which statistics, and why
//! The unit of replication is the block, not the request. The requests of
//! one block share one server's state (its batch, its queue, its caches,
//! the machine's temperature), so they are not independent draws, and an
//! interval over the pooled requests of all blocks (the order-statistic
//! intervals each block reports) would be far too narrow for a claim about
//! the servers. Each block's figure (its p50 ITL, its output tok/s) is one
//! observation; the k-th A block is paired with the k-th B block (adjacent
//! in the ABBA order, so a slow drift moves both alike), and the paired
//! Hodges-Lehmann estimate with its Wilcoxon signed-rank interval of
//! `compare` ([`crate::compare::stats::compare`]) gives the change B/A with
//! its 95% interval, judged against the `--threshold` noise band. The price
//! is the one `compare` states: at least 6 pairs for an interval at 95%;
//! with fewer the verdict is `inconclusive`, never a claim.

use serde::{Deserialize, Serialize};

use super::figures::Dist;
use super::summary::BlockSummary;
use crate::compare::stats::{self, Comparison, Direction, Verdict};

/// The figure `--metric` judges when not given.
pub const DEFAULT_METRIC: &str = "itl_ms.p50";

/// Latency distributions a metric can name (`ttft_ms.p99`).
const DISTS: [&str; 9] = [
    "ttft_ms",
    "ttft_from_send_ms",
    "tpot_ms",
    "itl_ms",
    "e2e_ms",
    "e2e_from_send_ms",
    "client_queue_ms",
    "dispatch_lag_ms",
    "server_queue_est_ms",
];
const STATS: [&str; 4] = ["p50", "p90", "p99", "mean"];
/// Rates, higher is better.
const RATES: [&str; 3] = ["output_tps", "achieved_rps", "goodput_rps"];

/// The figures every A/B session reports a verdict on (the gated one is
/// added when it is not among them).
const SHOWN: [&str; 9] = [
    "ttft_ms.p50",
    "ttft_ms.p99",
    "tpot_ms.p50",
    "itl_ms.p50",
    "itl_ms.p99",
    "e2e_ms.p50",
    "e2e_ms.p99",
    "output_tps",
    "achieved_rps",
];

/// Every metric name `--metric` accepts.
pub fn known_metrics() -> Vec<String> {
    let mut v: Vec<String> = DISTS
        .iter()
        .flat_map(|d| STATS.iter().map(move |s| format!("{d}.{s}")))
        .collect();
    v.extend(RATES.iter().map(|r| r.to_string()));
    v
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("--metric '{asked}' is not a serve figure; known: {}", known_metrics().join(", "))]
pub struct UnknownServeMetric {
    pub asked: String,
}

/// Checks a `--metric` name before anything runs.
pub fn check_metric(asked: &str) -> Result<(), UnknownServeMetric> {
    if known_metrics().iter().any(|m| m == asked) {
        Ok(())
    } else {
        Err(UnknownServeMetric {
            asked: asked.to_string(),
        })
    }
}

/// Which way is better: latencies lower, rates higher.
pub fn direction(metric: &str) -> Direction {
    if RATES.contains(&metric) {
        Direction::HigherIsBetter
    } else {
        Direction::LowerIsBetter
    }
}

fn dist<'a>(s: &'a BlockSummary, name: &str) -> Option<&'a Dist> {
    let f = &s.figures;
    Some(match name {
        "ttft_ms" => &f.ttft_ms,
        "ttft_from_send_ms" => &f.ttft_from_send_ms,
        "tpot_ms" => &f.tpot_ms,
        "itl_ms" => &f.itl_ms,
        "e2e_ms" => &f.e2e_ms,
        "e2e_from_send_ms" => &f.e2e_from_send_ms,
        "client_queue_ms" => &f.client_queue_ms,
        "dispatch_lag_ms" => &f.dispatch_lag_ms,
        "server_queue_est_ms" => &f.server_queue_est_ms,
        _ => return None,
    })
}

/// A block's value of `metric` (None: not measured in it, e.g. a p99 of
/// too few requests, or goodput without `--slo`).
pub fn value(s: &BlockSummary, metric: &str) -> Option<f64> {
    match metric {
        "output_tps" => s.figures.throughput.output_tps,
        "achieved_rps" => s.figures.throughput.achieved_rps,
        "goodput_rps" => s.goodput_rps,
        _ => {
            let (d, stat) = metric.split_once('.')?;
            dist(s, d)?.stat(stat)
        }
    }
}

/// B against A on one figure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FigureVerdict {
    pub metric: String,
    pub lower_is_better: bool,
    pub verdict: Verdict,
    /// Pairs with a value on both sides.
    pub pairs: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Pairs the k-th A block with the k-th B block; a pair with a side that
/// lacks the figure is left out (NaN, which `compare` skips with its pair).
fn series(a: &[&BlockSummary], b: &[&BlockSummary], metric: &str) -> (Vec<f64>, Vec<f64>) {
    let n = a.len().min(b.len());
    let get = |s: &BlockSummary| value(s, metric).unwrap_or(f64::NAN);
    (
        a[..n].iter().map(|s| get(s)).collect(),
        b[..n].iter().map(|s| get(s)).collect(),
    )
}

/// The paired verdict on `metric` over the blocks of each side (in run order).
pub fn judge(
    a: &[&BlockSummary],
    b: &[&BlockSummary],
    metric: &str,
    threshold: f64,
) -> FigureVerdict {
    let dir = direction(metric);
    let (va, vb) = series(a, b, metric);
    let comparison = stats::compare(&va, &vb, true, dir, threshold, 0.95);
    let pairs = comparison.as_ref().map_or(0, |c| c.n_a);
    let note = match &comparison {
        None => Some("not measured on both sides of any pair".to_string()),
        Some(c) if c.ci_low.is_none() => Some(format!(
            "{pairs} pair{} give{} no 95% interval (at least 6 are needed)",
            if pairs == 1 { "" } else { "s" },
            if pairs == 1 { "s" } else { "" }
        )),
        Some(_) => None,
    };
    FigureVerdict {
        metric: metric.to_string(),
        lower_is_better: dir == Direction::LowerIsBetter,
        verdict: comparison
            .as_ref()
            .map_or(Verdict::Inconclusive, |c| c.verdict),
        pairs,
        comparison,
        note,
    }
}

/// The gate of `--fail-if-slower PCT` on the judged figure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Gate {
    pub pct: f64,
    /// B worse than A beyond PCT over the whole interval.
    pub regressed: bool,
    /// False when the figure has no interval: a gate that checked nothing.
    pub checked: bool,
}

/// The A/B session's record (`kind: serve_ab`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AbSummary {
    pub kind: String,
    pub schema_version: u32,
    pub metric: String,
    /// Noise band, as a fraction.
    pub threshold: f64,
    pub a: String,
    pub b: String,
    /// The load of every block.
    pub load: String,
    pub pairs: usize,
    pub blocks_a: Vec<usize>,
    pub blocks_b: Vec<usize>,
    /// The judged figure first, then the others.
    pub verdicts: Vec<FigureVerdict>,
    pub gate: Option<Gate>,
    /// `--slo`: how many blocks of each side met it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<SloBlocks>,
    pub interrupted: bool,
}

/// `--slo` in an A/B session: every block is checked against the targets
/// (as a one-server run is); the count of blocks that met them per side.
/// B fails the SLO (exit 3) when any of its blocks missed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloBlocks {
    /// The targets as given (`ttft_p99<=500ms,itl_p99<=60ms`).
    pub targets: String,
    pub a_met: usize,
    pub a_blocks: usize,
    pub b_met: usize,
    pub b_blocks: usize,
}

impl SloBlocks {
    /// Some B block missed the SLO.
    pub fn b_unmet(&self) -> bool {
        self.b_met < self.b_blocks
    }
}

/// Counts the blocks of each side that met `--slo` (given as `targets`).
pub fn slo_blocks(targets: &str, a: &[&BlockSummary], b: &[&BlockSummary]) -> SloBlocks {
    let met = |v: &[&BlockSummary]| v.iter().filter(|s| s.slo_met == Some(true)).count();
    SloBlocks {
        targets: targets.to_string(),
        a_met: met(a),
        a_blocks: a.len(),
        b_met: met(b),
        b_blocks: b.len(),
    }
}

/// Verdicts on `metric` and on the figures every session shows; with
/// `--slo` (`goodput`) also on goodput, higher is better.
pub fn verdicts(
    a: &[&BlockSummary],
    b: &[&BlockSummary],
    metric: &str,
    threshold: f64,
    goodput: bool,
) -> Vec<FigureVerdict> {
    let extra = goodput.then_some("goodput_rps");
    std::iter::once(metric)
        .chain(SHOWN.iter().copied().chain(extra).filter(|m| *m != metric))
        .map(|m| judge(a, b, m, threshold))
        .collect()
}

/// The gate on the judged figure.
pub fn gate(v: &FigureVerdict, pct: f64) -> Gate {
    let dir = if v.lower_is_better {
        Direction::LowerIsBetter
    } else {
        Direction::HigherIsBetter
    };
    let checked = v.comparison.as_ref().is_some_and(|c| c.ci_low.is_some());
    Gate {
        pct,
        regressed: v
            .comparison
            .as_ref()
            .is_some_and(|c| stats::regressed(c, pct, dir)),
        checked,
    }
}

#[cfg(test)]
#[path = "ab_tests.rs"]
mod tests;
