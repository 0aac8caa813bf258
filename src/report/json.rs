//! The summary as JSON (`--json`, `summary.json`).

use crate::metrics::Summary;

/// Pretty JSON with a trailing newline. Maps keep scenario order, floats
/// print in their shortest round-trip form, so output is byte-stable.
pub fn summary_json(summary: &Summary) -> String {
    let mut s = serde_json::to_string_pretty(summary).expect("summary is plain data");
    s.push('\n');
    s
}
