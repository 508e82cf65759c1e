//! Reporters: one per output format, all over the same [`RunReport`].

pub mod bench;
pub mod csv;
pub mod describe;
pub mod html;
pub mod human;
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
                w.push(self.outlier_text(s));
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

impl RunReport {
    /// `eval_tps: outlier run(s) 4, 6 of 10 counted ...`: numbered from 1
    /// like the progress lines (counted runs apart from warmups; llama-bench
    /// repetitions within their invocation).
    fn outlier_text(&self, s: &MetricSummary) -> String {
        let repetition = crate::metrics::named(&s.metric).is_none();
        let numbers: Vec<String> = s
            .outlier_runs
            .iter()
            .map(|&seq| {
                let n = if repetition {
                    Some(seq as usize)
                } else {
                    crate::summary::counted(&self.runs).position(|r| r.seq == seq)
                };
                n.map_or(format!("seq {seq}"), |i| (i + 1).to_string())
            })
            .collect();
        let which = if repetition {
            "repetition"
        } else {
            "counted run"
        };
        format!(
            "{}: outlier {which} {} (of {}, numbered from 1 as in the progress lines; modified z-score > {}), kept in the statistics",
            s.metric,
            numbers.join(", "),
            s.stats.n,
            crate::stats::OUTLIER_Z
        )
    }
}

/// A grid in the asked `--format` (JSON has no grid: the terminal table).
pub fn grid_text(g: &crate::grid::Grid, format: Format) -> String {
    match format {
        Format::Markdown => g.to_markdown(),
        Format::Csv => g.to_csv(),
        Format::Table | Format::Json => g.to_terminal(),
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

/// How one summary's figures are written: its unit (memory scaled) and
/// the decimals its spread shows.
pub fn shown(s: &MetricSummary) -> human::Shown {
    human::Shown::of(&s.metric, s.stats.median, Some(s.stats.stddev))
}

pub fn ci_text(s: &MetricSummary, shown: &human::Shown) -> String {
    match (s.stats.ci95_low, s.stats.ci95_high) {
        (Some(lo), Some(hi)) => format!("{} .. {}", shown.fmt(lo), shown.fmt(hi)),
        _ => "n/a".to_string(),
    }
}

/// Header lines shared by the table and markdown reporters.
pub fn context_lines(r: &RunReport) -> Vec<(String, String)> {
    let counted = crate::summary::counted(&r.runs).count();
    let warm = r.runs.iter().filter(|x| x.warmup).count();
    let mut v = vec![
        ("label".to_string(), r.label.clone()),
        ("binary".to_string(), r.binary.path.clone()),
        ("build".to_string(), build_line(&r.build)),
        ("model".to_string(), describe::model_line(&r.model)),
    ];
    if let Some(g) = r.runs.iter().find_map(describe::gpu_name) {
        v.push(("GPU".to_string(), g));
    }
    v.extend([
        (
            "runs".to_string(),
            format!(
                "{counted} counted, {warm} warmup, {} failed",
                r.failed_runs.len()
            ),
        ),
        ("machine".to_string(), machine_line(&r.machine)),
        ("tokbench".to_string(), r.tokbench_version.clone()),
    ]);
    v
}

/// The summary table: one row per metric, figures in human units with the
/// decimals their spread shows. llama-bench keys are left to [`bench`]'s
/// table when it is shown.
pub fn summary_grid(r: &RunReport) -> crate::grid::Grid {
    use crate::grid::Column;
    let mut g = crate::grid::Grid::new(vec![
        Column::left("metric"),
        Column::left("unit"),
        Column::right("n"),
        Column::right("median"),
        Column::right("mean").priority(3),
        Column::right("stddev"),
        Column::right("min").priority(2),
        Column::right("max").priority(2),
        Column::right("95% CI of mean").short("95% CI").priority(1),
    ]);
    let bench_shown = bench::has_bench(r);
    for s in &r.summary {
        if bench_shown && crate::metrics::named(&s.metric).is_none() {
            continue;
        }
        let sh = shown(s);
        let st = &s.stats;
        let mut row = vec![s.metric.clone(), sh.unit.clone(), st.n.to_string()];
        row.extend([st.median, st.mean, st.stddev, st.min, st.max].map(|v| sh.fmt(v)));
        row.push(ci_text(s, &sh));
        g.row(row);
    }
    g
}

#[cfg(test)]
mod snapshot_tests;
