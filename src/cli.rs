//! Command-line types (clap derive). No logic here: validation lives in
//! `plan`, behaviour in `app`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    error: a failed run, a bad binary or model, nothing parseable
  2    usage error
  130  interrupted by SIGINT (Ctrl-C); finished runs are kept
  143  terminated by SIGTERM; finished runs are kept";

pub const PARSE_EXIT_CODES_HELP: &str = "\
Exit codes:
  0    every input was read and parsed (the timings found are printed)
  1    error: an input could not be read or held nothing parseable (the others are still printed)
  2    usage error";

pub const COMPARE_EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success; also when the verdict is 'no significant change' or 'inconclusive'
  1    error: a failed run, a bad binary or model, an unreadable results file
  2    usage error
  3    regression: B is slower than A beyond --fail-if-slower, with 95% confidence,
       on the primary metric (--metric)
  130  interrupted by SIGINT (Ctrl-C); finished runs are kept
  143  terminated by SIGTERM; finished runs are kept";

pub const SWEEP_EXIT_CODES_HELP: &str = "\
Exit codes:
  0    a best cell was found (some cells may be infeasible)
  1    every cell was infeasible, or an error (a bad binary or model)
  2    usage error
  130  interrupted by SIGINT (Ctrl-C); finished runs are kept, the table of what was measured is printed
  143  terminated by SIGTERM; as above";

pub const SERVE_EXIT_CODES_HELP: &str = "\
Exit codes:
  0    the run completed (overload is reported, not an error)
  1    error; or 'client behind': tokbench fell behind its own schedule (figures still printed)
  2    usage error
  3    --slo not met; A/B: B worse than A beyond --fail-if-slower with 95% confidence
  130  interrupted by SIGINT (Ctrl-C): the load stops, requests in flight drain, what was measured is kept";

#[derive(Debug, Parser)]
#[command(name = "tokbench", version, about = "Benchmark harness for llama.cpp builds", after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the history database is: on the commands that read it or add to it.
#[derive(Debug, Clone, Default, Args)]
pub struct DbOpts {
    /// History database (default: tokbench/history.sqlite in the user's data directory; env TOKBENCH_DB).
    #[arg(long, value_name = "PATH", help_heading = "History")]
    pub db: Option<PathBuf>,
}

