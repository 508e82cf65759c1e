//! llama-server JSON `timings` objects: `/completion` and
//! `/v1/chat/completions` bodies and the final SSE chunk.
// STUB: to be implemented.

use crate::model::TimingBlock;

/// Every `timings` object in `text` (a JSON body or an SSE stream), in order.
pub fn parse_server_json(_text: &str) -> Vec<TimingBlock> {
    Vec::new()
}
