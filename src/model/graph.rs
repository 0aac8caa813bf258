//! The call graph between endpoints: who calls whom, cycle detection and a
//! callees-first order. Iterative, so a long chain of calls cannot overflow
//! the stack.

use super::{CallSite, Endpoint, Messaging, Step};

/// The call sites of `e`'s steps, in order.
pub fn call_sites(e: &Endpoint) -> impl Iterator<Item = &CallSite> + '_ {
    e.steps.iter().flat_map(|s| {
        let calls: &[CallSite] = match s {
            Step::Work(_) | Step::Publish(_) | Step::Read(_) => &[],
            Step::Call(c) => std::slice::from_ref(c),
            Step::Parallel(cs) => cs,
        };
        calls.iter()
    })
}

/// Endpoints called by `e`'s steps, once per call (repeats kept).
pub fn callees(e: &Endpoint) -> impl Iterator<Item = usize> + '_ {
    call_sites(e).map(|c| c.target as usize)
}

/// Services whose endpoints a request to `entry` may reach, `entry`'s
/// own service included; in service order.
pub fn services_reached(model: &super::Model, entry: super::EndpointId) -> Vec<usize> {
    let mut seen = vec![false; model.endpoints.len()];
    let mut stack = vec![entry as usize];
    seen[entry as usize] = true;
    while let Some(e) = stack.pop() {
        for c in callees(&model.endpoints[e]) {
            if !seen[c] {
                seen[c] = true;
                stack.push(c);
            }
        }
    }
    let mut services = vec![false; model.services.len()];
    for (e, s) in seen.iter().enumerate() {
        if *s {
            services[model.endpoints[e].service as usize] = true;
        }
    }
    (0..services.len()).filter(|&s| services[s]).collect()
}

/// Who leads to whom: every endpoint's callees (repeats kept), then, with
/// messaging, each publish's topic endpoint (at the broker) and each topic
/// endpoint's subscription handlers. Work flows along these edges, so
/// load propagates and cycles are found along them.
pub fn adjacency(endpoints: &[Endpoint], messaging: &Messaging) -> Vec<Vec<usize>> {
    let mut adj: Vec<Vec<usize>> = endpoints.iter().map(|e| callees(e).collect()).collect();
    if !messaging.on() {
        return adj;
    }
    for (e, ep) in endpoints.iter().enumerate() {
        for s in &ep.steps {
            if let Step::Publish(p) = s {
                adj[e].push(messaging.topics[p.topic as usize].endpoint as usize);
            }
        }
    }
    for t in &messaging.topics {
        for &s in &t.subscriptions {
            adj[t.endpoint as usize].push(messaging.subscriptions[s as usize].handler as usize);
        }
    }
    adj
}

/// Depth-first search over the whole graph. Returns the post-order (every
/// endpoint after all it leads to) or, if there is a cycle, the cycle as
/// endpoint indices with its first element repeated at the end.
fn dfs(adjacency: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let n = adjacency.len();
    let mut marks = vec![Mark::New; n];
    let mut order = Vec::with_capacity(n);
    // (endpoint, index of its next callee to visit)
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..n {
        if marks[start] != Mark::New {
            continue;
        }
        marks[start] = Mark::Active;
        stack.push((start, 0));
        while let Some(top) = stack.last_mut() {
            let (at, next) = *top;
            if let Some(&c) = adjacency[at].get(next) {
                top.1 += 1;
                match marks[c] {
                    Mark::New => {
                        marks[c] = Mark::Active;
                        stack.push((c, 0));
                    }
                    Mark::Active => {
                        let from = stack
                            .iter()
                            .position(|&(x, _)| x == c)
                            .expect("active is on the stack");
                        let mut cycle: Vec<usize> = stack[from..].iter().map(|&(x, _)| x).collect();
                        cycle.push(c);
                        return Err(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                marks[at] = Mark::Done;
                order.push(at);
                stack.pop();
            }
        }
    }
    Ok(order)
}

/// A call or event cycle, if any: endpoint indices, the first repeated
/// at the end.
pub fn find_cycle(endpoints: &[Endpoint], messaging: &Messaging) -> Option<Vec<usize>> {
    dfs(&adjacency(endpoints, messaging)).err()
}

/// A cycle through a saga's compensating calls (which `adjacency` leaves
/// out: they are no load edges), if any: a compensation that leads back
/// to its saga would start the saga again from its own failure path.
pub fn find_compensation_cycle(
    endpoints: &[Endpoint],
    messaging: &Messaging,
) -> Option<Vec<usize>> {
    let mut adj = adjacency(endpoints, messaging);
    for (e, ep) in endpoints.iter().enumerate() {
        if let Some(saga) = &ep.saga {
            adj[e].extend(
                saga.compensations
                    .iter()
                    .flatten()
                    .map(|c| c.target as usize),
            );
        }
    }
    dfs(&adj).err()
}

/// Every endpoint after all the endpoints it leads to (calls, and with
/// messaging, events). The model is acyclic (validated), so this always
/// exists.
pub fn callees_first(endpoints: &[Endpoint], messaging: &Messaging) -> Vec<usize> {
    dfs(&adjacency(endpoints, messaging)).expect("validated models have no call cycles")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(calls: &[u32]) -> Endpoint {
        Endpoint {
            service: 0,
            name: String::new(),
            steps: calls
                .iter()
                .map(|c| {
                    Step::Call(CallSite {
                        target: *c,
                        client: 0,
                        optional: false,
                        local: false,
                    })
                })
                .collect(),
            idempotent: false,
            tracked: false,
            saga: None,
        }
    }

    #[test]
    fn orders_callees_first_and_finds_cycles() {
        let eps = vec![ep(&[1, 2]), ep(&[2]), ep(&[])];
        assert_eq!(callees_first(&eps, &Messaging::default()), vec![2, 1, 0]);
        let cyclic = vec![ep(&[1]), ep(&[2]), ep(&[0])];
        assert_eq!(
            find_cycle(&cyclic, &Messaging::default()),
            Some(vec![0, 1, 2, 0])
        );
    }

    #[test]
    fn a_very_long_chain_does_not_overflow_the_stack() {
        let n = 200_000u32;
        let eps: Vec<Endpoint> = (0..n)
            .map(|i| if i + 1 < n { ep(&[i + 1]) } else { ep(&[]) })
            .collect();
        assert_eq!(callees_first(&eps, &Messaging::default()).len(), n as usize);
        assert!(find_cycle(&eps, &Messaging::default()).is_none());
    }
}
