//! Which sources can run here, decided at run time by looking at PATH and
//! asking each tool once (never by `#[cfg]`): used by `tokbench doctor` and
//! by the plan before anything is launched.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{nvidia_smi, roofline, PeakBandwidth, SamplerChoice, SamplerConfig, SourceKind};
use crate::runner::process::{query, Ending};

/// Longest a probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a source can be used, and why (not).
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub source: SourceKind,
    pub usable: bool,
    /// Where it was found and what it said, or why it cannot be used.
    pub why: String,
    pub gpu_name: Option<String>,
    pub nvidia_smi_instant: bool,
}

/// The first executable `name` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// powermetrics needs root: run it directly as root, else through `sudo -n`.
pub fn powermetrics_command(args: Vec<String>) -> (String, Vec<String>) {
    if nix::unistd::geteuid().is_root() {
        ("powermetrics".to_string(), args)
    } else {
        let mut v = vec!["-n".to_string(), "powermetrics".to_string()];
        v.extend(args);
        ("sudo".to_string(), v)
    }
}

/// How to give tokbench what powermetrics needs.
pub const POWERMETRICS_HOW: &str =
    "powermetrics needs root: run 'sudo -v' first, or add the sudoers line \
     '<user> ALL=(root) NOPASSWD: /usr/bin/powermetrics' (visudo), or use --sampler macmon; \
     going on without its GPU figures";

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message")
        .to_string()
}

fn missing(source: SourceKind, why: String) -> Probe {
    Probe {
        source,
        usable: false,
        why,
        gpu_name: None,
        nvidia_smi_instant: false,
    }
}

fn usable(source: SourceKind, why: String) -> Probe {
    Probe {
        usable: true,
        ..missing(source, why)
    }
}

/// Probes one source.
pub fn probe(source: SourceKind) -> Probe {
    match source {
        SourceKind::Proc => probe_proc(),
        SourceKind::NvidiaSmi => probe_nvidia_smi(),
        SourceKind::Powermetrics => probe_powermetrics(),
        SourceKind::Vmmap | SourceKind::Macmon => match which(source.name()) {
            Some(p) => usable(source, format!("found at '{}'", p.display())),
            None => missing(source, format!("'{source}' not found on PATH")),
        },
    }
}

fn probe_proc() -> Probe {
    match std::fs::read_to_string("/proc/self/status") {
        Ok(t) if t.contains("VmRSS:") => {
            usable(SourceKind::Proc, "/proc/<pid>/status readable".into())
        }
        Ok(_) => missing(
            SourceKind::Proc,
            "/proc/self/status has no VmRSS line".into(),
        ),
        // macOS and other systems without /proc: RSS and CPU % through sysinfo.
        Err(_) => usable(
            SourceKind::Proc,
            "no /proc: RSS and CPU % through sysinfo".into(),
        ),
    }
}

