//! (in progress)
use super::{ChartFile, Formats};
use crate::report::saved::SavedRun;
/// (in progress)
pub fn latency(_run: &SavedRun, _f: Formats) -> anyhow::Result<Vec<ChartFile>> {
    Ok(vec![])
}
/// (in progress)
pub fn availability(_run: &SavedRun, _f: Formats) -> anyhow::Result<Vec<ChartFile>> {
    Ok(vec![])
}
/// (in progress)
pub fn throughput(_run: &SavedRun, _f: Formats) -> anyhow::Result<Vec<ChartFile>> {
    Ok(vec![])
}
