//! What scaling and deploys did: replica counts over time per service, the
//! log of scaling decisions, and each deploy's rollout and blast radius.

use super::resilience::PeriodMeter;
use crate::engine::SimTime;

/// Most decisions kept in the log (a runaway autoscaler cannot eat memory).
pub const MAX_DECISIONS: usize = 100_000;

/// Per service: what happened to its replicas (their count over time is
/// `ServiceMeter::provisioned`, which the cost model reads too).
#[derive(Debug, Clone, Default)]
pub struct ReplicaMeter {
    /// Fewest and most replicas provisioned during the measured period.
    pub min: u32,
    /// See `min`.
    pub max: u32,
    /// Replicas added (measured).
    pub started: u64,
    /// Replicas removed after draining (measured).
    pub drained: u64,
    /// Drains cut off by `drain_timeout` (measured).
    pub drain_cutoffs: u64,
    /// Calls lost when a drain was cut off (measured).
    pub lost_in_cutoffs: u64,
    /// Decisions that raised / lowered the desired count (measured).
    pub scale_ups: u64,
    /// See `scale_ups`.
    pub scale_downs: u64,
}

impl ReplicaMeter {
    /// Notes that `provisioned` replicas exist now.
    pub fn note(&mut self, provisioned: u32, measuring: bool) {
        if measuring {
            self.min = self.min.min(provisioned);
            self.max = self.max.max(provisioned);
        }
    }
}

/// Why the desired replica count changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason {
    /// A `[[scale]]` entry.
    Schedule,
    /// The autoscaler, having measured this value of its metric.
    Autoscaler(f64),
}

/// One change of a service's desired replica count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// When.
    pub at: SimTime,
    /// The service.
    pub service: u32,
    /// Desired count before.
    pub from: u32,
    /// Desired count after.
    pub to: u32,
    /// Why.
    pub reason: Reason,
}

/// One deploy's progress and what the workloads saw meanwhile.
#[derive(Debug, Clone, Default)]
pub struct DeployMeter {
    /// When the rollout started (it starts at its `at`, unless the run
    /// ended first).
    pub started: Option<SimTime>,
    /// When the last old replica was gone and every new one served.
    pub finished: Option<SimTime>,
    /// When its effect ends: `finished`, plus `bad_for` for a bad release.
    pub effect_end: Option<SimTime>,
    /// Old-version replicas when it started.
    pub old_replicas: u32,
    /// New-version replicas started.
    pub new_replicas: u32,
    /// Requests failed by the bad release (measured).
    pub bad_release_errors: u64,
    /// Superseded by a later deploy of the same service before finishing.
    pub superseded: bool,
    /// Per workload: requests issued while its effect lasted.
    pub during: Vec<PeriodMeter>,
}

impl DeployMeter {
    /// Whether a request issued at `t` falls within the deploy's effect.
    #[inline]
    pub fn covers(&self, t: SimTime) -> bool {
        match self.started {
            Some(s) => s <= t && self.effect_end.is_none_or(|e| t < e),
            None => false,
        }
    }
}
