//! Failures by cause: one horizontal bar per workload, stacked by why its
//! requests failed, so a reader sees at once which workload failed, how
//! much, and whether it was timeouts, rejections or a fault's errors.

use super::kit::{self, Ticked, LABEL_PX};
use super::render::{plot_err, render};
use super::{palette, ChartFile, Draw, Formats};
use crate::metrics::Summary;
use crate::report::saved::SavedRun;
use crate::world::outcome::Cause;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const TITLE: &str = "Failures by cause";

/// One workload's bar.
#[derive(Debug, Clone, PartialEq)]
struct Bar {
    workload: String,
    requests: u64,
    failed: u64,
    /// Failures per cause, aligned with [`Failures::causes`].
    by_cause: Vec<u64>,
}

/// What the chart shows, taken from the summary.
#[derive(Debug, Clone, PartialEq)]
struct Failures {
    /// The causes that occur, in reporting order ([`Cause::ALL`], then any
    /// other name in the order met).
    causes: Vec<String>,
    /// One bar per workload, in scenario order.
    bars: Vec<Bar>,
}

impl Failures {
    fn new(s: &Summary) -> Failures {
        let mut causes: Vec<String> = Vec::new();
        let occurs = |name: &str| {
            s.workloads
                .values()
                .any(|w| w.failures.get(name).is_some_and(|n| *n > 0))
        };
        for c in Cause::ALL {
            if occurs(c.name()) {
                causes.push(c.name().to_string());
            }
        }
        for w in s.workloads.values() {
            for name in w.failures.keys() {
                if !causes.contains(name) && occurs(name) {
                    causes.push(name.clone());
                }
            }
        }
        let bars = s
            .workloads
            .iter()
            .map(|(name, w)| Bar {
                workload: name.clone(),
                requests: w.requests,
                failed: w.failed,
                by_cause: causes
                    .iter()
                    .map(|c| w.failures.get(c).copied().unwrap_or(0))
                    .collect(),
            })
            .collect();
        Failures { causes, bars }
    }

    fn max_failed(&self) -> u64 {
        self.bars
            .iter()
            .map(|b| b.by_cause.iter().sum::<u64>().max(b.failed))
            .max()
            .unwrap_or(0)
    }
}

/// The text beside a bar: the failures and their share of the requests.
fn bar_label(b: &Bar) -> String {
    if b.requests == 0 {
        return "no requests".to_string();
    }
    let share = b.failed as f64 / b.requests as f64 * 100.0;
    let share = if b.failed == 0 {
        "0".to_string()
    } else if share < 0.01 {
        "<0.01".to_string()
    } else {
        format!("{share:.2}")
    };
    format!(
        "{} failed: {share}% of {} requests",
        kit::count(b.failed),
        kit::count(b.requests)
    )
}

/// Height of one workload's row, in pixels.
const ROW_H: u32 = 54;

