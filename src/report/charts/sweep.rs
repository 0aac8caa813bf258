//! The charts of a sweep: for each shown metric, the metric against the
//! first parameter, one line per value of the second, with the 95%
//! confidence band of each point's mean when points were replicated
//! (`sweep-METRIC`), and, for grids of two or more parameters, a heatmap
//! of the metric over the first two (`sweep-heatmap-METRIC`, drawn in
//! [`super::sweep_heatmap`]). With three or more parameters, each
//! combination of the others gets its own panel.
//!
//! Everything is drawn from a [`SweepResult`] alone, so `microsim report
//! DIR` redraws a sweep from its `sweep.json` byte for byte.

use super::kit::{self, Ticked, DESC_PX, LABEL_PX, TITLE_H};
use super::render::{plot_err, render};
use super::timeline::{self, Stroke, YAxis, AXIS_MAX};
use super::{palette, ChartFile, Draw, Formats};
use crate::metrics::catalog::{MetricDef, Unit};
use crate::sweep::{Param, ParamValue, PointResult, SweepResult};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;

/// Width of every sweep chart.
pub(crate) const WIDTH: u32 = 1000;
/// Most panels (combinations of the third and later parameters) a chart
/// draws; the subtitle says when there are more.
pub(crate) const MAX_PANELS: usize = 12;
/// Most lines (values of the second parameter) a line chart draws,
/// spread evenly over the values; the heatmap shows every value.
pub(crate) const MAX_SERIES: usize = 10;
/// Most labelled ticks on a categorical axis; with more values every
/// k-th is labelled.
const MAX_LABELS: usize = 14;

/// `label = value` of one parameter's value (`payment.replicas = 4`).
pub(crate) fn assignment(p: &Param, i: usize) -> String {
    let v = p
        .values
        .get(i)
        .map_or_else(|| "?".into(), ParamValue::plain);
    format!("{} = {}", p.label(), v)
}

/// A metric's value in the units it is drawn in: fractions as percent.
pub(crate) fn shown(unit: Unit, v: f64) -> f64 {
    match unit {
        Unit::Fraction => v * 100.0,
        _ => v,
    }
}

/// The unit as an axis description says it.
pub(crate) fn unit_desc(unit: Unit) -> &'static str {
    match unit {
        Unit::Ms => " (ms)",
        Unit::Fraction => " (%)",
        Unit::PerSecond => " (per second)",
        Unit::Money => " (cost)",
        Unit::Count | Unit::Number => "",
    }
}

/// A drawn value (see [`shown`]) as a short label: three significant
/// digits with its unit, percentages with as many decimals as keep a
/// failure from rounding to 100%.
pub(crate) fn value_label(unit: Unit, v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    match unit {
        Unit::Fraction => {
            if v >= 100.0 {
                return "100%".to_string();
            }
            (1..=5)
                .map(|d| format!("{v:.d$}%"))
                .find(|s| !s.starts_with("100"))
                .unwrap_or_else(|| "99.99999%".to_string())
        }
        Unit::Ms => format!("{} ms", short(v)),
        Unit::Count => {
            if v.abs() < 1e15 && v.fract() == 0.0 {
                kit::count(v.abs() as u64)
            } else {
                short(v)
            }
        }
        _ => short(v),
    }
}

/// Three significant digits, in exponent form when huge or tiny.
fn short(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e6).contains(&a) {
        format!("{v:.2e}")
    } else {
        kit::sig3(v)
    }
}

