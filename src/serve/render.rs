//! `tokbench serve` output: a terminal table, markdown, JSON or CSV of each
//! block's figures, and the sweep curve. Rows are built once ([`rows`]) and
//! drawn by each format.

use super::figures::Dist;
use super::summary::{BlockSummary, SweepSummary};
use crate::format::Format;

const HEADER: [&str; 6] = [
    "figure (ms)",
    "n",
    "p50 [95% CI]",
    "p90 [95% CI]",
    "p99 [95% CI]",
    "mean",
];

pub fn num(x: Option<f64>) -> String {
    match x {
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
        None => "-".to_string(),
    }
}

fn with_ci(d: &Dist, stat: &str) -> String {
    let Some(v) = d.stat(stat) else {
        return "-".to_string();
    };
    let [lo, hi] = d.ci95.get(stat).copied().unwrap_or([None, None]);
    let side = |x: Option<f64>, open: &str| x.map(|v| num(Some(v))).unwrap_or(open.to_string());
    format!("{} [{}, {}]", num(Some(v)), side(lo, "?"), side(hi, "?"))
}

/// The figure rows of a block: name, n, p50, p90, p99, mean.
pub fn rows(s: &BlockSummary) -> Vec<[String; 6]> {
    let f = &s.figures;
    [
        ("TTFT", &f.ttft_ms),
        ("TTFT from send", &f.ttft_from_send_ms),
        ("TPOT", &f.tpot_ms),
        ("ITL (per token)", &f.itl_ms),
        ("end-to-end", &f.e2e_ms),
        ("e2e from send", &f.e2e_from_send_ms),
        ("client queue", &f.client_queue_ms),
        ("dispatch lag", &f.dispatch_lag_ms),
        ("TTFT - server prompt_ms", &f.server_queue_est_ms),
    ]
    .into_iter()
    .map(|(name, d)| {
        [
            name.to_string(),
            d.n.to_string(),
            with_ci(d, "p50"),
            with_ci(d, "p90"),
            with_ci(d, "p99"),
            num(d.mean),
        ]
    })
    .collect()
}

/// The lines under the table: load, throughput, verdicts, counters.
pub fn context(s: &BlockSummary) -> Vec<String> {
    let f = &s.figures;
    let t = &f.throughput;
    let mut out = vec![
        format!(
            "block {}: {} against {}",
            s.block, s.load.description, s.server.url
        ),
        format!(
            "requests: {} counted ({} warmup), {} completed, {} early stops, errors {}",
            f.requests,
            s.warmup,
            f.completed,
            f.early_stops,
            if f.errors.is_empty() {
                "none".to_string()
            } else {
                format!("{:?}", f.errors)
            }
        ),
        format!(
            "throughput: {} req/s achieved{}, {} output tokens/s over {:.1} s",
            num(t.achieved_rps),
            t.offered_rps
                .map(|o| format!(" of {o} offered"))
                .unwrap_or_default(),
            num(t.output_tps),
            t.wall_s
        ),
    ];
    if let Some(g) = s.goodput_rps {
        out.push(format!(
            "goodput: {} req/s met every --slo target",
            num(Some(g))
        ));
    }
    for c in &s.slo {
        let state = if c.met { "met" } else { "NOT met" };
        out.push(format!("slo {}: {} ({})", c.target, num(c.value_ms), state));
    }
    if let Some(m) = &s.metrics_delta {
        let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k} +{v}")).collect();
        out.push(format!("/metrics over the block: {}", parts.join(", ")));
    }
    if let Some(line) = s.sampled.as_ref().and_then(sampled_line) {
        out.push(line);
    }
    for (name, d) in [("ITL", &f.itl_ms), ("TTFT", &f.ttft_ms)] {
        if let Some(n) = &d.note {
            out.push(format!("{name}: {n}"));
        }
    }
    out.extend(s.warnings.iter().map(|w| format!("warning: {w}")));
    out
}

/// The samplers' figures on the server process over the block, when any.
fn sampled_line(x: &crate::sample::SampledFigures) -> Option<String> {
    let gib = |b: u64| format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64);
    let mut parts = Vec::new();
    if let Some(v) = x.gpu_busy_pct_mean {
        parts.push(format!("GPU busy {v:.0}% mean"));
    }
    if let Some(v) = x.gpu_power_w_mean {
        parts.push(format!("{v:.0} W mean"));
    }
    if let Some(v) = x.gpu_j_per_token {
        parts.push(format!("{v:.3} J/token"));
    }
    if let Some(b) = x.gpu_mem_bytes_peak {
        parts.push(format!("GPU memory peak {}", gib(b)));
    }
    if let Some(v) = x.cpu_pct_mean {
        parts.push(format!("server CPU {v:.0}% mean"));
    }
    if let Some(b) = x.peak_rss_bytes {
        parts.push(format!("server RSS peak {}", gib(b)));
    }
    (!parts.is_empty()).then(|| format!("sampled on the server: {}", parts.join(", ")))
}

