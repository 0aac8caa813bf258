//! A sweep's charts and report: lines with confidence bands, heatmaps,
//! categorical and numeric axes, panels, degenerate data, and `microsim
//! report DIR` redrawing a sweep directory byte for byte.

use super::common::{microsim, overrides, scenario, texts, tree};
use microsim::metrics::catalog::{MetricDef, Unit};
use microsim::report::charts::{sweep as sweep_charts, ChartFile, Formats};
use microsim::report::sweep::presentation;
use microsim::sweep::{
    grid, param, point, Estimate, Param, ParamValue, Plan, PointResult, Replication, Seeding,
    SweepResult,
};

/// Runs a real sweep of a bundled scenario (short runs) as the sweep
/// command would: every point, `reps` replications each.
fn real_sweep(file: &str, sets: &[&str], params: &[&str], zip: bool, reps: u32) -> SweepResult {
    let ovr = overrides(sets);
    let sc = microsim::scenario::load(&scenario(file), &ovr).unwrap();
    let base = point::Base::new(&sc, ovr);
    let params: Vec<Param> = params
        .iter()
        .map(|a| param::parse_arg(a).unwrap())
        .collect();
    let points = grid::expand(&params, zip).unwrap();
    let models: Vec<_> = points
        .iter()
        .map(|v| base.scenario(&params, v).unwrap().model)
        .collect();
    let plan = Plan {
        scenario: sc.model.name.clone(),
        scenario_file: format!("scenarios/{file}"),
        source_hash: "0".into(),
        overrides: sets.iter().map(|s| s.to_string()).collect(),
        params,
        zip,
        replications: reps,
        base_seed: sc.model.seed,
        seeding: Seeding::Independent,
        metrics: point::union_metrics(&models),
    };
    let points = points
        .into_iter()
        .zip(&models)
        .enumerate()
        .map(|(index, (values, model))| {
            let runs: Vec<Replication> = (0..reps)
                .map(|r| point::run_replication(model, &plan, index, r, &mut |_, _| {}).unwrap())
                .collect();
            PointResult {
                index,
                values,
                estimates: point::estimates(&plan, &runs),
                runs,
            }
        })
        .collect();
    SweepResult {
        shown: plan.key_metrics(),
        plan,
        shard: None,
        points,
    }
}

/// A synthetic sweep: `params` (path, value texts, numbers), one metric
/// per (name, unit), and `value(point values, metric, replication)`
/// giving every run's value.
fn synthetic(
    params: &[(&str, &[&str], bool)],
    metrics: &[(&str, Unit)],
    reps: u32,
    value: impl Fn(&[usize], usize, u32) -> Option<f64>,
) -> SweepResult {
    synthetic_grid(params, false, metrics, reps, value)
}

/// [`synthetic`], with the lists paired (`--zip`) when `zip`.
fn synthetic_grid(
    params: &[(&str, &[&str], bool)],
    zip: bool,
    metrics: &[(&str, Unit)],
    reps: u32,
    value: impl Fn(&[usize], usize, u32) -> Option<f64>,
) -> SweepResult {
    let params: Vec<Param> = params
        .iter()
        .map(|(path, vals, numeric)| Param {
            path: path.to_string(),
            values: vals
                .iter()
                .map(|t| ParamValue {
                    text: t.to_string(),
                    number: if *numeric {
                        t.trim_matches('"').trim_end_matches("ms").parse().ok()
                    } else {
                        None
                    },
                })
                .collect(),
        })
        .collect();
    let plan = Plan {
        scenario: "synthetic <&> \"quoted\"".into(),
        scenario_file: "s<1>.toml".into(),
        source_hash: "0".into(),
        overrides: vec!["simulation.duration=\"1m\"".into()],
        params,
        zip,
        replications: reps,
        base_seed: 7,
        seeding: Seeding::Independent,
        metrics: metrics
            .iter()
            .map(|(n, u)| MetricDef {
                name: n.to_string(),
                unit: *u,
            })
            .collect(),
    };
    let grid = grid::expand(&plan.params, zip).unwrap();
    let points = grid
        .into_iter()
        .enumerate()
        .map(|(index, values)| {
            let runs: Vec<Replication> = (0..reps)
                .map(|r| Replication {
                    seed: 1000 + index as u64 * 10 + r as u64,
                    events: 1,
                    values: (0..metrics.len()).map(|m| value(&values, m, r)).collect(),
                })
                .collect();
            PointResult {
                index,
                values,
                estimates: point::estimates(&plan, &runs),
                runs,
            }
        })
        .collect();
    SweepResult {
        shown: metrics.iter().map(|m| m.0.to_string()).collect(),
        plan,
        shard: None,
        points,
    }
}

