//! Charts over simulated time: latency percentiles, availability and
//! throughput per window, per workload.
//!
//! Also the pieces every time chart shares (services.rs uses them too), so
//! all of them read the same way: a time axis from 0 to the simulated
//! duration with a tick at its end, the warm-up, fault windows and deploy
//! rollouts shaded and labelled, scaling decisions marked, and a legend in
//! a column right of the plot where it never hides data.

use super::kit::{DESC_PX, LABEL_PX, TITLE_PX};
use super::palette;
use super::render::{plot_err, FONT};
use super::{render, ChartFile, Draw, Formats};
use crate::metrics::WorkloadWindow;
use crate::report::saved::SavedRun;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters_backend::{BackendCoord, DrawingErrorKind};

/// Width of every time chart, in pixels.
pub(crate) const WIDTH: u32 = 1000;
/// Height of the chart title's strip.
pub(crate) const TITLE_H: u32 = 50;
/// Height of one panel (one workload or service).
pub(crate) const PANEL_H: u32 = 260;
/// Width of the legend column right of each plot.
pub(crate) const LEGEND_W: u32 = 200;

/// The axis every time chart uses: `f64` values with ticks exactly where
/// we put them (plotters' own choice may stop short of the simulated
/// duration); labels are formatted by the chart, not by the axis.
pub(crate) type Axis = super::kit::Ticked;

/// A time chart's plotting context: time across, one value axis up.
pub(crate) type TimeChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

/// Ticks of the time axis over `[0, sim]`: a round step, chosen so that
/// the last tick is the simulated duration itself where one divides it,
/// and with the duration added as the last tick where none does.
pub(crate) fn time_ticks(sim: f64) -> Vec<f64> {
    if !sim.is_finite() || sim <= 0.0 {
        return vec![0.0];
    }
    let mut best: Option<(f64, f64)> = None; // (badness, step)
    for k in -3..=7 {
        for m in [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0] {
            let step = m * 10f64.powi(k);
            let n = sim / step;
            if !(5.0..=12.0).contains(&n) || (n - n.round()).abs() > 1e-9 * n.max(1.0) {
                continue;
            }
            let bad = (n - 8.0).abs() - step * 1e-12;
            if best.is_none_or(|(b, _)| bad < b) {
                best = Some((bad, step));
            }
        }
    }
    if let Some((_, step)) = best {
        let n = (sim / step).round() as usize;
        let mut t: Vec<f64> = (0..n).map(|i| i as f64 * step).collect();
        t.push(sim);
        return t;
    }
    // No round step divides the duration: round ticks, then the duration.
    let step = nice_step(sim / 7.0, false);
    let mut t: Vec<f64> = (0..)
        .map(|i| i as f64 * step)
        .take_while(|v| *v < sim)
        .collect();
    while t.len() > 1 && sim - t[t.len() - 1] < 0.5 * step {
        t.pop();
    }
    t.push(sim);
    t
}

/// The smallest of 1, 2, 2.5, 5 times a power of ten that is at least
/// `raw` (only whole numbers when `integer`).
fn nice_step(raw: f64, integer: bool) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * p);
    if integer {
        step.ceil().max(1.0)
    } else {
        step
    }
}

/// Whether values from `lo` to `hi` span enough decades (more than 1.5)
/// that a linear axis would flatten everything but the peaks.
pub(crate) fn wants_log(lo: f64, hi: f64) -> bool {
    lo > 0.0 && hi.is_finite() && hi / lo > 10f64.powf(1.5)
}

/// The lowest and highest of the finite positive `values` (infinity and
/// 0 when there are none).
fn positive_span(values: &[f64]) -> (f64, f64) {
    let pos = values.iter().filter(|v| v.is_finite() && **v > 0.0);
    let lo = pos.clone().copied().fold(f64::INFINITY, f64::min);
    (lo, pos.copied().fold(0.0, f64::max))
}

/// The largest value a value axis reaches: values beyond it (only ever
/// seen in hand-edited results) are drawn at the top.
pub(crate) const AXIS_MAX: f64 = 1e300;
/// The smallest positive value a log axis reaches.
pub(crate) const AXIS_MIN: f64 = 1e-300;

/// A value axis: its range and ticks, in plotted units (log10 of the
/// value on a log axis, so one coordinate type serves both).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct YAxis {
    /// Bottom, in plotted units.
    pub lo: f64,
    /// Top, in plotted units.
    pub hi: f64,
    /// Tick positions, in plotted units.
    pub ticks: Vec<f64>,
    /// Log10 scale.
    pub log: bool,
}

impl YAxis {
    /// A linear axis from 0 to a round value at or above `max`.
    pub(crate) fn linear(max: f64, integer: bool) -> YAxis {
        // Capped well below f64::MAX so the headroom and the tick count
        // below stay finite (a hand-edited 1.7e308 made them infinite and
        // the tick loop endless).
        let max = if max.is_finite() && max > 0.0 {
            max.min(AXIS_MAX)
        } else {
            1.0
        };
        let step = nice_step(max * 1.05 / 5.0, integer);
        let n = (max * 1.05 / step).ceil().max(1.0) as usize;
        let ticks: Vec<f64> = (0..=n).map(|i| i as f64 * step).collect();
        YAxis {
            lo: 0.0,
            hi: n as f64 * step,
            ticks,
            log: false,
        }
    }

