//! tokbench: a benchmark harness for llama.cpp builds.
//!
//! The data flow: `cli` (options) -> `cmd` (one file per command) -> `plan`
//! (validated cells and settings) -> `engine` (the one session loop:
//! schedules, sinks) -> `driver` (one per llama.cpp tool: argv, reading the
//! output) -> `runner` (spawn, capture, time, behind an executor) -> `parse`
//! (pure parsers) -> `store` (JSONL results and the history, written as each
//! run ends) -> `summary`/`stats` -> `report`. Imports flow that way only
//! (`tests/layering.rs` checks it).

/// `eprintln!` that never panics: a closed stderr (`2>&1 | head`) must not
/// stop a benchmark whose runs are being written to disk.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod bisect;
pub mod build;
pub mod cli;
pub mod cmd;
pub mod compare;
pub mod context_fit;
pub mod detect;
pub mod driver;
pub mod engine;
pub mod exit;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod format;
pub mod gguf;
pub mod grid;
pub mod identity;
pub mod markup;
pub mod metrics;
pub mod model;
pub mod ops;
pub mod parse;
pub mod plan;
pub mod plot;
pub mod profile;
pub mod report;
pub mod runner;
pub mod sample;
pub mod serve;
pub mod shell;
pub mod stats;
pub mod store;
pub mod summary;
pub mod sweep;
