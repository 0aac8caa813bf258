//! The time charts (latency, availability, throughput, services, queues)
//! of a short run with a fault, a deploy and scaling decisions: valid,
//! non-blank PNG and SVG, a time axis ending at the simulated duration,
//! and byte-identical when drawn again from the saved files.

use crate::common::{run_with, scenario};
use microsim::report::charts::{self, palette, Formats};
use microsim::report::output;
use microsim::report::saved::{self, RunMeta, SavedRun};

/// The bundled rolling-deploy scenario, cut to a minute, with a crash of
/// catalog and a scheduled scale-up of payment added.
fn eventful_run() -> SavedRun {
    let mut toml = std::fs::read_to_string(scenario("rolling-deploy.toml")).unwrap();
    toml.push_str(
        r#"
[[faults]]
name = "catalog crash"
kind = "crash"
service = "catalog"
at = "36s"
duration = "8s"

[[scale]]
service = "payment"
at = "30s"
replicas = 8
"#,
    );
    let result = run_with(
        &toml,
        &[
            "simulation.duration=60s",
            "simulation.warmup=6s",
            "simulation.window=2s",
            "deploy.0.at=16s",
            "deploy.0.bad_for=6s",
            "services.payment.startup=2s",
            "workloads.checkout.arrival.rate=120",
            "workloads.browse.arrival.rate=80",
        ],
    );
    SavedRun {
        meta: RunMeta {
            scenario_file: "scenarios/rolling-deploy.toml".into(),
            window_seconds: 2.0,
            ..RunMeta::default()
        },
        result,
        source: toml,
    }
}

const NAMES: [&str; 5] = [
    "latency",
    "availability",
    "throughput",
    "services",
    "queues",
];

