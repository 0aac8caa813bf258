//! How messaging, data copies, sagas and duplicate executions are shown:
//! terminal tables, data files parsed back exactly, `microsim report`
//! redrawing byte for byte, the consumer-lag and inconsistency-window
//! charts, the HTML sections and the catalogue's metrics. The results are
//! a real short run with messaging results written in by hand (the same
//! shapes the engine fills), so every count and its place can be checked.

use crate::common::{microsim, run_with, texts, tree};
use indexmap::IndexMap;
use microsim::metrics::latency::LatencySummary;
use microsim::metrics::messaging::{
    ConsistencyPeriod, CopySummary, CopyWindow, MessagingSummary, SubscriptionSummary,
    SubscriptionWindow, TopicSummary,
};
use microsim::metrics::saga::{ExecutionSummary, SagaSummary};
use microsim::report::charts::{self, palette, Formats};
use microsim::report::saved::{data_files, parse_run, RunMeta, SavedRun};
use microsim::report::{output, table};
use std::fs;
use std::path::Path;

const TOML: &str = r#"
name = "event-report"

[simulation]
duration = "20s"
warmup = "2s"
window = "1s"
seed = 5

[services.user.endpoints.update]
work = { dist = "exponential", mean = "2ms" }

[services.order.endpoints.on_user_updated]
work = { dist = "exponential", mean = "1ms" }

[[workloads]]
name = "updates"
target = "user.update"
arrival = { process = "poisson", rate = 40 }

[[faults]]
name = "order down"
kind = "crash"
service = "order"
at = "8s"
duration = "4s"
"#;

fn lat(p50: f64, p99: f64, max: f64) -> Option<LatencySummary> {
    Some(LatencySummary {
        mean: (p50 + p99) / 3.0,
        p50,
        p90: (p50 + p99) / 2.0,
        p99,
        p999: max * 0.9,
        max,
    })
}

fn period(writes: u64, unconverged: u64, reads: u64, stale: u64) -> ConsistencyPeriod {
    ConsistencyPeriod {
        writes,
        converged: writes - unconverged,
        unconverged,
        window_ms: lat(4.2, 910.0, 3800.0),
        reads,
        stale_reads: stale,
        stale_read_rate: Some(stale as f64 / reads as f64),
    }
}

fn subscription(
    handler: &str,
    delivered: u64,
    dead: u64,
    dropped: u64,
    pending: u64,
) -> SubscriptionSummary {
    SubscriptionSummary {
        handler: handler.into(),
        delivered,
        deliveries: delivered + 45,
        redelivered: 45,
        dead_lettered: dead,
        dropped,
        pending,
        max_lag: 120,
        mean_lag: 7.5,
        delivery_latency_ms: lat(3.1, 850.0, 4000.0),
    }
}

/// Whether window `[a, b)` overlaps the fault (8 s to 12 s).
fn in_fault(a: f64) -> bool {
    (8.0..12.0).contains(&a)
}

