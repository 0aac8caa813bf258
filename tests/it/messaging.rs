//! Asynchronous messaging end to end, from TOML scenarios: at-least-once
//! delivery (nothing lost without being counted), redeliveries and dead
//! letters, the outbox across a broker outage, consumer lag over time, and
//! determinism.

use super::common::*;
use microsim::metrics::messaging::TopicSummary;
use microsim::metrics::RunResult;

/// `user.update` writes `user-email` and publishes it to `user-updated`
/// (acked by default); `order` subscribes and keeps a copy, which
/// `order.get` reads. The handler fails half the time; the broker's two
/// replicas crash from 8s to 11s.
pub const EVENTS: &str = r#"
name = "events"
[simulation]
duration = "20s"
warmup = "2s"
seed = 5

[network]
latency = { dist = "constant", value = "500us" }

[brokers.events]
replicas = 2
publish_latency = { dist = "constant", value = "2ms" }
delivery_latency = { dist = "exponential", mean = "5ms" }
topics = ["user-updated"]

[services.user]
concurrency = 16
[services.user.endpoints.update]
steps = [
  { work = { dist = "constant", value = "1ms" } },
  { publish = "user-updated" },
]

[services.order]
concurrency = 16
[services.order.subscriptions.user-updated]
handler = "on_user_updated"
concurrency = 8
redelivery_delay = "100ms"
[services.order.endpoints.on_user_updated]
work = { dist = "exponential", mean = "3ms" }
[services.order.endpoints.get]
steps = [ { read = "user-email" }, { work = { dist = "constant", value = "1ms" } } ]

[data.user-email]
owner = "user"
topic = "user-updated"
copies = ["order"]
keys = 1000

[[workloads]]
name = "writes"
target = "user.update"
arrival = { process = "poisson", rate = 200 }

[[workloads]]
name = "reads"
target = "order.get"
arrival = { process = "poisson", rate = 300 }

[[faults]]
name = "broker down"
kind = "crash"
service = "events"
at = "8s"
duration = "3s"

[[faults]]
name = "flaky handler"
kind = "errors"
service = "order"
endpoint = "on_user_updated"
probability = 0.5
at = "0s"
duration = "1h"
"#;

/// The publish step's `--set` path.
pub const PUBLISH: &str = "services.user.endpoints.update.steps.1";

fn topic(r: &RunResult) -> &TopicSummary {
    &r.summary
        .messaging
        .as_ref()
        .expect("brokers: a messaging summary")
        .topics["user-updated"]
}

/// The invariants documented in `metrics/messaging.rs`, exactly: every
/// event published is stored, lost, in an outbox or unacked; every stored
/// event is, per subscription, delivered, dead-lettered, dropped or
/// pending.
pub fn check_invariants(t: &TopicSummary) {
    assert_eq!(
        t.published,
        t.stored + t.lost + t.in_outbox + t.unacked,
        "{t:?}"
    );
    for s in t.subscriptions.values() {
        assert_eq!(
            t.stored,
            s.delivered + s.dead_lettered + s.dropped + s.pending,
            "{t:?}"
        );
        // Every event acked or dead-lettered had a first delivery.
        let first = s.deliveries - s.redelivered;
        assert!(first >= s.delivered + s.dead_lettered, "{s:?}");
        assert!(first <= s.delivered + s.dead_lettered + s.pending, "{s:?}");
    }
}

#[test]
fn at_least_once_counts_every_event() {
    let r = run_with(EVENTS, &[]);
    let t = topic(&r);
    check_invariants(t);
    let s = &t.subscriptions["order"];
    // Acked publishes refused while the broker is down are lost, and
    // counted: about 200/s for 3s (5 sigma of a Poisson count of 600 is
    // about 120).
    assert!((480..720).contains(&t.lost), "{t:?}");
    // The writes whose publish failed failed too (connection refused).
    let writes = &r.summary.workloads["writes"];
    assert!(writes.failed >= t.lost, "{writes:?}");
    // Half the handlers fail: events are delivered again, and those that
    // fail all 5 deliveries (1/32 of them) are dead-lettered.
    assert!(s.redelivered as f64 > 0.8 * s.delivered as f64, "{s:?}");
    let expected = t.stored as f64 / 32.0;
    assert!(
        (s.dead_lettered as f64 - expected).abs() < 5.0 * expected.sqrt(),
        "{s:?} expected {expected}"
    );
}

