use super::*;
use crate::sweep::infeasible::{no_metric, CauseKind};
use crate::sweep::simulate::{run, Scenario};

fn cfg(seed: u64) -> RaceConfig {
    RaceConfig {
        seed,
        max_time: None,
        ..RaceConfig::default()
    }
}

fn scenario(rates: &[f64], noise: f64, drift: f64) -> Scenario {
    Scenario {
        rates: rates.to_vec(),
        noise,
        drift,
    }
}

fn measured(value: f64) -> Outcome {
    Outcome::Measured(Measurement {
        value,
        peak_rss_bytes: None,
        gpu_mem_bytes: None,
        j_per_token: None,
    })
}

#[test]
fn a_clear_best_eliminates_the_rest_and_stops() {
    let r = run(&scenario(&[90.0, 100.0, 80.0, 95.0], 0.01, 0.0), cfg(1), 11);
    assert_eq!(r.stop, Some(StopReason::OneLeft));
    assert_eq!(r.statuses[1], Status::Best);
    for i in [0, 2, 3] {
        assert!(
            matches!(r.statuses[i], Status::Eliminated { round } if round < 50),
            "{:?}",
            r.statuses
        );
    }
    assert!(r.rounds < 50);
}

#[test]
fn two_cells_within_half_a_percent_come_out_tied() {
    let r = run(&scenario(&[100.0, 99.6], 0.001, 0.0), cfg(2), 12);
    assert_eq!(r.stop, Some(StopReason::AllTied));
    assert_eq!(r.statuses, [Status::Best, Status::Tied]);
    assert_eq!(r.best_group(), [0, 1]);
}

#[test]
fn a_cell_three_percent_worse_is_eliminated_before_the_end() {
    let r = run(&scenario(&[100.0, 97.0, 100.2], 0.01, 0.0), cfg(3), 13);
    let Status::Eliminated { round } = r.statuses[1] else {
        panic!("{:?}", r.statuses)
    };
    assert!(round < 50, "eliminated at {round}");
    assert!(!matches!(r.statuses[0], Status::Eliminated { .. }));
    assert!(!matches!(r.statuses[2], Status::Eliminated { .. }));
}

#[test]
fn drift_during_the_sweep_gives_no_false_winner() {
    // Three equal cells, 20% slower by the end: the shared drift is paired
    // away, so none is eliminated, over many seeds.
    for seed in 0..20 {
        let r = run(
            &scenario(&[100.0, 100.0, 100.0], 0.005, 0.2),
            cfg(seed),
            100 + seed,
        );
        let eliminated = r
            .statuses
            .iter()
            .filter(|s| matches!(s, Status::Eliminated { .. }))
            .count();
        assert_eq!(eliminated, 0, "seed {seed}: {:?}", r.statuses);
    }
}

#[test]
fn orders_hold_the_survivors_only() {
    let mut race = Race::new(3, cfg(5));
    let mut warm = race.warmup_order();
    warm.sort_unstable();
    assert_eq!(warm, [0, 1, 2]);
    let cause = Cause {
        kind: CauseKind::Crash,
        line: "killed by signal 11".into(),
    };
    race.record_warmup(2, Err(cause.clone()));
    let mut order = race.next_round().unwrap();
    order.sort_unstable();
    assert_eq!(order, [0, 1]);
    race.record(0, measured(10.0));
    race.record(1, measured(11.0));
    assert_eq!(race.end_round(Duration::from_secs(2)), None);
    assert_eq!(race.statuses()[2], Status::Infeasible { cause });
    // The leader after one round, not judged yet.
    assert_eq!(race.best(), Some(1));
    assert_eq!(race.statuses()[1], Status::Undecided);
    assert_eq!(race.runs(), 2);
}

#[test]
fn a_failure_during_the_rounds_makes_the_cell_infeasible_and_the_sweep_goes_on() {
    let mut race = Race::new(2, cfg(6));
    race.next_round().unwrap();
    race.record(0, measured(10.0));
    race.record(
        1,
        Outcome::Infeasible(Cause {
            kind: CauseKind::OutOfMemory,
            line: "cudaMalloc failed: out of memory".into(),
        }),
    );
    race.end_round(Duration::from_secs(2));
    assert_eq!(race.next_round().unwrap(), [0]);
    assert!(matches!(race.statuses()[1], Status::Infeasible { .. }));
}

#[test]
fn every_cell_infeasible_ends_the_sweep() {
    let mut race = Race::new(2, cfg(7));
    for c in 0..2 {
        race.record_warmup(
            c,
            Err(Cause {
                kind: CauseKind::LoadFailure,
                line: "failed to load model".into(),
            }),
        );
    }
    assert_eq!(race.next_round(), None);
    assert_eq!(race.stop_reason(), Some(StopReason::NoneFeasible));
    assert_eq!(race.best(), None);
}

#[test]
fn the_time_budget_stops_before_a_round_would_overrun_it() {
    let c = RaceConfig {
        max_time: Some(Duration::from_secs(10)),
        ..cfg(8)
    };
    let r = run(&scenario(&[100.0, 100.0, 100.0, 100.0], 0.01, 0.0), c, 1);
    // 4 runs of 1 s a round: after round 2 (8 s) a third would end at 12 s.
    assert_eq!(r.stop, Some(StopReason::TimeBudget));
    assert_eq!(r.rounds, 2);
    assert_eq!(r.runs, 8);
}

