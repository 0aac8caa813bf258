//! Failure and resilience semantics on small inline scenarios: crashes and
//! their cascade, timeouts, retries and their budget, circuit breakers,
//! bulkheads, load shedding, outlier ejection, latency/error/partition
//! faults, degraded answers, wasted work, and reproducibility of random
//! faults under the seed.
//!
//! Most scenarios use constant work, constant network hops and constant
//! arrivals, so that the bounds checked are exact inequalities worked out
//! by hand in each test's comment. Where randomness is the point (fault
//! fractions, error probabilities, retry counts), the tolerance is a number
//! of standard deviations of the estimator for the run's sample size.

use super::common::model;
use microsim::metrics::{RunResult, Summary, WorkloadWindow};
use microsim::simulation;

fn run(toml: &str) -> RunResult {
    simulation::run(&model(toml)).expect("the run completes")
}

fn summary(toml: &str) -> Summary {
    run(toml).summary
}

/// The time-series rows of workload `name`.
fn windows<'a>(r: &'a RunResult, name: &str) -> Vec<&'a WorkloadWindow> {
    r.timeseries
        .workloads
        .iter()
        .filter(|w| w.workload == name)
        .collect()
}

fn fail(s: &Summary, workload: &str, cause: &str) -> u64 {
    s.workloads[workload].failures[cause]
}

// ---------------------------------------------------------------------------
// 1. Crashes: failures confined to the dependency's callers, unless blocking
//    callers without a timeout wait forever on dropped calls.
// ---------------------------------------------------------------------------