/// The run with messaging results written in: one topic with two
/// subscriptions, one copy (with periods outside and during the fault),
/// a saga endpoint and two tracked endpoints, and their time series.
pub fn synthetic_run() -> SavedRun {
    let mut result = run_with(TOML, &[]);
    let s = &mut result.summary;
    let mut subs = IndexMap::new();
    subs.insert(
        "order".to_string(),
        subscription("order.on_user_updated", 860, 6, 4, 10),
    );
    subs.insert(
        "search".to_string(),
        SubscriptionSummary {
            redelivered: 0,
            deliveries: 880,
            max_lag: 3,
            mean_lag: 0.25,
            delivery_latency_ms: lat(2.0, 5.0, 9.0),
            ..subscription("search.index", 880, 0, 0, 0)
        },
    );
    let mut topics = IndexMap::new();
    topics.insert(
        "user-updated".to_string(),
        TopicSummary {
            broker: "events".into(),
            published: 900,
            stored: 880,
            lost: 15,
            in_outbox: 3,
            unacked: 2,
            subscriptions: subs,
        },
    );
    let mut copies = IndexMap::new();
    copies.insert(
        "user-email@order".to_string(),
        CopySummary {
            data: "user-email".into(),
            owner: "user".into(),
            holder: "order".into(),
            topic: "user-updated".into(),
            keys: 1000,
            all: period(900, 30, 2000, 140),
            outside_faults: Some(period(700, 5, 1600, 20)),
            during_faults: Some(period(200, 25, 400, 120)),
            stale_keys_at_end: 12,
        },
    );
    s.messaging = Some(MessagingSummary { topics, copies });
    s.sagas.insert(
        "order.create".into(),
        SagaSummary {
            started: 300,
            completed: 250,
            compensated: 40,
            inconsistent: 5,
            interrupted: 3,
            in_flight: 2,
            compensations: 60,
            compensation_failures: 5,
            duration_ms: lat(12.0, 240.0, 700.0),
            completed_ms: lat(11.0, 90.0, 150.0),
            compensated_ms: None,
        },
    );
    s.executions.insert(
        "payment.charge".into(),
        ExecutionSummary {
            idempotent: false,
            logical_calls: 300,
            executions: 320,
            duplicates: 20,
            deduplicated: 0,
        },
    );
    s.executions.insert(
        "order.on_user_updated".into(),
        ExecutionSummary {
            idempotent: true,
            logical_calls: 880,
            executions: 860,
            duplicates: 0,
            deduplicated: 45,
        },
    );
    let bounds: Vec<(f64, f64)> = result
        .timeseries
        .workloads
        .iter()
        .map(|w| (w.start_s, w.end_s))
        .collect();
    for (i, &(a, b)) in bounds.iter().enumerate() {
        // Lag builds up while order is down and drains after.
        let lag = if in_fault(a) {
            30 * (a as u64 - 7)
        } else {
            (i % 3) as u64
        };
        for (sub, lag) in [("order", lag), ("search", (i % 2) as u64)] {
            result.timeseries.subscriptions.push(SubscriptionWindow {
                start_s: a,
                end_s: b,
                topic: "user-updated".into(),
                subscriber: sub.into(),
                published: 45,
                delivered: if in_fault(a) && sub == "order" { 0 } else { 45 },
                redelivered: u64::from(in_fault(a)) * 3,
                dead_lettered: 0,
                lag,
                max_lag: lag + 2,
                in_outboxes: if in_fault(a) { 10 * (a as u64 - 7) } else { 0 },
            });
        }
        // No write converges while order is down; right after, the
        // backlog converges with windows of seconds.
        let (p50, p99) = if in_fault(a) {
            (None, None)
        } else if (12.0..14.0).contains(&a) {
            (Some(1500.0), Some(3800.0))
        } else {
            (Some(3.0 + (i % 4) as f64 * 0.5), Some(9.0 + (i % 3) as f64))
        };
        result.timeseries.copies.push(CopyWindow {
            start_s: a,
            end_s: b,
            copy: "user-email@order".into(),
            converged: if p50.is_some() { 45 } else { 0 },
            window_p50_ms: p50,
            window_p99_ms: p99,
            window_max_ms: p99.map(|v| v * 1.2),
            reads: 100,
            stale_reads: if in_fault(a) { 40 } else { (i % 3) as u64 },
        });
    }
    SavedRun {
        meta: RunMeta {
            scenario_file: "event-report.toml".into(),
            window_seconds: 1.0,
            ..RunMeta::default()
        },
        result,
        source: TOML.to_string(),
    }
}

fn file<'a>(files: &'a [(&str, Vec<u8>)], name: &str) -> &'a str {
    let bytes = &files.iter().find(|(n, _)| *n == name).unwrap().1;
    std::str::from_utf8(bytes).unwrap()
}

