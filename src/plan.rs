//! From command-line options to a session: the cells (binary, argv, label,
//! offload, driver) and the session's settings. All validation happens here,
//! before anything is launched: a bad model path never starts the binary.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::cli::{CompareArgs, Cooldown, Format, Gpu, RunArgs, RunOptions, SweepArgs};
use crate::driver::probe::probe;
use crate::driver::{for_probe, Offload, Prompt, Request};
use crate::engine::{Cell, Pause, Settings};
use crate::exit::UsageError;
use crate::gguf::GgufError;
use crate::model::ModelInfo;

pub use crate::driver::{DEFAULT_N_PREDICT, DEFAULT_PROMPT};

/// A session to run and how to report it.
#[derive(Debug, Clone)]
pub struct Plan {
    pub cells: Vec<Cell>,
    pub settings: Settings,
    pub format: Format,
}

impl Plan {
    /// Notes of every cell, then the samplers' warnings, each once.
    pub fn notes(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for n in self.cells.iter().flat_map(|c| c.notes.iter()) {
            if !v.contains(n) {
                v.push(n.clone());
            }
        }
        v.extend(self.settings.sampler.warnings());
        v
    }
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
    pub bin: std::path::PathBuf,
    pub gpu: Gpu,
    pub label: Option<String>,
    /// Arguments passed verbatim after tokbench's own.
    pub extra: Vec<String>,
    /// Counted runs (llama-bench: its -r per invocation).
    pub reps: u32,
}

/// Builds the plan of `tokbench run`: one cell.
pub fn plan_run(args: &RunArgs) -> Result<Plan> {
    let model = check_model(&args.model)?;
    let side = SideSpec {
        bin: args.bin.clone(),
        gpu: args.gpu,
        label: args.label.clone(),
        extra: args.extra.clone(),
        reps: args.reps,
    };
    let cell = plan_cell(&side, &args.model, model, &args.opts)?;
    Ok(Plan {
        cells: vec![cell],
        settings: plan_settings(&args.opts, None)?,
        format: args.opts.out.format(),
    })
}

fn offload(gpu: Gpu) -> (Offload, Option<&'static str>) {
    match gpu {
        Gpu::Auto => (Offload::Auto, None),
        Gpu::Cpu => (Offload::Cpu, None),
        Gpu::Metal => (Offload::All, Some("Metal")),
        Gpu::Cuda => (Offload::All, Some("CUDA")),
    }
}

/// Builds one cell: probes the binary, lets its driver build the argv. The
/// model has been checked by the caller.
pub fn plan_cell(
    side: &SideSpec,
    model_path: &Path,
    model: ModelInfo,
    opts: &RunOptions,
) -> Result<Cell> {
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
    let driver = for_probe(&probe);
    let (offload, offload_to) = offload(side.gpu);
    let req = Request {
        bin: &side.bin,
        model: model_path,
        prompt: prompt_of(opts),
        n_predict: opts.n_predict,
        seed: opts.seed,
        warmup: opts.warmup,
        reps: side.reps,
        offload,
        extra: &side.extra,
    };
    let mut inv = driver.invocation(&req, &probe)?;
    if driver.takes_prompt() {
        fit_context(side, opts, &probe, &model, &mut inv.argv, &mut inv.notes);
    }
    let label = side
        .label
        .clone()
        .unwrap_or_else(|| default_label(&side.bin, &probe));
    Ok(Cell {
        label,
        bin: side.bin.clone(),
        argv: inv.argv,
        driver,
        processes: driver.processes(opts.warmup, side.reps),
        probe,
        model,
        side: None,
        sweep_cell: None,
        offload_to,
        notes: inv.notes,
    })
}

fn prompt_of(opts: &RunOptions) -> Prompt {
    match (&opts.prompt, &opts.file) {
        (Some(p), _) => Prompt::Text(p.clone()),
        (None, Some(f)) => Prompt::File(f.clone()),
        (None, None) => Prompt::Builtin,
    }
}

