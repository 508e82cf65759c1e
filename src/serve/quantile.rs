//! Percentiles with distribution-free 95% intervals from order statistics.
//!
//! The p-th percentile is the order statistic of nearest rank `ceil(n p)`.
//! Its interval is the pair of order statistics `[x(l), x(u)]` that covers
//! the true percentile with at least 95% probability whatever the
//! distribution: the count of samples below the true percentile is
//! Binomial(n, p), so `l` and `u` are read off its exact CDF. When the data
//! are too few for a bound (`l < 1` or `u > n`) that side is absent; a p99
//! needs 100 samples for a value and about 300 for an upper bound: below
//! that the figure says so rather than print the maximum as if it were one.

use serde::Serialize;

/// Fewest samples for which a percentile `p` is given a value at all:
/// fewer than `1 / (1 - p)` would make it the maximum.
pub fn min_n(p: f64) -> usize {
    (1.0 / (1.0 - p)).round() as usize
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Percentile {
    /// None when there are too few samples for this percentile.
    pub value: Option<f64>,
    /// 95% interval; a side is None when the samples are too few to bound it.
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// `ln P(B = k)` for B ~ Binomial(n, p), k = 0..=n, by the pmf ratio (no
/// factorials: it works for any n without overflow).
fn binomial_log_pmf(n: usize, p: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(n + 1);
    let mut lp = n as f64 * (1.0 - p).ln();
    let odds = (p / (1.0 - p)).ln();
    for k in 0..=n {
        out.push(lp);
        lp += ((n - k) as f64).ln() - ((k + 1) as f64).ln() + odds;
    }
    out
}

/// The binomial CDF F(k) = P(B <= k), k = 0..=n.
fn binomial_cdf(n: usize, p: f64) -> Vec<f64> {
    let lp = binomial_log_pmf(n, p);
    let top = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = lp.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = w.iter().sum();
    let mut acc = 0.0;
    w.iter()
        .map(|x| {
            acc += x;
            acc / total
        })
        .collect()
}

/// 1-based ranks (l, u) of the 95% interval; l = 0 or u = n + 1 when that
/// side cannot be bounded.
pub fn interval_ranks(n: usize, p: f64) -> (usize, usize) {
    let cdf = binomial_cdf(n, p);
    // Largest l with P(B <= l - 1) <= 0.025, i.e. P(x(l) > q) <= 2.5%.
    let l = (1..=n).rev().find(|&l| cdf[l - 1] <= 0.025).unwrap_or(0);
    // Smallest u with P(B >= u) <= 0.025, i.e. 1 - F(u - 1) <= 2.5%.
    let u = (1..=n)
        .find(|&u| 1.0 - cdf[u - 1] <= 0.025)
        .unwrap_or(n + 1);
    (l, u)
}

/// The p-th percentile (0 < p < 1) of `sorted` (ascending) with its interval.
pub fn percentile(sorted: &[f64], p: f64) -> Percentile {
    let n = sorted.len();
    if n == 0 || n < min_n(p) {
        return Percentile {
            value: None,
            low: None,
            high: None,
        };
    }
    let rank = ((n as f64 * p).ceil() as usize).clamp(1, n);
    let (l, u) = interval_ranks(n, p);
    Percentile {
        value: Some(sorted[rank - 1]),
        low: (l >= 1).then(|| sorted[l - 1]),
        high: (u <= n).then(|| sorted[u - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_interval_of_known_sizes() {
        // n = 10: the classic distribution-free interval of the median is x(2)..x(9) (97.9%).
        assert_eq!(interval_ranks(10, 0.5), (2, 9));
        // n = 100: x(40)..x(61), as tabulated.
        assert_eq!(interval_ranks(100, 0.5), (40, 61));
    }

    #[test]
    fn p99_needs_many_samples_for_an_upper_bound() {
        assert_eq!(min_n(0.99), 100);
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = percentile(&sorted, 0.99);
        assert_eq!(p.value, Some(99.0));
        assert_eq!(p.high, None, "100 samples cannot bound a p99 from above");
        assert!(p.low.is_some());
        let few: Vec<f64> = (1..=99).map(f64::from).collect();
        assert_eq!(percentile(&few, 0.99).value, None);
        let many: Vec<f64> = (1..=1000).map(f64::from).collect();
        let p = percentile(&many, 0.99);
        assert_eq!(p.value, Some(990.0));
        let (lo, hi) = (p.low.unwrap(), p.high.unwrap());
        assert!(
            (982.0..990.0).contains(&lo) && (990.0..=998.0).contains(&hi),
            "{lo} {hi}"
        );
    }

    #[test]
    fn coverage_is_at_least_95_percent() {
        for (n, p) in [(20, 0.5), (50, 0.9), (400, 0.99), (7, 0.5)] {
            let cdf = binomial_cdf(n, p);
            let (l, u) = interval_ranks(n, p);
            let below_l = if l >= 1 { cdf[l - 1] } else { 0.0 };
            let at_or_above_u = if u <= n { 1.0 - cdf[u - 1] } else { 0.0 };
            assert!(1.0 - below_l - at_or_above_u >= 0.95, "n {n} p {p}");
        }
    }
}
