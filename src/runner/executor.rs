//! The one door to process spawning. The engine runs every benchmarked
//! process through an [`Executor`]: [`ProcessExecutor`] starts it for real
//! ([`super::process::run`]); [`Replay`] hands back recorded outputs (the
//! fixtures of each tool and era) so the engine, the drivers, the schedules
//! and the reporters are tested without slow or flaky programs.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use super::capture::{Capture, HEAD_CAP, TAIL_CAP};
use super::process::{self, Ending, Finished, Spawn, SpawnError};

/// Runs one process to its end; `on_start` gets its pid as soon as it runs
/// (the samplers attach to it).
pub trait Executor {
    fn run(&self, spec: &Spawn<'_>, on_start: &mut dyn FnMut(u32)) -> Result<Finished, SpawnError>;
}

/// Starts real processes: no shell, own process group, deadline.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessExecutor;

impl Executor for ProcessExecutor {
    fn run(&self, spec: &Spawn<'_>, on_start: &mut dyn FnMut(u32)) -> Result<Finished, SpawnError> {
        process::run(spec, on_start)
    }
}

/// One recorded process: what it printed and how it ended.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub stdout: String,
    pub stderr: String,
    pub ending: Ending,
    pub wall: Duration,
}

impl Recorded {
    /// A process that printed `stderr` (and `stdout`) and exited 0 after `wall_ms`.
    pub fn ok(stdout: &str, stderr: &str, wall_ms: u64) -> Recorded {
        Recorded {
            stdout: stdout.to_string(),
            stderr: stderr.to_string(),
            ending: Ending::Exited(0),
            wall: Duration::from_millis(wall_ms),
        }
    }

    pub fn ending(mut self, ending: Ending) -> Recorded {
        self.ending = ending;
        self
    }
}

fn capture(text: &str, head: usize, tail: usize) -> Capture {
    let mut c = Capture::new(head, tail);
    c.push(text.as_bytes());
    c
}

/// Replays recorded processes in order, and keeps the argv of each call.
/// Past the last recording it fails to start, as a missing binary would.
#[derive(Debug)]
pub struct Replay {
    queue: Mutex<VecDeque<Recorded>>,
    calls: Mutex<Vec<Vec<String>>>,
    /// Bytes kept of each stream's start and end (the real ones by default).
    pub caps: (usize, usize),
}

impl Replay {
    pub fn new(outputs: impl IntoIterator<Item = Recorded>) -> Replay {
        Replay {
            queue: Mutex::new(outputs.into_iter().collect()),
            calls: Mutex::new(Vec::new()),
            caps: (HEAD_CAP, TAIL_CAP),
        }
    }

    /// The program and arguments of every call so far.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Executor for Replay {
    fn run(&self, spec: &Spawn<'_>, on_start: &mut dyn FnMut(u32)) -> Result<Finished, SpawnError> {
        let argv = std::iter::once(spec.program.display().to_string())
            .chain(spec.args.iter().map(|a| a.to_string_lossy().into_owned()))
            .collect();
        if let Ok(mut c) = self.calls.lock() {
            c.push(argv);
        }
        let next = self.queue.lock().ok().and_then(|mut q| q.pop_front());
        let Some(rec) = next else {
            return Err(SpawnError {
                program: spec.program.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no recording left"),
            });
        };
        // No process exists: pid 0 names none, so no sampler attaches to another.
        on_start(0);
        let (head, tail) = self.caps;
        Ok(Finished {
            ending: rec.ending,
            stdout: capture(&rec.stdout, head, tail),
            stderr: capture(&rec.stderr, head, tail),
            started_at: SystemTime::now(),
            started: Instant::now(),
            wall: rec.wall,
            pid: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::path::Path;

    fn spec<'a>(args: &'a [OsString]) -> Spawn<'a> {
        Spawn {
            program: Path::new("/bin/llama-completion"),
            args,
            timeout: Duration::from_secs(1),
            logs: None,
        }
    }

    #[test]
    fn replay_returns_recordings_in_order_and_keeps_the_argv() {
        let r = Replay::new([
            Recorded::ok("one", "e1", 10),
            Recorded::ok("", "e2", 20).ending(Ending::Exited(3)),
        ]);
        let args = [OsString::from("-n"), OsString::from("8")];
        let mut pids = Vec::new();
        let a = r.run(&spec(&args), &mut |p| pids.push(p)).unwrap();
        let b = r.run(&spec(&args), &mut |_| {}).unwrap();
        assert_eq!(a.stdout.text(), "one");
        assert_eq!(a.wall, Duration::from_millis(10));
        assert_eq!(b.ending, Ending::Exited(3));
        assert_eq!(b.stderr.text(), "e2");
        assert_eq!(pids, vec![0]);
        assert_eq!(r.calls()[1], vec!["/bin/llama-completion", "-n", "8"]);
        let e = r.run(&spec(&args), &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("no recording left"), "{e}");
    }

    #[test]
    fn replay_caps_streams_like_the_real_capture() {
        let mut r = Replay::new([Recorded::ok(&"x".repeat(100), "", 1)]);
        r.caps = (10, 20);
        let f = r.run(&spec(&[]), &mut |_| {}).unwrap();
        assert_eq!(f.stdout.total_bytes, 100);
        assert_eq!(f.stdout.dropped_bytes, 70);
    }
}