/// How a sweep's points are laid out on its charts: the first parameter
/// across, the second as lines (or heatmap rows), the rest as panels.
pub(crate) struct Grid<'a> {
    /// The sweep.
    pub result: &'a SweepResult,
    /// The x axis: one entry per position (value of the first parameter,
    /// or pair of a zip sweep).
    pub x_labels: Vec<String>,
    /// Each x position's number, when the axis is numeric.
    pub x_numbers: Option<Vec<f64>>,
    /// The x axis' description.
    pub x_desc: String,
    /// The values of the second parameter (none: one series).
    pub series: Vec<usize>,
    /// The panels: each a combination of values of the third and later
    /// parameters (one empty combination when there are none), capped at
    /// [`MAX_PANELS`].
    pub panels: Vec<Vec<usize>>,
    /// How many panels there would be without the cap.
    pub all_panels: usize,
    /// Points by their value indices.
    by_values: BTreeMap<Vec<usize>, &'a PointResult>,
}

impl<'a> Grid<'a> {
    /// The layout of `result`.
    pub(crate) fn new(result: &'a SweepResult) -> Grid<'a> {
        let params = &result.plan.params;
        let zip = result.plan.zip && params.len() > 1;
        let by_values = result
            .points
            .iter()
            .map(|p| (p.values.clone(), p))
            .collect();
        let (x_labels, x_numbers, x_desc) = match params.first() {
            None => (
                vec!["the scenario as it is".to_string()],
                None,
                String::new(),
            ),
            Some(first) if zip => {
                let n = first.values.len();
                let labels = (0..n)
                    .map(|i| {
                        params
                            .iter()
                            .map(|p| p.values.get(i).map_or("?".into(), ParamValue::plain))
                            .collect::<Vec<_>>()
                            .join(" / ")
                    })
                    .collect();
                let desc = params
                    .iter()
                    .map(Param::label)
                    .collect::<Vec<_>>()
                    .join(" / ");
                (labels, None, format!("{desc} (paired)"))
            }
            Some(first) => {
                let labels = first.values.iter().map(ParamValue::plain).collect();
                let numbers: Option<Vec<f64>> = first
                    .values
                    .iter()
                    .map(|v| v.number.filter(|n| n.is_finite()))
                    .collect();
                // Durations are numbers in milliseconds.
                let ms = first.values.iter().any(|v| v.text.trim().starts_with('"'));
                let desc = if numbers.is_some() && ms {
                    format!("{} (ms)", first.label())
                } else {
                    first.label()
                };
                (labels, numbers, desc)
            }
        };
        let series = match params.get(1) {
            Some(p) if !zip => (0..p.values.len()).collect(),
            _ => Vec::new(),
        };
        let mut panels: Vec<Vec<usize>> = vec![Vec::new()];
        if !zip {
            for p in params.iter().skip(2) {
                let n = p.values.len();
                let mut next = Vec::new();
                for combo in &panels {
                    for i in 0..n {
                        if next.len() > MAX_PANELS {
                            break;
                        }
                        let mut c = combo.clone();
                        c.push(i);
                        next.push(c);
                    }
                }
                panels = next;
            }
        }
        let all_panels = if zip {
            1
        } else {
            params
                .iter()
                .skip(2)
                .map(|p| p.values.len())
                .fold(1usize, |a, n| a.saturating_mul(n))
        };
        panels.truncate(MAX_PANELS);
        Grid {
            result,
            x_labels,
            x_numbers,
            x_desc,
            series,
            panels,
            all_panels,
            by_values,
        }
    }

    /// Whether the grid has a second parameter drawn as lines or rows.
    pub(crate) fn two_dimensional(&self) -> bool {
        !self.series.is_empty()
    }

    /// The point at x position `x`, series `s` (ignored without a
    /// second parameter) and panel combination `panel`, if the sweep (or
    /// this shard of it) has it.
    pub(crate) fn point(&self, x: usize, s: usize, panel: &[usize]) -> Option<&'a PointResult> {
        let n = self.result.plan.params.len();
        let key: Vec<usize> = if self.result.plan.zip && n > 1 {
            vec![x; n]
        } else if n == 0 {
            Vec::new()
        } else if n == 1 {
            vec![x]
        } else {
            let mut k = vec![x, s];
            k.extend_from_slice(panel);
            k
        };
        self.by_values.get(&key).copied()
    }

