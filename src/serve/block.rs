//! One block: one server, one seeded schedule, one set of prompts, run to
//! its end, giving every request's record and the block's figures. This is
//! the unit a session-engine driver schedules (A/B alternates blocks).
//!
//! The client runs on a single-threaded tokio runtime made for the block.
//! Open loop: a dispatcher sleeps until each absolute send time and hands
//! the request to its own task, which waits for a client slot when
//! `--max-concurrency` caps them; a dispatcher that wakes late shows as
//! dispatch lag, never as a later schedule. Closed loop: C worker tasks.
//! Ctrl-C stops the dispatching; requests in flight get [`DRAIN`] to end,
//! then are cut off and recorded as interrupted.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use serde::Serialize;
use serde_json::json;
use tokio::sync::{mpsc, watch, Semaphore};

use super::client::{Clock, Endpoint, Pool};
use super::figures::{figures, Figures};
use super::metrics;
use super::prompts::{self, PromptSpec, Prompts};
use super::request::{record, RequestRecord, Trace};
use super::schedule::{send_times, Extent, Load};

/// How long requests in flight may take to end after Ctrl-C.
pub const DRAIN: Duration = Duration::from_secs(10);

/// Keep-alive connections opened before an uncapped open loop starts.
const WARM_CONNECTIONS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    Completion,
    Chat,
}

#[derive(Debug, Clone)]
pub struct BlockSpec {
    pub index: usize,
    pub api: Api,
    pub load: Load,
    pub extent: Extent,
    pub warmup: usize,
    pub max_tokens: u64,
    pub prompts: PromptSpec,
    pub seed: u64,
    /// The OpenAI `model` field (chat), from `/v1/models`.
    pub model: Option<String>,
    pub request_timeout: Duration,
}

/// What a block gave.
#[derive(Debug, Clone)]
pub struct BlockResult {
    pub records: Vec<RequestRecord>,
    pub figures: Figures,
    pub metrics: Option<BTreeMap<String, f64>>,
    pub interrupted: bool,
    pub warnings: Vec<String>,
}

struct Ctx {
    pool: Pool,
    prompts: Prompts,
    spec: BlockSpec,
    clock: Clock,
    abort: watch::Receiver<bool>,
    out: mpsc::UnboundedSender<RequestRecord>,
}

impl Ctx {
    fn body(&self, i: usize) -> Bytes {
        let p = self.prompts.get(i);
        let n = self.spec.max_tokens;
        let cache = self.prompts.cache_prompt;
        let v = match self.spec.api {
            Api::Completion => {
                json!({"prompt": p, "n_predict": n, "stream": true, "ignore_eos": true,
                "cache_prompt": cache, "return_tokens": true})
            }
            Api::Chat => json!({"model": self.spec.model.clone().unwrap_or_default(),
                "messages": [{"role": "user", "content": p}], "max_tokens": n, "stream": true,
                "stream_options": {"include_usage": true}, "ignore_eos": true, "cache_prompt": cache}),
        };
        Bytes::from(v.to_string())
    }

    fn path(&self) -> &'static str {
        match self.spec.api {
            Api::Completion => "/completion",
            Api::Chat => "/v1/chat/completions",
        }
    }

    /// Sends request `i` (after its client slot, if any) and records it.
    async fn one(
        &self,
        i: usize,
        intended_ms: f64,
        slots: Option<Arc<Semaphore>>,
        warmup: bool,
    ) -> RequestRecord {
        let dispatched_ms = self.clock.ms();
        let _permit = match slots {
            Some(s) => s.acquire_owned().await.ok(),
            None => None,
        };
        let mut t = Trace {
            intended_ms,
            dispatched_ms,
            slot_ms: self.clock.ms(),
            ..Trace::default()
        };
        let mut abort = self.abort.clone();
        let timeout = self.spec.request_timeout;
        let chat = self.spec.api == Api::Chat;
        let send = self
            .pool
            .stream(self.path(), self.body(i), chat, self.clock, &mut t);
        // Some(timed out) or None when cut off by Ctrl-C.
        let ended = tokio::select! {
            r = tokio::time::timeout(timeout, send) => Some(r.is_err()),
            _ = abort.wait_for(|a| *a) => None,
        };
        match ended {
            Some(true) => {
                let why = format!("no end within {}", humantime::format_duration(timeout));
                t.error = Some(("timeout".into(), why));
            }
            None => {
                t.error = Some((
                    "interrupted".into(),
                    "cut off after Ctrl-C and the drain time".into(),
                ))
            }
            Some(false) => {}
        }
        record(t, self.spec.index, i, warmup, self.spec.max_tokens)
    }
}

fn interrupted() -> bool {
    crate::runner::interrupt::received().is_some()
}

/// Sleeps until `at_ms` on the block clock, waking to look for Ctrl-C;
/// false when interrupted.
async fn sleep_until(clock: Clock, at_ms: f64) -> bool {
    loop {
        if interrupted() {
            return false;
        }
        let left = at_ms - clock.ms();
        if left <= 0.0 {
            return true;
        }
        let step = Duration::from_secs_f64(left.min(50.0) / 1000.0);
        tokio::time::sleep_until(tokio::time::Instant::now() + step).await;
    }
}

