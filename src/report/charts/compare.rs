//! The charts of `compare --out`: the variants side by side, variant `i`
//! in colour `palette::series(i)` on every chart. Latency distributions
//! overlaid per workload, availability and p99 as grouped bars, and the
//! cost per hour when the scenario prices its services.

use super::distribution::{self, Named};
use super::kit::{self, Grouped, Ticked, DESC_PX, LABEL_PX, TITLE_H};
use super::render::{plot_err, render};
use super::{palette, ChartFile, Draw, Formats};
use crate::report::saved::SavedCompare;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Every workload of any variant, in order of first appearance (the
/// first variant's order, then what later variants add).
fn workloads(c: &SavedCompare) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in &c.comparison.variants {
        for w in v.summary.workloads.keys() {
            if !out.contains(w) {
                out.push(w.clone());
            }
        }
    }
    out
}

/// The variants' names and colours.
fn variants(c: &SavedCompare) -> Vec<(String, RGBColor)> {
    c.comparison
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| (v.name.clone(), palette::series(i)))
        .collect()
}

/// Height of one workload's panel in `compare-percentiles`.
const PANEL_H: u32 = 300;

/// `compare-percentiles`: per workload, the variants' distributions.
struct Percentiles<'a> {
    c: &'a SavedCompare,
    workloads: Vec<String>,
}

impl Draw for Percentiles<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, TITLE_H + PANEL_H * self.workloads.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let area = kit::title(root, PERCENTILES)?;
        let panels = area.split_evenly((self.workloads.len().max(1), 1));
        let names = variants(self.c);
        let per_workload: Vec<Vec<Named>> = self
            .workloads
            .iter()
            .map(|w| {
                self.c
                    .variants
                    .iter()
                    .zip(&names)
                    .map(|(run, (name, colour))| {
                        let points = run.result.percentiles.get(w).map_or(&[][..], Vec::as_slice);
                        Named {
                            name: distribution::label(name, points),
                            colour: *colour,
                            points,
                        }
                    })
                    .collect()
            })
            .collect();
        // One scale for every panel, so they read alike: log when any
        // workload's latencies need it.
        let log = per_workload
            .iter()
            .any(|d| distribution::wants_log_latency(d));
        for ((panel, w), dists) in panels.iter().zip(&self.workloads).zip(&per_workload) {
            distribution::draw_distributions(
                panel,
                Some(&format!("workload {w}")),
                dists,
                Some(log),
            )?;
        }
        Ok(())
    }
}

/// An availability as a bar's label: three decimals, as the comparison
/// table prints it (`99.912%`), more when three would round it to 100,
/// and `100%` only when nothing failed.
fn availability_label(v: f64) -> String {
    if v >= 100.0 {
        return "100%".to_string();
    }
    // Never round a failure away: 99.9996% is not "100.000%".
    (3..=6)
        .map(|d| format!("{v:.d$}%"))
        .find(|s| !s.starts_with("100"))
        .unwrap_or_else(|| "99.99999%".to_string())
}

/// The availability axis' lower end: below the lowest bar by a quarter of
/// its distance to 100%, on a round tick, so 99.9% and 99.99% differ
/// visibly instead of both filling the axis (a bar's height is its
/// availability above that floor, and the axis says where it starts).
fn availability_floor(lowest: f64) -> f64 {
    let gap = (100.0 - lowest).max(0.0);
    if gap < 1e-9 {
        return 99.0;
    }
    let raw = 100.0 - gap * 1.25;
    let step = kit::nice_step(100.0 - raw, 4);
    ((raw / step).floor() * step).max(0.0)
}

fn availability_chart(c: &SavedCompare, workloads: &[String]) -> Grouped {
    let values: Vec<Vec<Option<f64>>> = workloads
        .iter()
        .map(|w| {
            c.comparison
                .variants
                .iter()
                .map(|v| v.summary.workloads.get(w)?.availability.map(|a| a * 100.0))
                .collect()
        })
        .collect();
    let lowest = values
        .iter()
        .flatten()
        .flatten()
        .copied()
        .fold(100.0, f64::min);
    let lo = availability_floor(lowest);
    // Headroom above 100% for the value labels; no tick there.
    let hi = 100.0 + (100.0 - lo) * 0.12;
    let y_ticks = kit::linear_ticks(lo, 100.0, 5);
    let y_desc = if lo > 0.0 {
        format!(
            "availability (% of completed requests; axis from {}%)",
            kit::tick(lo)
        )
    } else {
        "availability (% of completed requests)".to_string()
    };
    Grouped {
        groups: workloads.to_vec(),
        series: variants(c),
        values,
        y_range: (lo, hi),
        y_ticks,
        y_desc,
        y_label: |v| format!("{}%", kit::tick(v)),
        value_label: availability_label,
    }
}

