//! `tokbench ops`: the glue that finds the builds and runs their rounds as
//! a session of the engine (one cell per build, driven by the
//! test-backend-ops driver; rounds in ABBA order, fixed or `--auto`
//! ([`crate::ops::auto`]); every round through the engine's sinks: `-o` and
//! the history's ops tables), then judges the cases with
//! [`crate::ops::compare`].

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::{print_out, Sinks};
use crate::cli::OpsArgs;
use crate::compare::stats::AutoRule;
use crate::driver::backend_ops::{first_gpu, perf_argv, OpFilter};
use crate::driver::probe::probe;
use crate::engine::schedule::{Abba, Look, Rule, Schedule, Sequential};
use crate::engine::{self, Cell, Stop};
use crate::exit::{Outcome, UsageError};
use crate::model::{OpResult, RunRecord};
use crate::ops::auto::{AutoStop, OpsAuto};
use crate::ops::compare::{
    compare_rounds, regressions, sort_by_effect, summarize_rounds, OpCase, OpRow, OpsComparison,
    Settings,
};
use crate::ops::render::{render, OpsReport};
use crate::runner::executor::{Executor, ProcessExecutor};
use crate::runner::interrupt;
use crate::store::db::DbChoice;

const BINARY: &str = "test-backend-ops";
/// An op filter that matches no case: lists the backends, runs nothing.
const NO_OP: &str = "tokbench-lists-backends-only";

pub fn run(args: &OpsArgs, db: &DbChoice) -> Result<Outcome> {
    interrupt::install().context("cannot install the SIGINT/SIGTERM handlers")?;
    if args.auto && args.b.is_none() && args.b_rev.is_none() {
        bail!(UsageError(
            "--auto decides a comparison: give build B too (--b PATH or --b-rev REV), or use --rounds N for one build".into()
        ));
    }
    let a_bin = side_binary(args.a.as_deref(), args.a_rev.as_deref(), args)?;
    let b_bin = match (&args.b, &args.b_rev) {
        (None, None) => None,
        (b, rev) => Some(side_binary(b.as_deref(), rev.as_deref(), args)?),
    };
    let device = match &args.device {
        Some(d) => d.clone(),
        None => default_device(&a_bin)?,
    };
    let filter = OpFilter {
        device: device.clone(),
        ops: args.op.clone(),
        params: args.params.clone(),
    };
    let a_side = b_bin.is_some().then_some("a");
    let mut cells = vec![cell(a_bin, a_side, &filter, args.rounds)?];
    if let Some(b) = b_bin {
        cells.push(cell(b, Some("b"), &filter, args.rounds)?);
    }
    if args.dry_run {
        for c in &cells {
            println!("{}", crate::runner::shell_words(&c.full_argv()));
        }
        return Ok(Outcome::Ok);
    }
    let mut sinks = Sinks::for_ops(args.output.as_deref(), db)?;
    let (records, stop, auto) = session(&cells, args, &ProcessExecutor, &mut sinks)?;
    let (ra, rb) = rounds_of(&records);
    let report = build_report(args, &cells, (&ra, &rb), auto.as_ref(), &device);
    if let Some(path) = &args.export_sql {
        export(path, &cells, &ra, &rb)?;
    }
    print_out(&render(&report, args.out.format()))?;
    Ok(match stop {
        Stop::Interrupted(sig) => Outcome::Interrupted(sig),
        _ if !report.regressions.is_empty() => Outcome::Regression,
        _ => Outcome::Ok,
    })
}

/// One build as a cell of the session: its probe must say test-backend-ops.
fn cell(bin: PathBuf, side: Option<&'static str>, filter: &OpFilter, rounds: u32) -> Result<Cell> {
    let probe = probe(&bin)?;
    let driver = crate::driver::for_probe(&probe);
    if driver.tool() != BINARY {
        bail!(
            "'{}' is {}, not {BINARY}: pass the test-backend-ops binary of each build (or the directory holding it)",
            bin.display(),
            driver.tool()
        );
    }
    Ok(Cell {
        label: side.map_or(BINARY.to_string(), |s| {
            format!("{BINARY} {}", s.to_uppercase())
        }),
        argv: perf_argv(filter, &probe),
        processes: driver.processes(0, rounds),
        bin,
        driver,
        probe,
        model: Default::default(),
        side,
        sweep_cell: None,
        offload_to: None,
        notes: Vec::new(),
    })
}

