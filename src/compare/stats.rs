//! Statistics for `tokbench compare`: is build B faster or slower than A?
//!
//! Pure functions on `&[f64]`, no I/O, no randomness: the same runs always
//! give the same report.
//!
//! # Estimate and interval
//! Everything is computed on logarithms, so a change is a ratio r = B/A and
//! swapping A and B turns r into 1/r exactly.
//!
//! * **Paired** (interleaved runs; the k-th A run is paired with the k-th B
//!   run, see [`super::order`]): d_k = ln B_k - ln A_k. The estimate is the
//!   Hodges-Lehmann estimator, the median of the Walsh averages
//!   (d_i + d_j)/2 for i <= j, and `ratio` = exp(estimate): the typical
//!   paired ratio, not the ratio of the two medians (which are reported as
//!   `median_a`, `median_b`). The interval [W_(c+1), W_(N-c)] of the sorted
//!   Walsh averages inverts the Wilcoxon signed-rank test, with c the largest
//!   value whose null probability P(T+ <= c) is at most alpha/2: exact
//!   (coverage >= the confidence asked for, at any n) whenever the d_k are
//!   symmetric about their centre, as a difference of two runs with the same
//!   noise is. The p-value is the two-sided Wilcoxon signed-rank test.
//! * **Unpaired** (two stored result files): the Hodges-Lehmann shift, the
//!   median of all ln b_j - ln a_i, with the interval that inverts the
//!   Mann-Whitney test; the p-value is the Mann-Whitney U test. Nothing here
//!   can tell a drift during the session from a change between builds.
//!
//! Null distributions are exact up to [`EXACT_MAX_N`] samples (signed rank,
//! Kendall) or [`EXACT_MAX_MN`] in all (Mann-Whitney) without ties, and
//! normal approximations with tie and continuity corrections beyond. Rank
//! intervals rather than a bootstrap: a percentile bootstrap under-covers at
//! 5 to 10 samples, exactly where benchmarks live; rank intervals are exact
//! there, need no seed, and give the odd slow run a bounded weight (outliers
//! are flagged by MAD, never dropped). The price: an interval at 95% needs
//! at least 6 pairs (2^-n <= 0.025); with fewer there is no interval and the
//! verdict is `Inconclusive`, never a claim. Values that are not finite and
//! positive (a failed run) are skipped, in the paired case with their pair.
//!
//! # Verdict
//! With the interval [lo, hi] of r = B/A and the noise threshold theta (a
//! fraction, default 0.01), the noise band is [1/(1+theta), 1+theta]: a
//! change of theta either way, taken as a ratio, so that swapping A and B
//! mirrors every verdict exactly (1/(1+theta) differs from 1-theta by
//! theta^2/(1+theta), 0.0099% at the default). For a higher-is-better metric
//! (t/s): **faster** if lo > 1+theta; **slower** if hi < 1/(1+theta); **no
//! significant change** if the whole interval lies within the band;
//! otherwise **inconclusive**. For a lower-is-better metric (ms, J/token)
//! faster and slower swap: B is faster when its times are lower.
//! [`regressed`] is the CI gate: the whole interval of the change lies
//! beyond -pct percent in the worse direction.
//!
//! # Sequential rule for `--auto`
//! See [`AutoRule`]: the verdict is looked at on a fixed, geometrically
//! spaced schedule of pair counts, each look at confidence 1 - alpha/K for
//! K looks (Bonferroni), so the chance of any false claim over the whole
//! session stays at most alpha however many looks are taken.

use crate::stats::{median, outliers};
use serde::{Deserialize, Serialize};

/// Largest sample for which signed-rank and Kendall null distributions are
/// computed exactly.
pub const EXACT_MAX_N: usize = 60;
/// Largest m + n for the exact Mann-Whitney distribution (the counts, up to
/// C(100, 50) ~ 1e29, fit in an i128).
pub const EXACT_MAX_MN: usize = 100;
/// Significance level of [`trend`].
pub const TREND_ALPHA: f64 = 0.05;

/// Which way is better: the metric registry's, used here as it is.
pub use crate::metrics::Direction;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Faster,
    Slower,
    NoChange,
    Inconclusive,
}

