//! The comparison report: per metric, B against A with a 95% interval and a
//! verdict, drift within each side, and the regression check for CI. Built
//! from run records alone, so a live comparison and one read back from
//! results files give the same report.

use serde::Serialize;

use super::stats::{compare, drift_check, regressed, Comparison, Direction, DriftCheck, Verdict};
use crate::metrics::{self, counted};
use crate::model::{BinaryInfo, BuildInfo, MachineInfo, ModelInfo, RunRecord};

/// The start of the warning that the two sides measure different things.
pub const INCOMPATIBLE: &str = "A and B are not comparable";

/// Confidence of every interval in the report.
pub const CONFIDENCE: f64 = 0.95;

#[derive(Debug, Clone, Serialize)]
pub struct SideInfo {
    pub label: String,
    pub binary: Option<BinaryInfo>,
    pub build: BuildInfo,
    pub argv: Vec<String>,
    /// Counted, successful runs.
    pub runs: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricComparison {
    pub metric: String,
    pub unit: String,
    pub direction: Direction,
    /// Change of B against A in percent: (ratio - 1) * 100.
    pub change_pct: f64,
    pub change_ci_low_pct: Option<f64>,
    pub change_ci_high_pct: Option<f64>,
    /// `faster` / `slower` for speed and time metrics, `higher` / `lower`
    /// for the others, or `no significant change` / `inconclusive`.
    pub verdict_text: String,
    #[serde(flatten)]
    pub comparison: Comparison,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricDrift {
    pub metric: String,
    #[serde(flatten)]
    pub check: DriftCheck,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegressionCheck {
    pub metric: String,
    pub fail_if_slower_pct: f64,
    /// The whole 95% interval of the change lies beyond -PCT (worse).
    pub regressed: bool,
}

/// How the runs were made: decides what the statistics may claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// Interleaved in one session: the k-th A pairs with the k-th B.
    Interleaved,
    /// Two separate sessions (stored files): unpaired, drift not ruled out.
    Separate,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompareReport {
    pub tokbench_version: String,
    pub a: SideInfo,
    pub b: SideInfo,
    pub model: Option<ModelInfo>,
    pub machine: Option<MachineInfo>,
    pub interleaved: bool,
    /// Pairs in which both runs succeeded (interleaved), else 0.
    pub pairs: usize,
    pub primary_metric: String,
    pub threshold_pct: f64,
    pub metrics: Vec<MetricComparison>,
    pub drift: Vec<MetricDrift>,
    pub regression: Option<RegressionCheck>,
    /// How an `--auto` session ended, when it was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto: Option<String>,
    pub warnings: Vec<String>,
    pub failed_runs: Vec<u32>,
    pub interrupted: bool,
    pub runs: Vec<RunRecord>,
}

/// Settings of the statistics.
#[derive(Debug, Clone)]
pub struct Judge {
    pub primary: String,
    /// Noise band as a fraction (0.01).
    pub threshold: f64,
    pub fail_if_slower_pct: Option<f64>,
    /// Replaces the primary metric's comparison (`--auto` judges at its
    /// per-look confidence, which keeps its false-claim guarantee).
    pub primary_override: Option<Comparison>,
}

fn verdict_text(c: &Comparison, speed: bool) -> String {
    match c.verdict {
        Verdict::NoChange => "no significant change".to_string(),
        Verdict::Inconclusive => "inconclusive".to_string(),
        Verdict::Faster if speed => "faster".to_string(),
        Verdict::Slower if speed => "slower".to_string(),
        _ if c.ratio > 1.0 => "higher".to_string(),
        _ => "lower".to_string(),
    }
}

/// The series of one metric: paired values of complete pairs, or each side's values.
fn series(
    a: &[&RunRecord],
    b: &[&RunRecord],
    metric: &str,
    pairing: Pairing,
) -> (Vec<f64>, Vec<f64>) {
    let val = |r: &&RunRecord| metrics::value(r, metric);
    match pairing {
        Pairing::Interleaved => a
            .iter()
            .zip(b)
            .filter_map(|(x, y)| Some((val(x)?, val(y)?)))
            .unzip(),
        Pairing::Separate => (
            a.iter().filter_map(val).collect(),
            b.iter().filter_map(val).collect(),
        ),
    }
}

/// Counted runs of one side, in order; with interleaving, the k-th run of
/// each side belongs to pair k only when both of its runs succeeded.
fn side_runs<'r>(records: &'r [RunRecord], side: &str, pairing: Pairing) -> Vec<&'r RunRecord> {
    let on_side = |r: &&RunRecord| r.side.as_deref() == Some(side) && !r.warmup;
    match pairing {
        Pairing::Interleaved => records.iter().filter(on_side).collect(),
        Pairing::Separate => counted(records)
            .filter(|r| r.side.as_deref() == Some(side))
            .collect(),
    }
}

/// Keeps the pairs whose two runs both succeeded.
fn complete_pairs<'r>(
    a: Vec<&'r RunRecord>,
    b: Vec<&'r RunRecord>,
) -> (Vec<&'r RunRecord>, Vec<&'r RunRecord>) {
    a.into_iter()
        .zip(b)
        .filter(|(x, y)| x.status == "ok" && y.status == "ok")
        .unzip()
}

