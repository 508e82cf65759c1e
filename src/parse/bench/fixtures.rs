//! Recorded llama-bench outputs and the checks the format tests share.

use serde_json::Value;

use super::{parse_bench, BenchOutput};
use crate::model::{BenchTest, Num};

pub(super) const CPU_MD: &str = include_str!("../../../fixtures/llama-bench/2026_current_cpu.md");
pub(super) const CPU_JSON: &str =
    include_str!("../../../fixtures/llama-bench/2026_current_cpu.json");
pub(super) const CPU_JSONL: &str =
    include_str!("../../../fixtures/llama-bench/2026_current_cpu.jsonl");
pub(super) const CPU_CSV: &str = include_str!("../../../fixtures/llama-bench/2026_current_cpu.csv");
pub(super) const GEMMA_R3: &str =
    include_str!("../../../fixtures/llama-bench/2026_cpu_gemma3_r3.json");
pub(super) const CUDA_MD: &str = include_str!("../../../fixtures/llama-bench/2026_cuda_h200.md");
pub(super) const CUDA_MD_STDERR: &str =
    include_str!("../../../fixtures/llama-bench/2026_cuda_h200_with_stderr.md");
pub(super) const CUDA_JSON: &str =
    include_str!("../../../fixtures/llama-bench/2026_cuda_h200.json");
pub(super) const CUDA_SQL: &str = include_str!("../../../fixtures/llama-bench/2026_cuda_h200.sql");
pub(super) const MD_2023: &str = include_str!("../../../fixtures/llama-bench/2023_pr2626_cuda.md");
pub(super) const SYN_MD: &str =
    include_str!("../../../fixtures/llama-bench/synthetic_cuda_depth_pptg_ngl.md");
pub(super) const SYN_JSONL: &str =
    include_str!("../../../fixtures/llama-bench/synthetic_depth_pptg_inf.jsonl");
pub(super) const OLD_JSON: &str =
    include_str!("../../../fixtures/llama-bench/synthetic_old_fields.json");
pub(super) const TRUNC_JSON: &str =
    include_str!("../../../fixtures/llama-bench/truncated_cpu.json");
pub(super) const TRUNC_FIRST: &str =
    include_str!("../../../fixtures/llama-bench/truncated_first_object.json");
pub(super) const TRUNC_MD: &str = include_str!("../../../fixtures/llama-bench/truncated_cpu.md");

pub(super) const FA_GRID_MD: &str =
    include_str!("../../../fixtures/llama-bench/2026_cuda_h200_fa_grid.md");
pub(super) const FA_GRID_JSONL: &str =
    include_str!("../../../fixtures/llama-bench/synthetic_cuda_fa_grid.jsonl");

pub(super) const ALL: [&str; 16] = [
    CPU_MD,
    CPU_JSON,
    CPU_JSONL,
    CPU_CSV,
    GEMMA_R3,
    CUDA_MD,
    CUDA_MD_STDERR,
    CUDA_JSON,
    CUDA_SQL,
    MD_2023,
    SYN_MD,
    SYN_JSONL,
    OLD_JSON,
    TRUNC_JSON,
    TRUNC_FIRST,
    TRUNC_MD,
];

pub(super) fn parse(text: &str) -> BenchOutput {
    match parse_bench("fixture", text) {
        Ok(out) => out,
        Err(e) => panic!("fixture did not parse: {e}"),
    }
}

pub(super) fn extra<'a>(t: &'a BenchTest, key: &str) -> &'a str {
    t.extra
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("<missing>")
}

/// The fields every format carries, compared exactly.
pub(super) fn check(t: &BenchTest, test: &str, p: u64, g: u64, d: u64, avg: f64, sd: f64) {
    assert_eq!(t.test, test);
    assert_eq!((t.n_prompt, t.n_gen, t.n_depth), (p, g, d), "{test}");
    assert_eq!(t.avg_tps, Num(avg), "{test}");
    assert_eq!(t.stddev_tps, Num(sd), "{test}");
}

pub(super) fn check_build(out: &BenchOutput, commit: &str, number: u64, backend: &str) {
    for t in &out.tests {
        assert_eq!(t.build_commit.as_deref(), Some(commit));
        assert_eq!(t.build_number, Some(number));
        assert_eq!(t.backends.as_deref(), Some(backend));
    }
}
