//! `report.html`: self-contained (no script, no URL), holding every chart
//! and the summary's numbers, escaping user text, and rendering in a
//! headless Chromium when one is installed.

use super::common::{microsim, scenario, texts};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `microsim ARGS --out DIR/out` and returns the output directory.
fn run_out(tmp: &Path, args: &[&str]) -> PathBuf {
    let out = tmp.join("out");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--out", out.to_str().unwrap()]);
    let o = microsim(tmp, &all);
    let (stdout, stderr) = texts(&o);
    assert!(o.status.success(), "{all:?}\n{stdout}\n{stderr}");
    out
}

/// payment-outage (a fault, failures) with SVG charts only, which is
/// quick.
fn payment_outage(tmp: &Path) -> PathBuf {
    let s = scenario("payment-outage.toml");
    run_out(tmp, &["run", s.to_str().unwrap(), "--charts", "svg"])
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The milliseconds format of the tables.
fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// What makes an SVG recognisable whatever its ids are renamed to: its
/// elements (tag names, in order) and its texts.
fn svg_fingerprint(svg: &str) -> (Vec<String>, Vec<String>) {
    let mut tags = Vec::new();
    let mut texts = Vec::new();
    for part in svg.split('<').skip(1) {
        let name: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect();
        tags.push(name.clone());
        if name == "text" {
            if let Some((_, t)) = part.split_once('>') {
                texts.push(t.to_string());
            }
        }
    }
    (tags, texts)
}

/// The inlined SVG of the figure of chart `name` in `html`.
fn figure_svg<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find(&format!("<figure id=\"chart-{name}\">"))
        .unwrap_or_else(|| panic!("no figure for chart {name}"));
    let fig = &html[start..];
    let fig = &fig[..fig.find("</figure>").expect("figure closed")];
    let s = fig
        .find("<svg")
        .unwrap_or_else(|| panic!("chart {name}: no inline SVG"));
    let e = fig.rfind("</svg>").expect("svg closed") + "</svg>".len();
    &fig[s..e]
}

/// Nothing in the page can reach the network or run code.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script",
        "http://",
        "https://",
        "<link",
        "@import",
        "<iframe",
        "src=\"//",
        "href=\"//",
        "javascript:",
        " onload=",
        " onclick=",
    ] {
        assert!(!lower.contains(bad), "report.html contains `{bad}`");
    }
}

#[test]
fn run_report_holds_every_chart_and_the_summary_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = payment_outage(tmp.path());
    let html = read(&dir.join("report.html"));
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..80]);
    assert!(html.trim_end().ends_with("</html>"));
    assert_self_contained(&html);

    // Every chart file, inlined in its figure: the same elements and
    // texts (ids may be renamed).
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("charts"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "svg"))
    {
        let name = f.file_stem().unwrap().to_str().unwrap();
        let inline = figure_svg(&html, name);
        assert_eq!(
            svg_fingerprint(inline),
            svg_fingerprint(&read(f)),
            "chart {name} differs from charts/{name}.svg"
        );
    }
    // Every chart of the run has a file and a figure with its title as
    // the caption.
    let saved = microsim::report::saved::load_run(&dir).unwrap();
    let charts = microsim::report::charts::run_charts(
        &saved,
        microsim::report::charts::Formats {
            png: false,
            svg: true,
        },
    )
    .unwrap();
    for c in &charts {
        assert!(
            dir.join("charts").join(format!("{}.svg", c.name)).exists(),
            "charts/{}.svg",
            c.name
        );
        figure_svg(&html, &c.name);
        assert!(
            html.contains(&format!(
                "<figcaption>{}",
                c.title.replace('&', "&amp;").replace('<', "&lt;")
            )),
            "caption of {}",
            c.name
        );
    }

    // The summary's numbers as the tables print them.
    let s: serde_json::Value = serde_json::from_str(&read(&dir.join("summary.json"))).unwrap();
    assert!(html.contains(&format!("<h1>{}</h1>", s["name"].as_str().unwrap())));
    assert!(html.contains(&format!("seed <b>{}</b>", s["seed"])));
    let workloads = s["workloads"].as_object().unwrap();
    assert!(!workloads.is_empty());
    for (name, w) in workloads {
        assert!(html.contains(&format!("<b>{name}</b>")), "workload {name}");
        for key in ["requests", "ok", "failed"] {
            let n = w[key].as_u64().unwrap();
            assert!(
                html.contains(&format!("<td class=\"n\">{n}</td>"))
                    || html.contains(&format!("<td class=\"n bad\">{n}</td>")),
                "{name} {key} {n}"
            );
        }
        let p99 = ms(w["latency_ms"]["p99"].as_f64().unwrap());
        assert!(html.contains(&format!(">{p99}</td>")), "{name} p99 {p99}");
        let a = format!("{:.3}%", w["availability"].as_f64().unwrap() * 100.0);
        assert!(
            html.contains(&format!(">{a}</td>")),
            "{name} availability {a}"
        );
    }
    // The fault, the capacity table and the source.
    let fault = s["faults"][0]["name"].as_str().unwrap();
    assert!(html.contains(&format!("<b>{fault}</b>")), "{fault}");
    assert!(html.contains("id=\"capacity\""));
    assert!(html.contains("<details><summary>"));
    assert!(html.contains("[simulation]"));
}

