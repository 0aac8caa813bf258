//! Drawing one chart into the requested formats. A chart implements
//! [`Draw`] once, generically over the plotters backend, and [`render`]
//! draws it into an SVG string and a PNG image of the same size.

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::sync::OnceLock;

/// The font every chart's text is drawn in, embedded so no system font
/// library is needed (DejaVu Sans; see `fonts/LICENSE-DejaVu.txt`).
static REGULAR: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
/// Bold, for titles.
static BOLD: &[u8] = include_bytes!("fonts/DejaVuSans-Bold.ttf");

/// The family name charts ask for; SVG viewers substitute their own
/// sans-serif font, PNGs are drawn with the embedded one.
pub const FONT: &str = "sans-serif";

/// Registers the embedded font with plotters once. Plotters' bitmap
/// backend panics when it draws text without a font, so [`render`] calls
/// this first and refuses to draw if it failed.
fn ensure_font() -> Result<()> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        register_font(FONT, FontStyle::Normal, REGULAR)
            .map_err(|_| "the embedded regular font is not a valid font".to_string())?;
        register_font(FONT, FontStyle::Bold, BOLD)
            .map_err(|_| "the embedded bold font is not a valid font".to_string())
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

/// Which image formats to write (`--charts png,svg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// Write `NAME.png`.
    pub png: bool,
    /// Write `NAME.svg`.
    pub svg: bool,
}

impl Default for Formats {
    fn default() -> Self {
        Formats {
            png: true,
            svg: true,
        }
    }
}

impl Formats {
    /// Parses a comma-separated list of `png` and `svg`.
    pub fn parse(list: &str) -> Result<Formats, String> {
        let mut f = Formats {
            png: false,
            svg: false,
        };
        for part in list.split(',').map(str::trim) {
            match part {
                "png" => f.png = true,
                "svg" => f.svg = true,
                other => {
                    return Err(format!(
                        "unknown chart format `{other}`: expected a comma-separated list of png and svg"
                    ))
                }
            }
        }
        Ok(f)
    }
}

/// One drawn chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFile {
    /// File stem (`latency` for `charts/latency.svg`).
    pub name: String,
    /// The chart's title, also used as the HTML report's caption.
    pub title: String,
    /// The SVG document, when SVG was requested (the HTML report inlines
    /// it, so it is always drawn when a report is written).
    pub svg: Option<String>,
    /// The PNG file, when PNG was requested.
    pub png: Option<Vec<u8>>,
}

/// A chart that can be drawn on any plotters backend, so one definition
/// gives both the SVG and the PNG.
pub trait Draw {
    /// Size in pixels (width, height).
    fn size(&self) -> (u32, u32);
    /// Draws the chart on `root`, which is already filled white.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Turns a plotters error (whose types vary by backend) into an error.
pub fn plot_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing a chart: {e}")
}

/// Draws `chart` into the formats asked for.
pub fn render<C: Draw>(name: &str, title: &str, chart: &C, formats: Formats) -> Result<ChartFile> {
    ensure_font()?;
    let (w, h) = chart.size();
    let svg = if formats.svg {
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
            root.fill(&WHITE).map_err(plot_err)?;
            chart.draw(&root).with_context(|| format!("chart {name}"))?;
            root.present().map_err(plot_err)?;
        }
        Some(out)
    } else {
        None
    };
    let png = if formats.png {
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            root.fill(&WHITE).map_err(plot_err)?;
            chart.draw(&root).with_context(|| format!("chart {name}"))?;
            root.present().map_err(plot_err)?;
        }
        Some(encode_png(&rgb, w, h)?)
    } else {
        None
    };
    Ok(ChartFile {
        name: name.to_string(),
        title: title.to_string(),
        svg,
        png,
    })
}

/// Encodes an RGB buffer as a PNG file (deterministic: same pixels, same
/// bytes).
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().context("encoding a PNG")?;
        writer.write_image_data(rgb).context("encoding a PNG")?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Hello;
    impl Draw for Hello {
        fn size(&self) -> (u32, u32) {
            (200, 100)
        }
        fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
            root.draw(&Text::new("Hello p99", (10, 40), (FONT, 24)))
                .map_err(plot_err)?;
            Ok(())
        }
    }

    #[test]
    fn text_renders_into_both_formats() {
        let c = render("hello", "Hello", &Hello, Formats::default()).unwrap();
        let svg = c.svg.unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("Hello p99"),
            "{svg}"
        );
        let png = c.png.unwrap();
        assert_eq!(&png[1..4], b"PNG");
        // The text drew dark pixels: decode and look.
        let dec = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = dec.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut buf).unwrap();
        let dark = buf.chunks(3).filter(|p| p[0] < 128).count();
        assert!(dark > 50, "{dark} dark pixels");
    }

    #[test]
    fn formats_parse() {
        assert_eq!(Formats::parse("png,svg").unwrap(), Formats::default());
        assert_eq!(
            Formats::parse("svg").unwrap(),
            Formats {
                png: false,
                svg: true
            }
        );
        assert!(Formats::parse("jpg").unwrap_err().contains("png and svg"));
    }
}
