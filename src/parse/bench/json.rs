//! llama-bench's JSON array (`-o json`), read one object at a time so that
//! a file cut short keeps the objects before the cut; also the quoting of the
//! bare `inf`/`nan` tokens llama-bench prints, which JSON lines share.

use serde_json::Value;

use super::{line_of, token_end, warning, Failure, Found, Record};

/// Byte offset of the `[` that opens a llama-bench JSON array: a line that is
/// `[` alone or starts `[{`/`[ {`, with an `avg_ts` field after it.
pub(super) fn json_array_start(text: &str) -> Option<usize> {
    // Found once, so that a log with many `[` lines stays linear.
    let last_field = ["\"avg_ts\"", "\"build_commit\""]
        .iter()
        .filter_map(|f| text.rfind(f))
        .max()?;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix('[') {
            let rest = rest.trim_start();
            if (rest.is_empty() || rest.starts_with('{')) && offset < last_field {
                return Some(offset + (line.len() - t.len()));
            }
        }
        offset += line.len();
    }
    None
}

/// Whether JSON text names a field only llama-bench writes. `build_commit`
/// comes first in every object, so a file cut before `avg_ts` still counts.
pub(super) fn names_bench_field(text: &str) -> bool {
    text.contains("\"avg_ts\"") || text.contains("\"build_commit\"")
}

