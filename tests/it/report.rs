//! Saved results and `microsim report`: the data files parse back to
//! exactly what was run, and the charts and HTML drawn from a saved
//! directory are byte-identical to those `run --out` wrote.

use crate::common::{microsim, saved_bundled, scenario, texts, tree};
use microsim::report::saved::{data_files, parse_run};
use std::fs;
use std::path::Path;

/// Scenarios that between them use every optional file and column:
/// faults, discovery, scaling, deploys, cost.
const SCENARIOS: [(&str, &str); 5] = [
    ("checkout.toml", "simulation.duration=30s"),
    ("payment-outage.toml", "simulation.duration=90s"),
    ("stale-registry.toml", "simulation.duration=80s"),
    ("rolling-deploy.toml", "simulation.duration=150s"),
    ("scale-payment.toml", "simulation.duration=30s"),
];

/// What `run --out` saves parses back to the identical run: summary,
/// every time-series row and column, percentiles and how it was run.
#[test]
fn saved_results_parse_back_exactly() {
    for (name, set) in SCENARIOS {
        let saved = saved_bundled(name, &[set, "simulation.warmup=5s"]);
        assert!(!saved.result.percentiles.is_empty(), "{name}");
        let files = data_files(&saved).unwrap();
        let back = parse_run(&files).unwrap();
        assert_eq!(back.meta, saved.meta, "{name}");
        assert_eq!(back.source, saved.source, "{name}");
        assert_eq!(back.result.percentiles, saved.result.percentiles, "{name}");
        assert_eq!(back.result.timeseries, saved.result.timeseries, "{name}");
        assert_eq!(back.result.summary, saved.result.summary, "{name}");
    }
}

/// Runs `microsim` in `dir`, expecting `code`.
fn cli(dir: &Path, args: &[&str], code: i32) -> (String, String) {
    let o = microsim(dir, args);
    let t = texts(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}\nstderr: {}", t.1);
    t
}

/// Removes the drawn files (charts and report.html) from a saved tree.
fn without_presentation(dir: &Path) {
    for (rel, _) in tree(dir) {
        if rel.contains("charts/") || rel.ends_with("report.html") {
            fs::remove_file(dir.join(rel)).unwrap();
        }
    }
}

/// `report DIR` on a run's directory redraws every chart and the report
/// byte for byte, from the saved files alone.
#[test]
fn report_redraws_a_run_byte_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario("rolling-deploy.toml");
    let file = file.to_str().unwrap();
    cli(
        tmp.path(),
        &[
            "run",
            file,
            "--out",
            "a",
            "-q",
            "--set",
            "simulation.duration=150s",
        ],
        0,
    );
    let a = tree(&tmp.path().join("a"));
    assert!(a.contains_key("report.html") && a.contains_key("scenario.toml"));
    // A copy without its drawings, redrawn.
    let b = tmp.path().join("b");
    fs::create_dir(&b).unwrap();
    for (rel, bytes) in &a {
        fs::create_dir_all(b.join(rel).parent().unwrap()).unwrap();
        fs::write(b.join(rel), bytes).unwrap();
    }
    without_presentation(&b);
    assert!(!tree(&b).contains_key("report.html"));
    let (_, err) = cli(tmp.path(), &["report", "b"], 0);
    assert!(err.contains("report.html"), "{err}");
    let redrawn = tree(&b);
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        redrawn.keys().collect::<Vec<_>>()
    );
    for (rel, bytes) in &a {
        assert!(&redrawn[rel] == bytes, "{rel} differs when redrawn");
    }
    // Into another directory, leaving the saved one alone.
    cli(tmp.path(), &["report", "a", "--out", "c", "-q"], 0);
    for (rel, bytes) in tree(&tmp.path().join("c")) {
        assert!(a[&rel] == bytes, "{rel} differs in --out");
    }
}