/// The session's settings; the samplers are probed here, once.
fn plan_settings(opts: &RunOptions, cooldown: Option<Cooldown>) -> Result<Settings> {
    Ok(Settings {
        timeout: opts.timeout,
        sampler: plan_sampler(opts)?,
        output: opts.output.clone(),
        keep_logs: opts.keep_logs.clone(),
        keep_going: opts.keep_going,
        cooldown: cooldown.map(|c| match c {
            Cooldown::Fixed(d) => Pause::Fixed(d),
            Cooldown::Auto => Pause::UntilIdle,
        }),
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
    probe: &crate::driver::probe::Probe,
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

fn default_label(bin: &Path, probe: &crate::driver::probe::Probe) -> String {
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

fn split_args(s: &Option<String>, flag: &str) -> Result<Vec<String>> {
    let Some(s) = s else { return Ok(Vec::new()) };
    shlex::split(s).ok_or_else(|| {
        UsageError(format!(
            "{flag} '{s}' has an unclosed quote or a trailing backslash"
        ))
        .into()
    })
}

/// Plans both sides; refuses a comparison of a build with itself.
pub fn plan_compare(args: &CompareArgs) -> Result<Plan> {
    let Some(bin_a) = &args.a else {
        return Err(UsageError(
            "compare needs --a PATH (and --b PATH or --b-args), or two results files".into(),
        )
        .into());
    };
    let Some(model_path) = &args.model else {
        return Err(UsageError("compare needs -m MODEL when it runs binaries".into()).into());
    };
    let bin_b = args.b.clone().unwrap_or_else(|| bin_a.clone());
    let (gpu_a, gpu_b) = (
        args.a_gpu.unwrap_or(args.gpu),
        args.b_gpu.unwrap_or(args.gpu),
    );
    if bin_b == *bin_a && args.a_args == args.b_args && gpu_a == gpu_b {
        return Err(UsageError(
            "A and B are the same binary with the same arguments: pass --b PATH, or --a-args/--b-args, or --a-gpu/--b-gpu".into(),
        )
        .into());
    }
    let model = check_model(model_path)?;
    let side = |bin, gpu, label: &Option<String>, own: Vec<String>| SideSpec {
        bin,
        gpu,
        label: label.clone(),
        extra: own.into_iter().chain(args.extra.iter().cloned()).collect(),
        reps: 1,
    };
    let spec_a = side(
        bin_a.clone(),
        gpu_a,
        &args.a_label,
        split_args(&args.a_args, "--a-args")?,
    );
    let spec_b = side(
        bin_b,
        gpu_b,
        &args.b_label,
        split_args(&args.b_args, "--b-args")?,
    );
    let mut a = plan_cell(&spec_a, model_path, model.clone(), &args.opts)?;
    let mut b = plan_cell(&spec_b, model_path, model, &args.opts)?;
    if a.probe.kind != b.probe.kind {
        bail!(
            "A is {} and B is {}: compare two binaries of the same kind",
            a.driver.tool(),
            b.driver.tool()
        );
    }
    if a.label == b.label {
        let (ta, tb) = side_tags(args, gpu_a, gpu_b);
        a.label = format!("{} {ta}", a.label);
        b.label = format!("{} {tb}", b.label);
    }
    (a.side, b.side) = (Some("a"), Some("b"));
    compare_plan(args, a, b)
}

/// What tells two sides with the same build label apart: their offload,
/// else their own arguments, else just the side.
fn side_tags(args: &CompareArgs, gpu_a: Gpu, gpu_b: Gpu) -> (String, String) {
    let gpu = |g: Gpu| format!("{g:?}").to_lowercase();
    if gpu_a != gpu_b {
        return (
            format!("[--gpu {}]", gpu(gpu_a)),
            format!("[--gpu {}]", gpu(gpu_b)),
        );
    }
    match (&args.a_args, &args.b_args) {
        (a, b) if a != b => (
            format!("[{}]", a.as_deref().unwrap_or("")),
            format!("[{}]", b.as_deref().unwrap_or("")),
        ),
        _ => ("(A)".to_string(), "(B)".to_string()),
    }
}

fn compare_plan(args: &CompareArgs, a: Cell, b: Cell) -> Result<Plan> {
    Ok(Plan {
        cells: vec![a, b],
        settings: plan_settings(&args.opts, args.cooldown)?,
        format: args.opts.out.format(),
    })
}

/// Plans `tokbench sweep`: one cell per sweep cell (its arguments, then the
/// fixed ones), each named by its arguments in every record. Failed runs
/// never stop the session: a failing cell is infeasible, the sweep goes on.
pub fn plan_sweep(args: &SweepArgs, spec: &crate::sweep::spec::SweepSpec) -> Result<Plan> {
    let model = check_model(&args.model)?;
    let mut cells = Vec::with_capacity(spec.cells.len());
    for (i, c) in spec.cells.iter().enumerate() {
        let side = SideSpec {
            bin: args.bin.clone(),
            gpu: args.gpu,
            label: args.label.clone(),
            extra: spec.cell_args(i),
            reps: 1,
        };
        let mut cell = plan_cell(&side, &args.model, model.clone(), &args.opts)?;
        cell.sweep_cell = Some(c.name.clone());
        cells.push(cell);
    }
    let mut settings = plan_settings(&args.opts, None)?;
    settings.keep_going = true;
    Ok(Plan {
        cells,
        settings,
        format: args.opts.out.format(),
    })
}
