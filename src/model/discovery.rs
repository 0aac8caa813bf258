//! Service discovery: the registry instances register with, and how each
//! caller finds the instances of the services it calls.
//!
//! Without a `[registry]` or `[discovery]` table calls go through an
//! idealised server-side load balancer that always knows which replicas
//! are running (the model before discovery existed). With discovery, the
//! caller picks an instance itself from the list it knows, which may be
//! stale: that is where dead instances, eviction lag and registry outages
//! start to matter.

use super::{EndpointId, ServiceId};
use crate::engine::SimTime;

/// The service registry. It is a service of the model in its own right
/// (named [`REGISTRY`], one endpoint `lookup` whose work is the lookup
/// latency), so it has replicas, queues and utilisation, and faults aimed
/// at `service = "registry"` crash or slow it like any other service.
#[derive(Debug, Clone, PartialEq)]
pub struct Registry {
    /// The registry's service.
    pub service: ServiceId,
    /// Its `lookup` endpoint.
    pub lookup: EndpointId,
    /// Every live instance heartbeats this often (from its registration).
    pub heartbeat: SimTime,
    /// An entry without a heartbeat for this long is evicted.
    pub ttl: SimTime,
    /// How long a client waits for a lookup's answer before giving up.
    pub lookup_timeout: SimTime,
}

/// The registry's service name, reserved when a registry is in use.
pub const REGISTRY: &str = "registry";

/// How a caller learns the instances of a service it calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every call attempt asks the registry first: always fresh, but
    /// every call pays the lookup and fails when the registry is down.
    PerRequest,
    /// The caller keeps the list it last got for `cache_ttl`.
    Cached,
    /// The list is fixed when the caller starts: instances started later
    /// never get calls and dead ones keep getting them.
    Static,
}

/// When a cached list is refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// A call that finds the list expired looks the service up first and
    /// waits for the answer.
    OnCall,
    /// A timer refreshes the list every `cache_ttl`; calls never wait.
    Background,
}

/// What a call routed to an instance that is no longer running meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadInstances {
    /// The connection is refused at once (`connection_failed`).
    Refused,
    /// Nothing answers: the caller waits for its timeout.
    Blackhole,
}

/// One caller service's discovery settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Discovery {
    /// Where the instance list comes from.
    pub mode: Mode,
    /// How long a cached list is fresh (`Cached` only).
    pub cache_ttl: SimTime,
    /// When a cached list is refreshed (`Cached` only).
    pub refresh: Refresh,
    /// How long past its expiry a cached list is still used while the
    /// registry cannot be reached; `None`: as long as needed.
    pub max_stale: Option<SimTime>,
    /// What calls to a dead instance meet.
    pub dead_instances: DeadInstances,
}

impl Discovery {
    /// How long after a failed refresh a cached list's owner asks the
    /// registry again: one lookup timeout, but at least a second (or the
    /// list's own `cache_ttl`, if shorter), so a tiny timeout cannot turn
    /// the clients into a flood against a registry that is down.
    pub fn retry_delay(&self, lookup_timeout: SimTime) -> SimTime {
        lookup_timeout.max(self.cache_ttl.min(crate::engine::time::NS_PER_SEC))
    }
}

impl Mode {
    /// The mode's name in scenario files and results.
    pub fn name(self) -> &'static str {
        match self {
            Mode::PerRequest => "per_request",
            Mode::Cached => "cached",
            Mode::Static => "static",
        }
    }
}
