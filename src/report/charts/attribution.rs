//! Latency attribution: per workload two horizontal 100%-stacked bars,
//! all requests and the slowest 1%, split into the components of their
//! critical path. A reader sees at once whether the tail is made of the
//! same things as the typical request (more work) or of something else
//! (queueing in one service, retries).
//!
//! Each service has its series colour (as on the services chart) in three
//! shades: light for its queue, full for its work, dark for attempts lost
//! to it; network, lookups and backoff are greys. A component has the same
//! colour in every bar and workload.

use super::kit::{self, LABEL_PX};
use super::render::{plot_err, render};
use super::{palette, ChartFile, Draw, Formats};
use crate::metrics::attribution::{Breakdown, Kind};
use crate::metrics::Summary;
use crate::report::attribution::{services, whole_percents, Key};
use crate::report::saved::SavedRun;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const TITLE: &str = "Latency attribution (critical path)";

/// `c` mixed with white (`t` > 0) or black (`t` < 0) by |t|.
fn shade(c: RGBColor, t: f64) -> RGBColor {
    let (to, t) = if t >= 0.0 { (255.0, t) } else { (0.0, -t) };
    let mix = |v: u8| (v as f64 + (to - v as f64) * t).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// The colour of a component, fixed by its kind and its service's
/// position in the scenario (`services`).
pub(crate) fn colour(key: &Key, services: &[&str]) -> RGBColor {
    let service = key.service.as_ref().map(|s| {
        services
            .iter()
            .position(|x| x == s)
            .unwrap_or(services.len())
    });
    match (Kind::from_name(&key.kind), service) {
        (Some(Kind::Queue), Some(i)) => shade(palette::series(i), 0.55),
        (Some(Kind::Work), Some(i)) => palette::series(i),
        (Some(Kind::Lost), Some(i)) => shade(palette::series(i), -0.45),
        (Some(Kind::Network), _) => RGBColor(96, 96, 96),
        (Some(Kind::Lookup), _) => RGBColor(165, 165, 165),
        (Some(Kind::Backoff), _) => RGBColor(40, 40, 40),
        _ => RGBColor(200, 200, 200),
    }
}

/// One bar: a set of requests and its segments (component index into
/// [`Attribution::legend`], share).
struct Bar {
    /// First line of its label: the set and its request count.
    name: String,
    /// Second line: its p99 and mean latency.
    detail: String,
    segments: Vec<(usize, f64)>,
}

/// One workload's two bars.
struct Group {
    title: String,
    bars: Vec<Bar>,
}

/// What the chart shows, taken from the summary.
struct Attribution {
    /// Every component in some bar, in component order, with its colour.
    legend: Vec<(Key, RGBColor)>,
    groups: Vec<Group>,
}

impl Attribution {
    fn new(s: &Summary) -> Attribution {
        let order = services(s);
        let mut keys: Vec<Key> = Vec::new();
        for a in s.attribution.values() {
            for b in std::iter::once(&a.all).chain(&a.slowest) {
                for c in &b.components {
                    let k = Key::of(c);
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
            }
        }
        keys.sort_by_key(|k| k.rank(&order));
        let bar = |name: String, detail: String, b: &Breakdown| Bar {
            name,
            detail,
            segments: {
                let mut seg: Vec<(usize, f64)> = b
                    .components
                    .iter()
                    .filter_map(|c| {
                        let k = Key::of(c);
                        keys.iter().position(|x| *x == k).map(|i| (i, c.share))
                    })
                    .collect();
                seg.sort_by_key(|(i, _)| *i);
                seg
            },
        };
        let groups = s
            .attribution
            .iter()
            .map(|(name, a)| {
                let w = s.workloads.get(name);
                let target = w.map_or("", |w| w.target.as_str());
                let mut bars = vec![bar(
                    format!("all requests ({})", kit::count(a.all.requests)),
                    format!("mean {} ms", kit::sig3(a.all.mean_ms)),
                    &a.all,
                )];
                if let Some(b) = a.slowest.as_ref().filter(|b| b.requests > 0) {
                    let p99 = w
                        .and_then(|w| w.latency_ms.as_ref())
                        .map_or(b.from_ms, |l| l.p99);
                    bars.push(bar(
                        format!("slowest 1% ({})", kit::count(b.requests)),
                        format!(
                            "p99 {} ms, mean {} ms",
                            kit::sig3(p99),
                            kit::sig3(b.mean_ms)
                        ),
                        b,
                    ));
                }
                Group {
                    title: if target.is_empty() {
                        name.clone()
                    } else {
                        format!("{name} ({target})")
                    },
                    bars,
                }
            })
            .collect();
        Attribution {
            legend: keys
                .iter()
                .map(|k| (k.clone(), colour(k, &order)))
                .collect(),
            groups,
        }
    }

    /// Legend rows the chart reserves: entry widths estimated at 8.5 px a
    /// character (the label font is narrower), wrapped at the chart's
    /// width like [`kit::legend_row`] wraps them.
    fn legend_rows(&self) -> u32 {
        let (left, right) = (70.0, WIDTH as f64 - 10.0);
        let (mut x, mut rows) = (left, 1);
        for (k, _) in &self.legend {
            let entry = 42.0 + 8.5 * k.label().chars().count() as f64;
            if x > left && x + entry > right {
                x = left;
                rows += 1;
            }
            x += entry;
        }
        rows
    }
}

const WIDTH: u32 = 1000;
/// Height of one bar's row, and of a workload's title line, in pixels.
const BAR_H: u32 = 46;
const GROUP_TITLE_H: u32 = 30;
const GROUP_GAP: u32 = 14;
/// Width of the bars' labels left of them.
const LABEL_W: i32 = 250;
/// Height of the axis (ticks and description) below the bars.
const AXIS_H: u32 = 50;

impl Draw for Attribution {
    fn size(&self) -> (u32, u32) {
        let bars: u32 = self.groups.iter().map(|g| g.bars.len() as u32).sum();
        let groups = self.groups.len() as u32;
        let legend = self.legend_rows() * 26 + 8;
        (
            WIDTH,
            kit::TITLE_H + legend + groups * (GROUP_TITLE_H + GROUP_GAP) + bars * BAR_H + AXIS_H,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let area = kit::title(root, TITLE)?;
        let legend: Vec<(String, RGBColor)> =
            self.legend.iter().map(|(k, c)| (k.label(), *c)).collect();
        let area = kit::legend_row(&area, &legend)?;
        let (w, _) = area.dim_in_pixel();
        let (x0, x1) = (LABEL_W + 10, w as i32 - 30);
        let px = |share: f64| x0 + ((x1 - x0) as f64 * share.clamp(0.0, 1.0)).round() as i32;
        let bars_h: i32 = self
            .groups
            .iter()
            .map(|g| (GROUP_TITLE_H + g.bars.len() as u32 * BAR_H + GROUP_GAP) as i32)
            .sum();
        let top = 4;
        // Grid lines every 25%, behind the bars, and their labels below.
        let tick_style = kit::text(LABEL_PX).pos(Pos::new(HPos::Center, VPos::Top));
        for q in 0..=4 {
            let x = px(q as f64 / 4.0);
            area.draw(&PathElement::new(
                vec![(x, top), (x, top + bars_h)],
                palette::GREY.mix(0.25),
            ))
            .map_err(plot_err)?;
            area.draw(&Text::new(
                format!("{}%", q * 25),
                (x, top + bars_h + 4),
                tick_style.clone(),
            ))
            .map_err(plot_err)?;
        }
        area.draw(&Text::new(
            "share of the set's mean end-to-end latency (critical path)",
            ((x0 + x1) / 2, top + bars_h + 26),
            kit::text(kit::DESC_PX).pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(plot_err)?;

        let name_style = kit::bold(LABEL_PX).pos(Pos::new(HPos::Right, VPos::Bottom));
        let detail_style = kit::text(LABEL_PX)
            .color(&palette::GREY)
            .pos(Pos::new(HPos::Right, VPos::Top));
        let mut y = top;
        for g in &self.groups {
            area.draw(&Text::new(
                g.title.clone(),
                (10, y + GROUP_TITLE_H as i32 - 6),
                kit::bold(kit::DESC_PX).pos(Pos::new(HPos::Left, VPos::Bottom)),
            ))
            .map_err(plot_err)?;
            y += GROUP_TITLE_H as i32;
            for b in &g.bars {
                let (y0, y1) = (y + 5, y + BAR_H as i32 - 5);
                let mid = (y0 + y1) / 2;
                area.draw(&Text::new(
                    b.name.clone(),
                    (x0 - 10, mid),
                    name_style.clone(),
                ))
                .map_err(plot_err)?;
                area.draw(&Text::new(
                    b.detail.clone(),
                    (x0 - 10, mid + 1),
                    detail_style.clone(),
                ))
                .map_err(plot_err)?;
                let shares: Vec<f64> = b.segments.iter().map(|s| s.1).collect();
                let pct = whole_percents(&shares);
                let mut acc = 0.0;
                for ((i, share), p) in b.segments.iter().zip(pct) {
                    let (sx0, sx1) = (px(acc), px(acc + share));
                    acc += share;
                    let colour = self.legend[*i].1;
                    if sx1 > sx0 {
                        area.draw(&Rectangle::new([(sx0, y0), (sx1, y1)], colour.filled()))
                            .map_err(plot_err)?;
                        // A white edge between neighbours of similar shades.
                        area.draw(&PathElement::new(vec![(sx1, y0), (sx1, y1)], WHITE))
                            .map_err(plot_err)?;
                    }
                    let label = format!("{p}%");
                    let inside = kit::text(LABEL_PX)
                        .color(kit::ink_on(colour))
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    let (tw, _) = area.estimate_text_size(&label, &inside).map_err(plot_err)?;
                    if p > 0 && (sx1 - sx0) > tw as i32 + 6 {
                        area.draw(&Text::new(label, ((sx0 + sx1) / 2, mid), inside))
                            .map_err(plot_err)?;
                    }
                }
                y += BAR_H as i32;
            }
            y += GROUP_GAP as i32;
        }
        Ok(())
    }
}

/// The `attribution` chart, when some workload has latency attribution:
/// per workload a 100% bar of all requests and one of the slowest 1%,
/// split into their critical path's components (whole percentages on the
/// segments wide enough), a legend of every component shown, and each
/// bar's p99 or mean latency and request count beside it.
pub fn attribution(run: &SavedRun, f: Formats) -> Result<Vec<ChartFile>> {
    let s = &run.result.summary;
    if s.attribution.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![render("attribution", TITLE, &Attribution::new(s), f)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_keep_their_colour_and_shades_differ() {
        let order = ["user", "payment"];
        let key = |kind: &str, s: Option<&str>| Key {
            kind: kind.into(),
            service: s.map(String::from),
        };
        let q = colour(&key("queue", Some("payment")), &order);
        let w = colour(&key("work", Some("payment")), &order);
        let l = colour(&key("lost", Some("payment")), &order);
        assert_eq!(w, palette::series(1));
        assert!(q != w && l != w && q != l);
        assert_ne!(
            colour(&key("network", None), &order),
            colour(&key("backoff", None), &order)
        );
        assert_eq!(shade(RGBColor(0, 100, 200), 1.0), RGBColor(255, 255, 255));
        assert_eq!(shade(RGBColor(0, 100, 200), -1.0), RGBColor(0, 0, 0));
    }
}
