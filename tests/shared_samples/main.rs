//! The shared-samples suite: parser checks on public samples from other
//! people's repositories (`shared/samples/public/`, see its SOURCES.md),
//! which are read at run time and never copied into the project.
//!
//! It runs when `$TOKBENCH_SHARED_DIR/samples/public` exists, by default
//! `../shared/samples/public` beside the crate. Without it the suite prints
//! one line saying how to enable it and passes: a plain clone has no
//! `../shared`, and the project's own fixtures (`fixtures/`) still check every
//! format in the unit tests. When `TOKBENCH_SHARED_DIR` is set the directory
//! is required, so CI (`.ci/run` sets it) fails instead of skipping.
//!
//! A custom harness (`harness = false`): libtest has no run-time skip, and
//! skipped checks must not be counted as passed.

mod samplers;
mod timings;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// One named check; it panics (assert) when the sample reads wrong.
pub struct Check {
    pub name: &'static str,
    pub run: fn(&Samples),
}

/// The public samples directory.
pub struct Samples {
    dir: PathBuf,
}

impl Samples {
    pub fn text(&self, name: &str) -> String {
        let path = self.dir.join(name);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read '{}': {e}", path.display()))
    }
}

/// `Ok(dir)` to run, `Err(line)` to skip (`required` false) or fail.
fn locate() -> (Result<PathBuf, String>, bool) {
    let explicit = std::env::var_os("TOKBENCH_SHARED_DIR").map(PathBuf::from);
    let required = explicit.is_some();
    let shared =
        explicit.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let dir = shared.join("samples/public");
    if dir.is_dir() {
        return (Ok(dir), required);
    }
    let why = if required {
        format!(
            "shared-samples suite: TOKBENCH_SHARED_DIR is set but '{}' is not a directory",
            dir.display()
        )
    } else {
        format!(
            "shared-samples suite skipped: no '{}'; set TOKBENCH_SHARED_DIR=/path/to/shared to run its checks",
            dir.display()
        )
    };
    (Err(why), required)
}

fn all_checks() -> Vec<Check> {
    let mut v = timings::checks();
    v.extend(samplers::checks());
    v
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    let checks: Vec<Check> = all_checks()
        .into_iter()
        .filter(|c| filter.as_deref().is_none_or(|f| c.name.contains(f)))
        .collect();
    if args.iter().any(|a| a == "--list") {
        for c in &checks {
            println!("{}: test", c.name);
        }
        return ExitCode::SUCCESS;
    }
    let dir = match locate() {
        (Ok(dir), _) => dir,
        (Err(line), required) => {
            println!("{line}");
            return if required {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    run(&Samples { dir }, &checks)
}

fn run(samples: &Samples, checks: &[Check]) -> ExitCode {
    println!(
        "\nrunning {} shared-samples checks on '{}'",
        checks.len(),
        samples.dir.display()
    );
    let mut failed = Vec::new();
    for c in checks {
        let ok = catch_unwind(AssertUnwindSafe(|| (c.run)(samples))).is_ok();
        println!("test {} ... {}", c.name, if ok { "ok" } else { "FAILED" });
        if !ok {
            failed.push(c.name);
        }
    }
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\nshared-samples result: {verdict}. {} passed; {} failed",
        checks.len() - failed.len(),
        failed.len()
    );
    for name in &failed {
        println!("    {name}");
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
