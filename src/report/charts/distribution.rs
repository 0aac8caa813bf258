//! (in progress)
use super::{ChartFile, Formats};
use crate::report::saved::SavedRun;
/// (in progress)
pub fn percentiles(_run: &SavedRun, _f: Formats) -> anyhow::Result<Vec<ChartFile>> {
    Ok(vec![])
}
