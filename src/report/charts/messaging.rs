//! Charts of asynchronous messaging and eventual consistency over
//! simulated time: each subscription's consumer lag, and each data copy's
//! inconsistency window with its stale-read rate. Drawn like the other
//! time charts (see [`super::timeline`]): warm-up and fault windows
//! shaded and labelled, so a broker outage and the lag it builds read
//! together. Only drawn when the run has subscriptions or copies.

use super::kit::{DESC_PX, LABEL_PX};
use super::palette;
use super::render::plot_err;
use super::timeline::{
    build_time_chart, draw_gapped, draw_legend, draw_time_mesh, note_in_plot, panels,
    panels_height, text, tint, Axis, Events, LegendItem, Swatch, TimeChart, YAxis, WIDTH,
};
use super::{render, ChartFile, Draw, Formats};
use crate::metrics::messaging::{CopyWindow, SubscriptionWindow};
use crate::report::saved::SavedRun;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

const LAG_TITLE: &str = "Consumer lag over time";
const WINDOW_TITLE: &str = "Inconsistency window over time";

/// Every subscription of the run as (topic, subscriber), in summary
/// order.
fn subscriptions(run: &SavedRun) -> Vec<(&str, &str)> {
    run.result
        .summary
        .messaging
        .iter()
        .flat_map(|m| m.topics.iter())
        .flat_map(|(t, tp)| {
            tp.subscriptions
                .keys()
                .map(move |s| (t.as_str(), s.as_str()))
        })
        .collect()
}

/// Every data copy of the run (`DATA@HOLDER`), in summary order.
fn copies(run: &SavedRun) -> Vec<&str> {
    run.result
        .summary
        .messaging
        .iter()
        .flat_map(|m| m.copies.keys().map(String::as_str))
        .collect()
}

/// The windows of one subscription, in time order.
fn sub_windows<'r>(
    run: &'r SavedRun,
    topic: &'r str,
    subscriber: &'r str,
) -> impl Iterator<Item = &'r SubscriptionWindow> + Clone {
    run.result
        .timeseries
        .subscriptions
        .iter()
        .filter(move |w| w.topic == topic && w.subscriber == subscriber)
}

/// The windows of one copy, in time order.
fn copy_windows<'r>(run: &'r SavedRun, copy: &'r str) -> impl Iterator<Item = &'r CopyWindow> {
    run.result
        .timeseries
        .copies
        .iter()
        .filter(move |w| w.copy == copy)
}

/// The time axis of `chart`, for a secondary coordinate sharing it.
fn chart_x<DB: DrawingBackend>(chart: &TimeChart<DB>) -> Axis {
    let x = chart.x_range();
    Axis::new(x.start, x.end, Vec::new())
}

struct Lag<'r>(&'r SavedRun);

impl Draw for Lag<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, panels_height(subscriptions(self.0).len()))
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let run = self.0;
        let s = &run.result.summary;
        let subs = subscriptions(run);
        let events = Events::of(run, None);
        for (i, ((topic, subscriber), (plot, legend))) in subs
            .iter()
            .zip(panels(root, LAG_TITLE, subs.len())?)
            .enumerate()
        {
            let colour = palette::series(i);
            let windows = sub_windows(run, topic, subscriber);
            let max = windows
                .clone()
                .map(|w| w.max_lag.max(w.lag).max(w.in_outboxes))
                .max()
                .unwrap_or(0);
            // Events an outage holds back in publishers' outboxes become
            // lag only once the broker stores them: shown apart.
            let outboxes = windows.clone().any(|w| w.in_outboxes > 0);
            // Room above the highest lag for the fault labels.
            let y = YAxis::linear((max as f64 * 1.25).max(1.0), true);
            let name = format!("{topic} → {subscriber}");
            let mut chart =
                build_time_chart(&plot, Some((&name, colour)), s.simulated_seconds, &y, 0)?;
            draw_time_mesh(&mut chart, &y, "events not yet handled")?;
            events.shade(&mut chart)?;
            events.label(&mut chart)?;
            // The most during each window as a step across it; the lag
            // at each window's end as a line through those instants.
            let light = tint(colour, 0.55);
            draw_gapped(
                &mut chart,
                windows.clone().flat_map(|w| {
                    let v = Some(w.max_lag as f64);
                    [(w.start_s, v), (w.end_s, v)]
                }),
                light.stroke_width(2),
            )?;
            draw_gapped(
                &mut chart,
                windows.clone().map(|w| (w.end_s, Some(w.lag as f64))),
                colour.stroke_width(3),
            )?;
            if outboxes {
                draw_gapped(
                    &mut chart,
                    windows
                        .clone()
                        .map(|w| (w.end_s, Some(w.in_outboxes as f64))),
                    STALE.stroke_width(2),
                )?;
            }
            if windows.clone().next().is_none() {
                note_in_plot(&chart, "no data")?;
            } else if max == 0 {
                note_in_plot(&chart, "no event ever waited")?;
            }
            let mut items = vec![
                LegendItem::new("lag (window end)", Swatch::Line(colour, 3)),
                LegendItem::new("max lag in window", Swatch::Line(light, 2)),
            ];
            if outboxes {
                items.push(LegendItem::new("in outboxes", Swatch::Line(STALE, 2)));
            }
            items.extend(events.legend().iter().cloned());
            draw_legend(&legend, &items, 30)?;
        }
        Ok(())
    }
}

