//! Renderers of the comparison report: a terminal table (colour only on a
//! terminal, NO_COLOR respected), markdown for PR comments and
//! `$GITHUB_STEP_SUMMARY` (one row per test, as compare-llama-bench.py
//! prints it, the rest in a `<details>` block), CSV, JSON. Every table goes
//! through [`crate::report::grid`].
//!
//! The change column is the Hodges-Lehmann estimate that the interval and
//! the verdict are about (the typical paired ratio B/A); it is labelled so,
//! and the ratio of the two medians printed beside it has its own column.

use super::report::{CompareReport, MetricComparison, INCOMPATIBLE};
use crate::format::Format;
use crate::grid::{md_cell, terminal_width, Column, Grid, Tone};
use crate::model::RunRecord;
use crate::report::build_line;
use crate::report::describe::{differences, gpu_name, model_line};
use crate::report::human::{pct, Shown};

fn ci(m: &MetricComparison) -> String {
    match (m.change_ci_low_pct, m.change_ci_high_pct) {
        (Some(lo), Some(hi)) => format!("{} .. {}", pct(lo, 2), pct(hi, 2)),
        _ => "n/a (too few pairs)".to_string(),
    }
}

fn p_text(p: f64) -> String {
    if p < 0.001 {
        "<0.001".to_string()
    } else {
        format!("{p:.3}")
    }
}

/// What the change column estimates, in words.
fn estimate_name(r: &CompareReport) -> &'static str {
    if r.interleaved {
        "paired Hodges-Lehmann estimate: the typical ratio B/A of a pair of runs"
    } else {
        "Hodges-Lehmann estimate: the median of every ratio B/A between a run of B and one of A"
    }
}

/// One sentence on the primary metric.
pub fn headline(r: &CompareReport) -> String {
    let Some(m) = r.metrics.iter().find(|m| m.metric == r.primary_metric) else {
        return format!("no comparison of '{}' could be made", r.primary_metric);
    };
    let how = match m.verdict_text.as_str() {
        "no significant change" => format!(
            "no significant change in {} (B/A {}, 95% CI {}; noise band ±{}%)",
            m.metric,
            pct(m.change_pct, 2),
            ci(m),
            r.threshold_pct
        ),
        "inconclusive" => format!(
            "inconclusive for {}: B/A {}, 95% CI {} is neither beyond nor within the ±{}% noise band; run more pairs (--pairs, --auto)",
            m.metric,
            pct(m.change_pct, 2),
            ci(m),
            r.threshold_pct
        ),
        v => format!("B is {v} than A in {}: {} (95% CI {}, p={})", m.metric, pct(m.change_pct, 2), ci(m), p_text(m.comparison.p_value)),
    };
    format!("verdict: {how}")
}

/// The first counted, successful run of a side (what identifies it).
fn first_run<'r>(r: &'r CompareReport, side: &str) -> Option<&'r RunRecord> {
    let on = |x: &&RunRecord| x.side.as_deref() == Some(side) && x.status == "ok";
    r.runs
        .iter()
        .filter(on)
        .find(|x| !x.warmup)
        .or_else(|| r.runs.iter().find(on))
}

/// `A`, `B`, what differs between them, and what they share.
fn header_lines(r: &CompareReport) -> Vec<(String, String)> {
    let mut v = vec![
        ("A".to_string(), r.a.label.clone()),
        ("B".to_string(), r.b.label.clone()),
    ];
    let diffs = match (first_run(r, "a"), first_run(r, "b")) {
        (Some(a), Some(b)) => differences(a, b),
        _ => Vec::new(),
    };
    if diffs.is_empty() {
        v.push((
            "differs".to_string(),
            "nothing seen (same binary, build, arguments, model, GPU): an A/A comparison"
                .to_string(),
        ));
    }
    for d in &diffs {
        v.push(("differs".to_string(), d.text()));
    }
    let same = |what: &str| !diffs.iter().any(|d| d.what == what);
    if same("build") {
        v.push(("build".to_string(), build_line(&r.a.build)));
    }
    if let (Some(m), true) = (&r.model, same("model")) {
        v.push(("model".to_string(), model_line(m)));
    }
    if let (Some(g), true) = (first_run(r, "a").and_then(gpu_name), same("GPU")) {
        v.push(("GPU".to_string(), g));
    }
    let design = if r.interleaved {
        format!("{} complete pairs, interleaved ABBA", r.pairs)
    } else {
        format!(
            "{} A runs, {} B runs, separate sessions (not interleaved)",
            r.a.runs, r.b.runs
        )
    };
    v.push(("runs".to_string(), design));
    if let Some(a) = &r.auto {
        v.push(("--auto".to_string(), a.clone()));
    }
    v
}

