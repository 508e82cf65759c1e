//! Executing planned runs: spawn the binary (no shell), capture its output,
//! parse the timings, and turn all of it into a self-contained [`RunRecord`].

pub mod capture;
pub mod interrupt;
pub mod probe;
pub mod process;

use std::collections::BTreeMap;
use std::ffi::OsString;

use crate::model::{
    BinaryInfo, BlockKind, BuildInfo, ExitInfo, MachineInfo, RunRecord, TimingBlock, SCHEMA_VERSION,
};
use crate::parse::{bench::parse_bench, timings::parse_timings, version::parse_build_info};
use crate::plan::{Plan, PlannedRun};
use probe::ToolKind;
use process::{Ending, Finished};

/// Lines of the child's stderr quoted in an error.
const ERROR_TAIL_LINES: usize = 12;

/// What stays the same for every run of one plan.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub binary: BinaryInfo,
    pub machine: MachineInfo,
    pub env: BTreeMap<String, String>,
    /// Prefix for `--keep-logs` file names, unique per invocation.
    pub log_stem: String,
}

impl RunContext {
    /// Hashes the plan's binary and reads the machine and environment.
    pub fn for_plan(plan: &Plan, log_stem: String) -> anyhow::Result<Self> {
        use anyhow::Context;
        let binary = crate::identity::binary_info(&plan.bin)
            .with_context(|| format!("cannot read binary '{}' to hash it", plan.bin.display()))?;
        Ok(RunContext {
            binary,
            machine: crate::identity::machine_info(),
            env: crate::identity::llama_env(),
            log_stem,
        })
    }
}

/// Seconds since the epoch: a prefix that keeps `--keep-logs` files of
/// separate invocations apart.
pub fn log_stem() -> String {
    time::OffsetDateTime::now_utc().unix_timestamp().to_string()
}

/// Runs one planned run and describes it. Only a binary that cannot be
/// started at all is an `Err`; a run that fails is a record with status
/// `failed` and an error saying why.
pub fn execute(
    plan: &Plan,
    ctx: &RunContext,
    run: &PlannedRun,
) -> Result<RunRecord, process::SpawnError> {
    let args: Vec<OsString> = plan.argv.iter().map(OsString::from).collect();
    let logs = plan.keep_logs.as_ref().map(|dir| {
        let stem = format!("{}-{:03}", ctx.log_stem, run.seq);
        (
            dir.join(format!("{stem}.stdout")),
            dir.join(format!("{stem}.stderr")),
        )
    });
    let spec = process::Spawn {
        program: &plan.bin,
        args: &args,
        timeout: plan.timeout,
        logs,
    };
    let mut session = None;
    let finished = process::run(&spec, |pid| {
        session = crate::sample::Session::start(&plan.sampler, pid);
    })?;
    let sampled = session.map(|s| (s.t0(), s.stop()));
    let mut record = describe(plan, ctx, run, &finished);
    if let Some((t0, sampling)) = sampled {
        let offset_ms = t0.saturating_duration_since(finished.started).as_secs_f64() * 1000.0;
        let stderr = finished.stderr.text();
        crate::sample::attach::attach(&mut record, sampling, &plan.sampler, &stderr, offset_ms);
    }
    Ok(record)
}

