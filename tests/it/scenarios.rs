//! Every bundled scenario runs, and the claims their comments make hold.

use super::common::*;
use microsim::metrics::Summary;
use microsim::simulation;

use super::common::bundled_model as load;

fn run(name: &str, sets: &[&str]) -> Summary {
    simulation::run(&load(name, sets)).unwrap().summary
}

/// Each file in scenarios/ validates, and runs (shortened) through the CLI
/// with every workload completing requests.
#[test]
fn every_bundled_scenario_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut names: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    names.sort();
    assert!(names.len() >= 4, "bundled scenarios: {names:?}");
    for path in names {
        let p = path.to_str().unwrap();
        let check = microsim(dir.path(), &["check", p]);
        assert_eq!(
            check.status.code(),
            Some(0),
            "check {p}: {}",
            texts(&check).1
        );
        let out = microsim(
            dir.path(),
            &[
                "run",
                p,
                "--json",
                "--quiet",
                "--set",
                "simulation.duration=20s",
                "--set",
                "simulation.warmup=2s",
            ],
        );
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "run {p}: {stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        for (name, w) in v["workloads"].as_object().unwrap() {
            assert!(
                w["ok"].as_u64().unwrap() > 0,
                "{p}: workload {name} completed nothing"
            );
        }
    }
}

/// The checkout scenario is stable and healthy: capacity well under 1,
/// all requests succeed, and the table names every part.
#[test]
fn checkout_runs_with_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario("checkout.toml");
    let out = microsim(dir.path(), &["run", file.to_str().unwrap()]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for word in [
        "checkout",
        "order-status",
        "user",
        "payment",
        "order",
        "p99 ms",
        "availability",
    ] {
        assert!(stdout.contains(word), "table lacks {word}:\n{stdout}");
    }
    assert!(
        stderr.contains("capacity") && stderr.contains("events/s"),
        "{stderr}"
    );
    assert!(!stderr.contains("warning"), "{stderr}");
    let s = run("checkout.toml", &[]);
    assert!(s.capacity.iter().all(|r| r.utilization < 0.5));
    for w in s.workloads.values() {
        assert_eq!(w.failed, 0);
        assert!(w.requests > 10_000);
    }
}

/// An overloaded variant is warned about before the run (the capacity
/// table computes utilisation from rates and mean work times).
#[test]
fn overload_is_warned_about_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario("checkout.toml");
    let out = microsim(
        dir.path(),
        &[
            "check",
            file.to_str().unwrap(),
            "--set",
            "services.payment.replicas=1",
            "--set",
            "services.payment.concurrency=2",
        ],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("UNSTABLE"), "{stdout}");
    assert!(
        stderr.contains("warning: service `payment` is overloaded"),
        "{stderr}"
    );
}

/// thread-pool-exhaustion.toml: browse's p99 is at least 5x lower when the
/// gateway switches to async I/O, and the blocking gateway runs hot.
#[test]
fn thread_pool_exhaustion_claims() {
    let blocking = run("thread-pool-exhaustion.toml", &[]);
    let asynchronous = run(
        "thread-pool-exhaustion.toml",
        &["services.gateway.io=async"],
    );
    let p99 = |s: &Summary| s.workloads["browse"].latency_ms.as_ref().unwrap().p99;
    assert!(
        p99(&blocking) >= 5.0 * p99(&asynchronous),
        "browse p99: blocking {} vs async {}",
        p99(&blocking),
        p99(&asynchronous)
    );
    let gw = |s: &Summary| {
        s.capacity
            .iter()
            .find(|r| r.service == "gateway")
            .unwrap()
            .utilization
    };
    assert!(
        gw(&blocking) >= 0.8 && gw(&blocking) < 1.0,
        "{}",
        gw(&blocking)
    );
    assert!(gw(&asynchronous) < 0.1);
    // The measured utilisation agrees with the capacity estimate's story.
    assert!(blocking.services["gateway"].utilization > 0.85);
}

