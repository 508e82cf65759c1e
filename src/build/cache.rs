//! Where builds live in tokbench's cache, what each one records about
//! itself, and the housekeeping on them (list, sizes, prune, free disk).
//!
//! ```text
//! $TOKBENCH_CACHE_DIR/builds/<checkout>-<id>/      one per user checkout
//!     wt/<source>/                 git worktree of the commit (+ changes)
//!     wt/<source>.ready            the worktree is complete
//!     <source>-<backend>-<cfg>/    CMake build dir: bin/, build.log, tokbench-build.json
//!     <source>-<backend>-<cfg>.lock
//! ```
//! `<source>` is the commit's first 12 hex digits, with `+<key>` for a
//! checkout's uncommitted changes; `<cfg>` hashes the CMake arguments and
//! the compiler. The quickstart's `llama.cpp-<commit>` directories beside
//! `builds/` are not tokbench build's and are left alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::SourceInfo;

/// The metadata file in each build directory.
pub const META_FILE: &str = "tokbench-build.json";
pub const LOG_FILE: &str = "build.log";
/// Free space under which a build warns (a CPU build of llama.cpp takes
/// about 0.5 GB, a CUDA one several).
const LOW_DISK_BYTES: u64 = 5 << 30;

/// tokbench's cache directory: `TOKBENCH_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/tokbench`, else `~/.cache/tokbench` (as the quickstart).
pub fn root() -> Option<PathBuf> {
    let non_empty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    non_empty("TOKBENCH_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| non_empty("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("tokbench")))
        .or_else(|| non_empty("HOME").map(|h| PathBuf::from(h).join(".cache/tokbench")))
}

/// The directory of tokbench build's own builds in the cache.
pub fn builds_root(cache: &Path) -> PathBuf {
    cache.join("builds")
}

/// The directory for one user checkout (its git common dir identifies it,
/// so linked worktrees of one clone share their builds).
pub fn repo_dir(cache: &Path, toplevel: &Path, common_dir: &Path) -> PathBuf {
    let name = toplevel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "src".into());
    let id = short_hash(common_dir.to_string_lossy().as_bytes(), 8);
    builds_root(cache).join(format!("{name}-{id}"))
}

/// First `n` hex digits of SHA-256 of `bytes`.
pub fn short_hash(bytes: &[u8], n: usize) -> String {
    hex::encode(Sha256::digest(bytes))[..n].to_string()
}

/// `<commit12>` or `<commit12>+<dirty key>`.
pub fn source_key(commit: &str, dirty_key: Option<&str>) -> String {
    let short = &commit[..commit.len().min(12)];
    match dirty_key {
        Some(k) => format!("{short}+{k}"),
        None => short.to_string(),
    }
}

/// `<source>-<backend>-<cfg8>`, `<cfg8>` over the configure arguments and
/// the compiler identity.
pub fn build_key(source: &str, backend: &str, cmake_args: &[String], compiler: &str) -> String {
    let mut text = compiler.to_string();
    for a in cmake_args {
        text.push('\0');
        text.push_str(a);
    }
    format!("{source}-{backend}-{}", short_hash(text.as_bytes(), 8))
}

/// What a build directory records about itself (`tokbench-build.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildMeta {
    pub key: String,
    pub source: SourceInfo,
    pub worktree: PathBuf,
    pub build_dir: PathBuf,
    pub bin_dir: PathBuf,
    /// Tool asked for -> the target that built it at this commit.
    #[serde(default)]
    pub tools: BTreeMap<String, String>,
    /// RFC 3339 times.
    pub built_at: String,
    #[serde(default)]
    pub last_used: String,
    /// Wall time of the configure and build steps that made it.
    #[serde(default)]
    pub build_seconds: f64,
}

