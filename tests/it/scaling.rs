//! Scaling, the autoscaler and rolling deploys: exact replica accounting
//! on small scenarios, the autoscaler's bounds, cooldowns and convergence,
//! graceful drains, discovery of added and removed replicas, the claims
//! of scenarios/autoscale-spike.toml and scenarios/rolling-deploy.toml,
//! and bad input.

use super::bad_input::{assert_located, assert_says, at, run_bad};
use super::common::*;
use microsim::metrics::{RunResult, ServiceWindow, Summary};
use microsim::scenario::Override;
use microsim::simulation;

fn run_text(toml: &str) -> RunResult {
    simulation::run(&model(toml)).unwrap()
}

use super::common::run_bundled as run_file;

fn windows<'a>(r: &'a RunResult, service: &str) -> Vec<&'a ServiceWindow> {
    r.timeseries
        .services
        .iter()
        .filter(|w| w.service == service)
        .collect()
}

/// One service `api` (given extra fields) under a Poisson load.
fn api(fields: &str, rate: &str, extra: &str) -> String {
    format!(
        r#"
[simulation]
duration = "10m"
seed = 4
window = "5s"
[services.api]
concurrency = 4
{fields}
[services.api.endpoints.get]
work = {{ dist = "exponential", mean = "50ms" }}
[[workloads]]
name = "users"
target = "api.get"
arrival = {{ process = "poisson", rate = {rate} }}
{extra}
"#
    )
}

/// Scheduled scaling changes the replicas that exist exactly when it says,
/// and replica-hours are the exact integral.
#[test]
fn scheduled_scaling_is_exact() {
    let r = run_text(&api(
        "replicas = 2",
        "20",
        r#"
[[scale]]
service = "api"
at = "1m"
replicas = 4
[[scale]]
service = "api"
at = "4m"
replicas = 1
"#,
    ));
    let s = r.summary.services["api"].scaling.clone().unwrap();
    // 2 x 60s + 4 x 180s + 1 x 360s = 1200 replica-seconds, plus the
    // moments the three removed replicas spent finishing their requests
    // (50 ms each on average, at 20 rps spread over 4 replicas).
    let secs = s.replica_hours * 3600.0;
    assert!((1200.0..1201.0).contains(&secs), "{s:?}");
    assert!((s.mean_replicas - secs / 600.0).abs() < 1e-9);
    assert_eq!(
        (s.min_replicas, s.max_replicas, s.final_replicas),
        (1, 4, 1)
    );
    assert_eq!((s.scale_ups, s.scale_downs), (1, 1));
    assert_eq!((s.replicas_started, s.replicas_drained), (2, 3));
    assert_eq!(r.summary.scaling.len(), 2);
    assert_eq!(r.summary.scaling[0].reason, "schedule");
    // Idle replicas leave at once; nobody notices a scale-down.
    assert_eq!(r.summary.workloads["users"].failed, 0);
    for w in windows(&r, "api") {
        let expect = if w.end_s <= 60.0 {
            2.0
        } else if w.end_s <= 240.0 {
            4.0
        } else {
            1.0
        };
        if w.start_s >= 60.0 && w.start_s < 65.0 || w.start_s >= 240.0 && w.start_s < 245.0 {
            continue; // Windows holding a change are blends.
        }
        let mean = w.mean_replicas.unwrap();
        // Idle replicas drain in the instant; busy ones within a request.
        assert!((mean - expect).abs() < 0.01, "{w:?}");
    }
}

/// A new replica exists (and costs) from the decision on, but serves only
/// after provisioning plus startup.
#[test]
fn added_replicas_serve_after_provisioning_and_startup() {
    let r = run_text(&api(
        "replicas = 1\nprovisioning = \"20s\"\nstartup = \"10s\"",
        "10",
        "[[scale]]\nservice = \"api\"\nat = \"60s\"\nreplicas = 3\n",
    ));
    for w in windows(&r, "api") {
        let (mean, avail) = (w.mean_replicas.unwrap(), w.available_replicas);
        if w.start_s >= 60.0 {
            assert_eq!(mean, 3.0, "{w:?}");
        }
        if w.start_s >= 60.0 && w.end_s <= 90.0 {
            assert_eq!(avail, 1.0, "still provisioning or starting: {w:?}");
        }
        if w.start_s >= 90.0 {
            assert_eq!(avail, 3.0, "{w:?}");
        }
    }
}

