//! The llama-bench table as llama-bench users read it: `model | size |
//! params | backend | ngl | fa | test | t/s`, one row per test key, with
//! only the configuration columns that the results carry.

use super::human::{bytes, Shown};
use super::RunReport;
use crate::grid::{Column, Grid};
use crate::model::BenchTest;

/// The run holds llama-bench results.
pub fn has_bench(r: &RunReport) -> bool {
    crate::summary::counted(&r.runs).any(|x| !x.bench.is_empty())
}

/// `1.50 B`, `270 M`: a parameter count as llama-bench writes it.
fn params(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.2} B", n / 1e9)
    } else {
        format!("{:.2} M", n / 1e6)
    }
}

fn extra(t: &BenchTest, key: &str) -> Option<String> {
    t.extra.get(key).map(|v| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

type Config = (&'static str, Align, fn(&BenchTest) -> Option<String>);

use crate::grid::Align;

const CONFIG: [Config; 5] = [
    ("model", Align::Left, |t| t.model_type.clone()),
    ("size", Align::Right, |t| t.model_size_bytes.map(bytes)),
    ("params", Align::Right, |t| t.model_n_params.map(params)),
    ("backend", Align::Left, |t| t.backends.clone()),
    ("ngl", Align::Right, |t| {
        t.n_gpu_layers.map(|n| n.to_string())
    }),
];

/// One row per llama-bench key: its configuration, then `mean ± stddev`
/// over the repetitions (llama-bench's own figure).
pub fn grid(r: &RunReport) -> Grid {
    let tests: Vec<&BenchTest> = crate::summary::counted(&r.runs)
        .flat_map(|x| x.bench.iter())
        .collect();
    let present: Vec<&Config> = CONFIG
        .iter()
        .filter(|c| tests.iter().any(|t| (c.2)(t).is_some()))
        .collect();
    let fa = tests.iter().any(|t| extra(t, "flash_attn").is_some());
    let mut cols: Vec<Column> = present
        .iter()
        .map(|c| match c.1 {
            Align::Left => Column::left(c.0).priority(2),
            Align::Right => Column::right(c.0).priority(1),
        })
        .collect();
    if fa {
        cols.push(Column::right("fa"));
    }
    cols.extend([Column::right("test"), Column::right("t/s")]);
    let mut g = Grid::new(cols);
    for s in r
        .summary
        .iter()
        .filter(|s| crate::metrics::named(&s.metric).is_none())
    {
        let Some(t) = tests.iter().find(|t| t.key() == s.metric) else {
            continue;
        };
        let mut row: Vec<String> = present
            .iter()
            .map(|c| (c.2)(t).unwrap_or_default())
            .collect();
        if fa {
            row.push(extra(t, "flash_attn").unwrap_or_default());
        }
        let sh = Shown::of(&s.metric, s.stats.mean, Some(s.stats.stddev));
        row.push(s.metric.clone());
        row.push(format!(
            "{} ± {}",
            sh.fmt(s.stats.mean),
            sh.fmt(s.stats.stddev)
        ));
        g.row(row);
    }
    g.note(
        "t/s: mean ± standard deviation over llama-bench's repetitions, as llama-bench prints it",
    );
    g
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_read_like_llama_bench() {
        assert_eq!(super::params(1_498_482_688), "1.50 B");
        assert_eq!(super::params(268_098_176), "268.10 M");
    }
}
