//! One driver per llama.cpp tool. A driver owns everything that differs
//! between tools: the argv it builds from a [`Request`], what it reads from
//! the output into a run record, the rule for its primary metric, the
//! generation window the samplers summarise over, and (for a long-lived
//! tool such as llama-server) how it is started, found ready and stopped.
//!
//! Adding a tool is a new file here plus one line in [`REGISTRY`]; nothing
//! outside this folder branches on the kind of tool. llama-server is the
//! long-lived driver ([`server`]): started, found ready, given blocks of
//! load and stopped, as a service the session engine owns per cell.

pub mod backend_ops;
pub mod bench;
pub mod completion;
pub mod interactive;
pub mod legacy;
pub mod probe;
pub mod server;
pub mod timings;

use std::path::{Path, PathBuf};

use crate::metrics::UnknownMetric;
use crate::model::RunRecord;
use crate::sample::Window;
use probe::Probe;

/// The built-in prompt: about 500 tokens of plain English (497 with Gemma 3's tokenizer), long enough that
/// prompt-eval t/s measures batched prompt processing, not start-up.
pub const DEFAULT_PROMPT: &str = include_str!("prompt.txt");

/// Generation length when `-n` is not given.
pub const DEFAULT_N_PREDICT: u32 = 128;

/// Where the layers go (`--gpu`): the driver turns it into the tool's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offload {
    /// The tool's own default.
    Auto,
    /// Nothing offloaded.
    Cpu,
    /// Every layer offloaded (Metal or CUDA: the flags are the same).
    All,
}

/// The prompt of a generation run.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    Text(String),
    File(PathBuf),
    Builtin,
}

/// What the user asked of one invocation, in tokbench's terms.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub bin: &'a Path,
    pub model: &'a Path,
    pub prompt: Prompt,
    /// `-n` as given (None: not given).
    pub n_predict: Option<u32>,
    pub seed: u64,
    pub warmup: u32,
    /// Counted runs (llama-bench: its `-r`).
    pub reps: u32,
    pub offload: Offload,
    /// Arguments passed verbatim after tokbench's own.
    pub extra: &'a [String],
}

/// The argv of an invocation and the notes the user should read about it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Invocation {
    pub argv: Vec<String>,
    pub notes: Vec<String>,
}

/// A finished process's output, as the driver reads it.
#[derive(Debug, Clone, Copy)]
pub struct Output<'a> {
    pub stdout: &'a str,
    pub stderr: &'a str,
}

/// A running long-lived tool (a server): checked ready, then stopped.
pub trait Service {
    fn ready(&mut self) -> anyhow::Result<()>;
    fn stop(&mut self);
}

pub trait Driver: Sync + std::fmt::Debug {
    /// The tool, as said to the user (`llama-bench`).
    fn tool(&self) -> &'static str;

    /// Whether this driver drives the probed binary.
    fn claims(&self, probe: &Probe) -> bool;

    /// The argv for a request; an error when the binary cannot be driven.
    fn invocation(&self, req: &Request<'_>, probe: &Probe) -> anyhow::Result<Invocation>;

    /// Whether the tool reads a prompt (then `-c` is fitted to it, see
    /// `crate::context_fit`); llama-bench makes its own.
    fn takes_prompt(&self) -> bool {
        true
    }

    /// Processes to start per request, each marked warmup or not. Most
    /// tools: `warmup` warmups then `reps` counted runs.
    fn processes(&self, warmup: u32, reps: u32) -> Vec<bool> {
        (0..warmup + reps).map(|i| i < warmup).collect()
    }

    /// Reads the output into `record` (timings, blocks, llama-bench tests)
    /// and `warnings`; false when it holds no results at all.
    fn read(&self, out: Output<'_>, record: &mut RunRecord, warnings: &mut Vec<String>) -> bool;

    /// Why a run that exited 0 without results failed (after "exited 0 but").
    fn nothing_read(&self) -> &'static str;

    /// Whether `--metric asked` can name a result of this tool, before any
    /// run (the metric registry holds the definitions).
    fn check_metric(&self, asked: &str) -> Result<(), UnknownMetric> {
        crate::metrics::check_planned(asked, false)
    }

    /// The metric a session judges and gates on when `--metric` is `asked`,
    /// once `records` hold results (`eval_tps` of llama-bench is its
    /// generation test); a name they do not hold is an error.
    fn primary_metric(&self, asked: &str, records: &[RunRecord]) -> Result<String, UnknownMetric> {
        crate::metrics::resolve(asked, records)
    }

    /// The part of the run the samplers' figures are over: the generation
    /// phase from the log when it can be placed, else the whole run.
    fn generation_window(&self, record: &RunRecord, stderr: &str) -> Window {
        use crate::sample::window::{generation_window, perf_log_time_ms};
        let eval_ms = record
            .timings
            .as_ref()
            .and_then(|t| t.eval_ms)
            .and_then(|n| n.finite());
        generation_window(perf_log_time_ms(stderr), eval_ms, record.wall_ms)
    }

    /// A non-zero exit code after which the results read are still kept
    /// (with a warning naming the returned reason); None: the run failed.
    fn kept_exit(&self, _code: i32) -> Option<&'static str> {
        None
    }

    /// A long-lived tool starts here, once per cell, before its first
    /// scheduled block (each scheduled run is then one block of load
    /// against it). Tools that run one process per run return None.
    fn start(&self, _bin: &Path, _argv: &[String]) -> anyhow::Result<Option<Box<dyn Service>>> {
        Ok(None)
    }
}

/// Every driver, most specific first: the first that claims a probed
/// binary drives it.
pub static REGISTRY: [&dyn Driver; 5] = [
    &backend_ops::BackendOps,
    &bench::Bench,
    &interactive::InteractiveCli,
    &legacy::LegacyCli,
    &completion::Completion,
];

/// The driver of a probed binary.
pub fn for_probe(probe: &Probe) -> &'static dyn Driver {
    REGISTRY
        .iter()
        .copied()
        .find(|d| d.claims(probe))
        .unwrap_or(&completion::Completion)
}

