//! `tokbench sweep`: one engine cell per sweep cell, the [`Rounds`]
//! schedule racing them, and the ranked result with its recommendation.
//! Exit 0 with a best cell, 1 when every cell was infeasible, 130 on an
//! interrupt (the table of what was measured is printed).

use anyhow::{Context, Result};

use super::{print_out, shell_words, stop_if_interrupted, Sinks};
use crate::cli::SweepArgs;
use crate::driver::probe::ToolKind;
use crate::engine::{self, Stop};
use crate::exit::Outcome;
use crate::plan::{plan_sweep, Plan};
use crate::runner::executor::{Executor, ProcessExecutor};
use crate::runner::interrupt;
use crate::store::db::DbChoice;
use crate::sweep::race::Status;
use crate::sweep::recommend::Tool;
use crate::sweep::result::SweepResult;
use crate::sweep::schedule::Rounds;
use crate::sweep::spec::{dry_run_text, progress_text, SweepSpec};

pub fn run(args: &SweepArgs, db: &DbChoice) -> Result<Outcome> {
    let seed = args.order_seed.unwrap_or_else(clock_seed);
    let mut spec = SweepSpec::from_args(args, seed)?;
    interrupt::install().context("cannot install the SIGINT/SIGTERM handlers")?;
    let plan = plan_sweep(args, &spec);
    if let Some(out) = stop_if_interrupted() {
        return Ok(out);
    }
    let plan = plan?;
    for note in plan.notes() {
        crate::say!("note: {note}");
    }
    if args.opts.dry_run {
        print_out(&dry_run_text(&spec, |i| {
            shell_words(&plan.cells[i].full_argv())
        }))?;
        return Ok(Outcome::Ok);
    }
    let mut sinks = Sinks::open(&plan, db, false)?;
    let (result, stop) = execute(&plan, &mut spec, &ProcessExecutor, &mut sinks)?;
    let printed = print_out(&crate::sweep::render::render(&result, plan.format));
    printed.map(|()| finish(&result, stop))
}

/// The seed of the rounds' order when none is given (recorded in the result).
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Runs the race through the engine; the result of what was measured.
pub fn execute(
    plan: &Plan,
    spec: &mut SweepSpec,
    exec: &dyn Executor,
    sinks: &mut Sinks,
) -> Result<(SweepResult, Stop)> {
    let cells = spec.cells.len();
    let progress = Box::new(move |race: &crate::sweep::race::Race, elapsed| {
        crate::say!("{}", progress_text(race, cells, elapsed));
    });
    let mut rounds = Rounds::new(
        spec.new_race(),
        &spec.metric,
        plan.cells[0].driver,
        progress,
    );
    let out = engine::run(
        &plan.cells,
        &plan.settings,
        &mut rounds,
        exec,
        &mut sinks.all(),
    )?;
    if matches!(out.stop, Stop::Interrupted(_)) {
        rounds.race.interrupt();
    }
    for w in &out.warnings {
        let name = &spec.cells[w.cell].name;
        crate::say!("warning: {name}: {}", w.text);
    }
    spec.metric = rounds.metric.clone();
    let tool = match plan.cells[0].probe.kind {
        ToolKind::Bench => Tool::Bench,
        _ => Tool::Completion,
    };
    Ok((spec.finish(&rounds.race, tool), out.stop))
}

/// 130 on an interrupt, 1 when no cell was feasible, else 0.
fn finish(r: &SweepResult, stop: Stop) -> Outcome {
    if let Stop::Interrupted(sig) = stop {
        return Outcome::Interrupted(sig);
    }
    let feasible = r
        .rows
        .iter()
        .any(|row| !matches!(row.status, Status::Infeasible { .. }));
    match feasible {
        true => Outcome::Ok,
        false => Outcome::Failed,
    }
}
