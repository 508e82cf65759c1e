//! The commands: glue between plan, runner, store and reporters.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command, Gpu, ParseArgs, RunArgs};
use crate::model::BuildInfo;
use crate::model::RunRecord;
use crate::parse::detect::parse_any;
use crate::plan::{plan_run, Plan};
use crate::report::{render, RunReport};
use crate::runner::{self, interrupt, RunContext, Stop};
use crate::store::jsonl::JsonlWriter;

/// A usage mistake found after parsing the command line (exit 2, like
/// clap's own usage errors).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Exit status of a command that ran to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Something failed; details were printed.
    Failed,
    /// Stopped by SIGINT / SIGTERM.
    Interrupted(i32),
    /// `compare --fail-if-slower`: B is slower beyond the limit, with confidence.
    Regression,
    /// An exit code chosen by the command (`compare --git-bisect-exit`).
    Code(u8),
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::Failed => 1,
            Outcome::Interrupted(sig) => interrupt::exit_code(sig),
            Outcome::Regression => 3,
            Outcome::Code(c) => c,
        }
    }
}

pub fn run(cli: Cli) -> Result<Outcome> {
    let db = crate::history_cmd::DbChoice::resolve(cli.db.clone(), cli.no_history);
    match cli.command {
        Command::Run(args) if !args.opts.dry_run => {
            crate::history_cmd::install_recorder(&db)?;
            cmd_run(&args)
        }
        Command::Run(args) => cmd_run(&args),
        Command::Parse(args) => cmd_parse(&args),
        Command::Compare(args) if args.revs.a_rev.is_some() || args.revs.b_rev.is_some() => {
            compare_revs(&args, &db)
        }
        Command::Compare(args) if !args.from_history.is_empty() => {
            crate::history_cmd::cmd_compare(&args, &db)
        }
        Command::Compare(args) if args.files.is_empty() && !args.opts.dry_run => {
            crate::history_cmd::install_recorder(&db)?;
            crate::compare::command::run(&args)
        }
        Command::Compare(args) => crate::compare::command::run(&args),
        Command::History(args) => crate::history_cmd::cmd_history(&args, &db),
        Command::Import(args) => crate::history_cmd::cmd_import(&args, &db),
        Command::Export(args) => crate::history_cmd::cmd_export(&args, &db),
        Command::Doctor => {
            print!("{}", crate::sample::doctor::report());
            Ok(Outcome::Ok)
        }
        Command::Plot(args) => crate::plot::command::run(&args, &db),
        Command::Report(args) => crate::report::document::run(&args),
        Command::Serve(args) => crate::serve::command::run(&args),
        Command::Build(args) => crate::build::command::run(&args),
        Command::Completions { shell } => crate::shell::completions(shell).map(|()| Outcome::Ok),
        Command::Man { dir } => crate::shell::man(dir.as_deref()).map(|()| Outcome::Ok),
        Command::Ops(args) => crate::ops::command::run(&args),
        Command::Kernels(args) => crate::profile::command::run(&args),
    }
}

pub fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            shlex::try_quote(a)
                .map(|q| q.into_owned())
                .unwrap_or_else(|_| format!("{a:?}"))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_dry_run(plan: &Plan) {
    let argv: Vec<String> = std::iter::once(plan.bin.display().to_string())
        .chain(plan.argv.iter().cloned())
        .collect();
    let warm = plan.runs.iter().filter(|r| r.warmup).count();
    println!("{}", shell_words(&argv));
    println!(
        "# {:?} binary; {} process run(s): {warm} warmup + {} counted; timeout {} each",
        plan.probe.kind,
        plan.runs.len(),
        plan.runs.len() - warm,
        humantime::format_duration(plan.timeout)
    );
}

fn cmd_run(args: &RunArgs) -> Result<Outcome> {
    interrupt::install().context("cannot install the SIGINT/SIGTERM handlers")?;
    let plan = plan_run(args);
    if let Some(out) = stop_if_interrupted() {
        return Ok(out);
    }
    let plan = plan?;
    for note in &plan.notes {
        crate::say!("note: {note}");
    }
    for w in plan.sampler.warnings() {
        crate::say!("warning: {w}");
    }
    if args.opts.dry_run {
        print_dry_run(&plan);
        return Ok(Outcome::Ok);
    }
    let mut writer = plan.output.as_deref().map(JsonlWriter::open).transpose()?;
    if let Some(dir) = &plan.keep_logs {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create --keep-logs directory '{}'", dir.display()))?;
    }
    let ctx = RunContext::for_plan(&plan, runner::log_stem())?;
    let (records, stop) = execute_all(&plan, &ctx, &mut writer)?;
    let report = build_report(&plan, &ctx, records, stop);
    let printed = print_out(&render(&report, plan.format));
    let outcome = finish(&report, stop);
    printed.map(|()| outcome)
}

/// A signal during planning kills the binary's `--help` probe and so fails
/// it; report the interrupt, not the failed probe it caused.
pub(crate) fn stop_if_interrupted() -> Option<Outcome> {
    let sig = interrupt::received()?;
    crate::say!("tokbench: interrupted before any run started; nothing was run");
    Some(Outcome::Interrupted(sig))
}