/// The rounds: ABBA pairs with two builds (round k of A with round k of B;
/// `--auto`: until its rule stops), else one build's rounds in a row. A
/// failed round ends the session with its error (the records before it are
/// in `-o` already).
fn session(
    cells: &[Cell],
    args: &OpsArgs,
    exec: &dyn Executor,
    sinks: &mut Sinks,
) -> Result<(Vec<RunRecord>, Stop, Option<OpsAuto>)> {
    let settings = engine::Settings {
        timeout: args.timeout,
        output: args.output.clone(),
        ..Default::default()
    };
    let auto = (args.auto && cells.len() > 1).then(|| {
        let rule = AutoRule {
            max_pairs: args.max_rounds as usize,
            ..AutoRule::default()
        };
        Rc::new(RefCell::new(OpsAuto::new(rule, args.threshold / 100.0)))
    });
    let mut schedule: Box<dyn Schedule> = match (cells.len(), &auto) {
        (1, _) => Box::new(Sequential::of_cell(0, &cells[0].processes)),
        (_, None) => Box::new(Abba::<()>::fixed(0, args.rounds as usize, None)),
        (_, Some(state)) => Box::new(Abba::adaptive(
            0,
            args.max_rounds as usize,
            args.max_time,
            auto_look(state.clone()),
        )),
    };
    let out = engine::run(cells, &settings, schedule.as_mut(), exec, &mut sinks.all())?;
    for w in &out.warnings {
        crate::say!("warning: {}", w.text);
    }
    if out.stop == Stop::FailedRun {
        let why = out.records.iter().rev().find_map(|r| r.error.clone());
        bail!(why.unwrap_or_else(|| format!("a {BINARY} round failed")));
    }
    let auto = auto.map(|state| {
        let mut st = state.borrow().clone();
        let (ra, rb) = rounds_of(&out.records);
        st.end_early(&ra, &rb, AutoStop::Interrupted);
        st
    });
    Ok((out.records, out.stop, auto))
}

/// `--auto`'s look after every round (and once more when --max-time is spent).
fn auto_look(state: Rc<RefCell<OpsAuto>>) -> Rule<AutoStop> {
    Box::new(move |records: &[RunRecord], look| {
        let mut st = state.borrow_mut();
        Ok(match look {
            Look::BeforePair(_) => None,
            Look::AfterPair(_) => {
                let (ra, rb) = rounds_of(records);
                st.after_round(&ra, &rb)
            }
            Look::TimeSpent(_) => {
                let (ra, rb) = rounds_of(records);
                st.end_early(&ra, &rb, AutoStop::TimeBudget);
                Some(AutoStop::TimeBudget)
            }
        })
    })
}

/// Each side's rounds, in run order: the cases of every finished round.
fn rounds_of(records: &[RunRecord]) -> (Vec<Vec<OpResult>>, Vec<Vec<OpResult>>) {
    let of = |side: Option<&str>| {
        records
            .iter()
            .filter(|r| r.status == "ok" && r.side.as_deref() == side)
            .map(|r| r.ops.clone())
            .collect::<Vec<_>>()
    };
    match records.iter().any(|r| r.side.is_some()) {
        true => (of(Some("a")), of(Some("b"))),
        false => (of(None), Vec::new()),
    }
}

/// The binary of one side: a path (the binary, its directory, or a build
/// directory with bin/), or a revision built into the cache.
fn side_binary(path: Option<&Path>, rev: Option<&str>, args: &OpsArgs) -> Result<PathBuf> {
    if let Some(rev) = rev {
        return build_rev(rev, args);
    }
    let Some(path) = path else {
        bail!(UsageError("give --a PATH or --a-rev REV".into()));
    };
    let found = [
        path.to_path_buf(),
        path.join(BINARY),
        path.join("bin").join(BINARY),
    ]
    .into_iter()
    .find(|p| p.is_file());
    let bin = found.with_context(|| {
        format!("'{}' is neither {BINARY} nor a directory holding it (or bin/{BINARY}); build it with 'cmake --build DIR --target {BINARY}' (tests on: -DLLAMA_BUILD_TESTS=ON)", path.display())
    })?;
    crate::driver::probe::check_binary(&bin)?;
    Ok(bin)
}