/// A replica removed while busy finishes every request it has, queued ones
/// included, before it goes; no request fails.
#[test]
fn a_drained_replica_finishes_its_work() {
    let text = r#"
[simulation]
duration = "2m"
seed = 1
[services.api]
replicas = 2
concurrency = 1
[services.api.endpoints.slow]
work = "4s"
[[workloads]]
name = "users"
target = "api.slow"
arrival = { process = "constant", rate = 0.45 }
[[scale]]
service = "api"
at = "30s"
replicas = 1
"#;
    let r = run_text(text);
    let w = &r.summary.workloads["users"];
    let s = r.summary.services["api"].scaling.clone().unwrap();
    assert_eq!(w.failed, 0, "{w:?}");
    assert_eq!((s.replicas_drained, s.drain_cutoffs), (1, 0));
    // The drained replica was busy: it lived on past 30s, for at most
    // one 4s request plus what was queued on it.
    let secs = s.replica_hours * 3600.0;
    assert!(secs > 30.0 + 120.0 && secs <= 30.0 + 120.0 + 8.0, "{secs}");

    // The drained replica's last request ended at 30.67s (started at
    // 26.67s): with a 100 ms drain timeout, it is cut off instead.
    assert!((secs - 150.0 - 2.0 / 3.0).abs() < 0.01, "{secs}");
    let cut = run_text(&text.replace(
        "concurrency = 1",
        "concurrency = 1\ndrain_timeout = \"100ms\"",
    ));
    let s = cut.summary.services["api"].scaling.clone().unwrap();
    assert_eq!(s.drain_cutoffs, 1);
    assert!(s.lost_in_drain_cutoffs >= 1);
    let w = &cut.summary.workloads["users"];
    assert_eq!(w.failures["connection_failed"], s.lost_in_drain_cutoffs);
}

fn autoscaled(fields: &str, extra: &str) -> String {
    api(
        &format!(
            "replicas = 2\nprovisioning = \"10s\"\n[services.api.autoscale]\nmetric = \"utilization\"\ntarget = 0.5\nmin = 2\nmax = 9\ninterval = \"10s\"\n{fields}"
        ),
        "100",
        extra,
    )
    .replace(
        "rate = 100 }",
        "rate = 20, schedule = [ { at = \"2m\", rate = 160 }, { at = \"5m\", rate = 60 }, { at = \"7m\", rate = 20 } ] }",
    )
}

/// Over several configurations and seeds: the desired count never leaves
/// min..=max, no step exceeds its limit, scale-ups respect the cooldown,
/// and no scale-down follows a higher proposal within the stabilisation
/// window... as far as the decisions show it.
#[test]
fn the_autoscaler_keeps_its_bounds_steps_and_cooldowns() {
    for (fields, up, down, cooldown) in [
        ("", 4, 1, 0.0),
        ("max_step_up = 1\nmax_step_down = 2", 1, 2, 0.0),
        ("scale_up_cooldown = \"30s\"\nmax_step_up = 2", 2, 1, 30.0),
        ("metric = \"in_flight\"\ntarget = 2", 4, 1, 0.0),
        ("metric = \"queue\"\ntarget = 0.5", 4, 1, 0.0),
        ("metric = \"p99\"\ntarget = \"150ms\"", 4, 1, 0.0),
    ] {
        for seed in [1, 2] {
            let text = autoscaled(fields, "").replace("seed = 4", &format!("seed = {seed}"));
            // A later key in the same table overrides: rebuild instead.
            let text = dedupe_keys(&text);
            let r = run_text(&text);
            let d = &r.summary.scaling;
            assert!(!d.is_empty(), "{fields}: the spike must trigger scaling");
            let mut last_up: Option<f64> = None;
            for x in d {
                assert!((2..=9).contains(&x.to), "{fields}: {x:?}");
                if x.to > x.from {
                    assert!(x.to - x.from <= up, "{fields}: {x:?}");
                    if let Some(t) = last_up {
                        assert!(x.at_s - t >= cooldown, "{fields}: {x:?} after {t}");
                    }
                    last_up = Some(x.at_s);
                } else {
                    assert!(x.from - x.to <= down, "{fields}: {x:?}");
                }
                // Decisions happen at evaluations only.
                assert_eq!(x.at_s % 10.0, 0.0, "{x:?}");
            }
            for w in windows(&r, "api") {
                assert!((2..=9).contains(&w.replicas), "{w:?}");
                let m = w.mean_replicas.unwrap();
                assert!((2.0..=9.0).contains(&m), "{w:?}");
            }
            let s = r.summary.services["api"].scaling.clone().unwrap();
            assert!(s.max_replicas <= 9 && s.min_replicas >= 2, "{s:?}");
            // Back at the bottom once the load is low again (stabilisation
            // 5m by default is longer than the run's tail: use the log).
            assert!(s.scale_ups >= 1, "{fields}");
        }
    }
}