    /// A log axis from a 1-2-5 value at or below `lo` to one at or above
    /// `hi` (both > 0).
    pub(crate) fn log(lo: f64, hi: f64) -> YAxis {
        let at_or_below = |v: f64| {
            let p = 10f64.powf(v.log10().floor());
            [5.0, 2.0, 1.0]
                .iter()
                .map(|m| m * p)
                .find(|c| *c <= v * (1.0 + 1e-9))
                .unwrap_or(p)
        };
        let at_or_above = |v: f64| {
            let p = 10f64.powf(v.log10().floor());
            [1.0, 2.0, 5.0, 10.0]
                .iter()
                .map(|m| m * p)
                .find(|c| *c >= v * (1.0 - 1e-9))
                .unwrap_or(10.0 * p)
        };
        // Within AXIS_MIN..AXIS_MAX, so the decades below are finite and few.
        let lo = lo.clamp(AXIS_MIN, AXIS_MAX);
        let hi = hi.clamp(lo, AXIS_MAX);
        let (lo, hi) = (at_or_below(lo), at_or_above(hi));
        let (a, b) = (lo.log10(), hi.log10());
        let mults: &[f64] = if b - a <= 3.0 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0]
        };
        let mut ticks = Vec::new();
        for k in (a.floor() as i32)..=(b.ceil() as i32) {
            for m in mults {
                let t = (m * 10f64.powi(k)).log10();
                if t >= a - 1e-9 && t <= b + 1e-9 {
                    ticks.push(t);
                }
            }
        }
        for end in [a, b] {
            if !ticks.iter().any(|t| (t - end).abs() < 1e-9) {
                ticks.push(end);
            }
        }
        ticks.sort_by(f64::total_cmp);
        YAxis {
            lo: a,
            hi: b,
            ticks,
            log: true,
        }
    }

    /// Linear or log, whichever shows `values` (the finite ones) best;
    /// a small linear axis when there are none.
    pub(crate) fn auto(values: &[f64]) -> YAxis {
        let (lo, hi) = positive_span(values);
        YAxis::scaled(values, wants_log(lo, hi))
    }

    /// A log axis over `values` if `log` (and they have a positive value
    /// to start from), a linear one otherwise: for the panels of one
    /// figure, which share the choice so they read alike.
    pub(crate) fn scaled(values: &[f64], log: bool) -> YAxis {
        let (lo, hi) = positive_span(values);
        if log && lo.is_finite() && hi > 0.0 {
            YAxis::log(lo, hi)
        } else {
            YAxis::linear(hi, false)
        }
    }

    /// A value in plotted units.
    pub(crate) fn map(&self, v: f64) -> f64 {
        if self.log {
            v.max(f64::MIN_POSITIVE).log10()
        } else {
            v
        }
    }

    /// A tick's label (the value, not its log).
    pub(crate) fn label(&self, t: f64) -> String {
        fmt_num(if self.log { 10f64.powf(t) } else { t })
    }

    /// The plotters coordinate of this axis.
    pub(crate) fn coord(&self) -> Axis {
        Axis::new(self.lo, self.hi, self.ticks.clone())
    }
}

/// A tick label: the shortest form that reads back as the tick, so
/// whole numbers plainly and small ticks (a queue of 0.0002 requests)
/// with all the decimals they need, never rounded to a row of `0`s.
pub(crate) fn fmt_num(v: f64) -> String {
    // `+ 0.0` turns -0 into 0.
    super::kit::tick(v + 0.0)
}

/// `c` mixed with white (`f` > 0, 1 is white) or black (`f` < 0, -1 is
/// black): shades of one workload's colour for its several lines.
pub(crate) fn tint(c: RGBColor, f: f64) -> RGBColor {
    let m = |x: u8| {
        let x = x as f64;
        let v = if f >= 0.0 {
            x + (255.0 - x) * f
        } else {
            x * (1.0 + f)
        };
        v.round().clamp(0.0, 255.0) as u8
    };
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// The chart title style.
pub(crate) fn title_style() -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT), TITLE_PX as f64, FontStyle::Bold).into()
}

/// Text of `size` px in `colour`.
pub(crate) fn text(size: u32, colour: RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: (FONT, size).into_font(),
        color: colour.to_backend_color(),
        pos: Default::default(),
    }
}

/// What a legend entry's swatch looks like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Swatch {
    /// A line of this colour and width.
    Line(RGBColor, u32),
    /// A filled box, colour and opacity.
    Area(RGBColor, f64),
    /// A thin vertical marker.
    Marker(RGBColor),
}

/// One legend entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LegendItem {
    /// Its text.
    pub label: String,
    /// Its swatch.
    pub swatch: Swatch,
}

impl LegendItem {
    /// An entry.
    pub(crate) fn new(label: impl Into<String>, swatch: Swatch) -> LegendItem {
        LegendItem {
            label: label.into(),
            swatch,
        }
    }
}

/// Draws `items` as a column in `area` (the strip right of a plot),
/// starting `top` pixels down.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
    top: i32,
) -> Result<()> {
    let style = text(LABEL_PX, BLACK);
    let mut y = top;
    for it in items {
        let (x0, x1, ym) = (8, 34, y + 9);
        match it.swatch {
            Swatch::Line(c, w) => area
                .draw(&PathElement::new(
                    vec![(x0, ym), (x1, ym)],
                    c.stroke_width(w),
                ))
                .map_err(plot_err)?,
            Swatch::Area(c, a) => area
                .draw(&Rectangle::new(
                    [(x0, y + 3), (x1, y + 15)],
                    c.mix(a).filled(),
                ))
                .map_err(plot_err)?,
            Swatch::Marker(c) => area
                .draw(&PathElement::new(
                    vec![(x0 + 13, y), (x0 + 13, y + 16)],
                    c.stroke_width(2),
                ))
                .map_err(plot_err)?,
        }
        area.draw(&Text::new(it.label.clone(), (x1 + 6, y + 1), style.clone()))
            .map_err(plot_err)?;
        y += 22;
    }
    Ok(())
}

