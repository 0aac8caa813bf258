//! Traces (`run --traces`): both formats are valid JSON with consistent
//! ids, times and lanes; the trace file is deterministic and changes no
//! result; retention is bounded; bad flags are refused.

use crate::common::*;
use microsim::model::{Cause, Model};
use microsim::trace::file::{Format, TraceFile};
use microsim::trace::recorder::{Recorder, SpanRef};
use microsim::trace::{SpanKind, SpanOutcome, TraceConfig, TraceSink};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A small deterministic generator for the hand-made span trees.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Feeds `requests` random requests into `rec` as the engine would: each
/// a tree of spans opened in order of start, children starting within
/// their parent, some overlapping (parallel calls), some outliving their
/// parent (an attempt abandoned after a timeout, closed when its request
/// ends), some failing. Returns the latest end time.
fn synthetic(rec: &mut Recorder, model: &Model, requests: u64, seed: u64) -> u64 {
    let mut g = Lcg(seed);
    let slots: u32 = model.services.iter().map(|s| s.slots).sum();
    let endpoints = model.endpoints.len() as u64;
    let mut last = 0;
    for r in 0..requests {
        let start = r * 1_000_000 + g.next(1000);
        let end = start + 1 + g.next(50_000_000);
        // (parent, start, end) with parents before children.
        let mut nodes: Vec<(usize, u64, u64)> = vec![(usize::MAX, start, end)];
        let mut i = 0;
        while i < nodes.len() && nodes.len() < 40 {
            let (_, s, e) = nodes[i];
            for _ in 0..g.next(4) {
                let cs = s + g.next(e - s + 1);
                let ce = if g.next(8) == 0 {
                    cs + g.next(end - cs + 1)
                } else {
                    cs + g.next(e - cs + 1)
                };
                nodes.push((i, cs, ce));
            }
            i += 1;
        }
        let mut order: Vec<usize> = (0..nodes.len()).collect();
        order.sort_by_key(|&k| (nodes[k].1, k));
        let mut refs = vec![SpanRef::NONE; nodes.len()];
        for &k in &order {
            let (p, s, _) = nodes[k];
            let kind = [SpanKind::Call, SpanKind::Lookup, SpanKind::Publish][g.next(3) as usize];
            refs[k] = if k == 0 {
                rec.open_root((r % 2) as u32, 0, s, true)
            } else {
                rec.open(
                    refs[p],
                    kind,
                    g.next(endpoints) as u32,
                    1 + g.next(3) as u32,
                    s,
                )
            };
            if let Some(span) = rec.span_mut(refs[k]) {
                span.replica = g.next(u64::from(slots)) as u32;
                span.queue_wait = (g.next(2) == 0).then(|| g.next(1000));
            }
        }
        for k in 1..nodes.len() {
            // Those ending after their request stay open: the recorder
            // closes them as unfinished.
            if nodes[k].2 < end {
                let outcome = match g.next(3) {
                    0 => SpanOutcome::Failed(Cause::Timeout),
                    1 => SpanOutcome::Degraded,
                    _ => SpanOutcome::Ok,
                };
                rec.close(refs[k], nodes[k].2, outcome);
            }
        }
        let outcome = if g.next(4) == 0 {
            SpanOutcome::Failed(Cause::Rejected)
        } else {
            SpanOutcome::Ok
        };
        rec.finish_root(refs[0], end, outcome);
        last = last.max(end);
    }
    last
}

fn hex_of(v: &Value, len: usize) -> String {
    let s = v.as_str().expect("an id is a string");
    assert_eq!(s.len(), len, "{s}");
    assert!(
        s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{s}"
    );
    s.to_string()
}

fn ns_of(v: &Value) -> u64 {
    v.as_str()
        .expect("OTLP times are decimal strings")
        .parse()
        .unwrap()
}

/// An OTLP span's parent id, start and end.
type OtlpSpan = (Option<String>, u64, u64);

