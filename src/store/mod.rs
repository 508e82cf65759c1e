//! Where results go: the append-only JSONL results file (`-o`) and the
//! SQLite history (every run, keyed by build identity), with llama-bench
//! import and export.

pub mod build_key;
pub mod db;
pub mod export;
pub mod history;
pub mod import;
pub mod jsonl;
pub mod query;