fn probe_powermetrics() -> Probe {
    let k = SourceKind::Powermetrics;
    if which("powermetrics").is_none() {
        return missing(
            k,
            "'powermetrics' not found on PATH (it ships with macOS)".into(),
        );
    }
    let one = ["--samplers", "gpu_power", "-i", "1", "-n", "1"]
        .map(String::from)
        .to_vec();
    let (program, args) = powermetrics_command(one);
    if program == "sudo" && which("sudo").is_none() {
        return missing(
            k,
            format!("not root and no sudo on PATH; {POWERMETRICS_HOW}"),
        );
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    match query(Path::new(&program), &argv, PROBE_TIMEOUT) {
        Ok((Ending::Exited(0), _)) => usable(k, format!("answered through '{program}'")),
        Ok((_, out)) => missing(
            k,
            format!(
                "'{program}' said '{}'; {POWERMETRICS_HOW}",
                first_line(&out)
            ),
        ),
        Err(e) => missing(k, format!("{e}; {POWERMETRICS_HOW}")),
    }
}

fn probe_nvidia_smi() -> Probe {
    let k = SourceKind::NvidiaSmi;
    let Some(path) = which("nvidia-smi") else {
        return missing(k, "'nvidia-smi' not found on PATH".into());
    };
    let mut last = String::new();
    for instant in [true, false] {
        let args = nvidia_smi::gpu_args(instant, None);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        match query(&path, &argv, PROBE_TIMEOUT) {
            Ok((Ending::Exited(0), out)) => {
                let fields = nvidia_smi::gpu_fields(instant);
                let f: Vec<&str> = fields.iter().map(String::as_str).collect();
                let name = out
                    .lines()
                    .find_map(|l| nvidia_smi::parse_row(&f, l).ok())
                    .and_then(|r| r.sample.gpu_name);
                let mut p = usable(
                    k,
                    format!(
                        "answered: {}",
                        name.clone().unwrap_or_else(|| "no GPU name".into())
                    ),
                );
                p.gpu_name = name;
                p.nvidia_smi_instant = instant;
                return p;
            }
            Ok((_, out)) => last = first_line(&out),
            Err(e) => return missing(k, e.to_string()),
        }
    }
    missing(k, format!("'nvidia-smi' did not answer a query: {last}"))
}

/// What `auto` means on this machine.
pub fn auto_sources() -> Vec<SourceKind> {
    use SourceKind::*;
    if std::env::consts::OS == "macos" {
        let mut v = vec![Powermetrics, Vmmap, Proc];
        if which("macmon").is_some() {
            v.push(Macmon);
        }
        v
    } else {
        let mut v = vec![Proc];
        if which("nvidia-smi").is_some() {
            v.push(NvidiaSmi);
        }
        v
    }
}

/// Probes what `choice` names; `require` makes an unusable one an error.
pub fn plan_sampler(
    choice: &SamplerChoice,
    interval: Duration,
    require: bool,
    peak_override: Option<f64>,
    device_hint: Option<&str>,
) -> Result<SamplerConfig, String> {
    let wanted = match choice {
        SamplerChoice::None => Vec::new(),
        SamplerChoice::Auto => auto_sources(),
        SamplerChoice::List(v) => v.clone(),
    };
    let mut cfg = SamplerConfig {
        interval,
        ..Default::default()
    };
    for k in wanted {
        let p = probe(k);
        if p.usable {
            cfg.sources.push(k);
            cfg.gpu_name = cfg.gpu_name.or(p.gpu_name);
            cfg.nvidia_smi_instant |= p.nvidia_smi_instant;
        } else if require {
            return Err(format!(
                "{k}: not available ({}); --require-sampler makes that an error",
                p.why
            ));
        } else {
            cfg.unavailable.push((k, p.why));
        }
    }
    cfg.peak_bandwidth = peak_bandwidth(peak_override, cfg.gpu_name.as_deref(), device_hint);
    Ok(cfg)
}

/// `--peak-bandwidth`, else the table entry of the GPU, else of the CPU
/// (Apple silicon shares its memory).
pub fn peak_bandwidth(
    over: Option<f64>,
    gpu: Option<&str>,
    cpu: Option<&str>,
) -> Option<PeakBandwidth> {
    if let Some(gbps) = over {
        return Some(PeakBandwidth {
            gbps,
            device: "--peak-bandwidth".to_string(),
        });
    }
    [gpu, cpu].into_iter().flatten().find_map(|d| {
        roofline::peak_gbps(d).map(|gbps| PeakBandwidth {
            gbps,
            device: d.to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bandwidth_override_then_gpu_then_cpu() {
        let b = peak_bandwidth(Some(100.0), Some("NVIDIA H200"), None).unwrap();
        assert_eq!((b.gbps, b.device.as_str()), (100.0, "--peak-bandwidth"));
        let b = peak_bandwidth(None, Some("NVIDIA H200"), Some("Apple M2")).unwrap();
        assert_eq!(b.gbps, 4800.0);
        let b = peak_bandwidth(None, None, Some("Apple M4 Pro")).unwrap();
        assert_eq!(b.gbps, 273.0);
        assert_eq!(peak_bandwidth(None, None, Some("AMD EPYC")), None);
    }

    #[test]
    fn none_probes_nothing() {
        let cfg = plan_sampler(
            &SamplerChoice::None,
            Duration::from_millis(100),
            true,
            None,
            None,
        )
        .unwrap();
        assert!(cfg.sources.is_empty() && cfg.unavailable.is_empty());
    }
}
