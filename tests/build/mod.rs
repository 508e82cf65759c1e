//! `tokbench build` on a generated git repository (`repo.rs`): real git,
//! real CMake, real compiles of a tiny project, with `-j2`.

mod bisect;
mod compare_src;
pub mod repo;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use serde_json::Value;

use super::{stderr, stdout, TOKBENCH};
use repo::{eval_ms_per_token, path_with_cmake, TestRepo};

/// A cache directory and the command that uses it.
struct Cache {
    dir: tempfile::TempDir,
}

impl Cache {
    fn new() -> Cache {
        Cache {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(TOKBENCH);
        c.args(args)
            .env("TOKBENCH_CACHE_DIR", self.path())
            .env("PATH", path_with_cmake())
            .env("TOKBENCH_NO_HISTORY", "1")
            .env_remove("CMAKE_GENERATOR");
        c
    }
    /// `tokbench build --src REPO -j2 --format json ARGS...` and its wall time.
    fn build(&self, repo: &TestRepo, args: &[&str]) -> (Output, f64) {
        let src = repo.path().display().to_string();
        let mut all = vec!["build", "--src", &src, "-j", "2", "--backend", "cpu"];
        all.extend_from_slice(args);
        let t = Instant::now();
        let out = self.cmd(&all).output().unwrap();
        (out, t.elapsed().as_secs_f64())
    }
}

fn built(out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "stderr:\n{}", stderr(out));
    let v: Value = serde_json::from_str(&stdout(out)).unwrap();
    v.as_array().unwrap().clone()
}

fn tool_path(b: &Value, tool: &str) -> PathBuf {
    PathBuf::from(b["tools"][tool].as_str().unwrap())
}

#[test]
fn two_revisions_built_then_reused_and_the_checkout_untouched() {
    let repo = TestRepo::standard();
    let before = repo.snapshot();
    let cache = Cache::new();
    let (first, t1) = cache.build(&repo, &["--format", "json", "initial", "slow"]);
    let b = built(&first);
    assert_eq!(b.len(), 2);
    assert_eq!(b[0]["source"]["commit"], repo.hash("initial"));
    assert_eq!(
        b[1]["source"]["subject"],
        "decode: slower kernel (3 ms/token)"
    );
    assert_eq!(b[0]["reused"], false);
    // `initial` predates the rename: llama-completion is its llama-cli.
    let old = tool_path(&b[0], "llama-completion");
    assert_eq!(old.file_name().unwrap(), "llama-cli");
    let new = tool_path(&b[1], "llama-completion");
    assert_eq!(new.file_name().unwrap(), "llama-completion");
    // Only the target asked for was built.
    assert!(!Path::new(b[1]["bin_dir"].as_str().unwrap())
        .join("llama-bench")
        .exists());
    let (fast, slow) = (eval_ms_per_token(&old), eval_ms_per_token(&new));
    assert!((1.8..2.3).contains(&fast), "{fast}");
    assert!((2.7..3.4).contains(&slow), "{slow}");

    let (second, t2) = cache.build(&repo, &["--format", "json", "initial", "slow"]);
    let again = built(&second);
    assert_eq!(again[0]["reused"], true);
    assert_eq!(again[1]["reused"], true);
    assert_eq!(again[0]["bin_dir"], b[0]["bin_dir"]);
    assert!(t2 < t1 / 3.0, "first call {t1:.2} s, second {t2:.2} s");
    eprintln!("build of two revisions: first call {t1:.2} s, second call {t2:.2} s");
    assert_eq!(repo.snapshot(), before, "the user's checkout changed");
}

