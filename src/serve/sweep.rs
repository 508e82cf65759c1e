//! `--rate-sweep`: step the offered load up, find the knee (where achieved
//! throughput stops following it) and, with `--slo`, the highest load that
//! meets the targets, by bisection between the last passing and the first
//! failing step, every probe repeated `--trials` times (a load passes only
//! when every trial does).

use anyhow::Result;

use super::summary::SweepPoint;

/// Closed loop: a doubling of concurrency that raises achieved throughput
/// by less than this fraction is past the knee.
pub const CLOSED_KNEE_GAIN: f64 = 0.10;
/// Most steps of an automatic ladder.
pub const MAX_STEPS: usize = 8;
/// Bisection probes between the SLO bracket's ends (open loop).
pub const BISECT_STEPS: usize = 3;

fn levels(points: &[SweepPoint]) -> Vec<f64> {
    let mut v: Vec<f64> = points.iter().map(|p| p.offered).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

fn at(points: &[SweepPoint], level: f64) -> impl Iterator<Item = &SweepPoint> {
    points.iter().filter(move |p| p.offered == level)
}

fn mean_achieved(points: &[SweepPoint], level: f64) -> f64 {
    let v: Vec<f64> = at(points, level).filter_map(|p| p.achieved_rps).collect();
    if v.is_empty() {
        0.0
    } else {
        crate::stats::mean(&v)
    }
}

/// Whether more than half of a load's trials were overloaded: one noisy
/// trial of few requests among several does not make a knee.
fn mostly_overloaded(points: &[SweepPoint], level: f64) -> bool {
    let (over, all) =
        at(points, level).fold((0, 0), |(o, a), p| (o + p.overloaded as usize, a + 1));
    all > 0 && 2 * over > all
}

/// The highest offered load before the first one the server could not
/// follow: open loop, a step most of whose trials (more than half) were
/// overloaded; closed loop, a step that gained less than
/// [`CLOSED_KNEE_GAIN`] over the one before. None when the server followed
/// every step, or failed the first.
pub fn knee(points: &[SweepPoint], open: bool) -> Option<f64> {
    let ls = levels(points);
    for (i, &l) in ls.iter().enumerate() {
        let fell = if open {
            mostly_overloaded(points, l)
        } else {
            i > 0
                && mean_achieved(points, l)
                    < (1.0 + CLOSED_KNEE_GAIN) * mean_achieved(points, ls[i - 1])
        };
        if fell {
            return i.checked_sub(1).map(|j| ls[j]);
        }
    }
    None
}

fn passes(points: &[SweepPoint], level: f64) -> bool {
    let mut any = false;
    for p in at(points, level) {
        any = true;
        if p.slo_met != Some(true) {
            return false;
        }
    }
    any
}

/// (highest passing load, lowest failing load above it).
pub fn slo_bracket(points: &[SweepPoint]) -> (Option<f64>, Option<f64>) {
    let ls = levels(points);
    let first_fail = ls.iter().copied().find(|&l| !passes(points, l));
    let best = ls
        .iter()
        .copied()
        .rev()
        .find(|&l| passes(points, l) && first_fail.is_none_or(|f| l < f));
    (best, first_fail)
}

/// The automatic ladder: `start`, doubled each step.
pub fn ladder(start: f64, steps: usize) -> Vec<f64> {
    (0..steps).map(|i| start * 2f64.powi(i as i32)).collect()
}

/// Runs the sweep: `run(level, trial)` runs one block and gives its point
/// (None when interrupted; the bool returned says so).
/// An automatic ladder stops after the first step most of whose trials
/// were overloaded.
pub fn run(
    steps: &[f64],
    automatic: bool,
    trials: usize,
    slo: bool,
    integer: bool,
    run: &mut dyn FnMut(f64, usize) -> Result<Option<SweepPoint>>,
) -> Result<(Vec<SweepPoint>, bool)> {
    let mut points = Vec::new();
    let mut probe = |level: f64, points: &mut Vec<SweepPoint>| -> Result<bool> {
        for trial in 0..trials {
            let Some(p) = run(level, trial)? else {
                return Ok(false);
            };
            points.push(p);
        }
        Ok(true)
    };
    for &l in steps {
        if !probe(l, &mut points)? {
            return Ok((points, true));
        }
        if automatic && mostly_overloaded(&points, l) {
            break;
        }
    }
    if !slo {
        return Ok((points, false));
    }
    for _ in 0..BISECT_STEPS {
        let (Some(lo), Some(hi)) = slo_bracket(&points) else {
            break;
        };
        let mid = if integer {
            ((lo + hi) / 2.0).floor()
        } else {
            (lo + hi) / 2.0
        };
        if mid <= lo || mid >= hi {
            break;
        }
        if !probe(mid, &mut points)? {
            return Ok((points, true));
        }
    }
    Ok((points, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(offered: f64, achieved: f64, overloaded: bool, slo: Option<bool>) -> SweepPoint {
        SweepPoint {
            offered,
            trial: 0,
            block: 0,
            achieved_rps: Some(achieved),
            output_tps: None,
            ttft_p50_ms: None,
            ttft_p99_ms: None,
            itl_p50_ms: None,
            itl_p99_ms: None,
            e2e_p50_ms: None,
            overloaded,
            slo_met: slo,
        }
    }

    #[test]
    fn open_loop_knee_is_the_step_before_overload() {
        let p = vec![
            pt(1.0, 1.0, false, None),
            pt(2.0, 2.0, false, None),
            pt(4.0, 2.5, true, None),
        ];
        assert_eq!(knee(&p, true), Some(2.0));
        assert_eq!(knee(&p[..2], true), None);
    }

    #[test]
    fn one_overloaded_trial_of_two_is_not_the_knee() {
        // The CPU sweep of docs/results/cpu-serve-2026-12-02: one trial at
        // 0.125 flagged, both at 0.4.
        let p = vec![
            pt(0.1, 0.14, false, None),
            pt(0.1, 0.13, false, None),
            pt(0.125, 0.13, true, None),
            pt(0.125, 0.14, false, None),
            pt(0.2, 0.15, false, None),
            pt(0.2, 0.21, false, None),
            pt(0.4, 0.22, true, None),
            pt(0.4, 0.22, true, None),
        ];
        assert_eq!(knee(&p, true), Some(0.2));
        assert_eq!(knee(&p[..4], true), None);
    }

    #[test]
    fn closed_loop_knee_is_where_gain_stops() {
        let p = vec![
            pt(1.0, 1.0, false, None),
            pt(2.0, 1.9, false, None),
            pt(4.0, 2.0, false, None),
        ];
        assert_eq!(knee(&p, false), Some(2.0));
    }

    #[test]
    fn slo_bracket_needs_every_trial() {
        let mut p = vec![
            pt(1.0, 1.0, false, Some(true)),
            pt(2.0, 2.0, false, Some(true)),
            pt(4.0, 3.0, true, Some(false)),
        ];
        assert_eq!(slo_bracket(&p), (Some(2.0), Some(4.0)));
        p.push(pt(2.0, 2.0, false, Some(false)));
        assert_eq!(slo_bracket(&p), (Some(1.0), Some(2.0)));
    }

    #[test]
    fn bisection_narrows_the_slo_rate() {
        // A planted server that meets the SLO up to 3.1 req/s and overloads at 3.5.
        let mut n = 0;
        let mut fake = |level: f64, _trial: usize| -> Result<Option<SweepPoint>> {
            n += 1;
            Ok(Some(pt(
                level,
                level.min(3.5),
                level > 3.5,
                Some(level <= 3.1),
            )))
        };
        let (p, stopped) = run(&ladder(1.0, 4), true, 2, true, false, &mut fake).unwrap();
        assert!(!stopped);
        let (lo, hi) = slo_bracket(&p);
        // 1, 2, 4 (overloaded: the ladder stops), then 3 (pass), 3.5 and 3.25 (fail).
        assert_eq!((lo, hi), (Some(3.0), Some(3.25)));
        assert_eq!(knee(&p, true), Some(3.5));
        assert_eq!(
            n,
            2 * (3 + BISECT_STEPS),
            "ladder stops after the overloaded step 4"
        );
    }
}
