//! From command-line options to a list of runs. All validation happens here,
//! before anything is launched: a bad model path never starts the binary.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::cli::{Format, Gpu, RunArgs, RunOptions};
use crate::gguf::GgufError;
use crate::model::ModelInfo;
use crate::runner::probe::{probe, Probe, ToolKind};

/// The built-in prompt: about 500 tokens of plain English (497 with Gemma 3's tokenizer), long enough that
/// prompt-eval t/s measures batched prompt processing, not start-up.
pub const DEFAULT_PROMPT: &str = include_str!("prompt.txt");

/// Generation length when `-n` is not given.
pub const DEFAULT_N_PREDICT: u32 = 128;

/// Layers requested for "offload everything"; every llama.cpp era accepts a
/// number, and one larger than any model's layer count means all of them.
const ALL_LAYERS: &str = "999";

#[derive(Debug, Clone)]
pub struct PlannedRun {
    pub seq: u32,
    pub warmup: bool,
}

/// Everything needed to execute and report a `tokbench run`.
#[derive(Debug, Clone)]
pub struct Plan {
    pub bin: PathBuf,
    pub probe: Probe,
    pub model: ModelInfo,
    pub argv: Vec<String>,
    pub runs: Vec<PlannedRun>,
    pub label: String,
    pub timeout: Duration,
    pub output: Option<PathBuf>,
    pub keep_logs: Option<PathBuf>,
    pub keep_going: bool,
    pub format: Format,
    /// Requested llama-bench output format, when the tool is llama-bench.
    pub bench_format: Option<String>,
    pub gpu: Gpu,
    pub notes: Vec<String>,
    /// Samplers to run alongside each run (`--sampler`).
    pub sampler: crate::sample::SamplerConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model '{0}' does not exist: pass the path of a .gguf file with -m")]
    Missing(String),
    #[error("model '{0}' is a directory: pass the .gguf file inside it with -m")]
    Directory(String),
    #[error("model '{path}' cannot be read: {why}")]
    Unreadable { path: String, why: String },
    #[error("model '{path}' is not a GGUF file (it starts with {magic:?}, a GGUF file starts with \"GGUF\"); convert it with llama.cpp's convert_hf_to_gguf.py or pass a .gguf file")]
    NotGguf { path: String, magic: String },
    #[error("model '{path}' is incomplete: {why}; download it again")]
    Incomplete { path: String, why: String },
}

/// Checks the model: exists, is a readable file, starts with the GGUF magic.
pub fn check_model(path: &Path) -> Result<ModelInfo, ModelError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|_| ModelError::Missing(shown.clone()))?;
    if meta.is_dir() {
        return Err(ModelError::Directory(shown));
    }
    let unreadable = |e: std::io::Error| ModelError::Unreadable {
        path: shown.clone(),
        why: e.to_string(),
    };
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let mut magic = Vec::with_capacity(4);
    file.by_ref()
        .take(4)
        .read_to_end(&mut magic)
        .map_err(unreadable)?;
    if magic != b"GGUF" {
        let magic = String::from_utf8_lossy(&magic).escape_debug().to_string();
        return Err(ModelError::NotGguf { path: shown, magic });
    }
    // A header we cannot fully read (a newer GGUF feature) is no reason to
    // refuse the model; a file shorter than its header promises is.
    let gguf = match crate::gguf::inspect(path) {
        Ok(info) => Some(info),
        Err(e @ (GgufError::Short { .. } | GgufError::Truncated(_))) => {
            return Err(ModelError::Incomplete {
                path: shown,
                why: e.to_string(),
            })
        }
        Err(_) => None,
    };
    Ok(ModelInfo {
        path: shown,
        size_bytes: meta.len(),
        gguf,
    })
}

/// One side of a benchmark: which binary, with which offload and arguments.
#[derive(Debug, Clone)]
pub struct SideSpec {
    pub bin: PathBuf,
    pub gpu: Gpu,
    pub label: Option<String>,
    /// Arguments passed verbatim after tokbench's own.
    pub extra: Vec<String>,
    /// Counted runs (llama-bench: its -r per invocation).
    pub reps: u32,
}

/// Builds the plan of `tokbench run`.
pub fn plan_run(args: &RunArgs) -> Result<Plan> {
    let model = check_model(&args.model)?;
    let side = SideSpec {
        bin: args.bin.clone(),
        gpu: args.gpu,
        label: args.label.clone(),
        extra: args.extra.clone(),
        reps: args.reps,
    };
    plan_side(&side, &args.model, model, &args.opts)
}

