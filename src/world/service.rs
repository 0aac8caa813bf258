//! Services at run time: replicas with workers and FIFO queues, and the
//! states that take a replica out of the balancer's choice (down after a
//! crash, starting after a restart, ejected as an outlier).

use super::registry::Instance;
use super::request::InvId;
use crate::engine::{SimTime, Stream};
use crate::model::{Balancer, Io, OutlierEjection};
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
    /// Crashes currently holding it down (overlapping faults add up); it
    /// restarts when the last one ends.
    pub down: u32,
    /// Whether calls meeting it while down get no answer at all.
    pub drop_calls: bool,
    /// Restarted but not yet serving (the service's startup time).
    pub starting: bool,
    /// Ejected by outlier detection.
    pub ejected: bool,
    /// Bumped on every crash, so a pending "ready" event of an earlier
    /// restart is recognised as stale.
    pub epoch: u32,
    /// Bumped on every ejection, for the same reason.
    pub eject_epoch: u32,
    /// Failed calls in a row (outlier detection).
    pub consecutive_failures: u32,
    /// Work-time multiplier (slow-replica faults); 1 normally.
    pub slow: f64,
    /// When its current instance became ready (discovery lag).
    pub ready_at: SimTime,
    /// An empty slot: no replica exists here (scaled away or never
    /// added). It costs nothing and takes no calls.
    pub absent: bool,
    /// Being removed: takes no new calls, finishes what it has.
    pub draining: bool,
    /// The deploy version it runs (0: the one the run started with).
    pub version: u32,
    /// A bad release: it fails `error_rate` of its requests until then.
    pub bad_until: SimTime,
    /// The deploy whose version it runs (for `bad_until`'s error rate).
    pub deploy: u32,
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
            down: 0,
            drop_calls: false,
            starting: false,
            ejected: false,
            epoch: 0,
            eject_epoch: 0,
            consecutive_failures: 0,
            slow: 1.0,
            ready_at: 0,
            absent: false,
            draining: false,
            version: 0,
            bad_until: 0,
            deploy: u32::MAX,
        }
    }

    /// Running: it exists, is not down, starting or draining (it may be
    /// ejected).
    #[inline]
    pub fn running(&self) -> bool {
        self.down == 0 && !self.starting && !self.absent && !self.draining
    }

    /// It exists and is not on its way out: counts towards the desired
    /// replica count (starting and crashed replicas included).
    #[inline]
    pub fn present(&self) -> bool {
        !self.absent && !self.draining
    }

    /// The balancer may choose it.
    #[inline]
    pub fn available(&self) -> bool {
        self.running() && !self.ejected
    }
}

/// Outlier detection's record of a dead instance that callers still
/// send calls to from stale lists.
#[derive(Debug, Clone, Copy)]
pub struct DeadEjection {
    /// The instance.
    pub instance: Instance,
    /// Failed calls to it in a row.
    pub failures: u32,
    /// Ejected until then (0: not ejected).
    pub until: SimTime,
}

impl ServiceState {
    /// Dead instances currently ejected.
    pub fn dead_ejected(&self, now: SimTime) -> u32 {
        self.dead_ejections.iter().filter(|d| d.until > now).count() as u32
    }

    /// Whether dead instance `i` is ejected at `now`.
    pub fn is_dead_ejected(&self, i: Instance, now: SimTime) -> bool {
        self.dead_ejections
            .iter()
            .any(|d| d.instance == i && d.until > now)
    }
}

/// A service's run-time state and its random streams.
#[derive(Debug, Clone)]
pub struct ServiceState {
    /// First global replica index; replicas are contiguous.
    pub first: u32,
    /// Replica slots, from `first` on (see `model::Service::slots`);
    /// empty ones are `absent` and count as unavailable.
    pub replicas: u32,
    /// Slots holding a replica (draining ones included): what costs.
    pub provisioned: u32,
    /// Workers per replica.
    pub concurrency: u32,
    /// `u32::MAX` when unbounded.
    pub queue_capacity: u32,
    /// How incoming calls pick a replica.
    pub balancer: Balancer,
    /// Whether a worker is released while its request waits on calls.
    pub io: Io,
    /// Time a restarted replica takes before serving.
    pub startup: SimTime,
    /// Load shedding deadline for queued requests.
    pub shed_after: Option<SimTime>,
    /// Outlier ejection settings.
    pub outlier: Option<OutlierEjection>,
    /// Replicas the balancer may not choose (down, starting or ejected);
    /// zero keeps the balancer on its fast path.
    pub unavailable: u32,
    /// Replicas currently ejected.
    pub ejected: u32,
    /// With discovery: dead instances (stale addresses) that callers'
    /// outlier detection is counting failures of or has ejected.
    pub dead_ejections: Vec<DeadEjection>,
    /// Round-robin cursor.
    pub rr: u32,
    /// Work times (`service/NAME`).
    pub work_rng: Stream,
    /// Balancer choices (`balancer/NAME`).
    pub lb_rng: Stream,
}
