//! Raw scenario -> [`Model`]: resolves names to ids, parses durations and
//! distributions, and checks everything a run relies on. Each problem is an
//! [`Invalid`] naming the field and what was expected.

use super::error::{FieldPath, Invalid};
use super::policies::Clients;
use super::schema::*;
use crate::dist::Dist;
use crate::engine::time::{parse_duration, NS_PER_SEC};
use crate::model::*;
use toml::Value;

/// Upper bounds that keep a typo from asking for absurd memory.
const MAX_REPLICAS: i64 = 10_000;
pub(super) const MAX_CONCURRENCY: i64 = 100_000;
pub(super) const MAX_WORKERS: i64 = 10_000_000;
const MAX_USERS: i64 = 10_000_000;
/// Steps per endpoint and calls per parallel group.
const MAX_STEPS: usize = 10_000;
const MAX_PARALLEL: usize = 10_000;
/// One arrival per nanosecond is the finest simulated time can express.
const MAX_RATE: f64 = 1e9;
/// Time-series windows kept when the window is chosen automatically.
const AUTO_WINDOWS: u64 = 1_000;
/// Hard limit on windows when the user sets the width.
const MAX_WINDOWS: u64 = 100_000;
/// Time-series rows (windows x (workloads + services)) kept when the
/// window is chosen automatically, and the hard limit when it is set.
const AUTO_ROWS: u64 = 2_000_000;
const MAX_ROWS: u64 = 20_000_000;

type R<T> = Result<T, Invalid>;

