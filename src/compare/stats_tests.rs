//! Tests of `compare::stats`: exact values from tables and hand computation,
//! and properties (no panic, A/B symmetry).

use super::*;
use proptest::prelude::*;

const HI: Direction = Direction::HigherIsBetter;
const LO: Direction = Direction::LowerIsBetter;

fn close(x: f64, y: f64, tol: f64) -> bool {
    (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs()))
}

#[test]
fn signed_rank_critical_values_match_the_table() {
    // Two-sided 0.05 critical values of T (Wilcoxon 1949; any textbook table).
    let table = [
        (6, 0),
        (7, 2),
        (8, 3),
        (9, 5),
        (10, 8),
        (11, 10),
        (12, 13),
        (13, 17),
        (14, 21),
        (15, 25),
        (16, 29),
        (17, 34),
        (18, 40),
        (19, 46),
        (20, 52),
    ];
    for (n, c) in table {
        assert_eq!(signed_rank_trim(n, 0.05), Some(c), "n = {n}");
    }
    assert_eq!(signed_rank_trim(5, 0.05), None);
    assert_eq!(signed_rank_trim(0, 0.05), None);
}

#[test]
fn signed_rank_exact_p_values() {
    // |d| ranks 1..=10, positive at ranks 1 and 7: T+ = 8, and 25 of the
    // 1024 sign patterns have T+ <= 8.
    let d: Vec<f64> = (1..=10)
        .map(|r| {
            if r == 1 || r == 7 {
                r as f64
            } else {
                -(r as f64)
            }
        })
        .collect();
    assert!(close(signed_rank_p(&d), 50.0 / 1024.0, 1e-12));
    // All six positive: 2 of 64 patterns are as extreme.
    assert!(close(
        signed_rank_p(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        2.0 / 64.0,
        1e-12
    ));
    assert_eq!(signed_rank_p(&[0.0, 0.0, 0.0]), 1.0);
}

#[test]
fn mann_whitney_critical_values_match_the_table() {
    for ((m, n), c) in [
        ((4, 4), 0),
        ((5, 5), 2),
        ((6, 6), 5),
        ((7, 7), 8),
        ((8, 8), 13),
    ] {
        assert_eq!(rank_sum_trim(m, n, 0.05), Some(c), "{m}x{n}");
    }
    assert_eq!(rank_sum_trim(10, 10, 0.05), Some(23));
    assert_eq!(rank_sum_trim(3, 3, 0.05), None);
    // The Gaussian binomial [6 choose 3]: 1 1 2 3 3 3 3 2 1 1 over 20.
    let cdf = rank_sum_cdf(3, 3);
    assert!(close(cdf[0], 0.05, 1e-12) && close(cdf[3], 7.0 / 20.0, 1e-12));
}

#[test]
fn mann_whitney_exact_p_values() {
    assert!(close(
        rank_sum_p(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]),
        0.1,
        1e-12
    ));
    let (a, b) = ([1.0, 2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.0, 10.0]);
    assert!(close(rank_sum_p(&a, &b), 2.0 / 252.0, 1e-12));
    assert!(close(rank_sum_p(&b, &a), 2.0 / 252.0, 1e-12));
}

#[test]
fn hodges_lehmann_of_a_hand_checked_set() {
    assert_eq!(
        walsh_averages(&[1.0, 2.0, 4.0]),
        vec![1.0, 1.5, 2.0, 2.5, 3.0, 4.0]
    );
    let e = std::f64::consts::E;
    let c = compare(&[1.0; 3], &[e, e * e, e.powi(4)], true, HI, 0.01, 0.95).unwrap();
    assert!(close(c.ratio, 2.25f64.exp(), 1e-12));
    // Three pairs cannot carry a 95% interval.
    assert_eq!((c.ci_low, c.verdict), (None, Verdict::Inconclusive));
}

#[test]
fn theil_sen_slope_of_a_line_survives_an_outlier() {
    let mut line: Vec<f64> = (0..10).map(|t| 10.0 + 0.5 * t as f64).collect();
    let t = trend(&line).unwrap();
    assert!(close(t.slope_pct_per_run, 0.5 / 12.25 * 100.0, 1e-12));
    assert!(close(t.total_change_pct, 4.5 / 12.25 * 100.0, 1e-12));
    assert!(close(t.p_value, 2.0 / 3_628_800.0, 1e-9));
    assert!(t.significant);
    line[4] = 100.0;
    assert!(close(
        trend(&line).unwrap().slope_pct_per_run,
        0.5 / 12.75 * 100.0,
        1e-12
    ));
}