/// Builds the plan of one side: probes the binary, builds the argv. The
/// model has been checked by the caller.
pub fn plan_side(
    side: &SideSpec,
    model_path: &Path,
    model: ModelInfo,
    opts: &RunOptions,
) -> Result<Plan> {
    if let Some(f) = &opts.file {
        std::fs::metadata(f).with_context(|| {
            format!(
                "prompt file '{}' cannot be read: pass an existing file with -f",
                f.display()
            )
        })?;
    }
    let probe = probe(&side.bin)?;
    if matches!(side.gpu, Gpu::Metal | Gpu::Cuda) && !probe.flags.ngl {
        bail!(
            "'{}' takes no -ngl/--n-gpu-layers (see its --help), so it cannot offload layers: \
             it is a CPU-only build; drop --gpu or pass a GPU build",
            side.bin.display()
        );
    }
    let mut notes = Vec::new();
    let (argv, bench_format) = match probe.kind {
        ToolKind::Bench => {
            let (argv, fmt) = bench_argv(side, model_path, opts, &probe, &mut notes);
            (argv, Some(fmt))
        }
        ToolKind::Completion => (completion_argv(side, model_path, opts, &probe), None),
        ToolKind::InteractiveCli => {
            if !probe.flags.single_turn {
                bail!(interactive_cli_message(&side.bin));
            }
            notes.push(interactive_cli_note(&side.bin));
            (completion_argv(side, model_path, opts, &probe), None)
        }
    };
    let mut argv = argv;
    if probe.kind != ToolKind::Bench {
        fit_context(side, opts, &probe, &model, &mut argv, &mut notes);
    }
    let runs = match probe.kind {
        // llama-bench repeats (and warms up) by itself: one process.
        ToolKind::Bench => vec![PlannedRun {
            seq: 0,
            warmup: false,
        }],
        _ => (0..opts.warmup + side.reps)
            .map(|seq| PlannedRun {
                seq,
                warmup: seq < opts.warmup,
            })
            .collect(),
    };
    let sampler = plan_sampler(opts)?;
    let label = side
        .label
        .clone()
        .unwrap_or_else(|| default_label(&side.bin, &probe));
    Ok(Plan {
        bin: side.bin.clone(),
        probe,
        model,
        argv,
        runs,
        label,
        timeout: opts.timeout,
        output: opts.output.clone(),
        keep_logs: opts.keep_logs.clone(),
        keep_going: opts.keep_going,
        format: opts.out.format(),
        bench_format,
        gpu: side.gpu,
        notes,
        sampler,
    })
}

/// Probes the requested samplers; with `--require-sampler` an unusable one
/// stops the plan before anything runs.
fn plan_sampler(args: &RunOptions) -> Result<crate::sample::SamplerConfig> {
    let cpu = crate::identity::machine_info().cpu;
    crate::sample::probe::plan_sampler(
        &args.sampler,
        args.sample_interval,
        args.require_sampler,
        args.peak_bandwidth,
        cpu.as_deref(),
    )
    .map_err(anyhow::Error::msg)
}

/// Passes a `-c` when the binary's default context cannot hold the prompt
/// and the generation (see [`crate::context_fit`]).
fn fit_context(
    side: &SideSpec,
    opts: &RunOptions,
    probe: &Probe,
    model: &ModelInfo,
    argv: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    let prompt_bytes = match (&opts.prompt, &opts.file) {
        (Some(p), _) => p.len() as u64,
        (None, Some(f)) => std::fs::metadata(f).map_or(0, |m| m.len()),
        (None, None) => DEFAULT_PROMPT.len() as u64,
    };
    let need = crate::context_fit::Need {
        prompt_bytes,
        n_predict: u64::from(opts.n_predict.unwrap_or(DEFAULT_N_PREDICT)),
    };
    let model_ctx = model.gguf.as_ref().and_then(|g| g.context_length);
    let fit = crate::context_fit::fit(probe.flags.ctx_default, need, model_ctx, &side.extra);
    if let Some(fit) = fit {
        argv.extend(["-c".to_string(), fit.ctx.to_string()]);
        notes.push(fit.note);
    }
}

fn completion_hint(bin: &Path) -> String {
    let sibling = bin.with_file_name("llama-completion");
    if sibling.exists() {
        format!("'{}', built alongside it", sibling.display())
    } else {
        "llama-completion from the same build".to_string()
    }
}

