//! Orchestrated sagas end to end: a saga whose last step always fails
//! compensates every earlier step, in reverse; a failing compensation
//! leaves it inconsistent after the whole walk, with the compensation's
//! retries in its client's dependency row; durations add up to the
//! steps' work; the counts add up; the CLI shows it all, the same bytes
//! every run.

use super::common::*;
use microsim::metrics::result::Summary;
use microsim::metrics::saga::SagaSummary;

/// order.create: 1ms of work, then charge (refunded on failure), reserve
/// (released), ship. Constant latencies everywhere and workers to spare,
/// so every duration is exact.
const CHECKOUT: &str = r#"
name = "saga-checkout-test"
[simulation]
duration = "20s"
seed = 7
[network]
latency = { dist = "constant", value = "1ms" }

[services.order]
concurrency = 64
[services.order.endpoints.create]
steps = [
  { work = { dist = "constant", value = "1ms" } },
  { call = "payment.charge", compensate = "payment.refund" },
  { call = "inventory.reserve", compensate = "inventory.release" },
  { call = "shipping.ship" },
]

[services.payment]
concurrency = 64
[services.payment.endpoints.charge]
steps = [{ work = { dist = "constant", value = "2ms" } }]
[services.payment.endpoints.refund]
steps = [{ work = { dist = "constant", value = "2ms" } }]

[services.inventory]
concurrency = 64
[services.inventory.endpoints.reserve]
steps = [{ work = { dist = "constant", value = "3ms" } }]
[services.inventory.endpoints.release]
steps = [{ work = { dist = "constant", value = "3ms" } }]

[services.shipping]
concurrency = 64
[services.shipping.endpoints.ship]
steps = [{ work = { dist = "constant", value = "4ms" } }]

[[workloads]]
name = "checkout"
target = "order.create"
arrival = { process = "poisson", rate = 50 }
"#;

/// Every shipment fails.
const SHIP_FAILS: &str = r#"
[[faults]]
kind = "errors"
service = "shipping"
endpoint = "ship"
probability = 1.0
at = "0s"
"#;

/// Every refund fails.
const REFUND_FAILS: &str = r#"
[[faults]]
kind = "errors"
service = "payment"
endpoint = "refund"
probability = 1.0
at = "0s"
"#;

/// The saga's summary, checked for the invariant every summary keeps.
fn saga(s: &Summary) -> SagaSummary {
    assert_eq!(s.sagas.len(), 1, "{:?}", s.sagas);
    let g = s.sagas["order.create"].clone();
    assert_eq!(
        g.started,
        g.completed + g.compensated + g.inconsistent + g.interrupted + g.in_flight,
        "{g:?}"
    );
    g
}

fn run(toml: &str, sets: &[&str]) -> Summary {
    run_with(toml, sets).summary
}

#[test]
fn a_saga_whose_last_step_always_fails_compensates_every_earlier_step() {
    let s = run(&format!("{CHECKOUT}{SHIP_FAILS}"), &[]);
    let g = saga(&s);
    // 50/s for 20s: 1000 expected, within 5 standard deviations (sqrt
    // 1000 = 32).
    assert!(g.started > 840 && g.started < 1160, "{g:?}");
    assert_eq!(g.completed, 0);
    assert_eq!(g.inconsistent, 0);
    assert_eq!(g.interrupted, 0);
    assert_eq!(g.compensation_failures, 0);
    // Two steps have a compensation: two per saga, but for the few still
    // running at the end (a saga lasts 32ms).
    assert!(g.in_flight <= 5, "{g:?}");
    assert!(
        g.compensations >= 2 * g.compensated
            && g.compensations <= 2 * (g.compensated + g.in_flight),
        "{g:?}"
    );
    // Charge + refund and reserve + release: each service served two
    // calls per saga.
    let (pay, inv) = (&s.services["payment"], &s.services["inventory"]);
    assert!(pay.requests >= 2 * g.compensated && inv.requests >= 2 * g.compensated);
    // The original cause reaches the workload.
    let w = &s.workloads["checkout"];
    assert_eq!(w.ok, 0);
    assert_eq!(w.failed, g.compensated);
    // 1+2+3+4ms of steps, 3+2ms of compensations, 10 hops of 1ms.
    let d = g.compensated_ms.clone().expect("compensated sagas");
    assert!(
        (d.p50 - 25.0).abs() < 0.03 && (d.max - 25.0).abs() < 0.03,
        "{d:?}"
    );
    assert!(g.completed_ms.is_none());
}

