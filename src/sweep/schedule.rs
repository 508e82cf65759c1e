//! The sweep's schedule: blocked, randomized rounds over N cells with
//! elimination, driven by a [`Race`]. A warmup of each cell first (in the
//! race's seeded warmup order), then round after round every surviving
//! cell once in a fresh seeded order; after each run its record goes to
//! the race, after each round the race decides who survives and whether
//! the sweep is over. The time budget (warmups included) is checked before
//! every run: a round it cuts short is left out of the race
//! ([`Race::time_ran_out`]).

use std::time::{Duration, Instant};

use super::race::{Outcome, Race};
use super::spec::outcome;
use crate::driver::Driver;
use crate::engine::schedule::{Next, Schedule, Step};
use crate::model::RunRecord;

/// Called at the start of each round with the race and the time elapsed
/// (for the progress line).
pub type OnRound = Box<dyn FnMut(&Race, Duration)>;

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
    on_round: OnRound,
    /// The clock (a test moves it).
    now: Box<dyn Fn() -> Instant>,
}

impl Rounds {
    pub fn new(race: Race, metric: &str, driver: &'static dyn Driver, on_round: OnRound) -> Rounds {
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
            now: Box::new(Instant::now),
        }
    }

    /// The same schedule reading the time from `now`.
    pub fn with_clock(self, now: Box<dyn Fn() -> Instant>) -> Rounds {
        Rounds { now, ..self }
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
        let started = *self.started.get_or_insert_with(&self.now);
        let elapsed = (self.now)().saturating_duration_since(started);
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
            self.race.end_round(elapsed);
        }
        let Some(order) = self.race.next_round() else {
            return false;
        };
        (self.on_round)(&self.race, elapsed);
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