/// Width, height and RGB pixels of a PNG.
fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .expect("a valid PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Checks that the SVG is well formed: every element opened is closed in
/// order (a small XML check; the charts use no CDATA or comments).
fn assert_well_formed(svg: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("a tag ends");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "unbalanced </{name}>"
            );
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap().to_string();
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

/// Asserts the chart is drawn: a valid PNG with ink in it, and a
/// well-formed SVG with its title; returns the SVG.
fn assert_drawn(c: &ChartFile) -> String {
    let (w, h, rgb) = decode(c.png.as_ref().expect("a PNG"));
    assert_eq!(w, 1000, "{}", c.name);
    let ink = rgb.chunks(3).filter(|p| p != &[255, 255, 255]).count();
    assert!(
        ink * 100 > (w * h) as usize * 2,
        "{}: {ink} pixels drawn",
        c.name
    );
    let svg = c.svg.clone().expect("an SVG");
    assert!(svg.starts_with("<svg"), "{}", c.name);
    assert_well_formed(&svg);
    let title = c
        .title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    assert!(svg.contains(&title), "{}: title missing", c.name);
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

/// Filled polygons (confidence bands) in an SVG.
fn bands(svg: &str) -> usize {
    svg.matches("<polygon").count()
}

fn chart<'a>(charts: &'a [ChartFile], name: &str) -> &'a ChartFile {
    charts.iter().find(|c| c.name == name).unwrap_or_else(|| {
        panic!(
            "no chart {name}: {:?}",
            charts.iter().map(|c| &c.name).collect::<Vec<_>>()
        )
    })
}

#[test]
fn checkout_grid_draws_lines_bands_and_a_heatmap() {
    let r = real_sweep(
        "checkout.toml",
        &["simulation.duration=8s", "simulation.warmup=1s"],
        &[
            "services.payment.replicas=1..4",
            "workloads.checkout.arrival.rate=100,200,400",
        ],
        false,
        2,
    );
    assert_eq!(r.points.len(), 12);
    let charts = sweep_charts::charts(&r, Formats::default()).unwrap();
    // Per shown metric, the lines and the heatmap.
    assert_eq!(charts.len(), 2 * r.shown.len(), "{:?}", r.shown);
    let lines = chart(&charts, "sweep-checkout-p99");
    assert_eq!(lines.title, "checkout.p99 vs payment.replicas");
    let svg = assert_drawn(lines);
    let texts = svg_texts(&svg);
    for v in [
        "arrival.rate = 100",
        "arrival.rate = 200",
        "arrival.rate = 400",
    ] {
        assert!(texts.iter().any(|t| t == v), "legend {v}: {texts:?}");
    }
    // Two replications: one band per line.
    assert_eq!(bands(&svg), 3, "bands");
    assert!(
        texts.iter().any(|t| t.contains("95% confidence")),
        "{texts:?}"
    );
    let heat = chart(&charts, "sweep-heatmap-checkout-p99");
    let hsvg = assert_drawn(heat);
    // One cell per point (filled, with a white rule over each).
    let cells = hsvg.matches("<rect").count();
    assert!(cells >= 12, "{cells} rects");
    let cell_texts: Vec<String> = svg_texts(&hsvg)
        .into_iter()
        .filter(|t| t.ends_with(" ms") || t == "n/a")
        .collect();
    // Each cell's value, plus the colour bar's two ends.
    assert_eq!(cell_texts.len(), 12 + 2, "{cell_texts:?}");
}

