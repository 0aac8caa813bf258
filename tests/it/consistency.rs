//! Eventual consistency end to end, from TOML scenarios: the inconsistency
//! window of a data copy matches the configured latencies in a fault-free
//! run and is never shorter than the delivery path; stale reads rise while
//! the broker is down.

use super::common::*;
use super::messaging::{check_invariants, EVENTS, PUBLISH};
use microsim::metrics::messaging::CopySummary;
use microsim::metrics::RunResult;

fn copy(r: &RunResult) -> &CopySummary {
    &r.summary.messaging.as_ref().unwrap().copies["user-email@order"]
}

/// The events scenario without faults, with enough items that two writes
/// of one item never race (a newer write arriving first would shorten the
/// older one's window) and enough consumers that none waits for a slot.
const FAULT_FREE: [&str; 5] = [
    "faults.0.at=1h",
    "faults.1.at=1h",
    "data.user-email.keys=1000000",
    "services.order.subscriptions.user-updated.concurrency=64",
    "services.order.concurrency=64",
];

#[test]
fn the_window_mean_matches_the_configured_latencies() {
    for publish in ["ack=true", "outbox=true", "ack=false"] {
        let set = format!("{PUBLISH}.{publish}");
        let mut sets = FAULT_FREE.to_vec();
        sets.push(&set);
        let r = run_with(EVENTS, &sets);
        let t = &r.summary.messaging.as_ref().unwrap().topics["user-updated"];
        check_invariants(t);
        let c = copy(&r);
        assert_eq!(c.all.writes, t.published);
        assert!(c.all.unconverged <= 3, "{c:?}");
        let w = c.all.window_ms.as_ref().unwrap();
        // From the publish step: a 0.5ms hop to the broker, 2ms of broker
        // work (the event is stored), then exponential delivery (mean 5ms)
        // and handler work (mean 3ms): mean 10.5ms, standard deviation
        // sqrt(5^2 + 3^2) ms. The mean of n windows is within 5 standard
        // errors.
        let n = c.all.converged as f64;
        let tol = 5.0 * (25.0f64 + 9.0).sqrt() / n.sqrt();
        assert!((w.mean - 10.5).abs() < tol, "{publish}: {w:?} tol {tol}");
        // Never shorter than the fixed part (hop and broker work); the
        // histogram's percentiles are within 0.1%.
        assert!(w.p50 > 2.5 && w.max > w.p99, "{w:?}");
        // The end-to-end delivery latency is the same path.
        let d = t.subscriptions["order"]
            .delivery_latency_ms
            .as_ref()
            .unwrap();
        assert!((d.mean - w.mean).abs() < 1e-6, "{d:?} {w:?}");
        // The faults are scheduled after the end: everything is outside
        // them (a scenario without faults would give `null` periods).
        assert_eq!(c.during_faults.as_ref().unwrap().writes, 0);
        assert_eq!(c.outside_faults.as_ref().unwrap().writes, c.all.writes);
    }
}

#[test]
fn constant_latencies_give_exactly_the_path() {
    // Constant latencies: every window is exactly the path (0.5 + 2 + 5 +
    // 3 ms) unless a newer write of the item got there first, which only
    // shortens it to when that one was applied, never below 0.
    let r = run_with(
        EVENTS,
        &[
            FAULT_FREE[0],
            FAULT_FREE[1],
            FAULT_FREE[2],
            FAULT_FREE[3],
            "brokers.events.delivery_latency={dist=\"constant\",value=\"5ms\"}",
            "services.order.endpoints.on_user_updated.work={dist=\"constant\",value=\"3ms\"}",
        ],
    );
    let w = copy(&r).all.window_ms.clone().unwrap();
    assert!(
        (w.mean - 10.5).abs() < 1e-9 && (w.max - 10.5).abs() < 1e-9,
        "{w:?}"
    );
}

