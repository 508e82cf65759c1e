//! The session engine: one loop under `run` and `compare` (and, later,
//! sweeps). A session is a list of [`Cell`]s (an invocation of a binary,
//! driven by its tool's driver) and its [`Settings`]; a [`Schedule`] says
//! which cell runs next given the results so far. The loop runs each step
//! through an [`Executor`], hands every finished run to the sinks (results
//! file, history, progress) before the next starts, pauses between runs
//! (`--cooldown`), stops on a signal or a failed run (unless
//! `--keep-going`), and collects every warning with its cell and run.
//!
//! * [`record`]: one run of a cell into a run record.
//! * [`schedule`]: sequential and ABBA schedules; [`order`]: the ABBA order
//!   (the sweep's rounds are `crate::sweep::schedule`).
//! * [`sink`]: the sinks and the progress display.
//! * [`cooldown`]: the pause between runs; [`attach`]: samplers' figures.
//! * [`work`]: what a step is. A step of `run` and `compare` is a process
//!   (into a run record); a step of `serve` is a block of load against a
//!   long-lived server the cell owns, whose lifetime is the session or the
//!   block ([`Lifetime`]). [`session`] is the one loop; [`run`] is it over
//!   process cells.

pub mod attach;
pub mod cooldown;
pub mod order;
pub mod record;
pub mod schedule;
pub mod sink;
pub mod work;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::driver::probe::Probe;
use crate::driver::{Driver, Service};
use crate::model::{BuildInfo, ModelInfo, RunRecord};
use crate::runner::executor::Executor;
use crate::runner::interrupt;
use crate::sample::SamplerConfig;
use record::{Planned, RunContext};
use schedule::{Next, Schedule};
use sink::{Sink, Starting};
pub use work::{Finished, Lifetime, Work};

/// One invocation: a binary, its argv, and the driver of its tool.
#[derive(Debug, Clone)]
pub struct Cell {
    pub label: String,
    pub bin: PathBuf,
    /// Arguments after the binary.
    pub argv: Vec<String>,
    pub driver: &'static dyn Driver,
    pub probe: Probe,
    pub model: ModelInfo,
    /// `a` / `b` in a comparison (stored with each run).
    pub side: Option<&'static str>,
    /// The sweep cell's name (`-t 4 -fa on`), stored with each run.
    pub sweep_cell: Option<String>,
    /// The backend the user asked to offload to (`CUDA`, `Metal`), if any.
    pub offload_to: Option<&'static str>,
    /// What the plan noted about this cell (shown once).
    pub notes: Vec<String>,
    /// The processes the driver starts per request: warmup or not.
    pub processes: Vec<bool>,
}

impl Cell {
    /// The binary followed by its arguments, as stored in every record.
    pub fn full_argv(&self) -> Vec<String> {
        std::iter::once(self.bin.display().to_string())
            .chain(self.argv.iter().cloned())
            .collect()
    }

    /// The offload check: `--gpu cuda` on a build whose log shows no CUDA
    /// backend offloads nothing; say so rather than report CPU figures as GPU ones.
    pub fn offload_warning(&self, build: &BuildInfo) -> Option<String> {
        let wanted = self.offload_to?;
        let backend = build.backend.as_deref()?;
        let found = backend.to_lowercase().contains(&wanted.to_lowercase())
            || (wanted == "Metal" && backend.contains("MTL"));
        (!found).then(|| {
            format!("--gpu {} was asked for but the build reports backend '{backend}': nothing was offloaded to a {wanted} device", wanted.to_lowercase())
        })
    }
}

/// The pause between runs (`--cooldown`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pause {
    Fixed(Duration),
    /// Until the GPU is back near the idle reading taken before the first run.
    UntilIdle,
}

/// What holds for the whole session, once.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub timeout: Duration,
    /// Samplers, probed once for the session.
    pub sampler: SamplerConfig,
    pub output: Option<PathBuf>,
    pub keep_logs: Option<PathBuf>,
    pub keep_going: bool,
    pub cooldown: Option<Pause>,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Completed,
    /// A run failed and `--keep-going` was not given.
    FailedRun,
    /// tokbench received this signal.
    Interrupted(i32),
}

/// A warning, with the cell and the run it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub cell: usize,
    /// The run's `seq`, or None for a session-wide remark (a cooldown).
    pub seq: Option<u32>,
    pub text: String,
}