/// Quotes the bare `inf`, `-inf`, `nan`, `-nan`, `nan(ind)` tokens
/// llama-bench prints for non-finite values, so that serde_json can read the
/// rest. Newlines are kept, so line numbers still hold.
pub(super) fn quote_non_finite(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.char_indices().peekable();
    let mut in_string = false;
    while let Some((i, c)) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => out.extend(chars.next().map(|(_, c)| c)),
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if c == '-' || c.is_ascii_alphanumeric() {
            let end = token_end(text, i, "+-._()");
            let token = &text[i..end];
            let bare = token.trim_start_matches(['-', '+']).to_ascii_lowercase();
            if bare.starts_with("inf") || bare.starts_with("nan") {
                out.push('"');
                out.push_str(token);
                out.push('"');
            } else {
                out.push_str(token);
            }
            while chars.peek().is_some_and(|&(j, _)| j < end) {
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads the array one object at a time, so that a file cut short keeps the
/// objects written before the cut.
pub(super) fn read_json(text: &str) -> Result<Found, Failure> {
    let mut found = Found::default();
    let Some(start) = json_array_start(text) else {
        return Ok(found);
    };
    let body = quote_non_finite(&text[start + 1..]);
    let base = line_of(text, start) - 1;
    let mut pos = 0;
    loop {
        pos += body[pos..].len() - body[pos..].trim_start().len();
        let line = base + line_of(&body, pos);
        match body[pos..].chars().next() {
            None => {
                found
                    .warnings
                    .push(warning(line, "JSON array not closed (output cut short?)"));
                return Ok(found);
            }
            Some(']') => return Ok(found),
            Some(',') => pos += 1,
            Some(_) => {
                let mut stream =
                    serde_json::Deserializer::from_str(&body[pos..]).into_iter::<Value>();
                match stream.next() {
                    Some(Ok(value)) => found.records.push(json_record(value, line)?),
                    Some(Err(e)) if e.is_eof() => {
                        found
                            .warnings
                            .push(warning(line, "JSON object cut short; ignored"));
                        return Ok(found);
                    }
                    Some(Err(e)) => {
                        return Err((base + line_of(&body, pos) + e.line() - 1, e.to_string()))
                    }
                    None => return Ok(found),
                }
                pos += stream.byte_offset();
            }
        }
    }
}

pub(super) fn json_record(value: Value, line: usize) -> Result<Record, Failure> {
    match value {
        Value::Object(fields) => Ok(Record { line, fields }),
        other => Err((line, format!("expected a JSON object, found '{other}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::model::BenchFormat;

    #[test]
    fn json_current_cpu() {
        let out = parse(CPU_JSON);
        assert_eq!(out.format, BenchFormat::Json);
        assert!(out.warnings.is_empty());
        let (pp, tg) = (&out.tests[0], &out.tests[1]);
        check(pp, "pp32", 32, 0, 0, 248.647764, 0.849410);
        check(tg, "tg8", 0, 8, 0, 45.672632, 0.629976);
        check_build(&out, "0c1e570", 1, "CPU");
        assert_eq!(pp.samples_tps, vec![248.047, 249.248]);
        assert_eq!(pp.samples_ns, vec![129007736, 128385986]);
        assert_eq!(pp.avg_ns, Some(128696861));
        assert_eq!(tg.samples_tps, vec![46.1181, 45.2272]);
        assert_eq!(tg.samples_ns, vec![173467712, 176884816]);
        assert_eq!(tg.avg_ns, Some(175176264));
        assert_eq!(pp.model_size_bytes, Some(246587904));
        assert_eq!(pp.model_n_params, Some(268098176));
        assert_eq!((pp.n_gpu_layers, pp.n_threads), (Some(-1), Some(2)));
        assert_eq!(pp.extra.get("stddev_ns"), Some(&Value::from(439643)));
        assert_eq!(pp.extra.get("repack"), Some(&Value::Bool(true)));
        assert_eq!(extra(pp, "test_time"), "2026-11-29T18:48:23Z");
        assert!(!pp.extra.contains_key("avg_ts") && !pp.extra.contains_key("samples_ts"));
    }

    #[test]
    fn json_three_repetitions_and_cuda() {
        let out = parse(GEMMA_R3);
        check(&out.tests[0], "pp64", 64, 0, 0, 495.895656, 44.511026);
        assert_eq!(out.tests[0].samples_tps, vec![524.718, 518.338, 444.631]);
        assert_eq!(
            out.tests[0].samples_ns,
            vec![121970311, 123471506, 143939614]
        );
        check(&out.tests[1], "tg32", 0, 32, 0, 49.630833, 2.983806);
        assert_eq!(out.tests[1].samples_tps, vec![49.903, 46.5203, 52.4692]);
        let out = parse(CUDA_JSON);
        check(&out.tests[0], "pp512", 512, 0, 0, 39005.332145, 8449.996561);
        assert_eq!(out.tests[0].samples_tps, vec![29254.4, 43576.6, 44185.0]);
        check(&out.tests[1], "tg128", 0, 128, 0, 902.007616, 4.960143);
        assert_eq!(
            out.tests[1].samples_ns,
            vec![142674528, 141936056, 141115022]
        );
        check_build(&out, "unknown", 0, "CUDA");
        assert_eq!(out.tests[1].n_gpu_layers, Some(99));
    }

    #[test]
    fn json_older_fields() {
        let out = parse(OLD_JSON);
        let t = &out.tests[0];
        check(t, "pp512", 512, 0, 0, 2176.632441, 18.275532);
        check_build(&out, "8e6716a", 1007, "CUDA");
        assert_eq!(t.samples_tps, vec![2155.56, 2187.06, 2187.53]);
        assert_eq!(t.extra.get("use_mmap"), Some(&Value::Bool(true)));
        assert_eq!(t.extra.get("f16_kv"), Some(&Value::Bool(true)));
        assert!(!t.extra.contains_key("backend"));
    }

    #[test]
    fn quoting_non_finite_leaves_strings_and_numbers_alone() {
        let text = r#"{"a": inf, "b": "inf \" nan", "c": -1.5e+3, "d": -nan(ind), "e": true}"#;
        let quoted = quote_non_finite(text);
        assert_eq!(
            quoted,
            r#"{"a": "inf", "b": "inf \" nan", "c": -1.5e+3, "d": "-nan(ind)", "e": true}"#
        );
    }
}
