//! Validation of what changes replica counts during a run: per-service
//! `provisioning`, `drain_timeout` and `[services.NAME.autoscale]`,
//! `[[scale]]` and `[[deploy]]`; and the replica-slot pool each service
//! needs for them.

use super::error::{FieldPath, Invalid};
use super::schema::{RawAutoscale, RawDeploy, RawScenario};
use super::validate::{count, duration, fraction};
use crate::engine::time::{fmt_ns, NS_PER_SEC};
use crate::engine::SimTime;
use crate::model::{Autoscaler, Deploy, Metric, ScaleEvent, Service, ServiceId};

type R<T> = Result<T, Invalid>;

/// Most replicas a service may ever have (the slot pool is this big).
pub(super) const MAX_SLOTS: i64 = 10_000;
/// At most this many `[[scale]]` and `[[deploy]]` entries each.
const MAX_EVENTS: usize = 10_000;

/// Everything scaling adds to the model.
pub struct Scaling {
    /// `[[scale]]`, sorted by time (stable).
    pub scales: Vec<ScaleEvent>,
    /// `[[deploy]]`, in file order.
    pub deploys: Vec<Deploy>,
}

/// Reads the scaling fields of every service into `services` (which the
/// registry may extend at the end; it takes none of them) and validates
/// `[[scale]]` and `[[deploy]]`; then sizes each service's slot pool.
pub fn scaling(raw: &RawScenario, root: &FieldPath, services: &mut [Service]) -> R<Scaling> {
    for (i, (name, s)) in raw.services.iter().enumerate() {
        let p = root.key("services").key(name);
        let svc = &mut services[i];
        if let Some(d) = &s.provisioning {
            svc.provisioning = duration(d, &p.key("provisioning"))?;
        }
        if let Some(d) = &s.drain_timeout {
            svc.drain_timeout = duration(d, &p.key("drain_timeout"))?;
        }
        if let Some(a) = &s.autoscale {
            let ap = p.key("autoscale");
            let a = autoscaler(a, &ap)?;
            if svc.replicas < a.min || svc.replicas > a.max {
                return Err(Invalid::new(
                    &p.key("replicas"),
                    format!(
                        "{} replicas at the start is outside the autoscaler's range {}..={} (autoscale.min..autoscale.max)",
                        svc.replicas, a.min, a.max
                    ),
                ));
            }
            svc.autoscale = Some(a);
        }
    }
    let find = |name: &str, p: &FieldPath| -> R<ServiceId> {
        services
            .iter()
            .position(|s| s.name == name)
            .map(|i| i as ServiceId)
            .ok_or_else(|| {
                let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
                Invalid::new(
                    p,
                    format!(
                        "unknown service `{name}`; expected one of: {}",
                        names.join(", ")
                    ),
                )
            })
    };
    if raw.scale.len() > MAX_EVENTS || raw.deploy.len() > MAX_EVENTS {
        let key = if raw.scale.len() > MAX_EVENTS {
            "scale"
        } else {
            "deploy"
        };
        return Err(Invalid::new(
            &root.key(key),
            format!("at most {MAX_EVENTS} entries are allowed"),
        ));
    }
    let mut scales = Vec::with_capacity(raw.scale.len());
    for (i, s) in raw.scale.iter().enumerate() {
        let p = root.key("scale").index(i);
        let service = find(&s.service, &p.key("service"))?;
        let at = duration(&s.at, &p.key("at"))?;
        let replicas = count(Some(s.replicas), &p.key("replicas"), 0, 0, MAX_SLOTS)?;
        if let Some(a) = &services[service as usize].autoscale {
            return Err(Invalid::new(
                &p.key("service"),
                format!(
                    "service `{}` has an autoscaler (min {}, max {}); a scheduled scale would fight it: change autoscale.min/max instead",
                    s.service, a.min, a.max
                ),
            ));
        }
        scales.push(ScaleEvent {
            service,
            at,
            replicas,
        });
    }
    scales.sort_by_key(|s| s.at);
    let mut deploys: Vec<Deploy> = Vec::with_capacity(raw.deploy.len());
    for (i, d) in raw.deploy.iter().enumerate() {
        let p = root.key("deploy").index(i);
        let d = deploy(d, &p, services, &find)?;
        if deploys.iter().any(|o| o.name == d.name) {
            let field = if raw.deploy[i].name.is_some() {
                "name"
            } else {
                "at"
            };
            return Err(Invalid::new(
                &p.key(field),
                format!(
                    "deploy name `{}` is used twice; give each deploy a unique `name`",
                    d.name
                ),
            ));
        }
        deploys.push(d);
    }
    for (sid, svc) in services.iter_mut().enumerate() {
        let sid = sid as ServiceId;
        let slots = crate::model::scaling::slots(
            svc.replicas,
            scales
                .iter()
                .filter(|s| s.service == sid)
                .map(|s| s.replicas),
            svc.autoscale.as_ref(),
            deploys.iter().filter(|d| d.service == sid),
        );
        if slots > MAX_SLOTS as u64 {
            return Err(Invalid::new(
                &root.key("services").key(&svc.name),
                format!(
                    "could need {slots} replicas at once (scaling plus deploy surge); at most {MAX_SLOTS} are allowed"
                ),
            ));
        }
        svc.slots = slots as u32;
    }
    Ok(Scaling { scales, deploys })
}

