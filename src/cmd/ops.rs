//! `tokbench ops`: the glue that finds the builds, runs the rounds and
//! reports. Until the session engine lands this is a loop of its own: the
//! order comes from [`crate::compare::order`], each invocation from
//! [`crate::runner::process`], the judgement from [`crate::ops::compare`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::json;

use super::print_out;
use crate::cli::OpsArgs;
use crate::engine::order::{interleave_order, Side};
use crate::engine::sink::progress;
use crate::exit::{Outcome, UsageError};
use crate::ops::compare::{compare_rounds, regressions, summarize_rounds, OpCase, Settings};
use crate::ops::record::OpResult;
use crate::ops::render::{render, OpsReport};
use crate::runner::interrupt;
use crate::runner::process::{self, Ending, Spawn};
use crate::store::jsonl::JsonlWriter;

const BINARY: &str = "test-backend-ops";
/// An op filter that matches no case: lists the backends, runs nothing.
const NO_OP: &str = "tokbench-lists-backends-only";

/// One side: its binary and the argv it runs each round.
struct Build {
    side: Side,
    bin: PathBuf,
    argv: Vec<String>,
}

pub fn run(args: &OpsArgs) -> Result<Outcome> {
    interrupt::install().context("cannot install the SIGINT/SIGTERM handlers")?;
    let a_bin = side_binary(args.a.as_deref(), args.a_rev.as_deref(), args)?;
    let b_bin = match (&args.b, &args.b_rev) {
        (None, None) => None,
        (b, rev) => Some(side_binary(b.as_deref(), rev.as_deref(), args)?),
    };
    let device = match &args.device {
        Some(d) => d.clone(),
        None => default_device(&a_bin)?,
    };
    let a = Build {
        side: Side::A,
        argv: argv_for(&a_bin, &device, args)?,
        bin: a_bin,
    };
    let b = match b_bin {
        Some(bin) => Some(Build {
            side: Side::B,
            argv: argv_for(&bin, &device, args)?,
            bin,
        }),
        None => None,
    };
    if args.dry_run {
        for s in std::iter::once(&a).chain(b.as_ref()) {
            println!("{}", crate::runner::shell_words(&full_argv(s)));
        }
        return Ok(Outcome::Ok);
    }
    let mut writer = args.output.as_deref().map(JsonlWriter::open).transpose()?;
    let (rounds_a, rounds_b, stop) = run_rounds(&a, b.as_ref(), args, &mut writer)?;
    let report = build_report(args, &a, b.as_ref(), &rounds_a, &rounds_b, &device);
    if let Some(path) = &args.export_sql {
        export(path, &a, b.as_ref(), &rounds_a, &rounds_b)?;
    }
    print_out(&render(&report, args.out.format()))?;
    Ok(match stop {
        Some(sig) => Outcome::Interrupted(sig),
        None if !report.regressions.is_empty() => Outcome::Regression,
        None => Outcome::Ok,
    })
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
        backend: crate::cli::BuildBackend::Auto,
        cmake_args: Vec::new(),
        jobs: None,
        cache: super::revs::cache_root()?,
    };
    Ok(tb.build(rev)?.1)
}

/// Runs a short query of the binary: (exit ending, stdout + stderr).
fn query(bin: &Path, args: &[&str]) -> Result<String> {
    let (_, text) = process::query(bin, args, Duration::from_secs(120))?;
    Ok(text)
}

/// The first GPU device the binary lists, else CPU.
fn default_device(bin: &Path) -> Result<String> {
    let text = query(bin, &["perf", "-o", NO_OP])?;
    Ok(first_gpu(&text).unwrap_or_else(|| "CPU".to_string()))
}

/// From `Backend i/n: NAME` lines: the first that is not a CPU-side backend.
pub fn first_gpu(listing: &str) -> Option<String> {
    listing
        .lines()
        .filter_map(|l| {
            l.strip_prefix("Backend ")?
                .split_once(": ")
                .map(|(_, n)| n.trim())
        })
        .find(|n| !["CPU", "BLAS", "RPC"].iter().any(|c| n.starts_with(c)))
        .map(str::to_string)
}

/// `perf -b DEV [--output sql] [-o OPS] [-p REGEX]`; `--output sql` only
/// where the binary's usage lists it (older builds print the console form).
fn argv_for(bin: &Path, device: &str, args: &OpsArgs) -> Result<Vec<String>> {
    let usage = query(bin, &["--tokbench-usage"])?;
    let mut argv = vec!["perf".to_string(), "-b".into(), device.to_string()];
    if usage.contains("--output") {
        argv.extend(["--output".into(), "sql".into()]);
    }
    if let Some(op) = &args.op {
        argv.extend(["-o".into(), op.clone()]);
    }
    if let Some(p) = &args.params {
        argv.extend(["-p".into(), p.clone()]);
    }
    Ok(argv)
}

