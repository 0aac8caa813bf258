//! `sweep --find` through the binary: the capacity of an M/M/1 queue
//! against its known formula, the smallest replica count of a pool whose
//! utilisation is known, duration parameters, the edge cases (nothing
//! meets the condition, it holds over the whole range), the files, and
//! bad queries refused with exit status 2 before anything runs.

use super::common::*;
use serde_json::Value;
use std::path::Path;

/// An M/M/1 queue: Poisson arrivals, one worker, exponential 10 ms work
/// (service rate mu = 100/s). Mean response time 1/(mu - lambda).
const MM1: &str = r#"
name = "mm1-find"
[simulation]
duration = "200s"
warmup = "10s"
seed = 1
[services.server]
replicas = 1
concurrency = 1
[services.server.endpoints.serve]
work = { dist = "exponential", mean = "10ms" }
[[workloads]]
name = "requests"
target = "server.serve"
arrival = { process = "poisson", rate = 80 }
"#;

/// Runs `microsim sweep SC --find QUERY ARGS --json -q`, expecting exit 0,
/// and returns the JSON result and stderr.
fn find_json(dir: &Path, sc: &str, query: &str, args: &[&str]) -> (Value, String) {
    let mut all = vec!["sweep", sc, "--find", query, "--json", "-q"];
    all.extend_from_slice(args);
    let out = microsim(dir, &all);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{query}: {stderr}");
    (
        serde_json::from_str(&stdout).expect("--json prints JSON"),
        stderr,
    )
}

/// The probe `i` of the first point's search.
fn probe(r: &Value, which: &str) -> Value {
    let s = &r["points"][0]["search"];
    let i = s[which].as_u64().unwrap_or_else(|| panic!("{which}: {s}")) as usize;
    s["probes"][i].clone()
}

/// Mean response time of M/M/1 with mu = 100/s at arrival rate `lambda`, in ms.
fn mm1_mean_ms(lambda: f64) -> f64 {
    1000.0 / (100.0 - lambda)
}

