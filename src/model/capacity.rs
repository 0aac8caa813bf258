//! The capacity table: offered load per service from the workload rates,
//! call multiplicities and mean work times, against replicas x concurrency.
//! Computed from the model alone, before any simulation, so `check` and the
//! start of `run` can warn about load that can never be served.

use super::*;

/// One service's row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CapacityRow {
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
/// closed workloads at their highest possible rate, users / mean think time.
pub fn capacity(model: &Model) -> Vec<CapacityRow> {
    let n = model.endpoints.len();
    // Calls per second reaching each endpoint.
    let mut visits = vec![0.0f64; n];
    for w in &model.workloads {
        let rate = match &w.arrival {
            Arrival::Open { rate, schedule, .. } => {
                schedule.iter().map(|(_, r)| *r).fold(*rate, f64::max)
            }
            Arrival::Closed { users, think } => {
                let t = think.mean() / 1e9;
                if t > 0.0 {
                    *users as f64 / t
                } else {
                    f64::INFINITY
                }
            }
        };
        visits[w.target as usize] += rate;
    }
    propagate(model, &mut visits);
    let hold = hold_times(model);
    model
        .services
        .iter()
        .map(|s| {
            let eps = s.endpoints.iter().map(|&e| e as usize);
            let offered: f64 = eps.clone().map(|e| visits[e]).sum();
            let busy: f64 = eps.map(|e| visits[e] * hold[e] / 1e9).sum();
            let workers = u64::from(s.replicas) * u64::from(s.concurrency);
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

/// Endpoints called by `ep`'s steps, once per call.
fn callees(model: &Model, ep: usize) -> impl Iterator<Item = usize> + '_ {
    model.endpoints[ep].steps.iter().flat_map(|s| {
        let calls: &[EndpointId] = match s {
            Step::Work(_) => &[],
            Step::Call(c) => std::slice::from_ref(c),
            Step::Parallel(cs) => cs,
        };
        calls.iter().map(|c| *c as usize)
    })
}

/// Propagates entry rates down the (acyclic) call graph in topological
/// order, so shared callees are visited once however the graph fans in.
fn propagate(model: &Model, visits: &mut [f64]) {
    fn post(model: &Model, e: usize, seen: &mut [bool], order: &mut Vec<usize>) {
        seen[e] = true;
        let next: Vec<usize> = callees(model, e).collect();
        for c in next {
            if !seen[c] {
                post(model, c, seen, order);
            }
        }
        order.push(e);
    }
    let n = model.endpoints.len();
    let mut seen = vec![false; n];
    let mut order = Vec::with_capacity(n);
    for e in 0..n {
        if !seen[e] {
            post(model, e, &mut seen, &mut order);
        }
    }
    // Reverse post-order: every caller before its callees.
    for &e in order.iter().rev() {
        let v = visits[e];
        let next: Vec<usize> = callees(model, e).collect();
        for c in next {
            visits[c] += v;
        }
    }
}

/// Mean worker-holding time per endpoint, in ns (see [`CapacityRow`]).
fn hold_times(model: &Model) -> Vec<f64> {
    let net = 2.0 * model.network.mean();
    // Response time (no queueing) of each endpoint, memoised; the call
    // graph is acyclic (validated), so recursion terminates.
    fn response(model: &Model, ep: usize, net: f64, memo: &mut [Option<f64>]) -> f64 {
        if let Some(v) = memo[ep] {
            return v;
        }
        let mut t = 0.0;
        for step in &model.endpoints[ep].steps {
            t += match step {
                Step::Work(d) => d.mean(),
                Step::Call(c) => net + response(model, *c as usize, net, memo),
                Step::Parallel(cs) => cs
                    .iter()
                    .map(|c| net + response(model, *c as usize, net, memo))
                    .fold(0.0, f64::max),
            };
        }
        memo[ep] = Some(t);
        t
    }
    let mut memo = vec![None; model.endpoints.len()];
    (0..model.endpoints.len())
        .map(|e| {
            let ep = &model.endpoints[e];
            match model.services[ep.service as usize].io {
                Io::Blocking => response(model, e, net, &mut memo),
                Io::Async => ep
                    .steps
                    .iter()
                    .map(|s| match s {
                        Step::Work(d) => d.mean(),
                        _ => 0.0,
                    })
                    .sum(),
            }
        })
        .collect()
}
