//! The `tokbench ops` report: what was run, and per op case the time per
//! run of each side, the change with its 95% interval and the verdict.
//! Table (terminal), markdown (a PR comment), JSON, CSV.

use serde::{Deserialize, Serialize};

use super::auto::AutoSummary;
use super::compare::{verdict_text, OpCase, OpRow, OpSummary, OpsComparison, SideFigures};
use crate::compare::stats::Verdict;
use crate::format::Format;
use crate::grid::{md_cell as cell, Column, Grid};

/// Everything `tokbench ops` prints and stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpsReport {
    pub a: String,
    pub b: Option<String>,
    /// The argv of one `test-backend-ops` invocation (A's).
    pub argv: Vec<String>,
    pub rounds: usize,
    pub device: String,
    pub comparison: Option<OpsComparison>,
    pub single: Vec<OpSummary>,
    pub fail_if_slower_pct: Option<f64>,
    /// Cases slower than --fail-if-slower over their whole interval.
    pub regressions: Vec<OpCase>,
    pub warnings: Vec<String>,
    /// `--auto`: rounds taken, why it stopped, the per-look confidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto: Option<AutoSummary>,
}

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:+.2}%"))
}

fn interval(r: &OpRow) -> String {
    match (r.ci_low_pct, r.ci_high_pct) {
        (Some(lo), Some(hi)) => format!("{lo:+.2}% .. {hi:+.2}%"),
        _ => "n/a (too few rounds)".into(),
    }
}

/// `812.0 us`, `1.234 ms`.
pub fn time_text(us: f64) -> String {
    if !us.is_finite() {
        "n/a".into()
    } else if us >= 1000.0 {
        format!("{:.3} ms", us / 1000.0)
    } else {
        format!("{us:.2} us")
    }
}

/// `144.62 TFLOPS (14.6%)` or `94.87 GB/s`.
pub fn rate_text(f: &SideFigures) -> String {
    let rate = match (f.tflops, f.gb_s) {
        (Some(t), _) => format!("{t:.2} TFLOPS"),
        (None, Some(g)) => format!("{g:.2} GB/s"),
        _ => "n/a".into(),
    };
    match f.peak_pct {
        Some(p) => format!("{rate} ({p:.1}%)"),
        None => rate,
    }
}

fn case_text(backend: &str, op: &str, params: &str) -> String {
    format!("{backend} {op}({params})")
}

/// One line on the whole comparison.
pub fn headline(c: &OpsComparison) -> String {
    let count = |v: Verdict| c.rows.iter().filter(|r| r.verdict == v).count();
    format!(
        "{} op case(s): {} slower, {} faster, {} no significant change, {} inconclusive (noise band ±{}%)",
        c.rows.len(),
        count(Verdict::Slower),
        count(Verdict::Faster),
        count(Verdict::NoChange),
        count(Verdict::Inconclusive),
        c.threshold * 100.0
    )
}

fn header(r: &OpsReport) -> Vec<(String, String)> {
    let mut v = vec![("A".to_string(), r.a.clone())];
    if let Some(b) = &r.b {
        v.push(("B".into(), b.clone()));
    }
    v.push(("command".into(), crate::runner::shell_words(&r.argv)));
    let design = if r.b.is_some() {
        "rounds, interleaved ABBA"
    } else {
        "rounds"
    };
    v.push(("rounds".into(), format!("{} {design}", r.rounds)));
    if let Some(a) = &r.auto {
        v.push(("auto".into(), auto_text(a)));
    }
    if !r.device.is_empty() {
        v.push(("device".into(), r.device.clone()));
    }
    v
}

/// `--auto`'s stop and the strength of its looks, in one line.
pub fn auto_text(a: &AutoSummary) -> String {
    format!(
        "stopped: {}; {} of {} case(s) decided; each look at {:.3}% confidence ({} looks x {} case(s): at most {}% chance of any false verdict)",
        a.reason,
        a.decided,
        a.cases,
        a.per_look_confidence * 100.0,
        a.looks.len(),
        a.cases,
        a.family_alpha * 100.0
    )
}

fn apart(c: &OpsComparison) -> Vec<String> {
    let mut out = Vec::new();
    let list = |title: &str, v: &[OpCase], out: &mut Vec<String>| {
        if !v.is_empty() {
            out.push(format!("{title} ({}):", v.len()));
            out.extend(
                v.iter()
                    .map(|x| format!("  {}", case_text(&x.backend, &x.op, &x.params))),
            );
        }
    };
    list("only in A", &c.only_a, &mut out);
    list("only in B", &c.only_b, &mut out);
    list("supported by neither", &c.unsupported, &mut out);
    out
}

fn footer(r: &OpsReport) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = r.fail_if_slower_pct {
        let state = if r.regressions.is_empty() {
            "ok".to_string()
        } else {
            format!("REGRESSION in {} case(s)", r.regressions.len())
        };
        out.push(format!("--fail-if-slower {p}%: {state}"));
    }
    out.extend(r.warnings.iter().map(|w| format!("warning: {w}")));
    out
}

