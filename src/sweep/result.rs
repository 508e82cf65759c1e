//! The result of a sweep: one row per cell ranked by the metric, the group
//! tied with the best, the Pareto front over speed, memory and energy, the
//! drift across rounds, and the recommendation.

use serde::{Deserialize, Serialize};

use super::cells::Cell;
use super::race::{Measurement, Race, Status, StopReason, UnfinishedRound};
use super::recommend::Recommendation;
use super::vary::Dimension;
use crate::compare::stats::{drift_check, Direction, DriftCheck};
use crate::stats::median;

/// Level of the change intervals shown in the table (the decisions use
/// the corrected per-look level, see [`super::race`]).
pub const TABLE_CONFIDENCE: f64 = 0.95;

/// What the recommendation minimises within the tied group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Prefer {
    Memory,
    Energy,
    None,
}

/// One cell's line of the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub cell: String,
    pub args: Vec<String>,
    /// Index of its value in each of the sweep's dimensions.
    pub coords: Vec<usize>,
    /// Median of the metric over its measured rounds.
    pub median: Option<f64>,
    /// Change against the best, percent, paired by round, with its 95% interval.
    pub change_pct: Option<f64>,
    pub change_ci_low_pct: Option<f64>,
    pub change_ci_high_pct: Option<f64>,
    pub rounds: usize,
    #[serde(flatten)]
    pub status: Status,
    pub peak_rss_bytes: Option<u64>,
    pub gpu_mem_bytes: Option<u64>,
    pub j_per_token: Option<f64>,
}

/// The whole result, as every format shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    pub metric: String,
    pub dimensions: Vec<Dimension>,
    pub direction: Direction,
    pub threshold: f64,
    pub alpha: f64,
    pub seed: u64,
    pub rounds: usize,
    /// Measured runs the race made.
    pub runs: usize,
    /// Runs of the same rounds without elimination (every feasible cell each round).
    pub runs_without_racing: usize,
    pub stop: Option<StopReason>,
    /// The time budget ended inside this round: its runs are in `-o` and
    /// the history but not in `rounds`, `runs` or any figure here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfinished_round: Option<UnfinishedRound>,
    pub per_look_confidence: Option<f64>,
    pub looks: Vec<usize>,
    /// Looks taken: 0 when the sweep ended before the first look, and then
    /// no cell is best or tied (nothing was judged).
    #[serde(default)]
    pub looks_taken: usize,
    /// The round of the first look.
    #[serde(default)]
    pub first_look: Option<usize>,
    /// The cell the changes are measured against: the best, or before any
    /// look the leader so far.
    #[serde(default)]
    pub leader: Option<String>,
    /// Ranked: the best first, then by the change against it, infeasible last.
    pub rows: Vec<Row>,
    /// The best cell and those tied with it (cell names).
    pub tied_group: Vec<String>,
    /// Cells no other cell beats on every objective (differences within the
    /// threshold count as ties).
    pub pareto: Vec<String>,
    /// The objectives of the Pareto front (metric, memory, energy).
    pub pareto_objectives: Vec<String>,
    pub drift: Option<DriftCheck>,
    pub recommendation: Option<Recommendation>,
}

/// Builds the result from the race (without the recommendation, which
/// needs the command lines: [`SweepResult::recommend_cell`] picks it).
pub fn summarize(race: &Race, cells: &[Cell], dims: &[Dimension], metric: &str) -> SweepResult {
    let cfg = race.config();
    let statuses = race.statuses();
    let best = race.best();
    let mut rows: Vec<Row> = (0..cells.len())
        .map(|i| row(race, &cells[i], i, best, statuses[i].clone()))
        .collect();
    rank(&mut rows, cfg.direction);
    let feasible = statuses
        .iter()
        .filter(|s| !matches!(s, Status::Infeasible { .. }))
        .count();
    let (pareto, objectives) = pareto_front(&rows, cfg.direction, cfg.threshold);
    SweepResult {
        metric: metric.to_string(),
        dimensions: dims.to_vec(),
        direction: cfg.direction,
        threshold: cfg.threshold,
        alpha: cfg.alpha,
        seed: cfg.seed,
        rounds: race.rounds_done(),
        runs: race.runs(),
        runs_without_racing: feasible * race.rounds_done(),
        stop: race.stop_reason(),
        unfinished_round: race.unfinished_round(),
        per_look_confidence: race.rule().map(|r| r.per_look_confidence()),
        looks: race.rule().map(|r| r.looks()).unwrap_or_default(),
        looks_taken: race.looks_taken(),
        first_look: Some(race.first_look()),
        leader: best.map(|b| cells[b].name.clone()),
        tied_group: rows
            .iter()
            .filter(|r| matches!(r.status, Status::Best | Status::Tied))
            .map(|r| r.cell.clone())
            .collect(),
        pareto,
        pareto_objectives: objectives,
        drift: best.and_then(|b| drift_of(race, b)),
        rows,
        recommendation: None,
    }
}