#[test]
fn max_rate_of_mm1_for_a_mean_latency_target() {
    // Theory: 1/(mu - lambda) < 50 ms  <=>  lambda < 100 - 20 = 80/s.
    //
    // What a run can resolve: the mean response time over one run of
    // N = 80/s x 190 s = 15 200 requests at rho = 0.8 has a standard
    // deviation of about sqrt(sigma2 / N) with the M/M/1 asymptotic
    // variance constant of the waiting time (Blomqvist 1967)
    // sigma2 = rho (2 + 5 rho - 4 rho^2 + rho^3) / (mu^2 (1 - rho)^4)
    // = 1976 (10 ms)^2, i.e. sqrt(197 600 / 15 200) = 3.6 ms: the
    // successive requests' times are strongly correlated, which is why it
    // is that large. The search runs R = 8 replications per probe and
    // judges their mean, and the test uses their measured spread (the
    // CSV's half-width, t(0.975, 7) s / sqrt(8)) rather than the formula:
    // the theory must lie within t(0.9995, 7) = 5.408 standard errors of
    // what was measured on either side of the answer. Near 80/s the mean
    // changes by dT/dlambda = 1/(mu - lambda)^2 = 2.5 ms per 1/s, so a
    // few ms of error move the answer by one or two requests per second.
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "mm1.toml", MM1);
    let out = tmp.path().join("out");
    let (r, _) = find_json(
        tmp.path(),
        &sc,
        "max workloads.requests.arrival.rate where requests.mean < 50ms",
        &[
            "--param",
            "workloads.requests.arrival.rate=50..95",
            "-r",
            "8",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(
        r["kind"], "integer",
        "rate = 80 is written as a whole number"
    );
    let s = &r["points"][0]["search"];
    assert_eq!(s["status"], "found");
    let (pass, fail) = (probe(&r, "passing"), probe(&r, "failing"));
    let (lp, lf) = (
        pass["value"].as_f64().unwrap(),
        fail["value"].as_f64().unwrap(),
    );
    assert_eq!(s["answer"].as_f64(), Some(lp));
    // Integers bisect exactly: adjacent values.
    assert_eq!(lf - lp, 1.0, "{s}");
    let t975 = microsim::sweep::stats::t95(7);
    const T9995_7: f64 = 5.408;
    let se = |p: &Value| p["data"]["metrics"][0]["half_width"].as_f64().unwrap() / t975;
    let mean = |p: &Value| p["data"]["metrics"][0]["mean"].as_f64().unwrap();
    assert!(mean(&pass) < 50.0 && mean(&fail) >= 50.0);
    // The theory agrees with what was measured on both sides ...
    assert!(
        (mm1_mean_ms(lp) - mean(&pass)).abs() < T9995_7 * se(&pass),
        "at {lp}: theory {} measured {} +- {}",
        mm1_mean_ms(lp),
        mean(&pass),
        se(&pass)
    );
    assert!(
        (mm1_mean_ms(lf) - mean(&fail)).abs() < T9995_7 * se(&fail),
        "at {lf}: theory {} measured {} +- {}",
        mm1_mean_ms(lf),
        mean(&fail),
        se(&fail)
    );
    // ... so the answer is 80 within the tolerance (1) plus that error
    // converted to a rate at the slope of 2.5 ms per 1/s.
    let err = T9995_7 * se(&pass) / 2.5;
    assert!(
        (lp - 80.0).abs() <= 1.0 + err,
        "answer {lp}, allowed 1 + {err}"
    );
    eprintln!(
        "M/M/1 max rate: {lp} (theory 80, allowed +-{:.2})",
        1.0 + err
    );

    // The files: every probe in order, with its seeds (common: the same
    // eight for every probe, the first the base seed).
    let json: Value =
        serde_json::from_slice(&std::fs::read(out.join("find.json")).unwrap()).unwrap();
    assert_eq!(json, r);
    let probes = s["probes"].as_array().unwrap();
    for p in probes {
        assert_eq!(p["data"]["seeds"], probes[0]["data"]["seeds"]);
        assert_eq!(p["data"]["seeds"][0], 1);
    }
    let csv = std::fs::read_to_string(out.join("find.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "point,probe,workloads.requests.arrival.rate,passed,requests.mean.mean,requests.mean.half_width,seeds"
    );
    assert_eq!(lines.len(), probes.len() + 1);
    assert!(lines[1].starts_with(",0,50,true,"), "{}", lines[1]);
}

#[test]
fn min_replicas_for_a_utilisation_target() {
    // 250 requests/s of exponential 10 ms work: 2.5 busy workers, so the
    // utilisation of c single-worker replicas is 2.5 / c whatever the
    // balancing: 0.833 at 3, 0.625 at 4. Below 70% first at c = 4. The
    // utilisation over a 60 s run (15 000 requests) has a standard
    // deviation near 0.01, far below the 0.07 margins on either side.
    // From the scenario's 8 replicas the search halves (8, 4 pass; 2
    // fails) and bisects (3 fails).
    let text = MM1
        .replace("replicas = 1", "replicas = 8")
        .replace("rate = 80", "rate = 250")
        .replace("\"200s\"", "\"60s\"");
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "pool.toml", &text);
    let (r, _) = find_json(
        tmp.path(),
        &sc,
        "min services.server.replicas where server.utilization < 70%",
        &[],
    );
    let s = &r["points"][0]["search"];
    assert_eq!(s["status"], "found");
    assert_eq!(s["answer"], 4.0);
    assert_eq!(probe(&r, "failing")["value"], 3.0);
    let values: Vec<f64> = s["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, [8.0, 4.0, 2.0, 3.0]);
    assert!(
        s["note"]
            .as_str()
            .unwrap()
            .contains("passes at 4, fails at 2"),
        "{s}"
    );

    // The same at two load levels (an outer parameter): 150/s needs 3
    // (0.5 at 3, 0.75 at 2), 250/s needs 4. Identical answers for any -j.
    let args = [
        "--param",
        "workloads.requests.arrival.rate=150,250",
        "-j",
        "1",
    ];
    let (r1, _) = find_json(
        tmp.path(),
        &sc,
        "min services.server.replicas where server.utilization < 70%",
        &args,
    );
    let answers: Vec<f64> = r1["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["search"]["answer"].as_f64().unwrap())
        .collect();
    assert_eq!(answers, [3.0, 4.0]);
    assert_eq!(
        r1["points"][1]["point"],
        "workloads.requests.arrival.rate=250"
    );
    // At 50/s one replica is 50% busy: nothing to search below it.
    let out = microsim(
        tmp.path(),
        &[
            "sweep",
            &sc,
            "-q",
            "--set",
            "workloads.requests.arrival.rate=50",
            "--find",
            "min services.server.replicas where server.utilization < 70%",
        ],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("│ <= 1 "), "{stdout}");
    assert!(
        stdout.contains("it holds down to 1, the least whole number searched"),
        "{stdout}"
    );
    let mut args2 = args;
    args2[3] = "2";
    let (r2, _) = find_json(
        tmp.path(),
        &sc,
        "min services.server.replicas where server.utilization < 70%",
        &args2,
    );
    assert_eq!(r1, r2);

    // The outer points may come from the scenario's [sweep.params],
    // written with an unquoted dotted key as README shows.
    let swept = write_scenario(
        tmp.path(),
        "swept.toml",
        &format!("{text}\n[sweep.params]\nworkloads.requests.arrival.rate = [150, 250]\n"),
    );
    let (r3, _) = find_json(
        tmp.path(),
        &swept,
        "min services.server.replicas where server.utilization < 70%",
        &[],
    );
    assert_eq!(r3["points"], r1["points"]);
}

#[test]
fn durations_and_the_edges_of_the_range() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "mm1.toml", &MM1.replace("\"200s\"", "\"60s\""));
    // Work time m at 80/s: mean response m / (1 - 80 m) < 50 ms  <=>
    // m < 10 ms. One 50 s run's mean has an error near 3.6 ms x
    // sqrt(190/50) = 7 ms, which dT/dm = 1/(1 - 80 m)^2 = 25 makes
    // 0.3 ms of work time: 9 to 11 ms holds it with room to spare.
    let (r, _) = find_json(
        tmp.path(),
        &sc,
        "max services.server.endpoints.serve.work.mean where requests.mean < 50ms",
        &[],
    );
    assert_eq!(r["kind"], "duration");
    let a = r["points"][0]["search"]["answer"].as_f64().unwrap();
    assert!((9.0..=11.0).contains(&a), "{a}");
    let text = probe(&r, "passing")["data"]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.starts_with('"') && text.ends_with("ms\""), "{text}");
    let f = probe(&r, "failing")["value"].as_f64().unwrap();
    assert!(f > a && f - a <= 0.01 * a, "1% tolerance: {a} {f}");

    // Nothing in range meets it / it holds over the whole range: said
    // plainly, exit 0.
    for (range, answer, note) in [
        ("90..150", "none", "no value in [90, 150] meets it"),
        ("10..40", ">= 40", "it holds up to 40; widen the range"),
    ] {
        let out = microsim(
            tmp.path(),
            &[
                "sweep",
                &sc,
                "-q",
                "--find",
                "max workloads.requests.arrival.rate where requests.mean < 50ms",
                "--param",
                &format!("workloads.requests.arrival.rate={range}"),
            ],
        );
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stdout.contains(&format!("│ {answer} ")), "{stdout}");
        assert!(stdout.contains(note), "{stdout}");
    }
}

