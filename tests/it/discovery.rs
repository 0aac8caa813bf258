//! Service registry and discovery: stale entries after crashes, registry
//! outages, static lists, lookup cost; and the bundled scenarios'
//! claims (registry-outage, stale-registry).

use super::common::model;
use microsim::metrics::{DiscoveryPairSummary, RunResult, Summary};
use microsim::simulation;

use super::common::run_bundled as run;

fn pair<'a>(s: &'a Summary, name: &str) -> &'a DiscoveryPairSummary {
    &s.discovery.as_ref().expect("discovery results").pairs[name]
}

/// Start of the first and end of the last window in which `caller->callee`
/// routed calls to a dead instance.
fn dead_routing_span(r: &RunResult, caller: &str) -> (f64, f64) {
    let rows: Vec<_> = r
        .timeseries
        .discovery
        .iter()
        .filter(|w| w.caller == caller && w.routed_to_dead > 0)
        .collect();
    assert!(!rows.is_empty(), "{caller} never routed to a dead instance");
    (rows[0].start_s, rows[rows.len() - 1].end_s)
}

/// A workload's ok and failed counts over the windows inside [from, to).
fn outcomes(r: &RunResult, workload: &str, from: f64, to: f64) -> (u64, u64) {
    r.timeseries
        .workloads
        .iter()
        .filter(|w| w.workload == workload && w.start_s >= from && w.end_s <= to)
        .fold((0, 0), |(ok, failed), w| (ok + w.ok, failed + w.failed))
}

/// In stale-registry, an Inventory replica crashes at 60s; heartbeats are
/// every 5s, entries live 30s without one, lists are cached 20s. The
/// registry cannot evict the dead instance before 60 + 30 - 5 = 85s and
/// does by 90s; a list refreshed just before holds it for 20s more.
/// Windows are 1s, so each bound gets one window of slack.
#[test]
fn calls_to_a_crashed_instance_stop_within_ttl_plus_cache_ttl() {
    let cached = run("stale-registry.toml", &[]);
    assert_eq!(cached.timeseries.window_seconds, 1.0);
    let (first, last) = dead_routing_span(&cached, "checkout");
    assert!((60.0..61.0).contains(&first), "first dead routing {first}");
    assert!(
        (85.0..=90.0 + 20.0 + 1.0).contains(&last),
        "dead routing ended at {last}s: not within [ttl - heartbeat, ttl + cache_ttl] after the crash"
    );
    // Per-request lookups see the eviction itself.
    let fresh = run("stale-registry.toml", &["discovery.mode=per_request"]);
    let (_, last) = dead_routing_span(&fresh, "checkout");
    assert!(
        (85.0..=91.0).contains(&last),
        "per-request dead routing ended at {last}s, not at the eviction"
    );
    let s = &cached.summary;
    let p = pair(s, "checkout->inventory");
    let reg = s.discovery.as_ref().unwrap().registry.as_ref().unwrap();
    assert_eq!(reg.evictions, 1, "the dead instance's entry");
    assert_eq!(reg.registrations, 1, "the restarted instance");
    // Every call to the dead address failed, and nothing else did.
    assert_eq!(
        s.workloads["checkout"].failures["connection_failed"],
        p.routed_to_dead
    );
    assert_eq!(s.workloads["checkout"].failed, p.routed_to_dead);
    // The blast radius covers the whole stale period: crash at 60s, the
    // entry gone by 60 + ttl = 90s (the restart, at 80 + 10s startup, too),
    // every list refreshed by 90 + cache_ttl = 110s. Outside it nothing
    // failed.
    assert_eq!(s.faults[0].effect_end_s, 110.0);
    let outside = s.workloads["checkout"].outside_faults.as_ref().unwrap();
    assert_eq!(outside.failed, 0);
    assert_eq!(fresh.summary.faults[0].effect_end_s, 90.0);
    // The restarted instance was found at the next refresh of a list.
    assert_eq!(p.new_instances_discovered, 1);
    assert_eq!(p.new_instances_undiscovered, 0);
    assert!(p.discovery_lag_max_ms.unwrap() <= 20_000.0);
    assert!(
        fresh.summary.discovery.as_ref().unwrap().pairs["checkout->inventory"]
            .discovery_lag_max_ms
            .unwrap()
            < 100.0
    );
}

