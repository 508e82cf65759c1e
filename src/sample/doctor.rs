//! `tokbench doctor`: every sampler source, whether it can be used here and
//! why not, and the llama.cpp binaries on PATH with their versions.

use std::path::Path;
use std::time::Duration;

use super::probe::{auto_sources, probe, which};
use super::SourceKind;
use crate::parse::version::parse_build_info;
use crate::runner::process::query;

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
    out.push_str("llama.cpp binaries on PATH:\n");
    let mut any = false;
    for name in LLAMA_BINARIES {
        let Some(path) = which(name) else { continue };
        any = true;
        out.push_str(&format!(
            "  {name:<17} {} ({})\n",
            path.display(),
            version_of(&path)
        ));
    }
    if !any {
        out.push_str("  none found (pass --bin PATH to 'tokbench run')\n");
    }
    out
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
