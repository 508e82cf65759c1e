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

pub mod attach;
pub mod cooldown;
pub mod order;
pub mod record;
pub mod schedule;
pub mod sink;

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
pub struct Outcome {
    pub records: Vec<RunRecord>,
    pub stop: Stop,
    pub warnings: Vec<Warning>,
}

/// The pause between runs, resolved: `UntilIdle` carries the idle baseline.
enum Resolved {
    Fixed(Duration),
    Idle(cooldown::Reading),
}

/// Runs `schedule` over `cells`. Every finished run is in every sink
/// before the next starts.
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
    let mut out = Outcome {
        records: Vec::new(),
        stop: Stop::Completed,
        warnings: Vec::new(),
    };
    let pause = resolve_pause(settings, &mut out.warnings);
    let mut services: Vec<Option<Box<dyn Service>>> = cells.iter().map(|_| None).collect();
    let ended = drive(
        cells,
        settings,
        &ctx,
        schedule,
        exec,
        sinks,
        &pause,
        &mut services,
        &mut out,
    );
    for s in services.iter_mut().flatten() {
        s.stop();
    }
    for s in sinks.iter_mut() {
        s.close();
    }
    out.stop = ended?;
    Ok(out)
}

/// The loop itself; returns why it ended.
#[allow(clippy::too_many_arguments)]
fn drive(
    cells: &[Cell],
    settings: &Settings,
    ctx: &[RunContext],
    schedule: &mut dyn Schedule,
    exec: &dyn Executor,
    sinks: &mut [&mut dyn Sink],
    pause: &Option<Resolved>,
    services: &mut [Option<Box<dyn Service>>],
    out: &mut Outcome,
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
        let cell = &cells[step.cell];
        if !out.records.is_empty() {
            wait(pause, settings, step.cell, &mut out.warnings);
        }
        start_service(cell, &mut services[step.cell])?;
        let starting = Starting {
            index: seq as usize,
            planned,
            warmups,
            side: cell.side,
            warmup: step.warmup,
        };
        sinks.iter_mut().for_each(|s| s.starting(&starting));
        let run = Planned {
            seq,
            warmup: step.warmup,
        };
        let record = record::execute(cell, &ctx[step.cell], settings, exec, run)?;
        for s in sinks.iter_mut() {
            s.finished(&record)?;
        }
        out.warnings.extend(record.warnings.iter().map(|w| Warning {
            cell: step.cell,
            seq: Some(record.seq),
            text: w.clone(),
        }));
        let failed = record.status != "ok";
        let interrupted = record.exit.interrupted;
        out.records.push(record);
        if interrupted {
            return Ok(Stop::Interrupted(
                interrupt::received().unwrap_or(nix::libc::SIGINT),
            ));
        }
        if failed && !settings.keep_going {
            return Ok(Stop::FailedRun);
        }
    }
    Ok(Stop::Completed)
}

/// A long-lived tool is started (and found ready) before its first run.
fn start_service(cell: &Cell, slot: &mut Option<Box<dyn Service>>) -> Result<()> {
    if slot.is_some() {
        return Ok(());
    }
    if let Some(mut s) = cell.driver.start(&cell.bin, &cell.argv)? {
        s.ready()
            .with_context(|| format!("'{}' did not become ready", cell.bin.display()))?;
        *slot = Some(s);
    }
    Ok(())
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