/// Shorter TTLs shorten the errors and cost lookups.
#[test]
fn shorter_ttls_trade_errors_for_lookups() {
    let base = run("stale-registry.toml", &[]).summary;
    let short = run(
        "stale-registry.toml",
        &[
            "registry.ttl=10s",
            "registry.heartbeat=2s",
            "discovery.cache_ttl=5s",
        ],
    )
    .summary;
    let (b, s) = (
        pair(&base, "checkout->inventory"),
        pair(&short, "checkout->inventory"),
    );
    assert!(
        s.routed_to_dead * 2 < b.routed_to_dead,
        "{} vs {}",
        s.routed_to_dead,
        b.routed_to_dead
    );
    assert!(s.lookups > 3 * b.lookups, "{} vs {}", s.lookups, b.lookups);
}

/// Static lists: the dead address gets calls to the end of the run and
/// the restarted instance (a new address) never gets one.
#[test]
fn static_lists_never_learn_of_new_instances() {
    let r = run("stale-registry.toml", &["discovery.mode=static"]);
    let p = pair(&r.summary, "checkout->inventory");
    assert_eq!(p.lookups, 0);
    assert_eq!(p.new_instances_discovered, 0);
    assert_eq!(p.new_instances_undiscovered, 1);
    let (_, last) = dead_routing_span(&r, "checkout");
    assert_eq!(last, r.summary.simulated_seconds);
    assert_eq!(
        r.summary.faults[0].effect_end_s, last,
        "the effect never ends"
    );
    // One address in four is dead from the crash on: a quarter of the
    // calls after it fail (round robin over the caller's own list).
    let (ok, failed) = outcomes(&r, "checkout", 100.0, 240.0);
    let share = failed as f64 / (ok + failed) as f64;
    assert!((share - 0.25).abs() < 0.01, "failed share {share}");
}

/// A blackholed dead address fails calls by timeout instead of refusal.
#[test]
fn blackholed_dead_instances_fail_by_timeout() {
    let s = run(
        "stale-registry.toml",
        &["discovery.dead_instances=blackhole"],
    )
    .summary;
    let f = &s.workloads["checkout"].failures;
    assert_eq!(f["connection_failed"], 0);
    assert!(f["timeout"] > 1_000, "{f:?}");
}

/// registry-outage: the registry is down from 120s to 240s.
/// Per-request callers fail at once; cached ones without stale use
/// (max_stale 0s) keep working until their lists expire (within
/// cache_ttl = 30s), then fail; cached ones that keep stale lists never
/// fail. Nobody is evicted for heartbeats the registry could not get.
#[test]
fn a_registry_outage_hits_callers_by_discovery_mode() {
    let r = run("registry-outage.toml", &[]);
    let s = &r.summary;
    // Per request: every request of the outage fails, from its first
    // second, with no_instance.
    let (ok, failed) = outcomes(&r, "storefront", 121.0, 240.0);
    assert_eq!(ok, 0);
    assert!(failed > 10_000);
    let (ok, failed) = outcomes(&r, "storefront", 120.0, 121.0);
    assert!(
        failed > 100 && ok < 10,
        "first second: ok {ok}, failed {failed}"
    );
    // Cached, strict: fine at first, all failing once every list expired.
    let (ok, failed) = outcomes(&r, "mobile", 120.0, 121.0);
    assert!(
        ok > 100 && failed == 0,
        "first second: ok {ok}, failed {failed}"
    );
    let (ok, failed) = outcomes(&r, "mobile", 151.0, 240.0);
    assert_eq!(ok, 0, "all lists expired by 150s");
    assert!(failed > 10_000);
    // Cached with stale lists: unaffected.
    let (_, failed) = outcomes(&r, "search", 0.0, 360.0);
    assert_eq!(failed, 0);
    assert!(pair(s, "search->catalog").stale_list_uses > 1_000);
    // After the outage every journey recovers.
    for w in ["storefront", "mobile", "search"] {
        let (ok, failed) = outcomes(&r, w, 245.0, 360.0);
        assert!(ok > 10_000 && failed == 0, "{w}: ok {ok}, failed {failed}");
        assert_eq!(s.workloads[w].failures.get("connection_failed"), Some(&0));
    }
    for (name, w) in &s.workloads {
        assert_eq!(w.failed, w.failures["no_instance"], "{name}");
    }
    let reg = s.discovery.as_ref().unwrap().registry.as_ref().unwrap();
    assert_eq!(reg.evictions, 0);
    assert_eq!(reg.outage_seconds, 120.0);
    // The fault's effect lasts until the cached callers ask again (one
    // retry delay, 1s, after the registry is back): outside it nothing
    // failed.
    assert_eq!(s.faults[0].effect_end_s, 241.0);
    for (name, w) in &s.workloads {
        assert_eq!(w.outside_faults.as_ref().unwrap().failed, 0, "{name}");
    }
    assert!(reg.heartbeats_lost > 0);
    // The storefront's failures are exactly its failed lookups.
    let p = pair(s, "storefront->catalog");
    assert_eq!(p.lookup_failures, p.no_instance);
    assert_eq!(s.workloads["storefront"].failed, p.no_instance);
}

