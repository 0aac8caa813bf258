//! `microsim compare`: zero differences between identical variants, common
//! random numbers (an untouched workload is bit-identical), output
//! independent of the thread count, a comparison whose direction is known,
//! and bad variants and scenarios refused with exit status 2.

use super::common::*;
use serde_json::Value;
use std::fs;
use std::path::Path;

const SHORT: [&str; 4] = [
    "--set",
    "simulation.duration=20s",
    "--set",
    "simulation.warmup=2s",
];

/// Runs `microsim compare ARGS` (with [`SHORT`] and `--quiet`) in `dir`,
/// expecting success; returns stdout and stderr.
fn compare_ok(dir: &Path, args: &[&str]) -> (String, String) {
    let mut all = vec!["compare"];
    all.extend_from_slice(args);
    all.extend_from_slice(&SHORT);
    all.push("--quiet");
    let out = microsim(dir, &all);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "compare {args:?}: {stderr}");
    (stdout, stderr)
}

fn checkout_path() -> String {
    scenario("checkout.toml").to_str().unwrap().to_string()
}

/// The rows of a comparison's JSON.
fn rows(json: &Value) -> &Vec<Value> {
    json["rows"].as_array().expect("rows is an array")
}

/// The row of `metric` for `subject`.
fn row<'a>(json: &'a Value, subject: &str, metric: &str) -> &'a Value {
    rows(json)
        .iter()
        .find(|r| r["subject"] == subject && r["metric"] == metric)
        .unwrap_or_else(|| panic!("no row {subject} {metric}"))
}