/// Validates `raw`; `default_name` names a scenario without a `name`.
pub fn validate(raw: &RawScenario, default_name: &str) -> R<Model> {
    let root = FieldPath::default();
    let name = match &raw.name {
        Some(n) if n.trim().is_empty() => {
            return Err(Invalid::new(&root.key("name"), "must not be empty"))
        }
        Some(n) => n.clone(),
        None => default_name.to_string(),
    };

    let sim = root.key("simulation");
    let run = match &raw.simulation.duration {
        Some(d) => duration(d, &sim.key("duration"))?,
        None => {
            return Err(Invalid::new(
                &sim,
                "missing field `duration` (how long to simulate, e.g. duration = \"5m\")",
            ))
        }
    };
    if run == 0 {
        return Err(Invalid::new(
            &sim.key("duration"),
            "must be greater than zero",
        ));
    }
    let warmup = match &raw.simulation.warmup {
        Some(w) => duration(w, &sim.key("warmup"))?,
        None => 0,
    };
    if warmup >= run {
        return Err(Invalid::new(
            &sim.key("warmup"),
            format!(
                "warm-up ({}) must be shorter than the duration ({})",
                crate::engine::time::fmt_ns(warmup),
                crate::engine::time::fmt_ns(run)
            ),
        ));
    }
    let seed = match raw.simulation.seed {
        Some(s) if s < 0 => {
            return Err(Invalid::new(
                &sim.key("seed"),
                format!("must be zero or more, got {s}"),
            ))
        }
        Some(s) => s as u64,
        None => 0,
    };
    // Rows per window in the time series (the registry has its rows too).
    let registry = super::discovery::registry_enabled(raw);
    let subscriptions: usize = raw.services.values().map(|s| s.subscriptions.len()).sum();
    let copies: usize = raw.data.values().map(|d| d.copies.len()).sum();
    let series = (raw.services.len()
        + raw.brokers.len()
        + usize::from(registry)
        + raw.workloads.len()
        + subscriptions
        + copies)
        .max(1) as u64;
    let window = match &raw.simulation.window {
        Some(w) => {
            let w = duration(w, &sim.key("window"))?;
            if w == 0 {
                return Err(Invalid::new(
                    &sim.key("window"),
                    "must be greater than zero",
                ));
            }
            let rows = (run / w).saturating_mul(series);
            if run / w > MAX_WINDOWS || rows > MAX_ROWS {
                return Err(Invalid::new(
                    &sim.key("window"),
                    format!(
                        "gives {} windows ({rows} time-series rows); at most {MAX_WINDOWS} windows and {MAX_ROWS} rows are kept: choose a wider window",
                        run / w
                    ),
                ));
            }
            w
        }
        None => auto_window(run, series),
    };

    let network = match &raw.network.latency {
        Some(v) => dist(v, &root.key("network").key("latency"))?,
        None => Dist::constant(0),
    };

    let services_path = root.key("services");
    if raw.services.is_empty() {
        return Err(Invalid::new(
            &root.key("services"),
            "no services: add at least one [services.NAME] table with an endpoint",
        ));
    }
    super::discovery::check_reserved_name(raw, &root)?;
    // First pass: names and ids, so calls can refer to any endpoint.
    let mut services = Vec::new();
    let mut endpoints = Vec::new();
    for (si, (sname, s)) in raw.services.iter().enumerate() {
        let sp = services_path.key(sname);
        check_name(sname, &sp, "service")?;
        if s.endpoints.is_empty() {
            return Err(Invalid::new(
                &sp,
                format!(
                    "service `{sname}` has no endpoints: add [services.{sname}.endpoints.NAME]"
                ),
            ));
        }
        let mut ids = Vec::new();
        for ename in s.endpoints.keys() {
            check_name(ename, &sp.key("endpoints").key(ename), "endpoint")?;
            ids.push(endpoints.len() as EndpointId);
            endpoints.push(Endpoint {
                service: si as ServiceId,
                name: format!("{sname}.{ename}"),
                steps: Vec::new(),
                idempotent: false,
                tracked: false,
                saga: None,
            });
        }
        services.push(service(sname, s, &sp, ids)?);
    }
    let names = Names::new(&endpoints);
    let msg_names = super::messaging::names(raw, &root)?;
    let named = super::policies::named_policies(&raw.policies, &root)?;
    let mut clients = Clients::default();
    let mut next = 0usize;
    for (si, (sname, s)) in raw.services.iter().enumerate() {
        for (ename, e) in &s.endpoints {
            let ep = services_path.key(sname).key("endpoints").key(ename);
            let mut ctx = StepCtx {
                names: &names,
                caller: si as ServiceId,
                endpoints: &endpoints,
                named: &named,
                clients: &mut clients,
                registry,
                msg: &msg_names,
            };
            let (steps, compensations) = steps(e, &ep, &mut ctx)?;
            let saga = compensations.iter().any(Option::is_some);
            if !saga && e.compensation_policy.is_some() {
                return Err(Invalid::new(
                    &ep.key("compensation_policy"),
                    "no step of this endpoint has `compensate`: a compensation policy applies to a saga's compensating calls",
                ));
            }
            let endpoint = &mut endpoints[next];
            endpoint.steps = steps;
            endpoint.idempotent = e.idempotent.unwrap_or(false);
            endpoint.saga = saga.then_some(Saga { compensations });
            next += 1;
        }
    }
    // Brokers are services too, after the user's (whose ids do not move)
    // and before the registry (which stays last).
    let (brokers, topics) =
        super::messaging::add_brokers(raw, &root, &mut services, &mut endpoints)?;
    let messaging =
        super::messaging::messaging(raw, &root, &msg_names, brokers, topics, &endpoints)?;
    check_cycles(&endpoints, &messaging, &services_path)?;
    // The registry is a service like the others (last, so the user's ids
    // do not move), added before the faults so they can name it.
    let registry_model = super::discovery::add_registry(raw, &root, &mut services, &mut endpoints)?;
    let clients = clients.finish(&services);
    track_executions(&mut endpoints, &clients, &messaging);
    let scaling = super::scaling::scaling(raw, &root, &mut services)?;
    let faults = super::faults::faults(&raw.faults, &root, &services, &endpoints, run)?;

    let wp = root.key("workloads");
    if raw.workloads.is_empty() {
        return Err(Invalid::new(
            &root.key("workloads"),
            "no workloads: add a [[workloads]] table with name, target and arrival",
        ));
    }
    let mut workloads: Vec<Workload> = Vec::new();
    for (i, w) in raw.workloads.iter().enumerate() {
        let p = wp.index(i);
        check_name(&w.name, &p.key("name"), "workload")?;
        if w.name.chars().all(|c| c.is_ascii_digit()) {
            return Err(Invalid::new(
                &p.key("name"),
                format!(
                    "workload name `{}` is all digits; it would read as an index in --set paths (workloads.0...)",
                    w.name
                ),
            ));
        }
        if workloads.iter().any(|o| o.name == w.name) {
            return Err(Invalid::new(
                &p.key("name"),
                format!(
                    "workload name `{}` is used twice; names must be unique",
                    w.name
                ),
            ));
        }
        super::discovery::check_not_registry(
            &w.target,
            &p.key("target"),
            registry,
            super::discovery::Named::Target,
        )?;
        let target = resolve(&w.target, &p.key("target"), &names)?;
        let arrival = arrival(&w.arrival, &p.key("arrival"))?;
        workloads.push(Workload {
            name: w.name.clone(),
            target,
            arrival,
        });
    }

    let discovery = super::discovery::discovery(raw, &root, services.len())?;
    let cost = super::cost::cost(raw, &root, &services)?;
    let mut faults = faults;
    super::discovery::extend_fault_effects(
        &mut faults,
        &clients,
        &discovery,
        registry_model.as_ref(),
        run,
    );
    Ok(Model {
        name,
        description: raw.description.clone(),
        seed,
        duration: run,
        warmup,
        window,
        network,
        services,
        endpoints,
        workloads,
        clients,
        faults,
        registry: registry_model,
        discovery,
        deployment: Deployment::Microservices,
        scales: scaling.scales,
        deploys: scaling.deploys,
        cost,
        messaging,
    })
}

