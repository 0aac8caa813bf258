//! The latency percentile distribution (HdrHistogram's percentile plot):
//! latency against percentile on a log "nines" axis, where 90%, 99%,
//! 99.9%... are evenly spaced, so the tail gets as much room as the body.

use super::kit::{self, Ticked, DESC_PX, LABEL_PX};
use super::render::{plot_err, render};
use super::timeline::{AXIS_MAX, AXIS_MIN};
use super::{palette, ChartFile, Draw, Formats};
use crate::metrics::latency::PercentilePoint;
use crate::report::saved::SavedRun;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One distribution to draw: a label, its colour and its points.
pub(crate) struct Named<'a> {
    /// The legend label.
    pub name: String,
    /// The line's colour.
    pub colour: RGBColor,
    /// The distribution, as in `result.percentiles` (percentile rising).
    pub points: &'a [PercentilePoint],
}

/// The position of percentile `p` (0..100) on the nines axis:
/// `-log10(1 - p/100)`, so 0% is 0, 90% is 1, 99% is 2, 99.9% is 3.
/// Infinite at 100%.
pub(crate) fn nines(p: f64) -> f64 {
    -(1.0 - p / 100.0).log10()
}

/// The label of a tick on the nines axis (at 0, at 50% or at a whole
/// number of nines).
fn nines_label(x: f64) -> String {
    if (x - nines(50.0)).abs() < 1e-6 {
        return "50%".to_string();
    }
    let k = x.round() as i32;
    if k <= 0 {
        return "0%".to_string();
    }
    let decimals = (k - 2).max(0) as usize;
    format!("{:.decimals$}%", 100.0 - 10f64.powi(2 - k))
}

/// The nines axis' extent for points reaching `x_max` nines: just past
/// the last point, and on to the next whole nine when that is near, so
/// the last tick labels the tail.
fn x_extent(x_max: f64) -> f64 {
    let x_max = x_max.max(1.0);
    let next = x_max.ceil();
    if next - x_max < 0.35 {
        next + 0.08
    } else {
        x_max + 0.1
    }
}

/// The points a distribution chart draws: every one below 100% (the
/// maximum sits at infinity on the nines axis) with a finite latency.
fn drawn_points<'a>(dists: &[Named<'a>]) -> Vec<&'a PercentilePoint> {
    dists
        .iter()
        .flat_map(|d| d.points.iter().filter(|p| drawn(p)))
        .collect()
}

/// Whether a point is drawn (see [`drawn_points`]).
fn drawn(p: &PercentilePoint) -> bool {
    p.percentile < 100.0 && p.percentile >= 0.0 && p.latency_ms.is_finite()
}

/// The highest latency drawn and the lowest positive one from the 1st
/// percentile on (from 0% if there is none): the bounds of a log axis.
fn latency_span(all: &[&PercentilePoint]) -> (f64, f64) {
    let hi = all
        .iter()
        .map(|p| p.latency_ms.min(AXIS_MAX))
        .fold(0.0, f64::max);
    let positive = |min_p: f64| {
        all.iter()
            .filter(|p| p.percentile >= min_p && p.latency_ms > 0.0)
            .map(|p| p.latency_ms.clamp(AXIS_MIN, AXIS_MAX))
            .fold(f64::INFINITY, f64::min)
    };
    let lo_pos = match positive(1.0) {
        v if v.is_finite() => v,
        _ => positive(0.0),
    };
    (hi, lo_pos)
}

/// Whether these distributions' latencies read best on a log axis: when
/// they span more than 1.5 decades, so the body and the tail both read.
pub(crate) fn wants_log_latency(dists: &[Named]) -> bool {
    let (hi, lo_pos) = latency_span(&drawn_points(dists));
    hi > 0.0 && lo_pos.is_finite() && (hi / lo_pos).log10() > 1.5
}

