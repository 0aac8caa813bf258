//! Determinism: the same scenario and seed give byte-identical outputs, a
//! different seed gives different ones, a golden summary pins the numbers,
//! and named random streams keep one part of a scenario from reshuffling
//! another.

use super::common::*;
use std::fs;

const SHORT: [&str; 4] = [
    "--set",
    "simulation.duration=60s",
    "--set",
    "simulation.warmup=10s",
];

fn run_json(extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario("checkout.toml");
    let mut args = vec!["run", file.to_str().unwrap(), "--json", "--quiet"];
    args.extend_from_slice(&SHORT);
    args.extend_from_slice(extra);
    let out = microsim(dir.path(), &args);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    stdout
}

/// The checkout scenario, 60 s at seed 7, must reproduce this summary to
/// the byte. Regenerate deliberately with `UPDATE_GOLDEN=1 cargo test`
/// after a change that is meant to alter results, and say why in the commit.
#[test]
fn golden_summary() {
    let got = run_json(&[]);
    let path = root().join("tests/golden/checkout-60s-seed7.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(&path, &got).unwrap();
    }
    let want = fs::read_to_string(&path).expect("golden file exists (UPDATE_GOLDEN=1 creates it)");
    assert!(
        got == want,
        "summary differs from {}:\n--- got ---\n{got}",
        path.display()
    );
}

/// Every output file is byte-identical across two runs.
#[test]
fn two_runs_write_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario("checkout.toml");
    for out in ["a", "b"] {
        let mut args = vec!["run", file.to_str().unwrap(), "--out", out, "--quiet"];
        args.extend_from_slice(&SHORT);
        let o = microsim(dir.path(), &args);
        assert_eq!(o.status.code(), Some(0), "{}", texts(&o).1);
    }
    // Every file, the charts (SVG and PNG) and report.html included.
    let a = crate::common::tree(&dir.path().join("a"));
    let b = crate::common::tree(&dir.path().join("b"));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert!(a.keys().any(|f| f.ends_with(".png")), "{:?}", a.keys());
    for (f, bytes) in &a {
        assert!(!bytes.is_empty(), "{f} is empty");
        assert!(bytes == &b[f], "{f} differs between two identical runs");
    }
}

/// A different seed changes the results; the seed is reported.
#[test]
fn a_different_seed_differs() {
    let a: serde_json::Value = serde_json::from_str(&run_json(&[])).unwrap();
    let b: serde_json::Value = serde_json::from_str(&run_json(&["--seed", "3"])).unwrap();
    assert_eq!(a["seed"], 7);
    assert_eq!(b["seed"], 3);
    assert_ne!(
        a["workloads"]["checkout"]["latency_ms"],
        b["workloads"]["checkout"]["latency_ms"]
    );
    assert_ne!(
        a["workloads"]["checkout"]["requests"],
        b["workloads"]["checkout"]["requests"]
    );
}

/// Named streams give compared variants common random numbers: making
/// Payment slower changes latencies but not a single arrival, and leaves
/// the parts of the system it does not touch exactly as they were.
#[test]
fn streams_are_independent_across_components() {
    let base: serde_json::Value = serde_json::from_str(&run_json(&[])).unwrap();
    let slow: serde_json::Value = serde_json::from_str(&run_json(&[
        "--set",
        "services.payment.endpoints.charge.work.median=25ms",
    ]))
    .unwrap();
    for w in ["checkout", "order-status"] {
        assert_eq!(
            base["workloads"][w]["requests"], slow["workloads"][w]["requests"],
            "{w}: arrivals changed"
        );
    }
    let mean = |v: &serde_json::Value| {
        v["workloads"]["checkout"]["latency_ms"]["mean"]
            .as_f64()
            .unwrap()
    };
    assert!(mean(&slow) > mean(&base));
    // User's work times, the hops to and from user.auth and Order's own
    // work each draw from their own streams, and Order never runs out of
    // workers here, so User sees exactly the same calls at the same times:
    // its figures are unchanged to the last digit.
    assert_eq!(base["services"]["user"], slow["services"]["user"]);
}