/// Every new data file is written, says what the summary holds, and the
/// saved files parse back to the identical run (the time-series rows of
/// subscriptions and copies included).
#[test]
fn messaging_results_are_saved_and_parse_back_exactly() {
    let saved = synthetic_run();
    let files = data_files(&saved).unwrap();
    for name in [
        "topics.csv",
        "subscriptions.csv",
        "copies.csv",
        "sagas.csv",
        "executions.csv",
    ] {
        assert!(files.iter().any(|(n, _)| *n == name), "{name}");
    }
    assert_eq!(
        file(&files, "topics.csv"),
        "topic,broker,published,stored,lost,in_outbox,unacked,subscriptions\n\
         user-updated,events,900,880,15,3,2,2\n"
    );
    let subs = file(&files, "subscriptions.csv");
    assert!(
        subs.lines().nth(1).unwrap().starts_with(
            "user-updated->order,user-updated,order,order.on_user_updated,860,905,45,6,4,10,120,7.5,"
        ),
        "{subs}"
    );
    let copies: Vec<&str> = file(&files, "copies.csv").lines().collect();
    assert_eq!(copies.len(), 4, "{copies:?}");
    assert!(copies[1]
        .starts_with("user-email@order,user-email,user,order,user-updated,1000,all,900,870,30,"));
    assert!(
        copies[3].contains(",during_faults,200,175,25,") && copies[3].ends_with(",400,120,0.3,12")
    );
    assert_eq!(
        file(&files, "executions.csv"),
        "endpoint,idempotent,logical_calls,executions,duplicates,deduplicated\n\
         payment.charge,false,300,320,20,0\n\
         order.on_user_updated,true,880,860,0,45\n"
    );
    let sagas = file(&files, "sagas.csv");
    assert!(
        sagas.contains("\norder.create,300,250,40,5,3,2,60,5,"),
        "{sagas}"
    );
    let ts = file(&files, "timeseries.csv");
    let header = ts.lines().next().unwrap();
    assert!(
        header.ends_with(
            ",published,delivered,redelivered,dead_lettered,lag,max_lag,in_outboxes,\
             converged,window_p50_ms,window_p99_ms,window_max_ms,reads,stale_reads"
        ),
        "{header}"
    );
    assert!(ts.contains(",subscription,user-updated->order,"), "{ts}");
    assert!(ts.contains(",copy,user-email@order,"), "{ts}");
    let back = parse_run(&files).unwrap();
    assert_eq!(back.result.timeseries, saved.result.timeseries);
    assert_eq!(back.result.summary, saved.result.summary);
    assert_eq!(back, saved);
}

/// A run without these features writes none of their files, columns or
/// table lines: its outputs read as before.
#[test]
fn runs_without_messaging_show_none_of_it() {
    let mut saved = synthetic_run();
    let s = &mut saved.result.summary;
    s.messaging = None;
    s.sagas.clear();
    s.executions.clear();
    saved.result.timeseries.subscriptions.clear();
    saved.result.timeseries.copies.clear();
    let files = data_files(&saved).unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    for name in [
        "topics.csv",
        "subscriptions.csv",
        "copies.csv",
        "sagas.csv",
        "executions.csv",
    ] {
        assert!(!names.contains(&name), "{name}");
    }
    let header = file(&files, "timeseries.csv")
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(header.ends_with(",replicas,available_replicas"), "{header}");
    let text = table::summary_tables(&saved.result.summary);
    for word in ["topic", "subscri", "copy", "saga", "idempotent"] {
        assert!(!text.contains(word), "{word} in\n{text}");
    }
    let drawn = charts::run_charts(
        &saved,
        Formats {
            svg: true,
            png: false,
        },
    )
    .unwrap();
    assert!(drawn
        .iter()
        .all(|c| !["consumer-lag", "inconsistency-window", "sagas"].contains(&c.name.as_str())));
    let html = microsim::report::html::run_report(&saved, &drawn);
    assert!(!html.contains("id=\"messaging\"") && !html.contains("Duplicate executions"));
}

/// The terminal tables: a row per topic, subscription, copy period, saga
/// and tracked endpoint with their counts, in the summary's order.
#[test]
fn tables_show_topics_subscriptions_copies_sagas_and_executions() {
    let saved = synthetic_run();
    let text = table::summary_tables(&saved.result.summary);
    let cells = |line: &str| -> Vec<String> {
        line.split(['│', '┆'])
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    };
    let row = |start: &str| -> Vec<String> {
        text.lines()
            .map(cells)
            .find(|c| c.first().is_some_and(|c| c.starts_with(start)))
            .unwrap_or_else(|| panic!("no row {start} in\n{text}"))
    };
    assert_eq!(
        row("user-updated"),
        ["user-updated", "events", "900", "880", "15", "3", "2"]
    );
    assert_eq!(
        row("user-updated->order"),
        [
            "user-updated->order",
            "order.on_user_updated",
            "860",
            "45",
            "6",
            "4",
            "10",
            "120",
            "7.50",
            "3.10",
            "850.0"
        ]
    );
    assert_eq!(
        row("user-email@order"),
        [
            "user-email@order",
            "all",
            "900",
            "870",
            "30",
            "4.20",
            "910.0",
            "3800.0",
            "2000",
            "140",
            "7.000%",
            "12"
        ]
    );
    let during = row("during faults");
    assert_eq!(during[0..4], ["during faults", "200", "175", "25"]);
    assert_eq!(during.last().unwrap(), "30.000%");
    assert_eq!(
        row("order.create"),
        [
            "order.create",
            "300",
            "250",
            "40",
            "5",
            "3",
            "2",
            "60",
            "5",
            "12.00",
            "240.0"
        ]
    );
    assert_eq!(
        row("payment.charge"),
        ["payment.charge", "no", "300", "320", "20", "0"]
    );
    assert_eq!(
        row("order.on_user_updated"),
        ["order.on_user_updated", "yes", "880", "860", "0", "45"]
    );
    // In reading order: topics, subscriptions, copies, sagas, executions.
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s}"));
    assert!(at("topics (") < at("subscriptions (") && at("subscriptions (") < at("data copies ("));
    assert!(at("data copies (") < at("sagas (") && at("sagas (") < at("executions ("));
}

fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Pixels of exactly `c` in an RGB buffer, as (x, y).
fn pixels_of(rgb: &[u8], w: u32, c: (u8, u8, u8)) -> Vec<(u32, u32)> {
    rgb.chunks(3)
        .enumerate()
        .filter(|(_, p)| (p[0], p[1], p[2]) == c)
        .map(|(i, _)| (i as u32 % w, i as u32 / w))
        .collect()
}

/// The two charts exist only with their data, are valid PNG and SVG with
/// a panel per subscription or copy, show the lag line in each
/// subscription's colour and the fault shaded, and draw the same when
/// drawn again.
#[test]
fn lag_and_inconsistency_charts_show_the_series_and_the_fault() {
    let saved = synthetic_run();
    let f = Formats {
        svg: true,
        png: true,
    };
    let drawn = charts::run_charts(&saved, f).unwrap();
    let get = |n: &str| drawn.iter().find(|c| c.name == n).unwrap();
    let lag = get("consumer-lag");
    let window = get("inconsistency-window");
    let sagas = get("sagas");
    if let Ok(dir) = std::env::var("MICROSIM_CHART_DUMP") {
        for c in [lag, window, sagas] {
            fs::write(format!("{dir}/{}.png", c.name), c.png.as_ref().unwrap()).unwrap();
            fs::write(format!("{dir}/{}.svg", c.name), c.svg.as_ref().unwrap()).unwrap();
        }
    }
    // Two subscriptions: two panels; one copy: one.
    let (w, h, rgb) = decode(lag.png.as_ref().unwrap());
    assert_eq!((w, h), (1000, 50 + 2 * 260 + 8));
    let (w2, h2, rgb2) = decode(window.png.as_ref().unwrap());
    assert_eq!((w2, h2), (1000, 50 + 260 + 8));
    for (i, (name, rgb, w)) in [("lag", &rgb, w), ("window", &rgb2, w2)]
        .into_iter()
        .enumerate()
    {
        let c = palette::series(0);
        let line = pixels_of(rgb, w, (c.0, c.1, c.2));
        assert!(
            line.len() > 100,
            "{name}: {} pixels of the series colour",
            line.len()
        );
        let _ = i;
    }
    // The first subscription's lag line (its colour) peaks inside the
    // fault (8-12 s of 20 s): its highest pixel lies in the middle of the
    // plot, not at its edges.
    let c = palette::series(0);
    let first_panel: Vec<(u32, u32)> = pixels_of(&rgb, w, (c.0, c.1, c.2))
        .into_iter()
        .filter(|(x, y)| *y > 60 && *y < 50 + 260 && *x < 800)
        .collect();
    let top = first_panel.iter().min_by_key(|p| p.1).unwrap();
    assert!(top.0 > 300 && top.0 < 650, "peak at {top:?}");
    for svg in [lag.svg.as_ref().unwrap(), window.svg.as_ref().unwrap()] {
        roxmltree::Document::parse(svg).unwrap();
        assert!(svg.contains("order down"), "the fault is labelled");
    }
    assert!(lag.svg.as_ref().unwrap().contains("user-updated → search"));
    // Sagas: one bar, its segments in the outcome colours, the counts
    // that fit written inside (250 completed, 40 compensated of 300).
    let (_, _, rgb3) = decode(sagas.png.as_ref().unwrap());
    for c in [palette::OK, palette::DEGRADED, palette::FAILED] {
        assert!(!pixels_of(&rgb3, 1000, (c.0, c.1, c.2)).is_empty(), "{c:?}");
    }
    let svg = sagas.svg.as_ref().unwrap();
    roxmltree::Document::parse(svg).unwrap();
    assert!(svg.contains("\n250\n") && svg.contains("\n40\n") && svg.contains("order.create"));
    assert!(svg.contains("300 started: 5 inconsistent, 3 interrupted, 2 in flight"));
    assert!(window.svg.as_ref().unwrap().contains("stale reads (%)"));
    // The windows span decades (4 ms to 3.8 s): a log axis.
    assert!(window.svg.as_ref().unwrap().contains("window (ms, log)"));
    let again = charts::run_charts(&saved, f).unwrap();
    assert_eq!(again, drawn);
}