/// A window's middle, where its values over the window are plotted.
fn mid(start: f64, end: f64) -> f64 {
    (start + end) / 2.0
}

/// Colour of the stale-read line: neutral, so it reads apart from the
/// window lines in the copy's colour.
const STALE: RGBColor = RGBColor(70, 70, 70);

/// Per window, the share of the copy's reads that were stale, in %;
/// `None` without reads.
fn stale_pct(w: &CopyWindow) -> Option<f64> {
    (w.reads > 0).then(|| 100.0 * w.stale_reads as f64 / w.reads as f64)
}

struct Inconsistency<'r>(&'r SavedRun);

impl Draw for Inconsistency<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, panels_height(copies(self.0).len()))
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let run = self.0;
        let s = &run.result.summary;
        let list = copies(run);
        let events = Events::of(run, None);
        let values: Vec<Vec<f64>> = list
            .iter()
            .map(|c| {
                copy_windows(run, c)
                    .flat_map(|w| [w.window_p50_ms, w.window_p99_ms].into_iter().flatten())
                    .collect()
            })
            .collect();
        // One scale for every panel: log when any copy's windows span
        // more than 1.5 decades (an outage stretches them a thousandfold).
        let log = values.iter().any(|v| YAxis::auto(v).log);
        for (i, ((copy, values), (plot, legend))) in list
            .iter()
            .zip(&values)
            .zip(panels(root, WINDOW_TITLE, list.len())?)
            .enumerate()
        {
            let colour = palette::series(i);
            let y = YAxis::scaled(values, log);
            let desc = if y.log {
                "window (ms, log)"
            } else {
                "window (ms)"
            };
            let top = copy_windows(run, copy)
                .filter_map(stale_pct)
                .fold(0.0, f64::max);
            // A % axis up to a round value above the highest rate (at
            // most 100%), with headroom for the fault labels.
            let pct = YAxis::linear((top * 1.25).clamp(1.0, 100.0), false);
            let chart = build_time_chart(&plot, Some((copy, colour)), s.simulated_seconds, &y, 70)?;
            let x = chart_x(&chart);
            let mut chart = chart.set_secondary_coord(x, pct.coord());
            draw_time_mesh(&mut chart, &y, desc)?;
            chart
                .configure_secondary_axes()
                .y_desc("stale reads (%)")
                .y_label_formatter(&|v| pct.label(*v))
                .label_style(text(LABEL_PX, BLACK))
                .axis_desc_style(text(DESC_PX, BLACK))
                .draw()
                .map_err(plot_err)?;
            events.shade(&mut chart)?;
            events.label(&mut chart)?;
            let light = tint(colour, 0.55);
            draw_gapped(
                &mut chart,
                copy_windows(run, copy)
                    .map(|w| (mid(w.start_s, w.end_s), w.window_p50_ms.map(|v| y.map(v)))),
                light.stroke_width(2),
            )?;
            draw_gapped(
                &mut chart,
                copy_windows(run, copy)
                    .map(|w| (mid(w.start_s, w.end_s), w.window_p99_ms.map(|v| y.map(v)))),
                colour.stroke_width(3),
            )?;
            for seg in super::timeline::segments(
                copy_windows(run, copy).map(|w| (mid(w.start_s, w.end_s), stale_pct(w))),
            ) {
                if seg.len() == 1 {
                    chart
                        .draw_secondary_series(std::iter::once(Circle::new(
                            seg[0],
                            3,
                            STALE.filled(),
                        )))
                        .map_err(plot_err)?;
                } else {
                    chart
                        .draw_secondary_series(std::iter::once(super::timeline::Stroke::new(
                            seg,
                            STALE.stroke_width(2),
                        )))
                        .map_err(plot_err)?;
                }
            }
            if copy_windows(run, copy).next().is_none() {
                note_in_plot(&chart, "no data")?;
            } else if values.is_empty() {
                note_in_plot(&chart, "no write reached the copy")?;
            }
            let mut items = vec![
                LegendItem::new("window p50", Swatch::Line(light, 2)),
                LegendItem::new("window p99", Swatch::Line(colour, 3)),
                LegendItem::new("stale reads % (right)", Swatch::Line(STALE, 2)),
            ];
            items.extend(events.legend().iter().cloned());
            draw_legend(&legend, &items, 30)?;
        }
        Ok(())
    }
}

/// Chart `consumer-lag`: per subscription (a panel each), the events
/// stored and not yet handled at each window's end and the most during
/// it, with warm-up and faults shaded; only when the run has
/// subscriptions.
pub fn consumer_lag(run: &SavedRun, f: Formats) -> Result<Vec<ChartFile>> {
    if subscriptions(run).is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![render("consumer-lag", LAG_TITLE, &Lag(run), f)?])
}

