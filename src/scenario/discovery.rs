//! Validation of service discovery: `[registry]`, `[discovery]` and each
//! caller's `[services.NAME.discovery]`.
//!
//! The registry becomes an ordinary service of the model, appended after
//! the user's services (so their ids do not move), so that faults, the
//! capacity table and the results treat it like any other. A caller's
//! settings are merged field by field: its own table over `[discovery]`
//! over the defaults. Each merged field remembers where it was set, so an
//! inconsistency is reported at the line that caused it.

use super::error::{FieldPath, Invalid};
use super::schema::{RawDiscovery, RawRegistry, RawScenario, RawService};
use super::validate::{dist, duration};
use crate::dist::Dist;
use crate::engine::time::{fmt_ns, NS_PER_MS, NS_PER_SEC};
use crate::engine::SimTime;
use crate::model::discovery::REGISTRY;
use crate::model::*;

type R<T> = Result<T, Invalid>;

/// Registry defaults: three replicas of 32 workers, heartbeats every 10s,
/// eviction after 30s of silence, lookups given up after 1s.
const REPLICAS: i64 = 3;
const CONCURRENCY: i64 = 32;
const HEARTBEAT: SimTime = 10 * NS_PER_SEC;
const TTL: SimTime = 30 * NS_PER_SEC;
const LOOKUP_TIMEOUT: SimTime = NS_PER_SEC;
/// The lookup's work time by default: lognormal, median 1ms, p99 5ms.
const LOOKUP_MEDIAN: SimTime = NS_PER_MS;
const LOOKUP_P99: SimTime = 5 * NS_PER_MS;
/// A cached instance list is fresh for 30s by default.
const CACHE_TTL: SimTime = 30 * NS_PER_SEC;

/// The lookup endpoint's name within the registry service.
const LOOKUP: &str = "lookup";

/// Whether the scenario has a `[registry]` that is not `enabled = false`.
pub fn registry_enabled(raw: &RawScenario) -> bool {
    raw.registry
        .as_ref()
        .is_some_and(|r| r.enabled != Some(false))
}

/// Whether the scenario uses discovery at all: an enabled registry, a
/// `[discovery]` table or any service's `discovery` table. Without any,
/// every caller keeps the ideal server-side balancer.
fn discovery_on(raw: &RawScenario) -> bool {
    registry_enabled(raw)
        || raw.discovery.is_some()
        || raw.services.values().any(|s| s.discovery.is_some())
}

/// Refuses a user service named like the registry while one is enabled:
/// the registry's results, faults and `--set` paths need the name.
pub fn check_reserved_name(raw: &RawScenario, root: &FieldPath) -> R<()> {
    if registry_enabled(raw) && raw.services.contains_key(REGISTRY) {
        return Err(Invalid::new(
            &root.key("services").key(REGISTRY),
            format!(
                "the service name `{REGISTRY}` is taken by the service registry ([registry] table); rename this service, or set enabled = false in [registry] to do without a registry"
            ),
        ));
    }
    Ok(())
}

/// Where an endpoint is named, for [`check_not_registry`]'s message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// A step's `call`.
    Call,
    /// A workload's `target`.
    Target,
}

/// Refuses a `call` or workload `target` that names the registry's
/// service while a registry is enabled: callers reach it through
/// discovery, never directly, and a workload aimed at it would bypass
/// every caller.
pub fn check_not_registry(target: &str, p: &FieldPath, enabled: bool, named: Named) -> R<()> {
    let service = target.split_once('.').map_or(target, |(s, _)| s);
    if !enabled || service != REGISTRY {
        return Ok(());
    }
    let why = match named {
        Named::Call => "callers reach the registry through discovery (see [discovery]), not with `call`",
        Named::Target => "a workload cannot target it: the registry is looked up by the services' calls, through discovery",
    };
    Err(Invalid::new(
        p,
        format!("`{target}` is the service registry's ([registry] table); {why}"),
    ))
}