    /// The title of a panel (`rate = 200, timeout = 1s`).
    pub(crate) fn panel_title(&self, panel: &[usize]) -> String {
        self.result
            .plan
            .params
            .iter()
            .skip(2)
            .zip(panel)
            .map(|(p, &i)| assignment(p, i))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// "showing 12 of 30 panels" when capped.
    pub(crate) fn panels_note(&self) -> Option<String> {
        (self.all_panels > self.panels.len()).then(|| {
            format!(
                "showing the first {} of {} combinations of the other parameters (all are in sweep_summary.csv)",
                self.panels.len(),
                self.all_panels
            )
        })
    }

    /// Columns of panels: one, or two when there are several.
    pub(crate) fn columns(&self) -> usize {
        if self.panels.len() > 1 {
            2
        } else {
            1
        }
    }

    /// Rows of panels.
    pub(crate) fn rows(&self) -> usize {
        self.panels.len().div_ceil(self.columns()).max(1)
    }
}

/// The file-name part of a metric (`checkout.p99` -> `checkout-p99`),
/// reduced to characters safe in any file system.
pub(crate) fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// One point's estimate of a metric, in drawn units: mean and CI bounds.
#[derive(Clone, Copy)]
struct Est {
    mean: f64,
    ci: Option<(f64, f64)>,
}

fn est(p: Option<&PointResult>, metric: usize, unit: Unit) -> Option<Est> {
    let e = p?.estimates.get(metric)?;
    let mean = e.mean.filter(|m| m.is_finite())?;
    let ci = match (e.ci_low(), e.ci_high()) {
        (Some(a), Some(b)) if a.is_finite() && b.is_finite() => {
            Some((shown(unit, a), shown(unit, b)))
        }
        _ => None,
    };
    Some(Est {
        mean: shown(unit, mean),
        ci,
    })
}

/// A point's mean of a metric in drawn units, if it has one.
pub(crate) fn est_mean(p: Option<&PointResult>, metric: usize, unit: Unit) -> Option<f64> {
    est(p, metric, unit).map(|e| e.mean)
}

/// Height of one panel of a line chart.
const LINE_PANEL_H: u32 = 440;
/// Height of one panel when panels are side by side.
const SMALL_PANEL_H: u32 = 340;
/// Height of the subtitle line under the title.
const SUBTITLE_H: u32 = 22;

/// `sweep-METRIC`: the metric against the first parameter.
struct Lines<'a> {
    grid: &'a Grid<'a>,
    metric: usize,
    def: &'a MetricDef,
    title: String,
    /// The series drawn (indices into `grid.series`).
    series: Vec<usize>,
}