fn interactive_cli_message(bin: &Path) -> String {
    format!(
        "'{}' is an interactive llama-cli without --single-turn, so it cannot be run unattended; \
         benchmark {} instead",
        bin.display(),
        completion_hint(bin)
    )
}

fn interactive_cli_note(bin: &Path) -> String {
    format!(
        "'{}' is the interactive llama-cli: it prints only '[ Prompt: x t/s | Generation: y t/s ]', \
         rounded to 0.1 t/s, with no load time, token counts or per-phase times, and it wraps the \
         prompt in the chat template. For full timings benchmark {}",
        bin.display(),
        completion_hint(bin)
    )
}

fn default_label(bin: &Path, probe: &Probe) -> String {
    let name = bin
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match (&probe.build.commit, &probe.build.version) {
        (Some(c), _) => format!("{name}@{c}"),
        (None, Some(v)) => format!("{name}@{v}"),
        (None, None) => name,
    }
}

fn gpu_flags(gpu: Gpu, probe: &Probe) -> Vec<String> {
    let mut v = Vec::new();
    match gpu {
        Gpu::Auto => {}
        Gpu::Cpu => {
            // A binary without -ngl offloads nothing anyway.
            if probe.flags.ngl {
                v.extend(["-ngl".to_string(), "0".to_string()]);
            }
            if probe.flags.device {
                v.extend(["-dev".to_string(), "none".to_string()]);
            }
        }
        Gpu::Metal | Gpu::Cuda => v.extend(["-ngl".to_string(), ALL_LAYERS.to_string()]),
    }
    v
}

fn completion_argv(side: &SideSpec, model: &Path, args: &RunOptions, probe: &Probe) -> Vec<String> {
    let f = &probe.flags;
    let mut v = vec!["-m".to_string(), model.display().to_string()];
    match (&args.prompt, &args.file) {
        (Some(p), _) => v.extend(["-p".to_string(), p.clone()]),
        (None, Some(file)) => v.extend(["-f".to_string(), file.display().to_string()]),
        (None, None) => v.extend(["-p".to_string(), DEFAULT_PROMPT.to_string()]),
    }
    v.extend([
        "-n".to_string(),
        args.n_predict.unwrap_or(DEFAULT_N_PREDICT).to_string(),
    ]);
    if f.seed {
        v.extend(["--seed".to_string(), args.seed.to_string()]);
    }
    if f.temp {
        v.extend(["--temp".to_string(), "0".to_string()]);
    }
    if f.ignore_eos {
        v.push("--ignore-eos".to_string());
    }
    if f.no_cnv {
        v.push("-no-cnv".to_string());
    }
    if probe.kind == ToolKind::InteractiveCli {
        // One turn, then exit; --simple-io drops the spinner drawn with backspaces.
        v.push("--single-turn".to_string());
        if f.simple_io {
            v.push("--simple-io".to_string());
        }
    }
    v.extend(gpu_flags(side.gpu, probe));
    v.extend(side.extra.iter().cloned());
    v
}

/// llama-bench: `-r` from `--reps`, the most structured output format the
/// build offers, tokbench's `--warmup 0` as `--no-warmup`.
fn bench_argv(
    side: &SideSpec,
    model: &Path,
    args: &RunOptions,
    probe: &Probe,
    notes: &mut Vec<String>,
) -> (Vec<String>, String) {
    let offered = &probe.flags.bench_outputs;
    let fmt = ["jsonl", "json", "md"]
        .into_iter()
        .find(|f| offered.iter().any(|o| o == f))
        .unwrap_or("md")
        .to_string();
    let mut v = vec!["-m".to_string(), model.display().to_string()];
    v.extend([
        "-r".to_string(),
        side.reps.to_string(),
        "-o".to_string(),
        fmt.clone(),
    ]);
    if args.warmup == 0 && probe.flags.no_warmup {
        v.push("--no-warmup".to_string());
    }
    v.extend(gpu_flags(side.gpu, probe));
    if args.prompt.is_some() || args.file.is_some() || args.n_predict.is_some() {
        notes.push(
            "-p/-f/-n do not apply to llama-bench; pass its own options after --, e.g. -- -p 512 -n 128"
                .to_string(),
        );
    }
    v.extend(side.extra.iter().cloned());
    (v, fmt)
}
