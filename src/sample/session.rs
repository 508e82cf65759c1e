//! One sampling session per run: a worker thread per source (each builds
//! its own subprocess and sends samples over one channel), stopped and
//! reaped when the run ends. Nothing here can fail the run: a source that
//! dies mid-run is reported in its [`SourceStatus`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

pub use crate::model::sampled::{SourceState, SourceStatus};

use super::worker::{self, ChildSlot, Ctx, End, Framing};
use super::{
    macmon, nvidia_smi, powermetrics, probe, procfs, vmmap, Sample, SamplerConfig, SourceKind,
};

/// vmmap takes about a second per call.
const VMMAP_EVERY: Duration = Duration::from_secs(1);
const VMMAP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long stop waits for workers after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_millis(300);
/// `/proc/<pid>/stat` counts in USER_HZ, which Linux fixes at 100.
const USER_HZ: f64 = 100.0;

/// A run's timeline and how each source fared.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sampling {
    pub samples: Vec<Sample>,
    pub sources: Vec<SourceStatus>,
}

struct Worker {
    source: SourceKind,
    slot: ChildSlot,
    handle: JoinHandle<End>,
}

/// Running samplers of one run.
pub struct Session {
    t0: Instant,
    stop: Arc<AtomicBool>,
    stop_txs: Vec<Sender<()>>,
    workers: Vec<Worker>,
    rx: Receiver<Sample>,
    unavailable: Vec<(SourceKind, String)>,
}

impl Session {
    /// Starts every configured source on `pid`. None when nothing is
    /// configured (`--sampler none`, or nothing usable).
    pub fn start(cfg: &SamplerConfig, pid: u32) -> Option<Session> {
        if cfg.sources.is_empty() && cfg.unavailable.is_empty() {
            return None;
        }
        let (tx, rx) = mpsc::channel();
        let mut s = Session {
            t0: Instant::now(),
            stop: Arc::new(AtomicBool::new(false)),
            stop_txs: Vec::new(),
            workers: Vec::new(),
            rx,
            unavailable: cfg.unavailable.clone(),
        };
        for &k in &cfg.sources {
            for job in jobs(k, cfg, pid) {
                s.spawn(k, &tx, job);
            }
        }
        Some(s)
    }

    /// When the timeline's 0 ms is.
    pub fn t0(&self) -> Instant {
        self.t0
    }

    fn spawn(&mut self, source: SourceKind, tx: &Sender<Sample>, job: Job) {
        let (stop_tx, stop_rx) = mpsc::channel();
        let slot: ChildSlot = Arc::new(Mutex::new(None));
        let ctx = Ctx {
            tx: tx.clone(),
            t0: self.t0,
            stop: self.stop.clone(),
            stop_rx,
            child: slot.clone(),
        };
        let name = format!("sampler-{source}");
        let spawned = std::thread::Builder::new()
            .name(name)
            .spawn(move || job(&ctx));
        match spawned {
            Ok(handle) => {
                self.stop_txs.push(stop_tx);
                self.workers.push(Worker {
                    source,
                    slot,
                    handle,
                });
            }
            Err(e) => self
                .unavailable
                .push((source, format!("cannot start its thread: {e}"))),
        }
    }

    /// Stops every worker (their children are killed and reaped) and
    /// returns the timeline, ordered by time.
    pub fn stop(mut self) -> Sampling {
        self.stop.store(true, Ordering::SeqCst);
        self.stop_txs.clear();
        for w in &self.workers {
            worker::signal_slot(&w.slot, Signal::SIGTERM);
        }
        let until = Instant::now() + STOP_GRACE;
        while self.workers.iter().any(|w| !w.handle.is_finished()) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        for w in &self.workers {
            if !w.handle.is_finished() {
                worker::signal_slot(&w.slot, Signal::SIGKILL);
            }
        }
        let mut ends: Vec<(SourceKind, End)> = Vec::new();
        for w in self.workers.drain(..) {
            let end = w.handle.join().unwrap_or(End::Failed {
                samples: 0,
                why: "its thread panicked".to_string(),
            });
            ends.push((w.source, end));
        }
        let mut samples: Vec<Sample> = self.rx.try_iter().collect();
        samples.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
        Sampling {
            samples,
            sources: statuses(&self.unavailable, ends),
        }
    }
}

