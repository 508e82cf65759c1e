//! The bisect core (`tokbench::bisect`) on the generated repository, with
//! scripted oracles: one reads the rate from each commit's source, one
//! builds each commit with `tokbench::build` and runs it.

use std::path::Path;

use tokbench::bisect::{
    self, BisectError, Class, CommitInfo, Config, Judgement, Mark, Oracle, Outcome, Verdict,
};
use tokbench::build::git::GitError;

use super::repo::{eval_ms_per_token, path_with_cmake, TestRepo};

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

/// Judges by the rate written in the commit's `src/rate.h`; commits in
/// `undecided` get Undecided, and the one that does not compile fails.
struct SourceOracle<'a> {
    repo: &'a TestRepo,
    undecided: Vec<String>,
    asked: Vec<String>,
    stop_at: Option<usize>,
}

impl<'a> SourceOracle<'a> {
    fn new(repo: &'a TestRepo) -> Self {
        SourceOracle {
            repo,
            undecided: Vec::new(),
            asked: Vec::new(),
            stop_at: None,
        }
    }
}

impl Oracle for SourceOracle<'_> {
    fn judge(&mut self, step: usize, commit: &CommitInfo) -> Judgement {
        self.asked.push(commit.hash.clone());
        if self.stop_at == Some(step) {
            return Judgement::Stop;
        }
        if self.undecided.contains(&commit.hash) {
            return verdict(Class::Undecided, 40);
        }
        let main = self
            .repo
            .git(&["show", &format!("{}:src/main.cpp", commit.hash)]);
        if main.contains("BROKEN") {
            return Judgement::BuildFailed {
                message: "building failed (exit 2)".into(),
                build_seconds: 1.0,
            };
        }
        let rate = self
            .repo
            .git(&["show", &format!("{}:src/rate.h", commit.hash)]);
        let slow = rate.contains("EVAL_MS_PER_TOKEN 3.000");
        verdict(
            if slow {
                Class::LikeBad
            } else {
                Class::LikeGood
            },
            4,
        )
    }
}

fn config(repo: &TestRepo, work: &Path, good: &str, bad: &str) -> Config {
    Config {
        src: repo.path().to_path_buf(),
        good: good.into(),
        bad: bad.into(),
        paths: Vec::new(),
        work_dir: work.to_path_buf(),
    }
}

fn run(cfg: &Config, oracle: &mut dyn Oracle) -> Result<Outcome, BisectError> {
    let range = bisect::validate(cfg)?;
    let mut seen = 0;
    let out = bisect::bisect(cfg, &range, oracle, &mut |_| seen += 1);
    if let Ok(o) = &out {
        assert_eq!(seen, o.steps().len(), "on_step saw every step");
    }
    out
}

fn worktrees(repo: &TestRepo) -> usize {
    repo.git(&["worktree", "list", "--porcelain"])
        .matches("worktree ")
        .count()
}

#[test]
fn finds_the_planted_slowdown_skipping_the_broken_commit() {
    let repo = TestRepo::standard();
    let work = tempfile::tempdir().unwrap();
    let mut oracle = SourceOracle::new(&repo);
    oracle.undecided.push(repo.hash("docs2").to_string());
    let cfg = config(&repo, work.path(), "initial", "scripts");
    let out = run(&cfg, &mut oracle).unwrap();
    let Outcome::Found { first_bad, steps } = &out else {
        panic!("{out:?}")
    };
    assert_eq!(first_bad.hash, repo.hash("slow"));
    assert_eq!(first_bad.subject, "decode: slower kernel (3 ms/token)");
    for s in steps {
        let want = match s.commit.hash.as_str() {
            h if h == repo.hash("broken") || h == repo.hash("docs2") => Mark::Skip,
            h if [repo.hash("slow"), repo.hash("docs3"), repo.hash("scripts")].contains(&h) => {
                Mark::Bad
            }
            _ => Mark::Good,
        };
        assert_eq!(s.mark, want, "{}", s.commit.subject);
    }
    assert!(steps.len() <= 6, "{} steps for 8 commits", steps.len());
    assert_eq!(out.skipped().len(), 2, "{steps:?}");
    assert_eq!(worktrees(&repo), 1, "the bisect worktree was left behind");
}

