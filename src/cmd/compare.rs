//! `tokbench compare`: a two-cell session (a warmup of each side, then
//! pairs in ABBA order, fixed or `--auto`), the comparison report, and the
//! exit code of `--fail-if-slower`; or the same report from results files.

use anyhow::{Context, Result};

use super::{print_out, shell_words, stop_if_interrupted, Sinks};
use crate::cli::CompareArgs;
use crate::compare::render::render;
use crate::compare::report::{build, paired_series, CompareReport, Judge, Pairing, CONFIDENCE};
use crate::compare::stats::{auto_final, auto_should_stop, AutoDecision, AutoRule, Comparison};
use crate::engine::schedule::{Abba, Look, Rule};
use crate::engine::{self, Cell, Stop, Warning};
use crate::exit::{Outcome, UsageError};
use crate::metrics::{self, Direction};
use crate::model::{BuildInfo, RunRecord};
use crate::plan::{plan_compare, Plan};
use crate::runner::executor::{Executor, ProcessExecutor};
use crate::runner::interrupt;
use crate::store::db::DbChoice;

/// Fewest pairs for which the exact 95% interval exists.
const MIN_PAIRS_FOR_A_VERDICT: u32 = 6;

/// How an `--auto` session ended, and the comparison it decided on.
pub type AutoEnd = (String, Option<Comparison>);

pub fn run(args: &CompareArgs, db: &DbChoice) -> Result<Outcome> {
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
    let plan = plan_compare(args);
    if let Some(out) = stop_if_interrupted() {
        return Ok(out);
    }
    let plan = plan?;
    for note in plan.notes() {
        crate::say!("note: {note}");
    }
    plan.cells[0]
        .driver
        .check_metric(&args.metric)
        .map_err(|e| UsageError(e.to_string()))?;
    if args.opts.dry_run {
        print_dry_run(&plan, args);
        return Ok(Outcome::Ok);
    }
    if !args.auto && args.pairs < MIN_PAIRS_FOR_A_VERDICT {
        crate::say!(
            "warning: --pairs {} is too few for a 95% interval (at least {MIN_PAIRS_FOR_A_VERDICT}): the verdict will be 'inconclusive'",
            args.pairs
        );
    }
    let mut sinks = Sinks::open(&plan, db, true)?;
    let (report, stop) = execute(&plan, args, judge, &ProcessExecutor, &mut sinks)?;
    let outcome = finish(&report, args, Some(stop))?;
    super::profile::after_session(&args.profile, &plan, stop)?;
    Ok(outcome)
}

/// The primary metric and its direction, settled by the first successful
/// run (`eval_tps` of a llama-bench session is its generation test) and
/// checked against the keys it printed: a name it lacks is a usage error.
/// Until a run succeeds, the name asked for.
struct Primary {
    asked: String,
    driver: &'static dyn crate::driver::Driver,
    settled: Option<(String, Direction)>,
}

impl Primary {
    fn get(&mut self, records: &[RunRecord]) -> Result<(String, Direction)> {
        if let Some(p) = &self.settled {
            return Ok(p.clone());
        }
        let fallback = metrics::direction(&self.asked).unwrap_or(Direction::HigherIsBetter);
        if !records.iter().any(|r| r.status == "ok") {
            return Ok((self.asked.clone(), fallback));
        }
        let name = self
            .driver
            .primary_metric(&self.asked, records)
            .map_err(|e| UsageError(e.to_string()))?;
        let dir = metrics::direction(&name).unwrap_or(fallback);
        self.settled = Some((name.clone(), dir));
        Ok((name, dir))
    }
}

/// After each pair: `--auto`'s decision on the primary metric.
fn auto_look(
    rule: &AutoRule,
    (a, b): (Vec<f64>, Vec<f64>),
    dir: Direction,
    threshold: f64,
) -> Option<AutoEnd> {
    match auto_should_stop(&a, &b, dir, threshold, rule) {
        AutoDecision::Continue => None,
        AutoDecision::Decided(c) => Some((
            format!(
                "decided after {} pairs (each look at {:.2}% confidence, {:.0}% overall)",
                a.len(),
                rule.per_look_confidence() * 100.0,
                CONFIDENCE * 100.0
            ),
            Some(c),
        )),
        AutoDecision::BudgetSpent(c) => Some((
            format!("--max-pairs {} spent without a decision", rule.max_pairs),
            c,
        )),
    }
}