impl Verdict {
    /// Faster or slower: a claim that the builds differ.
    pub fn is_claim(self) -> bool {
        matches!(self, Verdict::Faster | Verdict::Slower)
    }
}

/// B against A for one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Samples used (finite and positive); equal when paired.
    pub n_a: usize,
    pub n_b: usize,
    pub median_a: f64,
    pub median_b: f64,
    /// exp(Hodges-Lehmann estimate of ln B - ln A): paired or shift, see the
    /// module docs.
    pub ratio: f64,
    /// Interval of `ratio`; absent when the sample is too small for one.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub confidence: f64,
    /// Two-sided p-value of "no difference" (signed-rank or Mann-Whitney).
    pub p_value: f64,
    pub threshold: f64,
    pub verdict: Verdict,
    pub paired: bool,
    pub method: String,
    /// Indices into the input of each side's MAD outliers (kept, not dropped).
    pub outliers_a: Vec<usize>,
    pub outliers_b: Vec<usize>,
}

/// A monotonic trend over run order (Theil-Sen slope, Mann-Kendall test).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub n: usize,
    /// Theil-Sen slope as a percentage of the series' median, per run.
    pub slope_pct_per_run: f64,
    /// Sen's 95% interval of the slope (same unit); absent for short series.
    pub slope_ci_low_pct: Option<f64>,
    pub slope_ci_high_pct: Option<f64>,
    /// Two-sided Mann-Kendall p-value.
    pub p_value: f64,
    /// p_value < [`TREND_ALPHA`].
    pub significant: bool,
    /// Slope times the span of the series (n - 1 runs), in percent.
    pub total_change_pct: f64,
}

/// Drift within a session and whether pairing cancelled it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftCheck {
    pub a: Option<Trend>,
    pub b: Option<Trend>,
    /// Trend of the paired ratios B_k/A_k; absent when unpaired.
    pub ratio: Option<Trend>,
    /// Either side's series has a significant trend.
    pub drift: bool,
    /// There was drift, the runs were paired and the paired ratios show no
    /// significant trend: both sides drifted alike and the pairing removed it.
    pub cancelled: bool,
}

