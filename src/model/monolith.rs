//! Monolith mode: the same scenario run as one deployable unit. A
//! transform of the validated microservices [`Model`] into a monolith
//! `Model`, applied after validation so every error still points at the
//! text the user wrote.
//!
//! The unit is one service whose endpoints are all the services'
//! endpoints (ids and names unchanged: `payment.charge` stays
//! `payment.charge`); every call between them becomes an in-process call
//! ([`CallSite::local`]); the registry and discovery are dropped; faults
//! aimed at a component hit the unit (see [`to_monolith`]).

use super::*;
use crate::engine::time::fmt_ns;

/// How the services are deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deployment {
    /// Each service on its own replicas, calls over the network (the
    /// scenario as written).
    Microservices,
    /// All services in one unit (the model's only service).
    Monolith {
        /// The services the unit was built from, in scenario order (the
        /// registry, which a monolith does not need, excluded).
        components: Vec<String>,
    },
}

impl Deployment {
    /// Whether this is a monolith.
    pub fn is_monolith(&self) -> bool {
        matches!(self, Deployment::Monolith { .. })
    }
}

/// The unit's service id in a monolith model.
pub const UNIT: ServiceId = 0;

/// The unit's sizing as the user gave it (`[deployment.monolith]`):
/// `None` fields take the defaults derived from the services (see
/// [`to_monolith`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sizing {
    /// The unit's service name in results; default "monolith".
    pub name: Option<String>,
    /// Replicas; default the max of the services' replicas.
    pub replicas: Option<u32>,
    /// Workers per replica; default the sum of the services' concurrency.
    pub concurrency: Option<u32>,
    /// Waiting requests per replica; default the sum of the services'
    /// capacities, unbounded if any is.
    pub queue_capacity: Option<u32>,
    /// Default: the balancer of the first workload's target service.
    pub balancer: Option<Balancer>,
    /// Default: blocking if any service is blocking, else async.
    pub io: Option<Io>,
    /// Default: the max of the services' startups.
    pub startup: Option<SimTime>,
}

/// A monolith model and what the user should be told about it.
#[derive(Debug, Clone)]
pub struct Monolith {
    /// The transformed model.
    pub model: Model,
    /// One line saying how the unit was sized and from what.
    pub note: String,
    /// Faults left out (they aim at the registry) or changed (a slow
    /// replica index beyond the unit's replicas).
    pub warnings: Vec<String>,
}

/// Maps a microservices [`ServiceId`] to the unit's: every service's work
/// runs in the unit, except the registry's, which a monolith drops. The one
/// place to remap anything that names a service (faults here; scaling,
/// deploys and autoscalers as they are added).
#[derive(Debug, Clone, Copy)]
pub struct ServiceMap {
    registry: Option<ServiceId>,
}

impl ServiceMap {
    /// The map for microservices model `model`.
    pub fn new(model: &Model) -> Self {
        ServiceMap {
            registry: model.registry.as_ref().map(|r| r.service),
        }
    }

    /// The unit's id for service `s`, or `None` for the registry.
    pub fn map(self, s: ServiceId) -> Option<ServiceId> {
        (Some(s) != self.registry).then_some(UNIT)
    }
}