#[test]
fn compensations_run_highest_step_first() {
    // One saga a second; a release takes 600ms. At 10.3s the saga that
    // arrived at 10s is releasing and has not refunded yet: the inventory
    // has served one call more than payment. Refunding first would give
    // payment the extra call (or neither).
    let slow_release = format!("{CHECKOUT}{SHIP_FAILS}");
    let sets = [
        "simulation.duration=10300ms",
        "workloads.checkout.arrival={ process = \"constant\", rate = 1 }",
        "services.inventory.endpoints.release.steps.0.work={ dist = \"constant\", value = \"600ms\" }",
    ];
    let s = run(&slow_release, &sets);
    let g = saga(&s);
    assert_eq!(g.started, 10, "{g:?}");
    assert_eq!(g.compensated, 9, "{g:?}");
    assert_eq!(g.in_flight, 1, "{g:?}");
    assert_eq!(g.compensations, 2 * 9 + 1, "{g:?}");
    let (pay, inv) = (&s.services["payment"], &s.services["inventory"]);
    assert_eq!(pay.requests, 2 * 9 + 1, "charges and refunds");
    assert_eq!(inv.requests, 2 * 10, "reserves and releases");
}

#[test]
fn a_failing_compensation_is_retried_then_leaves_the_saga_inconsistent() {
    // A saga now holds its (blocking) worker for 1.5s of backoff: at
    // 50/s it needs some 75 workers, so give it 256.
    let s = run(
        &format!("{CHECKOUT}{SHIP_FAILS}{REFUND_FAILS}"),
        &["services.order.concurrency=256"],
    );
    let g = saga(&s);
    assert!(g.started > 840, "{g:?}");
    assert_eq!(g.compensated, 0);
    assert_eq!(g.completed, 0);
    assert_eq!(g.inconsistent + g.in_flight, g.started, "{g:?}");
    // Those of the last 1.54s are still compensating: 77 expected
    // (Poisson, standard deviation 9).
    assert!(g.in_flight > 30 && g.in_flight < 130, "{g:?}");
    // Each saga's refund failed; its release (run first) did not.
    assert_eq!(g.compensation_failures, g.inconsistent, "{g:?}");
    // The default compensation policy retries 5 attempts: the refund's
    // client row shows 4 retries per call and every call failing.
    let rows: Vec<_> = s
        .dependencies
        .iter()
        .filter(|(_, d)| d.retries > 0)
        .collect();
    assert_eq!(rows.len(), 1, "only the refund retries: {rows:?}");
    let (name, d) = rows[0];
    assert!(name.starts_with("order->payment"), "{name}");
    // Calls still retrying at the end have not failed yet.
    assert!(d.calls >= g.inconsistent && d.calls <= g.inconsistent + g.in_flight);
    assert!(
        d.retries <= 4 * d.calls && d.retries + 4 * g.in_flight >= 4 * d.calls,
        "{d:?}"
    );
    // Backoff 100+200+400+800ms before the last attempt, then the steps
    // (10ms), the release (3ms), five refund attempts (2ms each) and 18
    // hops of 1ms: exactly 1541ms.
    let dur = g.compensated_ms.expect("ended sagas");
    assert!(
        (dur.p50 - 1541.0).abs() < 1.0 && (dur.max - 1541.0).abs() < 1.0,
        "{dur:?}"
    );
}