/// The history of a command that runs benchmarks: where it goes, or none.
#[derive(Debug, Clone, Default, Args)]
pub struct HistoryOpts {
    #[command(flatten)]
    pub db: DbOpts,
    /// Do not record runs in the history database (env TOKBENCH_NO_HISTORY=1).
    #[arg(long, help_heading = "History")]
    pub no_history: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a llama.cpp binary repeatedly and report its timings.
    #[command(after_help = EXIT_CODES_HELP)]
    Run(Box<RunArgs>),
    /// Read saved llama.cpp / llama-server / llama-bench output and print the timings found.
    #[command(after_help = PARSE_EXIT_CODES_HELP)]
    Parse(ParseArgs),
    /// Compare two builds (or two argument sets): interleaved runs, a verdict with a 95% interval.
    #[command(after_help = COMPARE_EXIT_CODES_HELP)]
    Compare(Box<CompareArgs>),
    /// List the GPU/memory samplers (usable here or why not) and the llama.cpp binaries on PATH.
    Doctor,
    /// List the builds and runs recorded in the history database.
    History(HistoryArgs),
    /// Add llama-bench output (json, jsonl, csv, sql, md) or tokbench JSONL results to the history.
    Import(ImportArgs),
    /// Write the history in llama-bench's formats (read by compare-llama-bench.py).
    Export(ExportArgs),
    /// Draw a plot (SVG) from results files: sequence, timeline, builds or sweep.
    Plot(PlotArgs),
    /// Write one self-contained HTML (or markdown) report from results files.
    Report(ReportArgs),
    /// Race a grid of flags (--vary): the best cell, the cells tied with it, a recommendation.
    #[command(after_help = SWEEP_EXIT_CODES_HELP)]
    Sweep(Box<SweepArgs>),
    /// Load llama-server on a schedule; latency from the intended send time, throughput, SLO.
    #[command(after_help = SERVE_EXIT_CODES_HELP)]
    Serve(Box<ServeArgs>),
    /// Build llama.cpp revisions of a git checkout into tokbench's cache (reused when built).
    #[command(after_help = BUILD_HELP)]
    Build(BuildArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the tokbench(1) man page, or write one page per command into DIR.
    Man {
        /// Write tokbench.1, tokbench-run.1, ... into this directory instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Per-op comparison of two builds through test-backend-ops perf (or one build alone).
    #[command(after_help = OPS_HELP)]
    Ops(Box<OpsArgs>),
    /// Find the commit that made a metric worse (or better): git's bisection with a
    /// statistical verdict at each commit, built and measured against both endpoints.
    #[command(after_help = BISECT_HELP)]
    Bisect(Box<BisectArgs>),
    /// Summarise a saved profiler export (nsys cuda_gpu_kern_sum CSV, ncu --csv, xctrace
    /// metal-gpu-intervals XML), or diff two per kernel.
    Kernels(KernelsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct KernelsArgs {
    /// The export of run A (or the only one).
    #[arg(value_name = "FILE")]
    pub a: PathBuf,
    /// The export of run B: print the per-kernel diff.
    #[arg(value_name = "FILE_B")]
    pub b: Option<PathBuf>,
    /// Kernels shown.
    #[arg(long, default_value_t = 15)]
    pub top: usize,
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub const OPS_HELP: &str = "\
Each round runs 'test-backend-ops perf' once per side on the same filter, in ABBA
order; op cases are matched on backend, op name and parameter string, and the time
per run of round k of A is paired with round k of B (95% interval, 6 rounds at least).
--auto looks on compare --auto's schedule of rounds (3, 4, 5, 7, 9, 12, 15, ..., from the
first at which an interval can exist) and stops when every case is decided; each look's
interval is at 1 - 5%/(looks x cases), so the chance of any false verdict stays at most
5% however many cases the filter holds. Decided cases still run in later rounds.

Exit codes:
  0    success; also when cases are 'no significant change' or 'inconclusive'
  1    error: a missing binary, a failed invocation, output with no perf results
  2    usage error
  3    regression: an op case is slower than --fail-if-slower over its whole interval
       (95%; with --auto, the per-look confidence)
  130  interrupted by SIGINT (Ctrl-C); finished rounds are reported
  143  terminated by SIGTERM";

#[derive(Debug, Clone, Args)]
pub struct OpsArgs {
    /// Build A: the test-backend-ops binary or the directory holding it (or its bin/).
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "a_rev",
        conflicts_with = "a_rev"
    )]
    pub a: Option<PathBuf>,
    /// Build B (the candidate); without B, build A alone is measured.
    #[arg(long, value_name = "PATH", conflicts_with = "b_rev")]
    pub b: Option<PathBuf>,
    /// Build A as a revision of --src, built into tokbench's cache (as 'tokbench build --tool test-backend-ops').
    #[arg(long, value_name = "REV", requires = "src")]
    pub a_rev: Option<String>,
    /// Build B as a revision of --src.
    #[arg(long, value_name = "REV", requires = "src")]
    pub b_rev: Option<String>,
    /// The llama.cpp checkout for --a-rev / --b-rev.
    #[arg(long, value_name = "DIR")]
    pub src: Option<PathBuf>,
    /// Op filter, test-backend-ops' -o (exact op names, full case strings or regexes, comma separated).
    #[arg(long, value_name = "OP[,OP]")]
    pub op: Option<String>,
    /// Regex over the parameter string, test-backend-ops' -p.
    #[arg(long, value_name = "REGEX")]
    pub params: Option<String>,
    /// Backend device, test-backend-ops' -b (CPU, CUDA0, MTL0); default: the first GPU device, else CPU.
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    /// Rounds: each side runs once per round.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "auto")]
    pub rounds: u32,
    /// Run rounds until every matched op case is decided (faster, slower, or no significant
    /// change: its interval inside the ±--threshold band) or --max-rounds / --max-time is spent.
    /// Decided cases still run (one invocation per round covers the whole filter) but keep
    /// their verdict; the chance of any false verdict is at most 5% over all cases and looks.
    /// Needs two builds.
    #[arg(long)]
    pub auto: bool,
    /// Budget of rounds for --auto.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(3..))]
    pub max_rounds: u32,
    /// Budget of time for --auto (e.g. 20m).
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    pub max_time: std::time::Duration,
    /// Noise band: changes smaller than this are 'no significant change'.
    #[arg(long, default_value = "1%", value_parser = parse_percent)]
    pub threshold: f64,
    /// Exit 3 when any op case is slower than A by more than PCT with 95% confidence.
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    pub fail_if_slower: Option<f64>,
    /// Limit per test-backend-ops invocation.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// Append one JSON line per invocation (side, round, argv, the parsed cases) to FILE.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write every case of every round into a new SQLite file in test-backend-ops'
    /// own test_backend_ops table (compare-llama-bench.py --tool test-backend-ops -i FILE).
    #[arg(long, value_name = "FILE")]
    pub export_sql: Option<PathBuf>,
    /// Peak memory bandwidth of the device in GB/s, for % of peak (overrides the built-in table).
    #[arg(long, value_name = "GB/s", value_parser = crate::sample::parse_bandwidth_gbps)]
    pub peak_bandwidth: Option<f64>,
    /// Peak dense FP16/BF16 rate of the device in TFLOPS, for % of peak.
    #[arg(long, value_name = "TFLOPS")]
    pub peak_tflops: Option<f64>,
    /// Print the test-backend-ops command lines and exit.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub history: HistoryOpts,
}

pub const BUILD_HELP: &str = "\
Each commit is built in a git worktree and CMake build directory of its own under
$TOKBENCH_CACHE_DIR/builds (default ~/.cache/tokbench/builds); the checkout itself is
never changed. WORKTREE builds the checkout as it is, uncommitted changes included.

Exit codes:
  0    every revision built (or found built)
  1    error: unknown revision, not a git checkout, a failed configure or build
  2    usage error";

pub const BISECT_HELP: &str = "\
The endpoints are built and compared first (adaptive, like 'compare --auto'); then git
bisects in a worktree of its own under $TOKBENCH_CACHE_DIR/bisect, each commit built and
measured in rounds against the good and bad builds. Undecided commits and commits that do
not build are skipped. Running the same bisect again reuses its builds and measurements.

Exit codes:
  0    the first bad commit was found (also when its check against its parent is undecided)
  1    error: not a git checkout, unknown revision, good not an ancestor of bad, an endpoint
       that does not build, every commit in the range skipped
  2    usage error
  4    nothing to bisect: bad is not significantly worse (better) than good beyond --threshold
  130  interrupted (builds and measurements are kept for the next run)";

/// `tokbench bisect`.
#[derive(Debug, Clone, Args)]
pub struct BisectArgs {
    /// The llama.cpp git checkout (never changed: builds and the bisection use worktrees).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub src: PathBuf,
    /// The older revision, without the change.
    #[arg(long, value_name = "REV")]
    pub good: String,
    /// The newer revision, with the change.
    #[arg(long, value_name = "REV")]
    pub bad: String,
    /// The GGUF model file.
    #[arg(short = 'm', long, value_name = "MODEL")]
    pub model: PathBuf,
    /// The tool built and measured, by its current name (older names are found).
    #[arg(long, value_name = "NAME", default_value = "llama-completion", value_parser = ["llama-completion", "llama-bench"])]
    pub tool: String,
    /// The metric bisected (eval_tps, prompt_eval_tps, a llama-bench test such as tg128, ...).
    #[arg(long, default_value = "eval_tps")]
    pub metric: String,
    /// Smallest change worth bisecting: the endpoints must differ beyond it (e.g. 1 or 1%).
    #[arg(long, default_value = "1%", value_parser = parse_percent)]
    pub threshold: f64,
    /// Budget of pairs (rounds, at a commit) for each comparison.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(6..))]
    pub max_pairs: u32,
    /// Budget of time for the whole bisect, builds included (e.g. 90m).
    #[arg(long, default_value = "2h", value_parser = parse_duration)]
    pub max_time: std::time::Duration,
    /// Look for the commit that made the metric better instead.
    #[arg(long)]
    pub improvement: bool,
    /// Only commits touching these paths are tested, as 'git bisect start -- PATH...'.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub paths: Vec<String>,
    /// GPU offload (see 'run --help').
    #[arg(long, value_enum, default_value_t = Gpu::Auto)]
    pub gpu: Gpu,
    #[command(flatten)]
    pub compile: CompileOpts,
    #[command(flatten)]
    pub opts: RunOptions,
    /// Extra arguments passed to every binary verbatim (after --).
    #[arg(last = true, value_name = "ARGS")]
    pub extra: Vec<String>,
    #[command(flatten)]
    pub history: HistoryOpts,
}

/// The backend a build is for (defined with the builds, which must not depend on the CLI).
pub use crate::build::BuildBackend;

/// How llama.cpp is built from a revision: `build`, `bisect` and
/// `compare --src` share these options.
#[derive(Debug, Clone, Args)]
pub struct BuildOpts {
    /// Backend of the builds.
    #[arg(long, value_enum, default_value_t = BuildBackend::Auto)]
    pub backend: BuildBackend,
    /// Extra CMake configure argument of every build, passed verbatim (repeatable; part of the build's key).
    #[arg(long = "cmake-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub cmake_args: Vec<String>,
}

/// [`BuildOpts`] and the compile jobs: `build` and `bisect` (not
/// `compare`, where `-j` would shadow llama.cpp's own `-j`).
#[derive(Debug, Clone, Args)]
pub struct CompileOpts {
    #[command(flatten)]
    pub build: BuildOpts,
    /// Parallel compile jobs (default: the number of CPUs).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuildFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// The llama.cpp git checkout (any CMake project that builds the tools into build/bin).
    #[arg(long, value_name = "DIR", required_unless_present_any = ["list", "prune"])]
    pub src: Option<PathBuf>,
    /// Revisions: anything git resolves to a commit (master, HEAD~3, b7001, a hash), or WORKTREE.
    #[arg(value_name = "REV", required_unless_present_any = ["list", "prune"])]
    pub revs: Vec<String>,
    /// Tool to build (repeatable), by its current name; older names (main, server) are found.
    #[arg(long = "tool", value_name = "NAME", default_value = "llama-completion")]
    pub tools: Vec<String>,
    #[command(flatten)]
    pub compile: CompileOpts,
    /// List the cached builds with their sizes.
    #[arg(long, conflicts_with_all = ["prune", "revs"])]
    pub list: bool,
    /// Remove cached builds and their worktrees (all, or all but --keep N).
    #[arg(long, conflicts_with = "revs")]
    pub prune: bool,
    /// With --prune: keep the N most recently used builds.
    #[arg(long, value_name = "N", requires = "prune")]
    pub keep: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = BuildFormat::Text)]
    pub format: BuildFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Gpu {
    /// llama.cpp's own default (no offload flags passed)
    Auto,
    /// no offload at all: -ngl 0, plus -dev none where supported
    Cpu,
    /// every layer offloaded (-ngl 999)
    Metal,
    /// every layer offloaded (-ngl 999)
    Cuda,
}

pub use crate::format::Format;

#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Short for --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

impl OutputArgs {
    pub fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format
        }
    }
}

