//! Server-sent events from llama-server's streaming endpoints, parsed
//! incrementally (bytes arrive in arbitrary pieces) and read into chunks.
//!
//! What a chunk means depends on the endpoint. `/completion` chunks carry
//! `content` and, when asked with `return_tokens`, the `tokens` they hold, so
//! a multi-token chunk (speculative decoding) is counted right; the last one
//! has `stop`, `stop_type` and `timings`. `/v1/chat/completions` starts with a
//! role-only chunk (no content: not a first token), sends no token counts
//! per chunk, ends with `finish_reason`, then a `usage` + `timings` chunk and
//! `data: [DONE]`.

use serde::{Deserialize, Serialize};

/// Splits a byte stream into the `data:` payloads of complete events.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
}

impl SseParser {
    /// Adds bytes; returns the data of every event completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some((end, sep)) = event_end(&self.buf) {
            let event: Vec<u8> = self.buf.drain(..end + sep).take(end).collect();
            if let Some(data) = event_data(&event) {
                out.push(data);
            }
        }
        out
    }

    /// Bytes left that did not make a complete event.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Where the first event ends (a blank line: `\n\n` or `\r\n\r\n`).
fn event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The joined `data:` lines of one event; None for comments and empty events.
fn event_data(event: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(event);
    let lines: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The server's own timing of one request (the last chunk's `timings`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerTimings {
    #[serde(default)]
    pub cache_n: Option<u64>,
    #[serde(default)]
    pub prompt_n: Option<u64>,
    #[serde(default)]
    pub prompt_ms: Option<f64>,
    #[serde(default)]
    pub predicted_n: Option<u64>,
    #[serde(default)]
    pub predicted_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_n: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_n_accepted: Option<u64>,
}

/// What one chunk said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chunk {
    /// Text generated in this chunk ("" for role-only and final chunks).
    pub content: String,
    /// Tokens this chunk carried, when the server says (`/completion` with
    /// `return_tokens`).
    pub tokens: Option<usize>,
    /// `stop_type` (`/completion`) or `finish_reason` (chat) when it ended.
    pub stop: Option<String>,
    pub timings: Option<ServerTimings>,
    /// Output tokens the server counted (`tokens_predicted`, `usage.completion_tokens`).
    pub predicted: Option<u64>,
    /// `[DONE]`.
    pub done: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ChunkError {
    #[error("stream chunk is not JSON ({why}): '{data}'")]
    NotJson { why: String, data: String },
    #[error("server sent an error in the stream: {0}")]
    Server(String),
}

/// Reads one event's data for the given endpoint.
pub fn read_chunk(data: &str, chat: bool) -> Result<Chunk, ChunkError> {
    if data.trim() == "[DONE]" {
        return Ok(Chunk {
            done: true,
            ..Chunk::default()
        });
    }
    let v: serde_json::Value = serde_json::from_str(data).map_err(|e| ChunkError::NotJson {
        why: e.to_string(),
        data: data.chars().take(200).collect(),
    })?;
    if let Some(err) = v.get("error") {
        return Err(ChunkError::Server(err.to_string()));
    }
    let timings = v
        .get("timings")
        .and_then(|t| serde_json::from_value(t.clone()).ok());
    let mut c = if chat {
        chat_chunk(&v)
    } else {
        completion_chunk(&v)
    };
    c.timings = timings;
    Ok(c)
}

fn completion_chunk(v: &serde_json::Value) -> Chunk {
    let stopped = v.get("stop").and_then(|s| s.as_bool()).unwrap_or(false);
    Chunk {
        content: str_field(v, "content"),
        tokens: v.get("tokens").and_then(|t| t.as_array()).map(|a| a.len()),
        stop: stopped.then(|| {
            v.get("stop_type")
                .and_then(|s| s.as_str())
                .unwrap_or("unknown")
                .to_string()
        }),
        predicted: stopped
            .then(|| v.get("tokens_predicted").and_then(|n| n.as_u64()))
            .flatten(),
        ..Chunk::default()
    }
}

fn chat_chunk(v: &serde_json::Value) -> Chunk {
    let choice = v.get("choices").and_then(|c| c.get(0));
    let delta = choice.and_then(|c| c.get("delta"));
    Chunk {
        content: delta.map(|d| str_field(d, "content")).unwrap_or_default(),
        stop: choice
            .and_then(|c| c.get("finish_reason"))
            .and_then(|f| f.as_str())
            .map(str::to_string),
        predicted: v
            .get("usage")
            .and_then(|u| u.get("completion_tokens"))
            .and_then(|n| n.as_u64()),
        ..Chunk::default()
    }
}

fn str_field(v: &serde_json::Value, key: &str) -> String {
    v.get(key)
        .and_then(|s| s.as_str())
        .unwrap_or_default()
        .to_string()
}

/// Whether a stop reason means the asked length was reached.
pub fn is_limit(stop: &str) -> bool {
    matches!(stop, "limit" | "length")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The H200 recordings of `../shared/samples/cuda-h200/server-2026-12/`,
    /// copied into `fixtures/serve/`.
    fn sample(name: &str) -> String {
        crate::fixtures::read_fixture(&format!("serve/{name}"))
    }

    #[test]
    fn events_split_across_pieces_are_joined() {
        let mut p = SseParser::default();
        assert!(p.push(b"data: {\"a\"").is_empty());
        assert_eq!(
            p.push(b":1}\n\ndata: x\r\n\r\n: comment\n\n"),
            vec!["{\"a\":1}", "x"]
        );
        assert_eq!(p.pending(), 0);
        assert_eq!(p.push(b"data: [DONE]\n\ndata: tail"), vec!["[DONE]"]);
        assert_eq!(p.pending(), 10);
    }

    #[test]
    fn completion_chunks_count_tokens_and_read_the_end() {
        let c = read_chunk(r#"{"content":"ab","tokens":[1,2],"stop":false}"#, false).unwrap();
        assert_eq!(
            (c.content.as_str(), c.tokens, c.stop),
            ("ab", Some(2), None)
        );
        let end = r#"{"content":"","tokens":[],"stop":true,"stop_type":"eos","tokens_predicted":7,
            "timings":{"cache_n":0,"prompt_n":5,"prompt_ms":9.5,"predicted_n":7,"predicted_ms":55.0}}"#;
        let c = read_chunk(end, false).unwrap();
        assert_eq!(c.stop.as_deref(), Some("eos"));
        assert_eq!(c.predicted, Some(7));
        let t = c.timings.unwrap();
        assert_eq!(
            (t.prompt_n, t.prompt_ms, t.predicted_n),
            (Some(5), Some(9.5), Some(7))
        );
    }

    #[test]
    fn chat_role_only_chunk_has_no_content() {
        let role = r#"{"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}]}"#;
        let c = read_chunk(role, true).unwrap();
        assert_eq!((c.content.as_str(), c.stop, c.tokens), ("", None, None));
        assert!(read_chunk("[DONE]", true).unwrap().done);
        assert!(matches!(
            read_chunk("{oops", true),
            Err(ChunkError::NotJson { .. })
        ));
        assert!(matches!(
            read_chunk(r#"{"error":{"message":"boom"}}"#, false),
            Err(ChunkError::Server(_))
        ));
    }

    #[test]
    fn recorded_h200_streams_read_exactly() {
        let (comp, chat) = (sample("completion_stream.txt"), sample("chat_stream.txt"));
        let chunks: Vec<Chunk> = SseParser::default()
            .push(comp.as_bytes())
            .iter()
            .map(|d| read_chunk(d, false).unwrap())
            .collect();
        let tokens: usize = chunks.iter().filter_map(|c| c.tokens).sum();
        let last = chunks.last().unwrap();
        assert_eq!(
            (tokens, last.stop.as_deref(), last.predicted),
            (32, Some("limit"), Some(32))
        );
        assert_eq!(last.timings.as_ref().unwrap().prompt_ms, Some(9.644));
        let chat: Vec<Chunk> = SseParser::default()
            .push(chat.as_bytes())
            .iter()
            .map(|d| read_chunk(d, true).unwrap())
            .collect();
        assert_eq!(chat[0].content, "");
        assert!(chat.last().unwrap().done);
        let usage = chat.iter().find(|c| c.predicted.is_some()).unwrap();
        assert_eq!(usage.predicted, Some(32));
        assert_eq!(usage.timings.as_ref().unwrap().prompt_n, Some(24));
        assert!(chat.iter().any(|c| c.stop.as_deref() == Some("length")));
    }
}
