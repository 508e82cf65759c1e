//! `tokbench serve`: options to blocks, blocks to records and figures,
//! figures to output and an exit code. The target is a running server
//! (`--url`), one tokbench starts (`--server`), or the built-in stand-in
//! (`--standin`, for the client's own overhead).

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::{ServeApi, ServeArgs};
use crate::exit::{Outcome, UsageError};
use crate::sample::{RunFacts, SamplerConfig};
use crate::serve::block::{self, Api, BlockSpec};
use crate::serve::client::Endpoint;
use crate::serve::output::RecordWriter;
use crate::serve::prompts::{self, PromptSpec};
use crate::serve::sampled;
use crate::serve::schedule::{Arrival, Extent, Load};
use crate::serve::server::{self, Server, ServerInfo};
use crate::serve::slo::{self, Target};
use crate::serve::standin::{Standin, StandinConfig};
use crate::serve::summary::{self, BlockSummary, SweepPoint, SweepSummary};
use crate::serve::tls::TlsOptions;
use crate::serve::{render, sweep};
use crate::store::db::DbChoice;

/// What the load goes to; a server or stand-in tokbench started stops when this drops.
enum Goal {
    Url(Endpoint),
    Server(Box<Server>),
    /// The stand-in runs until this is dropped.
    Standin {
        _server: Standin,
        endpoint: Endpoint,
    },
}

impl Goal {
    fn endpoint(&self) -> &Endpoint {
        match self {
            Goal::Url(e) | Goal::Standin { endpoint: e, .. } => e,
            Goal::Server(s) => &s.endpoint,
        }
    }