#[test]
fn dead_letters_after_max_attempts() {
    let r = run_with(
        EVENTS,
        &[
            "faults.1.probability=1.0",
            "services.order.subscriptions.user-updated.max_attempts=2",
        ],
    );
    let t = topic(&r);
    check_invariants(t);
    let s = &t.subscriptions["order"];
    assert_eq!(s.delivered, 0);
    assert!(s.dead_lettered > 2500, "{s:?}");
    // Exactly two deliveries per dead letter; at most two per pending
    // event.
    assert!(s.deliveries >= 2 * s.dead_lettered, "{s:?}");
    assert!(s.deliveries <= 2 * (s.dead_lettered + s.pending), "{s:?}");
}

#[test]
fn an_outbox_loses_nothing_across_a_broker_outage() {
    let outbox = format!("{PUBLISH}.outbox=true");
    let r = run_with(EVENTS, &[&outbox, "faults.1.at=1h"]);
    let t = topic(&r);
    check_invariants(t);
    assert_eq!(t.lost, 0, "{t:?}");
    assert_eq!(t.in_outbox, 0, "the relay caught up after the outage");
    let s = &t.subscriptions["order"];
    assert_eq!(s.dead_lettered + s.dropped, 0);
    // Everything is delivered but what was published in the last
    // moments.
    assert!(t.published - s.delivered <= 5, "{t:?}");
    // The outbox hid the outage from the writers.
    assert_eq!(r.summary.workloads["writes"].failed, 0);

    // Fire and forget without an outbox: the same outage loses events,
    // counted, and the writers never know.
    let forget = format!("{PUBLISH}.ack=false");
    let r = run_with(EVENTS, &[&forget, "faults.1.at=1h"]);
    let t = topic(&r);
    check_invariants(t);
    assert!((480..720).contains(&t.lost), "{t:?}");
    assert_eq!(r.summary.workloads["writes"].failed, 0);
}

#[test]
fn lag_builds_up_during_the_outage_and_drains_after() {
    let outbox = format!("{PUBLISH}.outbox=true");
    let r = run_with(EVENTS, &[&outbox, "faults.1.at=1h"]);
    let rows: Vec<_> = r
        .timeseries
        .subscriptions
        .iter()
        .filter(|w| w.subscriber == "order")
        .collect();
    assert_eq!(rows.len(), 20, "one row per 1s window");
    let at = |s: f64| rows.iter().find(|w| w.start_s == s).unwrap();
    // Before the outage the lag stays small; while the broker is down
    // nothing is stored (the events wait in the outbox), so nothing is
    // delivered; after it the backlog is stored and delivered at once.
    assert!(at(5.0).max_lag < 20, "{:?}", at(5.0));
    assert_eq!(at(9.0).delivered, 0, "{:?}", at(9.0));
    let after: u64 = rows
        .iter()
        .filter(|w| (11.0..13.0).contains(&w.start_s))
        .map(|w| w.delivered)
        .sum();
    assert!(after > 800, "the outbox's backlog is delivered: {after}");
    assert!(at(18.0).lag < 20, "{:?}", at(18.0));
    // Per-window counts add up to the summary's (which start at 2s).
    let s = &topic(&r).subscriptions["order"];
    let delivered: u64 = rows
        .iter()
        .filter(|w| w.start_s >= 2.0)
        .map(|w| w.delivered)
        .sum();
    assert!(delivered.abs_diff(s.delivered) < 10, "{delivered} {s:?}");
}

