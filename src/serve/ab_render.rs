//! An A/B session's output: one row per figure (A's and B's median over
//! their blocks, the change B/A with its 95% interval, the verdict), then
//! what was compared, how, and the gate. Table, markdown, JSON or CSV.

use super::ab::{AbSummary, FigureVerdict};
use super::render::{markdown, num, table};
use super::summary::BlockSummary;
use crate::compare::stats::Verdict;
use crate::format::Format;

const HEADER: [&str; 6] = [
    "figure",
    "A (median)",
    "B (median)",
    "B vs A [95% CI]",
    "verdict",
    "pairs",
];

fn pct(r: f64) -> String {
    format!("{:+.1}%", (r - 1.0) * 100.0)
}

pub fn change(v: &FigureVerdict) -> String {
    let Some(c) = &v.comparison else {
        return "-".to_string();
    };
    match (c.ci_low, c.ci_high) {
        (Some(lo), Some(hi)) => format!("{} [{}, {}]", pct(c.ratio), pct(lo), pct(hi)),
        _ => format!("{} [no interval]", pct(c.ratio)),
    }
}

/// The verdict in words; for latencies "faster" means B's are lower.
pub fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Faster => "B faster",
        Verdict::Slower => "B slower",
        Verdict::NoChange => "no significant change",
        Verdict::Inconclusive => "inconclusive",
    }
}

fn rows(s: &AbSummary) -> Vec<Vec<String>> {
    s.verdicts
        .iter()
        .map(|v| {
            let c = v.comparison.as_ref();
            let judged = if v.metric == s.metric { " *" } else { "" };
            vec![
                format!("{}{judged}", v.metric),
                num(c.map(|c| c.median_a)),
                num(c.map(|c| c.median_b)),
                change(v),
                verdict_text(v.verdict).to_string(),
                v.pairs.to_string(),
            ]
        })
        .collect()
}

fn gate_line(s: &AbSummary) -> Option<String> {
    let g = s.gate.as_ref()?;
    Some(if !g.checked {
        format!(
            "--fail-if-slower {}%: NOT checked: {} has no 95% interval (a gate that checked nothing fails: exit 1)",
            g.pct, s.metric
        )
    } else if g.regressed {
        format!(
            "--fail-if-slower {}%: B is worse than A on {} beyond {}% with 95% confidence (exit 3)",
            g.pct, s.metric, g.pct
        )
    } else {
        format!(
            "--fail-if-slower {}%: B is not worse than A on {} beyond {}%",
            g.pct, s.metric, g.pct
        )
    })
}

/// `--slo`: blocks of each side that met it, and B's verdict.
fn slo_line(s: &AbSummary) -> Option<String> {
    let x = s.slo.as_ref()?;
    let verdict = if x.b_unmet() {
        "B missed it in some block (exit 3)"
    } else {
        "B met it in every block"
    };
    Some(format!(
        "--slo '{}': A met it in {}/{} blocks, B in {}/{}: {verdict}; goodput_rps is the rate of requests that met it (higher is better)",
        x.targets, x.a_met, x.a_blocks, x.b_met, x.b_blocks
    ))
}

/// Every block's warnings, named by block and side.
pub fn block_warnings(blocks: &[BlockSummary]) -> Vec<String> {
    blocks
        .iter()
        .flat_map(|b| {
            let side = b.side.unwrap_or("-");
            b.warnings
                .iter()
                .map(move |w| format!("block {} ({side}): {w}", b.block))
        })
        .collect()
}

/// The lines under the table; `warnings` from [`block_warnings`].
pub fn context(s: &AbSummary, warnings: &[String]) -> Vec<String> {
    let mut out = vec![
        format!("A: {}", s.a),
        format!("B: {}", s.b),
        format!(
            "{} ABBA pairs of blocks (A blocks {:?}, B blocks {:?}), each: {}",
            s.pairs, s.blocks_a, s.blocks_b, s.load
        ),
        format!(
            "* judged (--metric {}); each block's figure is one sample, the k-th A block paired with the k-th B block: \
             paired Hodges-Lehmann change with its Wilcoxon 95% interval, noise band {}%; latencies: lower is faster",
            s.metric,
            s.threshold * 100.0
        ),
    ];
    for v in &s.verdicts {
        if let Some(n) = &v.note {
            out.push(format!("{}: {n}", v.metric));
        }
    }
    out.extend(gate_line(s));
    out.extend(slo_line(s));
    if s.interrupted {
        out.push("interrupted: only the pairs finished before Ctrl-C are judged".to_string());
    }
    out.extend(warnings.iter().map(|w| format!("warning: {w}")));
    out
}

/// The A/B session in the chosen format.
pub fn render(s: &AbSummary, warnings: &[String], format: Format) -> String {
    let rows = rows(s);
    match format {
        Format::Json => serde_json::to_string_pretty(s).unwrap_or_default() + "\n",
        Format::Csv => {
            let head =
                "metric,lower_is_better,median_a,median_b,ratio,ci_low,ci_high,verdict,pairs\n";
            let body: String = s.verdicts.iter().map(csv_row).collect();
            format!("{head}{body}")
        }
        Format::Markdown => {
            let ctx: String = context(s, warnings)
                .iter()
                .map(|l| format!("- {l}\n"))
                .collect();
            format!("{}\n{ctx}", markdown(&HEADER, &rows))
        }
        Format::Table => format!(
            "{}\n{}\n",
            table(&HEADER, &rows),
            context(s, warnings).join("\n")
        ),
    }
}

fn csv_row(v: &FigureVerdict) -> String {
    let o = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    let c = v.comparison.as_ref();
    format!(
        "{},{},{},{},{},{},{},{},{}\n",
        v.metric,
        v.lower_is_better,
        o(c.map(|c| c.median_a)),
        o(c.map(|c| c.median_b)),
        o(c.map(|c| c.ratio)),
        o(c.and_then(|c| c.ci_low)),
        o(c.and_then(|c| c.ci_high)),
        serde_json::to_value(v.verdict)
            .ok()
            .and_then(|x| x.as_str().map(str::to_string))
            .unwrap_or_default(),
        v.pairs
    )
}