/// Draws latency percentile distributions overlaid on one nines axis in
/// `area`, with an optional caption (the workload, in a comparison's
/// panels) and a legend. Reused by the comparison charts, which overlay
/// the variants of one workload.
///
/// The 100% point (the maximum) would sit at infinity on this axis: it is
/// left out, and the line ends at the highest percentile below 100 (the
/// axis reaches it); callers put the maximum in the legend label instead.
/// A distribution with no points (no successful request) only gets its
/// legend entry. On a log latency axis, points below the 1st percentile's
/// latency (the minimum, typically) are drawn on the axis' floor rather
/// than stretching the axis down for them. The legend sits bottom right,
/// where a rising curve leaves room.
pub(crate) fn draw_distributions<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: Option<&str>,
    dists: &[Named],
    log: Option<bool>,
) -> Result<()> {
    let all = drawn_points(dists);
    let x_max = all.iter().map(|p| nines(p.percentile)).fold(0.0, f64::max);
    let x_hi = x_extent(x_max);
    let mut x_ticks = vec![0.0, nines(50.0)];
    x_ticks.extend((1..=x_hi.floor() as i32).map(f64::from));

    // Latency: log when it spans more than 1.5 decades, so the body and
    // the tail both read; the lowest positive value bounds a log axis.
    // The bottom of a log axis is the lowest latency from the 1st
    // percentile on: the minimum (0%) of a service-time distribution can
    // be a thousand times below the body and would squash it; lower
    // points are drawn on the axis' floor.
    // Within the range an axis can reach (hand-edited results near the
    // ends of f64's range made the tick loops endless).
    // Panels of one figure pass the choice made for all of them, so they
    // read alike.
    let (hi, lo_pos) = latency_span(&all);
    let can_log = hi > 0.0 && lo_pos.is_finite();
    let log = can_log && log.unwrap_or_else(|| wants_log_latency(dists));
    let (y_lo, y_hi, y_ticks) = if log {
        let (l0, l1) = (lo_pos.log10(), hi.log10());
        let pad = (l1 - l0) * 0.05;
        let (lo, hi) = (
            10f64.powf((l0 - pad).max(-305.0)),
            10f64.powf((l1 + pad).min(305.0)),
        );
        let ticks = kit::log_ticks(lo, hi).iter().map(|t| t.log10()).collect();
        (lo.log10(), hi.log10(), ticks)
    } else {
        let top = if hi > 0.0 { hi * 1.08 } else { 1.0 };
        (0.0, top, kit::linear_ticks(0.0, top, 6))
    };
    let y = |ms: f64| {
        let ms = ms.min(AXIS_MAX);
        if log {
            ms.log10().max(y_lo)
        } else {
            ms
        }
    };

    let mut b = ChartBuilder::on(area);
    b.margin_left(10)
        .margin_right(46)
        .margin_top(8)
        .margin_bottom(6)
        .x_label_area_size(48)
        .y_label_area_size(78);
    if let Some(c) = caption {
        b.caption(c, kit::bold(DESC_PX + 2));
    }
    let mut chart = b
        .build_cartesian_2d(
            Ticked::new(0.0, x_hi, x_ticks),
            Ticked::new(y_lo, y_hi, y_ticks),
        )
        .map_err(plot_err)?;
    let x_fmt = |x: &f64| nines_label(*x);
    let y_fmt = |v: &f64| kit::tick(if log { 10f64.powf(*v) } else { *v });
    chart
        .configure_mesh()
        .bold_line_style(palette::GREY.mix(0.25))
        .light_line_style(WHITE)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(kit::text(LABEL_PX))
        .x_desc("percentile (log \"nines\" scale: 90%, 99%, 99.9%... evenly spaced)")
        .y_desc(if log {
            "latency (ms, log scale)"
        } else {
            "latency (ms)"
        })
        .axis_desc_style(kit::text(DESC_PX))
        .draw()
        .map_err(plot_err)?;

    // Lines that coincide (variants with the same distribution) stay
    // visible: earlier ones are drawn wider, underneath later ones.
    let k = dists.len();
    let mut lines: Vec<Vec<(f64, f64)>> = Vec::new();
    for (i, d) in dists.iter().enumerate() {
        let colour = d.colour;
        let line: Vec<(f64, f64)> = d
            .points
            .iter()
            .filter(|p| drawn(p))
            .map(|p| (nines(p.percentile), y(p.latency_ms)))
            .collect();
        let width = (1 + k - i).min(5) as u32;
        chart
            .draw_series(LineSeries::new(line.clone(), colour.stroke_width(width)))
            .map_err(plot_err)?
            .label(d.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
            });
        lines.push(line);
    }
    if all.is_empty() {
        let (w, h) = chart.plotting_area().dim_in_pixel();
        chart
            .plotting_area()
            .strip_coord_spec()
            .draw(&Text::new(
                "no successful requests: no latency to plot",
                (w as i32 / 2, h as i32 / 2),
                kit::text(DESC_PX + 2)
                    .color(&palette::GREY)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(plot_err)?;
    }
    // The legend goes in the corner the lines cross least.
    let label_style = kit::text(LABEL_PX);
    let mut label_w = 0;
    for d in dists {
        label_w = label_w.max(
            area.estimate_text_size(&d.name, &label_style)
                .map_err(plot_err)?
                .0,
        );
    }
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    let box_frac = (
        (label_w as f64 + 60.0) / pw.max(1) as f64,
        (dists.len() as f64 * 24.0 + 30.0) / ph.max(1) as f64,
    );
    let norm = |(x, v): (f64, f64)| (x / x_hi, (v - y_lo) / (y_hi - y_lo));
    let corner = legend_corner(&lines, norm, box_frac);
    chart
        .configure_series_labels()
        .position(corner)
        .margin(10)
        .label_font(kit::text(LABEL_PX))
        .background_style(WHITE.mix(0.85))
        .border_style(palette::GREY.mix(0.6))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

/// The corner of the plot whose legend-sized box the `lines` cross
/// least (sampled along each segment, in plot fractions after `norm`):
/// upper left first, where a rising latency curve leaves room on a log
/// axis, then lower right, where it leaves room on a linear one.
fn legend_corner(
    lines: &[Vec<(f64, f64)>],
    norm: impl Fn((f64, f64)) -> (f64, f64),
    (bw, bh): (f64, f64),
) -> SeriesLabelPosition {
    let corners = [
        (SeriesLabelPosition::UpperLeft, (0.0, 1.0 - bh), (bw, 1.0)),
        (SeriesLabelPosition::LowerRight, (1.0 - bw, 0.0), (1.0, bh)),
        (
            SeriesLabelPosition::UpperRight,
            (1.0 - bw, 1.0 - bh),
            (1.0, 1.0),
        ),
        (SeriesLabelPosition::LowerLeft, (0.0, 0.0), (bw, bh)),
    ];
    let mut hits = [0usize; 4];
    for line in lines {
        for seg in line.windows(2) {
            let (a, b) = (norm(seg[0]), norm(seg[1]));
            for t in 0..=8 {
                let t = t as f64 / 8.0;
                let (x, y) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
                for (h, (_, lo, hi)) in hits.iter_mut().zip(&corners) {
                    if x >= lo.0 && x <= hi.0 && y >= lo.1 && y <= hi.1 {
                        *h += 1;
                    }
                }
            }
        }
    }
    let best = (0..4).min_by_key(|i| hits[*i]).unwrap_or(0);
    corners[best].0.clone()
}

/// The legend label of a workload's distribution: its name and its
/// maximum (the 100% point, which the nines axis cannot show).
pub(crate) fn label(name: &str, points: &[PercentilePoint]) -> String {
    match points.iter().rfind(|p| p.latency_ms.is_finite()) {
        Some(last) => format!("{name} (max {} ms)", kit::sig3(last.latency_ms)),
        None => format!("{name} (no successful requests)"),
    }
}

/// The run's chart: every workload's distribution on one axis, in its
/// workload colour.
struct Percentiles<'a> {
    run: &'a SavedRun,
}

impl Draw for Percentiles<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let area = kit::title(root, TITLE)?;
        let r = &self.run.result;
        // Scenario order (the summary's workloads), so colours match the
        // other charts; a workload without a distribution (nothing
        // succeeded) still gets its legend entry.
        let dists: Vec<Named> = r
            .summary
            .workloads
            .keys()
            .enumerate()
            .map(|(i, w)| {
                let points = r.percentiles.get(w).map_or(&[][..], Vec::as_slice);
                Named {
                    name: label(w, points),
                    colour: palette::series(i),
                    points,
                }
            })
            .collect();
        draw_distributions(&area, None, &dists, None)
    }
}

