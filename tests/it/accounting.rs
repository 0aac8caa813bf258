//! Exact bookkeeping on tiny deterministic scenarios whose every event can
//! be worked out by hand: async I/O's resume priority, and what the
//! warm-up does to service and workload counters.

use super::common::model;
use microsim::simulation;

/// An async service with one worker: each request works 2 ms, calls B
/// (1 ms, zero network), then works 2 ms more. Arrivals at 1, 2 and 3 ms.
///
/// By hand: r1 works 1–3 and calls B, freeing the worker for r2 (3–5); r3
/// arrives at 3 and queues. r1's reply comes at 4 and waits to resume. At 5
/// r2 calls B; the freed worker goes to the resumed r1 *before* the new r3
/// (5–7, r1 done: 6 ms). r2's reply came at 6, so at 7 it resumes ahead of
/// r3 again (7–9, done: 7 ms). r3 finally works 9–11, calls B (11–12) and
/// finishes its work 12–14 (11 ms). Mean 8 ms, max 11 ms. Were resumed
/// requests served in plain arrival order, r3 would start at 5 and the
/// latencies would be 8, 9 and 10 ms.
#[test]
fn async_continuations_go_before_new_requests() {
    let m = model(
        r#"
        [simulation]
        duration = "1s"
        [services.a]
        io = "async"
        [services.a.endpoints.e]
        steps = [ { work = "2ms" }, { call = "b.e" }, { work = "2ms" } ]
        [services.b]
        concurrency = 4
        [services.b.endpoints.e]
        work = "1ms"
        [[workloads]]
        name = "w"
        target = "a.e"
        arrival = { process = "constant", rate = 1000, schedule = [ { at = "3500us", rate = 0 } ] }
        "#,
    );
    let s = simulation::run(&m).unwrap().summary;
    let w = &s.workloads["w"];
    assert_eq!((w.requests, w.ok, w.failed), (3, 3, 0));
    let l = w.latency_ms.as_ref().unwrap();
    assert_eq!((l.mean, l.max), (8.0, 11.0));
    // A's worker was busy 1-3, 3-5, 5-7, 7-9, 9-11 and 12-14: 12 ms in 1 s.
    assert_eq!(s.services["a"].mean_busy_workers, 0.012);
}

/// Constant arrivals every 100 ms into a service that holds each request
/// 250 ms, measured after a 5 s warm-up of a 10 s run.
///
/// By hand: the measured period [5 s, 10 s) sees the arrivals at 5.0, 5.1,
/// ..., 9.9 s: 50 requests at the service and in the workload. Calls
/// completing in it are those that arrived in [4.75 s, 9.75 s): 50, two of
/// them admitted during the warm-up. The requests of 9.8 s and 9.9 s are
/// still running at the end (in flight), so 48 are ok. Busy workers
/// alternate between 3 and 2 every 50 ms: a mean of exactly 2.5, so
/// utilisation 0.25 of 10 workers.
#[test]
fn warmup_cuts_counters_where_the_documentation_says() {
    let m = model(
        r#"
        [simulation]
        duration = "10s"
        warmup = "5s"
        [services.s]
        concurrency = 10
        [services.s.endpoints.e]
        work = "250ms"
        [[workloads]]
        name = "w"
        target = "s.e"
        arrival = { process = "constant", rate = 10 }
        "#,
    );
    let s = simulation::run(&m).unwrap().summary;
    let w = &s.workloads["w"];
    assert_eq!((w.requests, w.ok, w.failed, w.in_flight), (50, 48, 0, 2));
    let svc = &s.services["s"];
    assert_eq!((svc.requests, svc.completed, svc.rejected), (50, 50, 0));
    assert_eq!(svc.mean_busy_workers, 2.5);
    assert_eq!(svc.utilization, 0.25);
    assert_eq!(w.latency_ms.as_ref().unwrap().max, 250.0);
}
