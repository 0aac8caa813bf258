//! The fault scenarios in scenarios/ (payment-outage, retry-storm,
//! gray-failure, partition) do what their comments say. Every claim is
//! checked against a baseline measured in the same test: the requests
//! issued outside the fault, the time-series windows before it, or the
//! same scenario with a `--set` variant.

use microsim::metrics::{FaultSummary, PeriodSummary, RunResult, ServiceWindow, Summary};

use super::common::run_bundled as run;

/// A workload's time-series windows lying inside [from, to), added up.
/// Requests count by arrival, ok/degraded/failed by completion.
#[derive(Debug, Default)]
struct Span {
    windows: usize,
    seconds: f64,
    requests: u64,
    ok: u64,
    degraded: u64,
    failed: u64,
}

impl Span {
    fn availability(&self) -> f64 {
        let done = self.ok + self.degraded + self.failed;
        assert!(done > 0, "no request completed in {self:?}");
        (self.ok + self.degraded) as f64 / done as f64
    }

    /// Successful requests per second.
    fn throughput(&self) -> f64 {
        (self.ok + self.degraded) as f64 / self.seconds
    }
}

fn span(r: &RunResult, workload: &str, from: f64, to: f64) -> Span {
    let mut s = Span::default();
    for w in &r.timeseries.workloads {
        if w.workload == workload && w.start_s >= from && w.end_s <= to {
            s.windows += 1;
            s.seconds += w.end_s - w.start_s;
            s.requests += w.requests;
            s.ok += w.ok;
            s.degraded += w.degraded;
            s.failed += w.failed;
        }
    }
    assert!(s.windows > 0, "no {workload} window in [{from}, {to})");
    s
}

/// A service's time-series windows lying inside [from, to) (at least one).
fn service_windows<'r>(
    r: &'r RunResult,
    service: &str,
    from: f64,
    to: f64,
) -> Vec<&'r ServiceWindow> {
    let rows: Vec<_> = r
        .timeseries
        .services
        .iter()
        .filter(|w| w.service == service && w.start_s >= from && w.end_s <= to)
        .collect();
    assert!(!rows.is_empty(), "no {service} window in [{from}, {to})");
    rows
}

/// The requests of `workload` issued while fault `f` was in effect.
fn during<'s>(s: &'s Summary, f: usize, workload: &str) -> &'s PeriodSummary {
    &s.faults[f].blast_radius[workload].during
}

fn outside<'s>(s: &'s Summary, workload: &str) -> &'s PeriodSummary {
    s.workloads[workload]
        .outside_faults
        .as_ref()
        .expect("the scenario has faults")
}

/// The failure causes with a nonzero count.
fn causes(failures: &indexmap::IndexMap<String, u64>) -> Vec<(&str, u64)> {
    failures
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(c, &n)| (c.as_str(), n))
        .collect()
}

fn window(f: &FaultSummary) -> (f64, f64, f64) {
    (f.start_s, f.end_s, f.effect_end_s)
}

// ---------------------------------------------------------------------
// payment-outage.toml