impl Lines<'_> {
    fn legend(&self) -> Vec<(String, RGBColor)> {
        let Some(p) = self.grid.result.plan.params.get(1) else {
            return Vec::new();
        };
        self.series
            .iter()
            .enumerate()
            .map(|(k, &s)| (assignment(p, self.grid.series[s]), palette::series(k)))
            .collect()
    }

    /// The lines drawn: the second parameter's value index of each, or
    /// one line (`None`) without a second parameter.
    fn drawn_series(&self) -> Vec<Option<usize>> {
        if self.series.is_empty() {
            vec![None]
        } else {
            self.series
                .iter()
                .map(|&s| self.grid.series.get(s).copied())
                .collect()
        }
    }

    /// About how many legend rows the entries take (for the chart's
    /// height; the legend itself wraps as it draws).
    fn legend_rows(&self) -> u32 {
        let widths: Vec<u32> = self
            .legend()
            .iter()
            .map(|(s, _)| 42 + 9 * s.chars().count() as u32)
            .collect();
        let (mut rows, mut x) = (0, u32::MAX);
        for w in widths {
            if x.saturating_add(w) > WIDTH - 80 {
                rows += 1;
                x = 70;
            }
            x += w;
        }
        rows
    }

    fn subtitle(&self) -> String {
        let plan = &self.grid.result.plan;
        let mut parts = Vec::new();
        if plan.replications >= 2 {
            parts.push(format!(
                "mean of {} replications per point; shaded: 95% confidence interval",
                plan.replications
            ));
        } else {
            parts.push("one run per point".to_string());
        }
        if self.series.len() < self.grid.series.len() {
            parts.push(format!(
                "{} of {} lines (the heatmap shows all)",
                self.series.len(),
                self.grid.series.len()
            ));
        }
        if let Some(n) = self.grid.panels_note() {
            parts.push(n);
        }
        if let Some((k, n)) = self.grid.result.shard {
            parts.push(format!("shard {k} of {n}"));
        }
        parts.join("; ")
    }

    /// The y axis shared by every panel.
    fn y_axis(&self) -> YAxis {
        let unit = self.def.unit;
        let mut means = Vec::new();
        let mut all = Vec::new();
        for panel in &self.grid.panels {
            for s in self.drawn_series() {
                for x in 0..self.grid.x_labels.len() {
                    let p = self.grid.point(x, s.unwrap_or(0), panel);
                    if let Some(e) = est(p, self.metric, unit) {
                        means.push(e.mean);
                        all.push(e.mean);
                        if let Some((a, b)) = e.ci {
                            all.extend([a, b]);
                        }
                    }
                }
            }
        }
        let finite = |v: &f64| v.is_finite();
        let lo = all
            .iter()
            .copied()
            .filter(finite)
            .fold(f64::INFINITY, f64::min);
        let hi = all
            .iter()
            .copied()
            .filter(finite)
            .fold(f64::NEG_INFINITY, f64::max);
        if unit == Unit::Fraction {
            return percent_axis(lo, hi);
        }
        if unit == Unit::Ms {
            let (mlo, mhi) = means
                .iter()
                .filter(|v| **v > 0.0)
                .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
            if timeline::wants_log(mlo, mhi) {
                // The bands' highs too; their lows are drawn on the floor.
                return YAxis::log(mlo, hi.max(mhi));
            }
        }
        YAxis::linear(hi, false)
    }
}

/// At most about ten labelled ticks (a log axis over hundreds of decades
/// would otherwise label every one).
fn thin(mut y: YAxis) -> YAxis {
    if y.ticks.len() > 12 {
        let k = y.ticks.len().div_ceil(10);
        y.ticks = y.ticks.iter().step_by(k).copied().collect();
    }
    y
}

/// A tick label: plain for ordinary numbers, in exponent form for huge or
/// tiny ones (`1e300`, not three hundred digits).
pub(crate) fn axis_label(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e7).contains(&a) {
        // Three significant digits, trailing zeros dropped: `1e279`,
        // `2.5e9`.
        let e = format!("{v:.2e}");
        match e.split_once('e') {
            Some((m, x)) if m.contains('.') => {
                format!("{}e{x}", m.trim_end_matches('0').trim_end_matches('.'))
            }
            _ => e,
        }
    } else {
        kit::tick(v + 0.0)
    }
}

/// A percentage axis around the values (availability of 99.9% and
/// 99.99% must look different), within 0..100 and a little headroom
/// above it so points at 100% are not cut by the frame.
pub(crate) fn percent_axis(lo: f64, hi: f64) -> YAxis {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo.clamp(0.0, 100.0), hi.clamp(0.0, 100.0))
    } else {
        (0.0, 100.0)
    };
    // A constant gets a one-point axis, not one of spurious precision.
    let span = if hi - lo < 1e-9 {
        1.0
    } else {
        (hi - lo).max(0.01)
    };
    let step = kit::nice_step(span * 1.2, 5);
    let bottom = ((lo - span * 0.1) / step).floor() * step;
    let bottom = kit::round9(bottom.max(0.0));
    let top_tick = kit::round9((((hi + span * 0.05) / step).ceil() * step).min(100.0));
    let top = if top_tick >= 100.0 {
        100.0 + (100.0 - bottom) * 0.04
    } else {
        top_tick
    };
    YAxis {
        lo: bottom,
        hi: top.max(bottom + 1e-9),
        ticks: kit::linear_ticks(bottom, top_tick.max(bottom), 6),
        log: false,
    }
}