/// Transforms microservices model `model` into its monolith.
///
/// Sizing defaults (each overridden by `sizing`): replicas the max of the
/// services' (the unit must be at least as available as the most
/// replicated part), concurrency the sum (one process holds every
/// service's worker pool), queue capacity the sum (unbounded if any is),
/// balancer the first workload's target service's (the unit's front
/// door), io blocking if any service blocks (a thread-per-request part
/// makes the process thread-per-request), startup the max (the process is
/// ready when its slowest part is). Load shedding and outlier ejection are
/// the front door's too.
///
/// Faults: a crash of all of a component's replicas crashes all unit
/// replicas, one of N of them crashes N unit replicas (at most all);
/// random crashes and slow replicas of a component hit the unit's
/// replicas; latency and error faults keep their scope (a service's
/// endpoints); partitions between components become no-ops (kept, so
/// results list them; the lint says so). Faults aimed at the registry are
/// left out with a warning.
pub fn to_monolith(model: Model, sizing: &Sizing) -> Monolith {
    let map = ServiceMap::new(&model);
    let parts: Vec<&Service> = model
        .services
        .iter()
        .enumerate()
        .filter(|(i, _)| map.map(*i as ServiceId).is_some())
        .map(|(_, s)| s)
        .collect();
    let entry =
        &model.services[model.endpoints[model.workloads[0].target as usize].service as usize];
    let list = |f: &dyn Fn(&Service) -> String| {
        parts
            .iter()
            .map(|s| format!("{} {}", s.name, f(s)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut how: Vec<String> = Vec::new();
    let replicas = sizing.replicas.unwrap_or_else(|| {
        let r = parts.iter().map(|s| s.replicas).max().unwrap_or(1);
        how.push(format!(
            "replicas {r} = max of the services' ({})",
            list(&|s| s.replicas.to_string())
        ));
        r
    });
    let concurrency = sizing.concurrency.unwrap_or_else(|| {
        let c = parts
            .iter()
            .map(|s| s.concurrency)
            .fold(0u32, u32::saturating_add);
        how.push(format!(
            "concurrency {c} = sum of the services' ({})",
            list(&|s| s.concurrency.to_string())
        ));
        c
    });
    let queue_capacity = match sizing.queue_capacity {
        Some(q) => Some(q),
        None => {
            let q = parts.iter().try_fold(0u32, |acc, s| {
                s.queue_capacity.map(|q| acc.saturating_add(q))
            });
            let qs = |s: &Service| {
                s.queue_capacity
                    .map_or("unbounded".into(), |q| q.to_string())
            };
            how.push(match q {
                Some(q) => format!("queue_capacity {q} = sum of the services' ({})", list(&qs)),
                None => format!(
                    "queue_capacity unbounded, as some service's is ({})",
                    list(&qs)
                ),
            });
            q
        }
    };
    let balancer = sizing.balancer.unwrap_or_else(|| {
        how.push(format!(
            "balancer {} = {}'s (the first workload's target)",
            balancer_name(entry.balancer),
            entry.name
        ));
        entry.balancer
    });
    let io = sizing.io.unwrap_or_else(|| {
        let blocking: Vec<&str> = parts
            .iter()
            .filter(|s| s.io == Io::Blocking)
            .map(|s| s.name.as_str())
            .collect();
        if blocking.is_empty() {
            how.push("io async (every service is async)".into());
            Io::Async
        } else {
            how.push(format!("io blocking ({} blocking)", blocking.join(", ")));
            Io::Blocking
        }
    });
    let startup = sizing.startup.unwrap_or_else(|| {
        let s = parts.iter().map(|s| s.startup).max().unwrap_or(0);
        how.push(format!("startup {} = max of the services'", fmt_ns(s)));
        s
    });
    let name = sizing.name.clone().unwrap_or_else(|| "monolith".into());
    let components: Vec<String> = parts.iter().map(|s| s.name.clone()).collect();

    // The registry's endpoint is the last one (its service is added last).
    let kept = model
        .registry
        .as_ref()
        .map_or(model.endpoints.len(), |r| r.lookup as usize);
    debug_assert!(kept == model.endpoints.len() || kept + 1 == model.endpoints.len());
    let endpoints: Vec<Endpoint> = model.endpoints[..kept]
        .iter()
        .map(|e| Endpoint {
            service: UNIT,
            name: e.name.clone(),
            steps: e.steps.iter().map(local_step).collect(),
        })
        .collect();
    let unit = Service {
        name: name.clone(),
        replicas,
        concurrency,
        queue_capacity,
        balancer,
        io,
        endpoints: (0..kept as EndpointId).collect(),
        startup,
        shed_after: entry.shed_after,
        outlier: entry.outlier,
    };

    let mut warnings = Vec::new();
    let faults = model
        .faults
        .iter()
        .filter_map(|f| remap_fault(f, &model, map, &unit, &mut warnings))
        .collect();

    let mut note = format!(
        "note: monolith mode: one unit `{name}` runs {} ({} endpoints, calls in-process): {}",
        components.join(" + "),
        kept,
        if how.is_empty() {
            "sized as set in [deployment.monolith]".to_string()
        } else {
            how.join("; ")
        }
    );
    if model.registry.is_some() || model.uses_discovery() {
        note.push_str("; [registry] and discovery settings are dropped (no network calls)");
    }
    let mono = Model {
        services: vec![unit],
        endpoints,
        clients: Vec::new(),
        faults,
        registry: None,
        discovery: vec![None],
        deployment: Deployment::Monolith { components },
        ..model
    };
    Monolith {
        model: mono,
        note,
        warnings,
    }
}

/// A step with every call made in-process.
fn local_step(step: &Step) -> Step {
    let local = |c: &CallSite| CallSite {
        target: c.target,
        client: NO_CLIENT,
        optional: c.optional,
        local: true,
    };
    match step {
        Step::Work(d) => Step::Work(d.clone()),
        Step::Call(c) => Step::Call(local(c)),
        Step::Parallel(cs) => Step::Parallel(cs.iter().map(local).collect()),
    }
}

/// Fault `f` of microservices model `model` as it applies to the unit, or
/// `None` (with a warning) when it aims at the registry.
fn remap_fault(
    f: &Fault,
    model: &Model,
    map: ServiceMap,
    unit: &Service,
    warnings: &mut Vec<String>,
) -> Option<Fault> {
    let lookup = model.registry.as_ref().map(|r| r.lookup);
    let in_unit = |s: Scope| match s {
        Scope::Service(sid) => map.map(sid).is_some(),
        Scope::Endpoint(e) => Some(e) != lookup,
        Scope::Endpoints { .. } => true,
    };
    let aims_at_registry = match f.kind {
        FaultKind::Crash { service, .. }
        | FaultKind::RandomCrashes { service, .. }
        | FaultKind::SlowReplica { service, .. } => map.map(service).is_none(),
        FaultKind::Latency { scope, .. } | FaultKind::Errors { scope, .. } => !in_unit(scope),
        FaultKind::Partition { from, to, .. } => map.map(from).is_none() || map.map(to).is_none(),
    };
    if aims_at_registry {
        warnings.push(format!(
            "warning: fault `{}` aims at the service registry, which monolith mode drops (calls are in-process): the fault is left out of this run",
            f.name
        ));
        return None;
    }
    // A component's endpoints, which have consecutive ids.
    let scope = |s: Scope| match s {
        Scope::Service(sid) => {
            let eps = &model.services[sid as usize].endpoints;
            let (first, last) = (eps[0], eps[eps.len() - 1]);
            debug_assert_eq!((last - first) as usize + 1, eps.len());
            Scope::Endpoints { first, last }
        }
        other => other,
    };
    let kind = match f.kind {
        FaultKind::Crash {
            service,
            replicas,
            mode,
        } => {
            let all = model.services[service as usize].replicas;
            FaultKind::Crash {
                service: UNIT,
                replicas: if replicas >= all {
                    unit.replicas
                } else {
                    replicas.min(unit.replicas)
                },
                mode,
            }
        }
        FaultKind::RandomCrashes {
            mtbf, mttr, mode, ..
        } => FaultKind::RandomCrashes {
            service: UNIT,
            mtbf,
            mttr,
            mode,
        },
        FaultKind::SlowReplica {
            replica, factor, ..
        } => {
            let last = unit.replicas - 1;
            if replica > last {
                warnings.push(format!(
                    "warning: fault `{}` slows replica {replica}, but the unit has {} replicas: it slows replica {last}",
                    f.name, unit.replicas
                ));
            }
            FaultKind::SlowReplica {
                service: UNIT,
                replica: replica.min(last),
                factor,
            }
        }
        FaultKind::Latency {
            scope: s,
            ref extra,
            fraction,
        } => FaultKind::Latency {
            scope: scope(s),
            extra: extra.clone(),
            fraction,
        },
        FaultKind::Errors {
            scope: s,
            probability,
        } => FaultKind::Errors {
            scope: scope(s),
            probability,
        },
        FaultKind::Partition { mode, .. } => FaultKind::Partition {
            from: UNIT,
            to: UNIT,
            mode,
        },
    };
    // Effects end as without discovery: a crash's when the unit has
    // restarted.
    let effect_until = match kind {
        FaultKind::Crash { .. } => f
            .until
            .saturating_add(unit.startup)
            .min(model.duration.max(f.at)),
        _ => f.until,
    };
    Some(Fault {
        kind,
        effect_until,
        ..f.clone()
    })
}

/// A balancer's name as in scenario files.
fn balancer_name(b: Balancer) -> &'static str {
    match b {
        Balancer::RoundRobin => "round_robin",
        Balancer::Random => "random",
        Balancer::LeastOutstanding => "least_outstanding",
        Balancer::PowerOfTwo => "power_of_two",
    }
}
