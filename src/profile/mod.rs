//! Profiler outputs read into one kernel summary.