/// A note in the middle of a plot ("no successful requests").
pub(crate) fn note_in_plot<DB: DrawingBackend>(chart: &TimeChart<DB>, msg: &str) -> Result<()> {
    let (xr, yr) = (chart.x_range(), chart.y_range());
    let (l, t) = chart.backend_coord(&(xr.start, yr.end));
    let (r, b) = chart.backend_coord(&(xr.end, yr.start));
    let style = text(DESC_PX, palette::GREY);
    let (w, h) = chart
        .plotting_area()
        .estimate_text_size(msg, &style)
        .map_err(plot_err)?;
    let (dx, dy) = ((r - l - w as i32) / 2, (b - t - h as i32) / 2);
    chart
        .plotting_area()
        .draw(&(EmptyElement::at((xr.start, yr.end)) + Text::new(msg.to_string(), (dx, dy), style)))
        .map_err(plot_err)?;
    Ok(())
}

/// A time chart on `area`: time from 0 to the simulated duration across,
/// `y` up (described by `y_desc`), the panel's caption in its colour,
/// light grid lines.
pub(crate) fn time_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: Option<(&str, RGBColor)>,
    sim: f64,
    y: &YAxis,
    y_desc: &str,
) -> Result<TimeChart<'a, DB>> {
    let mut chart = build_time_chart(area, caption, sim, y, 0)?;
    draw_time_mesh(&mut chart, y, y_desc)?;
    Ok(chart)
}

/// [`time_chart`]'s plotting context without its axes, leaving `right`
/// pixels for a secondary axis: attach that before [`draw_time_mesh`]
/// (plotters draws the primary labels on both sides otherwise).
pub(crate) fn build_time_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: Option<(&str, RGBColor)>,
    sim: f64,
    y: &YAxis,
    right: u32,
) -> Result<TimeChart<'a, DB>> {
    let mut b = ChartBuilder::on(area);
    b.margin_top(6)
        .margin_left(8)
        .margin_right(if right > 0 { 4 } else { 14 })
        .margin_bottom(4)
        .x_label_area_size(46)
        .y_label_area_size(70)
        .right_y_label_area_size(right);
    if let Some((name, colour)) = caption {
        b.caption(
            name,
            FontDesc::new(FontFamily::Name(FONT), 20.0, FontStyle::Bold).color(&colour),
        );
    }
    let end = if sim > 0.0 { sim } else { 1.0 };
    b.build_cartesian_2d(Axis::new(0.0, end, time_ticks(end)), y.coord())
        .map_err(plot_err)
}

/// Draws a time chart's axes, tick labels and grid.
pub(crate) fn draw_time_mesh<DB: DrawingBackend>(
    chart: &mut TimeChart<DB>,
    y: &YAxis,
    y_desc: &str,
) -> Result<()> {
    let fy = |v: &f64| y.label(*v);
    chart
        .configure_mesh()
        .x_desc("simulated time (s)")
        .y_desc(y_desc)
        .x_label_formatter(&|v| fmt_num(*v))
        .y_label_formatter(&fy)
        .label_style(text(LABEL_PX, BLACK))
        .axis_desc_style(text(DESC_PX, BLACK))
        .bold_line_style(RGBColor(225, 225, 225).stroke_width(1))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(plot_err)
}

/// Shaded spans (warm-up, faults, deploy rollouts) and scaling markers of
/// a run, as drawn on every time chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Events {
    /// (label, start, end, colour, opacity), in time order.
    spans: Vec<(String, f64, f64, RGBColor, f64)>,
    /// After a fault or a rollout, until its effect ends (restarts, a bad
    /// release's last bad replica): (start, end, colour).
    tails: Vec<(f64, f64, RGBColor)>,
    /// Scaling decisions: (time, label).
    scalings: Vec<(f64, String)>,
    /// Legend entries for the span kinds present.
    legend: Vec<LegendItem>,
}

/// The most scaling decisions labelled one by one; more get one legend
/// entry instead.
const MAX_SCALING_LABELS: usize = 6;

/// Opacity of an after-effect's swatch in the legend (its shading is
/// drawn at 0.06; the legend's swatches are a little stronger, like
/// those of the spans).
const TAIL_ALPHA: f64 = 0.09;

/// Light grey of the warm-up.
const WARMUP: RGBColor = RGBColor(150, 150, 150);