/// The flags that put the layers where `offload` says.
pub fn offload_flags(offload: Offload, probe: &Probe) -> Vec<String> {
    /// Layers requested for "offload everything"; every llama.cpp era accepts
    /// a number, and one larger than any model's layer count means all of them.
    const ALL_LAYERS: &str = "999";
    let mut v = Vec::new();
    match offload {
        Offload::Auto => {}
        Offload::Cpu => {
            // A binary without -ngl offloads nothing anyway.
            if probe.flags.ngl {
                v.extend(["-ngl".to_string(), "0".to_string()]);
            }
            if probe.flags.device {
                v.extend(["-dev".to_string(), "none".to_string()]);
            }
        }
        Offload::All => v.extend(["-ngl".to_string(), ALL_LAYERS.to_string()]),
    }
    v
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::probe::{Flags, Probe, ToolKind};
    use super::{Offload, Prompt, Request};
    use crate::model::BuildInfo;
    use std::path::Path;

    pub fn probe(kind: ToolKind, flags: Flags) -> Probe {
        Probe {
            kind,
            flags,
            build: BuildInfo::default(),
        }
    }

    pub fn all_flags() -> Flags {
        Flags {
            no_cnv: true,
            ignore_eos: true,
            ngl: true,
            device: true,
            no_warmup: true,
            seed: true,
            temp: true,
            single_turn: true,
            simple_io: true,
            bench_outputs: vec!["csv".into(), "json".into(), "jsonl".into(), "md".into()],
            ctx_default: None,
            sql_output: false,
        }
    }

    pub fn request<'a>(extra: &'a [String]) -> Request<'a> {
        Request {
            bin: Path::new("/opt/llama/llama-completion"),
            model: Path::new("/m/model.gguf"),
            prompt: Prompt::Text("hello".into()),
            n_predict: Some(16),
            seed: 42,
            warmup: 1,
            reps: 3,
            offload: Offload::Auto,
            extra,
        }
    }

    pub use crate::model::test_support::blank_record;
}

#[cfg(test)]
mod tests {
    use super::probe::{Flags, ToolKind};
    use super::test_support::{all_flags, probe};
    use super::*;

    #[test]
    fn each_tool_gets_its_own_driver() {
        let pick = |kind, flags| for_probe(&probe(kind, flags)).tool();
        assert_eq!(pick(ToolKind::Bench, all_flags()), "llama-bench");
        assert_eq!(
            pick(ToolKind::BackendOps, Flags::default()),
            "test-backend-ops"
        );
        assert_eq!(
            pick(ToolKind::InteractiveCli, all_flags()),
            "llama-cli (interactive)"
        );
        assert_eq!(
            pick(ToolKind::Completion, all_flags()),
            "llama-cli / main (timing blocks)"
        );
        assert_eq!(
            pick(ToolKind::Completion, Flags::default()),
            "llama-completion"
        );
    }

    #[test]
    fn offload_flags_follow_the_probe() {
        let p = probe(ToolKind::Completion, all_flags());
        assert_eq!(
            offload_flags(Offload::Cpu, &p),
            ["-ngl", "0", "-dev", "none"]
        );
        assert_eq!(offload_flags(Offload::All, &p), ["-ngl", "999"]);
        assert!(offload_flags(Offload::Auto, &p).is_empty());
        let bare = probe(ToolKind::Completion, Flags::default());
        assert!(offload_flags(Offload::Cpu, &bare).is_empty());
    }
}