    fn check_alive(&mut self) -> Result<()> {
        match self {
            Goal::Server(s) => s.check_alive(),
            _ => Ok(()),
        }
    }
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

pub(super) fn server_log(args: &ServeArgs) -> PathBuf {
    if let Some(p) = &args.server_log {
        return p.clone();
    }
    match &args.output {
        Some(o) => PathBuf::from(format!("{}.server.log", o.display())),
        None => std::env::temp_dir().join(format!(
            "tokbench-server-{}.log",
            crate::engine::record::log_stem()
        )),
    }
}

/// What one side's load goes to, as the options name it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Spec<'a> {
    Url(&'a str),
    Server(&'a str),
    Standin(&'a str),
}

impl Spec<'_> {
    /// The target as said to the user (and stored in an A/B record).
    pub(super) fn describe(&self) -> String {
        match self {
            Spec::Url(u) => u.to_string(),
            Spec::Server(c) => c.to_string(),
            Spec::Standin(s) => format!("stand-in '{s}'"),
        }
    }
}

fn open_target(args: &ServeArgs, spec: Spec<'_>, log: &std::path::Path) -> Result<Goal> {
    match spec {
        Spec::Url(url) => Ok(Goal::Url(
            Endpoint::parse_with(url, &args.headers, &tls_options(args))
                .map_err(|e| usage(e.to_string()))?,
        )),
        Spec::Standin(spec) => {
            let cfg: StandinConfig = spec
                .parse()
                .map_err(|e: crate::serve::standin::StandinSpecError| usage(e.to_string()))?;
            let s = Standin::start(cfg).context("cannot start the built-in stand-in server")?;
            let e = Endpoint::parse(&s.url(), &args.headers)?;
            Ok(Goal::Standin {
                _server: s,
                endpoint: e,
            })
        }
        Spec::Server(cmd) => {
            crate::say!("tokbench: starting '{cmd}' (log '{}')", log.display());
            let s = Server::start(cmd, log, args.ready_timeout, &args.headers)?;
            Ok(Goal::Server(Box::new(s)))
        }
    }
}

/// `--cacert`/`--insecure`; refused when no target is an `https://` URL (they would do nothing).
fn tls_options(args: &ServeArgs) -> TlsOptions {
    TlsOptions {
        cacert: args.cacert.clone(),
        insecure: args.insecure,
    }
}

fn check_tls_options(args: &ServeArgs) -> Result<()> {
    let https = [&args.url, &args.a_url, &args.b_url]
        .iter()
        .any(|u| u.as_deref().is_some_and(|u| u.starts_with("https://")));
    if (args.cacert.is_some() || args.insecure) && !https {
        return Err(usage(
            "--cacert and --insecure apply to https:// URLs (--url, --a-url, --b-url), and none was given",
        ));
    }
    Ok(())
}

/// A target that answered `/health`, with what it said about itself; a
/// server or stand-in tokbench started stops when this drops.
pub(super) struct Connected {
    goal: Goal,
    info: ServerInfo,
}

/// Opens (starts) the target and reads `/props` and `/v1/models`.
pub(super) fn connect(
    args: &ServeArgs,
    spec: Spec<'_>,
    log: &std::path::Path,
    api: Api,
) -> Result<Connected> {
    let goal = open_target(args, spec, log)?;
    if !matches!(goal, Goal::Server(_))
        && server::wait_healthy(goal.endpoint(), args.ready_timeout, None)?
    {
        anyhow::bail!(
            "{} did not answer /health with 200 within {} (is it up, and done loading?)",
            goal.endpoint().url(),
            humantime::format_duration(args.ready_timeout)
        );
    }
    let mut info = server::info(goal.endpoint())?;
    if let Goal::Server(s) = &goal {
        info.argv = Some(s.argv.clone());
        info.log = Some(s.log.display().to_string());
    }
    if api == Api::Chat && info.model_id().is_none() {
        crate::say!("tokbench: warning: /v1/models gave no model id; chat requests are sent with an empty 'model'");
    }
    Ok(Connected { goal, info })
}

/// Everything that stays the same across the blocks of one invocation.
pub(super) struct Plan {
    pub(super) api: Api,
    extent: Extent,
    prompts: PromptSpec,
    targets: Vec<Target>,
    arrival: Arrival,
    /// Samplers for servers tokbench starts (none otherwise).
    sampler: SamplerConfig,
}

/// The samplers, probed once: only a server tokbench starts has a process to watch.
fn plan_sampler(args: &ServeArgs) -> Result<SamplerConfig> {
    if args.server.is_none() && args.a_server.is_none() && args.b_server.is_none() {
        return Ok(SamplerConfig::default());
    }
    let cpu = crate::identity::machine_info().cpu;
    crate::sample::probe::plan_sampler(
        &args.sampler,
        args.sample_interval,
        false,
        None,
        cpu.as_deref(),
    )
    .map_err(usage)
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

fn plan(args: &ServeArgs) -> Result<Plan> {
    check_tls_options(args)?;
    if args.shared_prefix.is_some() && args.prompt_tokens.is_none() {
        return Err(usage(
            "--shared-prefix N needs --prompt-tokens (the length of what follows the prefix)",
        ));
    }
    if args.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
        return Err(usage(
            "--rate must be a number of requests per second above 0 (e.g. 2 or 0.5)",
        ));
    }
    if args.rates.iter().any(|r| !(r.is_finite() && *r > 0.0)) {
        return Err(usage("--rates must be numbers above 0, e.g. 1,2,4,8"));
    }
    let arrival: Arrival = args
        .arrival
        .parse()
        .map_err(|e: crate::serve::schedule::ScheduleError| usage(e.to_string()))?;
    let texts = match &args.prompts {
        Some(p) => prompts::read_file(p)?,
        None => vec![crate::plan::DEFAULT_PROMPT.trim().to_string()],
    };
    let tokens = match &args.prompt_tokens {
        Some(s) => Some(prompts::parse_tokens(s).map_err(usage)?),
        None => None,
    };
    let targets = match &args.slo {
        Some(s) => slo::parse(s).map_err(|e| usage(e.to_string()))?,
        None => Vec::new(),
    };
    Ok(Plan {
        sampler: plan_sampler(args)?,
        api: match args.api {
            ServeApi::Completion => Api::Completion,
            ServeApi::Chat => Api::Chat,
        },
        extent: match args.duration {
            Some(d) => Extent::Duration(d),
            None => Extent::Requests(args.requests as usize),
        },
        prompts: PromptSpec {
            texts,
            tokens,
            shared_prefix: args.shared_prefix.map(|n| n as usize),
            seed: args.seed,
        },
        targets,
        arrival,
    })
}

pub(super) fn load_at(args: &ServeArgs, plan: &Plan, level: Option<f64>, closed: bool) -> Load {
    if closed {
        let c = level
            .map(|l| l as usize)
            .or(args.concurrency.map(|c| c as usize))
            .unwrap_or(1);
        return Load::Closed {
            concurrency: c.max(1),
        };
    }
    Load::Open {
        rate: level.or(args.rate).unwrap_or(1.0),
        arrival: plan.arrival,
        max_concurrency: args.max_concurrency.map(|c| c as usize),
    }
}

/// A record of one side of an A/B session: the record with its `side`.
#[derive(serde::Serialize)]
struct Sided<'a, T> {
    side: &'static str,
    #[serde(flatten)]
    record: &'a T,
}

/// Runs blocks, appending their records and summaries to `-o`.
pub(super) struct Runner<'a> {
    pub(super) args: &'a ServeArgs,
    db: &'a DbChoice,
    pub(super) plan: Plan,
    pub(super) writer: Option<RecordWriter>,
    pub(super) blocks: usize,
}

