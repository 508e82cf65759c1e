//! llama-bench's markdown table (`-o md`, its default): header, separator,
//! rows, and the `build: <commit> (<number>)` footer. Rows are turned into
//! llama-bench's JSON field names so the common mapping applies.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::fields::{num_value, parse_num};
use super::{warning, Failure, Found, Record, TEST_NAME};

/// The markdown footer `build: <commit> (<number>)`.
static FOOTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^build: (\S+) \((\d+)\)$").expect("footer regex is valid"));

/// `235.16 MiB`, `268.10 M`: a number and a unit.
static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([0-9]+(?:\.[0-9]+)?) ?([A-Za-z]+)$").expect("amount regex is valid")
});

/// The table cells of a `| a | b |` line; `None` if it is not a table line.
/// A line cut short (no closing `|`) gives its cells with `closed == false`.
fn md_cells(line: &str) -> Option<(Vec<&str>, bool)> {
    let inner = line.trim().strip_prefix('|')?;
    let (inner, closed) = match inner.strip_suffix('|') {
        Some(s) => (s, true),
        None => (inner, false),
    };
    Some((inner.split('|').map(str::trim).collect(), closed))
}

fn is_md_header(cells: &[&str]) -> bool {
    cells.first() == Some(&"model") && cells.contains(&"test") && cells.contains(&"t/s")
}

pub(super) fn md_header_line(text: &str) -> Option<usize> {
    text.lines()
        .position(|l| md_cells(l).is_some_and(|(c, _)| is_md_header(&c)))
}

fn is_md_separator(cells: &[&str]) -> bool {
    cells
        .iter()
        .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':'))
}

/// Reads every table (header, separator, rows) and applies each
/// `build:` footer to the rows above it that have none yet.
pub(super) fn read_md(text: &str) -> Result<Found, Failure> {
    let mut found = Found::default();
    let mut header: Vec<String> = Vec::new();
    let mut unbuilt = 0; // index of the first record without a footer yet
    let last = text.lines().count();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if let Some(caps) = FOOTER.captures(raw.trim()) {
            apply_footer(&mut found.records[unbuilt..], &caps[1], &caps[2]);
            unbuilt = found.records.len();
            continue;
        }
        let Some((cells, closed)) = md_cells(raw) else {
            continue;
        };
        if is_md_header(&cells) {
            header = cells.iter().map(|c| c.to_string()).collect();
        } else if !header.is_empty() && !is_md_separator(&cells) {
            let truncated = !closed && line == last && !text.ends_with('\n');
            if truncated || (cells.len() != header.len() && line == last) {
                found
                    .warnings
                    .push(warning(line, "markdown row cut short; ignored"));
                continue;
            }
            let fields = md_row(&header, &cells).map_err(|m| (line, m))?;
            found.records.push(Record { line, fields });
        }
    }
    if found.records.is_empty() && found.warnings.is_empty() {
        let line = md_header_line(text).map_or(1, |i| i + 1);
        return Err((line, "markdown table header with no test rows".into()));
    }
    Ok(found)
}

fn apply_footer(records: &mut [Record], commit: &str, number: &str) {
    for r in records {
        r.fields
            .insert("build_commit".into(), Value::String(commit.into()));
        r.fields
            .insert("build_number".into(), Value::String(number.into()));
    }
}

/// One markdown row as llama-bench JSON field names, so that the common
/// mapping applies. Derived values keep their printed text in `*_printed`.
fn md_row(header: &[String], cells: &[&str]) -> Result<Map<String, Value>, String> {
    if cells.len() != header.len() {
        return Err(format!(
            "markdown row has {} cells, header has {}",
            cells.len(),
            header.len()
        ));
    }
    let mut f = Map::new();
    for (name, &cell) in header.iter().zip(cells) {
        // Markdown column names that differ from the JSON field names.
        let key = match name.as_str() {
            "model" => "model_type",
            "backend" => "backends",
            "ngl" => "n_gpu_layers",
            "threads" => "n_threads",
            other => other,
        };
        match key {
            "size" => md_amount(&mut f, "model_size", cell, size_unit)?,
            "params" => md_amount(&mut f, "model_n_params", cell, params_unit)?,
            "test" => md_test(&mut f, cell)?,
            "t/s" => md_tps(&mut f, cell)?,
            _ => {
                f.insert(key.to_string(), Value::String(cell.to_string()));
            }
        }
    }
    Ok(f)
}

fn size_unit(unit: &str) -> Option<f64> {
    let exp = ["B", "KiB", "MiB", "GiB", "TiB"]
        .iter()
        .position(|u| *u == unit)?;
    Some(1024f64.powi(exp as i32))
}

fn params_unit(unit: &str) -> Option<f64> {
    match unit {
        "K" => Some(1e3),
        "M" => Some(1e6),
        "B" | "G" => Some(1e9),
        "T" => Some(1e12),
        _ => None,
    }
}

/// `235.16 MiB` -> bytes (rounded, since the figure printed was rounded).
fn md_amount(
    f: &mut Map<String, Value>,
    key: &str,
    cell: &str,
    unit: fn(&str) -> Option<f64>,
) -> Result<(), String> {
    let value = AMOUNT
        .captures(cell)
        .and_then(|c| Some(c[1].parse::<f64>().ok()? * unit(&c[2])?))
        .ok_or_else(|| format!("'{cell}' is not a {key} like '235.16 MiB' or '268.10 M'"))?;
    f.insert(key.into(), Value::from(value.round() as u64));
    f.insert(format!("{key}_printed"), Value::String(cell.into()));
    Ok(())
}

