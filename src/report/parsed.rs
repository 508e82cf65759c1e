//! Output of `tokbench parse`: the timings found in each input, exactly as
//! printed (values are shown with the digits the file had).

use serde_json::Value;

use crate::detect::Parsed;
use crate::format::Format;
use crate::grid::{Column, Grid};
use crate::model::TimingBlock;

/// Timing fields in display order.
const FIELDS: [&str; 22] = [
    "load_ms",
    "prompt_eval_ms",
    "prompt_eval_tokens",
    "prompt_eval_ms_per_token",
    "prompt_eval_tps",
    "eval_ms",
    "eval_tokens",
    "eval_ms_per_token",
    "eval_tps",
    "sampling_ms",
    "sampling_runs",
    "samplers_ms",
    "samplers_runs",
    "total_ms",
    "total_tokens",
    "unaccounted_ms",
    "unaccounted_pct",
    "graphs_reused",
    "mem_per_token_bytes",
    "draft_acceptance",
    "draft_accepted",
    "draft_generated",
];

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn block_fields(b: &TimingBlock) -> serde_json::Map<String, Value> {
    match serde_json::to_value(&b.timings) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

fn block_name(b: &TimingBlock) -> String {
    let kind = serde_json::to_value(b.kind)
        .map(|v| value_text(&v))
        .unwrap_or_default();
    match &b.label {
        Some(l) => format!("{kind} ({l})"),
        None => kind,
    }
}

/// Columns present in at least one block, in display order.
fn present_fields(blocks: &[TimingBlock]) -> Vec<&'static str> {
    let maps: Vec<_> = blocks.iter().map(block_fields).collect();
    FIELDS
        .iter()
        .copied()
        .filter(|f| maps.iter().any(|m| m.contains_key(*f)))
        .collect()
}

fn timings_grid(blocks: &[TimingBlock]) -> Grid {
    let fields = present_fields(blocks);
    let mut cols = vec![Column::left("block"), Column::right("line")];
    cols.extend(fields.iter().map(|f| Column::right(f)));
    let mut g = Grid::new(cols);
    for b in blocks {
        let m = block_fields(b);
        let mut row = vec![block_name(b), b.line.to_string()];
        row.extend(fields.iter().map(|f| {
            let text = m.get(*f).map(value_text).unwrap_or_default();
            // A value tokbench computed, not one the file printed.
            if b.timings.derived.iter().any(|d| d == f) {
                format!("{text} (derived)")
            } else {
                text
            }
        }));
        g.row(row);
    }
    g
}

fn bench_grid(p: &Parsed) -> Grid {
    let mut g = Grid::new(vec![
        Column::left("test"),
        Column::right("avg t/s"),
        Column::right("stddev t/s"),
        Column::left("samples t/s").priority(1),
        Column::left("backend"),
        Column::left("build"),
    ]);
    for b in &p.bench {
        let samples: Vec<String> = b.samples_tps.iter().map(|s| s.to_string()).collect();
        let build = match (&b.build_commit, b.build_number) {
            (Some(c), Some(n)) => format!("{c} ({n})"),
            (Some(c), None) => c.clone(),
            _ => String::new(),
        };
        g.row([
            b.key().to_string(),
            value_text(&serde_json::to_value(b.avg_tps).unwrap_or(Value::Null)),
            value_text(&serde_json::to_value(b.stddev_tps).unwrap_or(Value::Null)),
            samples.join(" "),
            b.backends.clone().unwrap_or_default(),
            build,
        ]);
    }
    g
}

fn render_table(files: &[Parsed]) -> String {
    let mut out = String::new();
    for p in files {
        out.push_str(&format!("== {} ==\n", p.source));
        if let Some(b) = &p.build {
            out.push_str(&format!("build: {}\n", crate::report::build_line(b)));
        }
        if !p.blocks.is_empty() {
            out.push_str(&timings_grid(&p.blocks).to_terminal());
        }
        if !p.bench.is_empty() {
            let fmt = p
                .bench_format
                .map(|f| format!("{f:?}").to_lowercase())
                .unwrap_or_default();
            out.push_str(&format!(
                "llama-bench ({fmt}):\n{}",
                bench_grid(p).to_terminal()
            ));
        }
        if let Some(fmt) = &p.sample_format {
            out.push_str(&crate::sample::render::samples_table(fmt, &p.samples));
        }
        for w in &p.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        out.push('\n');
    }
    out
}

fn render_csv(files: &[Parsed]) -> String {
    let mut header = vec!["source", "block", "line"];
    header.extend(FIELDS);
    let mut g = Grid::plain(&header);
    for p in files {
        for b in &p.blocks {
            let m = block_fields(b);
            let mut row = vec![p.source.clone(), block_name(b), b.line.to_string()];
            row.extend(
                FIELDS
                    .iter()
                    .map(|f| m.get(*f).map(value_text).unwrap_or_default()),
            );
            g.row(row);
        }
    }
    g.to_csv()
}

fn render_markdown(files: &[Parsed]) -> String {
    let mut out = String::new();
    for p in files {
        out.push_str(&format!("### {}\n\n", p.source));
        if !p.blocks.is_empty() {
            out.push_str(&timings_grid(&p.blocks).to_markdown());
        }
        if !p.bench.is_empty() {
            out.push_str(&bench_grid(p).to_markdown());
        }
        out.push('\n');
    }
    out
}

pub fn render(files: &[Parsed], format: Format) -> String {
    match format {
        Format::Table => render_table(files),
        Format::Json => serde_json::to_string_pretty(files).unwrap_or_default() + "\n",
        Format::Csv => render_csv(files),
        Format::Markdown => render_markdown(files),
    }
}