/// Keeps the last of duplicate `key = ` lines within the autoscale table
/// (the test's variants override the defaults).
fn dedupe_keys(text: &str) -> String {
    let start = text.find("[services.api.autoscale]").unwrap();
    let end = start + text[start..].find("\n[services.api.endpoints").unwrap();
    let lines: Vec<&str> = text[start..end].lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let key = l.split('=').next().unwrap().trim();
        let later = lines[i + 1..]
            .iter()
            .any(|m| m.contains('=') && m.split('=').next().unwrap().trim() == key);
        if !(l.contains('=') && later) {
            kept.push(l);
        }
    }
    format!("{}{}{}", &text[..start], kept.join("\n"), &text[end..])
}

/// Under a steady load the autoscaler converges: it reaches the count the
/// target implies and then stops deciding.
#[test]
fn the_autoscaler_converges_on_a_steady_load() {
    // 120 rps x 50 ms = 6 busy workers; at 50% of 4 workers per replica
    // that is 3 replicas.
    let text = api(
        "replicas = 1\n[services.api.autoscale]\nmetric = \"utilization\"\ntarget = 0.5\nmin = 1\nmax = 20\ninterval = \"10s\"\nscale_down_stabilization = \"30s\"",
        "120",
        "",
    );
    let r = run_text(&text.replace("duration = \"10m\"", "duration = \"20m\""));
    let d = &r.summary.scaling;
    let last = d.last().expect("it scaled");
    // Up to 2, then 4 within 20s; noise may move it between 4 and 3 for
    // a while, but the last 10 minutes see no decision at all.
    assert_eq!((d[0].at_s, d[0].to), (10.0, 2));
    assert!(last.at_s < 600.0, "still deciding at {last:?}");
    assert!((3..=4).contains(&last.to), "settled at {last:?}");
    let s = r.summary.services["api"].scaling.clone().unwrap();
    assert_eq!(s.final_replicas, last.to);
}

/// With a registry, an added replica registers when it serves and is
/// found by callers; a removed one deregisters at once.
#[test]
fn added_and_removed_replicas_go_through_the_registry() {
    let text = r#"
[simulation]
duration = "5m"
seed = 9
[registry]
heartbeat = "5s"
ttl = "15s"
[discovery]
mode = "cached"
cache_ttl = "10s"
[services.front]
replicas = 2
concurrency = 32
io = "async"
[services.front.endpoints.get]
steps = [ { call = "back.get" } ]
[services.back]
replicas = 2
concurrency = 4
[services.back.endpoints.get]
work = { dist = "exponential", mean = "20ms" }
[[workloads]]
name = "users"
target = "front.get"
arrival = { process = "poisson", rate = 100 }
[[scale]]
service = "back"
at = "1m"
replicas = 5
[[scale]]
service = "back"
at = "3m"
replicas = 2
"#;
    let r = run_text(text);
    let disc = r.summary.discovery.as_ref().unwrap();
    let reg = disc.registry.as_ref().unwrap();
    assert_eq!(reg.deregistrations, Some(3));
    // 3 new back replicas register (front's never changed).
    assert_eq!(reg.registrations, 3);
    let pair = &disc.pairs["front->back"];
    assert_eq!(pair.new_instances_discovered, 3, "{pair:?}");
    assert!(pair.discovery_lag_max_ms.unwrap() <= 10_000.0 + 100.0);
    // Callers' cached lists still name the removed replicas until their
    // cache expires: those calls are refused.
    assert!(pair.routed_to_dead > 0);
    let back: Vec<_> = windows(&r, "back");
    let at = |t: f64| back.iter().find(|w| w.start_s == t).unwrap();
    assert_eq!(at(120.0).registered, Some(5));
    assert_eq!(at(240.0).registered, Some(2));
}

