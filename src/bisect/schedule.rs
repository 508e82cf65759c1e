//! A step's schedule: warmups of the good, bad and commit cells, then
//! rounds of one run each in a balanced order (the six orders of a
//! Williams design for three, in turn: each cell runs in each position,
//! and after each other cell, equally often), looked at after every round.

use std::time::{Duration, Instant};

use crate::engine::schedule::{Look, Next, Rule, Schedule, Step};
use crate::model::RunRecord;

/// The round orders, cells 0 (good), 1 (bad), 2 (commit).
const ORDERS: [[usize; 3]; 6] = [
    [2, 0, 1],
    [0, 1, 2],
    [1, 2, 0],
    [2, 1, 0],
    [1, 0, 2],
    [0, 2, 1],
];

/// Three cells in rounds until the rule decides, at most `max_rounds` or
/// `max_time`; `ended` holds what the rule decided.
pub struct Rounds3<E> {
    warmup: u32,
    max_rounds: usize,
    max_time: Duration,
    look: Rule<E>,
    queue: Vec<Step>,
    started: bool,
    k: usize,
    since: Option<Instant>,
    pub ended: Option<E>,
}

impl<E> Rounds3<E> {
    pub fn new(warmup: u32, max_rounds: usize, max_time: Duration, look: Rule<E>) -> Rounds3<E> {
        Rounds3 {
            warmup,
            max_rounds,
            max_time,
            look,
            queue: Vec::new(),
            started: false,
            k: 0,
            since: None,
            ended: None,
        }
    }

    fn refill(&mut self, done: &[RunRecord]) -> anyhow::Result<bool> {
        let since = *self.since.get_or_insert_with(Instant::now);
        if self.k > 0 {
            if let Some(end) = (self.look)(done, Look::AfterPair(self.k))? {
                self.ended = Some(end);
                return Ok(false);
            }
        }
        if self.k >= self.max_rounds {
            return Ok(false);
        }
        if since.elapsed() >= self.max_time {
            self.ended = (self.look)(done, Look::TimeSpent(self.k))?;
            return Ok(false);
        }
        let order = ORDERS[self.k % ORDERS.len()];
        self.k += 1;
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

impl<E> Schedule for Rounds3<E> {
    fn planned(&self) -> (usize, bool) {
        (3 * (self.max_rounds + self.warmup as usize), true)
    }

    fn next(&mut self, done: &[RunRecord]) -> anyhow::Result<Next> {
        if !self.started {
            self.started = true;
            self.queue = (0..self.warmup)
                .flat_map(|_| [2, 1, 0])
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

    fn drain<E>(s: &mut Rounds3<E>) -> String {
        let mut out = String::new();
        while let Ok(Next::Run(step)) = s.next(&[]) {
            let c = b"gbc"[step.cell] as char;
            out.push(if step.warmup {
                c
            } else {
                c.to_ascii_uppercase()
            });
        }
        out
    }

    #[test]
    fn warmups_then_balanced_rounds_until_the_budget() {
        let rule: Rule<()> = Box::new(|_, _| Ok(None));
        let mut s = Rounds3::new(1, 6, Duration::from_secs(60), rule);
        assert_eq!(s.planned(), (21, true));
        let order = drain(&mut s);
        assert_eq!(order, "gbcCGBGBCBCGCBGBGCGCB");
        // Over the six rounds each cell is first, second and third twice.
        let rounds: Vec<&str> = (0..6).map(|k| &order[3 + 3 * k..6 + 3 * k]).collect();
        for cell in ['G', 'B', 'C'] {
            for pos in 0..3 {
                let n = rounds
                    .iter()
                    .filter(|r| r.as_bytes()[pos] as char == cell)
                    .count();
                assert_eq!(n, 2, "{cell} at {pos}: {rounds:?}");
            }
        }
    }

    #[test]
    fn the_rule_ends_the_rounds_and_time_gets_one_last_look() {
        let rule: Rule<usize> = Box::new(|_, look| match look {
            Look::AfterPair(k) if k == 2 => Ok(Some(k)),
            _ => Ok(None),
        });
        let mut s = Rounds3::new(0, 10, Duration::from_secs(60), rule);
        assert_eq!(drain(&mut s), "CGBGBC");
        assert_eq!(s.ended, Some(2));
        let timed: Rule<Look> =
            Box::new(|_, look| Ok(matches!(look, Look::TimeSpent(_)).then_some(look)));
        let mut s = Rounds3::new(0, 10, Duration::ZERO, timed);
        assert_eq!(drain(&mut s), "");
        assert_eq!(s.ended, Some(Look::TimeSpent(0)));
    }
}
