//! The cost of a run over its measured period (after the warm-up, like the
//! other summary figures): per service and in all, per hour and per
//! million successful requests. Computed from the service meters'
//! provisioned-replica integrals and network-call counters with the
//! scenario's [`crate::model::cost::CostModel`].

use super::integral::mean_between;
use super::timeseries::ServiceMeter;
use crate::engine::SimTime;
use crate::model::cost::{CostParts, NS_PER_HOUR};
use crate::model::Model;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// What the measured period cost (`summary.json`'s `cost`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostSummary {
    /// The label of the amounts (`cost.currency`).
    pub currency: String,
    /// Length of the measured period, in hours.
    pub measured_hours: f64,
    /// Everything the measured period cost.
    pub total: f64,
    /// `total` per hour of measured time.
    pub per_hour: f64,
    /// `total` per million successful (ok or degraded) workload requests;
    /// `null` when none succeeded.
    pub per_million_ok: Option<f64>,
    /// Replica-hours provisioned, all services.
    pub replica_hours: f64,
    /// Money for those replica-hours.
    pub replicas_cost: f64,
    /// Network calls (request hops into services, registry lookups
    /// included; not the workloads' entry requests).
    pub network_calls: u64,
    /// Money for those calls.
    pub network_cost: f64,
    /// Platform overhead of all services.
    pub platform_cost: f64,
    /// Per service, in service order (the registry last).
    pub services: IndexMap<String, ServiceCost>,
}

/// What one service cost over the measured period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCost {
    /// Replica-hours provisioned (running, starting, draining or crashed
    /// and restarting replicas).
    pub replica_hours: f64,
    /// Mean replicas provisioned.
    pub mean_replicas: f64,
    /// `replica_hours` x the service's price per replica-hour.
    pub replicas_cost: f64,
    /// Network calls into the service (attempts and lookups sent over the
    /// network; retries count).
    pub network_calls: u64,
    /// `network_calls` x the price per million / 1e6.
    pub network_cost: f64,
    /// The platform overhead per service-hour x measured hours.
    pub platform_cost: f64,
    /// `replicas_cost + network_cost + platform_cost`.
    pub total: f64,
    /// `total` per hour of measured time.
    pub per_hour: f64,
    /// `total` per million successful requests of all workloads; `null`
    /// when none succeeded.
    pub per_million_ok: Option<f64>,
}

/// The cost section of a run ending at `end` in which the workloads'
/// measured requests succeeded `successes` times; `None` when the
/// scenario prices nothing.
pub fn cost_summary(
    model: &Model,
    meters: &[ServiceMeter],
    successes: u64,
    end: SimTime,
) -> Option<CostSummary> {
    let prices = &model.cost;
    if !prices.on() {
        return None;
    }
    debug_assert_eq!(
        prices.replica_hour.len(),
        model.services.len(),
        "a price per service: a model transform must carry its cost model along"
    );
    let span = end - model.warmup;
    let hours = span as f64 / NS_PER_HOUR;
    let per_million = |v: f64| (successes > 0).then(|| v / successes as f64 * 1e6);
    let mut all = CostParts::default();
    let mut calls = 0;
    let services = model
        .services
        .iter()
        .zip(meters)
        .enumerate()
        .map(|(si, (s, m))| {
            let area = m.provisioned.area_at(end) - m.provisioned_at_warmup;
            let p = prices.parts(si as u32, area, span, m.network_calls);
            all.replica_hours += p.replica_hours;
            all.replicas += p.replicas;
            all.network += p.network;
            all.platform += p.platform;
            calls += m.network_calls;
            let row = ServiceCost {
                replica_hours: p.replica_hours,
                mean_replicas: mean_between(
                    m.provisioned_at_warmup,
                    m.provisioned.area_at(end),
                    span,
                ),
                replicas_cost: p.replicas,
                network_calls: m.network_calls,
                network_cost: p.network,
                platform_cost: p.platform,
                total: p.total(),
                per_hour: p.total() / hours,
                per_million_ok: per_million(p.total()),
            };
            (s.name.clone(), row)
        })
        .collect();
    let total = all.total();
    Some(CostSummary {
        currency: prices.currency.clone(),
        measured_hours: hours,
        total,
        per_hour: total / hours,
        per_million_ok: per_million(total),
        replica_hours: all.replica_hours,
        replicas_cost: all.replicas,
        network_calls: calls,
        network_cost: all.network,
        platform_cost: all.platform,
        services,
    })
}