impl Events {
    /// The events of `run`; scaling decisions only of `service` when given
    /// (a service's own panel).
    pub(crate) fn of(run: &SavedRun, service: Option<&str>) -> Events {
        let s = &run.result.summary;
        let sim = s.simulated_seconds;
        let mut spans = Vec::new();
        let mut legend = Vec::new();
        if s.warmup_seconds > 0.0 {
            spans.push((
                "warm-up".to_string(),
                0.0,
                s.warmup_seconds.min(sim),
                WARMUP,
                0.18,
            ));
            legend.push(LegendItem::new("warm-up", Swatch::Area(WARMUP, 0.25)));
        }
        let mut tails = Vec::new();
        for f in &s.faults {
            spans.push((
                f.name.clone(),
                f.start_s,
                f.end_s.min(sim),
                palette::FAULT,
                0.14,
            ));
            // A crashed service's restart after the fault ended.
            if f.effect_end_s > f.end_s {
                tails.push((f.end_s.min(sim), f.effect_end_s.min(sim), palette::FAULT));
            }
        }
        if !s.faults.is_empty() {
            legend.push(LegendItem::new("fault", Swatch::Area(palette::FAULT, 0.2)));
        }
        if s.faults.iter().any(|f| f.effect_end_s > f.end_s) {
            legend.push(LegendItem::new(
                "fault after-effect",
                Swatch::Area(palette::FAULT, TAIL_ALPHA),
            ));
        }
        for d in &s.deploys {
            spans.push((
                d.name.clone(),
                d.start_s,
                d.end_s.unwrap_or(sim).min(sim),
                palette::CHANGE,
                0.14,
            ));
            // A bad release's errors go on after the rollout, until the
            // last new replica's bad period ends.
            let end = d.end_s.unwrap_or(sim).min(sim);
            if d.effect_end_s > end {
                tails.push((end, d.effect_end_s.min(sim), palette::CHANGE));
            }
        }
        if !s.deploys.is_empty() {
            legend.push(LegendItem::new(
                "deploy rollout",
                Swatch::Area(palette::CHANGE, 0.2),
            ));
        }
        if s.deploys
            .iter()
            .any(|d| d.effect_end_s > d.end_s.unwrap_or(sim).min(sim))
        {
            legend.push(LegendItem::new(
                "deploy after-effect",
                Swatch::Area(palette::CHANGE, TAIL_ALPHA),
            ));
        }
        spans.sort_by(|a, b| a.1.total_cmp(&b.1));
        let scalings: Vec<(f64, String)> = s
            .scaling
            .iter()
            .filter(|d| service.is_none_or(|n| n == d.service))
            .map(|d| (d.at_s, format!("{} {}→{}", d.service, d.from, d.to)))
            .collect();
        if scalings.len() > MAX_SCALING_LABELS {
            legend.push(LegendItem::new(
                format!("scaling ({})", scalings.len()),
                Swatch::Marker(palette::SCALE),
            ));
        } else if !scalings.is_empty() {
            legend.push(LegendItem::new("scaling", Swatch::Marker(palette::SCALE)));
        }
        Events {
            spans,
            tails,
            scalings,
            legend,
        }
    }

    /// Legend entries for the kinds of events shown.
    pub(crate) fn legend(&self) -> &[LegendItem] {
        &self.legend
    }

    /// Shades the spans and draws the scaling markers, under the data.
    pub(crate) fn shade<DB: DrawingBackend>(&self, chart: &mut TimeChart<DB>) -> Result<()> {
        let yr = chart.y_range();
        let xr = chart.x_range();
        let clamp = |t: f64| t.clamp(xr.start, xr.end);
        chart
            .draw_series(self.spans.iter().filter(|s| s.2 > s.1).map(|s| {
                Rectangle::new(
                    [(clamp(s.1), yr.start), (clamp(s.2), yr.end)],
                    s.3.mix(s.4).filled(),
                )
            }))
            .map_err(plot_err)?;
        chart
            .draw_series(self.tails.iter().filter(|s| s.1 > s.0).map(|s| {
                Rectangle::new(
                    [(clamp(s.0), yr.start), (clamp(s.1), yr.end)],
                    s.2.mix(0.06).filled(),
                )
            }))
            .map_err(plot_err)?;
        chart
            .draw_series(self.scalings.iter().map(|(t, _)| {
                PathElement::new(
                    vec![(clamp(*t), yr.start), (clamp(*t), yr.end)],
                    palette::SCALE.mix(0.7).stroke_width(1),
                )
            }))
            .map_err(plot_err)?;
        Ok(())
    }

    /// Edges of the spans as thin lines, for data that covers the
    /// shading (the stacked availability areas).
    pub(crate) fn outline<DB: DrawingBackend>(&self, chart: &mut TimeChart<DB>) -> Result<()> {
        let (xr, yr) = (chart.x_range(), chart.y_range());
        let clamp = |t: f64| t.clamp(xr.start, xr.end);
        chart
            .draw_series(
                self.spans
                    .iter()
                    .filter(|s| s.2 > s.1)
                    .flat_map(|s| [(s.1, s.3), (s.2, s.3)])
                    .filter(|(t, _)| *t > xr.start && *t < xr.end)
                    .map(|(t, c)| {
                        PathElement::new(
                            vec![(clamp(t), yr.start), (clamp(t), yr.end)],
                            tint(c, 0.0).mix(0.9).stroke_width(1),
                        )
                    }),
            )
            .map_err(plot_err)?;
        Ok(())
    }

