//! A sweep's charts and `report.html`.

use crate::report::charts::{self, Formats};
use crate::report::html;
use crate::sweep::SweepResult;

/// The charts (`charts/NAME.svg|png`, unless `charts` is `None`) and
/// `report.html` of a sweep, as (relative path, contents), drawn from the
/// result alone so `microsim report DIR` redraws them identically.
pub fn presentation(
    result: &SweepResult,
    charts: Option<Formats>,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let drawn = match charts {
        // The report inlines SVGs, so they are drawn even when only PNG
        // files are asked for.
        Some(f) => charts::sweep::charts(result, Formats { svg: true, ..f })?,
        None => Vec::new(),
    };
    let mut files = crate::report::output::chart_files(&drawn, charts);
    files.push((
        "report.html".to_string(),
        html::sweep_report(result, &drawn).into_bytes(),
    ));
    Ok(files)
}