fn grid(header: &[&str], rows: &[Vec<String>]) -> crate::grid::Grid {
    let mut g = crate::grid::Grid::plain(header);
    for r in rows {
        g.row(r.clone());
    }
    g
}

pub(super) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    grid(header, rows).to_terminal().trim_end().to_string()
}

pub(super) fn markdown(header: &[&str], rows: &[Vec<String>]) -> String {
    grid(header, rows).to_markdown()
}

fn csv_block(s: &BlockSummary) -> String {
    let f = &s.figures;
    let mut out = String::new();
    for (name, d) in [
        ("ttft_ms", &f.ttft_ms),
        ("ttft_from_send_ms", &f.ttft_from_send_ms),
        ("tpot_ms", &f.tpot_ms),
        ("itl_ms", &f.itl_ms),
        ("e2e_ms", &f.e2e_ms),
        ("e2e_from_send_ms", &f.e2e_from_send_ms),
        ("dispatch_lag_ms", &f.dispatch_lag_ms),
    ] {
        let c = |st: &str| d.ci95.get(st).copied().unwrap_or([None, None]);
        let o = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        let (p50, p99) = (c("p50"), c("p99"));
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            s.block,
            s.load.rate_rps.map(|r| r.to_string()).unwrap_or_default(),
            name,
            d.n,
            o(d.p50),
            o(p50[0]),
            o(p50[1]),
            o(d.p90),
            o(d.p99),
            o(p99[1]),
            o(d.mean)
        ));
    }
    out
}

/// One block in the chosen format.
pub fn block(s: &BlockSummary, format: Format) -> String {
    let rows: Vec<Vec<String>> = rows(s).into_iter().map(|r| r.to_vec()).collect();
    match format {
        Format::Json => serde_json::to_string_pretty(s).unwrap_or_default() + "\n",
        Format::Csv => {
            let head = "block,rate_rps,figure,n,p50,p50_low,p50_high,p90,p99,p99_high,mean\n";
            format!("{head}{}", csv_block(s))
        }
        Format::Markdown => {
            let ctx: String = context(s).iter().map(|l| format!("- {l}\n")).collect();
            format!("{}\n{ctx}", markdown(&HEADER, &rows))
        }
        Format::Table => format!("{}\n{}\n", table(&HEADER, &rows), context(s).join("\n")),
    }
}

fn sweep_rows(s: &SweepSummary) -> Vec<Vec<String>> {
    s.points
        .iter()
        .map(|p| {
            let slo = p
                .slo_met
                .map(|m| if m { "met" } else { "no" })
                .unwrap_or("-");
            vec![
                num(Some(p.offered)),
                p.trial.to_string(),
                num(p.achieved_rps),
                num(p.output_tps),
                num(p.ttft_p50_ms),
                num(p.ttft_p99_ms),
                num(p.itl_p50_ms),
                num(p.itl_p99_ms),
                if p.overloaded { "yes" } else { "no" }.to_string(),
                slo.to_string(),
            ]
        })
        .collect()
}

/// The sweep curve in the chosen format.
pub fn sweep(s: &SweepSummary, format: Format) -> String {
    let axis = if s.axis == "rate" {
        "offered req/s"
    } else {
        "concurrency"
    };
    let header = [
        axis,
        "trial",
        "achieved req/s",
        "output tok/s",
        "TTFT p50",
        "TTFT p99",
        "ITL p50",
        "ITL p99",
        "overload",
        "slo",
    ];
    let knee = match s.knee {
        Some(k) => format!(
            "knee: {} (the highest load the server followed)",
            num(Some(k))
        ),
        None => "knee: not found (the server followed every step, or none)".to_string(),
    };
    let slo = match (s.slo.is_empty(), s.slo_max) {
        (true, _) => String::new(),
        (false, Some(r)) => format!(
            "\nhighest load meeting --slo {}: {} (every trial)",
            s.slo.join(","),
            num(Some(r))
        ),
        (false, None) => format!("\nno load met --slo {}", s.slo.join(",")),
    };
    let rows = sweep_rows(s);
    match format {
        Format::Json => serde_json::to_string_pretty(s).unwrap_or_default() + "\n",
        Format::Csv => {
            let mut out = header.join(",") + "\n";
            rows.iter()
                .for_each(|r| out.push_str(&(r.join(",") + "\n")));
            out
        }
        Format::Markdown => format!("{}\n{knee}{slo}\n", markdown(&header, &rows)),
        Format::Table => format!("{}\n{knee}{slo}\n", table(&header, &rows)),
    }
}