impl Draw for Failures {
    fn size(&self) -> (u32, u32) {
        let rows = self.bars.len().max(1) as u32;
        (1000, (kit::TITLE_H + 34 + 62 + rows * ROW_H).max(260))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let area = kit::title(root, TITLE)?;
        let legend: Vec<(String, RGBColor)> = self
            .causes
            .iter()
            .map(|c| (c.clone(), palette::cause(c)))
            .collect();
        let area = kit::legend_row(&area, &legend)?;
        let n = self.bars.len().max(1);
        let max = self.max_failed();

        // The y axis names the workloads: wide enough for the longest.
        let names: Vec<&str> = self.bars.iter().map(|b| b.workload.as_str()).collect();
        let y_area = kit::row_names_width(&area, &names)?;
        // Room right of the longest bar for its label: scale the x axis so
        // the bars take what the labels leave.
        let label_style = kit::text(LABEL_PX).pos(Pos::new(HPos::Left, VPos::Center));
        let mut label_w = 0;
        for b in &self.bars {
            label_w = label_w.max(
                area.estimate_text_size(&bar_label(b), &label_style)
                    .map_err(plot_err)?
                    .0,
            );
        }
        let (w, _) = area.dim_in_pixel();
        let plot_w = (w as f64 - y_area as f64 - 10.0 - 24.0).max(100.0);
        let bar_share = ((plot_w - label_w as f64 - 14.0) / plot_w).clamp(0.3, 0.95);
        let x_hi = if max == 0 {
            1.0
        } else {
            max as f64 / bar_share
        };
        let x_ticks = if max == 0 {
            vec![0.0]
        } else {
            // Counts: whole ticks only, none past the longest bar's room.
            kit::linear_ticks(0.0, max as f64, 5)
                .into_iter()
                .filter(|t| t.fract() == 0.0)
                .collect()
        };
        // Row i (workload i) spans n-1-i .. n-i: the first workload on top.
        let x_fmt = |x: &f64| kit::count(x.round() as u64);
        let mut chart = kit::bar_rows(
            &area,
            &names,
            y_area,
            Ticked::new(0.0, x_hi, x_ticks),
            &x_fmt,
            "failed requests (after the warm-up)",
        )?;

        let (pw, _) = chart.plotting_area().dim_in_pixel();
        let px_per = pw as f64 / x_hi;
        for (i, b) in self.bars.iter().enumerate() {
            let y0 = (n - 1 - i) as f64 + 0.22;
            let y1 = y0 + 0.56;
            let mut x = 0.0;
            for (c, &k) in self.causes.iter().zip(&b.by_cause) {
                if k == 0 {
                    continue;
                }
                let colour = palette::cause(c);
                let x1 = x + k as f64;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x, y0), (x1, y1)],
                        colour.filled(),
                    )))
                    .map_err(plot_err)?;
                // The count inside its segment when it fits.
                let s = kit::count(k);
                let inside = kit::text(LABEL_PX)
                    .color(kit::ink_on(colour))
                    .pos(Pos::new(HPos::Center, VPos::Center));
                let (tw, _) = area.estimate_text_size(&s, &inside).map_err(plot_err)?;
                if (k as f64 * px_per) > tw as f64 + 8.0 {
                    chart
                        .draw_series(std::iter::once(Text::new(
                            s,
                            ((x + x1) / 2.0, (y0 + y1) / 2.0),
                            inside,
                        )))
                        .map_err(plot_err)?;
                }
                x = x1;
            }
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((x, (y0 + y1) / 2.0))
                        + Text::new(bar_label(b), (8, 0), label_style.clone()),
                ))
                .map_err(plot_err)?;
        }
        if max == 0 {
            let plot = chart.plotting_area().strip_coord_spec();
            let (pw, ph) = plot.dim_in_pixel();
            plot.draw(&Text::new(
                "no failed requests",
                (pw as i32 / 2, ph as i32 / 2),
                kit::bold(24)
                    .color(&palette::OK)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(plot_err)?;
        }
        Ok(())
    }
}

/// The `failures` chart: failed requests per workload, stacked by cause
/// (only the causes that occur, each in its fixed colour), with each
/// workload's failures and their share of its requests written beside
/// its bar. Drawn with a "no failed requests" note when nothing failed,
/// so the report always has it.
pub fn failures(run: &SavedRun, f: Formats) -> Result<Vec<ChartFile>> {
    let chart = Failures::new(&run.result.summary);
    Ok(vec![render("failures", TITLE, &chart, f)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(requests: u64, failed: u64) -> Bar {
        Bar {
            workload: "w".into(),
            requests,
            failed,
            by_cause: vec![failed],
        }
    }

    #[test]
    fn labels_give_count_and_share() {
        assert_eq!(
            bar_label(&bar(51200, 1234)),
            "1,234 failed: 2.41% of 51,200 requests"
        );
        assert_eq!(
            bar_label(&bar(1_000_000, 3)),
            "3 failed: <0.01% of 1,000,000 requests"
        );
        assert_eq!(bar_label(&bar(10, 0)), "0 failed: 0% of 10 requests");
        assert_eq!(bar_label(&bar(0, 0)), "no requests");
    }
}
