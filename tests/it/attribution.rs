//! Latency attribution along each request's critical path: the
//! components add up, match queueing theory on a tandem, count only the
//! slowest branch of a fan-out, and put retries, lookups, in-process calls,
//! compensations and acked publishes where they belong.
//!
//! Every request of every run here (and of every other test) is also
//! checked one by one in the engine: debug builds, which tests are, assert
//! that a request's components add up to its latency exactly (in ns).
//!
//! # Tolerances
//! Exact relations (sums, shares, constant-time systems) are checked to
//! 1e-9 relative, the rounding of the ns → ms conversion of means. Random
//! quantities are compared with theory through `R` independent
//! replications (different seeds): the theory must lie within
//! `t(0.9995, R−1) · s / √R` of their mean (`s` the replications' sample
//! standard deviation), the two-sided 99.9% Student-t interval, as in
//! `queueing.rs`. Runs are deterministic, so a passing test keeps passing.

use super::common::{bundled_model, model_with, run_bundled, run_with};
use microsim::metrics::attribution::Breakdown;
use microsim::metrics::Summary;

/// Replications for the statistical checks.
const R: usize = 10;

/// `t(0.9995, 9)`: the 0.9995 quantile of Student's t with 9 degrees of
/// freedom (two-sided 99.9%), from tables.
const T_9995_9: f64 = 4.7809;

/// Mean ms of component `kind` (of `service`, for per-service kinds), 0
/// when it is absent (zero).
fn comp(b: &Breakdown, kind: &str, service: Option<&str>) -> f64 {
    b.components
        .iter()
        .filter(|c| c.kind == kind && c.service.as_deref() == service)
        .map(|c| c.mean_ms)
        .sum()
}

/// The exact relations every breakdown keeps: components add up to the
/// mean latency and their shares to 1; and the attribution covers exactly
/// the measured successful requests.
fn check_sums(label: &str, s: &Summary) {
    for (w, a) in &s.attribution {
        let ws = &s.workloads[w];
        assert_eq!(
            a.all.requests,
            ws.ok + ws.degraded,
            "{label} {w}: the attribution counts the latency's population"
        );
        for b in std::iter::once(&a.all).chain(a.slowest.as_ref()) {
            let sum: f64 = b.components.iter().map(|c| c.mean_ms).sum();
            assert!(
                (sum - b.mean_ms).abs() <= 1e-9 * b.mean_ms.max(1e-9),
                "{label} {w}: components {sum} ms != mean {} ms",
                b.mean_ms
            );
            if b.mean_ms > 0.0 {
                let shares: f64 = b.components.iter().map(|c| c.share).sum();
                assert!((shares - 1.0).abs() <= 1e-9, "{label} {w}: shares {shares}");
            }
            assert!(b
                .components
                .iter()
                .all(|c| c.mean_ms > 0.0 && c.kind != "parallel"));
        }
    }
}

/// Asserts `theory` lies in the 99.9% Student-t interval of the mean of
/// the per-replication estimates `xs`.
fn check_t(label: &str, xs: &[f64], theory: f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let half = T_9995_9 * (var / n).sqrt();
    eprintln!("{label}: {mean:.4} vs theory {theory:.4} (± {half:.4})");
    assert!(
        (mean - theory).abs() <= half,
        "{label}: {mean} ms is not within {half} of {theory} ms"
    );
}

/// Runs `toml` `R` times with seeds 1..=R.
fn replicate(toml: &str) -> Vec<Summary> {
    let mut m = model_with(toml, &[]);
    (1..=R as u64)
        .map(|seed| {
            m.seed = seed;
            let s = microsim::simulation::run(&m).expect("run").summary;
            check_sums("replication", &s);
            s
        })
        .collect()
}

#[test]
fn every_bundled_scenario_adds_up() {
    let dir = super::common::root().join("scenarios");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        let r = run_bundled(&name, &["simulation.warmup=5s", "simulation.duration=25s"]);
        assert!(!r.summary.attribution.is_empty(), "{name}: no attribution");
        check_sums(&name, &r.summary);
    }
}

