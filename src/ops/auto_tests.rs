//! Tests of `ops --auto`'s rule on simulated rounds.

use super::*;
use crate::compare::stats::SplitMix64;
use crate::ops::compare::tests::result;

const OPS: [(&str, &str, f64); 3] = [
    ("ADD", "ne=[4096]", 100.0),
    ("MUL_MAT", "m=4096", 2000.0),
    ("SOFT_MAX", "ne=[512]", 50.0),
];

/// One round of one side: every op with relative noise `noise`; MUL_MAT's
/// time times `slow`.
fn round(rng: &mut SplitMix64, noise: f64, slow: f64) -> Vec<OpResult> {
    OPS.iter()
        .map(|(o, p, t)| {
            let t = if *o == "MUL_MAT" { t * slow } else { *t };
            result(o, p, t * (1.0 + noise * rng.gaussian()))
        })
        .collect()
}

/// Runs rounds until the rule stops (or `limit` rounds): the final state.
fn session(rule: AutoRule, noise: f64, slow: f64, seed: u64) -> OpsAuto {
    let mut rng = SplitMix64::new(seed);
    let mut st = OpsAuto::new(rule, 0.01);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rule.max_pairs {
        a.push(round(&mut rng, noise, 1.0));
        b.push(round(&mut rng, noise, slow));
        if st.after_round(&a, &b).is_some() {
            break;
        }
    }
    st
}

fn verdict(st: &OpsAuto, op: &str) -> Option<Verdict> {
    let (_, p, _) = OPS.iter().find(|(o, _, _)| *o == op).unwrap();
    let case = OpCase {
        backend: "CPU".into(),
        op: op.into(),
        params: p.to_string(),
    };
    st.outcome(&case)?.comparison.as_ref().map(|c| c.verdict)
}

#[test]
fn a_planted_ten_percent_slowdown_is_decided_slower_before_the_budget() {
    let st = session(AutoRule::default(), 0.005, 1.10, 7);
    assert_eq!(st.stop(), Some(AutoStop::Decided));
    let s = st.summary(std::time::Duration::from_secs(60));
    assert!(s.rounds < 50, "{}", s.rounds);
    assert!(s.looks.contains(&s.rounds), "{s:?}");
    assert_eq!((s.cases, s.decided), (3, 3));
    assert_eq!(verdict(&st, "MUL_MAT"), Some(Verdict::Slower));
    assert_eq!(verdict(&st, "ADD"), Some(Verdict::NoChange));
    assert_eq!(verdict(&st, "SOFT_MAX"), Some(Verdict::NoChange));
    assert_eq!(
        s.reason,
        format!("every case decided after {} rounds", s.rounds)
    );
}

#[test]
fn the_per_look_level_is_shared_by_the_cases_and_the_looks() {
    let mut st = OpsAuto::new(AutoRule::default(), 0.01);
    let mut rng = SplitMix64::new(1);
    let a = vec![round(&mut rng, 0.005, 1.0)];
    let b = vec![round(&mut rng, 0.005, 1.0)];
    assert_eq!(st.after_round(&a, &b), None);
    let rule = st.rule();
    assert!((rule.alpha - 0.05 / 3.0).abs() < 1e-12);
    let k = rule.looks().len() as f64;
    let s = st.summary(std::time::Duration::from_secs(1));
    assert!((s.per_look_confidence - (1.0 - 0.05 / (3.0 * k))).abs() < 1e-12);
    // More cases: a later first look (an interval needs more pairs).
    let first = |m: usize| {
        AutoRule {
            alpha: 0.05 / m as f64,
            ..AutoRule::default()
        }
        .looks()[0]
    };
    assert_eq!([first(1), first(3), first(10), first(100)], [9, 12, 12, 15]);
}

