//! Warnings about a valid model that probably does not do what its author
//! meant: printed before a run (and by `check`), never fatal.

use super::*;
use crate::engine::time::fmt_ns;

/// One line per suspicious setting, in scenario order.
pub fn lint(model: &Model) -> Vec<String> {
    let mut out = Vec::new();
    let svc = |s: ServiceId| model.services[s as usize].name.as_str();
    // Clients from `from` to `to` and whether each has a timeout.
    let clients_between = |from: ServiceId, to: ServiceId| {
        model
            .clients
            .iter()
            .filter(move |c| c.caller == from && c.callee == to)
    };
    for f in &model.faults {
        if f.at >= model.duration {
            out.push(format!(
                "warning: fault `{}` starts at {}, at or after the end of the run ({}): it has no effect",
                f.name,
                fmt_ns(f.at),
                fmt_ns(model.duration)
            ));
            continue;
        }
        match f.kind {
            FaultKind::Partition { from, to, mode } => {
                let mut any = false;
                for c in clients_between(from, to) {
                    any = true;
                    if mode == FailMode::Drop && c.policy.timeout.is_none() {
                        out.push(format!(
                            "warning: fault `{}` drops calls from {} to {}, and calls through `{}` have no timeout: they wait until the end of the run",
                            f.name, svc(from), svc(to), c.name
                        ));
                    }
                }
                if !any {
                    out.push(format!(
                        "warning: fault `{}` partitions {} from {}, but no endpoint of {} calls {}: it has no effect",
                        f.name, svc(from), svc(to), svc(from), svc(to)
                    ));
                }
            }
            FaultKind::Crash {
                service,
                mode: FailMode::Drop,
                ..
            }
            | FaultKind::RandomCrashes {
                service,
                mode: FailMode::Drop,
                ..
            } => {
                for c in model.clients.iter().filter(|c| c.callee == service) {
                    if c.policy.timeout.is_none() {
                        out.push(format!(
                            "warning: fault `{}` crashes {} with mode = \"drop\", and calls through `{}` have no timeout: calls to a dead replica wait until the end of the run",
                            f.name, svc(service), c.name
                        ));
                    }
                }
            }
            FaultKind::RandomCrashes { service, mtbf, .. } => {
                let span = f.until.saturating_sub(f.at) as f64;
                let crashes =
                    span / mtbf as f64 * f64::from(model.services[service as usize].replicas);
                if crashes > 1e6 {
                    out.push(format!(
                        "warning: fault `{}` will crash about {crashes:.0} times (mtbf {}): the run will be slow and mostly crashes",
                        f.name,
                        fmt_ns(mtbf)
                    ));
                }
            }
            FaultKind::Errors {
                probability: 0.0, ..
            } => out.push(format!(
                "warning: fault `{}` has probability = 0: it fails nothing",
                f.name
            )),
            FaultKind::Latency {
                ref extra,
                fraction,
                ..
            } if fraction == 0.0 || extra.mean() == 0.0 => out.push(format!(
                "warning: fault `{}` adds no latency (fraction or extra time is 0)",
                f.name
            )),
            FaultKind::SlowReplica { factor: 1.0, .. } => out.push(format!(
                "warning: fault `{}` has factor = 1: the replica is not slower",
                f.name
            )),
            _ => {}
        }
    }
    for c in &model.clients {
        if let Some(t) = c.policy.timeout {
            if (t as f64) < 2.0 * model.network.mean() {
                out.push(format!(
                    "warning: calls through `{}` time out after {}, less than the mean network round trip: nearly every attempt will time out",
                    c.name,
                    fmt_ns(t)
                ));
            }
        }
    }
    out
}
