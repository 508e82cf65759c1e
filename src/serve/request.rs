//! One request as measured: its timestamps (milliseconds from the block's
//! start, on a monotonic clock), what the stream said, and the per-request
//! figures derived from them. Pure: the client fills a [`Trace`], this file
//! turns it into a [`RequestRecord`].

use serde::Serialize;

use super::sse::{is_limit, ServerTimings};

/// How far client TTFT (from the actual send) may fall below the server's
/// own `prompt_ms` before the two are said to disagree: the client cannot
/// see a first token before the prompt was processed.
pub const TTFT_BELOW_PROMPT_MS: f64 = 5.0;

/// Raw observations of one request, as the client made them.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub intended_ms: f64,
    /// When the request was taken up by the client (its dispatcher woke).
    pub dispatched_ms: f64,
    /// When it got a client slot (`--max-concurrency`); = dispatched without one.
    pub slot_ms: f64,
    pub send_ms: Option<f64>,
    pub headers_ms: Option<f64>,
    pub first_chunk_ms: Option<f64>,
    /// Every chunk with content: (arrival, tokens it carried if the server said).
    pub content: Vec<(f64, Option<usize>)>,
    pub end_ms: Option<f64>,
    pub stop: Option<String>,
    pub predicted: Option<u64>,
    pub timings: Option<ServerTimings>,
    pub http_status: Option<u16>,
    /// (kind, message) of a failure: connect, http_NNN, timeout, stream, interrupted.
    pub error: Option<(String, String)>,
}

/// One request in the results (`kind: serve_request`).
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    pub kind: &'static str,
    pub block: usize,
    pub index: usize,
    pub warmup: bool,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub intended_ms: f64,
    pub send_ms: Option<f64>,
    pub headers_ms: Option<f64>,
    pub first_chunk_ms: Option<f64>,
    pub first_content_ms: Option<f64>,
    pub end_ms: Option<f64>,
    /// Arrival of every content chunk.
    pub chunk_ms: Vec<f64>,
    /// Tokens per content chunk: the server's count, or spread evenly (chat).
    pub chunk_tokens: Vec<f64>,
    pub tokens_per_chunk_known: bool,
    pub output_tokens: Option<u64>,
    pub stop_type: Option<String>,
    pub early_stop: bool,
    pub timings: Option<ServerTimings>,
    pub ttft_ms: Option<f64>,
    pub ttft_from_send_ms: Option<f64>,
    pub e2e_ms: Option<f64>,
    pub e2e_from_send_ms: Option<f64>,
    pub tpot_ms: Option<f64>,
    /// Waiting for a client slot (`--max-concurrency`).
    pub client_queue_ms: f64,
    /// The client's own lateness: actual send minus intended, less the slot wait.
    pub dispatch_lag_ms: Option<f64>,
    /// Client TTFT (from send) minus the server's `prompt_ms`: queue plus network.
    pub server_queue_est_ms: Option<f64>,
    pub flags: Vec<String>,
}

impl RequestRecord {
    pub fn ok(&self) -> bool {
        self.status == "ok"
    }

    /// Counted in the per-token figures: completed at the asked length.
    pub fn full_length(&self) -> bool {
        self.ok() && !self.early_stop
    }

    /// Inter-token latencies per token: the gap before each content chunk
    /// after the first, divided among the tokens that chunk carried.
    pub fn itl_ms(&self) -> Vec<f64> {
        let mut out = Vec::new();
        for (i, w) in self.chunk_ms.windows(2).enumerate() {
            let k = self.chunk_tokens[i + 1];
            if k <= 0.0 {
                continue;
            }
            let whole = k.round().max(1.0) as usize;
            out.extend(std::iter::repeat_n((w[1] - w[0]) / k, whole));
        }
        out
    }
}

