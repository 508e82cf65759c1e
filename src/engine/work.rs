//! What the session loop executes, whatever a step is: a process run of a
//! one-shot tool (into a [`RunRecord`]) or a block of load against a
//! long-lived one (a llama-server). A [`Work`] says, per cell, whether the
//! cell owns a service and how long it lives ([`Lifetime`]), starts it, and
//! runs one step against it; the loop in [`super`] decides the order,
//! starts and stops services, and hands each record to the sinks.

use crate::driver::Service;
use crate::model::RunRecord;

use super::record::Planned;

/// How long a cell's service (a server) lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Started before the cell's first step, stopped when the session ends.
    Session,
    /// Started before each of the cell's steps and stopped after it, and
    /// only once every other cell's service is stopped: one server at a
    /// time, and nothing one block left behind (KV cache, slots, warm
    /// buffers) reaches the next.
    Block,
}

/// A finished step, as the loop needs to see it.
pub trait Finished {
    /// Its position in the session (the run's `seq`, the block's index).
    fn seq(&self) -> u32;
    /// The step failed (the session stops unless `--keep-going`).
    fn failed(&self) -> bool;
    /// The step was cut off by a signal (the session stops).
    fn interrupted(&self) -> bool;
    fn warnings(&self) -> &[String];
}

impl Finished for RunRecord {
    fn seq(&self) -> u32 {
        self.seq
    }
    fn failed(&self) -> bool {
        self.status != "ok"
    }
    fn interrupted(&self) -> bool {
        self.exit.interrupted
    }
    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// The cells of a session and how one step of each is executed.
pub trait Work {
    type Record: Finished;
    type Service: Service;

    /// How long cell `cell`'s service lives (cells without one: any).
    fn lifetime(&self, cell: usize) -> Lifetime;
    /// `a` / `b` of a comparison, for the progress display.
    fn side(&self, cell: usize) -> Option<&'static str>;
    /// The cell as said in an error (`'llama-server'`, `side A (...)`).
    fn name(&self, cell: usize) -> String;
    /// Starts the cell's service (not yet ready); None: it has none.
    fn start(&mut self, cell: usize) -> anyhow::Result<Option<Self::Service>>;
    /// One step of the cell, against its running service if it has one.
    /// An `Err` ends the session; a failed step is a record saying so.
    fn step(
        &mut self,
        cell: usize,
        run: Planned,
        service: Option<&mut Self::Service>,
    ) -> anyhow::Result<Self::Record>;
}

impl<S: Service + ?Sized> Service for Box<S> {
    fn ready(&mut self) -> anyhow::Result<()> {
        (**self).ready()
    }
    fn stop(&mut self) {
        (**self).stop()
    }
}
