//! Racing: which cells survive each round, the next round's order, and
//! whether the sweep is over.
//!
//! The state machine a schedule drives: [`Race::warmup_order`] and
//! [`Race::record_warmup`]; then, round after round, [`Race::next_round`]
//! (the survivors in a fresh seeded order, or None when the sweep is over),
//! [`Race::record`] for each run and [`Race::end_round`]. It does no I/O and
//! reads no clock: the caller passes the elapsed time.
//!
//! # The procedure
//! Every surviving cell runs once per round, so the k-th value of every
//! cell comes from the same round and a comparison is paired by round: the
//! ratio cell/best with the exact signed-rank interval of
//! [`crate::compare::stats::compare`], against the current best (the
//! survivor with the best median). Looks are taken on the geometric schedule
//! of [`AutoRule`] from `min_rounds` to `max_rounds`; each look's interval
//! is at confidence 1 - alpha/(m K), m = feasible cells - 1 (Bonferroni
//! across cells) and K looks (Bonferroni across looks). At a look a cell
//! whose whole interval lies below the noise band (worse by more than the
//! threshold) is eliminated; a cell whose whole interval lies within the
//! band is tied with the best for now. The sweep ends when one cell
//! remains, when every survivor is tied with the best, or when the budget
//! (rounds or time) is spent; a time budget that ends between looks takes
//! one last look at the same per-look level, so the guarantee holds.
//!
//! # What it guarantees
//! The true best cell can only be eliminated through an interval (of it
//! against some other cell, at some look) that misses its true ratio; there
//! are at most m K such intervals, so the true best is eliminated with
//! probability at most alpha. Likewise a cell worse than the best by more
//! than the threshold is called tied with probability at most alpha. The
//! figures of the whole procedure, with drift, are measured by
//! `benches/sweep_power.rs`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::design::{round_order, WARMUP_ROUND};
use super::infeasible::Cause;
use crate::compare::stats::{compare, AutoRule, Comparison, Direction, Verdict};
use crate::stats::median;

/// The settings of a race.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RaceConfig {
    pub direction: Direction,
    /// Noise band, a fraction (0.01 for 1%).
    pub threshold: f64,
    /// Overall error rate of the eliminations (and of the ties).
    pub alpha: f64,
    pub min_rounds: usize,
    pub max_rounds: usize,
    pub max_time: Option<Duration>,
    pub seed: u64,
    /// Eliminate cells (racing); false runs every cell every round.
    pub eliminate: bool,
}

impl Default for RaceConfig {
    fn default() -> Self {
        RaceConfig {
            direction: Direction::HigherIsBetter,
            threshold: 0.01,
            alpha: 0.05,
            min_rounds: 3,
            max_rounds: 50,
            max_time: Some(Duration::from_secs(15 * 60)),
            seed: 0,
            eliminate: true,
        }
    }
}

/// What one measured run yielded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The metric's value.
    pub value: f64,
    pub peak_rss_bytes: Option<u64>,
    pub gpu_mem_bytes: Option<u64>,
    pub j_per_token: Option<f64>,
}

/// A run's outcome as the race sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Measured(Measurement),
    Infeasible(Cause),
}

/// Why the sweep ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    OneLeft,
    AllTied,
    RoundBudget,
    TimeBudget,
    NoneFeasible,
    Interrupted,
}

impl StopReason {
    pub fn text(self) -> &'static str {
        match self {
            StopReason::OneLeft => "one cell left",
            StopReason::AllTied => "every survivor is tied with the best",
            StopReason::RoundBudget => "the round budget (--max-rounds) is spent",
            StopReason::TimeBudget => "the time budget (--max-time) is spent",
            StopReason::NoneFeasible => "no cell is feasible",
            StopReason::Interrupted => "interrupted",
        }
    }
}

/// The round the time budget ended before it was complete: its runs are
/// kept on disk but left out of the race (rounds are paired: a part of a
/// round would pair only the cells that ran in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnfinishedRound {
    /// The round, 1-based.
    pub round: usize,
    /// Its runs that finished (and are not in the statistics).
    pub runs: usize,
}

/// A cell's standing at the end (or so far).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Status {
    Best,
    /// Within the noise band of the best, with confidence.
    Tied,
    /// Worse than the best beyond the threshold, with confidence, at this round (1-based).
    Eliminated {
        round: usize,
    },
    Infeasible {
        cause: Cause,
    },
    /// Neither eliminated nor shown tied when the sweep ended.
    Undecided,
}