impl Rounds {
    /// Whether the sweep's time budget is spent (by the clock of `now`).
    fn time_spent(&self) -> bool {
        let max = self.race.config().max_time;
        match (self.started, max) {
            (Some(t), Some(max)) => (self.now)().saturating_duration_since(t) >= max,
            _ => false,
        }
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
        if self.time_spent() {
            self.race.time_ran_out();
            self.queue.clear();
            return Ok(Next::Done);
        }
        let step = self.queue.pop_front();
        self.pending = step;
        Ok(step.map_or(Next::Done, Next::Run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::test_support::blank_record;
    use crate::sweep::race::{RaceConfig, StopReason, UnfinishedRound};

    /// A run of `cell`: 100 t/s for cell 0, 80 for cell 1 (a little noise
    /// by round), an out-of-memory failure for cell 2.
    fn run_of(step: Step, k: usize) -> RunRecord {
        let mut r = blank_record();
        r.warmup = step.warmup;
        if step.cell == 2 {
            r.status = "failed".into();
            r.error = Some("run 0 of 'x' exited 1\nggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer: out of memory".into());
            return r;
        }
        let base = [100.0, 80.0][step.cell];
        let value = base * (1.0 + 0.002 * ((k * 7 + step.cell) % 5) as f64);
        r.timings = Some(serde_json::from_value(serde_json::json!({ "eval_tps": value })).unwrap());
        r
    }

    /// Drives `s` with a clock that each run moves by `took(run index)`.
    fn drive(s: Rounds, took: impl Fn(usize) -> u64 + 'static) -> (Rounds, Vec<Step>) {
        let t0 = Instant::now();
        let clock = std::rc::Rc::new(std::cell::Cell::new(t0));
        let read = clock.clone();
        let mut s = s.with_clock(Box::new(move || read.get()));
        let (mut done, mut steps) = (Vec::new(), Vec::new());
        while let Next::Run(step) = s.next(&done).unwrap() {
            clock.set(clock.get() + Duration::from_secs(took(steps.len())));
            steps.push(step);
            done.push(run_of(step, steps.len()));
            assert!(steps.len() < 200, "the race never ends");
        }
        (s, steps)
    }

    fn race_of(cells: usize, max_time: u64) -> Rounds {
        let cfg = RaceConfig {
            max_rounds: 30,
            max_time: Some(Duration::from_secs(max_time)),
            seed: 3,
            ..RaceConfig::default()
        };
        let on_round: OnRound = Box::new(|_, _| {});
        let race = Race::new(cells, cfg);
        Rounds::new(
            race,
            "eval_tps",
            &crate::driver::completion::Completion,
            on_round,
        )
    }

    /// Issue 12: the budget was checked only at round ends, so a first
    /// round of slow cells overran it by a whole round.
    #[test]
    fn the_budget_stops_a_first_round_midway_and_the_race_leaves_it_out() {
        // 1 s runs: warmups end at 3 s, the round's runs at 4 and 5 s.
        let (s, steps) = drive(race_of(3, 4), |_| 1);
        assert_eq!(steps.len(), 4, "{steps:?}");
        assert!(steps[..3].iter().all(|s| s.warmup) && !steps[3].warmup);
        let race = &s.race;
        assert_eq!(race.stop_reason(), Some(StopReason::TimeBudget));
        assert_eq!(
            race.unfinished_round(),
            Some(UnfinishedRound { round: 1, runs: 1 })
        );
        assert_eq!(
            (race.rounds_done(), race.runs(), race.looks_taken()),
            (0, 0, 0)
        );
        assert!((0..3).all(|c| race.measurements(c).is_empty()));
    }

    #[test]
    fn a_slow_run_that_spends_the_budget_mid_round_ends_the_sweep_on_the_complete_rounds() {
        // Warmups and three rounds of two 1 s runs (8 s); the first run of
        // round 4 takes 5 s, past the 12 s budget.
        let (s, steps) = drive(race_of(2, 12), |i| if i == 8 { 5 } else { 1 });
        assert_eq!(steps.len(), 9, "{steps:?}");
        let race = &s.race;
        assert_eq!(race.stop_reason(), Some(StopReason::TimeBudget));
        assert_eq!(
            race.unfinished_round(),
            Some(UnfinishedRound { round: 4, runs: 1 })
        );
        assert_eq!((race.rounds_done(), race.runs()), (3, 6));
        let (a, b) = race.common_values(0, 1);
        assert_eq!((a.len(), b.len()), (3, 3));
        assert_eq!(race.measurements(steps[8].cell).len(), 3);
        // Three rounds are before the first look: nothing was judged.
        assert_eq!((race.first_look(), race.looks_taken()), (9, 0));
    }

    #[test]
    fn warmups_then_rounds_until_the_worse_cell_is_eliminated() {
        let cfg = RaceConfig {
            max_rounds: 30,
            max_time: None,
            seed: 3,
            ..RaceConfig::default()
        };
        let race = Race::new(3, cfg);
        let warm = race.warmup_order();
        let rounds_seen = std::rc::Rc::new(std::cell::Cell::new(0));
        let seen = rounds_seen.clone();
        let on_round: OnRound = Box::new(move |_, _| seen.set(seen.get() + 1));
        let mut s = Rounds::new(
            race,
            "eval_tps",
            &crate::driver::completion::Completion,
            on_round,
        );
        let mut done: Vec<RunRecord> = Vec::new();
        let mut steps = Vec::new();
        while let Next::Run(step) = s.next(&done).unwrap() {
            steps.push(step);
            done.push(run_of(step, steps.len()));
            assert!(steps.len() < 200, "the race never ends");
        }
        let warmups: Vec<usize> = steps.iter().take(3).map(|s| s.cell).collect();
        assert_eq!(warmups, warm);
        assert!(steps[..3].iter().all(|s| s.warmup));
        // The infeasible cell never runs again; the others once a round.
        let counted: Vec<&Step> = steps[3..].iter().collect();
        assert!(counted.iter().all(|s| !s.warmup && s.cell != 2));
        let n0 = counted.iter().filter(|s| s.cell == 0).count();
        let n1 = counted.iter().filter(|s| s.cell == 1).count();
        assert_eq!(n0, n1);
        assert_eq!(n0, s.race.rounds_done());
        assert_eq!(rounds_seen.get(), n0);
        assert_eq!(s.race.stop_reason(), Some(StopReason::OneLeft));
        assert_eq!(s.race.survivors(), [0]);
        assert!((3..30).contains(&n0), "{n0} rounds");
    }
}
