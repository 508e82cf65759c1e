//! `tokbench build --prune [--keep N]`: removes cached builds (the least
//! recently used first, keeping N), the build directories left by failed
//! builds, and the worktrees no remaining build uses (unregistered from the
//! user's checkout with `git worktree remove`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::cache::{self, BuildMeta};
use super::{git, lock};

/// What a prune removed.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Pruned {
    pub builds: Vec<String>,
    pub worktrees: Vec<PathBuf>,
    pub bytes: u64,
    pub kept: usize,
    /// Things that could not be removed, with why.
    pub errors: Vec<String>,
}

/// Removes all but the `keep` most recently used builds under `cache`.
pub fn prune(cache: &Path, keep: usize) -> Pruned {
    let builds = cache::list(cache);
    let mut out = Pruned {
        kept: keep.min(builds.len()),
        ..Pruned::default()
    };
    let (kept, gone) = builds.split_at(out.kept);
    for c in gone {
        if remove_build(&c.meta.build_dir, false, &mut out) {
            out.builds.push(c.meta.key.clone());
        }
    }
    for repo in repo_dirs(cache) {
        remove_incomplete(&repo, &mut out);
    }
    let in_use: BTreeSet<&Path> = kept.iter().map(|c| c.meta.worktree.as_path()).collect();
    for c in gone {
        let wt = c.meta.worktree.as_path();
        if !in_use.contains(wt) && wt.exists() && !out.worktrees.iter().any(|w| w == wt) {
            remove_worktree(&c.meta, &mut out);
        }
    }
    out
}

fn repo_dirs(cache: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(cache::builds_root(cache))
        .map(|e| {
            e.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default()
}

/// Build directories without metadata: a build that failed or was stopped.
fn remove_incomplete(repo: &Path, out: &mut Pruned) {
    let Ok(entries) = std::fs::read_dir(repo) else {
        return;
    };
    for dir in entries.flatten().map(|e| e.path()) {
        let is_build = dir.is_dir() && dir.file_name().is_some_and(|n| n != "wt");
        if is_build && BuildMeta::read(&dir).is_none() && remove_build(&dir, true, out) {
            out.builds.push(format!("{} (incomplete)", dir.display()));
        }
    }
}

/// Removes a build directory under its lock, so that a build in progress
/// finishes first (and, when `only_incomplete`, is then kept). Returns
/// whether it was removed.
fn remove_build(dir: &Path, only_incomplete: bool, out: &mut Pruned) -> bool {
    let lock_path = dir.with_extension("lock");
    let lock = lock::acquire(&lock_path, |_| {
        crate::say!(
            "tokbench: '{}' is being built; waiting for it",
            dir.display()
        );
    });
    if only_incomplete && BuildMeta::read(dir).is_some() {
        return false;
    }
    let size = cache::dir_size(dir);
    let removed = match std::fs::remove_dir_all(dir) {
        Ok(()) => {
            out.bytes += size;
            true
        }
        Err(e) => {
            out.errors
                .push(format!("cannot remove '{}': {e}", dir.display()));
            false
        }
    };
    drop(lock);
    removed
}

fn remove_worktree(meta: &BuildMeta, out: &mut Pruned) {
    let wt = &meta.worktree;
    let size = cache::dir_size(wt);
    let repo = Path::new(&meta.source.repo);
    let via_git = repo.is_dir() && git::remove_worktree(repo, wt).is_ok();
    if !via_git {
        // The checkout moved or is gone: its registration goes with it.
        if let Err(e) = std::fs::remove_dir_all(wt) {
            out.errors
                .push(format!("cannot remove worktree '{}': {e}", wt.display()));
            return;
        }
    }
    if let (Some(parent), Some(name)) = (wt.parent(), wt.file_name()) {
        let _ = std::fs::remove_file(parent.join(format!("{}.ready", name.to_string_lossy())));
    }
    out.bytes += size;
    out.worktrees.push(wt.clone());
}