/// The HTML report has the four sections with their tables and charts,
/// in reading order.
#[test]
fn html_report_has_messaging_consistency_saga_and_duplicate_sections() {
    let saved = synthetic_run();
    let drawn = charts::run_charts(
        &saved,
        Formats {
            svg: true,
            png: false,
        },
    )
    .unwrap();
    let html = microsim::report::html::run_report(&saved, &drawn);
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("no {s}"));
    let (m, c, g, e) = (
        at("id=\"messaging\""),
        at("id=\"consistency\""),
        at("id=\"sagas\""),
        at("id=\"executions\""),
    );
    assert!(m < c && c < g && g < e);
    assert!(m < at("Consumer lag over time") && at("Consumer lag over time") < c);
    assert!(c < at("Inconsistency window over time") && at("Inconsistency window over time") < g);
    assert!(html[m..c].contains("user-updated → order") && html[m..c].contains(">15<"));
    assert!(html[c..g].contains("during faults") && html[c..g].contains("30.000%"));
    assert!(html[g..e].contains("order.create") && html[g..e].contains("Saga outcomes"));
    assert!(html[e..].contains("payment.charge"));
    // Charts in their own sections are not repeated under "More charts".
    assert!(!html.contains("id=\"more-charts\""));
}

/// Runs `microsim` in `dir`, expecting `code`.
fn cli(dir: &Path, args: &[&str], code: i32) -> (String, String) {
    let o = microsim(dir, args);
    let t = texts(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}\nstderr: {}", t.1);
    t
}

/// `microsim report DIR` redraws the charts and report of a run with
/// messaging byte for byte from its saved files; damaged subscription or
/// copy rows exit 2 naming the file and line.
#[test]
fn report_redraws_messaging_and_refuses_damaged_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let saved = synthetic_run();
    let files = output::run_files(
        &saved,
        Some(Formats {
            svg: true,
            png: true,
        }),
    )
    .unwrap();
    let a = tmp.path().join("a");
    output::write_tree(&a, &files).unwrap();
    let written = tree(&a);
    assert!(written.contains_key("charts/consumer-lag.png"));
    assert!(written.contains_key("charts/inconsistency-window.svg"));
    let b = tmp.path().join("b");
    for (rel, bytes) in &written {
        if rel.contains("charts/") || rel.ends_with("report.html") {
            continue;
        }
        fs::create_dir_all(b.join(rel).parent().unwrap()).unwrap();
        fs::write(b.join(rel), bytes).unwrap();
    }
    cli(tmp.path(), &["report", "b", "-q"], 0);
    let redrawn = tree(&b);
    assert_eq!(
        written.keys().collect::<Vec<_>>(),
        redrawn.keys().collect::<Vec<_>>()
    );
    for (rel, bytes) in &written {
        assert!(&redrawn[rel] == bytes, "{rel} differs when redrawn");
    }
    // Damage one row of each kind in turn.
    let ts = fs::read_to_string(b.join("timeseries.csv")).unwrap();
    let lines: Vec<&str> = ts.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = |name: &str| header.iter().position(|c| *c == name).unwrap();
    for (kind, column, bad, wanted) in [
        (
            "subscription",
            "lag",
            "lots",
            "`lots` is not a valid number",
        ),
        ("copy", "window_p99_ms", "-3", "`-3` is not a finite number"),
        (
            "subscription",
            "name",
            "user-updated->nobody",
            "`user-updated->nobody` is not in summary.json",
        ),
        (
            "copy",
            "name",
            "user-email@nobody",
            "`user-email@nobody` is not in summary.json",
        ),
    ] {
        let (i, line) = lines
            .iter()
            .enumerate()
            .find(|(_, l)| l.split(',').nth(2) == Some(kind))
            .unwrap();
        let mut fields: Vec<String> = line.split(',').map(str::to_string).collect();
        fields[col(column)] = bad.to_string();
        let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        edited[i] = fields.join(",");
        let d = tmp.path().join(format!("d-{kind}-{column}"));
        fs::create_dir_all(&d).unwrap();
        for (rel, bytes) in tree(&b) {
            if !rel.contains('/') {
                fs::write(d.join(&rel), bytes).unwrap();
            }
        }
        fs::write(d.join("timeseries.csv"), edited.join("\n") + "\n").unwrap();
        fs::remove_file(d.join("report.html")).unwrap();
        let (_, err) = cli(tmp.path(), &["report", d.to_str().unwrap()], 2);
        let line_no = format!("line {}", i + 1);
        assert!(
            err.contains("timeseries.csv") && err.contains(&line_no) && err.contains(wanted),
            "{kind} {column}: {err}"
        );
        assert!(!d.join("report.html").exists());
    }
}

