//! `tokbench serve --a-server CMD --b-server CMD` (or `--a-url`/`--b-url`):
//! the same seeded block of load against two servers in ABBA order, and a
//! verdict per figure. The session's order is the engine's ABBA schedule;
//! each of its steps is one block here: start the side's server (or the
//! stand-in, or reach its URL), wait for `/health`, run the block, stop the
//! server before the other side's starts, so only one server tokbench
//! started runs at a time and nothing it held (KV cache, slots, warm
//! buffers) leaks into the next block. A URL cannot be restarted: its
//! block ends when every request has ended (drained), and the server keeps
//! its state. The engine's own loop runs processes into run records and
//! keeps a service up for the whole session, so it does not drive these
//! blocks itself.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::serve::{connect, load_at, outcome, server_log, Runner, Spec};
use crate::cli::ServeArgs;
use crate::engine::schedule::{Abba, Next, Schedule};
use crate::exit::{Outcome, UsageError};
use crate::serve::ab::{self, AbSummary};
use crate::serve::ab_render;
use crate::serve::summary::BlockSummary;
use crate::store::db::DbChoice;

const SIDES: [&str; 2] = ["a", "b"];

fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

/// Whether the options ask for an A/B session.
pub fn asked(args: &ServeArgs) -> bool {
    [
        &args.a_url,
        &args.a_server,
        &args.a_standin,
        &args.b_url,
        &args.b_server,
        &args.b_standin,
    ]
    .iter()
    .any(|o| o.is_some())
}

fn side_spec<'a>(
    url: &'a Option<String>,
    server: &'a Option<String>,
    standin: &'a Option<String>,
) -> Option<Spec<'a>> {
    match (url, server, standin) {
        (Some(u), _, _) => Some(Spec::Url(u)),
        (None, Some(c), _) => Some(Spec::Server(c)),
        (None, None, Some(s)) => Some(Spec::Standin(s)),
        _ => None,
    }
}

/// The two sides, and the options an A/B session refuses.
fn sides(args: &ServeArgs) -> Result<[Spec<'_>; 2]> {
    if args.url.is_some() || args.server.is_some() || args.standin.is_some() {
        return Err(usage(
            "--url/--server/--standin name one server; for A/B give --a-url or --a-server and --b-url or --b-server",
        ));
    }
    let a = side_spec(&args.a_url, &args.a_server, &args.a_standin);
    let b = side_spec(&args.b_url, &args.b_server, &args.b_standin);
    let (Some(a), Some(b)) = (a, b) else {
        return Err(usage(
            "an A/B session needs both sides: --a-url or --a-server, and --b-url or --b-server",
        ));
    };
    if args.rate_sweep || args.slo.is_some() {
        return Err(usage(
            "--rate-sweep and --slo are for one server; an A/B session judges --metric (and gates with --fail-if-slower)",
        ));
    }
    ab::check_metric(&args.metric).map_err(|e| usage(e.to_string()))?;
    Ok([a, b])
}

/// The log of one side's server in one block, beside the one-server log.
fn side_log(args: &ServeArgs, side: &str, block: usize) -> PathBuf {
    server_log(args).with_extension(format!("{side}{block}.log"))
}

/// Runs the ABBA blocks; stops after a block cut off by Ctrl-C.
fn blocks(r: &mut Runner<'_>, specs: &[Spec<'_>; 2]) -> Result<Vec<BlockSummary>> {
    let args = r.args;
    let load = load_at(args, &r.plan, None, args.rate.is_none());
    let mut sched: Abba<()> = Abba::fixed(0, args.pairs as usize, None);
    let mut done: Vec<BlockSummary> = Vec::new();
    while let Next::Run(step) = sched.next(&[])? {
        if crate::runner::interrupt::received().is_some() {
            break;
        }
        let side = SIDES[step.cell];
        let log = side_log(args, side, r.blocks);
        // Dropped at the end of this iteration: the server stops before the next starts.
        let mut at = connect(args, specs[step.cell], &log, r.plan.api)
            .with_context(|| format!("side {} (block {})", side.to_uppercase(), r.blocks))?;
        let s = r.block(&mut at, load, args.seed, Some(side))?;
        crate::say!(
            "tokbench: block {} ({}): {} = {}",
            s.block,
            side.to_uppercase(),
            args.metric,
            crate::serve::render::num(ab::value(&s, &args.metric))
        );
        let stop = s.interrupted;
        done.push(s);
        if stop {
            break;
        }
    }
    Ok(done)
}

fn summarize(args: &ServeArgs, specs: &[Spec<'_>; 2], done: &[BlockSummary]) -> AbSummary {
    let side = |name: &str| -> Vec<&BlockSummary> {
        done.iter()
            .filter(|b| b.side == Some(name) && !b.interrupted)
            .collect()
    };
    let (a, b) = (side("a"), side("b"));
    let threshold = args.threshold / 100.0;
    let verdicts = ab::verdicts(&a, &b, &args.metric, threshold);
    let gate = args.fail_if_slower.map(|pct| ab::gate(&verdicts[0], pct));
    AbSummary {
        kind: "serve_ab".to_string(),
        schema_version: crate::model::SCHEMA_VERSION,
        metric: args.metric.clone(),
        threshold,
        a: specs[0].describe(),
        b: specs[1].describe(),
        load: done
            .first()
            .map(|b| b.load.description.clone())
            .unwrap_or_default(),
        pairs: a.len().min(b.len()),
        blocks_a: a.iter().map(|s| s.block).collect(),
        blocks_b: b.iter().map(|s| s.block).collect(),
        verdicts,
        gate,
        interrupted: done.iter().any(|b| b.interrupted),
    }
}

/// Interrupted, client behind, then the gate: B worse (3), or a gate that
/// checked nothing (1).
fn ab_outcome(s: &AbSummary, done: &[BlockSummary]) -> Outcome {
    let refs: Vec<&BlockSummary> = done.iter().collect();
    match (outcome(&refs, false), &s.gate) {
        (Outcome::Ok, Some(g)) if g.regressed => Outcome::Regression,
        (Outcome::Ok, Some(g)) if !g.checked => Outcome::Failed,
        (o, _) => o,
    }
}

pub fn run(args: &ServeArgs, db: &DbChoice) -> Result<Outcome> {
    let specs = sides(args)?;
    let mut runner = Runner::new(args, db)?;
    let done = blocks(&mut runner, &specs)?;
    let s = summarize(args, &specs, &done);
    if let Some(w) = runner.writer.take() {
        w.send(&s);
        w.finish()?;
    }
    let warnings = ab_render::block_warnings(&done);
    super::print_out(&ab_render::render(&s, &warnings, args.out.format()))?;
    super::serve_record::record(db, &super::serve_record::of_ab(args, &s, &done))?;
    Ok(ab_outcome(&s, &done))
}
