//! (in progress)
use super::charts::ChartFile;
use super::saved::{SavedCompare, SavedRun};
/// (in progress)
pub fn run_report(_run: &SavedRun, _charts: &[ChartFile]) -> String {
    String::new()
}
/// (in progress)
pub fn compare_report(_c: &SavedCompare, _charts: &[ChartFile]) -> String {
    String::new()
}
