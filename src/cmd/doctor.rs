//! `tokbench doctor`: every sampler source, whether it can be used here and
//! why not, and the llama.cpp binaries it can find (`$LLAMA_CPP_BIN_DIR`,
//! the quickstart's cache, PATH) with their versions.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::parse::version::parse_build_info;
use crate::runner::process::query;
use crate::sample::probe::{auto_sources, probe, which};
use crate::sample::SourceKind;

/// llama.cpp binaries looked for on PATH.
const LLAMA_BINARIES: [&str; 5] = [
    "llama-completion",
    "llama-cli",
    "llama-bench",
    "llama-server",
    "main",
];
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

/// The report, one line per item.
pub fn report() -> String {
    let auto = auto_sources();
    let mut out = String::from("samplers:\n");
    for k in SourceKind::ALL {
        let p = probe(k);
        let state = if p.usable { "usable" } else { "not usable" };
        let in_auto = if auto.contains(&k) { ", in auto" } else { "" };
        out.push_str(&format!("  {k:<13} {state}{in_auto}: {}\n", p.why));
    }
    out.push_str("llama.cpp binaries ($LLAMA_CPP_BIN_DIR, the quickstart cache, PATH):\n");
    let found = llama_binaries();
    for (name, path) in &found {
        out.push_str(&format!(
            "  {name:<17} {} ({})\n",
            path.display(),
            version_of(path)
        ));
    }
    if found.is_empty() {
        out.push_str(
            "  none found (pass --bin PATH to 'tokbench run', or run scripts/quickstart.sh)\n",
        );
    }
    out.push_str(&ccache_line());
    out
}

/// `tokbench build` compiles through ccache when it is on PATH (llama.cpp's
/// `GGML_CCACHE`, on by default): rebuilding nearby commits is then fast.
fn ccache_line() -> String {
    match which("ccache") {
        Some(p) => format!("ccache: {} (tokbench build uses it through GGML_CCACHE)\n", p.display()),
        None => "ccache: not on PATH (tokbench build compiles every commit from scratch; install ccache to reuse objects between commits)\n".to_string(),
    }
}

/// Directories where llama.cpp builds are found without PATH:
/// `$LLAMA_CPP_BIN_DIR` and the builds `scripts/quickstart.sh` caches.
fn known_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("LLAMA_CPP_BIN_DIR")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    let cache = crate::build::cache::root();
    if let Some(Ok(entries)) = cache.map(std::fs::read_dir) {
        let mut builds: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("llama.cpp-"))
            .map(|e| e.path().join("build/bin"))
            .filter(|d| d.is_dir())
            .collect();
        builds.sort();
        dirs.extend(builds);
    }
    dirs
}

/// Every llama.cpp binary found, each path once.
fn llama_binaries() -> Vec<(&'static str, PathBuf)> {
    let mut found: Vec<(&'static str, PathBuf)> = Vec::new();
    for name in LLAMA_BINARIES {
        let in_dirs = known_dirs()
            .into_iter()
            .map(|d| d.join(name))
            .filter(|p| p.is_file());
        for path in in_dirs.chain(which(name)) {
            if !found.iter().any(|(_, p)| *p == path) {
                found.push((name, path));
            }
        }
    }
    found
}

fn version_of(path: &Path) -> String {
    match query(path, &["--version"], VERSION_TIMEOUT) {
        Ok((_, text)) => match parse_build_info(&text) {
            Some(b) => crate::report::build_line(&b),
            None => "no version banner".to_string(),
        },
        Err(e) => e.to_string(),
    }
}
