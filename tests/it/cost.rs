//! The cost model: replica-hours x prices, platform overhead, network
//! calls counted as the attempts and lookups that crossed the network,
//! cost per million successful requests, cost per window; a scenario that
//! prices nothing gets outputs exactly as before; bad prices exit 2 with
//! the field's file:line:col.

use super::common::*;
use microsim::metrics::{CostSummary, RunResult};
use std::fs;
use std::path::Path;

/// Two services, `api` calling `db` once per request, no network latency.
const TWO: &str = r#"
name = "two"
[simulation]
duration = "2m"
warmup = "30s"
seed = 5

[services.api]
replicas = 3
concurrency = 4
price_per_hour = 0.5
[services.api.endpoints.get]
steps = [ { work = { dist = "exponential", mean = "2ms" } }, { call = "db.q" } ]

[services.db]
replicas = 2
concurrency = 4
[services.db.endpoints.q]
work = { dist = "exponential", mean = "3ms" }

[[workloads]]
name = "reads"
target = "api.get"
arrival = { process = "poisson", rate = 200 }

[cost]
currency = "EUR"
replica_hour = 0.25
network_per_million = 40
platform_per_service_hour = 3.6
"#;

use super::common::run_with as run_text;

fn cost(r: &RunResult) -> &CostSummary {
    r.summary.cost.as_ref().expect("a cost section")
}

/// Equal up to floating-point rounding.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12)
}

#[track_caller]
fn assert_close(got: f64, want: f64, what: &str) {
    assert!(close(got, want), "{what}: got {got}, want {want}");
}

#[test]
fn replica_time_overhead_and_calls_are_priced_exactly() {
    let r = run_text(TWO, &[]);
    let c = cost(&r);
    let s = &r.summary;
    // 90 s measured = 0.025 h.
    assert_eq!(c.currency, "EUR");
    assert_close(c.measured_hours, 0.025, "measured hours");
    let api = &c.services["api"];
    let db = &c.services["db"];
    assert_close(api.replica_hours, 3.0 * 0.025, "api replica-hours");
    assert_close(api.mean_replicas, 3.0, "api mean replicas");
    assert_close(api.replicas_cost, 3.0 * 0.025 * 0.5, "api: its own price");
    assert_close(db.replica_hours, 2.0 * 0.025, "db replica-hours");
    assert_close(
        db.replicas_cost,
        2.0 * 0.025 * 0.25,
        "db: the default price",
    );
    // Overhead per service, whatever its replicas: 3.6/h x 0.025 h.
    assert_close(api.platform_cost, 0.09, "api platform");
    assert_close(db.platform_cost, 0.09, "db platform");
    // The workload's entry requests are not hops; api's calls to db are.
    assert_eq!(api.network_calls, 0);
    assert_eq!(db.network_calls, s.services["db"].requests);
    assert!(db.network_calls > 15_000, "{}", db.network_calls);
    assert_close(
        db.network_cost,
        db.network_calls as f64 * 40.0 / 1e6,
        "db network",
    );
    for (name, x) in [("api", api), ("db", db)] {
        let total = x.replicas_cost + x.network_cost + x.platform_cost;
        assert_close(x.total, total, name);
        assert_close(x.per_hour, total / 0.025, name);
    }
    let total = api.total + db.total;
    assert_close(c.total, total, "total");
    assert_close(c.per_hour, total / 0.025, "per hour");
    assert_close(c.replica_hours, 5.0 * 0.025, "replica-hours");
    assert_close(
        c.replicas_cost,
        api.replicas_cost + db.replicas_cost,
        "replicas",
    );
    assert_close(c.platform_cost, 0.18, "platform");
    assert_eq!(c.network_calls, db.network_calls);
    let ok = s.workloads["reads"].ok + s.workloads["reads"].degraded;
    assert_close(
        c.per_million_ok.unwrap(),
        total / ok as f64 * 1e6,
        "per 1M ok",
    );
    assert_close(
        db.per_million_ok.unwrap(),
        db.total / ok as f64 * 1e6,
        "db per 1M ok",
    );
}

