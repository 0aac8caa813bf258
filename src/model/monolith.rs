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
        /// Per endpoint (by [`EndpointId`]), the index in `components` of
        /// the service it came from: its module, which latency
        /// attribution charges its work to.
        modules: Vec<u32>,
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
    /// Price per unit replica-hour; default the sum of the components'.
    pub price_per_hour: Option<f64>,
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
    // Each kept endpoint's module: its service's index among the parts.
    let modules: Vec<u32> = model.endpoints[..kept]
        .iter()
        .map(|e| {
            parts
                .iter()
                .position(|p| std::ptr::eq(*p, &model.services[e.service as usize]))
                .expect("a kept endpoint's service is a part") as u32
        })
        .collect();
    let endpoints: Vec<Endpoint> = model.endpoints[..kept]
        .iter()
        .map(|e| Endpoint {
            service: UNIT,
            name: e.name.clone(),
            steps: e.steps.iter().map(local_step).collect(),
            idempotent: e.idempotent,
            tracked: false,
            saga: e.saga.as_ref().map(|s| crate::model::Saga {
                compensations: s
                    .compensations
                    .iter()
                    .map(|c| c.as_ref().map(local_site))
                    .collect(),
            }),
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
        slots: replicas,
        provisioning: entry.provisioning,
        drain_timeout: entry.drain_timeout,
        autoscale: None,
    };

    let mut warnings = Vec::new();
    let mut unit = unit;
    // Scaling replicates everything: a [[scale]] or [[deploy]] of any
    // component scales or redeploys the whole unit, and the first
    // component's autoscaler (scenario order) drives the unit.
    let autoscale = parts.iter().find_map(|s| s.autoscale).map(|mut a| {
        a.min = a.min.min(unit.replicas);
        a.max = a.max.max(unit.replicas);
        a
    });
    if parts.iter().filter(|s| s.autoscale.is_some()).count() > 1 {
        warnings.push(format!(
            "warning: monolith mode: several services have an autoscaler; the unit uses the first one's ({})",
            parts
                .iter()
                .find(|s| s.autoscale.is_some())
                .map_or("", |s| s.name.as_str())
        ));
    }
    // A component scaled to n: the unit follows the most scaled component,
    // in proportion to how the unit was sized against the services' own
    // counts (by default the unit has the max of them, so it takes the
    // max of the components' current counts).
    let base = parts.iter().map(|s| s.replicas).max().unwrap_or(1).max(1);
    let mut current: Vec<u32> = model.services.iter().map(|s| s.replicas).collect();
    let mut scales: Vec<ScaleEvent> = Vec::new();
    for x in &model.scales {
        if map.map(x.service).is_none() {
            continue;
        }
        current[x.service as usize] = x.replicas;
        let most = (0..model.services.len())
            .filter(|&i| map.map(i as ServiceId).is_some())
            .map(|i| current[i])
            .max()
            .unwrap_or(0);
        let replicas =
            (u64::from(most) * u64::from(unit.replicas)).div_ceil(u64::from(base)) as u32;
        scales.push(ScaleEvent {
            service: UNIT,
            at: x.at,
            replicas,
        });
    }
    if autoscale.is_some() && !scales.is_empty() {
        warnings.push(
            "warning: monolith mode: the unit has an autoscaler, so the [[scale]] entries are left out (they would fight it)"
                .to_string(),
        );
        scales.clear();
    }
    let deploys: Vec<Deploy> = model
        .deploys
        .iter()
        .filter_map(|d| {
            map.map(d.service).map(|service| {
                let eps = &model.services[d.service as usize].endpoints;
                Deploy {
                    service,
                    endpoints: Some((eps[0], eps[eps.len() - 1])),
                    ..d.clone()
                }
            })
        })
        .collect();
    // `scenario::monolith::apply` refuses a pool beyond the services'
    // limit.
    unit.slots = super::scaling::slots(
        unit.replicas,
        scales.iter().map(|x| x.replicas),
        autoscale.as_ref(),
        deploys.iter(),
    )
    .min(u64::from(u32::MAX)) as u32;
    unit.autoscale = autoscale;
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
    let members: Vec<ServiceId> = (0..model.services.len() as ServiceId)
        .filter(|&s| map.map(s).is_some())
        .collect();
    let mono = Model {
        services: vec![unit],
        endpoints,
        clients: Vec::new(),
        faults,
        registry: None,
        discovery: vec![None],
        deployment: Deployment::Monolith {
            components,
            modules,
        },
        scales,
        deploys,
        cost: model.cost.unit(sizing.price_per_hour, &members),
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
    match step {
        Step::Work(d) => Step::Work(d.clone()),
        Step::Call(c) => Step::Call(local_site(c)),
        Step::Parallel(cs) => Step::Parallel(cs.iter().map(local_site).collect()),
        Step::Publish(p) => Step::Publish(*p),
        Step::Read(r) => Step::Read(*r),
    }
}

/// A call site made in-process.
fn local_site(c: &CallSite) -> CallSite {
    CallSite {
        target: c.target,
        client: NO_CLIENT,
        optional: c.optional,
        local: true,
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
            all,
            mode,
        } => {
            let every = all || replicas >= model.services[service as usize].replicas;
            FaultKind::Crash {
                service: UNIT,
                replicas: if every {
                    unit.replicas
                } else {
                    replicas.min(unit.replicas)
                },
                all: every,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::test_model;

    /// checkout.toml's services: user (2 x 4, queue 64, blocking),
    /// payment (2 x 8, queue 128), order (3 x 16, unbounded), with
    /// `extra` appended.
    fn checkout(extra: &str) -> Model {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/checkout.toml");
        let text = std::fs::read_to_string(path).unwrap();
        test_model(&format!("{text}\n{extra}"))
    }

    #[test]
    fn sizing_defaults_come_from_the_services() {
        let m = checkout("");
        let mono = to_monolith(m.clone(), &Sizing::default());
        let u = &mono.model.services[0];
        assert_eq!(mono.model.services.len(), 1);
        assert_eq!(u.name, "monolith");
        assert_eq!((u.replicas, u.concurrency, u.queue_capacity), (3, 28, None));
        assert_eq!(
            (u.balancer, u.io, u.startup),
            (Balancer::RoundRobin, Io::Blocking, 0)
        );
        assert_eq!(u.endpoints, vec![0, 1, 2, 3]);
        assert!(mono
            .note
            .contains("concurrency 28 = sum of the services' (user 4, payment 8, order 16)"));
        // Endpoint names and ids stay; every call is in-process.
        for (a, b) in m.endpoints.iter().zip(&mono.model.endpoints) {
            assert_eq!((a.name.as_str(), b.service), (b.name.as_str(), UNIT));
        }
        let sites: Vec<CallSite> = mono
            .model
            .endpoints
            .iter()
            .flat_map(|e| super::graph::call_sites(e).copied().collect::<Vec<_>>())
            .collect();
        assert_eq!(sites.len(), 4);
        assert!(sites.iter().all(|c| c.local && c.client == NO_CLIENT));
        assert!(mono.model.clients.is_empty() && mono.model.deployment.is_monolith());
        assert_eq!(
            mono.model.deployment,
            Deployment::Monolith {
                components: vec!["user".into(), "payment".into(), "order".into()],
                modules: vec![0, 1, 2, 2],
            }
        );

        // Bounded queues everywhere sum; async everywhere stays async;
        // explicit values win and say nothing about defaults.
        let m = checkout("[services.order.endpoints.x]\nwork = \"1ms\"\n");
        let mut m2 = m.clone();
        for s in &mut m2.services {
            s.queue_capacity = Some(10);
            s.io = Io::Async;
        }
        let u = to_monolith(m2, &Sizing::default()).model.services[0].clone();
        assert_eq!((u.queue_capacity, u.io), (Some(30), Io::Async));
        let explicit = Sizing {
            name: Some("shop".into()),
            replicas: Some(4),
            concurrency: Some(64),
            queue_capacity: Some(500),
            balancer: Some(Balancer::Random),
            io: Some(Io::Async),
            startup: Some(30_000_000_000),
            price_per_hour: Some(0.5),
        };
        let mono = to_monolith(m, &explicit);
        let u = &mono.model.services[0];
        assert_eq!(
            (u.name.as_str(), u.replicas, u.concurrency, u.queue_capacity),
            ("shop", 4, 64, Some(500))
        );
        assert_eq!(
            (u.balancer, u.io, u.startup),
            (Balancer::Random, Io::Async, 30_000_000_000)
        );
        assert_eq!(mono.model.cost.replica_hour, vec![0.5]);
        assert!(
            mono.note.contains("sized as set in [deployment.monolith]"),
            "{}",
            mono.note
        );
    }

    #[test]
    fn faults_hit_the_unit_and_keep_their_scope() {
        let m = checkout(
            r#"
            [[faults]]
            kind = "crash"
            service = "payment"
            at = "1m"
            duration = "10s"
            [[faults]]
            kind = "crash"
            service = "order"
            replicas = 2
            at = "1m"
            [[faults]]
            kind = "latency"
            service = "payment"
            extra = "10ms"
            at = "1m"
            [[faults]]
            kind = "errors"
            service = "user"
            endpoint = "auth"
            probability = 0.5
            at = "1m"
            [[faults]]
            kind = "partition"
            from = "order"
            to = "payment"
            at = "1m"
            [[faults]]
            kind = "slow_replica"
            service = "order"
            replica = 2
            factor = 3
            at = "1m"
            "#,
        );
        let sizing = Sizing {
            replicas: Some(2),
            startup: Some(5_000_000_000),
            ..Sizing::default()
        };
        let mono = to_monolith(m, &sizing);
        let f = &mono.model.faults;
        assert_eq!(f.len(), 6);
        // All of payment's replicas: all of the unit's; 2 of 3 orders: 2.
        assert!(matches!(
            f[0].kind,
            FaultKind::Crash {
                service: UNIT,
                replicas: 2,
                ..
            }
        ));
        assert_eq!(f[0].effect_until, f[0].until + 5_000_000_000);
        assert!(matches!(
            f[1].kind,
            FaultKind::Crash {
                service: UNIT,
                replicas: 2,
                ..
            }
        ));
        // payment.charge is endpoint 1: only it is slowed.
        let FaultKind::Latency { scope, .. } = f[2].kind else {
            panic!()
        };
        assert_eq!(scope, Scope::Endpoints { first: 1, last: 1 });
        assert!(scope.covers(UNIT, 1) && !scope.covers(UNIT, 0) && !scope.covers(UNIT, 2));
        assert!(matches!(
            f[3].kind,
            FaultKind::Errors {
                scope: Scope::Endpoint(0),
                ..
            }
        ));
        assert!(matches!(
            f[4].kind,
            FaultKind::Partition {
                from: UNIT,
                to: UNIT,
                ..
            }
        ));
        // Replica 2 of order: the unit has 2 replicas, so its last.
        assert!(matches!(
            f[5].kind,
            FaultKind::SlowReplica {
                service: UNIT,
                replica: 1,
                ..
            }
        ));
        assert_eq!(mono.warnings.len(), 1, "{:?}", mono.warnings);
        assert!(mono.warnings[0].contains("slows replica 1"));
        // Names and targets stay as the user wrote them.
        assert_eq!(f[2].target, "payment");
        let lints = super::super::lint::lint(&mono.model);
        assert!(
            lints
                .iter()
                .any(|l| l.contains("order->payment") && l.contains("in-process")),
            "{lints:?}"
        );
    }

    #[test]
    fn the_registry_and_faults_aimed_at_it_are_dropped() {
        let m = checkout(
            r#"
            [registry]
            [[faults]]
            kind = "crash"
            service = "registry"
            at = "1m"
            [[faults]]
            kind = "partition"
            from = "order"
            to = "registry"
            at = "1m"
            [[faults]]
            kind = "latency"
            service = "registry"
            extra = "1s"
            at = "1m"
            [[faults]]
            kind = "crash"
            service = "user"
            at = "1m"
            "#,
        );
        assert!(m.registry.is_some() && m.uses_discovery());
        let map = ServiceMap::new(&m);
        assert_eq!(map.map(0), Some(UNIT));
        assert_eq!(map.map(m.registry.as_ref().unwrap().service), None);
        let mono = to_monolith(m, &Sizing::default());
        assert_eq!(mono.model.endpoints.len(), 4);
        assert!(mono.model.registry.is_none() && !mono.model.uses_discovery());
        assert_eq!(mono.model.faults.len(), 1);
        assert_eq!(mono.model.faults[0].target, "user");
        assert_eq!(mono.warnings.len(), 3);
        assert!(mono
            .warnings
            .iter()
            .all(|w| w.contains("aims at the service registry")));
        assert!(mono
            .note
            .contains("[registry] and discovery settings are dropped"));
    }

    /// The capacity table of checkout's monolith, by hand: the same 200
    /// requests per second enter the unit (in-process calls are no
    /// admissions), and each holds a worker for its response without
    /// network hops: place = 4 + 3 + charge, status = 1 + max(3, charge).
    #[test]
    fn capacity_counts_in_process_work_in_the_callers_hold() {
        let m = checkout("");
        let mono = to_monolith(m, &Sizing::default()).model;
        let rows = super::super::capacity::capacity(&mono);
        assert_eq!(rows.len(), 1);
        let sigma = (120.0f64 / 15.0).ln() / crate::dist::Z99;
        let charge = 15.0 * (sigma * sigma / 2.0).exp();
        let place = 4.0 + 3.0 + charge;
        let status = 1.0 + charge.max(3.0);
        let busy = (150.0 * place + 50.0 * status) / 1e3;
        let r = &rows[0];
        assert!((r.offered_rps - 200.0).abs() < 1e-9, "{r:?}");
        assert!((r.busy_workers - busy).abs() < 1e-9, "{r:?} vs {busy}");
        assert_eq!(r.workers, 3 * 28);
        // Async: each endpoint holds a worker for its own work only.
        let a = to_monolith(
            checkout(""),
            &Sizing {
                io: Some(Io::Async),
                ..Sizing::default()
            },
        )
        .model;
        let r = &super::super::capacity::capacity(&a)[0];
        let work = (150.0 * (4.0 + 3.0 + charge) + 50.0 * (1.0 + 3.0 + charge)) / 1e3;
        assert!((r.busy_workers - work).abs() < 1e-9, "{r:?} vs {work}");
        assert!((r.offered_rps - 200.0).abs() < 1e-9);
    }
}