/// Two of three registry replicas down: lookups still succeed.
#[test]
fn a_replicated_registry_survives_losing_some_replicas() {
    let s = run("registry-outage.toml", &["faults.0.replicas=2"]).summary;
    for (name, w) in &s.workloads {
        assert_eq!(w.failed, 0, "{name}");
    }
}

/// Per-request lookups add exactly one lookup round trip: with constant
/// times and no queueing, latency goes from hop + work + hop to that plus
/// hop + lookup + hop.
#[test]
fn a_per_request_lookup_costs_one_round_trip() {
    let scenario = |discovery: &str| {
        format!(
            r#"
            [simulation]
            duration = "20s"
            seed = 1
            [network]
            latency = {{ dist = "constant", value = "1ms" }}
            [services.api]
            concurrency = 100
            [services.api.endpoints.get]
            steps = [{{ call = "db.get" }}]
            [services.db]
            concurrency = 100
            [services.db.endpoints.get]
            work = {{ dist = "constant", value = "5ms" }}
            [[workloads]]
            name = "w"
            target = "api.get"
            arrival = {{ process = "constant", rate = 10 }}
            {discovery}
            "#
        )
    };
    let latency = |toml: &str| {
        let s = simulation::run(&model(toml)).unwrap().summary;
        let l = s.workloads["w"].latency_ms.clone().unwrap();
        (l.p50, l.max)
    };
    let (p50, max) = latency(&scenario(""));
    assert!(
        (p50 - 7.0).abs() < 0.01 && (max - 7.0).abs() < 0.01,
        "{p50} {max}"
    );
    let (p50, max) = latency(&scenario(
        "[registry]\nlookup = { dist = \"constant\", value = \"2ms\" }\n[discovery]\nmode = \"per_request\"",
    ));
    assert!(
        (p50 - 11.0).abs() < 0.02 && (max - 11.0).abs() < 0.02,
        "{p50} {max}"
    );
    // Static lists cost nothing.
    let (p50, _) = latency(&scenario("[discovery]\nmode = \"static\""));
    assert!((p50 - 7.0).abs() < 0.01, "{p50}");
}

/// A partition between a caller and the registry cuts its lookups: with
/// per-request discovery its calls fail with no_instance.
#[test]
fn a_partition_from_the_registry_cuts_lookups() {
    let toml = r#"
        [simulation]
        duration = "30s"
        [registry]
        [discovery]
        mode = "per_request"
        [services.api.endpoints.get]
        steps = [{ call = "db.get" }]
        [services.db.endpoints.get]
        work = "1ms"
        [[workloads]]
        name = "w"
        target = "api.get"
        arrival = { process = "poisson", rate = 20 }
        [[faults]]
        kind = "partition"
        from = "api"
        to = "registry"
        at = "10s"
        duration = "10s"
    "#;
    let r = simulation::run(&model(toml)).unwrap();
    let (ok, failed) = outcomes(&r, "w", 10.0, 20.0);
    assert_eq!(ok, 0);
    assert!(failed > 100);
    let (_, failed) = outcomes(&r, "w", 21.0, 30.0);
    assert_eq!(failed, 0);
    assert_eq!(
        r.summary.workloads["w"].failed,
        r.summary.workloads["w"].failures["no_instance"]
    );
}

