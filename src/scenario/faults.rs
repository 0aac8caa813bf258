//! Validation of `[[faults]]`: each kind takes its own fields, and a field
//! that does not apply to the kind is refused rather than ignored.

use super::error::{FieldPath, Invalid};
use super::schema::RawFault;
use super::validate::{dist, duration, fraction};
use crate::engine::time::fmt_ns;
use crate::engine::SimTime;
use crate::model::*;

type R<T> = Result<T, Invalid>;

/// At most this many faults per scenario.
const MAX_FAULTS: usize = 10_000;

/// Fields each kind takes (beyond name, kind, at and duration).
const FIELDS: [(&str, &[&str]); 6] = [
    ("crash", &["service", "replicas", "mode"]),
    ("latency", &["service", "endpoint", "extra", "fraction"]),
    ("errors", &["service", "endpoint", "probability"]),
    ("partition", &["from", "to", "mode"]),
    ("slow_replica", &["service", "replica", "factor"]),
    ("random_crashes", &["service", "mtbf", "mttr", "mode"]),
];

/// Validates every fault against the services and endpoints of the model.
pub fn faults(
    raw: &[RawFault],
    root: &FieldPath,
    services: &[Service],
    endpoints: &[Endpoint],
    run: SimTime,
) -> R<Vec<Fault>> {
    if raw.len() > MAX_FAULTS {
        return Err(Invalid::new(
            &root.key("faults"),
            format!("has {} faults; at most {MAX_FAULTS} are allowed", raw.len()),
        ));
    }
    let mut out: Vec<Fault> = Vec::with_capacity(raw.len());
    for (i, f) in raw.iter().enumerate() {
        let p = root.key("faults").index(i);
        let fault = fault(f, &p, services, endpoints, run)?;
        if out.iter().any(|o| o.name == fault.name) {
            let field = if f.name.is_some() { "name" } else { "kind" };
            return Err(Invalid::new(
                &p.key(field),
                format!(
                    "fault name `{}` is used twice; give each fault a unique `name`",
                    fault.name
                ),
            ));
        }
        out.push(fault);
    }
    Ok(out)
}