/// fanout.toml: search waits for the slowest of five shard calls, so its
/// median sits near a shard call's 87th percentile: above lookup's median,
/// at most lookup's p90, and closer to the latter; the lookup spike at 2m
/// doubles its arrivals in the time series.
#[test]
fn fanout_claims() {
    let m = load("fanout.toml", &[]);
    let r = simulation::run(&m).unwrap();
    let l = r.summary.workloads["lookup"].latency_ms.clone().unwrap();
    let s = r.summary.workloads["search"].latency_ms.clone().unwrap();
    assert!(
        s.p50 > l.p50 && s.p50 <= l.p90,
        "search p50 {} vs lookup {l:?}",
        s.p50
    );
    assert!(
        s.p50 - l.p50 > l.p90 - s.p50,
        "search p50 {} vs lookup {l:?}",
        s.p50
    );
    let rate = |from: f64, to: f64| {
        let rows: Vec<_> = r
            .timeseries
            .workloads
            .iter()
            .filter(|w| w.workload == "lookup" && w.start_s >= from && w.end_s <= to)
            .collect();
        rows.iter().map(|w| w.requests as f64).sum::<f64>() / rows.len() as f64
    };
    let ratio = rate(120.0, 240.0) / rate(0.0, 120.0);
    // Poisson counts of about 24,000 and 48,000 arrivals: the ratio's
    // standard error is 2 * sqrt(1/24000 + 1/48000) = 0.016, so 0.1 is
    // about six standard errors.
    assert!((ratio - 2.0).abs() < 0.1, "spike ratio {ratio}");
}

/// mm1.toml: mean response 1/(mu - lambda) = 50ms and p99 ln(100)/(mu -
/// lambda) = 230ms. Five one-hour replications (about 1.4M customers); the
/// tolerance is the 99.9% Student-t interval of their mean (t = 8.61 for 4
/// degrees of freedom) plus HdrHistogram's 0.1% quantisation for p99.
#[test]
fn mm1_matches_theory() {
    let mut means = Vec::new();
    let mut p99s = Vec::new();
    for seed in 1..=5u64 {
        let mut m = load("mm1.toml", &[]);
        m.seed = seed;
        let l = simulation::run(&m).unwrap().summary.workloads["requests"]
            .latency_ms
            .clone()
            .unwrap();
        means.push(l.mean);
        p99s.push(l.p99);
    }
    let check = |xs: &[f64], theory: f64, extra: f64| {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let half = 8.61 * sd / n.sqrt() + extra * theory;
        assert!(
            (mean - theory).abs() < half,
            "{xs:?}: mean {mean} vs theory {theory} +- {half}"
        );
    };
    check(&means, 50.0, 0.0);
    // mu - lambda = 20/s.
    check(&p99s, 100f64.ln() / 20.0 * 1000.0, 0.001);
}

/// The summary and the time series count the same requests: the run covers
/// [0, duration), and an arrival at the end instant is not half-counted.
#[test]
fn summary_and_time_series_agree() {
    let m = model(
        r#"
        [simulation]
        duration = "10s"
        [services.s.endpoints.e]
        work = "1ms"
        [[workloads]]
        name = "w"
        target = "s.e"
        arrival = { process = "constant", rate = 1 }
        "#,
    );
    let r = simulation::run(&m).unwrap();
    let w = &r.summary.workloads["w"];
    let series: u64 = r.timeseries.workloads.iter().map(|x| x.requests).sum();
    // Arrivals at 1s, 2s, ..., 9s; the one due at 10s is past the end.
    assert_eq!((w.requests, w.ok, w.in_flight), (9, 9, 0));
    assert_eq!(series, 9);
    assert_eq!(r.timeseries.workloads.len(), 10);
}

