//! llama-server, the long-lived driver: a cell's target is started (a
//! `--server` command in its own process group on a free port of
//! 127.0.0.1, or the built-in stand-in) or reached (`--url`), found ready
//! (`/health` 200, then `/props` and `/v1/models` recorded), given blocks of
//! load (the `serve::block` client, samplers on the server's process), and
//! stopped (SIGTERM to the group, SIGKILL after a grace time). A URL cannot
//! be stopped or restarted: its block ends when every request has ended
//! (drained), and the server keeps its state.
//!
//! Unlike the one-shot drivers in [`super::REGISTRY`], which a probe of the
//! binary picks, this driver is the one `tokbench serve` names; the session
//! engine owns the [`Running`] target as the cell's service (for the whole
//! session, or per block in an A/B session) and schedules its blocks like
//! runs.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use super::Service;
use crate::exit::UsageError;
use crate::sample::{RunFacts, SamplerConfig};
use crate::serve::block::{self, Api, BlockResult, BlockSpec};
use crate::serve::client::Endpoint;
use crate::serve::request::RequestRecord;
use crate::serve::sampled;
use crate::serve::server::{self, Server, ServerInfo};
use crate::serve::slo;
use crate::serve::standin::{Standin, StandinConfig, StandinSpecError};
use crate::serve::summary::{self, BlockSummary};
use crate::serve::tls::TlsOptions;

/// What a cell's load goes to, as the options name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A running server: only read.
    Url(String),
    /// A llama-server command tokbench starts.
    Server(String),
    /// The built-in stand-in with planted timings (its spec).
    Standin(String),
}

impl Target {
    /// The target as said to the user (and stored in an A/B record).
    pub fn describe(&self) -> String {
        match self {
            Target::Url(u) => u.clone(),
            Target::Server(c) => c.clone(),
            Target::Standin(s) => format!("stand-in '{s}'"),
        }
    }
}

/// How every target of a session is reached.
#[derive(Debug, Clone)]
pub struct Reach {
    pub headers: Vec<String>,
    /// `--cacert`/`--insecure`, for an `https://` URL.
    pub tls: TlsOptions,
    pub ready_timeout: Duration,
    pub api: Api,
}

enum Goal {
    Url(Endpoint),
    Server(Box<Server>),
    /// None once stopped.
    Standin(Option<Standin>, Endpoint),
}

/// A started (or reached) target; `info` is read when it is found ready.
pub struct Running {
    goal: Goal,
    reach: Reach,
    pub info: ServerInfo,
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

/// Starts the target (a server's log goes to `log`); not yet ready.
pub fn start(target: &Target, reach: &Reach, log: &Path) -> Result<Running> {
    let goal = match target {
        Target::Url(url) => Goal::Url(
            Endpoint::parse_with(url, &reach.headers, &reach.tls)
                .map_err(|e| usage(e.to_string()))?,
        ),
        Target::Standin(spec) => {
            let cfg: StandinConfig = spec
                .parse()
                .map_err(|e: StandinSpecError| usage(e.to_string()))?;
            let s = Standin::start(cfg).context("cannot start the built-in stand-in server")?;
            let e = Endpoint::parse(&s.url(), &reach.headers)?;
            Goal::Standin(Some(s), e)
        }
        Target::Server(cmd) => {
            crate::say!("tokbench: starting '{cmd}' (log '{}')", log.display());
            Goal::Server(Box::new(Server::spawn(cmd, log, &reach.headers)?))
        }
    };
    Ok(Running {
        goal,
        reach: reach.clone(),
        info: ServerInfo::default(),
    })
}

impl Running {
    pub fn endpoint(&self) -> &Endpoint {
        match &self.goal {
            Goal::Url(e) | Goal::Standin(_, e) => e,
            Goal::Server(s) => &s.endpoint,
        }
    }

    /// The process of a server tokbench started (the samplers watch it).
    pub fn pid(&self) -> Option<u32> {
        match &self.goal {
            Goal::Server(s) => Some(s.pid()),
            _ => None,
        }
    }

    fn check_alive(&mut self) -> Result<()> {
        match &mut self.goal {
            Goal::Server(s) => s.check_alive(),
            _ => Ok(()),
        }
    }
}

impl Service for Running {
    /// `/health` 200 (a server tokbench started: before it exits or the
    /// ready timeout ends), then what the server says about itself.
    fn ready(&mut self) -> Result<()> {
        let within = self.reach.ready_timeout;
        match &mut self.goal {
            Goal::Server(s) => s.wait_ready(within)?,
            _ => {
                if server::wait_healthy(self.endpoint(), within, None)? {
                    anyhow::bail!(
                        "{} did not answer /health with 200 within {} (is it up, and done loading?)",
                        self.endpoint().url(),
                        humantime::format_duration(within)
                    );
                }
            }
        }
        let mut info = server::info(self.endpoint())?;
        if let Goal::Server(s) = &self.goal {
            info.argv = Some(s.argv.clone());
            info.log = Some(s.log.display().to_string());
        }
        if self.reach.api == Api::Chat && info.model_id().is_none() {
            crate::say!("tokbench: warning: /v1/models gave no model id; chat requests are sent with an empty 'model'");
        }
        self.info = info;
        Ok(())
    }