fn fault(
    f: &RawFault,
    p: &FieldPath,
    services: &[Service],
    endpoints: &[Endpoint],
    run: SimTime,
) -> R<Fault> {
    let Some((_, allowed)) = FIELDS.iter().find(|(k, _)| *k == f.kind) else {
        let kinds: Vec<&str> = FIELDS.iter().map(|(k, _)| *k).collect();
        return Err(Invalid::new(
            &p.key("kind"),
            format!(
                "unknown fault kind `{}`; expected one of: {}",
                f.kind,
                kinds.join(", ")
            ),
        ));
    };
    let present = [
        ("service", f.service.is_some()),
        ("endpoint", f.endpoint.is_some()),
        ("replicas", f.replicas.is_some()),
        ("mode", f.mode.is_some()),
        ("extra", f.extra.is_some()),
        ("fraction", f.fraction.is_some()),
        ("probability", f.probability.is_some()),
        ("from", f.from.is_some()),
        ("to", f.to.is_some()),
        ("replica", f.replica.is_some()),
        ("factor", f.factor.is_some()),
        ("mtbf", f.mtbf.is_some()),
        ("mttr", f.mttr.is_some()),
    ];
    for (field, set) in present {
        if set && !allowed.contains(&field) {
            return Err(Invalid::new(
                &p.key(field),
                format!(
                    "`{field}` does not apply to {} fault; it takes: {}",
                    super::validate::a(&f.kind),
                    allowed.join(", ")
                ),
            ));
        }
    }
    let random = f.kind == "random_crashes";
    let at = match &f.at {
        Some(a) => duration(a, &p.key("at"))?,
        None if random => 0,
        None => {
            return Err(Invalid::new(
                p,
                "missing field `at` (when the fault starts, e.g. at = \"1m\")",
            ))
        }
    };
    let until = match &f.duration {
        Some(d) => {
            let d = duration(d, &p.key("duration"))?;
            if d == 0 {
                return Err(Invalid::new(
                    &p.key("duration"),
                    "must be greater than zero (leave it out to last until the end of the run)",
                ));
            }
            at.saturating_add(d).min(run.max(at))
        }
        // A fault starting after the end (a run shortened with --set) is
        // kept, with a warning from `model::lint`, and never starts.
        None => run.max(at),
    };
    let service = |field: &str, name: &Option<String>| -> R<ServiceId> {
        let Some(name) = name else {
            return Err(Invalid::new(
                p,
                format!("missing field `{field}` (the name of a service)"),
            ));
        };
        services
            .iter()
            .position(|s| &s.name == name)
            .map(|i| i as ServiceId)
            .ok_or_else(|| {
                let known: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
                Invalid::new(
                    &p.key(field),
                    format!(
                        "unknown service `{name}`; expected one of: {}",
                        known.join(", ")
                    ),
                )
            })
    };
    let mode = || -> R<FailMode> {
        match f.mode.as_deref() {
            None | Some("reject") => Ok(FailMode::Reject),
            Some("drop") => Ok(FailMode::Drop),
            Some(o) => Err(Invalid::new(
                &p.key("mode"),
                format!("unknown mode `{o}`; expected reject (callers fail at once) or drop (no answer: callers wait for their timeout)"),
            )),
        }
    };
    let scope = |sid: ServiceId| -> R<Scope> {
        match &f.endpoint {
            None => Ok(Scope::Service(sid)),
            Some(e) => {
                let s = &services[sid as usize];
                let full = format!("{}.{e}", s.name);
                s.endpoints
                    .iter()
                    .copied()
                    .find(|&id| endpoints[id as usize].name == full)
                    .map(Scope::Endpoint)
                    .ok_or_else(|| {
                        let known: Vec<&str> = s
                            .endpoints
                            .iter()
                            .map(|&id| {
                                let n = &endpoints[id as usize].name;
                                &n[n.find('.').map_or(0, |d| d + 1)..]
                            })
                            .collect();
                        Invalid::new(
                            &p.key("endpoint"),
                            format!(
                                "service `{}` has no endpoint `{e}`; expected one of: {}",
                                s.name,
                                known.join(", ")
                            ),
                        )
                    })
            }
        }
    };
    let (kind, target) = match f.kind.as_str() {
        "crash" => {
            let sid = service("service", &f.service)?;
            // With scaling, a crash may name up to the most replicas the
            // service can have.
            let all = services[sid as usize]
                .replicas
                .max(services[sid as usize].slots);
            let replicas = match f.replicas {
                None => services[sid as usize].replicas,
                Some(n) if n >= 1 && n <= i64::from(all) => n as u32,
                Some(n) => {
                    let has = if all == 1 {
                        "has 1 replica".to_string()
                    } else {
                        format!("has {all} replicas")
                    };
                    return Err(Invalid::new(
                        &p.key("replicas"),
                        format!(
                            "must be from 1 to {all}: service `{}` {has}; got {n} (leave it out to crash all)",
                            services[sid as usize].name
                        ),
                    ));
                }
            };
            (
                FaultKind::Crash {
                    service: sid,
                    replicas,
                    all: f.replicas.is_none(),
                    mode: mode()?,
                },
                services[sid as usize].name.clone(),
            )
        }
        "latency" => {
            let sid = service("service", &f.service)?;
            let Some(extra) = &f.extra else {
                return Err(Invalid::new(
                    p,
                    "missing field `extra` (the latency added, e.g. extra = \"200ms\" or a distribution)",
                ));
            };
            let extra = dist(extra, &p.key("extra"))?;
            let fraction = match f.fraction {
                Some(x) => fraction(x, &p.key("fraction"))?,
                None => 1.0,
            };
            let scope = scope(sid)?;
            (
                FaultKind::Latency {
                    scope,
                    extra,
                    fraction,
                },
                scope_name(scope, services, endpoints),
            )
        }
        "errors" => {
            let sid = service("service", &f.service)?;
            let Some(prob) = f.probability else {
                return Err(Invalid::new(
                    p,
                    "missing field `probability` (the share of calls that fail, from 0 to 1)",
                ));
            };
            let probability = fraction(prob, &p.key("probability"))?;
            let scope = scope(sid)?;
            (
                FaultKind::Errors { scope, probability },
                scope_name(scope, services, endpoints),
            )
        }
        "partition" => {
            let from = service("from", &f.from)?;
            let to = service("to", &f.to)?;
            (
                FaultKind::Partition {
                    from,
                    to,
                    mode: mode()?,
                },
                format!(
                    "{}->{}",
                    services[from as usize].name, services[to as usize].name
                ),
            )
        }
        "slow_replica" => {
            let sid = service("service", &f.service)?;
            let n = services[sid as usize].replicas;
            let replica = match f.replica {
                None => 0,
                Some(r) if r >= 0 && r < i64::from(n) => r as u32,
                Some(r) => {
                    return Err(Invalid::new(
                        &p.key("replica"),
                        format!("must be a replica index from 0 to {}, got {r}", n - 1),
                    ))
                }
            };
            let Some(factor) = f.factor else {
                return Err(Invalid::new(
                    p,
                    "missing field `factor` (how many times slower the replica works, e.g. factor = 10)",
                ));
            };
            if !factor.is_finite() || factor <= 0.0 || factor > 1e6 {
                return Err(Invalid::new(
                    &p.key("factor"),
                    format!("must be a number greater than 0 and at most 1000000, got {factor}"),
                ));
            }
            (
                FaultKind::SlowReplica {
                    service: sid,
                    replica,
                    factor,
                },
                format!("{}[{replica}]", services[sid as usize].name),
            )
        }
        "random_crashes" => {
            let sid = service("service", &f.service)?;
            let mean = |field: &str, v: &Option<String>, what: &str| -> R<SimTime> {
                let Some(v) = v else {
                    return Err(Invalid::new(
                        p,
                        format!("missing field `{field}` ({what}, e.g. {field} = \"10m\")"),
                    ));
                };
                let d = duration(v, &p.key(field))?;
                if d == 0 {
                    return Err(Invalid::new(&p.key(field), "must be greater than zero"));
                }
                Ok(d)
            };
            let mtbf = mean("mtbf", &f.mtbf, "mean time between failures per replica")?;
            let mttr = mean("mttr", &f.mttr, "mean time to repair")?;
            (
                FaultKind::RandomCrashes {
                    service: sid,
                    mtbf,
                    mttr,
                    mode: mode()?,
                },
                services[sid as usize].name.clone(),
            )
        }
        _ => unreachable!("kinds are checked against FIELDS above"),
    };
    let name = match &f.name {
        Some(n) if n.trim().is_empty() => {
            return Err(Invalid::new(&p.key("name"), "must not be empty"))
        }
        Some(n) => n.clone(),
        None => format!("{} {target} at {}", f.kind, fmt_ns(at)),
    };
    let effect_until = match kind {
        FaultKind::Crash { service, .. } => until
            .saturating_add(services[service as usize].startup)
            .min(run.max(at)),
        _ => until,
    };
    Ok(Fault {
        name,
        target,
        at,
        until,
        effect_until,
        kind,
    })
}

fn scope_name(scope: Scope, services: &[Service], endpoints: &[Endpoint]) -> String {
    match scope {
        Scope::Service(s) => services[s as usize].name.clone(),
        Scope::Endpoint(e) => endpoints[e as usize].name.clone(),
        // Made only by the monolith transform, after validation.
        Scope::Endpoints { first, last } => format!(
            "{}..{}",
            endpoints[first as usize].name, endpoints[last as usize].name
        ),
    }
}
