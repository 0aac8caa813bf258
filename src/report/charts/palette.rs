//! Colours: one per workload, service or variant, by its position in the
//! scenario (or the comparison), so the same thing has the same colour on
//! every chart; and fixed colours for outcomes and failure causes.

use plotters::style::RGBColor;

/// A qualitative palette (Tableau 10): distinct, colour-blind friendlier
/// than plotters' primaries, readable on white.
const SERIES: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of the `i`-th workload, service or variant (in scenario or
/// comparison order); it repeats after ten.
pub fn series(i: usize) -> RGBColor {
    SERIES[i % SERIES.len()]
}

/// Successful requests.
pub const OK: RGBColor = RGBColor(44, 160, 44);
/// Requests that succeeded degraded (an optional call failed).
pub const DEGRADED: RGBColor = RGBColor(255, 187, 51);
/// Failed requests.
pub const FAILED: RGBColor = RGBColor(214, 39, 40);
/// Shading of fault windows.
pub const FAULT: RGBColor = RGBColor(214, 39, 40);
/// Shading of deploy rollouts and markers of scaling decisions.
pub const CHANGE: RGBColor = RGBColor(31, 119, 180);
/// Grid lines and secondary text.
pub const GREY: RGBColor = RGBColor(120, 120, 120);

/// The colour of a failure cause (by its name in the results), fixed so a
/// cause looks the same in every chart and run.
pub fn cause(name: &str) -> RGBColor {
    match name {
        "rejected" => RGBColor(214, 39, 40),
        "timeout" => RGBColor(255, 127, 14),
        "connection_failed" => RGBColor(140, 86, 75),
        "injected_error" => RGBColor(148, 103, 189),
        "circuit_open" => RGBColor(31, 119, 180),
        "bulkhead_full" => RGBColor(23, 190, 207),
        "shed" => RGBColor(188, 189, 34),
        "no_instance" => RGBColor(227, 119, 194),
        _ => RGBColor(127, 127, 127),
    }
}
