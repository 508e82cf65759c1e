//! `tokbench ops`: per-op comparison of two llama.cpp builds through
//! `test-backend-ops perf`.
//!
//! One case's result is [`crate::model::OpResult`] (run records carry
//! them); the parsers of `test-backend-ops perf` output are
//! [`crate::parse::backend_ops`], the driver [`crate::driver::backend_ops`].
//!
//! * [`compare`]: cases matched on (backend, op, parameters) across
//!   interleaved rounds, judged with the statistics of `tokbench compare`.
//! * [`auto`]: `--auto`, rounds until every case is decided, with the
//!   error rate held over all cases and looks.
//! * [`peak`]: known device peaks, for "% of peak".
//! * [`render`], [`export`]: the table / markdown / JSON report, and the
//!   `test_backend_ops` SQLite table compare-llama-bench.py reads.
//!
//! The session (rounds on the engine) is `crate::cmd::ops`.

pub mod auto;
pub mod compare;
pub mod export;
pub mod peak;
pub mod render;

pub use crate::model::OpResult;
pub use crate::parse::backend_ops::{parse_output, OpsParseError};