/// Times near the end of u64 nanoseconds (centuries) neither wrap around
/// nor panic: one closed user thinking 300 years in a 400-year run issues
/// exactly one request.
#[test]
fn centuries_do_not_overflow_time() {
    let m = model(
        r#"
        [simulation]
        duration = "400years"
        [services.s.endpoints.e]
        work = "1ms"
        [[workloads]]
        name = "w"
        target = "s.e"
        arrival = { process = "closed", users = 1, think = "300years" }
        "#,
    );
    let r = simulation::run(&m).unwrap();
    assert_eq!(r.summary.workloads["w"].requests, 1);
    assert_eq!(r.summary.workloads["w"].ok, 1);
}

/// A chain of thousands of services validates (iteratively: no stack
/// overflow on a test thread's small stack) and runs end to end.
#[test]
fn a_long_call_chain_validates_and_runs() {
    let n = 5_000;
    let mut toml = String::from("[simulation]\nduration = \"1s\"\n");
    for i in 0..n {
        toml.push_str(&format!("[services.s{i}.endpoints.e]\n"));
        if i + 1 < n {
            toml.push_str(&format!(
                "steps = [ {{ work = \"1us\" }}, {{ call = \"s{}.e\" }} ]\n",
                i + 1
            ));
        } else {
            toml.push_str("work = \"1us\"\n");
        }
    }
    toml.push_str("[[workloads]]\nname = \"w\"\ntarget = \"s0.e\"\narrival = { process = \"constant\", rate = 10 }\n");
    let m = model(&toml);
    let r = simulation::run(&m).unwrap();
    assert_eq!(r.summary.workloads["w"].ok, 9);
    assert_eq!(r.summary.services["s4999"].requests, 9);
}

/// saga-checkout.toml: failed reservations and charges are compensated,
/// failing refunds leave some sagas inconsistent (each with its
/// compensation given up after its retries, shown in the compensation
/// client's row), and a policy with more attempts leaves fewer.
#[test]
fn saga_checkout_claims() {
    let s = run("saga-checkout.toml", &[]);
    let g = &s.sagas["order.checkout"];
    assert_eq!(
        g.started,
        g.completed + g.compensated + g.inconsistent + g.interrupted + g.in_flight,
        "{g:?}"
    );
    assert!(
        g.compensated > 500 && g.completed > 10 * g.compensated / 2,
        "{g:?}"
    );
    assert!(g.inconsistent > 0, "{g:?}");
    assert_eq!(g.compensation_failures, g.inconsistent, "{g:?}");
    let refunds = &s.dependencies["order->payment (compensation)"];
    assert!(
        refunds.retries > 0 && refunds.failed == g.inconsistent,
        "{refunds:?}"
    );
    // The workload sees every saga that did not complete as failed.
    assert_eq!(
        s.workloads["checkout"].failed,
        g.compensated + g.inconsistent,
        "{:?}",
        s.workloads["checkout"]
    );
    let stronger = run(
        "saga-checkout.toml",
        &[
            "policies.undo.retries.attempts=10",
            "services.order.endpoints.checkout.compensation_policy=undo",
        ],
    );
    let h = &stronger.sagas["order.checkout"];
    assert!(h.inconsistent < g.inconsistent, "{h:?} vs {g:?}");
}

/// duplicate-charges.toml: retries past the timeout charge twice;
/// idempotency keys absorb exactly those repeats (same draws); a timeout
/// longer than any charge makes none.
#[test]
fn duplicate_charges_claims() {
    let plain = run("duplicate-charges.toml", &[]);
    let e = &plain.executions["payment.charge"];
    assert!(!e.idempotent && e.duplicates > e.logical_calls / 4, "{e:?}");
    let keyed = run(
        "duplicate-charges.toml",
        &["services.payment.endpoints.charge.idempotent=true"],
    );
    let k = &keyed.executions["payment.charge"];
    assert_eq!((k.duplicates, k.deduplicated), (0, e.duplicates), "{k:?}");
    let patient = run(
        "duplicate-charges.toml",
        &["services.order.endpoints.checkout.steps.0.timeout=10s"],
    );
    assert_eq!(patient.executions["payment.charge"].duplicates, 0);
}