/// Validates an enabled `[registry]` and appends its service (named
/// [`REGISTRY`], last of `services`) and its `lookup` endpoint (last of
/// `endpoints`). `None` when there is no registry or it is disabled: the
/// table is then ignored.
pub fn add_registry(
    raw: &RawScenario,
    root: &FieldPath,
    services: &mut Vec<Service>,
    endpoints: &mut Vec<Endpoint>,
) -> R<Option<Registry>> {
    let Some(r) = raw.registry.as_ref().filter(|_| registry_enabled(raw)) else {
        return Ok(None);
    };
    let p = root.key("registry");
    let service_id = services.len() as ServiceId;
    let lookup_id = endpoints.len() as EndpointId;
    let mut service = super::validate::service(REGISTRY, &as_service(r), &p, vec![lookup_id])?;
    // Lookups are pure work: blocking or not makes no difference.
    service.io = Io::Async;
    let lookup = match &r.lookup {
        Some(v) => dist(v, &p.key("lookup"))?,
        None => Dist::lognormal_median_p99(LOOKUP_MEDIAN, LOOKUP_P99)
            .expect("the default lookup distribution is valid"),
    };
    let heartbeat = positive(r.heartbeat.as_deref(), &p.key("heartbeat"), HEARTBEAT)?;
    let ttl = positive(r.ttl.as_deref(), &p.key("ttl"), TTL)?;
    if ttl <= heartbeat {
        let why =
            "an entry would expire between two heartbeats, so every live instance would be evicted";
        let err = if r.ttl.is_some() {
            Invalid::new(
                &p.key("ttl"),
                format!(
                    "must be longer than `heartbeat` ({}{}), got {}: {why}",
                    fmt_ns(heartbeat),
                    if r.heartbeat.is_none() {
                        ", the default"
                    } else {
                        ""
                    },
                    fmt_ns(ttl)
                ),
            )
        } else {
            Invalid::new(
                &p.key("heartbeat"),
                format!(
                    "must be shorter than `ttl` ({}, the default), got {}: {why}; set a longer ttl",
                    fmt_ns(ttl),
                    fmt_ns(heartbeat)
                ),
            )
        };
        return Err(err);
    }
    let lookup_timeout = positive(
        r.lookup_timeout.as_deref(),
        &p.key("lookup_timeout"),
        LOOKUP_TIMEOUT,
    )?;
    services.push(service);
    endpoints.push(Endpoint {
        service: service_id,
        name: format!("{REGISTRY}.{LOOKUP}"),
        steps: vec![Step::Work(lookup)],
        idempotent: false,
        tracked: false,
        saga: None,
    });
    Ok(Some(Registry {
        service: service_id,
        lookup: lookup_id,
        heartbeat,
        ttl,
        lookup_timeout,
    }))
}

/// The registry's service fields as a service table, with the registry's
/// defaults, so they are checked by the same code and read the same.
fn as_service(r: &RawRegistry) -> RawService {
    RawService::component(
        Some(r.replicas.unwrap_or(REPLICAS)),
        Some(r.concurrency.unwrap_or(CONCURRENCY)),
        r.queue_capacity,
        r.balancer.clone(),
        r.startup.clone(),
    )
}

/// A duration that must be greater than zero; `default` when absent.
pub(super) fn positive(v: Option<&str>, p: &FieldPath, default: SimTime) -> R<SimTime> {
    let Some(v) = v else { return Ok(default) };
    let d = duration(v, p)?;
    if d == 0 {
        return Err(Invalid::new(p, "must be greater than zero"));
    }
    Ok(d)
}

/// One discovery table's fields, checked, each with the path that set it.
#[derive(Default)]
struct Layer {
    mode: Option<(Mode, FieldPath)>,
    cache_ttl: Option<(SimTime, FieldPath)>,
    refresh: Option<Refresh>,
    max_stale: Option<SimTime>,
    dead_instances: Option<DeadInstances>,
}