/// Checks an OTLP/JSON document; returns its spans per trace id (count).
fn check_otlp(doc: &Value, duration: u64) -> BTreeMap<String, usize> {
    // Per trace: span id -> (parent id, start, end).
    let mut traces: BTreeMap<String, BTreeMap<String, OtlpSpan>> = BTreeMap::new();
    for rs in doc["resourceSpans"].as_array().expect("resourceSpans") {
        let attrs = rs["resource"]["attributes"].as_array().unwrap();
        assert_eq!(attrs[0]["key"], "service.name");
        assert!(attrs[0]["value"]["stringValue"].is_string());
        let scopes = rs["scopeSpans"].as_array().unwrap();
        assert_eq!(scopes.len(), 1);
        assert_eq!(scopes[0]["scope"]["name"], "microsim");
        let spans = scopes[0]["spans"].as_array().unwrap();
        assert!(!spans.is_empty());
        for s in spans {
            let trace = hex_of(&s["traceId"], 32);
            let id = hex_of(&s["spanId"], 16);
            assert_ne!(id, "0000000000000000");
            let parent = s.get("parentSpanId").map(|p| hex_of(p, 16));
            let (start, end) = (ns_of(&s["startTimeUnixNano"]), ns_of(&s["endTimeUnixNano"]));
            assert!(start <= end && end <= duration, "{s}");
            assert!(s["name"].is_string());
            assert!([1, 2, 3, 4].contains(&s["kind"].as_u64().unwrap()), "{s}");
            let code = s["status"]["code"].as_u64().unwrap();
            let keys: BTreeSet<&str> = s["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["key"].as_str().unwrap())
                .collect();
            for k in [
                "microsim.kind",
                "microsim.endpoint",
                "microsim.attempt",
                "microsim.outcome",
            ] {
                assert!(keys.contains(k), "{k} missing in {s}");
            }
            assert_eq!(keys.contains("microsim.cause"), code == 2, "{s}");
            assert_eq!(
                parent.is_none(),
                keys.contains("microsim.workload") && keys.contains("microsim.sampled_by"),
                "{s}"
            );
            let old = traces
                .entry(trace)
                .or_default()
                .insert(id, (parent, start, end));
            assert!(old.is_none(), "span ids are unique in a trace");
        }
    }
    for spans in traces.values() {
        let roots = spans.values().filter(|(p, ..)| p.is_none()).count();
        assert_eq!(roots, 1);
        for (parent, start, _) in spans.values() {
            if let Some(p) = parent {
                let (_, pstart, _) = spans.get(p).expect("the parent is a span of the trace");
                assert!(start >= pstart, "a child starts after its parent");
            }
        }
    }
    traces.into_iter().map(|(t, s)| (t, s.len())).collect()
}

/// Chrome `ts`/`dur` (microseconds with three decimals) in ns.
fn us(v: &Value) -> u64 {
    (v.as_f64().expect("a number") * 1000.0).round() as u64
}

/// Checks a Chrome trace-event document; returns its trace ids (root
/// spans' `trace_id`) and its number of X events.
fn check_chrome(doc: &Value, duration: u64) -> (BTreeSet<String>, usize) {
    assert_eq!(doc["displayTimeUnit"], "ns");
    assert!(doc["otherData"].is_object());
    let events = doc["traceEvents"].as_array().expect("traceEvents");
    let mut lanes: BTreeMap<(u64, u64), Vec<(u64, u64)>> = BTreeMap::new();
    let mut named: BTreeSet<(u64, u64)> = BTreeSet::new();
    let mut processes = BTreeSet::new();
    let mut ids = BTreeSet::new();
    let mut spans = 0;
    for e in events {
        let pid = e["pid"].as_u64().expect("pid");
        let tid = e["tid"].as_u64().expect("tid");
        match e["ph"].as_str().unwrap() {
            "M" => match e["name"].as_str().unwrap() {
                "process_name" => {
                    assert!(e["args"]["name"].as_str().unwrap().contains(" #"));
                    processes.insert(pid);
                }
                "thread_name" => {
                    named.insert((pid, tid));
                }
                "process_sort_index" => {}
                other => panic!("unexpected metadata {other}"),
            },
            "X" => {
                spans += 1;
                let (ts, dur) = (us(&e["ts"]), us(&e["dur"]));
                assert!(ts + dur <= duration, "{e}");
                assert!(e["cat"].is_string() && e["name"].is_string());
                hex_of(&e["args"]["span_id"], 16);
                if let Some(t) = e["args"].get("trace_id") {
                    assert!(ids.insert(hex_of(t, 32)), "one root per trace");
                }
                lanes.entry((pid, tid)).or_default().push((ts, ts + dur));
            }
            other => panic!("unexpected phase {other}"),
        }
    }
    for (lane, mut slices) in lanes {
        assert!(processes.contains(&lane.0) && named.contains(&lane));
        // On one lane, slices nest or are disjoint.
        slices.sort_by_key(|&(s, e)| (s, std::cmp::Reverse(e)));
        let mut open: Vec<u64> = Vec::new();
        for (s, e) in slices {
            while open.last().is_some_and(|&end| end <= s) {
                open.pop();
            }
            if let Some(&end) = open.last() {
                assert!(
                    e <= end,
                    "lane {lane:?}: [{s}, {e}] overlaps a slice ending at {end}"
                );
            }
            open.push(e);
        }
    }
    assert_eq!(processes.len(), ids.len());
    (ids, spans)
}

/// Writes `requests` synthetic requests through a trace file and parses
/// it.
fn synthetic_file(dir: &Path, format: Format, config: TraceConfig, requests: u64) -> (Value, u64) {
    let model = bundled_model("checkout.toml", &[]);
    let path = dir.join(format!("{format:?}.json"));
    let sink = TraceFile::create(&path, format, &model).unwrap();
    let mut rec = Recorder::new(&model, config, Box::new(sink));
    let last = synthetic(&mut rec, &model, requests, 42);
    let written = rec.finish(&model).unwrap();
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(last > 0);
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name();
        assert!(
            !name.to_string_lossy().starts_with('.'),
            "temporary file {name:?} left"
        );
    }
    (doc, written.total())
}

