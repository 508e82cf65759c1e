//! What a llama.cpp binary is and which flags it takes, read from its own
//! `--help` and `--version` rather than guessed from its file name: builds
//! of every era are called `main`, `llama-cli`, `llama-completion`, or
//! whatever a packager chose.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::model::BuildInfo;
use crate::parse::version::parse_build_info;
use crate::runner::process::{query, Ending};

const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// The kind of tool, as far as tokbench drives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToolKind {
    /// llama-completion, the llama-cli of 2024-2025, legacy `main`: one
    /// generation per process, timings on stderr.
    Completion,
    /// The interactive llama-cli of late 2025 on, which prints only a
    /// `[ Prompt: x t/s | Generation: y t/s ]` footer (on stdout, also when
    /// stdout is not a terminal); driven with `--single-turn`.
    InteractiveCli,
    /// llama-bench.
    Bench,
    /// test-backend-ops (`tokbench ops`): its usage lists modes and `-b <backend>`.
    BackendOps,
}

/// Flags the binary accepts, found in its `--help`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Flags {
    pub no_cnv: bool,
    pub ignore_eos: bool,
    pub ngl: bool,
    pub device: bool,
    pub no_warmup: bool,
    pub seed: bool,
    pub temp: bool,
    pub single_turn: bool,
    pub simple_io: bool,
    /// llama-bench `-o` formats, in the order listed by its help.
    pub bench_outputs: Vec<String>,
    /// The `--ctx-size` default its help states (0: from the model).
    pub ctx_default: Option<u64>,
    /// test-backend-ops: `--output <console|sql|csv>` is in its usage.
    pub sql_output: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub kind: ToolKind,
    pub flags: Flags,
    pub build: BuildInfo,
}

/// Why a binary can't be benchmarked.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("binary '{0}' does not exist: pass the path of a llama.cpp binary (llama-completion, llama-cli, main or llama-bench)")]
    Missing(String),
    #[error("'{0}' is a directory, not a binary: pass the path of llama-completion or llama-bench inside it")]
    Directory(String),
    #[error("'{0}' is not executable: check its permissions (chmod +x) or pass another binary")]
    NotExecutable(String),
    #[error("cannot start '{path}': {why}")]
    Spawn { path: String, why: String },
    #[error("'{path}' did not answer '--help' within {secs} s; is it a llama.cpp binary?")]
    Hung { path: String, secs: u64 },
    #[error("'{path}' does not look like a llama.cpp binary: its '--help' mentions neither --model with --n-predict (llama-completion, llama-cli, main) nor --model with --repetitions (llama-bench), nor is it test-backend-ops' usage.\nFirst lines of its output:\n{head}")]
    NotLlama { path: String, head: String },
}

/// Checks that `bin` exists and is executable, without running it.
pub fn check_binary(bin: &Path) -> Result<(), ProbeError> {
    use std::os::unix::fs::PermissionsExt;
    let shown = bin.display().to_string();
    let meta = std::fs::metadata(bin).map_err(|_| ProbeError::Missing(shown.clone()))?;
    if meta.is_dir() {
        return Err(ProbeError::Directory(shown));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(ProbeError::NotExecutable(shown));
    }
    Ok(())
}

/// Runs `--help` and `--version` and reads the answers.
pub fn probe(bin: &Path) -> Result<Probe, ProbeError> {
    check_binary(bin)?;
    let path = bin.display().to_string();
    let spawn_err = |e: crate::runner::process::SpawnError| ProbeError::Spawn {
        path: path.clone(),
        why: e.source.to_string(),
    };
    let (ending, help) = query(bin, &["--help"], PROBE_TIMEOUT).map_err(spawn_err)?;
    if ending == Ending::TimedOut {
        return Err(ProbeError::Hung {
            path,
            secs: PROBE_TIMEOUT.as_secs(),
        });
    }
    let kind = classify(&help).ok_or_else(|| ProbeError::NotLlama {
        path: path.clone(),
        head: help.lines().take(5).collect::<Vec<_>>().join("\n"),
    })?;
    let (_, version) = query(bin, &["--version"], PROBE_TIMEOUT).map_err(spawn_err)?;
    let mut build = parse_build_info(&version).unwrap_or_default();
    build.source = crate::build::cache::source_of_binary(bin);
    Ok(Probe {
        kind,
        flags: read_flags(&help),
        build,
    })
}

fn has(help: &str, flag: &str) -> bool {
    help.split(|c: char| c.is_whitespace() || c == ',' || c == '|' || c == '[' || c == ']')
        .any(|w| w == flag)
}

/// Decides the tool kind from its help text. Both a model flag and a
/// generation-length flag must be there: `-m` and `-n` alone also appear in
/// the help of unrelated tools (`ls`).
pub fn classify(help: &str) -> Option<ToolKind> {
    if help.contains("test-backend-ops") && help.contains("[mode]") && has(help, "<backend>") {
        return Some(ToolKind::BackendOps);
    }
    let model = has(help, "--model");
    if model && has(help, "--repetitions") && has(help, "--n-prompt") {
        return Some(ToolKind::Bench);
    }
    let predict = has(help, "--n-predict") || has(help, "--n_predict") || has(help, "--predict");
    if !(model && predict) {
        return None;
    }
    // The interactive llama-cli has a single-turn mode and timing display
    // switches but no way to turn conversation mode off.
    let interactive =
        has(help, "--show-timings") && !has(help, "-no-cnv") && !has(help, "--no-conversation");
    Some(if interactive {
        ToolKind::InteractiveCli
    } else {
        ToolKind::Completion
    })
}

pub fn read_flags(help: &str) -> Flags {
    Flags {
        no_cnv: has(help, "-no-cnv"),
        ignore_eos: has(help, "--ignore-eos"),
        ngl: has(help, "-ngl") || has(help, "--n-gpu-layers"),
        device: has(help, "-dev") || has(help, "--device"),
        no_warmup: has(help, "--no-warmup"),
        seed: has(help, "--seed") || has(help, "-s"),
        temp: has(help, "--temp"),
        single_turn: has(help, "--single-turn") || has(help, "-st"),
        simple_io: has(help, "--simple-io"),
        bench_outputs: bench_outputs(help),
        ctx_default: crate::context_fit::default_ctx(help),
        sql_output: help.contains("--output <console|sql"),
    }
}

/// `-o, --output <csv|json|jsonl|md|sql>` -> ["csv", "json", ...].
fn bench_outputs(help: &str) -> Vec<String> {
    let Some(line) = help
        .lines()
        .find(|l| l.contains("--output <") || l.contains("--output "))
    else {
        return Vec::new();
    };
    let Some(start) = line.find('<') else {
        return Vec::new();
    };
    let Some(end) = line[start..].find('>') else {
        return Vec::new();
    };
    line[start + 1..start + end]
        .split('|')
        .map(|s| s.trim().to_string())
        .collect()
}
