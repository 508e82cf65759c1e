//! A test repository: a real git repository of a small CMake C++ project
//! whose tool prints llama.cpp-format timing blocks (the 2026
//! `common_perf_print` shape, `fixtures/llama/2026_common_perf_plain.txt`)
//! at a rate set in its source, sleeping for the time it reports, with
//! noise. [`TestRepo::standard`] commits a history with an unrelated
//! change, a rename of the binary, a commit that does not build, a
//! planted slowdown and more unrelated commits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Directories where cmake may be when it is not on PATH (this machine's
/// pip-installed one); CI installs it with apt.
const CMAKE_FALLBACK_DIRS: [&str; 1] = ["/tmp/tools/bin"];

/// PATH with cmake on it, for the tokbench processes the tests start.
pub fn path_with_cmake() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    let on_path = std::env::split_paths(&path).any(|d| d.join("cmake").is_file());
    let extra = CMAKE_FALLBACK_DIRS
        .iter()
        .find(|d| Path::new(d).join("cmake").is_file());
    match extra {
        Some(d) if !on_path => format!("{d}:{path}"),
        _ => {
            assert!(
                on_path,
                "cmake is needed by the build tests: install it (apt install cmake)"
            );
            path
        }
    }
}

/// Runs a built tool and returns the ms per token its eval line printed.
pub fn eval_ms_per_token(bin: &Path) -> f64 {
    let out = Command::new(bin).args(["-n", "20"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains(" eval time") && !l.contains("prompt"))
        .unwrap()
        .to_string();
    let per = line
        .split('(')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    per.parse().unwrap()
}

const CMAKELISTS: &str = r#"cmake_minimum_required(VERSION 3.14)
project(fakellama CXX)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
include(tool.cmake)
add_executable(${TOOL_NAME} src/main.cpp)
add_executable(llama-bench src/bench.cpp)
"#;

const BENCH: &str = "int main() { return 0; }\n";

/// The tool: `--help` and `--version` like llama.cpp's, then a run that
/// sleeps for the prompt and eval times it prints.
const MAIN: &str = r#"#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include "rate.h"

static const char *HELP =
    "-h,    --help, --usage                  print usage and exit\n"
    "--version                               show version and build info\n"
    "-m,    --model FNAME                    model path\n"
    "-p,    --prompt PROMPT                  prompt to start generation with\n"
    "-n,    --predict, --n-predict N         number of tokens to predict\n"
    "-s,    --seed SEED                      RNG seed\n"
    "--temp N                                temperature\n"
    "-ngl,  --gpu-layers, --n-gpu-layers N   max. number of layers to store in VRAM\n"
    "--no-warmup                             skip warming up the model with an empty run\n"
    "--ignore-eos                            ignore end of stream token\n"
    "-no-cnv, --no-conversation              force disable conversation mode\n";

static void line(const char *what, double ms, int n, const char *unit) {
    fprintf(stderr, "common_perf_print: %16s = %10.2f ms / %5d %-6s (%8.2f ms per token, %8.2f tokens per second)\n",
            what, ms, n, unit, ms / n, 1e3 * n / ms);
}

int main(int argc, char **argv) {
    int n_predict = 16, n_prompt = 8;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") { fputs(HELP, stdout); return 0; }
        if (a == "--version") { fprintf(stderr, "version: 1 (build 1, commit fake)\nbuilt with c++ for test\n"); return 0; }
        if ((a == "-n" || a == "--n-predict" || a == "--predict") && i + 1 < argc) n_predict = atoi(argv[++i]);
        else if ((a == "-p" || a == "--prompt") && i + 1 < argc) n_prompt = 1 + (int)strlen(argv[++i]) / 4;
    }
    if (n_predict < 2) n_predict = 2;
    std::random_device rd;
    std::mt19937 gen(rd());
    std::normal_distribution<double> noise(0.0, NOISE);
    double prompt_ms = n_prompt * PROMPT_MS_PER_TOKEN * (1.0 + noise(gen));
    double eval_ms = (n_predict - 1) * EVAL_MS_PER_TOKEN * (1.0 + noise(gen));
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(prompt_ms + eval_ms));
    fprintf(stderr, "common_perf_print:        load time =      10.00 ms\n");
    line("prompt eval time", prompt_ms, n_prompt, "tokens");
    line("eval time", eval_ms, n_predict - 1, "runs  ");
    fprintf(stderr, "common_perf_print:       total time = %10.2f ms / %5d tokens\n",
            prompt_ms + eval_ms, n_prompt + n_predict - 1);
    return 0;
}
"#;

