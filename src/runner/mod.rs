//! Running one process: spawn the binary (no shell, its own process group),
//! drain stdout and stderr concurrently, enforce the deadline, kill the
//! group on timeout or interrupt. [`executor`] is the door the engine goes
//! through, so tests can replay recorded outputs instead.

pub mod capture;
pub mod executor;
pub mod interrupt;
pub mod process;

/// An argv as one line a shell would take back (for display and logs).
pub fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            shlex::try_quote(a)
                .map(|q| q.into_owned())
                .unwrap_or_else(|_| format!("{a:?}"))
        })
        .collect::<Vec<_>>()
        .join(" ")
}