fn spike_decisions(s: &Summary) -> Vec<(f64, u32, u32)> {
    s.scaling.iter().map(|d| (d.at_s, d.from, d.to)).collect()
}

/// The claims in scenarios/autoscale-spike.toml.
#[test]
fn autoscale_spike_catches_up_after_its_provisioning_lag() {
    let r = run_file("autoscale-spike.toml", &[]);
    let s = &r.summary;
    let d = spike_decisions(s);
    assert_eq!(d[0], (195.0, 2, 6), "{d:?}");
    assert_eq!(
        &d[1..4],
        &[(210.0, 6, 10), (225.0, 10, 14), (240.0, 14, 16)]
    );
    let browse = |t0: f64, t1: f64| {
        r.timeseries
            .workloads
            .iter()
            .filter(move |w| w.workload == "browse" && w.start_s >= t0 && w.end_s <= t1)
    };
    // The lag: saturated, queues full, rejections; p99 far above normal.
    for w in browse(180.0, 240.0) {
        assert!(w.p99_ms.unwrap() > 500.0, "{w:?}");
        assert!(w.failed > 500, "{w:?}");
    }
    // Caught up: the new replicas serve 45s after the first decision.
    let catalog = windows(&r, "catalog");
    let serving = |t: f64| {
        catalog
            .iter()
            .find(|w| w.start_s == t)
            .unwrap()
            .available_replicas
    };
    assert_eq!(serving(235.0), 2.0);
    assert!(serving(240.0) > 2.0);
    for w in browse(245.0, 540.0) {
        assert!(w.p99_ms.unwrap() < 250.0, "{w:?}");
        assert_eq!(w.failed, 0, "{w:?}");
    }
    // Rejections only during the lag.
    let before: u64 = browse(0.0, 180.0).map(|w| w.failed).sum();
    assert_eq!(before, 0);
    let wl = &s.workloads["browse"];
    assert_eq!(wl.failures["rejected"], wl.failed);
    assert!(wl.availability.unwrap() > 0.9 && wl.availability.unwrap() < 0.99);
    // Down to 6 under steady load, to the minimum after the campaign.
    assert!(d.iter().any(|&(t, _, to)| to == 6 && t < 540.0), "{d:?}");
    let sc = s.services["catalog"].scaling.clone().unwrap();
    assert_eq!(
        (sc.min_replicas, sc.max_replicas, sc.final_replicas),
        (2, 16, 2)
    );
    assert_eq!(sc.drain_cutoffs, 0);
}

/// The claims in scenarios/rolling-deploy.toml.
#[test]
fn rolling_deploy_blast_radius_and_variants() {
    let bad = run_file("rolling-deploy.toml", &[]);
    let d = &bad.summary.deploys[0];
    assert_eq!((d.start_s, d.old_replicas, d.new_replicas), (180.0, 6, 6));
    // Three rounds of 2 replicas, 30s each.
    let end = d.end_s.unwrap();
    assert!((270.0..271.0).contains(&end), "{end}");
    assert!((d.effect_end_s - (end + 120.0)).abs() < 1e-9);
    let checkout = &d.blast_radius["checkout"];
    let browse = &d.blast_radius["browse"];
    let avail = checkout.during.availability.unwrap();
    // 25% errors on new replicas while they are bad: the share of calls
    // on bad replicas over the effect window is about 0.64.
    assert!((0.80..0.88).contains(&avail), "{avail}");
    assert_eq!(checkout.during.failed, d.bad_release_errors);
    assert_eq!(checkout.impact, "less available, slower");
    assert_eq!(browse.impact, "unaffected");
    assert_eq!(browse.during.failed, 0);

    // A good release: only the capacity dip, in p99.
    let good = run_file("rolling-deploy.toml", &["deploy.0.error_rate=0"]);
    let g = &good.summary.deploys[0].blast_radius["checkout"];
    assert_eq!(g.during.availability, Some(1.0));
    assert_eq!(g.impact, "slower");
    assert!(g.p99_change_ms.unwrap() > 5.0);

    // Surge instead of batch: no capacity dip, two replicas more for a
    // while.
    let surge = run_file(
        "rolling-deploy.toml",
        &[
            "deploy.0.error_rate=0",
            "deploy.0.batch=0",
            "deploy.0.surge=2",
        ],
    );
    let sd = &surge.summary.deploys[0];
    let s = &sd.blast_radius["checkout"];
    assert_eq!(s.impact, "unaffected");
    assert!(s.p99_change_ms.unwrap().abs() < 2.0, "{s:?}");
    let sc = surge.summary.services["payment"].scaling.clone().unwrap();
    assert_eq!((sc.min_replicas, sc.max_replicas), (6, 8));
    assert!(sc.mean_replicas > 6.2);
    // With surge and no batch, serving replicas never drop below 6.
    for w in windows(&surge, "payment") {
        assert!(w.available_replicas >= 6.0 - 1e-9, "{w:?}");
    }
}