fn autoscaler(a: &RawAutoscale, p: &FieldPath) -> R<Autoscaler> {
    let metric = match a.metric.as_str() {
        "utilization" => Metric::Utilization,
        "in_flight" => Metric::InFlight,
        "queue" => Metric::Queue,
        "p99" => Metric::P99,
        o => {
            return Err(Invalid::new(
                &p.key("metric"),
                format!("unknown metric `{o}`; expected one of utilization, in_flight, queue, p99"),
            ))
        }
    };
    let tp = p.key("target");
    let target = match (metric, &a.target) {
        (Metric::P99, toml::Value::String(s)) => {
            let d = duration(s, &tp)?;
            if d == 0 {
                return Err(Invalid::new(&tp, "must be greater than zero"));
            }
            d as f64
        }
        (Metric::P99, _) => {
            return Err(Invalid::new(
                &tp,
                "for metric p99, the target is a duration such as \"200ms\"",
            ))
        }
        (_, v) => {
            let x = match v {
                toml::Value::Float(f) => *f,
                toml::Value::Integer(i) => *i as f64,
                _ => {
                    return Err(Invalid::new(
                        &tp,
                        format!(
                            "for metric {}, the target is a number (utilization: a fraction such as 0.6; in_flight and queue: requests per replica)",
                            metric.name()
                        ),
                    ))
                }
            };
            let ok =
                x.is_finite() && x > 0.0 && (metric != Metric::Utilization || x <= 1.0) && x <= 1e9;
            if !ok {
                let range = if metric == Metric::Utilization {
                    "greater than 0 and at most 1"
                } else {
                    "greater than 0"
                };
                return Err(Invalid::new(&tp, format!("must be {range}, got {x}")));
            }
            x
        }
    };
    let min = count(a.min, &p.key("min"), 1, 1, MAX_SLOTS)?;
    let Some(max) = a.max else {
        return Err(Invalid::new(
            p,
            "missing field `max` (the most replicas the autoscaler may run, e.g. max = 10)",
        ));
    };
    let max = count(Some(max), &p.key("max"), 1, 1, MAX_SLOTS)?;
    if max < min {
        return Err(Invalid::new(
            &p.key("max"),
            format!("must be at least min ({min}), got {max}"),
        ));
    }
    let interval = match &a.interval {
        Some(d) => duration(d, &p.key("interval"))?,
        None => 15 * NS_PER_SEC,
    };
    if interval == 0 {
        return Err(Invalid::new(
            &p.key("interval"),
            "must be greater than zero",
        ));
    }
    let tolerance = match a.tolerance {
        Some(t) => fraction(t, &p.key("tolerance"))?,
        None => 0.1,
    };
    let max_step_up = count(a.max_step_up, &p.key("max_step_up"), 4, 1, MAX_SLOTS)?;
    let max_step_down = count(a.max_step_down, &p.key("max_step_down"), 1, 1, MAX_SLOTS)?;
    let up_cooldown = match &a.scale_up_cooldown {
        Some(d) => duration(d, &p.key("scale_up_cooldown"))?,
        None => 0,
    };
    let down_stabilization = match &a.scale_down_stabilization {
        Some(d) => duration(d, &p.key("scale_down_stabilization"))?,
        None => 300 * NS_PER_SEC,
    };
    Ok(Autoscaler {
        metric,
        target,
        min,
        max,
        interval,
        tolerance,
        max_step_up,
        max_step_down,
        up_cooldown,
        down_stabilization,
    })
}

fn deploy(
    d: &RawDeploy,
    p: &FieldPath,
    services: &[Service],
    find: &impl Fn(&str, &FieldPath) -> R<ServiceId>,
) -> R<Deploy> {
    let service = find(&d.service, &p.key("service"))?;
    let at = duration(&d.at, &p.key("at"))?;
    let batch = count(d.batch, &p.key("batch"), 1, 0, MAX_SLOTS)?;
    let surge = count(d.surge, &p.key("surge"), 0, 0, MAX_SLOTS)?;
    if batch + surge == 0 {
        return Err(Invalid::new(
            &p.key("batch"),
            "batch and surge are both 0: the rollout could never replace a replica; set batch >= 1 (replicas out at once) or surge >= 1 (extra replicas started first)",
        ));
    }
    let svc = &services[service as usize];
    let startup = match &d.startup {
        Some(s) => duration(s, &p.key("startup"))?,
        None => svc.startup,
    };
    let error_rate = match d.error_rate {
        Some(x) => fraction(x, &p.key("error_rate"))?,
        None => 0.0,
    };
    let bad_for = match &d.bad_for {
        Some(s) => {
            if d.error_rate.is_none() {
                return Err(Invalid::new(
                    &p.key("bad_for"),
                    "applies only with `error_rate` (the share of requests a new replica fails)",
                ));
            }
            duration(s, &p.key("bad_for"))?
        }
        None => SimTime::MAX,
    };
    let name = match &d.name {
        Some(n) => {
            if n.trim().is_empty() {
                return Err(Invalid::new(&p.key("name"), "must not be empty"));
            }
            n.clone()
        }
        None => format!("deploy {} at {}", d.service, fmt_ns(at)),
    };
    Ok(Deploy {
        name,
        service,
        at,
        batch,
        surge,
        startup,
        error_rate,
        bad_for,
        endpoints: None,
    })
}
