//! The percentile distribution, failures-by-cause and comparison charts:
//! valid, drawn (not blank), deterministic, with the axes and labels the
//! data calls for.

use super::common::{microsim, run_bundled, scenario, texts};
use microsim::metrics::RunResult;
use microsim::report::charts::{compare, distribution, failures, ChartFile, Formats};
use microsim::report::compare::VariantResult;
use microsim::report::saved::{load_compare, RunMeta, SavedCompare, SavedRun};

fn saved(result: RunResult) -> SavedRun {
    SavedRun {
        result,
        meta: RunMeta::default(),
        source: String::new(),
    }
}

/// Width, height and RGB pixels of a PNG.
fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .expect("a valid PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// How many pixels have exactly this colour.
fn pixels_of(rgb: &[u8], (r, g, b): (u8, u8, u8)) -> usize {
    rgb.chunks(3).filter(|p| p == &[r, g, b]).count()
}

/// Asserts the chart is a valid, non-blank PNG 1000 px wide and an SVG
/// with at least `min_shapes` drawing elements; returns the SVG.
fn assert_drawn(c: &ChartFile, min_shapes: usize) -> String {
    let (w, h, rgb) = decode(c.png.as_ref().expect("a PNG"));
    assert_eq!(w, 1000, "{}", c.name);
    let n = (w * h) as usize;
    let ink = rgb.chunks(3).filter(|p| p != &[255, 255, 255]).count();
    assert!(
        ink * 100 > n * 2,
        "{}: only {ink} of {n} pixels drawn",
        c.name
    );
    // Not one flat colour: the grey levels vary.
    let mean = rgb.iter().map(|v| *v as f64).sum::<f64>() / rgb.len() as f64;
    let var = rgb.iter().map(|v| (*v as f64 - mean).powi(2)).sum::<f64>() / rgb.len() as f64;
    assert!(var > 100.0, "{}: pixel variance {var}", c.name);
    let svg = c.svg.clone().expect("an SVG");
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{}",
        c.name
    );
    let shapes = [
        "<polyline",
        "<rect",
        "<line",
        "<path",
        "<circle",
        "<polygon",
    ]
    .iter()
    .map(|t| svg.matches(t).count())
    .sum::<usize>();
    assert!(shapes >= min_shapes, "{}: {shapes} shapes", c.name);
    assert!(svg.contains(&c.title), "{}: title missing", c.name);
    svg
}

/// The text of every `<text>` element of an SVG.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|el| {
            let body = el.split_once('>')?.1;
            Some(body.split("</text>").next()?.trim().to_string())
        })
        .collect()
}

/// Whether some `<text>` of the SVG reads exactly `t`.
fn has_text(svg: &str, t: &str) -> bool {
    svg_texts(svg).iter().any(|s| s == t)
}