/// Every attempt that goes over the network is a network call: retries
/// count, and with per-request discovery every lookup is one into the
/// registry.
#[test]
fn network_calls_are_the_attempts_and_lookups_that_crossed_the_network() {
    let text = TWO.replace(
        "{ call = \"db.q\" }",
        "{ call = \"db.q\", retries = { attempts = 3 } }",
    ) + r#"
[[faults]]
kind = "errors"
service = "db"
probability = 0.3
at = "0s"

[registry]
price_per_hour = 1.0
[discovery]
mode = "per_request"
"#;
    // No warm-up, so the call counters (which count calls started after
    // it) and the network counters (hops sent after it) cover the same.
    let r = run_text(&text, &["simulation.warmup=0s"]);
    let s = &r.summary;
    let c = cost(&r);
    let dep = &s.dependencies["api->db"];
    let pair = &s.discovery.as_ref().unwrap().pairs["api->db"];
    let db = c.services["db"].network_calls;
    assert!(dep.retries > 1000, "retries happen: {}", dep.retries);
    assert_eq!(dep.attempts, dep.calls + dep.retries);
    // Zero network latency: every hop sent arrived, retries included.
    assert_eq!(db, s.services["db"].requests);
    // An attempt crosses the network once its lookup answered: not those
    // that found no instance, nor those still waiting on their lookup at
    // the end (each of an unfinished request).
    let unsent = dep.attempts - db;
    assert!(
        unsent >= pair.no_instance,
        "{unsent} < {}",
        pair.no_instance
    );
    assert!(unsent - pair.no_instance <= s.workloads["reads"].in_flight);
    assert_eq!(pair.lookups, dep.attempts, "one lookup per attempt");
    assert_eq!(c.services["registry"].network_calls, pair.lookups);
    assert_eq!(s.services["registry"].requests, pair.lookups);
    assert_eq!(c.network_calls, db + pair.lookups);
    // The registry is priced as a service: its 3 replicas at 1.0 an hour.
    assert_close(
        c.services["registry"].replicas_cost,
        3.0 * 2.0 / 60.0,
        "registry",
    );
    assert_close(
        c.platform_cost,
        3.0 * 3.6 * 2.0 / 60.0,
        "three services' overhead",
    );
}

/// The windows cover the whole run: with no warm-up their costs add up to
/// the summary's, and their replicas are the provisioned ones.
#[test]
fn window_costs_add_up_to_the_total() {
    let r = run_text(TWO, &["simulation.warmup=0s", "simulation.window=7s"]);
    let c = cost(&r);
    for (name, sc) in &c.services {
        let rows: Vec<_> = r
            .timeseries
            .services
            .iter()
            .filter(|w| &w.service == name)
            .collect();
        assert_eq!(rows.len(), 18, "120 s in 7 s windows");
        let sum: f64 = rows.iter().map(|w| w.cost.unwrap()).sum();
        assert_close(sum, sc.total, name);
        for w in &rows {
            assert_close(w.mean_replicas.unwrap(), sc.mean_replicas, name);
        }
    }
}

/// Pricing changes nothing about the simulation itself; and a scenario
/// with no price (a currency alone prices nothing) has no cost section.
#[test]
fn prices_do_not_change_the_run_and_no_price_means_no_cost() {
    let priced = run_text(TWO, &[]);
    let free_text = TWO.replace("price_per_hour = 0.5\n", "");
    let free_text = free_text.split("[cost]").next().unwrap().to_string();
    let free = run_text(&(free_text.clone() + "[cost]\ncurrency = \"EUR\"\n"), &[]);
    assert!(free.summary.cost.is_none());
    assert!(free.timeseries.services.iter().all(|w| w.cost.is_none()));
    let mut without = priced.summary.clone();
    without.cost = None;
    assert_eq!(without, free.summary);
    // Overrides reach every price field.
    let r = run_text(&free_text, &["services.db.price_per_hour=2"]);
    assert_close(
        cost(&r).services["db"].replicas_cost,
        2.0 * 2.0 * 0.025,
        "db",
    );
    assert_eq!(cost(&r).services["api"].replicas_cost, 0.0);
    let r = run_text(
        &free_text,
        &["cost={ platform_per_service_hour = 1, currency = \"GBP\" }"],
    );
    assert_eq!(cost(&r).currency, "GBP");
    assert_close(cost(&r).total, 2.0 * 0.025, "two services' overhead");
}

/// Through the command line: a priced run writes cost.csv (a row per
/// service and a total), cost columns in timeseries.csv, the cost section
/// in summary.json and a cost table; an unpriced run writes none of them.
#[test]
fn outputs_carry_cost_only_when_something_is_priced() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("two.toml"), TWO).unwrap();
    let run = |file: &str, out: &str, extra: &[&str]| {
        let mut args = vec![
            "run",
            file,
            "--out",
            out,
            "--quiet",
            "--set",
            "simulation.duration=40s",
        ];
        args.extend_from_slice(extra);
        let o = microsim(dir.path(), &args);
        let (stdout, stderr) = texts(&o);
        assert_eq!(o.status.code(), Some(0), "{stderr}");
        stdout
    };
    let table = run("two.toml", "priced", &[]);
    assert!(
        table.contains("cost in EUR over the measured period"),
        "{table}"
    );
    let csv = fs::read_to_string(dir.path().join("priced/cost.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "header, api, db, total: {csv}");
    assert!(lines[0].starts_with("service,currency,measured_hours,mean_replicas,replica_hours"));
    assert!(lines[3].starts_with("total,EUR,"), "{csv}");
    let ts = fs::read_to_string(dir.path().join("priced/timeseries.csv")).unwrap();
    assert!(ts.lines().next().unwrap().ends_with(",mean_replicas,cost"));
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("priced/summary.json")).unwrap())
            .unwrap();
    let total = json["cost"]["total"].as_f64().unwrap();
    let last: Vec<&str> = lines[3].split(',').collect();
    assert_eq!(
        last[9].parse::<f64>().unwrap(),
        total,
        "csv total = json total"
    );

    let checkout = scenario("checkout.toml");
    let table = run(checkout.to_str().unwrap(), "free", &[]);
    assert!(!table.contains("cost in"), "{table}");
    let free = dir.path().join("free");
    assert!(!free.join("cost.csv").exists());
    let summary = fs::read_to_string(free.join("summary.json")).unwrap();
    assert!(!summary.contains("\"cost\""));
    let ts = fs::read_to_string(free.join("timeseries.csv")).unwrap();
    assert!(ts
        .lines()
        .next()
        .unwrap()
        .ends_with(",replicas,available_replicas"));
}