/// `compare` shows the topics, copies, sagas and tracked endpoints side
/// by side, judging lost events and duplicates (an outbox, idempotency
/// keys), and leaves them out when no variant has them.
#[test]
fn compare_shows_lost_events_and_duplicates_side_by_side() {
    use microsim::report::compare::{self, Scope, VariantResult};
    let before = synthetic_run().result.summary;
    let mut after = before.clone();
    {
        let m = after.messaging.as_mut().unwrap();
        let t = &mut m.topics["user-updated"];
        t.in_outbox += t.lost;
        t.lost = 0;
        let e = &mut after.executions["payment.charge"];
        e.idempotent = true;
        e.deduplicated = e.duplicates;
        e.duplicates = 0;
    }
    let variant = |name: &str, summary| VariantResult {
        name: name.into(),
        file: "event-report.toml".into(),
        overrides: Vec::new(),
        seed: 5,
        summary,
    };
    let c = compare::compare(vec![
        variant("plain", before.clone()),
        variant("outbox", after),
    ]);
    let row = |scope: Scope, subject: &str, metric: &str| {
        c.rows
            .iter()
            .find(|r| r.scope == scope && r.subject == subject && r.metric == metric)
            .unwrap_or_else(|| panic!("{subject} {metric}"))
    };
    let lost = row(Scope::Topic, "user-updated", "lost");
    assert_eq!(lost.cells[1].value, Some(0.0));
    assert_eq!(lost.cells[1].diff, Some(-15.0));
    assert_eq!(lost.cells[1].verdict.as_deref(), Some("better"));
    let dup = row(Scope::Endpoint, "payment.charge", "duplicates");
    assert_eq!(dup.cells[1].verdict.as_deref(), Some("better"));
    let same = row(Scope::Copy, "user-email@order", "window p99");
    assert_eq!(same.cells[1].verdict.as_deref(), Some("same"));
    // The copy's stale-read row is a rate (a fraction shown in %), and is
    // named so, not "stale reads" like the count in the run's table.
    let stale = row(Scope::Copy, "user-email@order", "stale rate");
    assert_eq!(stale.unit, compare::Unit::Fraction);
    assert!(!c.rows.iter().any(|r| r.metric == "stale reads"));
    assert_eq!(
        row(Scope::Saga, "order.create", "inconsistent").cells[0].value,
        Some(5.0)
    );
    let text = compare::comparison_tables(&c);
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} in\n{text}"));
    assert!(at("services\n") < at("topics\n") && at("topics\n") < at("data copies\n"));
    assert!(at("data copies\n") < at("sagas\n") && at("sagas\n") < at("executions\n"));
    assert!(at("executions\n") < at("all workloads\n"));
    let csv = String::from_utf8(compare::comparison_csv(&c).unwrap()).unwrap();
    assert!(
        csv.contains("\ntopic,user-updated,lost,,outbox,0,-15,-1,better\n"),
        "{csv}"
    );
    let run = synthetic_run();
    let saved = microsim::report::saved::SavedCompare {
        comparison: c.clone(),
        variants: vec![run.clone(), run],
    };
    let html = microsim::report::html::compare_report(&saved, &[]);
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("no {s}"));
    assert!(at("<h3>Services</h3>") < at("<h3>Topics</h3>"));
    assert!(at("<h3>Topics</h3>") < at("<h3>Data copies</h3>"));
    assert!(at("<h3>Sagas</h3>") < at("<h3>Executions</h3>"));
    assert!(at("<h3>Executions</h3>") < at("<h3>All workloads</h3>"));
    // Without messaging in any variant: none of these rows or headings.
    let mut plain = before;
    plain.messaging = None;
    plain.sagas.clear();
    plain.executions.clear();
    let c = compare::compare(vec![variant("a", plain.clone()), variant("b", plain)]);
    assert!(c
        .rows
        .iter()
        .all(|r| matches!(r.scope, Scope::Workload | Scope::Service | Scope::Overall)));
    assert!(!compare::comparison_tables(&c).contains("topics"));
}