/// `--profile` on `run` and `compare`.
#[derive(Debug, Clone, Default, Args)]
pub struct ProfileArgs {
    /// After the measured runs, run the binary once more (per side) under this profiler; that run
    /// is not counted. Its trace files are kept and its top kernels printed and stored.
    #[arg(long, value_enum, value_name = "TOOL")]
    pub profile: Option<crate::profile::wrap::Profiler>,
    /// Where the profiler's files go (default: tokbench-profile-<seconds since the epoch>).
    #[arg(long, value_name = "DIR", requires = "profile")]
    pub profile_dir: Option<PathBuf>,
    /// ncu: kernel launches it profiles at most (it replays each one, which is slow).
    #[arg(long, value_name = "N", default_value_t = 200, requires = "profile")]
    pub profile_launch_count: u32,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The llama.cpp binary: llama-completion, llama-cli, main or llama-bench.
    #[arg(long, value_name = "PATH")]
    pub bin: PathBuf,
    /// The GGUF model file.
    #[arg(short = 'm', long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Counted runs (with llama-bench: its -r).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub reps: u32,
    /// GPU offload.
    #[arg(long, value_enum, default_value_t = Gpu::Auto)]
    pub gpu: Gpu,
    /// Name for this build in reports (default: the binary's version and commit).
    #[arg(long)]
    pub label: Option<String>,
    #[command(flatten)]
    pub opts: RunOptions,
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Extra arguments passed to the binary verbatim (after --).
    #[arg(last = true, value_name = "ARGS")]
    pub extra: Vec<String>,
    #[command(flatten)]
    pub history: HistoryOpts,
}