/// The same for a comparison: its own charts and report and each
/// variant's.
#[test]
fn report_redraws_a_comparison_byte_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario("scale-payment.toml");
    cli(
        tmp.path(),
        &[
            "compare",
            file.to_str().unwrap(),
            "--variant",
            "x3:services.payment.replicas=3",
            "--set",
            "simulation.duration=30s",
            "--set",
            "simulation.warmup=5s",
            "--out",
            "a",
            "-q",
        ],
        0,
    );
    let a = tree(&tmp.path().join("a"));
    for f in [
        "report.html",
        "baseline/report.html",
        "x3/report.html",
        "x3/run.json",
    ] {
        assert!(a.contains_key(f), "{f} missing: {:?}", a.keys());
    }
    let run: serde_json::Value = serde_json::from_slice(&a["x3/run.json"]).unwrap();
    assert_eq!(run["variant"], "x3");
    assert_eq!(
        run["overrides"],
        serde_json::json!([
            "simulation.duration=30s",
            "simulation.warmup=5s",
            "services.payment.replicas=3"
        ])
    );
    // Its panels share one latency scale.
    let svg = String::from_utf8_lossy(&a["charts/compare-percentiles.svg"]).into_owned();
    let log = svg.matches("latency (ms, log scale)").count();
    let lin = svg.matches("latency (ms)<").count();
    assert!(
        log + lin == 2 && (log == 0 || lin == 0),
        "{log} log and {lin} linear panels"
    );
    without_presentation(&tmp.path().join("a"));
    cli(tmp.path(), &["report", "a", "-q"], 0);
    let redrawn = tree(&tmp.path().join("a"));
    assert_eq!(a.len(), redrawn.len());
    for (rel, bytes) in &a {
        assert!(&redrawn[rel] == bytes, "{rel} differs when redrawn");
    }
    // A compare.json whose variant name is a path (`../x3`: a saved run
    // beside the comparison) is refused: redrawing it wrote its charts
    // and report outside the directory.
    let dir = tmp.path().join("a");
    std::fs::rename(dir.join("x3"), tmp.path().join("x3")).unwrap();
    let json = fs::read_to_string(dir.join("compare.json")).unwrap();
    let json = json.replace("\"name\": \"x3\"", "\"name\": \"../x3\"");
    fs::write(dir.join("compare.json"), json).unwrap();
    without_presentation(&tmp.path().join("x3"));
    let (_, err) = cli(tmp.path(), &["report", "a", "-q"], 2);
    assert!(
        err.contains("compare.json") && err.contains("variant name `../x3`"),
        "{err}"
    );
    assert!(!tmp.path().join("x3/report.html").exists());
}

/// `--no-charts` draws nothing but still writes the report; `--charts
/// svg` writes only SVGs; a format that does not exist is bad input.
#[test]
fn chart_formats_are_chosen() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario("checkout.toml");
    let file = file.to_str().unwrap();
    let short = [
        "--set",
        "simulation.duration=20s",
        "--set",
        "simulation.warmup=5s",
        "-q",
    ];
    let run = |out: &str, extra: &[&str], code: i32| {
        let mut args = vec!["run", file, "--out", out];
        args.extend_from_slice(&short);
        args.extend_from_slice(extra);
        cli(tmp.path(), &args, code)
    };
    run("none", &["--no-charts"], 0);
    let none = tree(&tmp.path().join("none"));
    assert!(none.contains_key("report.html"));
    assert!(
        !none.keys().any(|k| k.starts_with("charts/")),
        "{:?}",
        none.keys()
    );
    run("svg", &["--charts", "svg"], 0);
    let svg = tree(&tmp.path().join("svg"));
    let charts: Vec<&String> = svg.keys().filter(|k| k.starts_with("charts/")).collect();
    assert!(!charts.is_empty());
    assert!(charts.iter().all(|k| k.ends_with(".svg")), "{charts:?}");
    let (_, err) = run("bad", &["--charts", "svg,jpg"], 2);
    assert!(
        err.contains("--charts svg,jpg") && err.contains("png and svg"),
        "{err}"
    );
    assert!(
        !tmp.path().join("bad").exists(),
        "nothing written on bad input"
    );
}