/// Three M/M/1 stations in tandem, a → b → c (async, zero network), with
/// λ = 50/s and μ = 100, 125, 200/s: by Jackson each behaves as an M/M/1
/// queue, so a request waits Wq = ρ/(μ − λ) for a worker at each (10,
/// 5.333 and 1.667 ms) and works 1/μ (10, 8, 5 ms). Each replication
/// measures 200 s (10,000 requests) after a 10 s warm-up (relaxation times
/// are below 0.2 s).
#[test]
fn tandem_queueing_shares_match_mm1() {
    let toml = r#"
        [simulation]
        duration = "210s"
        warmup = "10s"
        [services.a]
        io = "async"
        [services.a.endpoints.e]
        steps = [ { work = { dist = "exponential", mean = "10ms" } }, { call = "b.e" } ]
        [services.b]
        io = "async"
        [services.b.endpoints.e]
        steps = [ { work = { dist = "exponential", mean = "8ms" } }, { call = "c.e" } ]
        [services.c]
        [services.c.endpoints.e]
        work = { dist = "exponential", mean = "5ms" }
        [[workloads]]
        name = "w"
        target = "a.e"
        arrival = { process = "poisson", rate = 50 }
    "#;
    let runs = replicate(toml);
    let lambda = 50.0;
    for (s, mu) in [("a", 100.0), ("b", 125.0), ("c", 200.0)] {
        let rho = lambda / mu;
        let all = |kind: &str| -> Vec<f64> {
            runs.iter()
                .map(|r| comp(&r.attribution["w"].all, kind, Some(s)))
                .collect()
        };
        check_t(
            &format!("queue:{s}"),
            &all("queue"),
            1e3 * rho / (mu - lambda),
        );
        check_t(&format!("work:{s}"), &all("work"), 1e3 / mu);
    }
    for r in &runs {
        let all = &r.attribution["w"].all;
        assert_eq!(comp(all, "network", None), 0.0);
        assert_eq!(all.off_critical_path_ms, 0.0);
    }
}

/// A parallel group of a constant 10 ms call and a constant 30 ms call,
/// zero network, no queueing: every request is 1 + 30 ms of work, none of
/// it in `a`; a's 10 ms are off the critical path.
#[test]
fn parallel_fan_out_counts_only_the_slowest_branch() {
    let toml = r#"
        [simulation]
        duration = "30s"
        warmup = "1s"
        [services.front]
        io = "async"
        concurrency = 1000
        [services.front.endpoints.e]
        steps = [ { work = "1ms" }, { parallel = [ { call = "a.e" }, { call = "b.e" } ] } ]
        [services.a]
        concurrency = 1000
        [services.a.endpoints.e]
        work = "10ms"
        [services.b]
        concurrency = 1000
        [services.b.endpoints.e]
        work = "30ms"
        [[workloads]]
        name = "w"
        target = "front.e"
        arrival = { process = "poisson", rate = 100 }
    "#;
    let r = run_with(toml, &[]);
    check_sums("fan-out", &r.summary);
    let a = &r.summary.attribution["w"];
    for b in std::iter::once(&a.all).chain(a.slowest.as_ref()) {
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * y;
        assert!(close(b.mean_ms, 31.0), "{b:?}");
        assert!(close(comp(b, "work", Some("b")), 30.0), "{b:?}");
        assert!(close(comp(b, "work", Some("front")), 1.0), "{b:?}");
        assert_eq!(comp(b, "work", Some("a")), 0.0);
        assert_eq!(b.components.len(), 2, "{b:?}");
        assert!(close(b.off_critical_path_ms, 10.0), "{b:?}");
    }
}

