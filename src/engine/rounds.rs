//! The sweep's schedule: blocked, randomized rounds over N cells with
//! elimination, driven by a [`Race`]. A warmup of each cell first (in the
//! race's seeded warmup order), then round after round every surviving
//! cell once in a fresh seeded order; after each run its record goes to
//! the race, after each round the race decides who survives and whether
//! the sweep is over.

use std::time::Instant;

use super::schedule::{Next, Schedule, Step};
use crate::driver::Driver;
use crate::model::RunRecord;
use crate::sweep::race::{Outcome, Race};
use crate::sweep::spec::outcome;

/// The schedule of `tokbench sweep`; `race` holds the state at the end.
pub struct Rounds {
    pub race: Race,
    /// The metric raced on: the one asked for until the first successful
    /// run settles it through the driver (llama-bench's `eval_tps` is its
    /// generation test, `tg128`).
    pub metric: String,
    driver: &'static dyn Driver,
    settled: bool,
    queue: std::collections::VecDeque<Step>,
    pending: Option<Step>,
    warmed: bool,
    in_round: bool,
    started: Option<Instant>,
    /// Called at the start of each round with the race (for the progress line).
    on_round: Box<dyn FnMut(&Race, std::time::Duration)>,
}

impl Rounds {
    pub fn new(
        race: Race,
        metric: &str,
        driver: &'static dyn Driver,
        on_round: Box<dyn FnMut(&Race, std::time::Duration)>,
    ) -> Rounds {
        Rounds {
            race,
            metric: metric.to_string(),
            driver,
            settled: false,
            queue: Default::default(),
            pending: None,
            warmed: false,
            in_round: false,
            started: None,
            on_round,
        }
    }

    /// The race's view of the run of `step` (its record is the last one).
    fn take(&mut self, step: Step, r: &RunRecord) -> anyhow::Result<()> {
        if !self.settled && r.status == "ok" {
            self.metric = self
                .driver
                .primary_metric(&self.metric, std::slice::from_ref(r))
                .map_err(|e| crate::exit::UsageError(e.to_string()))?;
            self.settled = true;
        }
        let o = outcome(r, &self.metric);
        match step.warmup {
            true => self.race.record_warmup(
                step.cell,
                match o {
                    Outcome::Infeasible(cause) => Err(cause),
                    Outcome::Measured(_) => Ok(()),
                },
            ),
            false => self.race.record(step.cell, o),
        }
        Ok(())
    }

    /// Fills the queue with the warmups, or the next round; false when the race is over.
    fn refill(&mut self) -> bool {
        let started = *self.started.get_or_insert_with(Instant::now);
        if !self.warmed {
            self.warmed = true;
            self.queue = self
                .race
                .warmup_order()
                .into_iter()
                .map(|cell| Step { cell, warmup: true })
                .collect();
            if !self.queue.is_empty() {
                return true;
            }
        }
        if self.in_round {
            self.in_round = false;
            self.race.end_round(started.elapsed());
        }
        let Some(order) = self.race.next_round() else {
            return false;
        };
        (self.on_round)(&self.race, started.elapsed());
        self.in_round = true;
        self.queue = order
            .into_iter()
            .map(|cell| Step {
                cell,
                warmup: false,
            })
            .collect();
        true
    }
}

impl Schedule for Rounds {
    fn planned(&self) -> (usize, bool) {
        let n = self.race.survivors().len();
        (n * (self.race.config().max_rounds + 1), true)
    }

    fn next(&mut self, done: &[RunRecord]) -> anyhow::Result<Next> {
        if let (Some(step), Some(r)) = (self.pending.take(), done.last()) {
            self.take(step, r)?;
        }
        while self.queue.is_empty() {
            if !self.refill() {
                return Ok(Next::Done);
            }
        }
        let step = self.queue.pop_front();
        self.pending = step;
        Ok(step.map_or(Next::Done, Next::Run))
    }
}