/// Checkout fails for the whole outage (crash plus startup), only with
/// `connection_failed`; profile, which never touches payment, is
/// unaffected; the blast radius says so.
#[test]
fn payment_outage_takes_down_checkout_only() {
    let r = run("payment-outage.toml", &[]);
    let s = &r.summary;
    let f = &s.faults[0];
    // The outage is 2m..3m, and the 20s startup extends its effect.
    assert_eq!(window(f), (120.0, 180.0, 200.0));
    assert_eq!(f.crashes, 2, "both replicas crash");
    assert_eq!(s.services["payment"].crashes, 2);

    // Checkout needs payment: nothing issued during the outage can succeed.
    // Outside it, only the few requests whose payment call was in flight at
    // the crash fail (well under 0.1% of some 28,000).
    let (co_in, co_out) = (during(s, 0, "checkout"), outside(s, "checkout"));
    assert!(co_in.completed > 10_000, "{co_in:?}");
    assert_eq!(co_in.ok + co_in.degraded, 0, "{co_in:?}");
    assert!(co_out.availability.unwrap() > 0.999, "{co_out:?}");
    let blast = &f.blast_radius["checkout"];
    assert_eq!(blast.impact, "less available");
    assert!(blast.availability_change.unwrap() < -0.99, "{blast:?}");
    let checkout = &s.workloads["checkout"];
    assert_eq!(
        causes(&checkout.failures),
        vec![("connection_failed", checkout.failed)],
        "a reject-mode crash refuses connections"
    );
    // Those outside failures were caught in flight by the crash: a
    // checkout takes tens of milliseconds, so they were issued in the last
    // second before it.
    assert!(s.services["payment"].lost_in_crashes > 0);
    let last_second = span(&r, "checkout", 119.0, 120.0).requests;
    assert!(
        co_out.failed > 0 && co_out.failed <= last_second,
        "{co_out:?} vs {last_second} issued in the last second"
    );

    // Profile shares the user service with checkout but not payment.
    let profile = &s.workloads["profile"];
    assert_eq!(profile.failed, 0);
    let blast = &f.blast_radius["profile"];
    assert_eq!(blast.impact, "unaffected", "{blast:?}");
    let (p_in, p_out) = (during(s, 0, "profile"), outside(s, "profile"));
    assert_eq!(p_in.availability, Some(1.0));
    // "unaffected" means p99 moved less than 10%.
    assert!(
        (p_in.p99_ms.unwrap() / p_out.p99_ms.unwrap() - 1.0).abs() < 0.1,
        "profile p99 during {p_in:?} vs outside {p_out:?}"
    );

    // The time series: payment has no replica to offer from the crash to
    // the end of the startup, and checkout succeeds nowhere in between
    // (the first window after the crash may still finish requests issued
    // before it); before and after, nothing fails.
    for w in service_windows(&r, "payment", 120.0, 200.0) {
        assert_eq!(w.available_replicas, 0.0, "{w:?}");
    }
    for w in service_windows(&r, "payment", 200.0, 300.0) {
        assert_eq!(w.available_replicas, 2.0, "{w:?}");
    }
    let out = span(&r, "checkout", 121.0, 200.0);
    assert_eq!(out.ok + out.degraded, 0, "{out:?}");
    assert!(out.failed as f64 > 0.9 * out.requests as f64, "{out:?}");
    for (from, to) in [(30.0, 120.0), (201.0, 300.0)] {
        let ok = span(&r, "checkout", from, to);
        assert_eq!(ok.failed, 0, "[{from}, {to}): {ok:?}");
    }
}

/// Without the startup time the outage ends with the crash: the extra
/// failures with startup are the checkouts issued during those 20s.
#[test]
fn payment_outage_startup_extends_the_outage() {
    let with = run("payment-outage.toml", &[]);
    let without = run("payment-outage.toml", &["services.payment.startup=0s"]);
    assert_eq!(window(&without.summary.faults[0]), (120.0, 180.0, 180.0));
    let extra = with.summary.workloads["checkout"].failed as f64
        - without.summary.workloads["checkout"].failed as f64;
    // Arrivals have their own random stream, so both runs see the same
    // checkouts; those issued in [180s, 200s) fail in one run and not in
    // the other, give or take the few in flight at the two edges (2%
    // of about 3,000 is 60 requests, many times the edge effects).
    let issued = span(&with, "checkout", 180.0, 200.0).requests as f64;
    assert!(
        (extra - issued).abs() < 0.02 * issued,
        "extra failures {extra} vs checkouts issued during startup {issued}"
    );
}