/// The op cases of a comparison; `code` puts the parameters in backticks
/// (markdown). With `--auto`, the interval is at the per-look confidence
/// and a column says at which round each case was decided.
fn comparison_grid(c: &OpsComparison, auto: Option<&AutoSummary>, code: bool) -> Grid {
    let ci = auto.map_or("95% CI".to_string(), |a| {
        format!("{:.2}% CI", a.per_look_confidence * 100.0)
    });
    let mut cols = vec![
        Column::left("op"),
        Column::left("params"),
        Column::right("A time/run"),
        Column::right("B time/run"),
        Column::right("B rate").priority(2),
        Column::right("change"),
        Column::right(&ci).priority(1),
        Column::left("verdict"),
    ];
    if auto.is_some() {
        cols.push(Column::right("decided at"));
    }
    let mut g = Grid::new(cols);
    for row in &c.rows {
        let mut cells = vec![
            row.op.clone(),
            params_cell(&row.params, code),
            time_text(row.a.time_us),
            time_text(row.b.time_us),
            rate_text(&row.b),
            pct(row.change_pct),
            interval(row),
            verdict_text(row.verdict).to_string(),
        ];
        if auto.is_some() {
            cells.push(
                row.decided_at_round
                    .map_or("-".into(), |k| format!("round {k}")),
            );
        }
        g.row(cells);
    }
    g
}

fn params_cell(p: &str, code: bool) -> String {
    if code {
        format!("`{p}`")
    } else {
        p.to_string()
    }
}

/// The op cases of one side.
fn single_grid(r: &OpsReport, code: bool) -> Grid {
    let mut g = Grid::new(vec![
        Column::left("op"),
        Column::left("params"),
        Column::right("time/run (median)"),
        Column::right("min .. max").priority(1),
        Column::right("rate"),
    ]);
    for s in &r.single {
        g.row([
            s.op.clone(),
            params_cell(&s.params, code),
            time_text(s.figures.time_us),
            format!(
                "{} .. {}",
                time_text(s.min_time_us),
                time_text(s.max_time_us)
            ),
            rate_text(&s.figures),
        ]);
    }
    g
}

fn table(r: &OpsReport) -> String {
    let mut out: String = header(r)
        .iter()
        .map(|(k, v)| format!("{k:>8}: {v}\n"))
        .collect();
    if let Some(c) = &r.comparison {
        out.push_str(&format!(
            "\n{}{}\n",
            comparison_grid(c, r.auto.as_ref(), false).to_terminal(),
            headline(c)
        ));
        out.extend(apart(c).into_iter().map(|l| l + "\n"));
    } else {
        out.push_str(&format!("\n{}", single_grid(r, false).to_terminal()));
    }
    out.extend(footer(r).into_iter().map(|l| l + "\n"));
    out
}

fn markdown(r: &OpsReport) -> String {
    let mut out = String::from("| | |\n|---|---|\n");
    for (k, v) in header(r) {
        out.push_str(&format!("| {k} | {} |\n", cell(&v)));
    }
    if let Some(c) = &r.comparison {
        out.push_str(&format!(
            "\n{}",
            comparison_grid(c, r.auto.as_ref(), true).to_markdown()
        ));
        out.push_str(&format!("\n{}\n", headline(c)));
        let apart = apart(c);
        if !apart.is_empty() {
            out.push_str(&format!("\n```\n{}\n```\n", apart.join("\n")));
        }
    } else {
        out.push_str(&format!("\n{}", single_grid(r, true).to_markdown()));
    }
    for l in footer(r) {
        out.push_str(&format!("\n{l}\n"));
    }
    out
}

fn csv(r: &OpsReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "backend",
        "op",
        "params",
        "a_time_us",
        "b_time_us",
        "change_pct",
        "ci_low_pct",
        "ci_high_pct",
        "verdict",
        "b_tflops",
        "b_gb_s",
        "b_peak_pct",
    ]);
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for row in r.comparison.iter().flat_map(|c| &c.rows) {
        let _ = w.write_record([
            row.backend.clone(),
            row.op.clone(),
            row.params.clone(),
            row.a.time_us.to_string(),
            row.b.time_us.to_string(),
            opt(row.change_pct),
            opt(row.ci_low_pct),
            opt(row.ci_high_pct),
            verdict_text(row.verdict).to_string(),
            opt(row.b.tflops),
            opt(row.b.gb_s),
            opt(row.b.peak_pct),
        ]);
    }
    for s in &r.single {
        let f = &s.figures;
        let _ = w.write_record([
            s.backend.clone(),
            s.op.clone(),
            s.params.clone(),
            f.time_us.to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            opt(f.tflops),
            opt(f.gb_s),
            opt(f.peak_pct),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

pub fn render(r: &OpsReport, format: Format) -> String {
    match format {
        Format::Table => table(r),
        Format::Markdown => markdown(r),
        Format::Csv => csv(r),
        Format::Json => serde_json::to_string_pretty(r)
            .map(|s| s + "\n")
            .unwrap_or_default(),
    }
}