fn md_test(f: &mut Map<String, Value>, cell: &str) -> Result<(), String> {
    let caps = TEST_NAME
        .captures(cell)
        .ok_or_else(|| format!("'{cell}' is not a llama-bench test name (pp512, tg128, ...)"))?;
    let num = |i: usize| -> Result<u64, String> {
        caps.get(i).map_or(Ok(0), |m| {
            m.as_str()
                .parse()
                .map_err(|_| format!("'{cell}': count too large"))
        })
    };
    f.insert("n_prompt".into(), Value::from(num(1)?));
    f.insert("n_gen".into(), Value::from(num(2)?.max(num(3)?)));
    f.insert("n_depth".into(), Value::from(num(4)?));
    f.insert("test_printed".into(), Value::String(cell.into()));
    Ok(())
}

/// `371.00 ± 1.09` -> avg and stddev, `inf`/`nan` included.
fn md_tps(f: &mut Map<String, Value>, cell: &str) -> Result<(), String> {
    let bad = || format!("t/s '{cell}' is not 'mean ± stddev'");
    let (avg, sd) = cell.split_once('±').ok_or_else(bad)?;
    let avg = parse_num(avg).ok_or_else(bad)?;
    let sd = parse_num(sd).ok_or_else(bad)?;
    f.insert("avg_ts".into(), num_value(avg));
    f.insert("stddev_ts".into(), num_value(sd));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use crate::model::{BenchFormat, Num};

    #[test]
    fn markdown_current_cpu() {
        let out = parse(CPU_MD);
        assert_eq!(out.format, BenchFormat::Md);
        assert!(out.warnings.is_empty());
        assert_eq!(out.tests.len(), 2);
        let (pp, tg) = (&out.tests[0], &out.tests[1]);
        check(pp, "pp32", 32, 0, 0, 371.00, 1.09);
        check(tg, "tg8", 0, 8, 0, 46.90, 1.29);
        check_build(&out, "0c1e570", 1, "CPU");
        assert_eq!(pp.model_type.as_deref(), Some("gemma3 270M Q4_K - Medium"));
        assert_eq!(
            pp.model_size_bytes,
            Some((235.16f64 * 1048576.0).round() as u64)
        );
        assert_eq!(pp.model_n_params, Some(268_100_000));
        assert_eq!(extra(pp, "model_size_printed"), "235.16 MiB");
        assert_eq!(extra(pp, "model_n_params_printed"), "268.10 M");
        assert_eq!(pp.n_threads, Some(2));
        assert_eq!(pp.n_gpu_layers, None);
        assert!(pp.samples_tps.is_empty() && pp.samples_ns.is_empty() && pp.avg_ns.is_none());
    }

    #[test]
    fn markdown_cuda_with_leading_stderr() {
        let plain = parse(CUDA_MD);
        let noisy = parse(CUDA_MD_STDERR);
        assert_eq!(plain.tests, noisy.tests);
        check(&noisy.tests[0], "pp512", 512, 0, 0, 32718.98, 11901.37);
        check(&noisy.tests[1], "tg128", 0, 128, 0, 887.36, 14.60);
        check_build(&noisy, "unknown", 0, "CUDA");
        assert_eq!(noisy.tests[0].n_gpu_layers, Some(99));
        assert_eq!(noisy.tests[0].n_threads, None);
        assert_eq!(extra(&noisy.tests[0], "model_size_printed"), "903.71 MiB");
        assert_eq!(noisy.tests[0].model_n_params, Some(1_500_000_000));
    }

    #[test]
    fn markdown_2023_layout() {
        let out = parse(MD_2023);
        assert_eq!(out.tests.len(), 2);
        check(&out.tests[0], "pp512", 512, 0, 0, 2176.63, 18.27);
        check(&out.tests[1], "tg128", 0, 128, 0, 131.09, 0.34);
        check_build(&out, "8e6716a", 1007, "CUDA");
        let t = &out.tests[0];
        assert_eq!(t.n_gpu_layers, Some(99));
        assert_eq!(t.model_type.as_deref(), Some("LLaMA 7B mostly Q4_0"));
        assert_eq!((t.model_size_bytes, t.model_n_params), (None, None));
        assert_eq!(extra(t, "test_printed"), "pp 512");
    }

    #[test]
    fn markdown_depth_pp_tg_ngl_and_non_finite() {
        let out = parse(SYN_MD);
        assert_eq!(out.tests.len(), 4);
        check(&out.tests[0], "pp512 @ d512", 512, 0, 512, 12345.67, 89.01);
        check(&out.tests[1], "tg128 @ d512", 0, 128, 512, 201.50, 0.75);
        check(&out.tests[2], "pp512+tg128", 512, 128, 0, 880.25, 3.10);
        let t = &out.tests[3];
        assert_eq!(t.avg_tps, Num(f64::INFINITY));
        assert!(t.stddev_tps.0.is_nan());
        check_build(&out, "0c1e570", 7001, "CUDA");
        let t = &out.tests[0];
        assert_eq!(t.n_gpu_layers, Some(99));
        assert_eq!(
            t.model_size_bytes,
            Some((4.58f64 * 1073741824.0).round() as u64)
        );
        assert_eq!(t.model_n_params, Some(8_030_000_000));
        assert_eq!(extra(t, "n_ubatch"), "256");
        assert_eq!(extra(t, "fa"), "1");
    }
}
