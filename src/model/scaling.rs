//! Replica counts that change during a run: scheduled scaling, the
//! autoscaler and rolling deployments. A service's replicas live in a
//! fixed pool of slots ([`super::Service::slots`]) sized for the most it can
//! ever have, so the engine never reallocates and a replica keeps its
//! index for its whole life.

use super::ServiceId;
use crate::engine::SimTime;

/// `[[scale]]`: from `at` on, `service` should have `replicas` replicas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleEvent {
    /// The service scaled.
    pub service: ServiceId,
    /// When.
    pub at: SimTime,
    /// The new desired count (0 allowed: scale to zero).
    pub replicas: u32,
}

/// What the autoscaler measures, averaged over the ready replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Busy workers / workers over the last interval (0..1).
    Utilization,
    /// Requests admitted and not yet answered per replica, at evaluation.
    InFlight,
    /// Requests waiting for a worker per replica, averaged over the interval.
    Queue,
    /// The service's own 99th-percentile response time (admission to
    /// answer) over the last interval.
    P99,
}

impl Metric {
    /// The name used in scenario files and results.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Utilization => "utilization",
            Metric::InFlight => "in_flight",
            Metric::Queue => "queue",
            Metric::P99 => "p99",
        }
    }
}

/// A horizontal autoscaler (Kubernetes HPA semantics; see the README).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Autoscaler {
    /// What it measures.
    pub metric: Metric,
    /// The level it keeps the metric at: a fraction, a count per replica,
    /// or nanoseconds for p99.
    pub target: f64,
    /// Fewest replicas.
    pub min: u32,
    /// Most replicas.
    pub max: u32,
    /// Time between evaluations.
    pub interval: SimTime,
    /// No change while `|measured / target - 1| <= tolerance`.
    pub tolerance: f64,
    /// Replicas added per evaluation at most.
    pub max_step_up: u32,
    /// Replicas removed per evaluation at most.
    pub max_step_down: u32,
    /// No scale-up within this time after the last one.
    pub up_cooldown: SimTime,
    /// Scale down only to the highest proposal of this past period.
    pub down_stabilization: SimTime,
}

/// `[[deploy]]`: a rolling replacement of every replica of a service by a
/// new version, Kubernetes-style: at most `batch` replicas below the
/// desired count are serving (maxUnavailable) and at most `surge` above it
/// exist (maxSurge) at any time.
#[derive(Debug, Clone, PartialEq)]
pub struct Deploy {
    /// Name in results.
    pub name: String,
    /// The service deployed.
    pub service: ServiceId,
    /// When the rollout starts.
    pub at: SimTime,
    /// maxUnavailable (>= 0; `batch + surge >= 1`).
    pub batch: u32,
    /// maxSurge.
    pub surge: u32,
    /// A new replica's startup time.
    pub startup: SimTime,
    /// Share of requests a new replica fails while it is bad.
    pub error_rate: f64,
    /// How long after a new replica starts serving it stays bad.
    pub bad_for: SimTime,
    /// In a monolith, the deployed component's endpoints (`first..=last`):
    /// only they fail while a replica is bad. `None`: every endpoint.
    pub endpoints: Option<(u32, u32)>,
}

/// The replica slots a service with `replicas` at the start needs: room for
/// the most replicas it can be scaled to (`scale_to`, the autoscaler's
/// max), a rollout's `surge` above that while `batch` replaced replicas
/// still drain, and, when it can scale down, as many again for replicas
/// draining while a scale-up already starts new ones.
pub fn slots<'a>(
    replicas: u32,
    scale_to: impl Iterator<Item = u32> + Clone,
    autoscale: Option<&Autoscaler>,
    deploys: impl Iterator<Item = &'a Deploy>,
) -> u64 {
    let scales_down = autoscale.is_some() || scale_to.clone().next().is_some();
    let most = scale_to
        .chain(autoscale.map(|a| a.max))
        .fold(replicas, u32::max);
    let rollout = deploys
        .map(|d| u64::from(d.surge) + u64::from(d.batch.min(most)))
        .max()
        .unwrap_or(0);
    let draining = if scales_down { u64::from(most) } else { 0 };
    u64::from(most) + rollout + draining
}