impl<'a> Runner<'a> {
    /// Installs the Ctrl-C handler, plans, and opens `-o`.
    pub(super) fn new(args: &'a ServeArgs, db: &'a DbChoice) -> Result<Runner<'a>> {
        crate::runner::interrupt::install().context("cannot install the Ctrl-C handler")?;
        let plan = plan(args)?;
        let writer = args.output.as_deref().map(RecordWriter::open).transpose()?;
        Ok(Runner {
            args,
            db,
            plan,
            writer,
            blocks: 0,
        })
    }

    /// One block against `at`; `side` (A/B) goes into every record.
    pub(super) fn block(
        &mut self,
        at: &mut Connected,
        load: Load,
        seed: u64,
        side: Option<&'static str>,
    ) -> Result<BlockSummary> {
        let spec = BlockSpec {
            index: self.blocks,
            api: self.plan.api,
            load,
            extent: self.plan.extent,
            warmup: self.args.warmup as usize,
            max_tokens: self.args.max_tokens,
            prompts: PromptSpec {
                seed,
                ..self.plan.prompts.clone()
            },
            seed,
            model: at.info.model_id(),
            request_timeout: self.args.request_timeout,
        };
        self.blocks += 1;
        let writer = &self.writer;
        let mut sink = |r: &crate::serve::request::RequestRecord| match (writer, side) {
            (Some(w), Some(side)) => w.send(&Sided { side, record: r }),
            (Some(w), None) => w.send(r),
            _ => {}
        };
        let sampling = match &at.goal {
            Goal::Server(server) => sampled::start(&self.plan.sampler, server.pid()),
            _ => None,
        };
        let result = block::run(at.goal.endpoint(), &spec, &mut sink);
        if let Some(w) = self.writer.as_mut() {
            w.check()?;
        }
        at.goal.check_alive()?;
        let result = result?;
        let mut s = summary::summarize(
            &spec,
            &result,
            &at.info,
            &self.plan.targets,
            self.args.label.clone(),
        );
        s.side = side;
        if let Some(sampling) = sampling {
            let facts = sampled_facts(&s);
            s.sampled = Some(sampling.finish(&self.plan.sampler, &facts, &mut s.warnings));
        }
        if let Some(w) = &self.writer {
            w.send(&s);
        }
        all_failed(&s, &result)?;
        Ok(s)
    }
}

/// A block in which every request failed is an error quoting the first.
fn all_failed(s: &BlockSummary, result: &block::BlockResult) -> Result<()> {
    if s.figures.completed == 0 && s.figures.requests > 0 && !s.interrupted {
        let first = result
            .records
            .iter()
            .find_map(|r| r.error.clone())
            .unwrap_or_default();
        anyhow::bail!(
            "every request to {} failed ({:?}); the first: {first}",
            s.server.url,
            s.figures.errors
        );
    }
    Ok(())
}