fn build_rev(rev: &str, args: &OpsArgs) -> Result<PathBuf> {
    let tb = super::revs::ToolBuild {
        src: args.src.clone().unwrap_or_else(|| PathBuf::from(".")),
        tool: BINARY.to_string(),
        opts: crate::cli::BuildOpts {
            backend: crate::cli::BuildBackend::Auto,
            cmake_args: Vec::new(),
        },
        jobs: None,
        cache: super::revs::cache_root()?,
    };
    Ok(tb.build(rev)?.1)
}

/// The first GPU device the binary lists, else CPU.
fn default_device(bin: &Path) -> Result<String> {
    let (_, text) =
        crate::runner::process::query(bin, &["perf", "-o", NO_OP], Duration::from_secs(120))?;
    Ok(first_gpu(&text).unwrap_or_else(|| "CPU".to_string()))
}

fn build_report(
    args: &OpsArgs,
    cells: &[Cell],
    (ra, rb): (&[Vec<OpResult>], &[Vec<OpResult>]),
    auto: Option<&OpsAuto>,
    device: &str,
) -> OpsReport {
    let (a, b) = (&cells[0], cells.get(1));
    let s = Settings {
        threshold: args.threshold / 100.0,
        peak_bandwidth_gb_s: args.peak_bandwidth,
        peak_tflops: args.peak_tflops,
    };
    let mut comparison = b.map(|_| compare_rounds(ra, rb, &s));
    if let (Some(c), Some(st)) = (comparison.as_mut(), auto) {
        judge_by_auto(c, st);
    }
    let regressed: Vec<OpCase> = match (&comparison, args.fail_if_slower) {
        (Some(c), Some(p)) => regressions(c, p).into_iter().map(OpRow::case).collect(),
        _ => Vec::new(),
    };
    let described = ra
        .iter()
        .flatten()
        .map(|r| r.device.as_str())
        .find(|d| !d.is_empty());
    OpsReport {
        a: a.bin.display().to_string(),
        b: b.map(|b| b.bin.display().to_string()),
        argv: a.full_argv(),
        rounds: ra.len().min(if b.is_some() { rb.len() } else { ra.len() }),
        device: described.map_or(device.to_string(), |d| format!("{device} ({d})")),
        single: if b.is_none() {
            summarize_rounds(ra, &s)
        } else {
            Vec::new()
        },
        comparison,
        fail_if_slower_pct: args.fail_if_slower,
        regressions: regressed,
        warnings: ran_nothing(ra, rb, device).into_iter().collect(),
        auto: auto.map(|st| st.summary(args.max_time)),
    }
}

/// `--auto`: each row's verdict and interval are those of the look that
/// decided it (or of the last judgement while it was open).
fn judge_by_auto(c: &mut OpsComparison, st: &OpsAuto) {
    for row in &mut c.rows {
        match st.outcome(&row.case()) {
            Some(o) => row.judged_by(o.comparison.clone(), o.decided_at),
            None => row.judged_by(None, None),
        }
    }
    sort_by_effect(&mut c.rows);
}

fn ran_nothing(ra: &[Vec<OpResult>], rb: &[Vec<OpResult>], device: &str) -> Option<String> {
    ra.iter()
        .chain(rb)
        .flatten()
        .all(|r| r.usable_time().is_none())
        .then(|| format!("no case ran on device '{device}': check --op / --params (test-backend-ops -o / -p) and --device"))
}

fn export(path: &Path, cells: &[Cell], ra: &[Vec<OpResult>], rb: &[Vec<OpResult>]) -> Result<()> {
    let mut rows = Vec::new();
    for (build, rounds) in cells.iter().zip([ra, rb]) {
        let side = build.side.unwrap_or("a").to_uppercase();
        for r in rounds.iter().flatten() {
            let commit = crate::ops::export::side_commit(&r.build_commit, &side, &build.bin);
            rows.push((commit, r.clone()));
        }
    }
    crate::ops::export::write_sqlite(path, &rows)?;
    crate::say!(
        "tokbench: wrote {} row(s) into '{}' (table test_backend_ops)",
        rows.len(),
        path.display()
    );
    Ok(())
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;
