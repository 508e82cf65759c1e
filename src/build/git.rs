//! The git operations `tokbench build` and `tokbench bisect` need, each one
//! `git -C DIR ...` without a shell. Output is read in the C locale so that
//! messages tokbench parses (bisect's) do not depend on the user's language.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sha2::{Digest, Sha256};

/// What failed when git was asked for something.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git ({0}): install git or put it on PATH")]
    Spawn(String),
    #[error("'{0}' is not a git checkout: pass --src the directory of a llama.cpp git clone")]
    NotACheckout(String),
    #[error("unknown revision '{rev}' in '{dir}': pass a branch, tag, hash or HEAD~N that 'git rev-parse' resolves, or WORKTREE")]
    UnknownRevision { rev: String, dir: String },
    #[error("'git {args}' failed in '{dir}' ({status}):\n{stderr}")]
    Failed {
        args: String,
        dir: String,
        status: String,
        stderr: String,
    },
}

/// Runs `git -C dir args...` and returns its raw output, failing on a
/// non-zero exit.
pub fn run_raw(dir: &Path, args: &[&str]) -> Result<Output, GitError> {
    let out = command(dir, args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| GitError::Spawn(e.to_string()))?;
    if out.status.success() {
        return Ok(out);
    }
    Err(GitError::Failed {
        args: args.join(" "),
        dir: dir.display().to_string(),
        status: out.status.to_string(),
        stderr: last_lines(&String::from_utf8_lossy(&out.stderr), 20),
    })
}

/// `git -C dir args...`, stdout as text with the final newline removed.
pub fn run(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let out = run_raw(dir, args)?;
    Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

/// The command, not yet run: `git -C dir args...` in the C locale.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir).args(args).env("LC_ALL", "C");
    cmd
}

/// The last `n` lines of `text`.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The top of the checkout `dir` is in, or [`GitError::NotACheckout`].
pub fn toplevel(dir: &Path) -> Result<PathBuf, GitError> {
    let shown = dir.display().to_string();
    if !dir.is_dir() {
        return Err(GitError::NotACheckout(shown));
    }
    match run(dir, &["rev-parse", "--show-toplevel"]) {
        Ok(top) if !top.is_empty() => Ok(PathBuf::from(top)),
        Ok(_) | Err(GitError::Failed { .. }) => Err(GitError::NotACheckout(shown)),
        Err(e) => Err(e),
    }
}

/// The full hash of the commit `rev` names.
pub fn resolve(dir: &Path, rev: &str) -> Result<String, GitError> {
    let spec = format!("{rev}^{{commit}}");
    match run(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ],
    ) {
        Ok(hash) if !hash.is_empty() => Ok(hash),
        Ok(_) | Err(GitError::Failed { .. }) => Err(GitError::UnknownRevision {
            rev: rev.to_string(),
            dir: dir.display().to_string(),
        }),
        Err(e) => Err(e),
    }
}

/// A commit's subject line and committer date (strict ISO 8601).
pub fn subject_and_date(dir: &Path, commit: &str) -> Result<(String, String), GitError> {
    let text = run(dir, &["show", "-s", "--format=%cI%n%s", commit])?;
    let (date, subject) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    Ok((subject.to_string(), date.to_string()))
}

/// Whether `ancestor` is an ancestor of (or equal to) `descendant`.
pub fn is_ancestor(dir: &Path, ancestor: &str, descendant: &str) -> Result<bool, GitError> {
    let status = command(dir, &["merge-base", "--is-ancestor", ancestor, descendant])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| GitError::Spawn(e.to_string()))?;
    match status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(GitError::Failed {
            args: format!("merge-base --is-ancestor {ancestor} {descendant}"),
            dir: dir.display().to_string(),
            status: status.to_string(),
            stderr: String::new(),
        }),
    }
}

/// The uncommitted state of a checkout: the diff against HEAD (staged and
/// unstaged, binary-safe) and the untracked files git does not ignore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncommitted {
    pub diff: Vec<u8>,
    pub untracked: Vec<PathBuf>,
    /// SHA-256 over the diff and each untracked file's name and content,
    /// first 16 hex digits: two states build alike only if these match.
    pub key: String,
}