/// Marks the endpoints whose executions per logical call are counted:
/// those a retrying client calls (saga compensations included), handlers
/// of events that can be delivered more than once, and idempotent ones.
fn track_executions(endpoints: &mut [Endpoint], clients: &[Client], messaging: &Messaging) {
    let retries = |c: &CallSite| clients[c.client as usize].policy.retry.is_some();
    let mut tracked: Vec<bool> = endpoints.iter().map(|e| e.idempotent).collect();
    for e in endpoints.iter() {
        let compensations = e.saga.iter().flat_map(|s| s.compensations.iter().flatten());
        for c in crate::model::graph::call_sites(e).chain(compensations) {
            if retries(c) {
                tracked[c.target as usize] = true;
            }
        }
    }
    for s in &messaging.subscriptions {
        if s.max_attempts > 1 {
            tracked[s.handler as usize] = true;
        }
    }
    for (e, t) in endpoints.iter_mut().zip(tracked) {
        e.tracked = t;
    }
}

/// What validating a call step needs to know.
struct StepCtx<'a> {
    names: &'a Names,
    /// The service whose endpoint holds the steps.
    caller: ServiceId,
    endpoints: &'a [Endpoint],
    named: &'a indexmap::IndexMap<String, super::policies::Named>,
    clients: &'a mut Clients,
    /// Whether an enabled `[registry]` reserves the `registry` service.
    registry: bool,
    /// Topics, data sets and copies, for `publish` and `read` steps.
    msg: &'a super::messaging::Names,
}

/// The narrowest "round" window (at least one second) that keeps the run
/// within [`AUTO_WINDOWS`] windows and [`AUTO_ROWS`] time-series rows for
/// `series` workloads and services.
fn auto_window(duration: u64, series: u64) -> u64 {
    const NICE_SECS: [u64; 14] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
    ];
    let windows = AUTO_WINDOWS.min((AUTO_ROWS / series).max(1));
    let min = duration.div_ceil(windows);
    NICE_SECS
        .iter()
        .map(|s| s * NS_PER_SEC)
        .find(|w| *w >= min)
        .unwrap_or_else(|| min.div_ceil(3600 * NS_PER_SEC) * 3600 * NS_PER_SEC)
}

