//! From a run's timeline to its figures (pure). Averages describe the
//! window (generation when it could be placed, else the whole run); peaks
//! of memory describe the whole run. Energy integrates each sample's power
//! over the measured time it covers (`span_ms`), clipped to the window; the
//! mean power over the covered time is then applied to the whole window, so
//! a gap between samples does not read as zero watts.

pub use crate::model::sampled::SampledFigures;

use super::session::{Sampling, SourceState};
use super::{roofline, PeakBandwidth, Sample, SourceKind, Window, WindowKind};

/// What the run itself tells about the work done.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFacts {
    pub eval_tokens: Option<u64>,
    pub eval_tps: Option<f64>,
    pub model_bytes: u64,
    pub peak_bandwidth: Option<PeakBandwidth>,
}

/// True when the sample's measured interval (or instant) touches the window.
fn in_window(s: &Sample, w: &Window) -> bool {
    let start = s.t_ms - s.span_ms.unwrap_or(0.0);
    s.t_ms >= w.start_ms && start <= w.end_ms
}

/// Energy (J), covered time (ms) of a power series over `w`.
pub fn integrate(samples: &[(f64, Option<f64>, f64)], w: &Window) -> Option<(f64, f64)> {
    let mut energy = 0.0;
    let mut covered = 0.0;
    for &(t, span, watts) in samples {
        let Some(span) = span.filter(|s| *s > 0.0) else {
            continue;
        };
        let overlap = (t.min(w.end_ms) - (t - span).max(w.start_ms)).max(0.0);
        energy += watts * overlap / 1000.0;
        covered += overlap;
    }
    (covered > 0.0).then_some((energy, covered))
}

/// Linear-interpolated percentile (0..=100) of unsorted values.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = p / 100.0 * (v.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (rank - lo as f64))
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn max_f(v: impl Iterator<Item = f64>) -> Option<f64> {
    v.fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
}

/// Power over the window: (mean W over covered time, energy J over the
/// whole window, coverage %).
fn power_over(
    samples: &[&Sample],
    w: &Window,
    get: fn(&Sample) -> Option<f64>,
) -> Option<(f64, f64, f64)> {
    let series: Vec<(f64, Option<f64>, f64)> = samples
        .iter()
        .filter_map(|s| Some((s.t_ms, s.span_ms, get(s)?)))
        .collect();
    let (energy, covered) = integrate(&series, w)?;
    let mean_w = energy / (covered / 1000.0);
    let len = w.len_ms();
    Some((
        mean_w,
        mean_w * len / 1000.0,
        (covered / len * 100.0).min(100.0),
    ))
}

fn pressure_rank(p: &str) -> u8 {
    match p {
        "Nominal" => 0,
        "Fair" | "Moderate" => 1,
        "Serious" | "Heavy" => 2,
        "Critical" | "Trapping" => 3,
        "Sleeping" => 4,
        _ => 1,
    }
}

/// All figures of one run. `window` is in the timeline's ms.
pub fn summarize(sampling: &Sampling, window: Window, facts: &RunFacts) -> SampledFigures {
    let all: Vec<&Sample> = sampling.samples.iter().collect();
    let win: Vec<&Sample> = all
        .iter()
        .copied()
        .filter(|s| in_window(s, &window))
        .collect();
    let mut f = SampledFigures {
        sources: sampling.sources.clone(),
        peak_bandwidth: facts.peak_bandwidth.clone(),
        ..Default::default()
    };
    gpu_figures(&mut f, &win);
    energy_figures(&mut f, &win, &window, facts);
    memory_figures(&mut f, &all);
    f.roofline_pct = match (&facts.peak_bandwidth, facts.eval_tps) {
        (Some(bw), Some(tps)) => roofline::roofline_pct(facts.model_bytes, tps, bw.gbps),
        _ => None,
    };
    f.missing = missing(&f, sampling, facts, window.kind);
    f.window = Some(window);
    f
}

fn values(win: &[&Sample], get: fn(&Sample) -> Option<f64>) -> Vec<f64> {
    win.iter()
        .filter_map(|s| get(s))
        .filter(|x| x.is_finite())
        .collect()
}