#[test]
fn an_a_a_session_makes_no_false_claim_and_stops_decided_or_at_the_budget() {
    for seed in 0..20 {
        let st = session(AutoRule::default(), 0.005, 1.0, seed);
        let stop = st.stop();
        assert!(
            matches!(stop, Some(AutoStop::Decided | AutoStop::RoundBudget)),
            "{stop:?}"
        );
        for (op, _, _) in OPS {
            let v = verdict(&st, op);
            assert!(
                matches!(v, Some(Verdict::NoChange | Verdict::Inconclusive)),
                "seed {seed}: {op} {v:?}"
            );
        }
    }
}

/// Noise wide against the band keeps most cases open for many looks: the
/// setting where repeated looks at many cases would inflate false claims.
#[test]
fn false_claims_stay_rare_over_many_noisy_a_a_sessions() {
    let rule = AutoRule {
        max_pairs: 30,
        ..AutoRule::default()
    };
    let sessions = 150;
    let false_sessions = (0..sessions)
        .filter(|&seed| {
            let st = session(rule, 0.03, 1.0, 1000 + seed);
            OPS.iter().any(|(op, _, _)| {
                matches!(verdict(&st, op), Some(Verdict::Faster | Verdict::Slower))
            })
        })
        .count();
    // The bound is 5%; 150 sessions at 5% would give about 7.5.
    assert!(false_sessions <= 8, "{false_sessions} of {sessions}");
}

#[test]
fn a_budget_spent_leaves_open_cases_inconclusive_with_the_reason() {
    let rule = AutoRule {
        max_pairs: 6,
        ..AutoRule::default()
    };
    let st = session(rule, 0.05, 1.0, 3);
    assert_eq!(st.stop(), Some(AutoStop::RoundBudget));
    let s = st.summary(std::time::Duration::from_secs(1));
    assert_eq!(s.rounds, 6);
    assert!(s.decided < 3, "{s:?}");
    assert!(
        s.reason.starts_with("--max-rounds 6 spent with "),
        "{}",
        s.reason
    );
}

#[test]
fn an_early_end_judges_the_open_cases_on_the_rounds_so_far() {
    let mut rng = SplitMix64::new(5);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut st = OpsAuto::new(AutoRule::default(), 0.01);
    for _ in 0..8 {
        a.push(round(&mut rng, 0.002, 1.0));
        b.push(round(&mut rng, 0.002, 1.10));
        assert_eq!(st.after_round(&a, &b), None);
    }
    // Time runs out after 8 rounds: too few for an interval at the
    // per-look level of 3 cases (the first look is at 12), so no claim.
    let mut early = st.clone();
    early.end_early(&a, &b, AutoStop::TimeBudget);
    assert_eq!(early.stop(), Some(AutoStop::TimeBudget));
    assert_eq!(verdict(&early, "MUL_MAT"), Some(Verdict::Inconclusive));
    let s = early.summary(std::time::Duration::from_secs(120));
    assert_eq!((s.rounds, s.decided), (8, 0));
    assert!(
        s.reason.starts_with("--max-time 2m spent after 8 rounds"),
        "{}",
        s.reason
    );
    // After 13 rounds (between the looks at 12 and 15) it can decide.
    for _ in 8..13 {
        a.push(round(&mut rng, 0.002, 1.0));
        b.push(round(&mut rng, 0.002, 1.10));
    }
    st.end_early(&a, &b, AutoStop::Interrupted);
    assert_eq!(verdict(&st, "MUL_MAT"), Some(Verdict::Slower));
    assert_eq!(st.summary(std::time::Duration::ZERO).decided, 3);
}

#[test]
fn no_case_on_both_sides_stops_after_the_first_round() {
    let mut st = OpsAuto::new(AutoRule::default(), 0.01);
    let a = vec![vec![result("ADD", "x", 10.0)]];
    let b = vec![vec![result("ADD", "y", 10.0)]];
    assert_eq!(st.after_round(&a, &b), Some(AutoStop::NoMatchedCase));
}
