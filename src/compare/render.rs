//! Renderers of the comparison report: a terminal table (colour only on a
//! terminal, NO_COLOR respected), markdown for PR comments and
//! `$GITHUB_STEP_SUMMARY`, CSV, JSON.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Color, Table};

use super::report::{CompareReport, MetricComparison};
use crate::format::Format;
use crate::report::markdown::cell;
use crate::report::{build_line, fmt_value};

fn pct(v: f64) -> String {
    format!("{v:+.2}%")
}

fn ci(m: &MetricComparison) -> String {
    match (m.change_ci_low_pct, m.change_ci_high_pct) {
        (Some(lo), Some(hi)) => format!("{} .. {}", pct(lo), pct(hi)),
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

/// One sentence on the primary metric.
pub fn headline(r: &CompareReport) -> String {
    let Some(m) = r.metrics.iter().find(|m| m.metric == r.primary_metric) else {
        return format!("no comparison of '{}' could be made", r.primary_metric);
    };
    let how = match m.verdict_text.as_str() {
        "no significant change" => format!(
            "no significant change in {} (B/A {}, 95% CI {}; noise band ±{}%)",
            m.metric,
            pct(m.change_pct),
            ci(m),
            r.threshold_pct
        ),
        "inconclusive" => format!(
            "inconclusive for {}: B/A {}, 95% CI {} is neither beyond nor within the ±{}% noise band; run more pairs (--pairs, --auto)",
            m.metric,
            pct(m.change_pct),
            ci(m),
            r.threshold_pct
        ),
        v => format!("B is {v} than A in {}: {} (95% CI {}, p={})", m.metric, pct(m.change_pct), ci(m), p_text(m.comparison.p_value)),
    };
    format!("verdict: {how}")
}

fn header_lines(r: &CompareReport) -> Vec<(String, String)> {
    let mut v = vec![
        (
            "A".to_string(),
            format!("{} ({})", r.a.label, build_line(&r.a.build)),
        ),
        (
            "B".to_string(),
            format!("{} ({})", r.b.label, build_line(&r.b.build)),
        ),
    ];
    if let Some(m) = &r.model {
        v.push(("model".to_string(), m.path.clone()));
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

fn colour_enabled() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

fn verdict_cell(m: &MetricComparison, colour: bool) -> Cell {
    let cell = Cell::new(&m.verdict_text);
    if !colour {
        return cell;
    }
    match m.verdict_text.as_str() {
        "faster" => cell.fg(Color::Green),
        "slower" => cell.fg(Color::Red),
        "inconclusive" => cell.fg(Color::Yellow),
        _ => cell,
    }
}

fn table(r: &CompareReport) -> String {
    let colour = colour_enabled();
    let mut out = String::new();
    for (k, v) in header_lines(r) {
        out.push_str(&format!("{k:>7}: {v}\n"));
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    if !colour {
        t.force_no_tty();
    }
    t.set_header([
        "metric", "unit", "A median", "B median", "B/A", "95% CI", "p", "verdict",
    ]);
    for m in &r.metrics {
        let c = &m.comparison;
        let right = |s: String| Cell::new(s).set_alignment(CellAlignment::Right);
        t.add_row(vec![
            Cell::new(&m.metric),
            Cell::new(&m.unit),
            right(fmt_value(c.median_a, &m.metric)),
            right(fmt_value(c.median_b, &m.metric)),
            right(pct(m.change_pct)),
            right(ci(m)),
            right(p_text(c.p_value)),
            verdict_cell(m, colour),
        ]);
    }
    out.push_str(&format!("\n{t}\n{}\n", headline(r)));
    if let Some(reg) = &r.regression {
        let state = if reg.regressed { "REGRESSION" } else { "ok" };
        out.push_str(&format!(
            "--fail-if-slower {}%: {state} ({})\n",
            reg.fail_if_slower_pct, reg.metric
        ));
    }
    for w in &r.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

fn markdown(r: &CompareReport) -> String {
    let mut out = format!("**{}**\n\n", cell(&headline(r)));
    out.push_str("| | |\n|---|---|\n");
    for (k, v) in header_lines(r) {
        out.push_str(&format!("| {k} | {} |\n", cell(&v)));
    }
    out.push_str("\n| metric | unit | A median | B median | B/A | 95% CI | p | verdict |\n");
    out.push_str("|---|---|--:|--:|--:|--:|--:|---|\n");
    for m in &r.metrics {
        let c = &m.comparison;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            cell(&m.metric),
            m.unit,
            fmt_value(c.median_a, &m.metric),
            fmt_value(c.median_b, &m.metric),
            pct(m.change_pct),
            ci(m),
            p_text(c.p_value),
            m.verdict_text
        ));
    }
    if let Some(reg) = &r.regression {
        let state = if reg.regressed {
            "**REGRESSION**"
        } else {
            "ok"
        };
        out.push_str(&format!(
            "\n`--fail-if-slower {}%`: {state}\n",
            reg.fail_if_slower_pct
        ));
    }
    for w in &r.warnings {
        out.push_str(&format!("\n> warning: {}\n", cell(w)));
    }
    out
}

fn csv(r: &CompareReport) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "metric", "unit", "n_a", "n_b", "median_a", "median_b", "ratio", "ci_low", "ci_high",
        "p_value", "verdict", "paired",
    ]);
    for m in &r.metrics {
        let c = &m.comparison;
        let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        let _ = w.write_record([
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
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

pub fn render(r: &CompareReport, format: Format) -> String {
    match format {
        Format::Table => table(r),
        Format::Markdown => markdown(r),
        Format::Csv => csv(r),
        Format::Json => serde_json::to_string_pretty(r).unwrap_or_default() + "\n",
    }
}
