//! The capacity table: offered load per service from the workload rates,
//! call multiplicities and mean work times, against replicas x concurrency.
//! Computed from the model alone, before any simulation, so `check` and the
//! start of `run` can warn about load that can never be served.

use super::*;
use crate::model::graph;

/// One service's row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CapacityRow {
    /// Service name.
    pub service: String,
    /// Requests per second arriving at the service (at peak rates).
    pub offered_rps: f64,
    /// Mean time a request holds a worker, in ms (for blocking services a
    /// lower bound: it includes downstream work and network hops, but no
    /// downstream queueing).
    pub mean_hold_ms: f64,
    /// Workers kept busy on average: offered_rps x hold time.
    pub busy_workers: f64,
    /// replicas x concurrency.
    pub workers: u64,
    /// busy_workers / workers.
    pub utilization: f64,
}

/// Capacity rows in service order. Open workloads count at their peak rate;
/// closed workloads at their highest possible rate, users / (mean think
/// time + response time without queueing). A closed workload cannot grow
/// queues without bound, but utilisation >= 1 still means its bottleneck is
/// saturated and response times grow with the number of users.
pub fn capacity(model: &Model) -> Vec<CapacityRow> {
    // Every endpoint after all it calls; computed once, walked both ways.
    let adjacency = graph::adjacency(&model.endpoints, &model.messaging);
    let order = graph::callees_first(&model.endpoints, &model.messaging);
    let response = responses(model, &order);
    let (mut visits, mut entered) = visits(model, &adjacency, &order, &response);
    if let Some(r) = &model.registry {
        visits[r.lookup as usize] += lookups(model, &visits);
    }
    for (e, ep) in model.endpoints.iter().enumerate() {
        for c in graph::call_sites(ep).filter(|c| !c.local) {
            entered[c.target as usize] += visits[e];
        }
    }
    // Publishes enter the broker, and their events each subscription's
    // handler (once each: redeliveries, like retries, are not counted).
    for (e, next) in adjacency.iter().enumerate() {
        let calls = graph::callees(&model.endpoints[e]).count();
        for &t in &next[calls..] {
            entered[t] += visits[e];
        }
    }
    if let Some(r) = &model.registry {
        entered[r.lookup as usize] = visits[r.lookup as usize];
    }
    let hold = hold_times(model, &response);
    model
        .services
        .iter()
        .enumerate()
        .map(|(sid, s)| {
            let eps = s.endpoints.iter().map(|&e| e as usize);
            // In-process calls (monolith mode) are no extra admission:
            // with blocking io their time is in their caller's hold, with
            // async io they hold a worker for their own work steps.
            let offered: f64 = eps.clone().map(|e| entered[e]).sum();
            let busy: f64 = eps
                .map(|e| match s.io {
                    Io::Blocking => entered[e] * hold[e],
                    Io::Async => visits[e] * hold[e],
                } / 1e9)
                .sum();
            // With scaling, the most replicas it will have: the peak load
            // is judged against the capacity it can reach (the autoscaler
            // or a scheduled scale-up has to get there in time).
            let most = model
                .scales
                .iter()
                .filter(|x| x.service as usize == sid)
                .map(|x| x.replicas)
                .chain(s.autoscale.map(|a| a.max))
                .fold(s.replicas, u32::max);
            let workers = u64::from(most) * u64::from(s.concurrency);
            CapacityRow {
                service: s.name.clone(),
                offered_rps: offered,
                mean_hold_ms: if offered > 0.0 {
                    busy / offered * 1e3
                } else {
                    0.0
                },
                busy_workers: busy,
                workers,
                utilization: busy / workers as f64,
            }
        })
        .collect()
}

/// Calls per second reaching each endpoint (entry requests, calls and
/// events, at peak rates), and the entry requests alone (what enters an
/// endpoint before the calls over the network are added).
fn visits(
    model: &Model,
    adjacency: &[Vec<usize>],
    order: &[usize],
    response: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let mut visits = vec![0.0f64; model.endpoints.len()];
    for w in &model.workloads {
        let rate = match &w.arrival {
            Arrival::Open { rate, schedule, .. } => schedule
                .iter()
                .filter(|(at, _)| *at < model.duration)
                .map(|(_, r)| *r)
                .fold(*rate, f64::max),
            Arrival::Closed { users, think } => {
                let t = (think.mean() + response[w.target as usize]) / 1e9;
                if t > 0.0 {
                    *users as f64 / t
                } else {
                    f64::INFINITY
                }
            }
        };
        visits[w.target as usize] += rate;
    }
    // Workload requests enter their endpoint; so do calls over the network.
    let entered = visits.clone();
    propagate(adjacency, order, &mut visits);
    (visits, entered)
}