fn side_info(runs: &[&RunRecord], all: &[RunRecord], side: &str) -> SideInfo {
    let first = runs
        .first()
        .copied()
        .or_else(|| all.iter().find(|r| r.side.as_deref() == Some(side)));
    SideInfo {
        label: first
            .map(|r| r.label.clone())
            .unwrap_or_else(|| side.to_uppercase()),
        binary: first.map(|r| r.binary.clone()),
        build: first.map(|r| r.build.clone()).unwrap_or_default(),
        argv: first.map(|r| r.argv.clone()).unwrap_or_default(),
        runs: runs.iter().filter(|r| r.status == "ok").count(),
    }
}

fn compare_metric(
    a: &[f64],
    b: &[f64],
    name: &str,
    pairing: Pairing,
    judge: &Judge,
) -> Option<MetricComparison> {
    let m = metrics::lookup(name)?;
    let dir = m.direction;
    let paired = pairing == Pairing::Interleaved;
    let c = match (&judge.primary_override, name == judge.primary) {
        (Some(c), true) => c.clone(),
        _ => compare(a, b, paired, dir, judge.threshold, CONFIDENCE)?,
    };
    let pct = |x: f64| (x - 1.0) * 100.0;
    Some(MetricComparison {
        metric: name.to_string(),
        verdict_text: verdict_text(&c, m.speed),
        change_pct: pct(c.ratio),
        change_ci_low_pct: c.ci_low.map(pct),
        change_ci_high_pct: c.ci_high.map(pct),
        unit: m.unit.to_string(),
        direction: dir,
        comparison: c,
    })
}

/// The paired values of `metric` in an interleaved session so far: the
/// k-th run of each side, pairs with a failed run left out. What `--auto`
/// judges after each pair, and what the report compares.
pub fn paired_series(records: &[RunRecord], metric: &str) -> (Vec<f64>, Vec<f64>) {
    let pairing = Pairing::Interleaved;
    let (a, b) = complete_pairs(
        side_runs(records, "a", pairing),
        side_runs(records, "b", pairing),
    );
    series(&a, &b, metric, pairing)
}