/// Rewriting an output directory leaves nothing of the earlier write that
/// the new one would not have written: `--charts svg` over a png,svg run
/// left the old run's PNGs (other data) beside the new SVGs; a run without
/// prices left the old `cost.csv`; a run over a comparison left its
/// `compare.json`, and `report DIR` then redrew the old comparison over
/// the run's report.
#[test]
fn rewriting_an_output_directory_leaves_no_stale_files() {
    let tmp = tempfile::tempdir().unwrap();
    let short = [
        "--set",
        "simulation.duration=20s",
        "--set",
        "simulation.warmup=5s",
        "-q",
    ];
    let run = |file: &str, out: &str, extra: &[&str]| {
        let file = scenario(file);
        let mut args = vec!["run", file.to_str().unwrap(), "--out", out];
        args.extend_from_slice(&short);
        args.extend_from_slice(extra);
        cli(tmp.path(), &args, 0);
    };
    let fresh = |file: &str, extra: &[&str]| {
        let out = tmp.path().join("fresh");
        let _ = fs::remove_dir_all(&out);
        run(file, "fresh", extra);
        tree(&out)
    };
    run("scale-payment.toml", "out", &[]);
    assert!(tmp.path().join("out/cost.csv").exists());
    run("checkout.toml", "out", &["--charts", "svg"]);
    assert_eq!(
        tree(&tmp.path().join("out")),
        fresh("checkout.toml", &["--charts", "svg"])
    );
    run("checkout.toml", "out", &["--no-charts"]);
    assert_eq!(
        tree(&tmp.path().join("out")),
        fresh("checkout.toml", &["--no-charts"])
    );
    // report DIR --charts png: the SVGs of the earlier write go.
    run("checkout.toml", "out", &[]);
    cli(tmp.path(), &["report", "out", "--charts", "png", "-q"], 0);
    assert_eq!(
        tree(&tmp.path().join("out")),
        fresh("checkout.toml", &["--charts", "png"])
    );
    // A run over a comparison's directory.
    let mm1 = scenario("mm1.toml");
    let mut args = vec![
        "compare",
        mm1.to_str().unwrap(),
        "--variant",
        "x:simulation.seed=3",
    ];
    args.extend_from_slice(&["--out", "out"]);
    args.extend_from_slice(&short);
    cli(tmp.path(), &args, 0);
    run("checkout.toml", "out", &[]);
    assert!(!tmp.path().join("out/compare.json").exists());
    let before = fs::read(tmp.path().join("out/report.html")).unwrap();
    cli(tmp.path(), &["report", "out", "-q"], 0);
    assert_eq!(
        fs::read(tmp.path().join("out/report.html")).unwrap(),
        before
    );
}

/// A directory that holds no saved run, or a damaged one, is bad input
/// (exit 2) with a message naming the file, and nothing is written.
#[test]
fn report_refuses_what_it_cannot_read() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, err) = cli(tmp.path(), &["report", "nope"], 2);
    assert!(err.contains("nope: not a directory"), "{err}");
    fs::create_dir(tmp.path().join("empty")).unwrap();
    let (_, err) = cli(tmp.path(), &["report", "empty"], 2);
    assert!(
        err.contains("summary.json is missing") && err.contains("microsim run --out"),
        "{err}"
    );
    let file = scenario("checkout.toml");
    cli(
        tmp.path(),
        &[
            "run",
            file.to_str().unwrap(),
            "--out",
            "r",
            "-q",
            "--no-charts",
            "--set",
            "simulation.duration=10s",
            "--set",
            "simulation.warmup=2s",
        ],
        0,
    );
    let ts = tmp.path().join("r/timeseries.csv");
    let text = fs::read_to_string(&ts).unwrap();
    // The first row's `requests` is no longer a number.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut fields: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(fields[3], "checkout");
    fields[4] = "many";
    lines[1] = fields.join(",");
    let broken = lines.join("\n") + "\n";
    fs::write(&ts, broken).unwrap();
    fs::remove_file(tmp.path().join("r/report.html")).unwrap();
    let (_, err) = cli(tmp.path(), &["report", "r"], 2);
    assert!(
        err.contains("timeseries.csv") && err.contains("line 2") && err.contains("`many`"),
        "{err}"
    );
    assert!(!tmp.path().join("r/report.html").exists());
}

