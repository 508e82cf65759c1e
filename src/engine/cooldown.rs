//! `--cooldown`: a pause between the runs of a session. A fixed duration,
//! or `auto`: before the first run tokbench takes the GPU's idle temperature
//! and power from the samplers, and between runs it waits until both are
//! back near that baseline (a hot GPU throttles, which would bias whichever
//! side runs next), for at most [`AUTO_MAX_WAIT`].

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::sample::{SamplerConfig, Session, SourceKind};

/// Longest wait for the GPU to cool between two runs.
pub const AUTO_MAX_WAIT: Duration = Duration::from_secs(120);
/// How long one reading listens to the samplers.
const LISTEN: Duration = Duration::from_millis(700);
/// "Near the baseline": within this many degrees ...
const TEMP_MARGIN_C: f64 = 3.0;
/// ... and within this share (plus [`POWER_MARGIN_W`]) of idle power.
const POWER_MARGIN: f64 = 0.15;
const POWER_MARGIN_W: f64 = 5.0;

/// GPU temperature and power, each when a source gives it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Reading {
    pub temp_c: Option<f64>,
    pub power_w: Option<f64>,
}

impl Reading {
    fn is_empty(&self) -> bool {
        self.temp_c.is_none() && self.power_w.is_none()
    }

    /// Close enough to `idle` on every figure both readings have.
    pub fn near(&self, idle: &Reading) -> bool {
        let temp_ok = match (self.temp_c, idle.temp_c) {
            (Some(t), Some(b)) => t <= b + TEMP_MARGIN_C,
            _ => true,
        };
        let power_ok = match (self.power_w, idle.power_w) {
            (Some(p), Some(b)) => p <= b * (1.0 + POWER_MARGIN) + POWER_MARGIN_W,
            _ => true,
        };
        temp_ok && power_ok
    }
}

/// The GPU sources of `cfg` only (memory sources say nothing about heat).
fn gpu_sources(cfg: &SamplerConfig) -> SamplerConfig {
    let gpu = |k: &SourceKind| {
        matches!(
            k,
            SourceKind::NvidiaSmi | SourceKind::Powermetrics | SourceKind::Macmon
        )
    };
    SamplerConfig {
        sources: cfg.sources.iter().copied().filter(gpu).collect(),
        unavailable: Vec::new(),
        ..cfg.clone()
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// Listens to the GPU samplers for a moment and returns the median figures.
pub fn read_gpu(cfg: &SamplerConfig) -> Reading {
    let cfg = gpu_sources(cfg);
    // The GPU sources sample the device, not a process: tokbench's own pid does.
    let Some(session) = Session::start(&cfg, std::process::id()) else {
        return Reading::default();
    };
    std::thread::sleep(LISTEN);
    let samples = session.stop().samples;
    Reading {
        temp_c: median(samples.iter().filter_map(|s| s.gpu_temp_c).collect()),
        power_w: median(samples.iter().filter_map(|s| s.gpu_power_w).collect()),
    }
}

/// The idle baseline, or why `auto` cannot work here.
pub fn baseline(cfg: &SamplerConfig) -> Result<Reading, String> {
    let r = read_gpu(cfg);
    if r.is_empty() {
        return Err("--cooldown auto needs a GPU sampler that reports temperature or power \
             (nvidia-smi, powermetrics or macmon); none does here, so runs follow each other without a pause"
            .to_string());
    }
    Ok(r)
}

/// Waits until the GPU is near `idle` again. Returns how long it waited and
/// whether it got there within [`AUTO_MAX_WAIT`].
pub fn wait_for(cfg: &SamplerConfig, idle: &Reading) -> (Duration, bool) {
    let started = Instant::now();
    loop {
        let now = read_gpu(cfg);
        if now.is_empty() || now.near(idle) {
            return (started.elapsed(), true);
        }
        if started.elapsed() >= AUTO_MAX_WAIT {
            return (started.elapsed(), false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_means_within_the_margins_on_what_both_readings_have() {
        let idle = Reading {
            temp_c: Some(36.0),
            power_w: Some(80.0),
        };
        let r = |t: f64, p: f64| Reading {
            temp_c: Some(t),
            power_w: Some(p),
        };
        assert!(r(39.0, 97.0).near(&idle));
        assert!(!r(39.5, 90.0).near(&idle), "4 degrees hotter");
        assert!(
            !r(37.0, 97.5).near(&idle),
            "more than 15% + 5 W above idle power"
        );
        let temp_only = Reading {
            temp_c: Some(37.0),
            power_w: None,
        };
        assert!(temp_only.near(&idle));
    }
}