#[test]
fn synthetic_span_trees_make_valid_otlp_and_chrome_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = TraceConfig {
        sample: 0.3,
        keep: 5,
    };
    let duration = 400 * 1_000_000 + 60_000_000;
    let (otlp, n) = synthetic_file(dir.path(), Format::Otlp, config, 400);
    let traces = check_otlp(&otlp, duration);
    assert_eq!(traces.len() as u64, n);
    // About 30% of 400 sampled plus up to 5 failed and 5 slowest per
    // workload (2 workloads): at least the kept ones, at most all.
    assert!(n > 20 && n < 400, "{n}");
    let (chrome, m) = synthetic_file(dir.path(), Format::Chrome, config, 400);
    let (ids, spans) = check_chrome(&chrome, duration);
    assert_eq!(m, n);
    // The same traces and spans in both formats.
    assert_eq!(ids, traces.keys().cloned().collect());
    assert_eq!(spans, traces.values().sum::<usize>());
}

#[test]
fn a_trace_file_is_not_left_behind_when_not_completed() {
    let dir = tempfile::tempdir().unwrap();
    let model = bundled_model("checkout.toml", &[]);
    let path = dir.path().join("t.json");
    let mut sink = TraceFile::create(&path, Format::Otlp, &model).unwrap();
    let mut rec = Recorder::new(
        &model,
        TraceConfig {
            sample: 1.0,
            keep: 0,
        },
        Box::new(TraceFile::create(&dir.path().join("u.json"), Format::Chrome, &model).unwrap()),
    );
    synthetic(&mut rec, &model, 10, 1);
    // A run that fails drops its recorder without finishing it.
    drop(rec);
    sink.finish(&model).unwrap();
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["t.json"]);
}