/// What a session produced.
#[derive(Debug)]
pub struct Outcome<R = RunRecord> {
    pub records: Vec<R>,
    pub stop: Stop,
    pub warnings: Vec<Warning>,
}

/// The pause between runs, resolved: `UntilIdle` carries the idle baseline.
enum Resolved {
    Fixed(Duration),
    Idle(cooldown::Reading),
}

/// The cells of a `run`, `compare`, sweep, ops or bisect session: each step
/// is one process, its service (if its driver has one) up for the session.
struct Processes<'a> {
    cells: &'a [Cell],
    ctx: Vec<RunContext>,
    settings: &'a Settings,
    exec: &'a dyn Executor,
}

impl Work for Processes<'_> {
    type Record = RunRecord;
    type Service = Box<dyn Service>;

    fn lifetime(&self, _cell: usize) -> Lifetime {
        Lifetime::Session
    }
    fn side(&self, cell: usize) -> Option<&'static str> {
        self.cells[cell].side
    }
    fn name(&self, cell: usize) -> String {
        format!("'{}'", self.cells[cell].bin.display())
    }
    fn start(&mut self, cell: usize) -> Result<Option<Box<dyn Service>>> {
        let c = &self.cells[cell];
        c.driver.start(&c.bin, &c.argv)
    }
    fn step(
        &mut self,
        cell: usize,
        run: Planned,
        _service: Option<&mut Box<dyn Service>>,
    ) -> Result<RunRecord> {
        let c = &self.cells[cell];
        Ok(record::execute(
            c,
            &self.ctx[cell],
            self.settings,
            self.exec,
            run,
        )?)
    }
}

