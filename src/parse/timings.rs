//! llama.cpp timing blocks of every era (see FORMATS.md section 1).
// STUB: to be implemented.

use super::ParseWarning;
use crate::model::TimingBlock;

/// Everything found in one text: the timing blocks in order, and remarks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimingsOutput {
    pub blocks: Vec<TimingBlock>,
    pub warnings: Vec<ParseWarning>,
}

/// Finds every timing block in `text` (stderr or stdout of a llama.cpp tool,
/// a llama-server log, a `--log-jsonl` log). Never panics.
pub fn parse_timings(_text: &str) -> TimingsOutput {
    TimingsOutput::default()
}