/// In drop mode each checkout holds an order worker for its 1s timeout:
/// at most 48 time out per second and the rest back up in order's queue,
/// to fail with connection_failed while payment starts up; profile is
/// still unaffected.
#[test]
fn payment_outage_in_drop_mode_backs_up_order() {
    let reject = run("payment-outage.toml", &[]).summary;
    let drop = run("payment-outage.toml", &["faults.0.mode=drop"]).summary;
    let w = &drop.workloads["checkout"];
    let timeouts = w.failures["timeout"];
    let workers = f64::from(drop.services["order"].replicas * drop.services["order"].concurrency);
    let crash_s = drop.faults[0].end_s - drop.faults[0].start_s;
    // Each timeout holds a worker for 1s: workers x crash seconds at most
    // (plus one round in flight at the end), and order is saturated, so
    // not much less (10% slack).
    assert!(
        (timeouts as f64) <= workers * (crash_s + 1.0)
            && timeouts as f64 >= 0.9 * workers * crash_s,
        "timeouts {timeouts} vs {workers} workers x {crash_s}s"
    );
    assert!(w.failures["connection_failed"] > 0, "{:?}", w.failures);
    assert_eq!(w.failed, timeouts + w.failures["connection_failed"]);
    // Refused calls fail at once and order keeps up; silent ones back up
    // by about 100 requests a second for a minute (150 rps arriving, 48
    // leaving), so its mean queue over the run is in the hundreds.
    let (q_drop, q_reject) = (
        drop.services["order"].mean_queue_length,
        reject.services["order"].mean_queue_length,
    );
    assert!(
        q_drop > 100.0 && q_reject < 1.0,
        "order queue: drop {q_drop}, reject {q_reject}"
    );
    assert_eq!(drop.workloads["profile"].failed, 0);
    assert_eq!(drop.faults[0].blast_radius["profile"].impact, "unaffected");
}

// ---------------------------------------------------------------------
// retry-storm.toml

const STORM: &str = "retry-storm.toml";
const POLICY: &str = "services.api.endpoints.search.steps.1.policy";
/// The scenario's own seed and another.
const STORM_SEEDS: [&str; 2] = ["simulation.seed=5", "simulation.seed=1"];

/// Search before the spike (after the warm-up) and from `settle` seconds
/// after it ends to the end of the run.
fn before_after(r: &RunResult, settle: f64) -> (Span, Span) {
    let f = &r.summary.faults[0];
    let before = span(r, "search", r.summary.warmup_seconds, f.start_s);
    let after = span(r, "search", f.end_s + settle, r.summary.simulated_seconds);
    (before, after)
}

/// Aggressive retries keep the system down long after the spike: search
/// fails throughout, the db is fully busy with work nobody waits for, and
/// it receives over 3 calls per first attempt. Without the spike the same
/// system is healthy.
#[test]
fn retry_storm_aggressive_retries_sustain_the_overload() {
    for seed in STORM_SEEDS {
        let r = run(STORM, &[seed]);
        let s = &r.summary;
        let (before, after) = before_after(&r, 10.0);
        assert!(before.availability() > 0.99, "{seed}: before {before:?}");
        // Metastable: ten seconds after the db is fast again, and for the
        // remaining 2.5 minutes, almost nothing succeeds (0 in practice).
        assert!(after.availability() < 0.05, "{seed}: after {after:?}");
        assert!(
            after.throughput() < 0.05 * before.throughput(),
            "{seed}: throughput after {} vs before {}",
            after.throughput(),
            before.throughput()
        );
        let db = &s.services["db"];
        // 1.0 without retries, at most 5 (the attempts); about 4.4 here.
        let amp = db.retry_amplification.unwrap();
        assert!(amp > 3.0, "{seed}: retry amplification {amp}");
        let f = &s.faults[0];
        for w in service_windows(&r, "db", f.end_s + 10.0, s.simulated_seconds) {
            assert!(w.utilization > 0.95, "{seed}: db not saturated: {w:?}");
        }
        // The db is busy, but mostly for callers that gave up: at least
        // half of its worker time after the spike is wasted.
        let workers = f64::from(db.replicas * db.concurrency);
        assert!(
            db.wasted_work_seconds > 0.5 * workers * (s.simulated_seconds - f.end_s),
            "{seed}: wasted {}s",
            db.wasted_work_seconds
        );
        let dep = &s.dependencies["api->db"];
        assert_eq!(dep.policy.as_deref(), Some("aggressive"));
        assert_eq!(dep.retries_denied_by_budget, 0);
        assert_eq!(dep.breaker_opens, 0);

        // The same system without the spike: no failures at half load.
        let calm = run(STORM, &[seed, "faults=[]"]).summary;
        let w = &calm.workloads["search"];
        assert_eq!(w.failed, 0, "{seed}: {:?}", w.failures);
        let db = &calm.services["db"];
        assert!(db.retry_amplification.unwrap() < 1.01, "{seed}: {db:?}");
        // Busy as the capacity table predicts (50%), within 10% (the
        // estimate is exact in the mean; this is about 84,000 queries).
        let planned = calm.capacity.iter().find(|c| c.service == "db").unwrap();
        assert!(
            (db.utilization / planned.utilization - 1.0).abs() < 0.1,
            "{seed}: db busy {} vs capacity estimate {}",
            db.utilization,
            planned.utilization
        );
    }
}

