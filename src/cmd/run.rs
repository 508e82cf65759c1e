//! `tokbench run`: a one-cell session (warmups, then counted runs), one report.

use anyhow::{Context, Result};

use super::{print_out, shell_words, stop_if_interrupted, Sinks};
use crate::cli::RunArgs;
use crate::engine::{self, Stop};
use crate::exit::Outcome;
use crate::model::RunRecord;
use crate::plan::{plan_run, Plan};
use crate::report::{render, RunReport};
use crate::runner::executor::{Executor, ProcessExecutor};
use crate::runner::interrupt;
use crate::store::db::DbChoice;

pub fn run(args: &RunArgs, db: &DbChoice) -> Result<Outcome> {
    interrupt::install().context("cannot install the SIGINT/SIGTERM handlers")?;
    let plan = plan_run(args);
    if let Some(out) = stop_if_interrupted() {
        return Ok(out);
    }
    let plan = plan?;
    for note in &plan.cells[0].notes {
        crate::say!("note: {note}");
    }
    for w in plan.settings.sampler.warnings() {
        crate::say!("warning: {w}");
    }
    if args.opts.dry_run {
        print_dry_run(&plan);
        return Ok(Outcome::Ok);
    }
    let mut sinks = Sinks::open(&plan, db, true)?;
    let (records, stop) = execute(&plan, &ProcessExecutor, &mut sinks)?;
    let report = build_report(&plan, records, stop);
    let printed = print_out(&render(&report, plan.format));
    let outcome = finish(&report, stop);
    printed?;
    super::profile::after_session(&args.profile, &plan, stop)?;
    Ok(outcome)
}

fn print_dry_run(plan: &Plan) {
    let cell = &plan.cells[0];
    let warm = cell.processes.iter().filter(|w| **w).count();
    println!("{}", shell_words(&cell.full_argv()));
    println!(
        "# {} binary; {} process run(s): {warm} warmup + {} counted; timeout {} each",
        cell.driver.tool(),
        cell.processes.len(),
        cell.processes.len() - warm,
        humantime::format_duration(plan.settings.timeout)
    );
}

/// The session of one cell, in order.
pub fn execute(
    plan: &Plan,
    exec: &dyn Executor,
    sinks: &mut Sinks,
) -> Result<(Vec<RunRecord>, Stop)> {
    let mut schedule = engine::schedule::Sequential::of_cell(0, &plan.cells[0].processes);
    let out = engine::run(
        &plan.cells,
        &plan.settings,
        &mut schedule,
        exec,
        &mut sinks.all(),
    )?;
    Ok((out.records, out.stop))
}

/// The report of a finished (or stopped) session.
pub fn build_report(plan: &Plan, runs: Vec<RunRecord>, stop: Stop) -> RunReport {
    let cell = &plan.cells[0];
    let mut report = RunReport::from_records(runs);
    let mut warnings: Vec<String> = cell.notes.clone();
    warnings.extend(plan.settings.sampler.warnings());
    if report.runs.iter().all(|r| r.status != "ok") {
        report.build = cell.probe.build.clone();
    }
    warnings.extend(cell.offload_warning(&report.build));
    warnings.append(&mut report.warnings);
    report.warnings = warnings;
    report.label = cell.label.clone();
    if let Some(first) = report.runs.first() {
        report.binary = first.binary.clone();
        report.machine = first.machine.clone();
    }
    report.model = cell.model.clone();
    report.argv = cell.full_argv();
    report.interrupted = matches!(stop, Stop::Interrupted(_));
    report
}

fn finish(report: &RunReport, stop: Stop) -> Outcome {
    let finished = crate::summary::counted(&report.runs).count();
    for r in report.runs.iter().filter(|r| r.status != "ok") {
        crate::say!("error: {}", r.error.as_deref().unwrap_or("run failed"));
    }
    match stop {
        Stop::Interrupted(sig) => {
            crate::say!("tokbench: interrupted; {finished} counted run(s) finished and kept");
            Outcome::Interrupted(sig)
        }
        _ if !report.failed_runs.is_empty() => Outcome::Failed,
        _ => Outcome::Ok,
    }
}
