//! `sweep-heatmap-METRIC`: a metric over the first two parameters of a
//! sweep, one cell per point, coloured on a sequential scale (lighter is
//! better, darker worse, where the metric has a better direction) with
//! the value written in each cell that holds it. Missing points (no
//! value, or not in this shard) are grey and say `n/a`.

use super::kit::{self, Ticked, DESC_PX, LABEL_PX, TITLE_H};
use super::render::{plot_err, render};
use super::sweep::{est_mean, subtitle, value_label, Grid, WIDTH};
use super::timeline;
use super::{palette, ChartFile, Draw, Formats};
use crate::metrics::catalog::{MetricDef, Unit};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// ColorBrewer YlOrRd: light yellow to dark red, a sequential scale that
/// stays readable in grey and for most colour-blind readers.
const RAMP: [RGBColor; 9] = [
    RGBColor(255, 255, 204),
    RGBColor(255, 237, 160),
    RGBColor(254, 217, 118),
    RGBColor(254, 178, 76),
    RGBColor(253, 141, 60),
    RGBColor(252, 78, 42),
    RGBColor(227, 26, 28),
    RGBColor(189, 0, 38),
    RGBColor(128, 0, 38),
];

/// Fill of a cell without a value.
const MISSING: RGBColor = RGBColor(225, 225, 225);

