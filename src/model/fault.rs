//! Faults injected on a schedule: what breaks, where, and when.

use super::{EndpointId, ServiceId};
use crate::dist::Dist;
use crate::engine::SimTime;

/// Index of a fault in [`super::Model::faults`].
pub type FaultId = u32;

/// One `[[faults]]` entry.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Name in results (given, or `KIND TARGET at AT`).
    pub name: String,
    /// What it hits, as named in results: a service, `service.endpoint`,
    /// `from->to`, or `service[replica]`.
    pub target: String,
    /// When it starts.
    pub at: SimTime,
    /// When it ends (exclusive); the run's duration when not given.
    pub until: SimTime,
    /// When its effect ends: for a crash, `until` plus the service's
    /// startup time (the restarted replicas serve only then), and with
    /// discovery the time callers may still route to the dead instance and
    /// need to find the new one (see
    /// `scenario::discovery::extend_fault_effects`); `until` for the
    /// others. The blast radius counts requests issued before it.
    pub effect_until: SimTime,
    /// What it does.
    pub kind: FaultKind,
}

/// What happens to a call that meets a dead replica or a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailMode {
    /// The caller learns at once (connection refused or reset).
    Reject,
    /// Nothing answers: the caller waits for its timeout, or forever.
    Drop,
}

/// Which work a latency or error fault affects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every endpoint of the service.
    Service(ServiceId),
    /// One endpoint.
    Endpoint(EndpointId),
    /// The endpoints `first..=last`: a component's endpoints inside a
    /// monolith unit (a service's endpoints have consecutive ids), whose
    /// service is the unit's.
    Endpoints {
        /// The first endpoint covered.
        first: EndpointId,
        /// The last endpoint covered.
        last: EndpointId,
    },
}

impl Scope {
    /// Whether the fault applies to endpoint `ep` of service `sid`.
    #[inline]
    pub fn covers(self, sid: ServiceId, ep: EndpointId) -> bool {
        match self {
            Scope::Service(s) => s == sid,
            Scope::Endpoint(e) => e == ep,
            Scope::Endpoints { first, last } => first <= ep && ep <= last,
        }
    }
}

/// The kinds of fault.
#[derive(Debug, Clone)]
pub enum FaultKind {
    /// `replicas` replicas of `service` go down at `at` and restart at
    /// `until` (then take the service's startup time).
    Crash {
        /// The service.
        service: ServiceId,
        /// How many replicas: the first existing ones by index, whatever
        /// their state (one already down stays down until both crashes
        /// end).
        replicas: u32,
        /// Every replica that exists when it starts (`replicas` left out):
        /// with scaling, that may be more or fewer than `replicas`.
        all: bool,
        /// What callers of the dead replicas see.
        mode: FailMode,
    },
    /// Extra time added to each work step in scope, for a fraction of them.
    Latency {
        /// The work affected.
        scope: Scope,
        /// The extra time.
        extra: Dist,
        /// Fraction of work steps affected (0..=1).
        fraction: f64,
    },
    /// Calls in scope fail with `injected_error` after doing their work.
    Errors {
        /// The endpoints affected.
        scope: Scope,
        /// Probability of failing each call (0..=1).
        probability: f64,
    },
    /// Calls from service `from` to service `to` fail.
    Partition {
        /// The calling side.
        from: ServiceId,
        /// The called side.
        to: ServiceId,
        /// Fail fast, or never answer.
        mode: FailMode,
    },
    /// One replica works `factor` times slower: a gray failure.
    SlowReplica {
        /// The service.
        service: ServiceId,
        /// The replica's index within the service.
        replica: u32,
        /// Multiplier of its work times.
        factor: f64,
    },
    /// Every replica of `service` fails after exponentially distributed
    /// times (mean `mtbf`) and is repaired after exponentially distributed
    /// times (mean `mttr`), while the fault is active.
    RandomCrashes {
        /// The service.
        service: ServiceId,
        /// Mean time between failures, per replica.
        mtbf: SimTime,
        /// Mean time to repair (then the startup time follows).
        mttr: SimTime,
        /// What callers of the dead replicas see.
        mode: FailMode,
    },
}

impl FaultKind {
    /// The kind's name, as in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Crash { .. } => "crash",
            FaultKind::Latency { .. } => "latency",
            FaultKind::Errors { .. } => "errors",
            FaultKind::Partition { .. } => "partition",
            FaultKind::SlowReplica { .. } => "slow_replica",
            FaultKind::RandomCrashes { .. } => "random_crashes",
        }
    }
}