/// Validates a service's own fields (not its endpoints' steps); `p` is its
/// table. Shared with the registry, whose table has the same fields.
pub(super) fn service(
    name: &str,
    s: &RawService,
    p: &FieldPath,
    endpoints: Vec<EndpointId>,
) -> R<Service> {
    let replicas = count(s.replicas, &p.key("replicas"), 1, 1, MAX_REPLICAS)?;
    let concurrency = count(s.concurrency, &p.key("concurrency"), 1, 1, MAX_CONCURRENCY)?;
    if replicas as i64 * concurrency as i64 > MAX_WORKERS {
        return Err(Invalid::new(
            &p.key("concurrency"),
            format!("replicas x concurrency must be at most {MAX_WORKERS}"),
        ));
    }
    let queue_capacity = match s.queue_capacity {
        None => None,
        Some(q) if q < 0 => {
            return Err(Invalid::new(
                &p.key("queue_capacity"),
                format!("must be zero or more (0 = no queue), got {q}"),
            ))
        }
        Some(q) => Some(u32::try_from(q).map_err(|_| {
            Invalid::new(
                &p.key("queue_capacity"),
                format!("must be at most {}", u32::MAX),
            )
        })?),
    };
    let balancer = match s.balancer.as_deref() {
        None | Some("round_robin") => Balancer::RoundRobin,
        Some("random") => Balancer::Random,
        Some("least_outstanding") => Balancer::LeastOutstanding,
        Some("power_of_two") => Balancer::PowerOfTwo,
        Some(o) => {
            return Err(Invalid::new(
                &p.key("balancer"),
                format!("unknown balancer `{o}`; expected one of round_robin, random, least_outstanding, power_of_two"),
            ))
        }
    };
    let io = match s.io.as_deref() {
        None | Some("blocking") => Io::Blocking,
        Some("async") => Io::Async,
        Some(o) => {
            return Err(Invalid::new(
                &p.key("io"),
                format!("unknown io model `{o}`; expected `blocking` (a worker is held during calls) or `async` (released)"),
            ))
        }
    };
    let startup = match &s.startup {
        Some(d) => duration(d, &p.key("startup"))?,
        None => 0,
    };
    let shed_after = match &s.shed_after {
        None => None,
        Some(d) => {
            let d = duration(d, &p.key("shed_after"))?;
            if d == 0 {
                return Err(Invalid::new(
                    &p.key("shed_after"),
                    "must be greater than zero (0 would shed every request that ever waited; use queue_capacity = 0 for no queue)",
                ));
            }
            Some(d)
        }
    };
    let outlier = match &s.outlier_ejection {
        None => None,
        Some(o) => {
            let op = p.key("outlier_ejection");
            let eject_for = match &o.eject_for {
                Some(d) => duration(d, &op.key("eject_for"))?,
                None => 30 * NS_PER_SEC,
            };
            if eject_for == 0 {
                return Err(Invalid::new(
                    &op.key("eject_for"),
                    "must be greater than zero",
                ));
            }
            let max_ejected = match o.max_ejected {
                Some(x) => fraction(x, &op.key("max_ejected"))?,
                None => 0.5,
            };
            Some(OutlierEjection {
                consecutive_failures: count(
                    o.consecutive_failures,
                    &op.key("consecutive_failures"),
                    5,
                    1,
                    1_000_000,
                )?,
                eject_for,
                max_ejected,
            })
        }
    };
    Ok(Service {
        name: name.to_string(),
        replicas,
        concurrency,
        queue_capacity,
        balancer,
        io,
        endpoints,
        startup,
        shed_after,
        outlier,
        slots: replicas,
        provisioning: 0,
        drain_timeout: 30 * NS_PER_SEC,
        autoscale: None,
    })
}

/// An endpoint's steps, and per step its saga compensation (if any).
fn steps(
    e: &RawEndpoint,
    p: &FieldPath,
    ctx: &mut StepCtx,
) -> R<(Vec<Step>, Vec<Option<CallSite>>)> {
    match (&e.work, &e.steps) {
        (Some(_), Some(_)) => Err(Invalid::new(
            p,
            "give either `work` (a single work step) or `steps`, not both",
        )),
        (None, None) => Err(Invalid::new(
            p,
            "endpoint does nothing: give `work = {...}` or `steps = [...]`",
        )),
        (Some(w), None) => Ok((vec![Step::Work(dist(w, &p.key("work"))?)], vec![None])),
        (None, Some(list)) => {
            if list.is_empty() {
                return Err(Invalid::new(&p.key("steps"), "must have at least one step"));
            }
            if list.len() > MAX_STEPS {
                return Err(Invalid::new(
                    &p.key("steps"),
                    format!("has {} steps; at most {MAX_STEPS} are allowed", list.len()),
                ));
            }
            let mut steps = Vec::with_capacity(list.len());
            let mut compensations = Vec::with_capacity(list.len());
            for (i, s) in list.iter().enumerate() {
                let sp = p.key("steps").index(i);
                let step = step(s, &sp, ctx, false)?;
                let compensation =
                    match (&s.compensate, &step) {
                        (None, _) => None,
                        (Some(_), Step::Call(site)) if site.optional => {
                            return Err(Invalid::new(
                                &sp.key("compensate"),
                                "an optional call can fail without failing the saga, so whether it took effect is unknown and its compensation could undo nothing: a compensated step must not be optional",
                            ))
                        }
                        (Some(c), Step::Call(_)) => {
                            let cp = sp.key("compensate");
                            super::discovery::check_not_registry(
                                c,
                                &cp,
                                ctx.registry,
                                super::discovery::Named::Call,
                            )?;
                            let target = resolve(c, &cp, ctx.names)?;
                            let callee = ctx.endpoints[target as usize].service;
                            Some(ctx.clients.compensation_site(
                                e.compensation_policy.as_ref(),
                                &p.key("compensation_policy"),
                                ctx.caller,
                                callee,
                                target,
                                ctx.named,
                            )?)
                        }
                        (Some(_), _) => return Err(Invalid::new(
                            &sp.key("compensate"),
                            "only a `call` step can have a compensation (the call that undoes it)",
                        )),
                    };
                steps.push(step);
                compensations.push(compensation);
            }
            Ok((steps, compensations))
        }
    }
}

