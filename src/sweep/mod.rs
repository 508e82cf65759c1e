//! `tokbench sweep`: the best configuration of a grid, decided with
//! statistics, with its memory and energy cost.
//!
//! The engine-independent core, pure and unit-tested:
//! * [`vary`]: the `--vary` grammar (llama-bench's lists and ranges) and
//!   `--vary-args`;
//! * [`cells`]: the product of the dimensions, each cell named by its
//!   arguments (`-t 4 -fa on`);
//! * [`design`]: the warmup and the seeded random order of each round;
//! * [`race`]: the racing state a schedule drives (survivors, next order,
//!   over or not) with its statuses;
//! * [`infeasible`]: the cause of a crash, an out-of-memory, a load failure
//!   or a timeout, in one line;
//! * [`result`]: the ranked table, the tied group, the Pareto front, the
//!   drift and the recommended cell;
//! * [`recommend`]: the recommendation as llama-completion and
//!   llama-server command lines;
//! * [`render`]: table, markdown, json and csv from one grid;
//! * [`spec`]: glue from the command's options and run records to the
//!   race, and from the race to the result with its recommendation;
//! * [`schedule`]: the engine schedule of a sweep (warmups, seeded rounds,
//!   elimination) driving the race;
//! * [`simulate`]: simulated sweeps for the tests and the power benchmark.

pub mod cells;
pub mod design;
pub mod infeasible;
pub mod race;
pub mod recommend;
pub mod render;
pub mod result;
pub mod schedule;
pub mod simulate;
pub mod spec;
pub mod vary;