fn layer(d: &RawDiscovery, p: &FieldPath) -> R<Layer> {
    let mode = match d.mode.as_deref() {
        None => None,
        Some(m) => {
            let mode = match m {
                "per_request" => Mode::PerRequest,
                "cached" => Mode::Cached,
                "static" => Mode::Static,
                o => return Err(Invalid::new(
                    &p.key("mode"),
                    format!("unknown discovery mode `{o}`; expected per_request (ask the registry on every call), cached (keep the list for cache_ttl) or static (addresses fixed when the caller starts)"),
                )),
            };
            Some((mode, p.key("mode")))
        }
    };
    let refresh = match d.refresh.as_deref() {
        None => None,
        Some("on_call") => Some(Refresh::OnCall),
        Some("background") => Some(Refresh::Background),
        Some(o) => return Err(Invalid::new(
            &p.key("refresh"),
            format!("unknown refresh `{o}`; expected on_call (a call that finds the list expired looks it up first) or background (a timer refreshes it every cache_ttl)"),
        )),
    };
    let dead_instances = match d.dead_instances.as_deref() {
        None => None,
        Some("refused") => Some(DeadInstances::Refused),
        Some("blackhole") => Some(DeadInstances::Blackhole),
        Some(o) => return Err(Invalid::new(
            &p.key("dead_instances"),
            format!("unknown dead_instances `{o}`; expected refused (the connection is refused at once) or blackhole (no answer: callers wait for their timeout)"),
        )),
    };
    let cache_ttl = match &d.cache_ttl {
        None => None,
        Some(t) => Some((duration(t, &p.key("cache_ttl"))?, p.key("cache_ttl"))),
    };
    let max_stale = match &d.max_stale {
        None => None,
        Some(t) => Some(duration(t, &p.key("max_stale"))?),
    };
    Ok(Layer {
        mode,
        cache_ttl,
        refresh,
        max_stale,
        dead_instances,
    })
}

/// Every service's discovery settings, indexed by [`ServiceId`]:
/// `services` are the user's services followed by the registry's, if any
/// (which gets `None`: it calls nobody). `None` for every service when
/// the scenario uses no discovery.
pub fn discovery(
    raw: &RawScenario,
    root: &FieldPath,
    services: usize,
) -> R<Vec<Option<Discovery>>> {
    if !discovery_on(raw) {
        return Ok(vec![None; services]);
    }
    let enabled = registry_enabled(raw);
    let absent = raw.registry.is_none();
    let global = match &raw.discovery {
        Some(d) => layer(d, &root.key("discovery"))?,
        None => Layer::default(),
    };
    let merge = |name: &String, s: &RawService| -> R<Discovery> {
        let sp = root.key("services").key(name);
        let own = match &s.discovery {
            Some(d) => layer(d, &sp.key("discovery"))?,
            None => Layer::default(),
        };
        let mode = own.mode.as_ref().or(global.mode.as_ref());
        let mut resulting = mode.map_or(Mode::Cached, |(m, _)| *m);
        if absent && resulting != Mode::Static {
            return Err(match mode {
                Some((m, at)) => Invalid::new(
                    at,
                    format!(
                        "mode = \"{}\" needs a service registry, and there is no [registry] table: add one, or use mode = \"static\" (addresses fixed when the caller starts)",
                        m.name()
                    ),
                ),
                None => {
                    let (at, which) = if s.discovery.is_some() {
                        (sp.key("discovery"), "this table sets no `mode`".to_string())
                    } else if raw.discovery.is_some() {
                        (root.key("discovery"), "[discovery] sets no `mode`".to_string())
                    } else {
                        (
                            sp.clone(),
                            format!("discovery is in use and service `{name}` has no discovery settings"),
                        )
                    };
                    Invalid::new(
                        &at,
                        format!(
                            "{which}, and `mode` defaults to \"cached\", which needs a [registry]; set mode = \"static\" or add [registry]"
                        ),
                    )
                }
            });
        }
        if !enabled {
            // `[registry] enabled = false`: static addresses for everyone.
            resulting = Mode::Static;
        }
        let cache_ttl = own.cache_ttl.as_ref().or(global.cache_ttl.as_ref());
        if resulting == Mode::Cached {
            if let Some((0, at)) = cache_ttl {
                return Err(Invalid::new(
                    at,
                    "must be greater than zero in mode \"cached\" (a list that is never fresh would be looked up on every call: that is mode = \"per_request\")",
                ));
            }
        }
        Ok(Discovery {
            mode: resulting,
            cache_ttl: cache_ttl.map_or(CACHE_TTL, |(t, _)| *t),
            refresh: own.refresh.or(global.refresh).unwrap_or(Refresh::OnCall),
            max_stale: own.max_stale.or(global.max_stale),
            dead_instances: own
                .dead_instances
                .or(global.dead_instances)
                .unwrap_or(DeadInstances::Refused),
        })
    };
    // Services with a table of their own first: a problem there is the
    // one the author is working on, more than in a service that merely
    // inherits the defaults.
    for (name, s) in raw.services.iter().filter(|(_, s)| s.discovery.is_some()) {
        merge(name, s)?;
    }
    let mut out = raw
        .services
        .iter()
        .map(|(name, s)| merge(name, s).map(Some))
        .collect::<R<Vec<_>>>()?;
    // The registry's own service (if any) calls nobody.
    out.resize(services, None);
    Ok(out)
}

