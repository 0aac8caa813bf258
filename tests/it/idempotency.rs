//! Duplicate side effects end to end: a non-idempotent charge called with
//! a timeout shorter than its work and retries executes more than once
//! per logical call (double charges); with `idempotent = true` the
//! repeats are absorbed by the idempotency key; without retries there is
//! nothing to repeat. Through the library and through the CLI.

use super::common::*;
use microsim::metrics::result::Summary;
use microsim::metrics::saga::ExecutionSummary;

/// api.buy calls payment.charge (exponential work, mean 4ms) with a 5ms
/// timeout and 3 attempts. With 1ms of hops an attempt times out when
/// the charge takes over 4ms: p = e^-1 = 0.37 of them, and the charge
/// still commits.
const CHARGES: &str = r#"
name = "duplicate-charges-test"
[simulation]
duration = "20s"
seed = 3
[network]
latency = { dist = "constant", value = "500us" }

[policies.impatient]
timeout = "5ms"
retries = { attempts = 3 }

[policies.once]
timeout = "5ms"

[services.api]
concurrency = 256
[services.api.endpoints.buy]
steps = [{ call = "payment.charge", policy = "impatient" }]

[services.payment]
concurrency = 256
[services.payment.endpoints.charge]
steps = [{ work = { dist = "exponential", mean = "4ms" } }]

[[workloads]]
name = "buy"
target = "api.buy"
arrival = { process = "poisson", rate = 200 }
"#;

fn run(sets: &[&str]) -> Summary {
    run_with(CHARGES, sets).summary
}

fn charge(s: &Summary) -> ExecutionSummary {
    s.executions["payment.charge"].clone()
}

#[test]
fn retries_past_a_timeout_charge_twice() {
    let s = run(&[]);
    let c = charge(&s);
    assert!(!c.idempotent);
    // 200/s for 20s: 4000 calls expected (5 standard deviations: 316).
    assert!(c.logical_calls > 3600, "{c:?}");
    // 1 + p + p^2 = 1.5 executions per call: 0.5 duplicates per call,
    // with a standard deviation of the mean under 0.7/sqrt(3600) = 0.012;
    // 0.35..0.65 is over 10 deviations wide.
    let per_call = c.duplicates as f64 / c.logical_calls as f64;
    assert!(per_call > 0.35 && per_call < 0.65, "{c:?}");
    assert_eq!(c.deduplicated, 0);
    // Every call executes at least once (but the few in flight at the
    // end): duplicates are the executions beyond the first.
    let firsts = c.executions - c.duplicates;
    assert!(
        firsts <= c.logical_calls && firsts + 20 >= c.logical_calls,
        "{c:?}"
    );
    // The retries are in the client's row.
    let d = &s.dependencies["api->payment"];
    assert!(d.retries > 0, "{d:?}");
}

#[test]
fn idempotency_keys_remove_the_duplicates() {
    let plain = charge(&run(&[]));
    let keyed = charge(&run(&["services.payment.endpoints.charge.idempotent=true"]));
    assert!(keyed.idempotent);
    assert_eq!(keyed.duplicates, 0, "{keyed:?}");
    assert!(keyed.deduplicated > 0, "{keyed:?}");
    // Common random numbers: the same runs, the same repeats, absorbed.
    assert_eq!(keyed.logical_calls, plain.logical_calls);
    assert_eq!(keyed.deduplicated, plain.duplicates);
    assert_eq!(keyed.executions, plain.executions - plain.duplicates);
}

#[test]
fn without_retries_nothing_is_charged_twice() {
    let s = run(&["services.api.endpoints.buy.steps.0.policy=once"]);
    // A client without retries makes the charge untracked, unless it is
    // idempotent; either way, no duplicates.
    assert_eq!(
        s.executions
            .get("payment.charge")
            .map_or(0, |c| c.duplicates),
        0
    );
    let s = run(&[
        "services.api.endpoints.buy.steps.0.policy=once",
        "services.payment.endpoints.charge.idempotent=true",
    ]);
    let c = charge(&s);
    assert!(c.logical_calls > 3600, "{c:?}");
    assert_eq!((c.duplicates, c.deduplicated), (0, 0), "{c:?}");
    // Timed-out calls still executed: executions count commits, not
    // answers the caller saw.
    assert!(c.executions <= c.logical_calls && c.executions + 20 >= c.logical_calls);
}

#[test]
fn the_cli_reports_duplicates_the_same_every_run() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_scenario(tmp.path(), "charges.toml", CHARGES);
    let args = ["run", &file, "--json", "--set", "simulation.duration=5s"];
    let a = microsim(tmp.path(), &args);
    let (out, err) = texts(&a);
    assert!(a.status.success(), "{err}");
    let b = microsim(tmp.path(), &args);
    assert_eq!(a.stdout, b.stdout, "same scenario and seed, same bytes");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c = &v["executions"]["payment.charge"];
    assert_eq!(c["idempotent"], false, "{c}");
    assert!(c["duplicates"].as_u64().unwrap() > 100, "{c}");
    let keyed = microsim(
        tmp.path(),
        &[
            "run",
            &file,
            "--json",
            "--set",
            "simulation.duration=5s",
            "--set",
            "services.payment.endpoints.charge.idempotent=true",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&texts(&keyed).0).unwrap();
    let c = &v["executions"]["payment.charge"];
    assert_eq!(c["duplicates"], 0, "{c}");
    assert!(c["deduplicated"].as_u64().unwrap() > 100, "{c}");
}