fn gpu_figures(f: &mut SampledFigures, win: &[&Sample]) {
    let busy = values(win, |s| s.gpu_busy_pct);
    f.gpu_busy_pct_mean = mean(&busy);
    f.gpu_busy_pct_p50 = percentile(&busy, 50.0);
    f.gpu_busy_pct_p95 = percentile(&busy, 95.0);
    f.gpu_freq_mhz_mean = mean(&values(win, |s| s.gpu_freq_mhz));
    f.gpu_power_w_max = max_f(values(win, |s| s.gpu_power_w).into_iter());
    f.gpu_temp_c_max = max_f(values(win, |s| s.gpu_temp_c).into_iter());
    f.cpu_pct_mean = mean(&values(win, |s| s.cpu_pct));
    f.thermal_pressure = win
        .iter()
        .filter_map(|s| s.thermal_pressure.as_deref())
        .max_by_key(|p| pressure_rank(p))
        .map(str::to_string);
}

fn energy_figures(f: &mut SampledFigures, win: &[&Sample], w: &Window, facts: &RunFacts) {
    let tokens = facts.eval_tokens.filter(|t| *t > 0).map(|t| t as f64);
    if let Some((mean_w, energy, cover)) = power_over(win, w, |s| s.gpu_power_w) {
        f.gpu_power_w_mean = Some(mean_w);
        f.gpu_energy_j = Some(energy);
        f.gpu_power_coverage_pct = Some(cover);
        f.gpu_j_per_token = tokens.map(|t| energy / t);
        f.tokens_per_j = tokens.filter(|_| energy > 0.0).map(|t| t / energy);
    }
    if let Some((mean_w, energy, _)) = power_over(win, w, |s| s.combined_power_w) {
        f.combined_power_w_mean = Some(mean_w);
        f.combined_energy_j = Some(energy);
        f.combined_j_per_token = tokens.map(|t| energy / t);
    }
}

fn memory_figures(f: &mut SampledFigures, all: &[&Sample]) {
    let peak = |a: fn(&Sample) -> Option<u64>, b: fn(&Sample) -> Option<u64>| {
        all.iter().flat_map(|s| [a(s), b(s)]).flatten().max()
    };
    f.peak_rss_bytes = peak(|s| s.rss_bytes, |s| s.rss_peak_bytes);
    f.peak_phys_footprint_bytes = peak(|s| s.phys_footprint_bytes, |s| s.phys_footprint_peak_bytes);
    f.gpu_mem_bytes_peak = all.iter().filter_map(|s| s.gpu_mem_bytes).max();
    f.gpu_mem_total_bytes = all.iter().filter_map(|s| s.gpu_mem_total_bytes).max();
    f.gpu_regions_peak = peak_regions(all);
}

/// Per region name (in order of first appearance), the sample with the
/// largest RESIDENT size.
fn peak_regions(all: &[&Sample]) -> Vec<super::vmmap::GpuRegion> {
    let mut out: Vec<super::vmmap::GpuRegion> = Vec::new();
    for r in all.iter().flat_map(|s| &s.gpu_regions) {
        match out.iter_mut().find(|o| o.name == r.name) {
            Some(o) if o.resident_bytes < r.resident_bytes => *o = r.clone(),
            Some(_) => {}
            None => out.push(r.clone()),
        }
    }
    out
}

fn ran(sampling: &Sampling, k: SourceKind) -> bool {
    sampling
        .sources
        .iter()
        .any(|s| s.source == k && s.state != SourceState::NotAvailable)
}

