//! Services at run time: replicas with workers and FIFO queues.

use super::request::InvId;
use crate::engine::Stream;
use crate::model::{Balancer, Io};
use std::collections::VecDeque;

/// One replica: `concurrency` workers and a queue of waiting requests.
#[derive(Debug, Clone)]
pub struct Replica {
    /// Index of the service it belongs to.
    pub service: u32,
    /// Workers in use.
    pub busy: u32,
    /// Requests admitted and not yet answered (in service, queued or
    /// waiting on calls); what load balancers compare.
    pub outstanding: u32,
    /// New requests waiting for a worker (bounded by the queue capacity).
    pub queue: VecDeque<InvId>,
    /// Admitted requests of an async service waiting for a worker to run
    /// their next `work` step; served before new requests.
    pub resume: VecDeque<InvId>,
}

impl Replica {
    /// An idle replica of service `service`.
    pub fn new(service: u32) -> Self {
        Replica {
            service,
            busy: 0,
            outstanding: 0,
            queue: VecDeque::new(),
            resume: VecDeque::new(),
        }
    }
}

/// A service's run-time state and its random streams.
#[derive(Debug, Clone)]
pub struct ServiceState {
    /// First global replica index; replicas are contiguous.
    pub first: u32,
    /// Number of replicas, from `first` on.
    pub replicas: u32,
    /// Workers per replica.
    pub concurrency: u32,
    /// `u32::MAX` when unbounded.
    pub queue_capacity: u32,
    /// How incoming calls pick a replica.
    pub balancer: Balancer,
    /// Whether a worker is released while its request waits on calls.
    pub io: Io,
    /// Round-robin cursor.
    pub rr: u32,
    /// Work times (`service/NAME`).
    pub work_rng: Stream,
    /// Balancer choices (`balancer/NAME`).
    pub lb_rng: Stream,
}