/// An x axis: its range and ticks.
type XAxis = (f64, f64, Vec<f64>);

/// The x axis of a line chart: numeric with the values' own ticks (or
/// round ones when there are many), or categorical positions `0..n`.
fn x_axis(grid: &Grid) -> (XAxis, Vec<f64>) {
    let n = grid.x_labels.len().max(1);
    match &grid.x_numbers {
        Some(nums) if !nums.is_empty() => {
            // Within the range an axis can map (hand-edited results with
            // 1e308 overflowed plotters' pixel arithmetic).
            let nums: Vec<f64> = nums.iter().map(|v| v.clamp(-AXIS_MAX, AXIS_MAX)).collect();
            let lo = nums.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = nums.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let span = hi - lo;
            let pad = if span > 0.0 {
                span * 0.04
            } else {
                (lo.abs() * 0.1).max(1.0)
            };
            let ticks = if nums.len() <= MAX_LABELS {
                nums.clone()
            } else {
                kit::linear_ticks(lo, hi, 8)
            };
            ((lo - pad, hi + pad, ticks), nums)
        }
        _ => {
            let every = n.div_ceil(MAX_LABELS).max(1);
            let ticks = (0..n).step_by(every).map(|i| i as f64 + 0.5).collect();
            let xs = (0..n).map(|i| i as f64 + 0.5).collect();
            ((0.0, n as f64, ticks), xs)
        }
    }
}

/// The label of an x tick: the value as written when it is one of the
/// values, else the number.
fn x_tick_label(grid: &Grid, x: f64) -> String {
    match &grid.x_numbers {
        Some(nums) => match nums
            .iter()
            .position(|n| (*n - x).abs() <= 1e-9 * n.abs().max(1.0))
        {
            Some(i) if nums.len() <= MAX_LABELS => grid.x_labels[i].clone(),
            _ => axis_label(x),
        },
        None => {
            let i = x.floor().max(0.0) as usize;
            grid.x_labels.get(i).cloned().unwrap_or_default()
        }
    }
}

