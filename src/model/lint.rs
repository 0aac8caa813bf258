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
    for (i, sc) in model.scales.iter().enumerate() {
        if model.scales[..i]
            .iter()
            .any(|o| o.service == sc.service && o.at == sc.at && o.replicas != sc.replicas)
        {
            out.push(format!(
                "warning: two [[scale]] entries set {} at {} (to different counts); the later one in the file wins",
                svc(sc.service),
                fmt_ns(sc.at)
            ));
        }
        if sc.at >= model.duration {
            out.push(format!(
                "warning: a [[scale]] of {} at {} is at or after the end of the run ({}): it has no effect",
                svc(sc.service),
                fmt_ns(sc.at),
                fmt_ns(model.duration)
            ));
        }
    }
    for d in &model.deploys {
        if d.at >= model.duration {
            out.push(format!(
                "warning: deploy `{}` starts at or after the end of the run ({}): it has no effect",
                d.name,
                fmt_ns(model.duration)
            ));
        }
    }
    for s in &model.services {
        if let Some(a) = &s.autoscale {
            if a.interval >= model.duration {
                out.push(format!(
                    "warning: the autoscaler of {} first evaluates after {}, at or after the end of the run: it never acts",
                    s.name,
                    fmt_ns(a.interval)
                ));
            }
        }
    }
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
            FaultKind::Partition { .. } if model.deployment.is_monolith() => out.push(format!(
                "warning: fault `{}` partitions {}, components that call each other in-process in monolith mode: it has no effect",
                f.name, f.target
            )),
            FaultKind::Partition { from, to, mode } => {
                // Every instance heartbeats to the registry, and callers
                // that look instances up reach it, without any `call`.
                let mut any = model.registry.as_ref().is_some_and(|r| r.service == to);
                // Publishes cross from a publisher to its broker, and
                // deliveries from a broker to its subscribers, without any
                // `call` either.
                let m = &model.messaging;
                let broker_of = |t: &messaging::Topic| m.brokers[t.broker as usize].service;
                any |= model.endpoints.iter().any(|e| {
                    e.service == from
                        && e.steps.iter().any(|s| {
                            matches!(s, Step::Publish(p)
                                if broker_of(&m.topics[p.topic as usize]) == to)
                        })
                });
                any |= m.subscriptions.iter().any(|s| {
                    s.service == to && broker_of(&m.topics[s.topic as usize]) == from
                });
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
    if let Some(r) = &model.registry {
        let all_static = model
            .discovery
            .iter()
            .flatten()
            .all(|d| d.mode == Mode::Static);
        if all_static {
            out.push(format!(
                "warning: there is a [registry], but every service uses mode = \"static\": no caller looks instances up, so `{}` only receives heartbeats",
                model.services[r.service as usize].name
            ));
        }
    }
    for c in &model.clients {
        let blackhole = model.discovery[c.caller as usize]
            .is_some_and(|d| d.dead_instances == DeadInstances::Blackhole);
        if blackhole && c.policy.timeout.is_none() {
            out.push(format!(
                "warning: {} uses dead_instances = \"blackhole\", and calls through `{}` have no timeout: a call routed to a dead instance waits until the end of the run",
                svc(c.caller),
                c.name
            ));
        }
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
    let m = &model.messaging;
    for (ti, t) in m.topics.iter().enumerate() {
        let broker = &m.brokers[t.broker as usize].name;
        let published = model.endpoints.iter().any(|e| {
            e.steps
                .iter()
                .any(|s| matches!(s, Step::Publish(p) if p.topic as usize == ti))
        });
        if t.subscriptions.is_empty() {
            out.push(format!(
                "warning: topic {} (broker {broker}) has no subscriber: its events are stored and never delivered; add [services.NAME.subscriptions.{}]",
                t.name, t.name
            ));
        }
        if !published {
            out.push(format!(
                "warning: no endpoint publishes to topic {} (broker {broker}): add a {{ publish = \"{}\" }} step",
                t.name, t.name
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `api` calls `db`, with `extra` tables appended.
    fn lints(extra: &str) -> Vec<String> {
        lint(&crate::scenario::test_model(&format!(
            r#"
            [simulation]
            duration = "1m"
            [services.db.endpoints.get]
            work = "1ms"
            [services.api.endpoints.list]
            steps = [{{ call = "db.get" }}]
            [[workloads]]
            name = "w"
            target = "api.list"
            arrival = {{ process = "poisson", rate = 10 }}
            {extra}
            "#
        )))
    }

    #[test]
    fn a_registry_nobody_looks_up_is_a_warning() {
        let w = lints("[registry]\n[discovery]\nmode = \"static\"");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("every service uses mode = \"static\""),
            "{w:?}"
        );
        assert!(w[0].contains("only receives heartbeats"), "{w:?}");
        // One caller looking up is enough.
        let w = lints("[registry]\n[discovery]\nmode = \"static\"\n[services.api.discovery]\nmode = \"cached\"");
        assert!(w.is_empty(), "{w:?}");
        assert!(lints("[registry]").is_empty());
    }

    #[test]
    fn blackholed_dead_instances_need_a_timeout() {
        let w = lints("[discovery]\nmode = \"static\"\ndead_instances = \"blackhole\"");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("api->db") && w[0].contains("no timeout"),
            "{w:?}"
        );
        assert!(lints("[discovery]\nmode = \"static\"").is_empty());
    }

    /// A partition between a service and the registry cuts its lookups
    /// and its instances' heartbeats, though no endpoint calls the
    /// registry.
    #[test]
    fn a_partition_from_the_registry_always_has_an_effect() {
        let fault =
            "[[faults]]\nkind = \"partition\"\nfrom = \"api\"\nto = \"registry\"\nat = \"1s\"";
        let w = lints(&format!("[registry]\n{fault}"));
        assert!(w.is_empty(), "{w:?}");
        // It also cuts the heartbeats of static callers' instances.
        let w = lints(&format!(
            "[registry]\n[services.api.discovery]\nmode = \"static\"\n{fault}"
        ));
        assert!(w.iter().all(|l| !l.contains("it has no effect")), "{w:?}");
    }

    #[test]
    fn topics_without_publishers_or_subscribers_are_warnings() {
        let w = lints("[brokers.b]\ntopics = [\"t\"]");
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].contains("topic t (broker b) has no subscriber"),
            "{w:?}"
        );
        assert!(w[1].contains("no endpoint publishes to topic t"), "{w:?}");
        let w = lints(
            "[brokers.b]\ntopics = [\"t\"]\n[services.db.endpoints.put]\nsteps = [{ publish = \"t\" }]\n[services.db.endpoints.on_t]\nwork = \"1ms\"\n[services.db.subscriptions.t]\nhandler = \"on_t\"",
        );
        assert!(w.is_empty(), "{w:?}");
    }
}