#[test]
fn bad_trace_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let checkout = scenario("checkout.toml");
    let checkout = checkout.to_str().unwrap();
    let under_a_file = format!("{checkout}/t.json");
    for (args, says) in [
        (
            vec!["--traces", "t.json", "--trace-sample", "1.5"],
            "between 0 and 1",
        ),
        (
            vec!["--traces", "t.json", "--trace-sample", "-0.1"],
            "--trace-sample",
        ),
        (
            vec!["--traces", "t.json", "--trace-sample", "lots"],
            "not a number",
        ),
        (
            vec!["--traces", "t.json", "--trace-format", "xml"],
            "--trace-format",
        ),
        (vec!["--trace-sample", "0.1"], "--traces"),
        (vec!["--trace-keep", "3"], "--traces"),
        (vec!["--trace-format", "chrome"], "--traces"),
        (vec!["--traces", "."], "directory"),
        (vec!["--traces", &under_a_file], "not a directory"),
    ] {
        let mut all = vec!["run", checkout, "-q"];
        all.extend(&args);
        let o = microsim(dir.path(), &all);
        let (_, err) = texts(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // Nothing written, no temporary file.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn rate_zero_with_keep_zero_writes_a_valid_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["otlp", "chrome"] {
        let file = format!("{format}.json");
        let o = microsim(
            dir.path(),
            &[
                "run",
                scenario("checkout.toml").to_str().unwrap(),
                "--set",
                "simulation.duration=40s",
                "--traces",
                &file,
                "--trace-sample",
                "0",
                "--trace-keep",
                "0",
                "--trace-format",
                format,
            ],
        );
        let (_, err) = texts(&o);
        assert!(o.status.success(), "{err}");
        assert!(
            err.contains(&format!(
                "wrote 0 traces (0 sampled, 0 failed, 0 slowest) to {file}"
            )),
            "{err}"
        );
        let doc: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(&file)).unwrap()).unwrap();
        let empty = match format {
            "otlp" => doc["resourceSpans"].as_array().unwrap().is_empty(),
            _ => doc["traceEvents"].as_array().unwrap().is_empty(),
        };
        assert!(empty, "{doc}");
    }
}

/// Runs `microsim run SCENARIO --set simulation.duration=DURATION ARGS`
/// in `dir`, expecting success; returns stderr.
/// `--out results --traces results/traces.json` on a fresh directory:
/// the traces' directory is created, and the outputs join it.
#[test]
fn traces_can_go_into_a_new_out_directory() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(
        dir.path(),
        "checkout.toml",
        "45s",
        &["--out", "res", "--traces", "res/traces.json", "--no-charts"],
    );
    let res = dir.path().join("res");
    assert!(res.join("summary.json").is_file());
    let doc = read_json(&res.join("traces.json"));
    assert!(doc["resourceSpans"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));
}