/// Callers that crash and restart, with background refreshes and lookups
/// in flight, keep the books balanced and the run deterministic.
#[test]
fn crashing_callers_and_registries_keep_the_books() {
    let toml = r#"
        [simulation]
        duration = "2m"
        seed = 4
        [network]
        latency = { dist = "exponential", mean = "1ms" }
        [registry]
        replicas = 2
        heartbeat = "2s"
        ttl = "5s"
        lookup_timeout = "200ms"
        [discovery]
        cache_ttl = "3s"
        refresh = "background"
        [services.api]
        replicas = 3
        concurrency = 8
        startup = "1s"
        discovery = { refresh = "on_call", max_stale = "1s" }
        [services.api.endpoints.get]
        steps = [{ call = "db.get", timeout = "300ms", retries = { attempts = 3 } }]
        [services.db]
        replicas = 4
        concurrency = 4
        startup = "500ms"
        [services.db.endpoints.get]
        steps = [{ work = { dist = "exponential", mean = "2ms" } }, { call = "cache.get", timeout = "100ms" }]
        [services.cache.endpoints.get]
        work = { dist = "exponential", mean = "1ms" }
        [[workloads]]
        name = "w"
        target = "api.get"
        arrival = { process = "poisson", rate = 300 }
        [[faults]]
        kind = "random_crashes"
        service = "api"
        mtbf = "20s"
        mttr = "3s"
        [[faults]]
        kind = "random_crashes"
        service = "db"
        mtbf = "15s"
        mttr = "2s"
        mode = "drop"
        [[faults]]
        kind = "random_crashes"
        service = "registry"
        mtbf = "20s"
        mttr = "5s"
    "#;
    let m = model(toml);
    let a = simulation::run(&m).unwrap();
    let b = simulation::run(&m).unwrap();
    assert_eq!(a.summary, b.summary);
    assert_eq!(format!("{:?}", a.timeseries), format!("{:?}", b.timeseries));
    let w = &a.summary.workloads["w"];
    assert_eq!(w.requests, w.ok + w.degraded + w.failed + w.in_flight);
    let d = a.summary.discovery.as_ref().unwrap();
    for (name, p) in &d.pairs {
        assert!(p.lookups >= p.lookup_failures, "{name}");
        assert!(p.attempts > 0, "{name}");
    }
    assert!(d.pairs["api->db"].routed_to_dead > 0);
    assert!(d.pairs["db->cache"].new_instances_discovered == 0);
    assert!(d.pairs["api->db"].new_instances_discovered > 0);
}

/// `api` calls `db` (3 replicas); `extra` adds registry, discovery and
/// faults.
fn small(extra: &str) -> String {
    format!(
        r#"
        [simulation]
        duration = "3m"
        seed = 2
        [network]
        latency = {{ dist = "constant", value = "500us" }}
        [services.api]
        replicas = 2
        concurrency = 32
        startup = "2s"
        [services.api.endpoints.get]
        steps = [{{ call = "db.get", timeout = "1s" }}]
        [services.db]
        replicas = 3
        concurrency = 8
        [services.db.endpoints.get]
        work = {{ dist = "exponential", mean = "2ms" }}
        [[workloads]]
        name = "w"
        target = "api.get"
        arrival = {{ process = "poisson", rate = 200 }}
        {extra}
        "#
    )
}

/// A background refresh in flight does not make its list stale: with a
/// healthy registry nothing uses a stale list, even with max_stale = 0.
#[test]
fn background_refreshes_keep_lists_fresh_while_in_flight() {
    let s = simulation::run(&model(&small(
        "[registry]\n[discovery]\ncache_ttl = \"2s\"\nrefresh = \"background\"\nmax_stale = \"0s\"",
    )))
    .unwrap()
    .summary;
    let p = pair(&s, "api->db");
    assert!(p.lookups > 100, "{}", p.lookups);
    assert_eq!(p.stale_list_uses, 0);
    assert_eq!(p.cache_hit_rate, Some(1.0));
    assert_eq!(s.workloads["w"].failed, 0);
}

/// A tiny lookup timeout does not turn failed refreshes into a flood
/// against the registry: with a 1us timeout every lookup fails (the hop
/// alone takes 500us), and each list's owner retries once a second.
#[test]
fn failed_refreshes_back_off() {
    let s = simulation::run(&model(&small(
        "[registry]\nlookup_timeout = \"1us\"\n[discovery]\ncache_ttl = \"5s\"\nrefresh = \"background\"",
    )))
    .unwrap()
    .summary;
    let p = pair(&s, "api->db");
    assert_eq!(p.lookups, p.lookup_failures);
    // Two caller replicas, from their first expiry (within 5s) to 180s.
    assert!(
        (2 * 175..=2 * 180).contains(&p.lookup_failures),
        "{}",
        p.lookup_failures
    );
    // The time-0 lists stay in use (no max_stale): nothing fails.
    assert_eq!(s.workloads["w"].failed, 0);
}

