//! Turns run records into per-metric summaries (the numbers every reporter
//! prints). Only counted, successful runs enter the statistics; warmup and
//! failed runs are listed, never averaged in.

use serde::Serialize;

use crate::model::{RunRecord, Timings};
use crate::stats::{summarize, Summary};

/// One metric over the counted runs (or over llama-bench's repetitions).
#[derive(Debug, Clone, Serialize)]
pub struct MetricSummary {
    /// e.g. `eval_tps`, `load_ms`, or `pp512 t/s` for a llama-bench test.
    pub metric: String,
    pub unit: String,
    #[serde(flatten)]
    pub stats: Summary,
    /// `seq` of each outlier run (for llama-bench: the repetition index).
    pub outlier_runs: Vec<u32>,
    /// Values this summary is over, in run order.
    pub values: Vec<f64>,
}

type Getter = fn(&Timings) -> Option<f64>;

/// The metrics reported for completion runs, in table order.
const METRICS: [(&str, &str, Getter); 7] = [
    ("eval_tps", "t/s", |t| t.eval_tps.and_then(|n| n.finite())),
    ("prompt_eval_tps", "t/s", |t| {
        t.prompt_eval_tps.and_then(|n| n.finite())
    }),
    ("load_ms", "ms", |t| t.load_ms.and_then(|n| n.finite())),
    ("prompt_eval_ms", "ms", |t| {
        t.prompt_eval_ms.and_then(|n| n.finite())
    }),
    ("eval_ms", "ms", |t| t.eval_ms.and_then(|n| n.finite())),
    ("sampling_ms", "ms", |t| {
        t.sampling_ms.and_then(|n| n.finite())
    }),
    ("total_ms", "ms", |t| t.total_ms.and_then(|n| n.finite())),
];

pub fn counted(records: &[RunRecord]) -> impl Iterator<Item = &RunRecord> {
    records.iter().filter(|r| !r.warmup && r.status == "ok")
}

fn metric(name: &str, unit: &str, points: Vec<(u32, f64)>) -> Option<MetricSummary> {
    let values: Vec<f64> = points.iter().map(|p| p.1).collect();
    let stats = summarize(&values)?;
    let outlier_runs = stats.outliers.iter().map(|&i| points[i].0).collect();
    Some(MetricSummary {
        metric: name.to_string(),
        unit: unit.to_string(),
        stats,
        outlier_runs,
        values,
    })
}

/// Summaries of every metric that the counted runs printed.
pub fn summarize_runs(records: &[RunRecord]) -> Vec<MetricSummary> {
    let mut out = Vec::new();
    for (name, unit, get) in METRICS {
        let points: Vec<(u32, f64)> = counted(records)
            .filter_map(|r| Some((r.seq, get(r.timings.as_ref()?)?)))
            .collect();
        out.extend(metric(name, unit, points));
    }
    let walls: Vec<(u32, f64)> = counted(records).map(|r| (r.seq, r.wall_ms)).collect();
    out.extend(metric("wall_ms", "ms", walls));
    for (name, unit, get) in crate::sample::summarize::RUN_METRICS {
        let points = counted(records).filter_map(|r| Some((r.seq, get(r.sampled.as_ref()?)?)));
        out.extend(metric(name, unit, points.collect()));
    }
    out.extend(bench_metrics(records));
    out
}

/// llama-bench tests, summarised over their per-repetition samples.
fn bench_metrics(records: &[RunRecord]) -> Vec<MetricSummary> {
    let mut out = Vec::new();
    for r in counted(records) {
        for t in &r.bench {
            let points: Vec<(u32, f64)> = if t.samples_tps.is_empty() {
                // Markdown output carries only the mean: one value, said as such.
                t.avg_tps.finite().map(|v| vec![(0, v)]).unwrap_or_default()
            } else {
                // A repetition printed as inf/nan is skipped, not averaged.
                t.samples_tps
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.is_finite())
                    .map(|(i, v)| (i as u32, *v))
                    .collect()
            };
            out.extend(metric(&t.test, "t/s", points));
        }
    }
    out
}

/// One run's value of a metric by name: a timing (`eval_tps`, `load_ms`,
/// ...), `wall_ms`, a sampled figure (`gpu_j_per_token`, ...), or a
/// llama-bench test (`tg128`: its mean over the invocation's repetitions).
pub fn metric_value(r: &RunRecord, name: &str) -> Option<f64> {
    if let Some((_, _, get)) = METRICS.iter().find(|m| m.0 == name) {
        return get(r.timings.as_ref()?);
    }
    if name == "wall_ms" {
        return Some(r.wall_ms);
    }
    if let Some((_, _, get)) = crate::sample::summarize::RUN_METRICS
        .iter()
        .find(|m| m.0 == name)
    {
        return get(r.sampled.as_ref()?);
    }
    r.bench
        .iter()
        .find(|t| t.test == name)
        .and_then(|t| t.avg_tps.finite())
}

/// The unit of a metric by name (`t/s` for llama-bench tests).
pub fn metric_unit(name: &str) -> &'static str {
    if name == "wall_ms" {
        return "ms";
    }
    let timing = METRICS.iter().find(|m| m.0 == name).map(|m| m.1);
    let sampled = || {
        crate::sample::summarize::RUN_METRICS
            .iter()
            .find(|m| m.0 == name)
            .map(|m| m.1)
    };
    timing.or_else(sampled).unwrap_or("t/s")
}

/// Names of the metrics a comparison reports, in order: the timings and
/// sampled figures that some counted run has, then llama-bench tests.
pub fn metric_names(records: &[RunRecord]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let timing = METRICS.iter().map(|m| m.0);
    let sampled = crate::sample::summarize::RUN_METRICS.iter().map(|m| m.0);
    for name in timing.chain(std::iter::once("wall_ms")).chain(sampled) {
        if counted(records).any(|r| metric_value(r, name).is_some()) {
            names.push(name.to_string());
        }
    }
    for r in counted(records) {
        for t in &r.bench {
            if !names.contains(&t.test) {
                names.push(t.test.clone());
            }
        }
    }
    names
}