#[test]
fn skipped_neighbours_of_the_slowdown_leave_a_range() {
    let repo = TestRepo::standard();
    let work = tempfile::tempdir().unwrap();
    let mut oracle = SourceOracle::new(&repo);
    // The commit before the slowdown is undecided and the one before it
    // does not build: the first bad commit is one of the three.
    oracle.undecided.push(repo.hash("fixed").to_string());
    let out = run(
        &config(&repo, work.path(), "initial", "scripts"),
        &mut oracle,
    )
    .unwrap();
    let Outcome::AllSkipped { remaining, .. } = &out else {
        panic!("{out:?}")
    };
    let left: Vec<&str> = remaining.iter().map(|c| c.hash.as_str()).collect();
    assert_eq!(
        left,
        [repo.hash("broken"), repo.hash("fixed"), repo.hash("slow")]
    );
    assert_eq!(worktrees(&repo), 1);
}

#[test]
fn every_commit_skipped_leaves_the_whole_range() {
    let repo = TestRepo::standard();
    let work = tempfile::tempdir().unwrap();
    let mut oracle = SourceOracle::new(&repo);
    oracle.undecided = repo.commits.values().cloned().collect();
    let out = run(
        &config(&repo, work.path(), "initial", "scripts"),
        &mut oracle,
    )
    .unwrap();
    let Outcome::AllSkipped { remaining, steps } = &out else {
        panic!("{out:?}")
    };
    let mut left: Vec<&str> = remaining.iter().map(|c| c.hash.as_str()).collect();
    left.sort();
    let mut want: Vec<&str> = [
        "docs", "rename", "docs2", "broken", "fixed", "slow", "docs3", "scripts",
    ]
    .iter()
    .map(|n| repo.hash(n))
    .collect();
    want.sort();
    assert_eq!(left, want);
    assert!(steps.iter().all(|s| s.mark == Mark::Skip));
    assert_eq!(out.skipped().len(), steps.len());
    assert!(steps[0].skip_reason.as_deref() == Some("undecided after 40 pair(s)"));
}

#[test]
fn paths_limit_the_commits_tested() {
    let repo = TestRepo::standard();
    let work = tempfile::tempdir().unwrap();
    let mut oracle = SourceOracle::new(&repo);
    let mut cfg = config(&repo, work.path(), "initial", "scripts");
    cfg.paths = vec!["src".into()];
    let range = bisect::validate(&cfg).unwrap();
    let names: Vec<&str> = range.commits.iter().map(|c| c.subject.as_str()).collect();
    assert_eq!(
        names,
        [
            "decode: slower kernel (3 ms/token)",
            "fix the build",
            "refactor main (does not build)"
        ]
    );
    let out = run(&cfg, &mut oracle).unwrap();
    let Outcome::Found { first_bad, .. } = &out else {
        panic!("{out:?}")
    };
    assert_eq!(first_bad.hash, repo.hash("slow"));
    let src_commits = [repo.hash("broken"), repo.hash("fixed"), repo.hash("slow")];
    assert!(
        oracle
            .asked
            .iter()
            .all(|h| src_commits.contains(&h.as_str())),
        "{:?}",
        oracle.asked
    );
    cfg.paths = vec!["no/such/dir".into()];
    let err = bisect::validate(&cfg).unwrap_err();
    assert!(err.to_string().contains("touches no/such/dir"), "{err}");
}

#[test]
fn the_users_checkout_and_own_bisect_are_untouched() {
    let repo = TestRepo::standard();
    repo.git(&["bisect", "start", "scripts", "initial"]);
    repo.write("docs/notes.md", "an uncommitted edit\n");
    let before = repo.snapshot();
    let their_log = repo.git(&["bisect", "log"]);
    let work = tempfile::tempdir().unwrap();
    let mut oracle = SourceOracle::new(&repo);
    let out = run(
        &config(&repo, work.path(), "initial", "scripts"),
        &mut oracle,
    )
    .unwrap();
    assert!(matches!(out, Outcome::Found { .. }), "{out:?}");
    assert_eq!(repo.snapshot(), before);
    assert_eq!(repo.git(&["bisect", "log"]), their_log);
}