const TITLE: &str = "Latency percentile distribution";

/// The `percentiles` chart: the latency percentile distribution of every
/// workload on one log "nines" axis, where a tail (99.9%, 99.99%) is as
/// wide as the body, unlike on a time chart.
pub fn percentiles(run: &SavedRun, f: Formats) -> Result<Vec<ChartFile>> {
    Ok(vec![render("percentiles", TITLE, &Percentiles { run }, f)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_axis_spaces_the_tail_evenly() {
        assert_eq!(nines(0.0), 0.0);
        assert!((nines(90.0) - 1.0).abs() < 1e-12);
        assert!((nines(99.9) - 3.0).abs() < 1e-9);
        assert_eq!(nines_label(0.0), "0%");
        assert_eq!(nines_label(nines(50.0)), "50%");
        assert_eq!(nines_label(1.0), "90%");
        assert_eq!(nines_label(2.0), "99%");
        assert_eq!(nines_label(4.0), "99.99%");
        assert_eq!(nines_label(6.0), "99.9999%");
    }

    #[test]
    fn axis_reaches_the_last_point_and_a_near_nine() {
        // 99.99268% is 4.14 nines: the axis passes it.
        assert!(x_extent(nines(99.992675781)) > nines(99.992675781));
        // 99.98% is 3.7 nines: the axis goes on to 99.99%.
        assert!(x_extent(nines(99.98)) >= 4.0);
        // A distribution of few requests still shows 90%.
        assert!(x_extent(0.5) >= 1.0);
    }

    #[test]
    fn labels_carry_the_maximum() {
        let pts = [
            PercentilePoint {
                percentile: 0.0,
                latency_ms: 1.0,
            },
            PercentilePoint {
                percentile: 100.0,
                latency_ms: 426.058813,
            },
        ];
        assert_eq!(label("checkout", &pts), "checkout (max 426 ms)");
        assert_eq!(label("x", &[]), "x (no successful requests)");
    }
}