fn tone(m: &MetricComparison) -> Option<Tone> {
    match m.verdict_text.as_str() {
        "faster" => Some(Tone::Good),
        "slower" => Some(Tone::Bad),
        "inconclusive" => Some(Tone::Unsure),
        _ => None,
    }
}

/// The smaller of the two sides' standard deviations of `metric` over
/// their counted runs (what the decimals must show).
fn spread(r: &CompareReport, metric: &str) -> Option<f64> {
    ["a", "b"]
        .iter()
        .filter_map(|side| {
            let v: Vec<f64> = crate::metrics::counted(&r.runs)
                .filter(|x| x.side.as_deref() == Some(*side))
                .filter_map(|x| crate::metrics::value(x, metric))
                .collect();
            (v.len() > 1).then(|| crate::stats::stddev(&v))
        })
        .filter(|s| *s > 0.0)
        .reduce(f64::min)
}

/// How a comparison's figures are written: the unit and the decimals that
/// show the spread of the runs.
fn shown(r: &CompareReport, m: &MetricComparison) -> Shown {
    Shown::of(&m.metric, m.comparison.median_a, spread(r, &m.metric))
}

fn medians_ratio(m: &MetricComparison) -> String {
    let c = &m.comparison;
    if c.median_a > 0.0 {
        pct((c.median_b / c.median_a - 1.0) * 100.0, 2)
    } else {
        "n/a".to_string()
    }
}

/// Every metric: both medians, their ratio, the estimate with its interval,
/// p and the verdict.
fn metrics_grid(r: &CompareReport) -> Grid {
    let mut g = Grid::new(vec![
        Column::left("metric"),
        Column::left("unit"),
        Column::right("A median"),
        Column::right("B median"),
        Column::right("medians B/A").short("med B/A").priority(2),
        Column::right("B/A (HL est.)").short("B/A est"),
        Column::right("95% CI").priority(1),
        Column::right("p").priority(3),
        Column::left("verdict"),
    ]);
    for m in &r.metrics {
        let c = &m.comparison;
        let sh = shown(r, m);
        g.row([
            m.metric.clone(),
            sh.unit.clone(),
            sh.fmt(c.median_a),
            sh.fmt(c.median_b),
            medians_ratio(m),
            pct(m.change_pct, 2),
            ci(m),
            p_text(c.p_value),
            m.verdict_text.clone(),
        ]);
        if let Some(t) = tone(m) {
            g.tone_last(8, t);
        }
    }
    g.note(format!(
        "B/A (HL est.): {}, with its 95% interval; the verdict is about it. medians B/A: the ratio of the two medians.",
        estimate_name(r)
    ));
    g
}

fn regression_line(r: &CompareReport) -> Option<String> {
    let reg = r.regression.as_ref()?;
    let state = if reg.regressed { "REGRESSION" } else { "ok" };
    Some(format!(
        "--fail-if-slower {}%: {state} ({})",
        reg.fail_if_slower_pct, reg.metric
    ))
}