#[test]
fn mann_kendall_exact_p_values() {
    let cdf = kendall_cdf(3);
    let want = [1.0 / 6.0, 0.5, 5.0 / 6.0, 1.0];
    assert!(cdf.iter().zip(want).all(|(x, y)| close(*x, y, 1e-12)));
    let five = trend(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
    assert!(close(five.p_value, 2.0 / 120.0, 1e-12) && five.significant);
    let four = trend(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    assert!(close(four.p_value, 2.0 / 24.0, 1e-12) && !four.significant);
}

#[test]
fn flat_and_short_series() {
    let flat = trend(&[5.0; 8]).unwrap();
    assert_eq!((flat.slope_pct_per_run, flat.p_value), (0.0, 1.0));
    assert!(!flat.significant);
    assert_eq!(trend(&[1.0, 2.0]), None);
    assert_eq!(trend(&[1.0, f64::NAN, 3.0]), None);
    assert_eq!(trend(&[0.0, 0.0, 0.0]), None);
}

#[test]
fn verdict_boundaries_at_exactly_the_threshold() {
    let band_low = 1.0 / 1.01;
    assert_eq!(verdict(Some((1.01, 1.05)), HI, 0.01), Verdict::Inconclusive);
    assert_eq!(verdict(Some((1.0101, 1.05)), HI, 0.01), Verdict::Faster);
    assert_eq!(verdict(Some((1.0101, 1.05)), LO, 0.01), Verdict::Slower);
    assert_eq!(
        verdict(Some((0.9, band_low)), HI, 0.01),
        Verdict::Inconclusive
    );
    assert_eq!(verdict(Some((0.9, 0.99)), HI, 0.01), Verdict::Slower);
    assert_eq!(verdict(Some((0.9, 0.99)), LO, 0.01), Verdict::Faster);
    assert_eq!(verdict(Some((band_low, 1.01)), HI, 0.01), Verdict::NoChange);
    assert_eq!(
        verdict(Some((0.995, 1.02)), HI, 0.01),
        Verdict::Inconclusive
    );
    assert_eq!(verdict(None, HI, 0.01), Verdict::Inconclusive);
    // With no threshold any interval that excludes 1 is a claim.
    assert_eq!(verdict(Some((1.0001, 1.0002)), HI, 0.0), Verdict::Faster);
}

fn with_ci(lo: f64, hi: f64) -> Comparison {
    let mut c = compare(&[1.0; 6], &[1.0; 6], true, HI, 0.01, 0.95).unwrap();
    (c.ci_low, c.ci_high) = (Some(lo), Some(hi));
    c
}

#[test]
fn regression_gate_needs_the_whole_interval_beyond_pct() {
    assert!(regressed(&with_ci(0.90, 0.969), 3.0, HI));
    assert!(!regressed(&with_ci(0.90, 0.971), 3.0, HI));
    assert!(regressed(&with_ci(1.031, 1.2), 3.0, LO));
    assert!(!regressed(&with_ci(1.029, 1.2), 3.0, LO));
    assert!(!regressed(&with_ci(1.031, 1.2), 3.0, HI));
    let mut none = with_ci(0.5, 0.6);
    none.ci_high = None;
    assert!(!regressed(&none, 3.0, HI));
}

#[test]
fn tiny_samples_never_claim() {
    for n in [1, 2, 5] {
        let a = vec![100.0; n];
        let b = vec![50.0; n];
        let c = compare(&a, &b, true, HI, 0.01, 0.95).unwrap();
        assert_eq!(
            (c.ci_low, c.verdict),
            (None, Verdict::Inconclusive),
            "n = {n}"
        );
    }
    let c = compare(&[100.0; 6], &[50.0; 6], true, HI, 0.01, 0.95).unwrap();
    assert_eq!(c.verdict, Verdict::Slower);
    let u = compare(&[100.0; 3], &[50.0; 3], false, HI, 0.01, 0.95).unwrap();
    assert_eq!(u.verdict, Verdict::Inconclusive);
}

#[test]
fn identical_runs_are_no_change() {
    let c = compare(&[42.0; 10], &[42.0; 10], true, HI, 0.01, 0.95).unwrap();
    assert_eq!((c.ratio, c.ci_low, c.ci_high), (1.0, Some(1.0), Some(1.0)));
    assert_eq!((c.p_value, c.verdict), (1.0, Verdict::NoChange));
    let u = compare(&[42.0; 10], &[42.0; 10], false, HI, 0.01, 0.95).unwrap();
    assert_eq!((u.ratio, u.verdict), (1.0, Verdict::NoChange));
}

#[test]
fn unusable_values_are_skipped_with_their_pair() {
    let a = [f64::NAN, 10.0, 10.1, 9.9, 10.0, 10.2, 9.8, 0.0];
    let b = [5.0, 9.0, 9.1, 8.9, 9.0, 9.2, 8.8, 9.0];
    let c = compare(&a, &b, true, HI, 0.01, 0.95).unwrap();
    assert_eq!((c.n_a, c.n_b, c.median_b), (6, 6, 9.0));
    let u = compare(&a, &b, false, HI, 0.01, 0.95).unwrap();
    assert_eq!((u.n_a, u.n_b), (6, 8));
    assert_eq!(compare(&[f64::NAN], &[1.0], true, HI, 0.01, 0.95), None);
    assert_eq!(compare(&[1.0, 2.0], &[1.0], true, HI, 0.01, 0.95), None);
    assert_eq!(compare(&[1.0], &[1.0], true, HI, 0.01, 1.0), None);
    assert_eq!(compare(&[1.0], &[1.0], true, HI, f64::NAN, 0.95), None);
}

#[test]
fn outliers_are_flagged_by_input_index() {
    let a = [f64::NAN, 10.0, 10.1, 9.9, 10.0, 3.0, 10.2, 9.8];
    let b = [1.0, 9.0, 9.1, 8.9, 9.0, 9.0, 9.2, 8.8];
    let c = compare(&a, &b, true, HI, 0.01, 0.95).unwrap();
    assert_eq!((c.outliers_a, c.outliers_b), (vec![5], vec![]));
}

/// Runs of `n` pairs at `rate` with a small deterministic jitter.
fn runs(n: usize, rate: f64, phase: f64) -> Vec<f64> {
    (0..n)
        .map(|k| rate * (1.0 + 0.002 * ((k as f64 * 1.7 + phase).sin())))
        .collect()
}

#[test]
fn a_clear_slowdown_is_called_in_the_right_direction() {
    let (a, b) = (runs(10, 100.0, 0.0), runs(10, 90.0, 1.0));
    let c = compare(&a, &b, true, HI, 0.01, 0.95).unwrap();
    assert_eq!(c.verdict, Verdict::Slower);
    assert!(c.ci_high.unwrap() < 0.92 && c.ci_low.unwrap() > 0.88);
    assert!(close(c.p_value, 2.0 / 1024.0, 1e-12));
    assert_eq!(
        compare(&a, &b, true, LO, 0.01, 0.95).unwrap().verdict,
        Verdict::Faster
    );
    let u = compare(&a, &b, false, HI, 0.01, 0.95).unwrap();
    assert_eq!(u.verdict, Verdict::Slower);
    assert!(!u.paired && c.paired);
}

#[test]
fn large_samples_use_the_normal_approximation() {
    let (a, b) = (runs(80, 100.0, 0.0), runs(80, 100.0, 0.5));
    let c = compare(&a, &b, true, HI, 0.01, 0.95).unwrap();
    assert!(c.method.contains("normal"));
    assert_eq!(c.verdict, Verdict::NoChange);
    let u = compare(&a, &b[..70], false, HI, 0.01, 0.95).unwrap();
    assert!(u.method.contains("normal"));
    assert_eq!(u.verdict, Verdict::NoChange);
    // The normal trim lands next to the exact one where both are available.
    let exact = signed_rank_trim(60, 0.05).unwrap();
    let sd = (60.0f64 * 61.0 * 121.0 / 24.0).sqrt();
    let normal = normal_trim(60.0 * 61.0 / 4.0, sd, 0.05).unwrap();
    assert!(
        exact.abs_diff(normal) <= 1,
        "exact {exact}, normal {normal}"
    );
    assert!(signed_rank_trim(61, 0.05).unwrap() > exact);
}

#[test]
fn default_auto_schedule_and_per_look_level() {
    let rule = AutoRule::default();
    assert_eq!(rule.looks(), vec![9, 12, 15, 19, 24, 30, 38, 48, 50]);
    assert!(close(rule.per_look_confidence(), 1.0 - 0.05 / 9.0, 1e-12));
    let small = AutoRule {
        max_pairs: 5,
        ..rule
    };
    assert_eq!(small.looks(), vec![5]);
}

#[test]
fn auto_stops_only_at_looks_and_at_the_budget() {
    let rule = AutoRule::default();
    let same = vec![50.0; 9];
    let stop = |n: usize, a: &[f64], b: &[f64]| auto_should_stop(&a[..n], &b[..n], HI, 0.01, &rule);
    assert_eq!(stop(8, &same, &same), AutoDecision::Continue);
    let AutoDecision::Decided(c) = stop(9, &same, &same) else {
        panic!("identical runs decide at the first look");
    };
    assert_eq!(c.verdict, Verdict::NoChange);
    // Pairs spread over +-10%: too noisy to decide, the budget ends it.
    let a = vec![100.0; 50];
    let b: Vec<f64> = (0..50)
        .map(|k| 100.0 * (1.0 + 0.1 * (k as f64 * 1.3).sin()))
        .collect();
    assert_eq!(stop(30, &a, &b), AutoDecision::Continue);
    let AutoDecision::BudgetSpent(Some(c)) = stop(50, &a, &b) else {
        panic!("the budget ends the session");
    };
    assert_eq!(c.verdict, Verdict::Inconclusive);
}

#[test]
fn normal_helpers() {
    assert!(close(normal_quantile(0.975), 1.959_963_985, 1e-8));
    assert!(close(normal_quantile(0.001), -3.090_232_306, 1e-8));
    assert!(close(normal_quantile(0.999), 3.090_232_306, 1e-8));
    assert!(close(erfc(0.0), 1.0, 1e-7));
    assert!(close(
        erfc(1.959_963_985 / std::f64::consts::SQRT_2),
        0.05,
        1e-6
    ));
    assert!(close(erfc(-1.0), 1.842_700_79, 1e-6));
}

#[test]
fn splitmix_is_reproducible_and_gaussian() {
    let mut r = SplitMix64::new(7);
    let first = r.next_u64();
    assert_eq!(SplitMix64::new(7).next_u64(), first);
    let xs: Vec<f64> = (0..20_000).map(|_| r.gaussian()).collect();
    assert!(crate::stats::mean(&xs).abs() < 0.03);
    assert!((crate::stats::stddev(&xs) - 1.0).abs() < 0.03);
}

fn mirrored(v: Verdict) -> Verdict {
    match v {
        Verdict::Faster => Verdict::Slower,
        Verdict::Slower => Verdict::Faster,
        other => other,
    }
}

fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 0.1f64..1000.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(0.0),
        1 => -10.0f64..0.0,
        1 => Just(50.0),
    ]
}

