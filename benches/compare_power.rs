//! Statistical power of `tokbench compare`, measured by simulation.
//!
//! `cargo bench --bench compare_power -- --trials N` (default 100) drives the
//! library's own `compare` and `auto_should_stop` (the logic the CLI runs)
//! over simulated sessions: rate = base x (1 + drift(t)) x (1 + noise x
//! N(0,1)), run t counted over the whole session including the warmup of
//! each side, B's base scaled by the effect. Every trial has its own seed,
//! so the figures are reproducible. The last line is the summary:
//! `aa_false_positive=X detect_3pct=Y drift_interleaved_false=Z
//! drift_sequential_false=W`, where X and Y use a fixed `--pairs 10`, and a
//! claim is a verdict of faster or slower at the default 1% threshold.
//!
//! Measured (`--trials 200`; 0.5 s after the build):
//! `aa_false_positive=0.000 detect_3pct=0.980 drift_interleaved_false=0.000
//! drift_sequential_false=1.000`; `--auto` A/A false claims 0.000, and at
//! threshold 0 (the bare type-I error) 0.050 fixed, 0.015 over all `--auto`
//! looks; `--auto` detects 3% at 2% noise after median 19, p90 38 pairs.
//! With `--trials 2000`: 0.000 / 0.976 / 0.000 / 1.000.

use std::time::Instant;
use tokbench::compare::stats::{
    auto_should_stop, compare, drift_check, AutoDecision, AutoRule, Direction, SplitMix64, Verdict,
};
use tokbench::engine::order::{interleave_order, pair_order, sequential_order, Side, WARMUP_ORDER};

const THRESHOLD: f64 = 0.01;
const CONFIDENCE: f64 = 0.95;
const PAIRS: usize = 10;
const BASE: f64 = 100.0;

/// A simulated pair of builds and session.
#[derive(Clone, Copy)]
struct Scenario {
    /// B's base rate is BASE x (1 - effect).
    effect: f64,
    /// Run-to-run noise, a fraction of the rate (one standard deviation).
    noise: f64,
    /// Linear slowdown over the whole session, as a fraction.
    drift: f64,
}

fn rate(s: &Scenario, side: Side, drift_now: f64, rng: &mut SplitMix64) -> f64 {
    let base = match side {
        Side::A => BASE,
        Side::B => BASE * (1.0 - s.effect),
    };
    base * (1.0 - drift_now) * (1.0 + s.noise * rng.gaussian())
}

/// The measured A and B series of one session run in `order` after warmups.
fn session(order: &[Side], s: &Scenario, rng: &mut SplitMix64) -> (Vec<f64>, Vec<f64>) {
    let all: Vec<Side> = WARMUP_ORDER.iter().chain(order).copied().collect();
    let span = (all.len() - 1).max(1) as f64;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (t, &side) in all.iter().enumerate() {
        let r = rate(s, side, s.drift * t as f64 / span, rng);
        if t < WARMUP_ORDER.len() {
            continue;
        }
        match side {
            Side::A => a.push(r),
            Side::B => b.push(r),
        }
    }
    (a, b)
}

/// Verdict of a fixed session: interleaved and paired, or sequential and
/// unpaired (as two stored result files would be compared).
fn fixed_verdict(s: &Scenario, interleaved: bool, threshold: f64, seed: u64) -> Verdict {
    let mut rng = SplitMix64::new(seed);
    let order = if interleaved {
        interleave_order(PAIRS)
    } else {
        sequential_order(PAIRS)
    };
    let (a, b) = session(&order, s, &mut rng);
    compare(
        &a,
        &b,
        interleaved,
        Direction::HigherIsBetter,
        threshold,
        CONFIDENCE,
    )
    .map_or(Verdict::Inconclusive, |c| c.verdict)
}

/// An `--auto` session without drift: the verdict and the pairs it took.
fn auto_session(s: &Scenario, rule: &AutoRule, threshold: f64, seed: u64) -> (Verdict, usize) {
    let mut rng = SplitMix64::new(seed);
    for side in WARMUP_ORDER {
        rate(s, side, 0.0, &mut rng);
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for k in 0.. {
        for side in pair_order(k) {
            let r = rate(s, side, 0.0, &mut rng);
            if side == Side::A {
                a.push(r)
            } else {
                b.push(r)
            }
        }
        match auto_should_stop(&a, &b, Direction::HigherIsBetter, threshold, rule) {
            AutoDecision::Continue => {}
            AutoDecision::Decided(c) => return (c.verdict, k + 1),
            AutoDecision::BudgetSpent(c) => {
                return (c.map_or(Verdict::Inconclusive, |c| c.verdict), k + 1)
            }
        }
    }
    unreachable!("the budget ends every session")
}

fn share(trials: u64, hit: impl Fn(u64) -> bool) -> f64 {
    (0..trials).filter(|&t| hit(t)).count() as f64 / trials as f64
}

/// Median and 90th percentile.
fn median_p90(mut v: Vec<usize>) -> (usize, usize) {
    v.sort_unstable();
    let at = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    (at(0.5), at(0.9))
}

fn trials_arg() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    let value = args.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix("--trials=").map(str::to_owned).or_else(|| {
            (a == "--trials")
                .then(|| args.get(i + 1).cloned())
                .flatten()
        })
    });
    value
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(100)
}