/// Options shared by `run` and `compare`: how each run is made, kept and reported.
#[derive(Debug, Clone, Args)]
pub struct RunOptions {
    /// Prompt text (default: a built-in English text of about 500 tokens).
    #[arg(short = 'p', long, conflicts_with = "file")]
    pub prompt: Option<String>,
    /// Read the prompt from a file.
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Tokens to generate per run [default: 128] (end-of-sequence is ignored so every run generates this many).
    #[arg(short = 'n', long = "n-predict", value_name = "N")]
    pub n_predict: Option<u32>,
    /// Warmup runs before the counted ones (written to -o, not counted).
    #[arg(long, default_value_t = 1)]
    pub warmup: u32,
    /// Limit per run, e.g. 90s, 10m, 1h.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// RNG seed passed to the binary.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Append one JSON line per run to FILE as each run ends.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Keep each run's raw stdout and stderr in DIR.
    #[arg(long, value_name = "DIR")]
    pub keep_logs: Option<PathBuf>,
    /// Go on after a failed run (default: stop at the first).
    #[arg(long)]
    pub keep_going: bool,
    /// Print the exact command lines and exit.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub out: OutputArgs,
    /// GPU/memory samplers: auto, none, or a comma list of powermetrics, vmmap, macmon, nvidia-smi, proc.
    #[arg(long, default_value = "auto", value_parser = crate::sample::parse_sampler_choice)]
    pub sampler: crate::sample::SamplerChoice,
    /// Time between samples (vmmap runs about once a second regardless).
    #[arg(long, default_value = "100ms", value_parser = parse_duration)]
    pub sample_interval: std::time::Duration,
    /// Fail (exit 1) instead of warning when a requested sampler is not available.
    #[arg(long)]
    pub require_sampler: bool,
    /// Peak memory bandwidth of the device for the roofline, in GB/s (e.g. 4800 or 4.8TB/s).
    #[arg(long, value_name = "GB/s", value_parser = crate::sample::parse_bandwidth_gbps)]
    pub peak_bandwidth: Option<f64>,
}