#[test]
fn same_seed_same_outputs_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.toml"), EVENTS).unwrap();
    let run = || {
        let out = microsim(dir.path(), &["run", "events.toml", "--json", "--quiet"]);
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        stdout
    };
    let a = run();
    assert_eq!(a, run());
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    let t = &v["messaging"]["topics"]["user-updated"];
    assert!(t["published"].as_u64().unwrap() > 3000, "{t}");
    assert!(v["messaging"]["copies"]["user-email@order"].is_object());
}

#[test]
fn without_brokers_no_messaging_section() {
    let r = run_bundled(
        "mm1.toml",
        &["simulation.duration=5s", "simulation.warmup=1s"],
    );
    assert!(r.summary.messaging.is_none());
    assert!(r.timeseries.subscriptions.is_empty() && r.timeseries.copies.is_empty());
    let json = serde_json::to_string(&r.summary).unwrap();
    assert!(!json.contains("messaging"));
}

#[test]
fn a_full_subscription_queue_drops_and_counts() {
    // One consumer of 3ms handlers for 200 events/s keeps up (60%), but
    // half of them fail and come back: the lag passes 5 now and then.
    let r = run_with(
        EVENTS,
        &[
            "services.order.subscriptions.user-updated.concurrency=1",
            "services.order.subscriptions.user-updated.queue_capacity=5",
            "faults.0.at=1h",
        ],
    );
    let t = topic(&r);
    check_invariants(t);
    let s = &t.subscriptions["order"];
    assert!(s.dropped > 0, "{s:?}");
    assert!(s.max_lag <= 5, "the queue holds at most 5: {s:?}");
    assert_eq!(t.lost, 0);
}

#[test]
fn consumers_down_delay_events_but_lose_none() {
    // The subscriber crashes instead of the broker: events are stored and
    // wait in the subscription's backlog until it is back.
    let r = run_with(EVENTS, &["faults.0.service=order", "faults.1.at=1h"]);
    let t = topic(&r);
    check_invariants(t);
    assert_eq!(t.lost, 0, "the broker was up: {t:?}");
    let s = &t.subscriptions["order"];
    assert_eq!(s.dead_lettered + s.dropped, 0, "{s:?}");
    // About 600 events waited out the 3s outage.
    assert!(s.max_lag > 400, "{s:?}");
    assert!(
        s.delivery_latency_ms.as_ref().unwrap().max > 2500.0,
        "{s:?}"
    );
    assert!(s.pending < 10, "{s:?}");
}

#[test]
fn a_partition_from_the_broker_loses_acked_publishes() {
    let toml = format!(
        r#"{EVENTS}
[[faults]]
name = "cut off"
kind = "partition"
from = "user"
to = "events"
at = "8s"
duration = "3s"
"#
    );
    let r = run_with(&toml, &["faults.0.at=1h", "faults.1.at=1h"]);
    let t = topic(&r);
    check_invariants(t);
    // Refused connections (the default `reject` mode) for 3s.
    assert!((480..720).contains(&t.lost), "{t:?}");
    // In `drop` mode each publish waits out its 5s timeout instead; the
    // writes hold their workers meanwhile, yet every event is accounted.
    let r = run_with(
        &toml,
        &["faults.0.at=1h", "faults.1.at=1h", "faults.2.mode=drop"],
    );
    let t = topic(&r);
    check_invariants(t);
    assert!(t.lost > 0, "{t:?}");
}