    /// A server or stand-in tokbench started is stopped; a URL was drained
    /// by its block and is left as it is.
    fn stop(&mut self) {
        match &mut self.goal {
            Goal::Server(s) => s.stop(),
            Goal::Standin(s, _) => drop(s.take()),
            Goal::Url(_) => {}
        }
    }
}

/// What a block's summary needs besides its spec.
#[derive(Debug, Clone, Copy)]
pub struct BlockPlan<'a> {
    /// Samplers, probed once for the session (on a server tokbench started).
    pub sampler: &'a SamplerConfig,
    pub slo: &'a [slo::Target],
    pub label: Option<&'a str>,
    /// `a` / `b` in an A/B session.
    pub side: Option<&'static str>,
}

/// One block of load against `at`; `sink` sees every request record as it
/// ends. A block in which every request failed is a summary with a
/// warning quoting the first error ([`all_failed`] says so).
pub fn block(
    at: &mut Running,
    mut spec: BlockSpec,
    plan: &BlockPlan<'_>,
    sink: &mut dyn FnMut(&RequestRecord),
) -> Result<BlockSummary> {
    spec.model = at.info.model_id();
    let sampling = at.pid().and_then(|pid| sampled::start(plan.sampler, pid));
    let result = block::run(at.endpoint(), &spec, sink);
    at.check_alive()?;
    let result = result?;
    let label = plan.label.map(str::to_string);
    let mut s = summary::summarize(&spec, &result, &at.info, plan.slo, label);
    s.side = plan.side;
    if let Some(sampling) = sampling {
        let facts = sampled_facts(&s);
        let (figures, timeline) = sampling.finish(plan.sampler, &facts, &mut s.warnings);
        s.sampled = Some(figures);
        s.timeline = timeline;
    }
    if all_failed(&s) {
        s.warnings.push(failure(&s, &result));
    }
    Ok(s)
}

/// A block in which every request failed (and not because of Ctrl-C).
pub fn all_failed(s: &BlockSummary) -> bool {
    s.figures.completed == 0 && s.figures.requests > 0 && !s.interrupted
}

/// The text of an all-failed block, quoting the first error.
fn failure(s: &BlockSummary, result: &BlockResult) -> String {
    let first = result
        .records
        .iter()
        .find_map(|r| r.error.clone())
        .unwrap_or_default();
    format!(
        "every request to {} failed ({:?}); the first: {first}",
        s.server.url, s.figures.errors
    )
}

/// What the samplers' figures are relative to: energy per generated token
/// (`tokens_predicted_total`), and for the roofline the server's decode
/// steps per second (`n_decode_total`): a step reads the weights once
/// however many requests it serves, so tokens/s would overstate it.
fn sampled_facts(s: &BlockSummary) -> RunFacts {
    let counter = |k: &str| s.metrics_delta.as_ref().and_then(|m| m.get(k)).copied();
    let steps = counter("n_decode_total");
    let wall = s.figures.throughput.wall_s;
    let model_bytes = s
        .server
        .model_path
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .map_or(0, |m| m.len());
    RunFacts {
        eval_tokens: counter("tokens_predicted_total").map(|n| n as u64),
        eval_tps: steps.filter(|_| wall > 0.0).map(|n| n / wall),
        model_bytes,
        peak_bandwidth: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::prompts::PromptSpec;
    use crate::serve::schedule::{Extent, Load};

    fn reach() -> Reach {
        Reach {
            headers: Vec::new(),
            tls: TlsOptions::default(),
            ready_timeout: Duration::from_secs(10),
            api: Api::Completion,
        }
    }

    fn spec(index: usize) -> BlockSpec {
        BlockSpec {
            index,
            api: Api::Completion,
            load: Load::Closed { concurrency: 1 },
            extent: Extent::Requests(2),
            warmup: 0,
            max_tokens: 3,
            prompts: PromptSpec {
                texts: vec!["one two three".into()],
                tokens: None,
                shared_prefix: None,
                seed: 1,
            },
            seed: 1,
            model: None,
            request_timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn a_standin_is_started_found_ready_given_a_block_and_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let t = Target::Standin("slots=1,token_ms=1".into());
        let mut at = start(&t, &reach(), &dir.path().join("log")).unwrap();
        at.ready().unwrap();
        assert_eq!(at.info.total_slots, Some(1));
        let url = at.endpoint().url();
        let plan = BlockPlan {
            sampler: &SamplerConfig::default(),
            slo: &[],
            label: Some("x"),
            side: Some("b"),
        };
        let mut seen = 0;
        let s = block(&mut at, spec(3), &plan, &mut |_| seen += 1).unwrap();
        assert_eq!((s.block, s.side, s.figures.completed), (3, Some("b"), 2));
        assert_eq!((seen, s.label.as_deref()), (2, Some("x")));
        assert!(s.timeline.is_empty(), "no sampler, no timeline");
        at.stop();
        let e = server::wait_healthy(at.endpoint(), Duration::from_millis(200), None);
        assert!(e.is_err(), "the stopped stand-in refuses {url}");
    }

    #[test]
    fn a_bad_url_or_standin_spec_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        for t in [
            Target::Url("ftp://x".into()),
            Target::Standin("slots=zero".into()),
        ] {
            let e = start(&t, &reach(), &log).err().unwrap();
            assert!(e.downcast_ref::<UsageError>().is_some(), "{t:?}: {e:#}");
        }
        assert_eq!(
            Target::Standin("slots=1".into()).describe(),
            "stand-in 'slots=1'"
        );
    }
}
