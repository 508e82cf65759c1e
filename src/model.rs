//! Result types shared by the parsers, the runner, the stores and the
//! reporters. Field names carry their units (`eval_tps`, `load_ms`,
//! `size_bytes`) because the JSON written from them is a documented contract
//! (see README "Results format"); `SCHEMA_VERSION` changes only on purpose.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub mod sampled;

/// Version of the JSONL results format written by `-o`. 2: a results file
/// may also hold `tokbench serve` records, told apart by their `kind`
/// (run records have none and are unchanged; readers of runs still take 1).
pub const SCHEMA_VERSION: u32 = 2;

/// A number exactly as llama.cpp printed it. Finite values serialise as JSON
/// numbers; `inf`, `-inf` and `nan` serialise as those strings, because JSON
/// has no such numbers and turning them into one would invent data.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Num(pub f64);

impl Num {
    /// The value when it is a finite number (what statistics may use).
    pub fn finite(self) -> Option<f64> {
        self.0.is_finite().then_some(self.0)
    }
}

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_finite() {
            s.serialize_f64(v)
        } else if v.is_nan() {
            s.serialize_str("nan")
        } else if v > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            F(f64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::F(v) => Ok(Num(v)),
            Raw::S(s) => match s.as_str() {
                "inf" => Ok(Num(f64::INFINITY)),
                "-inf" => Ok(Num(f64::NEG_INFINITY)),
                "nan" => Ok(Num(f64::NAN)),
                other => Err(serde::de::Error::custom(format!(
                    "expected a number, 'inf', '-inf' or 'nan', found '{other}'"
                ))),
            },
        }
    }
}

/// A list of numbers serialised like [`Num`]: `inf`/`nan` as strings.
mod num_vec {
    use super::Num;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let nums: Vec<Num> = v.iter().map(|x| Num(*x)).collect();
        nums.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<Num>::deserialize(d)?
            .into_iter()
            .map(|n| n.0)
            .collect())
    }
}

/// Timings of one llama.cpp timing block. Every field is optional because
/// each era prints a different subset. `eval_tokens` is what the CLI calls
/// "runs" and the server calls "tokens" (see `TimingBlock::eval_unit`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_ms: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_eval_ms: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_eval_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_eval_ms_per_token: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_eval_tps: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_ms: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_ms_per_token: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_tps: Option<Num>,
    /// `sampling time` (older eras: `sample time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling_ms: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling_runs: Option<u64>,
    /// `samplers time` (common_perf_print, llama_perf_sampler_print today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samplers_ms: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samplers_runs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_ms: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unaccounted_ms: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unaccounted_pct: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graphs_reused: Option<u64>,
    /// `main: mem per token = N bytes` (March 2023).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_per_token_bytes: Option<u64>,
    /// Server `draft acceptance = R (A accepted / G generated)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_acceptance: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_accepted: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_generated: Option<u64>,
    /// Names of fields tokbench computed instead of reading them as printed
    /// (e.g. `eval_tps` from `ms per token` in eras that print no t/s).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived: Vec<String>,
}

/// Which llama.cpp printer produced a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// `main:` lines of March 2023.
    Main2023,
    /// `llama_print_timings:` (2023 - 2024).
    LlamaPrintTimings,
    /// `llama_perf_sampler_print:` + `llama_perf_context_print:` (Sep 2024 on).
    LlamaPerf,
    /// `common_perf_print:` (Nov 2025 on).
    CommonPerfPrint,
    /// llama-server `slot print_timing:` lines, one block per task.
    ServerSlot,
    /// llama-server JSON `timings` object (response body or final SSE chunk).
    ServerJson,
    /// The new interactive llama-cli footer `[ Prompt: x t/s | Generation: y t/s ]`.
    CliFooter,
}

/// One timing block found in an output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingBlock {
    pub kind: BlockKind,
    /// `draft` / `target` (speculative), `slot 0 task 388` (server), or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// 1-based line of the block's first recognised line in its input.
    pub line: usize,
    /// The word printed after the eval count: `runs` (CLI) or `tokens` (server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_unit: Option<String>,
    pub timings: Timings,
}

/// What a binary says about its own build (`--version` banner or log header,
/// llama-bench's `build_commit`/`build_number`, the `system_info` backends).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// e.g. `0.5.0-dev` (current) or `5615` (2024-2025 banners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_number: Option<u64>,
    /// `built with <compiler> for <target>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiler: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Backends seen in the log (`CUDA`, `Metal`, `CPU`, ...), comma separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// The source tree and configuration, when tokbench built it (`tokbench build`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInfo>,
}