#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Two stored results files (before.jsonl after.jsonl), or one written by
    /// 'compare -o' that holds both sides, instead of running anything.
    #[arg(value_name = "RESULTS", num_args = 0..=2, conflicts_with_all = ["a", "b"])]
    pub files: Vec<PathBuf>,
    /// Binary A (the baseline).
    #[arg(long, value_name = "PATH")]
    pub a: Option<PathBuf>,
    /// Binary B (the candidate; default: the same binary as A, with --b-args).
    #[arg(long, value_name = "PATH")]
    pub b: Option<PathBuf>,
    /// The GGUF model file.
    #[arg(short = 'm', long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Extra arguments for A only, split by shell-word rules (never run through a shell).
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub a_args: Option<String>,
    /// Extra arguments for B only.
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub b_args: Option<String>,
    /// GPU offload for both sides (see 'run --help').
    #[arg(long, value_enum, default_value_t = Gpu::Auto)]
    pub gpu: Gpu,
    /// GPU offload for A (overrides --gpu).
    #[arg(long, value_enum)]
    pub a_gpu: Option<Gpu>,
    /// GPU offload for B (overrides --gpu).
    #[arg(long, value_enum)]
    pub b_gpu: Option<Gpu>,
    /// Name of side A in the report and the records (default: the binary's name and build, or the revision).
    #[arg(long, value_name = "NAME")]
    pub a_label: Option<String>,
    /// Name of side B in the report and the records (default: as for --a-label).
    #[arg(long, value_name = "NAME")]
    pub b_label: Option<String>,
    /// Pairs of runs (A and B once each per pair, ordered ABBA ABBA ...).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "auto")]
    pub pairs: u32,
    /// Run pairs until the verdict is decided or --max-pairs / --max-time is spent.
    #[arg(long)]
    pub auto: bool,
    /// Budget of pairs for --auto.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(3..))]
    pub max_pairs: u32,
    /// Budget of time for --auto (e.g. 20m).
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    pub max_time: std::time::Duration,
    /// Noise band: changes smaller than this are 'no significant change' (e.g. 1 or 1%).
    #[arg(long, default_value = "1%", value_parser = parse_percent)]
    pub threshold: f64,
    /// Exit 3 when B is slower than A by more than PCT with 95% confidence on the primary metric.
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    pub fail_if_slower: Option<f64>,
    /// The primary metric for the verdict and --fail-if-slower (eval_tps, prompt_eval_tps,
    /// load_ms, a llama-bench test such as tg128, ...).
    #[arg(long, default_value = "eval_tps")]
    pub metric: String,
    /// Wait between runs: a duration (e.g. 5s), or 'auto': until the GPU's temperature and power
    /// (from the samplers) are back near their idle level before the first run (at most 2 min).
    #[arg(long, value_name = "DURATION|auto", value_parser = parse_cooldown)]
    pub cooldown: Option<Cooldown>,
    /// Compare two builds stored in the history (a build id, a run label or a commit)
    /// instead of running anything; -m narrows to runs of one model.
    #[arg(long, num_args = 2, value_names = ["BUILD_A", "BUILD_B"], conflicts_with_all = ["a", "b", "files"])]
    pub from_history: Vec<String>,
    #[command(flatten)]
    pub revs: CompareRevArgs,
    #[command(flatten)]
    pub opts: RunOptions,
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Extra arguments passed to both binaries verbatim (after --).
    #[arg(last = true, value_name = "ARGS")]
    pub extra: Vec<String>,
    #[command(flatten)]
    pub history: HistoryOpts,
}

/// `compare --src DIR --a-rev REV --b-rev REV`: sides built from commits.
#[derive(Debug, Clone, Args)]
pub struct CompareRevArgs {
    /// A llama.cpp git checkout to build --a-rev / --b-rev from (see 'tokbench build').
    #[arg(long, value_name = "DIR")]
    pub src: Option<PathBuf>,
    /// Side A as a revision of --src (a commit, tag, branch, or WORKTREE), built or reused.
    #[arg(long, value_name = "REV", requires = "src", conflicts_with_all = ["a", "files"])]
    pub a_rev: Option<String>,
    /// Side B as a revision of --src, built or reused.
    #[arg(long, value_name = "REV", requires = "src", conflicts_with_all = ["b", "files"])]
    pub b_rev: Option<String>,
    /// The tool built for --a-rev / --b-rev, by its current name (older names are found).
    #[arg(long, value_name = "NAME", default_value = "llama-completion", value_parser = ["llama-completion", "llama-bench"])]
    pub tool: String,
    #[command(flatten)]
    pub build: BuildOpts,
    /// Exit as 'git bisect run' expects: 0 when B is like A or better, 1 when B is worse
    /// beyond --threshold, 125 when undecided or a build failed.
    #[arg(long)]
    pub git_bisect_exit: bool,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Only runs whose model path contains this text.
    #[arg(long, value_name = "TEXT")]
    pub model: Option<String>,
    /// Only this build: a build id, a run label or a commit.
    #[arg(long, value_name = "BUILD")]
    pub build: Option<String>,
    /// Only runs with this label.
    #[arg(long)]
    pub label: Option<String>,
    /// Only runs since a date (2026-01-31), a time (RFC 3339) or a duration ago (7d).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// List runs instead of builds.
    #[arg(long)]
    pub runs: bool,
    /// List 'tokbench serve' sessions (one block, a sweep or an A/B) instead of builds (--label, --since apply).
    #[arg(long, conflicts_with_all = ["runs", "build", "model"])]
    pub serve: bool,
    /// List 'tokbench ops' rounds: one line per build and op case, medians over its rounds
    /// (--build, --label, --since apply).
    #[arg(long, conflicts_with_all = ["runs", "serve", "model"])]
    pub ops: bool,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub db: DbOpts,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// llama-bench output (-o json, jsonl, csv, sql, or md with its build footer) or tokbench JSONL results.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Label for the imported runs (default: commit and backend).
    #[arg(long)]
    pub label: Option<String>,
    /// Print what each file added as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// SQLite file with llama-bench's llama_bench table (compare-llama-bench.py -i FILE)
    LlamaBenchSqlite,
    /// llama-bench's -o json array
    LlamaBenchJson,
    /// SQLite file with test-backend-ops' test_backend_ops table, from the stored 'tokbench ops'
    /// rounds (compare-llama-bench.py --tool test-backend-ops -i FILE)
    TestBackendOpsSqlite,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Only these builds (a build id, a run label or a commit); repeatable.
    #[arg(long, value_name = "BUILD")]
    pub build: Vec<String>,
    /// The file to write (never overwritten; '-' for standard output with llama-bench-json).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub db: DbOpts,
}

