//! llama-bench output: markdown, json, jsonl, csv and sql.
// STUB: to be implemented.

use super::{ParseError, ParseWarning};
use crate::model::{BenchFormat, BenchTest};

#[derive(Debug, Clone, PartialEq)]
pub struct BenchOutput {
    pub format: BenchFormat,
    pub tests: Vec<BenchTest>,
    pub warnings: Vec<ParseWarning>,
}

/// Which llama-bench format `text` looks like, if any.
pub fn detect_bench_format(_text: &str) -> Option<BenchFormat> {
    None
}

/// Parses llama-bench output of any format. `source_name` names the input in errors.
pub fn parse_bench(source_name: &str, _text: &str) -> Result<BenchOutput, ParseError> {
    Err(ParseError::NothingRecognised {
        source_name: source_name.to_string(),
    })
}