fn describe(plan: &Plan, ctx: &RunContext, run: &PlannedRun, f: &Finished) -> RunRecord {
    let stdout = f.stdout.text();
    let stderr = f.stderr.text();
    let mut warnings = Vec::new();
    let mut record = RunRecord {
        schema_version: SCHEMA_VERSION,
        tokbench_version: env!("CARGO_PKG_VERSION").to_string(),
        label: plan.label.clone(),
        seq: run.seq,
        started_at: rfc3339(f.started_at),
        warmup: run.warmup,
        side: None,
        binary: ctx.binary.clone(),
        argv: std::iter::once(plan.bin.display().to_string())
            .chain(plan.argv.iter().cloned())
            .collect(),
        env: ctx.env.clone(),
        build: merge_build(&plan.probe.build, &stderr),
        model: plan.model.clone(),
        machine: ctx.machine.clone(),
        exit: exit_info(f.ending),
        status: "ok".to_string(),
        error: None,
        wall_ms: f.wall.as_secs_f64() * 1000.0,
        timings: None,
        blocks: Vec::new(),
        bench: Vec::new(),
        stdout_bytes: f.stdout.total_bytes,
        stderr_bytes: f.stderr.total_bytes,
        warnings: Vec::new(),
        sampled: None,
        timeline: Vec::new(),
    };
    let found = if plan.probe.kind == ToolKind::Bench {
        read_bench(&stdout, &mut record, &mut warnings)
    } else {
        read_timings(&stderr, &stdout, &mut record, &mut warnings)
    };
    for (name, cap) in [("stdout", &f.stdout), ("stderr", &f.stderr)] {
        if cap.dropped_bytes > 0 {
            warnings.push(format!(
                "{name}: {} bytes of {} not kept (middle of the stream)",
                cap.dropped_bytes, cap.total_bytes
            ));
        }
        if let Some(e) = &cap.log_error {
            warnings.push(format!("{name}: could not write the --keep-logs copy: {e}"));
        }
    }
    record.warnings = warnings;
    if let Some(why) = failure(f.ending, found, plan) {
        record.status = "failed".to_string();
        record.error = Some(error_text(
            plan,
            run,
            &why,
            &f.stderr.last_lines(ERROR_TAIL_LINES),
            &stderr,
        ));
    }
    record
}

fn read_timings(
    stderr: &str,
    stdout: &str,
    record: &mut RunRecord,
    warnings: &mut Vec<String>,
) -> bool {
    let mut out = parse_timings(stderr);
    if out.blocks.is_empty() {
        // --log-jsonl sends the log, timings included, to stdout.
        out = parse_timings(stdout);
    }
    warnings.extend(out.warnings.iter().map(|w| format!("stderr {w}")));
    let Some(main) = primary_block(&out.blocks) else {
        return false;
    };
    if main.timings.eval_tps.is_none() && main.timings.eval_ms.is_none() {
        warnings.push(
            "its timing block has no eval (generation) line: no generation figures for this run"
                .to_string(),
        );
    }
    record.timings = Some(main.timings.clone());
    if out.blocks.len() > 1 {
        record.blocks = out.blocks;
    }
    true
}

fn read_bench(stdout: &str, record: &mut RunRecord, warnings: &mut Vec<String>) -> bool {
    match parse_bench("llama-bench stdout", stdout) {
        Ok(out) => {
            warnings.extend(out.warnings.iter().map(|w| format!("stdout {w}")));
            record.bench = out.tests;
            // llama-bench names its backends in its output, not in its log.
            if record.build.backend.is_none() {
                record.build.backend = record.bench.iter().find_map(|t| t.backends.clone());
            }
            !record.bench.is_empty()
        }
        Err(e) => {
            warnings.push(e.to_string());
            false
        }
    }
}

/// The block that describes the run: with speculative decoding the target
/// model's, otherwise the last complete one (a run may print an earlier
/// block for a sub-task).
pub fn primary_block(blocks: &[TimingBlock]) -> Option<&TimingBlock> {
    let has_eval = |b: &&TimingBlock| b.timings.eval_tps.is_some() || b.timings.eval_ms.is_some();
    blocks
        .iter()
        .rev()
        .filter(has_eval)
        .find(|b| b.label.as_deref() == Some("target"))
        .or_else(|| {
            blocks
                .iter()
                .rev()
                .find(|b| has_eval(b) && b.kind != BlockKind::ServerSlot)
        })
        .or_else(|| blocks.last())
}

fn merge_build(probed: &BuildInfo, stderr: &str) -> BuildInfo {
    let mut b = probed.clone();
    if let Some(seen) = parse_build_info(stderr) {
        b.version = b.version.or(seen.version);
        b.commit = b.commit.or(seen.commit);
        b.build_number = b.build_number.or(seen.build_number);
        b.compiler = b.compiler.or(seen.compiler);
        b.target = b.target.or(seen.target);
        b.backend = seen.backend.or(b.backend);
    }
    b
}

fn exit_info(e: Ending) -> ExitInfo {
    match e {
        Ending::Exited(c) => ExitInfo {
            code: Some(c),
            ..Default::default()
        },
        Ending::Signaled(s) => ExitInfo {
            signal: Some(s),
            ..Default::default()
        },
        Ending::TimedOut => ExitInfo {
            timed_out: true,
            ..Default::default()
        },
        Ending::Interrupted(s) => ExitInfo {
            signal: Some(s),
            interrupted: true,
            ..Default::default()
        },
    }
}

fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {sig}"))
}

/// Why a run failed, or None when it succeeded.
fn failure(ending: Ending, found_timings: bool, plan: &Plan) -> Option<String> {
    match ending {
        Ending::Exited(0) if found_timings => None,
        Ending::Exited(0) => Some(match plan.probe.kind {
            ToolKind::Bench => "exited 0 but printed no llama-bench results on stdout".to_string(),
            _ => "exited 0 but printed no timing block".to_string(),
        }),
        Ending::Exited(c) => Some(format!("exited with code {c}")),
        Ending::Signaled(s) => Some(format!("killed by {} ({s})", signal_name(s))),
        Ending::TimedOut => Some(format!(
            "timed out after {}; its process group was killed (raise --timeout if the run needs longer)",
            humantime::format_duration(plan.timeout)
        )),
        Ending::Interrupted(s) => Some(format!("stopped because tokbench received {}", signal_name(s))),
    }
}

/// Lines in a llama.cpp log that name the cause of a failure.
fn cause_line(stderr: &str) -> Option<String> {
    const MARKERS: [&str; 8] = [
        "failed to load model",
        "out of memory",
        "failed to allocate",
        "cudaMalloc failed",
        "error loading model",
        "unable to load model",
        "GGML_ASSERT",
        "error: ",
    ];
    let lower_markers: Vec<String> = MARKERS.iter().map(|m| m.to_lowercase()).collect();
    stderr
        .lines()
        .find(|l| {
            let l = l.to_lowercase();
            lower_markers.iter().any(|m| l.contains(m.as_str()))
        })
        .map(|l| l.trim().to_string())
}

fn error_text(plan: &Plan, run: &PlannedRun, why: &str, tail: &[String], stderr: &str) -> String {
    let kind = if run.warmup { "warmup run" } else { "run" };
    let mut s = format!("{kind} {} of '{}' {why}", run.seq, plan.bin.display());
    if let Some(cause) = cause_line(stderr) {
        s.push_str(&format!("\ncause: {cause}"));
    }
    if !tail.is_empty() {
        s.push_str("\nlast lines of its stderr:");
        for l in tail {
            s.push_str("\n  ");
            s.push_str(l);
        }
    }
    s
}

pub fn rfc3339(t: std::time::SystemTime) -> String {
    let t: time::OffsetDateTime = t.into();
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Why a sequence of runs ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Completed,
    /// A run failed and `--keep-going` was not given.
    FailedRun,
    /// tokbench received this signal.
    Interrupted(i32),
}

/// Runs one planned run, marks its side, appends it to the results file
/// (before anything else happens) and to the history database, and says
/// whether the sequence must stop.
pub fn step(
    plan: &Plan,
    ctx: &RunContext,
    run: &PlannedRun,
    side: Option<&str>,
    writer: &mut Option<crate::store::jsonl::JsonlWriter>,
) -> anyhow::Result<(RunRecord, Option<Stop>)> {
    let mut record = execute(plan, ctx, run)?;
    record.side = side.map(str::to_string);
    if let Some(w) = writer.as_mut() {
        w.append(&record)?;
    }
    crate::history_cmd::record_run(&record);
    let stop = if record.exit.interrupted {
        Some(Stop::Interrupted(
            interrupt::received().unwrap_or(nix::libc::SIGINT),
        ))
    } else if record.status != "ok" && !plan.keep_going {
        Some(Stop::FailedRun)
    } else {
        None
    };
    Ok((record, stop))
}

/// A short line about a finished run, for progress output.
pub fn progress_text(r: &RunRecord) -> String {
    if r.status != "ok" {
        return "failed".to_string();
    }
    let mut parts = vec![format!("{:.0} ms", r.wall_ms)];
    if let Some(t) = &r.timings {
        if let Some(v) = t.eval_tps {
            parts.push(format!("eval {} t/s", v.0));
        }
        if let Some(v) = t.prompt_eval_tps {
            parts.push(format!("prompt {} t/s", v.0));
        }
    }
    for b in &r.bench {
        parts.push(format!("{} {} t/s", b.key(), b.avg_tps.0));
    }
    parts.join(", ")
}