/// The schedule of `args`: fixed pairs, or `--auto` judging after each
/// pair. Either way the primary metric is checked after the warmups,
/// before any counted run (after the first pair when no warmup succeeded).
fn schedule(args: &CompareArgs, plan: &Plan) -> Abba<AutoEnd> {
    let mut primary = Primary {
        asked: args.metric.clone(),
        driver: plan.cells[0].driver,
        settled: None,
    };
    let rule = AutoRule {
        max_pairs: args.max_pairs as usize,
        ..AutoRule::default()
    };
    let (auto, threshold, max_time) = (args.auto, args.threshold / 100.0, args.max_time);
    let look: Rule<AutoEnd> = Box::new(move |records: &[RunRecord], look| {
        let (name, dir) = primary.get(records)?;
        let series = || paired_series(records, &name);
        Ok(match look {
            _ if !auto => None,
            Look::BeforePair(_) => None,
            Look::TimeSpent(k) => {
                let (a, b) = series();
                Some((
                    format!(
                        "--max-time {} spent after {k} pairs",
                        humantime::format_duration(max_time)
                    ),
                    auto_final(&a, &b, dir, threshold, &rule),
                ))
            }
            Look::AfterPair(_) => auto_look(&rule, series(), dir, threshold),
        })
    });
    match args.auto {
        true => Abba::adaptive(args.opts.warmup, args.max_pairs as usize, max_time, look),
        false => Abba::fixed(args.opts.warmup, args.pairs as usize, Some(look)),
    }
}

/// Runs the two-cell session and builds its report.
pub fn execute(
    plan: &Plan,
    args: &CompareArgs,
    judge: Judge,
    exec: &dyn Executor,
    sinks: &mut Sinks,
) -> Result<(CompareReport, Stop)> {
    let mut abba = schedule(args, plan);
    let out = engine::run(
        &plan.cells,
        &plan.settings,
        &mut abba,
        exec,
        &mut sinks.all(),
    )?;
    let (why, decided) = match abba.ended {
        Some((why, c)) => (Some(why), c),
        None => (None, None),
    };
    let judge = Judge {
        primary_override: decided,
        ..judge
    };
    let mut report = build(out.records, Pairing::Interleaved, &judge);
    report.auto = why;
    let mut warnings = session_warnings(plan, &report.runs, &out.warnings);
    warnings.append(&mut report.warnings);
    report.warnings = warnings;
    Ok((report, out.stop))
}

/// What `run` reports too, for both sides: the plan's notes, the samplers'
/// warnings, the offload check, and every per-run warning with its side and run.
fn session_warnings(plan: &Plan, runs: &[RunRecord], seen: &[Warning]) -> Vec<String> {
    let mut out = plan.notes();
    for cell in &plan.cells {
        let build = side_build(cell, runs);
        if let Some(w) = cell.offload_warning(&build) {
            out.push(format!("{}: {w}", side_name(cell)));
        }
    }
    for w in seen {
        let cell = &plan.cells[w.cell];
        out.push(match w.seq {
            Some(seq) => format!("{} run {seq}: {}", side_name(cell), w.text),
            None => w.text.clone(),
        });
    }
    out
}

fn side_name(cell: &Cell) -> String {
    cell.side.unwrap_or("?").to_uppercase()
}

/// The build a side's runs report (the log names the backend), else the probe's.
fn side_build(cell: &Cell, runs: &[RunRecord]) -> BuildInfo {
    runs.iter()
        .find(|r| r.side.as_deref() == cell.side && r.status == "ok")
        .map(|r| r.build.clone())
        .unwrap_or_else(|| cell.probe.build.clone())
}