/// Hand-edited or mismatched saved results that no chart can show
/// truthfully (numbers that are not finite or are negative, names or
/// windows of another run) are refused naming the file and line, exit 2,
/// and nothing is written; values at the ends of f64's range, which made
/// the axes' tick loops endless, are drawn; rows out of order are drawn
/// as if in order.
#[test]
fn report_checks_saved_results_belong_together() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario("checkout.toml");
    cli(
        tmp.path(),
        &[
            "run",
            file.to_str().unwrap(),
            "--out",
            "r",
            "-q",
            "--charts",
            "svg",
            "--set",
            "simulation.duration=10s",
            "--set",
            "simulation.warmup=2s",
        ],
        0,
    );
    let dir = tmp.path().join("r");
    let original = tree(&dir);
    let text = |f: &str| String::from_utf8(original[f].clone()).unwrap();
    // (file, edit of its text, what the error must say)
    type Edit = fn(&str) -> String;
    let bad: [(&str, Edit, &str); 7] = [
        (
            "timeseries.csv",
            |t| t.replacen(",checkout,", ",ghost,", 1),
            "line 2: workload `ghost` is not in summary.json",
        ),
        (
            "timeseries.csv",
            |t| {
                let mut l: Vec<String> = t.lines().map(str::to_string).collect();
                let mut f: Vec<String> = l[1].split(',').map(str::to_string).collect();
                f[8] = "NaN".into();
                l[1] = f.join(",");
                l.join("\n") + "\n"
            },
            "line 2: column `throughput_rps`: `NaN`",
        ),
        (
            "timeseries.csv",
            |t| {
                let mut l: Vec<String> = t.lines().map(str::to_string).collect();
                l[1] = l[1].replacen("0,1,", "0,1e9,", 1);
                l.join("\n") + "\n"
            },
            "line 2: window 0..1000000000 s is not within the simulated 0..10 s",
        ),
        (
            "timeseries.csv",
            |_| String::new(),
            "no column `window_start_s`",
        ),
        (
            "percentiles.csv",
            |t| t.to_string() + "ghost,50,3\n",
            "workload `ghost` is not in summary.json",
        ),
        (
            "percentiles.csv",
            |t| {
                let mut l: Vec<String> = t.lines().map(str::to_string).collect();
                l[1] = "checkout,0,-1".into();
                l.join("\n") + "\n"
            },
            "line 2: column `latency_ms`: `-1`",
        ),
        (
            "summary.json",
            |t| {
                t.replacen(
                    "\"simulated_seconds\": 10.0",
                    "\"simulated_seconds\": -1",
                    1,
                )
            },
            "`simulated_seconds` is -1",
        ),
    ];
    for (f, edit, want) in bad {
        let case = tmp.path().join("case");
        let _ = fs::remove_dir_all(&case);
        fs::create_dir(&case).unwrap();
        for (name, bytes) in &original {
            if !name.contains('/') && name != "report.html" {
                fs::write(case.join(name), bytes).unwrap();
            }
        }
        fs::write(case.join(f), edit(&text(f))).unwrap();
        let (_, err) = cli(tmp.path(), &["report", "case", "--out", "case-out"], 2);
        assert!(err.contains(f) && err.contains(want), "{f}: {want}\n{err}");
        assert!(!tmp.path().join("case-out").exists(), "{f}: {want}");
    }
    // Extreme but finite values, a negative percentile latency replaced
    // by a tiny one, and rows in reverse order: drawn, promptly.
    let case = tmp.path().join("extreme");
    fs::create_dir(&case).unwrap();
    for (name, bytes) in &original {
        if !name.contains('/') && name != "report.html" {
            fs::write(case.join(name), bytes).unwrap();
        }
    }
    let ts = text("timeseries.csv");
    let mut lines: Vec<String> = ts.lines().map(str::to_string).collect();
    let mut f: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    assert_eq!(f[2], "workload");
    f[11] = "1.7e308".into();
    f[9] = "1e-320".into();
    lines[1] = f.join(",");
    let head = lines.remove(0);
    lines.reverse();
    lines.insert(0, head);
    fs::write(case.join("timeseries.csv"), lines.join("\n") + "\n").unwrap();
    let pc = text("percentiles.csv");
    let mut lines: Vec<String> = pc.lines().map(str::to_string).collect();
    let mut f: Vec<String> = lines[2].split(',').map(str::to_string).collect();
    f[2] = "1.7e308".into();
    lines[2] = f.join(",");
    let mut f: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    f[2] = "1e-320".into();
    lines[1] = f.join(",");
    fs::write(case.join("percentiles.csv"), lines.join("\n") + "\n").unwrap();
    let t0 = std::time::Instant::now();
    cli(
        tmp.path(),
        &["report", "extreme", "-q", "--charts", "svg"],
        0,
    );
    assert!(t0.elapsed().as_secs() < 60);
    assert!(case.join("charts/latency.svg").is_file());
    // Reversed rows draw the same charts as the original order (only
    // the first row was edited above, so compare another chart).
    assert_eq!(
        fs::read(case.join("charts/queues.svg")).unwrap(),
        original["charts/queues.svg"]
    );
}