/// A/A under the auto rule: claim share, median pairs.
fn auto_aa(trials: u64, rule: &AutoRule, threshold: f64, seed: u64) -> (f64, usize) {
    let aa = Scenario {
        effect: 0.0,
        noise: 0.01,
        drift: 0.0,
    };
    let runs: Vec<(Verdict, usize)> = (0..trials)
        .map(|t| auto_session(&aa, rule, threshold, seed + t))
        .collect();
    let claims = runs.iter().filter(|r| r.0.is_claim()).count() as f64 / trials as f64;
    (claims, median_p90(runs.iter().map(|r| r.1).collect()).0)
}

fn main() {
    let trials = trials_arg();
    let start = Instant::now();
    let rule = AutoRule::default();
    println!(
        "compare_power: {trials} trials per figure; threshold 1%; fixed --pairs {PAIRS} at 95%; \
         --auto looks at pairs {:?}, each at {:.2}% (Bonferroni)",
        rule.looks(),
        100.0 * rule.per_look_confidence()
    );
    let aa = Scenario {
        effect: 0.0,
        noise: 0.01,
        drift: 0.0,
    };
    let slow3 = Scenario { effect: 0.03, ..aa };
    let drift = Scenario { drift: 0.10, ..aa };

    let aa_fixed = share(trials, |t| {
        fixed_verdict(&aa, true, THRESHOLD, 1_000_000 + t).is_claim()
    });
    let aa_fixed0 = share(trials, |t| {
        fixed_verdict(&aa, true, 0.0, 2_000_000 + t).is_claim()
    });
    println!("aa_fixed10: false claims {aa_fixed:.3} (threshold 0: {aa_fixed0:.3}, the bare type-I error)");
    let (aa_auto, aa_auto_pairs) = auto_aa(trials, &rule, THRESHOLD, 3_000_000);
    let (aa_auto0, _) = auto_aa(trials, &rule, 0.0, 4_000_000);
    println!(
        "aa_auto: false claims {aa_auto:.3}, median {aa_auto_pairs} pairs \
         (threshold 0: {aa_auto0:.3}, the bare type-I error over all looks)"
    );

    let detect = share(trials, |t| {
        fixed_verdict(&slow3, true, THRESHOLD, 5_000_000 + t) == Verdict::Slower
    });
    println!("detect_3pct_fixed10: slower called in {detect:.3} of trials (noise 1%)");
    report_auto_detect(trials, &rule);

    let z = share(trials, |t| {
        fixed_verdict(&drift, true, THRESHOLD, 7_000_000 + t).is_claim()
    });
    let w = share(trials, |t| {
        fixed_verdict(&drift, false, THRESHOLD, 8_000_000 + t).is_claim()
    });
    report_drift_checks(trials, &drift);
    println!("elapsed: {:.1} s", start.elapsed().as_secs_f64());
    println!(
        "aa_false_positive={aa_fixed:.3} detect_3pct={detect:.3} \
         drift_interleaved_false={z:.3} drift_sequential_false={w:.3}"
    );
}

/// Pairs `--auto` needs to detect B 3% slower at 2% (and 1%) noise.
fn report_auto_detect(trials: u64, rule: &AutoRule) {
    for (noise, seed) in [(0.02, 6_000_000), (0.01, 6_500_000)] {
        let s = Scenario {
            effect: 0.03,
            noise,
            drift: 0.0,
        };
        let runs: Vec<(Verdict, usize)> = (0..trials)
            .map(|t| auto_session(&s, rule, THRESHOLD, seed + t))
            .collect();
        let hit = runs.iter().filter(|r| r.0 == Verdict::Slower).count() as f64 / trials as f64;
        let (med, p90) = median_p90(runs.iter().map(|r| r.1).collect());
        println!(
            "auto_detect_3pct_noise{:.0}pct: slower called in {hit:.3} of trials; \
             pairs used median {med}, p90 {p90} (max {})",
            noise * 100.0,
            rule.max_pairs
        );
    }
}

/// How often the drift check flags the 10% drift, and says pairing cancelled it.
fn report_drift_checks(trials: u64, s: &Scenario) {
    let check = |interleaved: bool, t: u64| {
        let mut rng = SplitMix64::new(9_000_000 + t);
        let order = if interleaved {
            interleave_order(PAIRS)
        } else {
            sequential_order(PAIRS)
        };
        let (a, b) = session(&order, s, &mut rng);
        drift_check(&a, &b, interleaved)
    };
    let flagged = share(trials, |t| check(true, t).drift);
    let cancelled = share(trials, |t| check(true, t).cancelled);
    let seq_flagged = share(trials, |t| check(false, t).drift);
    println!(
        "drift_check (10% drift, 1% noise): interleaved flagged {flagged:.3}, \
         reported cancelled {cancelled:.3}; sequential flagged {seq_flagged:.3}"
    );
}
