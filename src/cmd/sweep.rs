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
use crate::sweep::spec::{dry_run_text, progress_text, SweepOptions, SweepSpec};

pub fn run(args: &SweepArgs, db: &DbChoice) -> Result<Outcome> {
    let seed = args.order_seed.unwrap_or_else(clock_seed);
    let mut spec = SweepSpec::from_args(&options(args), seed)?;
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

/// The sweep's own options out of the command line.
fn options(a: &SweepArgs) -> SweepOptions {
    SweepOptions {
        bin: a.bin.clone(),
        model: a.model.clone(),
        vary: a.vary.clone(),
        vary_args: a.vary_args.clone(),
        metric: a.metric.clone(),
        threshold: a.threshold,
        max_time: a.max_time,
        max_rounds: a.max_rounds,
        min_rounds: a.min_rounds,
        prefer: a.prefer,
        order_seed: a.order_seed,
        extra: a.extra.clone(),
    }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::exit::UsageError;
    use crate::sweep::result::Prefer;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SweepArgs,
    }

    fn spec(argv: &[&str]) -> Result<SweepSpec, UsageError> {
        let mut full = vec![
            "tokbench-sweep",
            "--bin",
            "bin/llama-completion",
            "-m",
            "m.gguf",
        ];
        full.extend_from_slice(argv);
        SweepSpec::from_args(&options(&Cli::try_parse_from(full).unwrap().args), 99)
    }

    #[test]
    fn options_become_cells_and_race_settings() {
        let s = spec(&[
            "--vary",
            "-t 1,2",
            "--vary",
            "-fa on,off",
            "--vary-args",
            "-ub 64",
            "--vary-args",
            "-ub 512 -b 512",
            "--threshold",
            "2%",
            "--",
            "-ngl",
            "0",
        ])
        .unwrap();
        assert_eq!(s.cells.len(), 8);
        assert_eq!(s.cells[1].name, "-t 1 -fa on -ub 512 -b 512");
        assert_eq!(
            s.cell_args(0),
            ["-t", "1", "-fa", "on", "-ub", "64", "-ngl", "0"]
        );
        assert_eq!(s.race.threshold, 0.02);
        assert_eq!(s.race.seed, 99);
        assert_eq!(s.race.max_time, Some(Duration::from_secs(900)));
        assert_eq!(
            s.race.direction,
            crate::compare::stats::Direction::HigherIsBetter
        );
        assert_eq!(s.prefer, Prefer::Memory);
        let dry = dry_run_text(&s, |i| s.cell_args(i).join(" "));
        assert!(dry.starts_with(
            "8 cells; each round runs every surviving cell once, in a random order (seed 99)\n"
        ));
        assert!(dry.contains(
            "   2  -t 1 -fa on -ub 512 -b 512\n      -t 1 -fa on -ub 512 -b 512 -ngl 0\n"
        ));
    }

    #[test]
    fn progress_names_the_round_the_survivors_and_the_time_left() {
        let s = spec(&["--vary", "-t 1,2,4", "--max-time", "10m"]).unwrap();
        let mut race = s.new_race();
        race.next_round().unwrap();
        let text = progress_text(&race, s.cells.len(), Duration::from_secs(75));
        assert_eq!(text, "round 1/50: 3 of 3 cells in the race, 8m 45s left");
    }

    #[test]
    fn a_lower_is_better_metric_and_usage_errors() {
        let s = spec(&[
            "--vary",
            "-t 1,2",
            "--metric",
            "load_ms",
            "--order-seed",
            "5",
        ])
        .unwrap();
        assert_eq!(
            s.race.direction,
            crate::compare::stats::Direction::LowerIsBetter
        );
        assert_eq!(s.race.seed, 5);
        let e = |argv: &[&str]| spec(argv).unwrap_err().0;
        assert!(e(&[]).starts_with("nothing to sweep"));
        assert!(e(&["--vary", "-t 1,2", "--metric", "speed"]).contains("'speed'"));
        let bench = spec(&["--vary", "-t 1,2", "--metric", "tg128"]).unwrap();
        assert_eq!(
            bench.race.direction,
            crate::compare::stats::Direction::HigherIsBetter
        );
        assert_eq!(
            e(&["--vary", "-t 1,2", "--", "-t", "4"]),
            "'-t' is both varied and among the fixed arguments after --: remove one"
        );
        assert!(e(&["--vary", "-t 4-1"]).contains("runs backwards"));
        assert_eq!(
            e(&["--vary", "-t 1", "--min-rounds", "9", "--max-rounds", "5"]),
            "--min-rounds '9' is above --max-rounds '5'"
        );
    }
}
