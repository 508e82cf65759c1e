//! `ncu --csv --print-units base --metrics gpu__time_duration.sum`: `==PROF==`
//! lines (and, without `--log-file`, the program's own output), then the
//! header `"ID","Process ID","Process Name","Host Name","Kernel Name",...,
//! "Metric Name","Metric Unit","Metric Value"` and one row per kernel launch
//! and metric. ncu replays every kernel to measure it: limit it with
//! `--launch-count`. Durations are summed per kernel name, in nanoseconds.

use std::collections::BTreeMap;

use super::{bad, summarize, CsvTable, KernelSummary, ProfileError};

const METRIC: &str = "gpu__time_duration.sum";

fn to_ns(value: f64, unit: &str) -> Option<f64> {
    let scale = match unit.trim() {
        "nsecond" | "ns" | "" => 1.0,
        "usecond" | "us" => 1e3,
        "msecond" | "ms" => 1e6,
        "second" | "s" => 1e9,
        _ => return None,
    };
    Some(value * scale)
}

pub fn parse(source_name: &str, text: &str) -> Result<KernelSummary, ProfileError> {
    let table = CsvTable::read(
        source_name,
        text,
        |l| l.starts_with("\"ID\"") && l.contains("\"Metric Value\""),
        "no '\"ID\",...,\"Metric Value\"' header: run ncu with --csv",
    )?;
    let col = |n: &str| table.col(source_name, n);
    let (kname, metric, unit, value) = (
        col("Kernel Name")?,
        col("Metric Name")?,
        col("Metric Unit")?,
        col("Metric Value")?,
    );
    let mut per = BTreeMap::new();
    for rec in table.rows.into_iter().flatten() {
        if rec.len() != table.headers.len() || &rec[metric] != METRIC {
            continue;
        }
        let v: f64 = rec[value]
            .replace(',', "")
            .parse()
            .map_err(|_| bad(source_name, format!("'{}' is not a duration", &rec[value])))?;
        let ns = to_ns(v, &rec[unit]).ok_or_else(|| {
            bad(
                source_name,
                format!("unknown unit '{}' (use --print-units base)", &rec[unit]),
            )
        })?;
        let e = per.entry(rec[kname].to_string()).or_insert((0, 0.0));
        e.0 += 1;
        e.1 += ns;
    }
    if per.is_empty() {
        return Err(bad(
            source_name,
            format!("no '{METRIC}' rows: add --metrics {METRIC} (or --section SpeedOfLight)"),
        ));
    }
    Ok(summarize("ncu", per))
}
