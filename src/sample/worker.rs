//! The machinery under each source's worker thread: spawn a subprocess in
//! its own process group (no shell), read it frame by frame, parse each
//! frame, send samples over the channel; or call something periodically.
//! The child's pid sits behind a mutex so `Session::stop` can signal it
//! without ever signalling a pid that was already reaped.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::Sample;

/// Bytes of a child's stderr kept for its error message.
const STDERR_KEEP: usize = 2048;
/// How long a child gets between SIGTERM and SIGKILL at cleanup.
const TERM_GRACE: Duration = Duration::from_millis(500);

/// The child (process group) a worker is running now, if any.
pub(super) type ChildSlot = Arc<Mutex<Option<u32>>>;

/// What a worker thread has to work with.
pub(super) struct Ctx {
    pub tx: Sender<Sample>,
    pub t0: Instant,
    pub stop: Arc<AtomicBool>,
    pub stop_rx: Receiver<()>,
    pub child: ChildSlot,
}

impl Ctx {
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
    pub fn t_ms(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.t0).as_secs_f64() * 1000.0
    }
    pub fn send(&self, s: Sample) {
        // The receiver lives in the Session until after every worker ends.
        let _ = self.tx.send(s);
    }
}

/// How a worker ended.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum End {
    Ok {
        samples: usize,
        note: Option<String>,
        /// Bytes of output read (None where they are not counted).
        bytes: Option<usize>,
    },
    Failed {
        samples: usize,
        why: String,
    },
}

/// Signals the group of the slot's child, if one is running.
pub(super) fn signal_slot(slot: &ChildSlot, sig: Signal) {
    if let Ok(guard) = slot.lock() {
        if let Some(pid) = *guard {
            let _ = killpg(Pid::from_raw(pid as i32), sig);
        }
    }
}

fn spawn(ctx: &Ctx, program: &str, args: &[String]) -> std::io::Result<Child> {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    crate::runner::interrupt::add_group(child.id());
    if let Ok(mut g) = ctx.child.lock() {
        *g = Some(child.id());
    }
    if ctx.stopping() {
        signal_slot(&ctx.child, Signal::SIGKILL);
    }
    Ok(child)
}

/// Stops (if still running) and reaps the child; its pid leaves the slot first.
fn finish(ctx: &Ctx, mut child: Child) -> String {
    let pid = child.id();
    let status = match child.try_wait() {
        Ok(Some(s)) => Some(s),
        _ => {
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGTERM);
            let until = Instant::now() + TERM_GRACE;
            let mut st = None;
            while Instant::now() < until {
                if let Ok(Some(s)) = child.try_wait() {
                    st = Some(s);
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            st
        }
    };
    // Members of the group may outlive the leader; the leader is not yet
    // reaped here, so the group id cannot have been reused.
    let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
    crate::runner::interrupt::remove_group(pid);
    if let Ok(mut g) = ctx.child.lock() {
        *g = None;
    }
    let status = status.or_else(|| child.wait().ok());
    status.map_or_else(|| "ended".to_string(), |s| s.to_string())
}

fn drain_stderr(child: &mut Child) -> Option<JoinHandle<String>> {
    let mut err = child.stderr.take()?;
    Some(std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n) = err.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > 2 * STDERR_KEEP {
                buf.drain(..buf.len() - STDERR_KEEP);
            }
        }
        String::from_utf8_lossy(&buf).trim().to_string()
    }))
}

/// Splits a child's stdout into frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// One frame per line.
    Lines,
    /// A frame ends at a line ending in `</plist>` (NULs between plists dropped).
    Plist,
    /// A frame ends where the next `*** Sampled system activity` begins.
    PowermetricsText,
}

/// Frame parser: text and arrival time -> a sample (or none), or why not.
pub(super) type FrameFn<'a> = dyn FnMut(&str, Instant) -> Result<Option<Sample>, String> + 'a;

#[derive(Default)]
struct Tally {
    samples: usize,
    bad: usize,
    first_bad: Option<String>,
    bytes: usize,
}

impl Tally {
    fn take(&mut self, ctx: &Ctx, r: Result<Option<Sample>, String>) {
        match r {
            Ok(Some(s)) if !s.is_empty() => {
                self.samples += 1;
                ctx.send(s);
            }
            Ok(_) => {}
            Err(e) => {
                self.bad += 1;
                self.first_bad.get_or_insert(e);
            }
        }
    }
    fn note(&self) -> Option<String> {
        self.first_bad
            .as_ref()
            .map(|e| format!("{} unreadable output frame(s), first: {e}", self.bad))
    }
}