fn run_ok(dir: &Path, name: &str, duration: &str, args: &[&str]) -> String {
    let path = scenario(name);
    let set = format!("simulation.duration={duration}");
    let mut all = vec!["run", path.to_str().unwrap(), "--set", &set];
    all.extend(args);
    let o = microsim(dir, &all);
    let (_, err) = texts(&o);
    assert!(o.status.success(), "{args:?}: {err}");
    err
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The root spans of an OTLP document: (trace id, workload, sampled_by,
/// start ns).
fn otlp_roots(doc: &Value) -> Vec<(String, String, String, u64)> {
    let mut roots = Vec::new();
    for rs in doc["resourceSpans"].as_array().unwrap() {
        for s in rs["scopeSpans"][0]["spans"].as_array().unwrap() {
            if s.get("parentSpanId").is_some() {
                continue;
            }
            let attr = |k: &str| -> String {
                let a = s["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["key"] == k)
                    .unwrap_or_else(|| panic!("{k} in {s}"));
                a["value"]["stringValue"].as_str().unwrap().to_string()
            };
            roots.push((
                s["traceId"].as_str().unwrap().to_string(),
                attr("microsim.workload"),
                attr("microsim.sampled_by"),
                ns_of(&s["startTimeUnixNano"]),
            ));
        }
    }
    roots
}

/// "wrote N traces (S sampled, F failed, K slowest)" from stderr.
fn wrote(err: &str) -> [u64; 4] {
    let line = err
        .lines()
        .find(|l| l.starts_with("wrote ") && l.contains(" traces ("))
        .unwrap_or_else(|| panic!("no traces line in {err}"));
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    [nums[0], nums[1], nums[2], nums[3]]
}

#[test]
fn real_runs_write_valid_traces_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    // 60 s with a 30 s warm-up: about 6,000 measured requests, 5% of
    // them sampled.
    let args = ["--trace-sample", "0.05", "--trace-keep", "3", "-q"];
    run_ok(
        dir.path(),
        "checkout.toml",
        "60s",
        &[&args[..], &["--traces", "o.json"]].concat(),
    );
    let err = run_ok(
        dir.path(),
        "checkout.toml",
        "60s",
        &[
            "--trace-sample",
            "0.05",
            "--trace-keep",
            "3",
            "--traces",
            "c.json",
            "--trace-format",
            "chrome",
        ],
    );
    let [n, sampled, failed, slowest] = wrote(&err);
    assert_eq!(n, sampled + failed + slowest);
    // Sampled: binomial(6000, 0.05), mean 300, sd 17: 200..400 is more
    // than 5 sd either side. Slowest: 3 per workload, 2 workloads.
    assert!((200..400).contains(&sampled), "{err}");
    assert_eq!(slowest, 6, "{err}");
    assert!(failed <= 6);
    let duration = 60_000_000_000;
    let otlp = read_json(&dir.path().join("o.json"));
    let traces = check_otlp(&otlp, duration);
    assert_eq!(traces.len() as u64, n);
    // Calls happen: most traces have more than their root span.
    let deep = traces.values().filter(|&&spans| spans > 1).count();
    assert!(deep * 2 > traces.len(), "{deep} of {}", traces.len());
    // Only requests that start after the warm-up are traced.
    let roots = otlp_roots(&otlp);
    assert!(roots.iter().all(|r| r.3 >= 30_000_000_000));
    let (ids, spans) = check_chrome(&read_json(&dir.path().join("c.json")), duration);
    // The same traces and spans whatever the format.
    assert_eq!(ids, traces.keys().cloned().collect());
    assert_eq!(spans, traces.values().sum::<usize>());
}

#[test]
fn traces_are_deterministic_and_change_no_result() {
    let dir = tempfile::tempdir().unwrap();
    let traced = |out: &str, file: &str| {
        run_ok(
            dir.path(),
            "checkout.toml",
            "45s",
            &[
                "-q",
                "--out",
                out,
                "--traces",
                file,
                "--trace-sample",
                "0.1",
                "--no-charts",
            ],
        )
    };
    traced("a", "a.json");
    traced("b", "b.json");
    run_ok(
        dir.path(),
        "checkout.toml",
        "45s",
        &["-q", "--out", "plain", "--no-charts"],
    );
    let read = |p: &str| std::fs::read(dir.path().join(p)).unwrap();
    assert!(read("a.json").len() > 1000);
    assert!(read("a.json") == read("b.json"), "same seed, same traces");
    assert!(read("a/summary.json") == read("plain/summary.json"));
    assert!(read("a/percentiles.csv") == read("plain/percentiles.csv"));
}

#[test]
fn keep_bounds_the_failed_and_slowest_traces_per_workload() {
    let dir = tempfile::tempdir().unwrap();
    // The retry storm fails many requests; none sampled, 2 of each kept.
    let err = run_ok(
        dir.path(),
        "retry-storm.toml",
        "90s",
        &[
            "--traces",
            "t.json",
            "--trace-sample",
            "0",
            "--trace-keep",
            "2",
        ],
    );
    let [n, sampled, failed, slowest] = wrote(&err);
    let roots = otlp_roots(&read_json(&dir.path().join("t.json")));
    assert_eq!(roots.len() as u64, n);
    assert_eq!(sampled, 0);
    let mut per: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (_, w, why, _) in &roots {
        *per.entry((w.clone(), why.clone())).or_default() += 1;
    }
    assert!(per.values().all(|&c| c <= 2), "{per:?}");
    assert_eq!(
        per.get(&("search".into(), "failed".into())),
        Some(&2),
        "{per:?}"
    );
    assert_eq!(
        failed,
        per.iter()
            .filter(|(k, _)| k.1 == "failed")
            .map(|(_, c)| c)
            .sum::<u64>()
    );
    assert_eq!(
        slowest,
        per.iter()
            .filter(|(k, _)| k.1 == "slowest")
            .map(|(_, c)| c)
            .sum::<u64>()
    );
}

#[test]
fn a_lower_rate_traces_a_subset_of_a_higher_rate() {
    let dir = tempfile::tempdir().unwrap();
    let ids = |rate: &str, file: &str| -> BTreeSet<String> {
        let args = [
            "-q",
            "--traces",
            file,
            "--trace-sample",
            rate,
            "--trace-keep",
            "0",
        ];
        run_ok(dir.path(), "checkout.toml", "50s", &args);
        otlp_roots(&read_json(&dir.path().join(file)))
            .into_iter()
            .map(|r| r.0)
            .collect()
    };
    let low = ids("0.01", "low.json");
    let high = ids("0.05", "high.json");
    assert!(
        !low.is_empty() && low.len() * 2 < high.len(),
        "{} vs {}",
        low.len(),
        high.len()
    );
    assert!(low.is_subset(&high));
}

#[test]
fn the_recorder_holds_only_the_requests_in_flight() {
    // Buffers are reused: their number is the peak of requests in flight
    // at once, which does not grow with the run's length (a tenfold
    // longer run may reach a somewhat higher peak, not a tenfold one).
    let buffers = |duration: &str| {
        let model = bundled_model(
            "checkout.toml",
            &[&format!("simulation.duration={duration}")],
        );
        let config = TraceConfig {
            sample: 0.001,
            keep: 10,
        };
        let sink = microsim::trace::otlp::OtlpWriter::new(std::io::sink(), &model).unwrap();
        let rec = Recorder::new(&model, config, Box::new(sink));
        let (r, rec) = microsim::simulation::run_traced(&model, &mut |_, _| {}, Some(rec)).unwrap();
        let rec = rec.unwrap();
        let buffers = rec.buffers();
        let written = rec.finish(&model).unwrap();
        let requests: u64 = r.summary.workloads.values().map(|w| w.requests).sum();
        assert!(written.total() > 0);
        (buffers, requests)
    };
    let (short, short_requests) = buffers("60s");
    let (long, long_requests) = buffers("600s");
    assert!(long_requests > 9 * short_requests);
    assert!(
        short > 0 && long <= 2 * short + 16,
        "{short} then {long} buffers"
    );
    assert!((long as u64) * 1000 < long_requests);
}

/// Ctrl-C in the middle of a traced run leaves neither the trace file nor
/// its (streamed, possibly huge) temporary file, and exits 130.
#[cfg(unix)]
/// Ctrl-C, and a SIGTERM or SIGHUP (a CI job's timeout, a closed
/// terminal), mid-run remove the streamed temporary file.
#[test]
fn ctrl_c_or_a_kill_mid_run_leaves_no_trace_file() {
    for signal in ["-INT", "-TERM", "-HUP"] {
        signal_mid_run_leaves_no_trace_file(signal);
    }
}

fn signal_mid_run_leaves_no_trace_file(signal: &str) {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("t.json");
    let sc = scenario("checkout.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_microsim"))
        .current_dir(tmp.path())
        .args([
            "run",
            sc.to_str().unwrap(),
            "-q",
            "--set",
            "simulation.duration=1000h",
        ])
        .args(["--traces", target.to_str().unwrap(), "--trace-sample", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until traces are streaming into the temporary file.
    let started = Instant::now();
    let streaming = || {
        std::fs::read_dir(tmp.path()).unwrap().flatten().any(|e| {
            e.file_name().to_string_lossy().ends_with(".tmp")
                && e.metadata().map(|m| m.len() > 100_000).unwrap_or(false)
        })
    };
    while !streaming() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no temporary trace file"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{signal}: {status:?}");
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "{signal}: left behind: {left:?}");
}

/// In the Chrome file a slice nests inside another on the same thread only
/// if that one is its ancestor: a viewer shows nesting as a call, so the
/// parallel calls of a fan-out (which start together) must not be drawn
/// as calling each other; they get lanes of their own.
#[test]
fn chrome_lanes_never_nest_siblings() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(
        dir.path(),
        "fanout.toml",
        "40s",
        &["-q", "--trace-format", "chrome", "--traces", "c.json"],
    );
    let doc = read_json(&dir.path().join("c.json"));
    // (pid, tid) -> [(start ns, end ns, span id, parent id)]
    type Slice = (u64, u64, String, String);
    let mut by_thread: BTreeMap<(u64, u64), Vec<Slice>> = BTreeMap::new();
    let mut parent_of: BTreeMap<(u64, String), String> = BTreeMap::new();
    for e in doc["traceEvents"].as_array().unwrap() {
        if e["ph"] != "X" {
            continue;
        }
        let pid = e["pid"].as_u64().unwrap();
        let start = us(&e["ts"]);
        let end = start + us(&e["dur"]);
        let id = e["args"]["span_id"].as_str().unwrap().to_string();
        let parent = e["args"]["parent_id"].as_str().unwrap_or("").to_string();
        parent_of.insert((pid, id.clone()), parent.clone());
        by_thread
            .entry((pid, e["tid"].as_u64().unwrap()))
            .or_default()
            .push((start, end, id, parent));
    }
    let mut lanes_used = BTreeSet::new();
    let mut checked = 0;
    for ((pid, tid), mut slices) in by_thread {
        lanes_used.insert(tid);
        slices.sort_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
        let mut open: Vec<(u64, String)> = Vec::new();
        for (start, end, id, parent) in slices {
            while open.last().is_some_and(|o| o.0 <= start) {
                open.pop();
            }
            if let Some((_, outer)) = open.last() {
                // `outer` must be an ancestor of this slice.
                let mut p = parent.clone();
                while !p.is_empty() && &p != outer {
                    p = parent_of
                        .get(&(pid, p.clone()))
                        .cloned()
                        .unwrap_or_default();
                }
                assert_eq!(
                    &p, outer,
                    "trace {pid}: {id} drawn inside non-ancestor {outer}"
                );
                checked += 1;
            }
            open.push((end, id));
        }
    }
    assert!(checked > 0, "no nested slices checked");
    assert!(
        lanes_used.len() >= 5,
        "a 5-way fan-out needs 5 lanes: {lanes_used:?}"
    );
}

