//! What a `tokbench serve` invocation plans once for all its blocks: the
//! API, extent, prompts, `--slo` targets, arrival process and samplers; the
//! load of a block; the server log's path; `-o`; and the exit code the
//! blocks earn. Shared by the one-server run, the sweep and A/B, and by the
//! cells the engine runs ([`super::serve_cells`]).

use std::cell::RefCell;
use std::path::PathBuf;

use anyhow::Result;

use crate::cli::{ServeApi, ServeArgs};
use crate::engine::Settings;
use crate::exit::{Outcome, UsageError};
use crate::sample::SamplerConfig;
use crate::serve::block::Api;
use crate::serve::output::RecordWriter;
use crate::serve::prompts::{self, PromptSpec};
use crate::serve::schedule::{Arrival, Extent, Load};
use crate::serve::slo::{self, Target as SloTarget};
use crate::serve::summary::BlockSummary;

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

/// Everything that stays the same across the blocks of one invocation.
pub(super) struct Plan {
    pub(super) api: Api,
    pub(super) extent: Extent,
    pub(super) prompts: PromptSpec,
    /// `--slo`'s targets.
    pub(super) targets: Vec<SloTarget>,
    arrival: Arrival,
    /// Samplers for servers tokbench starts (none otherwise).
    pub(super) sampler: SamplerConfig,
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

/// `--cacert`/`--insecure` without an `https://` URL would do nothing: refused.
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

pub(super) fn plan(args: &ServeArgs) -> Result<Plan> {
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

/// `-o`, opened once for the session (requests and block summaries share it).
pub(super) fn open_output(args: &ServeArgs) -> Result<Option<RefCell<RecordWriter>>> {
    Ok(args
        .output
        .as_deref()
        .map(RecordWriter::open)
        .transpose()?
        .map(RefCell::new))
}

/// Writes what is queued for `-o` and closes it.
pub(super) fn close_output(writer: Option<RefCell<RecordWriter>>) -> Result<()> {
    match writer {
        Some(w) => w.into_inner().finish(),
        None => Ok(()),
    }
}

/// The engine's settings of a serve session: the samplers (probed once).
pub(super) fn settings(plan: &Plan) -> Settings {
    Settings {
        sampler: plan.sampler.clone(),
        ..Settings::default()
    }
}
