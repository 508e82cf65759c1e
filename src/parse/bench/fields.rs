//! The mapping shared by every format: llama-bench field names and values
//! (JSON values, or the strings markdown and csv print) to a [`BenchTest`].

use serde_json::{Map, Value};

use crate::model::{BenchTest, Num};

/// `inf`, `-inf`, `nan`, `-nan`, `nan(ind)` or a decimal number.
pub(super) fn parse_num(s: &str) -> Option<Num> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    let bare = lower.trim_start_matches(['-', '+']);
    if bare.starts_with("nan") {
        return Some(Num(f64::NAN));
    }
    if bare == "inf" || bare == "infinity" {
        return Some(Num(if lower.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }));
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite()).map(Num)
}

/// A number as a JSON value; non-finite ones as the strings `Num` serialises to.
pub(super) fn num_value(n: Num) -> Value {
    serde_json::to_value(n).unwrap_or(Value::Null)
}

fn as_num(v: &Value) -> Option<Num> {
    match v {
        Value::Number(n) => n.as_f64().map(Num),
        Value::String(s) => parse_num(s),
        _ => None,
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A samples list: a JSON array, or a space-separated string (csv).
fn as_list<T>(v: &Value, item: fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    match v {
        Value::Array(a) => a.iter().map(item).collect(),
        Value::String(s) => s
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .map(|t| item(&Value::String(t.into())))
            .collect(),
        _ => None,
    }
}

/// Takes `key` out of `f` and converts it; a value of the wrong kind is an error.
fn take<T>(
    f: &mut Map<String, Value>,
    key: &str,
    conv: impl Fn(&Value) -> Option<T>,
) -> Result<Option<T>, String> {
    match f.remove(key) {
        None => Ok(None),
        Some(v) => conv(&v)
            .map(Some)
            .ok_or_else(|| format!("field '{key}' has an unexpected value '{v}'")),
    }
}

fn required<T>(
    f: &mut Map<String, Value>,
    key: &str,
    conv: impl Fn(&Value) -> Option<T>,
) -> Result<T, String> {
    take(f, key, conv)?.ok_or_else(|| format!("field '{key}' is missing"))
}

/// The name llama-bench's markdown gives a test.
pub(super) fn test_name(n_prompt: u64, n_gen: u64, n_depth: u64) -> String {
    let base = match (n_prompt, n_gen) {
        (p, 0) if p > 0 => format!("pp{p}"),
        (0, g) if g > 0 => format!("tg{g}"),
        (p, g) => format!("pp{p}+tg{g}"),
    };
    if n_depth > 0 {
        format!("{base} @ d{n_depth}")
    } else {
        base
    }
}

/// Maps llama-bench field names to a [`BenchTest`]; the rest goes to `extra`.
pub(super) fn test_from_fields(mut f: Map<String, Value>) -> Result<BenchTest, String> {
    let n_prompt = required(&mut f, "n_prompt", as_u64)?;
    let n_gen = required(&mut f, "n_gen", as_u64)?;
    // Older builds had no depth; their tests ran at depth 0.
    let n_depth = take(&mut f, "n_depth", as_u64)?.unwrap_or(0);
    let backends = match take(&mut f, "backends", as_string)? {
        Some(b) => Some(b),
        None => take(&mut f, "backend", as_string)?,
    };
    let test = BenchTest {
        test: test_name(n_prompt, n_gen, n_depth),
        key: String::new(),
        n_prompt,
        n_gen,
        n_depth,
        avg_tps: required(&mut f, "avg_ts", as_num)?,
        stddev_tps: required(&mut f, "stddev_ts", as_num)?,
        samples_tps: take(&mut f, "samples_ts", |v| {
            as_list(v, |x| as_num(x).map(|n| n.0))
        })?
        .unwrap_or_default(),
        samples_ns: take(&mut f, "samples_ns", |v| as_list(v, as_u64))?.unwrap_or_default(),
        avg_ns: take(&mut f, "avg_ns", as_u64)?,
        model_type: take(&mut f, "model_type", as_string)?,
        model_size_bytes: take(&mut f, "model_size", as_u64)?,
        model_n_params: take(&mut f, "model_n_params", as_u64)?,
        backends,
        n_gpu_layers: take(&mut f, "n_gpu_layers", as_i64)?,
        n_threads: take(&mut f, "n_threads", as_i64)?,
        build_commit: take(&mut f, "build_commit", as_string)?,
        build_number: take(&mut f, "build_number", as_u64)?,
        extra: Map::new(),
    };
    // The markdown's own spelling of the test only matters when it differs.
    if f.get("test_printed").and_then(Value::as_str) == Some(test.test.as_str()) {
        f.remove("test_printed");
    }
    Ok(BenchTest { extra: f, ..test })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_names_follow_llama_bench() {
        assert_eq!(test_name(512, 0, 0), "pp512");
        assert_eq!(test_name(0, 128, 0), "tg128");
        assert_eq!(test_name(512, 128, 0), "pp512+tg128");
        assert_eq!(test_name(512, 0, 4096), "pp512 @ d4096");
    }
}
