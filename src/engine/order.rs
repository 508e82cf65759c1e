//! The order in which `tokbench compare` runs the two builds.
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
    fn sequential_is_all_a_then_all_b() {
        assert_eq!(sequential_order(2), vec![A, A, B, B]);
    }
}
