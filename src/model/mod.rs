//! The validated model the engine runs: ids instead of names, nanoseconds
//! instead of strings, ready-to-sample distributions. Built only by
//! [`crate::scenario`], so every `Model` is internally consistent (every
//! call resolves, no call cycles, counts are positive).

pub mod capacity;
pub mod cause;
pub mod cost;
pub mod discovery;
pub mod fault;
pub mod graph;
pub mod lint;
pub mod messaging;
pub mod monolith;
pub mod policy;
pub mod scaling;

use crate::dist::Dist;
use crate::engine::SimTime;
pub use cause::{Cause, CauseSet};
pub use discovery::{DeadInstances, Discovery, Mode, Refresh, Registry};
pub use fault::{FailMode, Fault, FaultId, FaultKind, Scope};
pub use messaging::{Messaging, PublishSite, ReadSite, Saga};
pub use monolith::Deployment;
pub use policy::{Backoff, BreakerConfig, Client, ClientId, Jitter, Policy, Retry, NO_CLIENT};
pub use scaling::{Autoscaler, Deploy, Metric, ScaleEvent};

/// Index of a service in [`Model::services`].
pub type ServiceId = u32;
/// Index of an endpoint in [`Model::endpoints`].
pub type EndpointId = u32;
/// Index of a workload in [`Model::workloads`].
pub type WorkloadId = u32;

/// A whole validated scenario.
#[derive(Debug, Clone)]
pub struct Model {
    /// Scenario name; used in reports.
    pub name: String,
    /// Free text from the scenario; the simulation does not use it.
    pub description: Option<String>,
    /// Master seed of every random stream.
    pub seed: u64,
    /// The run ends at this time.
    pub duration: SimTime,
    /// Summary statistics ignore everything before this time.
    pub warmup: SimTime,
    /// Width of a time-series window.
    pub window: SimTime,
    /// One-way latency of every network hop.
    pub network: Dist,
    /// Indexed by [`ServiceId`].
    pub services: Vec<Service>,
    /// Every service's endpoints, indexed by [`EndpointId`].
    pub endpoints: Vec<Endpoint>,
    /// Indexed by [`WorkloadId`].
    pub workloads: Vec<Workload>,
    /// Every (caller service, callee service, policy) combination that
    /// calls use, indexed by [`ClientId`].
    pub clients: Vec<Client>,
    /// Scheduled faults, in scenario order.
    pub faults: Vec<Fault>,
    /// The service registry, when the scenario has an enabled
    /// `[registry]`; its service is the last of `services`.
    pub registry: Option<Registry>,
    /// Per caller service (indexed by [`ServiceId`]): how it finds the
    /// instances it calls; `None` everywhere when the scenario uses no
    /// discovery (calls then go through an ideal server-side balancer).
    pub discovery: Vec<Option<Discovery>>,
    /// How the services are deployed: each on its own (the scenario as
    /// written), or all in one unit ([`monolith`]), which changes calls
    /// into in-process ones.
    pub deployment: Deployment,
    /// Scheduled replica-count changes, in time order (ties in scenario
    /// order).
    pub scales: Vec<ScaleEvent>,
    /// Rolling deployments, in scenario order.
    pub deploys: Vec<Deploy>,
    /// Prices (`[cost]` and the services' `price_per_hour`); all zeros
    /// when the scenario prices nothing.
    pub cost: cost::CostModel,
    /// Brokers, topics, subscriptions and data copies; empty without
    /// `[brokers]`.
    pub messaging: Messaging,
}

/// How a load balancer picks the replica for each incoming call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balancer {
    /// Each replica in turn.
    RoundRobin,
    /// Uniformly at random.
    Random,
    /// The replica with the fewest requests in progress or queued.
    LeastOutstanding,
    /// Two random replicas, the less loaded one wins.
    PowerOfTwo,
}

/// What a worker does while its request waits on a downstream call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Io {
    /// Thread-per-request: the worker is held for the whole request, so
    /// slow dependencies exhaust the pool (and the failure cascades).
    Blocking,
    /// Async I/O: the worker is released during calls and the request needs
    /// one again only for its next `work` step.
    Async,
}

/// A service: identical replicas behind a load balancer.
#[derive(Debug, Clone)]
pub struct Service {
    /// Service name, as in the scenario.
    pub name: String,
    /// Identical replicas behind the balancer (at least 1).
    pub replicas: u32,
    /// Workers per replica.
    pub concurrency: u32,
    /// Waiting requests per replica; `None` is unbounded.
    pub queue_capacity: Option<u32>,
    /// How incoming calls are spread over the replicas.
    pub balancer: Balancer,
    /// Whether a worker is held while its request waits on calls.
    pub io: Io,
    /// This service's endpoints (at least one).
    pub endpoints: Vec<EndpointId>,
    /// Time a restarted replica takes before it serves.
    pub startup: SimTime,
    /// Load shedding: a queued request that waited longer than this when a
    /// worker frees up is dropped (`shed`) instead of served.
    pub shed_after: Option<SimTime>,
    /// Balancer outlier ejection.
    pub outlier: Option<OutlierEjection>,
    /// Replica slots: the most replicas it can ever have at once
    /// (scaling, autoscaler max, deploy surge); `replicas` when fixed.
    pub slots: u32,
    /// Time before a newly added replica's process starts; `startup`
    /// follows.
    pub provisioning: SimTime,
    /// How long a replica being removed may drain before what is left of
    /// its work is cut off.
    pub drain_timeout: SimTime,
    /// Its autoscaler, if any.
    pub autoscale: Option<Autoscaler>,
}

