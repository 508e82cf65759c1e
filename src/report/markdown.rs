//! A GitHub-flavoured markdown table (PR comments, `$GITHUB_STEP_SUMMARY`).

use super::{ci_text, context_lines, fmt_value, RunReport};

/// A table cell: pipes escaped, newlines folded.
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(r: &RunReport) -> String {
    let mut out = String::from("| | |\n|---|---|\n");
    for (k, v) in context_lines(r) {
        out.push_str(&format!("| {k} | {} |\n", cell(&v)));
    }
    out.push_str("\n| metric | unit | n | median | mean | stddev | min | max | 95% CI of mean |\n");
    out.push_str("|---|---|--:|--:|--:|--:|--:|--:|--:|\n");
    for s in &r.summary {
        let st = &s.stats;
        let nums: Vec<String> = [st.median, st.mean, st.stddev, st.min, st.max]
            .iter()
            .map(|v| fmt_value(*v, &s.metric))
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            cell(&s.metric),
            s.unit,
            st.n,
            nums.join(" | "),
            ci_text(s)
        ));
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