impl Draw for Lines<'_> {
    fn size(&self) -> (u32, u32) {
        let panel_h = if self.grid.columns() > 1 {
            SMALL_PANEL_H
        } else {
            LINE_PANEL_H
        };
        (
            WIDTH,
            TITLE_H + SUBTITLE_H + 26 * self.legend_rows() + 8 + panel_h * self.grid.rows() as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let area = kit::title(root, &self.title)?;
        let area = subtitle(&area, &self.subtitle())?;
        let area = kit::legend_row(&area, &self.legend())?;
        let unit = self.def.unit;
        let y = thin(self.y_axis());
        let (x_coord, xs) = x_axis(self.grid);
        let panels = area.split_evenly((self.grid.rows(), self.grid.columns()));
        let markers = if xs.len() > 40 { 2 } else { 4 };
        for (panel_area, panel) in panels.iter().zip(&self.grid.panels) {
            let caption = self.grid.panel_title(panel);
            let mut b = ChartBuilder::on(panel_area);
            b.margin_top(6)
                .margin_left(8)
                .margin_right(18)
                .margin_bottom(4)
                .x_label_area_size(46)
                .y_label_area_size(100);
            if !caption.is_empty() {
                b.caption(&caption, kit::bold(DESC_PX));
            }
            let mut chart = b
                .build_cartesian_2d(
                    Ticked::new(x_coord.0, x_coord.1, x_coord.2.clone()),
                    y.coord(),
                )
                .map_err(plot_err)?;
            let fy = |v: &f64| {
                let t = axis_label(if y.log { 10f64.powf(*v) } else { *v });
                if unit == Unit::Fraction {
                    format!("{t}%")
                } else {
                    t
                }
            };
            let fx = |v: &f64| x_tick_label(self.grid, *v);
            let y_desc = format!(
                "{}{}{}",
                self.def.name,
                unit_desc(unit),
                if y.log { ", log" } else { "" }
            );
            chart
                .configure_mesh()
                .x_desc(&self.grid.x_desc)
                .y_desc(y_desc)
                .x_label_formatter(&fx)
                .y_label_formatter(&fy)
                .label_style(kit::text(LABEL_PX))
                .axis_desc_style(kit::text(DESC_PX))
                .bold_line_style(RGBColor(225, 225, 225).stroke_width(1))
                .light_line_style(TRANSPARENT)
                .draw()
                .map_err(plot_err)?;
            let clamp = |v: f64| y.map(v).clamp(y.lo, y.hi);
            // The x positions in drawing order (numeric axes in value
            // order, whatever order the values were given in).
            let mut order: Vec<usize> = (0..xs.len()).collect();
            order.sort_by(|a, b| xs[*a].total_cmp(&xs[*b]));
            let mut any = false;
            for (k, s) in self.drawn_series().iter().enumerate() {
                let colour = palette::series(k);
                let ests: Vec<(f64, Option<Est>)> = order
                    .iter()
                    .map(|&x| {
                        (
                            xs[x],
                            est(self.grid.point(x, s.unwrap_or(0), panel), self.metric, unit),
                        )
                    })
                    .collect();
                // Bands first, under every line.
                for run in ests.split(|(_, e)| e.is_none_or(|e| e.ci.is_none())) {
                    let ci: Vec<(f64, f64, f64)> = run
                        .iter()
                        .filter_map(|(x, e)| {
                            let (a, b) = e.as_ref()?.ci?;
                            Some((*x, clamp(a.max(0.0)), clamp(b)))
                        })
                        .collect();
                    match ci.len() {
                        0 => {}
                        1 => {
                            let (x, a, b) = ci[0];
                            chart
                                .draw_series(std::iter::once(PathElement::new(
                                    vec![(x, a), (x, b)],
                                    colour.mix(0.5).stroke_width(6),
                                )))
                                .map_err(plot_err)?;
                        }
                        _ => {
                            let mut pts: Vec<(f64, f64)> =
                                ci.iter().map(|(x, _, b)| (*x, *b)).collect();
                            pts.extend(ci.iter().rev().map(|(x, a, _)| (*x, *a)));
                            chart
                                .draw_series(std::iter::once(Polygon::new(
                                    pts,
                                    colour.mix(0.18).filled(),
                                )))
                                .map_err(plot_err)?;
                        }
                    }
                }
                for seg in
                    timeline::segments(ests.iter().map(|(x, e)| (*x, e.map(|e| clamp(e.mean)))))
                {
                    any = true;
                    if seg.len() > 1 {
                        chart
                            .draw_series(std::iter::once(Stroke::new(
                                seg.clone(),
                                colour.stroke_width(2),
                            )))
                            .map_err(plot_err)?;
                    }
                    chart
                        .draw_series(
                            seg.iter()
                                .map(|p| Circle::new(*p, markers, colour.filled())),
                        )
                        .map_err(plot_err)?;
                }
            }
            if !any {
                timeline::note_in_plot(&chart, "no values (every run lacked this metric)")?;
            }
        }
        Ok(())
    }
}

