//! `tokbench ops --auto`: rounds until every matched op case is decided.
//!
//! The rule is `compare --auto`'s ([`AutoRule`]), applied to every case of
//! the filter at once. Looks are taken at its fixed, geometric schedule of
//! round counts; at a look each case not yet decided is judged on all its
//! pairs so far, and a case whose verdict is `faster`, `slower` or `no
//! significant change` is decided there: its interval and verdict are that
//! look's and stay so (later rounds still measure it, since one
//! `test-backend-ops` invocation covers the whole filter, but they do not
//! change its verdict). The session stops at the first look where every
//! case is decided, or at `--max-rounds` / `--max-time`.
//!
//! # Error rate
//! With m matched cases and K looks, every look's interval is taken at
//! confidence 1 - alpha/(K*m): Bonferroni over the looks (as `compare
//! --auto`) and over the cases. A false claim about a case (a verdict whose
//! interval misses its true ratio) needs one of its K*m intervals to miss,
//! so by the union bound the chance of any false claim over all cases and
//! all looks is at most alpha (5%), however the cases and looks are
//! correlated. m is the number of cases matched so far (the largest seen
//! at any look); a filter whose cases appear only in later rounds is
//! corrected for the cases known at each look. The price of many cases is
//! a later first look: each interval needs 2^-n <= alpha/(2*K*m) at least,
//! so the first look is at 9 rounds for one case, 12 for 3 or 10 cases, 15
//! for 100 (`cargo test --lib ops::auto`). A session that ends between looks
//! (time spent, interrupted) judges the cases still open once more on the
//! rounds so far at the same per-look confidence, in place of the looks not
//! taken, so the bound holds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::compare::{matched_series, OpCase};
use crate::compare::stats::{auto_final, AutoRule, Comparison, Direction, Verdict};
use crate::model::OpResult;

/// Why an `--auto` session stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoStop {
    /// Every matched case is decided.
    Decided,
    /// `--max-rounds` spent with cases still open.
    RoundBudget,
    /// `--max-time` spent with cases still open.
    TimeBudget,
    /// No case ran on both sides: nothing to decide.
    NoMatchedCase,
    Interrupted,
}

/// One case's judgement: the comparison of the look that decided it, or
/// of the last look taken while it was open.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseOutcome {
    pub comparison: Option<Comparison>,
    /// Rounds at the deciding look; None while undecided.
    pub decided_at: Option<usize>,
}

/// What the reports say about an `--auto` session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoSummary {
    /// Complete rounds (one invocation of each side) taken.
    pub rounds: usize,
    pub stop: AutoStop,
    /// The stop in words, with the budget that applied.
    pub reason: String,
    /// Matched cases the correction is over (m).
    pub cases: usize,
    pub decided: usize,
    /// Round counts at which the cases are looked at (for m cases).
    pub looks: Vec<usize>,
    /// Confidence of every look's interval: 1 - alpha/(K*m).
    pub per_look_confidence: f64,
    /// Bound on the chance of any false claim over all cases and looks.
    pub family_alpha: f64,
}

/// The state of an `--auto` session between rounds.
#[derive(Debug, Clone)]
pub struct OpsAuto {
    base: AutoRule,
    threshold: f64,
    cases: usize,
    rounds: usize,
    outcomes: BTreeMap<OpCase, CaseOutcome>,
    stop: Option<AutoStop>,
}

impl OpsAuto {
    /// `base.alpha` is the family-wise bound; `threshold` the noise band (0.01).
    pub fn new(base: AutoRule, threshold: f64) -> OpsAuto {
        OpsAuto {
            base,
            threshold,
            cases: 0,
            rounds: 0,
            outcomes: BTreeMap::new(),
            stop: None,
        }
    }

    /// `compare --auto`'s rule with alpha shared by the m cases.
    pub fn rule(&self) -> AutoRule {
        AutoRule {
            alpha: self.base.alpha / self.cases.max(1) as f64,
            ..self.base
        }
    }

