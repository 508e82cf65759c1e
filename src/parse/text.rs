//! Line cleaning and number reading shared by the text parsers.
//!
//! llama.cpp output reaches tokbench wrapped in many ways: the common logger's
//! `0.01.736.298 I ` prefix, a wrapper's `[42027] ` prefix, `--log-jsonl`
//! records whose `msg` holds the text, ollama-style JSON logs, carriage
//! returns from terminal redraws. Every parser first turns the input into
//! plain [`LogLine`]s here, so the era-specific code only sees what the
//! llama.cpp printer wrote.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::model::Num;

/// A number as llama.cpp's printf writes it: decimal point or (in some
/// locales) decimal comma, or `inf`/`nan` when a duration was zero.
pub const NUM: &str = r"[-+]?(?:\d+(?:[.,]\d+)?|(?i:inf(?:inity)?|nan(?:\([a-z]*\))?))";

static PREFIX_RE: LazyLock<Regex> = LazyLock::new(|| {
    // `[pid] ` from wrappers, then the common logger's `M.SS.mmm.uuu L `.
    Regex::new(r"^\s*(?:\[\d+\]\s*)*(?:\d+\.\d{2}\.\d{3}\.\d{3} [A-Z](?:\s+|$))?\s*")
        .expect("prefix regex is valid")
});

/// One line of llama.cpp text with every wrapper removed.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// 1-based line in the original input (a JSON record's `msg` may hold
    /// several lines; they all carry the record's line).
    pub line: usize,
    pub text: String,
    /// `slot N task M` when the line came from a JSON server log record that
    /// names its slot and task (2024 llama.cpp server, ollama).
    pub slot: Option<String>,
}

/// Removes what loggers and wrappers put in front of a llama.cpp line: a
/// terminal redraw (`\r`), `[pid] `, the `M.SS.mmm.uuu L ` timestamp and
/// leading/trailing blanks. What remains starts with the printer's name.
pub fn strip_line_prefix(line: &str) -> &str {
    let line = line.trim_end();
    // After a carriage return the terminal shows only what follows it.
    let line = line.rsplit('\r').next().unwrap_or(line);
    let start = PREFIX_RE.find(line).map_or(0, |m| m.end());
    line[start..].trim_end()
}

/// Splits `text` into cleaned lines, unwrapping JSON log records.
pub fn log_lines(text: &str) -> Vec<LogLine> {
    let mut out = Vec::new();
    for (idx, raw) in text.split('\n').enumerate() {
        let line = idx + 1;
        if let Some((msg, slot)) = json_log_msg(raw) {
            for part in msg.split('\n') {
                out.push(LogLine {
                    line,
                    text: strip_line_prefix(part).to_string(),
                    slot: slot.clone(),
                });
            }
        } else {
            out.push(LogLine {
                line,
                text: strip_line_prefix(raw).to_string(),
                slot: None,
            });
        }
    }
    out
}

/// The `msg` of a JSON log record (`--log-jsonl`, the 2024 server's JSON log,
/// ollama), with `slot N task M` when the record names them.
fn json_log_msg(raw: &str) -> Option<(String, Option<String>)> {
    let trimmed = raw.trim();
    if !(trimmed.starts_with('{') && trimmed.ends_with('}')) {
        return None;
    }
    let value: Value = serde_json::from_str(trimmed).ok()?;
    let msg = value.get("msg")?.as_str()?.to_string();
    let pick = |a: &str, b: &str| {
        value
            .get(a)
            .or_else(|| value.get(b))
            .and_then(Value::as_i64)
    };
    let slot = match (pick("id_slot", "slot_id"), pick("id_task", "task_id")) {
        (Some(s), Some(t)) => Some(format!("slot {s} task {t}")),
        _ => None,
    };
    Some((msg, slot))
}

/// Reads a number matched by [`NUM`]; a decimal comma counts as a point.
pub fn parse_num(s: &str) -> Option<Num> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    let (neg, body) = match lower.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, lower.strip_prefix('+').unwrap_or(&lower)),
    };
    let v = if body.starts_with("inf") {
        f64::INFINITY
    } else if body.starts_with("nan") {
        f64::NAN
    } else if body
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
    {
        body.replace(',', ".").parse::<f64>().ok()?
    } else {
        return None;
    };
    Some(Num(if neg { -v } else { v }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_timestamp_wrapper_and_cr() {
        assert_eq!(
            strip_line_prefix("0.01.736.298 I common_perf_print: x"),
            "common_perf_print: x"
        );
        assert_eq!(
            strip_line_prefix("[42027] slot print_timing: a"),
            "slot print_timing: a"
        );
        assert_eq!(
            strip_line_prefix("[42027] 12.03.001.002 W llama: y\r"),
            "llama: y"
        );
        assert_eq!(
            strip_line_prefix("text text\rllama_print_timings: z"),
            "llama_print_timings: z"
        );
        assert_eq!(strip_line_prefix("0.01.291.294 I "), "");
        assert_eq!(
            strip_line_prefix("\t  eval time = 1 ms"),
            "eval time = 1 ms"
        );
        // A number that is not a log timestamp stays.
        assert_eq!(strip_line_prefix("1.5 ms"), "1.5 ms");
    }

    #[test]
    fn unwraps_json_records() {
        let text = "{\"type\":\"log\",\"msg\":\"a: 1\\nb: 2\\n\"}\n{\"msg\":\"eval\",\"id_slot\":0,\"id_task\":7}\n{bad";
        let lines = log_lines(text);
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["a: 1", "b: 2", "", "eval", "{bad"]);
        assert_eq!(lines[0].line, 1);
        assert_eq!(lines[3].line, 2);
        assert_eq!(lines[3].slot.as_deref(), Some("slot 0 task 7"));
        assert_eq!(lines[4].line, 3);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_num("285,92"), Some(Num(285.92)));
        assert_eq!(parse_num("115222.19"), Some(Num(115222.19)));
        assert_eq!(parse_num("inf"), Some(Num(f64::INFINITY)));
        assert_eq!(parse_num("-inf"), Some(Num(f64::NEG_INFINITY)));
        assert!(parse_num("nan").is_some_and(|n| n.0.is_nan()));
        assert_eq!(parse_num("12x"), None);
        assert_eq!(parse_num(""), None);
    }
}
