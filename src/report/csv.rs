//! CSV: one row per metric summary with the exact values, for spreadsheets
//! and scripts.

use super::RunReport;
use crate::grid::Grid;

pub fn render(r: &RunReport) -> String {
    let mut g = Grid::plain(&[
        "label",
        "metric",
        "unit",
        "n",
        "median",
        "mean",
        "stddev",
        "min",
        "max",
        "ci95_low",
        "ci95_high",
        "outlier_runs",
    ]);
    for s in &r.summary {
        let st = &s.stats;
        let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        let outliers: Vec<String> = s.outlier_runs.iter().map(|x| x.to_string()).collect();
        g.row([
            r.label.clone(),
            s.metric.clone(),
            s.unit.clone(),
            st.n.to_string(),
            st.median.to_string(),
            st.mean.to_string(),
            st.stddev.to_string(),
            st.min.to_string(),
            st.max.to_string(),
            opt(st.ci95_low),
            opt(st.ci95_high),
            outliers.join(" "),
        ]);
    }
    g.to_csv()
}
