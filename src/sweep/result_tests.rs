use std::time::Duration;

use super::*;
use crate::sweep::cells::product;
use crate::sweep::infeasible::{Cause, CauseKind};
use crate::sweep::race::{Outcome, RaceConfig};
use crate::sweep::vary::parse_vary;

struct Truth {
    rate: f64,
    rss_mb: u64,
    j: Option<f64>,
}

/// A race over the cells of `-t 1,2,4` with the given truths; cell 2 may
/// crash in warmup. Noise is a deterministic +-0.1% pattern.
fn race(truths: &[Truth], crash_last: bool) -> (Race, Vec<Cell>) {
    let cells = product(&[parse_vary("-t 1,2,4").unwrap()], &[]).unwrap();
    let cfg = RaceConfig {
        seed: 4,
        max_time: None,
        ..RaceConfig::default()
    };
    let mut race = Race::new(cells.len(), cfg);
    if crash_last {
        race.record_warmup(
            2,
            Err(Cause {
                kind: CauseKind::Crash,
                line: "killed by signal 11".into(),
            }),
        );
    }
    let mut k = 0u64;
    while let Some(order) = race.next_round() {
        for c in order {
            k += 1;
            let wiggle = 1.0 + 0.001 * ((k * 7919 % 13) as f64 - 6.0) / 6.0;
            let t = &truths[c];
            race.record(
                c,
                Outcome::Measured(Measurement {
                    value: t.rate * wiggle,
                    peak_rss_bytes: Some(t.rss_mb << 20),
                    gpu_mem_bytes: None,
                    j_per_token: t.j,
                }),
            );
        }
        race.end_round(Duration::from_secs(k));
    }
    (race, cells)
}

/// The result of [`race`] over `-t 1,2,4` on eval_tps.
fn summary(truths: &[Truth], crash_last: bool) -> SweepResult {
    let (race, cells) = race(truths, crash_last);
    summarize(
        &race,
        &cells,
        &[parse_vary("-t 1,2,4").unwrap()],
        "eval_tps",
    )
}

fn truth(rate: f64, rss_mb: u64, j: Option<f64>) -> Truth {
    Truth { rate, rss_mb, j }
}

#[test]
fn tied_cells_recommend_the_one_with_less_memory() {
    let r = summary(
        &[
            truth(100.0, 900, None),
            truth(99.7, 600, None),
            truth(80.0, 500, None),
        ],
        false,
    );
    let names: Vec<&str> = r.rows.iter().map(|r| r.cell.as_str()).collect();
    assert_eq!(names, ["-t 1", "-t 2", "-t 4"]);
    assert_eq!(r.rows[0].status, Status::Best);
    assert_eq!(r.rows[1].status, Status::Tied);
    assert!(matches!(r.rows[2].status, Status::Eliminated { .. }));
    assert_eq!(r.tied_group, ["-t 1", "-t 2"]);
    assert_eq!(r.stop, Some(StopReason::AllTied));
    let (pick, why) = r.recommend_cell(Prefer::Memory).unwrap();
    assert_eq!(pick.cell, "-t 2");
    assert_eq!(
        why,
        "the least host memory among the 2 cells tied with the best"
    );
    assert_eq!(r.recommend_cell(Prefer::None).unwrap().0.cell, "-t 1");
    // Every cell is on the front: each is the fastest or uses less memory.
    assert_eq!(r.pareto, ["-t 1", "-t 2", "-t 4"]);
    assert_eq!(r.pareto_objectives, ["metric", "host memory"]);
    let change = r.rows[1].change_pct.unwrap();
    assert!((change + 0.3).abs() < 0.15, "{change}");
    assert!(r.rows[1].change_ci_low_pct.unwrap() < change);
    assert_eq!(r.rows[0].change_pct, Some(0.0));
    assert_eq!(r.rows[0].peak_rss_bytes, Some(900 << 20));
    assert_eq!(r.runs, r.rows.iter().map(|r| r.rounds).sum::<usize>());
}

#[test]
fn infeasible_cells_rank_last_and_a_dominated_cell_is_off_the_front() {
    let r = summary(
        &[
            truth(100.0, 500, Some(0.5)),
            truth(90.0, 600, Some(0.6)),
            truth(0.0, 0, None),
        ],
        true,
    );
    assert_eq!(r.rows[2].cell, "-t 4");
    assert_eq!(
        r.rows[2].status,
        Status::Infeasible {
            cause: Cause {
                kind: CauseKind::Crash,
                line: "killed by signal 11".into()
            }
        }
    );
    assert_eq!(r.rows[2].median, None);
    assert_eq!(r.pareto, ["-t 1"]);
    assert_eq!(r.pareto_objectives, ["metric", "host memory", "energy"]);
    assert_eq!(r.tied_group, ["-t 1"]);
    assert_eq!(
        r.recommend_cell(Prefer::Energy).unwrap().1,
        "the best; no cell is tied with it"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["rows"][2]["status"], "infeasible");
    assert_eq!(json["rows"][2]["cause"]["kind"], "crash");
    assert_eq!(json["rows"][1]["status"], "eliminated");
}

#[test]
fn a_slower_cell_saving_noise_level_memory_is_off_the_front() {
    // '-t 2' is 10% slower and saves 1 MiB of 1000 (0.1%, inside the 1%
    // threshold): a tie on memory, so '-t 1' dominates it. '-t 4' saves half.
    let r = summary(
        &[
            truth(100.0, 1000, None),
            truth(90.0, 999, None),
            truth(80.0, 500, None),
        ],
        false,
    );
    assert_eq!(r.pareto, ["-t 1", "-t 4"]);
}

#[test]
fn non_dominated_counts_differences_within_the_tolerance_as_ties() {
    let scores = vec![vec![-100.0, 1000.0], vec![-99.5, 900.0], vec![-90.0, 895.0]];
    // The third saves 5 of 900 (0.6%) against the second: a tie on memory, and slower.
    assert_eq!(non_dominated(&scores, &[0.0, 0.01]), [0, 1]);
    // Strictly, it is on the front.
    assert_eq!(non_dominated(&scores, &[0.0, 0.0]), [0, 1, 2]);
    // A 1% tolerance on the metric too would let the second (0.5% slower,
    // 10% less memory) push the first off.
    assert_eq!(non_dominated(&scores, &[0.01, 0.01]), [1]);
}