fn step(s: &RawStep, p: &FieldPath, ctx: &mut StepCtx, in_parallel: bool) -> R<Step> {
    let set = [
        s.work.is_some(),
        s.call.is_some(),
        s.parallel.is_some(),
        s.publish.is_some(),
        s.read.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if set != 1 {
        return Err(Invalid::new(
            p,
            "a step is exactly one of { work = DIST }, { call = \"service.endpoint\" }, { parallel = [calls] }, { publish = \"topic\" } or { read = \"data\" }",
        ));
    }
    if in_parallel && s.call.is_none() {
        return Err(Invalid::new(
            p,
            "a parallel group holds only calls: { call = \"service.endpoint\" }",
        ));
    }
    if in_parallel && s.compensate.is_some() {
        return Err(Invalid::new(
            &p.key("compensate"),
            "a call in a parallel group cannot have a compensation: sagas compensate whole steps in reverse order, so make it a step of its own",
        ));
    }
    if s.publish.is_none() {
        for (field, set) in [("ack", s.ack.is_some()), ("outbox", s.outbox.is_some())] {
            if set {
                return Err(Invalid::new(
                    &p.key(field),
                    format!("`{field}` applies to publish steps only: {{ publish = \"topic\", {field} = ... }}"),
                ));
            }
        }
    }
    if s.publish.is_some() {
        let set = s.policy_fields().set_fields();
        let policy = s.policy.is_some().then_some("policy");
        if let Some(field) = policy.or(set.first().copied()) {
            return Err(Invalid::new(
                &p.key(field),
                format!("`{field}` applies to calls only; a publish waits at most the broker's publish_timeout"),
            ));
        }
        return Ok(Step::Publish(super::messaging::publish_site(
            s, p, ctx.caller, ctx.msg,
        )?));
    }
    if s.call.is_none() {
        let policy = s.policy.is_some().then_some("policy");
        let optional = s.optional.is_some().then_some("optional");
        let set = s.policy_fields().set_fields();
        if let Some(field) = policy.or(optional).or(set.first().copied()) {
            return Err(Invalid::new(
                &p.key(field),
                format!("`{field}` applies to calls only; put it on each {{ call = ... }} step"),
            ));
        }
    }
    if let Some(w) = &s.work {
        return Ok(Step::Work(dist(w, &p.key("work"))?));
    }
    if let Some(d) = &s.read {
        return Ok(Step::Read(super::messaging::read_site(
            d,
            &p.key("read"),
            ctx.caller,
            ctx.msg,
        )?));
    }
    if let Some(c) = &s.call {
        super::discovery::check_not_registry(
            c,
            &p.key("call"),
            ctx.registry,
            super::discovery::Named::Call,
        )?;
        let target = resolve(c, &p.key("call"), ctx.names)?;
        let callee = ctx.endpoints[target as usize].service;
        let site = ctx
            .clients
            .call_site(s, p, ctx.caller, callee, target, ctx.named)?;
        return Ok(Step::Call(site));
    }
    let group = s.parallel.as_ref().expect("counted above");
    if group.is_empty() {
        return Err(Invalid::new(
            &p.key("parallel"),
            "must hold at least one call",
        ));
    }
    if group.len() > MAX_PARALLEL {
        return Err(Invalid::new(
            &p.key("parallel"),
            format!(
                "has {} calls; at most {MAX_PARALLEL} are allowed",
                group.len()
            ),
        ));
    }
    let calls = group
        .iter()
        .enumerate()
        .map(
            |(i, c)| match step(c, &p.key("parallel").index(i), ctx, true)? {
                Step::Call(site) => Ok(site),
                _ => unreachable!("in_parallel admits only calls"),
            },
        )
        .collect::<R<Vec<_>>>()?;
    Ok(Step::Parallel(calls))
}

/// Endpoint names, indexed for lookup.
struct Names {
    index: std::collections::BTreeMap<String, EndpointId>,
    /// In scenario order, for messages.
    list: Vec<String>,
}

impl Names {
    fn new(endpoints: &[Endpoint]) -> Self {
        let list: Vec<String> = endpoints.iter().map(|e| e.name.clone()).collect();
        let index = list
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as EndpointId))
            .collect();
        Names { index, list }
    }
}

fn resolve(target: &str, p: &FieldPath, names: &Names) -> R<EndpointId> {
    names.index.get(target).copied().ok_or_else(|| {
        let hint = if target.contains('.') {
            ""
        } else {
            " (write service.endpoint)"
        };
        const SHOWN: usize = 40;
        let mut known = names
            .list
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if names.list.len() > SHOWN {
            known.push_str(&format!(", ... ({} more)", names.list.len() - SHOWN));
        }
        Invalid::new(
            p,
            format!("unknown endpoint `{target}`{hint}; expected one of: {known}"),
        )
    })
}

