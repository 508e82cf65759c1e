//! Drives `git bisect` in a detached worktree of its own under tokbench's
//! cache (bisect state is per worktree, so the user's checkout and any
//! bisect of theirs are untouched). `--no-checkout` keeps git from checking
//! files out: the oracle builds each commit in its own build worktree.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::output::{parse, State};
use super::{mark_for, CommitInfo, Judgement, Oracle, Outcome, Step};
use crate::build::git::{self, GitError};

/// What to bisect.
#[derive(Debug, Clone)]
pub struct Config {
    /// The user's checkout (any directory inside it).
    pub src: PathBuf,
    pub good: String,
    pub bad: String,
    /// Only commits touching these paths are tested (`git bisect start -- PATH`).
    pub paths: Vec<String>,
    /// Directory for the bisect's own worktree.
    pub work_dir: PathBuf,
}

/// The endpoints and the commits between them (good excluded, bad
/// included, newest first; only those touching `paths` when given).
#[derive(Debug, Clone)]
pub struct Range {
    pub top: PathBuf,
    pub good: CommitInfo,
    pub bad: CommitInfo,
    pub commits: Vec<CommitInfo>,
}

#[derive(Debug, thiserror::Error)]
pub enum BisectError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("--good '{good}' ({good_short}) is not an ancestor of --bad '{bad}' ({bad_short}): the good commit must be older, in the bad one's history (were they swapped?)")]
    NotAncestor {
        good: String,
        good_short: String,
        bad: String,
        bad_short: String,
    },
    #[error("--good '{good}' and --bad '{bad}' are the same commit ({short}): nothing to bisect")]
    Same {
        good: String,
        bad: String,
        short: String,
    },
    #[error("no commit after --good '{good}' up to --bad '{bad}' touches {}: nothing to bisect (check --paths)", paths.join(", "))]
    NoCommitTouches {
        good: String,
        bad: String,
        paths: Vec<String>,
    },
    #[error("'git {args}' printed something tokbench does not understand:\n{text}")]
    Unexpected { args: String, text: String },
}

fn commit_info(top: &Path, hash: &str) -> Result<CommitInfo, GitError> {
    let (subject, date) = git::subject_and_date(top, hash)?;
    Ok(CommitInfo {
        hash: hash.to_string(),
        subject,
        date,
    })
}

/// Checks the request (a checkout, known revisions, good before bad) and
/// lists the range.
pub fn validate(cfg: &Config) -> Result<Range, BisectError> {
    let top = git::toplevel(&cfg.src)?;
    let good = commit_info(&top, &git::resolve(&top, &cfg.good)?)?;
    let bad = commit_info(&top, &git::resolve(&top, &cfg.bad)?)?;
    if good.hash == bad.hash {
        return Err(BisectError::Same {
            good: cfg.good.clone(),
            bad: cfg.bad.clone(),
            short: good.short().to_string(),
        });
    }
    if !git::is_ancestor(&top, &good.hash, &bad.hash)? {
        return Err(BisectError::NotAncestor {
            good: cfg.good.clone(),
            good_short: good.short().to_string(),
            bad: cfg.bad.clone(),
            bad_short: bad.short().to_string(),
        });
    }
    let commits = range(&top, &good.hash, &bad.hash, &cfg.paths)?;
    if commits.is_empty() {
        return Err(BisectError::NoCommitTouches {
            good: cfg.good.clone(),
            bad: cfg.bad.clone(),
            paths: cfg.paths.clone(),
        });
    }
    Ok(Range {
        top,
        good,
        bad,
        commits,
    })
}

/// `git rev-list good..bad [-- paths]`, newest first, with subjects and dates.
pub fn range(
    top: &Path,
    good: &str,
    bad: &str,
    paths: &[String],
) -> Result<Vec<CommitInfo>, GitError> {
    let spec = format!("{good}..{bad}");
    let mut args = vec!["log", "--format=%H%x00%cI%x00%s", &spec, "--"];
    args.extend(paths.iter().map(String::as_str));
    let text = git::run(top, &args)?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\0');
            Some(CommitInfo {
                hash: parts.next()?.to_string(),
                date: parts.next()?.to_string(),
                subject: parts.next().unwrap_or("").to_string(),
            })
        })
        .collect())
}

/// The bisect worktree; reset and removed when dropped, however the
/// bisection ended.
struct Worktree {
    repo: PathBuf,
    path: PathBuf,
}

impl Worktree {
    fn open(range: &Range, work_dir: &Path) -> Result<Worktree, GitError> {
        let name = format!("bisect-{}-{}", range.good.short(), range.bad.short());
        let wt = Worktree {
            repo: range.top.clone(),
            path: work_dir.join(name),
        };
        // Left by an interrupted run: start again.
        wt.close();
        let _ = std::fs::create_dir_all(work_dir);
        git::add_worktree(&wt.repo, &wt.path, &range.bad.hash)?;
        Ok(wt)
    }

    fn close(&self) {
        if self.path.exists() {
            let _ = git::run(&self.path, &["bisect", "reset"]);
            let _ = git::remove_worktree(&self.repo, &self.path);
        }
    }

    /// Runs a bisect command; git exits 2 when it cannot bisect further.
    fn bisect(&self, args: &[&str]) -> Result<State, BisectError> {
        let mut all = vec!["bisect"];
        all.extend_from_slice(args);
        let out = git::command(&self.path, &all)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| GitError::Spawn(e.to_string()))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let understood = matches!(out.status.code(), Some(0) | Some(2)).then(|| parse(&text));
        understood.flatten().ok_or_else(|| BisectError::Unexpected {
            args: all.join(" "),
            text: git::last_lines(&text, 20),
        })
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        self.close();
    }
}

/// Bisects `range` with `oracle` deciding each commit; `on_step` sees each
/// step as it is decided.
pub fn bisect(
    cfg: &Config,
    range: &Range,
    oracle: &mut dyn Oracle,
    on_step: &mut dyn FnMut(&Step),
) -> Result<Outcome, BisectError> {
    let wt = Worktree::open(range, &cfg.work_dir)?;
    let known: HashMap<&str, &CommitInfo> =
        range.commits.iter().map(|c| (c.hash.as_str(), c)).collect();
    let info = |h: &str| -> Result<CommitInfo, GitError> {
        known
            .get(h)
            .map_or_else(|| commit_info(&range.top, h), |c| Ok((*c).clone()))
    };
    let mut start = vec![
        "start",
        "--no-checkout",
        &range.bad.hash,
        &range.good.hash,
        "--",
    ];
    start.extend(cfg.paths.iter().map(String::as_str));
    let mut state = wt.bisect(&start)?;
    let mut steps: Vec<Step> = Vec::new();
    loop {
        let hash = match state {
            State::Test(h) => h,
            State::FirstBad(h) => {
                return Ok(Outcome::Found {
                    first_bad: info(&h)?,
                    steps,
                })
            }
            State::OnlySkipped(hs) => {
                let remaining = hs.iter().map(|h| info(h)).collect::<Result<_, _>>()?;
                return Ok(Outcome::AllSkipped { remaining, steps });
            }
        };
        let commit = info(&hash)?;
        let judgement = oracle.judge(steps.len() + 1, &commit);
        let Some((mark, skip_reason)) = mark_for(&judgement) else {
            return Ok(Outcome::Interrupted { steps });
        };
        state = wt.bisect(&[mark.git_word(), &hash])?;
        let verdict = match judgement {
            Judgement::Measured(v) => Some(v),
            _ => None,
        };
        let step = Step {
            commit,
            mark,
            skip_reason,
            verdict,
        };
        on_step(&step);
        steps.push(step);
    }
}