#[derive(Debug, Clone, Default)]
struct CellState {
    /// One entry per round: None where the cell did not run.
    runs: Vec<Option<Measurement>>,
    eliminated_at: Option<usize>,
    infeasible: Option<Cause>,
    /// The verdict against the best at the last look.
    last_verdict: Option<Verdict>,
}

impl CellState {
    fn alive(&self) -> bool {
        self.eliminated_at.is_none() && self.infeasible.is_none()
    }
}

/// The racing state of one sweep.
#[derive(Debug, Clone)]
pub struct Race {
    cfg: RaceConfig,
    cells: Vec<CellState>,
    rounds_done: usize,
    rule: Option<AutoRule>,
    last_look: Option<usize>,
    /// Looks taken so far; none before the rule's first look.
    looks_taken: usize,
    stop: Option<StopReason>,
    last_elapsed: Duration,
    /// Time the last round took.
    round_time: Duration,
    runs: usize,
    /// A round has started ([`Race::next_round`]) and not ended.
    round_open: bool,
    /// Runs of the open round so far.
    round_runs: usize,
    unfinished: Option<UnfinishedRound>,
}

impl Race {
    pub fn new(n_cells: usize, cfg: RaceConfig) -> Race {
        Race {
            cfg,
            cells: vec![CellState::default(); n_cells],
            rounds_done: 0,
            rule: None,
            last_look: None,
            looks_taken: 0,
            stop: None,
            last_elapsed: Duration::ZERO,
            round_time: Duration::ZERO,
            runs: 0,
            round_open: false,
            round_runs: 0,
            unfinished: None,
        }
    }

    pub fn config(&self) -> &RaceConfig {
        &self.cfg
    }

    /// Every cell once, in a seeded random order.
    pub fn warmup_order(&self) -> Vec<usize> {
        let all: Vec<usize> = (0..self.cells.len()).collect();
        round_order(self.cfg.seed, WARMUP_ROUND, &all)
    }

    /// A warmup run's result: a failure makes the cell infeasible.
    pub fn record_warmup(&mut self, cell: usize, result: Result<(), Cause>) {
        if let (Err(cause), Some(c)) = (result, self.cells.get_mut(cell)) {
            c.infeasible.get_or_insert(cause);
        }
    }

    /// Cells still in the race, by index.
    pub fn survivors(&self) -> Vec<usize> {
        (0..self.cells.len())
            .filter(|&i| self.cells[i].alive())
            .collect()
    }

    pub fn rounds_done(&self) -> usize {
        self.rounds_done
    }

    /// Measured runs so far (warmups not counted).
    pub fn runs(&self) -> usize {
        self.runs
    }

    pub fn stop_reason(&self) -> Option<StopReason> {
        self.stop
    }

    /// The round the time budget cut short, if it did (with runs in it).
    pub fn unfinished_round(&self) -> Option<UnfinishedRound> {
        self.unfinished
    }

    /// The looks' rule, fixed once the rounds start.
    pub fn rule(&self) -> Option<&AutoRule> {
        self.rule.as_ref()
    }

    /// The round of the first look (the rule's, or the one it would have
    /// over the cells feasible now when no round has started).
    pub fn first_look(&self) -> usize {
        let rule = self
            .rule
            .unwrap_or_else(|| self.looks_rule(self.survivors().len()));
        rule.looks().first().copied().unwrap_or(rule.min_pairs)
    }

    /// Looks that judged (an interval could be computed): 0 means nothing
    /// was judged (too few rounds for the first look), so no cell is best
    /// or tied yet.
    pub fn looks_taken(&self) -> usize {
        self.looks_taken
    }

    /// The order of the next round, or None when the sweep is over.
    pub fn next_round(&mut self) -> Option<Vec<usize>> {
        if self.stop.is_some() {
            return None;
        }
        let survivors = self.survivors();
        if survivors.is_empty() {
            self.stop = Some(StopReason::NoneFeasible);
            return None;
        }
        if self.rule.is_none() {
            self.rule = Some(self.looks_rule(survivors.len()));
        }
        for c in &mut self.cells {
            c.runs.push(None);
        }
        self.round_open = true;
        self.round_runs = 0;
        Some(round_order(
            self.cfg.seed,
            self.rounds_done as u64,
            &survivors,
        ))
    }

    fn looks_rule(&self, feasible: usize) -> AutoRule {
        let m = feasible.saturating_sub(1).max(1);
        AutoRule {
            min_pairs: self.cfg.min_rounds.max(1),
            max_pairs: self.cfg.max_rounds.max(self.cfg.min_rounds).max(1),
            growth: 1.25,
            alpha: self.cfg.alpha / m as f64,
        }
    }

