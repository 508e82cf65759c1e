//! Schedules: which cell runs next, asked after every finished run with the
//! records so far. [`Sequential`] is `tokbench run`'s; [`Abba`] is
//! `compare`'s (warmups of each side, then pairs in ABBA order, a fixed
//! number or until an adaptive rule decides). A blocked, randomized order
//! over N cells with elimination is one more implementation of the trait.

use std::time::{Duration, Instant};

use super::order::{pair_order, Side, WARMUP_ORDER};
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

/// When [`Abba`] looks at its results: before pair k (after the warmups),
/// after k complete pairs, or when its time is spent after k pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    BeforePair(usize),
    AfterPair(usize),
    TimeSpent(usize),
}

/// A look at the results: Ok(Some(end)) stops the session (an adaptive
/// rule decided), an error ends it.
pub type Rule<E, R = RunRecord> = Box<dyn FnMut(&[R], Look) -> anyhow::Result<Option<E>>>;

/// Two cells (A = 0, B = 1): `warmup` rounds of A then B, then pairs in
/// ABBA order: `pairs` of them, or (adaptive) until the rule decides, at
/// most `max_pairs` or `max_time`. `ended` holds what the rule decided.
pub struct Abba<E, R = RunRecord> {
    warmup: u32,
    pairs: usize,
    look: Option<Rule<E, R>>,
    adaptive: bool,
    max_time: Duration,
    queue: Vec<Step>,
    done_warmups: bool,
    k: usize,
    started: Option<Instant>,
    pub ended: Option<E>,
}

impl<E, R> Abba<E, R> {
    /// `pairs` pairs; `look` (if any) sees the results before and after each
    /// pair and may end the session early.
    pub fn fixed(warmup: u32, pairs: usize, look: Option<Rule<E, R>>) -> Abba<E, R> {
        Abba {
            warmup,
            pairs,
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

    /// `--auto`: the rule looks after each pair; `max_pairs` and `max_time` bound it.
    pub fn adaptive(
        warmup: u32,
        max_pairs: usize,
        max_time: Duration,
        rule: Rule<E, R>,
    ) -> Abba<E, R> {
        Abba {
            adaptive: true,
            max_time,
            ..Abba::fixed(warmup, max_pairs, Some(rule))
        }
    }

    fn ask(&mut self, done: &[R], look: Look) -> anyhow::Result<Option<E>> {
        match self.look.as_mut() {
            Some(l) => l(done, look),
            None => Ok(None),
        }
    }

    fn side(s: Side) -> usize {
        match s {
            Side::A => 0,
            Side::B => 1,
        }
    }

    /// Refills the queue with the next pair, or says the session is over.
    fn refill(&mut self, done: &[R]) -> anyhow::Result<bool> {
        let started = *self.started.get_or_insert_with(Instant::now);
        if self.k > 0 {
            if let Some(end) = self.ask(done, Look::AfterPair(self.k))? {
                self.ended = Some(end);
                return Ok(false);
            }
        }
        if self.k >= self.pairs {
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
        let order = pair_order(self.k);
        self.k += 1;
        self.queue = order
            .iter()
            .rev()
            .map(|&s| Step {
                cell: Self::side(s),
                warmup: false,
            })
            .collect();
        Ok(true)
    }
}

impl<E, R> Schedule<R> for Abba<E, R> {
    fn planned(&self) -> (usize, bool) {
        (self.pairs * 2 + self.warmup as usize * 2, self.adaptive)
    }
    fn planned_warmups(&self) -> usize {
        self.warmup as usize * 2
    }

    fn next(&mut self, done: &[R]) -> anyhow::Result<Next> {
        if !self.done_warmups {
            self.done_warmups = true;
            // A stack: the first run last.
            self.queue = (0..self.warmup)
                .flat_map(|_| WARMUP_ORDER)
                .rev()
                .map(|s| Step {
                    cell: Self::side(s),
                    warmup: true,
                })
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