#[test]
fn bad_queries_exit_2_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "mm1.toml", MM1);
    let out_dir = tmp.path().join("never");
    for (query, extra, want) in [
        (
            "biggest rate where x < 1",
            vec![],
            "expected `max PATH where CONDITION`",
        ),
        (
            "max workloads.requests.arrival.rate where requests.p99 < 99%",
            vec![],
            "requests.p99 is a latency in ms",
        ),
        (
            "max workloads.requests.arrival.rate where request.p99 < 1s",
            vec![],
            "no workload or service `request`",
        ),
        (
            "max workloads.requests.arrival.rate where requests.p99.ci_high < 1s",
            vec![],
            "2 or more replications, and there is 1",
        ),
        (
            "max name where requests.p99 < 1s",
            vec![],
            "not a number or a duration",
        ),
        (
            "max workloads.requests.arrival.rate where requests.p99 < 1s",
            vec!["--param", "workloads.requests.arrival.rate=100..50"],
            "inverted",
        ),
        (
            "max services.server.replicas where requests.p99 < 1s",
            vec!["--param", "services.server.replicas=0..4"],
            "services.server.replicas",
        ),
        (
            "max services.server.concurrency where requests.p99 < 1s",
            vec!["--param", "services.server.concurrency=a,b"],
            "not a number or a duration",
        ),
        (
            "max workloads.requests.arrival.rate where requests.p99 < 1s",
            vec!["--shard", "1/2"],
            "--shard does not apply to --find",
        ),
    ] {
        let mut args = vec![
            "sweep",
            sc.as_str(),
            "--find",
            query,
            "--out",
            out_dir.to_str().unwrap(),
        ];
        args.extend(extra.iter().copied());
        let out = microsim(tmp.path(), &args);
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(2), "{query} {extra:?}: {stderr}");
        assert!(stderr.contains(want), "{query} {extra:?}: {stderr}");
        assert!(!stderr.contains("probes"), "ran before refusing: {stderr}");
        assert!(stdout.is_empty() && !out_dir.exists());
    }
}