/// The points of every `<polyline>` drawn in `stroke` (`#RRGGBB`).
fn polylines(svg: &str, stroke: &str) -> Vec<Vec<(f64, f64)>> {
    svg.split("<polyline")
        .skip(1)
        .filter(|el| el.contains(&format!("stroke=\"{stroke}\"")))
        .map(|el| {
            let pts = el
                .split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            pts.split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

#[test]
fn percentile_chart_reaches_the_tail_and_is_deterministic() {
    let run = saved(run_bundled(
        "checkout.toml",
        &["simulation.duration=60s", "simulation.warmup=5s"],
    ));
    let f = Formats::default();
    let charts = distribution::percentiles(&run, f).unwrap();
    assert_eq!(charts.len(), 1);
    let c = &charts[0];
    assert_eq!(c.name, "percentiles");
    assert_eq!(charts, distribution::percentiles(&run, f).unwrap());
    let svg = assert_drawn(c, 20);
    for w in run.result.summary.workloads.keys() {
        assert!(svg.contains(&format!("{w} (max ")), "legend entry of {w}");
    }

    // The highest percentile below 100 in the data sets the tail: its
    // whole nines are labelled ("99.9%" for 99.93%) and the first
    // workload's line (in its colour) ends inside the x axis, near its end.
    let p_max = run
        .result
        .percentiles
        .values()
        .flatten()
        .map(|p| p.percentile)
        .filter(|p| *p < 100.0)
        .fold(0.0, f64::max);
    assert!(p_max > 99.9, "{p_max}");
    let nines = -(1.0 - p_max / 100.0).log10();
    let k = nines.floor() as i32;
    let label = format!("{:.*}%", (k - 2).max(0) as usize, 100.0 - 10f64.powi(2 - k));
    assert!(has_text(&svg, &label), "no tick {label}");
    let axis = polylines(&svg, "#000000")
        .into_iter()
        .filter(|l| l.len() == 2 && l[0].1 == l[1].1)
        .max_by(|a, b| (a[1].0 - a[0].0).total_cmp(&(b[1].0 - b[0].0)))
        .expect("an x axis");
    let (x0, x1) = (axis[0].0.min(axis[1].0), axis[0].0.max(axis[1].0));
    let line = polylines(&svg, "#1F77B4")
        .into_iter()
        .max_by_key(|l| l.len())
        .expect("the first workload's line");
    assert!(line.len() > 20);
    let end = line.iter().map(|p| p.0).fold(0.0, f64::max);
    assert!(
        end <= x1 && end > x0 + (x1 - x0) * 0.85,
        "line ends at {end}, axis {x0}..{x1}"
    );
}

#[test]
fn failures_chart_stacks_the_causes_or_says_there_are_none() {
    let f = Formats::default();
    let storm = saved(run_bundled(
        "retry-storm.toml",
        &["simulation.duration=80s"],
    ));
    let w = &storm.result.summary.workloads["search"];
    assert!(w.failures["rejected"] > 0 && w.failures["timeout"] > 0);
    let c = failures::failures(&storm, f).unwrap().remove(0);
    assert_eq!(c.name, "failures");
    assert_eq!(c, failures::failures(&storm, f).unwrap().remove(0));
    let svg = assert_drawn(&c, 4);
    assert!(has_text(&svg, "rejected") && has_text(&svg, "timeout"));
    assert!(!svg.contains("injected_error") && !svg.contains("no failed requests"));
    let share = w.failed as f64 / w.requests as f64 * 100.0;
    assert!(
        svg.contains(&format!("{share:.2}% of")),
        "share {share:.2}%"
    );
    // Both causes' colours fill a bar.
    let (_, _, rgb) = decode(c.png.as_ref().unwrap());
    assert!(pixels_of(&rgb, (214, 39, 40)) > 2000, "rejected");
    assert!(pixels_of(&rgb, (255, 127, 14)) > 2000, "timeout");

    let calm = saved(run_bundled(
        "checkout.toml",
        &["simulation.duration=20s", "simulation.warmup=2s"],
    ));
    let c = failures::failures(&calm, f).unwrap().remove(0);
    let svg = assert_drawn(&c, 2);
    assert!(svg.contains("no failed requests"));
    assert!(has_text(&svg, "checkout") && has_text(&svg, "order-status"));
}

#[test]
fn compare_draws_the_variants_side_by_side_and_costs_only_when_priced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cmp");
    let o = microsim(
        tmp.path(),
        &[
            "compare",
            scenario("scale-payment.toml").to_str().unwrap(),
            "--variant",
            "payment-x3:services.payment.replicas=3",
            "--variant",
            "monolith:deployment.mode=monolith",
            "--set",
            "simulation.duration=30s",
            "--set",
            "simulation.warmup=3s",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{:?}", texts(&o));
    let saved = load_compare(&out).unwrap();
    let charts = compare::charts(&saved, Formats::default()).unwrap();
    let names: Vec<&str> = charts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "compare-percentiles",
            "compare-availability",
            "compare-p99",
            "compare-cost"
        ]
    );
    for c in &charts {
        assert_title_centred(c);
        // What the CLI wrote is what the saved results redraw.
        let dir = out.join("charts");
        assert_eq!(
            std::fs::read(dir.join(format!("{}.png", c.name))).unwrap(),
            *c.png.as_ref().unwrap()
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(format!("{}.svg", c.name))).unwrap(),
            *c.svg.as_ref().unwrap()
        );
        let svg = assert_drawn(c, 8);
        for v in ["baseline", "payment-x3", "monolith"] {
            assert!(svg.contains(v), "{}: no {v}", c.name);
        }
    }
    // One percentile panel per workload; the p99 bars carry their values.
    let pct = charts[0].svg.as_ref().unwrap();
    assert!(pct.contains("workload checkout") && pct.contains("workload browse"));
    let p99 = charts[2].svg.as_ref().unwrap();
    let base = &saved.comparison.variants[0].summary.workloads["checkout"];
    let v = base.latency_ms.as_ref().unwrap().p99;
    let label = if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    };
    assert!(has_text(p99, &label), "no p99 label {label}");
    let cost = charts[3].svg.as_ref().unwrap();
    let per_hour = saved.comparison.variants[1]
        .summary
        .cost
        .as_ref()
        .unwrap()
        .per_hour;
    assert!(
        has_text(cost, &format!("{per_hour:.2} USD/h")),
        "{per_hour}"
    );

    // checkout prices nothing: no cost chart.
    let out = tmp.path().join("unpriced");
    let o = microsim(
        tmp.path(),
        &[
            "compare",
            scenario("checkout.toml").to_str().unwrap(),
            "--variant",
            "pay4:services.payment.replicas=4",
            "--set",
            "simulation.duration=15s",
            "--set",
            "simulation.warmup=2s",
            "--charts",
            "svg",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{:?}", texts(&o));
    let dir = out.join("charts");
    for name in ["compare-percentiles", "compare-availability", "compare-p99"] {
        assert!(dir.join(format!("{name}.svg")).is_file(), "{name}");
        assert!(
            !dir.join(format!("{name}.png")).exists(),
            "{name}: svg only"
        );
    }
    assert!(!dir.join("compare-cost.svg").exists());
}

#[test]
fn empty_data_draws_notes_instead_of_failing() {
    let f = Formats::default();
    let mut run = saved(run_bundled(
        "checkout.toml",
        &["simulation.duration=5s", "simulation.warmup=1s"],
    ));
    // Nothing measured: no distribution, no latency, no requests.
    run.result.percentiles.clear();
    for w in run.result.summary.workloads.values_mut() {
        w.requests = 0;
        w.ok = 0;
        w.failed = 0;
        w.failures.clear();
        w.availability = None;
        w.latency_ms = None;
    }
    let c = distribution::percentiles(&run, f).unwrap().remove(0);
    decode(c.png.as_ref().unwrap());
    let svg = c.svg.unwrap();
    assert!(has_text(&svg, "no successful requests: no latency to plot"));
    assert!(has_text(&svg, "checkout (no successful requests)"));
    let c = failures::failures(&run, f).unwrap().remove(0);
    decode(c.png.as_ref().unwrap());
    let svg = c.svg.unwrap();
    assert!(has_text(&svg, "no failed requests") && has_text(&svg, "no requests"));

    let variant = |name: &str| VariantResult {
        name: name.to_string(),
        file: "checkout.toml".to_string(),
        overrides: vec![],
        seed: 1,
        summary: run.result.summary.clone(),
    };
    let c = SavedCompare {
        comparison: microsim::report::compare::compare(vec![variant("a"), variant("b")]),
        variants: vec![run.clone(), run.clone()],
    };
    let charts = compare::charts(&c, f).unwrap();
    assert_eq!(charts.len(), 3, "unpriced: no cost chart");
    for c in &charts {
        decode(c.png.as_ref().unwrap());
        assert!(has_text(c.svg.as_ref().unwrap(), "n/a") || c.name == "compare-percentiles");
    }
}

/// The title's `<text>` tag of a chart's SVG (its first text).
fn title_tag(c: &ChartFile) -> String {
    let svg = c.svg.as_deref().unwrap();
    let tag = svg.split("<text ").nth(1).unwrap();
    let (tag, rest) = tag.split_once('>').unwrap();
    assert_eq!(
        rest.split("</text>").next().unwrap().trim(),
        c.title,
        "{}",
        c.name
    );
    tag.to_string()
}

/// Every chart puts its title in the same place and size: centred at
/// the top, as the time charts do.
fn assert_title_centred(c: &ChartFile) {
    let tag = title_tag(c);
    for attr in [
        "x=\"500\"",
        "y=\"5\"",
        "text-anchor=\"middle\"",
        "font-weight=\"bold\"",
    ] {
        assert!(tag.contains(attr), "{}: title {tag}", c.name);
    }
}

#[test]
fn every_run_chart_titles_alike() {
    let run = saved(run_bundled(
        "payment-outage.toml",
        &["simulation.duration=60s"],
    ));
    let svg = Formats {
        png: false,
        svg: true,
    };
    let charts = microsim::report::charts::run_charts(&run, svg).unwrap();
    assert!(charts.len() >= 7);
    let first = title_tag(&charts[0]);
    let size = |t: &str| {
        t.split("font-size=")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_string()
    };
    for c in &charts {
        assert_title_centred(c);
        assert_eq!(size(&title_tag(c)), size(&first), "{}", c.name);
    }
}