/// Refuses call cycles (a request would recurse forever), event cycles
/// (every event would publish another, forever) and cycles through a
/// saga's compensating calls, printing one.
fn check_cycles(endpoints: &[Endpoint], messaging: &Messaging, services_path: &FieldPath) -> R<()> {
    use crate::model::graph;
    let (mut cycle, compensation) = match graph::find_cycle(endpoints, messaging) {
        Some(c) => (c, false),
        None => match graph::find_compensation_cycle(endpoints, messaging) {
            Some(c) => (c, true),
            None => return Ok(()),
        },
    };
    let topics: Vec<usize> = messaging
        .topics
        .iter()
        .map(|t| t.endpoint as usize)
        .collect();
    let events = cycle.iter().any(|i| topics.contains(i));
    // Start at a user endpoint of the cycle (a topic's has no table).
    cycle.pop();
    let start = cycle.iter().position(|i| !topics.contains(i)).unwrap_or(0);
    cycle.rotate_left(start);
    cycle.push(cycle[0]);
    let text: Vec<&str> = cycle.iter().map(|&i| endpoints[i].name.as_str()).collect();
    let first = &endpoints[cycle[0]].name;
    let (s, e) = first.split_once('.').expect("names are service.endpoint");
    let what = if compensation {
        "call cycle through a saga's compensation: {} (a failed saga's compensation would start it again)"
    } else if events {
        "event cycle: {} (every event would lead to another, forever)"
    } else {
        "call cycle: {} (a request would never finish)"
    };
    Err(Invalid::new(
        &services_path.key(s).key("endpoints").key(e),
        what.replace("{}", &text.join(" -> ")),
    ))
}

fn arrival(a: &RawArrival, p: &FieldPath) -> R<Arrival> {
    let open = |process| -> R<Arrival> {
        for (field, present) in [("users", a.users.is_some()), ("think", a.think.is_some())] {
            if present {
                return Err(Invalid::new(
                    &p.key(field),
                    format!("`{field}` belongs to closed workloads (process = \"closed\"); open ones take rate and schedule"),
                ));
            }
        }
        let Some(r) = a.rate else {
            return Err(Invalid::new(
                p,
                "missing field `rate` (requests per second)",
            ));
        };
        let base = rate(r, &p.key("rate"), false)?;
        let mut schedule: Vec<(u64, f64)> = Vec::new();
        for (i, s) in a.schedule.iter().flatten().enumerate() {
            let sp = p.key("schedule").index(i);
            let at = duration(&s.at, &sp.key("at"))?;
            if schedule.last().is_some_and(|(prev, _)| *prev >= at) {
                return Err(Invalid::new(
                    &sp.key("at"),
                    "schedule steps must be in increasing time order",
                ));
            }
            schedule.push((at, rate(s.rate, &sp.key("rate"), true)?));
        }
        Ok(Arrival::Open {
            process,
            rate: base,
            schedule,
        })
    };
    match a.process.as_str() {
        "poisson" => open(OpenProcess::Poisson),
        "constant" => open(OpenProcess::Constant),
        "closed" => {
            for (field, present) in [
                ("rate", a.rate.is_some()),
                ("schedule", a.schedule.is_some()),
            ] {
                if present {
                    return Err(Invalid::new(
                        &p.key(field),
                        format!(
                            "`{field}` belongs to open workloads; closed ones take users and think"
                        ),
                    ));
                }
            }
            let Some(users) = a.users else {
                return Err(Invalid::new(
                    p,
                    "missing field `users` (number of concurrent users)",
                ));
            };
            let users = count(Some(users), &p.key("users"), 1, 1, MAX_USERS)?;
            let think = match &a.think {
                Some(t) => dist(t, &p.key("think"))?,
                None => return Err(Invalid::new(
                    p,
                    "missing field `think` (time between a user's requests, e.g. think = \"1s\")",
                )),
            };
            Ok(Arrival::Closed { users, think })
        }
        other => Err(Invalid::new(
            &p.key("process"),
            format!("unknown arrival process `{other}`; expected poisson, constant or closed"),
        )),
    }
}

/// A rate in requests per second: finite, at most [`MAX_RATE`], and
/// positive (or, where `zero_ok`, zero or more: a schedule step may pause).
fn rate(r: f64, p: &FieldPath, zero_ok: bool) -> R<f64> {
    let low_ok = if zero_ok { r >= 0.0 } else { r > 0.0 };
    if !r.is_finite() || !low_ok || r > MAX_RATE {
        let lower = if zero_ok {
            "zero or more"
        } else {
            "greater than zero"
        };
        return Err(Invalid::new(
            p,
            format!(
                "must be a number of requests per second, {lower} and at most {MAX_RATE}, got {r}"
            ),
        ));
    }
    Ok(r)
}

