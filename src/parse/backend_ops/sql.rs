//! `test-backend-ops perf --output sql`: a `CREATE TABLE test_backend_ops`
//! header, then one `INSERT INTO test_backend_ops (cols) VALUES ('v', ...);`
//! line per case. Every value is a quoted string (numbers too, as C's
//! `std::to_string` writes them; booleans as 1 or 0).
//!
//! The stream can be corrupted by `failed to allocate tensors`, which the perf
//! loop prints to stdout (and the console printer to stderr, without a line
//! end) in the middle of the SQL; [`strip_noise`] removes it wherever it lands.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::OpsParseError;
use crate::model::OpResult;

const INSERT: &str = "INSERT INTO test_backend_ops (";

static NOISE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"failed to allocate (?:weight )?tensors(?: \[[^\]\n]*\])? ?\n?")
        .expect("valid regex")
});

/// Removes `failed to allocate tensors` messages wherever they were written.
pub fn strip_noise(text: &str) -> String {
    NOISE.replace_all(text, "").into_owned()
}

/// True when the text holds at least one SQL result line.
pub fn looks_like_sql(text: &str) -> bool {
    text.contains(INSERT)
}

/// Every INSERT line of the output, in order.
pub fn parse_sql(source_name: &str, text: &str) -> Result<Vec<OpResult>, OpsParseError> {
    let clean = strip_noise(text);
    let mut out = Vec::new();
    for (i, line) in clean.lines().enumerate() {
        let Some(at) = line.find(INSERT) else {
            continue;
        };
        let row = parse_insert(&line[at + INSERT.len()..]).map_err(|why| OpsParseError::Line {
            source_name: source_name.to_string(),
            line: i + 1,
            why,
        })?;
        out.extend(row);
    }
    if out.is_empty() {
        return Err(OpsParseError::Empty {
            source_name: source_name.to_string(),
        });
    }
    Ok(out)
}

/// `cols) VALUES ('v', ...);` after the INSERT prefix; None for a case of
/// another mode (`test`, `support`), which has no time.
fn parse_insert(rest: &str) -> Result<Option<OpResult>, String> {
    let (cols, values) = rest
        .split_once(") VALUES (")
        .ok_or("an INSERT line without ') VALUES (': the line is cut or corrupted")?;
    let cols: Vec<&str> = cols.split(',').map(str::trim).collect();
    let values = quoted_values(values)?;
    if cols.len() != values.len() {
        return Err(format!(
            "{} columns but {} values: a value holds a quote, or the line is cut",
            cols.len(),
            values.len()
        ));
    }
    let row: HashMap<&str, String> = cols.into_iter().zip(values).collect();
    if row.get("test_mode").is_some_and(|m| m != "perf") {
        return Ok(None);
    }
    from_row(&row).map(Some)
}

/// `'a', 'b''c', '');` -> [a, b'c, ""] (SQL quoting: '' is one quote).
fn quoted_values(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = s.trim_end().chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == ',') {
            chars.next();
        }
        match chars.next() {
            Some('\'') => {}
            Some(')') => return Ok(out),
            Some(c) => return Err(format!("expected a quoted value, found '{c}'")),
            None => return Err("the VALUES list is not closed with ')': the line is cut".into()),
        }
        let mut v = String::new();
        loop {
            match chars.next() {
                Some('\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                    v.push('\'');
                }
                Some('\'') => break,
                Some(c) => v.push(c),
                None => return Err("a quoted value is not closed: the line is cut".into()),
            }
        }
        out.push(v);
    }
}

fn from_row(row: &HashMap<&str, String>) -> Result<OpResult, String> {
    let text = |k: &str| row.get(k).cloned().unwrap_or_default();
    let need = |k: &str| row.get(k).cloned().ok_or(format!("no '{k}' column"));
    let num = |k: &str| -> Result<f64, String> {
        match row.get(k) {
            None => Ok(0.0),
            Some(v) if v.is_empty() => Ok(0.0),
            Some(v) => v
                .parse::<f64>()
                .map_err(|_| format!("'{k}' is '{v}', not a number")),
        }
    };
    let flag = |k: &str| row.get(k).is_some_and(|v| v == "1" || v == "true");
    Ok(OpResult {
        backend: need("backend_name")?,
        op: need("op_name")?,
        params: need("op_params")?,
        supported: flag("supported"),
        time_us: num("time_us")?,
        flops: num("flops")?,
        bandwidth_gb_s: num("bandwidth_gb_s")?,
        memory_kb: num("memory_kb")? as u64,
        n_runs: num("n_runs")? as u64,
        device: text("device_description"),
        build_commit: text("build_commit"),
        test_time: text("test_time"),
        error: text("error_message"),
    })
}