/// Tokens per content chunk: the server's counts when every chunk had one,
/// else the server's total spread evenly over the chunks (chat sends none).
fn chunk_tokens(t: &Trace, total: Option<u64>) -> (Vec<f64>, bool) {
    let known: Option<Vec<f64>> = t.content.iter().map(|c| c.1.map(|k| k as f64)).collect();
    if let Some(k) = known {
        return (k, true);
    }
    let n = t.content.len().max(1) as f64;
    let each = total.map(|x| x as f64 / n).unwrap_or(1.0);
    (vec![each; t.content.len()], false)
}

fn sub(a: Option<f64>, b: f64) -> Option<f64> {
    a.map(|a| a - b)
}

/// Builds the record of a finished (or failed) request.
pub fn record(
    t: Trace,
    block: usize,
    index: usize,
    warmup: bool,
    max_tokens: u64,
) -> RequestRecord {
    let (chunk_tokens, known) = chunk_tokens(&t, t.predicted);
    let counted: f64 = chunk_tokens.iter().sum();
    let output = t
        .predicted
        .or(t.timings.as_ref().and_then(|x| x.predicted_n))
        .or((known || t.content.is_empty()).then_some(counted.round() as u64));
    let first_content = t.content.first().map(|c| c.0);
    let last_content = t.content.last().map(|c| c.0);
    let ok = t.error.is_none() && t.end_ms.is_some();
    let early = ok
        && (t.stop.as_deref().is_some_and(|s| !is_limit(s))
            || output.is_some_and(|n| n < max_tokens));
    let tpot = match (first_content, last_content, output) {
        (Some(a), Some(b), Some(n)) if n > 1 => Some((b - a) / (n - 1) as f64),
        _ => None,
    };
    let ttft_from_send = t.send_ms.and_then(|s| sub(first_content, s));
    let prompt_ms = t.timings.as_ref().and_then(|x| x.prompt_ms);
    let mut rec = RequestRecord {
        kind: "serve_request",
        block,
        index,
        warmup,
        status: if ok { "ok" } else { "error" },
        error_kind: t.error.as_ref().map(|e| e.0.clone()),
        error: t.error.as_ref().map(|e| e.1.clone()),
        intended_ms: t.intended_ms,
        send_ms: t.send_ms,
        headers_ms: t.headers_ms,
        first_chunk_ms: t.first_chunk_ms,
        first_content_ms: first_content,
        end_ms: t.end_ms,
        chunk_ms: t.content.iter().map(|c| c.0).collect(),
        chunk_tokens,
        tokens_per_chunk_known: known,
        output_tokens: output,
        stop_type: t.stop.clone(),
        early_stop: early,
        ttft_ms: sub(first_content, t.intended_ms),
        ttft_from_send_ms: ttft_from_send,
        e2e_ms: sub(t.end_ms, t.intended_ms),
        e2e_from_send_ms: t.send_ms.and_then(|s| sub(t.end_ms, s)),
        tpot_ms: tpot,
        client_queue_ms: t.slot_ms - t.dispatched_ms,
        dispatch_lag_ms: t
            .send_ms
            .map(|s| s - t.intended_ms - (t.slot_ms - t.dispatched_ms)),
        server_queue_est_ms: ttft_from_send.zip(prompt_ms).map(|(a, b)| a - b),
        timings: t.timings,
        flags: Vec::new(),
    };
    rec.flags = flags(&rec, max_tokens);
    rec
}

