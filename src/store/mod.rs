//! Where results go: the append-only JSONL results file (`-o`) and the
//! SQLite history (every run, keyed by build identity; `tokbench ops`
//! rounds in tables of their own), with llama-bench import and export.

pub mod build_key;
pub mod db;
pub mod export;
pub mod history;
pub mod import;
pub mod jsonl;
pub mod ops_history;
pub mod ops_rows;
pub mod query;
pub mod serve_history;