/// A caller that restarts has no lists: its first calls look up and wait
/// rather than fail, in either refresh mode.
#[test]
fn restarted_callers_fetch_their_lists_before_calling() {
    for refresh in ["on_call", "background"] {
        let s = simulation::run(&model(&small(&format!(
            "[registry]\n[discovery]\nrefresh = \"{refresh}\"\n[[faults]]\nkind = \"random_crashes\"\nservice = \"api\"\nmtbf = \"20s\"\nmttr = \"2s\"",
        ))))
        .unwrap()
        .summary;
        assert!(s.services["api"].crashes > 5, "{refresh}");
        assert_eq!(pair(&s, "api->db").no_instance, 0, "{refresh}");
        assert_eq!(s.workloads["w"].failures["no_instance"], 0, "{refresh}");
    }
}

/// Evictions are counted by when they happen, not by when a time-series
/// window or a lookup happens to notice them.
#[test]
fn evictions_do_not_depend_on_the_window() {
    // db[0] crashes at `at`; its entry expires 15s later at the latest.
    let evictions = |at: &str, window: &str| {
        let toml = small(&format!(
            "[registry]\nheartbeat = \"5s\"\nttl = \"15s\"\n[discovery]\nmode = \"static\"\n[[faults]]\nkind = \"crash\"\nservice = \"db\"\nreplicas = 1\nat = \"{at}\"\nduration = \"10s\""
        ))
        .replace(
            "seed = 2",
            &format!("seed = 2\nwindow = \"{window}\"\nwarmup = \"1m\""),
        );
        let s = simulation::run(&model(&toml)).unwrap().summary;
        s.discovery.unwrap().registry.unwrap().evictions
    };
    // Expired after the warm-up: counted, however late it is noticed.
    assert_eq!(evictions("90s", "1s"), 1);
    assert_eq!(evictions("90s", "3m"), 1);
    // Expired during the warm-up: not counted, even if first noticed
    // (with no lookups, by the only window's end) after it.
    assert_eq!(evictions("10s", "1s"), 0);
    assert_eq!(evictions("10s", "3m"), 0);
}

/// A partition between a service and the registry cuts its heartbeats:
/// its instances are evicted though alive (callers then find no
/// instance), and register again when the partition ends.
#[test]
fn a_partition_from_the_registry_evicts_live_instances() {
    let r = simulation::run(&model(&small(
        "[registry]\nheartbeat = \"5s\"\nttl = \"15s\"\n[discovery]\nmode = \"per_request\"\n[[faults]]\nkind = \"partition\"\nfrom = \"db\"\nto = \"registry\"\nat = \"1m\"\nduration = \"1m\"",
    )))
    .unwrap();
    let s = &r.summary;
    let reg = s.discovery.as_ref().unwrap().registry.as_ref().unwrap();
    assert_eq!(reg.evictions, 3, "every db instance");
    assert_eq!(reg.registrations, 3, "and back");
    assert!(reg.heartbeats_lost >= 3 * 11);
    // Evicted within [ttl - heartbeat, ttl] of the cut: no instance from
    // 75s at the latest to the first heartbeat after 120s.
    let (ok, failed) = outcomes(&r, "w", 76.0, 120.0);
    assert_eq!(ok, 0);
    assert!(failed > 5_000);
    let (ok, failed) = outcomes(&r, "w", 126.0, 180.0);
    assert!(ok > 5_000 && failed == 0, "{ok} {failed}");
    assert_eq!(
        s.workloads["w"].failed,
        s.workloads["w"].failures["no_instance"]
    );
    // The blast radius runs to the first heartbeat after the partition.
    assert_eq!(s.faults[0].effect_end_s, 125.0);
    assert_eq!(s.workloads["w"].outside_faults.as_ref().unwrap().failed, 0);
}

/// registry-outage with a silent (drop) registry: storefront's blocking
/// workers each wait out the 1s lookup timeout, so it can fail only about
/// 128 requests a second and the rest queue; the backlog drains after the
/// outage, with latencies of many seconds.
#[test]
fn a_silent_registry_holds_per_request_callers_for_the_lookup_timeout() {
    let loud = run("registry-outage.toml", &[]).summary;
    let silent = run("registry-outage.toml", &["faults.0.mode=drop"]).summary;
    let q = |s: &Summary| s.services["storefront"].mean_queue_length;
    assert!(q(&loud) < 1.0, "{}", q(&loud));
    assert!(q(&silent) > 100.0, "{}", q(&silent));
    let p99 = silent.workloads["storefront"]
        .latency_ms
        .as_ref()
        .unwrap()
        .p99;
    assert!(p99 > 10_000.0, "{p99}");
    // Search keeps its stale list and does not care either way.
    assert_eq!(silent.workloads["search"].failed, 0);
}