// ---- bad input ------------------------------------------------------

/// Runs `microsim run FILE --out out EXTRA` on `text` and checks it is
/// refused as bad input: exit 2, nothing on stdout, no output written, no
/// panic. Returns stderr.
fn run_bad(text: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("bad.toml"), text).unwrap();
    let mut args = vec!["run", "bad.toml", "--out", "out"];
    args.extend_from_slice(extra);
    let o = microsim(dir.path(), &args);
    let (stdout, stderr) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "should exit 2: {stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!Path::new(&dir.path().join("out")).exists());
    stderr
}

/// `error: bad.toml:LINE:COL: `PATH`: ` where LINE:COL is that of `needle`.
fn assert_located(stderr: &str, text: &str, needle: &str, path: &str) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} in text"));
    let line = text[..at].matches('\n').count() + 1;
    let col = text[..at].rsplit('\n').next().unwrap().chars().count() + 1;
    let prefix = format!("error: bad.toml:{line}:{col}: `{path}`: ");
    assert!(
        stderr.starts_with(&prefix),
        "want {prefix:?}, got: {stderr}"
    );
}

#[test]
fn negative_nan_and_infinite_prices_are_refused() {
    for (old, new, path, says) in [
        (
            "price_per_hour = 0.5",
            "price_per_hour = -0.5",
            "services.api.price_per_hour",
            "zero or more",
        ),
        (
            "price_per_hour = 0.5",
            "price_per_hour = nan",
            "services.api.price_per_hour",
            "finite",
        ),
        (
            "replica_hour = 0.25",
            "replica_hour = -1",
            "cost.replica_hour",
            "got -1",
        ),
        (
            "network_per_million = 40",
            "network_per_million = inf",
            "cost.network_per_million",
            "finite",
        ),
        (
            "platform_per_service_hour = 3.6",
            "platform_per_service_hour = -0.1",
            "cost.platform_per_service_hour",
            "zero or more",
        ),
    ] {
        let text = TWO.replacen(old, new, 1);
        let stderr = run_bad(&text, &[]);
        assert_located(&stderr, &text, new, path);
        assert!(stderr.contains(says), "{new}: {stderr}");
    }
}

#[test]
fn non_number_prices_and_unknown_cost_fields_are_refused() {
    let text = TWO.replacen("replica_hour = 0.25", "replica_hour = \"cheap\"", 1);
    let stderr = run_bad(&text, &[]);
    assert_located(
        &stderr,
        &text,
        "replica_hour = \"cheap\"",
        "cost.replica_hour",
    );
    assert!(stderr.contains("expected a number"), "{stderr}");
    assert!(!stderr.contains("f64"), "Rust type names leak: {stderr}");

    let text = TWO.replacen("replica_hour = 0.25", "replica_hours = 0.25", 1);
    let stderr = run_bad(&text, &[]);
    assert_located(&stderr, &text, "replica_hours = 0.25", "cost.replica_hours");
    assert!(
        stderr.contains("`replica_hour`"),
        "lists the valid keys: {stderr}"
    );

    let text = TWO.replacen("currency = \"EUR\"", "currency = \" \"", 1);
    let stderr = run_bad(&text, &[]);
    assert_located(&stderr, &text, "currency = \" \"", "cost.currency");

    let text = TWO.to_string() + "[registry]\nprice_per_hour = -3\n";
    let stderr = run_bad(&text, &[]);
    assert_located(
        &stderr,
        &text,
        "price_per_hour = -3",
        "registry.price_per_hour",
    );
}

#[test]
fn bad_prices_given_with_set_name_the_argument() {
    let stderr = run_bad(TWO, &["--set", "services.db.price_per_hour=-2"]);
    assert!(
        stderr.starts_with("error: bad.toml: in --set services.db.price_per_hour=-2:"),
        "{stderr}"
    );
    assert!(stderr.contains("zero or more"), "{stderr}");
    let stderr = run_bad(TWO, &["--set", "cost.network_per_million=nan"]);
    assert!(
        stderr.contains("in --set cost.network_per_million=nan"),
        "{stderr}"
    );
    assert!(stderr.contains("finite"), "{stderr}");
}
