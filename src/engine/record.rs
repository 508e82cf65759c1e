//! One run of a cell: spawn it through the executor with the samplers
//! attached, let the cell's driver read the output, and turn all of it into
//! a self-contained [`RunRecord`] (a failed run is a record too, with the
//! reason and the last lines of its stderr).

use std::collections::BTreeMap;
use std::ffi::OsString;

use super::{Cell, Settings};
use crate::driver::Output;
use crate::model::{BinaryInfo, BuildInfo, ExitInfo, MachineInfo, RunRecord, SCHEMA_VERSION};
use crate::parse::version::parse_build_info;
use crate::runner::executor::Executor;
use crate::runner::process::{Ending, Finished, Spawn, SpawnError};

/// Lines of the child's stderr quoted in an error.
const ERROR_TAIL_LINES: usize = 12;

/// What stays the same for every run of one cell.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub binary: BinaryInfo,
    pub machine: MachineInfo,
    pub env: BTreeMap<String, String>,
    /// Prefix for `--keep-logs` file names, unique per invocation.
    pub log_stem: String,
}

impl RunContext {
    /// Hashes the cell's binary and reads the machine and environment.
    pub fn for_cell(cell: &Cell, log_stem: String) -> anyhow::Result<Self> {
        use anyhow::Context;
        let binary = crate::identity::binary_info(&cell.bin)
            .with_context(|| format!("cannot read binary '{}' to hash it", cell.bin.display()))?;
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

/// One run of a cell: which, and whether it is a warmup.
#[derive(Debug, Clone, Copy)]
pub struct Planned {
    pub seq: u32,
    pub warmup: bool,
}

/// Runs one run of a cell and describes it. Only a binary that cannot be
/// started at all is an `Err`; a run that fails is a record with status
/// `failed` and an error saying why.
pub fn execute(
    cell: &Cell,
    ctx: &RunContext,
    settings: &Settings,
    exec: &dyn Executor,
    run: Planned,
) -> Result<RunRecord, SpawnError> {
    let args: Vec<OsString> = cell.argv.iter().map(OsString::from).collect();
    let logs = settings.keep_logs.as_ref().map(|dir| {
        let stem = format!("{}-{:03}", ctx.log_stem, run.seq);
        (
            dir.join(format!("{stem}.stdout")),
            dir.join(format!("{stem}.stderr")),
        )
    });
    let spec = Spawn {
        program: &cell.bin,
        args: &args,
        timeout: settings.timeout,
        logs,
    };
    let mut session = None;
    let finished = exec.run(&spec, &mut |pid| {
        session = crate::sample::Session::start(&settings.sampler, pid);
    })?;
    let sampled = session.map(|s| (s.t0(), s.stop()));
    let mut record = describe(cell, ctx, settings, run, &finished);
    if let Some((t0, sampling)) = sampled {
        let offset_ms = t0.saturating_duration_since(finished.started).as_secs_f64() * 1000.0;
        let window = cell
            .driver
            .generation_window(&record, &finished.stderr.text());
        super::attach::attach(&mut record, sampling, &settings.sampler, window, offset_ms);
    }
    Ok(record)
}

fn describe(
    cell: &Cell,
    ctx: &RunContext,
    settings: &Settings,
    run: Planned,
    f: &Finished,
) -> RunRecord {
    let stdout = f.stdout.text();
    let stderr = f.stderr.text();
    let mut warnings = Vec::new();
    let mut record = RunRecord {
        schema_version: SCHEMA_VERSION,
        tokbench_version: env!("CARGO_PKG_VERSION").to_string(),
        label: cell.label.clone(),
        seq: run.seq,
        started_at: crate::identity::rfc3339(f.started_at),
        warmup: run.warmup,
        side: cell.side.map(str::to_string),
        cell: cell.sweep_cell.clone(),
        binary: ctx.binary.clone(),
        argv: cell.full_argv(),
        env: ctx.env.clone(),
        build: merge_build(&cell.probe.build, &stderr),
        model: cell.model.clone(),
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
        notes: cell.notes.clone(),
        sampled: None,
        timeline: Vec::new(),
        ops: Vec::new(),
    };
    let out = Output {
        stdout: &stdout,
        stderr: &stderr,
    };
    let found = cell.driver.read(out, &mut record, &mut warnings);
    warnings.extend(stream_warnings(f));
    if let (Ending::Exited(c), true) = (f.ending, found) {
        if let Some(why) = cell.driver.kept_exit(c) {
            warnings.push(format!(
                "exited {c} ({why}); the results it printed are kept"
            ));
        }
    }
    record.warnings = warnings;
    if let Some(why) = failure(f.ending, found, cell, settings) {
        record.status = "failed".to_string();
        record.error = Some(error_text(
            cell,
            run,
            &why,
            &f.stderr.last_lines(ERROR_TAIL_LINES),
            &stderr,
        ));
    }
    record
}

/// Output not kept whole, or a `--keep-logs` copy that could not be written.
fn stream_warnings(f: &Finished) -> Vec<String> {
    let mut warnings = Vec::new();
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
    warnings
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
fn failure(ending: Ending, found: bool, cell: &Cell, settings: &Settings) -> Option<String> {
    match ending {
        Ending::Exited(0) if found => None,
        Ending::Exited(0) => Some(format!("exited 0 but {}", cell.driver.nothing_read())),
        Ending::Exited(c) if found && cell.driver.kept_exit(c).is_some() => None,
        Ending::Exited(c) => Some(format!("exited with code {c}")),
        Ending::Signaled(s) => Some(format!("killed by {} ({s})", signal_name(s))),
        Ending::TimedOut => Some(format!(
            "timed out after {}; its process group was killed (raise --timeout if the run needs longer)",
            humantime::format_duration(settings.timeout)
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

/// The `-n` in an argv (llama.cpp's default, -1 = unlimited, counts as 0).
fn n_predict(argv: &[String]) -> u64 {
    argv.iter()
        .rposition(|a| a == "-n" || a == "--n-predict")
        .and_then(|i| argv.get(i + 1)?.parse().ok())
        .unwrap_or(0)
}

fn error_text(cell: &Cell, run: Planned, why: &str, tail: &[String], stderr: &str) -> String {
    let kind = if run.warmup { "warmup run" } else { "run" };
    let mut s = format!("{kind} {} of '{}' {why}", run.seq, cell.bin.display());
    if let Some(cause) = cause_line(stderr) {
        s.push_str(&format!("\ncause: {cause}"));
    }
    if let Some(hint) = crate::context_fit::too_long_hint(stderr, n_predict(&cell.argv)) {
        s.push_str(&format!("\nhint: {hint}"));
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
