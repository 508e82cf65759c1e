//! llama-server JSON `timings` objects: `/completion` and
//! `/v1/chat/completions` bodies and the final SSE chunk (FORMATS.md §3).
//!
//! The server prints its floats at full double precision; they are kept as
//! they are. In an SSE stream only the last chunk carrying `timings` before
//! `data: [DONE]` counts: with `timings_per_token` every chunk has a running
//! copy, and the last one is the finished request.

use serde_json::Value;

use crate::model::{BlockKind, Num, TimingBlock, Timings};

/// Every `timings` object in `text` (a JSON body or an SSE stream), in order.
pub fn parse_server_json(text: &str) -> Vec<TimingBlock> {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        // A whole body, possibly pretty-printed: report the key's line.
        let line = text.rfind("\"timings\"").map_or(1, |at| line_of(text, at));
        return timings_in(&value)
            .into_iter()
            .map(|t| server_block(t, line))
            .collect();
    }
    parse_lines(text)
}

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// One JSON value per line: SSE `data:` chunks or JSON lines of bodies.
fn parse_lines(text: &str) -> Vec<TimingBlock> {
    let mut blocks = Vec::new();
    // The newest `timings` of the SSE stream in progress.
    let mut stream_last: Option<TimingBlock> = None;
    for (idx, raw) in text.split('\n').enumerate() {
        let line = raw.trim();
        let (is_sse, payload) = match line.strip_prefix("data:") {
            Some(rest) => (true, rest.trim()),
            None => (false, line),
        };
        if is_sse && payload == "[DONE]" {
            blocks.extend(stream_last.take());
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(payload) else {
            continue;
        };
        for t in timings_in(&value) {
            let block = server_block(t, idx + 1);
            if is_sse {
                stream_last = Some(block);
            } else {
                blocks.push(block);
            }
        }
    }
    // A stream cut before `[DONE]` still reports what it had.
    blocks.extend(stream_last);
    blocks
}

/// The `timings` objects of a body (or of each body in a top-level array).
fn timings_in(value: &Value) -> Vec<&serde_json::Map<String, Value>> {
    let bodies: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    bodies
        .into_iter()
        .filter_map(|b| b.get("timings")?.as_object())
        .collect()
}

fn server_block(t: &serde_json::Map<String, Value>, line: usize) -> TimingBlock {
    let num = |k: &str| t.get(k).and_then(json_num);
    let count = |k: &str| t.get(k).and_then(json_count);
    let timings = Timings {
        prompt_eval_tokens: count("prompt_n"),
        prompt_eval_ms: num("prompt_ms"),
        prompt_eval_ms_per_token: num("prompt_per_token_ms"),
        prompt_eval_tps: num("prompt_per_second"),
        eval_tokens: count("predicted_n"),
        eval_ms: num("predicted_ms"),
        eval_ms_per_token: num("predicted_per_token_ms"),
        eval_tps: num("predicted_per_second"),
        draft_generated: count("draft_n"),
        draft_accepted: count("draft_n_accepted"),
        ..Timings::default()
    };
    TimingBlock {
        kind: BlockKind::ServerJson,
        label: None,
        line,
        eval_unit: None,
        timings,
    }
}

/// A JSON number, or the strings some serialisers write for non-finite ones.
fn json_num(v: &Value) -> Option<Num> {
    match v {
        Value::Number(n) => n.as_f64().map(Num),
        Value::String(s) => super::text::parse_num(s),
        _ => None,
    }
}

fn json_count(v: &Value) -> Option<u64> {
    v.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: f64) -> Option<Num> {
        Some(Num(v))
    }

    #[test]
    fn completion_response_body() {
        let blocks = parse_server_json(include_str!(
            "../../fixtures/llama/2026_server_completion_response.json"
        ));
        let t = Timings {
            prompt_eval_tokens: Some(8),
            prompt_eval_ms: n(47.162),
            prompt_eval_ms_per_token: n(5.89525),
            prompt_eval_tps: n(169.6280904117722),
            eval_tokens: Some(16),
            eval_ms: n(353.186),
            eval_ms_per_token: n(23.54573333333333),
            eval_tps: n(42.4705396023625),
            ..Timings::default()
        };
        let want = TimingBlock {
            kind: BlockKind::ServerJson,
            label: None,
            line: 1,
            eval_unit: None,
            timings: t,
        };
        assert_eq!(blocks, [want]);
    }

    #[test]
    fn chat_response_body() {
        let blocks = parse_server_json(include_str!(
            "../../fixtures/llama/2026_server_chat_response.json"
        ));
        assert_eq!(blocks.len(), 1);
        let t = &blocks[0].timings;
        assert_eq!(
            (t.prompt_eval_tokens, t.prompt_eval_ms, t.prompt_eval_tps),
            (Some(26), n(93.969), n(276.6869925188094))
        );
        assert_eq!(
            (t.eval_tokens, t.eval_ms, t.eval_ms_per_token, t.eval_tps),
            (Some(16), n(337.365), n(22.491), n(44.462229336178915))
        );
        assert_eq!((t.draft_generated, t.draft_accepted), (None, None));
    }

    #[test]
    fn chat_sse_stream_takes_the_final_chunk() {
        let text = include_str!("../../fixtures/llama/2026_server_chat_stream_sse.txt");
        let blocks = parse_server_json(text);
        assert_eq!(blocks.len(), 1);
        let b = &blocks[0];
        let want_line = text
            .lines()
            .position(|l| l.contains("\"timings\""))
            .map(|i| i + 1);
        assert_eq!(Some(b.line), want_line);
        let t = &b.timings;
        assert_eq!(
            (
                t.prompt_eval_tokens,
                t.prompt_eval_ms,
                t.prompt_eval_ms_per_token
            ),
            (Some(5), n(41.331), n(8.266200000000001))
        );
        assert_eq!(
            (t.eval_tokens, t.eval_ms, t.eval_tps),
            (Some(8), n(158.027), n(44.29622785979611))
        );
    }

    // The literals are copied as the server printed them (17 significant
    // digits), so the test shows the value is read exactly.
    #[allow(clippy::excessive_precision)]
    #[test]
    fn completion_stream_tail_cut_at_the_start() {
        let text = include_str!("../../fixtures/llama/2026_server_completion_stream_tail.txt");
        let blocks = parse_server_json(text);
        assert_eq!(blocks.len(), 1);
        let t = &blocks[0].timings;
        assert_eq!(
            (t.prompt_eval_tokens, t.prompt_eval_ms, t.prompt_eval_tps),
            (Some(1), n(1.875), n(533.3333333333334))
        );
        assert_eq!(
            (t.eval_tokens, t.eval_ms, t.eval_ms_per_token, t.eval_tps),
            (
                Some(16),
                n(36.88),
                n(2.4586666666666668),
                n(406.72451193058566)
            )
        );
    }

    #[test]
    fn speculative_draft_counts_and_running_timings() {
        let text = concat!(
            "data: {\"timings\":{\"prompt_n\":3,\"predicted_n\":1,\"predicted_ms\":5.0}}\n\n",
            "data: {\"timings\":{\"prompt_n\":3,\"predicted_n\":9,\"predicted_ms\":40.5,",
            "\"draft_n\":12,\"draft_n_accepted\":7}}\n\n",
            "data: [DONE]\n\n",
            "data: {\"timings\":{\"prompt_n\":4,\"predicted_n\":2,\"predicted_ms\":8.25}}\n",
        );
        let blocks = parse_server_json(text);
        assert_eq!(blocks.len(), 2);
        let t = &blocks[0].timings;
        assert_eq!(blocks[0].line, 3);
        assert_eq!((t.eval_tokens, t.eval_ms), (Some(9), n(40.5)));
        assert_eq!((t.draft_generated, t.draft_accepted), (Some(12), Some(7)));
        // A stream cut before [DONE] still reports its last timings.
        assert_eq!((blocks[1].line, blocks[1].timings.eval_ms), (7, n(8.25)));
    }

    #[test]
    fn pretty_printed_body_reports_the_key_line() {
        let text = "{\n  \"content\": \"x\",\n  \"timings\": {\n    \"predicted_n\": 4\n  }\n}\n";
        let blocks = parse_server_json(text);
        assert_eq!(blocks.len(), 1);
        assert_eq!(
            (blocks[0].line, blocks[0].timings.eval_tokens),
            (3, Some(4))
        );
    }

    #[test]
    fn nothing_in_garbage_or_bodies_without_timings() {
        assert_eq!(parse_server_json(""), []);
        assert_eq!(parse_server_json("{\"content\":\"hi\"}"), []);
        assert_eq!(
            parse_server_json("data: {\"timings\": 5}\ndata: [DONE]"),
            []
        );
        assert_eq!(parse_server_json("data: {\"timings\":{\"prompt_n\":"), []);
        assert_eq!(parse_server_json("\u{0}\u{ffff}[[[{"), []);
    }

    #[test]
    fn own_run_recordings() {
        use crate::fixtures::read_fixture as read;
        let b = parse_server_json(&read("llama/2026_server_completion_response.json"));
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].timings.eval_tps, n(42.4705396023625));
        assert_eq!(b[0].timings.prompt_eval_ms, n(47.162));
        let b = parse_server_json(&read("llama/2026_server_chat_response.json"));
        assert_eq!(b[0].timings.eval_ms, n(337.365));
        let b = parse_server_json(&read("llama/2026_server_chat_stream_sse.txt"));
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].timings.prompt_eval_tps, n(120.97457114514528));
    }
}