/// `3`, `3%` or `0.5%` -> percent as a number (3.0).
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%').trim();
    match t.parse::<f64>() {
        Ok(v) if (0.0..100.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "'{s}' is not a percentage between 0 and 100 (examples: 1, 2.5%)"
        )),
    }
}

#[derive(Debug, Clone, Args)]
pub struct ParseArgs {
    /// Files to read; '-' or none reads standard input.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `100ms`, `90s`, `10m`, `1h30m`. A bare number is refused: `100` meant
/// 100 ms to some and 100 s to others (a `--sample-interval 100` once
/// gave a run no sample at all).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    if t.parse::<f64>().is_ok() {
        return Err(format!(
            "'{s}' has no unit: write it with one, e.g. '{t}ms' or '{t}s' (units: ms, s, m, h)"
        ));
    }
    let d = humantime::parse_duration(t)
        .map_err(|e| format!("'{s}': {e} (examples: 100ms, 1s, 90s, 10m, 1h)"))?;
    if d.is_zero() {
        return Err(format!("'{s}' is zero: a run must be allowed some time"));
    }
    Ok(d)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlotKind {
    /// Per-run t/s of A and B in run order (a 'compare -o' file, or two run files).
    Sequence,
    /// One run's GPU busy %, power and memory over time (a run made with --sampler).
    Timeline,
    /// Median t/s per build with min-max whiskers (run files, grouped by label).
    Builds,
    /// A sweep's metric against memory, Pareto front and tied group marked, and the
    /// per-parameter effect (the file 'sweep --format json' writes).
    Sweep,
    /// A 'serve -o' file: latency percentiles and throughput against offered load, latency CDFs.
    Serve,
}

#[derive(Debug, Clone, Args)]
pub struct PlotArgs {
    /// Which plot.
    #[arg(value_enum)]
    pub kind: PlotKind,
    /// Results files (JSONL from -o).
    #[arg(value_name = "RESULTS", required_unless_present = "from_history")]
    pub files: Vec<PathBuf>,
    /// builds: read the runs from the history database instead of files.
    #[arg(long, conflicts_with = "files")]
    pub from_history: bool,
    /// The plot file to write: OUT.png or OUT.svg (the extension picks the format).
    #[arg(short = 'o', long = "output", value_name = "OUT.png|OUT.svg")]
    pub output: PathBuf,
    /// timeline: the run to draw, by its seq (default: the first counted run with a timeline); of a serve file, the block by its index.
    #[arg(long, value_name = "N")]
    pub seq: Option<u32>,
    /// sequence and builds: the metric to draw (eval_tps, prompt_eval_tps, a llama-bench test, ...).
    #[arg(long, default_value = "eval_tps")]
    pub metric: String,
    #[command(flatten)]
    pub db: DbOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML file (inline SVG and CSS, no scripts).
    Html,
    /// A markdown file with the SVG plots written next to it.
    Markdown,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Results files: one 'compare -o' file or two run files for a comparison; else run files.
    #[arg(value_name = "RESULTS", required = true)]
    pub files: Vec<PathBuf>,
    /// The report file to write (report.html, report.md).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// The primary metric of a comparison and of the plots.
    #[arg(long, default_value = "eval_tps")]
    pub metric: String,
    /// Noise band of a comparison (see 'compare --help').
    #[arg(long, default_value = "1%", value_parser = parse_percent)]
    pub threshold: f64,
}