/// Why each expected figure is absent.
fn missing(
    f: &SampledFigures,
    sampling: &Sampling,
    facts: &RunFacts,
    kind: WindowKind,
) -> Vec<String> {
    let mut out: Vec<String> = sampling
        .sources
        .iter()
        .filter(|s| s.state != SourceState::Ok)
        .map(|s| s.to_string())
        .collect();
    use SourceKind::*;
    let gpu_src: Vec<&str> = [Powermetrics, Macmon, NvidiaSmi]
        .into_iter()
        .filter(|k| ran(sampling, *k))
        .map(SourceKind::name)
        .collect();
    let place = if kind == WindowKind::Generation {
        "generation window"
    } else {
        "run"
    };
    let mut need = |present: bool, name: &str, from: &str, place: &str| {
        if !present && !from.is_empty() {
            out.push(format!("{name}: no value from {from} during the {place}"));
        }
    };
    let gpu = gpu_src.join(", ");
    need(f.gpu_busy_pct_mean.is_some(), "gpu_busy_pct", &gpu, place);
    need(f.gpu_power_w_mean.is_some(), "gpu_power_w", &gpu, place);
    // Memory peaks are taken over the whole run.
    if ran(sampling, Proc) {
        need(f.peak_rss_bytes.is_some(), "peak_rss_bytes", "proc", "run");
    }
    if ran(sampling, Vmmap) {
        let present = f.peak_phys_footprint_bytes.is_some();
        need(present, "peak_phys_footprint_bytes", "vmmap", "run");
    }
    if ran(sampling, NvidiaSmi) || ran(sampling, Vmmap) {
        let from = if ran(sampling, NvidiaSmi) {
            "nvidia-smi"
        } else {
            "vmmap"
        };
        need(f.gpu_mem_bytes_peak.is_some(), "gpu_mem_bytes", from, "run");
    }
    if f.gpu_energy_j.is_some() && facts.eval_tokens.is_none() {
        out.push("gpu_j_per_token: the run printed no eval token count".to_string());
    }
    if facts.peak_bandwidth.is_none() {
        out.push(
            "roofline_pct: no peak bandwidth known for this device (pass --peak-bandwidth GB/s)"
                .to_string(),
        );
    } else if facts.eval_tps.is_none() {
        out.push("roofline_pct: the run printed no eval t/s".to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::SourceStatus;

    fn power(t: f64, span: Option<f64>, w: f64) -> Sample {
        Sample {
            t_ms: t,
            span_ms: span,
            source: Some(SourceKind::NvidiaSmi),
            gpu_power_w: Some(w),
            gpu_busy_pct: Some(w),
            ..Default::default()
        }
    }

    fn win(a: f64, b: f64) -> Window {
        Window {
            kind: WindowKind::Generation,
            start_ms: a,
            end_ms: b,
            basis: "test".to_string(),
        }
    }

    fn sampling(samples: Vec<Sample>) -> Sampling {
        Sampling {
            samples,
            sources: vec![SourceStatus {
                source: SourceKind::NvidiaSmi,
                state: SourceState::Ok,
                detail: None,
                samples: 0,
            }],
        }
    }

    #[test]
    fn energy_uses_uneven_measured_intervals() {
        // 100 W for 50 ms, 200 W for 250 ms, 50 W for 100 ms (uneven spacing).
        let s = vec![
            (50.0, Some(50.0), 100.0),
            (300.0, Some(250.0), 200.0),
            (400.0, Some(100.0), 50.0),
        ];
        let (e, covered) = integrate(&s, &win(0.0, 400.0)).unwrap();
        assert_eq!(e, 100.0 * 0.05 + 200.0 * 0.25 + 50.0 * 0.1);
        assert_eq!(covered, 400.0);
        // Clipped to [100, 350]: 200 W x 0.2 s + 50 W x 0.05 s.
        let (e, covered) = integrate(&s, &win(100.0, 350.0)).unwrap();
        assert!((e - (40.0 + 2.5)).abs() < 1e-9, "{e}");
        assert_eq!(covered, 250.0);
        // A sample without a measured interval adds nothing.
        assert_eq!(integrate(&[(10.0, None, 100.0)], &win(0.0, 20.0)), None);
    }

    #[test]
    fn per_token_figures_and_gaps() {
        let samples = vec![
            power(100.0, Some(100.0), 100.0),
            power(200.0, Some(100.0), 300.0),
            // Gap from 200 to 300 ms: not read as zero watts.
            power(400.0, Some(100.0), 200.0),
        ];
        let facts = RunFacts {
            eval_tokens: Some(40),
            eval_tps: Some(100.0),
            model_bytes: 1_000_000_000,
            peak_bandwidth: Some(PeakBandwidth {
                gbps: 1000.0,
                device: "x".into(),
            }),
        };
        let f = summarize(&sampling(samples), win(0.0, 400.0), &facts);
        assert_eq!(f.gpu_power_w_mean, Some(200.0));
        assert_eq!(f.gpu_energy_j, Some(80.0));
        assert_eq!(f.gpu_power_coverage_pct, Some(75.0));
        assert_eq!(f.gpu_j_per_token, Some(2.0));
        assert_eq!(f.tokens_per_j, Some(0.5));
        assert_eq!(f.gpu_power_w_max, Some(300.0));
        assert_eq!(f.gpu_busy_pct_p50, Some(200.0));
        assert_eq!(f.roofline_pct, Some(10.0));
        // nvidia-smi ran, but the process never showed in its compute apps.
        assert_eq!(
            f.missing,
            vec!["gpu_mem_bytes: no value from nvidia-smi during the run".to_string()]
        );
    }

    #[test]
    fn missing_fields_and_failed_sources_are_named() {
        let mut s = sampling(vec![Sample {
            t_ms: 10.0,
            source: Some(SourceKind::NvidiaSmi),
            ..Default::default()
        }]);
        s.sources[0].state = SourceState::Failed;
        s.sources[0].detail = Some("exited with code 1".into());
        let f = summarize(&s, win(0.0, 100.0), &RunFacts::default());
        assert_eq!(f.gpu_power_w_mean, None);
        assert!(
            f.missing
                .contains(&"nvidia-smi: failed mid-run (exited with code 1)".to_string()),
            "{:?}",
            f.missing
        );
        assert!(f
            .missing
            .iter()
            .any(|m| m.starts_with("gpu_power_w: no value from nvidia-smi")));
        assert!(f.missing.iter().any(|m| m.starts_with("roofline_pct:")));
    }

    #[test]
    fn gpu_total_memory_and_each_regions_peak_reach_the_record() {
        use crate::sample::vmmap::GpuRegion;
        let region = |name: &str, mib: u64| GpuRegion {
            name: name.to_string(),
            resident_bytes: mib << 20,
            virtual_bytes: None,
        };
        let samples = vec![
            Sample {
                t_ms: 10.0,
                gpu_mem_total_bytes: Some(143_771 << 20),
                gpu_regions: vec![
                    region("IOAccelerator (graphics)", 512),
                    region("IOSurface", 8),
                ],
                ..Default::default()
            },
            Sample {
                t_ms: 20.0,
                gpu_regions: vec![
                    region("IOAccelerator (graphics)", 300),
                    region("IOSurface", 16),
                ],
                ..Default::default()
            },
        ];
        let f = summarize(&sampling(samples), win(0.0, 30.0), &RunFacts::default());
        assert_eq!(f.gpu_mem_total_bytes, Some(143_771 << 20));
        assert_eq!(
            f.gpu_regions_peak,
            [
                region("IOAccelerator (graphics)", 512),
                region("IOSurface", 16)
            ]
        );
    }

    #[test]
    fn peaks_cover_the_whole_run_and_pressure_takes_the_worst() {
        let samples = vec![
            Sample {
                t_ms: 5.0,
                rss_bytes: Some(10),
                rss_peak_bytes: Some(30),
                ..Default::default()
            },
            Sample {
                t_ms: 50.0,
                rss_bytes: Some(20),
                thermal_pressure: Some("Nominal".into()),
                ..Default::default()
            },
            Sample {
                t_ms: 60.0,
                thermal_pressure: Some("Serious".into()),
                ..Default::default()
            },
        ];
        let f = summarize(&sampling(samples), win(40.0, 100.0), &RunFacts::default());
        assert_eq!(f.peak_rss_bytes, Some(30));
        assert_eq!(f.thermal_pressure.as_deref(), Some("Serious"));
    }

    #[test]
    fn percentiles() {
        assert_eq!(percentile(&[3.0, 1.0, 2.0, 4.0], 50.0), Some(2.5));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0, 5.0], 95.0), Some(4.8));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