/// Through the binary: the catalogue's new names work in `--assert` (a
/// misspelt one exits 2 listing what exists) and as sweep columns; the
/// duplicate-charges scenario counts duplicates without idempotency keys
/// and none with them.
#[test]
fn new_metrics_work_in_assertions_and_sweeps() {
    let tmp = tempfile::tempdir().unwrap();
    let file = crate::common::scenario("duplicate-charges.toml");
    let file = file.to_str().unwrap();
    let short = [
        "--set",
        "simulation.duration=10s",
        "--set",
        "simulation.warmup=1s",
    ];
    let run = |extra: &[&str], code: i32| {
        let mut args = vec!["run", file, "-q"];
        args.extend(short);
        args.extend(extra);
        cli(tmp.path(), &args, code)
    };
    let (out, err) = run(
        &[
            "--assert",
            "payment.charge.duplicates > 0",
            "--assert",
            "payment.charge.duplicates == 0",
        ],
        1,
    );
    let text = out + &err;
    assert!(
        text.contains("PASS  payment.charge.duplicates > 0"),
        "{text}"
    );
    assert!(
        text.contains("FAIL  payment.charge.duplicates == 0"),
        "{text}"
    );
    run(
        &[
            "--set",
            "services.payment.endpoints.charge.idempotent=true",
            "--assert",
            "payment.charge.duplicates == 0",
            "--assert",
            "payment.charge.deduplicated > 0",
        ],
        0,
    );
    let (_, err) = run(&["--assert", "payment.charge.dupes == 0"], 2);
    assert!(
        err.contains("has no metric `dupes`") && err.contains("duplicates, deduplicated"),
        "{err}"
    );
    // Messaging and copy names of event-driven are known (a run judges
    // them: exit 0 or 1, never the exit 2 of an unknown name).
    let ed = crate::common::scenario("event-driven.toml");
    for expr in [
        "topic.user-updated.lost >= 0",
        "topic.user-updated.order.delivery_p99 >= 0ms",
        "user-email@order.stale_rate >= 0%",
    ] {
        let o = microsim(
            tmp.path(),
            &[
                "run",
                ed.to_str().unwrap(),
                "-q",
                "--set",
                "simulation.duration=3s",
                "--set",
                "simulation.warmup=1s",
                "--assert",
                expr,
            ],
        );
        assert_ne!(o.status.code(), Some(2), "{expr}: {}", texts(&o).1);
    }
    let (out, _) = cli(
        tmp.path(),
        &[
            "sweep",
            file,
            "-q",
            "-j",
            "1",
            "--set",
            "simulation.duration=10s",
            "--set",
            "simulation.warmup=1s",
            "--param",
            "services.payment.endpoints.charge.idempotent=false,true",
            "--metrics",
            "payment.charge.duplicates",
            "--out",
            "sw",
        ],
        0,
    );
    assert!(out.contains("payment.charge.duplicates"), "{out}");
    let csv = fs::read_to_string(tmp.path().join("sw/sweep.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|c| *c == "payment.charge.duplicates")
        .unwrap_or_else(|| panic!("{header:?}"));
    let dup: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    assert_eq!(dup.len(), 2);
    assert!(dup[0] > 0.0 && dup[1] == 0.0, "{dup:?}");
}
