//! Turns run records into per-metric summaries (the numbers every reporter
//! prints). Only counted, successful runs enter the statistics; warmup and
//! failed runs are listed, never averaged in.

use serde::Serialize;

use crate::model::RunRecord;
use crate::stats::{summarize, Summary};

/// One metric over the counted runs (or over llama-bench's repetitions).
#[derive(Debug, Clone, Serialize)]
pub struct MetricSummary {
    /// e.g. `eval_tps`, `load_ms`, or a llama-bench key (`tg128 fa=1`).
    pub metric: String,
    pub unit: String,
    #[serde(flatten)]
    pub stats: Summary,
    /// `seq` of each outlier run (for llama-bench: the repetition index).
    pub outlier_runs: Vec<u32>,
    /// Values this summary is over, in run order.
    pub values: Vec<f64>,
}

pub use crate::metrics::counted;

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
    for m in &crate::metrics::REGISTRY {
        let points: Vec<(u32, f64)> = counted(records)
            .filter_map(|r| Some((r.seq, crate::metrics::value(r, m.name)?)))
            .collect();
        out.extend(metric(m.name, m.unit, points));
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
            out.extend(metric(t.key(), crate::metrics::unit(t.key()), points));
        }
    }
    out
}
