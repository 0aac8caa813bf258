//! Building blocks of the distribution, failure and comparison charts:
//! the title, a row of legend entries, axis ticks, number formats and
//! grouped vertical bars. Kept in one place so those charts look alike.

use super::palette;
use super::render::{plot_err, FONT};
use anyhow::Result;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

/// Height of the title band at the top of every chart, in pixels.
pub(crate) const TITLE_H: u32 = 50;
/// Size of axis tick labels, legend and value text. Plotters draws a
/// font of size `s` at `s / 1.24` pixels per em (in SVG and PNG alike),
/// so 17 gives 13.7 px text: the conventions ask for at least 13 px.
pub(crate) const LABEL_PX: u32 = 17;
/// Size of axis descriptions (14.5 px).
pub(crate) const DESC_PX: u32 = 18;
/// Size of titles (21 px).
pub(crate) const TITLE_PX: u32 = 26;

/// A text style in the charts' font.
pub(crate) fn text(px: u32) -> TextStyle<'static> {
    TextStyle::from((FONT, px))
}

/// A bold text style in the charts' font.
pub(crate) fn bold(px: u32) -> TextStyle<'static> {
    TextStyle::from((FONT, px, FontStyle::Bold))
}

/// Draws `title` in bold, centred at the top of `root` where the time
/// charts (plotters' `titled`) put theirs, and returns the area below
/// it, where the chart goes.
pub(crate) fn title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>> {
    let (w, _) = root.dim_in_pixel();
    root.draw(&Text::new(
        title.to_string(),
        (w as i32 / 2, 5),
        bold(TITLE_PX).pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(plot_err)?;
    Ok(root.split_vertically(TITLE_H).1)
}

/// Draws legend entries (a colour swatch and a name each) in rows from
/// the top left of `area`, wrapping at its right edge, and returns the
/// area below them. Used where a legend inside the plot would hide bars.
pub(crate) fn legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(String, RGBColor)],
) -> Result<DrawingArea<DB, Shift>> {
    if items.is_empty() {
        return Ok(area.clone());
    }
    let (w, _) = area.dim_in_pixel();
    let style = text(LABEL_PX).pos(Pos::new(HPos::Left, VPos::Center));
    let (left, row_h) = (70i32, 26i32);
    let (mut x, mut y) = (left, row_h / 2);
    for (name, colour) in items {
        let (tw, _) = area.estimate_text_size(name, &style).map_err(plot_err)?;
        let entry = 20 + tw as i32 + 22;
        if x > left && x + entry > w as i32 - 10 {
            x = left;
            y += row_h;
        }
        area.draw(&Rectangle::new(
            [(x, y - 7), (x + 14, y + 7)],
            colour.filled(),
        ))
        .map_err(plot_err)?;
        area.draw(&Text::new(name.clone(), (x + 20, y), style.clone()))
            .map_err(plot_err)?;
        x += entry;
    }
    Ok(area.split_vertically((y + row_h / 2 + 4) as u32).1)
}

/// A linear f64 axis with ticks (and grid lines) exactly where given.
/// Plotters' own `with_key_points` wrapper loses the f64 label formatter
/// the mesh needs; this keeps the default one, and every chart sets its
/// own formatter anyway.
pub(crate) struct Ticked {
    range: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    /// The axis `lo..hi` with `ticks`.
    pub(crate) fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Ticked {
        Ticked {
            range: (lo..hi).into(),
            ticks,
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.range.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.range()
    }
}

/// The width of a horizontal-bar chart's y label area: wide enough for
/// the longest of `names` (each written in the row-name style), within
/// 80..=320 pixels.
pub(crate) fn row_names_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    names: &[&str],
) -> Result<u32> {
    let name_style = text(DESC_PX);
    let mut name_w = 0;
    for name in names {
        name_w = name_w.max(
            area.estimate_text_size(name, &name_style)
                .map_err(plot_err)?
                .0,
        );
    }
    Ok((name_w + 24).clamp(80, 320))
}

/// A horizontal-bar chart's frame, its mesh drawn: one row per name, row
/// i spanning n-1-i .. n-i so the first name is on top (at least one
/// row, blank when there are no names), named on the y axis in a label
/// area `y_area` wide (see [`row_names_width`]); the x axis `x`, its
/// labels by `x_fmt`, described by `x_desc`.
pub(crate) fn bar_rows<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    names: &[&str],
    y_area: u32,
    x: Ticked,
    x_fmt: &dyn Fn(&f64) -> String,
    x_desc: &str,
) -> Result<ChartContext<'a, DB, Cartesian2d<Ticked, Ticked>>> {
    let n = names.len().max(1);
    let y_fmt = |y: &f64| {
        let row = n as f64 - 1.0 - y.floor();
        names
            .get(row.max(0.0) as usize)
            .map(|s| s.to_string())
            .unwrap_or_default()
    };
    let centres: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
    let mut chart = ChartBuilder::on(area)
        .margin_left(10)
        .margin_right(24)
        .margin_bottom(6)
        .x_label_area_size(48)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x, Ticked::new(0.0, n as f64, centres))
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .bold_line_style(palette::GREY.mix(0.25))
        .light_line_style(WHITE)
        .x_label_formatter(x_fmt)
        .y_label_formatter(&y_fmt)
        .x_label_style(text(LABEL_PX))
        .y_label_style(text(DESC_PX))
        .x_desc(x_desc)
        .axis_desc_style(text(DESC_PX))
        .draw()
        .map_err(plot_err)?;
    Ok(chart)
}