/// Builds the report from all records (warmups and failures included; they
/// are listed, never counted). Records carry their side (`a` / `b`).
pub fn build(records: Vec<RunRecord>, pairing: Pairing, judge: &Judge) -> CompareReport {
    let (mut ra, mut rb) = (
        side_runs(&records, "a", pairing),
        side_runs(&records, "b", pairing),
    );
    if pairing == Pairing::Interleaved {
        (ra, rb) = complete_pairs(ra, rb);
    }
    let mut warnings = design_warnings(&ra, &rb, pairing);
    let names = metrics::names_in(&records);
    let judge = &Judge {
        primary: metrics::primary(&judge.primary, &records),
        ..judge.clone()
    };
    if !names.contains(&judge.primary) {
        warnings.push(format!(
            "primary metric '{}' was not measured in these runs",
            judge.primary
        ));
    }
    let mut metrics = Vec::new();
    let mut drift = Vec::new();
    for name in &names {
        let (a, b) = series(&ra, &rb, name, pairing);
        if let Some(m) = compare_metric(&a, &b, name, pairing, judge) {
            metrics.push(m);
        }
        if name == &judge.primary || name == "eval_tps" {
            let check = drift_check(&a, &b, pairing == Pairing::Interleaved);
            warnings.extend(drift_warning(name, &check));
            drift.push(MetricDrift {
                metric: name.clone(),
                check,
            });
        }
    }
    let regression = judge.fail_if_slower_pct.and_then(|pct| {
        let m = metrics.iter().find(|m| m.metric == judge.primary)?;
        Some(RegressionCheck {
            metric: m.metric.clone(),
            fail_if_slower_pct: pct,
            regressed: regressed(&m.comparison, pct, m.direction),
        })
    });
    if judge.fail_if_slower_pct.is_some() && regression.is_none() {
        warnings.push(format!(
            "--fail-if-slower could not be checked: no comparison of '{}'",
            judge.primary
        ));
    }
    let (a_info, b_info) = (side_info(&ra, &records, "a"), side_info(&rb, &records, "b"));
    let first_ok = records.iter().find(|r| r.status == "ok");
    CompareReport {
        tokbench_version: env!("CARGO_PKG_VERSION").to_string(),
        a: a_info,
        b: b_info,
        model: first_ok.map(|r| r.model.clone()),
        machine: first_ok.map(|r| r.machine.clone()),
        interleaved: pairing == Pairing::Interleaved,
        pairs: if pairing == Pairing::Interleaved {
            ra.len()
        } else {
            0
        },
        primary_metric: judge.primary.clone(),
        threshold_pct: judge.threshold * 100.0,
        metrics,
        drift,
        regression,
        auto: None,
        warnings,
        failed_runs: records
            .iter()
            .filter(|r| r.status != "ok")
            .map(|r| r.seq)
            .collect(),
        interrupted: records.iter().any(|r| r.exit.interrupted),
        runs: records,
    }
}

/// Warnings on how the sides were made, first: what makes them not
/// comparable, then that they were not interleaved.
fn design_warnings(a: &[&RunRecord], b: &[&RunRecord], pairing: Pairing) -> Vec<String> {
    let mut warnings: Vec<String> = incompatible_warning(a, b).into_iter().collect();
    if pairing == Pairing::Separate {
        warnings.push(
            "the runs of A and B were not interleaved (separate sessions): drift between the sessions \
             (heat, background load) cannot be ruled out"
                .to_string(),
        );
    }
    warnings
}

/// What makes A and B measure different things (another model, another
/// generation length or prompt, arguments changed along with the build).
fn incompatible_warning(a: &[&RunRecord], b: &[&RunRecord]) -> Option<String> {
    use crate::report::describe::{differences, incompatible};
    let bad = incompatible(&differences(a.first()?, b.first()?));
    if bad.is_empty() {
        return None;
    }
    let what: Vec<String> = bad.iter().map(|d| d.text()).collect();
    Some(format!(
        "{INCOMPATIBLE}: {}; every change below mixes this with what was meant to be compared",
        what.join("; ")
    ))
}

fn drift_warning(metric: &str, c: &DriftCheck) -> Option<String> {
    if !c.drift {
        return None;
    }
    let size = |t: &Option<super::stats::Trend>| {
        t.as_ref()
            .filter(|t| t.significant)
            .map(|t| format!("{:+.1}% over the session", t.total_change_pct))
            .unwrap_or_else(|| "none".to_string())
    };
    let verdict = if c.cancelled {
        "the interleaving cancelled it (the paired ratios B/A show no trend)"
    } else if c.ratio.is_some() {
        "the interleaving did NOT cancel it (the paired ratios B/A drift too): treat the result with care"
    } else {
        "the runs were not interleaved, so it may bias the comparison"
    };
    Some(format!(
        "drift in {metric}: A {}, B {}; {verdict}",
        size(&c.a),
        size(&c.b)
    ))
}
