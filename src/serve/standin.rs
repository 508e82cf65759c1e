//! A stand-in llama-server, in process (hyper on its own thread and
//! runtime), with planted timings: a number of slots (requests beyond them
//! queue), prompt time, time per token, multi-token chunks, early stops and
//! a `/health` that answers 503 for a while, as a loading server does. It
//! speaks what tokbench reads: SSE on `/completion` and
//! `/v1/chat/completions` (a role-only first chunk, then content, then
//! `usage` + `timings` and `[DONE]`), `/health`, `/props`, `/v1/models`,
//! `/metrics` (counters and a gauge), `/tokenize` and `/detokenize` (one
//! token per whitespace-separated word). Tests plant numbers in it and check
//! that tokbench finds them; `tokbench serve --standin` measures the
//! client's own overhead against it. `Standin::start_tls` serves the same
//! over TLS (a certificate the caller gives, e.g. one made in a test), and
//! the stand-in counts the connections (and TLS handshakes) it accepted, so
//! a test can check that keep-alive holds.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Semaphore};

/// What the stand-in plants.
#[derive(Debug, Clone, PartialEq)]
pub struct StandinConfig {
    pub slots: usize,
    /// Fixed prompt time per request, plus `prompt_ms_per_token` per prompt word.
    pub prompt_ms: f64,
    pub prompt_ms_per_token: f64,
    pub token_ms: f64,
    /// Every n-th chunk carries two tokens (0: never).
    pub multi_every: usize,
    /// Every n-th request stops at half its length with `eos` (0: never).
    pub early_stop_every: usize,
    /// `/health` answers 503 for this long after the start.
    pub unhealthy: Duration,
}

impl Default for StandinConfig {
    fn default() -> Self {
        StandinConfig {
            slots: 4,
            prompt_ms: 0.0,
            prompt_ms_per_token: 0.0,
            token_ms: 0.0,
            multi_every: 0,
            early_stop_every: 0,
            unhealthy: Duration::ZERO,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("--standin '{spec}': {why}; write e.g. 'slots=4,prompt_ms=50,token_ms=20' (keys: slots, prompt_ms, prompt_ms_per_token, token_ms, multi_every, early_stop_every, unhealthy_ms)")]
pub struct StandinSpecError {
    pub spec: String,
    pub why: String,
}

impl std::str::FromStr for StandinConfig {
    type Err = StandinSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let err = |why: String| StandinSpecError {
            spec: spec.to_string(),
            why,
        };
        let mut c = StandinConfig::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| err(format!("'{part}' is not KEY=VALUE")))?;
            let x: f64 = v
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| err(format!("'{v}' is not a number of 0 or more")))?;
            match k {
                "slots" if x >= 1.0 => c.slots = x as usize,
                "prompt_ms" => c.prompt_ms = x,
                "prompt_ms_per_token" => c.prompt_ms_per_token = x,
                "token_ms" => c.token_ms = x,
                "multi_every" => c.multi_every = x as usize,
                "early_stop_every" => c.early_stop_every = x as usize,
                "unhealthy_ms" => c.unhealthy = Duration::from_secs_f64(x / 1000.0),
                _ => return Err(err(format!("'{k}={v}' is not a known key or value"))),
            }
        }
        Ok(c)
    }
}

#[derive(Default)]
struct Counters {
    prompt_tokens: AtomicU64,
    predicted: AtomicU64,
    decodes: AtomicU64,
    processing: AtomicU64,
    requests: AtomicU64,
}

struct State {
    cfg: StandinConfig,
    started: Instant,
    slots: Arc<Semaphore>,
    counters: Counters,
    vocab: Mutex<(Vec<String>, HashMap<String, u64>)>,
    last_prompt: Mutex<Vec<String>>,
}

/// A running stand-in; stopped when dropped.
pub struct Standin {
    pub port: u16,
    tls: bool,
    /// Connections accepted (over TLS: handshakes completed).
    connections: Arc<AtomicU64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What one listener does with a connection.
#[derive(Clone)]
struct Listener {
    state: Arc<State>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    connections: Arc<AtomicU64>,
}

impl Standin {
    /// Starts on a free port of 127.0.0.1.
    pub fn start(cfg: StandinConfig) -> std::io::Result<Standin> {
        Standin::start_on(cfg, 0)
    }

