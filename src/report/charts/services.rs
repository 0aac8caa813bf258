//! Charts of the services over simulated time: replicas and utilisation
//! per service, and queue lengths; with the same shading and markers as
//! the workload time charts (see [`super::timeline`]).

use super::kit::{DESC_PX, LABEL_PX};
use super::palette;
use super::render::plot_err;
use super::timeline::{
    build_time_chart, draw_gapped, draw_legend, draw_time_mesh, note_in_plot, note_on, panels,
    panels_height, text, tint, Events, LegendItem, LinesOverTime, Stroke, Swatch, YAxis, WIDTH,
};
use super::{render, ChartFile, Draw, Formats};
use crate::metrics::ServiceWindow;
use crate::report::saved::SavedRun;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

const SERVICES_TITLE: &str = "Replicas and utilisation over time";
const QUEUES_TITLE: &str = "Queue length over time";

/// The windows of one service, in time order.
fn windows<'r>(run: &'r SavedRun, name: &'r str) -> impl Iterator<Item = &'r ServiceWindow> {
    run.result
        .timeseries
        .services
        .iter()
        .filter(move |w| w.service == name)
}

/// A window's middle, where its mean values are plotted.
fn mid(w: &ServiceWindow) -> f64 {
    (w.start_s + w.end_s) / 2.0
}

/// Colour of the utilisation line: neutral, so it reads apart from the
/// replica lines in the service's colour.
const UTILISATION: RGBColor = RGBColor(70, 70, 70);

struct Services<'r>(&'r SavedRun);

impl Draw for Services<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, panels_height(self.0.result.summary.services.len()))
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let run = self.0;
        let s = &run.result.summary;
        if s.services.is_empty() {
            return note_on(root, SERVICES_TITLE, "no services");
        }
        // Headroom above 100% and the highest replica count, where the
        // event labels sit clear of the lines.
        let pct = YAxis {
            lo: 0.0,
            hi: 115.0,
            ticks: vec![0.0, 25.0, 50.0, 75.0, 100.0],
            log: false,
        };
        for (i, (name, (plot, legend))) in s
            .services
            .keys()
            .zip(panels(root, SERVICES_TITLE, s.services.len())?)
            .enumerate()
        {
            let colour = palette::series(i);
            let max = windows(run, name)
                .map(|w| {
                    (w.replicas as f64)
                        .max(w.available_replicas)
                        .max(w.mean_replicas.unwrap_or(0.0))
                })
                .fold(1.0, f64::max);
            let y = YAxis::linear(max * 1.15, true);
            let chart = build_time_chart(&plot, Some((name, colour)), s.simulated_seconds, &y, 70)?;
            let events = Events::of(run, Some(name));
            let x = chart_x(&chart);
            let mut chart = chart.set_secondary_coord(x, pct.coord());
            draw_time_mesh(&mut chart, &y, "replicas")?;
            chart
                .configure_secondary_axes()
                .y_desc("utilisation (%)")
                .y_label_formatter(&|v| pct.label(*v))
                .label_style(text(LABEL_PX, BLACK))
                .axis_desc_style(text(DESC_PX, BLACK))
                .draw()
                .map_err(plot_err)?;
            events.shade(&mut *chart)?;
            events.label(&mut *chart)?;
            let desired = desired_steps(run, name);
            let mut items = vec![LegendItem::new(
                "replicas (desired)",
                Swatch::Line(colour, 3),
            )];
            if !desired.is_empty() {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        desired,
                        colour.stroke_width(3),
                    )))
                    .map_err(plot_err)?;
            }
            let avail = tint(colour, 0.5);
            draw_gapped(
                &mut *chart,
                windows(run, name).map(|w| (mid(w), Some(w.available_replicas))),
                avail.stroke_width(2),
            )?;
            items.push(LegendItem::new("available (mean)", Swatch::Line(avail, 2)));
            if windows(run, name).any(|w| w.mean_replicas.is_some()) {
                let existing = RGBColor(0, 0, 0);
                draw_gapped(
                    &mut *chart,
                    windows(run, name).map(|w| (mid(w), w.mean_replicas)),
                    existing.mix(0.55).stroke_width(1),
                )?;
                items.push(LegendItem::new(
                    "existing (mean)",
                    Swatch::Line(RGBColor(130, 130, 130), 1),
                ));
            }
            let util: Vec<(f64, f64)> = windows(run, name)
                .map(|w| (mid(w), 100.0 * w.utilization))
                .collect();
            if util.len() == 1 {
                chart
                    .draw_secondary_series(std::iter::once(Circle::new(
                        util[0],
                        3,
                        UTILISATION.filled(),
                    )))
                    .map_err(plot_err)?;
            } else if !util.is_empty() {
                chart
                    .draw_secondary_series(std::iter::once(Stroke::new(
                        util,
                        UTILISATION.stroke_width(2),
                    )))
                    .map_err(plot_err)?;
            }
            items.push(LegendItem::new(
                "utilisation % (right)",
                Swatch::Line(UTILISATION, 2),
            ));
            if windows(run, name).next().is_none() {
                note_in_plot(&*chart, "no data")?;
            }
            items.extend(events.legend().iter().cloned());
            draw_legend(&legend, &items, 30)?;
        }
        Ok(())
    }
}

