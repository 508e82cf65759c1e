//! `tokbench build` glue: the CLI options to build requests, then one
//! line block per revision (commit, subject, bin directory), `--list` and
//! `--prune`, as text or JSON.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::print_out;
use crate::build::cache::{self, human_bytes};
use crate::build::{build, prune, Built, Request};
use crate::cli::{BuildArgs, BuildFormat};
use crate::exit::Outcome;

pub fn run(args: &BuildArgs) -> Result<Outcome> {
    let cache = super::revs::cache_root()?;
    if args.list {
        return list(&cache, args.format);
    }
    if args.prune {
        return prune_cmd(&cache, args.keep.unwrap_or(0), args.format);
    }
    let src = args.src.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut built = Vec::new();
    let mut failed = false;
    for rev in &args.revs {
        let req = request(args, &src, rev, &cache);
        match build(&req) {
            Ok(b) => built.push(b),
            Err(e) => {
                crate::say!("error: {e}");
                failed = true;
            }
        }
    }
    let text = match args.format {
        BuildFormat::Text => render_built(&built),
        BuildFormat::Json => serde_json::to_string_pretty(&built)? + "\n",
    };
    print_out(&text)?;
    Ok(if failed { Outcome::Failed } else { Outcome::Ok })
}

fn request(args: &BuildArgs, src: &Path, rev: &str, cache: &Path) -> Request {
    let c = &args.compile;
    super::revs::request(src, rev, args.tools.clone(), &c.build, c.jobs, cache)
}

/// Per revision: `REV  <commit> <subject>`, then the bin directory and how
/// long this call took.
pub fn render_built(built: &[Built]) -> String {
    let mut out = String::new();
    for b in built {
        let short = &b.source.commit[..b.source.commit.len().min(12)];
        let dirty = match &b.source.dirty_key {
            Some(k) => format!(" + uncommitted changes {k}"),
            None => String::new(),
        };
        let how = if b.reused { "reused" } else { "built" };
        out.push_str(&format!("{}: {short}{dirty} {}\n", b.rev, b.source.subject));
        out.push_str(&format!("  bin: {}\n", b.bin_dir.display()));
        out.push_str(&format!(
            "  {how} in {:.1} s ({})\n",
            b.seconds, b.source.backend
        ));
    }
    out
}

fn list(cache: &Path, format: BuildFormat) -> Result<Outcome> {
    let builds = cache::list(cache);
    let total: u64 = builds.iter().map(|c| c.size_bytes).sum();
    let text = match format {
        BuildFormat::Json => {
            let doc = serde_json::json!({
                "cache": cache::builds_root(cache),
                "total_bytes": total,
                "builds": builds,
            });
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        BuildFormat::Text => render_list(cache, &builds, total),
    };
    print_out(&text)?;
    Ok(Outcome::Ok)
}

fn render_list(cache: &Path, builds: &[cache::Cached], total: u64) -> String {
    let mut out = String::new();
    for c in builds {
        let m = &c.meta;
        let dirty = if m.source.dirty {
            " (uncommitted changes)"
        } else {
            ""
        };
        out.push_str(&format!(
            "{:<40} {:>10}  {}{dirty}\n    {}  last used {}\n",
            m.key,
            human_bytes(c.size_bytes),
            m.source.subject,
            m.bin_dir.display(),
            m.last_used
        ));
    }
    let root = cache::builds_root(cache);
    out.push_str(&format!(
        "{} build(s), {} in '{}'\n",
        builds.len(),
        human_bytes(total),
        root.display()
    ));
    if let Some(w) =
        cache::disk_space(&root).and_then(|(f, t)| cache::low_disk_warning(&root, f, t))
    {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

fn prune_cmd(cache: &Path, keep: usize, format: BuildFormat) -> Result<Outcome> {
    let p = prune::prune(cache, keep);
    for e in &p.errors {
        crate::say!("error: {e}");
    }
    let text = match format {
        BuildFormat::Json => serde_json::to_string_pretty(&p)? + "\n",
        BuildFormat::Text => format!(
            "removed {} build(s) and {} worktree(s), {}; kept {}\n",
            p.builds.len(),
            p.worktrees.len(),
            human_bytes(p.bytes),
            p.kept
        ),
    };
    print_out(&text)?;
    Ok(if p.errors.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Failed
    })
}