/// Chart `inconsistency-window`: per data copy (a panel each), the p50
/// and p99 of the inconsistency windows of the writes the copy caught up
/// with in each window (on a log axis when they span more than 1.5
/// decades; gaps where none did) and the share of stale reads on a
/// right-hand % axis, with warm-up and faults shaded; only when the run
/// has copies.
pub fn inconsistency_window(run: &SavedRun, f: Formats) -> Result<Vec<ChartFile>> {
    if copies(run).is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![render(
        "inconsistency-window",
        WINDOW_TITLE,
        &Inconsistency(run),
        f,
    )?])
}

const SAGAS_TITLE: &str = "Saga outcomes";

/// The outcomes of a saga and their colours, in the order `started` adds
/// them up.
const OUTCOMES: [(&str, RGBColor); 5] = [
    ("completed", palette::OK),
    ("compensated", palette::DEGRADED),
    ("inconsistent", palette::FAILED),
    ("interrupted", RGBColor(90, 90, 90)),
    ("in flight", RGBColor(190, 190, 190)),
];

/// A saga endpoint's counts of [`OUTCOMES`].
fn outcomes(g: &crate::metrics::saga::SagaSummary) -> [u64; 5] {
    [
        g.completed,
        g.compensated,
        g.inconsistent,
        g.interrupted,
        g.in_flight,
    ]
}

/// Height of one saga endpoint's row, in pixels.
const SAGA_ROW_H: u32 = 70;

struct Sagas<'r>(&'r SavedRun);

impl Draw for Sagas<'_> {
    fn size(&self) -> (u32, u32) {
        let rows = self.0.result.summary.sagas.len().max(1) as u32;
        (
            1000,
            (super::kit::TITLE_H + 34 + 62 + rows * SAGA_ROW_H).max(260),
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        use super::kit::{self, Ticked};
        use plotters::style::text_anchor::{HPos, Pos, VPos};
        let sagas = &self.0.result.summary.sagas;
        let area = kit::title(root, SAGAS_TITLE)?;
        let legend: Vec<(String, RGBColor)> =
            OUTCOMES.iter().map(|(l, c)| (l.to_string(), *c)).collect();
        let area = kit::legend_row(&area, &legend)?;
        let n = sagas.len().max(1);
        let names: Vec<&str> = sagas.keys().map(String::as_str).collect();
        // Row i (saga endpoint i) spans n-1-i .. n-i: the first on top.
        let mut chart = kit::bar_rows(
            &area,
            &names,
            kit::row_names_width(&area, &names)?,
            Ticked::new(0.0, 100.0, vec![0.0, 25.0, 50.0, 75.0, 100.0]),
            &|x| format!("{}%", kit::tick(*x)),
            "share of the sagas started after the warm-up",
        )?;
        let (pw, _) = chart.plotting_area().dim_in_pixel();
        let px_per = pw as f64 / 100.0;
        for (i, g) in sagas.values().enumerate() {
            // The bar in the row's upper part; under it, the counts that
            // are too few to see as a segment (one inconsistent saga in
            // thousands).
            let (y0, y1) = ((n - 1 - i) as f64 + 0.4, (n - 1 - i) as f64 + 0.9);
            if g.started > 0 {
                let note = format!(
                    "{} started: {} inconsistent, {} interrupted, {} in flight",
                    kit::count(g.started),
                    kit::count(g.inconsistent),
                    kit::count(g.interrupted),
                    kit::count(g.in_flight)
                );
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((0.0, (n - 1 - i) as f64 + 0.2))
                            + Text::new(
                                note,
                                (6, 0),
                                kit::text(LABEL_PX).pos(Pos::new(HPos::Left, VPos::Center)),
                            ),
                    ))
                    .map_err(plot_err)?;
            }
            if g.started == 0 {
                chart
                    .draw_series(std::iter::once(Text::new(
                        "no sagas started",
                        (1.0, (y0 + y1) / 2.0),
                        kit::text(LABEL_PX).pos(Pos::new(HPos::Left, VPos::Center)),
                    )))
                    .map_err(plot_err)?;
                continue;
            }
            let mut x = 0.0;
            for ((_, colour), k) in OUTCOMES.into_iter().zip(outcomes(g)) {
                if k == 0 {
                    continue;
                }
                let x1 = (x + 100.0 * k as f64 / g.started as f64).min(100.0);
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
                if (x1 - x) * px_per > tw as f64 + 8.0 {
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
        }
        Ok(())
    }
}

/// Chart `sagas`: per saga endpoint, a bar of how the sagas started after
/// the warm-up ended (completed, compensated, inconsistent, interrupted,
/// still in flight), as shares of those started with the counts inside;
/// only when the run has sagas.
pub fn sagas(run: &SavedRun, f: Formats) -> Result<Vec<ChartFile>> {
    if run.result.summary.sagas.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![render("sagas", SAGAS_TITLE, &Sagas(run), f)?])
}