    /// After a complete round (all rounds so far of each side): Some(why)
    /// when the session should stop.
    pub fn after_round(&mut self, a: &[Vec<OpResult>], b: &[Vec<OpResult>]) -> Option<AutoStop> {
        let n = a.len().min(b.len());
        self.rounds = n;
        let series = matched_series(a, b);
        if series.is_empty() {
            return self.stopped(AutoStop::NoMatchedCase);
        }
        self.cases = self.cases.max(series.len());
        let rule = self.rule();
        let at_budget = n >= rule.max_pairs;
        if !at_budget && !rule.looks().contains(&n) {
            return None;
        }
        self.judge_open(&series, &rule);
        let all = series.iter().all(|(c, _, _)| self.is_decided(c));
        match (all, at_budget) {
            (true, _) => self.stopped(AutoStop::Decided),
            (false, true) => self.stopped(AutoStop::RoundBudget),
            _ => None,
        }
    }

    /// The session ended between looks (`--max-time`, a signal): the open
    /// cases are judged once more on the rounds so far.
    pub fn end_early(&mut self, a: &[Vec<OpResult>], b: &[Vec<OpResult>], why: AutoStop) {
        if self.stop.is_some() {
            return;
        }
        self.rounds = a.len().min(b.len());
        let series = matched_series(a, b);
        self.cases = self.cases.max(series.len());
        let rule = self.rule();
        self.judge_open(&series, &rule);
        self.stop = Some(why);
    }

    /// Judges every open case on its pairs so far; a verdict other than
    /// `inconclusive` decides it for good.
    fn judge_open(&mut self, series: &[(OpCase, Vec<f64>, Vec<f64>)], rule: &AutoRule) {
        for (case, a, b) in series {
            if self.is_decided(case) {
                continue;
            }
            let c = auto_final(a, b, Direction::LowerIsBetter, self.threshold, rule);
            let decided = c
                .as_ref()
                .is_some_and(|c| c.verdict != Verdict::Inconclusive);
            let outcome = CaseOutcome {
                comparison: c,
                decided_at: decided.then_some(self.rounds),
            };
            self.outcomes.insert(case.clone(), outcome);
        }
    }

    fn is_decided(&self, case: &OpCase) -> bool {
        self.outcomes
            .get(case)
            .is_some_and(|o| o.decided_at.is_some())
    }

    fn stopped(&mut self, why: AutoStop) -> Option<AutoStop> {
        self.stop = Some(why);
        Some(why)
    }

    pub fn outcome(&self, case: &OpCase) -> Option<&CaseOutcome> {
        self.outcomes.get(case)
    }

    pub fn stop(&self) -> Option<AutoStop> {
        self.stop
    }

    /// The summary for the reports; `max_time` names the time budget.
    pub fn summary(&self, max_time: std::time::Duration) -> AutoSummary {
        let rule = self.rule();
        let stop = self.stop.unwrap_or(AutoStop::Interrupted);
        let decided = self
            .outcomes
            .values()
            .filter(|o| o.decided_at.is_some())
            .count();
        let reason = match stop {
            AutoStop::Decided => format!("every case decided after {} rounds", self.rounds),
            AutoStop::RoundBudget => format!(
                "--max-rounds {} spent with {} of {} case(s) undecided",
                rule.max_pairs,
                self.cases - decided.min(self.cases),
                self.cases
            ),
            AutoStop::TimeBudget => format!(
                "--max-time {} spent after {} rounds with {} of {} case(s) undecided",
                humantime::format_duration(max_time),
                self.rounds,
                self.cases - decided.min(self.cases),
                self.cases
            ),
            AutoStop::NoMatchedCase => "no case ran on both sides: nothing to decide".into(),
            AutoStop::Interrupted => format!("interrupted after {} rounds", self.rounds),
        };
        AutoSummary {
            rounds: self.rounds,
            stop,
            reason,
            cases: self.cases,
            decided,
            looks: rule.looks(),
            per_look_confidence: rule.per_look_confidence(),
            family_alpha: self.base.alpha,
        }
    }
}

#[cfg(test)]
#[path = "auto_tests.rs"]
mod tests;
