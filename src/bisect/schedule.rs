//! A step's schedule: warmups of the good, bad and commit cells, then
//! rounds of one run each in a balanced order (the six orders of a
//! Williams design for three, in turn: each cell runs in each position,
//! and after each other cell, equally often), looked at after every round.
//! The table is bisect's; the schedule is the engine's [`Rounds`].

use std::time::Duration;

use crate::engine::order::Rotation;
use crate::engine::schedule::{Rounds, Rule};

/// The round orders, cells 0 (good), 1 (bad), 2 (commit).
const ORDERS: [[usize; 3]; 6] = [
    [2, 0, 1],
    [0, 1, 2],
    [1, 2, 0],
    [2, 1, 0],
    [1, 0, 2],
    [0, 2, 1],
];

/// Each warmup round: good, bad, then the commit.
const WARMUP: [usize; 3] = [0, 1, 2];

/// The three cells' rotation: the Williams design's six orders in turn.
pub fn rotation() -> Rotation {
    Rotation::new(WARMUP.to_vec(), ORDERS.iter().map(|o| o.to_vec()).collect())
}

/// Three cells in rounds until the rule decides, at most `max_rounds` or
/// `max_time`; the schedule's `ended` holds what the rule decided.
pub fn rounds3<E>(warmup: u32, max_rounds: usize, max_time: Duration, look: Rule<E>) -> Rounds<E> {
    Rounds::until(rotation(), warmup, max_rounds, max_time, look)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::schedule::{Look, Next, Schedule};

    fn drain<E>(s: &mut Rounds<E>) -> String {
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
        let mut s = rounds3(1, 6, Duration::from_secs(60), rule);
        assert_eq!(s.planned(), (21, true));
        assert_eq!(s.planned_warmups(), 3);
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
        let mut s = rounds3(0, 10, Duration::from_secs(60), rule);
        assert_eq!(drain(&mut s), "CGBGBC");
        assert_eq!(s.ended, Some(2));
        let timed: Rule<Look> =
            Box::new(|_, look| Ok(matches!(look, Look::TimeSpent(_)).then_some(look)));
        let mut s = rounds3(0, 10, Duration::ZERO, timed);
        assert_eq!(drain(&mut s), "");
        assert_eq!(s.ended, Some(Look::TimeSpent(0)));
    }
}