/// Compares B with A. `paired` pairs a[k] with b[k] (interleaved runs; the
/// lengths must match). `threshold` is the noise band as a fraction (0.01),
/// `confidence` the interval's level (0.95). None when the arguments are out
/// of range or no usable samples are left. Memory and time grow with the
/// n(n+1)/2 Walsh averages (paired) or m*n differences (unpaired): fine for
/// thousands of runs, not for millions.
pub fn compare(
    a: &[f64],
    b: &[f64],
    paired: bool,
    direction: Direction,
    threshold: f64,
    confidence: f64,
) -> Option<Comparison> {
    let valid_threshold = threshold.is_finite() && threshold >= 0.0;
    if !(valid_threshold && confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let (est, keep_a, keep_b) = if paired {
        paired_estimate(a, b, 1.0 - confidence)?
    } else {
        unpaired_estimate(a, b, 1.0 - confidence)?
    };
    let ci = est.log_ci.map(|(lo, hi)| (lo.exp(), hi.exp()));
    let pick = |xs: &[f64], keep: &[usize]| keep.iter().map(|&i| xs[i]).collect::<Vec<f64>>();
    let (va, vb) = (pick(a, &keep_a), pick(b, &keep_b));
    let remap = |keep: &[usize], v: &[f64]| outliers(v).into_iter().map(|i| keep[i]).collect();
    Some(Comparison {
        n_a: va.len(),
        n_b: vb.len(),
        median_a: median(&va),
        median_b: median(&vb),
        ratio: est.log_ratio.exp(),
        ci_low: ci.map(|c| c.0),
        ci_high: ci.map(|c| c.1),
        confidence,
        p_value: est.p_value,
        threshold,
        verdict: verdict(ci, direction, threshold),
        paired,
        method: est.method,
        outliers_a: remap(&keep_a, &va),
        outliers_b: remap(&keep_b, &vb),
    })
}

/// The verdict for an interval [lo, hi] of B/A (see the module docs).
pub fn verdict(ci: Option<(f64, f64)>, direction: Direction, threshold: f64) -> Verdict {
    let Some((lo, hi)) = ci else {
        return Verdict::Inconclusive;
    };
    let (up, down) = (1.0 + threshold, 1.0 / (1.0 + threshold));
    let (higher, lower) = match direction {
        Direction::HigherIsBetter => (Verdict::Faster, Verdict::Slower),
        Direction::LowerIsBetter => (Verdict::Slower, Verdict::Faster),
    };
    if lo > up {
        higher
    } else if hi < down {
        lower
    } else if lo >= down && hi <= up {
        Verdict::NoChange
    } else {
        Verdict::Inconclusive
    }
}

/// The CI gate of `--fail-if-slower PCT`: B is worse than A by more than
/// `pct` percent over the whole interval (hi < 1 - pct/100 for t/s, lo >
/// 1 + pct/100 for times). False when there is no interval.
pub fn regressed(c: &Comparison, pct: f64, direction: Direction) -> bool {
    let (Some(lo), Some(hi)) = (c.ci_low, c.ci_high) else {
        return false;
    };
    match direction {
        Direction::HigherIsBetter => hi < 1.0 - pct / 100.0,
        Direction::LowerIsBetter => lo > 1.0 + pct / 100.0,
    }
}

/// An estimate of ln B - ln A with its interval and test.
struct Estimate {
    log_ratio: f64,
    log_ci: Option<(f64, f64)>,
    p_value: f64,
    method: String,
}

fn usable(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

type Kept = (Estimate, Vec<usize>, Vec<usize>);

fn paired_estimate(a: &[f64], b: &[f64], alpha: f64) -> Option<Kept> {
    if a.len() != b.len() {
        return None;
    }
    let keep: Vec<usize> = (0..a.len())
        .filter(|&k| usable(a[k]) && usable(b[k]))
        .collect();
    if keep.is_empty() {
        return None;
    }
    let d: Vec<f64> = keep.iter().map(|&k| b[k].ln() - a[k].ln()).collect();
    let walsh = walsh_averages(&d);
    let trim = signed_rank_trim(d.len(), alpha);
    let exact = d.len() <= EXACT_MAX_N;
    let est = Estimate {
        log_ratio: median_sorted(&walsh),
        log_ci: trim.map(|c| (walsh[c], walsh[walsh.len() - 1 - c])),
        p_value: signed_rank_p(&d),
        method: format!(
            "paired Hodges-Lehmann on ln(B/A), Wilcoxon signed-rank interval ({})",
            if exact { "exact" } else { "normal approx." }
        ),
    };
    Some((est, keep.clone(), keep))
}

fn unpaired_estimate(a: &[f64], b: &[f64], alpha: f64) -> Option<Kept> {
    let kept = |xs: &[f64]| (0..xs.len()).filter(|&i| usable(xs[i])).collect::<Vec<_>>();
    let (keep_a, keep_b) = (kept(a), kept(b));
    if keep_a.is_empty() || keep_b.is_empty() {
        return None;
    }
    let la: Vec<f64> = keep_a.iter().map(|&i| a[i].ln()).collect();
    let lb: Vec<f64> = keep_b.iter().map(|&i| b[i].ln()).collect();
    let mut diffs: Vec<f64> = lb
        .iter()
        .flat_map(|y| la.iter().map(move |x| y - x))
        .collect();
    diffs.sort_by(f64::total_cmp);
    let trim = rank_sum_trim(la.len(), lb.len(), alpha);
    let exact = la.len() + lb.len() <= EXACT_MAX_MN;
    let est = Estimate {
        log_ratio: median_sorted(&diffs),
        log_ci: trim.map(|c| (diffs[c], diffs[diffs.len() - 1 - c])),
        p_value: rank_sum_p(&la, &lb),
        method: format!(
            "unpaired Hodges-Lehmann shift of ln, Mann-Whitney interval ({})",
            if exact { "exact" } else { "normal approx." }
        ),
    };
    Some((est, keep_a, keep_b))
}

/// Sorted Walsh averages (d_i + d_j)/2, i <= j.
fn walsh_averages(d: &[f64]) -> Vec<f64> {
    let mut w: Vec<f64> = (0..d.len())
        .flat_map(|i| (i..d.len()).map(move |j| (d[i] + d[j]) / 2.0))
        .collect();
    w.sort_by(f64::total_cmp);
    w
}

fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

// ---------------------------------------------------------------------------
// Rank tests and their null distributions.

/// Turns a probability mass function into its cumulative distribution.
fn cumulate(p: &mut [f64]) {
    for t in 1..p.len() {
        p[t] += p[t - 1];
    }
}

/// Largest index whose cumulative probability is at most `level`.
fn largest_at_most(cdf: &[f64], level: f64) -> Option<usize> {
    let tolerant = level * (1.0 + 1e-9);
    cdf.iter()
        .take_while(|&&p| p <= tolerant)
        .count()
        .checked_sub(1)
}

/// The normal-approximation counterpart of [`largest_at_most`].
fn normal_trim(mean: f64, sd: f64, alpha: f64) -> Option<usize> {
    let c = (mean - normal_quantile(1.0 - alpha / 2.0) * sd - 0.5).floor();
    (c >= 0.0).then_some(c as usize)
}

/// P(T+ <= t), t = 0..=n(n+1)/2, for the signed-rank statistic of n values.
pub fn signed_rank_cdf(n: usize) -> Vec<f64> {
    let total = n * (n + 1) / 2;
    let mut p = vec![0.0; total + 1];
    p[0] = 1.0;
    for r in 1..=n {
        for t in (0..=total).rev() {
            let with_r = if t >= r { p[t - r] } else { 0.0 };
            p[t] = 0.5 * (p[t] + with_r);
        }
    }
    cumulate(&mut p);
    p
}

/// Walsh averages to trim from each end for a signed-rank interval at level
/// 1 - alpha; None when n is too small for any.
pub fn signed_rank_trim(n: usize, alpha: f64) -> Option<usize> {
    if n == 0 {
        return None;
    }
    if n <= EXACT_MAX_N {
        return largest_at_most(&signed_rank_cdf(n), alpha / 2.0);
    }
    let nf = n as f64;
    let sd = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0).sqrt();
    normal_trim(nf * (nf + 1.0) / 4.0, sd, alpha)
}

/// Two-sided Wilcoxon signed-rank p-value; zero differences are dropped.
pub fn signed_rank_p(d: &[f64]) -> f64 {
    let nz: Vec<f64> = d.iter().copied().filter(|x| *x != 0.0).collect();
    if nz.is_empty() {
        return 1.0;
    }
    let abs: Vec<f64> = nz.iter().map(|x| x.abs()).collect();
    let (ranks, ties) = midranks(&abs);
    let t_plus: f64 = (0..nz.len())
        .filter(|&i| nz[i] > 0.0)
        .map(|i| ranks[i])
        .sum();
    let n = nz.len();
    if ties.is_empty() && n <= EXACT_MAX_N {
        let cdf = signed_rank_cdf(n);
        let (t, total) = (t_plus as usize, cdf.len() - 1);
        return (2.0 * cdf[t].min(cdf[total - t])).min(1.0);
    }
    let nf = n as f64;
    let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term(&ties) / 48.0;
    normal_two_sided(t_plus - nf * (nf + 1.0) / 4.0, var)
}

/// Sum of t^3 - t over tie groups.
fn tie_term(ties: &[usize]) -> f64 {
    ties.iter().map(|&t| (t * t * t - t) as f64).sum()
}

/// Ranks 1..=n with ties given their average rank, and the tie group sizes.
fn midranks(xs: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&i, &j| xs[i].total_cmp(&xs[j]));
    let mut ranks = vec![0.0; xs.len()];
    let mut ties = Vec::new();
    let mut start = 0;
    while start < idx.len() {
        let mut end = start + 1;
        while end < idx.len() && xs[idx[end]] == xs[idx[start]] {
            end += 1;
        }
        for &i in &idx[start..end] {
            ranks[i] = (start + end + 1) as f64 / 2.0;
        }
        if end - start > 1 {
            ties.push(end - start);
        }
        start = end;
    }
    (ranks, ties)
}