fn table(r: &CompareReport, width: Option<usize>, colour: bool) -> String {
    let mut out = String::new();
    for w in r.warnings.iter().filter(|w| w.starts_with(INCOMPATIBLE)) {
        out.push_str(&format!("WARNING: {w}\n"));
    }
    for (k, v) in header_lines(r) {
        out.push_str(&format!("{k:>8}: {v}\n"));
    }
    out.push('\n');
    out.push_str(&metrics_grid(r).to_table(width, colour));
    out.push_str(&format!("{}\n", headline(r)));
    if let Some(l) = regression_line(r) {
        out.push_str(&format!("{l}\n"));
    }
    for w in r.warnings.iter().filter(|w| !w.starts_with(INCOMPATIBLE)) {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

/// The name of a rate metric as a llama-bench test (`tg512`, `pp1024`),
/// from the tokens the runs counted; llama-bench keys are tests already.
fn test_name(r: &CompareReport, metric: &str) -> Option<String> {
    let run = first_run(r, "a")?;
    let t = run.timings.as_ref();
    let asked = run
        .argv
        .windows(2)
        .find(|w| w[0] == "-n" || w[0] == "--n-predict")
        .map(|w| w[1].clone());
    match metric {
        "eval_tps" => Some(
            asked
                .or_else(|| t.and_then(|t| t.eval_tokens).map(|n| n.to_string()))
                .map_or("tg".into(), |n| format!("tg{n}")),
        ),
        "prompt_eval_tps" => Some(
            t.and_then(|t| t.prompt_eval_tokens)
                .map_or("pp".into(), |n| format!("pp{n}")),
        ),
        m if crate::metrics::named(m).is_none() => Some(m.to_string()),
        _ => None,
    }
}

/// The model column of the PR table: llama-bench's model type, else the file.
fn model_cell(r: &CompareReport) -> (String, String) {
    let run = first_run(r, "a");
    if let Some(t) = run.and_then(|x| x.bench.first()) {
        let size = t.model_size_bytes.map(crate::report::human::bytes);
        return (
            t.model_type.clone().unwrap_or_default(),
            size.unwrap_or_default(),
        );
    }
    let Some(m) = &r.model else {
        return (String::new(), String::new());
    };
    let stem = std::path::Path::new(&m.path)
        .file_stem()
        .map_or(m.path.clone(), |s| s.to_string_lossy().into_owned());
    (stem, crate::report::human::bytes(m.size_bytes))
}

/// The PR table: one row per test, both rates, the speedup with its
/// interval, the verdict, and the configuration columns.
fn pr_grid(r: &CompareReport) -> Grid {
    let (model, size) = model_cell(r);
    let backend = r.a.build.backend.clone().unwrap_or_default();
    let mut g = Grid::new(vec![
        Column::left("model"),
        Column::right("size"),
        Column::left("backend"),
        Column::right("test"),
        Column::right(&format!("t/s {}", r.a.label)),
        Column::right(&format!("t/s {}", r.b.label)),
        Column::right("speedup"),
        Column::right("95% CI"),
        Column::left("verdict"),
    ]);
    for m in r.metrics.iter().filter(|m| m.unit == "t/s") {
        let Some(test) = test_name(r, &m.metric) else {
            continue;
        };
        let c = &m.comparison;
        let sh = shown(r, m);
        let interval = match (c.ci_low, c.ci_high) {
            (Some(lo), Some(hi)) => format!("{lo:.3} .. {hi:.3}"),
            _ => "n/a".to_string(),
        };
        g.row([
            model.clone(),
            size.clone(),
            backend.clone(),
            test,
            sh.fmt(c.median_a),
            sh.fmt(c.median_b),
            format!("{:.3}", c.ratio),
            interval,
            m.verdict_text.clone(),
        ]);
    }
    g.note(format!(
        "t/s: medians over {}; speedup: B/A, the {}, with its 95% interval.",
        if r.interleaved {
            format!("{} interleaved pairs", r.pairs)
        } else {
            format!("{} A and {} B runs", r.a.runs, r.b.runs)
        },
        estimate_name(r)
    ));
    g
}

fn markdown(r: &CompareReport) -> String {
    let mut out = String::new();
    for w in r.warnings.iter().filter(|w| w.starts_with(INCOMPATIBLE)) {
        out.push_str(&format!("> **WARNING: {}**\n\n", md_cell(w)));
    }
    out.push_str(&format!("**{}**\n\n", md_cell(&headline(r))));
    let pr = pr_grid(r);
    if !pr.is_empty() {
        out.push_str(&pr.to_markdown());
        out.push('\n');
    }
    for (k, v) in header_lines(r).iter().filter(|(k, _)| k == "differs") {
        out.push_str(&format!("- {k}: {}\n", md_cell(v)));
    }
    if let Some(l) = regression_line(r) {
        out.push_str(&format!("- `{l}`\n"));
    }
    out.push_str("\n<details><summary>all metrics, both sides, warnings</summary>\n\n");
    for (k, v) in header_lines(r) {
        out.push_str(&format!("- **{k}**: {}\n", md_cell(&v)));
    }
    out.push('\n');
    out.push_str(&metrics_grid(r).to_markdown());
    for w in r.warnings.iter().filter(|w| !w.starts_with(INCOMPATIBLE)) {
        out.push_str(&format!("\n> warning: {}\n", md_cell(w)));
    }
    out.push_str("\n</details>\n");
    out
}

fn csv(r: &CompareReport) -> String {
    let mut g = Grid::plain(&[
        "metric", "unit", "n_a", "n_b", "median_a", "median_b", "ratio", "ci_low", "ci_high",
        "p_value", "verdict", "paired",
    ]);
    for m in &r.metrics {
        let c = &m.comparison;
        let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        g.row([
            m.metric.clone(),
            m.unit.clone(),
            c.n_a.to_string(),
            c.n_b.to_string(),
            c.median_a.to_string(),
            c.median_b.to_string(),
            c.ratio.to_string(),
            opt(c.ci_low),
            opt(c.ci_high),
            c.p_value.to_string(),
            m.verdict_text.clone(),
            c.paired.to_string(),
        ]);
    }
    g.to_csv()
}

pub fn render(r: &CompareReport, format: Format) -> String {
    match format {
        Format::Table => table(r, terminal_width(), crate::grid::colour_enabled()),
        Format::Markdown => markdown(r),
        Format::Csv => csv(r),
        Format::Json => serde_json::to_string_pretty(r).unwrap_or_default() + "\n",
    }
}

/// The terminal table fitted to `width`, without colour (tests, files).
pub fn table_at(r: &CompareReport, width: Option<usize>) -> String {
    table(r, width, false)
}
