//! How latency attribution is shown, through the binary as a user runs
//! it: the `run` table's section, `attribution.csv` (its shares adding up
//! per set, its numbers those of `summary.json`), the `attribution` chart,
//! the HTML section, `microsim report DIR` redrawing byte for byte,
//! `compare`'s rows, a threshold on a share, and nothing at all where no
//! request succeeded.

use super::common::*;
use microsim::metrics::attribution::WorkloadAttribution;
use microsim::report::charts::{self, Formats};
use std::path::Path;

/// Order places an order: 1 ms of its own work, User and Stock in
/// parallel, then Payment. Payment has two workers at utilisation 0.72
/// (120/s x 12 ms / 2), so its queue (M/M/2: Erlang C puts about 60% of
/// the calls in it, mean wait 1/(2/12ms - 120/s) = 21 ms) makes much of
/// the tail. The network is a constant 0.5 ms a hop.
const TOML: &str = r#"
name = "attr-report"
[simulation]
duration = "20s"
warmup = "2s"
seed = 11
[network]
latency = { dist = "constant", value = "500us" }
[services.payment]
replicas = 1
concurrency = 2
[services.payment.endpoints.charge]
work = { dist = "exponential", mean = "12ms" }
[services.user.endpoints.auth]
work = { dist = "exponential", mean = "2ms" }
[services.stock.endpoints.check]
work = { dist = "exponential", mean = "3ms" }
[services.order]
concurrency = 64
[services.order.endpoints.place]
steps = [
  { work = { dist = "constant", value = "1ms" } },
  { parallel = [ { call = "user.auth" }, { call = "stock.check" } ] },
  { call = "payment.charge" },
]
[[workloads]]
name = "checkout"
target = "order.place"
arrival = { process = "poisson", rate = 120 }
"#;

fn run_ok(dir: &Path, args: &[&str]) -> String {
    let out = microsim(dir, args);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    stdout
}

/// `attribution.csv` parsed: (workload, set) -> (requests, set_mean_ms,
/// rows of (component, kind, service, mean_ms, share)).
type Sets = std::collections::BTreeMap<
    (String, String),
    (u64, f64, Vec<(String, String, String, f64, f64)>),
>;

fn parse_csv(bytes: &[u8]) -> Sets {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "workload",
            "set",
            "requests",
            "from_ms",
            "set_mean_ms",
            "off_critical_path_ms",
            "component",
            "kind",
            "service",
            "mean_ms",
            "share"
        ]
    );
    let mut sets = Sets::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let f = |i: usize| rec[i].parse::<f64>().unwrap();
        let e = sets
            .entry((rec[0].to_string(), rec[1].to_string()))
            .or_insert((rec[2].parse().unwrap(), f(4), Vec::new()));
        e.2.push((
            rec[6].to_string(),
            rec[7].to_string(),
            rec[8].to_string(),
            f(9),
            f(10),
        ));
    }
    sets
}

