//! The round design: a warmup of each cell, then rounds in which every
//! surviving cell runs once, each round in a fresh random order.
//!
//! The order of round r is a seeded shuffle that depends only on the seed,
//! the round and the survivors, so a recorded seed reproduces every order.
//! A slow drift (heat, a background job) then moves every cell of a round
//! alike, and comparisons paired by round cancel it; running each cell's
//! repetitions in a row (llama-bench's order) turns the same drift into a
//! difference between cells.

use crate::compare::stats::SplitMix64;

/// Round index of the warmup in [`round_order`].
pub const WARMUP_ROUND: u64 = u64::MAX;

/// The survivors in the order they run in round `round` (0-based; the
/// warmup is [`WARMUP_ROUND`]): a Fisher-Yates shuffle seeded by the seed
/// and the round.
pub fn round_order(seed: u64, round: u64, survivors: &[usize]) -> Vec<usize> {
    let mut rng = SplitMix64::new(seed ^ round.wrapping_mul(0xA076_1D64_78BD_642F));
    // Burn one value so nearby seeds do not start alike.
    rng.next_u64();
    let mut order = survivors.to_vec();
    for i in (1..order.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// A seed for a sweep that was given none: from the clock, recorded with
/// the results so the orders can be reproduced.
pub fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    SplitMix64::new(nanos ^ u64::from(std::process::id())).next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_round_is_a_permutation_of_the_survivors() {
        let survivors = [0, 2, 3, 5, 7];
        for r in 0..20 {
            let mut o = round_order(9, r, &survivors);
            o.sort_unstable();
            assert_eq!(o, survivors);
        }
    }

    #[test]
    fn the_seed_reproduces_the_orders_and_rounds_differ() {
        let cells: Vec<usize> = (0..8).collect();
        assert_eq!(round_order(42, 3, &cells), round_order(42, 3, &cells));
        let distinct: std::collections::HashSet<Vec<usize>> =
            (0..10).map(|r| round_order(42, r, &cells)).collect();
        assert!(distinct.len() >= 9, "{distinct:?}");
        assert_ne!(round_order(42, 0, &cells), round_order(43, 0, &cells));
    }

    #[test]
    fn each_cell_leads_a_round_about_equally_often() {
        // Over many rounds no cell is favoured by position: drift is shared.
        let cells: Vec<usize> = (0..4).collect();
        let mut first = [0usize; 4];
        for r in 0..4000 {
            first[round_order(7, r, &cells)[0]] += 1;
        }
        for f in first {
            assert!((850..1150).contains(&f), "{first:?}");
        }
    }
}