#[test]
fn a_reject_partition_from_the_broker_to_consumers_frees_their_slots() {
    // Deliveries refused by a 3s partition from the broker to the
    // subscriber are redelivered after it; the subscription's consumer
    // slots must not leak (it used to stall for good: every event stored
    // after the partition stayed pending).
    let toml = format!(
        r#"{EVENTS}
[[faults]]
name = "consumers cut off"
kind = "partition"
from = "events"
to = "order"
mode = "reject"
at = "8s"
duration = "3s"
"#
    );
    let r = run_with(&toml, &["faults.0.at=1h", "faults.1.at=1h"]);
    let t = topic(&r);
    check_invariants(t);
    let s = &t.subscriptions["order"];
    assert!(s.redelivered > 0, "{s:?}");
    // Events refused 5 times within the 3s are dead-lettered; the rest,
    // before and after, are delivered, and nothing is stuck.
    assert!(s.pending < 10, "{s:?}");
    assert!(s.delivered > 2500, "{s:?}");
    // The partition has an effect: no "it has no effect" warning, nor for
    // one from a publisher to its broker.
    for (from, to) in [("events", "order"), ("user", "events")] {
        let text = toml
            .replace("from = \"events\"", &format!("from = \"{from}\""))
            .replace("to = \"order\"", &format!("to = \"{to}\""));
        let w = microsim::model::lint::lint(&model(&text));
        assert!(w.iter().all(|l| !l.contains("no effect")), "{w:?}");
    }
}

#[test]
fn a_handler_finishing_after_its_event_was_dead_lettered_still_updates_the_copy() {
    // One delivery per event and a 10ms ack timeout for a 20ms handler:
    // every event is dead-lettered at its timeout, but every handler runs
    // to its end and commits, so the copy does converge (it used to stay
    // at version 0 for good: every read stale).
    let toml = r#"
name = "late"
[simulation]
duration = "30s"
warmup = "5s"
seed = 1
[brokers.events]
topics = ["t"]
[services.user.endpoints.w]
steps = [ { publish = "t" } ]
[services.order]
concurrency = 64
[services.order.endpoints.h]
work = "20ms"
[services.order.endpoints.get]
steps = [ { read = "d" } ]
[services.order.subscriptions.t]
handler = "h"
concurrency = 8
max_attempts = 1
ack_timeout = "10ms"
[data.d]
owner = "user"
topic = "t"
copies = ["order"]
keys = 100000
[[workloads]]
name = "w"
target = "user.w"
arrival = { process = "poisson", rate = 50 }
[[workloads]]
name = "r"
target = "order.get"
arrival = { process = "poisson", rate = 50 }
"#;
    let r = run_with(toml, &[]);
    let m = r.summary.messaging.as_ref().unwrap();
    let t = &m.topics["t"];
    check_invariants(t);
    let s = &t.subscriptions["order"];
    assert_eq!(s.delivered, 0, "{s:?}");
    assert!(s.dead_lettered > 1000, "{s:?}");
    let c = &m.copies["d@order"].all;
    // Every write but the last few of the run converged, a little over
    // the handler's 20ms after it.
    assert!(c.converged + 5 >= c.writes, "{c:?}");
    let w = c.window_ms.as_ref().unwrap();
    assert!(w.p50 > 20.0 && w.max < 40.0, "{w:?}");
}

/// A subscription whose handlers cannot keep up with its topic (events/s x
/// handler time >= concurrency) is warned about before the run, like an
/// overloaded service, although its service has workers to spare; the
/// bundled scenario's subscription is not.
#[test]
fn an_overloaded_subscription_is_warned_about_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = crate::common::scenario("event-driven.toml");
    let check = |sets: &[&str]| {
        let mut args = vec!["check", file.to_str().unwrap()];
        for s in sets {
            args.extend(["--set", s]);
        }
        let out = microsim(dir.path(), &args);
        let (_, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        stderr
    };
    assert!(!check(&[]).contains("overloaded"));
    // 10 events/s x 2 s = 20 handlers in flight against 1.
    let stderr = check(&[
        "services.order.endpoints.on_user_updated.work.mean=2s",
        "services.order.subscriptions.user-updated.concurrency=1",
    ]);
    assert!(
        stderr.contains("warning: subscription user-updated->order is overloaded")
            && stderr.contains("need 20.0 handlers in flight but its concurrency is 1"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("service `order` is overloaded"),
        "{stderr}"
    );
}
