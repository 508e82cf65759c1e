//! The statistics of one bisection step: a commit measured in rounds
//! against the good and the bad build (one run of each per round, in a
//! balanced order), classified as like-good, like-bad or undecided.
//!
//! Pure functions on the runs' values, no I/O.
//!
//! # The test
//! Per round k, with g, b, c the good, bad and commit runs:
//! d_k = ln c_k - (ln g_k + ln b_k)/2, the commit against the midpoint of
//! the two endpoints measured in the same round (drift between rounds
//! cancels). A commit like the good build has d near (ln g - ln b)/2, one
//! like the bad build the opposite. The Wilcoxon signed-rank interval of
//! the centre of d (the paired comparison of [`crate::compare::stats`]) is
//! looked at on `--auto`'s schedule ([`AutoRule`], Bonferroni over its
//! looks): like-bad when the whole interval lies on the bad endpoint's side
//! of the midpoint, like-good when it lies on the good one's, else another
//! round, up to the budget; still undecided then, the commit is skipped.
//!
//! # Error rate
//! A class is wrong only if the interval missed on the far side; the
//! chance of that at the look that decided, over all K looks, is at most
//! K times the one-sided signed-rank p-value (Bonferroni-adjusted), which
//! is reported as the step's error rate. The whole search is wrong only if
//! a step is, so its error rate is at most the sum over the steps.

use super::{Class, Interval, Verdict};
use crate::compare::stats::{compare, AutoRule, Direction};
use crate::metrics;
use crate::model::RunRecord;

/// The sides of a step's cells, as stored with every run.
pub const SIDES: [&str; 3] = ["good", "bad", "commit"];

/// A step's values, round by round (rounds with a failed run left out).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rounds {
    pub good: Vec<f64>,
    pub bad: Vec<f64>,
    pub commit: Vec<f64>,
}

impl Rounds {
    pub fn len(&self) -> usize {
        self.commit.len()
    }
    pub fn is_empty(&self) -> bool {
        self.commit.is_empty()
    }
}

fn usable(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite() && *v > 0.0)
}

/// The complete rounds of `metric` in a step's records (the k-th counted
/// run of each side is round k).
pub fn rounds(records: &[RunRecord], metric: &str) -> Rounds {
    let side = |name: &str| -> Vec<Option<f64>> {
        records
            .iter()
            .filter(|r| !r.warmup && r.side.as_deref() == Some(name))
            .map(|r| {
                usable(
                    (r.status == "ok")
                        .then(|| metrics::value(r, metric))
                        .flatten(),
                )
            })
            .collect()
    };
    let (g, b, c) = (side(SIDES[0]), side(SIDES[1]), side(SIDES[2]));
    let mut out = Rounds::default();
    for k in 0..g.len().min(b.len()).min(c.len()) {
        if let (Some(g), Some(b), Some(c)) = (g[k], b[k], c[k]) {
            out.good.push(g);
            out.bad.push(b);
            out.commit.push(c);
        }
    }
    out
}

/// The class at one look: the interval of commit/midpoint against 1, on
/// the side where the bad endpoint lies (`bad_higher`: its metric values
/// are the larger ones).
fn class_at(r: &Rounds, bad_higher: bool, confidence: f64) -> (Class, Option<f64>) {
    let mid: Vec<f64> = r
        .good
        .iter()
        .zip(&r.bad)
        .map(|(g, b)| ((g.ln() + b.ln()) / 2.0).exp())
        .collect();
    let Some(c) = compare(
        &mid,
        &r.commit,
        true,
        Direction::HigherIsBetter,
        0.0,
        confidence,
    ) else {
        return (Class::Undecided, None);
    };
    let (Some(lo), Some(hi)) = (c.ci_low, c.ci_high) else {
        return (Class::Undecided, None);
    };
    let above = lo > 1.0;
    let below = hi < 1.0;
    let class = match (above, below) {
        (true, _) if bad_higher => Class::LikeBad,
        (true, _) => Class::LikeGood,
        (_, true) if bad_higher => Class::LikeGood,
        (_, true) => Class::LikeBad,
        _ => Class::Undecided,
    };
    (class, Some(c.p_value / 2.0))
}

/// The commit over the good build, paired by round, with its 95% interval.
pub fn ratio_to_good(r: &Rounds) -> Option<Interval> {
    let c = compare(
        &r.good,
        &r.commit,
        true,
        Direction::HigherIsBetter,
        0.0,
        0.95,
    )?;
    Some(Interval {
        estimate: c.ratio,
        lo: c.ci_low?,
        hi: c.ci_high?,
    })
}