/// Draws a grey line of small print under the title and returns the area
/// below it.
pub(crate) fn subtitle<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
) -> Result<DrawingArea<DB, Shift>> {
    let (w, _) = area.dim_in_pixel();
    area.draw(&Text::new(
        text.to_string(),
        (w as i32 / 2, 0),
        kit::text(LABEL_PX)
            .color(&palette::GREY)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(plot_err)?;
    Ok(area.split_vertically(SUBTITLE_H).1)
}

/// The chart title of a metric against the first parameter.
fn lines_title(r: &SweepResult, def: &MetricDef) -> String {
    let params = &r.plan.params;
    match params.first() {
        None => format!("{} (a single point)", def.name),
        Some(_) if r.plan.zip && params.len() > 1 => format!(
            "{} vs {}",
            def.name,
            params
                .iter()
                .map(Param::label)
                .collect::<Vec<_>>()
                .join(" / ")
        ),
        Some(p) => format!("{} vs {}", def.name, p.label()),
    }
}

/// Evenly spread indices: `k` of `0..n` (all when `n <= k`).
pub(crate) fn spread(n: usize, k: usize) -> Vec<usize> {
    if n <= k || k < 2 {
        return (0..n.min(k.max(1))).collect();
    }
    let mut out: Vec<usize> = (0..k)
        .map(|i| ((i as f64) * (n - 1) as f64 / (k - 1) as f64).round() as usize)
        .collect();
    out.dedup();
    out
}

/// Every chart of a sweep, per shown metric in order: `sweep-METRIC`
/// (lines with confidence bands) and, for grids of two or more
/// parameters, `sweep-heatmap-METRIC`.
pub fn charts(r: &SweepResult, f: Formats) -> Result<Vec<ChartFile>> {
    let grid = Grid::new(r);
    let mut out = Vec::new();
    for m in r.shown_indices() {
        let def = &r.plan.metrics[m];
        let title = lines_title(r, def);
        let lines = Lines {
            grid: &grid,
            metric: m,
            def,
            title: title.clone(),
            series: spread(grid.series.len(), MAX_SERIES),
        };
        out.push(render(
            &format!("sweep-{}", slug(&def.name)),
            &title,
            &lines,
            f,
        )?);
        if grid.two_dimensional() {
            out.push(super::sweep_heatmap::heatmap(&grid, m, def, f)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_plainly() {
        assert_eq!(value_label(Unit::Fraction, 99.9996), "99.9996%");
        assert_eq!(value_label(Unit::Fraction, 100.0), "100%");
        assert_eq!(value_label(Unit::Fraction, 62.345), "62.3%");
        assert_eq!(value_label(Unit::Ms, 123.456), "123 ms");
        assert_eq!(value_label(Unit::Ms, 1e300), "1.00e300 ms");
        assert_eq!(value_label(Unit::Count, 12345.0), "12,345");
        assert_eq!(slug("checkout.p99"), "checkout-p99");
        assert_eq!(axis_label(1.0000000006e279), "1e279");
        assert_eq!(axis_label(2.5e9), "2.5e9");
        assert_eq!(axis_label(250.0), "250");
        assert_eq!(axis_label(0.0), "0");
    }

    #[test]
    fn spread_keeps_the_ends() {
        assert_eq!(spread(3, 10), vec![0, 1, 2]);
        assert_eq!(spread(0, 10), Vec::<usize>::new());
        let s = spread(50, 10);
        assert_eq!((s.len(), s[0], s[9]), (10, 0, 49));
    }

    #[test]
    fn percent_axis_separates_nines_and_stays_in_range() {
        let y = percent_axis(99.9, 99.99);
        assert!(y.lo > 99.0 && y.lo <= 99.9, "{y:?}");
        assert!(y.ticks.iter().all(|t| *t <= 100.0 && *t >= y.lo));
        let y = percent_axis(100.0, 100.0);
        assert!(y.lo < 100.0 && y.hi > 100.0, "{y:?}");
        let y = percent_axis(f64::INFINITY, f64::NEG_INFINITY);
        assert_eq!(y.lo, 0.0);
    }
}
