//! llama-bench's csv (`-o csv`): a header naming `build_commit` and
//! `avg_ts`, then one quoted row per test.

use serde_json::Value;

use super::{warning, Failure, Found, Record};

/// Line index of the csv header: names `build_commit` and `avg_ts`, commas.
pub(super) fn csv_header_line(text: &str) -> Option<usize> {
    text.lines().position(|l| {
        let names: Vec<&str> = l.split(',').map(|c| c.trim().trim_matches('"')).collect();
        names.len() > 1 && names.contains(&"build_commit") && names.contains(&"avg_ts")
    })
}

pub(super) fn read_csv(text: &str) -> Result<Found, Failure> {
    let mut found = Found::default();
    let Some(first) = csv_header_line(text) else {
        return Ok(found);
    };
    let start: usize = text.split_inclusive('\n').take(first).map(str::len).sum();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&text.as_bytes()[start..]);
    let mut header: Vec<String> = Vec::new();
    let mut rows = reader.records().peekable();
    while let Some(row) = rows.next() {
        let row = row.map_err(|e| (first + 1, e.to_string()))?;
        let line = first + row.position().map_or(1, |p| p.line() as usize);
        if header.is_empty() {
            header = row.iter().map(str::to_string).collect();
        } else if row.len() != header.len() || (rows.peek().is_none() && !text.ends_with('\n')) {
            // llama-bench ends every row with a newline: without one the last
            // row may hold a value cut short even when its field count is right.
            if rows.peek().is_none() && row.len() <= header.len() {
                found
                    .warnings
                    .push(warning(line, "csv row cut short; ignored"));
                break;
            }
            return Err((
                line,
                format!(
                    "csv row has {} fields, header has {}",
                    row.len(),
                    header.len()
                ),
            ));
        } else {
            let fields = header
                .iter()
                .zip(row.iter())
                .map(|(k, v)| (k.clone(), Value::String(v.into())));
            found.records.push(Record {
                line,
                fields: fields.collect(),
            });
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use crate::model::BenchFormat;

    #[test]
    fn csv_current_cpu() {
        let out = parse(CPU_CSV);
        assert_eq!(out.format, BenchFormat::Csv);
        let (pp, tg) = (&out.tests[0], &out.tests[1]);
        check(pp, "pp32", 32, 0, 0, 354.163860, 3.887234);
        check(tg, "tg8", 0, 8, 0, 46.815360, 0.348864);
        check_build(&out, "0c1e570", 1, "CPU");
        // llama-bench's csv has no per-repetition samples.
        assert!(pp.samples_tps.is_empty() && pp.samples_ns.is_empty());
        assert_eq!((pp.avg_ns, tg.avg_ns), (Some(90359100), Some(170888829)));
        assert_eq!(extra(pp, "stddev_ns"), "991763");
        assert_eq!(extra(pp, "cpu_info"), "Intel(R) Xeon(R) Processor");
    }

    #[test]
    fn csv_samples_column_as_space_separated_list() {
        let text = "build_commit,n_prompt,n_gen,avg_ts,stddev_ts,samples_ns,samples_ts\n\
                    \"abc\",\"0\",\"8\",\"40.5\",\"0.5\",\"200 210\",\"40 41\"\n";
        let t = &parse(text).tests[0];
        assert_eq!(t.samples_ns, vec![200, 210]);
        assert_eq!(t.samples_tps, vec![40.0, 41.0]);
    }
}