impl BuildMeta {
    pub fn read(build_dir: &Path) -> Option<BuildMeta> {
        let text = std::fs::read_to_string(build_dir.join(META_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Written to a temporary file and renamed, so that a reader never sees
    /// half of it.
    pub fn write(&self) -> std::io::Result<()> {
        let path = self.build_dir.join(META_FILE);
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text + "\n")?;
        std::fs::rename(&tmp, &path)
    }
}

/// The source of a binary that `tokbench build` made: the build's
/// metadata sits in the build directory above its `bin` (or `bin/<config>`).
pub fn source_of_binary(bin: &Path) -> Option<SourceInfo> {
    let bin = bin.canonicalize().ok()?;
    bin.ancestors().skip(1).take(3).find_map(|dir| {
        let meta = BuildMeta::read(dir)?;
        bin.starts_with(meta.bin_dir.canonicalize().ok()?)
            .then_some(meta.source)
    })
}

/// A build in the cache, as `build --list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Cached {
    pub meta: BuildMeta,
    pub size_bytes: u64,
}

/// Every completed build in the cache, most recently used first.
pub fn list(cache: &Path) -> Vec<Cached> {
    let mut found: Vec<Cached> = Vec::new();
    for repo in subdirs(&builds_root(cache)) {
        for dir in subdirs(&repo) {
            if let Some(meta) = BuildMeta::read(&dir) {
                let size_bytes = dir_size(&dir) + dir_size(&meta.worktree);
                found.push(Cached { meta, size_bytes });
            }
        }
    }
    found.sort_by(|a, b| b.meta.last_used.cmp(&a.meta.last_used));
    found
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

/// Bytes in the files under `path`, links not followed.
pub fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| dir_size(&e.path())).sum())
        .unwrap_or(0)
}

/// Free and total bytes of the file system holding `path` (or its nearest
/// existing parent).
pub fn disk_space(path: &Path) -> Option<(u64, u64)> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let st = nix::sys::statvfs::statvfs(existing).ok()?;
    let unit = st.fragment_size() as u64;
    Some((
        st.blocks_available() as u64 * unit,
        st.blocks() as u64 * unit,
    ))
}

/// A warning when the cache's disk is nearly full.
pub fn low_disk_warning(cache: &Path, free: u64, total: u64) -> Option<String> {
    let low = free < LOW_DISK_BYTES || (total > 0 && free * 20 < total);
    low.then(|| {
        format!(
            "the disk holding '{}' is nearly full ({} free of {}): a llama.cpp build needs 0.5-5 GB; free space with 'tokbench build --prune --keep N'",
            cache.display(),
            human_bytes(free),
            human_bytes(total)
        )
    })
}

/// `1.5 GiB`, `320 MiB`, `12 KiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_commits_changes_and_configurations() {
        let commit = "0c1e5701234567890abcdef";
        assert_eq!(source_key(commit, None), "0c1e57012345");
        assert_eq!(source_key(commit, Some("ab12")), "0c1e57012345+ab12");
        let args = vec!["-DGGML_CUDA=ON".to_string()];
        let a = build_key("0c1e57012345", "cuda", &args, "g++ 13");
        assert!(a.starts_with("0c1e57012345-cuda-"), "{a}");
        assert_eq!(a, build_key("0c1e57012345", "cuda", &args, "g++ 13"));
        assert_ne!(a, build_key("0c1e57012345", "cuda", &args, "clang++ 18"));
        assert_ne!(a, build_key("0c1e57012345", "cuda", &[], "g++ 13"));
    }

    #[test]
    fn low_disk_is_absolute_or_relative() {
        let gib = 1u64 << 30;
        assert!(low_disk_warning(Path::new("/c"), 2 * gib, 100 * gib).is_some());
        assert!(low_disk_warning(Path::new("/c"), 40 * gib, 1000 * gib).is_some());
        assert!(low_disk_warning(Path::new("/c"), 40 * gib, 100 * gib).is_none());
        let text = low_disk_warning(Path::new("/c"), gib, 10 * gib).unwrap();
        assert!(text.contains("1.0 GiB free of 10.0 GiB"), "{text}");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 << 30), "5.0 GiB");
    }

    #[test]
    fn dir_size_adds_nested_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/x"), [0u8; 100]).unwrap();
        std::fs::write(dir.path().join("y"), [0u8; 23]).unwrap();
        assert_eq!(dir_size(dir.path()), 123);
    }
}