/// During a rollout, serving replicas never fall below desired - batch.
#[test]
fn a_rollout_keeps_desired_minus_batch_serving() {
    let text = api(
        "replicas = 5\nstartup = \"7s\"",
        "40",
        "[[deploy]]\nservice = \"api\"\nat = \"30s\"\nbatch = 2\nsurge = 1\n",
    );
    let r = run_text(&text.replace("window = \"5s\"", "window = \"1s\""));
    let d = &r.summary.deploys[0];
    assert_eq!((d.old_replicas, d.new_replicas), (5, 5));
    // Rounds: 3 new start (2 freed + 1 surge), then 2: two startups.
    let end = d.end_s.unwrap();
    assert!((44.0..44.5).contains(&end), "{end}");
    for w in windows(&r, "api") {
        assert!(w.available_replicas >= 3.0 - 1e-9, "{w:?}");
        assert!(w.mean_replicas.unwrap() <= 6.0 + 2.0, "{w:?}");
    }
    assert_eq!(r.summary.workloads["users"].failed, 0);
}

/// Without scaling nothing changes shape: no scaling fields anywhere.
#[test]
fn fixed_replicas_keep_the_old_result_shape() {
    let r = run_text(&api("replicas = 2", "10", ""));
    assert!(r.summary.scaling.is_empty() && r.summary.deploys.is_empty());
    assert!(r.summary.services["api"].scaling.is_none());
    assert!(r
        .timeseries
        .services
        .iter()
        .all(|w| w.mean_replicas.is_none()));
    let json = serde_json::to_string(&r.summary).unwrap();
    assert!(!json.contains("scaling") && !json.contains("deploys"));
}

const BASE: &str = r#"[simulation]
duration = "1m"
[services.api]
replicas = 2
[services.api.endpoints.get]
work = "1ms"
[[workloads]]
name = "users"
target = "api.get"
arrival = { process = "poisson", rate = 10 }
"#;

fn bad(extra: &str, needle: &str, path: &str, words: &[&str]) {
    let text = format!("{BASE}{extra}");
    let f = run_bad("s.toml", &text, &[]);
    assert_located(&f.stderr, "s.toml", &at(&text, needle), path);
    assert_says(&f.stderr, words);
}

