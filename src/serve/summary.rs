//! The results records of `tokbench serve` besides the per-request ones:
//! one summary per block (`kind: serve_block`) and one per sweep
//! (`kind: serve_sweep`), with the verdicts drawn from the figures: client
//! behind, overload, SLO met, goodput.

use std::collections::BTreeMap;

use serde::Serialize;

use super::block::{Api, BlockResult, BlockSpec};
use super::figures::Figures;
use super::schedule::{Extent, Load};
use super::server::ServerInfo;
use super::slo::{self, Check, Target};

#[derive(Debug, Clone, Serialize)]
pub struct LoadInfo {
    pub mode: &'static str,
    pub rate_rps: Option<f64>,
    pub arrival: Option<String>,
    pub max_concurrency: Option<usize>,
    pub concurrency: Option<usize>,
    pub requests: Option<usize>,
    pub duration_s: Option<f64>,
    pub description: String,
}

impl LoadInfo {
    pub fn of(load: &Load, extent: &Extent) -> LoadInfo {
        let (requests, duration_s) = match extent {
            Extent::Requests(n) => (Some(*n), None),
            Extent::Duration(d) => (None, Some(d.as_secs_f64())),
        };
        let base = LoadInfo {
            mode: "open",
            rate_rps: None,
            arrival: None,
            max_concurrency: None,
            concurrency: None,
            requests,
            duration_s,
            description: load.describe(),
        };
        match load {
            Load::Open {
                rate,
                arrival,
                max_concurrency,
            } => LoadInfo {
                rate_rps: Some(*rate),
                arrival: Some(arrival.to_string()),
                max_concurrency: *max_concurrency,
                ..base
            },
            Load::Closed { concurrency } => LoadInfo {
                mode: "closed",
                concurrency: Some(*concurrency),
                ..base
            },
        }
    }
}

/// One block's summary record.
#[derive(Debug, Clone, Serialize)]
pub struct BlockSummary {
    pub kind: &'static str,
    pub schema_version: u32,
    pub tokbench_version: &'static str,
    pub started_at: String,
    pub block: usize,
    /// `a` / `b` in an A/B session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<&'static str>,
    pub label: Option<String>,
    pub api: Api,
    pub load: LoadInfo,
    pub warmup: usize,
    pub max_tokens: u64,
    pub seed: u64,
    pub server: ServerInfo,
    #[serde(flatten)]
    pub figures: Figures,
    pub metrics_delta: Option<BTreeMap<String, f64>>,
    /// The samplers' figures over the block, on a server tokbench started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampled: Option<crate::sample::SampledFigures>,
    /// The samplers' timeline over the block (the shape a run record
    /// keeps): what `tokbench plot timeline` draws for a serve file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<crate::sample::Sample>,
    pub slo: Vec<Check>,
    pub slo_met: Option<bool>,
    pub goodput_rps: Option<f64>,
    pub interrupted: bool,
    pub warnings: Vec<String>,
}

/// Remarks a reader must see: cache hits, early stops, errors, clocks that disagree.
fn remarks(r: &BlockResult) -> Vec<String> {
    let f = &r.figures;
    let mut out = r.warnings.clone();
    if f.cache_hits > 0 {
        out.push(format!(
            "{} requests were served partly from the prompt cache (cache_n > 0)",
            f.cache_hits
        ));
    }
    if f.early_stops > 0 {
        out.push(format!(
            "{} requests stopped early and are kept out of TPOT and ITL",
            f.early_stops
        ));
    }
    let disagree = r
        .records
        .iter()
        .filter(|x| x.flags.iter().any(|f| f.contains("clocks disagree")))
        .count();
    if disagree > 0 {
        out.push(format!(
            "{disagree} requests had a client TTFT below the server's prompt_ms"
        ));
    }
    if let Some(o) = f.overload.as_ref().filter(|o| o.overloaded) {
        out.push(format!(
            "overload: offered {:.2} req/s, sustained {:.2} req/s",
            o.offered_rps, o.sustained_rps
        ));
    }
    if f.client_behind {
        out.push(format!(
            "client behind: dispatch lag p99 {:.1} ms is above {} ms; latencies from the intended send include it",
            f.dispatch_lag_ms.p99.or(f.dispatch_lag_ms.p50).unwrap_or(0.0),
            super::figures::CLIENT_BEHIND_P99_MS
        ));
    }
    out
}

/// The summary of a finished block.
pub fn summarize(
    spec: &BlockSpec,
    result: &BlockResult,
    server: &ServerInfo,
    targets: &[Target],
    label: Option<String>,
) -> BlockSummary {
    let checks = slo::check(targets, &result.figures);
    let counted: Vec<_> = result.records.iter().filter(|r| !r.warmup).collect();
    let good = counted
        .iter()
        .filter(|r| slo::request_good(targets, r))
        .count();
    let wall = result.figures.throughput.wall_s;
    BlockSummary {
        kind: "serve_block",
        schema_version: crate::model::SCHEMA_VERSION,
        tokbench_version: env!("CARGO_PKG_VERSION"),
        started_at: crate::identity::rfc3339(std::time::SystemTime::now()),
        block: spec.index,
        side: None,
        label,
        api: spec.api,
        load: LoadInfo::of(&spec.load, &spec.extent),
        warmup: spec.warmup,
        max_tokens: spec.max_tokens,
        seed: spec.seed,
        server: server.clone(),
        figures: result.figures.clone(),
        metrics_delta: result.metrics.clone(),
        sampled: None,
        timeline: Vec::new(),
        slo_met: (!targets.is_empty()).then(|| checks.iter().all(|c| c.met)),
        slo: checks,
        goodput_rps: (!targets.is_empty() && wall > 0.0).then(|| good as f64 / wall),
        interrupted: result.interrupted,
        warnings: remarks(result),
    }
}

/// One step of a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    pub offered: f64,
    pub trial: usize,
    pub block: usize,
    pub achieved_rps: Option<f64>,
    pub output_tps: Option<f64>,
    pub ttft_p50_ms: Option<f64>,
    pub ttft_p99_ms: Option<f64>,
    pub itl_p50_ms: Option<f64>,
    pub itl_p99_ms: Option<f64>,
    pub e2e_p50_ms: Option<f64>,
    pub overloaded: bool,
    pub slo_met: Option<bool>,
}

impl SweepPoint {
    pub fn of(offered: f64, trial: usize, s: &BlockSummary) -> SweepPoint {
        let f = &s.figures;
        SweepPoint {
            offered,
            trial,
            block: s.block,
            achieved_rps: f.throughput.achieved_rps,
            output_tps: f.throughput.output_tps,
            ttft_p50_ms: f.ttft_ms.p50,
            ttft_p99_ms: f.ttft_ms.p99,
            itl_p50_ms: f.itl_ms.p50,
            itl_p99_ms: f.itl_ms.p99,
            e2e_p50_ms: f.e2e_ms.p50,
            overloaded: f.overload.as_ref().is_some_and(|o| o.overloaded),
            slo_met: s.slo_met,
        }
    }
}

/// A sweep's summary record.
#[derive(Debug, Clone, Serialize)]
pub struct SweepSummary {
    pub kind: &'static str,
    pub schema_version: u32,
    /// `rate` (req/s, open loop) or `concurrency` (closed loop).
    pub axis: &'static str,
    pub points: Vec<SweepPoint>,
    /// The highest offered load the server still followed.
    pub knee: Option<f64>,
    /// The highest offered load at which every trial met --slo.
    pub slo_max: Option<f64>,
    pub slo: Vec<String>,
}