/// One status per source (nvidia-smi runs two workers).
fn statuses(
    unavailable: &[(SourceKind, String)],
    ends: Vec<(SourceKind, End)>,
) -> Vec<SourceStatus> {
    let mut out: Vec<SourceStatus> = unavailable
        .iter()
        .map(|(k, why)| SourceStatus {
            source: *k,
            state: SourceState::NotAvailable,
            detail: Some(why.clone()),
            samples: 0,
        })
        .collect();
    let mut bytes: Vec<(SourceKind, Option<usize>)> = Vec::new();
    for (k, end) in ends {
        let (state, n, detail) = match end {
            End::Ok {
                samples,
                note,
                bytes: b,
            } => {
                add_bytes(&mut bytes, k, b);
                (SourceState::Ok, samples, note)
            }
            End::Failed { samples, why } => (SourceState::Failed, samples, Some(why)),
        };
        match out
            .iter_mut()
            .find(|s| s.source == k && s.state != SourceState::NotAvailable)
        {
            Some(s) => {
                s.samples += n;
                if state == SourceState::Failed {
                    s.state = SourceState::Failed;
                }
                if let Some(d) = detail {
                    s.detail = Some(s.detail.take().map_or(d.clone(), |p| format!("{p}; {d}")));
                }
            }
            None => out.push(SourceStatus {
                source: k,
                state,
                detail,
                samples: n,
            }),
        }
    }
    for s in out
        .iter_mut()
        .filter(|s| s.state == SourceState::Ok && s.samples == 0)
    {
        let read = bytes
            .iter()
            .find(|(k, _)| *k == s.source)
            .and_then(|(_, b)| *b);
        s.state = SourceState::NoSamples;
        let what = no_samples_text(read);
        s.detail = Some(
            s.detail
                .take()
                .map_or(what.clone(), |d| format!("{what}; {d}")),
        );
    }
    out
}

/// Sums the output bytes of a source's workers (None: not counted).
fn add_bytes(all: &mut Vec<(SourceKind, Option<usize>)>, k: SourceKind, b: Option<usize>) {
    match all.iter_mut().find(|(s, _)| *s == k) {
        Some((_, acc)) => {
            *acc = match (*acc, b) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
            }
        }
        None => all.push((k, b)),
    }
}

/// What a source that gave no sample says: never `ok`.
pub fn no_samples_text(bytes: Option<usize>) -> String {
    match bytes {
        Some(0) => "0 samples (no output)".to_string(),
        Some(n) => format!("0 samples from {n} bytes of output"),
        None => "0 samples".to_string(),
    }
}

type Job = Box<dyn FnOnce(&Ctx) -> End + Send>;

fn interval_ms(cfg: &SamplerConfig) -> u64 {
    cfg.interval.as_millis().max(1) as u64
}

/// The worker bodies of one source.
fn jobs(k: SourceKind, cfg: &SamplerConfig, pid: u32) -> Vec<Job> {
    let ms = interval_ms(cfg);
    match k {
        SourceKind::Powermetrics => vec![Box::new(move |ctx: &Ctx| powermetrics_job(ctx, ms))],
        SourceKind::Vmmap => vec![Box::new(move |ctx: &Ctx| vmmap_job(ctx, pid))],
        SourceKind::Macmon => vec![Box::new(move |ctx: &Ctx| macmon_job(ctx, ms))],
        SourceKind::NvidiaSmi => {
            let instant = cfg.nvidia_smi_instant;
            vec![
                Box::new(move |ctx: &Ctx| nvsmi_gpu_job(ctx, ms, instant)),
                Box::new(move |ctx: &Ctx| nvsmi_apps_job(ctx, ms, pid)),
            ]
        }
        SourceKind::Proc => {
            let every = cfg.interval;
            vec![Box::new(move |ctx: &Ctx| proc_job(ctx, pid, every))]
        }
    }
}

fn powermetrics_job(ctx: &Ctx, ms: u64) -> End {
    let (program, args) = probe::powermetrics_command(powermetrics::args(ms, true));
    let mut parse = |frame: &str, at: Instant| {
        let mut s = powermetrics::parse_plist_sample(frame.as_bytes()).map_err(|e| e.0)?;
        s.t_ms = ctx.t_ms(at);
        Ok(Some(s))
    };
    worker::stream(ctx, &program, &args, Framing::Plist, &mut parse)
}

fn macmon_job(ctx: &Ctx, ms: u64) -> End {
    let mut prev: Option<(Option<i128>, Instant)> = None;
    let mut parse = |line: &str, at: Instant| {
        let (mut s, ts) = macmon::parse_line(line).map_err(|e| e.0)?;
        s.t_ms = ctx.t_ms(at);
        s.span_ms = match (prev, ts) {
            (Some((Some(p), _)), Some(t)) => Some((t - p) as f64 / 1e6),
            (Some((_, p_at)), _) => Some(at.duration_since(p_at).as_secs_f64() * 1000.0),
            _ => None,
        };
        prev = Some((ts, at));
        Ok(Some(s))
    };
    worker::stream(ctx, "macmon", &macmon::args(ms), Framing::Lines, &mut parse)
}

