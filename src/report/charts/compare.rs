//! (in progress)
use super::{ChartFile, Formats};
use crate::report::saved::SavedCompare;
/// (in progress)
pub fn charts(_c: &SavedCompare, _f: Formats) -> anyhow::Result<Vec<ChartFile>> {
    Ok(vec![])
}
