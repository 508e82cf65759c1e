//! `tokbench serve`: options to a plan, the plan to a session of cells on
//! the session engine ([`super::serve_cells`]: one cell here, two for A/B in
//! [`super::serve_ab`]), blocks to records and figures, figures to output
//! and an exit code. The target is a running server (`--url`), one
//! tokbench starts (`--server`), or the built-in stand-in (`--standin`, for
//! the client's own overhead); the llama-server driver
//! ([`crate::driver::server`]) starts, readies, loads and stops it.
//!
//! `--rate-sweep` is not a schedule of cells but a search over offered
//! loads (double until the knee, then bisect the highest rate meeting
//! `--slo` with repeated trials): which load comes next depends on the
//! figures of the last block, so [`crate::serve::sweep::run`] asks for
//! each block itself, here against one target brought up once through the
//! same driver and cells as the engine uses.

use std::cell::RefCell;

use anyhow::{Context, Result};

use super::serve_cells::{failed_block, BlockFile, Cells};
use super::serve_plan::{close_output, load_at, open_output, outcome, plan, settings, Plan};
use crate::cli::ServeArgs;
use crate::driver::server::Target;
use crate::driver::Service;
use crate::engine::schedule::Sequential;
use crate::engine::sink::Sink;
use crate::engine::{self, Lifetime, Stop};
use crate::exit::Outcome;
use crate::serve::output::RecordWriter;
use crate::serve::summary::{BlockSummary, SweepPoint, SweepSummary};
use crate::serve::{render, sweep};
use crate::store::db::DbChoice;

/// One server, one block: a one-cell session on the engine.
fn single(args: &ServeArgs, db: &DbChoice, plan: &Plan) -> Result<Outcome> {
    let writer = open_output(args)?;
    let target = vec![(single_target(args), None)];
    let mut cells = Cells::new(args, plan, target, Lifetime::Session, writer.as_ref());
    let mut file = writer.as_ref().map(BlockFile);
    let mut sinks: Vec<&mut dyn Sink<BlockSummary>> = Vec::new();
    sinks.extend(file.iter_mut().map(|f| f as &mut dyn Sink<BlockSummary>));
    let mut schedule = Sequential::of_cell(0, &[false]);
    let out = engine::session(&mut cells, &settings(plan), 1, &mut schedule, &mut sinks);
    drop(sinks);
    close_output(writer)?;
    let out = out?;
    if out.stop == Stop::FailedRun {
        return Err(failed_block(&out.records));
    }
    let Some(s) = out.records.first() else {
        // Ctrl-C before the block started (the server was still loading).
        return Ok(Outcome::Interrupted(match out.stop {
            Stop::Interrupted(sig) => sig,
            _ => nix::libc::SIGINT,
        }));
    };
    super::print_out(&render::block(s, args.out.format()))?;
    super::serve_record::record(db, &super::serve_record::of_block(args, s))?;
    Ok(outcome(&[s], s.slo_met == Some(false)))
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

/// The sweep's blocks against one target brought up once (see the `//!`).
fn sweep_blocks(
    args: &ServeArgs,
    plan: &Plan,
    writer: Option<&RefCell<RecordWriter>>,
) -> Result<(Vec<SweepPoint>, Vec<BlockSummary>)> {
    let closed = args.concurrency.is_some();
    let (levels, automatic) = sweep_levels(args, closed);
    let has_slo = !plan.targets.is_empty();
    let trials = if has_slo { args.trials as usize } else { 1 };
    let target = vec![(single_target(args), None)];
    let mut cells = Cells::new(args, plan, target, Lifetime::Session, writer);
    let mut at = cells.bring_up(0)?;
    let mut blocks: Vec<BlockSummary> = Vec::new();
    let mut step = |level: f64, trial: usize| -> Result<Option<SweepPoint>> {
        let load = load_at(args, plan, Some(level), closed);
        let seed = args
            .seed
            .wrapping_add(1000 * trial as u64 + blocks.len() as u64);
        let s = cells.block(&mut at, load, seed, None)?;
        if let Some(w) = writer {
            w.borrow().send(&s);
        }
        if crate::driver::server::all_failed(&s) {
            return Err(failed_block(std::slice::from_ref(&s)));
        }
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
    let swept = sweep::run(&levels, automatic, trials, has_slo, closed, &mut step);
    at.stop();
    let (points, _) = swept?;
    Ok((points, blocks))
}

fn run_sweep(args: &ServeArgs, db: &DbChoice, plan: &Plan) -> Result<Outcome> {
    let writer = open_output(args)?;
    let swept = sweep_blocks(args, plan, writer.as_ref());
    let closed = args.concurrency.is_some();
    let has_slo = !plan.targets.is_empty();
    let (points, blocks) = match swept {
        Ok(x) => x,
        Err(e) => {
            close_output(writer)?;
            return Err(e);
        }
    };
    let (slo_max, _) = sweep::slo_bracket(&points);
    let s = SweepSummary {
        kind: "serve_sweep",
        schema_version: crate::model::SCHEMA_VERSION,
        axis: if closed { "concurrency" } else { "rate" },
        knee: sweep::knee(&points, !closed),
        slo_max: slo_max.filter(|_| has_slo),
        slo: args.slo.iter().cloned().collect(),
        points,
    };
    if let Some(w) = &writer {
        w.borrow().send(&s);
    }
    close_output(writer)?;
    super::print_out(&render::sweep(&s, args.out.format()))?;
    super::serve_record::record(db, &super::serve_record::of_sweep(args, &s, &blocks))?;
    let refs: Vec<&BlockSummary> = blocks.iter().collect();
    Ok(outcome(&refs, has_slo && s.slo_max.is_none()))
}

/// The target of a one-server run, as the options name it.
fn single_target(args: &ServeArgs) -> Target {
    match (&args.url, &args.standin) {
        (Some(u), _) => Target::Url(u.clone()),
        (None, Some(s)) => Target::Standin(s.clone()),
        (None, None) => Target::Server(args.server.clone().unwrap_or_default()),
    }
}

pub fn run(args: &ServeArgs, db: &DbChoice) -> Result<Outcome> {
    crate::runner::interrupt::install().context("cannot install the Ctrl-C handler")?;
    let plan = plan(args)?;
    if args.rate_sweep {
        run_sweep(args, db, &plan)
    } else {
        single(args, db, &plan)
    }
}
