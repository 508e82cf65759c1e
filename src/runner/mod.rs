//! Running one process: spawn the binary (no shell, its own process group),
//! drain stdout and stderr concurrently, enforce the deadline, kill the
//! group on timeout or interrupt. [`executor`] is the door the engine goes
//! through, so tests can replay recorded outputs instead.

pub mod capture;
pub mod executor;
pub mod interrupt;
pub mod process;