/// `tokbench sweep` (issue 12): the best configuration of a grid, raced
/// with statistics. Defined here, run by `crate::sweep::spec` once the
/// session engine carries it.
#[derive(Debug, Clone, Args)]
pub struct SweepArgs {
    /// The llama.cpp binary: llama-completion or llama-bench (one cell per invocation).
    #[arg(long, value_name = "PATH")]
    pub bin: PathBuf,
    /// The GGUF model file.
    #[arg(short = 'm', long, value_name = "MODEL")]
    pub model: PathBuf,
    /// A flag and its values in llama-bench's syntax: "-t 1,2,4,8", "-ub 64-512*2",
    /// "-t 2-8+2" (repeatable: the cells are the product).
    #[arg(long, value_name = "\"FLAG VALUES\"", allow_hyphen_values = true)]
    pub vary: Vec<String>,
    /// One value of a dimension of whole argument sets, e.g. "-t 4 -tb 8" (repeatable).
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub vary_args: Vec<String>,
    /// The metric to race on (eval_tps, prompt_eval_tps, a llama-bench test such as tg128, ...).
    #[arg(long, default_value = "eval_tps")]
    pub metric: String,
    /// Noise band: cells within it of the best are tied (e.g. 1 or 1%).
    #[arg(long, default_value = "1%", value_parser = parse_percent)]
    pub threshold: f64,
    /// Budget of time, warmups included (the sweep stops before a round would overrun it,
    /// and before any run once it is spent: a round it cuts short is left out of the statistics).
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub max_time: std::time::Duration,
    /// Budget of rounds.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(3..))]
    pub max_rounds: u32,
    /// Rounds before the first elimination can happen.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(2..))]
    pub min_rounds: u32,
    /// Within the tied group, recommend the least memory, the least energy, or the best.
    #[arg(long, value_enum, default_value_t = crate::sweep::result::Prefer::Memory)]
    pub prefer: crate::sweep::result::Prefer,
    /// Seed of the rounds' random order (default: from the clock; always recorded).
    #[arg(long, value_name = "N")]
    pub order_seed: Option<u64>,
    /// GPU offload for every cell (see 'run --help').
    #[arg(long, value_enum, default_value_t = Gpu::Auto)]
    pub gpu: Gpu,
    /// Name for this build in reports (default: the binary's version and commit).
    #[arg(long)]
    pub label: Option<String>,
    #[command(flatten)]
    pub opts: RunOptions,
    /// Arguments every cell shares, passed verbatim (after --).
    #[arg(last = true, value_name = "ARGS")]
    pub extra: Vec<String>,
    #[command(flatten)]
    pub history: HistoryOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServeApi {
    /// POST /completion (llama-server's own endpoint: per-chunk token counts)
    Completion,
    /// POST /v1/chat/completions (OpenAI-compatible)
    Chat,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["url", "server", "standin", "a_url", "a_server", "a_standin"])))]