#[test]
fn bad_scaling_input_is_located() {
    let auto = "[services.api.autoscale]\n";
    bad(
        &format!("{auto}metric = \"cpu\"\ntarget = 0.5\nmax = 4\n"),
        "metric = \"cpu\"",
        "services.api.autoscale.metric",
        &["unknown metric `cpu`", "utilization, in_flight, queue, p99"],
    );
    bad(
        &format!("{auto}metric = \"utilization\"\ntarget = 1.5\nmax = 4\n"),
        "target = 1.5",
        "services.api.autoscale.target",
        &["at most 1"],
    );
    bad(
        &format!("{auto}metric = \"p99\"\ntarget = 200\nmax = 4\n"),
        "target = 200",
        "services.api.autoscale.target",
        &["duration such as \"200ms\""],
    );
    bad(
        &format!("{auto}metric = \"queue\"\ntarget = 2\nmin = 3\nmax = 2\n"),
        "max = 2",
        "services.api.autoscale.max",
        &["at least min (3)"],
    );
    bad(
        &format!("{auto}metric = \"queue\"\ntarget = 2\nmin = 3\nmax = 5\n"),
        "replicas = 2",
        "services.api.replicas",
        &["outside the autoscaler's range 3..=5"],
    );
    bad(
        "[[scale]]\nservice = \"apx\"\nat = \"10s\"\nreplicas = 3\n",
        "service = \"apx\"",
        "scale[0].service",
        &["unknown service `apx`", "api"],
    );
    bad(
        "[[scale]]\nservice = \"api\"\nat = \"10s\"\nreplicas = -1\n",
        "replicas = -1",
        "scale[0].replicas",
        &["from 0 to"],
    );
    bad(
        "[[deploy]]\nservice = \"api\"\nat = \"10s\"\nbatch = 0\n",
        "batch = 0",
        "deploy[0].batch",
        &["batch and surge are both 0"],
    );
    bad(
        "[[deploy]]\nservice = \"api\"\nat = \"10s\"\nerror_rate = 1.5\n",
        "error_rate = 1.5",
        "deploy[0].error_rate",
        &["from 0 to 1"],
    );
    bad(
        "[[deploy]]\nservice = \"api\"\nat = \"10s\"\nbad_for = \"1m\"\n",
        "bad_for = \"1m\"",
        "deploy[0].bad_for",
        &["only with `error_rate`"],
    );
    bad(
        "[deployment.monolith]\nprice_per_hour = -1.0\n",
        "price_per_hour = -1.0",
        "deployment.monolith.price_per_hour",
        &["zero or more"],
    );
    bad(
        "[[deploy]]\nservice = \"api\"\nat = \"soon\"\n",
        "at = \"soon\"",
        "deploy[0].at",
        &["soon"],
    );
}

#[test]
fn a_scale_of_an_autoscaled_service_is_refused() {
    let text = format!(
        "{BASE}[services.api.autoscale]\nmetric = \"queue\"\ntarget = 2\nmax = 5\n[[scale]]\nservice = \"api\"\nat = \"10s\"\nreplicas = 3\n"
    )
    .replace("replicas = 2", "replicas = 2");
    let f = run_bad("s.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "s.toml",
        &at(&text, "service = \"api\""),
        "scale[0].service",
    );
    assert_says(&f.stderr, &["has an autoscaler", "autoscale.min/max"]);
    // And through --set: a bad metric names the argument.
    let f = run_bad(
        "s.toml",
        &format!("{BASE}[services.api.autoscale]\nmetric = \"queue\"\ntarget = 2\nmax = 5\n"),
        &["--set", "services.api.autoscale.metric=cpu"],
    );
    assert_says(
        &f.stderr,
        &["--set services.api.autoscale.metric=cpu", "unknown metric"],
    );
}

/// The claims in scenarios/scale-payment.toml.
#[test]
fn scaling_only_payment_costs_a_fraction_of_scaling_the_monolith() {
    let p99 = |r: &RunResult, w: &str| r.summary.workloads[w].latency_ms.as_ref().unwrap().p99;
    let per_hour = |r: &RunResult| r.summary.cost.as_ref().unwrap().per_hour;
    let base = run_file("scale-payment.toml", &[]);
    let x3 = run_file("scale-payment.toml", &["services.payment.replicas=3"]);
    let mono = run_file("scale-payment.toml", &["deployment.mode=monolith"]);
    let mono3 = run_file(
        "scale-payment.toml",
        &["deployment.mode=monolith", "deployment.monolith.replicas=3"],
    );
    // Prices: replicas x price + 0.05 per deployable, exactly.
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(
        per_hour(&base),
        2.0 * 0.10 + 3.0 * 0.15 + 2.0 * 0.20 + 3.0 * 0.05
    ));
    assert!(close(per_hour(&x3) - per_hour(&base), 0.20));
    assert!(close(per_hour(&mono), 2.0 * 0.45 + 0.05));
    assert!(close(per_hour(&mono3) - per_hour(&mono), 0.45));
    // The bottleneck and its fixes.
    assert!(p99(&base, "checkout") > 200.0);
    assert!(p99(&x3, "checkout") < 125.0);
    assert!(p99(&mono3, "checkout") < 125.0);
    assert!(p99(&mono, "checkout") > p99(&x3, "checkout") + 15.0);
    assert!(p99(&mono, "checkout") < p99(&base, "checkout"));
    // Isolation: browse is bit-identical across the microservices
    // variants, and suffers in the 2-unit monolith.
    assert_eq!(
        base.summary.workloads["browse"],
        x3.summary.workloads["browse"]
    );
    assert!(p99(&mono, "browse") > p99(&base, "browse") * 1.15);
    assert!((p99(&mono3, "browse") / p99(&base, "browse") - 1.0).abs() < 0.05);
}

