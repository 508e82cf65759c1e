//! `tokbench serve`: llama-server under load.
//!
//! The data flow of one block (one server, one seeded schedule):
//! `schedule` (send times) -> `block` (dispatch on a tokio runtime, the
//! `client` streaming SSE, `sse` reading chunks) -> `request` (timestamps to
//! per-request figures) -> `figures` (percentiles with intervals from
//! `quantile`, throughput, overload) -> `summary` (the block's record, with
//! `slo` and `metrics` deltas) -> `render`. `sweep` steps the load over
//! blocks; `server` starts and stops llama-server; `standin` is an
//! in-process llama-server with planted timings for tests and for the
//! client's own overhead. `command` is the glue for the CLI.

pub mod ab;
pub mod ab_render;
pub mod block;
pub mod client;
pub mod figures;
pub mod metrics;
pub mod output;
pub mod prompts;
pub mod quantile;
pub mod render;
pub mod request;
pub mod sampled;
pub mod schedule;
pub mod server;
pub mod slo;
pub mod sse;
pub mod standin;
pub mod stored;
pub mod summary;
pub mod sweep;
pub mod tls;
