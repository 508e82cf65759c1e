//! `tokbench compare`: glue between the session, the report and the exit code.

use anyhow::{Context, Result};

use super::render::render;
use super::report::{build, CompareReport, Judge, Pairing};
use super::session::{plan_sides, run as run_session, Budget, Sides};
use super::stats::AutoRule;
use crate::app::{shell_words, Outcome, UsageError};
use crate::cli::CompareArgs;
use crate::runner::{interrupt, Stop};

/// Fewest pairs for which the exact 95% interval exists.
const MIN_PAIRS_FOR_A_VERDICT: u32 = 6;

pub fn run(args: &CompareArgs) -> Result<Outcome> {
    let judge = Judge {
        primary: args.metric.clone(),
        threshold: args.threshold / 100.0,
        fail_if_slower_pct: args.fail_if_slower,
        primary_override: None,
    };
    if !args.files.is_empty() {
        return from_files(args, judge);
    }
    interrupt::install().context("cannot install the SIGINT/SIGTERM handlers")?;
    let sides = plan_sides(args);
    if let Some(out) = crate::app::stop_if_interrupted() {
        return Ok(out);
    }
    let sides = sides?;
    for note in sides
        .a
        .notes
        .iter()
        .chain(sides.a.sampler.warnings().iter())
    {
        crate::say!("note: {note}");
    }
    let llama_bench = sides.a.probe.kind == crate::runner::probe::ToolKind::Bench;
    crate::metrics::check_planned(&args.metric, llama_bench)
        .map_err(|e| UsageError(e.to_string()))?;
    if args.opts.dry_run {
        print_dry_run(&sides, args);
        return Ok(Outcome::Ok);
    }
    if !args.auto && args.pairs < MIN_PAIRS_FOR_A_VERDICT {
        crate::say!(
            "warning: --pairs {} is too few for a 95% interval (at least {MIN_PAIRS_FOR_A_VERDICT}): the verdict will be 'inconclusive'",
            args.pairs
        );
    }
    let budget = Budget {
        pairs: (!args.auto).then_some(args.pairs as usize),
        rule: AutoRule {
            max_pairs: args.max_pairs as usize,
            ..AutoRule::default()
        },
        max_time: args.max_time,
        cooldown: args.cooldown,
        warmup: args.opts.warmup,
        primary: judge.primary.clone(),
        threshold: judge.threshold,
    };
    let outcome = run_session(&sides, &budget)?;
    let (why, decided) = match outcome.auto {
        Some((why, c)) => (Some(why), c),
        None => (None, None),
    };
    let judge = Judge {
        primary_override: decided,
        ..judge
    };
    let mut report = build(outcome.records, Pairing::Interleaved, &judge);
    report.auto = why;
    report.warnings.extend(outcome.notes);
    finish(&report, args, Some(outcome.stop))
}

fn print_dry_run(sides: &Sides, args: &CompareArgs) {
    for (name, plan) in [("A", &sides.a), ("B", &sides.b)] {
        let argv: Vec<String> = std::iter::once(plan.bin.display().to_string())
            .chain(plan.argv.iter().cloned())
            .collect();
        println!("# {name}: {}", plan.label);
        println!("{}", shell_words(&argv));
    }
    let pairs = if args.auto {
        format!(
            "--auto: up to {} pairs or {}",
            args.max_pairs,
            humantime::format_duration(args.max_time)
        )
    } else {
        format!("{} pairs", args.pairs)
    };
    println!(
        "# order: {} warmup of each side (A, B), then {pairs} in ABBA order",
        args.opts.warmup
    );
}

/// Reads one results file holding both sides (from `compare -o`), or two
/// files taken as A and B.
fn from_files(args: &CompareArgs, judge: Judge) -> Result<Outcome> {
    let loaded = super::stored::load(&args.files)?;
    let Some((records, pairing)) = super::stored::comparison(&loaded) else {
        return Err(UsageError(format!(
            "'{}' does not hold both sides of a comparison: pass two results files (before.jsonl after.jsonl)",
            args.files[0].display()
        ))
        .into());
    };
    crate::metrics::resolve(&judge.primary, &records).map_err(|e| UsageError(e.to_string()))?;
    let report = build(records, pairing, &judge);
    finish(&report, args, None)
}

pub(crate) fn finish(
    report: &CompareReport,
    args: &CompareArgs,
    stop: Option<Stop>,
) -> Result<Outcome> {
    crate::app::print_out(&render(report, args.opts.out.format()))?;
    let interrupted = matches!(stop, Some(Stop::Interrupted(_)));
    if let (Some(pct), None, false) = (args.fail_if_slower, &report.regression, interrupted) {
        // A CI gate that checked nothing must not pass.
        anyhow::bail!(
            "--fail-if-slower {pct}% could not be checked: no comparison of '{}' (pass --metric with a measured metric)",
            report.primary_metric
        );
    }
    let live = stop.is_some();
    if live {
        for r in report.runs.iter().filter(|r| r.status != "ok") {
            crate::say!("error: {}", r.error.as_deref().unwrap_or("run failed"));
        }
    }
    if args.revs.git_bisect_exit && live && !interrupted {
        return Ok(crate::build::revs::git_bisect_outcome(report));
    }
    Ok(match stop {
        Some(Stop::Interrupted(sig)) => {
            crate::say!(
                "tokbench: interrupted; {} complete pair(s) kept",
                report.pairs
            );
            Outcome::Interrupted(sig)
        }
        _ if live && !report.failed_runs.is_empty() => Outcome::Failed,
        _ if report.regression.as_ref().is_some_and(|r| r.regressed) => Outcome::Regression,
        _ => Outcome::Ok,
    })
}