#[test]
fn an_answer_past_saturation_is_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "mm1.toml", MM1);
    let stderr_of = |condition: &str| {
        let query = format!("max workloads.requests.arrival.rate where {condition}");
        let out = microsim(
            tmp.path(),
            &[
                "sweep",
                &sc,
                "-q",
                "--set",
                "simulation.duration=30s",
                "--param",
                "workloads.requests.arrival.rate=50..150",
                "--find",
                &query,
            ],
        );
        let (_, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        stderr
    };
    // Availability counts completed requests only: with an unbounded
    // queue it stays 100% far past mu = 100/s, so the answer (at most 150
    // here) overloads the server and must be flagged.
    let stderr = stderr_of("requests.availability >= 99%");
    assert!(stderr.contains("overloads service `server`"), "{stderr}");
    // A latency condition keeps the answer below saturation: no warning.
    let stderr = stderr_of("requests.mean < 50ms");
    assert!(!stderr.contains("overloads"), "{stderr}");
}

/// The answer table shows the messaging and consistency metrics in their
/// units, like the workload ones: a stale-read rate as a percentage and
/// a window in ms, not as bare fractions and numbers.
#[test]
fn find_table_shows_messaging_metrics_in_their_units() {
    let tmp = tempfile::tempdir().unwrap();
    let ed = scenario("event-driven.toml");
    let out = microsim(
        tmp.path(),
        &[
            "sweep",
            ed.to_str().unwrap(),
            "-q",
            "-j",
            "1",
            "--set",
            "simulation.duration=150s",
            "--param",
            "brokers.events.replicas=2..3",
            "--find",
            "min brokers.events.replicas where user-email@order.stale_rate < 50% and user-email@order.window_p99 < 10s",
        ],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Every probe shown: `NAME VALUE UNIT` (a fraction would be bare).
    let shown = |name: &str| -> Vec<String> {
        stdout
            .split(&format!("{name} "))
            .skip(1)
            .map(|rest| {
                let end = rest
                    .find([',', '\u{2502}', '\u{2506}', '\n'])
                    .unwrap_or(rest.len());
                rest[..end].trim().to_string()
            })
            .filter(|v| !v.starts_with('<')) // the query echoed
            .collect()
    };
    let rates = shown("user-email@order.stale_rate");
    assert!(!rates.is_empty(), "{stdout}");
    assert!(
        rates.iter().all(|v| v.ends_with('%')),
        "{rates:?}\n{stdout}"
    );
    let windows = shown("user-email@order.window_p99");
    assert!(!windows.is_empty(), "{stdout}");
    assert!(
        windows.iter().all(|v| v.ends_with(" ms")),
        "{windows:?}\n{stdout}"
    );
}

/// The answer table shows latency attribution shares as percentages,
/// like the sweep table and `--assert` do, not as bare fractions.
#[test]
fn find_table_shows_attribution_shares_as_percentages() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = tmp.path().join("mm1.toml");
    std::fs::write(&sc, MM1).unwrap();
    let out = microsim(
        tmp.path(),
        &[
            "sweep",
            sc.to_str().unwrap(),
            "-q",
            "-j",
            "1",
            "--param",
            "workloads.requests.arrival.rate=10..90",
            "--find",
            "max workloads.requests.arrival.rate where requests.p99_share.server.queue < 50% and requests.mean_share.network < 10%",
        ],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for name in [
        "requests.p99_share.server.queue",
        "requests.mean_share.network",
    ] {
        let shown: Vec<&str> = stdout
            .split(&format!("{name} "))
            .skip(1)
            .map(|rest| {
                let end = rest
                    .find([',', '\u{2502}', '\u{2506}', '\n'])
                    .unwrap_or(rest.len());
                rest[..end].trim()
            })
            .filter(|v| !v.starts_with('<'))
            .collect();
        assert!(!shown.is_empty(), "{stdout}");
        assert!(
            shown.iter().all(|v| v.ends_with('%')),
            "{shown:?}\n{stdout}"
        );
    }
}