pub(super) fn count(v: Option<i64>, p: &FieldPath, default: u32, min: i64, max: i64) -> R<u32> {
    match v {
        None => Ok(default),
        Some(n) if n < min || n > max => Err(Invalid::new(
            p,
            format!("must be a whole number from {min} to {max}, got {n}"),
        )),
        Some(n) => Ok(n as u32),
    }
}

pub(super) fn check_name(name: &str, p: &FieldPath, what: &str) -> R<()> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(
            p,
            format!("{what} name `{name}` may use only letters, digits, `_` and `-`"),
        ))
    }
}

/// A probability or share: a number from 0 to 1.
pub(super) fn fraction(x: f64, p: &FieldPath) -> R<f64> {
    if x.is_finite() && (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(Invalid::new(
            p,
            format!("must be a number from 0 to 1, got {x}"),
        ))
    }
}

pub(super) fn duration(s: &str, p: &FieldPath) -> R<u64> {
    parse_duration(s).map_err(|e| Invalid::new(p, e))
}

/// Reads a distribution: a duration string (a constant) or a table with a
/// `dist` key and that distribution's parameters.
pub fn dist(v: &Value, p: &FieldPath) -> R<Dist> {
    let t = match v {
        Value::String(s) => return Ok(Dist::constant(duration(s, p)?)),
        Value::Table(t) => t,
        other => {
            return Err(Invalid::new(
                p,
                format!(
                    "expected a distribution, e.g. {{ dist = \"exponential\", mean = \"3ms\" }} or a duration string, found {}",
                    a(other.type_str())
                ),
            ))
        }
    };
    let Some(kind) = t.get("dist") else {
        return Err(Invalid::new(
            p,
            "missing field `dist`; expected one of constant, uniform, exponential, normal, lognormal, gamma, weibull, pareto, empirical",
        ));
    };
    let Some(kind) = kind.as_str() else {
        return Err(Invalid::new(
            &p.key("dist"),
            "expected a string naming the distribution",
        ));
    };
    let params = Params { t, p };
    let d = match kind {
        "constant" => {
            params.only(&["value"])?;
            Ok(Dist::constant(params.dur("value")?))
        }
        "uniform" => {
            params.only(&["min", "max"])?;
            Dist::uniform(params.dur("min")?, params.dur("max")?)
        }
        "exponential" => {
            params.only(&["mean"])?;
            Dist::exponential(params.dur("mean")?)
        }
        "normal" => {
            params.only(&["mean", "sd"])?;
            Dist::normal(params.dur("mean")?, params.dur("sd")?)
        }
        "lognormal" => {
            params.only(&["median", "p99", "mean", "cv"])?;
            if t.contains_key("median") || t.contains_key("p99") {
                params.none_of(&["mean", "cv"], "median and p99")?;
                Dist::lognormal_median_p99(params.dur("median")?, params.dur("p99")?)
            } else {
                Dist::lognormal_mean_cv(params.dur("mean")?, params.num("cv")?)
            }
        }
        "gamma" => {
            params.only(&["mean", "cv"])?;
            Dist::gamma(params.dur("mean")?, params.num("cv")?)
        }
        "weibull" => {
            params.only(&["scale", "shape"])?;
            Dist::weibull(params.dur("scale")?, params.num("shape")?)
        }
        "pareto" => {
            params.only(&["scale", "shape"])?;
            Dist::pareto(params.dur("scale")?, params.num("shape")?)
        }
        "empirical" => Dist::empirical(params.percentiles()?),
        other => {
            return Err(Invalid::new(
                &p.key("dist"),
                format!("unknown distribution `{other}`; expected one of constant, uniform, exponential, normal, lognormal, gamma, weibull, pareto, empirical"),
            ))
        }
    };
    let d = d.map_err(|e| Invalid::new(p, format!("invalid {kind} distribution: {}", e.0)))?;
    if !d.mean().is_finite() {
        return Err(Invalid::new(
            p,
            format!("invalid {kind} distribution: its mean is not a finite time (parameters too extreme)"),
        ));
    }
    Ok(d)
}

struct Params<'a> {
    t: &'a toml::Table,
    p: &'a FieldPath,
}

