//! Profiler outputs read into one kernel summary: name, launches, total and
//! mean time, share of the kernel time, and the ggml op the name stands for
//! where it allows it.
//!
//! * [`nsys`]: `nsys stats --report cuda_gpu_kern_sum --format csv`.
//! * [`ncu`]: `ncu --csv --print-units base` with `gpu__time_duration.sum`.
//! * [`xctrace`]: `xctrace export` of the `metal-gpu-intervals` table.
//! * [`kernels`]: kernel name (a C++ template signature) -> ggml op.
//! * [`wrap`]: `--profile`, one extra run under a profiler, read with these.

pub mod kernels;
pub mod ncu;
pub mod nsys;
pub mod wrap;
pub mod xctrace;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One kernel (or, from xctrace, one encoder label).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelStat {
    pub name: String,
    /// The ggml op the name maps to, when it does.
    pub op: Option<String>,
    pub launches: u64,
    pub total_ns: f64,
    pub mean_ns: f64,
    /// Percent of the summed kernel time.
    pub share_pct: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelSummary {
    /// nsys, ncu or xctrace.
    pub tool: String,
    /// Largest total first.
    pub kernels: Vec<KernelStat>,
    pub kernel_time_ns: f64,
    /// GPU busy time (union of intervals), where the source has intervals.
    pub gpu_busy_ns: Option<f64>,
    /// What the summary cannot say (e.g. xctrace names encoders, not kernels).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    #[error("{source_name}: {why}")]
    Bad { source_name: String, why: String },
}

/// A profiler's CSV table: the lines from the first one `is_header` accepts
/// (the tools print a preamble before it), read with its header row, and the
/// position of each named column (names compared trimmed).
pub(crate) struct CsvTable {
    pub rows: Vec<csv::Result<csv::StringRecord>>,
    pub headers: csv::StringRecord,
}

impl CsvTable {
    pub(crate) fn read(
        source_name: &str,
        text: &str,
        is_header: impl Fn(&str) -> bool,
        missing: &str,
    ) -> Result<CsvTable, ProfileError> {
        let start = text
            .lines()
            .position(is_header)
            .ok_or_else(|| bad(source_name, missing))?;
        let body = text.lines().skip(start).collect::<Vec<_>>().join("\n");
        let mut rd = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(body.as_bytes());
        let headers = rd
            .headers()
            .map_err(|e| bad(source_name, e.to_string()))?
            .clone();
        let rows = rd.records().collect();
        Ok(CsvTable { rows, headers })
    }

    pub(crate) fn col(&self, source_name: &str, name: &str) -> Result<usize, ProfileError> {
        self.headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| bad(source_name, format!("no '{name}' column")))
    }
}

pub(crate) fn bad(source_name: &str, why: impl Into<String>) -> ProfileError {
    ProfileError::Bad {
        source_name: source_name.to_string(),
        why: why.into(),
    }
}

/// Builds the summary from (name, launches, total ns) per kernel.
pub fn summarize(tool: &str, per_kernel: BTreeMap<String, (u64, f64)>) -> KernelSummary {
    let total: f64 = per_kernel.values().map(|v| v.1).sum();
    let mut kernels: Vec<KernelStat> = per_kernel
        .into_iter()
        .map(|(name, (launches, total_ns))| KernelStat {
            op: kernels::ggml_op(&name).map(str::to_string),
            mean_ns: if launches > 0 {
                total_ns / launches as f64
            } else {
                0.0
            },
            share_pct: if total > 0.0 {
                100.0 * total_ns / total
            } else {
                0.0
            },
            name,
            launches,
            total_ns,
        })
        .collect();
    kernels.sort_by(|a, b| b.total_ns.total_cmp(&a.total_ns).then(a.name.cmp(&b.name)));
    KernelSummary {
        tool: tool.to_string(),
        kernels,
        kernel_time_ns: total,
        gpu_busy_ns: None,
        notes: Vec::new(),
    }
}

/// One kernel in two profiled runs (one run per side: no interval).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelDiff {
    pub name: String,
    pub op: Option<String>,
    pub a_total_ns: Option<f64>,
    pub b_total_ns: Option<f64>,
    pub a_launches: u64,
    pub b_launches: u64,
    /// (B/A - 1) in percent of total time; None when one side lacks it.
    pub change_pct: Option<f64>,
}

/// Per-kernel diff, the largest absolute time difference first.
pub fn diff(a: &KernelSummary, b: &KernelSummary) -> Vec<KernelDiff> {
    let mut names: Vec<&str> = a
        .kernels
        .iter()
        .chain(&b.kernels)
        .map(|k| k.name.as_str())
        .collect();
    names.sort();
    names.dedup();
    let find = |s: &KernelSummary, n: &str| s.kernels.iter().find(|k| k.name == n).cloned();
    let mut out: Vec<KernelDiff> = names
        .into_iter()
        .map(|n| {
            let (ka, kb) = (find(a, n), find(b, n));
            let (ta, tb) = (
                ka.as_ref().map(|k| k.total_ns),
                kb.as_ref().map(|k| k.total_ns),
            );
            KernelDiff {
                name: n.to_string(),
                op: kernels::ggml_op(n).map(str::to_string),
                a_total_ns: ta,
                b_total_ns: tb,
                a_launches: ka.map_or(0, |k| k.launches),
                b_launches: kb.map_or(0, |k| k.launches),
                change_pct: ta
                    .zip(tb)
                    .filter(|(x, _)| *x > 0.0)
                    .map(|(x, y)| (y / x - 1.0) * 100.0),
            }
        })
        .collect();
    let gap = |d: &KernelDiff| (d.b_total_ns.unwrap_or(0.0) - d.a_total_ns.unwrap_or(0.0)).abs();
    out.sort_by(|x, y| gap(y).total_cmp(&gap(x)));
    out
}