fn print_dry_run(plan: &Plan, args: &CompareArgs) {
    for (name, cell) in ["A", "B"].iter().zip(&plan.cells) {
        println!("# {name}: {}", cell.label);
        println!("{}", shell_words(&cell.full_argv()));
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
    let loaded = crate::compare::stored::load(&args.files)?;
    let Some((records, pairing)) = crate::compare::stored::comparison(&loaded, true)? else {
        return Err(UsageError(format!(
            "'{}' does not hold both sides of a comparison: pass two results files (before.jsonl after.jsonl)",
            args.files[0].display()
        ))
        .into());
    };
    metrics::resolve(&judge.primary, &records).map_err(|e| UsageError(e.to_string()))?;
    let report = build(records, pairing, &judge);
    finish(&report, args, None)
}

pub(crate) fn finish(
    report: &CompareReport,
    args: &CompareArgs,
    stop: Option<Stop>,
) -> Result<Outcome> {
    print_out(&render(report, args.opts.out.format()))?;
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
        return Ok(crate::cmd::revs::git_bisect_outcome(report));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::driver::probe::ToolKind;
    use crate::engine::test_support::{bin, cell, fixture};
    use crate::engine::Settings;
    use crate::runner::executor::{Recorded, Replay};
    use clap::Parser;

    fn args(extra: &[&str]) -> CompareArgs {
        let argv = [
            "tokbench", "compare", "--a", "a", "--b", "b", "-m", "m.gguf",
        ];
        let cli = Cli::try_parse_from(argv.iter().chain(extra)).unwrap();
        match cli.command {
            Command::Compare(a) => *a,
            _ => unreachable!(),
        }
    }

    fn plan(dir: &std::path::Path, b_cuda: bool) -> Plan {
        let mut a = cell(bin(dir, "a"), ToolKind::Completion, vec![false]);
        let mut b = cell(bin(dir, "b"), ToolKind::Completion, vec![false]);
        (a.side, b.side) = (Some("a"), Some("b"));
        a.notes.push("note of A".into());
        b.notes.push("note of B".into());
        b.offload_to = b_cuda.then_some("CUDA");
        Plan {
            cells: vec![a, b],
            settings: Settings {
                timeout: std::time::Duration::from_secs(5),
                ..Settings::default()
            },
            format: crate::cli::Format::Table,
        }
    }

    fn judge(args: &CompareArgs) -> Judge {
        Judge {
            primary: args.metric.clone(),
            threshold: args.threshold / 100.0,
            fail_if_slower_pct: args.fail_if_slower,
            primary_override: None,
        }
    }

    fn cpu_run() -> Recorded {
        let log = fixture("llama/2026_completion_cpu_stderr.txt");
        Recorded::ok(
            "",
            &format!("system_info: n_threads = 2 | CPU : SSE3 = 1 |\n{log}"),
            400,
        )
    }

    fn no_sinks() -> Sinks {
        Sinks::none()
    }

    #[test]
    fn compare_b_gpu_cuda_on_a_cpu_build_warns_like_run() {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan(dir.path(), true);
        let args = args(&["--b-gpu", "cuda", "--pairs", "1", "--warmup", "0"]);
        let exec = Replay::new([cpu_run(), cpu_run()]);
        let (report, stop) = execute(&plan, &args, judge(&args), &exec, &mut no_sinks()).unwrap();
        assert_eq!(stop, Stop::Completed);
        let backend = report.runs[1].build.backend.clone().unwrap_or_default();
        let expected = format!("B: --gpu cuda was asked for but the build reports backend '{backend}': nothing was offloaded to a CUDA device");
        assert!(
            report.warnings.contains(&expected),
            "{:#?}",
            report.warnings
        );
        assert!(!report.warnings.iter().any(|w| w.starts_with("A: --gpu")));
    }

    #[test]
    fn compare_reports_per_run_warnings_with_side_and_run_and_both_sides_notes() {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan(dir.path(), false);
        let args = args(&["--pairs", "2", "--warmup", "0"]);
        let no_eval = "llama_perf_context_print:        load time =     100.00 ms\nllama_perf_context_print: prompt eval time =      50.00 ms /    10 tokens (    5.00 ms per token,   200.00 tokens per second)\n";
        let exec = Replay::new([
            cpu_run(),
            cpu_run(),
            Recorded::ok("", no_eval, 10),
            cpu_run(),
        ]);
        let (report, _) = execute(&plan, &args, judge(&args), &exec, &mut no_sinks()).unwrap();
        let w = &report.warnings;
        assert!(
            w.contains(&"note of A".to_string()) && w.contains(&"note of B".to_string()),
            "{w:#?}"
        );
        assert!(
            w.iter()
                .any(|x| x.starts_with("B run 2: its timing block has no eval (generation) line")),
            "{w:#?}"
        );
    }

    #[test]
    fn fail_if_slower_gates_a_planted_slowdown() {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan(dir.path(), false);
        let args = args(&["--pairs", "6", "--warmup", "0", "--fail-if-slower", "5"]);
        let line = |tps: f64| {
            format!("llama_perf_context_print:        eval time =     {:.2} ms /    64 runs   ({:.2} ms per token, {tps:.2} tokens per second)\n", 64000.0 / tps, 1000.0 / tps)
        };
        // ABBA ABBA ...: B at 80 t/s against A at 100.
        let order = "ABBAABBAABBA";
        let runs = order.chars().enumerate().map(|(i, s)| {
            let jitter = (i % 3) as f64 * 0.2;
            let tps = if s == 'A' {
                100.0 + jitter
            } else {
                80.0 + jitter
            };
            Recorded::ok("", &line(tps), 100)
        });
        let exec = Replay::new(runs);
        let (report, stop) = execute(&plan, &args, judge(&args), &exec, &mut no_sinks()).unwrap();
        assert_eq!(report.pairs, 6);
        assert!(
            report.regression.as_ref().is_some_and(|r| r.regressed),
            "{:?}",
            report.regression
        );
        assert_eq!(
            finish(&report, &args, Some(stop)).unwrap(),
            Outcome::Regression
        );
    }
}