/// `--traces` naming the scenario's own file is refused (exit 2) and the
/// scenario is left as it was, rather than replaced by the traces.
#[test]
fn traces_over_the_scenario_file_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenario("mm1.toml")).unwrap();
    std::fs::write(dir.path().join("mine.toml"), &text).unwrap();
    let o = microsim(
        dir.path(),
        &["run", "mine.toml", "-q", "--traces", "./mine.toml"],
    );
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("scenario file"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mine.toml")).unwrap(),
        text
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// One OTLP span, flattened: its service (resource), name, ids, times and
/// attributes (string values, and integers as their decimal strings).
struct Flat {
    service: String,
    name: String,
    trace: String,
    id: String,
    parent: String,
    start: u64,
    end: u64,
    attrs: BTreeMap<String, String>,
}

/// Every span of an OTLP document, flattened.
fn otlp_spans(doc: &Value) -> Vec<Flat> {
    let mut out = Vec::new();
    for rs in doc["resourceSpans"].as_array().unwrap() {
        let service = rs["resource"]["attributes"][0]["value"]["stringValue"]
            .as_str()
            .unwrap()
            .to_string();
        for s in rs["scopeSpans"][0]["spans"].as_array().unwrap() {
            let attrs = s["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    let v = &a["value"];
                    let v = v
                        .get("stringValue")
                        .or_else(|| v.get("intValue"))
                        .and_then(Value::as_str)
                        .unwrap();
                    (a["key"].as_str().unwrap().to_string(), v.to_string())
                })
                .collect();
            out.push(Flat {
                service: service.clone(),
                name: s["name"].as_str().unwrap().to_string(),
                trace: s["traceId"].as_str().unwrap().to_string(),
                id: s["spanId"].as_str().unwrap().to_string(),
                parent: s["parentSpanId"].as_str().unwrap_or("").to_string(),
                start: ns_of(&s["startTimeUnixNano"]),
                end: ns_of(&s["endTimeUnixNano"]),
                attrs,
            });
        }
    }
    out
}