/// The desired replica count of `service` as a step line: it changes only
/// at scaling decisions, so those give the steps exactly; without any it
/// is the (constant) count of the windows.
fn desired_steps(run: &SavedRun, service: &str) -> Vec<(f64, f64)> {
    let s = &run.result.summary;
    let end = s.simulated_seconds;
    let decisions: Vec<_> = s.scaling.iter().filter(|d| d.service == service).collect();
    let Some(first) = decisions.first() else {
        return windows(run, service)
            .flat_map(|w| [(w.start_s, w.replicas as f64), (w.end_s, w.replicas as f64)])
            .collect();
    };
    let mut pts = vec![(0.0, first.from as f64)];
    for d in &decisions {
        let prev = pts[pts.len() - 1].1;
        pts.push((d.at_s, prev));
        pts.push((d.at_s, d.to as f64));
    }
    let last = pts[pts.len() - 1].1;
    pts.push((end, last));
    pts
}

/// The time axis of `chart`, for a secondary coordinate that shares it.
fn chart_x<DB: DrawingBackend>(chart: &super::timeline::TimeChart<DB>) -> super::timeline::Axis {
    {
        let x = chart.x_range();
        super::timeline::Axis::new(x.start, x.end, Vec::new())
    }
}

/// Chart `services`: per service, its replicas (desired, available to the
/// balancer, and existing/paid for when scaling or cost is on) and its
/// utilisation on a right-hand axis, with faults, deploys and that
/// service's scaling decisions marked.
pub fn services(run: &SavedRun, f: Formats) -> Result<Vec<ChartFile>> {
    Ok(vec![render("services", SERVICES_TITLE, &Services(run), f)?])
}

/// Chart `queues`: the mean number of requests waiting at each service per
/// window, a line per service in its colour, on one chart so queues
/// building up along a call chain can be compared.
pub fn queues(run: &SavedRun, f: Formats) -> Result<Vec<ChartFile>> {
    let chart = LinesOverTime {
        run,
        title: QUEUES_TITLE,
        y_desc: "requests waiting (mean)",
        series: run
            .result
            .summary
            .services
            .keys()
            .map(|name| {
                let pts = windows(run, name).map(|w| (mid(w), w.queue_length));
                (name.clone(), pts.collect())
            })
            .collect(),
        no_series: "no services",
        all_zero: Some("no request ever waited in a queue"),
    };
    Ok(vec![render("queues", QUEUES_TITLE, &chart, f)?])
}