#[test]
fn a_run_shows_attribution_in_every_output_and_report_redraws_it_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "a.toml", TOML);
    let stdout = run_ok(tmp.path(), &["run", &sc, "-q", "--out", "out"]);
    let out = tmp.path().join("out");

    // The summary carries it, for all requests and the slowest 1%.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let a: WorkloadAttribution =
        serde_json::from_value(summary["attribution"]["checkout"].clone()).unwrap();
    let tail = a.slowest.as_ref().expect("a slowest 1%");
    let requests = summary["workloads"]["checkout"]["ok"].as_u64().unwrap();
    assert_eq!(a.all.requests, requests);
    assert!(
        tail.requests > 0 && tail.requests < requests / 50,
        "{tail:?}"
    );
    assert!(
        a.all.off_critical_path_ms > 0.0,
        "the parallel pair hides one branch"
    );

    // The terminal: headline and table after the workloads table.
    let section = stdout
        .find("Latency attribution (critical path):")
        .expect("a section");
    assert!(stdout.find("│ checkout").unwrap() < section);
    // The slowest 1%'s lower bound, printed as the latency table prints
    // ms (two decimals below 100 ms).
    let from = if tail.from_ms >= 100.0 {
        format!("{:.1}", tail.from_ms)
    } else {
        format!("{:.2}", tail.from_ms)
    };
    assert!(
        stdout.contains(&format!(
            "p99 checkout (>= {from} ms, {} requests): ",
            tail.requests
        )),
        "{stdout}"
    );
    for label in ["payment queue", "payment work", "network", "end to end"] {
        assert!(
            stdout[section..].contains(&format!("│ {label} ")),
            "{label}"
        );
    }
    // The line names the workload whose branches they are.
    assert!(stdout.contains("  checkout: parallel branches off the critical path"));
    // A component too small for two decimals says so instead of 0.00.
    assert!(!stdout[section..].contains("┆ 0.00 "), "{stdout}");

    // attribution.csv: shares add up to 1 and means to the set's mean per
    // set (to float rounding), and they are summary.json's numbers.
    let sets = parse_csv(&std::fs::read(out.join("attribution.csv")).unwrap());
    assert_eq!(sets.len(), 2);
    for ((w, set), (n, mean, rows)) in &sets {
        let b = if set == "all" { &a.all } else { tail };
        assert_eq!((w.as_str(), *n, *mean), ("checkout", b.requests, b.mean_ms));
        let share: f64 = rows.iter().map(|r| r.4).sum();
        let ms: f64 = rows.iter().map(|r| r.3).sum();
        assert!((share - 1.0).abs() < 1e-9, "{set}: shares sum to {share}");
        assert!((ms - mean).abs() < 1e-9 * mean, "{set}: {ms} vs {mean}");
        assert_eq!(rows.len(), b.components.len());
        for (r, c) in rows.iter().zip(&b.components) {
            assert_eq!(
                (&r.1, r.2.as_str(), r.3, r.4),
                (
                    &c.kind,
                    c.service.as_deref().unwrap_or(""),
                    c.mean_ms,
                    c.share
                )
            );
        }
    }
    let queue = &sets[&("checkout".to_string(), "slowest_1pct".to_string())].2;
    assert!(queue
        .iter()
        .any(|r| r.0 == "payment queue" && r.1 == "queue" && r.2 == "payment"));

    // The chart, in both formats, and the report's section with it.
    for f in ["attribution.png", "attribution.svg"] {
        assert!(out.join("charts").join(f).is_file(), "{f}");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let at = html.find("<h2>Latency attribution</h2>").expect("section");
    assert!(html[at..].contains("id=\"chart-attribution\""));
    assert!(html[at..].contains(&format!("p99 checkout (&gt;= {from} ms")));
    assert!(html.find("<h2>Workloads</h2>").unwrap() < at);

    // `report` redraws the same bytes from the saved files.
    let before = tree(&out);
    run_ok(tmp.path(), &["report", "out", "-q"]);
    assert!(before == tree(&out), "report DIR changed the files");
}

#[test]
fn a_threshold_on_a_share_of_the_tail_passes_and_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "a.toml", TOML);
    // Queueing in Payment is a large part of the slowest 1% (see TOML):
    // far above 5% and far from 0.1%, over the ~20 requests of its tail.
    let args = |expr: &'static str| ["run", sc.as_str(), "-q", "--assert", expr];
    let ok = microsim(tmp.path(), &args("checkout.p99_share.payment.queue > 5%"));
    let (_, err) = texts(&ok);
    assert_eq!(ok.status.code(), Some(0), "{err}");
    assert!(
        err.contains("PASS  checkout.p99_share.payment.queue > 5%"),
        "{err}"
    );
    let bad = microsim(tmp.path(), &args("checkout.p99_share.payment.queue < 0.1%"));
    let (_, err) = texts(&bad);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    assert!(
        err.contains("FAIL  checkout.p99_share.payment.queue < 0.1%"),
        "{err}"
    );
}

#[test]
fn compare_shows_where_the_tail_went() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "a.toml", TOML);
    // Three Payment replicas: utilisation 0.24, next to no queueing.
    let stdout = run_ok(
        tmp.path(),
        &[
            "compare",
            &sc,
            "-q",
            "--variant",
            "x3:services.payment.replicas=3",
            "--out",
            "cmp",
            "--no-charts",
        ],
    );
    let line = |metric: &str| {
        stdout
            .lines()
            .find(|l| l.contains(&format!("│ {metric} ")))
            .unwrap_or_else(|| panic!("no row {metric}: {stdout}"))
            .to_string()
    };
    assert!(line("slowest 1%: mean ms").ends_with("better │"));
    // The components get no verdict: the slowest 1% is another set of
    // requests in each variant (x3's tail is payment's work, which did not
    // get slower).
    for c in ["payment queue", "payment work"] {
        let l = line(&format!("slowest 1%: {c} ms"));
        assert!(!l.contains("better") && !l.contains("worse"), "{l}");
    }
    // The same rows in compare.csv and the comparison's report, and each
    // variant's own attribution.csv.
    let cmp = tmp.path().join("cmp");
    let csv = std::fs::read_to_string(cmp.join("compare.csv")).unwrap();
    assert!(
        csv.contains("workload,checkout,slowest 1%: payment queue,ms,x3,"),
        "{csv}"
    );
    let html = std::fs::read_to_string(cmp.join("report.html")).unwrap();
    assert!(html.contains("slowest 1%: payment queue"));
    for v in ["baseline", "x3"] {
        assert!(cmp.join(v).join("attribution.csv").is_file(), "{v}");
    }
}