/// Decodes a PNG into (width, height, RGB pixels).
fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .expect("a valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("valid PNG data");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// `<text>` elements of an SVG: (x, y, content).
fn svg_texts(svg: &str) -> Vec<(i64, i64, String)> {
    let attr = |tag: &str, name: &str| -> i64 {
        let key = format!(" {name}=\"");
        let tag = format!(" {tag}");
        let at = tag.find(&key).unwrap() + key.len();
        let v: f64 = tag[at..].split('"').next().unwrap().parse().unwrap();
        v.round() as i64
    };
    svg.split("<text ")
        .skip(1)
        .map(|t| {
            let (tag, rest) = t.split_once('>').unwrap();
            let content = rest.split("</text>").next().unwrap().trim().to_string();
            (attr(tag, "x"), attr(tag, "y"), content)
        })
        .collect()
}

/// The time axis's tick labels of the first (top) panel: the row of
/// numeric labels, left to right, that sits lowest in it; rows are
/// told apart by their y coordinate.
fn first_time_axis(svg: &str) -> Vec<(i64, f64)> {
    let mut rows: Vec<(i64, Vec<(i64, f64)>)> = Vec::new();
    for (x, y, t) in svg_texts(svg) {
        if let Ok(v) = t.parse::<f64>() {
            match rows.iter_mut().find(|r| r.0 == y) {
                Some(r) => r.1.push((x, v)),
                None => rows.push((y, vec![(x, v)])),
            }
        }
    }
    // The time axis row is the first row (from the top) with many labels
    // on one line; y-axis labels each have their own y.
    rows.sort_by_key(|r| r.0);
    let mut row = rows
        .into_iter()
        .find(|r| r.1.len() >= 4)
        .expect("a row of time tick labels")
        .1;
    row.sort_by_key(|p| p.0);
    row
}

#[test]
fn time_charts_are_valid_non_blank_and_span_the_run() {
    let run = eventful_run();
    let s = &run.result.summary;
    assert_eq!(s.simulated_seconds, 60.0);
    assert!(!s.faults.is_empty() && !s.deploys.is_empty() && !s.scaling.is_empty());
    assert!(s.deploys.iter().any(|d| d.effect_end_s > d.end_s.unwrap()));

    let files = output::run_files(&run, Some(Formats::default())).unwrap();
    let get = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} written"))
            .1
            .clone()
    };
    for name in NAMES {
        let (w, h, px) = decode(&get(&format!("charts/{name}.png")));
        assert_eq!(w, 1000, "{name}");
        assert!(h >= 400, "{name}: {h}");
        let n = px.len() / 3;
        let non_white = px.chunks(3).filter(|p| p.iter().any(|c| *c < 235)).count();
        assert!(
            non_white > n / 50 && non_white < n * 9 / 10,
            "{name}: {non_white} of {n} pixels not white"
        );
        let mean = px.iter().map(|c| *c as f64).sum::<f64>() / px.len() as f64;
        let var = px.iter().map(|c| (*c as f64 - mean).powi(2)).sum::<f64>() / px.len() as f64;
        assert!(var > 100.0, "{name}: pixel variance {var}");
        // The first workload's or service's colour is drawn.
        let c = palette::series(0);
        assert!(
            px.chunks(3).any(|p| p == [c.0, c.1, c.2]),
            "{name}: no pixel of the first series' colour"
        );

        let svg = String::from_utf8(get(&format!("charts/{name}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{name}"
        );
        let shapes = ["<path", "<polyline", "<polygon", "<rect"]
            .iter()
            .map(|t| svg.matches(t).count())
            .sum::<usize>();
        assert!(shapes >= 12, "{name}: {shapes} shapes");
        // Shading and labels of the events.
        for label in ["warm-up", "payment v2", "catalog crash"] {
            assert!(svg.contains(label), "{name}: no `{label}` label");
        }
        // What goes on after a rollout (the bad release's last bad
        // replicas) is shaded and named.
        assert!(svg.contains("deploy after-effect"), "{name}: legend");
        // The crash has no after-effect (restarts take no time here).
        assert!(!svg.contains("fault after-effect"), "{name}: legend");
        let axis = first_time_axis(&svg);
        assert_eq!(axis.first().unwrap().1, 0.0, "{name}: {axis:?}");
        assert_eq!(axis.last().unwrap().1, 60.0, "{name}: {axis:?}");
        assert!(axis.windows(2).all(|p| p[0].1 < p[1].1), "{name}: {axis:?}");
    }
    // The scale-up is marked and labelled (one decision: few enough).
    let services = String::from_utf8(get("charts/services.svg")).unwrap();
    assert!(services.contains("payment 6→8"), "scaling label");
    assert!(services.contains("utilisation (%)"), "secondary axis");

    // Drawn again from the saved files: byte for byte the same.
    let data: Vec<(&str, Vec<u8>)> = saved::data_files(&run).unwrap();
    let back = saved::parse_run(&data).unwrap();
    let again = charts::run_charts(&back, Formats::default()).unwrap();
    for name in NAMES {
        let c = again.iter().find(|c| c.name == name).unwrap();
        assert_eq!(
            c.svg.as_deref().unwrap().as_bytes(),
            get(&format!("charts/{name}.svg")).as_slice(),
            "{name}.svg"
        );
        assert_eq!(
            c.png.as_deref().unwrap(),
            get(&format!("charts/{name}.png")).as_slice(),
            "{name}.png"
        );
    }
}

/// A workload that never succeeds and services without queues still
/// give complete charts (gaps and notes, no panic).
#[test]
fn a_run_without_successes_still_draws() {
    let mut run = eventful_run();
    for w in &mut run.result.timeseries.workloads {
        if w.workload == "browse" {
            (w.p50_ms, w.p95_ms, w.p99_ms) = (None, None, None);
            (w.ok, w.degraded, w.failed, w.throughput_rps) = (0, 0, 0, 0.0);
        }
    }
    for w in &mut run.result.timeseries.services {
        w.queue_length = 0.0;
    }
    let f = Formats {
        png: false,
        svg: true,
    };
    let lat = charts::timeline::latency(&run, f).unwrap();
    let svg = lat[0].svg.as_deref().unwrap();
    assert!(svg.contains("no successful requests"));
    let av = charts::timeline::availability(&run, f).unwrap();
    assert!(av[0]
        .svg
        .as_deref()
        .unwrap()
        .contains("no completed requests"));
    let q = charts::services::queues(&run, f).unwrap();
    assert!(q[0]
        .svg
        .as_deref()
        .unwrap()
        .contains("no request ever waited"));

    // No windows at all: every time chart still draws its axes.
    run.result.timeseries.workloads.clear();
    run.result.timeseries.services.clear();
    let all = charts::run_charts(&run, Formats::default()).unwrap();
    for name in NAMES {
        let c = all.iter().find(|c| c.name == name).unwrap();
        assert!(
            c.svg.as_deref().unwrap().contains("simulated time (s)"),
            "{name}"
        );
        assert!(c.png.is_some(), "{name}");
    }
}

/// A crash whose replicas take time to restart: the time after the fault
/// until they are back is shaded lighter and named in the legend.
#[test]
fn a_faults_after_effect_is_named() {
    let toml = std::fs::read_to_string(scenario("payment-outage.toml")).unwrap();
    let result = run_with(&toml, &[]);
    let f = &result.summary.faults[0];
    assert!(
        f.effect_end_s > f.end_s,
        "payment-outage restarts take time"
    );
    let run = SavedRun {
        meta: RunMeta {
            window_seconds: 1.0,
            ..RunMeta::default()
        },
        result,
        source: toml,
    };
    let svg_only = Formats {
        png: false,
        svg: true,
    };
    let lat = charts::timeline::latency(&run, svg_only).unwrap();
    let svg = lat[0].svg.as_deref().unwrap();
    assert!(svg.contains("fault after-effect"));
    assert!(!svg.contains("deploy after-effect"));
}