    /// Labels the spans along the plot's top (in rows, so labels never
    /// overlap) and, when few, the scaling markers along its bottom, each
    /// on a translucent white box. Line charts call it before drawing
    /// their lines, which then stay visible across the labels.
    pub(crate) fn label<DB: DrawingBackend>(&self, chart: &mut TimeChart<DB>) -> Result<()> {
        let (xr, yr) = (chart.x_range(), chart.y_range());
        let (left, top) = chart.backend_coord(&(xr.start, yr.end));
        let (right, bottom) = chart.backend_coord(&(xr.end, yr.start));
        let style = text(LABEL_PX, RGBColor(60, 60, 60));
        // (x, row, bottom, width, text)
        let mut boxes: Vec<(i32, i32, bool, i32, String)> = Vec::new();
        let place = |items: &[(f64, String)],
                     boxes: &mut Vec<(i32, i32, bool, i32, String)>,
                     max_rows: usize,
                     bottom: bool|
         -> Result<()> {
            let mut rows: Vec<i32> = Vec::new(); // right edge per row
            for (t, label) in items {
                let (w, _) = chart
                    .plotting_area()
                    .estimate_text_size(label, &style)
                    .map_err(plot_err)?;
                let w = w as i32 + 6;
                let px = chart
                    .backend_coord(&(t.clamp(xr.start, xr.end), yr.start))
                    .0;
                let x = (px + 2).min(right - w).max(left);
                let row = match rows.iter().position(|r| *r + 4 <= x) {
                    Some(r) => r,
                    None if rows.len() < max_rows => {
                        rows.push(i32::MIN);
                        rows.len() - 1
                    }
                    None => continue,
                };
                rows[row] = x + w;
                boxes.push((x, row as i32, bottom, w, label.clone()));
            }
            Ok(())
        };
        let spans: Vec<(f64, String)> = self.spans.iter().map(|s| (s.1, s.0.clone())).collect();
        place(&spans, &mut boxes, 3, false)?;
        if self.scalings.len() <= MAX_SCALING_LABELS {
            place(&self.scalings, &mut boxes, 2, true)?;
        }
        const ROW: i32 = 20;
        for (x, row, at_bottom, w, label) in boxes {
            let y = if at_bottom {
                bottom - (row + 1) * ROW
            } else {
                top + 2 + row * ROW
            };
            let (dx, dy) = (x - left, y - top);
            chart
                .plotting_area()
                .draw(
                    &(EmptyElement::at((xr.start, yr.end))
                        + Rectangle::new(
                            [(dx, dy), (dx + w, dy + ROW - 2)],
                            WHITE.mix(0.75).filled(),
                        )
                        + Text::new(label, (dx + 3, dy + 1), style.clone())),
                )
                .map_err(plot_err)?;
        }
        Ok(())
    }
}

/// Runs of consecutive points with a value; a missing value ends a run, so
/// the line has a gap there rather than a drop to zero.
pub(crate) fn segments(
    points: impl IntoIterator<Item = (f64, Option<f64>)>,
) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur = Vec::new();
    for (x, y) in points {
        match y {
            Some(y) if y.is_finite() => cur.push((x, y)),
            _ => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A polyline that draws the same in SVG and PNG. Plotters fills a line
/// wider than a pixel on a bitmap as one polygon whose corners are the
/// intersections of the offset edges, with no limit on the inner side: at
/// a sharp turn (a noisy series of hundreds of windows turns sharply at
/// almost every point) the corner lies far away and the PNG shows spikes
/// far past the data, out of the plot and into the captions. On a bitmap
/// it is drawn instead with a square pen, as one-pixel lines side by
/// side; SVG keeps one polyline (the viewer joins it properly).
pub(crate) struct Stroke<C> {
    points: Vec<C>,
    style: ShapeStyle,
}

impl<C> Stroke<C> {
    /// A line through `points`.
    pub(crate) fn new(points: Vec<C>, style: ShapeStyle) -> Stroke<C> {
        Stroke { points, style }
    }
}

impl<'a, C> PointCollection<'a, C> for &'a Stroke<C> {
    type Point = &'a C;
    type IntoIter = &'a [C];
    fn point_iter(self) -> &'a [C] {
        &self.points
    }
}

impl<C, DB: DrawingBackend> Drawable<DB> for Stroke<C> {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        points: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let w = self.style.stroke_width as i32;
        // Only plotters' bitmap backend polygonises wide lines.
        if w <= 1 || !std::any::type_name::<DB>().contains("BitMapBackend") {
            return backend.draw_path(points, &self.style);
        }
        let points: Vec<BackendCoord> = points.collect();
        let thin = ShapeStyle {
            stroke_width: 1,
            ..self.style
        };
        let first = -(w - 1) / 2;
        for dx in first..first + w {
            for dy in first..first + w {
                backend.draw_path(points.iter().map(|(x, y)| (x + dx, y + dy)), &thin)?;
            }
        }
        Ok(())
    }
}

/// Draws a line with gaps: each run as a line, a lone point as a dot.
pub(crate) fn draw_gapped<DB: DrawingBackend>(
    chart: &mut TimeChart<DB>,
    points: impl IntoIterator<Item = (f64, Option<f64>)>,
    style: ShapeStyle,
) -> Result<()> {
    for seg in segments(points) {
        if seg.len() == 1 {
            chart
                .draw_series(std::iter::once(Circle::new(
                    seg[0],
                    style.stroke_width + 1,
                    style.filled(),
                )))
                .map_err(plot_err)?;
        } else {
            chart
                .draw_series(std::iter::once(Stroke::new(seg, style)))
                .map_err(plot_err)?;
        }
    }
    Ok(())
}

/// A window's middle, where its value is plotted.
fn mid(w: &WorkloadWindow) -> f64 {
    (w.start_s + w.end_s) / 2.0
}

/// The windows of one workload, in time order.
fn windows<'r>(run: &'r SavedRun, name: &'r str) -> impl Iterator<Item = &'r WorkloadWindow> {
    run.result
        .timeseries
        .workloads
        .iter()
        .filter(move |w| w.workload == name)
}

/// Splits `root` into the title strip and `n` panels, each with a legend
/// column on its right: `(plot, legend)` per panel.
#[allow(clippy::type_complexity)]
pub(crate) fn panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    n: usize,
) -> Result<Vec<(DrawingArea<DB, Shift>, DrawingArea<DB, Shift>)>> {
    let body = root.titled(title, title_style()).map_err(plot_err)?;
    let body = body.margin(0, 8, 0, 0);
    Ok(body
        .split_evenly((n.max(1), 1))
        .into_iter()
        .take(n)
        .map(|p| p.split_horizontally(WIDTH - LEGEND_W))
        .collect())
}