#[test]
fn without_elimination_every_cell_runs_every_round() {
    let c = RaceConfig {
        eliminate: false,
        max_rounds: 12,
        ..cfg(9)
    };
    let r = run(&scenario(&[100.0, 80.0], 0.01, 0.0), c, 2);
    assert_eq!(r.rounds, 12);
    assert_eq!(r.runs, 24);
    assert_eq!(r.stop, Some(StopReason::RoundBudget));
    // Never eliminated, and not tied: undecided.
    assert_eq!(r.statuses, [Status::Best, Status::Undecided]);
}

#[test]
fn lower_is_better_metrics_race_the_other_way() {
    let c = RaceConfig {
        direction: Direction::LowerIsBetter,
        ..cfg(10)
    };
    let r = run(&scenario(&[10.0, 12.0], 0.01, 0.0), c, 3);
    assert_eq!(r.statuses[0], Status::Best);
    assert!(matches!(r.statuses[1], Status::Eliminated { .. }));
}

#[test]
fn looks_are_corrected_across_cells() {
    let mut race = Race::new(8, cfg(11));
    race.next_round().unwrap();
    let rule = race.rule().unwrap();
    // alpha 0.05 shared by 7 comparisons with the best.
    assert!((rule.alpha - 0.05 / 7.0).abs() < 1e-12);
    let looks = rule.looks();
    assert!(looks[0] >= 10, "{looks:?}");
    assert_eq!(*looks.last().unwrap(), 50);
    assert!(rule.per_look_confidence() > 0.999);
}

#[test]
fn interrupting_keeps_what_was_measured() {
    let mut race = Race::new(2, cfg(12));
    race.next_round().unwrap();
    race.record(0, measured(10.0));
    race.record(1, measured(9.0));
    race.end_round(Duration::from_secs(2));
    race.interrupt();
    assert_eq!(race.next_round(), None);
    assert_eq!(race.stop_reason(), Some(StopReason::Interrupted));
    assert_eq!(race.measurements(1).len(), 1);
    // One round is no look: nothing was judged, so no cell is best.
    assert_eq!(race.looks_taken(), 0);
    assert_eq!(race.statuses(), [Status::Undecided, Status::Undecided]);
    assert_eq!(race.best(), Some(0));
}

/// Regression (issue 12): a sweep whose budget ran out after one round
/// called its leader `best` without a look.
#[test]
fn a_budget_spent_before_the_first_look_decides_no_cell() {
    let c = RaceConfig {
        max_time: Some(Duration::from_secs(3)),
        ..cfg(13)
    };
    let r = run(&scenario(&[100.0, 90.0, 80.0], 0.01, 0.0), c, 4);
    // 3 runs of 1 s: a second round would end at 6 s, past the 3 s budget.
    assert_eq!(r.stop, Some(StopReason::TimeBudget));
    assert_eq!(r.rounds, 1);
    assert_eq!(r.statuses, vec![Status::Undecided; 3]);
    assert!(r.best_group().is_empty());
}

#[test]
fn the_first_look_decides_and_a_lone_feasible_cell_is_best() {
    let mut race = Race::new(3, cfg(14));
    race.record_warmup(2, Err(no_metric("eval_tps")));
    let mut round = 0;
    while race.next_round().is_some() && race.looks_taken() == 0 {
        assert_eq!(race.statuses()[0], Status::Undecided, "round {round}");
        race.record(0, measured(10.0 + round as f64 * 0.01));
        race.record(1, measured(5.0 + round as f64 * 0.01));
        round += 1;
        race.end_round(Duration::from_secs(2 * round as u64));
    }
    // Two feasible cells, 50 rounds: the first look comes at round 9, the
    // first where the exact signed-rank interval can exclude at its level.
    assert_eq!((round, race.first_look()), (9, 9));
    assert_eq!(race.looks_taken(), 1);
    assert_eq!(race.statuses()[0], Status::Best);
    // Only one cell feasible: it is the best without a look.
    let mut lone = Race::new(2, cfg(15));
    lone.record_warmup(1, Err(no_metric("eval_tps")));
    lone.next_round().unwrap();
    lone.record(0, measured(10.0));
    lone.end_round(Duration::from_secs(1));
    assert_eq!(lone.looks_taken(), 0);
    assert_eq!(lone.statuses()[0], Status::Best);
}

/// An interrupt mid-round leaves that round out of the race, as a time
/// budget spent mid-round does: rounds are paired.
#[test]
fn interrupting_mid_round_leaves_the_partial_round_out() {
    let mut race = Race::new(2, cfg(12));
    race.next_round().unwrap();
    race.record(0, measured(10.0));
    race.record(1, measured(9.0));
    race.end_round(Duration::from_secs(2));
    race.next_round().unwrap();
    race.record(0, measured(11.0));
    race.interrupt();
    assert_eq!(race.stop_reason(), Some(StopReason::Interrupted));
    assert_eq!(race.measurements(0).len(), 1);
    assert_eq!(race.measurements(1).len(), 1);
    assert_eq!(race.runs(), 2);
}
