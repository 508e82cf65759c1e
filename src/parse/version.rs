//! Build identity from a `--version` banner or a run's log header.
// STUB: to be implemented.

use crate::model::BuildInfo;

/// Reads `version: ... (build N, commit C)` / `version: N (C)`, `built with X
/// for Y`, and the backend from log lines. None when nothing is found.
pub fn parse_build_info(_text: &str) -> Option<BuildInfo> {
    None
}
