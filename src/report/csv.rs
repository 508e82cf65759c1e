//! CSV: one row per metric summary, for spreadsheets and scripts.

use super::RunReport;

pub fn render(r: &RunReport) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let header = [
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
    ];
    let _ = w.write_record(header);
    for s in &r.summary {
        let st = &s.stats;
        let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        let outliers: Vec<String> = s.outlier_runs.iter().map(|x| x.to_string()).collect();
        let _ = w.write_record([
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
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
