//! `tokbench serve --a-server CMD --b-server CMD` (or `--a-url`/`--b-url`):
//! the same seeded block of load against two servers in ABBA order, and a
//! verdict per figure. It is a two-cell session on the session engine: the
//! engine's ABBA schedule orders the blocks, and each side's server is a
//! service whose lifetime is one block ([`Lifetime::Block`]): started and
//! found ready before the block, stopped after it and before the other
//! side's starts, so only one server tokbench started runs at a time and
//! nothing it held (KV cache, slots, warm buffers) leaks into the next
//! block. A URL cannot be restarted: its block ends when every request has
//! ended (drained), and the server keeps its state. With `--slo` every
//! block is checked against it; B's blocks must all meet it.

use anyhow::{Context, Result};

use super::serve_cells::{failed_block, BlockFile, BlockLine, Cells};
use super::serve_plan::{close_output, open_output, outcome, plan, settings};
use crate::cli::ServeArgs;
use crate::driver::server::Target;
use crate::engine::schedule::Abba;
use crate::engine::sink::Sink;
use crate::engine::{self, Lifetime, Stop};
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

fn side_target(
    url: &Option<String>,
    server: &Option<String>,
    standin: &Option<String>,
) -> Option<Target> {
    match (url, server, standin) {
        (Some(u), _, _) => Some(Target::Url(u.clone())),
        (None, Some(c), _) => Some(Target::Server(c.clone())),
        (None, None, Some(s)) => Some(Target::Standin(s.clone())),
        _ => None,
    }
}

/// The two sides, and the options an A/B session refuses.
fn sides(args: &ServeArgs) -> Result<[Target; 2]> {
    if args.url.is_some() || args.server.is_some() || args.standin.is_some() {
        return Err(usage(
            "--url/--server/--standin name one server; for A/B give --a-url or --a-server and --b-url or --b-server",
        ));
    }
    let a = side_target(&args.a_url, &args.a_server, &args.a_standin);
    let b = side_target(&args.b_url, &args.b_server, &args.b_standin);
    let (Some(a), Some(b)) = (a, b) else {
        return Err(usage(
            "an A/B session needs both sides: --a-url or --a-server, and --b-url or --b-server",
        ));
    };
    if args.rate_sweep {
        return Err(usage(
            "--rate-sweep is for one server: an A/B session runs both at one load (give --rate or --concurrency); \
             to find each server's knee and highest rate meeting --slo, run 'tokbench serve --server CMD --rate-sweep' once per server",
        ));
    }
    ab::check_metric(&args.metric).map_err(|e| usage(e.to_string()))?;
    Ok([a, b])
}

fn summarize(
    args: &ServeArgs,
    specs: &[Target; 2],
    done: &[BlockSummary],
    stop: Stop,
) -> AbSummary {
    let side = |name: &str| -> Vec<&BlockSummary> {
        done.iter()
            .filter(|b| b.side == Some(name) && !b.interrupted)
            .collect()
    };
    let (a, b) = (side("a"), side("b"));
    let threshold = args.threshold / 100.0;
    let slo = args.slo.as_deref().map(|spec| ab::slo_blocks(spec, &a, &b));
    let verdicts = ab::verdicts(&a, &b, &args.metric, threshold, slo.is_some());
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
        slo,
        interrupted: matches!(stop, Stop::Interrupted(_)) || done.iter().any(|b| b.interrupted),
    }
}

/// Interrupted, client behind, then the gates: B worse beyond
/// `--fail-if-slower` or a B block that missed `--slo` (3), or a
/// `--fail-if-slower` that checked nothing (1).
fn ab_outcome(s: &AbSummary, done: &[BlockSummary], stop: Stop) -> Outcome {
    if let Stop::Interrupted(sig) = stop {
        return Outcome::Interrupted(sig);
    }
    let refs: Vec<&BlockSummary> = done.iter().collect();
    let slo_unmet = s.slo.as_ref().is_some_and(|x| x.b_unmet());
    match (outcome(&refs, false), &s.gate) {
        (Outcome::Ok, Some(g)) if g.regressed => Outcome::Regression,
        (Outcome::Ok, _) if slo_unmet => Outcome::Regression,
        (Outcome::Ok, Some(g)) if !g.checked => Outcome::Failed,
        (o, _) => o,
    }
}

/// What an A/B session measured, why it ended, and its summary record.
type Measured = (Vec<BlockSummary>, Stop, AbSummary);

/// The ABBA blocks on the engine; the summary goes last into `-o`.
fn blocks(args: &ServeArgs, specs: &[Target; 2]) -> Result<Measured> {
    let plan = plan(args)?;
    let writer = open_output(args)?;
    let targets = vec![
        (specs[0].clone(), Some(SIDES[0])),
        (specs[1].clone(), Some(SIDES[1])),
    ];
    let mut cells = Cells::new(args, &plan, targets, Lifetime::Block, writer.as_ref());
    let mut file = writer.as_ref().map(BlockFile);
    let mut line = BlockLine {
        metric: &args.metric,
    };
    let mut sinks: Vec<&mut dyn Sink<BlockSummary>> = vec![&mut line];
    sinks.extend(file.iter_mut().map(|f| f as &mut dyn Sink<BlockSummary>));
    let mut schedule: Abba<(), BlockSummary> = Abba::fixed(0, args.pairs as usize, None);
    let out = engine::session(&mut cells, &settings(&plan), 2, &mut schedule, &mut sinks);
    drop(sinks);
    let done = match out {
        Ok(o) if o.stop == Stop::FailedRun => Err(failed_block(&o.records)),
        Ok(o) => {
            let s = summarize(args, specs, &o.records, o.stop);
            Ok((o.records, o.stop, s))
        }
        Err(e) => Err(e),
    };
    if let (Ok((_, _, s)), Some(w)) = (&done, &writer) {
        w.borrow().send(s);
    }
    close_output(writer)?;
    done
}

pub fn run(args: &ServeArgs, db: &DbChoice) -> Result<Outcome> {
    let specs = sides(args)?;
    crate::runner::interrupt::install().context("cannot install the Ctrl-C handler")?;
    let (done, stop, s) = blocks(args, &specs)?;
    let warnings = ab_render::block_warnings(&done);
    super::print_out(&ab_render::render(&s, &warnings, args.out.format()))?;
    super::serve_record::record(db, &super::serve_record::of_ab(args, &s, &done))?;
    Ok(ab_outcome(&s, &done, stop))
}