/// Reads any of the three formats, recognised by their content.
pub fn parse_any(source_name: &str, text: &str) -> Result<KernelSummary, ProfileError> {
    if text.contains("metal-gpu-intervals") || text.contains("<trace-query-result") {
        xctrace::parse(source_name, text)
    } else if text.contains("gpu__time_duration") {
        ncu::parse(source_name, text)
    } else if text.contains("Total Time (ns)") {
        nsys::parse(source_name, text)
    } else {
        Err(bad(source_name, "neither an nsys cuda_gpu_kern_sum CSV, an ncu --csv export with gpu__time_duration.sum, nor an xctrace metal-gpu-intervals export"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/fixtures/profile/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Real `ncu --csv --print-units base --metrics gpu__time_duration.sum`
    /// recordings of llama-completion on the H200 (two device sessions):
    /// thousands separators in the values, ncu's ==PROF== preamble.
    #[test]
    fn real_h200_ncu_recordings_sum_per_kernel_exactly() {
        let s2 = parse_any("s2", &fixture("ncu_h200_completion_session2.csv")).unwrap();
        let s4 = parse_any("s4", &fixture("ncu_h200_completion_session4.csv")).unwrap();
        assert_eq!((s2.tool.as_str(), s2.kernels.len()), ("ncu", 19));
        assert_eq!(s4.kernel_time_ns, 1826144.0);
        let top = &s4.kernels[0];
        assert!(top.name.starts_with("void mul_mat_vec_q<12, 2, 0, 0, 0>"));
        assert_eq!((top.launches, top.total_ns), (94, 617408.0));
        assert_eq!(top.op.as_deref(), Some("MUL_MAT"));
        assert_eq!(s2.kernels[0].total_ns, 618592.0);
        assert_eq!(s2.kernels[2].op.as_deref(), Some("RMS_NORM"));
    }

    #[test]
    fn nsys_summary_has_exact_figures_and_ops() {
        let s = parse_any("n", &fixture("nsys_cuda_gpu_kern_sum.csv")).unwrap();
        assert_eq!(s.tool, "nsys");
        assert_eq!(s.kernels.len(), 4);
        let k = &s.kernels[0];
        assert!(k
            .name
            .starts_with("void mul_mat_vec_q<(ggml_type)12, 1, false>"));
        assert_eq!((k.launches, k.total_ns), (2880, 412_345_678.0));
        assert_eq!(k.op.as_deref(), Some("MUL_MAT"));
        assert_eq!(s.kernels[1].op.as_deref(), Some("FLASH_ATTN_EXT"));
        assert_eq!(
            s.kernel_time_ns,
            412_345_678.0 + 98_765_432.0 + 23_456_789.0 + 3_456_789.0
        );
        assert!((s.kernels.iter().map(|k| k.share_pct).sum::<f64>() - 100.0).abs() < 1e-9);
    }

    #[test]
    fn ncu_launches_are_summed_per_kernel_in_nanoseconds() {
        let s = parse_any("c", &fixture("ncu_base_units.csv")).unwrap();
        assert_eq!(s.tool, "ncu");
        let mmq = s
            .kernels
            .iter()
            .find(|k| k.name.starts_with("void mul_mat_q<"))
            .unwrap();
        assert_eq!((mmq.launches, mmq.total_ns), (2, 123_456.0 + 120_000.0));
        let rms = s
            .kernels
            .iter()
            .find(|k| k.name.contains("rms_norm_f32"))
            .unwrap();
        // 1.5 usecond in a row with that unit.
        assert_eq!(rms.total_ns, 4_096.0 + 1_500.0);
        assert_eq!(rms.op.as_deref(), Some("RMS_NORM"));
    }

    #[test]
    fn xctrace_resolves_refs_and_busy_time_is_the_union() {
        let s = parse_any("x", &fixture("xctrace_metal_gpu_intervals.xml")).unwrap();
        assert_eq!(s.tool, "xctrace");
        let enc = s.kernels.iter().find(|k| k.name == "encoder 0").unwrap();
        assert_eq!(
            (enc.launches, enc.total_ns),
            (3, 1_000_000.0 + 500_000.0 + 250_000.0)
        );
        // Intervals [0,1ms) [0.5ms,1ms) [2ms,2.25ms) [3ms,3.1ms): union 1.35 ms.
        assert_eq!(s.gpu_busy_ns, Some(1_350_000.0));
        assert_eq!(s.kernel_time_ns, 1_850_000.0);
        assert!(s.notes[0].contains("encoders and command buffers, not kernels"));
        assert!(s.kernels.iter().any(|k| k.name == "blit & copy"));
    }

    #[test]
    fn diff_orders_by_time_gap_and_keeps_one_sided_kernels() {
        let s = parse_any("n", &fixture("nsys_cuda_gpu_kern_sum.csv")).unwrap();
        let mut b = s.clone();
        b.kernels[1].total_ns *= 1.5;
        b.kernels.pop();
        let d = diff(&s, &b);
        assert_eq!(d[0].op.as_deref(), Some("FLASH_ATTN_EXT"));
        assert!((d[0].change_pct.unwrap() - 50.0).abs() < 1e-9);
        let gone = d.iter().find(|k| k.b_total_ns.is_none()).unwrap();
        assert_eq!(gone.change_pct, None);
    }

    #[test]
    fn unknown_input_is_an_error_naming_the_formats() {
        let e = parse_any("f.txt", "hello").unwrap_err().to_string();
        assert!(e.starts_with("f.txt: neither an nsys"), "{e}");
    }
}
