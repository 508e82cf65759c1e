//! Reporters: one per output format, all over the same [`RunReport`].

pub mod csv;
pub mod html;
pub mod markdown;
pub mod parsed;
pub mod table;

use serde::Serialize;

use crate::format::Format;
use crate::model::{BinaryInfo, BuildInfo, MachineInfo, ModelInfo, RunRecord};
use crate::summary::MetricSummary;

/// The whole result of a `tokbench run` (what `--json` prints).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub tokbench_version: String,
    pub label: String,
    pub binary: BinaryInfo,
    pub build: BuildInfo,
    pub model: ModelInfo,
    pub machine: MachineInfo,
    pub argv: Vec<String>,
    pub summary: Vec<MetricSummary>,
    pub runs: Vec<RunRecord>,
    /// Runs that failed, by `seq`.
    pub failed_runs: Vec<u32>,
    /// True when tokbench was interrupted before all planned runs finished.
    pub interrupted: bool,
    pub warnings: Vec<String>,
}

impl RunReport {
    /// The report of a set of run records: identity from the first
    /// successful run, statistics over the counted ones.
    pub fn from_records(records: Vec<RunRecord>) -> RunReport {
        let first = records
            .iter()
            .find(|r| r.status == "ok")
            .or(records.first())
            .cloned();
        let warnings = records
            .iter()
            .flat_map(|r| {
                r.warnings
                    .iter()
                    .map(move |w| format!("run {}: {w}", r.seq))
            })
            .collect();
        RunReport {
            tokbench_version: env!("CARGO_PKG_VERSION").to_string(),
            label: first.as_ref().map(|r| r.label.clone()).unwrap_or_default(),
            binary: first.as_ref().map(|r| r.binary.clone()).unwrap_or_default(),
            build: first.as_ref().map(|r| r.build.clone()).unwrap_or_default(),
            model: first.as_ref().map(|r| r.model.clone()).unwrap_or_default(),
            machine: first
                .as_ref()
                .map(|r| r.machine.clone())
                .unwrap_or_default(),
            argv: first.map(|r| r.argv).unwrap_or_default(),
            summary: crate::summary::summarize_runs(&records),
            failed_runs: records
                .iter()
                .filter(|r| r.status != "ok")
                .map(|r| r.seq)
                .collect(),
            interrupted: records.iter().any(|r| r.exit.interrupted),
            runs: records,
            warnings,
        }
    }

    /// Warnings a reader should see next to the numbers.
    pub fn all_warnings(&self) -> Vec<String> {
        let mut w = self.warnings.clone();
        for s in &self.summary {
            if !s.outlier_runs.is_empty() {
                let which = if s.metric.contains(' ') || !s.metric.contains('_') {
                    "repetition"
                } else {
                    "run"
                };
                w.push(format!(
                    "{}: outlier {which}(s) {:?} (modified z-score > {}), kept in the statistics",
                    s.metric,
                    s.outlier_runs,
                    crate::stats::OUTLIER_Z
                ));
            }
        }
        for r in self.runs.iter().filter(|r| r.status != "ok") {
            let first = r
                .error
                .as_deref()
                .and_then(|e| e.lines().next())
                .unwrap_or("failed");
            w.push(first.to_string());
        }
        w
    }
}

pub fn render(report: &RunReport, format: Format) -> String {
    match format {
        Format::Table => table::render(report),
        Format::Markdown => markdown::render(report),
        Format::Csv => csv::render(report),
        Format::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
    }
}

/// A figure of `metric` with the precision the registry gives it.
pub fn fmt_value(v: f64, metric: &str) -> String {
    crate::metrics::render(metric, v)
}

/// `0.5.0-dev, commit 0c1e570, build 1, CUDA` from whatever is known.
pub fn build_line(b: &BuildInfo) -> String {
    let mut parts = Vec::new();
    if let Some(v) = &b.version {
        parts.push(format!("version {v}"));
    }
    if let Some(c) = &b.commit {
        parts.push(format!("commit {c}"));
    }
    if let Some(n) = b.build_number {
        parts.push(format!("build {n}"));
    }
    if let Some(be) = &b.backend {
        parts.push(format!("backend {be}"));
    }
    if let (Some(c), Some(t)) = (&b.compiler, &b.target) {
        parts.push(format!("built with {c} for {t}"));
    }
    if parts.is_empty() {
        "unknown (the binary printed no version banner)".to_string()
    } else {
        parts.join(", ")
    }
}

pub fn machine_line(m: &MachineInfo) -> String {
    let gib = m.memory_total_bytes as f64 / (1u64 << 30) as f64;
    format!(
        "{} ({}), {}, {} logical cores, {:.1} GiB",
        m.hostname.as_deref().unwrap_or("?"),
        m.os.as_deref().unwrap_or("?"),
        m.cpu.as_deref().unwrap_or("?"),
        m.cpu_logical_cores,
        gib
    )
}

pub fn ci_text(s: &MetricSummary) -> String {
    match (s.stats.ci95_low, s.stats.ci95_high) {
        (Some(lo), Some(hi)) => format!(
            "{} .. {}",
            fmt_value(lo, &s.metric),
            fmt_value(hi, &s.metric)
        ),
        _ => "n/a".to_string(),
    }
}

/// Header lines shared by the table and markdown reporters.
pub fn context_lines(r: &RunReport) -> Vec<(String, String)> {
    let counted = crate::summary::counted(&r.runs).count();
    let warm = r.runs.iter().filter(|x| x.warmup).count();
    vec![
        ("label".to_string(), r.label.clone()),
        ("binary".to_string(), r.binary.path.clone()),
        ("build".to_string(), build_line(&r.build)),
        (
            "model".to_string(),
            format!("{} ({} bytes)", r.model.path, r.model.size_bytes),
        ),
        (
            "runs".to_string(),
            format!(
                "{counted} counted, {warm} warmup, {} failed",
                r.failed_runs.len()
            ),
        ),
        ("machine".to_string(), machine_line(&r.machine)),
        ("tokbench".to_string(), r.tokbench_version.clone()),
    ]
}

#[cfg(test)]
mod snapshot_tests;