fn rate_h(eval_ms: f64, prompt_ms: f64) -> String {
    format!(
        "#pragma once\n#define EVAL_MS_PER_TOKEN {eval_ms:.3}\n#define PROMPT_MS_PER_TOKEN {prompt_ms:.3}\n#define NOISE 0.01\n"
    )
}

fn tool_cmake(name: &str) -> String {
    format!("set(TOOL_NAME {name})\n")
}

/// A git repository in a temporary directory.
pub struct TestRepo {
    dir: tempfile::TempDir,
    /// Commit name (as [`TestRepo::standard`] gives them) -> full hash.
    pub commits: BTreeMap<&'static str, String>,
}

impl TestRepo {
    /// An empty repository with the project at `eval_ms` per token, tool
    /// named `tool`, committed as `initial`.
    pub fn new(eval_ms: f64, tool: &str) -> TestRepo {
        let dir = tempfile::tempdir().unwrap();
        let repo = TestRepo {
            dir,
            commits: BTreeMap::new(),
        };
        repo.git(&["init", "-q", "-b", "master"]);
        repo.write("CMakeLists.txt", CMAKELISTS);
        repo.write("tool.cmake", &tool_cmake(tool));
        repo.write("src/main.cpp", MAIN);
        repo.write("src/bench.cpp", BENCH);
        repo.write("src/rate.h", &rate_h(eval_ms, 0.5));
        repo.write(".gitignore", "/build/\n");
        repo
    }

    /// The history the tests use, oldest first (name: what it changes):
    /// `initial` (2 ms/token, tool `llama-cli`), `docs`, `rename` (tool
    /// becomes `llama-completion`), `docs2`, `broken` (does not compile),
    /// `fixed`, `slow` (3 ms/token), `docs3`, `scripts`.
    pub fn standard() -> TestRepo {
        let mut r = TestRepo::new(2.0, "llama-cli");
        r.commit("initial", "initial: fake llama at 2 ms/token");
        r.write("docs/notes.md", "notes\n");
        r.commit("docs", "docs: notes");
        r.write("tool.cmake", &tool_cmake("llama-completion"));
        r.commit("rename", "rename llama-cli to llama-completion");
        r.write("docs/notes.md", "notes, more\n");
        r.commit("docs2", "docs: more notes");
        r.write(
            "src/main.cpp",
            &MAIN.replace("int main(int argc", "int main(int argc BROKEN"),
        );
        r.commit("broken", "refactor main (does not build)");
        r.write("src/main.cpp", MAIN);
        r.commit("fixed", "fix the build");
        r.write("src/rate.h", &rate_h(3.0, 0.5));
        r.commit("slow", "decode: slower kernel (3 ms/token)");
        r.write("docs/notes.md", "notes, even more\n");
        r.commit("docs3", "docs: after the slowdown");
        r.write("scripts/run.sh", "#!/bin/sh\necho hi\n");
        r.commit("scripts", "scripts: add run.sh");
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn hash(&self, name: &str) -> &str {
        &self.commits[name]
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Commits everything with `subject` and tags the commit `name`.
    pub fn commit(&mut self, name: &'static str, subject: &str) -> String {
        self.git(&["add", "-A"]);
        let n = self.commits.len();
        // Distinct, increasing dates keep the history's order unambiguous.
        let date = format!("2026-01-01T00:{:02}:00Z", n);
        let out = self
            .git_cmd(&["commit", "-q", "-m", subject])
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let hash = self.git(&["rev-parse", "HEAD"]);
        // Tagged with its name, as llama.cpp tags its builds (b7001).
        self.git(&["tag", name]);
        self.commits.insert(name, hash.clone());
        hash
    }

    fn git_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("git");
        c.arg("-C")
            .arg(self.path())
            .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .env("LC_ALL", "C");
        c
    }

    /// Runs git in the repository and returns its trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// HEAD, `git status --porcelain`, and every file's content outside
    /// `.git`: equal before and after means the checkout was not touched.
    pub fn snapshot(&self) -> (String, String, Vec<(PathBuf, Vec<u8>)>) {
        let mut files = Vec::new();
        collect(self.path(), self.path(), &mut files);
        files.sort();
        (
            self.git(&["rev-parse", "HEAD"]),
            self.git(&["status", "--porcelain"]),
            files,
        )
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == ".git") {
            continue;
        }
        if p.is_dir() {
            collect(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            out.push((rel, std::fs::read(&p).unwrap()));
        }
    }
}