fn row(race: &Race, cell: &Cell, i: usize, best: Option<usize>, status: Status) -> Row {
    let ms = race.measurements(i);
    let values: Vec<f64> = ms.iter().map(|m| m.value).collect();
    let cmp = best
        .filter(|&b| b != i)
        .and_then(|b| race.paired(b, i, TABLE_CONFIDENCE));
    let pct = |r: f64| (r - 1.0) * 100.0;
    let zero = (Some(i) == best).then_some(0.0);
    Row {
        cell: cell.name.clone(),
        args: cell.args.clone(),
        coords: cell.coords.clone(),
        median: (!values.is_empty()).then(|| median(&values)),
        change_pct: cmp.as_ref().map(|c| pct(c.ratio)).or(zero),
        change_ci_low_pct: cmp.as_ref().and_then(|c| c.ci_low.map(pct)),
        change_ci_high_pct: cmp.as_ref().and_then(|c| c.ci_high.map(pct)),
        rounds: ms.len(),
        status,
        peak_rss_bytes: ms.iter().filter_map(|m| m.peak_rss_bytes).max(),
        gpu_mem_bytes: ms.iter().filter_map(|m| m.gpu_mem_bytes).max(),
        j_per_token: median_of(&ms, |m| m.j_per_token),
    }
}

fn median_of(ms: &[Measurement], get: impl Fn(&Measurement) -> Option<f64>) -> Option<f64> {
    let v: Vec<f64> = ms.iter().filter_map(get).collect();
    (!v.is_empty()).then(|| median(&v))
}

/// The best first, then by the change against it (paired by round, so a
/// drift does not reorder the cells); cells without one (infeasible) last,
/// by name.
fn rank(rows: &mut [Row], direction: Direction) {
    let key = |r: &Row| match (&r.status, r.change_pct) {
        (Status::Best, _) => Some(f64::NEG_INFINITY),
        (_, Some(c)) => Some(match direction {
            Direction::HigherIsBetter => -c,
            Direction::LowerIsBetter => c,
        }),
        _ => None,
    };
    rows.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cell.cmp(&b.cell),
    });
}

/// The trend of the best cell's series across rounds and of its paired
/// ratios to the runner-up: was there drift, and did the pairing cancel it?
fn drift_of(race: &Race, best: usize) -> Option<DriftCheck> {
    let other = race
        .survivors()
        .into_iter()
        .filter(|&c| c != best)
        .max_by_key(|&c| race.measurements(c).len())?;
    let (a, b) = race.common_values(best, other);
    Some(drift_check(&a, &b, true))
}