/// On a terminal, a run longer than a second shows a progress bar with
/// simulated time and events/s on stderr; `--quiet` hides it, as does a
/// stderr that is not a terminal (every other test).
#[test]
fn long_runs_show_progress_on_a_terminal() {
    // `script` (util-linux) gives the command a pseudo-terminal.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` to make a pseudo-terminal");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cmd = |extra: &str| {
        format!(
            "{} run {} --set simulation.duration=24h {extra} >/dev/null",
            env!("CARGO_BIN_EXE_microsim"),
            scenario("mm1.toml").display()
        )
    };
    let under_tty = |extra: &str| {
        let log = tmp.path().join("tty.log");
        let o = std::process::Command::new("script")
            .args(["-qec", &cmd(extra), log.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", texts(&o).1);
        String::from_utf8_lossy(&fs::read(&log).unwrap()).into_owned()
    };
    let shown = under_tty("");
    assert!(
        shown.contains("M events/s [") && shown.contains("eta"),
        "no progress bar in: {shown}"
    );
    let quiet = under_tty("--quiet");
    assert!(!quiet.contains("eta"), "--quiet shows a bar: {quiet}");
}

/// The chart in README.md is what its documented command draws today
/// (`microsim run scenarios/payment-outage.toml --out DIR`, then
/// `DIR/charts/latency.png`): redraw it when a chart's look changes.
#[test]
fn readme_chart_is_current() {
    let saved = saved_bundled("payment-outage.toml", &[]);
    let files = microsim::report::output::run_files(
        &microsim::report::saved::SavedRun {
            meta: microsim::report::saved::RunMeta {
                scenario_file: "scenarios/payment-outage.toml".into(),
                ..saved.meta.clone()
            },
            ..saved
        },
        Some(microsim::report::charts::Formats {
            png: true,
            svg: false,
        }),
    )
    .unwrap();
    let png = &files
        .iter()
        .find(|(n, _)| n == "charts/latency.png")
        .expect("a latency chart")
        .1;
    let readme = crate::common::root().join("docs/payment-outage-latency.png");
    assert!(
        fs::read(&readme).unwrap() == *png,
        "{} is stale: redraw it with the command under it in README.md",
        readme.display()
    );
    assert!(fs::read_to_string(crate::common::root().join("README.md"))
        .unwrap()
        .contains("](docs/payment-outage-latency.png)"));
}

/// The panels of one figure share their scale: checkout's two workloads
/// (checkout's latencies span less than 1.5 decades, order-status's
/// more) are both drawn on a log axis, not one of each.
#[test]
fn panels_of_a_figure_share_their_scale() {
    let saved = saved_bundled("checkout.toml", &[]);
    let charts = microsim::report::charts::run_charts(
        &saved,
        microsim::report::charts::Formats {
            png: false,
            svg: true,
        },
    )
    .unwrap();
    let latency = charts.iter().find(|c| c.name == "latency").unwrap();
    let svg = latency.svg.as_deref().unwrap();
    assert_eq!(svg.matches("latency (ms, log)").count(), 2, "{svg}");
}