/// Height of a chart of `n` panels.
pub(crate) fn panels_height(n: usize) -> u32 {
    TITLE_H + PANEL_H * n.max(1) as u32 + 8
}

/// A note in place of the panels when there are none.
pub(crate) fn note_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    msg: &str,
) -> Result<()> {
    let body = root.titled(title, title_style()).map_err(plot_err)?;
    body.draw(&Text::new(
        msg.to_string(),
        (40, 60),
        text(DESC_PX, palette::GREY),
    ))
    .map_err(plot_err)?;
    Ok(())
}

/// p50, p95 and p99 of each window: their labels, values and strokes
/// (lighter to darker shades of the workload's colour).
type Pctl = (&'static str, fn(&WorkloadWindow) -> Option<f64>, f64, u32);
const PERCENTILES: [Pctl; 3] = [
    ("p50", |w| w.p50_ms, 0.55, 2),
    ("p95", |w| w.p95_ms, 0.0, 2),
    ("p99", |w| w.p99_ms, -0.4, 3),
];

struct Latency<'r>(&'r SavedRun);

impl Draw for Latency<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, panels_height(self.0.result.summary.workloads.len()))
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let run = self.0;
        let s = &run.result.summary;
        if s.workloads.is_empty() {
            return note_on(root, LATENCY_TITLE, "no workloads");
        }
        let events = Events::of(run, None);
        let values: Vec<Vec<f64>> = s
            .workloads
            .keys()
            .map(|name| {
                windows(run, name)
                    .flat_map(|w| PERCENTILES.iter().filter_map(|p| (p.1)(w)))
                    .collect()
            })
            .collect();
        // One scale for every panel, so they read alike: log when any
        // workload's latencies span more than 1.5 decades.
        let log = values.iter().any(|v| YAxis::auto(v).log);
        for (i, ((plot, legend), values)) in panels(root, LATENCY_TITLE, s.workloads.len())?
            .into_iter()
            .zip(&values)
            .enumerate()
        {
            let name = &s.workloads.get_index(i).expect("a panel per workload").0;
            let colour = palette::series(i);
            let y = YAxis::scaled(values, log);
            let desc = if y.log {
                "latency (ms, log)"
            } else {
                "latency (ms)"
            };
            let mut chart = time_chart(&plot, Some((name, colour)), s.simulated_seconds, &y, desc)?;
            events.shade(&mut chart)?;
            events.label(&mut chart)?;
            let mut items = Vec::new();
            for (label, get, t, width) in PERCENTILES {
                let c = tint(colour, t);
                draw_gapped(
                    &mut chart,
                    windows(run, name).map(|w| (mid(w), get(w).map(|v| y.map(v)))),
                    c.stroke_width(width),
                )?;
                items.push(LegendItem::new(label, Swatch::Line(c, width)));
            }
            if values.is_empty() {
                note_in_plot(&chart, "no successful requests")?;
            }
            items.extend(events.legend().iter().cloned());
            draw_legend(&legend, &items, 30)?;
        }
        Ok(())
    }
}

const LATENCY_TITLE: &str = "Latency over time";
const AVAILABILITY_TITLE: &str = "Availability over time";
const THROUGHPUT_TITLE: &str = "Throughput over time";

/// Chart `latency`: p50, p95 and p99 of each window's successful requests,
/// one panel per workload, on a log axis when they span more than 1.5
/// decades (a timeout fault lifts p99 a hundredfold); windows without a
/// successful request leave a gap.
pub fn latency(run: &SavedRun, f: Formats) -> Result<Vec<ChartFile>> {
    Ok(vec![render("latency", LATENCY_TITLE, &Latency(run), f)?])
}

struct Availability<'r>(&'r SavedRun);

impl Draw for Availability<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, panels_height(self.0.result.summary.workloads.len()))
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let run = self.0;
        let s = &run.result.summary;
        if s.workloads.is_empty() {
            return note_on(root, AVAILABILITY_TITLE, "no workloads");
        }
        let events = Events::of(run, None);
        // Headroom above 100% where the shading and its labels show.
        let y = YAxis {
            lo: 0.0,
            hi: 118.0,
            ticks: vec![0.0, 25.0, 50.0, 75.0, 100.0],
            log: false,
        };
        let bands = [
            ("ok", palette::OK),
            ("degraded", palette::DEGRADED),
            ("failed", palette::FAILED),
        ];
        for (i, (name, (plot, legend))) in s
            .workloads
            .keys()
            .zip(panels(root, AVAILABILITY_TITLE, s.workloads.len())?)
            .enumerate()
        {
            let mut chart = time_chart(
                &plot,
                Some((name, palette::series(i))),
                s.simulated_seconds,
                &y,
                "% of requests",
            )?;
            events.shade(&mut chart)?;
            // Per window: cumulative shares (ok, +degraded, +failed), in %.
            let stacked = windows(run, name).map(|w| {
                let done = w.ok + w.degraded + w.failed;
                let v = (done > 0).then(|| {
                    let pct = |n: u64| 100.0 * n as f64 / done as f64;
                    [pct(w.ok), pct(w.ok + w.degraded), 100.0]
                });
                (w.start_s, w.end_s, v)
            });
            let stacked: Vec<_> = stacked.collect();
            for (b, (_, colour)) in bands.iter().enumerate() {
                let lo = |v: &[f64; 3]| if b == 0 { 0.0 } else { v[b - 1] };
                // A band is drawn where it has height (a zero-height
                // polygon would still paint a hairline).
                for run_ in stacked.split(|w| w.2.is_none_or(|v| v[b] - lo(&v) <= 1e-9)) {
                    if run_.is_empty() {
                        continue;
                    }
                    let mut pts = Vec::with_capacity(run_.len() * 4);
                    for (a, e, v) in run_ {
                        let v = v.as_ref().expect("split on None");
                        pts.push((*a, v[b]));
                        pts.push((*e, v[b]));
                    }
                    for (a, e, v) in run_.iter().rev() {
                        let v = v.as_ref().expect("split on None");
                        pts.push((*e, lo(v)));
                        pts.push((*a, lo(v)));
                    }
                    chart
                        .draw_series(std::iter::once(Polygon::new(pts, colour.mix(0.8).filled())))
                        .map_err(plot_err)?;
                }
            }
            events.outline(&mut chart)?;
            events.label(&mut chart)?;
            if stacked.iter().all(|w| w.2.is_none()) {
                note_in_plot(&chart, "no completed requests")?;
            }
            let mut items: Vec<LegendItem> = bands
                .iter()
                .map(|(l, c)| LegendItem::new(*l, Swatch::Area(*c, 0.8)))
                .collect();
            items.extend(events.legend().iter().cloned());
            draw_legend(&legend, &items, 30)?;
        }
        Ok(())
    }
}

