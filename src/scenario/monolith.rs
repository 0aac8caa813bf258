//! `[deployment]` and `[deployment.monolith]`: reading how the scenario is
//! deployed, and, in monolith mode, applying [`crate::model::monolith`]'s
//! transform to the validated model. The unit's fields are validated like
//! a service's (the same messages and limits), in either mode, so a typo
//! is caught even while the table waits for `--set deployment.mode=monolith`.

use super::error::{FieldPath, Invalid};
use super::schema::{RawScenario, RawService};
use super::validate::{check_name, MAX_CONCURRENCY, MAX_WORKERS};
use crate::model::monolith::{to_monolith, Monolith, Sizing};
use crate::model::Model;
use serde::Deserialize;

type R<T> = Result<T, Invalid>;

/// `[deployment]`.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a deployment table such as { mode = \"monolith\" }"
)]
pub struct RawDeployment {
    /// `mode`: "microservices" (default) or "monolith".
    pub mode: Option<String>,
    /// `[deployment.monolith]`: how the unit is built (monolith mode only).
    pub monolith: Option<RawMonolith>,
}

/// `[deployment.monolith]`: the unit's sizing; every field optional, its
/// default derived from the services (see
/// [`crate::model::monolith::to_monolith`]).
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a monolith table such as { replicas = 4, concurrency = 64 }"
)]
pub struct RawMonolith {
    /// `name`: the unit's service name in results; default "monolith".
    pub name: Option<String>,
    /// `replicas`: default the max of the services' replicas.
    pub replicas: Option<i64>,
    /// `concurrency`: workers per unit replica; default the sum of the
    /// services' concurrency.
    pub concurrency: Option<i64>,
    /// `queue_capacity`: default the sum of the services' capacities,
    /// unbounded if any is.
    pub queue_capacity: Option<i64>,
    /// `balancer`: default the first workload's target service's.
    pub balancer: Option<String>,
    /// `io`: default "blocking" if any service is blocking, else "async".
    pub io: Option<String>,
    /// `startup`: default the max of the services' startups.
    pub startup: Option<String>,
    /// `price_per_hour`: the unit's price per replica-hour; default the
    /// sum of its components' prices (one replica of each).
    pub price_per_hour: Option<f64>,
}

/// The deployment's sizing in monolith mode, `None` in microservices mode;
/// the unit's fields are checked in both.
pub fn sizing(raw: &RawScenario, root: &FieldPath) -> R<Option<Sizing>> {
    let Some(d) = &raw.deployment else {
        return Ok(None);
    };
    let dp = root.key("deployment");
    let monolith = match d.mode.as_deref() {
        None | Some("microservices") => false,
        Some("monolith") => true,
        Some(o) => {
            return Err(Invalid::new(
                &dp.key("mode"),
                format!("unknown deployment mode `{o}`; expected `microservices` (the default: each service deployed on its own) or `monolith` (one unit)"),
            ))
        }
    };
    let m = d.monolith.as_ref();
    let empty = RawMonolith::default();
    let m = m.unwrap_or(&empty);
    let mp = dp.key("monolith");
    if let Some(n) = &m.name {
        check_name(n, &mp.key("name"), "unit")?;
    }
    // The same checks and messages as a service's fields.
    let as_service = RawService {
        replicas: m.replicas,
        concurrency: m.concurrency,
        queue_capacity: m.queue_capacity,
        balancer: m.balancer.clone(),
        io: m.io.clone(),
        startup: m.startup.clone(),
        shed_after: None,
        outlier_ejection: None,
        discovery: None,
        endpoints: Default::default(),
        subscriptions: Default::default(),
        provisioning: None,
        drain_timeout: None,
        autoscale: None,
        price_per_hour: None,
    };
    let unit = super::validate::service("monolith", &as_service, &mp, Vec::new())?;
    let price_per_hour = super::cost::price(m.price_per_hour, &mp.key("price_per_hour"))?;
    if !monolith {
        return Ok(None);
    }
    Ok(Some(Sizing {
        name: m.name.clone(),
        replicas: m.replicas.map(|_| unit.replicas),
        concurrency: m.concurrency.map(|_| unit.concurrency),
        queue_capacity: m.queue_capacity.map(|_| unit.queue_capacity.unwrap_or(0)),
        balancer: m.balancer.as_ref().map(|_| unit.balancer),
        io: m.io.as_ref().map(|_| unit.io),
        startup: m.startup.as_ref().map(|_| unit.startup),
        price_per_hour,
    }))
}

/// In monolith mode, `model` (validated as microservices) as its monolith,
/// with the sizing note and warnings; `None` in microservices mode. An
/// error when the derived sizing exceeds a service's limits.
pub fn apply(raw: &RawScenario, model: Model, root: &FieldPath) -> R<Result<Monolith, Model>> {
    let Some(sizing) = sizing(raw, root)? else {
        return Ok(Err(model));
    };
    if model.messaging.on() {
        return Err(Invalid::new(
            &root.key("deployment").key("mode"),
            "deployment.mode = \"monolith\" with [brokers] is not supported: a monolith's components would share one database and call each other in-process, so the events, copies and their windows would not exist; compare the event-driven design with a variant without brokers instead",
        ));
    }
    let mono = to_monolith(model, &sizing);
    let unit = &mono.model.services[0];
    let mp = root.key("deployment").key("monolith");
    if i64::from(unit.concurrency) > MAX_CONCURRENCY {
        return Err(Invalid::new(
            &mp.key("concurrency"),
            format!(
                "the unit's default concurrency, the sum of the services' ({}), is more than {MAX_CONCURRENCY}: set deployment.monolith.concurrency",
                unit.concurrency
            ),
        ));
    }
    if i64::from(unit.slots) >= super::scaling::MAX_SLOTS {
        return Err(Invalid::new(
            &mp.key("replicas"),
            format!(
                "the unit could need {} replicas at once (its components' scaling and deploys, in proportion to its {} replicas); at most {} are allowed",
                unit.slots,
                unit.replicas,
                super::scaling::MAX_SLOTS
            ),
        ));
    }
    if i64::from(unit.replicas) * i64::from(unit.concurrency) > MAX_WORKERS {
        return Err(Invalid::new(
            &mp.key("concurrency"),
            format!(
                "the unit's replicas x concurrency ({} x {}) must be at most {MAX_WORKERS}: set deployment.monolith.replicas or concurrency",
                unit.replicas, unit.concurrency
            ),
        ));
    }
    Ok(Ok(mono))
}