/// P(U <= u), u = 0..=m*n, for the Mann-Whitney statistic: the coefficients
/// of the Gaussian binomial [m+n choose m]_q over C(m+n, m).
pub fn rank_sum_cdf(m: usize, n: usize) -> Vec<f64> {
    let deg = m * n;
    let mut c = vec![0i128; deg + 1];
    c[0] = 1;
    // [n+i choose i] = [n+i-1 choose i-1] (1 - q^(n+i)) / (1 - q^i)
    for i in 1..=m {
        for k in (n + i..=deg).rev() {
            c[k] -= c[k - (n + i)];
        }
        for k in i..=deg {
            c[k] += c[k - i];
        }
    }
    let total: i128 = c.iter().sum();
    let mut p: Vec<f64> = c.iter().map(|&x| x as f64 / total as f64).collect();
    cumulate(&mut p);
    p
}

/// Pairwise differences to trim from each end for a Mann-Whitney interval at
/// level 1 - alpha; None when the samples are too small for any.
pub fn rank_sum_trim(m: usize, n: usize, alpha: f64) -> Option<usize> {
    if m == 0 || n == 0 {
        return None;
    }
    if m + n <= EXACT_MAX_MN {
        return largest_at_most(&rank_sum_cdf(m, n), alpha / 2.0);
    }
    let (mf, nf) = (m as f64, n as f64);
    normal_trim(
        mf * nf / 2.0,
        (mf * nf * (mf + nf + 1.0) / 12.0).sqrt(),
        alpha,
    )
}