#[test]
fn one_replication_has_no_band_and_a_single_point_draws() {
    let r = synthetic(
        &[("services.payment.replicas", &["1", "2", "3"], true)],
        &[("checkout.p99", Unit::Ms)],
        1,
        |v, _, _| Some(100.0 / (v[0] + 1) as f64),
    );
    let charts = sweep_charts::charts(&r, Formats::default()).unwrap();
    assert_eq!(charts.len(), 1, "no heatmap for one parameter");
    let svg = assert_drawn(&charts[0]);
    assert_eq!(bands(&svg), 0);
    assert!(svg_texts(&svg).iter().any(|t| t == "one run per point"));

    // One parameter with 5 replications: a band.
    let r5 = synthetic(
        &[(
            "workloads.checkout.arrival.rate",
            &["100", "200", "400"],
            true,
        )],
        &[("checkout.p99", Unit::Ms)],
        5,
        |v, _, rep| Some(10.0 * (v[0] + 1) as f64 + rep as f64),
    );
    let svg = assert_drawn(&sweep_charts::charts(&r5, Formats::default()).unwrap()[0]);
    assert_eq!(bands(&svg), 1);

    // No parameters at all: one point.
    let single = synthetic(
        &[],
        &[("checkout.availability", Unit::Fraction)],
        3,
        |_, _, r| Some(0.99 + r as f64 * 0.001),
    );
    let charts = sweep_charts::charts(&single, Formats::default()).unwrap();
    assert_eq!(charts.len(), 1);
    assert_drawn(&charts[0]);
}

#[test]
fn categorical_parameters_use_their_values_in_order() {
    let r = synthetic(
        &[
            (
                "services.api.balancer",
                &[
                    "\"round_robin\"",
                    "\"least_outstanding\"",
                    "\"power_of_two\"",
                ],
                false,
            ),
            ("services.api.replicas", &["2", "4"], true),
        ],
        &[
            ("search.p99", Unit::Ms),
            ("search.availability", Unit::Fraction),
        ],
        3,
        |v, m, rep| {
            Some(if m == 0 {
                50.0 + 10.0 * v[0] as f64 - 5.0 * v[1] as f64 + rep as f64
            } else {
                0.99 + 0.001 * v[0] as f64 + 0.0001 * rep as f64
            })
        },
    );
    let charts = sweep_charts::charts(&r, Formats::default()).unwrap();
    assert_eq!(charts.len(), 4);
    let svg = assert_drawn(chart(&charts, "sweep-search-p99"));
    let texts = svg_texts(&svg);
    let pos = |s: &str| {
        texts
            .iter()
            .position(|t| t == s)
            .unwrap_or_else(|| panic!("{s}: {texts:?}"))
    };
    assert!(pos("round_robin") < pos("least_outstanding"));
    assert!(pos("least_outstanding") < pos("power_of_two"));
    let avail = assert_drawn(chart(&charts, "sweep-heatmap-search-availability"));
    assert!(
        svg_texts(&avail)
            .iter()
            .any(|t| t.contains("lighter = better")),
        "the heatmap says which way is better"
    );
}

#[test]
fn degenerate_data_draws_without_panicking() {
    // Missing values, constants, extremes, and 60 values on an axis.
    let many: Vec<String> = (1..=60).map(|i| i.to_string()).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let r = synthetic(
        &[
            ("a.x", &many, true),
            ("b.y", &["1", "2", "3"], true),
            ("c.z", &["1", "2"], true),
        ],
        &[
            ("w.p99", Unit::Ms),
            ("w.availability", Unit::Fraction),
            ("w.requests", Unit::Count),
            ("cost.per_million", Unit::Money),
        ],
        2,
        |v, m, rep| match m {
            0 if v[0] % 7 == 3 => None,
            0 => Some(if v[0] == 5 {
                1e300
            } else {
                1.0 + v[0] as f64 + rep as f64
            }),
            1 => Some(1.0),
            2 => None,
            _ => Some(f64::MAX / 2.0),
        },
    );
    let charts = sweep_charts::charts(&r, Formats::default()).unwrap();
    assert_eq!(charts.len(), 8);
    for c in &charts {
        assert_drawn(c);
    }
    let svg = chart(&charts, "sweep-w-requests").svg.clone().unwrap();
    assert!(svg_texts(&svg).iter().any(|t| t.starts_with("no values")));
    // Two panels (c.z = 1, c.z = 2), titled.
    let svg = chart(&charts, "sweep-w-p99").svg.clone().unwrap();
    let texts = svg_texts(&svg);
    assert!(
        texts.iter().any(|t| t == "c.z = 1") && texts.iter().any(|t| t == "c.z = 2"),
        "{texts:?}"
    );
    // Same input, same bytes.
    let again = sweep_charts::charts(&r, Formats::default()).unwrap();
    assert_eq!(charts, again);

    // Parameter values at the ends of f64's range (hand-edited
    // sweep.json) overflowed plotters' pixel arithmetic.
    let r = synthetic(
        &[("a.x", &["-1e308", "1e308", "1e308"], true)],
        &[("w.p99", Unit::Ms), ("w.availability", Unit::Fraction)],
        2,
        |v, m, rep| {
            Some(if m == 0 {
                1e308 * rep as f64
            } else {
                -(v[0] as f64)
            })
        },
    );
    for c in sweep_charts::charts(&r, Formats::default()).unwrap() {
        assert_drawn(&c);
    }
}