async fn open_loop(ctx: Arc<Ctx>, times: Vec<f64>, base_ms: f64, cap: Option<usize>) {
    let slots = cap.map(|c| Arc::new(Semaphore::new(c)));
    for (i, t) in times.into_iter().enumerate() {
        let at = base_ms + t * 1000.0;
        if !sleep_until(ctx.clock, at).await {
            return;
        }
        let (ctx, slots) = (Arc::clone(&ctx), slots.clone());
        tokio::spawn(async move {
            let r = ctx.one(ctx.spec.warmup + i, at, slots, false).await;
            let _ = ctx.out.send(r);
        });
    }
}

async fn closed_loop(ctx: Arc<Ctx>, concurrency: usize, base_ms: f64) {
    let next = Arc::new(AtomicUsize::new(0));
    for _ in 0..concurrency {
        let (ctx, next) = (Arc::clone(&ctx), Arc::clone(&next));
        tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let more = match ctx.spec.extent {
                    Extent::Requests(n) => i < n,
                    Extent::Duration(d) => ctx.clock.ms() - base_ms < d.as_secs_f64() * 1000.0,
                };
                if !more || interrupted() {
                    return;
                }
                let r = ctx
                    .one(ctx.spec.warmup + i, ctx.clock.ms(), None, false)
                    .await;
                let _ = ctx.out.send(r);
            }
        });
    }
}

/// Collects records as they end (handing each to `sink`), cutting off what
/// is still in flight [`DRAIN`] after Ctrl-C.
async fn collect(
    mut rx: mpsc::UnboundedReceiver<RequestRecord>,
    abort: watch::Sender<bool>,
    sink: &mut dyn FnMut(&RequestRecord),
) -> (Vec<RequestRecord>, bool) {
    let mut out = Vec::new();
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let tick = tokio::time::sleep(Duration::from_millis(100));
        tokio::select! {
            r = rx.recv() => match r {
                Some(r) => { sink(&r); out.push(r); }
                None => return (out, deadline.is_some() || interrupted()),
            },
            _ = tick => {
                let now = tokio::time::Instant::now();
                match deadline {
                    None if interrupted() => deadline = Some(now + DRAIN),
                    Some(d) if now >= d => { let _ = abort.send(true); }
                    _ => {}
                }
            }
        }
    }
}

async fn read_metrics(pool: &Pool) -> Option<BTreeMap<String, f64>> {
    match pool.text("GET", "/metrics", None).await {
        Ok((200, text)) => Some(metrics::counters(&text)),
        _ => None,
    }
}

/// Expected request count, for building prompts ahead.
fn expected(spec: &BlockSpec, times: &[f64]) -> usize {
    match (spec.load, spec.extent) {
        (Load::Open { .. }, _) => times.len(),
        (_, Extent::Requests(n)) => n,
        (_, Extent::Duration(_)) => prompts::MAX_BODIES,
    }
}

async fn run_async(
    endpoint: Endpoint,
    spec: BlockSpec,
    sink: &mut dyn FnMut(&RequestRecord),
) -> Result<BlockResult> {
    let pool = Pool::new(endpoint);
    let mut warnings = Vec::new();
    let times = match spec.load {
        Load::Open { rate, arrival, .. } => send_times(arrival, rate, spec.extent, spec.seed),
        Load::Closed { .. } => Vec::new(),
    };
    let prompts = prompts::build(
        &pool,
        &spec.prompts,
        spec.warmup + expected(&spec, &times),
        spec.seed,
        spec.api == Api::Chat,
    )
    .await?;
    warnings.extend(prompts.notes.iter().cloned());
    let conns = match spec.load {
        Load::Open {
            max_concurrency, ..
        } => max_concurrency.unwrap_or(WARM_CONNECTIONS),
        Load::Closed { concurrency } => concurrency,
    };
    pool.warm(conns).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let (abort_tx, abort_rx) = watch::channel(false);
    let ctx = Arc::new(Ctx {
        pool: pool.clone(),
        prompts,
        spec: spec.clone(),
        clock: Clock(std::time::Instant::now()),
        abort: abort_rx,
        out: tx,
    });
    let mut records = Vec::new();
    for i in 0..spec.warmup {
        let r = ctx.one(i, ctx.clock.ms(), None, true).await;
        sink(&r);
        records.push(r);
    }
    let before = read_metrics(&pool).await;
    let base_ms = ctx.clock.ms() + 20.0;
    match spec.load {
        Load::Open {
            max_concurrency, ..
        } => {
            tokio::spawn(open_loop(Arc::clone(&ctx), times, base_ms, max_concurrency));
        }
        Load::Closed { concurrency } => {
            tokio::spawn(closed_loop(Arc::clone(&ctx), concurrency, base_ms));
        }
    }
    drop(ctx);
    let (measured, interrupted) = collect(rx, abort_tx, sink).await;
    records.extend(measured);
    let after = read_metrics(&pool).await;
    let metrics = before.zip(after).map(|(b, a)| metrics::deltas(&b, &a));
    if metrics.is_none() {
        warnings.push(
            "/metrics: not available (start llama-server with --metrics for counter deltas)"
                .to_string(),
        );
    }
    records.sort_by_key(|r| r.index);
    let figures = figures(&records, spec.load.rate());
    Ok(BlockResult {
        records,
        figures,
        metrics,
        interrupted,
        warnings,
    })
}

/// Runs one block against `endpoint`; `sink` sees every request record as it ends.
pub fn run(
    endpoint: &Endpoint,
    spec: &BlockSpec,
    sink: &mut dyn FnMut(&RequestRecord),
) -> Result<BlockResult> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run_async(endpoint.clone(), spec.clone(), sink))
}