/// A "nice" step (1, 2 or 5 times a power of ten) dividing `span` into
/// about `target` parts.
pub(crate) fn nice_step(span: f64, target: usize) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    // A hair of tolerance: 100 - 99.8 is 0.20000000000000284.
    let m = match raw / mag * (1.0 - 1e-9) {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    };
    m * mag
}

/// Ticks at multiples of a nice step within `lo..=hi` (about `target` of
/// them).
pub(crate) fn linear_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    // Bounds the loop below: a span that overflows (hand-edited results
    // near f64::MAX) or is not a number would otherwise give billions of
    // ticks.
    if !(lo.is_finite() && hi.is_finite() && hi - lo > 0.0 && (hi - lo).is_finite()) {
        return [lo, hi].into_iter().filter(|v| v.is_finite()).collect();
    }
    let step = nice_step(hi - lo, target);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    if last.saturating_sub(first) > 10 * target.max(1) as i64 {
        return vec![lo, hi];
    }
    (first..=last).map(|k| round9(k as f64 * step)).collect()
}

/// Ticks at 1, 2 and 5 times powers of ten within `lo..=hi` (both > 0),
/// for a log axis; only the powers of ten when the range spans many
/// decades.
pub(crate) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && lo.is_finite() && hi.is_finite() && hi >= lo) {
        return Vec::new();
    }
    // Finite positive f64s span about -324..=309 decades: the loop below
    // stays short.
    let (d0, d1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mults: &[f64] = if d1 - d0 > 4 {
        &[1.0]
    } else {
        &[1.0, 2.0, 5.0]
    };
    let mut out = Vec::new();
    for d in d0..=d1 {
        for m in mults {
            let v = round9(m * 10f64.powi(d));
            if v.is_finite() && v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                out.push(v);
            }
        }
    }
    out
}

/// Rounds to nine significant digits, so computed ticks print as `0.3`,
/// not `0.30000000000000004`.
pub(crate) fn round9(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(8 - v.abs().log10().floor() as i32);
    let r = (v * scale).round() / scale;
    // Near the ends of f64's range the scale overflows.
    if r.is_finite() {
        r
    } else {
        v
    }
}

/// A tick value as text: the shortest form that reads back as the tick.
pub(crate) fn tick(v: f64) -> String {
    format!("{}", round9(v))
}

/// A measured value (ms, money) with three significant digits, at least
/// none and at most four decimals: `0.0123`, `4.56`, `12.3`, `257`.
pub(crate) fn sig3(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (2 - v.abs().log10().floor() as i32).clamp(0, 4) as usize;
    format!("{v:.decimals$}")
}

/// An integer with thousands separators: `12,345`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Black or white, whichever reads better on `bg`.
pub(crate) fn ink_on(bg: RGBColor) -> &'static RGBColor {
    let RGBColor(r, g, b) = bg;
    let luma = 0.299 * r as f64 + 0.587 * g as f64 + 0.114 * b as f64;
    if luma > 150.0 {
        &BLACK
    } else {
        &WHITE
    }
}

/// Grouped vertical bars: for each group (a workload) one bar per series
/// (a variant), with the series' colours, a legend row above the plot and
/// every bar's value written above it.
pub(crate) struct Grouped {
    /// The groups along the x axis.
    pub groups: Vec<String>,
    /// The series in each group: name and colour.
    pub series: Vec<(String, RGBColor)>,
    /// `values[group][series]`; `None` draws no bar but an "n/a" label.
    pub values: Vec<Vec<Option<f64>>>,
    /// The y axis' range; bars start at its bottom.
    pub y_range: (f64, f64),
    /// The y axis' ticks (within the range).
    pub y_ticks: Vec<f64>,
    /// The y axis' description, with its unit.
    pub y_desc: String,
    /// A y tick as text.
    pub y_label: fn(f64) -> String,
    /// A bar's value as written above it.
    pub value_label: fn(f64) -> String,
}