    /// Starts on `port` of 127.0.0.1 (0: a free one), as the stand-in
    /// server executable of the tests does with the `--port` it is given.
    pub fn start_on(cfg: StandinConfig, port: u16) -> std::io::Result<Standin> {
        Standin::launch(cfg, port, None)
    }

    /// Starts on a free port of 127.0.0.1, serving https with this PEM certificate chain and key.
    pub fn start_tls(
        cfg: StandinConfig,
        cert_pem: &str,
        key_pem: &str,
    ) -> std::io::Result<Standin> {
        let c = super::tls::server_config(cert_pem, key_pem).map_err(std::io::Error::other)?;
        Standin::launch(cfg, 0, Some(tokio_rustls::TlsAcceptor::from(c)))
    }

    fn launch(
        cfg: StandinConfig,
        port: u16,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> std::io::Result<Standin> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let state = Arc::new(State {
            slots: Arc::new(Semaphore::new(cfg.slots)),
            cfg,
            started: Instant::now(),
            counters: Counters::default(),
            vocab: Mutex::new((Vec::new(), HashMap::new())),
            last_prompt: Mutex::new(Vec::new()),
        });
        let connections = Arc::new(AtomicU64::new(0));
        let tls_on = tls.is_some();
        let l = Listener {
            state,
            tls,
            connections: Arc::clone(&connections),
        };
        let thread = std::thread::Builder::new()
            .name("tokbench-standin".into())
            .spawn(move || rt.block_on(accept(listener, l, rx)))?;
        Ok(Standin {
            port,
            tls: tls_on,
            connections,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` over TLS (the name a test certificate carries).
    pub fn url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}", self.port)
        } else {
            format!("http://127.0.0.1:{}", self.port)
        }
    }

    /// Connections accepted so far (over TLS: handshakes completed).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept(
    listener: std::net::TcpListener,
    l: Listener,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stop => return,
            conn = listener.accept() => {
                let Ok((stream, _)) = conn else { continue };
                let _ = stream.set_nodelay(true);
                tokio::spawn(l.clone().serve(stream));
            }
        }
    }
}

impl Listener {
    async fn serve(self, stream: tokio::net::TcpStream) {
        let Some(tls) = &self.tls else {
            self.connections.fetch_add(1, Ordering::SeqCst);
            return serve_http(self.state, stream).await;
        };
        // A client that does not trust the certificate ends the handshake: not a connection.
        let Ok(stream) = tls.accept(stream).await else {
            return;
        };
        self.connections.fetch_add(1, Ordering::SeqCst);
        serve_http(self.state, stream).await
    }
}

async fn serve_http<T>(state: Arc<State>, io: T)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req| handle(Arc::clone(&state), req));
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), svc)
        .await;
}

/// A response body: all at once, or streamed from a channel.
pub enum StandinBody {
    Once(Option<Bytes>),
    Chan(mpsc::Receiver<Bytes>),
}

impl hyper::body::Body for StandinBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            StandinBody::Once(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            StandinBody::Chan(rx) => rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b)))),
        }
    }
}

fn reply(status: u16, body: Value) -> Response<StandinBody> {
    let mut r = Response::new(StandinBody::Once(Some(Bytes::from(body.to_string()))));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    r
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<StandinBody>, Infallible> {
    let path = req.uri().path().to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok(match path.as_str() {
        "/health" if state.started.elapsed() < state.cfg.unhealthy => reply(
            503,
            json!({"error": {"code": 503, "message": "Loading model"}}),
        ),
        "/health" => reply(200, json!({"status": "ok"})),
        "/props" => reply(200, props(&state)),
        "/v1/models" => reply(
            200,
            json!({"data": [{"id": "standin", "meta": {"n_ctx_train": 4096}}]}),
        ),
        "/metrics" => Response::new(StandinBody::Once(Some(Bytes::from(metrics(&state))))),
        "/tokenize" => reply(
            200,
            json!({"tokens": tokenize(&state, json["content"].as_str().unwrap_or(""))}),
        ),
        "/detokenize" => reply(200, json!({"content": detokenize(&state, &json["tokens"])})),
        // A chat template of two words around the message.
        "/apply-template" => reply(
            200,
            json!({"prompt": template(json["messages"][0]["content"].as_str().unwrap_or(""))}),
        ),
        "/completion" => generate(state, &json, false),
        "/v1/chat/completions" => generate(state, &json, true),
        _ => reply(
            404,
            json!({"error": {"code": 404, "message": "File Not Found"}}),
        ),
    })
}

fn props(state: &State) -> Value {
    json!({
        "total_slots": state.cfg.slots,
        "build_info": "tokbench-standin",
        "model_path": "standin.gguf",
        "default_generation_settings": {"n_ctx": 4096},
    })
}

fn metrics(state: &State) -> String {
    let c = &state.counters;
    let mut out = String::new();
    for (name, kind, v) in [
        (
            "prompt_tokens_total",
            "counter",
            c.prompt_tokens.load(Ordering::SeqCst),
        ),
        (
            "tokens_predicted_total",
            "counter",
            c.predicted.load(Ordering::SeqCst),
        ),
        (
            "n_decode_total",
            "counter",
            c.decodes.load(Ordering::SeqCst),
        ),
        (
            "requests_processing",
            "gauge",
            c.processing.load(Ordering::SeqCst),
        ),
    ] {
        out.push_str(&format!(
            "# TYPE llamacpp:{name} {kind}\nllamacpp:{name} {v}\n"
        ));
    }
    out
}

fn tokenize(state: &State, text: &str) -> Vec<u64> {
    let Ok(mut v) = state.vocab.lock() else {
        return Vec::new();
    };
    let (words, ids) = &mut *v;
    text.split_whitespace()
        .map(|w| {
            *ids.entry(w.to_string()).or_insert_with(|| {
                words.push(w.to_string());
                words.len() as u64 - 1
            })
        })
        .collect()
}

fn detokenize(state: &State, ids: &Value) -> String {
    let Ok(v) = state.vocab.lock() else {
        return String::new();
    };
    let ids = ids.as_array().cloned().unwrap_or_default();
    let words: Vec<&str> = ids
        .iter()
        .filter_map(|i| v.0.get(i.as_u64()? as usize).map(String::as_str))
        .collect();
    words.join(" ")
}

/// One planted generation, as asked.
struct Job {
    chat: bool,
    n: usize,
    stop_early: bool,
    prompt: Vec<String>,
    cache_prompt: bool,
}

/// The stand-in's chat template: two words around the user's message.
fn template(content: &str) -> String {
    format!("user: {content} assistant:")
}

fn generate(state: Arc<State>, req: &Value, chat: bool) -> Response<StandinBody> {
    let prompt = if chat {
        req["messages"][0]["content"].as_str().map(template)
    } else {
        req["prompt"].as_str().map(str::to_string)
    };
    let n = req[if chat { "max_tokens" } else { "n_predict" }].as_u64();
    let (Some(prompt), Some(n), true) = (prompt, n, req["stream"].as_bool() == Some(true)) else {
        return reply(
            400,
            json!({"error": {"code": 400, "message": "stand-in: stream, prompt and a length are required"}}),
        );
    };
    let r = state.counters.requests.fetch_add(1, Ordering::SeqCst) as usize;
    let every = state.cfg.early_stop_every;
    let job = Job {
        chat,
        n: n as usize,
        stop_early: every > 0 && r % every == every - 1,
        prompt: prompt.split_whitespace().map(str::to_string).collect(),
        cache_prompt: req["cache_prompt"].as_bool() == Some(true),
    };
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(run_job(state, job, tx));
    let mut resp = Response::new(StandinBody::Chan(rx));
    resp.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("text/event-stream"),
    );
    resp
}

fn event(v: &Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}

fn cached(state: &State, job: &Job) -> usize {
    let Ok(mut last) = state.last_prompt.lock() else {
        return 0;
    };
    let common = last
        .iter()
        .zip(&job.prompt)
        .take_while(|(a, b)| a == b)
        .count();
    *last = job.prompt.clone();
    if job.cache_prompt {
        common
    } else {
        0
    }
}

async fn run_job(state: Arc<State>, job: Job, tx: mpsc::Sender<Bytes>) {
    let Ok(_slot) = Arc::clone(&state.slots).acquire_owned().await else {
        return;
    };
    state.counters.processing.fetch_add(1, Ordering::SeqCst);
    if job.chat {
        let _ = tx.send(event(&json!({"choices": [{"finish_reason": null, "index": 0, "delta": {"role": "assistant", "content": null}}]}))).await;
    }
    let cfg = &state.cfg;
    let cache_n = cached(&state, &job);
    let prompt_n = job.prompt.len() - cache_n;
    let prompt_ms = cfg.prompt_ms + cfg.prompt_ms_per_token * prompt_n as f64;
    let start = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(prompt_ms / 1000.0)).await;
    state
        .counters
        .prompt_tokens
        .fetch_add(prompt_n as u64, Ordering::SeqCst);
    let gen_start = tokio::time::Instant::now();
    let real_prompt_ms = (gen_start - start).as_secs_f64() * 1000.0;
    let total = if job.stop_early {
        (job.n / 2).max(1)
    } else {
        job.n
    };
    let Some(done) = stream_tokens(&state, &job, total, gen_start, &tx).await else {
        state.counters.processing.fetch_sub(1, Ordering::SeqCst);
        return;
    };
    let timings = json!({
        "cache_n": cache_n, "prompt_n": prompt_n, "prompt_ms": real_prompt_ms,
        "predicted_n": done, "predicted_ms": gen_start.elapsed().as_secs_f64() * 1000.0,
    });
    let stop = if job.stop_early { "eos" } else { "limit" };
    state.counters.processing.fetch_sub(1, Ordering::SeqCst);
    let _ = send_end(&tx, &job, stop, done, timings).await;
}

/// Sends `total` tokens on their planted times; None if the client left.
async fn stream_tokens(
    state: &State,
    job: &Job,
    total: usize,
    t0: tokio::time::Instant,
    tx: &mpsc::Sender<Bytes>,
) -> Option<usize> {
    let (cfg, c) = (&state.cfg, &state.counters);
    let (mut sent, mut chunk) = (0usize, 0usize);
    while sent < total {
        chunk += 1;
        let two = cfg.multi_every > 0 && chunk % cfg.multi_every == 0 && total - sent >= 2;
        let k = if two { 2 } else { 1 };
        sent += k;
        let due = t0 + Duration::from_secs_f64(cfg.token_ms * sent as f64 / 1000.0);
        tokio::time::sleep_until(due).await;
        c.predicted.fetch_add(k as u64, Ordering::SeqCst);
        c.decodes.fetch_add(k as u64, Ordering::SeqCst);
        let text = " tok".repeat(k);
        let v = if job.chat {
            json!({"choices": [{"finish_reason": null, "index": 0, "delta": {"content": text}}]})
        } else {
            json!({"index": 0, "content": text, "tokens": vec![7; k], "stop": false, "tokens_predicted": sent})
        };
        tx.send(event(&v)).await.ok()?;
    }
    Some(sent)
}

async fn send_end(
    tx: &mpsc::Sender<Bytes>,
    job: &Job,
    stop: &str,
    n: usize,
    timings: Value,
) -> Option<()> {
    if !job.chat {
        let v = json!({"content": "", "tokens": [], "stop": true, "stop_type": stop, "tokens_predicted": n, "timings": timings});
        return tx.send(event(&v)).await.ok();
    }
    let reason = if stop == "limit" { "length" } else { "stop" };
    tx.send(event(
        &json!({"choices": [{"finish_reason": reason, "index": 0, "delta": {}}]}),
    ))
    .await
    .ok()?;
    let usage = json!({"choices": [], "usage": {"completion_tokens": n}, "timings": timings});
    tx.send(event(&usage)).await.ok()?;
    tx.send(Bytes::from("data: [DONE]\n\n")).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_and_rejects() {
        let c: StandinConfig = "slots=2,prompt_ms=50,token_ms=20,multi_every=3"
            .parse()
            .unwrap();
        assert_eq!(
            (c.slots, c.prompt_ms, c.token_ms, c.multi_every),
            (2, 50.0, 20.0, 3)
        );
        assert!("slots=0".parse::<StandinConfig>().is_err());
        assert!("speed=3"
            .parse::<StandinConfig>()
            .unwrap_err()
            .why
            .contains("speed=3"));
        assert!("token_ms=-1".parse::<StandinConfig>().is_err());
    }
}