fn p99_chart(c: &SavedCompare, workloads: &[String]) -> Grouped {
    let values: Vec<Vec<Option<f64>>> = workloads
        .iter()
        .map(|w| {
            c.comparison
                .variants
                .iter()
                .map(|v| Some(v.summary.workloads.get(w)?.latency_ms.as_ref()?.p99))
                .collect()
        })
        .collect();
    let max = values
        .iter()
        .flatten()
        .flatten()
        .copied()
        .fold(0.0, f64::max);
    let top = if max > 0.0 { max } else { 1.0 };
    Grouped {
        groups: workloads.to_vec(),
        series: variants(c),
        values,
        y_range: (0.0, top * 1.14),
        y_ticks: kit::linear_ticks(0.0, top * 1.05, 6),
        y_desc: "p99 latency (ms)".to_string(),
        y_label: kit::tick,
        value_label: |v| format!("{} ms", kit::sig3(v)),
    }
}

/// A [`Grouped`] chart under a title.
struct Bars {
    title: &'static str,
    bars: Grouped,
}

impl Draw for Bars {
    fn size(&self) -> (u32, u32) {
        (1000, 480)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let area = kit::title(root, self.title)?;
        self.bars.draw(&area)
    }
}

/// `compare-cost`: per variant, its cost per hour stacked by service.
struct Cost {
    /// Variant names and colours.
    variants: Vec<(String, RGBColor)>,
    /// Every priced service of any variant, in order of first appearance.
    services: Vec<String>,
    /// `per_hour[variant][service]`; `None` for a variant without prices.
    per_hour: Vec<Option<Vec<f64>>>,
    /// The variants' totals per hour.
    totals: Vec<Option<f64>>,
    /// The currency label (the first priced variant's).
    currency: String,
}

impl Cost {
    /// `None` when no variant is priced.
    fn new(c: &SavedCompare) -> Option<Cost> {
        let summaries: Vec<_> = c.comparison.variants.iter().map(|v| &v.summary).collect();
        let currency = summaries
            .iter()
            .find_map(|s| s.cost.as_ref())?
            .currency
            .clone();
        let mut services: Vec<String> = Vec::new();
        for s in &summaries {
            for name in s.cost.iter().flat_map(|c| c.services.keys()) {
                if !services.contains(name) {
                    services.push(name.clone());
                }
            }
        }
        let per_hour = summaries
            .iter()
            .map(|s| {
                let cost = s.cost.as_ref()?;
                Some(
                    services
                        .iter()
                        .map(|n| cost.services.get(n).map_or(0.0, |r| r.per_hour))
                        .collect(),
                )
            })
            .collect();
        let totals = summaries
            .iter()
            .map(|s| s.cost.as_ref().map(|c| c.per_hour))
            .collect();
        Some(Cost {
            variants: variants(c),
            services,
            per_hour,
            totals,
            currency,
        })
    }
}

