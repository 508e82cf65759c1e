//! tokbench: a benchmark harness for llama.cpp builds.
//!
//! The data flow: `cli` (options) -> `plan` (validated runs) -> `runner`
//! (spawn, capture, time) -> `parse` (timings from the output) -> `store`
//! (JSONL results, written as each run ends) -> `stats` -> `report`.

pub mod model;
pub mod parse;