#[test]
fn identical_variants_report_exactly_zero_differences() {
    let dir = tempfile::tempdir().unwrap();
    let file = checkout_path();
    // checkout.toml already has 2 payment replicas: the same system twice.
    compare_ok(
        dir.path(),
        &[
            &file,
            "--variant",
            "same:services.payment.replicas=2",
            "--out",
            "cmp",
        ],
    );
    let out = dir.path().join("cmp");
    let json: Value =
        serde_json::from_str(&fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    assert_eq!(json["seed"], 7);
    assert_eq!(json["variants"][0]["name"], "baseline");
    assert_eq!(
        json["variants"][1]["overrides"][0],
        "services.payment.replicas=2"
    );
    assert!(rows(&json).len() > 20, "workload, service and overall rows");
    for r in rows(&json) {
        let cells = r["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[0]["diff"], Value::Null, "the reference has no diff");
        if cells[0]["value"].is_null() {
            continue;
        }
        assert_eq!(cells[1]["diff"].as_f64(), Some(0.0), "{r}");
        assert_eq!(cells[1]["rel_diff"].as_f64(), Some(0.0), "{r}");
        assert_eq!(cells[1]["verdict"], "same", "{r}");
    }
    // Each variant's run outputs, the same files `run --out` writes, and
    // here with the same contents.
    for f in [
        "summary.json",
        "workloads.csv",
        "services.csv",
        "dependencies.csv",
        "faults.csv",
        "discovery.csv",
        "timeseries.csv",
    ] {
        let a = fs::read(out.join("baseline").join(f)).unwrap();
        let b = fs::read(out.join("same").join(f)).unwrap();
        assert!(!a.is_empty() && a == b, "{f}");
    }
    // compare.csv: header plus a line per row and variant, all diffs 0.
    let csv = fs::read_to_string(out.join("compare.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "scope,subject,metric,unit,variant,value,diff,rel_diff,verdict"
    );
    assert_eq!(lines.len(), 1 + 2 * rows(&json).len());
    let same: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains(",same,") && !l.contains(",same,,"))
        .collect();
    assert!(same.len() > 20);
    assert!(same.iter().all(|l| l.ends_with(",0,0,same")), "{csv}");
    // No staging leftovers.
    for e in fs::read_dir(dir.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert_eq!(name, "cmp");
    }
}

/// Two independent journeys: `reads` only touches `catalog`, `writes` only
/// `ledger`.
const TWO_SYSTEMS: &str = r#"
name = "two"
[simulation]
duration = "20s"
warmup = "2s"
seed = 11
[network]
latency = { dist = "exponential", mean = "500us" }
[services.catalog]
concurrency = 4
[services.catalog.endpoints.get]
steps = [ { work = { dist = "exponential", mean = "5ms" } }, { call = "store.read" } ]
[services.store]
concurrency = 4
[services.store.endpoints.read]
work = { dist = "lognormal", median = "3ms", p99 = "30ms" }
[services.ledger]
concurrency = 2
[services.ledger.endpoints.post]
work = { dist = "gamma", mean = "8ms", cv = 1.5 }
[[workloads]]
name = "reads"
target = "catalog.get"
arrival = { process = "poisson", rate = 300 }
[[workloads]]
name = "writes"
target = "ledger.post"
arrival = { process = "poisson", rate = 200 }
"#;

#[test]
fn common_random_numbers_leave_an_untouched_workload_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("two.toml"), TWO_SYSTEMS).unwrap();
    let (stdout, _) = compare_ok(
        dir.path(),
        &[
            "two.toml",
            "--variant",
            "ledger-x2:services.ledger.replicas=2",
            "--variant",
            "ledger-slow:services.ledger.endpoints.post.work={ dist = \"gamma\", mean = \"9ms\", cv = 1.5 }",
            "--json",
        ],
    );
    let json: Value = serde_json::from_str(&stdout).unwrap();
    let summary = |i: usize| &json["variants"][i]["summary"];
    for i in 1..3 {
        // Bit-identical: the whole workload and its services, every field.
        assert_eq!(
            summary(i)["workloads"]["reads"],
            summary(0)["workloads"]["reads"]
        );
        for s in ["catalog", "store"] {
            assert_eq!(summary(i)["services"][s], summary(0)["services"][s], "{s}");
        }
        // ... while the changed one did change.
        assert_ne!(
            summary(i)["workloads"]["writes"],
            summary(0)["workloads"]["writes"]
        );
    }
    for m in [
        "requests",
        "availability",
        "throughput",
        "p50",
        "p99",
        "p99.9",
    ] {
        for cell in row(&json, "reads", m)["cells"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
        {
            assert_eq!(cell["diff"].as_f64(), Some(0.0), "reads {m}");
        }
    }
    // The arrivals of the changed journey are common too: same requests.
    let writes = row(&json, "writes", "requests")["cells"]
        .as_array()
        .unwrap();
    assert!(writes
        .iter()
        .skip(1)
        .all(|c| c["diff"].as_f64() == Some(0.0)));
    // Two replicas halve the queueing: writes' p99 falls.
    let p99 = &row(&json, "writes", "p99")["cells"][1];
    assert!(p99["diff"].as_f64().unwrap() < 0.0, "{p99}");
    assert_eq!(p99["verdict"], "better");
}

#[test]
fn output_is_byte_identical_for_any_number_of_threads() {
    let dir = tempfile::tempdir().unwrap();
    let file = checkout_path();
    let mut outputs = Vec::new();
    for (j, out) in [("1", "j1"), ("2", "j2")] {
        let (stdout, _) = compare_ok(
            dir.path(),
            &[
                &file,
                "--variant",
                "payment-x1:services.payment.replicas=1",
                "--variant",
                "payment-x4:services.payment.replicas=4",
                "--variant",
                "no-queue:services.order.queue_capacity=4",
                "-j",
                j,
                "--out",
                out,
            ],
        );
        outputs.push(stdout);
    }
    assert_eq!(outputs[0], outputs[1], "tables");
    for f in [
        "compare.json",
        "compare.csv",
        "payment-x4/summary.json",
        "no-queue/timeseries.csv",
    ] {
        let a = fs::read(dir.path().join("j1").join(f)).unwrap();
        let b = fs::read(dir.path().join("j2").join(f)).unwrap();
        assert!(a == b, "{f} differs between -j 1 and -j 2");
    }
}

#[test]
fn more_payment_replicas_under_load_lower_p99_and_say_better() {
    let dir = tempfile::tempdir().unwrap();
    let file = checkout_path();
    let common = [
        &file[..],
        "--set",
        "services.payment.replicas=1",
        "--set",
        "workloads.checkout.arrival.rate=250",
        "--variant",
        "payment-x3:services.payment.replicas=3",
    ];
    let mut args = common.to_vec();
    args.push("--json");
    let (stdout, _) = compare_ok(dir.path(), &args);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    let p99 = &row(&json, "checkout", "p99")["cells"];
    let (base, x3) = (p99[0]["value"].as_f64().unwrap(), &p99[1]);
    let diff = x3["diff"].as_f64().unwrap();
    assert!(diff < 0.0, "p99 falls: {p99}");
    assert_eq!(x3["value"].as_f64().unwrap(), base + diff);
    assert!((x3["rel_diff"].as_f64().unwrap() - diff / base).abs() < 1e-12);
    assert_eq!(x3["verdict"], "better");
    let util = &row(&json, "payment", "utilization")["cells"][1];
    assert!(util["diff"].as_f64().unwrap() < 0.0);
    assert_eq!(util["verdict"], Value::Null, "utilisation is neutral");

    // The table says the same.
    let (table, _) = compare_ok(dir.path(), &common);
    let line = table
        .lines()
        .skip_while(|l| !l.starts_with("workload checkout"))
        .find(|l| l.contains("p99 ms"))
        .unwrap();
    assert!(
        line.contains(&format!("-{:.1}", -diff)) || line.contains(&format!("-{:.2}", -diff)),
        "{line}"
    );
    assert!(line.ends_with("better │"), "{line}");
}

#[test]
fn several_files_share_the_first_seed_and_are_named_by_their_stems() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("two.toml"), TWO_SYSTEMS).unwrap();
    fs::create_dir(dir.path().join("v2")).unwrap();
    let v2 = TWO_SYSTEMS
        .replace("seed = 11", "seed = 99")
        .replace("[services.ledger]\n", "[services.ledger]\nreplicas = 3\n");
    fs::write(dir.path().join("v2/two.toml"), v2).unwrap();
    let (stdout, stderr) = compare_ok(dir.path(), &["two.toml", "v2/two.toml", "--json"]);
    assert!(
        stderr.contains("has seed 99: running it with the first scenario's seed 11"),
        "{stderr}"
    );
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["seed"], 11);
    assert_eq!(json["variants"][0]["name"], "two");
    assert_eq!(json["variants"][1]["name"], "two-2");
    assert_eq!(json["variants"][1]["seed"], 11);
    // Same seed, untouched journey: bit-identical across the files too.
    assert_eq!(
        json["variants"][0]["summary"]["workloads"]["reads"],
        json["variants"][1]["summary"]["workloads"]["reads"]
    );
    // --seed overrides both, silently.
    let (stdout, stderr) = compare_ok(
        dir.path(),
        &["two.toml", "v2/two.toml", "--seed", "5", "--json"],
    );
    assert!(!stderr.contains("note:"), "{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["seed"], 5);
}