/// Two exponential branches of mean 10 ms in parallel (no queueing, zero
/// network): the critical path is the larger, E[max] = 15 ms, split
/// evenly between a and b by symmetry (7.5 ms each); the other branch,
/// E[min] = 5 ms, is off the critical path.
#[test]
fn random_fan_out_follows_the_branch_that_ends_last() {
    let toml = r#"
        [simulation]
        duration = "41s"
        warmup = "1s"
        [services.front]
        io = "async"
        concurrency = 1000
        [services.front.endpoints.e]
        steps = [ { parallel = [ { call = "a.e" }, { call = "b.e" } ] } ]
        [services.a]
        concurrency = 1000
        [services.a.endpoints.e]
        work = { dist = "exponential", mean = "10ms" }
        [services.b]
        concurrency = 1000
        [services.b.endpoints.e]
        work = { dist = "exponential", mean = "10ms" }
        [[workloads]]
        name = "w"
        target = "front.e"
        arrival = { process = "poisson", rate = 100 }
    "#;
    let runs = replicate(toml);
    let get = |f: &dyn Fn(&Breakdown) -> f64| -> Vec<f64> {
        runs.iter().map(|r| f(&r.attribution["w"].all)).collect()
    };
    check_t("critical", &get(&|b| b.mean_ms), 15.0);
    check_t("work:a", &get(&|b| comp(b, "work", Some("a"))), 7.5);
    check_t("work:b", &get(&|b| comp(b, "work", Some("b"))), 7.5);
    check_t("off path", &get(&|b| b.off_critical_path_ms), 5.0);
}

/// A callee slower than the caller's 30 ms timeout half the time (work
/// uniform 10..50 ms, no queueing), 4 attempts with a constant 5 ms
/// backoff: a successful request with k failed attempts spends exactly
/// 32k ms lost at the callee (its timeout) and 5k ms in backoff, then the final
/// attempt's work (uniform 10..30 ms, mean 20) and two 1 ms hops.
#[test]
fn timeouts_and_backoff_add_up_with_the_final_attempt() {
    let toml = r#"
        [simulation]
        duration = "61s"
        warmup = "1s"
        [network]
        latency = "1ms"
        [services.front]
        io = "async"
        concurrency = 1000
        [services.front.endpoints.e]
        steps = [ { call = "slow.e", timeout = "32ms", retries = { attempts = 4, backoff = "constant", base = "5ms" } } ]
        [services.slow]
        concurrency = 1000
        [services.slow.endpoints.e]
        work = { dist = "uniform", min = "10ms", max = "50ms" }
        [[workloads]]
        name = "w"
        target = "front.e"
        arrival = { process = "poisson", rate = 100 }
    "#;
    // The timeout (32 ms) covers the 2 ms of hops: an attempt fails when
    // its work exceeds 30 ms, probability 1/2.
    let runs = replicate(toml);
    let mut ks = Vec::new();
    let mut works = Vec::new();
    for r in &runs {
        let b = &r.attribution["w"].all;
        let lost = comp(b, "lost", Some("slow"));
        let backoff = comp(b, "backoff", None);
        let k = backoff / 5.0;
        assert!(
            (lost - 32.0 * k).abs() <= 1e-9 * lost.max(1.0),
            "lost {lost} ms != 32 ms x {k} failed attempts"
        );
        let net = comp(b, "network", None);
        assert!((net - 2.0).abs() <= 1e-9, "network {net}");
        ks.push(k);
        works.push(comp(b, "work", Some("slow")));
    }
    // Successful requests had k = j failed attempts with probability
    // 2^-(j+1) / (1 - 2^-4), j < 4: E[k] = 0.6875 / 0.9375.
    check_t("failed attempts", &ks, 0.6875 / 0.9375);
    check_t("final work", &works, 20.0);
}

/// Discovery per request: the registry lookups are on the call path.
#[test]
fn per_request_lookups_are_attributed() {
    let r = run_bundled(
        "registry-outage.toml",
        &["simulation.warmup=5s", "simulation.duration=60s"],
    );
    check_sums("registry-outage", &r.summary);
    let lookup: f64 = r
        .summary
        .attribution
        .values()
        .map(|a| comp(&a.all, "lookup", None))
        .sum();
    assert!(lookup > 0.0, "{:?}", r.summary.attribution);
}

