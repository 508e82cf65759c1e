//! The client's own overhead over http and over https against the
//! in-process stand-in (no planted prompt or token time, so TTFT from the
//! actual send is the round trip through client, TLS and stand-in), at the
//! same offered rate and seeded schedule. Blocks alternate http, https,
//! https, http (ABBA, twice) so a drifting machine load falls on both.
//! Prints per block the dispatch lag (the client's lateness against its
//! schedule) p50/p99, TTFT and e2e from the send p50/p99, and the
//! connections the stand-in accepted (over https: TLS handshakes).
//!
//! Run: `cargo bench --bench serve_tls` (SERVE_TLS_RATE req/s, default 50;
//! SERVE_TLS_REQUESTS per block, default 500; 32 tokens a request).

use std::time::Duration;

use tokbench::serve::block::{self, Api, BlockSpec};
use tokbench::serve::client::Endpoint;
use tokbench::serve::figures::Dist;
use tokbench::serve::prompts::PromptSpec;
use tokbench::serve::schedule::{Arrival, Extent, Load};
use tokbench::serve::standin::{Standin, StandinConfig};
use tokbench::serve::tls::TlsOptions;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn env_or(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn spec(rate: f64, requests: usize, index: usize) -> BlockSpec {
    BlockSpec {
        index,
        api: Api::Completion,
        load: Load::Open {
            rate,
            arrival: Arrival::Poisson,
            max_concurrency: None,
        },
        extent: Extent::Requests(requests),
        warmup: 2,
        max_tokens: 32,
        prompts: PromptSpec {
            texts: vec!["a short prompt of seven words here".into()],
            tokens: None,
            shared_prefix: None,
            seed: 7,
        },
        seed: 7,
        model: Some("standin".into()),
        request_timeout: Duration::from_secs(30),
    }
}

/// One block over `https` (trusted through a CA file, as `--cacert`) or
/// plain http: the figures and the stand-in's connection count.
fn block(https: bool, s: &BlockSpec) -> Res<(block::BlockResult, u64)> {
    let cfg: StandinConfig = "slots=16".parse()?;
    let dir = tempfile::tempdir()?;
    let (standin, e) = if https {
        let k = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
        let standin = Standin::start_tls(cfg, &k.cert.pem(), &k.signing_key.serialize_pem())?;
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, k.cert.pem())?;
        let opts = TlsOptions {
            cacert: Some(ca),
            insecure: false,
        };
        let e = Endpoint::parse_with(&standin.url(), &[], &opts)?;
        (standin, e)
    } else {
        let standin = Standin::start(cfg)?;
        let e = Endpoint::parse(&standin.url(), &[])?;
        (standin, e)
    };
    let r = block::run(&e, s, &mut |_| {})?;
    Ok((r, standin.connections()))
}

fn ms(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.2}"))
}

fn p50_p99(d: &Dist) -> String {
    format!("{:>7} {:>7}", ms(d.p50), ms(d.p99))
}

fn main() -> Res<()> {
    let rate = env_or("SERVE_TLS_RATE", 50.0);
    let requests = env_or("SERVE_TLS_REQUESTS", 500.0) as usize;
    println!("serve over http and https, stand-in slots=16, no planted time, {rate} req/s poisson, {requests} requests of 32 tokens");
    println!("block  scheme  lag_p50 lag_p99  ttft_p50 ttft_p99  e2e_p50 e2e_p99  conns  behind");
    let order = [false, true, true, false, false, true, true, false];
    for (i, https) in order.into_iter().enumerate() {
        let (r, conns) = block(https, &spec(rate, requests, i))?;
        let f = &r.figures;
        if f.completed != requests {
            return Err(format!(
                "block {i}: {} of {requests} requests completed ({:?})",
                f.completed, f.errors
            )
            .into());
        }
        println!(
            "{i:>5}  {:<6}  {}  {}  {}  {:>5}  {}",
            if https { "https" } else { "http" },
            p50_p99(&f.dispatch_lag_ms),
            p50_p99(&f.ttft_from_send_ms),
            p50_p99(&f.e2e_from_send_ms),
            conns,
            f.client_behind
        );
    }
    Ok(())
}