/// A half-open breaker whose trial calls find no instance (the registry
/// is down) gives the trials back: once the registry returns it closes,
/// instead of refusing every call for the rest of the run.
#[test]
fn trials_that_find_no_instance_do_not_stick_the_breaker() {
    let toml = r#"
        [simulation]
        duration = "3m"
        seed = 1
        [registry]
        replicas = 1
        [discovery]
        mode = "per_request"
        [services.catalog]
        replicas = 2
        concurrency = 16
        [services.catalog.endpoints.item]
        work = "5ms"
        [services.front]
        concurrency = 64
        [services.front.endpoints.page]
        steps = [{ call = "catalog.item", timeout = "1s", circuit_breaker = { failure_rate = 0.5, window = "10s", min_calls = 20, open_for = "5s", half_open_calls = 3 } }]
        [[workloads]]
        name = "front"
        target = "front.page"
        arrival = { process = "poisson", rate = 50 }
        [[faults]]
        kind = "errors"
        service = "catalog"
        probability = 1.0
        at = "30s"
        duration = "20s"
        [[faults]]
        kind = "crash"
        service = "registry"
        at = "45s"
        duration = "30s"
    "#;
    let r = simulation::run(&model(toml)).unwrap();
    let (ok, failed) = outcomes(&r, "front", 90.0, 180.0);
    assert!(ok > 4_000 && failed == 0, "ok {ok}, failed {failed}");
    assert!(r.summary.workloads["front"].failures["no_instance"] > 0);
}

/// An entry that expired before a registry outage stays evicted: the
/// heartbeat clocks restarted after the outage do not revive it, whatever
/// the time-series window (which must never change results).
#[test]
fn a_registry_outage_does_not_revive_expired_entries() {
    let failures = |window: &str| {
        let toml = format!(
            r#"
            [simulation]
            duration = "20m"
            seed = 3
            window = "{window}"
            [registry]
            replicas = 1
            heartbeat = "5s"
            ttl = "30s"
            [discovery]
            cache_ttl = "60s"
            [services.inv]
            replicas = 2
            concurrency = 8
            [services.inv.endpoints.r]
            work = "1ms"
            [services.co]
            concurrency = 8
            [services.co.endpoints.b]
            steps = [{{ call = "inv.r", timeout = "1s" }}]
            [[workloads]]
            name = "w"
            target = "co.b"
            arrival = {{ process = "poisson", rate = 20 }}
            [[faults]]
            kind = "crash"
            service = "inv"
            replicas = 1
            at = "600s"
            [[faults]]
            kind = "crash"
            service = "registry"
            at = "640s"
            duration = "10s"
            "#
        );
        let r = simulation::run(&model(&toml)).unwrap();
        let (_, last) = dead_routing_span(&r, "co");
        (r.summary.workloads["w"].failed, last)
    };
    let (a, last) = failures("1s");
    assert_eq!(failures("60s").0, a);
    // Evicted by 630s, lists refreshed by 690s (+ a window).
    assert!(last <= 600.0 + 30.0 + 60.0 + 1.0, "{last}");
}

/// Outlier ejection is the mitigation for stale lists: callers eject the
/// dead address after a few refused calls, long before the registry and
/// their lists catch up.
#[test]
fn outlier_ejection_stops_calls_to_a_stale_address() {
    let base = run("stale-registry.toml", &[]).summary;
    let ejecting = run(
        "stale-registry.toml",
        &["services.inventory.outlier_ejection={ consecutive_failures = 5, eject_for = \"30s\", max_ejected = 0.5 }"],
    )
    .summary;
    let failed = |s: &Summary| s.workloads["checkout"].failed;
    assert_eq!(failed(&base), 2_070);
    // Five refusals eject it for 30s; once more before the lists forget it.
    assert!(failed(&ejecting) <= 10, "{}", failed(&ejecting));
    assert!(ejecting.services["inventory"].ejections >= 1);
    // The restarted instance (a new address) is not held to the old
    // one's failures: it serves.
    assert_eq!(
        pair(&ejecting, "checkout->inventory").new_instances_discovered,
        1
    );
}
