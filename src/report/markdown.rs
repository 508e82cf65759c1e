//! A run's report in GitHub-flavoured markdown (PR comments,
//! `$GITHUB_STEP_SUMMARY`): the context as a list, then the grids.

use super::{bench, context_lines, summary_grid, RunReport};

/// A table cell: pipes escaped, newlines folded.
pub fn cell(s: &str) -> String {
    crate::grid::md_cell(s)
}

pub fn render(r: &RunReport) -> String {
    let mut out = String::new();
    for (k, v) in context_lines(r) {
        out.push_str(&format!("- **{k}**: {}\n", cell(&v)));
    }
    if bench::has_bench(r) {
        out.push('\n');
        out.push_str(&bench::grid(r).to_markdown());
    }
    let g = summary_grid(r);
    if !g.is_empty() {
        out.push('\n');
        out.push_str(&g.to_markdown());
    }
    let warnings = r.all_warnings();
    if !warnings.is_empty() {
        out.push('\n');
        for w in warnings {
            out.push_str(&format!("> warning: {}\n", cell(&w)));
        }
    }
    out
}
