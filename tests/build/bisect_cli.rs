//! `tokbench bisect` on the generated repository: the planted slowdown
//! found across the rename and the broken commit, `--paths`, the exit
//! codes (0, 1, 4, 130), the reuse of builds and measurements on a second
//! call, and the user's checkout left as it was.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use serde_json::Value;

use super::super::{stderr, stdout};
use super::compare_src::model;
use super::repo::TestRepo;
use super::Cache;

fn bisect_cmd(cache: &Cache, repo: &TestRepo, more: &[&str]) -> Command {
    let src = repo.path().display().to_string();
    let m = model(cache).display().to_string();
    let mut all = vec![
        "bisect",
        "--src",
        &src,
        "--backend",
        "cpu",
        "-j",
        "2",
        "-m",
        &m,
        "--warmup",
        "0",
        // A short prompt: each run is about 30 ms of sleep.
        "-p",
        "hi",
    ];
    all.extend_from_slice(more);
    all.extend_from_slice(&["--", "-n", "12"]);
    cache.cmd(&all)
}

fn bisect(cache: &Cache, repo: &TestRepo, more: &[&str]) -> Output {
    bisect_cmd(cache, repo, more).output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("{e}: {}\nstderr:\n{}", stdout(out), stderr(out)))
}

fn hashes(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["commit"]["hash"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_planted_slowdown_is_found_then_a_second_call_reuses_everything() {
    let repo = TestRepo::standard();
    let before = repo.snapshot();
    let cache = Cache::new();
    let range = ["--good", "initial", "--bad", "scripts"];
    let t = Instant::now();
    let out = bisect(&cache, &repo, &range);
    let first = t.elapsed().as_secs_f64();
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
    let text = stdout(&out);
    eprintln!("{text}");
    let short = &repo.hash("slow")[..12];
    let last = text.lines().last().unwrap();
    assert_eq!(
        last,
        format!("first bad commit: {short} decode: slower kernel (3 ms/token)")
    );
    assert!(text.contains("endpoints, bad over good: 0.6"), "{text}");
    assert!(
        text.contains(&format!(
            "  against its parent {}: 0.6",
            &repo.hash("fixed")[..12]
        )),
        "{text}"
    );
    // Git tests the broken commit first: it is skipped, with why.
    let broken = &repo.hash("broken")[..12];
    assert!(
        text.contains(&format!(
            "  {broken} refactor main (does not build): does not build: "
        )),
        "{text}"
    );
    assert!(stderr(&out).contains(&format!("warning: {broken} is skipped: ")));
    assert_eq!(repo.snapshot(), before, "the user's checkout changed");

    let t = Instant::now();
    let again = bisect(&cache, &repo, &[&range[..], &["--format", "json"]].concat());
    let second = t.elapsed().as_secs_f64();
    assert_eq!(again.status.code(), Some(0), "stderr:\n{}", stderr(&again));
    let v = json(&again);
    assert_eq!(v["result"], "found");
    assert_eq!(v["first_bad"]["hash"], repo.hash("slow"));
    assert_eq!(v["first_bad"]["parent"]["hash"], repo.hash("fixed"));
    assert_eq!(v["first_bad"]["confirmed"], true);
    let change = v["first_bad"]["change"]["estimate"].as_f64().unwrap();
    assert!((0.6..0.72).contains(&change), "{change}");
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(v["reused_steps"].as_u64().unwrap() as usize, steps.len());
    assert!(hashes(&v, "skipped").contains(&repo.hash("broken").to_string()));
    for s in steps.iter().filter(|s| s["mark"] != "skip") {
        let e = s["verdict"]["error_rate"].as_f64().unwrap();
        assert!(e < 0.05, "{s}");
    }
    assert!(v["search_error_rate"].as_f64().unwrap() < 0.2);
    let err = stderr(&again);
    assert!(
        err.contains("reusing what an earlier run of this bisect measured"),
        "{err}"
    );
    assert!(
        !err.contains(" built in "),
        "a second call built again:\n{err}"
    );
    assert!(
        second < first / 2.0,
        "first {first:.1} s, second {second:.1} s"
    );
    eprintln!("bisect of 8 commits: first call {first:.1} s, second {second:.1} s");
    assert_eq!(repo.snapshot(), before, "the user's checkout changed");
}

#[test]
fn paths_limit_the_steps_to_the_commits_touching_them() {
    let repo = TestRepo::standard();
    let cache = Cache::new();
    let db = cache.path().join("history.db");
    let out = bisect_cmd(
        &cache,
        &repo,
        &[
            "--good", "initial", "--bad", "scripts", "--paths", "src", "--format", "json",
        ],
    )
    .env("TOKBENCH_DB", &db)
    .env_remove("TOKBENCH_NO_HISTORY")
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
    // Every run is in the history: the endpoints' and final checks (a, b), the steps' three sides.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut q = conn
        .prepare("SELECT side, COUNT(*) FROM runs GROUP BY side ORDER BY side")
        .unwrap();
    let sides: Vec<(String, i64)> = q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let names: Vec<&str> = sides.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(names, ["a", "b", "bad", "commit", "good"], "{sides:?}");
    assert!(sides.iter().all(|(_, n)| *n >= 9), "{sides:?}");
    let v = json(&out);
    assert_eq!(v["first_bad"]["hash"], repo.hash("slow"));
    assert_eq!(v["commits_in_range"], 3);
    let touching = ["broken", "fixed", "slow"].map(|n| repo.hash(n).to_string());
    for h in hashes(&v, "steps") {
        assert!(touching.contains(&h), "{h} does not touch src/");
    }
}

#[test]
fn endpoints_alike_are_nothing_to_bisect_exit_4() {
    let repo = TestRepo::standard();
    let cache = Cache::new();
    let out = bisect(&cache, &repo, &["--good", "slow", "--bad", "scripts"]);
    assert_eq!(out.status.code(), Some(4), "stderr:\n{}", stderr(&out));
    assert!(
        stdout(&out).contains("nothing to bisect"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains(
            "tokbench: nothing to bisect: bad is not significantly worse than good beyond 1%"
        ),
        "{}",
        stderr(&out)
    );
    // A slowdown is not an improvement.
    let out = bisect(
        &cache,
        &repo,
        &[
            "--good",
            "fixed",
            "--bad",
            "slow",
            "--improvement",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "stderr:\n{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["result"], "nothing-to-bisect");
    assert_eq!(v["endpoints"]["comparison"]["verdict"], "slower");
}

#[test]
fn refusals_name_the_input_and_exit_1() {
    let repo = TestRepo::standard();
    let cache = Cache::new();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--good", "nope", "--bad", "scripts"],
            "unknown revision 'nope'",
        ),
        (
            &["--good", "scripts", "--bad", "initial"],
            "is not an ancestor of --bad 'initial'",
        ),
        (
            &["--good", "broken", "--bad", "scripts"],
            "the good endpoint 'broken'",
        ),
        (&["--good", "slow", "--bad", "slow"], "are the same commit"),
    ];
    for (args, msg) in cases {
        let out = bisect(&cache, &repo, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(msg), "{args:?}: {}", stderr(&out));
    }
    let out = bisect(&cache, &repo, &["--good", "broken", "--bad", "scripts"]);
    assert!(
        stderr(&out).contains("does not build: nothing to compare"),
        "{}",
        stderr(&out)
    );
    let plain = tempfile::tempdir().unwrap();
    let dir = plain.path().display().to_string();
    let m = model(&cache).display().to_string();
    let out = cache
        .cmd(&[
            "bisect", "--src", &dir, "--good", "a", "--bad", "b", "-m", &m,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not a git checkout"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_range_left_with_only_skipped_commits_exits_1_and_lists_them() {
    let mut repo = TestRepo::new(2.0, "llama-completion");
    repo.commit("initial", "initial: 2 ms/token");
    let main = std::fs::read_to_string(repo.path().join("src/main.cpp")).unwrap();
    repo.write(
        "src/main.cpp",
        &main.replace("int main(int argc", "int main(int argc BROKEN"),
    );
    let rate = std::fs::read_to_string(repo.path().join("src/rate.h")).unwrap();
    repo.write("src/rate.h", &rate.replace("2.000", "3.000"));
    repo.commit("broken", "slower, and does not build");
    repo.write("src/main.cpp", &main);
    repo.commit("fixed", "fix the build");
    let cache = Cache::new();
    let out = bisect(
        &cache,
        &repo,
        &["--good", "initial", "--bad", "fixed", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["result"], "all-skipped");
    let left: Vec<&str> = v["remaining"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["hash"].as_str().unwrap())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&repo.hash("broken")) && left.contains(&repo.hash("fixed")));
    assert!(stderr(&out).contains("every commit left in the range was skipped"));
}

#[test]
fn dry_run_lists_the_range_and_what_is_built() {
    let repo = TestRepo::standard();
    let cache = Cache::new();
    let (out, _) = cache.build(&repo, &["initial"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = bisect(
        &cache,
        &repo,
        &["--good", "initial", "--bad", "scripts", "--dry-run"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("bisect --dry-run: 8 commit(s) after good "),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  good   {} initial: fake llama at 2 ms/token  [built: ",
            &repo.hash("initial")[..12]
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  bad    {} scripts: add run.sh  [would build]",
            &repo.hash("scripts")[..12]
        )),
        "{text}"
    );
    assert!(text.contains("8 of these are not built yet"), "{text}");
}

#[test]
fn an_interrupted_bisect_exits_130_and_the_next_run_goes_on() {
    let repo = TestRepo::standard();
    let before = repo.snapshot();
    let cache = Cache::new();
    let range = ["--good", "initial", "--bad", "scripts", "--format", "json"];
    let mut child = bisect_cmd(&cache, &repo, &range)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    for line in err.lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        // The second step: the first one (broken) is in the journal.
        if line.starts_with("tokbench: step 2: ") {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        }
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}");
    assert!(seen.contains("builds and measurements are kept"), "{seen}");
    let out = bisect(&cache, &repo, &range);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["first_bad"]["hash"], repo.hash("slow"));
    assert!(v["reused_steps"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(repo.snapshot(), before, "the user's checkout changed");
}