/// Writes progress to stderr. A closed stderr must not stop a benchmark
/// whose runs are being written to disk, so write errors are ignored
/// (`eprint!` would panic on them).
pub fn progress(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Writes the report to stdout. A reader that went away (`| head`) is not an
/// error (the runs are on disk already); `print!` would panic on it.
pub fn print_out(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write the report to standard output")
        }
        _ => Ok(()),
    }
}

fn execute_all(
    plan: &Plan,
    ctx: &RunContext,
    writer: &mut Option<JsonlWriter>,
) -> Result<(Vec<RunRecord>, Stop)> {
    let mut records = Vec::new();
    let total = plan.runs.len();
    for (i, run) in plan.runs.iter().enumerate() {
        if let Some(sig) = interrupt::received() {
            return Ok((records, Stop::Interrupted(sig)));
        }
        let what = if run.warmup { "warmup" } else { "run" };
        progress(&format!("tokbench: {what} {}/{total} ... ", i + 1));
        let (record, stop) = runner::step(plan, ctx, run, None, writer)?;
        progress(&format!("{}\n", runner::progress_text(&record)));
        records.push(record);
        if let Some(stop) = stop {
            return Ok((records, stop));
        }
    }
    Ok((records, Stop::Completed))
}

fn build_report(plan: &Plan, ctx: &RunContext, runs: Vec<RunRecord>, stop: Stop) -> RunReport {
    let mut report = RunReport::from_records(runs);
    let mut warnings: Vec<String> = plan.notes.clone();
    warnings.extend(plan.sampler.warnings());
    if report.runs.iter().all(|r| r.status != "ok") {
        report.build = plan.probe.build.clone();
    }
    warnings.extend(offload_mismatch(plan.gpu, &report.build));
    warnings.append(&mut report.warnings);
    report.warnings = warnings;
    report.label = plan.label.clone();
    report.binary = ctx.binary.clone();
    report.model = plan.model.clone();
    report.machine = ctx.machine.clone();
    report.argv = std::iter::once(plan.bin.display().to_string())
        .chain(plan.argv.iter().cloned())
        .collect();
    report.interrupted = matches!(stop, Stop::Interrupted(_));
    report
}

/// `--gpu cuda` on a build whose log shows no CUDA backend offloads nothing:
/// say so rather than report CPU figures as GPU ones.
fn offload_mismatch(gpu: Gpu, build: &BuildInfo) -> Option<String> {
    let wanted = match gpu {
        Gpu::Cuda => "CUDA",
        Gpu::Metal => "Metal",
        Gpu::Auto | Gpu::Cpu => return None,
    };
    let backend = build.backend.as_deref()?;
    let found = backend.to_lowercase().contains(&wanted.to_lowercase())
        || (wanted == "Metal" && backend.contains("MTL"));
    (!found).then(|| {
        format!("--gpu {} was asked for but the build reports backend '{backend}': nothing was offloaded to a {wanted} device", wanted.to_lowercase())
    })
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

fn read_input(path: &PathBuf) -> Result<(String, Vec<u8>)> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        return Ok(("<stdin>".to_string(), buf));
    }
    let shown = path.display().to_string();
    if path.is_dir() {
        anyhow::bail!("'{shown}' is a directory: pass the files inside it");
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read '{shown}'"))?;
    Ok((shown, bytes))
}

fn cmd_parse(args: &ParseArgs) -> Result<Outcome> {
    let mut files = args.files.clone();
    if files.is_empty() {
        if std::io::stdin().is_terminal() {
            anyhow::bail!(
                "no input: pass files to read, or pipe llama.cpp output into 'tokbench parse -'"
            );
        }
        files.push(PathBuf::from("-"));
    }
    let mut parsed = Vec::new();
    let mut failed = false;
    for f in &files {
        let result = read_input(f).and_then(|(name, bytes)| Ok(parse_any(&name, &bytes)?));
        match result {
            Ok(p) => parsed.push(p),
            Err(e) => {
                crate::say!("error: {e:#}");
                failed = true;
            }
        }
    }
    print_out(&crate::report::parsed::render(&parsed, args.out.format()))?;
    Ok(if failed { Outcome::Failed } else { Outcome::Ok })
}

/// `compare --a-rev/--b-rev`: the builds first, then the plain comparison.
fn compare_revs(
    args: &crate::cli::CompareArgs,
    db: &crate::history_cmd::DbChoice,
) -> Result<Outcome> {
    let (args, _built) = match crate::build::revs::prepare(args) {
        Ok(p) => p,
        Err(e) if args.revs.git_bisect_exit && e.is::<crate::build::revs::BuildFailed>() => {
            crate::say!("error: {e}");
            return Ok(Outcome::Code(crate::build::revs::GIT_SKIP));
        }
        Err(e) => return Err(e),
    };
    if !args.opts.dry_run {
        crate::history_cmd::install_recorder(db)?;
    }
    crate::compare::command::run(&args)
}
