//! Schedules: which cell runs next, asked after every finished run with the
//! records so far. [`Sequential`] is `tokbench run`'s; [`Rounds`] runs N
//! cells in rounds whose order rotates ([`Rotation`]), a fixed number or
//! until an adaptive rule decides: [`Abba`] is `compare`'s (two cells,
//! ABBA), `bisect` runs three cells in a Williams design. A blocked,
//! randomized order over N cells with elimination (`sweep`) is one more
//! implementation of the trait.

use std::time::{Duration, Instant};

use super::order::Rotation;
use crate::model::RunRecord;

/// The next run: which cell, and whether it is a warmup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub cell: usize,
    pub warmup: bool,
}

/// What a schedule answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Run(Step),
    /// The schedule is complete.
    Done,
}

/// `R` is what a step gives: a run record (the default), or a block's
/// summary in a `serve` session.
pub trait Schedule<R = RunRecord> {
    /// Runs it will make at most, and whether it may stop earlier (adaptive).
    fn planned(&self) -> (usize, bool);
    /// How many of the planned runs are warmups (progress counts them apart).
    fn planned_warmups(&self) -> usize {
        0
    }
    /// The next run, given every record so far (in run order); an error
    /// ends the session (e.g. a `--metric` the first results do not hold).
    fn next(&mut self, done: &[R]) -> anyhow::Result<Next>;
}

/// The given steps in order (one cell's warmups, then its counted runs).
#[derive(Debug, Clone)]
pub struct Sequential {
    steps: Vec<Step>,
    at: usize,
}

impl Sequential {
    /// `runs` marks each process warmup or not (from the cell's driver).
    pub fn of_cell(cell: usize, runs: &[bool]) -> Sequential {
        let steps = runs.iter().map(|&warmup| Step { cell, warmup }).collect();
        Sequential { steps, at: 0 }
    }
}

impl<R> Schedule<R> for Sequential {
    fn planned(&self) -> (usize, bool) {
        (self.steps.len(), false)
    }
    fn planned_warmups(&self) -> usize {
        self.steps.iter().filter(|s| s.warmup).count()
    }
    fn next(&mut self, _done: &[R]) -> anyhow::Result<Next> {
        let n = self.steps.get(self.at).copied();
        self.at += 1;
        Ok(n.map_or(Next::Done, Next::Run))
    }
}

/// When [`Rounds`] looks at its results: before round k (after the
/// warmups), after k complete rounds, or when its time is spent after k
/// rounds (a round of [`Abba`] is a pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    BeforePair(usize),
    AfterPair(usize),
    TimeSpent(usize),
}

/// A look at the results: Ok(Some(end)) stops the session (an adaptive
/// rule decided), an error ends it.
pub type Rule<E, R = RunRecord> = Box<dyn FnMut(&[R], Look) -> anyhow::Result<Option<E>>>;

/// Rounds over the cells of a [`Rotation`]: `warmup` warmup rounds, then
/// measured rounds in the rotation's orders: `rounds` of them, or
/// (adaptive) until the rule decides, at most `rounds` or `max_time`. The
/// rule looks before each round (after the warmups) and after each one.
/// `ended` holds what the rule decided. `compare`'s [`Abba`] is this over
/// two cells; `bisect` runs it over three.
pub struct Rounds<E, R = RunRecord> {
    rotation: Rotation,
    warmup: u32,
    rounds: usize,
    look: Option<Rule<E, R>>,
    adaptive: bool,
    max_time: Duration,
    queue: Vec<Step>,
    done_warmups: bool,
    k: usize,
    started: Option<Instant>,
    pub ended: Option<E>,
}

/// `compare`'s schedule: two cells (A = 0, B = 1), warmups of A then B,
/// then pairs in ABBA order.
pub type Abba<E, R = RunRecord> = Rounds<E, R>;