/// After a round: `Some(verdict)` when a look decided or the budget is
/// spent (`last`: no more rounds will be run: `--max-time`, interruption
/// excluded), else `None` (run another round). Times are the caller's.
pub fn look(r: &Rounds, bad_higher: bool, rule: &AutoRule, last: bool) -> Option<Verdict> {
    let n = r.len();
    let looks = rule.looks();
    let at_budget = last || n >= rule.max_pairs;
    if !at_budget && !looks.contains(&n) {
        return None;
    }
    let (class, p) = class_at(r, bad_higher, rule.per_look_confidence());
    if class == Class::Undecided && !at_budget {
        return None;
    }
    let error_rate = match class {
        Class::Undecided => None,
        _ => p.map(|p| (p * looks.len() as f64).min(1.0)),
    };
    Some(Verdict {
        class,
        pairs: n as u32,
        ratio_to_good: ratio_to_good(r),
        error_rate,
        build_seconds: 0.0,
        measure_seconds: 0.0,
    })
}

/// The whole search's error rate: at most the sum of its steps' (union
/// bound), capped at 1; `None` when no step was decided.
pub fn search_error_rate(steps: &[Option<f64>]) -> Option<f64> {
    let decided: Vec<f64> = steps.iter().flatten().copied().collect();
    (!decided.is_empty()).then(|| decided.iter().sum::<f64>().min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::stats::SplitMix64;

    /// `n` rounds at good 100, bad 90 t/s and the commit at `c`, 0.5% noise.
    fn rounds_at(c: f64, n: usize, seed: u64) -> Rounds {
        let mut rng = SplitMix64::new(seed);
        let mut noisy = |x: f64| x * (1.0 + 0.005 * rng.gaussian());
        let mut r = Rounds::default();
        for _ in 0..n {
            r.good.push(noisy(100.0));
            r.bad.push(noisy(90.0));
            r.commit.push(noisy(c));
        }
        r
    }

    fn rule() -> AutoRule {
        AutoRule {
            max_pairs: 30,
            ..AutoRule::default()
        }
    }

    fn decide(c: f64, seed: u64) -> Verdict {
        let all = rounds_at(c, 30, seed);
        (1..=30)
            .find_map(|n| {
                let r = Rounds {
                    good: all.good[..n].to_vec(),
                    bad: all.bad[..n].to_vec(),
                    commit: all.commit[..n].to_vec(),
                };
                look(&r, false, &rule(), false)
            })
            .unwrap()
    }

    #[test]
    fn a_commit_like_either_endpoint_is_classified_at_the_first_possible_look() {
        let first = rule().looks()[0] as u32;
        let good = decide(100.0, 1);
        assert_eq!((good.class, good.pairs), (Class::LikeGood, first));
        let bad = decide(90.0, 2);
        assert_eq!((bad.class, bad.pairs), (Class::LikeBad, first));
        let ratio = bad.ratio_to_good.unwrap();
        assert!((ratio.lo..=ratio.hi).contains(&0.9), "{ratio:?}");
        assert!(ratio.hi < 0.95, "{ratio:?}");
        let e = bad.error_rate.unwrap();
        assert!(e > 0.0 && e < 0.05, "{e}");
    }

    #[test]
    fn a_commit_at_the_midpoint_stays_undecided_to_the_budget() {
        let v = decide(94.87, 3);
        assert_eq!((v.class, v.pairs), (Class::Undecided, 30));
        assert_eq!(v.error_rate, None);
    }

    #[test]
    fn looking_for_an_improvement_mirrors_the_classes() {
        let r = rounds_at(90.0, 12, 4);
        // The bad endpoint is the faster one now: 90 is like the good one.
        let swapped = Rounds {
            good: r.bad.clone(),
            bad: r.good.clone(),
            commit: r.commit.clone(),
        };
        let v = look(&swapped, true, &rule(), true).unwrap();
        assert_eq!(v.class, Class::LikeGood);
    }

    #[test]
    fn too_few_rounds_for_an_interval_are_undecided_when_time_is_up() {
        let v = look(&rounds_at(90.0, 2, 5), false, &rule(), true).unwrap();
        assert_eq!((v.class, v.pairs), (Class::Undecided, 2));
        assert_eq!(look(&rounds_at(90.0, 2, 5), false, &rule(), false), None);
    }

    #[test]
    fn the_search_error_rate_is_the_sum_of_the_steps_capped_at_one() {
        assert_eq!(
            search_error_rate(&[Some(0.01), None, Some(0.02)]),
            Some(0.03)
        );
        assert_eq!(search_error_rate(&[Some(0.7), Some(0.6)]), Some(1.0));
        assert_eq!(search_error_rate(&[None]), None);
    }
}