/// Lengthens the effect of faults by the time discovery needs to catch
/// up, so the blast radius counts those requests as the fault's, not as
/// the baseline's:
/// - a crash (or random crashes) of a service: callers may route to the
///   dead instance until the registry evicts it (`ttl` after the crash)
///   and their lists catch up (`cache_ttl` more), and find the restarted
///   instance only at their next refresh; a static list never forgets the
///   dead address (the effect lasts to the end of the run);
/// - a crash of the registry: cached callers ask it again only a retry
///   delay after a failed refresh;
/// - a partition from a service to the registry: its instances, evicted
///   meanwhile, register again at their next heartbeat, and their callers'
///   lists catch up a `cache_ttl` later; its own lookups resume after a
///   retry delay.
pub fn extend_fault_effects(
    faults: &mut [Fault],
    clients: &[Client],
    discovery: &[Option<Discovery>],
    registry: Option<&Registry>,
    run: SimTime,
) {
    let ttl = registry.map_or(0, |r| r.ttl);
    let lookup_timeout = registry.map_or(0, |r| r.lookup_timeout);
    // How long callers of `service` (their lists) lag behind the registry.
    let catch_up = |service: ServiceId| {
        clients
            .iter()
            .filter(move |c| c.callee == service)
            .filter_map(|c| discovery[c.caller as usize])
            .map(|d| match d.mode {
                Mode::Static => None,
                Mode::PerRequest => Some(0),
                Mode::Cached => Some(d.cache_ttl),
            })
    };
    let retry = |d: &Discovery| match d.mode {
        Mode::Cached => d.retry_delay(lookup_timeout),
        _ => 0,
    };
    let is_registry = |s: ServiceId| registry.is_some_and(|r| r.service == s);
    for f in faults {
        let tail = match f.kind {
            FaultKind::Crash { service, .. } | FaultKind::RandomCrashes { service, .. }
                if is_registry(service) =>
            {
                discovery
                    .iter()
                    .flatten()
                    .map(|d| f.effect_until.saturating_add(retry(d)))
                    .max()
            }
            FaultKind::Crash { service, .. } | FaultKind::RandomCrashes { service, .. } => {
                // The last instance to die does so by `until` (random
                // crashes) or at `at` (a crash).
                let died = match f.kind {
                    FaultKind::Crash { .. } => f.at,
                    _ => f.until,
                };
                catch_up(service)
                    .map(|lag| match lag {
                        None => run,
                        Some(lag) => f
                            .effect_until
                            .max(died.saturating_add(ttl))
                            .saturating_add(lag),
                    })
                    .max()
            }
            FaultKind::Partition { from, to, .. } if is_registry(to) => {
                let heartbeat = registry.map_or(0, |r| r.heartbeat);
                let callers = catch_up(from)
                    .map(|lag| {
                        f.until
                            .saturating_add(heartbeat)
                            .saturating_add(lag.unwrap_or(0))
                    })
                    .max();
                let own = discovery[from as usize].map(|d| f.until.saturating_add(retry(&d)));
                callers.max(own)
            }
            _ => None,
        };
        if let Some(t) = tail {
            f.effect_until = f.effect_until.max(t).min(run.max(f.at));
        }
    }
}