impl Draw for Cost {
    fn size(&self) -> (u32, u32) {
        (1000, 480)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let area = kit::title(root, COST)?;
        // Services in light fills, so a bar's parts never pass for another
        // variant; each bar is outlined in its variant's colour.
        let legend: Vec<(String, RGBColor)> = self
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), palette::part(i)))
            .collect();
        let area = kit::legend_row(&area, &legend)?;
        let n = self.variants.len().max(1);
        let max = self.totals.iter().flatten().copied().fold(0.0, f64::max);
        let top = if max > 0.0 { max } else { 1.0 };
        let hi = top * 1.14;
        let names: Vec<&str> = self.variants.iter().map(|v| v.0.as_str()).collect();
        let x_fmt = |x: &f64| {
            names
                .get(x.floor().max(0.0) as usize)
                .map(|s| s.to_string())
                .unwrap_or_default()
        };
        let centres: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
        let mut chart = ChartBuilder::on(&area)
            .margin_left(10)
            .margin_right(20)
            .margin_bottom(6)
            .x_label_area_size(42)
            .y_label_area_size(84)
            .build_cartesian_2d(
                Ticked::new(0.0, n as f64, centres),
                Ticked::new(0.0, hi, kit::linear_ticks(0.0, top * 1.05, 6)),
            )
            .map_err(plot_err)?;
        let y_fmt = |v: &f64| kit::tick(*v);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(palette::GREY.mix(0.25))
            .light_line_style(WHITE)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_label_style(kit::text(DESC_PX))
            .y_label_style(kit::text(LABEL_PX))
            .y_desc(format!("cost ({} per hour)", self.currency))
            .axis_desc_style(kit::text(DESC_PX))
            .draw()
            .map_err(plot_err)?;
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let px_per = ph as f64 / hi;
        let bar_px = pw as f64 / n as f64 * 0.6;
        let inside_style = kit::text(LABEL_PX).pos(Pos::new(HPos::Center, VPos::Center));
        let top_style = kit::text(LABEL_PX).pos(Pos::new(HPos::Center, VPos::Bottom));
        for (i, parts) in self.per_hour.iter().enumerate() {
            let (x0, x1) = (i as f64 + 0.2, i as f64 + 0.8);
            let Some(parts) = parts else {
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((i as f64 + 0.5, 0.0))
                            + Text::new("not priced", (0, -4), top_style.clone()),
                    ))
                    .map_err(plot_err)?;
                continue;
            };
            let mut y = 0.0;
            for (si, &v) in parts.iter().enumerate() {
                if v <= 0.0 {
                    continue;
                }
                let colour = palette::part(si);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x0, y), (x1, y + v)],
                        colour.filled(),
                    )))
                    .map_err(plot_err)?;
                // The service and its part when the segment holds a line
                // of text; just the part when the name does not fit.
                if v * px_per >= 22.0 {
                    let style = inside_style.color(kit::ink_on(colour));
                    let mut s = format!("{} {}", self.services[si], money(v));
                    let (tw, _) = area.estimate_text_size(&s, &style).map_err(plot_err)?;
                    if tw as f64 + 8.0 > bar_px {
                        s = money(v);
                    }
                    chart
                        .draw_series(std::iter::once(Text::new(
                            s,
                            ((x0 + x1) / 2.0, y + v / 2.0),
                            style,
                        )))
                        .map_err(plot_err)?;
                }
                y += v;
            }
            let total = self.totals[i].unwrap_or(y);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, 0.0), (x1, total)],
                    palette::series(i).stroke_width(3),
                )))
                .map_err(plot_err)?;
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((i as f64 + 0.5, total))
                        + Text::new(
                            format!("{} {}/h", money(total), self.currency),
                            (0, -4),
                            kit::bold(LABEL_PX).pos(Pos::new(HPos::Center, VPos::Bottom)),
                        ),
                ))
                .map_err(plot_err)?;
        }
        Ok(())
    }
}

/// An amount of money: cents from 0.1 up (`1.20`, `0.45`), three
/// significant digits below (`0.0123`).
fn money(v: f64) -> String {
    if v.abs() >= 0.1 {
        format!("{v:.2}")
    } else {
        kit::sig3(v)
    }
}

const PERCENTILES: &str = "Latency percentile distribution by variant";
const AVAILABILITY: &str = "Availability by variant";
const P99: &str = "p99 latency by variant";
const COST: &str = "Cost per hour by variant";

/// The charts of a comparison: `compare-percentiles` (per workload, the
/// variants' latency distributions overlaid), `compare-availability` and
/// `compare-p99` (grouped bars per workload, values written on them) and,
/// when some variant is priced, `compare-cost` (each variant's cost per
/// hour, stacked by service).
pub fn charts(c: &SavedCompare, f: Formats) -> Result<Vec<ChartFile>> {
    let workloads = workloads(c);
    let mut out = vec![
        render(
            "compare-percentiles",
            PERCENTILES,
            &Percentiles {
                c,
                workloads: workloads.clone(),
            },
            f,
        )?,
        render(
            "compare-availability",
            AVAILABILITY,
            &Bars {
                title: AVAILABILITY,
                bars: availability_chart(c, &workloads),
            },
            f,
        )?,
        render(
            "compare-p99",
            P99,
            &Bars {
                title: P99,
                bars: p99_chart(c, &workloads),
            },
            f,
        )?,
    ];
    if let Some(cost) = Cost::new(c) {
        out.push(render("compare-cost", COST, &cost, f)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_axis_separates_the_nines() {
        // 99.9% and 99.99%: the axis starts below 99.9 and not far below,
        // so the bars' heights differ by a visible share of the axis.
        let lo = availability_floor(99.9);
        assert!((99.8..99.9).contains(&lo), "{lo}");
        assert!((99.99 - lo) / (99.9 - lo) > 1.5);
        assert_eq!(availability_floor(100.0), 99.0);
        assert_eq!(availability_floor(0.0), 0.0);
        let lo = availability_floor(62.0);
        assert!((40.0..62.0).contains(&lo), "{lo}");
    }

    #[test]
    fn availability_labels() {
        assert_eq!(availability_label(100.0), "100%");
        assert_eq!(availability_label(99.91234), "99.912%");
        assert_eq!(availability_label(99.9996), "99.9996%");
    }
}
