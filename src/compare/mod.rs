//! `tokbench compare`: two builds, run interleaved, judged with intervals.
//!
//! * [`order`]: the run order (a warmup of each side, then ABBA ABBA ...).
//! * [`stats`]: pure statistics on the measured series: paired or unpaired
//!   ratio B/A with an exact rank interval, the verdict against the noise
//!   band, drift within a session, and the sequential rule of `--auto`.

pub mod render;
pub mod report;
pub mod stats;
pub mod stored;

#[cfg(test)]
mod snapshot_tests;