/// One subscription's load: its events per second (at peak rates) and how
/// many handlers they keep in flight (rate x the handler's response time
/// without queueing), against its `concurrency`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionLoad {
    /// `TOPIC->SERVICE`.
    pub name: String,
    /// Events per second stored on the topic.
    pub events_per_s: f64,
    /// Mean response time of the handler, in ms.
    pub handler_ms: f64,
    /// Handlers kept in flight on average: events_per_s x handler time.
    pub in_flight: f64,
    /// The subscription's concurrency.
    pub concurrency: u32,
}

/// Every subscription's load, in subscription order: those whose
/// `in_flight` reaches their `concurrency` can never keep up, and their
/// lag grows without bound whatever the subscriber's replicas.
pub fn subscription_loads(model: &Model) -> Vec<SubscriptionLoad> {
    let m = &model.messaging;
    if m.subscriptions.is_empty() {
        return Vec::new();
    }
    let adjacency = graph::adjacency(&model.endpoints, m);
    let order = graph::callees_first(&model.endpoints, m);
    let response = responses(model, &order);
    let (visits, _) = visits(model, &adjacency, &order, &response);
    m.subscriptions
        .iter()
        .map(|s| {
            let topic = &m.topics[s.topic as usize];
            let rate = visits[topic.endpoint as usize];
            let handler = response[s.handler as usize];
            SubscriptionLoad {
                name: format!(
                    "{}->{}",
                    topic.name, model.services[s.service as usize].name
                ),
                events_per_s: rate,
                handler_ms: handler / 1e6,
                in_flight: rate * handler / 1e9,
                concurrency: s.concurrency,
            }
        })
        .collect()
}

/// Propagates entry rates down the (acyclic) graph of calls and events,
/// callers before callees, so shared callees are visited once however the
/// graph fans in.
fn propagate(adjacency: &[Vec<usize>], order: &[usize], visits: &mut [f64]) {
    for &e in order.iter().rev() {
        let v = visits[e];
        for &c in &adjacency[e] {
            visits[c] += v;
        }
    }
}

/// Lookups per second the callers send the registry, an estimate from
/// the call rates in `visits` (calls, not retries, like the rest of the
/// table): in mode "per_request" every call looks its callee up; in mode
/// "cached" each replica of the caller looks each callee service up at
/// most once per `cache_ttl` (with `refresh = "on_call"` never more often
/// than it calls it; a background refresh runs regardless of traffic, and
/// a list is refreshed at most once per `cache_ttl` plus a lookup's round
/// trip, since one refresh waits for the previous);
/// "static" lists are fetched once at start, which is negligible. The
/// lookups' own time is not added to the callers' response times.
fn lookups(model: &Model, visits: &[f64]) -> f64 {
    use std::collections::BTreeMap;
    let mut per_request = 0.0;
    // Calls per second from each caller service to each callee service.
    let mut pairs: BTreeMap<(ServiceId, ServiceId), f64> = BTreeMap::new();
    for (e, ep) in model.endpoints.iter().enumerate() {
        let Some(d) = model.discovery[ep.service as usize] else {
            continue;
        };
        for c in graph::call_sites(ep) {
            match d.mode {
                Mode::PerRequest => per_request += visits[e],
                Mode::Cached => {
                    let callee = model.endpoints[c.target as usize].service;
                    *pairs.entry((ep.service, callee)).or_default() += visits[e];
                }
                Mode::Static => {}
            }
        }
    }
    // A lookup's round trip: two hops and the registry's work.
    let round_trip = model.registry.as_ref().map_or(0.0, |r| {
        let work: f64 = model.endpoints[r.lookup as usize]
            .steps
            .iter()
            .map(|s| match s {
                Step::Work(d) => d.mean(),
                _ => 0.0,
            })
            .sum();
        work + 2.0 * model.network.mean()
    });
    let cached: f64 = pairs
        .iter()
        .map(|(&(caller, _), &calls)| {
            let d = model.discovery[caller as usize].expect("only discovering callers");
            let ttl = (d.cache_ttl as f64 + round_trip) / 1e9;
            let refreshes = f64::from(model.services[caller as usize].replicas) / ttl;
            match d.refresh {
                Refresh::OnCall => refreshes.min(calls),
                Refresh::Background => refreshes,
            }
        })
        .sum();
    per_request + cached
}