impl<E, R> Rounds<E, R> {
    /// `rounds` rounds; `look` (if any) sees the results before and after
    /// each round and may end the session early.
    pub fn rotating(
        rotation: Rotation,
        warmup: u32,
        rounds: usize,
        look: Option<Rule<E, R>>,
    ) -> Self {
        Rounds {
            rotation,
            warmup,
            rounds,
            look,
            adaptive: false,
            max_time: Duration::MAX,
            queue: Vec::new(),
            done_warmups: false,
            k: 0,
            started: None,
            ended: None,
        }
    }

    /// Adaptive: the rule decides; `max_rounds` and `max_time` bound it.
    pub fn until(
        rotation: Rotation,
        warmup: u32,
        max_rounds: usize,
        max_time: Duration,
        rule: Rule<E, R>,
    ) -> Self {
        Rounds {
            adaptive: true,
            max_time,
            ..Rounds::rotating(rotation, warmup, max_rounds, Some(rule))
        }
    }

    /// ABBA: `pairs` pairs of A and B.
    pub fn fixed(warmup: u32, pairs: usize, look: Option<Rule<E, R>>) -> Self {
        Rounds::rotating(Rotation::abba(), warmup, pairs, look)
    }

    /// ABBA, `--auto`: the rule looks after each pair; `max_pairs` and `max_time` bound it.
    pub fn adaptive(warmup: u32, max_pairs: usize, max_time: Duration, rule: Rule<E, R>) -> Self {
        Rounds::until(Rotation::abba(), warmup, max_pairs, max_time, rule)
    }

    fn ask(&mut self, done: &[R], look: Look) -> anyhow::Result<Option<E>> {
        match self.look.as_mut() {
            Some(l) => l(done, look),
            None => Ok(None),
        }
    }

    /// Refills the queue with the next round, or says the session is over.
    fn refill(&mut self, done: &[R]) -> anyhow::Result<bool> {
        let started = *self.started.get_or_insert_with(Instant::now);
        if self.k > 0 {
            if let Some(end) = self.ask(done, Look::AfterPair(self.k))? {
                self.ended = Some(end);
                return Ok(false);
            }
        }
        if self.k >= self.rounds {
            return Ok(false);
        }
        if self.adaptive && started.elapsed() >= self.max_time {
            self.ended = self.ask(done, Look::TimeSpent(self.k))?;
            return Ok(false);
        }
        if let Some(end) = self.ask(done, Look::BeforePair(self.k))? {
            self.ended = Some(end);
            return Ok(false);
        }
        let order = self.rotation.round(self.k);
        self.k += 1;
        // A stack: the first run last.
        self.queue = order
            .iter()
            .rev()
            .map(|&cell| Step {
                cell,
                warmup: false,
            })
            .collect();
        Ok(true)
    }
}

impl<E, R> Schedule<R> for Rounds<E, R> {
    fn planned(&self) -> (usize, bool) {
        let (warm, per) = (self.rotation.warmup().len(), self.rotation.per_round());
        (
            self.rounds * per + self.warmup as usize * warm,
            self.adaptive,
        )
    }
    fn planned_warmups(&self) -> usize {
        self.warmup as usize * self.rotation.warmup().len()
    }

