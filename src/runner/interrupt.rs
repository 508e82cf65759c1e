//! SIGINT / SIGTERM handling. The first signal sets a flag: the running child
//! and its process group are stopped, finished runs stay on disk, a summary
//! is printed and tokbench exits 130 / 143. A second signal exits at once.

use std::sync::atomic::{AtomicBool, Ordering};
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
        signal_hook::flag::register_conditional_shutdown(sig, code, Arc::clone(flag))?;
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

/// The conventional exit code for a signal: 128 + its number.
pub fn exit_code(sig: i32) -> u8 {
    (128 + sig).clamp(0, 255) as u8
}