/// Two-sided Mann-Whitney p-value of `b` against `a`.
pub fn rank_sum_p(a: &[f64], b: &[f64]) -> f64 {
    let (m, n) = (a.len(), b.len());
    let all: Vec<f64> = a.iter().chain(b).copied().collect();
    let (ranks, ties) = midranks(&all);
    let u = ranks[m..].iter().sum::<f64>() - (n * (n + 1)) as f64 / 2.0;
    if ties.is_empty() && m + n <= EXACT_MAX_MN {
        let cdf = rank_sum_cdf(m, n);
        let (u, total) = (u as usize, m * n);
        return (2.0 * cdf[u].min(cdf[total - u])).min(1.0);
    }
    let (mf, nf, big) = (m as f64, n as f64, (m + n) as f64);
    let var = mf * nf / 12.0 * ((big + 1.0) - tie_term(&ties) / (big * (big - 1.0)));
    normal_two_sided(u - mf * nf / 2.0, var)
}

/// Two-sided normal p-value of a deviation from the null mean, with a
/// continuity correction of 1/2.
fn normal_two_sided(dev: f64, var: f64) -> f64 {
    if var <= 0.0 {
        return 1.0;
    }
    let z = (dev.abs() - 0.5).max(0.0) / var.sqrt();
    erfc(z / std::f64::consts::SQRT_2).min(1.0)
}

// ---------------------------------------------------------------------------
// Trend over run order.

/// Trend of a series over run order; None below 3 values, with a value that
/// is not finite, or with a zero median (no scale for a percentage).
pub fn trend(series: &[f64]) -> Option<Trend> {
    let n = series.len();
    if n < 3 || series.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let scale = median(series).abs();
    if scale == 0.0 {
        return None;
    }
    let slopes = pairwise_slopes(series);
    let slope = median_sorted(&slopes);
    let (var, p_value) = mann_kendall(series);
    let ci = sen_interval(&slopes, var);
    let pct = |x: f64| x / scale * 100.0;
    Some(Trend {
        n,
        slope_pct_per_run: pct(slope),
        slope_ci_low_pct: ci.map(|c| pct(c.0)),
        slope_ci_high_pct: ci.map(|c| pct(c.1)),
        p_value,
        significant: p_value < TREND_ALPHA,
        total_change_pct: pct(slope) * (n - 1) as f64,
    })
}

/// Sorted slopes (x_j - x_i)/(j - i), i < j.
fn pairwise_slopes(xs: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = (0..xs.len())
        .flat_map(|i| (i + 1..xs.len()).map(move |j| (xs[j] - xs[i]) / (j - i) as f64))
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Mann-Kendall: the null variance of S (tie-corrected) and the two-sided
/// p-value, exact without ties up to [`EXACT_MAX_N`] values.
fn mann_kendall(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    let (mut s, mut inversions) = (0i64, 0usize);
    for i in 0..n {
        for j in i + 1..n {
            if xs[j] > xs[i] {
                s += 1;
            } else if xs[j] < xs[i] {
                s -= 1;
                inversions += 1;
            }
        }
    }
    let (_, ties) = midranks(xs);
    let tie_sum: f64 = ties
        .iter()
        .map(|&t| (t * (t - 1) * (2 * t + 5)) as f64)
        .sum();
    let nf = n as f64;
    let var = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - tie_sum) / 18.0;
    let p = if ties.is_empty() && n <= EXACT_MAX_N {
        let cdf = kendall_cdf(n);
        let total = cdf.len() - 1;
        (2.0 * cdf[inversions.min(total - inversions)]).min(1.0)
    } else {
        normal_two_sided_mk(s as f64, var)
    };
    (var, p)
}