/// Runs `program args` until stopped, parsing each frame of its stdout.
pub(super) fn stream(
    ctx: &Ctx,
    program: &str,
    args: &[String],
    framing: Framing,
    parse: &mut FrameFn<'_>,
) -> End {
    let mut child = match spawn(ctx, program, args) {
        Ok(c) => c,
        Err(e) => {
            return End::Failed {
                samples: 0,
                why: format!("cannot start '{program}': {e}"),
            }
        }
    };
    let err = drain_stderr(&mut child);
    let mut tally = Tally::default();
    if let Some(out) = child.stdout.take() {
        read_frames(ctx, BufReader::new(out), framing, parse, &mut tally);
    }
    let stopped = ctx.stopping();
    let status = finish(ctx, child);
    let stderr = err.and_then(|h| h.join().ok()).unwrap_or_default();
    if stopped {
        return End::Ok {
            samples: tally.samples,
            note: tally.note(),
            bytes: Some(tally.bytes),
        };
    }
    let last = stderr.lines().last().unwrap_or("no message").to_string();
    End::Failed {
        samples: tally.samples,
        why: format!(
            "'{program}' {status} after {} sample(s): {last}",
            tally.samples
        ),
    }
}

fn read_frames(
    ctx: &Ctx,
    mut r: impl BufRead,
    framing: Framing,
    parse: &mut FrameFn<'_>,
    tally: &mut Tally,
) {
    let mut frame = String::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(n) => tally.bytes += n,
        }
        let at = Instant::now();
        let text = String::from_utf8_lossy(&line).replace('\0', "");
        match framing {
            Framing::Lines => {
                if !text.trim().is_empty() {
                    tally.take(ctx, parse(text.trim_end(), at));
                }
            }
            Framing::Plist => {
                frame.push_str(&text);
                if text.trim_end().ends_with("</plist>") {
                    tally.take(ctx, parse(&frame, at));
                    frame.clear();
                }
            }
            Framing::PowermetricsText => {
                if text.starts_with(super::powermetrics::SAMPLE_HEADER) && !frame.trim().is_empty()
                {
                    tally.take(ctx, parse(&frame, at));
                    frame.clear();
                }
                frame.push_str(&text);
            }
        }
    }
    if framing == Framing::PowermetricsText && frame.contains(super::powermetrics::SAMPLE_HEADER) {
        tally.take(ctx, parse(&frame, Instant::now()));
    }
}

/// Runs `program args` to its end (or `timeout`, or the session's stop) and
/// returns its stdout.
pub(super) fn run_once(
    ctx: &Ctx,
    program: &str,
    args: &[String],
    timeout: Duration,
) -> Result<String, String> {
    let mut child =
        spawn(ctx, program, args).map_err(|e| format!("cannot start '{program}': {e}"))?;
    let err = drain_stderr(&mut child);
    let out = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut o) = out {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let until = Instant::now() + timeout;
    while !reader.is_finished() && Instant::now() < until && !ctx.stopping() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = finish(ctx, child);
    let stdout = reader.join().unwrap_or_default();
    let stderr = err.and_then(|h| h.join().ok()).unwrap_or_default();
    if status.contains("exit status: 0") {
        Ok(stdout)
    } else {
        let last = stderr.lines().last().unwrap_or("no message");
        Err(format!("'{program}' {status}: {last}"))
    }
}

