//! Parsers for everything tokbench reads: llama.cpp timing blocks of every era,
//! llama-server logs and responses, llama-bench output, `--version` banners.
//!
//! Every parser is a pure, total function: any input gives `Ok` or a typed
//! [`ParseError`] naming the input and line, never a panic. Values are taken as
//! printed; a value tokbench computes itself is listed in `Timings::derived`.

pub mod backend_ops;
pub mod bench;
pub mod server;
pub mod text;
pub mod timings;
pub mod version;

use std::fmt;

/// Why nothing usable could be read from an input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("'{source_name}' is empty")]
    Empty { source_name: String },
    #[error("'{source_name}' line {line}: {message}")]
    Malformed {
        source_name: String,
        line: usize,
        message: String,
    },
    #[error("'{source_name}' line {line}: not valid UTF-8 and nothing recognised")]
    NotUtf8 { source_name: String, line: usize },
    #[error(
        "'{source_name}': no llama.cpp timings, llama-bench results or version banner recognised"
    )]
    NothingRecognised { source_name: String },
}

/// A non-fatal remark about an input (a line that looked like timings but could
/// not be read, invalid UTF-8 in generated text, ...).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ParseWarning {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}