#[command(group(clap::ArgGroup::new("b_target").args(["b_url", "b_server", "b_standin"])))]
pub struct ServeArgs {
    /// A running server, http://HOST:PORT or https://HOST:PORT (tokbench only reads from it).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Start this llama-server command (split by shell-word rules, no shell); --host, --port and --metrics are added unless named.
    #[arg(long, value_name = "CMD")]
    pub server: Option<String>,
    /// The built-in stand-in server with planted timings, e.g. 'slots=4,token_ms=0': measures tokbench's own overhead.
    #[arg(long, value_name = "SPEC")]
    pub standin: Option<String>,
    /// A/B: server A is a running server (the load goes to one side at a time).
    #[arg(long, value_name = "URL")]
    pub a_url: Option<String>,
    /// A/B: server B is a running server.
    #[arg(long, value_name = "URL")]
    pub b_url: Option<String>,
    /// A/B: start this llama-server command as A for each of its blocks (one server runs at a time).
    #[arg(long, value_name = "CMD")]
    pub a_server: Option<String>,
    /// A/B: start this llama-server command as B for each of its blocks.
    #[arg(long, value_name = "CMD")]
    pub b_server: Option<String>,
    /// A/B: the built-in stand-in as A (planted timings, as --standin).
    #[arg(long, value_name = "SPEC")]
    pub a_standin: Option<String>,
    /// A/B: the built-in stand-in as B.
    #[arg(long, value_name = "SPEC")]
    pub b_standin: Option<String>,
    /// A/B: ABBA pairs of blocks (a 95% interval needs at least 6).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..))]
    pub pairs: u32,
    /// A/B: the figure judged and gated, e.g. itl_ms.p50, ttft_ms.p99, output_tps.
    #[arg(long, default_value = "itl_ms.p50")]
    pub metric: String,
    /// A/B: noise band; changes smaller than this are 'no significant change' (e.g. 1 or 1%).
    #[arg(long, default_value = "1%", value_parser = parse_percent)]
    pub threshold: f64,
    /// A/B: exit 3 when B is worse than A on --metric by more than PCT with 95% confidence.
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    pub fail_if_slower: Option<f64>,
    /// An HTTP header sent with every request, KEY:VALUE (repeatable; e.g. an API key).
    #[arg(long = "header", value_name = "K:V")]
    pub headers: Vec<String>,
    /// https:// URLs: trust the certificates in this PEM file instead of the system's (e.g. a self-signed server's).
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub cacert: Option<PathBuf>,
    /// https:// URLs: do not verify the server's certificate (a warning is printed).
    #[arg(long)]
    pub insecure: bool,
    #[arg(long, value_enum, default_value_t = ServeApi::Completion)]
    pub api: ServeApi,
    /// Open loop: requests per second on a schedule.
    #[arg(long, value_name = "R", conflicts_with = "concurrency")]
    pub rate: Option<f64>,
    /// Open loop: at most C requests in flight; a request waits for a client slot (reported as client queueing).
    #[arg(long, value_name = "C", requires = "rate", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrency: Option<u32>,
    /// Closed loop: C clients, each sending its next request when its last one ended [default: 1 without --rate].
    #[arg(long, value_name = "C", value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: Option<u32>,
    /// Arrival process of the open loop: poisson, constant or gamma:CV.
    #[arg(long, default_value = "poisson")]
    pub arrival: String,
    /// Counted requests per block.
    #[arg(long, default_value_t = 100, conflicts_with = "duration", value_parser = clap::value_parser!(u32).range(1..))]
    pub requests: u32,
    /// Send requests for this long instead of a count (e.g. 60s).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Requests sent one at a time before the counted ones (kept in -o, not counted).
    #[arg(long, default_value_t = 2)]
    pub warmup: u32,
    /// Prompt length in the server's tokens, N or N:SD (default: the built-in text, or each --prompts line, as is).
    #[arg(long, value_name = "N[:SD]")]
    pub prompt_tokens: Option<String>,
    /// Tokens generated per request (end-of-sequence ignored).
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_tokens: u64,
    /// Prompts, one a line or JSON Lines ({"prompt": ...}); used in turn.
    #[arg(long, value_name = "FILE")]
    pub prompts: Option<PathBuf>,
    /// Deliberate prefix-cache scenario: every prompt starts with the same N tokens and cache_prompt is on.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub shared_prefix: Option<u64>,
    /// Latency targets, e.g. 'ttft_p99<=500ms,itl_p99<=60ms' (unmet: exit 3).
    #[arg(long, value_name = "TARGETS")]
    pub slo: Option<String>,
    /// Step the offered load (doubling from --rate or --concurrency, or --rates), find the knee and, with --slo, the highest load meeting it.
    #[arg(long)]
    pub rate_sweep: bool,
    /// The sweep's steps, e.g. 1,2,4,8 (req/s; with --concurrency: client counts).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        requires = "rate_sweep"
    )]
    pub rates: Vec<f64>,
    /// Blocks per load in a sweep with --slo (a load passes when every trial does).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    pub trials: u32,
    /// Seed of the arrival schedule and prompt lengths.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Limit per request.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub request_timeout: std::time::Duration,
    /// --server: how long it may take to answer /health 200.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub ready_timeout: std::time::Duration,
    /// --server: where its log goes [default: beside -o, or tokbench-server-<time>.log here].
    #[arg(long, value_name = "FILE")]
    pub server_log: Option<PathBuf>,
    /// Samplers on a server tokbench starts, over each block: auto, none, or a list of nvidia-smi, proc, ...
    #[arg(long, default_value = "auto", value_parser = crate::sample::parse_sampler_choice)]
    pub sampler: crate::sample::SamplerChoice,
    /// Time between samples.
    #[arg(long, default_value = "100ms", value_parser = parse_duration)]
    pub sample_interval: std::time::Duration,
    /// Name for this server in the results.
    #[arg(long)]
    pub label: Option<String>,
    /// Append one JSON line per request as it ends, and a summary per block (each with a `kind`).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub history: HistoryOpts,
}

/// `--cooldown`: a fixed pause between runs, or `auto` (until the GPU is
/// back near its idle temperature and power).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cooldown {
    Fixed(std::time::Duration),
    Auto,
}

/// `auto`, or a duration such as `5s`.
pub fn parse_cooldown(s: &str) -> Result<Cooldown, String> {
    if s.trim().eq_ignore_ascii_case("auto") {
        return Ok(Cooldown::Auto);
    }
    parse_duration(s).map(Cooldown::Fixed)
}

#[cfg(test)]
mod cooldown_tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parse_auto_or_a_duration() {
        assert_eq!(parse_cooldown("auto"), Ok(Cooldown::Auto));
        assert_eq!(
            parse_cooldown("5s"),
            Ok(Cooldown::Fixed(Duration::from_secs(5)))
        );
        assert!(parse_cooldown("soon").is_err());
    }
}
