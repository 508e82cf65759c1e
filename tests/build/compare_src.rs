//! `compare --src DIR --a-rev REV --b-rev REV` on the generated repository:
//! both sides built (or reused), compared as two binaries, labels from the
//! commits, and `--git-bisect-exit`'s codes.

use std::path::PathBuf;
use std::process::{Command, Output};

use super::super::{stderr, stdout};
use super::repo::TestRepo;
use super::Cache;

/// A file that passes the model check (GGUF magic); the fake tool ignores it.
pub(super) fn model(cache: &Cache) -> PathBuf {
    let p = cache.path().join("model.gguf");
    let mut bytes = b"GGUF\x03\x00\x00\x00".to_vec();
    bytes.extend_from_slice(&[0u8; 56]);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn compare(cache: &Cache, repo: &TestRepo, sides: &[&str], more: &[&str]) -> Output {
    compare_cmd(cache, repo, sides, more).output().unwrap()
}

fn compare_cmd(cache: &Cache, repo: &TestRepo, sides: &[&str], more: &[&str]) -> Command {
    let src = repo.path().display().to_string();
    let m = model(cache).display().to_string();
    let mut all = vec![
        "compare",
        "--src",
        &src,
        "--backend",
        "cpu",
        "-m",
        &m,
        "--warmup",
        "0",
    ];
    all.extend_from_slice(sides);
    all.extend_from_slice(more);
    all.extend_from_slice(&["--", "-n", "12"]);
    cache.cmd(&all)
}

#[test]
fn two_revisions_compared_with_commit_labels_and_bisect_exit_codes() {
    let repo = TestRepo::standard();
    let before = repo.snapshot();
    let cache = Cache::new();
    let sides = ["--a-rev", "fixed", "--b-rev", "slow"];
    let out = compare(&cache, &repo, &sides, &["--pairs", "6", "--format", "json"]);
    assert!(out.status.success(), "stderr:\n{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let short = &repo.hash("slow")[..9];
    assert_eq!(
        v["b"]["label"],
        format!("{short} decode: slower kernel (3 ms/token)")
    );
    let eval = v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "eval_tps")
        .unwrap();
    // 2 ms/token against 3 ms/token: about -33%.
    let change = eval["change_pct"].as_f64().unwrap();
    assert!((-40.0..-25.0).contains(&change), "{change}");
    assert_eq!(eval["verdict_text"], "slower");

    // Every record carries its build's source commit.
    for r in v["runs"].as_array().unwrap() {
        let want = if r["side"] == "b" { "slow" } else { "fixed" };
        assert_eq!(r["build"]["source"]["commit"], repo.hash(want), "{r}");
    }

    // Again with --git-bisect-exit, into a history: the builds are reused, B is bad (1).
    let db = cache.path().join("history.db");
    let bad = compare_cmd(
        &cache,
        &repo,
        &sides,
        &["--pairs", "6", "--git-bisect-exit"],
    )
    .env("TOKBENCH_DB", &db)
    .env_remove("TOKBENCH_NO_HISTORY")
    .output()
    .unwrap();
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("reused"), "{}", stderr(&bad));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut q = conn
        .prepare("SELECT src_commit, src_subject FROM builds ORDER BY src_date")
        .unwrap();
    let rows: Vec<(String, String)> = q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, repo.hash("fixed"));
    assert_eq!(rows[1].1, "decode: slower kernel (3 ms/token)");
    // B like A (an unrelated docs commit after the slowdown): good (0).
    let same = ["--a-rev", "slow", "--b-rev", "docs3"];
    let good = compare(
        &cache,
        &repo,
        &same,
        &["--pairs", "6", "--git-bisect-exit", "--threshold", "10%"],
    );
    assert_eq!(good.status.code(), Some(0), "{}", stderr(&good));
    // Too few pairs for an interval: undecided (125).
    let few = compare(
        &cache,
        &repo,
        &sides,
        &["--pairs", "2", "--git-bisect-exit"],
    );
    assert_eq!(few.status.code(), Some(125), "{}", stderr(&few));
    assert_eq!(repo.snapshot(), before, "the user's checkout changed");
}

#[test]
fn a_build_failure_is_125_with_git_bisect_exit_and_1_without() {
    let repo = TestRepo::standard();
    let cache = Cache::new();
    let sides = ["--a-rev", "fixed", "--b-rev", "broken"];
    let skip = compare(
        &cache,
        &repo,
        &sides,
        &["--pairs", "6", "--git-bisect-exit"],
    );
    assert_eq!(skip.status.code(), Some(125), "{}", stderr(&skip));
    assert!(stderr(&skip).contains("build.log"), "{}", stderr(&skip));
    let fail = compare(&cache, &repo, &sides, &["--pairs", "6"]);
    assert_eq!(fail.status.code(), Some(1), "{}", stderr(&fail));
    assert!(
        stderr(&fail).contains("does not build") || stderr(&fail).contains("failed"),
        "{}",
        stderr(&fail)
    );
}

#[test]
fn a_path_against_a_revision_and_usage_errors() {
    let repo = TestRepo::standard();
    let cache = Cache::new();
    let (out, _) = cache.build(&repo, &["--format", "json", "fixed"]);
    let b = super::built(&out);
    let a = super::tool_path(&b[0], "llama-completion")
        .display()
        .to_string();
    let mixed = compare(
        &cache,
        &repo,
        &["--a", &a, "--b-rev", "slow"],
        &["--pairs", "6", "--git-bisect-exit"],
    );
    assert_eq!(mixed.status.code(), Some(1), "{}", stderr(&mixed));
    assert!(
        stdout(&mixed).contains("decode: slower kernel"),
        "{}",
        stdout(&mixed)
    );

    let unknown = compare(
        &cache,
        &repo,
        &["--a-rev", "no-such-rev", "--b-rev", "slow"],
        &[],
    );
    assert_ne!(unknown.status.code(), Some(0));
    assert!(
        stderr(&unknown).contains("no-such-rev"),
        "{}",
        stderr(&unknown)
    );
    let only_b = compare(&cache, &repo, &["--b-rev", "slow"], &[]);
    assert_eq!(only_b.status.code(), Some(2), "{}", stderr(&only_b));
    assert!(
        stderr(&only_b).contains("--a-rev REV or --a PATH"),
        "{}",
        stderr(&only_b)
    );
}