#[test]
fn text_output_names_commit_subject_and_bin_dir() {
    let repo = TestRepo::standard();
    let cache = Cache::new();
    let (out, _) = cache.build(&repo, &["HEAD~2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let short = &repo.hash("slow")[..12];
    assert!(
        text.starts_with(&format!(
            "HEAD~2: {short} decode: slower kernel (3 ms/token)\n  bin: "
        )),
        "{text}"
    );
    assert!(text.contains("  built in "), "{text}");
    assert!(stderr(&out).contains("build.log"), "{}", stderr(&out));
}

#[test]
fn worktree_is_keyed_by_head_and_its_uncommitted_changes() {
    let repo = TestRepo::standard();
    let cache = Cache::new();
    let (clean, _) = cache.build(&repo, &["--format", "json", "WORKTREE"]);
    let clean = built(&clean);
    assert_eq!(clean[0]["source"]["dirty"], false);
    assert_eq!(clean[0]["source"]["commit"], repo.hash("scripts"));

    repo.write(
        "src/rate.h",
        &std::fs::read_to_string(repo.path().join("src/rate.h"))
            .unwrap()
            .replace("3.000", "5.000"),
    );
    repo.write("src/extra.txt", "untracked\n");
    let before = repo.snapshot();
    let (dirty, _) = cache.build(&repo, &["--format", "json", "WORKTREE"]);
    let dirty = built(&dirty);
    let key = dirty[0]["source"]["dirty_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(dirty[0]["source"]["dirty"], true);
    assert_ne!(dirty[0]["key"], clean[0]["key"]);
    assert!(dirty[0]["key"]
        .as_str()
        .unwrap()
        .contains(&format!("+{key}")));
    let ms = eval_ms_per_token(&tool_path(&dirty[0], "llama-completion"));
    assert!(
        (4.5..5.6).contains(&ms),
        "the uncommitted rate was not built: {ms}"
    );
    assert_eq!(repo.snapshot(), before, "the user's checkout changed");

    let (same, _) = cache.build(&repo, &["--format", "json", "WORKTREE"]);
    assert_eq!(built(&same)[0]["reused"], true);
    repo.write("src/extra.txt", "untracked, edited\n");
    let (other, _) = cache.build(&repo, &["--format", "json", "WORKTREE"]);
    let other = built(&other);
    assert_ne!(other[0]["source"]["dirty_key"].as_str().unwrap(), key);
}

#[test]
fn a_failed_build_shows_the_compiler_error_and_the_log() {
    let repo = TestRepo::standard();
    let cache = Cache::new();
    let (out, _) = cache.build(&repo, &["broken"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let short = &repo.hash("broken")[..12];
    assert!(
        err.contains(&format!("error: building broken ({short}) failed")),
        "{err}"
    );
    assert!(
        err.contains("BROKEN"),
        "the compiler's error is not shown:\n{err}"
    );
    let log = err
        .lines()
        .find_map(|l| l.strip_prefix("full log: "))
        .unwrap();
    assert!(std::fs::read_to_string(log).unwrap().contains("BROKEN"));
}

#[test]
fn bad_sources_and_revisions_are_refused() {
    let repo = TestRepo::standard();
    let cache = Cache::new();
    let (out, _) = cache.build(&repo, &["no-such-rev"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown revision 'no-such-rev'"),
        "{}",
        stderr(&out)
    );
    let plain = tempfile::tempdir().unwrap();
    let dir = plain.path().display().to_string();
    let out = cache
        .cmd(&["build", "--src", &dir, "HEAD"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not a git checkout"),
        "{}",
        stderr(&out)
    );
    let (out, _) = cache.build(&repo, &["--tool", "llama-server", "initial"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("has no target for llama-server"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn two_processes_asking_for_one_build_build_it_once() {
    let repo = TestRepo::standard();
    let cache = Cache::new();
    let src = repo.path().display().to_string();
    let args = [
        "build",
        "--src",
        &src,
        "-j",
        "2",
        "--backend",
        "cpu",
        "--format",
        "json",
        "fixed",
    ];
    let a = cache.cmd(&args).spawn().unwrap();
    let b = cache
        .cmd(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    let b = built(&b);
    let log = std::fs::read_to_string(b[0]["log"].as_str().unwrap()).unwrap();
    assert_eq!(
        log.matches("$ cmake --build").count(),
        1,
        "built twice:\n{log}"
    );
    assert_eq!(
        log.matches("$ cmake -S").count(),
        1,
        "configured twice:\n{log}"
    );
}

#[test]
fn list_shows_sizes_and_prune_keeps_the_newest() {
    let repo = TestRepo::standard();
    let cache = Cache::new();
    let (out, _) = cache.build(&repo, &["initial"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (out, _) = cache.build(&repo, &["slow"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list = cache
        .cmd(&["build", "--list", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_str(&stdout(&list)).unwrap();
    let builds = v["builds"].as_array().unwrap();
    assert_eq!(builds.len(), 2);
    assert_eq!(builds[0]["meta"]["source"]["commit"], repo.hash("slow"));
    let sizes: u64 = builds
        .iter()
        .map(|b| b["size_bytes"].as_u64().unwrap())
        .sum();
    assert!(sizes > 10_000, "{sizes}");
    assert_eq!(v["total_bytes"].as_u64().unwrap(), sizes);
    let text = stdout(&cache.cmd(&["build", "--list"]).output().unwrap());
    assert!(text.contains("2 build(s), "), "{text}");

    let out = cache
        .cmd(&["build", "--prune", "--keep", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("removed 1 build(s) and 1 worktree(s)"),
        "{}",
        stdout(&out)
    );
    let worktrees = repo.git(&["worktree", "list", "--porcelain"]);
    assert_eq!(worktrees.matches("worktree ").count(), 2, "{worktrees}");
    assert!(worktrees.contains(&repo.hash("slow")[..12]), "{worktrees}");
    let out = cache.cmd(&["build", "--prune"]).output().unwrap();
    assert!(
        stdout(&out).starts_with("removed 1 build(s) and 1 worktree(s)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        repo.git(&["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
}

#[test]
fn doctor_says_whether_ccache_is_on_path() {
    let bin = tempfile::tempdir().unwrap();
    let ccache = bin.path().join("ccache");
    std::fs::write(&ccache, "#!/bin/sh\nexit 0\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ccache, std::fs::Permissions::from_mode(0o755)).unwrap();
    let doctor = |path: &str| {
        let out = Command::new(TOKBENCH)
            .arg("doctor")
            .env("PATH", path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let with = doctor(&bin.path().display().to_string());
    let line = format!(
        "ccache: {} (tokbench build uses it through GGML_CCACHE)",
        ccache.display()
    );
    assert!(with.contains(&line), "{with}");
    let empty = tempfile::tempdir().unwrap();
    let without = doctor(&empty.path().display().to_string());
    assert!(without.contains("ccache: not on PATH"), "{without}");
}
