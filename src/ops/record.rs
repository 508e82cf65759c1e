//! One `test-backend-ops perf` result: an op case on a backend, with its
//! time per run and its rate.

use serde::{Deserialize, Serialize};

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

/// Parse failure of `test-backend-ops` output.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpsParseError {
    #[error("{source_name}: no test-backend-ops perf results found (neither 'INSERT INTO test_backend_ops' lines nor '... runs - ... us/run' lines); run 'test-backend-ops perf --output sql'")]
    Empty { source_name: String },
    #[error("{source_name}: line {line}: {why}")]
    Line {
        source_name: String,
        line: usize,
        why: String,
    },
}