fn full_argv(b: &Build) -> Vec<String> {
    std::iter::once(b.bin.display().to_string())
        .chain(b.argv.iter().cloned())
        .collect()
}

type Rounds = (Vec<Vec<OpResult>>, Vec<Vec<OpResult>>, Option<i32>);

fn run_rounds(
    a: &Build,
    b: Option<&Build>,
    args: &OpsArgs,
    w: &mut Option<JsonlWriter>,
) -> Result<Rounds> {
    let n = args.rounds as usize;
    let order: Vec<Side> = if b.is_some() {
        interleave_order(n)
    } else {
        vec![Side::A; n]
    };
    let (mut ra, mut rb) = (Vec::new(), Vec::new());
    for (i, side) in order.iter().enumerate() {
        if let Some(sig) = interrupt::received() {
            return Ok((ra, rb, Some(sig)));
        }
        let build = if *side == Side::A { a } else { b.unwrap_or(a) };
        let round = if *side == Side::A { ra.len() } else { rb.len() };
        progress(&format!("tokbench: round {}/{n} {side:?} ... ", round + 1));
        let results = invoke(build, args.timeout, round, w)?;
        progress(&format!("{} case(s)\n", results.len()));
        if *side == Side::A {
            ra.push(results)
        } else {
            rb.push(results)
        }
        let _ = i;
    }
    Ok((ra, rb, interrupt::received()))
}

/// One `test-backend-ops perf` invocation, parsed and written to -o.
fn invoke(
    b: &Build,
    timeout: Duration,
    round: usize,
    w: &mut Option<JsonlWriter>,
) -> Result<Vec<OpResult>> {
    let args: Vec<OsString> = b.argv.iter().map(OsString::from).collect();
    let spec = Spawn {
        program: &b.bin,
        args: &args,
        timeout,
        logs: None,
    };
    let f = process::run(&spec, |_| {})?;
    let shown = crate::runner::shell_words(&full_argv(b));
    let tail = || f.stderr.last_lines(8).join("\n");
    let results = match f.ending {
        Ending::Exited(0) | Ending::Exited(1) => crate::ops::parse_output(&shown, &f.stdout.text()),
        other => bail!(
            "'{shown}' ended with {other:?}; last lines of its stderr:\n{}",
            tail()
        ),
    };
    let results = results.with_context(|| {
        format!(
            "'{shown}' exited {:?}; last lines of its stderr:\n{}",
            f.ending,
            tail()
        )
    })?;
    if f.ending == Ending::Exited(1) {
        crate::say!("warning: '{shown}' exited 1 (a case failed to allocate or compute); its {} result(s) are kept", results.len());
    }
    if let Some(w) = w {
        let line = json!({
            "kind": "test_backend_ops_round",
            "side": b.side,
            "round": round,
            "argv": full_argv(b),
            "started_at": crate::identity::rfc3339(f.started_at),
            "wall_s": f.wall.as_secs_f64(),
            "results": results,
        });
        w.append_value(&line)?;
    }
    Ok(results)
}

fn build_report(
    args: &OpsArgs,
    a: &Build,
    b: Option<&Build>,
    ra: &[Vec<OpResult>],
    rb: &[Vec<OpResult>],
    device: &str,
) -> OpsReport {
    let s = Settings {
        threshold: args.threshold / 100.0,
        peak_bandwidth_gb_s: args.peak_bandwidth,
        peak_tflops: args.peak_tflops,
    };
    let comparison = b.map(|_| compare_rounds(ra, rb, &s));
    let regressed: Vec<OpCase> = match (&comparison, args.fail_if_slower) {
        (Some(c), Some(p)) => regressions(c, p)
            .into_iter()
            .map(|r| OpCase {
                backend: r.backend.clone(),
                op: r.op.clone(),
                params: r.params.clone(),
            })
            .collect(),
        _ => Vec::new(),
    };
    let described = ra
        .iter()
        .flatten()
        .map(|r| r.device.as_str())
        .find(|d| !d.is_empty());
    let mut warnings = Vec::new();
    if ra
        .iter()
        .chain(rb)
        .flatten()
        .all(|r| r.usable_time().is_none())
    {
        warnings.push(format!("no case ran on device '{device}': check --op / --params (test-backend-ops -o / -p) and --device"));
    }
    OpsReport {
        a: a.bin.display().to_string(),
        b: b.map(|b| b.bin.display().to_string()),
        argv: full_argv(a),
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
        warnings,
    }
}

fn export(
    path: &Path,
    a: &Build,
    b: Option<&Build>,
    ra: &[Vec<OpResult>],
    rb: &[Vec<OpResult>],
) -> Result<()> {
    let mut rows = Vec::new();
    for (build, rounds) in std::iter::once((a, ra)).chain(b.map(|b| (b, rb))) {
        let side = format!("{:?}", build.side);
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
