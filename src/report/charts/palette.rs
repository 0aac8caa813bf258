//! Colours: one per workload, service or variant, by its position in the
//! scenario (or the comparison), so the same thing has the same colour on
//! every chart; and fixed colours for outcomes and failure causes.

use plotters::style::RGBColor;

/// A qualitative palette: Tableau 10 (distinct, colour-blind friendlier
/// than plotters' primaries, readable on white) with its grey swapped for
/// teal, since greys mean network, lookups and backoff in the attribution
/// chart; then ten darker or warmer hues for systems of more than ten
/// services, workloads or variants.
const SERIES: [RGBColor; 20] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(0, 128, 128),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(57, 59, 121),
    RGBColor(230, 171, 2),
    RGBColor(123, 65, 115),
    RGBColor(136, 45, 23),
    RGBColor(99, 121, 57),
    RGBColor(0, 63, 92),
    RGBColor(0, 200, 120),
    RGBColor(214, 97, 107),
    RGBColor(82, 84, 163),
    RGBColor(128, 0, 255),
];

/// The colour of the `i`-th workload, service or variant (in scenario or
/// comparison order); it repeats after twenty.
pub fn series(i: usize) -> RGBColor {
    SERIES[i % SERIES.len()]
}

/// Light fills for the parts of a bar that already has a variant's
/// colour (the services in a variant's cost bar), so they are never taken
/// for another variant (ColorBrewer Pastel1).
const PARTS: [RGBColor; 8] = [
    RGBColor(179, 205, 227),
    RGBColor(251, 180, 174),
    RGBColor(204, 235, 197),
    RGBColor(222, 203, 228),
    RGBColor(254, 217, 166),
    RGBColor(255, 255, 204),
    RGBColor(229, 216, 189),
    RGBColor(253, 218, 236),
];

/// The fill of the `i`-th part of a stacked bar (see [`PARTS`]); it
/// repeats after eight.
pub fn part(i: usize) -> RGBColor {
    PARTS[i % PARTS.len()]
}

/// Markers of scaling decisions: dark, so they never pass for the first
/// workload's or service's (blue) line.
pub const SCALE: RGBColor = RGBColor(90, 90, 90);

/// Successful requests.
pub const OK: RGBColor = RGBColor(44, 160, 44);
/// Requests that succeeded degraded (an optional call failed).
pub const DEGRADED: RGBColor = RGBColor(255, 187, 51);
/// Failed requests.
pub const FAILED: RGBColor = RGBColor(214, 39, 40);
/// Shading of fault windows.
pub const FAULT: RGBColor = RGBColor(214, 39, 40);
/// Shading of deploy rollouts.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Twenty services get twenty colours, told apart from each other and
    /// from the attribution chart's greys (network, lookups, backoff).
    #[test]
    fn twenty_distinct_series_colours_none_grey() {
        let far = |a: RGBColor, b: RGBColor| {
            let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).pow(2);
            d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2) >= 40 * 40
        };
        for i in 0..20 {
            let c = series(i);
            let spread = c.0.max(c.1).max(c.2) - c.0.min(c.1).min(c.2);
            assert!(spread >= 40, "series({i}) {c:?} is a grey");
            for j in 0..i {
                assert!(far(c, series(j)), "series({i}) {c:?} ~ series({j})");
            }
        }
        assert_eq!(series(20), series(0));
    }
}
