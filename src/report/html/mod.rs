//! `report.html`: a single self-contained page per run or comparison, for
//! a design review. The charts' SVGs are inlined, the stylesheet is in
//! the page, there is no JavaScript and nothing is fetched from anywhere,
//! so the file opens offline and can be mailed around on its own. Like
//! the charts, it is a pure function of the saved results, so `microsim
//! report DIR` writes it again byte for byte.

mod compare;
mod page;
mod run;
mod sweep;

use super::charts::ChartFile;
use super::saved::{SavedCompare, SavedRun};
use crate::sweep::SweepResult;

/// A run's report: the scenario and how it ran, the workload, service,
/// capacity, fault and other tables, `charts` inlined where they belong
/// (charts the report does not know go after the others), and the
/// scenario's source.
pub fn run_report(run: &SavedRun, charts: &[ChartFile]) -> String {
    run::report(run, charts)
}

/// A comparison's report: the variants with links to their own reports
/// (`<variant>/report.html`), the side-by-side tables, and `charts`.
pub fn compare_report(c: &SavedCompare, charts: &[ChartFile]) -> String {
    compare::report(c, charts)
}

/// A sweep's report: what was swept, a table of its points (parameters
/// and each shown metric's mean and confidence interval), `charts`, and
/// how each run's seed was derived.
pub fn sweep_report(r: &SweepResult, charts: &[ChartFile]) -> String {
    sweep::report(r, charts)
}
