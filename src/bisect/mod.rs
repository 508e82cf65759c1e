//! `tokbench bisect`'s engine-independent core: git's own bisection,
//! driven in a worktree of its own (the user's checkout and any bisect of
//! theirs are untouched), with the decision at each commit left to an
//! [`Oracle`]. The oracle that measures (interleaved runs of the commit
//! against the good and bad builds) lives with the session engine; tests
//! use scripted ones.
//!
//! "good" and "bad" are git's words for the older and the newer endpoint:
//! when looking for an improvement the oracle says which endpoint a commit
//! is like, and the search is the same.

pub mod driver;
pub mod journal;
pub mod measure;
pub mod output;
pub mod report;
pub mod schedule;

use serde::{Deserialize, Serialize};

pub use driver::{bisect, range, validate, BisectError, Config, Range};

/// A commit as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    pub hash: String,
    pub subject: String,
    /// Committer date, ISO 8601.
    pub date: String,
}

impl CommitInfo {
    pub fn short(&self) -> &str {
        &self.hash[..self.hash.len().min(12)]
    }
}

/// Which endpoint a commit behaves like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    LikeGood,
    LikeBad,
    /// Neither, with the pairs the budget allowed: the commit is skipped.
    Undecided,
}

/// A ratio to the good build with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
}

/// What the oracle measured at one commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub class: Class,
    /// Interleaved pairs measured.
    pub pairs: u32,
    /// The commit's metric over the good build's, when measured.
    pub ratio_to_good: Option<Interval>,
    /// Chance that `class` is wrong, as the oracle's test puts it.
    pub error_rate: Option<f64>,
    pub build_seconds: f64,
    pub measure_seconds: f64,
}

/// The oracle's answer for one commit.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    Measured(Verdict),
    /// The commit does not build: it is skipped.
    BuildFailed {
        message: String,
        build_seconds: f64,
    },
    /// A run at the commit failed (it crashed, timed out): it is skipped.
    RunFailed {
        message: String,
    },
    /// Interrupted (SIGINT/SIGTERM): the bisection stops, keeping its log.
    Stop,
}

/// Decides, one commit at a time, which endpoint a commit is like.
pub trait Oracle {
    /// `step` counts from 1; `commit` is the commit git chose to test.
    fn judge(&mut self, step: usize, commit: &CommitInfo) -> Judgement;
}

/// What git was told about a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    Good,
    Bad,
    Skip,
}

impl Mark {
    /// The `git bisect` subcommand for it.
    pub fn git_word(self) -> &'static str {
        match self {
            Mark::Good => "good",
            Mark::Bad => "bad",
            Mark::Skip => "skip",
        }
    }
}

/// One step of the search, as the report lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub commit: CommitInfo,
    pub mark: Mark,
    /// Why a skipped commit was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// How a bisection ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Outcome {
    Found {
        first_bad: CommitInfo,
        steps: Vec<Step>,
    },
    /// Every commit left was skipped: the first bad one is among `remaining`.
    AllSkipped {
        remaining: Vec<CommitInfo>,
        steps: Vec<Step>,
    },
    Interrupted {
        steps: Vec<Step>,
    },
}

impl Outcome {
    pub fn steps(&self) -> &[Step] {
        match self {
            Outcome::Found { steps, .. }
            | Outcome::AllSkipped { steps, .. }
            | Outcome::Interrupted { steps } => steps,
        }
    }

    /// The commits skipped on the way, in order.
    pub fn skipped(&self) -> Vec<&CommitInfo> {
        self.steps()
            .iter()
            .filter(|s| s.mark == Mark::Skip)
            .map(|s| &s.commit)
            .collect()
    }
}

/// The mark for a judgement, with why when it is a skip (`None`: stop).
pub fn mark_for(j: &Judgement) -> Option<(Mark, Option<String>)> {
    match j {
        Judgement::Measured(v) => Some(match v.class {
            Class::LikeGood => (Mark::Good, None),
            Class::LikeBad => (Mark::Bad, None),
            Class::Undecided => (
                Mark::Skip,
                Some(format!("undecided after {} pair(s)", v.pairs)),
            ),
        }),
        Judgement::BuildFailed { message, .. } => {
            let first = message.lines().next().unwrap_or("build failed");
            let first = first.trim_end_matches("; last lines of the log:");
            let log = message
                .lines()
                .find_map(|l| l.strip_prefix("full log: "))
                .map(|p| format!("; log: {p}"))
                .unwrap_or_default();
            Some((Mark::Skip, Some(format!("does not build: {first}{log}"))))
        }
        Judgement::RunFailed { message } => {
            let first = message.lines().next().unwrap_or("a run failed");
            Some((Mark::Skip, Some(format!("a run failed: {first}"))))
        }
        Judgement::Stop => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(class: Class, pairs: u32) -> Judgement {
        Judgement::Measured(Verdict {
            class,
            pairs,
            ratio_to_good: None,
            error_rate: None,
            build_seconds: 0.0,
            measure_seconds: 0.0,
        })
    }

    #[test]
    fn undecided_and_unbuildable_commits_are_skipped_with_a_reason() {
        assert_eq!(
            mark_for(&verdict(Class::LikeGood, 3)),
            Some((Mark::Good, None))
        );
        assert_eq!(
            mark_for(&verdict(Class::LikeBad, 3)),
            Some((Mark::Bad, None))
        );
        assert_eq!(
            mark_for(&verdict(Class::Undecided, 40)),
            Some((Mark::Skip, Some("undecided after 40 pair(s)".into())))
        );
        let failed = Judgement::BuildFailed {
            message:
                "building x failed (exit 2); last lines of the log:\nerr\nfull log: /c/build.log"
                    .into(),
            build_seconds: 1.0,
        };
        assert_eq!(
            mark_for(&failed),
            Some((
                Mark::Skip,
                Some("does not build: building x failed (exit 2); log: /c/build.log".into())
            ))
        );
        assert_eq!(mark_for(&Judgement::Stop), None);
    }
}