/// The guarded policy (backoff, budget, breaker) fails requests during the
/// spike but is back to baseline availability and throughput right after;
/// so is a plain timeout without retries.
#[test]
fn retry_storm_guarded_retries_recover() {
    for seed in STORM_SEEDS {
        let guarded_set = format!("{POLICY}=guarded");
        let r = run(STORM, &[seed, &guarded_set]);
        let s = &r.summary;
        assert!(
            during(s, 0, "search").failed > 0,
            "{seed}: the spike still hurts"
        );
        // Two seconds after the spike: the breaker's 2s open period ends
        // within that and its trial calls close it again.
        let (before, after) = before_after(&r, 2.0);
        assert!(before.availability() > 0.99, "{seed}: before {before:?}");
        assert!(after.availability() > 0.99, "{seed}: after {after:?}");
        // About 12,000 successes before and 60,000 after: Poisson noise is
        // about 1%, so 5% is a real difference.
        let ratio = after.throughput() / before.throughput();
        assert!(
            (ratio - 1.0).abs() < 0.05,
            "{seed}: throughput ratio {ratio}"
        );
        let amp = s.services["db"].retry_amplification.unwrap();
        assert!(amp < 1.2, "{seed}: retry amplification {amp}");
        let dep = &s.dependencies["api->db"];
        assert_eq!(dep.policy.as_deref(), Some("guarded"));
        assert!(
            dep.retries_denied_by_budget > dep.retries,
            "{seed}: {dep:?}"
        );
        assert!(dep.breaker_opens > 0, "{seed}: {dep:?}");
        assert!(dep.failures["circuit_open"] > 0, "{seed}: {dep:?}");

        let timeout_set = format!("{POLICY}=timeout_only");
        let plain = run(STORM, &[seed, &timeout_set]);
        let (before, after) = before_after(&plain, 2.0);
        assert!(
            after.availability() > 0.99,
            "{seed}: timeout_only after {after:?}"
        );
        let ratio = after.throughput() / before.throughput();
        assert!(
            (ratio - 1.0).abs() < 0.05,
            "{seed}: timeout_only ratio {ratio}"
        );
        assert_eq!(plain.summary.services["db"].retry_amplification, Some(1.0));
    }
}

// ---------------------------------------------------------------------
// gray-failure.toml

const GRAY: &str = "gray-failure.toml";
const EJECTION: &str = r#"services.pricing.outlier_ejection={ consecutive_failures = 5, eject_for = "30s", max_ejected = 0.25 }"#;

