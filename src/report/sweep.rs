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
    let mut files = Vec::new();
    if let Some(f) = charts {
        for c in &drawn {
            if let (true, Some(svg)) = (f.svg, &c.svg) {
                files.push((format!("charts/{}.svg", c.name), svg.clone().into_bytes()));
            }
            if let (true, Some(png)) = (f.png, &c.png) {
                files.push((format!("charts/{}.png", c.name), png.clone()));
            }
        }
    }
    files.push((
        "report.html".to_string(),
        html::sweep_report(result, &drawn).into_bytes(),
    ));
    Ok(files)
}