impl Grouped {
    /// Draws the bars in `area` (below the title).
    pub(crate) fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let area = legend_row(area, &self.series)?;
        let n = self.groups.len().max(1);
        let (lo, hi) = self.y_range;
        let centres: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
        let groups = &self.groups;
        let x_fmt = |x: &f64| {
            let i = x.floor().max(0.0) as usize;
            groups.get(i).cloned().unwrap_or_default()
        };
        let y_fmt = |y: &f64| (self.y_label)(*y);
        let mut chart = ChartBuilder::on(&area)
            .margin_left(10)
            .margin_right(20)
            .margin_bottom(6)
            .x_label_area_size(42)
            .y_label_area_size(84)
            .build_cartesian_2d(
                Ticked::new(0.0, n as f64, centres),
                Ticked::new(lo, hi, self.y_ticks.clone()),
            )
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(palette::GREY.mix(0.25))
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_label_style(text(DESC_PX))
            .y_label_style(text(LABEL_PX))
            .y_desc(self.y_desc.clone())
            .axis_desc_style(text(DESC_PX))
            .draw()
            .map_err(plot_err)?;

        let k = self.series.len().max(1);
        let inner = 0.8;
        let slot = inner / k as f64;
        // Pixel width of a bar, to decide whether labels fit side by side.
        let (pw, _) = chart.plotting_area().dim_in_pixel();
        let slot_px = pw as f64 / n as f64 * slot;
        let label_style = text(LABEL_PX).pos(Pos::new(HPos::Center, VPos::Bottom));
        let mut widest = 0u32;
        for row in &self.values {
            for v in row {
                let s = v.map_or_else(|| "n/a".to_string(), self.value_label);
                let (tw, _) = area
                    .estimate_text_size(&s, &label_style)
                    .map_err(plot_err)?;
                widest = widest.max(tw);
            }
        }
        // Too narrow: raise every other label by a line so neighbours do
        // not overlap.
        let stagger = widest as f64 + 4.0 > slot_px;
        for (g, row) in self.values.iter().enumerate() {
            for (s, v) in row.iter().enumerate() {
                let x0 = g as f64 + (1.0 - inner) / 2.0 + s as f64 * slot;
                let x1 = x0 + slot * 0.92;
                let colour = self.series.get(s).map_or(palette::GREY, |p| p.1);
                let top = match v {
                    Some(v) => {
                        let top = v.clamp(lo, hi);
                        chart
                            .draw_series(std::iter::once(Rectangle::new(
                                [(x0, lo), (x1, top)],
                                colour.filled(),
                            )))
                            .map_err(plot_err)?;
                        top
                    }
                    None => lo,
                };
                let label = v.map_or_else(|| "n/a".to_string(), self.value_label);
                let lift = if stagger && s % 2 == 1 { -20 } else { -4 };
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at(((x0 + x1) / 2.0, top))
                            + Text::new(label, (0, lift), label_style.clone()),
                    ))
                    .map_err(plot_err)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(
            linear_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(
            linear_ticks(99.8, 100.0, 4),
            vec![99.8, 99.85, 99.9, 99.95, 100.0]
        );
        assert_eq!(
            log_ticks(0.9, 120.0),
            vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
        );
        assert_eq!(
            log_ticks(0.01, 1e5),
            vec![0.01, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5]
        );
        assert_eq!(tick(0.1 + 0.2), "0.3");
    }

    #[test]
    fn ticks_of_extreme_ranges_are_few_and_finite() {
        // Spans that overflow, or reach 0 or infinity, used to loop over
        // billions of ticks (`microsim report` hung on hand-edited data).
        for (lo, hi) in [
            (0.0, f64::INFINITY),
            (0.0, f64::MAX),
            (-f64::MAX, f64::MAX),
            (f64::NAN, 1.0),
            (5.0, 5.0),
        ] {
            let t = linear_ticks(lo, hi, 6);
            assert!(
                t.len() <= 61 && t.iter().all(|v| v.is_finite()),
                "{lo} {hi}: {t:?}"
            );
        }
        for (lo, hi) in [(0.0, 10.0), (1.0, f64::INFINITY), (5e-324, f64::MAX)] {
            let t = log_ticks(lo, hi);
            assert!(
                t.len() <= 700 && t.iter().all(|v| v.is_finite() && *v > 0.0),
                "{lo} {hi}"
            );
        }
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(999), "999");
        assert_eq!(sig3(257.04), "257");
        assert_eq!(sig3(1.2), "1.20");
        assert_eq!(sig3(0.012345), "0.0123");
        assert_eq!(sig3(92.2), "92.2");
    }

    #[test]
    fn ink_contrasts() {
        assert_eq!(*ink_on(RGBColor(255, 187, 51)), BLACK);
        assert_eq!(*ink_on(RGBColor(31, 119, 180)), WHITE);
    }
}
