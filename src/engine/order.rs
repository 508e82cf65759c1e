//! The order in which the engine's rounds run their cells: [`Rotation`],
//! one order of the cells per warmup round and a cycle of orders for the
//! measured rounds. `tokbench compare` runs two builds in ABBA order
//! ([`Rotation::abba`]); `bisect` runs three cells in the six orders of a
//! Williams design (its own table).
//!
//! After one warmup run of each side, pairs alternate their order: AB, BA,
//! AB, BA, ... (so the session reads ABBA ABBA ...). The k-th A run is paired
//! with the k-th B run; within a pair the two runs are adjacent, so a slow
//! drift (thermal throttling, a background job) moves both alike, and the
//! alternating order makes the remaining one-run lag cancel between
//! consecutive pairs. Running all A first and then all B (the sequential
//! order of hyperfine-style workflows) turns the same drift into an apparent
//! difference between the builds.

use serde::{Deserialize, Serialize};

/// Which build a run belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    A,
    B,
}

/// Warmup runs, one of each side, before the measured pairs; not measured.
pub const WARMUP_ORDER: [Side; 2] = [Side::A, Side::B];

/// The order of the two runs of pair `k` (0-based): AB for even k, BA for odd.
pub fn pair_order(k: usize) -> [Side; 2] {
    if k % 2 == 0 {
        [Side::A, Side::B]
    } else {
        [Side::B, Side::A]
    }
}

/// The measured runs of `pairs` interleaved pairs: ABBA ABBA ...
pub fn interleave_order(pairs: usize) -> Vec<Side> {
    (0..pairs).flat_map(pair_order).collect()
}

/// The orders of a [`crate::engine::schedule::Rounds`] schedule over N
/// cells (indices 0..N): `warmup` is the order of each warmup round, and
/// measured round k runs `rounds[k % rounds.len()]`, so the order rotates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    warmup: Vec<usize>,
    rounds: Vec<Vec<usize>>,
}

impl Rotation {
    pub fn new(warmup: Vec<usize>, rounds: Vec<Vec<usize>>) -> Rotation {
        Rotation { warmup, rounds }
    }

    /// Two cells, A = 0 and B = 1: warmups AB, then pairs AB, BA, AB, ...
    pub fn abba() -> Rotation {
        let cells = |sides: &[Side]| sides.iter().map(|&s| cell_of(s)).collect();
        Rotation::new(
            cells(&WARMUP_ORDER),
            (0..2).map(|k| cells(&pair_order(k))).collect(),
        )
    }

    /// The order of each warmup round.
    pub fn warmup(&self) -> &[usize] {
        &self.warmup
    }

    /// How many runs a measured round makes.
    pub fn per_round(&self) -> usize {
        self.round(0).len()
    }

    /// The order of measured round `k` (0-based); empty without rounds.
    pub fn round(&self, k: usize) -> &[usize] {
        let n = self.rounds.len().max(1);
        self.rounds.get(k % n).map_or(&[], Vec::as_slice)
    }
}

/// The engine cell of a side: A is cell 0, B cell 1.
pub fn cell_of(s: Side) -> usize {
    match s {
        Side::A => 0,
        Side::B => 1,
    }
}

/// All A runs, then all B runs: the order that cannot tell drift from a change.
pub fn sequential_order(pairs: usize) -> Vec<Side> {
    let mut order = vec![Side::A; pairs];
    order.extend(std::iter::repeat_n(Side::B, pairs));
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use Side::{A, B};

    #[test]
    fn interleaving_is_abba() {
        assert_eq!(interleave_order(4), vec![A, B, B, A, A, B, B, A]);
        assert_eq!(interleave_order(1), vec![A, B]);
        assert!(interleave_order(0).is_empty());
    }

    #[test]
    fn each_pair_holds_one_run_of_each_side() {
        for k in 0..6 {
            let p = pair_order(k);
            assert_ne!(p[0], p[1]);
        }
    }

    #[test]
    fn the_abba_rotation_alternates_the_pairs_after_warmups_in_order() {
        let r = Rotation::abba();
        assert_eq!(r.per_round(), 2);
        assert_eq!(r.warmup(), [0, 1]);
        let rounds: Vec<&[usize]> = (0..5).map(|k| r.round(k)).collect();
        assert_eq!(rounds, [&[0, 1][..], &[1, 0], &[0, 1], &[1, 0], &[0, 1]]);
    }

    #[test]
    fn sequential_is_all_a_then_all_b() {
        assert_eq!(sequential_order(2), vec![A, A, B, B]);
    }

    // Why the order is ABBA: against the statistics of `compare`.
    use crate::compare::stats::{compare, drift_check, Direction, Verdict};
    const HI: Direction = Direction::HigherIsBetter;

    #[test]
    fn interleaving_cancels_a_common_drift() {
        // Throttling of 0.5% per run, ABBA order: A at runs 0,3,4,7,..., B at 1,2,5,6,...
        let order = interleave_order(12);
        let rate = |t: usize| 100.0 * (1.0 - 0.005 * t as f64);
        let side = |s| -> Vec<f64> {
            (0..order.len())
                .filter(|&t| order[t] == s)
                .map(rate)
                .collect()
        };
        let (a, b) = (side(Side::A), side(Side::B));
        let d = drift_check(&a, &b, true);
        assert!(d.drift && d.cancelled);
        let ta = d.a.unwrap();
        assert!(ta.significant && ta.total_change_pct < -10.0);
        assert!(!d.ratio.unwrap().significant);
        let unpaired = drift_check(&a, &b, false);
        assert!(unpaired.drift && !unpaired.cancelled && unpaired.ratio.is_none());
    }

    #[test]
    fn sequential_runs_turn_drift_into_a_false_claim_interleaved_do_not() {
        // Identical builds, 0.5% slower every run, a small jitter to break ties.
        let split = |order: &[Side]| -> (Vec<f64>, Vec<f64>) {
            let rate =
                |t: usize| 100.0 * (1.0 - 0.005 * t as f64) * (1.0 + 1e-4 * (t as f64).sin());
            let side = |s| {
                (0..order.len())
                    .filter(|&t| order[t] == s)
                    .map(rate)
                    .collect()
            };
            (side(Side::A), side(Side::B))
        };
        let (a, b) = split(&sequential_order(10));
        let seq = compare(&a, &b, false, HI, 0.01, 0.95).unwrap();
        assert_eq!(seq.verdict, Verdict::Slower);
        let (a, b) = split(&interleave_order(10));
        let abba = compare(&a, &b, true, HI, 0.01, 0.95).unwrap();
        assert_eq!(abba.verdict, Verdict::NoChange);
        assert!((abba.ratio - 1.0).abs() <= 2e-3);
    }
}
