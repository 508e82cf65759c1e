//! Where results go: the append-only JSONL results file (`-o`).

pub mod jsonl;
