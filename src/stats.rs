//! Statistics on samples: pure functions on `&[f64]`, no I/O.
//!
//! A summary reports the median (robust to the odd slow run), the mean with a
//! Student-t 95% confidence interval (honest for the small sample sizes of
//! benchmarks), and flags outliers by the modified z-score on the median
//! absolute deviation. Outliers are reported, never dropped.

use serde::Serialize;

/// Modified z-score above which a sample is flagged (Iglewicz and Hoaglin).
pub const OUTLIER_Z: f64 = 3.5;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub mean: f64,
    /// Sample standard deviation (n - 1); 0 for a single sample.
    pub stddev: f64,
    pub min: f64,
    pub max: f64,
    /// 95% confidence interval of the mean; absent for fewer than 2 samples.
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    /// Indices (into the input) of outliers.
    pub outliers: Vec<usize>,
}

pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Median of a non-empty slice.
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Sample standard deviation (n - 1 in the denominator).
pub fn stddev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// Two-sided 97.5% quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        // Beyond the table t is close to linear in 1/df: 2.042 at 30, 1.960 at infinity.
        _ => 1.960 + (2.042 - 1.960) * 30.0 / df as f64,
    }
}

/// Fewest samples for which outliers are looked for: below this the median
/// absolute deviation says too little to call any one sample unusual.
pub const OUTLIER_MIN_N: usize = 5;

/// Indices of samples whose modified z-score exceeds [`OUTLIER_Z`].
pub fn outliers(xs: &[f64]) -> Vec<usize> {
    if xs.len() < OUTLIER_MIN_N {
        return Vec::new();
    }
    let med = median(xs);
    let deviations: Vec<f64> = xs.iter().map(|x| (x - med).abs()).collect();
    let mad = median(&deviations);
    // With most samples identical the MAD is 0; fall back to the mean
    // absolute deviation (scaled to the same consistency constant).
    let scale = if mad > 0.0 {
        mad / 0.6745
    } else {
        mean(&deviations) * 1.2533
    };
    if scale <= 0.0 {
        return Vec::new();
    }
    (0..xs.len())
        .filter(|&i| deviations[i] / scale > OUTLIER_Z)
        .collect()
}

/// Summary of the finite samples; None when there are none.
pub fn summarize(xs: &[f64]) -> Option<Summary> {
    if xs.is_empty() || xs.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let n = xs.len();
    let m = mean(xs);
    let sd = stddev(xs);
    let (lo, hi) = if n >= 2 {
        let half = t975(n - 1) * sd / (n as f64).sqrt();
        (Some(m - half), Some(m + half))
    } else {
        (None, None)
    };
    Some(Summary {
        n,
        median: median(xs),
        mean: m,
        stddev: sd,
        min: xs.iter().copied().fold(f64::INFINITY, f64::min),
        max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ci95_low: lo,
        ci95_high: hi,
        outliers: outliers(xs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_known_values() {
        let s = summarize(&[10.0, 12.0, 11.0, 13.0, 14.0]).unwrap();
        assert_eq!(s.n, 5);
        assert_eq!(s.median, 12.0);
        assert_eq!(s.mean, 12.0);
        assert!((s.stddev - 1.5811388).abs() < 1e-6);
        // 12 +- 2.776 * 1.5811388 / sqrt(5)
        assert!((s.ci95_low.unwrap() - 10.03698).abs() < 1e-4);
        assert!((s.ci95_high.unwrap() - 13.96302).abs() < 1e-4);
        assert_eq!((s.min, s.max), (10.0, 14.0));
        assert!(s.outliers.is_empty());
    }

    #[test]
    fn even_count_median_and_single_sample() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        let s = summarize(&[7.0]).unwrap();
        assert_eq!((s.stddev, s.ci95_low, s.ci95_high), (0.0, None, None));
    }

    #[test]
    fn a_slow_run_is_flagged_not_dropped() {
        let xs = [50.1, 50.3, 49.9, 50.2, 30.0, 50.0];
        let s = summarize(&xs).unwrap();
        assert_eq!(s.outliers, vec![4]);
        assert_eq!(s.n, 6);
        assert_eq!(s.min, 30.0);
    }

    #[test]
    fn identical_samples_but_one() {
        assert_eq!(outliers(&[5.0, 5.0, 5.0, 5.0, 9.0]), vec![4]);
        assert!(outliers(&[5.0, 5.0, 5.0, 5.0, 5.0]).is_empty());
        // Too few samples to call one unusual.
        assert!(outliers(&[5.0, 5.0, 9.0]).is_empty());
    }

    #[test]
    fn non_finite_samples_give_no_summary() {
        assert_eq!(summarize(&[1.0, f64::INFINITY]), None);
        assert_eq!(summarize(&[]), None);
    }

    #[test]
    fn t_quantiles() {
        assert_eq!(t975(1), 12.706);
        assert_eq!(t975(30), 2.042);
        assert!((t975(60) - 2.001).abs() < 1e-3);
    }
}
