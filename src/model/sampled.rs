//! The data of sampling, as results carry it: each point of a run's
//! timeline ([`Sample`]), the per-run figures ([`SampledFigures`]) and what
//! they are made of (the window, each source's status, the GPU regions,
//! the peak bandwidth). Plain serde types at the bottom layer with the rest
//! of the model; the samplers (`crate::sample`) fill them and re-export
//! them from the modules that defined them before.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One source of samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Powermetrics,
    Vmmap,
    Macmon,
    NvidiaSmi,
    Proc,
}

impl SourceKind {
    pub const ALL: [SourceKind; 5] = [
        SourceKind::Powermetrics,
        SourceKind::Vmmap,
        SourceKind::Macmon,
        SourceKind::NvidiaSmi,
        SourceKind::Proc,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Powermetrics => "powermetrics",
            SourceKind::Vmmap => "vmmap",
            SourceKind::Macmon => "macmon",
            SourceKind::NvidiaSmi => "nvidia-smi",
            SourceKind::Proc => "proc",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SourceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SourceKind::ALL
            .into_iter()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown sampler '{s}': use auto, none, or a comma list of \
                     powermetrics, vmmap, macmon, nvidia-smi, proc"
                )
            })
    }
}

/// The device's peak memory bandwidth and where the figure came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakBandwidth {
    pub gbps: f64,
    /// The device it is for (`NVIDIA H200`, `Apple M2 Max`), or `--peak-bandwidth`.
    pub device: String,
}

/// One point of a run's timeline. Every figure is optional: each source
/// gives a different subset, and a field the source printed as `[N/A]` is
/// `None`, never zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When the sample was complete, in ms since the run's start (for a
    /// saved capture: since its first sample).
    pub t_ms: f64,
    pub source: Option<SourceKind>,
    /// The measured time this sample's averages cover, ending at `t_ms`
    /// (powermetrics' `elapsed`, or the gap to the previous timestamp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_busy_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_freq_mhz: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_power_w: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_power_w: Option<f64>,
    /// macOS `ANE Power` (the Neural Engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ane_power_w: Option<f64>,
    /// macOS `Combined Power (CPU + GPU + ANE)`, `Package Power`, macmon `all_power`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combined_power_w: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_temp_c: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thermal_pressure: Option<String>,
    /// Memory used on the whole GPU (nvidia-smi `memory.used`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_mem_used_bytes: Option<u64>,
    /// The GPU's total memory (nvidia-smi `memory.total`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_mem_total_bytes: Option<u64>,
    /// The process a per-process row is about (nvidia-smi `--query-compute-apps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_name: Option<String>,
    /// vmmap: the GPU-related regions whose RESIDENT sizes make `gpu_mem_bytes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpu_regions: Vec<GpuRegion>,
    /// The process's own GPU memory (nvidia-smi compute-apps, vmmap GPU regions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_mem_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_peak_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phys_footprint_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phys_footprint_peak_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_pct: Option<f64>,
}

impl Sample {
    /// True when the sample carries no figure at all (e.g. a zombie's status).
    pub fn is_empty(&self) -> bool {
        let s = Sample {
            t_ms: self.t_ms,
            source: self.source,
            span_ms: self.span_ms,
            gpu_index: self.gpu_index,
            gpu_name: self.gpu_name.clone(),
            ..Default::default()
        };
        &s == self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    Ok,
    NotAvailable,
    Failed,
    /// It ran to the end but gave no sample (`detail` says from how much output).
    NoSamples,
}

/// How one source fared during a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStatus {
    pub source: SourceKind,
    pub state: SourceState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub samples: usize,
}

impl fmt::Display for SourceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.state {
            SourceState::Ok => "ok",
            SourceState::NotAvailable => "not available",
            SourceState::Failed => "failed mid-run",
            // `powermetrics: 0 samples from 1234 bytes of output`.
            SourceState::NoSamples => {
                return write!(
                    f,
                    "{}: {}",
                    self.source,
                    self.detail.as_deref().unwrap_or("0 samples")
                )
            }
        };
        match &self.detail {
            Some(d) => write!(f, "{}: {what} ({d})", self.source),
            None => write!(f, "{}: {what}", self.source),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    Generation,
    WholeRun,
}

/// A span of the run's timeline, in ms since the process started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub kind: WindowKind,
    pub start_ms: f64,
    pub end_ms: f64,
    /// `log timestamp`, `eval time before exit` or `no eval time`.
    pub basis: String,
}

impl Window {
    pub fn len_ms(&self) -> f64 {
        (self.end_ms - self.start_ms).max(0.0)
    }
}

/// One GPU-related row of the region table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuRegion {
    pub name: String,
    /// The RESIDENT column: what the GPU memory figure sums.
    pub resident_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_bytes: Option<u64>,
}

/// The per-run aggregates of a sampled run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampledFigures {
    /// The span figures are taken over, in ms of the run's timeline.
    pub window: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_busy_pct_mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_busy_pct_p50: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_busy_pct_p95: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_freq_mhz_mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_power_w_mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_power_w_max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_energy_j: Option<f64>,
    /// Share of the window covered by measured power intervals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_power_coverage_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_j_per_token: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_j: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combined_power_w_mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combined_energy_j: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combined_j_per_token: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_temp_c_max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thermal_pressure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_pct_mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_phys_footprint_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_mem_bytes_peak: Option<u64>,
    /// The GPU's total memory (nvidia-smi `memory.total`), for headroom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_mem_total_bytes: Option<u64>,
    /// vmmap: each GPU-related region's own peak RESIDENT size over the run
    /// (the regions `gpu_mem_bytes` sums: IOAccelerator*, IOSurface, owned
    /// unmapped (graphics)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpu_regions_peak: Vec<GpuRegion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roofline_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_bandwidth: Option<PeakBandwidth>,
    pub sources: Vec<SourceStatus>,
    /// Figures a source should have given and did not, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}