fn nvsmi_gpu_job(ctx: &Ctx, ms: u64, instant: bool) -> End {
    let owned = nvidia_smi::gpu_fields(instant);
    let fields: Vec<&str> = owned.iter().map(String::as_str).collect();
    let mut prev: HashMap<Option<u32>, i64> = HashMap::new();
    let mut parse = |line: &str, at: Instant| {
        let row = nvidia_smi::parse_row(&fields, line).map_err(|e| e.0)?;
        let mut s = row.sample;
        s.t_ms = ctx.t_ms(at);
        if let Some(ts) = row.ts_ms {
            s.span_ms = prev.insert(s.gpu_index, ts).map(|p| (ts - p) as f64);
        }
        Ok(Some(s))
    };
    let args = nvidia_smi::gpu_args(instant, Some(ms));
    worker::stream(ctx, "nvidia-smi", &args, Framing::Lines, &mut parse)
}

fn nvsmi_apps_job(ctx: &Ctx, ms: u64, pid: u32) -> End {
    let mut parse = |line: &str, at: Instant| {
        let row = nvidia_smi::parse_row(&nvidia_smi::APP_FIELDS, line).map_err(|e| e.0)?;
        if row.pid != Some(pid) {
            return Ok(None);
        }
        let mut s = row.sample;
        s.t_ms = ctx.t_ms(at);
        Ok(Some(s))
    };
    let args = nvidia_smi::apps_args(ms.max(100));
    worker::stream(ctx, "nvidia-smi", &args, Framing::Lines, &mut parse)
}

fn vmmap_job(ctx: &Ctx, pid: u32) -> End {
    let args = vmmap::args(pid);
    let mut tick = |ctx: &Ctx| {
        let out = worker::run_once(ctx, "vmmap", &args, VMMAP_TIMEOUT)?;
        let mut s = vmmap::parse_summary(&out).map_err(|e| e.0)?;
        s.t_ms = ctx.t_ms(Instant::now());
        Ok(Some(s))
    };
    worker::periodic(ctx, VMMAP_EVERY, &mut tick)
}

fn proc_job(ctx: &Ctx, pid: u32, every: Duration) -> End {
    if !std::path::Path::new("/proc/self/status").exists() {
        return sysinfo_job(ctx, pid, every);
    }
    let status_path = format!("/proc/{pid}/status");
    let stat_path = format!("/proc/{pid}/stat");
    let mut prev: Option<(u64, Instant)> = None;
    let mut tick = |ctx: &Ctx| {
        let text = std::fs::read_to_string(&status_path)
            .map_err(|e| format!("cannot read '{status_path}': {e}"))?;
        let at = Instant::now();
        let mut s = procfs::parse_status(&text);
        s.t_ms = ctx.t_ms(at);
        let ticks = std::fs::read_to_string(&stat_path)
            .ok()
            .and_then(|t| procfs::parse_stat_ticks(&t));
        if let (Some(now), Some((before, then))) = (ticks, prev) {
            let ms = at.duration_since(then).as_secs_f64() * 1000.0;
            s.cpu_pct = procfs::cpu_pct(before, now, USER_HZ, ms);
            s.span_ms = Some(ms);
        }
        prev = ticks.map(|t| (t, at));
        Ok(Some(s))
    };
    worker::periodic(ctx, every, &mut tick)
}

/// `proc` where there is no /proc (macOS): RSS and CPU % through sysinfo.
fn sysinfo_job(ctx: &Ctx, pid: u32, every: Duration) -> End {
    let mut p = super::sysproc::SysProc::new(pid);
    let mut tick = |ctx: &Ctx| {
        let mut s = p.sample().ok_or_else(|| format!("process {pid} is gone"))?;
        s.t_ms = ctx.t_ms(Instant::now());
        Ok(Some(s))
    };
    worker::periodic(ctx, every, &mut tick)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--sample-interval 100` once gave a run no powermetrics sample and
    /// its sources still said `ok`.
    #[test]
    fn a_source_with_output_but_no_sample_is_not_ok() {
        let ends = vec![(
            SourceKind::Powermetrics,
            End::Ok {
                samples: 0,
                note: None,
                bytes: Some(1234),
            },
        )];
        let s = statuses(&[], ends);
        assert_eq!(s[0].state, SourceState::NoSamples);
        assert_eq!(
            s[0].to_string(),
            "powermetrics: 0 samples from 1234 bytes of output"
        );
    }

    #[test]
    fn nvidia_smi_workers_add_up_and_a_sample_makes_it_ok() {
        let ok = |samples, bytes| End::Ok {
            samples,
            note: None,
            bytes,
        };
        let k = SourceKind::NvidiaSmi;
        let s = statuses(&[], vec![(k, ok(0, Some(100))), (k, ok(0, Some(23)))]);
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].to_string(),
            "nvidia-smi: 0 samples from 123 bytes of output"
        );
        let s = statuses(&[], vec![(k, ok(3, Some(300))), (k, ok(0, Some(0)))]);
        assert_eq!((s[0].state, s[0].samples), (SourceState::Ok, 3));
        let s = statuses(&[], vec![(SourceKind::Vmmap, ok(0, None))]);
        assert_eq!(s[0].to_string(), "vmmap: 0 samples");
    }
}