/// S moves in steps of 2, so its continuity correction is 1.
fn normal_two_sided_mk(s: f64, var: f64) -> f64 {
    if var <= 0.0 {
        return 1.0;
    }
    let z = (s.abs() - 1.0).max(0.0) / var.sqrt();
    erfc(z / std::f64::consts::SQRT_2).min(1.0)
}

/// P(inversions <= k), k = 0..=n(n-1)/2, of a uniformly random permutation
/// of n (the Mahonian distribution): the exact null of Kendall's tau.
pub fn kendall_cdf(n: usize) -> Vec<f64> {
    let total = n * n.saturating_sub(1) / 2;
    let mut p = vec![0.0; total + 1];
    p[0] = 1.0;
    for m in 2..=n {
        // The m-th element adds 0..m-1 inversions, uniformly.
        let mut prefix = p.clone();
        cumulate(&mut prefix);
        for k in 0..=total {
            let below = if k >= m { prefix[k - m] } else { 0.0 };
            p[k] = (prefix[k] - below) / m as f64;
        }
    }
    cumulate(&mut p);
    p
}

/// Sen's 95% interval of the slope from the sorted pairwise slopes.
fn sen_interval(slopes: &[f64], var: f64) -> Option<(f64, f64)> {
    let big = slopes.len() as f64;
    let c = normal_quantile(1.0 - TREND_ALPHA / 2.0) * var.sqrt();
    let lo = ((big - c) / 2.0).round() - 1.0;
    let hi = ((big + c) / 2.0).round();
    (lo >= 0.0 && hi < big).then(|| (slopes[lo as usize], slopes[hi as usize]))
}

/// Trends of both sides and of the paired ratios (when `paired`): was there
/// drift, and did the pairing cancel it? Values that are not finite are left
/// out of each series (and their pair out of the ratios).
pub fn drift_check(a: &[f64], b: &[f64], paired: bool) -> DriftCheck {
    let finite = |xs: &[f64]| {
        xs.iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect::<Vec<_>>()
    };
    let (ta, tb) = (trend(&finite(a)), trend(&finite(b)));
    let ratio = (paired && a.len() == b.len())
        .then(|| {
            let r: Vec<f64> = (0..a.len())
                .filter(|&k| usable(a[k]) && usable(b[k]))
                .map(|k| b[k] / a[k])
                .collect();
            trend(&r)
        })
        .flatten();
    let drift = [&ta, &tb]
        .iter()
        .any(|t| t.as_ref().is_some_and(|t| t.significant));
    let cancelled = drift && ratio.as_ref().is_some_and(|t| !t.significant);
    DriftCheck {
        a: ta,
        b: tb,
        ratio,
        drift,
        cancelled,
    }
}

// ---------------------------------------------------------------------------
// Sequential rule for --auto.

/// When `--auto` looks at the verdict, and at what confidence.
///
/// Looks are taken at a fixed schedule of pair counts: `min_pairs`, then
/// each about `growth` times the last (at least one more), ending at
/// `max_pairs`. Looks at which no interval can exist at the per-look level
/// (the exact signed-rank interval needs 2^-n <= alpha/(2K)) are left out;
/// the K that remain share `alpha` equally (Bonferroni). A false claim at
/// any look needs that look's interval to miss the true ratio, so by the
/// union bound the chance of a false claim over the whole session is at
/// most `alpha`, however the looks are correlated; stopping early on "no
/// change" costs nothing. Geometric spacing keeps K small (9 looks for the
/// default 3..=50) so that each look stays nearly as sharp as a fixed run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AutoRule {
    pub min_pairs: usize,
    pub max_pairs: usize,
    pub growth: f64,
    /// Overall chance of a false claim.
    pub alpha: f64,
}