/// Chart `availability`: of the requests completed in each window, the
/// shares ok, degraded and failed, stacked to 100%, one panel per
/// workload; windows where none completed are left empty.
pub fn availability(run: &SavedRun, f: Formats) -> Result<Vec<ChartFile>> {
    Ok(vec![render(
        "availability",
        AVAILABILITY_TITLE,
        &Availability(run),
        f,
    )?])
}

/// Height of a single-panel time chart.
pub(crate) const SINGLE_H: u32 = TITLE_H + 360;

/// One chart of a line per workload or service over time (throughput,
/// queues): each in its colour, with the run's events shaded and marked.
pub(crate) struct LinesOverTime<'r> {
    /// The run, for its duration and events.
    pub run: &'r SavedRun,
    /// The chart's title.
    pub title: &'static str,
    /// The value axis' description, with its unit.
    pub y_desc: &'static str,
    /// Per series (in palette order): its name and (time, value) points.
    pub series: Vec<(String, Vec<(f64, f64)>)>,
    /// The note when there is no series at all.
    pub no_series: &'static str,
    /// The note when every value is 0, if that deserves one.
    pub all_zero: Option<&'static str>,
}

impl Draw for LinesOverTime<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, SINGLE_H)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let s = &self.run.result.summary;
        let (plot, legend) = panels(root, self.title, 1)?.remove(0);
        let max = self
            .series
            .iter()
            .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
            .fold(0.0, f64::max);
        let y = YAxis::linear(max, false);
        let mut chart = time_chart(&plot, None, s.simulated_seconds, &y, self.y_desc)?;
        let events = Events::of(self.run, None);
        events.shade(&mut chart)?;
        events.label(&mut chart)?;
        let mut items = Vec::new();
        for (i, (name, pts)) in self.series.iter().enumerate() {
            let c = palette::series(i);
            draw_gapped(
                &mut chart,
                pts.iter().map(|&(t, v)| (t, Some(v))),
                c.stroke_width(2),
            )?;
            items.push(LegendItem::new(name.clone(), Swatch::Line(c, 2)));
        }
        if self.series.is_empty() {
            note_in_plot(&chart, self.no_series)?;
        } else if let (Some(note), true) = (self.all_zero, max == 0.0) {
            note_in_plot(&chart, note)?;
        }
        items.extend(events.legend().iter().cloned());
        draw_legend(&legend, &items, 10)?;
        Ok(())
    }
}