/// Order has two endpoints: `place` (2 ms of work, then a call to
/// payment.charge, 5 ms) and `view` (2 ms, no call). Constant arrivals of
/// 100/s on each (at 10 ms, 20 ms, ..., 9.99 s: 999 each), network hops of
/// 1 ms. Both Payment replicas crash at 3 s for 3 s.
fn crash_scenario(io: &str, mode: &str, timeout: Option<&str>) -> String {
    let call = match timeout {
        Some(t) => format!(r#"{{ call = "payment.charge", timeout = "{t}" }}"#),
        None => r#"{ call = "payment.charge" }"#.to_string(),
    };
    format!(
        r#"
        [simulation]
        duration = "10s"
        window = "1s"
        [network]
        latency = "1ms"
        [services.order]
        io = "{io}"
        concurrency = 8
        queue_capacity = 8
        [services.order.endpoints.place]
        steps = [ {{ work = "2ms" }}, {call} ]
        [services.order.endpoints.view]
        work = "2ms"
        [services.payment]
        replicas = 2
        concurrency = 8
        [services.payment.endpoints.charge]
        work = "5ms"
        [[faults]]
        kind = "crash"
        service = "payment"
        mode = "{mode}"
        at = "3s"
        duration = "3s"
        [[workloads]]
        name = "checkout"
        target = "order.place"
        arrival = {{ process = "constant", rate = 100 }}
        [[workloads]]
        name = "browse"
        target = "order.view"
        arrival = {{ process = "constant", rate = 100 }}
        "#
    )
}

/// Reject-mode crash, async Order: a checkout issued at t reaches Payment
/// at t + 3 ms. Nothing is on Payment at 3 s (the request of 2.99 s is
/// served in [2.993, 2.998]), so no call is lost; the calls arriving in
/// [3 s, 6 s) are exactly those of the 300 requests issued at 3.00 ..
/// 5.99 s, and each fails with connection_failed. Every other checkout
/// succeeds, and browse, which never calls Payment, is untouched.
#[test]
fn payment_crash_fails_only_the_calls_to_payment() {
    let r = run(&crash_scenario("async", "reject", None));
    let s = &r.summary;
    let c = &s.workloads["checkout"];
    assert_eq!((c.requests, c.failed, c.in_flight), (999, 300, 0));
    assert_eq!(fail(s, "checkout", "connection_failed"), 300);
    assert_eq!(c.ok, 699);
    let p = &s.services["payment"];
    assert_eq!((p.crashes, p.unreachable, p.lost_in_crashes), (2, 300, 0));

    // The failures fall in the fault's window: the blast radius holds all
    // of them, the requests issued outside any fault none.
    let f = &s.faults[0];
    let during = &f.blast_radius["checkout"].during;
    assert_eq!((during.completed, during.failed), (300, 300));
    let outside = c.outside_faults.as_ref().unwrap();
    assert_eq!((outside.failed, outside.availability), (0, Some(1.0)));
    // A success ends 9 ms after its issue, a failure 4 ms after (refused
    // at t + 3 ms, 1 ms back): each second of the outage ends exactly the
    // 100 failures issued in it, and nothing else.
    for w in windows(&r, "checkout") {
        let (ok, failed) = if (3.0..6.0).contains(&w.start_s) {
            (0, 100)
        } else if w.start_s == 0.0 {
            (99, 0)
        } else {
            (100, 0)
        };
        assert_eq!((w.ok, w.failed), (ok, failed), "{w:?}");
    }

    let b = &s.workloads["browse"];
    assert_eq!((b.requests, b.ok, b.failed), (999, 999, 0));
    assert_eq!(b.availability, Some(1.0));
    assert_eq!(f.blast_radius["browse"].impact, "unaffected");
}

/// A restarted replica serves only after the service's startup time: with
/// startup = 500 ms the reject-mode outage of Payment lasts from 3 s to
/// 6.5 s, so the checkouts issued at 3.00 .. 6.49 s fail (350), and the
/// fault's effect (its blast radius window) ends at 6.5 s. Both replicas
/// are unavailable for 3.5 of the 10 s: 2 - 2 x 0.35 = 1.3 on average.
#[test]
fn restarted_replicas_serve_after_startup() {
    let toml = crash_scenario("async", "reject", None).replace(
        "[services.payment]\n",
        "[services.payment]\n        startup = \"500ms\"\n",
    );
    let s = summary(&toml);
    let c = &s.workloads["checkout"];
    assert_eq!((c.ok, c.failed), (649, 350), "{c:?}");
    assert_eq!(c.failures["connection_failed"], 350);
    let f = &s.faults[0];
    assert_eq!((f.end_s, f.effect_end_s), (6.0, 6.5));
    let during = &f.blast_radius["checkout"].during;
    assert_eq!((during.completed, during.failed), (350, 350));
    assert_eq!(c.outside_faults.as_ref().unwrap().failed, 0);
    let p = &s.services["payment"];
    assert!((p.mean_available_replicas - 1.3).abs() < 1e-9, "{p:?}");
}

/// Drop-mode crash, blocking Order, no timeout: every checkout that calls
/// Payment during the outage waits forever while holding one of Order's 8
/// workers. After 8 such requests (by 3.07 s) every worker is held, the
/// 8 queue places fill, and every later request of either workload is
/// rejected -- even after Payment is back, since the dropped calls are
/// never answered. The same crash with a 20 ms timeout holds a worker for
/// 2 + 20 ms per checkout: at most 3 at a time, so browse is untouched.
#[test]
fn dropped_calls_without_timeout_exhaust_blocking_callers() {
    let r = run(&crash_scenario("blocking", "drop", None));
    let s = &r.summary;
    let b = &s.workloads["browse"];
    let c = &s.workloads["checkout"];
    // Held forever: the checkouts of 3.00 .. 3.07 s on the 8 workers
    // (at equal instants the checkout arrival comes first: its stream of
    // arrival events was scheduled first), then the queue takes browse
    // 3.07, checkout 3.08, browse 3.08, ... checkout 3.11: 4 and 4.
    assert_eq!((c.in_flight, b.in_flight), (12, 4));
    // Browse succeeds before 3 s (299) and at 3.00 .. 3.06 s (7); every
    // later browse is rejected, long after Payment is back at 6 s.
    assert_eq!((b.ok, b.failed), (306, 689));
    assert_eq!(b.failures["rejected"], 689);
    assert_eq!((c.ok, c.failed, c.failures["rejected"]), (299, 688, 688));
    for w in windows(&r, "browse") {
        if w.start_s >= 4.0 {
            assert_eq!((w.ok, w.throughput_rps), (0, 0.0), "{w:?}");
            assert_eq!(w.failed, 100, "{w:?}");
        }
    }
    assert_eq!(c.failures["connection_failed"] + c.failures["timeout"], 0);
    let order = r
        .timeseries
        .services
        .iter()
        .filter(|w| w.service == "order" && w.start_s >= 4.0);
    for w in order {
        assert_eq!(w.utilization, 1.0, "{w:?}");
    }

    // Async Order gives the worker back while it waits: the dropped calls
    // hang (the 300 checkouts of 3.00 .. 5.99 s stay in flight) but hold
    // nothing that browse needs.
    let s = summary(&crash_scenario("async", "drop", None));
    let b = &s.workloads["browse"];
    assert_eq!((b.ok, b.failed, b.availability), (999, 0, Some(1.0)));
    let c = &s.workloads["checkout"];
    assert_eq!((c.ok, c.failed, c.in_flight), (699, 0, 300));

    // With a timeout the cascade does not happen.
    let s = summary(&crash_scenario("blocking", "drop", Some("20ms")));
    let b = &s.workloads["browse"];
    assert_eq!((b.ok, b.failed, b.availability), (999, 0, Some(1.0)));
    let c = &s.workloads["checkout"];
    assert_eq!(c.failed, fail(&s, "checkout", "timeout"));
    assert_eq!(c.failed, 300);
}

// ---------------------------------------------------------------------------
// 2. Timeouts bound the time a caller waits, per attempt and with retries.
// ---------------------------------------------------------------------------

/// Front works 1 ms, calls back.op (optional, so a failed call still lets
/// the request succeed degraded and its latency be recorded), then works
/// 1 ms. Hops are 2 ms each way; Back works Uniform(0, 100 ms) with ample
/// workers, so an attempt succeeds when 2 + w + 2 < 50 ms (p = 0.46).
fn timeout_scenario(call_policy: &str) -> String {
    format!(
        r#"
        [simulation]
        duration = "10s"
        [network]
        latency = "2ms"
        [services.front]
        concurrency = 1000
        [services.front.endpoints.page]
        steps = [ {{ work = "1ms" }}, {{ call = "back.op", optional = true, {call_policy} }}, {{ work = "1ms" }} ]
        [services.back]
        concurrency = 1000
        [services.back.endpoints.op]
        work = {{ dist = "uniform", min = "0ms", max = "100ms" }}
        [[workloads]]
        name = "w"
        target = "front.page"
        arrival = {{ process = "poisson", rate = 100 }}
        "#
    )
}

/// The timeout runs from the attempt's start and includes the network; a
/// timed-out attempt ends at the caller, so nothing follows it but the
/// caller's own steps. One attempt: a call lasts at most T = 50 ms, a
/// request at most 1 + T + 1 = 52 ms, and a degraded one exactly that.
/// Three attempts with a constant 10 ms backoff: a call lasts at most
/// 3T + 2b = 170 ms (exactly that when all three time out, which happens
/// to 0.54^3 = 16% of the ~1000 calls), a request at most 172 ms.
#[test]
fn timeouts_bound_the_wait_per_attempt_and_in_all() {
    let s = summary(&timeout_scenario(r#"timeout = "50ms""#));
    let w = &s.workloads["w"];
    let l = w.latency_ms.as_ref().unwrap();
    assert!(w.degraded > 0 && w.ok > 0 && w.failed == 0, "{w:?}");
    assert_eq!(l.max, 52.0, "{l:?}");
    let d = &s.dependencies["front->back"];
    assert_eq!(d.failures["timeout"], w.degraded);
    assert_eq!(d.retries, 0);
    // Back finishes the timed-out calls for nobody.
    assert!(s.services["back"].abandoned > 0);

    let s = summary(&timeout_scenario(
        r#"timeout = "50ms", retries = { attempts = 3, backoff = "constant", base = "10ms", on = ["timeout"] }"#,
    ));
    let w = &s.workloads["w"];
    let l = w.latency_ms.as_ref().unwrap();
    assert!(w.degraded > 0 && w.failed == 0, "{w:?}");
    assert_eq!(l.max, 172.0, "{l:?}");
    let d = &s.dependencies["front->back"];
    assert_eq!(d.failures["timeout"], w.degraded);
    assert_eq!(d.attempts, d.calls + d.retries);
    assert!(d.retries <= 2 * d.calls);
    // Every retry follows a timed-out attempt; every failed call timed
    // out three times.
    assert!(d.attempt_failures["timeout"] >= d.retries + d.failed);
}

// ---------------------------------------------------------------------------
// 3. Circuit breaker: opens during an outage, fails fast, closes after.
// ---------------------------------------------------------------------------

/// Constant 200 requests/s to front.page, which only calls back.op (2 ms
/// of work, 1 ms hops: a round trip of 4 ms, a refused call fails after
/// 2 ms). Back crashes (reject) from 3 s to 6 s. Breaker: 50% over 1 s,
/// at least 10 calls, open for 500 ms, 3 trial calls.
///
/// Derivation of the bounds:
/// - Opening: the window is ten 100 ms buckets, so at 4 s + 2 ms it holds
///   only outcomes recorded after 3.1 s, all failures: it is open by then
///   at the latest (t_open <= outage start + window + 2 ms), and it cannot
///   open before the first failure (t_open >= 3 s).
/// - Closing: trials sent before 6 s fail and reopen it (by 6.001 s at the
///   latest); the last open period thus ends before 6.501 s, the next
///   arrival (5 ms apart) starts the half-open period, three arrivals send
///   the three trials within 15 ms and they return 4 ms later: it closes
///   in [6 s, 6.52 s].
/// - So it is not closed for between (6 - 4.002) s and (6.52 - 3) s.
/// - While it is open, Back sees only trial calls: at most 3 per half-open
///   period, at most 2 half-open periods in a 500 ms series window.
#[test]
fn breaker_opens_in_an_outage_fails_fast_and_closes_after() {
    let r = run(r#"
        [simulation]
        duration = "10s"
        window = "500ms"
        [network]
        latency = "1ms"
        [policies.cb]
        circuit_breaker = { failure_rate = 0.5, window = "1s", min_calls = 10, open_for = "500ms", half_open_calls = 3 }
        [services.front]
        io = "async"
        concurrency = 100
        [services.front.endpoints.page]
        steps = [ { call = "back.op", policy = "cb" } ]
        [services.back]
        concurrency = 100
        [services.back.endpoints.op]
        work = "2ms"
        [[faults]]
        kind = "crash"
        service = "back"
        at = "3s"
        duration = "3s"
        [[workloads]]
        name = "w"
        target = "front.page"
        arrival = { process = "constant", rate = 200 }
        "#);
    let s = &r.summary;
    let d = &s.dependencies["front->back"];
    assert!(d.failures["circuit_open"] > 0, "{d:?}");
    assert!(d.failures["connection_failed"] > 0, "{d:?}");
    // Fast failures never reach Back: fewer calls reach it than are made.
    let back = &s.services["back"];
    assert_eq!(back.requests + d.failures["circuit_open"], d.attempts);
    assert!(back.requests < d.calls);
    // Of the 600 calls made during the outage, those that reached Back
    // (and found it down) were sent before the breaker opened (at most
    // 1.002 s x 200/s + 1) or as trials (3 per opening).
    assert!(back.unreachable <= 201 + 3 * d.breaker_opens, "{back:?}");
    assert!(
        d.failures["circuit_open"] + back.unreachable >= 600,
        "{d:?}"
    );

    // Each opening is followed by a half-open period, and the last one by
    // the close: open, (half-open, open)*, half-open, closed.
    assert!(d.breaker_opens >= 2, "a failed trial reopens it: {d:?}");
    assert_eq!(d.breaker_state_changes, 2 * d.breaker_opens + 1, "{d:?}");
    let open = d.breaker_open_seconds;
    assert!((6.0 - 4.002..=6.52 - 3.0).contains(&open), "{open}");
    assert_eq!(back.breaker_open_seconds, open);
    assert_eq!(back.breaker_opens, d.breaker_opens);
    // Each open period lasts open_for.
    assert!(d.breaker_opens as f64 <= open / 0.5 + 1.0, "{d:?}");

    for w in r.timeseries.services.iter().filter(|w| w.service == "back") {
        if w.start_s >= 4.002 && w.end_s <= 6.0 {
            assert!(w.requests <= 6, "only trial calls while open: {w:?}");
        }
    }
    for w in windows(&r, "w") {
        // (The first window holds 99: arrivals begin at 5 ms.)
        if (w.start_s > 0.0 && w.end_s <= 3.0) || w.start_s >= 7.0 {
            assert_eq!((w.ok, w.failed), (100, 0), "{w:?}");
        }
        if w.start_s >= 3.0 && w.end_s <= 6.0 {
            assert!(w.failed > 90, "{w:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// 4. Retries multiply the load on a failing service; a budget caps them.
// ---------------------------------------------------------------------------

fn retry_scenario(probability: f64, retries: &str, arrival: &str) -> String {
    format!(
        r#"
        [simulation]
        duration = "10s"
        [services.front]
        concurrency = 1000
        [services.front.endpoints.page]
        steps = [ {{ call = "back.op", retries = {retries} }} ]
        [services.back]
        concurrency = 1000
        [services.back.endpoints.op]
        work = "1ms"
        [[faults]]
        kind = "errors"
        service = "back"
        probability = {probability}
        at = "0s"
        [[workloads]]
        name = "w"
        target = "front.page"
        arrival = {arrival}
        "#
    )
}

/// Every attempt fails (errors, p = 1), 3 attempts, no backoff, no
/// network: each of the 999 calls (constant 100/s) makes exactly three
/// 1 ms attempts, all finished long before the end, so Back receives
/// exactly 3 calls per first attempt.
///
/// With p = 0.5 the attempts per call A are 1, 2 or 3 with probabilities
/// 1/2, 1/4, 1/4: E[A] = 1.75, Var[A] = 3.75 - 1.75^2 = 0.6875. The
/// amplification over n calls is the mean of n such A: within
/// 5 sqrt(0.6875 / n) of 1.75. A call fails when all three fail: p^3 =
/// 1/8, within 5 sqrt(p^3 (1 - p^3) / n).
#[test]
fn retries_multiply_the_load_on_a_failing_service() {
    let s = summary(&retry_scenario(
        1.0,
        "{ attempts = 3 }",
        r#"{ process = "constant", rate = 100 }"#,
    ));
    let back = &s.services["back"];
    assert_eq!(back.retry_amplification, Some(3.0));
    assert_eq!((back.requests, back.injected_errors), (2997, 2997));
    let d = &s.dependencies["front->back"];
    assert_eq!(
        (d.calls, d.attempts, d.retries, d.failed),
        (999, 2997, 1998, 999)
    );
    assert_eq!(d.attempt_failures["injected_error"], 2997);
    assert_eq!(s.workloads["w"].failures["injected_error"], 999);

    let s = summary(&retry_scenario(
        0.5,
        "{ attempts = 3 }",
        r#"{ process = "poisson", rate = 300 }"#,
    ));
    let back = &s.services["back"];
    let d = &s.dependencies["front->back"];
    let n = d.calls as f64;
    let amp = back.retry_amplification.unwrap();
    let tol = 5.0 * (0.6875 / n).sqrt();
    assert!(
        (amp - 1.75).abs() < tol,
        "amplification {amp}, n {n}, tol {tol}"
    );
    let failed = d.failed as f64 / n;
    let tol = 5.0 * (0.125 * 0.875 / n).sqrt();
    assert!((failed - 0.125).abs() < tol, "failed {failed}, tol {tol}");
    assert_eq!(d.attempts, d.calls + d.retries);
    assert_eq!(back.requests, d.attempts);
}

/// The same total failure under a retry budget of 10%: the bucket gains
/// 0.1 token per call and starts empty, so retries <= 0.1 calls (below the
/// documented 0.1 calls + 10). Calls never overlap (10 ms apart, 3 ms at
/// most each) and each one's first failure spends a token as soon as one
/// is there, so the bucket never holds 1.1 tokens or more: never near its
/// cap of 10, and at the end under 1, so retries > 0.1 calls - 1. After a
/// retry the bucket is below 1 again, so every call ends with a refused
/// retry.
#[test]
fn a_retry_budget_caps_retries() {
    let s = summary(&retry_scenario(
        1.0,
        "{ attempts = 3, budget = 0.1 }",
        r#"{ process = "constant", rate = 100 }"#,
    ));
    let d = &s.dependencies["front->back"];
    let (calls, retries) = (d.calls as f64, d.retries as f64);
    assert_eq!(d.calls, 999);
    assert!(retries <= 0.1 * calls + 10.0, "{d:?}");
    assert!(
        retries <= 0.1 * calls && retries > 0.1 * calls - 1.0,
        "{d:?}"
    );
    assert_eq!(d.retries_denied_by_budget, d.calls, "{d:?}");
    assert_eq!(d.attempts, d.calls + d.retries);
    let amp = s.services["back"].retry_amplification.unwrap();
    assert!((amp - (1.0 + retries / calls)).abs() < 1e-12, "{amp}");

    // Overlapping calls (Poisson, exponential work): only the documented
    // inequality holds exactly.
    let mut toml = retry_scenario(
        1.0,
        "{ attempts = 4, budget = 0.2 }",
        r#"{ process = "poisson", rate = 500 }"#,
    );
    toml = toml.replace(
        r#"work = "1ms""#,
        r#"work = { dist = "exponential", mean = "20ms" }"#,
    );
    let s = summary(&toml);
    let d = &s.dependencies["front->back"];
    assert!(d.retries > 0 && d.retries_denied_by_budget > 0, "{d:?}");
    assert!(d.retries as f64 <= 0.2 * d.calls as f64 + 10.0, "{d:?}");
}

// ---------------------------------------------------------------------------
// 5. Faults are reproducible under the seed, and each draws from its own
//    stream.
// ---------------------------------------------------------------------------

/// Random crashes of A's three replicas (mean 2 s up, 200 ms down), a
/// partial latency fault and injected errors on B, retries with full
/// jitter; `extra` adds more faults.
fn random_scenario(seed: u64, extra: &str) -> String {
    format!(
        r#"
        [simulation]
        duration = "20s"
        seed = {seed}
        [network]
        latency = {{ dist = "exponential", mean = "1ms" }}
        [services.a]
        replicas = 3
        concurrency = 8
        startup = "100ms"
        [services.a.endpoints.e]
        steps = [ {{ work = {{ dist = "exponential", mean = "2ms" }} }}, {{ call = "b.e", timeout = "30ms", retries = {{ attempts = 3, backoff = "exponential", base = "5ms", jitter = "full" }} }} ]
        [services.b]
        replicas = 2
        concurrency = 8
        [services.b.endpoints.e]
        work = {{ dist = "exponential", mean = "3ms" }}
        [services.c]
        [services.c.endpoints.e]
        work = "1ms"
        [[faults]]
        name = "a-crashes"
        kind = "random_crashes"
        service = "a"
        mtbf = "2s"
        mttr = "200ms"
        [[faults]]
        name = "b-slow"
        kind = "latency"
        service = "b"
        extra = {{ dist = "exponential", mean = "20ms" }}
        fraction = 0.3
        at = "5s"
        duration = "5s"
        [[faults]]
        name = "b-errors"
        kind = "errors"
        service = "b"
        probability = 0.1
        at = "8s"
        {extra}
        [[workloads]]
        name = "w"
        target = "a.e"
        arrival = {{ process = "poisson", rate = 100 }}
        "#
    )
}

fn outages(s: &Summary, fault: &str) -> String {
    let f = s.faults.iter().find(|f| f.name == fault).unwrap();
    assert!(!f.outages.is_empty(), "{fault} caused outages");
    serde_json::to_string(&f.outages).unwrap()
}

/// Same seed: the same summary and time series to the byte (outages,
/// crashes and blast radius included). Another seed: other outages.
/// Another fault elsewhere (random crashes of C, a partition) or other
/// traffic leaves A's outages alone, since they are drawn only from the
/// stream `fault/a-crashes`.
#[test]
fn random_faults_are_reproducible_and_independent() {
    let base = random_scenario(11, "");
    let one = run(&base);
    let two = run(&base);
    let json = |r: &RunResult| serde_json::to_string(r).unwrap();
    assert_eq!(json(&one), json(&two));
    let s = &one.summary;
    assert_eq!(s.faults[0].crashes, s.faults[0].outages.len() as u64);
    assert!(s.faults[0].outages.len() >= 10, "{:?}", s.faults[0].outages);
    assert!(s.workloads["w"].failed > 0);

    let other_seed = summary(&random_scenario(12, ""));
    assert_ne!(outages(s, "a-crashes"), outages(&other_seed, "a-crashes"));

    let more = summary(&random_scenario(
        11,
        r#"
        [[faults]]
        name = "c-crashes"
        kind = "random_crashes"
        service = "c"
        mtbf = "1s"
        mttr = "300ms"
        [[faults]]
        kind = "partition"
        from = "a"
        to = "b"
        at = "12s"
        duration = "1s"
        "#,
    ));
    assert_eq!(outages(s, "a-crashes"), outages(&more, "a-crashes"));
    assert_ne!(
        json_summary(s),
        json_summary(&more),
        "the extra faults changed something"
    );

    let busier = summary(&random_scenario(11, "").replace("rate = 100", "rate = 150"));
    assert_eq!(outages(s, "a-crashes"), outages(&busier, "a-crashes"));
}

fn json_summary(s: &Summary) -> String {
    serde_json::to_string(s).unwrap()
}

// ---------------------------------------------------------------------------
// 6. Bulkhead.
// ---------------------------------------------------------------------------

/// Front calls back.op under a bulkhead; Back has exactly as many workers
/// as the bulkhead allows (5) and no queue, works 20 ms, hops are 1 ms:
/// an attempt holds its bulkhead place for 22 ms, and Back's worker for
/// 20 ms within that. So Back never sees more calls than the bulkhead lets
/// out, and rejects none, however high the load; without the bulkhead the
/// same load overflows it.
fn bulkhead_scenario(rate: u32, bulkhead: bool) -> String {
    let policy = if bulkhead { r#", bulkhead = 5"# } else { "" };
    format!(
        r#"
        [simulation]
        duration = "10s"
        [network]
        latency = "1ms"
        [services.front]
        io = "async"
        concurrency = 1000
        [services.front.endpoints.page]
        steps = [ {{ call = "back.op"{policy} }} ]
        [services.back]
        concurrency = 5
        queue_capacity = 0
        [services.back.endpoints.op]
        work = "20ms"
        [[workloads]]
        name = "w"
        target = "front.page"
        arrival = {{ process = "constant", rate = {rate} }}
        "#
    )
}

/// 100/s, one call every 10 ms holding a place 22 ms: at most 3 in flight,
/// the bulkhead never fills. 1000/s needs 22 places: it fills, and the
/// calls it lets through are at most 5 per 22 ms (each place is held for
/// exactly 22 ms): <= 5 (10 s / 22 ms + 1).
#[test]
fn bulkhead_limits_concurrent_calls_to_the_dependency() {
    let s = summary(&bulkhead_scenario(100, true));
    let d = &s.dependencies["front->back"];
    // The calls of 9.98 and 9.99 s are still out at the end.
    assert_eq!((d.calls, d.ok, d.failed), (999, 997, 0));
    assert_eq!(s.workloads["w"].in_flight, 2);

    let s = summary(&bulkhead_scenario(1000, true));
    let d = &s.dependencies["front->back"];
    let back = &s.services["back"];
    assert!(d.failures["bulkhead_full"] > 0, "{d:?}");
    assert_eq!(d.failed, d.failures["bulkhead_full"]);
    assert_eq!(back.rejected, 0, "Back saw more than 5 calls at once");
    assert_eq!(back.requests + d.failures["bulkhead_full"], d.attempts);
    let passed = d.ok as f64;
    assert!(passed <= 5.0 * (10.0 / 0.022 + 1.0), "{d:?}");
    assert!(back.mean_busy_workers <= 5.0);

    let s = summary(&bulkhead_scenario(1000, false));
    assert!(s.services["back"].rejected > 0);
}

// ---------------------------------------------------------------------------
// 7. Load shedding.
// ---------------------------------------------------------------------------

/// One worker, 10 ms per request (100/s), Poisson 150/s: overloaded. A
/// queued request is shed when a worker frees and it has waited more than
/// shed_after = 50 ms; one that gets the worker waited at most 50 ms, so
/// every success took at most 50 + 10 = 60 ms. The worker never idles
/// while a request waits, so it serves at most one request per 10 ms.
#[test]
fn load_shedding_bounds_the_latency_of_successes() {
    let s = summary(
        r#"
        [simulation]
        duration = "10s"
        [services.s]
        shed_after = "50ms"
        [services.s.endpoints.e]
        work = "10ms"
        [[workloads]]
        name = "w"
        target = "s.e"
        arrival = { process = "poisson", rate = 150 }
        "#,
    );
    let w = &s.workloads["w"];
    let svc = &s.services["s"];
    assert!(svc.shed > 0, "{svc:?}");
    assert_eq!(w.failed, svc.shed);
    assert_eq!(w.failures["shed"], svc.shed);
    let l = w.latency_ms.as_ref().unwrap();
    assert!(l.max <= 60.0, "{l:?}");
    assert!(l.max > 50.0, "some successes waited near the limit: {l:?}");
    assert!(w.ok <= 1000);
    assert!(svc.utilization > 0.9, "{svc:?}");
}

// ---------------------------------------------------------------------------
// 8. Outlier ejection.
// ---------------------------------------------------------------------------

fn outlier_scenario(ejection: bool) -> String {
    let outlier = if ejection {
        r#"outlier_ejection = { consecutive_failures = 3, eject_for = "1s", max_ejected = 0.25 }"#
    } else {
        ""
    };
    format!(
        r#"
        [simulation]
        duration = "10s"
        [network]
        latency = "1ms"
        [services.front]
        io = "async"
        concurrency = 1000
        [services.front.endpoints.page]
        steps = [ {{ call = "back.op", timeout = "50ms" }} ]
        [services.back]
        replicas = 4
        concurrency = 50
        {outlier}
        [services.back.endpoints.op]
        work = "10ms"
        [[faults]]
        kind = "slow_replica"
        service = "back"
        replica = 0
        factor = 20
        at = "0s"
        [[workloads]]
        name = "w"
        target = "front.page"
        arrival = {{ process = "constant", rate = 200 }}
        "#
    )
}

/// Replica 0 of four works 20 times slower (200 ms > the 50 ms timeout).
/// Round robin sends it every fourth call: without ejection 1/4 of the
/// requests fail. With ejection, a cycle begins when it is (again)
/// available: it gets a call every 20 ms, the third failure is seen at
/// most 50 ms after the third call, so at most 3 + 50/20 + 1 calls reach
/// it before it is ejected for 1 s; there are at most 10 s / 1 s + 1
/// cycles: at most 71 failures of the 1999 requests.
#[test]
fn outlier_ejection_routes_around_a_slow_replica() {
    let without = summary(&outlier_scenario(false));
    let w = &without.workloads["w"];
    assert_eq!(w.requests, 1999);
    assert!(w.availability.unwrap() <= 0.76, "{w:?}");
    assert_eq!(without.services["back"].ejections, 0);

    let with = summary(&outlier_scenario(true));
    let w = &with.workloads["w"];
    let back = &with.services["back"];
    assert!(back.ejections > 0, "{back:?}");
    assert!(back.ejections <= 11, "{back:?}");
    assert!(w.failed <= 71, "{w:?}");
    assert_eq!(w.failed, w.failures["timeout"]);
    // Ejected about 1 s per 1.05 s cycle: about 3 of 4 replicas available.
    assert!(back.mean_available_replicas < 3.2, "{back:?}");
    assert!(back.mean_available_replicas >= 3.0, "{back:?}");
}

// ---------------------------------------------------------------------------
// 9. Latency and error faults: their fraction and probability.
// ---------------------------------------------------------------------------

/// Constant 10 ms work; a latency fault adds Exp(mean 20 ms) to a fraction
/// 0.25 of the work steps. Per request the extra X = B E, B ~ Bernoulli
/// (0.25), E ~ Exp(20): E[X] = 5 ms, E[X^2] = 0.25 * 2 * 20^2 = 200,
/// Var[X] = 175 ms^2. Ample workers, so the latency is 10 + X: the mean
/// is within 5 sqrt(175 / n) ms of 15 ms, and since 75% of the requests
/// are not slowed at all, the median is 10 ms (within the histogram's
/// 0.1%).
///
/// Errors with probability 0.2: the failed fraction is within
/// 5 sqrt(0.2 * 0.8 / n) of 0.2.
#[test]
fn latency_fraction_and_error_probability_match() {
    let s = summary(
        r#"
        [simulation]
        duration = "10s"
        [services.lat]
        concurrency = 1000
        [services.lat.endpoints.e]
        work = "10ms"
        [services.err]
        concurrency = 1000
        [services.err.endpoints.e]
        work = "1ms"
        [[faults]]
        kind = "latency"
        service = "lat"
        extra = { dist = "exponential", mean = "20ms" }
        fraction = 0.25
        at = "0s"
        [[faults]]
        kind = "errors"
        service = "err"
        endpoint = "e"
        probability = 0.2
        at = "0s"
        [[workloads]]
        name = "slow"
        target = "lat.e"
        arrival = { process = "poisson", rate = 400 }
        [[workloads]]
        name = "flaky"
        target = "err.e"
        arrival = { process = "poisson", rate = 400 }
        "#,
    );
    let w = &s.workloads["slow"];
    let n = w.ok as f64;
    assert_eq!(w.failed, 0);
    let l = w.latency_ms.as_ref().unwrap();
    let tol = 5.0 * (175.0 / n).sqrt();
    assert!(
        (l.mean - 15.0).abs() < tol,
        "mean {} n {n} tol {tol}",
        l.mean
    );
    assert!((l.p50 - 10.0).abs() <= 0.01, "{l:?}");

    let w = &s.workloads["flaky"];
    let n = (w.ok + w.failed) as f64;
    let p = w.failed as f64 / n;
    let tol = 5.0 * (0.2f64 * 0.8 / n).sqrt();
    assert!(
        (p - 0.2).abs() < tol,
        "failed fraction {p}, n {n}, tol {tol}"
    );
    assert_eq!(w.failed, w.failures["injected_error"]);
    assert_eq!(w.failed, s.services["err"].injected_errors);
}

// ---------------------------------------------------------------------------
// 10. Partitions: reject fails at once, drop waits for the timeout.
// ---------------------------------------------------------------------------

fn partition_scenario(mode: &str) -> String {
    format!(
        r#"
        [simulation]
        duration = "10s"
        [network]
        latency = "2ms"
        [services.front]
        concurrency = 100
        [services.front.endpoints.page]
        steps = [ {{ work = "1ms" }}, {{ call = "back.op", timeout = "100ms", optional = true }} ]
        [services.back]
        concurrency = 100
        [services.back.endpoints.op]
        work = "5ms"
        [[faults]]
        kind = "partition"
        from = "front"
        to = "back"
        mode = "{mode}"
        at = "2s"
        duration = "2s"
        [[workloads]]
        name = "w"
        target = "front.page"
        arrival = {{ process = "constant", rate = 100 }}
        "#
    )
}

/// Constant 100/s (999 requests): a request issued at t calls at t + 1 ms,
/// so the 200 issued at 2.00 .. 3.99 s call across the partition. A good
/// request takes 1 + 2 + 5 + 2 = 10 ms (the last one, of 9.99 s, would end
/// at the end instant, which the run does not cover: 798 ok). Reject: the call fails at once
/// with connection_failed and the request ends degraded after 1 ms. Drop:
/// the call is lost and times out: degraded after 1 + 100 ms. Either way
/// Back never sees those calls.
#[test]
fn partition_reject_fails_fast_and_drop_times_out() {
    let s = summary(&partition_scenario("reject"));
    let w = &s.workloads["w"];
    let d = &s.dependencies["front->back"];
    assert_eq!((w.ok, w.degraded, w.failed, w.in_flight), (798, 200, 0, 1));
    assert_eq!(
        (d.failures["connection_failed"], d.failures["timeout"]),
        (200, 0)
    );
    assert_eq!(s.services["back"].requests, 799);
    let l = w.latency_ms.as_ref().unwrap();
    let mean = (798.0 * 10.0 + 200.0 * 1.0) / 998.0;
    assert!((l.mean - mean).abs() < 1e-9, "{l:?}");
    assert_eq!(l.max, 10.0);
    let during = &s.faults[0].blast_radius["w"].during;
    assert!(during.p99_ms.unwrap() <= 1.01, "{during:?}");

    let s = summary(&partition_scenario("drop"));
    let w = &s.workloads["w"];
    let d = &s.dependencies["front->back"];
    assert_eq!((w.ok, w.degraded, w.failed, w.in_flight), (798, 200, 0, 1));
    assert_eq!(
        (d.failures["connection_failed"], d.failures["timeout"]),
        (0, 200)
    );
    assert_eq!(s.services["back"].requests, 799);
    let l = w.latency_ms.as_ref().unwrap();
    let mean = (798.0 * 10.0 + 200.0 * 101.0) / 998.0;
    assert!((l.mean - mean).abs() < 1e-9, "{l:?}");
    assert_eq!(l.max, 101.0);
    let during = &s.faults[0].blast_radius["w"].during;
    assert!(during.p50_ms.unwrap() >= 100.0, "{during:?}");
}

// ---------------------------------------------------------------------------
// 11. Degraded outcomes.
// ---------------------------------------------------------------------------

/// Front calls a failing recommendation service (errors, p = 1) and a
/// healthy stock service. `soft` makes the failing call optional through
/// a named policy, `mixed` adds `optional` to a named policy that lacks it,
/// `hard` makes it under the same policy without. Optional failures end
/// the request degraded: available, never failed.
#[test]
fn optional_call_failures_degrade_instead_of_failing() {
    let r = run(r#"
        [simulation]
        duration = "10s"
        window = "1s"
        [policies.soft]
        timeout = "50ms"
        optional = true
        [policies.plain]
        timeout = "50ms"
        [services.front]
        concurrency = 100
        [services.front.endpoints.soft]
        steps = [ { call = "reco.get", policy = "soft" }, { call = "stock.get" } ]
        [services.front.endpoints.mixed]
        steps = [ { call = "reco.get", policy = "plain", optional = true }, { call = "stock.get" } ]
        [services.front.endpoints.hard]
        steps = [ { call = "reco.get", policy = "plain" }, { call = "stock.get" } ]
        [services.reco]
        concurrency = 100
        [services.reco.endpoints.get]
        work = "1ms"
        [services.stock]
        concurrency = 100
        [services.stock.endpoints.get]
        work = "1ms"
        [[faults]]
        kind = "errors"
        service = "reco"
        probability = 1.0
        at = "0s"
        [[workloads]]
        name = "soft"
        target = "front.soft"
        arrival = { process = "constant", rate = 100 }
        [[workloads]]
        name = "mixed"
        target = "front.mixed"
        arrival = { process = "constant", rate = 100 }
        [[workloads]]
        name = "hard"
        target = "front.hard"
        arrival = { process = "constant", rate = 100 }
        "#);
    let s = &r.summary;
    for name in ["soft", "mixed"] {
        let w = &s.workloads[name];
        assert_eq!((w.ok, w.degraded, w.failed), (0, 999, 0), "{name}: {w:?}");
        assert_eq!(w.availability, Some(1.0), "{name}");
        assert!((w.throughput_rps - 99.9).abs() < 1e-9, "{name}: {w:?}");
        // The request goes on after the failed optional call.
        assert_eq!(w.latency_ms.as_ref().unwrap().max, 2.0, "{name}");
        let degraded: u64 = windows(&r, name).iter().map(|w| w.degraded).sum();
        assert_eq!(degraded, 999, "{name}");
    }
    let w = &s.workloads["hard"];
    assert_eq!((w.ok, w.degraded, w.failed), (0, 0, 999));
    assert_eq!(w.failures["injected_error"], 999);
    assert_eq!(w.availability, Some(0.0));

    let soft = &s.dependencies["front->reco (policy soft)"];
    assert_eq!((soft.calls, soft.failed, soft.fallbacks), (999, 999, 999));
    let plain = &s.dependencies["front->reco (policy plain)"];
    assert_eq!(
        (plain.calls, plain.failed, plain.fallbacks),
        (1998, 1998, 999)
    );
    // Stock is called by the degraded requests, not by the failed ones.
    assert_eq!(s.dependencies["front->stock"].ok, 1998);
}

// ---------------------------------------------------------------------------
// 12. Wasted work.
// ---------------------------------------------------------------------------

/// Back works Uniform(30, 70 ms) and its caller times out after 20 ms (no
/// network): every call is abandoned and all of Back's work is wasted.
/// Constant 50/s: 499 calls, of which those issued up to 9.96 s time out
/// before the end (498); only those issued in the last 70 ms (9.94 s on)
/// may still be running at the end, so 496 to 499 are abandoned. Each abandoned call's work is in
/// [30, 70] ms; its mean is 50 ms with sd 40/sqrt(12) ms, so the mean over
/// n abandoned calls is within 5 * 11.55 / sqrt(n) ms of 50 ms. Back's
/// busy time is exactly that work plus the unfinished calls' part.
#[test]
fn timed_out_callees_keep_working_for_nobody() {
    let s = summary(
        r#"
        [simulation]
        duration = "10s"
        [services.front]
        concurrency = 100
        [services.front.endpoints.page]
        steps = [ { call = "back.op", timeout = "20ms" } ]
        [services.back]
        concurrency = 100
        [services.back.endpoints.op]
        work = { dist = "uniform", min = "30ms", max = "70ms" }
        [[workloads]]
        name = "w"
        target = "front.page"
        arrival = { process = "constant", rate = 50 }
        "#,
    );
    let w = &s.workloads["w"];
    assert_eq!(
        (w.requests, w.failures["timeout"], w.in_flight),
        (499, 498, 1)
    );
    let back = &s.services["back"];
    assert!(back.abandoned >= 496 && back.abandoned <= 498, "{back:?}");
    let n = back.abandoned as f64;
    let wasted = back.wasted_work_seconds;
    assert!(wasted >= 0.030 * n && wasted <= 0.070 * n, "{back:?}");
    let mean_ms = wasted / n * 1e3;
    let tol = 5.0 * 40.0 / 12f64.sqrt() / n.sqrt();
    assert!(
        (mean_ms - 50.0).abs() < tol,
        "mean wasted {mean_ms} ms, tol {tol}"
    );
    let busy = back.mean_busy_workers * s.measured_seconds;
    assert!(
        wasted <= busy + 1e-9 && busy - wasted <= 4.0 * 0.070,
        "{busy} {wasted}"
    );
}

/// A crash of the caller orphans its calls: Order (async, no network)
/// calls payment.charge (50 ms) for each request at 100/s; Order crashes
/// at 3.005 s for 1 s. The calls of 2.96 .. 3.00 s are then on Payment
/// (the one of 2.95 s ended at 3.00 s); their callers die with Order, and
/// Payment finishes them for nobody. The 100 requests issued while Order
/// is down (3.01 .. 4.00 s) fail at once at the edge.
#[test]
fn a_crashed_caller_orphans_its_calls() {
    let s = summary(
        r#"
        [simulation]
        duration = "5s"
        [services.order]
        io = "async"
        concurrency = 100
        [services.order.endpoints.place]
        steps = [ { call = "payment.charge" } ]
        [services.payment]
        concurrency = 100
        [services.payment.endpoints.charge]
        work = "50ms"
        [[faults]]
        kind = "crash"
        service = "order"
        at = "3005ms"
        duration = "1s"
        [[workloads]]
        name = "w"
        target = "order.place"
        arrival = { process = "constant", rate = 100 }
        "#,
    );
    let p = &s.services["payment"];
    // In flight on Payment at 3.005 s: the calls of 2.96, 2.97, 2.98,
    // 2.99 and 3.00 s, each 50 ms of wasted work.
    assert_eq!(p.abandoned, 5, "{p:?}");
    assert!((p.wasted_work_seconds - 0.25).abs() < 1e-9, "{p:?}");
    let o = &s.services["order"];
    assert_eq!(o.lost_in_crashes, 5, "{o:?}");
    assert_eq!(s.workloads["w"].failures["connection_failed"], 5 + 100);
}

// ---------------------------------------------------------------------------
// Outlier detection counts only what callers saw from a replica.
// ---------------------------------------------------------------------------

/// One request (at 0.5 s) calls back.op; its only attempt-1 failure comes
/// from replica 0 (errors, p = 1) and opens the breaker (min_calls = 1);
/// the retry fails fast with circuit_open without reaching any replica.
/// Replica 0 was seen failing once, fewer than consecutive_failures = 2:
/// it must not be ejected.
#[test]

fn fast_failed_retries_are_not_blamed_on_the_last_replica() {
    let s = summary(
        r#"
        [simulation]
        duration = "1s"
        [services.front.endpoints.page]
        steps = [ { call = "back.op", retries = { attempts = 2 }, circuit_breaker = { failure_rate = 0.5, window = "1s", min_calls = 1, open_for = "10s" } } ]
        [services.back]
        replicas = 2
        outlier_ejection = { consecutive_failures = 2, eject_for = "10s", max_ejected = 0.5 }
        [services.back.endpoints.op]
        work = "1ms"
        [[faults]]
        kind = "errors"
        service = "back"
        probability = 1.0
        at = "0s"
        [[workloads]]
        name = "w"
        target = "front.page"
        arrival = { process = "constant", rate = 2 }
        "#,
    );
    let d = &s.dependencies["front->back"];
    assert_eq!(
        (d.calls, d.attempts, d.failures["circuit_open"]),
        (1, 2, 1),
        "{d:?}"
    );
    assert_eq!(s.services["back"].requests, 1);
    assert_eq!(s.services["back"].ejections, 0, "{:?}", s.services["back"]);
}

/// Same with a partition (reject) on the retry: attempt 1 fails at
/// replica 0 with an injected error at 0.5 s + 1 ms; a partition from
/// 0.5005 s refuses the retry before it reaches any replica.
#[test]

fn partitioned_retries_are_not_blamed_on_the_last_replica() {
    let s = summary(
        r#"
        [simulation]
        duration = "1s"
        [services.front.endpoints.page]
        steps = [ { call = "back.op", retries = { attempts = 2 } } ]
        [services.back]
        replicas = 2
        outlier_ejection = { consecutive_failures = 2, eject_for = "10s", max_ejected = 0.5 }
        [services.back.endpoints.op]
        work = "1ms"
        [[faults]]
        kind = "errors"
        service = "back"
        probability = 1.0
        at = "0s"
        [[faults]]
        kind = "partition"
        from = "front"
        to = "back"
        at = "500500us"
        [[workloads]]
        name = "w"
        target = "front.page"
        arrival = { process = "constant", rate = 2 }
        "#,
    );
    let d = &s.dependencies["front->back"];
    assert_eq!(
        (d.calls, d.attempts, d.failures["connection_failed"]),
        (1, 2, 1),
        "{d:?}"
    );
    assert_eq!(s.services["back"].requests, 1);
    assert_eq!(s.services["back"].ejections, 0, "{:?}", s.services["back"]);
}

/// A call abandoned by its caller (10 ms timeout) and lost in a crash of
/// its callee halfway through its 100 ms of work: it never finished, and
/// only 50 ms of work were spent on it.
#[test]

fn work_lost_in_a_crash_is_not_counted_as_finished_wasted_work() {
    let s = summary(
        r#"
        [simulation]
        duration = "2s"
        [services.front.endpoints.page]
        steps = [ { call = "back.op", timeout = "10ms" } ]
        [services.back.endpoints.op]
        work = "100ms"
        [[faults]]
        kind = "crash"
        service = "back"
        at = "550ms"
        duration = "100ms"
        [[workloads]]
        name = "w"
        target = "front.page"
        arrival = { process = "constant", rate = 2, schedule = [ { at = "600ms", rate = 0 } ] }
        "#,
    );
    let back = &s.services["back"];
    assert_eq!(back.lost_in_crashes, 1, "{back:?}");
    // Back's worker was busy 0.5 .. 0.55 s: 50 ms in all. Wasted work is
    // part of the worker time, so it cannot be more.
    let busy = back.mean_busy_workers * s.measured_seconds;
    assert!((busy - 0.050).abs() < 1e-9, "{back:?}");
    assert!(back.wasted_work_seconds <= busy + 1e-9, "{back:?}");
    assert_eq!(back.completed, 0);
}

/// Work is wasted all the way down a chain: front calls mid with a 10 ms
/// timeout, mid (which works 1 ms) calls back, which works 40 ms. Every
/// front call times out at 10 ms while back is still working; mid and back
/// both finish later for nobody. Constant times, no network, one request
/// per 100 ms (no overlap): each of the 99 measured-and-finished requests
/// wastes exactly 1 ms of mid's work and 40 ms of back's.
#[test]
fn wasted_work_is_counted_down_the_call_chain() {
    let s = summary(
        r#"
        [simulation]
        duration = "10s"
        [services.front.endpoints.page]
        steps = [ { call = "mid.op", timeout = "10ms" } ]
        [services.mid.endpoints.op]
        steps = [ { work = "1ms" }, { call = "back.op" } ]
        [services.back.endpoints.op]
        work = "40ms"
        [[workloads]]
        name = "w"
        target = "front.page"
        arrival = { process = "constant", rate = 10 }
        "#,
    );
    assert_eq!(
        s.workloads["w"].failures["timeout"],
        s.workloads["w"].failed
    );
    let (mid, back) = (&s.services["mid"], &s.services["back"]);
    assert_eq!(mid.abandoned, back.abandoned, "{mid:?} {back:?}");
    assert!(back.abandoned >= 98, "{back:?}");
    let n = back.abandoned as f64;
    assert!(
        (mid.wasted_work_seconds - 0.001 * n).abs() < 1e-9,
        "{mid:?}"
    );
    assert!(
        (back.wasted_work_seconds - 0.040 * n).abs() < 1e-9,
        "{back:?}"
    );
    assert_eq!(s.services["front"].abandoned, 0);
}

/// A `circuit_open` that comes back over the network from further down is
/// a failure of the callee for the caller's own breaker, not a fast-fail of
/// its own: a -> b -> c, each call behind a breaker (a's opens for 500 ms,
/// b's for 3 s), c fails everything from 2 s to 3 s. b's breaker then
/// answers a with circuit_open until about 3.1 s + 3 s; a's breaker must
/// keep probing (its half-open trial's answer counts) and close once b's
/// does, so the run ends healthy. (A trial whose answer was ignored used to
/// leave a's breaker half-open for good: every later request failed.)
#[test]
fn a_breaker_recovers_when_the_failure_was_a_downstream_breaker() {
    let r = run(r#"
        [simulation]
        duration = "20s"
        [services.a]
        concurrency = 100
        [services.a.endpoints.e]
        steps = [ { call = "b.e", circuit_breaker = { failure_rate = 0.5, window = "1s", min_calls = 5, open_for = "500ms", half_open_calls = 1 } } ]
        [services.b]
        concurrency = 100
        [services.b.endpoints.e]
        steps = [ { call = "c.e", circuit_breaker = { failure_rate = 0.5, window = "1s", min_calls = 5, open_for = "3s", half_open_calls = 1 } } ]
        [services.c]
        concurrency = 100
        [services.c.endpoints.e]
        work = "1ms"
        [[workloads]]
        name = "w"
        target = "a.e"
        arrival = { process = "constant", rate = 100 }
        [[faults]]
        kind = "errors"
        service = "c"
        probability = 1.0
        at = "2s"
        duration = "1s"
        "#);
    let ab = &r.summary.dependencies["a->b"];
    assert!(
        ab.breaker_opens >= 2,
        "a's breaker reopened while b's was open: {ab:?}"
    );
    assert_eq!(
        ab.breaker_state_changes,
        2 * ab.breaker_opens + 1,
        "open -> half-open pairs, then one close: {ab:?}"
    );
    // b's breaker closes by about 3.1 + 3 + 0.5 s; a's within one more
    // open_for. From 8 s on every request succeeds.
    for w in windows(&r, "w").iter().filter(|w| w.start_s >= 8.0) {
        assert_eq!((w.failed, w.ok), (0, w.requests), "{w:?}");
    }
}

/// The blast radius sees requests that never come back, and says when it
/// has nothing to compare with. (1) A drop-mode crash of b for 1 s with no
/// timeout: the 100 requests issued meanwhile hang for good, so none of
/// them completes; they must show as issued but unanswered, and the fault
/// as making w less available. (2) An errors fault over the whole run
/// leaves no request outside a fault: the verdict is "no baseline".
#[test]
fn the_blast_radius_counts_hung_requests_and_needs_a_baseline() {
    let hang = summary(
        r#"
        [simulation]
        duration = "10s"
        [services.a]
        concurrency = 10000
        io = "async"
        [services.a.endpoints.e]
        steps = [ { call = "b.e" } ]
        [services.b]
        concurrency = 100
        [services.b.endpoints.e]
        work = "1ms"
        [[workloads]]
        name = "w"
        target = "a.e"
        arrival = { process = "constant", rate = 100 }
        [[faults]]
        kind = "crash"
        service = "b"
        at = "2s"
        duration = "1s"
        mode = "drop"
        "#,
    );
    let row = &hang.faults[0].blast_radius["w"];
    assert_eq!(
        (
            row.during.issued,
            row.during.unfinished,
            row.during.completed
        ),
        (100, 100, 0),
        "{row:?}"
    );
    assert_eq!(row.impact, "less available");
    assert_eq!(hang.workloads["w"].in_flight, 100);
    let base = hang.workloads["w"].outside_faults.as_ref().unwrap();
    assert_eq!((base.unfinished, base.availability), (0, Some(1.0)));

    let always = summary(
        r#"
        [simulation]
        duration = "5s"
        [services.a.endpoints.e]
        work = "1ms"
        [[workloads]]
        name = "w"
        target = "a.e"
        arrival = { process = "constant", rate = 100 }
        [[faults]]
        kind = "errors"
        service = "a"
        probability = 1.0
        at = "0s"
        "#,
    );
    let row = &always.faults[0].blast_radius["w"];
    assert_eq!(row.during.availability, Some(0.0));
    assert_eq!(row.impact, "no baseline");
    assert_eq!(row.availability_change, None);
}