impl Default for AutoRule {
    fn default() -> Self {
        AutoRule {
            min_pairs: 3,
            max_pairs: 50,
            growth: 1.25,
            alpha: 0.05,
        }
    }
}

impl AutoRule {
    fn schedule(&self) -> Vec<usize> {
        let mut looks = Vec::new();
        let mut n = self.min_pairs.max(1);
        while n < self.max_pairs {
            looks.push(n);
            n = (n + 1).max((n as f64 * self.growth).ceil() as usize);
        }
        looks.push(self.max_pairs.max(1));
        looks
    }

    /// The pair counts at which the verdict is looked at.
    pub fn looks(&self) -> Vec<usize> {
        let all = self.schedule();
        let k = all.len();
        let first = (0..k)
            .find(|&s| signed_rank_trim(all[s], self.alpha / (k - s) as f64).is_some())
            .unwrap_or(k - 1);
        all[first..].to_vec()
    }

    /// Confidence of each look's interval: 1 - alpha/K.
    pub fn per_look_confidence(&self) -> f64 {
        1.0 - self.alpha / self.looks().len() as f64
    }
}

/// What `--auto` does after a pair.
#[derive(Debug, Clone, PartialEq)]
pub enum AutoDecision {
    /// Run another pair.
    Continue,
    /// A look gave faster, slower or no change: stop and report it.
    Decided(Comparison),
    /// `max_pairs` reached without a decision; the last look's comparison.
    BudgetSpent(Option<Comparison>),
}

/// The sequential rule of `--auto`, called after every completed pair with
/// all pairs so far (a[k] paired with b[k]).
pub fn auto_should_stop(
    a: &[f64],
    b: &[f64],
    direction: Direction,
    threshold: f64,
    rule: &AutoRule,
) -> AutoDecision {
    let n = a.len().min(b.len());
    let at_budget = n >= rule.max_pairs;
    if !at_budget && !rule.looks().contains(&n) {
        return AutoDecision::Continue;
    }
    match auto_final(&a[..n], &b[..n], direction, threshold, rule) {
        Some(c) if c.verdict != Verdict::Inconclusive => AutoDecision::Decided(c),
        c if at_budget => AutoDecision::BudgetSpent(c),
        _ => AutoDecision::Continue,
    }
}

/// The comparison at the per-look confidence, for a session that ends
/// between looks (`--max-time`): it replaces the looks not taken, so the
/// overall guarantee holds.
pub fn auto_final(
    a: &[f64],
    b: &[f64],
    direction: Direction,
    threshold: f64,
    rule: &AutoRule,
) -> Option<Comparison> {
    compare(a, b, true, direction, threshold, rule.per_look_confidence())
}

// ---------------------------------------------------------------------------
// Normal distribution and a seeded generator.

/// Complementary error function (Numerical Recipes' erfcc; relative error
/// below 1.2e-7).
pub fn erfc(x: f64) -> f64 {
    const C: [f64; 10] = [
        -1.265_512_23,
        1.000_023_68,
        0.374_091_96,
        0.096_784_18,
        -0.186_288_06,
        0.278_868_07,
        -1.135_203_98,
        1.488_515_87,
        -0.822_152_23,
        0.170_872_77,
    ];
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = C.iter().rev().fold(0.0, |acc, c| acc * t + c);
    let r = t * (-z * z + poly).exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

fn horner(coeffs: &[f64], x: f64) -> f64 {
    coeffs.iter().fold(0.0, |acc, c| acc * x + c)
}

/// Quantile of the standard normal (Acklam; relative error below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 6] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
        1.0,
    ];
    const P_LOW: f64 = 0.02425;
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p < P_LOW {
        return normal_tail(p);
    }
    if p > 1.0 - P_LOW {
        return -normal_tail(1.0 - p);
    }
    let q = p - 0.5;
    let r = q * q;
    horner(&A, r) * q / horner(&B, r)
}

/// Lower-tail branch of [`normal_quantile`].
fn normal_tail(p: f64) -> f64 {
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 5] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
        1.0,
    ];
    let q = (-2.0 * p.ln()).sqrt();
    horner(&C, q) / horner(&D, q)
}

/// SplitMix64: a tiny seeded generator for simulations, reproducible across
/// platforms.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn gaussian(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