/// An objective of the Pareto front: its name and a value to minimise.
type Objective = (&'static str, fn(&Row, Direction) -> Option<f64>);

const OBJECTIVES: [Objective; 4] = [
    ("metric", |r, d| match d {
        Direction::HigherIsBetter => r.median.map(|m| -m),
        Direction::LowerIsBetter => r.median,
    }),
    ("gpu memory", |r, _| r.gpu_mem_bytes.map(|b| b as f64)),
    ("host memory", |r, _| r.peak_rss_bytes.map(|b| b as f64)),
    ("energy", |r, _| r.j_per_token),
];

/// Feasible cells that no other beats on every objective (over medians and
/// peaks). An objective counts only when every feasible cell has it.
/// Cost differences (memory, energy) within `tol` (the sweep's threshold,
/// relative) are ties, so a few kilobytes of RSS or a little energy noise do
/// not put a slower cell on the front; the metric compares as measured, so
/// the fastest cell is always on it.
fn pareto_front(rows: &[Row], direction: Direction, tol: f64) -> (Vec<String>, Vec<String>) {
    let feasible: Vec<&Row> = rows.iter().filter(|r| r.median.is_some()).collect();
    let used: Vec<&Objective> = OBJECTIVES
        .iter()
        .filter(|(_, get)| feasible.iter().all(|r| get(r, direction).is_some()))
        .collect();
    let score = |r: &Row| -> Vec<f64> {
        used.iter()
            .map(|(_, get)| get(r, direction).unwrap_or(f64::INFINITY))
            .collect()
    };
    let scores: Vec<Vec<f64>> = feasible.iter().map(|r| score(r)).collect();
    let tols: Vec<f64> = used
        .iter()
        .map(|(name, _)| if *name == "metric" { 0.0 } else { tol })
        .collect();
    let front = non_dominated(&scores, &tols);
    let names = front.iter().map(|&i| feasible[i].cell.clone()).collect();
    (names, used.iter().map(|(n, _)| n.to_string()).collect())
}

/// Indices of the score vectors (lower is better in each) that no other
/// dominates, a difference in objective k within `tols[k]` (relative)
/// counting as a tie. Falls back to strict dominance should the tolerance
/// leave no point (it is not transitive).
pub fn non_dominated(scores: &[Vec<f64>], tols: &[f64]) -> Vec<usize> {
    let front = |strict: bool| -> Vec<usize> {
        let slack = |k: usize, b: f64| {
            if strict {
                0.0
            } else {
                tols.get(k).copied().unwrap_or(0.0) * b.abs()
            }
        };
        let beats = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .enumerate()
                .all(|(k, (a, b))| *a <= b + slack(k, *b))
                && a.iter()
                    .zip(b)
                    .enumerate()
                    .any(|(k, (a, b))| *a < b - slack(k, *b))
        };
        (0..scores.len())
            .filter(|&i| !(0..scores.len()).any(|j| j != i && beats(&scores[j], &scores[i])))
            .collect()
    };
    let tolerant = front(false);
    if tolerant.is_empty() {
        front(true)
    } else {
        tolerant
    }
}

impl SweepResult {
    /// The cell to recommend: within the tied group, the least memory (GPU
    /// memory where sampled, else host RSS) or energy; the best with
    /// `Prefer::None` or when nothing was sampled. Equal costs go to the
    /// faster cell. Returns the row and why it was picked.
    pub fn recommend_cell(&self, prefer: Prefer) -> Option<(&Row, String)> {
        let group: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| self.tied_group.contains(&r.cell))
            .collect();
        let best = *group.first()?;
        let cost = |r: &Row| -> Option<(f64, &'static str)> {
            match prefer {
                Prefer::Memory => r
                    .gpu_mem_bytes
                    .map(|b| (b as f64, "GPU memory"))
                    .or(r.peak_rss_bytes.map(|b| (b as f64, "host memory"))),
                Prefer::Energy => r.j_per_token.map(|j| (j, "energy per token")),
                Prefer::None => None,
            }
        };
        if group.len() == 1 || group.iter().any(|r| cost(r).is_none()) {
            let why = match prefer {
                Prefer::None => "the best",
                _ if group.len() == 1 => "the best; no cell is tied with it",
                _ => "the best; the tied cells' cost was not sampled for all of them",
            };
            return Some((best, why.to_string()));
        }
        // `group` is ranked, so the first of equal costs is the faster.
        let pick = group.iter().copied().fold(best, |acc, r| {
            if cost(r).map(|c| c.0) < cost(acc).map(|c| c.0) {
                r
            } else {
                acc
            }
        });
        let what = cost(pick).map_or("cost", |c| c.1);
        Some((
            pick,
            format!(
                "the least {what} among the {} cells tied with the best",
                group.len()
            ),
        ))
    }
}

#[cfg(test)]
#[path = "result_tests.rs"]
mod tests;