    /// One run of the current round.
    pub fn record(&mut self, cell: usize, outcome: Outcome) {
        let Some(c) = self.cells.get_mut(cell) else {
            return;
        };
        match outcome {
            Outcome::Measured(m) if m.value.is_finite() && m.value > 0.0 => {
                if let Some(slot) = c.runs.last_mut() {
                    *slot = Some(m);
                    self.runs += 1;
                    self.round_runs += 1;
                }
            }
            Outcome::Measured(m) => {
                c.infeasible.get_or_insert(Cause {
                    kind: super::infeasible::CauseKind::NoMetric,
                    line: format!("the metric's value was {}", m.value),
                });
            }
            Outcome::Infeasible(cause) => {
                self.runs += 1;
                self.round_runs += 1;
                c.infeasible.get_or_insert(cause);
            }
        }
    }

    /// Stops the sweep (Ctrl-C): what was measured is kept, and one last
    /// look (at the per-look level) gives the statuses of the rounds that
    /// completed.
    pub fn interrupt(&mut self) {
        if self.stop.is_none() {
            self.drop_open_round();
            let n = self.rounds_done;
            if n > 0 && n >= self.first_look() && self.last_look != Some(n) {
                self.look();
            }
            self.stop = Some(StopReason::Interrupted);
        }
    }

    /// Takes a round cut short out of the race (rounds are paired: a part
    /// of one would pair some cells' runs with nothing), keeping its count
    /// for the result's `unfinished_round`.
    fn drop_open_round(&mut self) {
        if std::mem::take(&mut self.round_open) {
            for c in &mut self.cells {
                c.runs.pop();
            }
            self.runs -= self.round_runs;
            self.unfinished = (self.round_runs > 0).then_some(UnfinishedRound {
                round: self.rounds_done + 1,
                runs: self.round_runs,
            });
        }
    }

    /// Closes the round that ran; `elapsed` is the time since the sweep
    /// started. Returns why the sweep is over, if it is.
    pub fn end_round(&mut self, elapsed: Duration) -> Option<StopReason> {
        if self.stop.is_some() {
            return self.stop;
        }
        self.round_open = false;
        self.rounds_done += 1;
        self.round_time = elapsed.saturating_sub(self.last_elapsed);
        self.last_elapsed = elapsed;
        let n = self.rounds_done;
        let budget = self.budget_spent(elapsed);
        let scheduled = self.rule.as_ref().is_some_and(|r| r.looks().contains(&n));
        // A budget spent before the first look judges nothing: too few
        // rounds for any interval at the per-look level.
        if scheduled || (budget.is_some() && n >= self.first_look()) {
            self.look();
        }
        self.stop = budget.or_else(|| self.decided());
        self.stop
    }

    /// The time budget ran out before the next run (of a warmup or of a
    /// round): the sweep stops there. The open round's runs leave the race
    /// (they stay in `-o` and the history) and, as when the budget ends
    /// between rounds, one last look over the complete rounds is taken at
    /// the per-look level (unless the last round had one).
    pub fn time_ran_out(&mut self) {
        if self.stop.is_some() {
            return;
        }
        self.drop_open_round();
        let n = self.rounds_done;
        if n > 0 && n >= self.first_look() && self.last_look != Some(n) {
            self.look();
        }
        self.stop = Some(StopReason::TimeBudget);
    }

    /// The budget that ends the sweep now: the rounds, or a time that the
    /// next round (as long as the last one) would overrun.
    fn budget_spent(&self, elapsed: Duration) -> Option<StopReason> {
        if self.rounds_done >= self.cfg.max_rounds.max(1) {
            return Some(StopReason::RoundBudget);
        }
        let max = self.cfg.max_time?;
        (elapsed + self.round_time > max).then_some(StopReason::TimeBudget)
    }

    /// One left (after the minimum rounds), all survivors tied, or none.
    fn decided(&self) -> Option<StopReason> {
        let survivors = self.survivors();
        if survivors.is_empty() {
            return Some(StopReason::NoneFeasible);
        }
        if self.rounds_done < self.cfg.min_rounds || self.last_look != Some(self.rounds_done) {
            return (survivors.len() == 1 && self.rounds_done >= self.cfg.min_rounds)
                .then_some(StopReason::OneLeft);
        }
        if survivors.len() == 1 {
            return Some(StopReason::OneLeft);
        }
        let best = self.best();
        let tied = survivors
            .iter()
            .filter(|&&c| Some(c) != best)
            .all(|&c| self.cells[c].last_verdict == Some(Verdict::NoChange));
        tied.then_some(StopReason::AllTied)
    }