/// Chart `throughput`: successful requests per second in each window, a
/// line per workload in its colour.
pub fn throughput(run: &SavedRun, f: Formats) -> Result<Vec<ChartFile>> {
    let chart = LinesOverTime {
        run,
        title: THROUGHPUT_TITLE,
        y_desc: "requests/s (successful)",
        series: run
            .result
            .summary
            .workloads
            .keys()
            .map(|name| {
                let pts = windows(run, name).map(|w| (mid(w), w.throughput_rps));
                (name.clone(), pts.collect())
            })
            .collect(),
        no_series: "no workloads",
        all_zero: None,
    };
    Ok(vec![render("throughput", THROUGHPUT_TITLE, &chart, f)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ticks_end_at_the_duration() {
        for sim in [
            1.0, 10.0, 60.0, 240.0, 300.0, 317.0, 360.0, 480.0, 900.0, 3600.0, 7.3,
        ] {
            let t = time_ticks(sim);
            assert_eq!(t[0], 0.0, "{sim}: {t:?}");
            assert_eq!(*t.last().unwrap(), sim, "{sim}: {t:?}");
            assert!((4..=14).contains(&t.len()), "{sim}: {t:?}");
            // Increasing, none crowding the next.
            let step = t[1] - t[0];
            for p in t.windows(2) {
                assert!(p[1] - p[0] >= 0.45 * step, "{sim}: {t:?}");
            }
        }
        assert_eq!(
            time_ticks(300.0),
            vec![0.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0]
        );
        assert_eq!(time_ticks(0.0), vec![0.0]);
    }

    #[test]
    fn log_axis_only_for_wide_spans() {
        assert!(!wants_log(10.0, 300.0));
        assert!(wants_log(10.0, 400.0));
        assert!(!wants_log(0.0, 400.0));
        let lin = YAxis::auto(&[12.0, 40.0, 250.0]);
        assert!(!lin.log);
        assert_eq!(lin.lo, 0.0);
        assert!(lin.hi >= 250.0 && lin.hi <= 400.0, "{lin:?}");
        let log = YAxis::auto(&[12.0, 40.0, 5000.0]);
        assert!(log.log);
        assert_eq!(log.label(log.lo), "10");
        assert_eq!(log.label(log.hi), "5000");
        assert!(log.map(12.0) > log.lo && log.map(5000.0) <= log.hi + 1e-12);
        assert!(log.ticks.iter().any(|t| log.label(*t) == "100"), "{log:?}");
        // No values at all: a small linear axis.
        let none = YAxis::auto(&[]);
        assert!(!none.log && none.hi > 0.0);
        // Values at the ends of f64's range give a finite axis with few
        // ticks (they made the tick loops endless).
        for values in [
            vec![18.0, 1.7e308],
            vec![1e-320, 5.0],
            vec![f64::MIN_POSITIVE, f64::MAX],
        ] {
            let y = YAxis::auto(&values);
            assert!(y.lo.is_finite() && y.hi.is_finite() && y.hi > y.lo, "{y:?}");
            assert!(!y.ticks.is_empty() && y.ticks.len() < 700, "{values:?}");
        }
        let y = YAxis::linear(f64::MAX, false);
        assert!(y.hi.is_finite() && y.ticks.len() < 20, "{y:?}");
    }

    #[test]
    fn linear_axes_cover_the_maximum() {
        for max in [0.3, 1.0, 7.0, 99.0, 100.0, 1234.0] {
            let y = YAxis::linear(max, false);
            assert!(y.hi >= max && y.hi <= max * 2.2, "{max}: {y:?}");
            assert_eq!(y.ticks.first(), Some(&0.0));
            assert_eq!(y.ticks.last(), Some(&y.hi));
        }
        let r = YAxis::linear(3.0, true);
        assert!(r.ticks.iter().all(|t| t.fract() == 0.0), "{r:?}");
    }

    #[test]
    fn gaps_split_lines() {
        let s = segments([
            (1.0, Some(1.0)),
            (2.0, None),
            (3.0, Some(3.0)),
            (4.0, Some(f64::NAN)),
            (5.0, Some(5.0)),
            (6.0, Some(6.0)),
        ]);
        assert_eq!(
            s,
            vec![
                vec![(1.0, 1.0)],
                vec![(3.0, 3.0)],
                vec![(5.0, 5.0), (6.0, 6.0)]
            ]
        );
        assert!(segments(std::iter::empty()).is_empty());
    }

    /// A wide line through a noisy series of many windows stays within
    /// its data on a bitmap: plotters' own wide
    /// lines spiked far past it at sharp turns, out of the plot.
    #[test]
    fn wide_lines_stay_near_their_points_in_png() {
        let (w, h) = (400u32, 300u32);
        let mut rgb = vec![255u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            let mut chart = ChartBuilder::on(&root)
                .build_cartesian_2d(0.0..400.0, 0.0..300.0)
                .unwrap();
            // A noisy series: 0.7 px apart (several points per pixel
            // column), between 100 and 200.
            let mut seed = 7u64;
            let zigzag: Vec<(f64, f64)> = (0..500)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (i as f64 * 0.7, 100.0 + ((seed >> 33) % 101) as f64)
                })
                .collect();
            chart
                .draw_series(std::iter::once(Stroke::new(
                    zigzag,
                    RGBColor(255, 0, 0).stroke_width(3),
                )))
                .unwrap();
            root.present().unwrap();
        }
        // Value 200 is pixel row 100, value 100 row 200: allow the pen's
        // half width and a pixel.
        let mut red_rows = Vec::new();
        for (i, px) in rgb.chunks(3).enumerate() {
            if px == [255, 0, 0] {
                red_rows.push(i as u32 / w);
            }
        }
        assert!(!red_rows.is_empty());
        let (top, bottom) = (
            red_rows.iter().min().unwrap(),
            red_rows.iter().max().unwrap(),
        );
        assert!(*top >= 97 && *bottom <= 203, "rows {top}..{bottom}");
    }

    #[test]
    fn tints_lighten_and_darken() {
        let c = RGBColor(100, 50, 200);
        assert_eq!(tint(c, 0.0), c);
        assert_eq!(tint(c, 1.0), RGBColor(255, 255, 255));
        assert_eq!(tint(c, -1.0), RGBColor(0, 0, 0));
        assert_eq!(tint(c, -0.5), RGBColor(50, 25, 100));
    }

    #[test]
    fn labels_read_plainly() {
        assert_eq!(fmt_num(300.0), "300");
        assert_eq!(fmt_num(2.5), "2.5");
        assert_eq!(fmt_num(0.125), "0.125");
        assert_eq!(fmt_num(1e4), "10000");
        assert_eq!(fmt_num(-0.0), "0");
        assert_eq!(fmt_num(0.1 + 0.2), "0.3");
        assert_eq!(fmt_num(3.0 * 0.0002), "0.0006");
    }

    #[test]
    fn small_linear_ticks_stay_distinct() {
        // A queue that averages well under a request per window (payment-outage):
        // the ticks are 0.0002 apart and must not all read "0".
        for max in [0.0007, 0.00004, 0.0123] {
            let y = YAxis::linear(max, false);
            let labels: Vec<String> = y.ticks.iter().map(|t| y.label(*t)).collect();
            let mut unique = labels.clone();
            unique.dedup();
            assert_eq!(unique.len(), labels.len(), "{max}: {labels:?}");
        }
        let y = YAxis::linear(0.0007, false);
        assert_eq!(y.label(y.ticks[1]), "0.0002");
    }
}