#[test]
fn panels_are_capped_and_say_so() {
    let r = synthetic(
        &[
            ("a.x", &["1", "2"], true),
            ("b.y", &["1", "2"], true),
            ("c.z", &["1", "2", "3", "4"], true),
            ("d.w", &["1", "2", "3", "4"], true),
        ],
        &[("w.mean", Unit::Ms)],
        1,
        |v, _, _| Some(v.iter().sum::<usize>() as f64 + 1.0),
    );
    let charts = sweep_charts::charts(&r, Formats::default()).unwrap();
    let svg = assert_drawn(chart(&charts, "sweep-w-mean"));
    assert!(
        svg.contains("showing the first 12 of 16"),
        "{:?}",
        svg_texts(&svg)
    );
    let heat = assert_drawn(chart(&charts, "sweep-heatmap-w-mean"));
    assert_eq!(
        svg_texts(&heat)
            .iter()
            .filter(|t| t.starts_with("c.z = "))
            .count(),
        12
    );
}

#[test]
fn report_html_lists_points_escapes_and_is_self_contained() {
    let r = synthetic(
        &[
            ("services.payment.replicas", &["1", "2"], true),
            ("svc.<b>", &["\"a&b\""], false),
        ],
        &[
            ("checkout.p99", Unit::Ms),
            ("checkout.availability", Unit::Fraction),
        ],
        3,
        |v, m, rep| {
            Some(if m == 0 {
                20.0 + v[0] as f64 + rep as f64
            } else {
                0.999
            })
        },
    );
    let files = presentation(&r, Some(Formats::default())).unwrap();
    let html = String::from_utf8(
        files
            .iter()
            .find(|f| f.0 == "report.html")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    assert!(html.contains("<title>synthetic &lt;&amp;&gt; &quot;quoted&quot; sweep</title>"));
    assert!(!html.contains("<b>\"") && !html.contains("svc.<b>"));
    assert!(html.contains("svc.&lt;b&gt;"));
    assert!(html.contains("a&amp;b"));
    assert!(
        !html.contains("<script") && !html.contains("http"),
        "self-contained"
    );
    // The table holds each point's mean ± half-width: point 0 ran 20, 21, 22.
    let hw = microsim::sweep::stats::t95(2) * (1.0f64 / 3.0).sqrt();
    let cell = format!("21.000 ms ± {}", Unit::Ms.show(hw));
    assert!(html.contains(&cell), "{cell}");
    assert!(html.contains("99.900% ± 0.0"), "a constant has no spread");
    // Charts inline, the seed of a run and how to reproduce it.
    assert!(html.contains("<svg role=\"img\""));
    assert!(html.contains("--seed 1000"));
    assert!(html.contains("independent seeds"));
    // Every chart file is there in both formats.
    assert!(files.iter().any(|f| f.0 == "charts/sweep-checkout-p99.png"));
    assert!(files
        .iter()
        .any(|f| f.0 == "charts/sweep-heatmap-checkout-p99.svg"));
    // Without charts: only the report.
    let bare = presentation(&r, None).unwrap();
    assert_eq!(bare.len(), 1);
    assert!(!String::from_utf8_lossy(&bare[0].1).contains("<svg"));
}

#[test]
fn report_dir_redraws_a_sweep_byte_for_byte() {
    let mut r = synthetic(
        &[
            ("services.payment.replicas", &["1", "2", "3"], true),
            ("workloads.checkout.arrival.rate", &["100", "200"], true),
        ],
        &[("checkout.p99", Unit::Ms)],
        2,
        |v, _, rep| Some(10.0 + v[0] as f64 * 3.0 + v[1] as f64 + rep as f64 * 0.5),
    );
    let dir = tempfile::tempdir().unwrap();
    let write = |dir: &std::path::Path, r: &SweepResult| {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("sweep.json"),
            serde_json::to_vec_pretty(r).unwrap(),
        )
        .unwrap();
        for (name, bytes) in presentation(r, Some(Formats::default())).unwrap() {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
    };
    let a = dir.path().join("a");
    write(&a, &r);
    let before = tree(&a);
    let out = dir.path().join("b");
    let o = microsim(dir.path(), &["report", "a", "--out", "b"]);
    assert!(o.status.success(), "{:?}", texts(&o));
    let mut redrawn = tree(&out);
    redrawn.insert("sweep.json".into(), before["sweep.json"].clone());
    assert_eq!(before, redrawn, "report DIR draws what sweep --out wrote");
    // In place, with --charts svg: the PNGs go.
    let o = microsim(dir.path(), &["report", "a", "--charts", "svg"]);
    assert!(o.status.success(), "{:?}", texts(&o));
    assert!(!a.join("charts/sweep-checkout-p99.png").exists());
    assert!(a.join("charts/sweep-checkout-p99.svg").exists());

    // A shard: says so.
    r.shard = Some((2, 3));
    r.points.retain(|p| p.index % 3 == 1);
    let s = dir.path().join("s");
    write(&s, &r);
    let o = microsim(dir.path(), &["report", "s"]);
    assert!(o.status.success(), "{:?}", texts(&o));
    let html = std::fs::read_to_string(s.join("report.html")).unwrap();
    assert!(html.contains("shard 2 of 3"));

    // Bad sweep.json: exit 2, naming the file.
    std::fs::write(s.join("sweep.json"), "{ not json").unwrap();
    let o = microsim(dir.path(), &["report", "s"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(texts(&o).1.contains("sweep.json"), "{:?}", texts(&o));
    // A point whose value index is out of range: exit 2, no panic.
    let mut bad = serde_json::to_value(&r).unwrap();
    bad["points"][0]["values"][0] = 9.into();
    std::fs::write(s.join("sweep.json"), serde_json::to_vec(&bad).unwrap()).unwrap();
    let o = microsim(dir.path(), &["report", "s"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(texts(&o).1.contains("points[0]"), "{:?}", texts(&o));
}

#[test]
fn estimates_with_missing_values_are_dashes() {
    let r = synthetic(
        &[("a.x", &["1", "2"], true)],
        &[("w.p99", Unit::Ms)],
        2,
        |v, _, _| (v[0] == 1).then_some(5.0),
    );
    assert_eq!(
        r.points[0].estimates[0],
        Estimate {
            n: 0,
            mean: None,
            half_width: None
        }
    );
    let files = presentation(&r, Some(Formats::default())).unwrap();
    let html = String::from_utf8_lossy(&files.last().unwrap().1).into_owned();
    assert!(html.contains("<td class=\"n\">-</td>"));
}

#[test]
fn zip_sweeps_draw_one_line_over_the_pairs() {
    let r = synthetic_grid(
        &[
            (
                "workloads.checkout.arrival.rate",
                &["100", "200", "400"],
                true,
            ),
            ("services.payment.replicas", &["2", "4", "8"], true),
        ],
        true,
        &[("checkout.p99", Unit::Ms)],
        2,
        |v, _, rep| Some(50.0 + v[0] as f64 + rep as f64),
    );
    assert_eq!(r.points.len(), 3);
    let charts = sweep_charts::charts(&r, Formats::default()).unwrap();
    assert_eq!(charts.len(), 1, "no heatmap for paired lists");
    assert_eq!(
        charts[0].title,
        "checkout.p99 vs arrival.rate / payment.replicas"
    );
    let svg = assert_drawn(&charts[0]);
    let texts = svg_texts(&svg);
    for t in ["100 / 2", "200 / 4", "400 / 8"] {
        assert!(texts.iter().any(|x| x == t), "{t}: {texts:?}");
    }
    assert_eq!(bands(&svg), 1, "one line, one band");
}