/// Round robin keeps feeding the slow replica: p99 during the fault is at
/// least the 250ms timeout and some requests fail. Least outstanding
/// avoids it (much lower p99, still above normal); outlier ejection takes
/// it out (ejections, p99 near normal, availability up).
#[test]
fn gray_failure_balancers_and_ejection() {
    for seed in ["simulation.seed=3", "simulation.seed=1"] {
        let rr = run(GRAY, &[seed]).summary;
        let lo = run(GRAY, &[seed, "services.pricing.balancer=least_outstanding"]).summary;
        let ej = run(GRAY, &[seed, EJECTION]);
        let p99 = |s: &Summary| during(s, 0, "checkout").p99_ms.unwrap();
        let avail = |s: &Summary| during(s, 0, "checkout").availability.unwrap();
        let normal = outside(&rr, "checkout");

        // Round robin: a quarter of the calls wait out the timeout before
        // their retry, so p99 is at least the timeout (less HdrHistogram's
        // 1%), many times the normal p99 (about 32ms).
        assert!(p99(&rr) > 0.99 * 250.0, "{seed}: rr p99 {}", p99(&rr));
        assert!(
            normal.p99_ms.unwrap() < 0.25 * p99(&rr),
            "{seed}: {normal:?}"
        );
        assert!(
            avail(&rr) < normal.availability.unwrap() - 0.01,
            "{seed}: rr availability {} vs normal {normal:?}",
            avail(&rr)
        );
        assert_eq!(
            rr.faults[0].blast_radius["checkout"].impact,
            "less available, slower"
        );

        // Least outstanding: clearly lower p99 (0.66-0.69 of round robin's
        // in the seeds tried; 0.85 leaves room), still well above normal.
        assert!(
            p99(&lo) < 0.85 * p99(&rr),
            "{seed}: p99 least_outstanding {} vs round_robin {}",
            p99(&lo),
            p99(&rr)
        );
        assert!(p99(&lo) > 2.0 * outside(&lo, "checkout").p99_ms.unwrap());
        assert!(avail(&lo) > 0.999, "{seed}: lo availability {}", avail(&lo));
        assert_eq!(lo.services["pricing"].ejections, 0);

        // Outlier ejection: ejected, back after 30s, ejected again: at
        // least 3 ejections in the 2 minutes.
        let es = &ej.summary;
        let ejections = es.services["pricing"].ejections;
        assert!(ejections >= 3, "{seed}: {ejections} ejections");
        assert!(
            avail(es) > avail(&rr),
            "{seed}: availability {} vs rr {}",
            avail(es),
            avail(&rr)
        );
        assert!(avail(es) > 0.999, "{seed}: availability {}", avail(es));
        // p99 within 25% of normal (observed within 10%), and less than
        // half of round robin's.
        let normal = outside(es, "checkout").p99_ms.unwrap();
        assert!(
            p99(es) < 1.25 * normal,
            "{seed}: p99 {} vs normal {normal}",
            p99(es)
        );
        assert!(p99(es) < 0.5 * p99(&rr));
        // No replica is ejected before the slow-down, nor once the last
        // ejection (at most 30s long) has run out after it; during it, one
        // of the four is out nearly all the time, never more
        // (max_ejected = 0.25).
        let f = &es.faults[0];
        let healthy = service_windows(&ej, "pricing", 0.0, f.start_s)
            .into_iter()
            .chain(service_windows(
                &ej,
                "pricing",
                f.end_s + 31.0,
                es.simulated_seconds,
            ));
        for w in healthy {
            assert_eq!(w.available_replicas, 4.0, "{seed}: {w:?}");
        }
        let slow = service_windows(&ej, "pricing", f.start_s, f.end_s);
        for w in &slow {
            assert!(w.available_replicas >= 3.0, "{seed}: {w:?}");
        }
        let mean = slow.iter().map(|w| w.available_replicas).sum::<f64>() / slow.len() as f64;
        assert!(mean < 3.2, "{seed}: mean available replicas {mean}");
    }
}

// ---------------------------------------------------------------------
// partition.toml