#[test]
fn stale_reads_rise_while_the_broker_is_down() {
    let outbox = format!("{PUBLISH}.outbox=true");
    let r = run_with(EVENTS, &[&outbox, "faults.1.at=1h"]);
    let c = copy(&r);
    let (during, outside) = (
        c.during_faults.as_ref().unwrap(),
        c.outside_faults.as_ref().unwrap(),
    );
    assert_eq!(c.all.reads, during.reads + outside.reads);
    assert_eq!(c.all.writes, during.writes + outside.writes);
    assert_eq!(c.all.converged, during.converged + outside.converged);
    // While the broker is down (8s to 11s) no write reaches the copy:
    // after t seconds a read finds its item stale with probability
    // 1 - exp(-200 t / 1000) (200 writes/s over 1000 items), 25% on
    // average over 3s. Outside, only the ~10ms window and the catch-up
    // after the outage make reads stale.
    let rate = |p: &microsim::metrics::messaging::ConsistencyPeriod| p.stale_read_rate.unwrap();
    assert!(rate(during) > 0.18 && rate(during) < 0.32, "{during:?}");
    assert!(rate(during) > 5.0 * rate(outside), "{during:?} {outside:?}");
    // The writes made during the outage waited for it to end: seconds.
    assert!(
        during.window_ms.as_ref().unwrap().mean > 1000.0,
        "{during:?}"
    );
    assert_eq!(during.unconverged, 0, "the outbox delivered them all");
    // Copies' time series: stale reads concentrate in the outage windows.
    let rows = &r.timeseries.copies;
    let stale = |from: f64, to: f64| -> u64 {
        rows.iter()
            .filter(|w| (from..to).contains(&w.start_s))
            .map(|w| w.stale_reads)
            .sum()
    };
    assert!(stale(8.0, 11.0) > 3 * stale(2.0, 8.0), "{rows:?}");
}

#[test]
fn lost_events_leave_the_copy_behind() {
    // Without an outbox the writes made during the outage never reach the
    // copy: unconverged, and the items stay stale until written again.
    let r = run_with(EVENTS, &["faults.1.at=1h"]);
    let t = &r.summary.messaging.as_ref().unwrap().topics["user-updated"];
    let c = copy(&r);
    assert!(c.all.unconverged >= t.lost && t.lost > 400, "{c:?} {t:?}");
    assert!(c.stale_keys_at_end > 0, "{c:?}");
}

/// The claims of `scenarios/event-driven.toml`'s comments.
#[test]
fn event_driven_scenario_dual_write_vs_outbox() {
    // The dual write (acked publish, no outbox): updates during the
    // outage change User's data but their events are lost, so those
    // requests fail and the copy keeps the old emails after the outage.
    let r = run_bundled("event-driven.toml", &[]);
    let m = r.summary.messaging.as_ref().unwrap();
    let t = &m.topics["user-updated"];
    check_invariants(t);
    let c = &m.copies["user-email@order"];
    // 10 updates/s for the 70s the broker is out (1m down + 10s startup).
    assert!((500..900).contains(&t.lost), "{t:?}");
    assert_eq!(r.summary.workloads["email-changes"].failed, t.lost);
    assert_eq!(c.all.unconverged, t.lost, "{c:?}");
    let during = c.during_faults.as_ref().unwrap();
    assert_eq!(
        during.converged, 0,
        "no write made during the outage arrives"
    );
    assert!(c.stale_keys_at_end > 100, "{c:?}");
    let rate = |p: &microsim::metrics::messaging::ConsistencyPeriod| p.stale_read_rate.unwrap();
    // The lost writes keep reads stale after the outage too.
    assert!(rate(c.outside_faults.as_ref().unwrap()) > 0.05, "{c:?}");

    // The outbox: nothing lost, no update fails, the copy converges; the
    // outage shows up as long windows for the writes made during it.
    let r = run_bundled(
        "event-driven.toml",
        &["services.user.endpoints.update_email.steps.1.outbox=true"],
    );
    let m = r.summary.messaging.as_ref().unwrap();
    let t = &m.topics["user-updated"];
    check_invariants(t);
    let c = &m.copies["user-email@order"];
    assert_eq!(t.lost, 0);
    assert_eq!(r.summary.workloads["email-changes"].failed, 0);
    let (during, outside) = (
        c.during_faults.as_ref().unwrap(),
        c.outside_faults.as_ref().unwrap(),
    );
    assert_eq!(during.unconverged, 0, "{c:?}");
    assert!(during.window_ms.as_ref().unwrap().mean > 10_000.0, "{c:?}");
    assert!(
        rate(outside) < 0.01 && rate(during) > 10.0 * rate(outside),
        "{c:?}"
    );
    assert!(c.stale_keys_at_end <= 2, "{c:?}");
}