/// In monolith mode, a [[scale]] of any component scales the whole unit,
/// and a deploy restarts unit replicas.
#[test]
fn monolith_scaling_and_deploys_act_on_the_unit() {
    let r = run_file(
        "rolling-deploy.toml",
        &["deployment.mode=monolith", "deploy.0.error_rate=0"],
    );
    let d = &r.summary.deploys[0];
    assert_eq!(d.service, "monolith");
    // The unit has the max of the services' replicas: 6.
    assert_eq!((d.old_replicas, d.new_replicas), (6, 6));
    assert!(d.blast_radius["browse"].during.issued > 0);
    let s = r.summary.services["monolith"].scaling.clone().unwrap();
    assert_eq!(s.replicas_started, 6);
    let spike = run_file("autoscale-spike.toml", &["deployment.mode=monolith"]);
    let sc = spike.summary.services["monolith"].scaling.clone().unwrap();
    assert!(sc.scale_ups >= 1 && sc.max_replicas <= 16, "{sc:?}");
    assert_eq!(spike.summary.scaling[0].service, "monolith");
}

/// Regressions found in review: a slot freed by the end of a crash is
/// used again; a deploy finishes only at its desired count; a crash that
/// leaves out `replicas` takes every replica that exists then.
#[test]
fn crashes_and_scaling_interleave() {
    let base = |extra: &str| {
        format!(
            r#"
[simulation]
duration = "200s"
seed = 1
window = "10s"
[services.api]
replicas = 2
concurrency = 4
startup = "5s"
[services.api.endpoints.get]
work = "10ms"
[[workloads]]
name = "w"
target = "api.get"
arrival = {{ process = "poisson", rate = 50 }}
{extra}
"#
        )
    };
    // Both replicas down 10s..100s; scaled to 1 and back to 2 meanwhile:
    // when the crash ends, the second replica starts in the freed slot.
    let r = run_text(&base(
        "[[faults]]\nkind = \"crash\"\nservice = \"api\"\nat = \"10s\"\nduration = \"90s\"\n[[scale]]\nservice = \"api\"\nat = \"20s\"\nreplicas = 1\n[[scale]]\nservice = \"api\"\nat = \"30s\"\nreplicas = 2\n",
    ));
    let last = windows(&r, "api").last().unwrap().available_replicas;
    assert_eq!(last, 2.0);
    // A deploy during a crash of every replica replaces the dead ones at
    // once (they serve nothing): 2 new replicas serve after their 5s
    // startup, long before the crash would have ended.
    let r = run_text(&base(
        "[[faults]]\nkind = \"crash\"\nservice = \"api\"\nat = \"10s\"\nduration = \"60s\"\n[[deploy]]\nservice = \"api\"\nat = \"20s\"\n",
    ));
    let d = &r.summary.deploys[0];
    assert_eq!(d.new_replicas, 2);
    assert_eq!(d.end_s, Some(25.0), "{d:?}");
    let serving = |t: f64| {
        windows(&r, "api")
            .iter()
            .find(|w| w.start_s == t)
            .unwrap()
            .available_replicas
    };
    assert_eq!((serving(10.0), serving(30.0)), (0.0, 2.0));
    // Scaled to 6, then a crash without `replicas`: all 6 go down.
    let r = run_text(&base(
        "[[scale]]\nservice = \"api\"\nat = \"10s\"\nreplicas = 6\n[[faults]]\nkind = \"crash\"\nservice = \"api\"\nat = \"50s\"\nduration = \"20s\"\n",
    ));
    for w in windows(&r, "api") {
        if w.start_s >= 50.0 && w.end_s <= 70.0 {
            assert_eq!(w.available_replicas, 0.0, "{w:?}");
        }
    }
    assert_eq!(r.summary.faults[0].crashes, 6);
}

