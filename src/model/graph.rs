//! The call graph between endpoints: who calls whom, cycle detection and a
//! callees-first order. Iterative, so a long chain of calls cannot overflow
//! the stack.

use super::{CallSite, Endpoint, Step};

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

/// Depth-first search over the whole graph. Returns the post-order (every
/// endpoint after all it calls) or, if there is a cycle, the cycle as
/// endpoint indices with its first element repeated at the end.
fn dfs(endpoints: &[Endpoint]) -> Result<Vec<usize>, Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let adjacency: Vec<Vec<usize>> = endpoints.iter().map(|e| callees(e).collect()).collect();
    let mut marks = vec![Mark::New; endpoints.len()];
    let mut order = Vec::with_capacity(endpoints.len());
    // (endpoint, index of its next callee to visit)
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..endpoints.len() {
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

/// A call cycle, if any: endpoint indices, the first repeated at the end.
pub fn find_cycle(endpoints: &[Endpoint]) -> Option<Vec<usize>> {
    dfs(endpoints).err()
}

/// Every endpoint after all the endpoints it calls. The model is acyclic
/// (validated), so this always exists.
pub fn callees_first(endpoints: &[Endpoint]) -> Vec<usize> {
    dfs(endpoints).expect("validated models have no call cycles")
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
        assert_eq!(callees_first(&eps), vec![2, 1, 0]);
        let cyclic = vec![ep(&[1]), ep(&[2]), ep(&[0])];
        assert_eq!(find_cycle(&cyclic), Some(vec![0, 1, 2, 0]));
    }

    #[test]
    fn a_very_long_chain_does_not_overflow_the_stack() {
        let n = 200_000u32;
        let eps: Vec<Endpoint> = (0..n)
            .map(|i| if i + 1 < n { ep(&[i + 1]) } else { ep(&[]) })
            .collect();
        assert_eq!(callees_first(&eps).len(), n as usize);
        assert!(find_cycle(&eps).is_none());
    }
}