/// Calls `tick` every `interval` until stopped.
pub(super) fn periodic(
    ctx: &Ctx,
    interval: Duration,
    tick: &mut dyn FnMut(&Ctx) -> Result<Option<Sample>, String>,
) -> End {
    let mut tally = Tally::default();
    loop {
        let began = Instant::now();
        let r = tick(ctx);
        if ctx.stopping() {
            break;
        }
        tally.take(ctx, r);
        let wait = interval.saturating_sub(began.elapsed());
        match ctx.stop_rx.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => break,
        }
    }
    match (tally.samples, tally.first_bad.clone()) {
        (0, Some(why)) => End::Failed { samples: 0, why },
        _ => End::Ok {
            samples: tally.samples,
            note: None,
            bytes: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::sync::mpsc;

    fn ctx() -> (Ctx, Receiver<Sample>, Sender<()>) {
        let (tx, rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel();
        let c = Ctx {
            tx,
            t0: Instant::now(),
            stop: Arc::new(AtomicBool::new(false)),
            stop_rx,
            child: Arc::new(Mutex::new(None)),
        };
        (c, rx, stop_tx)
    }

    fn frames(framing: Framing, input: &[u8]) -> (Vec<Sample>, Option<String>) {
        let (c, rx, _stop) = ctx();
        let mut tally = Tally::default();
        let mut parse = |frame: &str, _at: Instant| match framing {
            Framing::Plist => super::super::powermetrics::parse_plist_sample(frame.as_bytes())
                .map(Some)
                .map_err(|e| e.0),
            Framing::PowermetricsText => {
                Ok(Some(super::super::powermetrics::parse_text_sample(frame)))
            }
            Framing::Lines => super::super::macmon::parse_line(frame)
                .map(|(s, _)| Some(s))
                .map_err(|e| e.0),
        };
        read_frames(&c, Cursor::new(input), framing, &mut parse, &mut tally);
        drop(c);
        (rx.try_iter().collect(), tally.note())
    }

    #[test]
    fn plist_frames_end_at_the_closing_tag() {
        let bytes = include_bytes!("../../fixtures/sample/powermetrics_plist_two.xml");
        let (v, note) = frames(Framing::Plist, bytes);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].gpu_power_w, Some(12.5));
        assert_eq!(v[1].gpu_power_w, Some(10.0));
        assert_eq!(note, None);
    }

    #[test]
    fn text_frames_end_at_the_next_header_and_at_eof() {
        let text = include_str!("../../fixtures/sample/powermetrics_text_two.txt");
        let (v, _) = frames(Framing::PowermetricsText, text.as_bytes());
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].span_ms, Some(101.25));
        assert_eq!(v[1].thermal_pressure.as_deref(), Some("Fair"));
    }

    #[test]
    fn garbage_lines_are_counted_and_good_ones_kept() {
        let input = b"{\"gpu_power\":1.5}\n%%garbage\n\n{\"gpu_power\":2.5}\n\xff\xfe\n";
        let (v, note) = frames(Framing::Lines, input);
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].gpu_power_w, Some(2.5));
        let note = note.unwrap();
        assert!(
            note.starts_with("2 unreadable output frame(s), first: "),
            "{note}"
        );
    }

    #[test]
    fn a_child_that_dies_is_a_failure_with_its_last_stderr_line() {
        let (c, rx, _stop) = ctx();
        let args = [
            "-c",
            "echo '{\"gpu_power\":3}'; echo 'GPU is lost' >&2; exit 4",
        ]
        .map(String::from);
        let mut parse = |f: &str, _| {
            super::super::macmon::parse_line(f)
                .map(|(s, _)| Some(s))
                .map_err(|e| e.0)
        };
        let end = stream(&c, "sh", &args, Framing::Lines, &mut parse);
        match end {
            End::Failed { samples, why } => {
                assert_eq!(samples, 1);
                assert!(
                    why.contains("exit status: 4") && why.ends_with("GPU is lost"),
                    "{why}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(rx.try_iter().count(), 1);
        assert_eq!(*c.child.lock().unwrap(), None);
    }

    #[test]
    fn stop_ends_a_stream_without_a_failure() {
        let (c, _rx, stop_tx) = ctx();
        let stop = c.stop.clone();
        let slot = c.child.clone();
        let h = std::thread::spawn(move || {
            let args = [
                "-c",
                "while true; do echo '{\"gpu_power\":3}'; sleep 0.05; done",
            ]
            .map(String::from);
            let mut parse = |f: &str, _| {
                super::super::macmon::parse_line(f)
                    .map(|(s, _)| Some(s))
                    .map_err(|e| e.0)
            };
            stream(&c, "sh", &args, Framing::Lines, &mut parse)
        });
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::SeqCst);
        drop(stop_tx);
        signal_slot(&slot, Signal::SIGTERM);
        match h.join().unwrap() {
            End::Ok { samples, .. } => assert!(samples >= 1),
            other => panic!("{other:?}"),
        }
    }
}