#[test]
fn completed_sagas_take_at_least_their_steps_work() {
    let s = run(CHECKOUT, &[]);
    let g = saga(&s);
    assert!(g.completed > 840, "{g:?}");
    assert_eq!(g.compensated + g.inconsistent + g.interrupted, 0);
    assert_eq!(g.compensations, 0);
    // 1+2+3+4ms of work and 6 hops of 1ms, exactly: nothing queues.
    let d = g.completed_ms.clone().expect("completed");
    assert!(d.p50 >= 16.0 && d.mean >= 16.0, "{d:?}");
    assert!((d.max - 16.0).abs() < 0.02, "{d:?}");
    assert_eq!(g.duration_ms, g.completed_ms);
    // The saga's duration is the workload's latency (minus nothing: the
    // workload's request is the saga's invocation).
    let w = &s.workloads["checkout"];
    assert!((w.latency_ms.as_ref().expect("ok").p50 - d.p50).abs() < 0.02);
}

#[test]
fn half_failing_shipments_split_sagas_between_completed_and_compensated() {
    let s = run(
        &format!("{CHECKOUT}{SHIP_FAILS}"),
        &["faults.0.probability=0.5"],
    );
    let g = saga(&s);
    // Binomial(n, 0.5): within 5 standard deviations of n/2.
    let n = (g.completed + g.compensated) as f64;
    let sd = (n * 0.25).sqrt();
    assert!(((g.completed as f64) - n / 2.0).abs() < 5.0 * sd, "{g:?}");
    let done = g.completed_ms.clone().expect("completed");
    let undone = g.compensated_ms.clone().expect("compensated");
    assert!(undone.p50 > done.p50, "{done:?} {undone:?}");
    let all = g.duration_ms.expect("ended");
    assert!(all.max >= undone.max && all.max >= done.max);
}

#[test]
fn the_cli_shows_sagas_the_same_every_run() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_scenario(tmp.path(), "saga.toml", &format!("{CHECKOUT}{SHIP_FAILS}"));
    let args = ["run", &file, "--json", "--set", "simulation.duration=5s"];
    let a = microsim(tmp.path(), &args);
    let (out, err) = texts(&a);
    assert!(a.status.success(), "{err}");
    let b = microsim(tmp.path(), &args);
    assert_eq!(a.stdout, b.stdout, "same scenario and seed, same bytes");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let g = &v["sagas"]["order.create"];
    assert!(g["started"].as_u64().unwrap() > 150, "{g}");
    assert_eq!(g["completed"], 0);
    let n = |k: &str| g[k].as_u64().unwrap();
    assert!(
        n("compensations") >= 2 * n("compensated")
            && n("compensations") <= 2 * (n("compensated") + n("in_flight")),
        "{g}"
    );
}

/// A `compensation_policy` that a forward call to the same service also
/// uses still gives the compensating calls a dependency row of their own:
/// the refunds are not counted among the charges.
#[test]
fn compensations_under_a_shared_named_policy_keep_their_own_row() {
    let toml = CHECKOUT
        .replace(
            "{ call = \"payment.charge\", compensate = \"payment.refund\" },",
            "{ call = \"payment.charge\", compensate = \"payment.refund\", policy = \"pay\" },",
        )
        .replace(
            "[[workloads]]",
            "[policies.pay]\ntimeout = \"1s\"\n\n[[workloads]]",
        )
        .replace(
            "  { call = \"shipping.ship\" },\n]\n",
            "  { call = \"shipping.ship\" },\n]\ncompensation_policy = \"pay\"\n",
        );
    assert!(toml.contains("compensation_policy = \"pay\""));
    let s = run(&format!("{toml}{SHIP_FAILS}"), &[]);
    let g = saga(&s);
    assert!(g.compensated > 0, "{g:?}");
    let names: Vec<&String> = s.dependencies.keys().collect();
    let charges = s
        .dependencies
        .get("order->payment (policy pay)")
        .unwrap_or_else(|| panic!("{names:?}"));
    let refunds = s
        .dependencies
        .get("order->payment (compensation, policy pay)")
        .unwrap_or_else(|| panic!("{names:?}"));
    // Every saga charged once; only the compensated (or compensating)
    // ones refunded.
    assert!(
        charges.calls >= g.started - g.in_flight,
        "{charges:?} {g:?}"
    );
    assert!(
        refunds.calls >= g.compensated && refunds.calls <= g.compensated + g.in_flight,
        "{refunds:?} {g:?}"
    );
}