/// Warnings about discovery settings that have no effect, which only the
/// scenario's text shows (the model holds merged values, not which were
/// written): `cache_ttl`, `refresh` or `max_stale` in a service's own
/// `discovery` table when its mode is not "cached".
pub fn notes(raw: &RawScenario, model: &Model) -> Vec<String> {
    let mut out = Vec::new();
    // User services come first in the model, in file order.
    for ((name, s), d) in raw.services.iter().zip(&model.discovery) {
        let (Some(table), Some(d)) = (&s.discovery, d) else {
            continue;
        };
        if d.mode == Mode::Cached {
            continue;
        }
        let why = if raw.registry.is_some() && model.registry.is_none() {
            format!("service `{name}` uses mode = \"static\" ([registry] has enabled = false)")
        } else {
            format!("service `{name}` uses mode = \"{}\"", d.mode.name())
        };
        for (field, set) in [
            ("cache_ttl", table.cache_ttl.is_some()),
            ("refresh", table.refresh.is_some()),
            ("max_stale", table.max_stale.is_some()),
        ] {
            if set {
                out.push(format!(
                    "warning: `services.{name}.discovery.{field}` has no effect: {why}, and it applies to mode = \"cached\" only"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{from_str, test_model, Override};

    /// `api` calls `db`; `extra` is appended (tables of discovery).
    fn scenario(extra: &str) -> String {
        format!(
            r#"
[simulation]
duration = "1m"

[services.db.endpoints.get]
work = "1ms"

[services.api]
replicas = 2

[services.api.endpoints.list]
steps = [{{ call = "db.get" }}]

[[workloads]]
name = "w"
target = "api.list"
arrival = {{ process = "poisson", rate = 10 }}

{extra}
"#
        )
    }

    /// The error's field path and message.
    fn error(text: &str, sets: &[&str]) -> (String, String) {
        let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
        let e = from_str(text, "t.toml", "t", &overrides).expect_err("should be refused");
        (e.field.unwrap_or_default(), e.message)
    }

    const DEFAULTS: Discovery = Discovery {
        mode: Mode::Cached,
        cache_ttl: CACHE_TTL,
        refresh: Refresh::OnCall,
        max_stale: None,
        dead_instances: DeadInstances::Refused,
    };

    #[test]
    fn without_tables_discovery_is_off_and_nothing_is_added() {
        let m = test_model(&scenario(""));
        assert!(m.registry.is_none());
        assert_eq!(m.discovery, vec![None, None]);
        assert_eq!(m.services.len(), 2);
        assert_eq!(m.endpoints.len(), 2);
        assert!(!m.uses_discovery());
    }

    #[test]
    fn registry_is_the_last_service_with_the_last_endpoint() {
        let m = test_model(&scenario("[registry]"));
        let r = m.registry.clone().expect("a registry");
        assert_eq!(r.service, 2);
        assert_eq!(r.lookup, 2);
        let s = &m.services[2];
        assert_eq!(s.name, REGISTRY);
        assert_eq!((s.replicas, s.concurrency), (3, 32));
        assert_eq!((s.queue_capacity, s.startup, s.io), (None, 0, Io::Async));
        assert_eq!(s.balancer, Balancer::RoundRobin);
        assert_eq!(s.endpoints, vec![2]);
        let e = &m.endpoints[2];
        assert_eq!((e.name.as_str(), e.service), ("registry.lookup", 2));
        let [Step::Work(d)] = &e.steps[..] else {
            panic!("one work step");
        };
        let default = Dist::lognormal_median_p99(NS_PER_MS, 5 * NS_PER_MS).unwrap();
        assert_eq!(d.mean(), default.mean());
        assert_eq!((r.heartbeat, r.ttl), (10 * NS_PER_SEC, 30 * NS_PER_SEC));
        assert_eq!(r.lookup_timeout, NS_PER_SEC);
        // The user's services and endpoints keep their ids.
        assert_eq!(m.services[0].name, "db");
        assert_eq!(m.endpoints[1].name, "api.list");
        // Callers get the defaults; the registry calls nobody.
        assert_eq!(m.discovery, vec![Some(DEFAULTS), Some(DEFAULTS), None]);
    }

    #[test]
    fn registry_fields_are_read() {
        let m = test_model(&scenario(
            r#"[registry]
replicas = 5
concurrency = 2
queue_capacity = 10
balancer = "least_outstanding"
startup = "5s"
lookup = "2ms"
heartbeat = "1s"
ttl = "3s"
lookup_timeout = "200ms""#,
        ));
        let s = m.services.last().unwrap();
        assert_eq!(
            (s.replicas, s.concurrency, s.queue_capacity),
            (5, 2, Some(10))
        );
        assert_eq!(
            (s.balancer, s.startup),
            (Balancer::LeastOutstanding, 5 * NS_PER_SEC)
        );
        let r = m.registry.unwrap();
        assert_eq!((r.heartbeat, r.ttl), (NS_PER_SEC, 3 * NS_PER_SEC));
        assert_eq!(r.lookup_timeout, 200 * NS_PER_MS);
        let Step::Work(d) = &m.endpoints[r.lookup as usize].steps[0] else {
            panic!("a work step");
        };
        assert_eq!(d.mean(), 2.0 * NS_PER_MS as f64);
    }

    #[test]
    fn service_tables_override_discovery_field_by_field() {
        let m = test_model(&scenario(
            r#"[registry]

[discovery]
mode = "per_request"
cache_ttl = "5s"
max_stale = "2m"
dead_instances = "blackhole"

[services.api.discovery]
mode = "cached"
refresh = "background""#,
        ));
        assert_eq!(
            m.discovery[1],
            Some(Discovery {
                mode: Mode::Cached,
                cache_ttl: 5 * NS_PER_SEC,
                refresh: Refresh::Background,
                max_stale: Some(120 * NS_PER_SEC),
                dead_instances: DeadInstances::Blackhole,
            })
        );
        assert_eq!(
            m.discovery[0],
            Some(Discovery {
                mode: Mode::PerRequest,
                cache_ttl: 5 * NS_PER_SEC,
                refresh: Refresh::OnCall,
                max_stale: Some(120 * NS_PER_SEC),
                dead_instances: DeadInstances::Blackhole,
            })
        );
    }

    #[test]
    fn a_disabled_registry_means_static_addresses() {
        let text = scenario("[registry]\nenabled = false\nttl = \"1s\"\n\n[discovery]\nmode = \"per_request\"\n\n[services.registry.endpoints.x]\nwork = \"1ms\"");
        let m = test_model(&text);
        assert!(m.registry.is_none());
        assert_eq!(m.services.len(), 3, "the user's own `registry` service");
        let st = Discovery {
            mode: Mode::Static,
            ..DEFAULTS
        };
        assert_eq!(m.discovery, vec![Some(st); 3]);
        // Without any discovery table, it is as if there were no registry.
        let m = test_model(&scenario("[registry]\nenabled = false"));
        assert_eq!(m.discovery, vec![None, None]);
        // `--set registry.enabled=false` on a scenario with a registry.
        let text = scenario("[registry]\n[discovery]");
        let m = from_str(
            &text,
            "t.toml",
            "t",
            &[Override::parse("registry.enabled=false").unwrap()],
        )
        .unwrap();
        assert!(m.registry.is_none() && m.services.len() == 2);
        assert!(m.discovery.iter().all(|d| d.unwrap().mode == Mode::Static));
    }

    #[test]
    fn static_mode_needs_no_registry() {
        let m = test_model(&scenario("[discovery]\nmode = \"static\""));
        assert!(m.registry.is_none());
        assert!(m.discovery.iter().all(|d| d.unwrap().mode == Mode::Static));
        assert!(m.uses_discovery());
    }

    #[test]
    fn sets_reach_the_discovery_tables() {
        let text = scenario("[registry]\n[discovery]\n[services.api.discovery]");
        let sets = [
            "registry.replicas=5",
            "discovery.mode=per_request",
            "services.api.discovery.mode=static",
        ];
        let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
        let m = from_str(&text, "t.toml", "t", &overrides).unwrap();
        assert_eq!(m.services.last().unwrap().replicas, 5);
        assert_eq!(m.discovery[0].unwrap().mode, Mode::PerRequest);
        assert_eq!(m.discovery[1].unwrap().mode, Mode::Static);
    }

    #[test]
    fn faults_can_target_the_registry() {
        let m = test_model(&scenario(
            r#"[registry]

[[faults]]
kind = "crash"
service = "registry"
at = "10s"

[[faults]]
kind = "partition"
from = "api"
to = "registry"
at = "10s"

[[faults]]
kind = "latency"
service = "registry"
endpoint = "lookup"
extra = "5ms"
at = "10s""#,
        ));
        let r = m.registry.unwrap();
        assert!(
            matches!(m.faults[0].kind, FaultKind::Crash { service, replicas: 3, .. } if service == r.service)
        );
        assert!(
            matches!(m.faults[1].kind, FaultKind::Partition { from: 1, to, .. } if to == r.service)
        );
        assert!(
            matches!(m.faults[2].kind, FaultKind::Latency { scope: Scope::Endpoint(e), .. } if e == r.lookup)
        );
        assert_eq!(m.faults[2].target, "registry.lookup");
    }

    /// Where a mode that needs a registry came from decides where the
    /// error is reported.
    #[test]
    fn a_mode_needing_a_registry_is_blamed_where_it_was_set() {
        let (field, msg) = error(&scenario("[discovery]\nmode = \"per_request\""), &[]);
        assert_eq!(field, "discovery.mode");
        assert!(
            msg.contains("mode = \"per_request\" needs a service registry"),
            "{msg}"
        );
        let (field, _) = error(
            &scenario(
                "[discovery]\nmode = \"static\"\n[services.api.discovery]\nmode = \"cached\"",
            ),
            &[],
        );
        assert_eq!(field, "services.api.discovery.mode");
        let (field, msg) = error(
            &scenario("[services.api.discovery]\ndead_instances = \"blackhole\""),
            &[],
        );
        assert_eq!(field, "services.api.discovery");
        assert!(
            msg.contains("defaults to \"cached\", which needs a [registry]"),
            "{msg}"
        );
        assert!(
            msg.contains("set mode = \"static\" or add [registry]"),
            "{msg}"
        );
        let (field, _) = error(&scenario("[discovery]\nrefresh = \"background\""), &[]);
        assert_eq!(field, "discovery");
        // Discovery turned on by api's table; db has no settings at all.
        let (field, msg) = error(
            &scenario("[services.api.discovery]\nmode = \"static\""),
            &[],
        );
        assert_eq!(field, "services.db");
        assert!(
            msg.contains("service `db` has no discovery settings"),
            "{msg}"
        );
    }

    #[test]
    fn registry_timers_are_checked_against_each_other() {
        let (field, msg) = error(
            &scenario("[registry]\nheartbeat = \"10s\"\nttl = \"10s\""),
            &[],
        );
        assert_eq!(field, "registry.ttl");
        assert!(
            msg.contains("longer than `heartbeat` (10s), got 10s"),
            "{msg}"
        );
        let (field, msg) = error(&scenario("[registry]\nttl = \"5s\""), &[]);
        assert_eq!(field, "registry.ttl");
        assert!(msg.contains("(10s, the default)"), "{msg}");
        let (field, msg) = error(&scenario("[registry]\nheartbeat = \"1m\""), &[]);
        assert_eq!(field, "registry.heartbeat");
        assert!(
            msg.contains("shorter than `ttl` (30s, the default)"),
            "{msg}"
        );
        let (field, _) = error(&scenario("[registry]\nheartbeat = \"0s\""), &[]);
        assert_eq!(field, "registry.heartbeat");
        let (field, _) = error(&scenario("[registry]\nlookup_timeout = \"0\""), &[]);
        assert_eq!(field, "registry.lookup_timeout");
        let (field, _) = error(&scenario("[registry]\nreplicas = 0"), &[]);
        assert_eq!(field, "registry.replicas");
        let (field, _) = error(
            &scenario("[registry]\nlookup = { dist = \"exponential\" }"),
            &[],
        );
        assert_eq!(field, "registry.lookup");
    }

    #[test]
    fn cached_mode_needs_a_positive_cache_ttl() {
        let (field, msg) = error(
            &scenario("[registry]\n[discovery]\ncache_ttl = \"0s\""),
            &[],
        );
        assert_eq!(field, "discovery.cache_ttl");
        assert!(
            msg.contains("greater than zero in mode \"cached\""),
            "{msg}"
        );
        // Not cached: a zero cache_ttl is unused.
        test_model(&scenario(
            "[registry]\n[discovery]\nmode = \"per_request\"\ncache_ttl = \"0s\"",
        ));
    }

    #[test]
    fn the_registry_is_not_called_directly() {
        let text =
            scenario("[registry]").replace("call = \"db.get\"", "call = \"registry.lookup\"");
        let (field, msg) = error(&text, &[]);
        assert_eq!(field, "services.api.endpoints.list.steps[0].call");
        assert!(msg.contains("through discovery"), "{msg}");
        let text =
            scenario("[registry]").replace("target = \"api.list\"", "target = \"registry.lookup\"");
        let (field, msg) = error(&text, &[]);
        assert_eq!(field, "workloads[0].target");
        assert!(msg.contains("cannot target"), "{msg}");
        let (field, msg) = error(
            &scenario("[registry]\n[services.registry.endpoints.x]\nwork = \"1ms\""),
            &[],
        );
        assert_eq!(field, "services.registry");
        assert!(msg.contains("taken by the service registry"), "{msg}");
    }

    #[test]
    fn settings_without_effect_are_noted() {
        let text = scenario("[registry]\n[services.api.discovery]\nmode = \"per_request\"\nmax_stale = \"1m\"\nrefresh = \"on_call\"");
        let model = test_model(&text);
        let raw: RawScenario = toml::from_str(&text).unwrap();
        let notes = notes(&raw, &model);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].contains("`services.api.discovery.refresh` has no effect"),
            "{notes:?}"
        );
        assert!(notes[1].contains("max_stale") && notes[1].contains("mode = \"per_request\""));
        // Cached: they apply; in [discovery] they are defaults for all.
        let text = scenario("[registry]\n[discovery]\nmode = \"static\"\nmax_stale = \"1m\"\n[services.api.discovery]\nmode = \"cached\"\ncache_ttl = \"1s\"");
        let raw: RawScenario = toml::from_str(&text).unwrap();
        assert!(notes_of(&raw, &text).is_empty());
        // A disabled registry makes the mode static, and the note says why.
        let text =
            scenario("[registry]\nenabled = false\n[services.api.discovery]\ncache_ttl = \"1s\"");
        let raw: RawScenario = toml::from_str(&text).unwrap();
        let n = notes_of(&raw, &text);
        assert!(n.len() == 1 && n[0].contains("enabled = false"), "{n:?}");
    }

    fn notes_of(raw: &RawScenario, text: &str) -> Vec<String> {
        notes(raw, &test_model(text))
    }
}