#[test]
fn without_successful_requests_there_is_no_attribution_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let text = format!(
        "{TOML}\n[[faults]]\nkind = \"errors\"\nservice = \"order\"\nprobability = 1.0\nat = \"0s\"\n"
    );
    let sc = write_scenario(tmp.path(), "fail.toml", &text);
    // Over a directory of a run that had attribution: its files go.
    let ok = write_scenario(tmp.path(), "a.toml", TOML);
    run_ok(tmp.path(), &["run", &ok, "-q", "--out", "out"]);
    assert!(tmp.path().join("out/attribution.csv").is_file());
    let stdout = run_ok(tmp.path(), &["run", &sc, "-q", "--out", "out"]);
    let out = tmp.path().join("out");
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(summary.contains("\"failed\""), "the run happened");
    assert!(!summary.contains("\"attribution\""));
    assert!(!stdout.contains("Latency attribution"), "{stdout}");
    for f in [
        "attribution.csv",
        "charts/attribution.png",
        "charts/attribution.svg",
    ] {
        assert!(!out.join(f).exists(), "{f}");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("Latency attribution"));
}

/// Four workloads over six services, with queueing, retries and lost
/// attempts: about a dozen components in the legend. The db's three
/// workers take (100 + 80 + 60)/s x 6 ms: utilisation 0.48, and a few
/// calls outlast the search's 25 ms timeout.
const MANY: &str = r#"
name = "many"
[simulation]
duration = "10s"
warmup = "1s"
seed = 2
[network]
latency = { dist = "constant", value = "300us" }
[policies.retry]
timeout = "25ms"
retries = { attempts = 2, backoff = "constant", base = "5ms" }
[services.db]
concurrency = 3
[services.db.endpoints.q]
work = { dist = "exponential", mean = "6ms" }
[services.cache.endpoints.get]
work = { dist = "exponential", mean = "1ms" }
[services.search]
concurrency = 32
[services.search.endpoints.find]
steps = [ { call = "cache.get" }, { call = "db.q", policy = "retry" } ]
[services.cart]
concurrency = 32
[services.cart.endpoints.add]
steps = [ { work = "2ms" }, { call = "db.q" } ]
[services.user]
concurrency = 32
[services.user.endpoints.me]
steps = [ { work = "1ms" }, { call = "cache.get" } ]
[services.web]
concurrency = 32
[services.web.endpoints.home]
steps = [ { parallel = [ { call = "user.me" }, { call = "search.find" } ] } ]
[[workloads]]
name = "home"
target = "web.home"
arrival = { process = "poisson", rate = 100 }
[[workloads]]
name = "search"
target = "search.find"
arrival = { process = "poisson", rate = 80 }
[[workloads]]
name = "cart"
target = "cart.add"
arrival = { process = "poisson", rate = 60 }
[[workloads]]
name = "profile"
target = "user.me"
arrival = { process = "poisson", rate = 50 }
"#;

fn png_size(png: &[u8]) -> (u32, u32) {
    let d = png::Decoder::new(std::io::Cursor::new(png));
    let r = d.read_info().unwrap();
    (r.info().width, r.info().height)
}

#[test]
fn the_chart_has_two_bars_per_workload_for_one_and_many_workloads() {
    let saved = |toml: &str| {
        let result = run_with(toml, &[]);
        microsim::report::saved::SavedRun {
            result,
            meta: Default::default(),
            source: toml.to_string(),
        }
    };
    let one = saved(TOML);
    let many = saved(MANY);
    assert_eq!(many.result.summary.attribution.len(), 4);
    let f = Formats::default();
    let draw = |r: &microsim::report::saved::SavedRun| {
        let mut c = charts::attribution::attribution(r, f).unwrap();
        assert_eq!(c.len(), 1);
        c.remove(0)
    };
    let (c1, c4) = (draw(&one), draw(&many));
    let (w1, h1) = png_size(c1.png.as_ref().unwrap());
    let (w4, h4) = png_size(c4.png.as_ref().unwrap());
    assert_eq!((w1, w4), (1000, 1000));
    // Three more workloads: at least three more pairs of bars' height.
    assert!(h4 >= h1 + 3 * 2 * 46, "{h1} {h4}");
    let svg = c4.svg.unwrap();
    for w in [
        "home (web.home)",
        "search (search.find)",
        "cart (cart.add)",
        "profile (user.me)",
    ] {
        assert!(svg.contains(w), "{w}");
    }
    assert_eq!(svg.matches("slowest 1% (").count(), 4);
    // Every component of every bar is in the legend.
    for a in many.result.summary.attribution.values() {
        for c in a
            .all
            .components
            .iter()
            .chain(a.slowest.iter().flat_map(|b| &b.components))
        {
            let label = microsim::report::attribution::Key::of(c).label();
            assert!(svg.contains(&label), "{label}");
        }
    }
    if let Ok(dir) = std::env::var("MICROSIM_CHART_DUMP") {
        std::fs::write(Path::new(&dir).join("attribution-1.png"), c1.png.unwrap()).unwrap();
        std::fs::write(Path::new(&dir).join("attribution-4.png"), c4.png.unwrap()).unwrap();
    }
}
