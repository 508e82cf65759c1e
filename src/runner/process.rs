//! Spawning one benchmarked process: no shell, its own process group, stdout
//! and stderr drained on their own threads (a chatty child never blocks on a
//! full pipe), a deadline, and a clean kill of the whole group on timeout or
//! when the user interrupts tokbench.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::capture::{drain, Capture};
use super::interrupt;

/// How long a process group gets between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// What to run and how long to let it run.
#[derive(Debug, Clone)]
pub struct Spawn<'a> {
    pub program: &'a Path,
    pub args: &'a [OsString],
    pub timeout: Duration,
    /// Where to copy the raw stdout and stderr (`--keep-logs`).
    pub logs: Option<(PathBuf, PathBuf)>,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    Signaled(i32),
    /// Killed by tokbench after the deadline.
    TimedOut,
    /// Killed by tokbench because tokbench got this signal (SIGINT/SIGTERM).
    Interrupted(i32),
}

/// Everything observed about one finished process.
#[derive(Debug)]
pub struct Finished {
    pub ending: Ending,
    pub stdout: Capture,
    pub stderr: Capture,
    pub started_at: SystemTime,
    pub started: Instant,
    pub wall: Duration,
    pub pid: u32,
}

/// A process that could not be started at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot start '{program}': {source}")]
pub struct SpawnError {
    pub program: String,
    #[source]
    pub source: std::io::Error,
}

fn log_writer(path: &Option<PathBuf>) -> Option<Box<dyn Write + Send>> {
    // A log that cannot be created must not stop the benchmark; the capture
    // still has what matters.
    let file = File::create(path.as_ref()?).ok()?;
    Some(Box::new(std::io::BufWriter::new(file)))
}

/// Runs `spec` to its end (or deadline, or interrupt). Never leaves the
/// process group behind.
pub fn run(spec: &Spawn<'_>, on_start: impl FnOnce(u32)) -> Result<Finished, SpawnError> {
    let mut cmd = Command::new(spec.program);
    cmd.args(spec.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let started_at = SystemTime::now();
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|source| SpawnError {
        program: spec.program.display().to_string(),
        source,
    })?;
    let pid = child.id();
    let _tracked = interrupt::track_group(pid);
    on_start(pid);
    let (out_log, err_log) = match &spec.logs {
        Some((o, e)) => (Some(o.clone()), Some(e.clone())),
        None => (None, None),
    };
    let out = child.stdout.take().map(|r| {
        let w = log_writer(&out_log);
        std::thread::spawn(move || drain(r, w))
    });
    let err = child.stderr.take().map(|r| {
        let w = log_writer(&err_log);
        std::thread::spawn(move || drain(r, w))
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send((status, Instant::now()));
    });
    let (ending, ended) = supervise(pid, spec.timeout, started, &rx);
    let stdout = join_capture(out, pid);
    let stderr = join_capture(err, pid);
    Ok(Finished {
        ending,
        stdout,
        stderr,
        started_at,
        started,
        wall: ended - started,
        pid,
    })
}

type WaitResult = (std::io::Result<std::process::ExitStatus>, Instant);

/// Waits for the child, enforcing the deadline and reacting to interrupts.
fn supervise(
    pid: u32,
    timeout: Duration,
    started: Instant,
    rx: &mpsc::Receiver<WaitResult>,
) -> (Ending, Instant) {
    let deadline = started + timeout;
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok((status, at)) => return (ending_of(status), at),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return (Ending::Signaled(0), Instant::now())
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let forced = if let Some(sig) = interrupt::received() {
            Some(Ending::Interrupted(sig))
        } else if Instant::now() >= deadline {
            Some(Ending::TimedOut)
        } else {
            None
        };
        if let Some(ending) = forced {
            let at = stop_group(pid, rx);
            return (ending, at);
        }
    }
}

fn ending_of(status: std::io::Result<std::process::ExitStatus>) -> Ending {
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => Ending::Exited(c),
            (None, Some(sig)) => Ending::Signaled(sig),
            (None, None) => Ending::Exited(-1),
        },
        Err(_) => Ending::Exited(-1),
    }
}

/// SIGTERM to the group, then SIGKILL after a grace period. Returns when the
/// child has been reaped.
fn stop_group(pid: u32, rx: &mpsc::Receiver<WaitResult>) -> Instant {
    let group = Pid::from_raw(pid as i32);
    let _ = killpg(group, Signal::SIGTERM);
    if let Ok((_, at)) = rx.recv_timeout(KILL_GRACE) {
        // The leader is gone; make sure no member of its group outlives it.
        let _ = killpg(group, Signal::SIGKILL);
        return at;
    }
    let _ = killpg(group, Signal::SIGKILL);
    rx.recv()
        .map(|(_, at)| at)
        .unwrap_or_else(|_| Instant::now())
}

/// Joins a drain thread. If a grandchild keeps the pipe open after the child
/// exited, the group is killed so the reader sees EOF.
fn join_capture(handle: Option<std::thread::JoinHandle<Capture>>, pid: u32) -> Capture {
    let Some(handle) = handle else {
        return Capture::default();
    };
    let waited = Instant::now();
    while !handle.is_finished() {
        if waited.elapsed() > Duration::from_secs(1) {
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    handle.join().unwrap_or_default()
}

/// Runs a short query (`--help`, `--version`) and returns stdout + stderr.
pub fn query(
    program: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<(Ending, String), SpawnError> {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let spec = Spawn {
        program,
        args: &args,
        timeout,
        logs: None,
    };
    let f = run(&spec, |_| {})?;
    Ok((f.ending, format!("{}{}", f.stdout.text(), f.stderr.text())))
}
