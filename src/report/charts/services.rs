//! (in progress)
use super::{ChartFile, Formats};
use crate::report::saved::SavedRun;
/// (in progress)
pub fn services(_run: &SavedRun, _f: Formats) -> anyhow::Result<Vec<ChartFile>> {
    Ok(vec![])
}
/// (in progress)
pub fn queues(_run: &SavedRun, _f: Formats) -> anyhow::Result<Vec<ChartFile>> {
    Ok(vec![])
}