impl Uncommitted {
    pub fn is_clean(&self) -> bool {
        self.diff.is_empty() && self.untracked.is_empty()
    }
}

/// Reads the checkout's uncommitted state (nothing in it is changed).
pub fn uncommitted(top: &Path) -> Result<Uncommitted, GitError> {
    let diff = run_raw(
        top,
        &["diff", "HEAD", "--binary", "--no-color", "--no-ext-diff"],
    )?
    .stdout;
    let listed = run_raw(top, &["ls-files", "--others", "--exclude-standard", "-z"])?.stdout;
    let mut untracked: Vec<PathBuf> = listed
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| PathBuf::from(String::from_utf8_lossy(s).into_owned()))
        .collect();
    untracked.sort();
    let mut h = Sha256::new();
    h.update(&diff);
    for f in &untracked {
        h.update(b"\0untracked\0");
        h.update(f.to_string_lossy().as_bytes());
        h.update(b"\0");
        // A file that vanished between listing and reading keys as empty.
        h.update(std::fs::read(top.join(f)).unwrap_or_default());
    }
    let key = hex::encode(h.finalize())[..16].to_string();
    Ok(Uncommitted {
        diff,
        untracked,
        key,
    })
}

/// Adds a detached worktree of `commit` at `path` (registered in `repo`).
pub fn add_worktree(repo: &Path, path: &Path, commit: &str) -> Result<(), GitError> {
    let shown = path.display().to_string();
    run(
        repo,
        &["worktree", "add", "--detach", "--force", &shown, commit],
    )
    .map(|_| ())
}

/// Removes a worktree tokbench added; one whose directory is already gone
/// is only unregistered.
pub fn remove_worktree(repo: &Path, path: &Path) -> Result<(), GitError> {
    if path.exists() {
        let shown = path.display().to_string();
        run(repo, &["worktree", "remove", "--force", "--force", &shown])?;
    }
    run(repo, &["worktree", "prune"]).map(|_| ())
}

/// Applies the uncommitted state of the user's checkout to a fresh worktree.
pub fn apply_uncommitted(src_top: &Path, wt: &Path, state: &Uncommitted) -> Result<(), GitError> {
    if !state.diff.is_empty() {
        apply_diff(wt, &state.diff)?;
    }
    for f in &state.untracked {
        let to = wt.join(f);
        let copied = to
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::copy(src_top.join(f), &to));
        copied.map_err(|e| GitError::Failed {
            args: format!("(copy of untracked file '{}')", f.display()),
            dir: wt.display().to_string(),
            status: "error".into(),
            stderr: e.to_string(),
        })?;
    }
    Ok(())
}

fn apply_diff(wt: &Path, diff: &[u8]) -> Result<(), GitError> {
    use std::io::Write;
    let mut child = command(wt, &["apply", "--binary", "--whitespace=nowarn", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| GitError::Spawn(e.to_string()))?;
    let wrote = child.stdin.take().map(|mut s| s.write_all(diff));
    let out = child
        .wait_with_output()
        .map_err(|e| GitError::Spawn(e.to_string()))?;
    if out.status.success() && !matches!(wrote, Some(Err(_))) {
        return Ok(());
    }
    Err(GitError::Failed {
        args: "apply --binary -".into(),
        dir: wt.display().to_string(),
        status: out.status.to_string(),
        stderr: last_lines(&String::from_utf8_lossy(&out.stderr), 20),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_keeps_the_tail() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines("a", 5), "a");
        assert_eq!(last_lines("", 3), "");
    }

    #[test]
    fn a_plain_directory_is_not_a_checkout() {
        let dir = tempfile::tempdir().unwrap();
        let err = toplevel(dir.path()).unwrap_err();
        assert!(matches!(err, GitError::NotACheckout(_)), "{err}");
        assert!(err.to_string().contains("is not a git checkout"), "{err}");
    }
}