/// Outlier ejection: the balancer stops sending calls to a replica whose
/// calls failed `consecutive_failures` times in a row, for `eject_for`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutlierEjection {
    /// Failures in a row (as callers saw them, timeouts included) that
    /// eject a replica.
    pub consecutive_failures: u32,
    /// How long an ejected replica gets no new calls.
    pub eject_for: SimTime,
    /// At most this fraction of the replicas is ejected at once (at least
    /// one may be).
    pub max_ejected: f64,
}

/// A call from an endpoint to another, and how the caller makes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallSite {
    /// The endpoint called.
    pub target: EndpointId,
    /// The client (policy and its shared state) the call goes through.
    pub client: ClientId,
    /// A failure does not fail the caller, whose answer becomes degraded.
    pub optional: bool,
    /// An in-process call (monolith mode): no network, balancer, admission,
    /// registry or client policy; the callee runs on the caller's replica.
    /// `client` is then [`NO_CLIENT`]. Always false in microservices mode.
    pub local: bool,
}

/// One step of an endpoint's program.
#[derive(Debug, Clone)]
pub enum Step {
    /// Hold a worker for a sampled time.
    Work(Dist),
    /// A synchronous call over the network.
    Call(CallSite),
    /// Concurrent calls; the step ends when all have answered.
    Parallel(Vec<CallSite>),
    /// Publish an event to a topic (see [`messaging`]).
    Publish(PublishSite),
    /// Read an item of a data copy this service keeps; takes no time.
    Read(ReadSite),
}

/// An endpoint of a service: a small program of steps.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The service whose workers run it.
    pub service: ServiceId,
    /// `service.endpoint`.
    pub name: String,
    /// Run in order; at least one.
    pub steps: Vec<Step>,
    /// Callers send an idempotency key with each call: a repeated
    /// execution for the same logical call (a retry, a redelivery) has no
    /// second side effect.
    pub idempotent: bool,
    /// Whether its executions per logical call are counted (duplicates):
    /// it is called by a client that retries, handles events that can be
    /// redelivered, or is `idempotent`.
    pub tracked: bool,
    /// An orchestrated saga: its steps' compensating calls.
    pub saga: Option<Saga>,
}

/// Open arrival processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenProcess {
    /// Exponential gaps.
    Poisson,
    /// Evenly spaced arrivals.
    Constant,
}

/// How a workload's requests arrive.
#[derive(Debug, Clone)]
pub enum Arrival {
    /// Arrivals independent of the system's state. `schedule` lists
    /// `(from, rate)` changes in increasing time order; rates are per second.
    Open {
        /// How the gaps between arrivals are drawn.
        process: OpenProcess,
        /// Requests per second until the first schedule change.
        rate: f64,
        /// From time `from` on, arrivals come at `rate` per second.
        schedule: Vec<(SimTime, f64)>,
    },
    /// `users` clients, each sending its next request a think time after
    /// the previous one completed.
    Closed {
        /// Concurrent clients, each with at most one request in flight.
        users: u32,
        /// Time a user waits after a response before its next request.
        think: Dist,
    },
}

impl Arrival {
    /// The arrival rate in force at `t` (open processes).
    pub fn rate_at(&self, t: SimTime) -> f64 {
        match self {
            Arrival::Open { rate, schedule, .. } => schedule
                .iter()
                .take_while(|(from, _)| *from <= t)
                .last()
                .map_or(*rate, |(_, r)| *r),
            Arrival::Closed { .. } => 0.0,
        }
    }
}

/// A source of requests aimed at one entry endpoint.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Workload name, as in results.
    pub name: String,
    /// The entry endpoint its requests call.
    pub target: EndpointId,
    /// When its requests are issued.
    pub arrival: Arrival,
}

impl Model {
    /// Whether replica counts can change during the run (scaling,
    /// autoscaling or deploys); else results keep their fixed-size shape.
    pub fn dynamic_replicas(&self) -> bool {
        !self.scales.is_empty()
            || !self.deploys.is_empty()
            || self.services.iter().any(|s| s.autoscale.is_some())
    }

    /// Whether any caller finds instances through discovery.
    pub fn uses_discovery(&self) -> bool {
        self.discovery.iter().any(Option::is_some)
    }

    /// The failure causes this scenario's results list: discovery's
    /// `no_instance` only when discovery is in use.
    pub fn causes(&self) -> &'static [Cause] {
        if self.uses_discovery() {
            &Cause::ALL
        } else {
            &Cause::WITHOUT_DISCOVERY
        }
    }

    /// The endpoint called `service.endpoint`, if any.
    pub fn endpoint_id(&self, full_name: &str) -> Option<EndpointId> {
        self.endpoints
            .iter()
            .position(|e| e.name == full_name)
            .map(|i| i as EndpointId)
    }
}
