//! Sampling the GPU, power and memory in step with each run.
//!
//! Every source is a plain subprocess (or a `/proc` file) chosen at run time,
//! never `#[cfg(target_os)]` code, so Linux CI compiles and tests the macOS
//! paths with stand-in executables on PATH. Data flows left to right:
//!
//! ```text
//! probe (doctor, plan) -> Session::start (one worker thread per source, each
//! building its subprocess and sending parsed Samples over a channel)
//! -> Session::stop (kill + reap, per-source status) -> summarize (pure)
//! ```
//!
//! Parsing each format is a pure, total function in its own file; rates and
//! energy use the measured time between samples, never the nominal interval.

pub mod capture;
pub mod macmon;
pub mod nvidia_smi;
pub mod powermetrics;
pub mod probe;
pub mod procfs;
pub mod render;
pub mod roofline;
pub mod session;
pub mod summarize;
pub mod sysproc;
pub mod vmmap;
pub mod window;
mod worker;

use std::time::Duration;

pub use crate::model::sampled::{PeakBandwidth, Sample, SourceKind};
pub use session::{Sampling, Session, SourceState, SourceStatus};
pub use summarize::{summarize, RunFacts, SampledFigures};
pub use window::{Window, WindowKind};

/// What `--sampler` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SamplerChoice {
    Auto,
    None,
    List(Vec<SourceKind>),
}

/// `auto`, `none`, or a comma list of source names (pure; used by clap).
pub fn parse_sampler_choice(s: &str) -> Result<SamplerChoice, String> {
    match s.trim() {
        "auto" => Ok(SamplerChoice::Auto),
        "none" => Ok(SamplerChoice::None),
        list => {
            let mut v: Vec<SourceKind> = Vec::new();
            for part in list.split(',').filter(|p| !p.trim().is_empty()) {
                let k: SourceKind = part.parse()?;
                if !v.contains(&k) {
                    v.push(k);
                }
            }
            if v.is_empty() {
                return Err(format!("'{s}' names no sampler"));
            }
            Ok(SamplerChoice::List(v))
        }
    }
}

/// `4800`, `4800GB/s`, `4.8TB/s` -> GB/s (pure; used by clap).
pub fn parse_bandwidth_gbps(s: &str) -> Result<f64, String> {
    let t = s.trim().to_ascii_lowercase().replace(' ', "");
    let (num, scale) = if let Some(n) = t.strip_suffix("tb/s") {
        (n, 1000.0)
    } else if let Some(n) = t.strip_suffix("gb/s") {
        (n, 1.0)
    } else {
        (t.as_str(), 1.0)
    };
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v * scale),
        _ => Err(format!(
            "'{s}' is not a bandwidth: pass GB/s, e.g. 4800 or 4.8TB/s"
        )),
    }
}

/// The sampling part of a plan: sources that passed their probe, the ones
/// that did not (with why), the interval and the roofline's bandwidth.
#[derive(Debug, Clone, Default)]
pub struct SamplerConfig {
    pub sources: Vec<SourceKind>,
    pub unavailable: Vec<(SourceKind, String)>,
    pub interval: Duration,
    pub peak_bandwidth: Option<PeakBandwidth>,
    /// The GPU name nvidia-smi gave at probe time, when it answered.
    pub gpu_name: Option<String>,
    /// nvidia-smi accepts `power.draw.instant` (newer drivers).
    pub nvidia_smi_instant: bool,
}

impl SamplerConfig {
    /// One line per unavailable source: `nvidia-smi: not available (why)`.
    pub fn warnings(&self) -> Vec<String> {
        self.unavailable
            .iter()
            .map(|(k, why)| format!("{k}: not available ({why})"))
            .collect()
    }
}

/// Why a saved capture or a streamed frame could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SampleParseError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampler_choice_parses_lists_and_rejects_unknown_names() {
        assert_eq!(parse_sampler_choice("auto"), Ok(SamplerChoice::Auto));
        assert_eq!(parse_sampler_choice("none"), Ok(SamplerChoice::None));
        assert_eq!(
            parse_sampler_choice("powermetrics,vmmap,powermetrics"),
            Ok(SamplerChoice::List(vec![
                SourceKind::Powermetrics,
                SourceKind::Vmmap
            ]))
        );
        assert!(parse_sampler_choice("gpu_stats").is_err());
        assert!(parse_sampler_choice(",").is_err());
    }

    #[test]
    fn bandwidth_accepts_gb_and_tb() {
        assert_eq!(parse_bandwidth_gbps("4800"), Ok(4800.0));
        assert_eq!(parse_bandwidth_gbps("4.8TB/s"), Ok(4800.0));
        assert_eq!(parse_bandwidth_gbps("546 GB/s"), Ok(546.0));
        assert!(parse_bandwidth_gbps("-1").is_err());
        assert!(parse_bandwidth_gbps("fast").is_err());
    }

    #[test]
    fn empty_sample_is_detected() {
        let mut s = Sample {
            t_ms: 5.0,
            source: Some(SourceKind::Proc),
            ..Default::default()
        };
        assert!(s.is_empty());
        s.rss_bytes = Some(1);
        assert!(!s.is_empty());
    }
}
