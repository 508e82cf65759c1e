//! `compare --src DIR --a-rev REV --b-rev REV`: each side given as a
//! revision is built (or found in the cache) through [`crate::build::build`],
//! then the comparison runs exactly as for two binaries. Labels default to
//! the short commit and its subject. `--git-bisect-exit` maps the verdict
//! to `git bisect run`'s convention ([`git_bisect_outcome`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::build::{build, cache, Built, Request};
use crate::cli::{BuildOpts, CompareArgs};
use crate::compare::report::CompareReport;
use crate::compare::stats::Verdict;
use crate::exit::Outcome;

/// `git bisect run`: the commit is good.
pub const GIT_GOOD: u8 = 0;
/// `git bisect run`: the commit is bad.
pub const GIT_BAD: u8 = 1;
/// `git bisect run`: the commit cannot be tested (skip it).
pub const GIT_SKIP: u8 = 125;

/// tokbench's cache directory, or an error saying how to set one.
pub fn cache_root() -> Result<PathBuf> {
    cache::root().context(
        "no cache directory: set TOKBENCH_CACHE_DIR (or HOME) to where tokbench may keep builds",
    )
}

/// The build request of `tools` at `rev` with the command's build options.
pub fn request(
    src: &Path,
    rev: &str,
    tools: Vec<String>,
    opts: &BuildOpts,
    jobs: Option<u32>,
    cache: &Path,
) -> Request {
    Request {
        jobs,
        ..Request::new(
            src,
            rev,
            tools,
            opts.backend,
            opts.cmake_args.clone(),
            cache,
        )
    }
}

/// What to build a tool with, for every revision of one command.
#[derive(Debug, Clone)]
pub struct ToolBuild {
    pub src: PathBuf,
    pub tool: String,
    pub opts: BuildOpts,
    pub jobs: Option<u32>,
    pub cache: PathBuf,
}

impl ToolBuild {
    pub fn request(&self, rev: &str) -> Request {
        request(
            &self.src,
            rev,
            vec![self.tool.clone()],
            &self.opts,
            self.jobs,
            &self.cache,
        )
    }

    /// Builds (or reuses) `rev` and returns the build with the tool's path;
    /// a failure is a [`BuildFailed`].
    pub fn build(&self, rev: &str) -> Result<(Built, PathBuf)> {
        let req = self.request(rev);
        let b = build(&req).map_err(|e| BuildFailed(e.to_string()))?;
        let how = if b.reused { "reused" } else { "built" };
        crate::say!(
            "tokbench: {rev} = {} {how} in {:.1} s: {}",
            label(&b),
            b.seconds,
            b.bin_dir.display()
        );
        let path =
            b.tools.get(&self.tool).cloned().ok_or_else(|| {
                BuildFailed(format!("the build of {} has no {}", b.rev, self.tool))
            })?;
        Ok((b, path))
    }
}

/// Builds the sides given as revisions and returns the arguments of the
/// plain two-binary comparison, with their builds. A side given as a path
/// stays as it is.
pub fn prepare(args: &CompareArgs) -> Result<(CompareArgs, Vec<Built>)> {
    let tb = ToolBuild {
        src: args.revs.src.clone().unwrap_or_else(|| PathBuf::from(".")),
        tool: args.revs.tool.clone(),
        opts: args.revs.build.clone(),
        jobs: None,
        cache: cache_root()?,
    };
    let mut out = args.clone();
    let mut built = Vec::new();
    if let Some(rev) = &args.revs.a_rev {
        let (b, path) = tb.build(rev)?;
        out.a = Some(path);
        out.a_label = args.a_label.clone().or_else(|| Some(label(&b)));
        built.push(b);
    }
    if let Some(rev) = &args.revs.b_rev {
        let (b, path) = tb.build(rev)?;
        out.b = Some(path);
        out.b_label = args.b_label.clone().or_else(|| Some(label(&b)));
        built.push(b);
    }
    if out.a.is_none() {
        return Err(crate::exit::UsageError(
            "--b-rev needs side A too: --a-rev REV or --a PATH".into(),
        )
        .into());
    }
    Ok((out, built))
}

/// A side's build failed: `--git-bisect-exit` skips the commit.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BuildFailed(pub String);

/// `<short commit> <subject>` (`+dirty` for uncommitted changes).
pub fn label(b: &Built) -> String {
    let s = &b.source;
    let short = &s.commit[..s.commit.len().min(9)];
    let dirty = if s.dirty { "+dirty" } else { "" };
    format!("{short}{dirty} {}", s.subject)
}

/// The verdict on the primary metric in `git bisect run`'s terms: B like
/// A or better is good (0), B worse beyond the threshold with 95%
/// confidence is bad (1), anything undecided or a failed run is 125.
pub fn git_bisect_outcome(report: &CompareReport) -> Outcome {
    if !report.failed_runs.is_empty() {
        return Outcome::Code(GIT_SKIP);
    }
    let primary = report
        .metrics
        .iter()
        .find(|m| m.metric == report.primary_metric);
    Outcome::Code(match primary.map(|m| m.comparison.verdict) {
        Some(Verdict::Slower) => GIT_BAD,
        Some(Verdict::Faster | Verdict::NoChange) => GIT_GOOD,
        Some(Verdict::Inconclusive) | None => GIT_SKIP,
    })
}