/// What a build that `tokbench build` made was built from: the commit (with
/// the checkout's uncommitted changes when `dirty`) and the configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The user's checkout the commit was taken from.
    pub repo: String,
    /// Full hash of the commit (HEAD, for a dirty `WORKTREE` build).
    pub commit: String,
    pub subject: String,
    /// Committer date, ISO 8601.
    pub date: String,
    /// Built with the checkout's uncommitted changes (`WORKTREE`).
    #[serde(default)]
    pub dirty: bool,
    /// Hash of the uncommitted diff and untracked files, when `dirty`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty_key: Option<String>,
    /// `cpu`, `metal` or `cuda` (after `auto` was resolved).
    pub backend: String,
    /// Every argument given to the CMake configure step, tokbench's and the user's.
    #[serde(default)]
    pub cmake_args: Vec<String>,
    /// The C++ compiler's `--version` line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiler: Option<String>,
}

/// One llama-bench test (a row of its table / an object of its JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BenchTest {
    /// `pp512`, `tg128`, `pp512+tg128`, with ` @ d4096` when a depth is set.
    pub test: String,
    /// The test plus the parameters that vary within its invocation
    /// (`tg128 fa=1`, see `parse::bench::key`); what every table, file and
    /// comparison names it by. Empty in records written before it existed:
    /// read it through [`BenchTest::key`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    pub n_prompt: u64,
    pub n_gen: u64,
    pub n_depth: u64,
    pub avg_tps: Num,
    pub stddev_tps: Num,
    /// Per-repetition t/s as llama-bench reported them (json/jsonl/csv/sql; the
    /// markdown table carries only mean ± stddev).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "num_vec")]
    pub samples_tps: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples_ns: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_n_params: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backends: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_gpu_layers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_threads: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_number: Option<u64>,
    /// Every other field llama-bench printed, as printed (strings for markdown
    /// and csv, JSON values for json/jsonl/sql).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl BenchTest {
    /// The name this result goes by: its key, or its test name in records
    /// written before keys existed.
    pub fn key(&self) -> &str {
        if self.key.is_empty() {
            &self.test
        } else {
            &self.key
        }
    }
}

/// Which llama-bench output format a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BenchFormat {
    Md,
    Json,
    Jsonl,
    Csv,
    Sql,
}

/// The benchmarked binary, identified by content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BinaryInfo {
    pub path: String,
    /// SHA-256 of the executable file.
    pub sha256: String,
    /// SHA-256 over the llama/ggml shared libraries beside it (name + content,
    /// sorted by name), when the build is a shared one: two builds with the
    /// same executable but different libraries differ here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub libs_sha256: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub path: String,
    pub size_bytes: u64,
    /// What the GGUF header says (architecture, name, tensor bytes), when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gguf: Option<crate::gguf::GgufInfo>,
}

/// The machine tokbench ran on (sysinfo).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub kernel: Option<String>,
    pub arch: String,
    pub cpu: Option<String>,
    pub cpu_logical_cores: usize,
    pub cpu_physical_cores: Option<usize>,
    pub memory_total_bytes: u64,
}

/// How a run's process ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExitInfo {
    /// Exit code when the process exited by itself.
    pub code: Option<i32>,
    /// Signal number when it was killed by a signal.
    pub signal: Option<i32>,
    /// Killed by tokbench at `--timeout`.
    #[serde(default)]
    pub timed_out: bool,
    /// Killed by tokbench because tokbench was interrupted.
    #[serde(default)]
    pub interrupted: bool,
}