/// Mean response time of each endpoint without any queueing, in ns: its
/// work, plus for each call two network hops (none in-process) and the
/// callee's response (the slowest mean of a parallel group: a lower bound
/// of its maximum).
fn responses(model: &Model, order: &[usize]) -> Vec<f64> {
    let net = 2.0 * model.network.mean();
    let call = |c: &CallSite, t: &[f64]| {
        if c.local {
            t[c.target as usize]
        } else {
            net + t[c.target as usize]
        }
    };
    let mut t = vec![0.0; model.endpoints.len()];
    // Callees first, so each callee's response is known when needed.
    for &e in order {
        t[e] = model.endpoints[e]
            .steps
            .iter()
            .map(|step| match step {
                Step::Work(d) => d.mean(),
                Step::Call(c) => call(c, &t),
                Step::Parallel(cs) => cs.iter().map(|c| call(c, &t)).fold(0.0, f64::max),
                // An acknowledged publish waits for the broker's round
                // trip; fire-and-forget and outbox writes do not.
                Step::Publish(p) if p.ack && !p.outbox => {
                    net + t[model.messaging.topics[p.topic as usize].endpoint as usize]
                }
                Step::Publish(_) | Step::Read(_) => 0.0,
            })
            .sum();
    }
    t
}

/// Mean worker-holding time per endpoint, in ns (see [`CapacityRow`]):
/// the whole response for blocking services, only the work for async ones.
fn hold_times(model: &Model, response: &[f64]) -> Vec<f64> {
    model
        .endpoints
        .iter()
        .enumerate()
        .map(|(e, ep)| match model.services[ep.service as usize].io {
            Io::Blocking => response[e],
            Io::Async => ep
                .steps
                .iter()
                .map(|s| match s {
                    Step::Work(d) => d.mean(),
                    _ => 0.0,
                })
                .sum(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lognormal_mean(median: f64, p99: f64) -> f64 {
        let sigma = (p99 / median).ln() / crate::dist::Z99;
        median * (sigma * sigma / 2.0).exp()
    }

    /// The checkout scenario's table, recomputed by hand from its
    /// parameters: rates x multiplicities x mean times.
    #[test]
    fn checkout_capacity_matches_hand_computation() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/checkout.toml");
        let model = crate::scenario::load(&path, &[]).unwrap().model;
        let rows = capacity(&model);
        let row = |n: &str| rows.iter().find(|r| r.service == n).unwrap().clone();
        let rtt = 2.0 * lognormal_mean(0.4, 2.0);
        let charge = lognormal_mean(15.0, 120.0);
        let place = 4.0 + rtt + 3.0 + rtt + charge;
        let status = 1.0 + (rtt + 3.0).max(rtt + charge);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6 * b.max(1.0);

        let user = row("user");
        assert!(close(user.offered_rps, 200.0) && close(user.mean_hold_ms, 3.0));
        assert!(close(user.utilization, 200.0 * 0.003 / 8.0));
        let payment = row("payment");
        assert!(close(payment.mean_hold_ms, charge), "{payment:?}");
        let order = row("order");
        let hold = (150.0 * place + 50.0 * status) / 200.0;
        assert!(close(order.mean_hold_ms, hold), "{order:?} vs {hold}");
        assert!(close(order.utilization, 200.0 * hold / 1000.0 / 48.0));
    }

    /// A closed workload's rate is bounded by users / (think + response).
    #[test]
    fn closed_workloads_are_bounded_by_their_cycle_time() {
        let model = crate::scenario::test_model(
            r#"
            [simulation]
            duration = "1m"
            [services.s.endpoints.e]
            work = "10ms"
            [[workloads]]
            name = "w"
            target = "s.e"
            arrival = { process = "closed", users = 10, think = "90ms" }
            "#,
        );
        let row = &capacity(&model)[0];
        assert!((row.offered_rps - 100.0).abs() < 1e-9, "{row:?}");
        assert!((row.utilization - 1.0).abs() < 1e-9, "{row:?}");
    }

    /// The registry's load: every call of a per_request caller is a
    /// lookup; a cached caller looks each callee up at most once per
    /// replica and cache_ttl (fewer when it calls less often, on_call), or
    /// exactly that often (background); a static one not at all.
    #[test]
    fn registry_load_follows_the_callers_modes() {
        let scenario = |api: &str, web: &str| {
            crate::scenario::test_model(&format!(
                r#"
                [simulation]
                duration = "1m"
                [registry]
                [services.db.endpoints.get]
                work = "1ms"
                [services.api]
                replicas = 4
                discovery = {{ {api} }}
                [services.api.endpoints.e]
                steps = [{{ call = "db.get" }}, {{ parallel = [{{ call = "db.get" }}, {{ call = "db.get" }}] }}]
                [services.web]
                replicas = 2
                discovery = {{ {web} }}
                [services.web.endpoints.e]
                steps = [{{ call = "db.get" }}, {{ call = "api.e" }}]
                [[workloads]]
                name = "w"
                target = "web.e"
                arrival = {{ process = "poisson", rate = 100 }}
                "#
            ))
        };
        let registry = |m: &Model| capacity(m).last().unwrap().clone();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;

        // api calls db 3 times per request, web calls db and api once each.
        let m = scenario("mode = \"per_request\"", "mode = \"per_request\"");
        let row = registry(&m);
        assert_eq!(row.service, "registry");
        assert!(close(row.offered_rps, 300.0 + 200.0), "{row:?}");
        // Each lookup holds a worker for the default lookup time.
        let hold = lognormal_mean(1.0, 5.0);
        assert!((row.mean_hold_ms - hold).abs() < 1e-9, "{row:?} vs {hold}");
        assert_eq!(row.workers, 3 * 32);

        // Cached, 10s: api (4 replicas) -> db: 0.4/s; web (2) -> db and
        // web -> api: 0.2/s each.
        let m = scenario("cache_ttl = \"10s\"", "cache_ttl = \"10s\"");
        // (a lookup's round trip adds a hair to each 10s period)
        let near = |a: f64, b: f64| (a - b).abs() < 1e-3 * b;
        assert!(near(registry(&m).offered_rps, 0.4 + 0.2 + 0.2));

        // On call, a caller never looks up more often than it calls: web
        // calls at 100/s, but with a 1ms ttl 2 replicas could refresh
        // 2000 times a second. A background refresh does, traffic or not.
        let m = scenario("mode = \"static\"", "cache_ttl = \"1ms\"");
        assert!(close(registry(&m).offered_rps, 100.0 + 100.0));
        // A list is refreshed once per cache_ttl plus a lookup's round
        // trip (here no network and a lookup of mean 1.26ms).
        let m = scenario(
            "mode = \"static\"",
            "cache_ttl = \"1ms\", refresh = \"background\"",
        );
        let lookup = match &m.endpoints[m.registry.as_ref().unwrap().lookup as usize].steps[0] {
            Step::Work(d) => d.mean(),
            _ => unreachable!(),
        };
        let per_replica = 1e9 / (1e6 + lookup);
        assert!(near(registry(&m).offered_rps, 4.0 * per_replica));
        assert!(registry(&m).offered_rps < 2000.0);

        let m = scenario("mode = \"static\"", "mode = \"static\"");
        assert_eq!(registry(&m).offered_rps, 0.0);
    }

    /// Rate steps scheduled after the end of the run do not count.
    #[test]
    fn schedule_steps_after_the_end_are_ignored() {
        let model = crate::scenario::test_model(
            r#"
            [simulation]
            duration = "10s"
            [services.s.endpoints.e]
            work = "10ms"
            [[workloads]]
            name = "w"
            target = "s.e"
            arrival = { process = "poisson", rate = 10, schedule = [ { at = "5s", rate = 20 }, { at = "1h", rate = 10000 } ] }
            "#,
        );
        assert!((capacity(&model)[0].offered_rps - 20.0).abs() < 1e-9);
    }
}