    fn next(&mut self, done: &[R]) -> anyhow::Result<Next> {
        if !self.done_warmups {
            self.done_warmups = true;
            let order = self.rotation.warmup();
            self.queue = (0..self.warmup)
                .flat_map(|_| order.iter().copied())
                .rev()
                .map(|cell| Step { cell, warmup: true })
                .collect();
        }
        if self.queue.is_empty() && !self.refill(done)? {
            return Ok(Next::Done);
        }
        Ok(self.queue.pop().map_or(Next::Done, Next::Run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(s: &mut dyn Schedule) -> String {
        let mut out = String::new();
        while let Ok(Next::Run(step)) = s.next(&[]) {
            out.push(match (step.cell, step.warmup) {
                (0, true) => 'a',
                (1, true) => 'b',
                (0, false) => 'A',
                _ => 'B',
            });
        }
        out
    }

    #[test]
    fn sequential_runs_the_drivers_processes_in_order() {
        let mut s = Sequential::of_cell(0, &[true, false, false]);
        assert_eq!(Schedule::<RunRecord>::planned(&s), (3, false));
        assert_eq!(drain(&mut s), "aAA");
        assert_eq!(
            Schedule::<RunRecord>::next(&mut s, &[]).unwrap(),
            Next::Done
        );
    }

    #[test]
    fn rounds_of_n_cells_rotate_through_their_orders_after_the_warmups() {
        let rotation = Rotation::new(vec![2, 0, 1], vec![vec![0, 1, 2], vec![2, 1, 0]]);
        let mut s: Rounds<()> = Rounds::rotating(rotation, 2, 3, None);
        assert_eq!(s.planned(), (15, false));
        assert_eq!(s.planned_warmups(), 6);
        let mut steps = Vec::new();
        while let Next::Run(step) = s.next(&[]).unwrap() {
            steps.push((step.cell, step.warmup));
        }
        let warm: Vec<(usize, bool)> = [2, 0, 1, 2, 0, 1].map(|c| (c, true)).to_vec();
        let measured: Vec<(usize, bool)> = [0, 1, 2, 2, 1, 0, 0, 1, 2].map(|c| (c, false)).to_vec();
        assert_eq!(steps[..6], warm[..]);
        assert_eq!(steps[6..], measured[..]);
    }

    #[test]
    fn abba_warms_each_side_then_alternates_pairs() {
        let mut s: Abba<()> = Abba::fixed(2, 4, None);
        assert_eq!(s.planned(), (12, false));
        assert_eq!(drain(&mut s), "ababABBAABBA");
    }

    #[test]
    fn adaptive_abba_stops_when_the_rule_decides() {
        let looks = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let seen = looks.clone();
        let rule: Rule<&'static str> = Box::new(move |_, look| {
            seen.borrow_mut().push(look);
            Ok((look == Look::AfterPair(3)).then_some("decided"))
        });
        let mut s = Abba::adaptive(1, 10, Duration::from_secs(3600), rule);
        assert_eq!(s.planned(), (22, true));
        assert_eq!(drain(&mut s), "abABBAAB");
        assert_eq!(s.ended, Some("decided"));
        let expected = [
            Look::BeforePair(0),
            Look::AfterPair(1),
            Look::BeforePair(1),
            Look::AfterPair(2),
            Look::BeforePair(2),
            Look::AfterPair(3),
        ];
        assert_eq!(looks.borrow().as_slice(), expected);
    }

    #[test]
    fn adaptive_abba_asks_once_more_when_its_time_is_spent() {
        let rule: Rule<Look> =
            Box::new(|_, look| Ok(matches!(look, Look::TimeSpent(_)).then_some(look)));
        let mut s = Abba::adaptive(0, 10, Duration::ZERO, rule);
        assert_eq!(drain(&mut s), "");
        assert_eq!(s.ended, Some(Look::TimeSpent(0)));
    }

    #[test]
    fn adaptive_abba_stops_at_max_pairs_after_the_last_look() {
        let rule: Rule<usize> = Box::new(|_, look| match look {
            Look::AfterPair(k) if k == 2 => Ok(Some(k)),
            _ => Ok(None),
        });
        let mut s = Abba::adaptive(0, 2, Duration::from_secs(60), rule);
        assert_eq!(drain(&mut s), "ABBA");
        assert_eq!(s.ended, Some(2));
    }

    #[test]
    fn a_look_that_fails_after_the_warmups_ends_the_session_before_any_pair() {
        let rule: Rule<()> = Box::new(|_, look| match look {
            Look::BeforePair(0) => anyhow::bail!("unknown metric"),
            _ => Ok(None),
        });
        let mut s = Abba::fixed(1, 5, Some(rule));
        assert_eq!(
            s.next(&[]).unwrap(),
            Next::Run(Step {
                cell: 0,
                warmup: true
            })
        );
        assert_eq!(
            s.next(&[]).unwrap(),
            Next::Run(Step {
                cell: 1,
                warmup: true
            })
        );
        let e = s.next(&[]).unwrap_err();
        assert_eq!(e.to_string(), "unknown metric");
    }
}