#[test]
fn a_stop_ends_the_search_and_cleans_up() {
    let repo = TestRepo::standard();
    let work = tempfile::tempdir().unwrap();
    let mut oracle = SourceOracle::new(&repo);
    oracle.stop_at = Some(2);
    let out = run(
        &config(&repo, work.path(), "initial", "scripts"),
        &mut oracle,
    )
    .unwrap();
    let Outcome::Interrupted { steps } = &out else {
        panic!("{out:?}")
    };
    assert_eq!(steps.len(), 1);
    assert_eq!(worktrees(&repo), 1);
    // Running it again starts afresh and finishes.
    oracle.stop_at = None;
    let again = run(
        &config(&repo, work.path(), "initial", "scripts"),
        &mut oracle,
    )
    .unwrap();
    assert!(matches!(again, Outcome::Found { .. }), "{again:?}");
}

#[test]
fn bad_requests_are_refused_with_what_to_do() {
    let repo = TestRepo::standard();
    let work = tempfile::tempdir().unwrap();
    let plain = tempfile::tempdir().unwrap();
    let mut cfg = config(&repo, work.path(), "initial", "scripts");
    cfg.src = plain.path().to_path_buf();
    let err = bisect::validate(&cfg).unwrap_err();
    assert!(
        matches!(err, BisectError::Git(GitError::NotACheckout(_))),
        "{err}"
    );
    let err = bisect::validate(&config(&repo, work.path(), "initial", "nope")).unwrap_err();
    assert!(
        err.to_string().starts_with("unknown revision 'nope'"),
        "{err}"
    );
    let err = bisect::validate(&config(&repo, work.path(), "scripts", "initial")).unwrap_err();
    assert!(matches!(err, BisectError::NotAncestor { .. }), "{err}");
    assert!(err.to_string().contains("were they swapped?"), "{err}");
    let err = bisect::validate(&config(&repo, work.path(), "slow", "slow")).unwrap_err();
    assert!(err.to_string().contains("are the same commit"), "{err}");
}

/// Builds each commit (real CMake) and runs it: like-bad when its eval
/// rate is nearer the bad endpoint's 3 ms/token than the good one's 2.
struct BuildOracle {
    src: std::path::PathBuf,
    cache: std::path::PathBuf,
    cmake: std::path::PathBuf,
}

impl Oracle for BuildOracle {
    fn judge(&mut self, _step: usize, commit: &CommitInfo) -> Judgement {
        let req = tokbench::build::Request {
            jobs: Some(2),
            live_progress: false,
            cmake: self.cmake.clone(),
            ..tokbench::build::Request::new(
                &self.src,
                &commit.hash,
                vec!["llama-completion".into()],
                tokbench::cli::BuildBackend::Cpu,
                Vec::new(),
                &self.cache,
            )
        };
        let built = match tokbench::build::build(&req) {
            Ok(b) => b,
            Err(e) => {
                return Judgement::BuildFailed {
                    message: e.to_string(),
                    build_seconds: 0.0,
                }
            }
        };
        let ms = eval_ms_per_token(&built.tools["llama-completion"]);
        verdict(
            if ms > 2.5 {
                Class::LikeBad
            } else {
                Class::LikeGood
            },
            1,
        )
    }
}

#[test]
fn real_builds_as_the_oracle_find_the_slowdown() {
    let repo = TestRepo::standard();
    let work = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cmake = std::env::split_paths(&path_with_cmake())
        .map(|d| d.join("cmake"))
        .find(|p| p.is_file())
        .unwrap();
    let mut oracle = BuildOracle {
        src: repo.path().to_path_buf(),
        cache: cache.path().to_path_buf(),
        cmake,
    };
    // Over the 8 commits git tests the broken one first.
    let out = run(
        &config(&repo, work.path(), "initial", "scripts"),
        &mut oracle,
    )
    .unwrap();
    let Outcome::Found { first_bad, steps } = &out else {
        panic!("{out:?}")
    };
    assert_eq!(first_bad.hash, repo.hash("slow"));
    let broken = steps
        .iter()
        .find(|s| s.commit.hash == repo.hash("broken"))
        .expect("broken was tested");
    assert_eq!(broken.mark, Mark::Skip);
    assert!(
        broken
            .skip_reason
            .as_deref()
            .unwrap()
            .starts_with("does not build: building "),
        "{broken:?}"
    );
}