pub(super) fn outcome(blocks: &[&BlockSummary], slo_failed: bool) -> Outcome {
    if blocks.iter().any(|b| b.interrupted) {
        return Outcome::Interrupted(crate::runner::interrupt::received().unwrap_or(2));
    }
    if blocks.iter().any(|b| b.figures.client_behind) {
        return Outcome::Failed;
    }
    if slo_failed {
        return Outcome::Regression;
    }
    Outcome::Ok
}

fn single(r: &mut Runner<'_>, at: &mut Connected) -> Result<Outcome> {
    let closed = r.args.rate.is_none();
    let load = load_at(r.args, &r.plan, None, closed);
    let s = r.block(at, load, r.args.seed, None)?;
    super::print_out(&render::block(&s, r.args.out.format()))?;
    super::serve_record::record(r.db, &super::serve_record::of_block(r.args, &s))?;
    Ok(outcome(&[&s], s.slo_met == Some(false)))
}

fn sweep_levels(args: &ServeArgs, closed: bool) -> (Vec<f64>, bool) {
    if !args.rates.is_empty() {
        let mut v = args.rates.clone();
        v.sort_by(f64::total_cmp);
        return (v, false);
    }
    let start = if closed {
        args.concurrency.unwrap_or(1) as f64
    } else {
        args.rate.unwrap_or(1.0)
    };
    (sweep::ladder(start, sweep::MAX_STEPS), true)
}

fn run_sweep(r: &mut Runner<'_>, at: &mut Connected) -> Result<Outcome> {
    let closed = r.args.concurrency.is_some();
    let (levels, automatic) = sweep_levels(r.args, closed);
    let has_slo = !r.plan.targets.is_empty();
    let trials = if has_slo { r.args.trials as usize } else { 1 };
    let mut blocks: Vec<BlockSummary> = Vec::new();
    let mut step = |level: f64, trial: usize| -> Result<Option<SweepPoint>> {
        let load = load_at(r.args, &r.plan, Some(level), closed);
        let seed = r
            .args
            .seed
            .wrapping_add(1000 * trial as u64 + blocks.len() as u64);
        let s = r.block(at, load, seed, None)?;
        let p = SweepPoint::of(level, trial, &s);
        crate::say!(
            "tokbench: {} trial {trial}: {}",
            load.describe(),
            render::context(&s)[2]
        );
        let stop = s.interrupted;
        blocks.push(s);
        Ok((!stop).then_some(p))
    };
    let (points, _) = sweep::run(&levels, automatic, trials, has_slo, closed, &mut step)?;
    let (slo_max, _) = sweep::slo_bracket(&points);
    let s = SweepSummary {
        kind: "serve_sweep",
        schema_version: crate::model::SCHEMA_VERSION,
        axis: if closed { "concurrency" } else { "rate" },
        knee: sweep::knee(&points, !closed),
        slo_max: slo_max.filter(|_| has_slo),
        slo: r.args.slo.iter().cloned().collect(),
        points,
    };
    if let Some(w) = &r.writer {
        w.send(&s);
    }
    super::print_out(&render::sweep(&s, r.args.out.format()))?;
    super::serve_record::record(r.db, &super::serve_record::of_sweep(r.args, &s, &blocks))?;
    let refs: Vec<&BlockSummary> = blocks.iter().collect();
    Ok(outcome(&refs, has_slo && s.slo_max.is_none()))
}

/// The target of a one-server run, as the options name it.
fn single_spec(args: &ServeArgs) -> Spec<'_> {
    match (&args.url, &args.standin) {
        (Some(u), _) => Spec::Url(u),
        (None, Some(s)) => Spec::Standin(s),
        (None, None) => Spec::Server(args.server.as_deref().unwrap_or_default()),
    }
}

pub fn run(args: &ServeArgs, db: &DbChoice) -> Result<Outcome> {
    let mut runner = Runner::new(args, db)?;
    let mut at = connect(args, single_spec(args), &server_log(args), runner.plan.api)?;
    let outcome = if args.rate_sweep {
        run_sweep(&mut runner, &mut at)
    } else {
        single(&mut runner, &mut at)
    };
    if let Some(w) = runner.writer.take() {
        w.finish()?;
    }
    outcome
}