/// Asserts a failed `compare`: exit 2, nothing on stdout, `error: ` and
/// `words` on stderr, no output directory; returns stderr.
fn compare_bad(dir: &Path, args: &[&str], words: &[&str]) -> String {
    let mut all = vec!["compare"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", "cmp"]);
    let out = microsim(dir, &all);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for w in words {
        assert!(stderr.contains(w), "{args:?}: expected {w:?} in: {stderr}");
    }
    assert!(!dir.join("cmp").exists());
    stderr
}

#[test]
fn bad_variants_and_scenarios_exit_2_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = checkout_path();
    let f = &file[..];
    compare_bad(
        d,
        &[f, "--variant", "x4"],
        &["--variant x4", "NAME:PATH=VALUE"],
    );
    compare_bad(
        d,
        &[f, "--variant", "x:services.payment.replicas"],
        &["--variant x:services.payment.replicas", "is not PATH=VALUE"],
    );
    compare_bad(
        d,
        &[f, "--variant", "baseline:services.payment.replicas=4"],
        &["duplicate variant name `baseline`"],
    );
    compare_bad(
        d,
        &[f, "--variant", "a b:services.payment.replicas=4"],
        &["the name `a b`"],
    );
    // An override that validation refuses names the variant and the field,
    // even when an earlier variant is fine.
    compare_bad(
        d,
        &[
            f,
            "--variant",
            "ok:services.payment.replicas=4",
            "--variant",
            "bad:services.payment.replicas=-1",
        ],
        &[
            "variant `bad`",
            "in --variant bad:services.payment.replicas=-1",
            "`services.payment.replicas`",
        ],
    );
    compare_bad(
        d,
        &[f, "--variant", "typo:services.paymnt.replicas=4"],
        &["variant `typo`", "paymnt"],
    );
    compare_bad(d, &[f], &["nothing to compare"]);
    compare_bad(
        d,
        &[f, f, "--variant", "x:services.payment.replicas=4"],
        &["--variant applies to a single scenario file"],
    );
    compare_bad(
        d,
        &[f, "--variant", "x:services.payment.replicas=4", "-j", "0"],
        &["-j/--jobs must be at least 1"],
    );
    // A bad scenario file, as a second file: file:line:col and the field.
    let text =
        fs::read_to_string(f)
            .unwrap()
            .replacen("concurrency = 8", "concurrency = \"eight\"", 1);
    fs::write(d.join("broken.toml"), &text).unwrap();
    let line = text.lines().position(|l| l.contains("\"eight\"")).unwrap() + 1;
    compare_bad(
        d,
        &[f, "broken.toml"],
        &[
            &format!("broken.toml:{line}:1: `services.payment.concurrency`"),
            "expected a whole number",
        ],
    );
}

#[test]
fn capacity_warnings_and_an_own_seed_are_reported_per_variant() {
    let dir = tempfile::tempdir().unwrap();
    let file = checkout_path();
    let (stdout, stderr) = compare_ok(
        dir.path(),
        &[
            &file,
            "--variant",
            "tiny:services.payment.replicas=1,services.payment.concurrency=2",
            "--variant",
            "reseeded:simulation.seed=8",
            "--json",
        ],
    );
    assert!(
        stderr.contains("variant `tiny`: warning: service `payment` is overloaded"),
        "{stderr}"
    );
    assert!(!stderr.contains("variant `baseline`: warning"), "{stderr}");
    assert!(
        stderr.contains("variant `reseeded` runs with its own seed 8"),
        "{stderr}"
    );
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["variants"][2]["seed"], 8);
    assert_eq!(json["seed"], Value::Null, "the seeds differ");
    // Another seed: other arrivals, so the request counts differ.
    let requests = &row(&json, "checkout", "requests")["cells"][2];
    assert_ne!(requests["diff"].as_f64(), Some(0.0), "{requests}");
}
