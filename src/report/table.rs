//! The terminal form of a run's report: its context lines, the summary
//! grid (and the llama-bench grid), then the warnings.

use super::{bench, context_lines, summary_grid, RunReport};
use crate::grid::terminal_width;

pub fn render(r: &RunReport) -> String {
    render_at(r, terminal_width())
}

/// The report fitted to `width` columns (none: every column).
pub fn render_at(r: &RunReport, width: Option<usize>) -> String {
    let mut out = String::new();
    for (k, v) in context_lines(r) {
        out.push_str(&format!("{k:>9}: {v}\n"));
    }
    if r.summary.is_empty() {
        out.push_str("\nno counted run finished: nothing to summarise\n");
    } else {
        let colour = crate::grid::colour_enabled();
        if bench::has_bench(r) {
            out.push('\n');
            out.push_str(&bench::grid(r).to_table(width, colour));
        }
        let g = summary_grid(r);
        if !g.is_empty() {
            out.push('\n');
            out.push_str(&g.to_table(width, colour));
        }
    }
    for w in r.all_warnings() {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}