/// One line of the `-o` results file: one run, self-contained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub schema_version: u32,
    pub tokbench_version: String,
    pub label: String,
    /// Order within the invocation, from 0, warmup runs included.
    pub seq: u32,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub warmup: bool,
    /// `a` or `b` in a comparison; absent for `tokbench run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<String>,
    /// The sweep cell of the run (`-t 4 -fa on`); absent outside `sweep`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    pub binary: BinaryInfo,
    pub argv: Vec<String>,
    /// `LLAMA_ARG_*` variables in tokbench's environment (the child inherits them).
    pub env: std::collections::BTreeMap<String, String>,
    pub build: BuildInfo,
    pub model: ModelInfo,
    pub machine: MachineInfo,
    pub exit: ExitInfo,
    /// `ok`, or `failed` with `error` saying why.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// tokbench's own clock from spawn to exit.
    pub wall_ms: f64,
    /// The run's main timing block (the target model's, when several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timings: Option<Timings>,
    /// Every timing block found, when there was more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<TimingBlock>,
    /// llama-bench tests, with their per-repetition samples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bench: Vec<BenchTest>,
    /// Bytes the child wrote to stdout / stderr.
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
    /// Remarks about this run (unparsed lines, dropped output, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// What tokbench decided for this run's argv and why (e.g. the `-c` it
    /// passed because the binary's default context was too small).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// GPU, power and memory figures sampled during the run (`--sampler`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampled: Option<sampled::SampledFigures>,
    /// Every sample taken during the run, in ms since its start (for plots).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<sampled::Sample>,
    /// `test-backend-ops perf` cases read from the run (`tokbench ops`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<OpResult>,
}

/// One case of `test-backend-ops perf`, from its SQL or console output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OpResult {
    /// `backend_name` (CPU, CUDA0, MTL0).
    pub backend: String,
    pub op: String,
    /// The parameter string, e.g. `type=f32,ne=[4096,512,1,1],...`.
    pub params: String,
    pub supported: bool,
    /// Microseconds per run of the op; 0 for an unsupported case.
    pub time_us: f64,
    /// Achieved FLOP/s for compute-bound ops; 0 when the op is memory-bound.
    pub flops: f64,
    /// Achieved GB/s (GiB/s in the source: ggml divides by 1024^3) for
    /// memory-bound ops; 0 when `flops` is set.
    pub bandwidth_gb_s: f64,
    pub memory_kb: u64,
    pub n_runs: u64,
    /// `device_description`, e.g. the CPU or GPU name; empty when unknown.
    pub device: String,
    pub build_commit: String,
    pub test_time: String,
    pub error: String,
}

/// A case's rate as ggml reports it (single values or medians): TFLOPS
/// when it counts FLOPs (a compute-bound op), else GB/s; None when neither
/// is positive.
pub fn op_rate(flops: f64, gb_s: f64) -> (Option<f64>, Option<f64>) {
    let tflops = (flops > 0.0).then(|| flops / 1e12);
    let gb = (flops.is_nan() || flops <= 0.0)
        .then_some(gb_s)
        .filter(|b| *b > 0.0);
    (tflops, gb)
}

impl OpResult {
    /// The key two builds' results are matched on.
    pub fn key(&self) -> (String, String, String) {
        (self.backend.clone(), self.op.clone(), self.params.clone())
    }

    /// Time per run, only for a supported case with a positive time.
    pub fn usable_time(&self) -> Option<f64> {
        (self.supported && self.time_us.is_finite() && self.time_us > 0.0).then_some(self.time_us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_bench_samples_round_trip_as_strings() {
        let t = BenchTest {
            test: "tg8".into(),
            samples_tps: vec![41.5, f64::INFINITY],
            ..Default::default()
        };
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains(r#""samples_tps":[41.5,"inf"]"#), "{json}");
        let back: BenchTest = serde_json::from_str(&json).unwrap();
        assert_eq!(back.samples_tps[0], 41.5);
        assert!(back.samples_tps[1].is_infinite());
    }
}

/// Records for the tests of every layer above (kept here, the leaf, so a
/// test below the engine need not import it).
#[cfg(test)]
pub(crate) mod test_support {
    /// A run record with nothing read yet.
    pub fn blank_record() -> super::RunRecord {
        super::RunRecord {
            schema_version: super::SCHEMA_VERSION,
            tokbench_version: "0".into(),
            label: "x".into(),
            seq: 0,
            started_at: String::new(),
            warmup: false,
            side: None,
            cell: None,
            binary: Default::default(),
            argv: Vec::new(),
            env: Default::default(),
            build: Default::default(),
            model: Default::default(),
            machine: Default::default(),
            exit: Default::default(),
            status: "ok".into(),
            error: None,
            wall_ms: 1000.0,
            timings: None,
            blocks: Vec::new(),
            bench: Vec::new(),
            stdout_bytes: 0,
            stderr_bytes: 0,
            warnings: Vec::new(),
            notes: Vec::new(),
            sampled: None,
            timeline: Vec::new(),
            ops: Vec::new(),
        }
    }
}
