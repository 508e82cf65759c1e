//! The output formats every reporter renders (table, json, markdown, csv).
//! A leaf: the reporters name it without importing the cli, which only
//! re-exports it for its options.

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
    Csv,
}