/// An attempt that times out while its lookup still waits on the registry
/// never reached its callee: its time is the lookup's, not time lost at
/// the callee. Here every lookup takes 80 ms and the optional call gives
/// up after 50 ms: each request is 1 ms of work and 50 ms of lookup.
#[test]
fn a_timeout_during_a_lookup_is_lookup_time() {
    let toml = r#"
        [simulation]
        duration = "30s"
        warmup = "1s"
        [network]
        latency = "1ms"
        [registry]
        lookup = "80ms"
        [services.front]
        concurrency = 64
        discovery = { mode = "per_request" }
        [services.front.endpoints.e]
        steps = [ { work = "1ms" }, { call = "back.e", timeout = "50ms", optional = true } ]
        [services.back.endpoints.e]
        work = "5ms"
        [[workloads]]
        name = "w"
        target = "front.e"
        arrival = { process = "poisson", rate = 20 }
    "#;
    let r = run_with(toml, &[]);
    check_sums("lookup timeout", &r.summary);
    let a = &r.summary.attribution["w"].all;
    assert!(a.requests > 100, "{a:?}");
    assert!((a.mean_ms - 51.0).abs() < 1e-9, "{a:?}");
    assert!((comp(a, "lookup", None) - 50.0).abs() < 1e-9, "{a:?}");
    assert_eq!(comp(a, "lost", Some("back")), 0.0, "{a:?}");
}

/// A monolith's in-process calls have no network: none is attributed,
/// and every component adds up.
#[test]
fn monolith_has_no_network_time() {
    let micro = run_bundled(
        "fault-isolation.toml",
        &["simulation.warmup=5s", "simulation.duration=30s"],
    );
    let mono = run_bundled(
        "fault-isolation.toml",
        &[
            "simulation.warmup=5s",
            "simulation.duration=30s",
            "deployment.mode=monolith",
        ],
    );
    check_sums("monolith", &mono.summary);
    for (w, a) in &mono.summary.attribution {
        assert_eq!(comp(&a.all, "network", None), 0.0, "{w}");
    }
    let net: f64 = micro
        .summary
        .attribution
        .values()
        .map(|a| comp(&a.all, "network", None))
        .sum();
    assert!(net > 0.0, "microservices do use the network");
}

/// `front` works 1 ms, then calls `a` (10 ms of work) and `b` (30 ms):
/// constant times, Poisson arrivals at 10/s and 16 workers everywhere, so
/// nothing queues and every request takes the same time.
const MODULES: &str = r#"
[simulation]
duration = "20s"
warmup = "2s"
seed = 5
[network]
latency = "1ms"
[services.front]
concurrency = 16
[services.front.endpoints.e]
steps = [ { work = "1ms" }, { call = "a.e" }, { call = "b.e" } ]
[services.a]
concurrency = 16
[services.a.endpoints.e]
work = "10ms"
[services.b]
concurrency = 16
[services.b.endpoints.e]
work = "30ms"
[[workloads]]
name = "w"
target = "front.e"
arrival = { process = "poisson", rate = 10 }
"#;

/// (kind, service) of each component of `b`, in order.
fn keys(b: &Breakdown) -> Vec<(&str, Option<&str>)> {
    b.components
        .iter()
        .map(|c| (c.kind.as_str(), c.service.as_deref()))
        .collect()
}

