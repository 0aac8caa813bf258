//! Charts of a run or a comparison, drawn with plotters into SVG and PNG.
//!
//! Text is drawn with an embedded font (DejaVu Sans, licence beside it in
//! `fonts/`), registered with plotters' `ab_glyph` renderer, so rendering
//! needs no system font library and works on a bare machine. Every chart
//! is a pure function of saved results, so `microsim report DIR` redraws
//! byte-identical files.

pub mod palette;
pub mod render;

pub use render::{render, ChartFile, Draw, Formats};

pub mod attribution;
pub mod compare;
pub mod distribution;
pub mod failures;
pub(crate) mod kit;
pub mod messaging;
pub mod services;
pub mod sweep;
mod sweep_heatmap;
pub mod timeline;

use super::saved::{SavedCompare, SavedRun};
use anyhow::Result;

/// Every chart of a run, in the order the HTML report shows them:
/// latency, availability and throughput over time, the percentile
/// distribution, failures by cause, latency attribution, then per-service replicas,
/// utilisation and queues, and with messaging the consumer lag and the
/// data copies' inconsistency windows, and with sagas their outcomes.
pub fn run_charts(run: &SavedRun, formats: Formats) -> Result<Vec<ChartFile>> {
    let mut out = Vec::new();
    out.extend(timeline::latency(run, formats)?);
    out.extend(timeline::availability(run, formats)?);
    out.extend(timeline::throughput(run, formats)?);
    out.extend(distribution::percentiles(run, formats)?);
    out.extend(failures::failures(run, formats)?);
    out.extend(attribution::attribution(run, formats)?);
    out.extend(services::services(run, formats)?);
    out.extend(services::queues(run, formats)?);
    out.extend(messaging::consumer_lag(run, formats)?);
    out.extend(messaging::inconsistency_window(run, formats)?);
    out.extend(messaging::sagas(run, formats)?);
    Ok(out)
}

/// The charts of a comparison: variants side by side.
pub fn compare_charts(c: &SavedCompare, formats: Formats) -> Result<Vec<ChartFile>> {
    compare::charts(c, formats)
}