#[test]
fn user_text_is_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let s = scenario("checkout.toml");
    let dir = run_out(
        tmp.path(),
        &[
            "run",
            s.to_str().unwrap(),
            "--set",
            "simulation.duration=20s",
            "--set",
            "simulation.warmup=5s",
            "--set",
            "name=x<b>&y",
            "--no-charts",
        ],
    );
    let html = read(&dir.join("report.html"));
    assert!(!html.contains("x<b>"), "the name went in unescaped");
    assert!(html.contains("<title>x&lt;b&gt;&amp;y</title>"));
    assert!(html.contains("<h1>x&lt;b&gt;&amp;y</h1>"));
    // The override is listed, escaped too.
    assert!(html.contains("<code>name=x&lt;b&gt;&amp;y</code>"));
    assert_self_contained(&html);
}

#[test]
fn compare_report_links_each_variant_report() {
    let tmp = tempfile::tempdir().unwrap();
    let s = scenario("checkout.toml");
    let dir = run_out(
        tmp.path(),
        &[
            "compare",
            s.to_str().unwrap(),
            "--set",
            "simulation.duration=20s",
            "--set",
            "simulation.warmup=5s",
            "--variant",
            "payment-x4:services.payment.replicas=4",
            "--charts",
            "svg",
        ],
    );
    let html = read(&dir.join("report.html"));
    assert_self_contained(&html);
    let c: serde_json::Value = serde_json::from_str(&read(&dir.join("compare.json"))).unwrap();
    let variants = c["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    for v in variants {
        let name = v["name"].as_str().unwrap();
        assert!(
            html.contains(&format!("<a href=\"{name}/report.html\">")),
            "link to {name}"
        );
        assert!(dir.join(name).join("report.html").exists(), "{name}");
        assert!(html.contains(&format!("<code>{}</code>", v["file"].as_str().unwrap())));
    }
    assert!(html.contains("<code>services.payment.replicas=4</code>"));
    for f in std::fs::read_dir(dir.join("charts")).into_iter().flatten() {
        let f = f.unwrap().path();
        let name = f.file_stem().unwrap().to_str().unwrap();
        assert_eq!(
            svg_fingerprint(figure_svg(&html, name)),
            svg_fingerprint(&read(&f)),
            "{name}"
        );
    }
    // The p99 rows read like the terminal's.
    let p99 = c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "p99")
        .unwrap();
    let v = p99["cells"][1]["value"].as_f64().unwrap();
    assert!(html.contains(&format!(">{}</td>", ms(v))), "p99 {v}");
}

/// `chromium` on PATH, if any.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
}

/// Renders the report in headless Chromium and checks the screenshot is
/// a real page, not a blank one. Skipped (with a note) without Chromium,
/// unless MICROSIM_REQUIRE_CHROMIUM=1 (CI installs it).
#[test]
fn report_renders_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var("MICROSIM_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "MICROSIM_REQUIRE_CHROMIUM=1 but no `chromium` on PATH"
        );
        eprintln!("note: skipping the headless Chromium test: no `chromium` on PATH");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = payment_outage(tmp.path());
    let report = std::fs::canonicalize(dir.join("report.html")).unwrap();
    let profile = tmp.path().join("profile");
    let shot = tmp.path().join("shot.png");
    let mut child = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--window-size=1280,4000")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", report.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = {
        let mut s = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut s);
        }
        s
    };
    assert!(status.success(), "chromium failed: {status}\n{stderr}");

    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}):\n{stderr}"));
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1280, 4000));
    let bpp = info.color_type.samples();
    assert!(bpp >= 3, "{:?}", info.color_type);
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()]
        .chunks(bpp)
        .map(|p| &p[..3])
        .collect();
    // Text: dark pixels; tables and charts: many colours.
    let dark = pixels.iter().filter(|p| p.iter().all(|c| *c < 100)).count();
    let mut colours: Vec<&[u8]> = pixels.clone();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        dark > pixels.len() / 1000,
        "{dark} dark pixels of {}: a blank page?",
        pixels.len()
    );
    assert!(colours.len() > 100, "only {} colours", colours.len());
}
