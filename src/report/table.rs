//! The terminal table (comfy-table).

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, ContentArrangement, Table};

use super::{ci_text, context_lines, fmt_value, RunReport};

pub fn render(r: &RunReport) -> String {
    let mut out = String::new();
    for (k, v) in context_lines(r) {
        out.push_str(&format!("{k:>9}: {v}\n"));
    }
    if r.summary.is_empty() {
        out.push_str("\nno counted run finished: nothing to summarise\n");
    } else {
        out.push('\n');
        out.push_str(&summary_table(r).to_string());
        out.push('\n');
    }
    for w in r.all_warnings() {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

fn summary_table(r: &RunReport) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    t.set_header([
        "metric",
        "unit",
        "n",
        "median",
        "mean",
        "stddev",
        "min",
        "max",
        "95% CI of mean",
    ]);
    for s in &r.summary {
        let st = &s.stats;
        let mut row = vec![Cell::new(&s.metric), Cell::new(&s.unit), Cell::new(st.n)];
        for v in [st.median, st.mean, st.stddev, st.min, st.max] {
            row.push(Cell::new(fmt_value(v, &s.metric)).set_alignment(CellAlignment::Right));
        }
        row.push(Cell::new(ci_text(s)).set_alignment(CellAlignment::Right));
        t.add_row(row);
    }
    t
}
