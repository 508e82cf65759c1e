//! SIGINT / SIGTERM handling. The first signal sets a flag: the running child
//! and its process group are stopped, finished runs stay on disk, a summary
//! is printed and tokbench exits 130 / 143. A second signal exits at once,
//! after a SIGKILL to every process group tokbench started, so no child
//! outlives it (the children run in their own groups: a terminal's Ctrl-C
//! never reaches them).

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::sync::OnceLock;

use signal_hook::consts::{SIGINT, SIGTERM};

static FLAGS: OnceLock<(Arc<AtomicBool>, Arc<AtomicBool>)> = OnceLock::new();

/// Installs the handlers (idempotent).
pub fn install() -> std::io::Result<()> {
    if FLAGS.get().is_some() {
        return Ok(());
    }
    let int = Arc::new(AtomicBool::new(false));
    let term = Arc::new(AtomicBool::new(false));
    for (sig, flag, code) in [(SIGINT, &int, 130), (SIGTERM, &term, 143)] {
        // Registered first, so it sees the flag as it was before this signal:
        // set already means this is the second signal.
        let seen = Arc::clone(flag);
        // SAFETY: the handler only loads atomics and calls kill(2) and
        // _exit(2), which are async-signal-safe.
        unsafe {
            signal_hook::low_level::register(sig, move || {
                if seen.load(Ordering::SeqCst) {
                    kill_tracked_groups();
                    signal_hook::low_level::exit(code);
                }
            })?;
        }
        signal_hook::flag::register(sig, Arc::clone(flag))?;
    }
    let _ = FLAGS.set((int, term));
    Ok(())
}

/// The signal received, if any (SIGINT wins when both arrived).
pub fn received() -> Option<i32> {
    let (int, term) = FLAGS.get()?;
    if int.load(Ordering::SeqCst) {
        Some(SIGINT)
    } else if term.load(Ordering::SeqCst) {
        Some(SIGTERM)
    } else {
        None
    }
}

/// Process groups started by tokbench and not yet reaped. Fixed slots: the
/// signal handler that reads them must not lock or allocate.
static GROUPS: [AtomicI32; 16] = [const { AtomicI32::new(0) }; 16];

/// Keeps a child's process group on the list killed by a second signal
/// until dropped (drop it once the child has been reaped).
pub struct TrackedGroup(u32);

pub fn track_group(pgid: u32) -> TrackedGroup {
    add_group(pgid);
    TrackedGroup(pgid)
}

impl Drop for TrackedGroup {
    fn drop(&mut self) {
        remove_group(self.0);
    }
}

/// Puts a process group on the list killed by a second signal. More than 16
/// live groups does not happen (one benchmarked binary and a few samplers);
/// one that finds no slot is merely not killed early.
pub fn add_group(pgid: u32) {
    let pgid = pgid as i32;
    for slot in &GROUPS {
        if slot
            .compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

/// Takes a process group off that list (before its leader is reaped, or as
/// soon after as possible, so a reused id is never killed).
pub fn remove_group(pgid: u32) {
    for slot in &GROUPS {
        let _ = slot.compare_exchange(pgid as i32, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

fn kill_tracked_groups() {
    for slot in &GROUPS {
        let pgid = slot.load(Ordering::SeqCst);
        if pgid > 0 {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
