//! The commands: glue between the plan, the session engine, the stores and
//! the reporters. One file per command; this one dispatches and holds the
//! little they share (stdout/stderr writers, shell quoting).

pub mod bisect;
pub mod build;
pub mod compare;
pub mod doctor;
pub mod history;
pub mod history_ops;
pub mod kernels;
pub mod llama_flags;
pub mod ops;
pub mod parse;
pub mod plot;
pub mod profile;
pub mod report;
pub mod revs;
pub mod run;
pub mod serve;
pub mod serve_ab;
pub mod serve_cells;
pub mod serve_plan;
pub mod serve_record;
pub mod sweep;

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command};
use crate::engine::sink::{HistorySink, JsonlSink, Progress, Sink};
use crate::exit::Outcome;
use crate::plan::Plan;
use crate::runner::interrupt;
use crate::store::db::DbChoice;
use crate::store::jsonl::JsonlWriter;

/// The history the command was pointed at (`--db`, `--no-history`, env);
/// commands that never touch it get the default, unused.
fn db_choice(command: &Command) -> DbChoice {
    let (db, off) = match command {
        Command::Run(a) => (&a.history.db, a.history.no_history),
        Command::Compare(a) => (&a.history.db, a.history.no_history),
        Command::Sweep(a) => (&a.history.db, a.history.no_history),
        Command::Serve(a) => (&a.history.db, a.history.no_history),
        Command::Bisect(a) => (&a.history.db, a.history.no_history),
        Command::Ops(a) => (&a.history.db, a.history.no_history),
        Command::History(a) => (&a.db, false),
        Command::Import(a) => (&a.db, false),
        Command::Export(a) => (&a.db, false),
        Command::Plot(a) => (&a.db, false),
        _ => return DbChoice::resolve(None, false),
    };
    DbChoice::resolve(db.db.clone(), off)
}

pub fn run(cli: Cli) -> Result<Outcome> {
    let db = db_choice(&cli.command);
    match cli.command {
        Command::Run(args) => run::run(&args, &db),
        Command::Parse(args) => parse::run(&args),
        Command::Compare(args) if args.revs.a_rev.is_some() || args.revs.b_rev.is_some() => {
            compare_revs(&args, &db)
        }
        Command::Compare(args) if !args.from_history.is_empty() => history::cmd_compare(&args, &db),
        Command::Compare(args) => compare::run(&args, &db),
        Command::History(args) => history::cmd_history(&args, &db),
        Command::Import(args) => history::cmd_import(&args, &db),
        Command::Export(args) => history::cmd_export(&args, &db),
        Command::Doctor => {
            print!("{}", doctor::report());
            Ok(Outcome::Ok)
        }
        Command::Plot(args) => plot::run(&args, &db),
        Command::Report(args) => report::run(&args),
        Command::Sweep(args) => sweep::run(&args, &db),
        Command::Serve(args) if serve_ab::asked(&args) => serve_ab::run(&args, &db),
        Command::Serve(args) => serve::run(&args, &db),
        Command::Build(args) => build::run(&args),
        Command::Completions { shell } => crate::shell::completions(shell).map(|()| Outcome::Ok),
        Command::Man { dir } => crate::shell::man(dir.as_deref()).map(|()| Outcome::Ok),
        Command::Ops(args) => ops::run(&args, &db),
        Command::Bisect(args) => bisect::run(&args, &db),
        Command::Kernels(args) => kernels::run(&args),
    }
}

pub use crate::runner::shell_words;

/// A signal during planning kills the binary's `--help` probe and so fails
/// it; report the interrupt, not the failed probe it caused.
pub(crate) fn stop_if_interrupted() -> Option<Outcome> {
    let sig = interrupt::received()?;
    crate::say!("tokbench: interrupted before any run started; nothing was run");
    Some(Outcome::Interrupted(sig))
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

/// The sinks of a live session, in the order each run reaches them: the
/// results file (the durable record), the history, the progress display.
pub struct Sinks {
    jsonl: Option<JsonlSink>,
    history: Option<HistorySink>,
    progress: Progress,
}

impl Sinks {
    /// Opens `-o` and the history. An explicit database that cannot be
    /// opened is an error; the default one gives a warning and no recording.
    pub fn open(plan: &Plan, db: &DbChoice, bar: bool) -> Result<Sinks> {
        let jsonl = match &plan.settings.output {
            Some(p) => Some(JsonlSink(JsonlWriter::open(p)?)),
            None => None,
        };
        Ok(Sinks {
            jsonl,
            history: open_history(db)?,
            progress: Progress::new(bar),
        })
    }

    /// `-o FILE` (if any), the history as for `open`, and line progress:
    /// `tokbench ops`, whose rounds go to the history's ops tables.
    pub fn for_ops(output: Option<&std::path::Path>, db: &DbChoice) -> Result<Sinks> {
        Ok(Sinks {
            jsonl: output.map(JsonlWriter::open).transpose()?.map(JsonlSink),
            history: open_history(db)?,
            progress: Progress::new(false),
        })
    }

    /// No file, no history, line progress: for tests of the commands.
    #[cfg(test)]
    pub fn none() -> Sinks {
        Sinks {
            jsonl: None,
            history: None,
            progress: Progress::new(false),
        }
    }

    pub fn all(&mut self) -> Vec<&mut dyn Sink> {
        let mut v: Vec<&mut dyn Sink> = Vec::new();
        if let Some(j) = self.jsonl.as_mut() {
            v.push(j);
        }
        if let Some(h) = self.history.as_mut() {
            v.push(h);
        }
        v.push(&mut self.progress);
        v
    }
}

/// The history sink of a session: none with `--no-history`; an explicit
/// database that cannot be opened is an error, the default one a warning.
fn open_history(db: &DbChoice) -> Result<Option<HistorySink>> {
    if db.disabled {
        return Ok(None);
    }
    match db.open() {
        Ok(h) => Ok(Some(HistorySink::new(h))),
        Err(e) if db.explicit => Err(e),
        Err(e) => {
            crate::say!("warning: runs will not be recorded in the history: {e:#}");
            Ok(None)
        }
    }
}

/// `compare --a-rev/--b-rev`: the builds first, then the plain comparison.
fn compare_revs(args: &crate::cli::CompareArgs, db: &DbChoice) -> Result<Outcome> {
    let (args, _built) = match crate::cmd::revs::prepare(args) {
        Ok(p) => p,
        Err(e) if args.revs.git_bisect_exit && e.is::<crate::cmd::revs::BuildFailed>() => {
            crate::say!("error: {e}");
            return Ok(Outcome::Code(crate::cmd::revs::GIT_SKIP));
        }
        Err(e) => return Err(e),
    };
    compare::run(&args, db)
}