/// A registry lookup is the caller's work before it sends its attempt: in
/// the trace it is a child of the caller's span (a span of the calling
/// service, never of the service looked up), beside the attempt it serves,
/// which starts with it; it names the service looked up, in its name and
/// in `microsim.lookup_for` (Chrome: `lookup_for`).
#[test]
fn lookups_are_the_callers_children_beside_their_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["-q", "--trace-sample", "0.02", "--trace-keep", "5"];
    run_ok(
        dir.path(),
        "registry-outage.toml",
        "150s",
        &[&args[..], &["--traces", "o.json"]].concat(),
    );
    let doc = read_json(&dir.path().join("o.json"));
    check_otlp(&doc, 150_000_000_000);
    let spans = otlp_spans(&doc);
    let by_id: BTreeMap<(&str, &str), &Flat> = spans
        .iter()
        .map(|s| ((s.trace.as_str(), s.id.as_str()), s))
        .collect();
    let mut checked = 0;
    for l in spans
        .iter()
        .filter(|s| s.attrs["microsim.kind"] == "lookup")
    {
        assert_eq!(l.service, "registry", "{}", l.name);
        let target = l
            .attrs
            .get("microsim.lookup_for")
            .unwrap_or_else(|| panic!("no microsim.lookup_for on {}", l.name));
        assert_eq!(l.name, format!("lookup {target} (registry)"));
        let parent = by_id[&(l.trace.as_str(), l.parent.as_str())];
        assert_ne!(&parent.service, target, "a lookup under the callee's span");
        assert_ne!(parent.service, "registry");
        // Its attempt: a sibling call to the service looked up, sent as
        // the lookup started, lasting at least as long.
        let attempt = spans.iter().any(|s| {
            s.trace == l.trace
                && s.parent == l.parent
                && &s.service == target
                && s.attrs["microsim.kind"] == "call"
                && s.start == l.start
                && s.end >= l.end
        });
        assert!(attempt, "no attempt beside {} in {}", l.name, l.trace);
        checked += 1;
    }
    assert!(checked >= 20, "{checked} lookups checked");
    // Chrome: the same attribute; lookups and their attempts never nest
    // (check_chrome checks lanes).
    run_ok(
        dir.path(),
        "registry-outage.toml",
        "150s",
        &[
            &args[..],
            &["--traces", "c.json", "--trace-format", "chrome"],
        ]
        .concat(),
    );
    let doc = read_json(&dir.path().join("c.json"));
    check_chrome(&doc, 150_000_000_000);
    let lookups: Vec<&Value> = doc["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["cat"] == "lookup")
        .collect();
    assert_eq!(lookups.len(), checked);
    for e in lookups {
        let target = e["args"]["lookup_for"].as_str().expect("lookup_for");
        assert_eq!(e["name"], format!("lookup {target} (registry)"));
    }
}

/// On the retry storm, attempts time out while their call waits in db's
/// queue: such a span's queue wait is the time the callee had waited so
/// far, which lies within the span.
#[test]
fn timed_out_attempts_show_the_queue_wait_so_far() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(
        dir.path(),
        "retry-storm.toml",
        "90s",
        &[
            "-q",
            "--traces",
            "t.json",
            "--trace-sample",
            "0.01",
            "--trace-keep",
            "10",
        ],
    );
    let spans = otlp_spans(&read_json(&dir.path().join("t.json")));
    let timed_out: Vec<&Flat> = spans
        .iter()
        .filter(|s| {
            s.name == "db.query"
                && s.attrs
                    .get("microsim.cause")
                    .is_some_and(|c| c == "timeout")
        })
        .collect();
    assert!(timed_out.len() >= 20, "{} timed out", timed_out.len());
    for s in timed_out {
        let q: u64 = s
            .attrs
            .get("microsim.queue_wait_ns")
            .unwrap_or_else(|| panic!("no queue wait on {} {}", s.trace, s.id))
            .parse()
            .unwrap();
        assert!(q > 0 && s.start + q <= s.end, "{} {}", s.trace, s.id);
    }
}