/// Runs `schedule` over `cells`, one process per step. Every finished run
/// is in every sink before the next starts.
pub fn run(
    cells: &[Cell],
    settings: &Settings,
    schedule: &mut dyn Schedule,
    exec: &dyn Executor,
    sinks: &mut [&mut dyn Sink],
) -> Result<Outcome> {
    if let Some(dir) = &settings.keep_logs {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create --keep-logs directory '{}'", dir.display()))?;
    }
    let stem = record::log_stem();
    let ctx = cells
        .iter()
        .map(|c| {
            let stem = c.side.map_or(stem.clone(), |s| format!("{stem}-{s}"));
            RunContext::for_cell(c, stem)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut work = Processes {
        cells,
        ctx,
        settings,
        exec,
    };
    session(&mut work, settings, cells.len(), schedule, sinks)
}

/// Runs `schedule` over the `n` cells of `work`: the one session loop.
/// Every finished step is in every sink before the next starts; every
/// service still up is stopped and every sink closed on the way out,
/// whatever ended the session.
pub fn session<W: Work>(
    work: &mut W,
    settings: &Settings,
    n: usize,
    schedule: &mut dyn Schedule<W::Record>,
    sinks: &mut [&mut dyn Sink<W::Record>],
) -> Result<Outcome<W::Record>> {
    let mut out = Outcome {
        records: Vec::new(),
        stop: Stop::Completed,
        warnings: Vec::new(),
    };
    let pause = resolve_pause(settings, &mut out.warnings);
    let mut services: Vec<Option<W::Service>> = (0..n).map(|_| None).collect();
    let mut l = Loop {
        work,
        settings,
        pause: &pause,
        services: &mut services,
    };
    let ended = l.drive(schedule, sinks, &mut out);
    for s in services.iter_mut().flatten() {
        s.stop();
    }
    for s in sinks.iter_mut() {
        s.close();
    }
    out.stop = ended?;
    Ok(out)
}

/// The loop's state besides the records.
struct Loop<'a, W: Work> {
    work: &'a mut W,
    settings: &'a Settings,
    pause: &'a Option<Resolved>,
    services: &'a mut [Option<W::Service>],
}

impl<W: Work> Loop<'_, W> {
    /// The loop itself; returns why it ended.
    fn drive(
        &mut self,
        schedule: &mut dyn Schedule<W::Record>,
        sinks: &mut [&mut dyn Sink<W::Record>],
        out: &mut Outcome<W::Record>,
    ) -> Result<Stop> {
        let planned = schedule.planned();
        let warmups = schedule.planned_warmups();
        for seq in 0u32.. {
            if let Some(sig) = interrupt::received() {
                return Ok(Stop::Interrupted(sig));
            }
            let Next::Run(step) = schedule.next(&out.records)? else {
                return Ok(Stop::Completed);
            };
            if !out.records.is_empty() {
                wait(self.pause, self.settings, step.cell, &mut out.warnings);
            }
            if let Err(e) = self.bring_up(step.cell) {
                // Ctrl-C while a server was loading: an interruption, not a failure.
                return match interrupt::received() {
                    Some(sig) => Ok(Stop::Interrupted(sig)),
                    None => Err(e),
                };
            }
            let starting = Starting {
                index: seq as usize,
                planned,
                warmups,
                side: self.work.side(step.cell),
                warmup: step.warmup,
            };
            sinks.iter_mut().for_each(|s| s.starting(&starting));
            let run = Planned {
                seq,
                warmup: step.warmup,
            };
            let record = self
                .work
                .step(step.cell, run, self.services[step.cell].as_mut())?;
            if let Some(stop) = self.finished(step.cell, record, sinks, out)? {
                return Ok(stop);
            }
        }
        Ok(Stop::Completed)
    }

    /// A finished step: into every sink, its per-block service stopped,
    /// its warnings collected; Some when it ends the session.
    fn finished(
        &mut self,
        cell: usize,
        record: W::Record,
        sinks: &mut [&mut dyn Sink<W::Record>],
        out: &mut Outcome<W::Record>,
    ) -> Result<Option<Stop>> {
        for s in sinks.iter_mut() {
            s.finished(&record)?;
        }
        if self.work.lifetime(cell) == Lifetime::Block {
            self.take_down(cell);
        }
        out.warnings
            .extend(record.warnings().iter().map(|w| Warning {
                cell,
                seq: Some(record.seq()),
                text: w.clone(),
            }));
        let (failed, interrupted) = (record.failed(), record.interrupted());
        out.records.push(record);
        if interrupted {
            let sig = interrupt::received().unwrap_or(nix::libc::SIGINT);
            return Ok(Some(Stop::Interrupted(sig)));
        }
        Ok((failed && !self.settings.keep_going).then_some(Stop::FailedRun))
    }

    /// The cell's service is started (and found ready) before its step; a
    /// per-block one only after every other cell's service is stopped.
    fn bring_up(&mut self, cell: usize) -> Result<()> {
        if self.services[cell].is_some() {
            return Ok(());
        }
        if self.work.lifetime(cell) == Lifetime::Block {
            (0..self.services.len()).for_each(|c| self.take_down(c));
        }
        if let Some(mut s) = self.work.start(cell)? {
            let ready = s.ready();
            if let Err(e) = ready {
                s.stop();
                return Err(e.context(format!("{} did not become ready", self.work.name(cell))));
            }
            self.services[cell] = Some(s);
        }
        Ok(())
    }

    fn take_down(&mut self, cell: usize) {
        if let Some(mut s) = self.services[cell].take() {
            s.stop();
        }
    }
}

/// Takes the idle baseline for `--cooldown auto` (before any run). Without
/// a GPU figure to watch there is no pause, and a warning says so.
fn resolve_pause(settings: &Settings, warnings: &mut Vec<Warning>) -> Option<Resolved> {
    match settings.cooldown? {
        Pause::Fixed(d) => Some(Resolved::Fixed(d)),
        Pause::UntilIdle => match cooldown::baseline(&settings.sampler) {
            Ok(idle) => Some(Resolved::Idle(idle)),
            Err(text) => {
                warnings.push(Warning {
                    cell: 0,
                    seq: None,
                    text,
                });
                None
            }
        },
    }
}

fn wait(pause: &Option<Resolved>, settings: &Settings, cell: usize, warnings: &mut Vec<Warning>) {
    match pause {
        None => {}
        Some(Resolved::Fixed(d)) => std::thread::sleep(*d),
        Some(Resolved::Idle(idle)) => {
            let (waited, reached) = cooldown::wait_for(&settings.sampler, idle);
            if !reached {
                warnings.push(Warning {
                    cell,
                    seq: None,
                    text: format!(
                        "--cooldown auto: the GPU was not back near idle after {} (went on)",
                        humantime::format_duration(Duration::from_secs(waited.as_secs()))
                    ),
                });
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
