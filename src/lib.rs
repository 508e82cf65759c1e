//! tokbench: a benchmark harness for llama.cpp builds.
//!
//! The data flow: `cli` (options) -> `plan` (validated runs) -> `runner`
//! (spawn, capture, time) -> `parse` (timings from the output) -> `store`
//! (JSONL results, written as each run ends) -> `summary`/`stats` -> `report`.

/// `eprintln!` that never panics: a closed stderr (`2>&1 | head`) must not
/// stop a benchmark whose runs are being written to disk.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod app;
pub mod bisect;
pub mod build;
pub mod cli;
pub mod compare;
pub mod context_fit;
pub mod gguf;
pub mod history_cmd;
pub mod identity;
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