/// In a monolith, work is charged to the module (the service it came
/// from) of each endpoint: the per-module work means equal the
/// microservices' per-service ones exactly; the unit has no work of its
/// own, and its queue stays the unit's (shared by the modules).
#[test]
fn a_monolith_splits_work_by_module() {
    let micro = run_with(MODULES, &[]).summary;
    let mono = run_with(MODULES, &["deployment.mode=monolith"]).summary;
    check_sums("modules: microservices", &micro);
    check_sums("modules: monolith", &mono);
    assert!(micro.modules.is_empty());
    assert_eq!(mono.modules, ["front", "a", "b"]);
    let (m, u) = (&micro.attribution["w"].all, &mono.attribution["w"].all);
    assert!(u.requests > 100, "{u:?}");
    for (s, ms) in [("front", 1.0), ("a", 10.0), ("b", 30.0)] {
        let (x, y) = (comp(m, "work", Some(s)), comp(u, "work", Some(s)));
        assert!(
            (x - ms).abs() <= 1e-9 * ms,
            "{s} work {x} ms (microservices)"
        );
        assert!((y - x).abs() <= 1e-9 * ms, "{s} work {y} ms != {x} ms");
    }
    assert_eq!(
        keys(u),
        [
            ("work", Some("front")),
            ("work", Some("a")),
            ("work", Some("b"))
        ]
    );
    assert!((u.mean_ms - 41.0).abs() <= 1e-9 * 41.0, "{u:?}");
    // Microservices: the same work plus two hops per call.
    assert!((m.mean_ms - 45.0).abs() <= 1e-9 * 45.0, "{m:?}");

    // One worker: requests queue for the unit, the work stays exact.
    let one = run_with(
        MODULES,
        &[
            "deployment.mode=monolith",
            "deployment.monolith.concurrency=1",
        ],
    )
    .summary;
    check_sums("modules: one worker", &one);
    let q = &one.attribution["w"].all;
    assert!(comp(q, "queue", Some("monolith")) > 1.0, "{q:?}");
    assert_eq!(comp(q, "work", Some("monolith")), 0.0, "{q:?}");
    for (s, ms) in [("front", 1.0), ("a", 10.0), ("b", 30.0)] {
        let y = comp(q, "work", Some(s));
        assert!((y - ms).abs() <= 1e-9 * ms, "{s} work {y} ms");
    }
    assert!(keys(q)
        .iter()
        .all(|(k, s)| *k == "work" || *s == Some("monolith")));

    // The metric catalogue, built from the model before the run, names
    // the modules' work; the run's values follow it name for name.
    let model = model_with(MODULES, &["deployment.mode=monolith"]);
    let defs = microsim::metrics::catalog::catalog(&model);
    let vals = microsim::metrics::catalog::values(&mono);
    let names = |d: &[microsim::metrics::catalog::MetricDef]| {
        d.iter().map(|d| d.name.clone()).collect::<Vec<_>>()
    };
    let got: Vec<_> = vals.iter().map(|(d, _)| d.clone()).collect();
    assert_eq!(names(&defs), names(&got));
    let get = |n: &str| vals.iter().find(|(d, _)| d.name == n).and_then(|v| v.1);
    let a = get("w.mean_share.a.work").expect("w.mean_share.a.work");
    assert!((a - 10.0 / 41.0).abs() < 1e-9, "{a}");
    assert!(get("w.p99_share.b.work").is_some());
    assert!(get("w.p99_share.monolith.queue").is_some());
    assert!(!defs.iter().any(|d| d.name == "w.p99_share.b.queue"));
}

/// Through the binary, a threshold on a module's work share resolves in
/// monolith mode (the catalogue is checked before the run), and one on a
/// module's queue is refused before running: the queue is the unit's.
#[test]
fn module_work_thresholds_resolve_in_monolith_mode() {
    let dir = super::common::root();
    let sc = super::common::scenario("checkout.toml");
    let sc = sc.to_str().unwrap();
    let args = |expr: &'static str| {
        [
            "run",
            sc,
            "-q",
            "--set",
            "deployment.mode=monolith",
            "--set",
            "simulation.duration=40s",
            "--assert",
            expr,
        ]
    };
    let out = super::common::microsim(&dir, &args("checkout.p99_share.payment.work > 0.5"));
    let (_, stderr) = super::common::texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("PASS  checkout.p99_share.payment.work > 0.5"),
        "{stderr}"
    );
    let out = super::common::microsim(&dir, &args("checkout.p99_share.payment.queue < 0.5"));
    let (_, stderr) = super::common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("checkout.p99_share.payment.queue"),
        "{stderr}"
    );
}

/// Saga compensations and acked publishes are merged like calls: the
/// runs add up (with the engine checking each request), and the broker's
/// own queueing and work show in the publishers' attribution.
#[test]
fn compensations_and_acked_publishes_add_up() {
    let saga = run_bundled(
        "saga-checkout.toml",
        &["simulation.warmup=5s", "simulation.duration=40s"],
    );
    check_sums("saga-checkout", &saga.summary);
    let m = bundled_model("event-driven.toml", &[]);
    let brokers: Vec<String> = m
        .messaging
        .brokers
        .iter()
        .map(|b| m.services[b.service as usize].name.clone())
        .collect();
    let ev = run_bundled(
        "event-driven.toml",
        &["simulation.warmup=5s", "simulation.duration=30s"],
    );
    check_sums("event-driven", &ev.summary);
    let at_broker = ev.summary.attribution.values().any(|a| {
        a.all
            .components
            .iter()
            .any(|c| c.service.as_ref().is_some_and(|s| brokers.contains(s)))
    });
    assert!(at_broker, "{brokers:?} {:?}", ev.summary.attribution);
}