/// The colour at `t` in 0..=1 along [`RAMP`].
fn ramp(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let x = t * (RAMP.len() - 1) as f64;
    let i = (x.floor() as usize).min(RAMP.len() - 2);
    let f = x - i as f64;
    let (a, b) = (RAMP[i], RAMP[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Whether more of a metric is better (`Some(true)`: availability,
/// throughput), worse (`Some(false)`: latency, failures, cost) or
/// neither (utilisation, replicas, requests offered).
pub(crate) fn higher_is_better(def: &MetricDef) -> Option<bool> {
    let last = def.name.rsplit('.').next().unwrap_or("");
    match last {
        "availability" | "throughput" | "ok" => Some(true),
        "failed" | "degraded" | "rejected" | "shed" | "mean_queue" => Some(false),
        _ if def.unit == Unit::Ms || def.unit == Unit::Money => Some(false),
        _ => None,
    }
}

/// The colour scale of one heatmap: values (in drawn units) to colours.
struct Scale {
    /// Lowest and highest value (in scale units: log10 on a log scale).
    lo: f64,
    hi: f64,
    log: bool,
    /// Dark for low values (more is better).
    reversed: bool,
}

impl Scale {
    fn new(values: &[f64], unit: Unit, better: Option<bool>) -> Scale {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let (plo, phi) = finite
            .iter()
            .filter(|v| **v > 0.0)
            .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
        let log =
            unit == Unit::Ms && timeline::wants_log(plo, phi) && finite.iter().all(|v| *v > 0.0);
        let map = |v: f64| if log { v.log10() } else { v };
        let lo = finite.iter().map(|v| map(*v)).fold(f64::INFINITY, f64::min);
        let hi = finite
            .iter()
            .map(|v| map(*v))
            .fold(f64::NEG_INFINITY, f64::max);
        Scale {
            lo,
            hi,
            log,
            reversed: better == Some(true),
        }
    }

    /// Position of a value on the scale, 0..=1 (light to dark).
    fn t(&self, v: f64) -> f64 {
        let s = if self.log { v.max(1e-300).log10() } else { v };
        let span = self.hi - self.lo;
        if !(span.is_finite() && span > 0.0) {
            // One value everywhere: nothing is worse than anything else.
            return 0.0;
        }
        let t = (s - self.lo) / span;
        if self.reversed {
            1.0 - t
        } else {
            t
        }
    }

    fn colour(&self, v: f64) -> RGBColor {
        ramp(self.t(v))
    }

    /// The value at scale position `u` (0 = lowest value, 1 = highest).
    fn value_at(&self, u: f64) -> f64 {
        let s = self.lo + (self.hi - self.lo) * u;
        if self.log {
            10f64.powf(s)
        } else {
            s
        }
    }
}

/// Height of the colour bar strip.
const BAR_H: u32 = 52;

struct Heatmap<'a> {
    grid: &'a Grid<'a>,
    metric: usize,
    def: &'a MetricDef,
    title: String,
}

impl Heatmap<'_> {
    fn ny(&self) -> usize {
        self.grid.series.len().max(1)
    }

    fn panel_h(&self) -> u32 {
        let ny = self.ny() as u32;
        if self.grid.columns() > 1 {
            (ny * 28).clamp(160, 320) + 84
        } else {
            (ny * 44).clamp(200, 600) + 60
        }
    }

    fn values(&self) -> Vec<f64> {
        let mut out = Vec::new();
        for panel in &self.grid.panels {
            for s in 0..self.ny() {
                for x in 0..self.grid.x_labels.len() {
                    out.extend(est_mean(
                        self.grid.point(x, s, panel),
                        self.metric,
                        self.def.unit,
                    ));
                }
            }
        }
        out
    }

    fn subtitle(&self) -> String {
        let plan = &self.grid.result.plan;
        let mut parts = vec![if plan.replications >= 2 {
            format!("mean of {} replications per point", plan.replications)
        } else {
            "one run per point".to_string()
        }];
        if let Some(n) = self.grid.panels_note() {
            parts.push(n);
        }
        if let Some((k, n)) = self.grid.result.shard {
            parts.push(format!("shard {k} of {n}: other points n/a"));
        }
        parts.join("; ")
    }

    /// The colour bar: the scale from lowest to highest value, its end
    /// values, and which way is better.
    fn draw_bar<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        scale: &Scale,
    ) -> Result<DrawingArea<DB, Shift>> {
        let unit = self.def.unit;
        let (x0, x1, y0, y1) = (330i32, 670i32, 2i32, 20i32);
        let constant = scale.lo.is_finite() && scale.lo == scale.hi;
        if constant {
            area.draw(&Text::new(
                format!("every point: {}", value_label(unit, scale.value_at(0.0))),
                ((x0 + x1) / 2, (y0 + y1) / 2),
                kit::text(LABEL_PX).pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(plot_err)?;
        } else if scale.lo.is_finite() && scale.hi.is_finite() {
            let steps = 68;
            for k in 0..steps {
                let u = (k as f64 + 0.5) / steps as f64;
                let a = x0 + (x1 - x0) * k / steps;
                let b = x0 + (x1 - x0) * (k + 1) / steps;
                area.draw(&Rectangle::new(
                    [(a, y0), (b, y1)],
                    scale.colour(scale.value_at(u)).filled(),
                ))
                .map_err(plot_err)?;
            }
            area.draw(&Rectangle::new([(x0, y0), (x1, y1)], palette::GREY))
                .map_err(plot_err)?;
            let style = kit::text(LABEL_PX);
            area.draw(&Text::new(
                value_label(unit, scale.value_at(0.0)),
                (x0 - 8, (y0 + y1) / 2),
                style.pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(plot_err)?;
            area.draw(&Text::new(
                value_label(unit, scale.value_at(1.0)),
                (x1 + 8, (y0 + y1) / 2),
                style.pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(plot_err)?;
        }
        let direction = match higher_is_better(self.def) {
            Some(true) => "lighter = better, darker = worse (lower)",
            Some(false) => "lighter = better, darker = worse (higher)",
            None => "darker = higher",
        };
        let log = if scale.log { "; log scale" } else { "" };
        area.draw(&Text::new(
            format!("{}: {direction}{log}; grey = n/a", self.def.name),
            ((x0 + x1) / 2, y1 + 6),
            kit::text(LABEL_PX)
                .color(&palette::GREY)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(plot_err)?;
        Ok(area.split_vertically(BAR_H).1)
    }
}

impl Draw for Heatmap<'_> {
    fn size(&self) -> (u32, u32) {
        (
            WIDTH,
            TITLE_H + 22 + BAR_H + self.panel_h() * self.grid.rows() as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let unit = self.def.unit;
        let area = kit::title(root, &self.title)?;
        let area = subtitle(&area, &self.subtitle())?;
        let scale = Scale::new(&self.values(), unit, higher_is_better(self.def));
        let area = self.draw_bar(&area, &scale)?;
        let (nx, ny) = (self.grid.x_labels.len().max(1), self.ny());
        let params = &self.grid.result.plan.params;
        let y_param = params.get(1);
        let y_labels: Vec<String> = (0..ny)
            .map(|j| {
                y_param
                    .and_then(|p| p.values.get(j))
                    .map(crate::sweep::ParamValue::plain)
                    .unwrap_or_default()
            })
            .collect();
        let every = |n: usize| n.div_ceil(14).max(1);
        let x_ticks: Vec<f64> = (0..nx).step_by(every(nx)).map(|i| i as f64 + 0.5).collect();
        let y_ticks: Vec<f64> = (0..ny).step_by(every(ny)).map(|j| j as f64 + 0.5).collect();
        let panels = area.split_evenly((self.grid.rows(), self.grid.columns()));
        let cell_style = kit::text(LABEL_PX).pos(Pos::new(HPos::Center, VPos::Center));
        for (panel_area, panel) in panels.iter().zip(&self.grid.panels) {
            let caption = self.grid.panel_title(panel);
            let mut b = ChartBuilder::on(panel_area);
            b.margin_top(4)
                .margin_left(8)
                .margin_right(20)
                .margin_bottom(4)
                .x_label_area_size(46)
                .y_label_area_size(96);
            if !caption.is_empty() {
                b.caption(&caption, kit::bold(DESC_PX));
            }
            let mut chart = b
                .build_cartesian_2d(
                    Ticked::new(0.0, nx as f64, x_ticks.clone()),
                    Ticked::new(0.0, ny as f64, y_ticks.clone()),
                )
                .map_err(plot_err)?;
            let fx = |v: &f64| {
                self.grid
                    .x_labels
                    .get(v.floor().max(0.0) as usize)
                    .cloned()
                    .unwrap_or_default()
            };
            let fy = |v: &f64| {
                y_labels
                    .get(v.floor().max(0.0) as usize)
                    .cloned()
                    .unwrap_or_default()
            };
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(&self.grid.x_desc)
                .y_desc(y_param.map(|p| p.label()).unwrap_or_default())
                .x_label_formatter(&fx)
                .y_label_formatter(&fy)
                .label_style(kit::text(LABEL_PX))
                .axis_desc_style(kit::text(DESC_PX))
                .draw()
                .map_err(plot_err)?;
            let (pw, ph) = chart.plotting_area().dim_in_pixel();
            let (cw, ch) = (pw as f64 / nx as f64, ph as f64 / ny as f64);
            for j in 0..ny {
                for i in 0..nx {
                    let v = est_mean(self.grid.point(i, j, panel), self.metric, unit);
                    let fill = v.map_or(MISSING, |v| scale.colour(v));
                    let (x, y) = (i as f64, j as f64);
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x, y), (x + 1.0, y + 1.0)],
                            fill.filled(),
                        )))
                        .map_err(plot_err)?;
                    // A thin white rule between cells, when they are big
                    // enough to spare it.
                    if cw >= 6.0 && ch >= 6.0 {
                        chart
                            .draw_series(std::iter::once(Rectangle::new(
                                [(x, y), (x + 1.0, y + 1.0)],
                                WHITE.stroke_width(1),
                            )))
                            .map_err(plot_err)?;
                    }
                    let label = v.map_or_else(|| "n/a".to_string(), |v| value_label(unit, v));
                    let style = cell_style.color(kit::ink_on(fill));
                    let (tw, th) = chart
                        .plotting_area()
                        .estimate_text_size(&label, &style)
                        .map_err(plot_err)?;
                    if tw as f64 + 6.0 <= cw && th as f64 + 4.0 <= ch {
                        chart
                            .draw_series(std::iter::once(Text::new(
                                label,
                                (x + 0.5, y + 0.5),
                                style,
                            )))
                            .map_err(plot_err)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The heatmap of metric `metric` (`def`) over the grid's first two
/// parameters.
pub(crate) fn heatmap(
    grid: &Grid,
    metric: usize,
    def: &MetricDef,
    f: Formats,
) -> Result<ChartFile> {
    let params = &grid.result.plan.params;
    let title = format!(
        "{} by {} and {}",
        def.name,
        params.first().map(|p| p.label()).unwrap_or_default(),
        params.get(1).map(|p| p.label()).unwrap_or_default()
    );
    let h = Heatmap {
        grid,
        metric,
        def,
        title: title.clone(),
    };
    render(
        &format!("sweep-heatmap-{}", super::sweep::slug(&def.name)),
        &title,
        &h,
        f,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_runs_light_to_dark() {
        assert_eq!(ramp(0.0), RAMP[0]);
        assert_eq!(ramp(1.0), RAMP[8]);
        assert_eq!(ramp(f64::NAN), ramp(0.5));
        let luma = |c: RGBColor| c.0 as u32 + c.1 as u32 + c.2 as u32;
        assert!(luma(ramp(0.2)) > luma(ramp(0.8)));
    }

    #[test]
    fn scale_directions() {
        let s = Scale::new(&[99.0, 100.0], Unit::Fraction, Some(true));
        assert!(s.t(100.0) < s.t(99.0));
        let s = Scale::new(&[10.0, 20.0], Unit::Ms, Some(false));
        assert!(!s.log && s.t(20.0) > s.t(10.0));
        let s = Scale::new(&[1.0, 1000.0], Unit::Ms, Some(false));
        assert!(s.log && (s.t(31.6227766) - 0.5).abs() < 1e-6);
        // Constant and extreme values stay on the scale.
        let s = Scale::new(&[5.0, 5.0], Unit::Ms, None);
        assert_eq!(s.t(5.0), 0.0);
        let s = Scale::new(&[0.0, 1e300], Unit::Ms, None);
        assert!(s.t(1e300).is_finite());
    }
}