/// In a monolith, a component's bad release fails only that component's
/// code, and a component's [[scale]] moves the unit with the most scaled
/// component.
#[test]
fn monolith_deploys_and_scales_keep_their_component() {
    let r = run_file("rolling-deploy.toml", &["deployment.mode=monolith"]);
    let d = &r.summary.deploys[0];
    assert_eq!(d.blast_radius["browse"].during.failed, 0);
    assert!(d.blast_radius["checkout"].during.failed > 0);
    let micro = run_file("rolling-deploy.toml", &[]);
    let (m, u) = (
        micro.summary.deploys[0].blast_radius["checkout"]
            .during
            .availability
            .unwrap(),
        d.blast_radius["checkout"].during.availability.unwrap(),
    );
    assert!((m - u).abs() < 0.03, "micro {m} vs monolith {u}");
    // checkout.toml's payment scaled down to 1 leaves the unit at its
    // largest component's count; scaled up to 6, the unit follows.
    let text = std::fs::read_to_string(scenario("checkout.toml")).unwrap()
        + "\n[[scale]]\nservice = \"payment\"\nat = \"20s\"\nreplicas = 1\n[[scale]]\nservice = \"payment\"\nat = \"40s\"\nreplicas = 6\n";
    let m = microsim::scenario::from_str(
        &text,
        "c.toml",
        "c",
        &[Override::parse("deployment.mode=monolith").unwrap()],
    )
    .unwrap();
    let unit = m.services[0].replicas;
    let to: Vec<u32> = m.scales.iter().map(|s| s.replicas).collect();
    assert_eq!(to, vec![unit, 6.max(unit)]);
}

#[test]
fn absurd_prices_and_clashing_scales_are_caught() {
    bad(
        "[services.api.autoscale]\nmetric = \"queue\"\ntarget = 2\nmax = 4\n[cost]\nreplica_hour = 1e308\n",
        "replica_hour = 1e308",
        "cost.replica_hour",
        &["at most 1e12"],
    );
    let text = format!(
        "{BASE}[[scale]]\nservice = \"api\"\nat = \"10s\"\nreplicas = 3\n[[scale]]\nservice = \"api\"\nat = \"10s\"\nreplicas = 1\n"
    );
    let warnings = microsim::model::lint::lint(&model(&text));
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("two [[scale]] entries set api at 10s")),
        "{warnings:?}"
    );
}

/// Regressions from the second review: a deploy replaces replicas that
/// crashed for good; the autoscaler does not scale an overloaded service
/// down because some of its replicas are crashed.
#[test]
fn deploys_and_autoscalers_see_through_crashes() {
    let svc = |extra: &str| {
        format!(
            r#"
[simulation]
duration = "3m"
seed = 2
[services.a]
replicas = 4
concurrency = 4
queue_capacity = 100
startup = "5s"
{extra}
[services.a.endpoints.e]
work = {{ dist = "exponential", mean = "10ms" }}
[[workloads]]
name = "w"
target = "a.e"
arrival = {{ process = "poisson", rate = RATE }}
"#
        )
    };
    let deploy = svc("").replace("RATE", "100")
        + "[[faults]]\nkind = \"crash\"\nservice = \"a\"\nreplicas = 2\nat = \"10s\"\n[[deploy]]\nservice = \"a\"\nat = \"30s\"\n";
    let r = run_text(&deploy);
    let d = &r.summary.deploys[0];
    assert_eq!(d.new_replicas, 4, "{d:?}");
    assert!(d.end_s.is_some(), "{d:?}");
    assert_eq!(windows(&r, "a").last().unwrap().available_replicas, 4.0);

    let auto = svc("[services.a.autoscale]\nmetric = \"utilization\"\ntarget = 0.5\nmin = 1\nmax = 8\ninterval = \"10s\"\nscale_down_stabilization = \"30s\"")
        .replace("RATE", "800")
        + "[[faults]]\nkind = \"crash\"\nservice = \"a\"\nreplicas = 3\nat = \"60s\"\nduration = \"60s\"\n";
    let r = run_text(&auto);
    for d in &r.summary.scaling {
        if d.at_s >= 60.0 && d.at_s <= 120.0 {
            assert!(d.to >= d.from, "scaled down while overloaded: {d:?}");
        }
    }
}