/// Remarks on one request: early stops, cache hits, disagreeing clocks.
fn flags(r: &RequestRecord, max_tokens: u64) -> Vec<String> {
    let mut out = Vec::new();
    if r.early_stop {
        let why = r.stop_type.as_deref().unwrap_or("unknown");
        let n = r.output_tokens.map(|n| n.to_string()).unwrap_or("?".into());
        out.push(format!(
            "early stop: {n} of {max_tokens} tokens, stop_type '{why}'"
        ));
    }
    if let Some(c) = r
        .timings
        .as_ref()
        .and_then(|t| t.cache_n)
        .filter(|&c| c > 0)
    {
        out.push(format!("cache hit: {c} prompt tokens from the cache"));
    }
    if let Some(q) = r.server_queue_est_ms.filter(|&q| q < -TTFT_BELOW_PROMPT_MS) {
        out.push(format!(
            "client TTFT is {:.1} ms below the server's prompt_ms: the clocks disagree",
            -q
        ));
    }
    if r.ok() && r.first_content_ms.is_none() {
        out.push("no content chunk".to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace() -> Trace {
        Trace {
            intended_ms: 100.0,
            dispatched_ms: 101.0,
            slot_ms: 151.0,
            send_ms: Some(152.0),
            headers_ms: Some(153.0),
            first_chunk_ms: Some(160.0),
            content: vec![
                (200.0, Some(1)),
                (220.0, Some(1)),
                (260.0, Some(2)),
                (280.0, Some(1)),
            ],
            end_ms: Some(281.0),
            stop: Some("limit".into()),
            predicted: Some(5),
            timings: Some(ServerTimings {
                prompt_ms: Some(40.0),
                cache_n: Some(0),
                ..ServerTimings::default()
            }),
            ..Trace::default()
        }
    }

    #[test]
    fn figures_from_intended_and_from_send() {
        let r = record(trace(), 0, 3, false, 5);
        assert_eq!(r.ttft_ms, Some(100.0));
        assert_eq!(r.ttft_from_send_ms, Some(48.0));
        assert_eq!(r.e2e_ms, Some(181.0));
        assert_eq!(r.e2e_from_send_ms, Some(129.0));
        assert_eq!(r.client_queue_ms, 50.0);
        assert_eq!(r.dispatch_lag_ms, Some(2.0));
        assert_eq!(r.tpot_ms, Some(20.0));
        assert_eq!(r.server_queue_est_ms, Some(8.0));
        assert!(!r.early_stop && r.flags.is_empty(), "{:?}", r.flags);
    }

    #[test]
    fn multi_token_chunk_spreads_its_gap() {
        let r = record(trace(), 0, 0, false, 5);
        assert_eq!(r.itl_ms(), vec![20.0, 20.0, 20.0, 20.0]);
    }

    #[test]
    fn chat_without_counts_spreads_the_total() {
        let mut t = trace();
        t.content = vec![(200.0, None), (230.0, None), (260.0, None)];
        t.predicted = Some(6);
        let r = record(t, 0, 0, false, 6);
        assert!(!r.tokens_per_chunk_known);
        assert_eq!(r.chunk_tokens, vec![2.0, 2.0, 2.0]);
        assert_eq!(r.itl_ms(), vec![15.0, 15.0, 15.0, 15.0]);
    }

    #[test]
    fn early_stop_and_cache_hit_are_flagged() {
        let mut t = trace();
        t.stop = Some("eos".into());
        t.timings.as_mut().unwrap().cache_n = Some(12);
        let r = record(t, 0, 0, false, 128);
        assert!(r.early_stop && !r.full_length());
        assert!(r.flags[0].starts_with("early stop: 5 of 128 tokens, stop_type 'eos'"));
        assert!(r.flags[1].contains("cache hit: 12"));
    }

    #[test]
    fn ttft_below_server_prompt_time_is_flagged() {
        let mut t = trace();
        t.timings.as_mut().unwrap().prompt_ms = Some(90.0);
        let r = record(t, 0, 0, false, 5);
        assert!(
            r.flags.iter().any(|f| f.contains("42.0 ms below")),
            "{:?}",
            r.flags
        );
    }

    #[test]
    fn failed_request_has_no_figures() {
        let t = Trace {
            intended_ms: 5.0,
            error: Some(("connect".into(), "refused".into())),
            ..Trace::default()
        };
        let r = record(t, 1, 2, false, 5);
        assert_eq!((r.status, r.ttft_ms, r.e2e_ms), ("error", None, None));
        assert_eq!(r.error_kind.as_deref(), Some("connect"));
    }
}