    /// Compares every survivor with the current best at the per-look level.
    fn look(&mut self) {
        let Some(best) = self.best() else {
            return;
        };
        let confidence = self.rule.as_ref().map_or(0.95, |r| r.per_look_confidence());
        self.last_look = Some(self.rounds_done);
        let mut judged = false;
        for c in self.survivors() {
            if c == best {
                self.cells[c].last_verdict = None;
                continue;
            }
            let cmp = self.paired(best, c, confidence);
            judged |= cmp.as_ref().is_some_and(|x| x.ci_low.is_some());
            let verdict = cmp.map_or(Verdict::Inconclusive, |cmp| cmp.verdict);
            // The verdict already reads the metric's direction: slower is worse.
            if verdict == Verdict::Slower && self.cfg.eliminate {
                self.cells[c].eliminated_at = Some(self.rounds_done);
            }
            self.cells[c].last_verdict = Some(verdict);
        }
        // A look with too few rounds for any interval judged nothing.
        self.looks_taken += usize::from(judged);
    }

    /// `cell` against `best`, paired by round over the rounds both ran.
    pub fn paired(&self, best: usize, cell: usize, confidence: f64) -> Option<Comparison> {
        let (a, b) = self.common_values(best, cell);
        compare(
            &a,
            &b,
            true,
            self.cfg.direction,
            self.cfg.threshold,
            confidence,
        )
    }

    /// The two cells' values over the rounds both have one.
    pub fn common_values(&self, x: usize, y: usize) -> (Vec<f64>, Vec<f64>) {
        let (rx, ry) = (&self.cells[x].runs, &self.cells[y].runs);
        rx.iter()
            .zip(ry)
            .filter_map(|(a, b)| Some((a.as_ref()?.value, b.as_ref()?.value)))
            .unzip()
    }

    /// A cell's measured runs, in round order.
    pub fn measurements(&self, cell: usize) -> Vec<Measurement> {
        self.cells[cell].runs.iter().flatten().copied().collect()
    }

    /// The survivor with the best round-centred median (ties to the lower
    /// index): each value less the mean (in logs) of all survivors in its
    /// round, so a drift shared by the round does not pick the best.
    pub fn best(&self) -> Option<usize> {
        let survivors = self.survivors();
        let started = self.cells.first().map_or(0, |c| c.runs.len());
        let rounds: Vec<Vec<f64>> = (0..started)
            .filter_map(|r| {
                survivors
                    .iter()
                    .map(|&c| {
                        self.cells[c]
                            .runs
                            .get(r)
                            .copied()
                            .flatten()
                            .map(|m| m.value.ln())
                    })
                    .collect::<Option<Vec<f64>>>()
            })
            .collect();
        let sign = match self.cfg.direction {
            Direction::HigherIsBetter => 1.0,
            Direction::LowerIsBetter => -1.0,
        };
        let score = |k: usize| {
            let centred: Vec<f64> = rounds
                .iter()
                .map(|logs| logs[k] - logs.iter().sum::<f64>() / logs.len() as f64)
                .collect();
            sign * median(&centred)
        };
        if rounds.is_empty() {
            return None;
        }
        let mut best: Option<(usize, f64)> = None;
        for (k, &c) in survivors.iter().enumerate() {
            let s = score(k);
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((c, s));
            }
        }
        best.map(|b| b.0)
    }

    /// Every cell's status now. Before the first look no cell is `Best`
    /// (unless it is the only feasible one): the leader of a round or two
    /// was never judged against the others.
    pub fn statuses(&self) -> Vec<Status> {
        let judged = self.looks_taken > 0 || self.survivors().len() == 1;
        let best = self.best().filter(|_| judged);
        (0..self.cells.len())
            .map(|i| {
                let c = &self.cells[i];
                if let Some(cause) = &c.infeasible {
                    Status::Infeasible {
                        cause: cause.clone(),
                    }
                } else if let Some(round) = c.eliminated_at {
                    Status::Eliminated { round }
                } else if Some(i) == best {
                    Status::Best
                } else if c.last_verdict == Some(Verdict::NoChange) {
                    Status::Tied
                } else {
                    Status::Undecided
                }
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "race_tests.rs"]
mod tests;