/// The drop partition degrades checkout (stock check skipped after its
/// 200ms timeout) without failing it; the reject partition fails it at
/// once with connection_failed; stock, which calls inventory directly, is
/// unaffected by both; without faults nothing degrades or fails.
#[test]
fn partition_degrades_or_fails_checkout_only_during_the_faults() {
    let r = run("partition.toml", &[]);
    let s = &r.summary;
    let base = run("partition.toml", &["faults=[]"]).summary;
    let checkout = &s.workloads["checkout"];
    assert_eq!(
        (
            base.workloads["checkout"].degraded,
            base.workloads["checkout"].failed
        ),
        (0, 0)
    );
    assert_eq!(base.dependencies["order->inventory"].failed, 0);

    // Drop: every degraded request was issued during the first partition,
    // and every request issued then was degraded.
    let (drop, reject) = (&s.faults[0], &s.faults[1]);
    let d = during(s, 0, "checkout");
    assert!(d.degraded > 5_000, "{d:?}");
    assert_eq!((d.ok, d.failed, d.degraded), (0, 0, d.completed));
    assert_eq!(checkout.degraded, d.degraded);
    assert_eq!(outside(s, "checkout").degraded, 0);
    // Each waited out the 200ms timeout (less HdrHistogram's 1%).
    assert!(d.p50_ms.unwrap() > 0.99 * 200.0, "{d:?}");
    assert_eq!(drop.blast_radius["checkout"].impact, "slower");
    // The skipped calls: all timeouts, all fallbacks.
    let inv = &s.dependencies["order->inventory"];
    assert_eq!(causes(&inv.failures), vec![("timeout", d.degraded)]);
    assert_eq!(inv.fallbacks, d.degraded);
    // In the time series degraded requests complete only between the
    // start of the partition and a second after its end (the timeout is
    // 200ms); inside it, no stock check succeeds.
    for w in r
        .timeseries
        .workloads
        .iter()
        .filter(|w| w.workload == "checkout")
    {
        if w.degraded > 0 {
            assert!(
                w.start_s >= drop.start_s && w.end_s <= drop.end_s + 1.0,
                "{w:?}"
            );
        }
    }
    let inside = span(&r, "checkout", drop.start_s + 1.0, drop.end_s);
    assert_eq!(inside.ok, 0, "{inside:?}");
    assert!(inside.degraded > 0);
    // Inventory receives only stock's requests while cut off from order.
    let stock: Vec<u64> = r
        .timeseries
        .workloads
        .iter()
        .filter(|w| {
            w.workload == "stock" && w.start_s >= drop.start_s + 1.0 && w.end_s <= drop.end_s
        })
        .map(|w| w.requests)
        .collect();
    let inventory: Vec<u64> = service_windows(&r, "inventory", drop.start_s + 1.0, drop.end_s)
        .iter()
        .map(|w| w.requests)
        .collect();
    assert_eq!(inventory, stock);

    // Reject: every request issued during the second partition failed,
    // with connection_failed, and no other failed.
    let f = during(s, 1, "checkout");
    assert!(f.failed > 1_000, "{f:?}");
    assert_eq!((f.ok, f.degraded, f.failed), (0, 0, f.completed));
    assert_eq!(
        causes(&checkout.failures),
        vec![("connection_failed", f.failed)]
    );
    assert_eq!(outside(s, "checkout").failed, 0);
    assert_eq!(reject.blast_radius["checkout"].impact, "less available");
    // Refused before reaching payment.
    for w in service_windows(&r, "payment", reject.start_s + 1.0, reject.end_s) {
        assert_eq!(w.requests, 0, "{w:?}");
    }

    // Stock never notices.
    assert_eq!(s.workloads["stock"].failed, 0);
    for f in &s.faults {
        assert_eq!(f.blast_radius["stock"].impact, "unaffected", "{}", f.name);
    }
}

/// With the stock check required, the drop partition fails the same
/// checkouts by timeout that it degraded before.
#[test]
fn partition_without_the_optional_call_fails_by_timeout() {
    let optional = run("partition.toml", &[]).summary;
    let strict = run(
        "partition.toml",
        &["services.order.endpoints.place.steps.1.optional=false"],
    )
    .summary;
    let w = &strict.workloads["checkout"];
    assert_eq!(w.degraded, 0);
    let timeouts = w.failures["timeout"] as f64;
    let degraded = optional.workloads["checkout"].degraded as f64;
    // The same arrivals meet the same partition: the counts agree up to
    // requests at its edges (1% is about 90 requests; observed equal).
    assert!(
        (timeouts - degraded).abs() <= 0.01 * degraded,
        "timeouts {timeouts} vs degraded {degraded}"
    );
    assert_eq!(
        strict.faults[0].blast_radius["checkout"].impact,
        "less available"
    );
}