impl Params<'_> {
    fn kind(&self) -> &str {
        self.t.get("dist").and_then(Value::as_str).unwrap_or("?")
    }

    fn only(&self, allowed: &[&str]) -> R<()> {
        for k in self.t.keys() {
            if k != "dist" && !allowed.contains(&k.as_str()) {
                return Err(Invalid::new(
                    &self.p.key(k),
                    format!(
                        "unknown parameter `{k}` for {} distribution; expected: {}",
                        a(self.kind()),
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn none_of(&self, keys: &[&str], given: &str) -> R<()> {
        for k in keys {
            if self.t.contains_key(*k) {
                return Err(Invalid::new(
                    &self.p.key(k),
                    format!("give a lognormal either by median and p99 or by mean and cv; `{k}` cannot go with {given}"),
                ));
            }
        }
        Ok(())
    }

    fn dur(&self, k: &str) -> R<u64> {
        match self.t.get(k) {
            Some(Value::String(s)) => duration(s, &self.p.key(k)),
            Some(other) => Err(Invalid::new(
                &self.p.key(k),
                format!(
                    "expected a duration string like \"5ms\", found {}",
                    a(other.type_str())
                ),
            )),
            None => Err(Invalid::new(
                self.p,
                format!(
                    "missing parameter `{k}` for {} distribution",
                    a(self.kind())
                ),
            )),
        }
    }

    fn num(&self, k: &str) -> R<f64> {
        match self.t.get(k) {
            Some(Value::Float(f)) => Ok(*f),
            Some(Value::Integer(i)) => Ok(*i as f64),
            Some(other) => Err(Invalid::new(
                &self.p.key(k),
                format!("expected a number, found {}", a(other.type_str())),
            )),
            None => Err(Invalid::new(
                self.p,
                format!(
                    "missing parameter `{k}` for {} distribution",
                    a(self.kind())
                ),
            )),
        }
    }

    /// `min`, `max` and `pNN` keys (p50, p90, p99, p999 = 99.9%, p9999 ...).
    fn percentiles(&self) -> R<Vec<(f64, u64)>> {
        let mut pts = Vec::new();
        for k in self.t.keys() {
            if k == "dist" {
                continue;
            }
            let q = match k.as_str() {
                "min" => Some(0.0),
                "max" => Some(1.0),
                _ => k.strip_prefix('p').and_then(percentile_of),
            };
            let Some(q) = q else {
                return Err(Invalid::new(
                    &self.p.key(k),
                    format!("unknown parameter `{k}` for an empirical distribution; expected min, max or percentiles such as p50, p90, p99, p999"),
                ));
            };
            pts.push((q, self.dur(k)?));
        }
        Ok(pts)
    }
}

/// "50" -> 0.5, "99" -> 0.99, "999" -> 0.999, "9999" -> 0.9999, "100" -> 1.
fn percentile_of(digits: &str) -> Option<f64> {
    if digits.is_empty() || digits.len() > 6 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if digits == "100" {
        return Some(1.0);
    }
    if digits.len() == 1 {
        // p5 = 5%.
        return digits.parse::<f64>().ok().map(|d| d / 100.0);
    }
    let v: f64 = digits.parse().ok()?;
    // Two digits are a percentage; each further digit is one more decimal
    // place of it (p999 = 99.9%, p9999 = 99.99%).
    let q = v / 10f64.powi(digits.len() as i32);
    if q > 0.0 && q < 1.0 {
        Some(q)
    } else {
        None
    }
}

/// "an integer", "a string": the indefinite article for a word.
pub(crate) fn a(word: &str) -> String {
    let vowel = word.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {word}", if vowel { "an" } else { "a" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_keys() {
        assert_eq!(percentile_of("50"), Some(0.5));
        assert_eq!(percentile_of("99"), Some(0.99));
        assert_eq!(percentile_of("999"), Some(0.999));
        assert_eq!(percentile_of("9999"), Some(0.9999));
        assert_eq!(percentile_of("5"), Some(0.05));
        assert_eq!(percentile_of("100"), Some(1.0));
        assert_eq!(percentile_of("x"), None);
    }

    #[test]
    fn auto_window_keeps_at_most_a_thousand() {
        assert_eq!(auto_window(300 * NS_PER_SEC, 5), NS_PER_SEC);
        assert_eq!(auto_window(3_600 * NS_PER_SEC, 5), 5 * NS_PER_SEC);
        assert!(auto_window(1_000_000 * NS_PER_SEC, 5) * 1_000 >= 1_000_000 * NS_PER_SEC);
        // 10,000 series: at most 200 windows, so 2M rows.
        assert_eq!(auto_window(300 * NS_PER_SEC, 10_000), 2 * NS_PER_SEC);
    }
}