proptest! {
    #[test]
    fn compare_never_panics(
        a in prop::collection::vec(any_value(), 0..30),
        b in prop::collection::vec(any_value(), 0..30),
        paired in any::<bool>(),
        threshold in prop_oneof![Just(0.0), 0.0f64..0.2, Just(f64::NAN)],
        confidence in prop_oneof![Just(0.95), 0.0f64..1.0, Just(1.0)],
    ) {
        let n = a.len().min(b.len());
        let b = if paired { &b[..n] } else { &b[..] };
        let a = if paired { &a[..n] } else { &a[..] };
        if let Some(c) = compare(a, b, paired, HI, threshold, confidence) {
            prop_assert!(c.ratio > 0.0 && c.p_value >= 0.0 && c.p_value <= 1.0);
            if let (Some(lo), Some(hi)) = (c.ci_low, c.ci_high) {
                prop_assert!(lo <= c.ratio * (1.0 + 1e-12) && c.ratio <= hi * (1.0 + 1e-12));
            }
        }
        let _ = trend(a);
        let _ = drift_check(a, b, paired);
    }

    #[test]
    fn swapping_a_and_b_inverts_ratio_and_verdict(
        pairs in prop::collection::vec((1.0f64..100.0, 1.0f64..100.0), 1..25),
        paired in any::<bool>(),
        threshold in 0.0f64..0.1,
    ) {
        let a: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let b: Vec<f64> = pairs.iter().map(|p| p.1 * (0.5 + p.0 / 100.0)).collect();
        let ab = compare(&a, &b, paired, HI, threshold, 0.95).unwrap();
        let ba = compare(&b, &a, paired, HI, threshold, 0.95).unwrap();
        prop_assert!(close(ab.ratio * ba.ratio, 1.0, 1e-9));
        prop_assert!(close(ab.p_value, ba.p_value, 1e-9));
        prop_assert_eq!(ab.ci_low.is_some(), ba.ci_low.is_some());
        if let (Some(lo), Some(hi)) = (ab.ci_low, ba.ci_high) {
            prop_assert!(close(lo * hi, 1.0, 1e-9));
        }
        prop_assert_eq!(ba.verdict, mirrored(ab.verdict));
    }
}
