//! The microservice world: services, replicas, in-flight requests and the
//! handlers that move them along. [`World::handle`] dispatches one event;
//! everything it schedules goes back on the world's event queue.
//!
//! A call travels: caller -> client policy (breaker, bulkhead, timeout) ->
//! network hop -> balancer picks a running replica -> worker, or the
//! replica's queue, or rejection -> steps (work, calls) -> network hop back
//! -> the call record (retry or answer) -> caller's next step. Faults
//! ([`faults`]) and policies ([`resilience`]) live in their own files.

pub mod attribution;
pub mod autoscale;
pub mod balancer;
pub mod breaker;
pub mod call;
pub mod consistency;
pub mod discovery;
pub mod faults;
pub mod idempotency;
pub mod local;
pub mod messaging;
pub mod outcome;
pub mod registry;
pub mod request;
pub mod resilience;
pub mod saga;
pub mod scaling;
pub mod service;
pub mod spans;
pub mod workload;

use crate::dist::Dist;
use crate::engine::{rng, EventQueue, SimTime, Stream};
use crate::metrics::attribution::Kind;
use crate::metrics::discovery::DiscoveryMeter;
use crate::metrics::resilience::{ClientMeter, FaultMeter, PeriodMeter};
use crate::metrics::timeseries::{ServiceMeter, Windows, WorkloadMeter};
use crate::model::{Arrival, FaultId, Io, Model, Step, WorkloadId};
use autoscale::AutoscalerState;
use call::{CallId, Calls};
use discovery::DiscoveryState;
use faults::FaultState;
use outcome::{Cause, Outcome};
use registry::RegistryState;
use request::{InvId, Invocation, Invocations, Parent, NOT_ADMITTED, NO_TARGET};
use resilience::ClientState;
use scaling::ScalingState;
use service::{Replica, ServiceState};
use std::collections::VecDeque;

/// Something that happens at an instant. Small and `Copy`: ids into the
/// world's arenas (with a generation or tag where the target may have died
/// or moved on meanwhile), never boxed closures.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// A workload issues a request (open: the next arrival; closed: a user
    /// finished thinking).
    Arrival {
        /// The workload issuing the request.
        workload: WorkloadId,
    },
    /// A call attempt reaches its callee's service after the network hop.
    Deliver {
        /// The callee's new invocation.
        inv: InvId,
    },
    /// A work step finished.
    WorkDone {
        /// The invocation whose step finished.
        inv: InvId,
        /// Its generation (stale if it died in a crash meanwhile).
        gen: u32,
    },
    /// An attempt's answer reaches its call record.
    Reply {
        /// The call.
        call: CallId,
        /// The attempt it answers.
        tag: u32,
        /// How the callee's invocation ended.
        outcome: Outcome,
    },
    /// The caller's timeout for an attempt expires.
    Timeout {
        /// The call.
        call: CallId,
        /// The attempt it limits.
        tag: u32,
    },
    /// A retry's backoff wait is over.
    Retry {
        /// The call.
        call: CallId,
        /// The tag of the waiting call.
        tag: u32,
    },
    /// A fault begins.
    FaultStart {
        /// The fault.
        fault: FaultId,
    },
    /// A fault ends.
    FaultEnd {
        /// The fault.
        fault: FaultId,
    },
    /// A random-crash fault takes a replica down.
    RandomCrash {
        /// The fault.
        fault: FaultId,
        /// Global replica index.
        replica: u32,
    },
    /// A random-crash fault repairs a replica.
    RandomRepair {
        /// The fault.
        fault: FaultId,
        /// Global replica index.
        replica: u32,
    },
    /// A restarted replica finished starting.
    ReplicaReady {
        /// Global replica index.
        replica: u32,
        /// Its crash epoch when it restarted.
        epoch: u32,
    },
    /// An outlier ejection ends.
    EjectionEnd {
        /// Global replica index.
        replica: u32,
        /// Its ejection epoch.
        epoch: u32,
    },
    /// An instance's heartbeat to the registry is due.
    Heartbeat {
        /// Global replica index.
        replica: u32,
        /// The instance's epoch (stale once the replica crashed).
        epoch: u32,
    },
    /// A background refresh of a discovery cache is due.
    Refresh {
        /// The cache.
        cache: u32,
        /// Its generation (stale once the caller replica crashed).
        gen: u32,
    },
    /// A registry lookup's answer reaches the caller.
    LookupReply {
        /// The lookup record.
        lookup: u32,
        /// Its tag.
        tag: u32,
        /// Whether the registry answered with a list.
        ok: bool,
    },
    /// A lookup's timeout expires.
    LookupTimeout {
        /// The lookup record.
        lookup: u32,
        /// Its tag.
        tag: u32,
    },
    /// A `[[scale]]` entry takes effect.
    ScaleAt {
        /// Index in `Model::scales`.
        index: u32,
    },
    /// A `[[deploy]]` rollout starts.
    DeployStart {
        /// Index in `Model::deploys`.
        deploy: u32,
    },
    /// A service's autoscaler evaluates.
    Autoscale {
        /// The service.
        service: u32,
    },
    /// A draining replica's `drain_timeout` is up.
    DrainDeadline {
        /// Global replica index.
        replica: u32,
        /// Its epoch when the drain started.
        epoch: u32,
    },
    /// A publish's ack (or refusal) reaches its publisher.
    PublishReply {
        /// The message record.
        msg: u32,
        /// The attempt it answers.
        tag: u32,
        /// Whether the broker stored the event.
        ok: bool,
    },
    /// A publisher stops waiting for the broker's ack.
    PublishTimeout {
        /// The message record.
        msg: u32,
        /// The attempt it limits.
        tag: u32,
    },
    /// A service's outbox relay tries the broker again.
    RelayResume {
        /// The publishing service.
        service: u32,
    },
    /// A delivery reaches the subscriber after the broker's delivery
    /// latency.
    DeliveryArrive {
        /// The delivery record.
        delivery: u32,
        /// Its tag (delivery attempt).
        tag: u32,
    },
    /// A delivery's ack timeout expires.
    DeliveryTimeout {
        /// The delivery record.
        delivery: u32,
        /// The delivery attempt it limits.
        tag: u32,
    },
    /// A failed event's redelivery wait is over: it queues again.
    Redeliver {
        /// The delivery record.
        delivery: u32,
        /// Its tag.
        tag: u32,
    },
    /// A subscription whose broker or consumers were unreachable tries
    /// again.
    ConsumerRetry {
        /// The subscription.
        subscription: u32,
    },
    /// The warm-up period ends.
    WarmupEnd,
    /// A time-series window ends.
    WindowEnd,
}

/// The state of the simulated system and its metrics.
pub struct World<'m> {
    /// The scenario being simulated.
    pub model: &'m Model,
    /// Pending events, in `(time, seq)` order.
    pub queue: EventQueue<Event>,
    /// Current simulated time; the event loop sets it before each event.
    pub now: SimTime,
    /// In-flight invocations.
    pub invs: Invocations,
    /// Calls in flight (across their attempts).
    pub calls: Calls,
    /// Run-time state per service, indexed by `ServiceId`.
    pub services: Vec<ServiceState>,
    /// Every service's replicas, contiguous per service (see
    /// `ServiceState::first`).
    pub replicas: Vec<Replica>,
    /// Per client: breaker, bulkhead, retry budget; indexed by `ClientId`.
    pub clients: Vec<ClientState>,
    /// Active faults and their random streams.
    pub faults: FaultState,
    /// Network hop latencies: per callee endpoint, one stream for the
    /// request hops to it and one for the reply hops from it, so that
    /// traffic on one link does not shift the draws of another.
    pub net_to: Vec<Stream>,
    /// Reply-hop latencies per callee endpoint (see `net_to`).
    pub net_from: Vec<Stream>,
    /// Per-workload stream for arrival gaps and think times (`workload/NAME`).
    pub workload_rngs: Vec<Stream>,
    /// Counters per workload, indexed by `WorkloadId`.
    pub workload_meters: Vec<WorkloadMeter>,
    /// Counters and integrals per service, indexed by `ServiceId`.
    pub service_meters: Vec<ServiceMeter>,
    /// Counters per client, indexed by `ClientId`.
    pub client_meters: Vec<ClientMeter>,
    /// Per fault: what it did.
    pub fault_meters: Vec<FaultMeter>,
    /// Per workload: requests issued while no fault was active.
    pub outside_faults: Vec<PeriodMeter>,
    /// The time-series windows: the open one and the rows closed so far.
    pub windows: Windows,
    /// The service registry's contents, when the scenario has one.
    pub registry: Option<RegistryState>,
    /// Callers' instance lists and lookups in flight.
    pub discovery: DiscoveryState,
    /// Per discovery pair (`discovery.pairs`).
    pub discovery_meters: Vec<DiscoveryMeter>,
    /// Desired counts, versions, rollouts and replicas over time.
    pub scaling: ScalingState,
    /// Per service: its autoscaler's memory, if it has one.
    pub autoscalers: Vec<Option<AutoscalerState>>,
    /// Messages, outboxes, subscriptions and deliveries, with their
    /// meters.
    pub messaging: messaging::MessagingState,
    /// Data copies: versions per item, windows and stale reads.
    pub consistency: consistency::ConsistencyState,
    /// Saga meters per saga endpoint.
    pub sagas: saga::SagaState,
    /// Logical calls' execution records and per-endpoint meters.
    pub ops: idempotency::Ops,
    /// Critical-path accumulators of everything in flight, and the
    /// per-workload attribution meters.
    pub attribution: attribution::AttributionState,
    /// Span recording, when the run writes traces.
    pub tracer: Option<Box<crate::trace::recorder::Recorder>>,
    /// Span refs per slot, used only with a tracer.
    spans: spans::SpanTables,
    /// Some fault or deploy has a blast radius to measure.
    with_periods: bool,
    /// Some autoscaler scales on p99 (else response times are not kept).
    any_p99: bool,
    /// Invocations ready to run their next step now; drained after each
    /// event so that chains of immediate work never recurse.
    ready: VecDeque<InvId>,
    /// Answers of in-process calls (monolith mode) to deliver now, as
    /// (caller, its generation, outcome): queued like `ready`, so a
    /// failure travelling up a deep chain never recurses, and an answer to
    /// a caller lost in the same crash is dropped, not delivered.
    local_replies: VecDeque<(InvId, u32, Outcome, attribution::Acc)>,
    /// Some service has outlier ejection (else outcomes per replica need
    /// no bookkeeping).
    any_outlier: bool,
    /// Some attempt was ever given up (a timeout, or a caller lost in a
    /// crash); until then no call can be working for nobody.
    given_up: bool,
    /// Some slow-replica fault is active (else work times need no
    /// per-replica factor).
    any_slow: bool,
    /// Reused scratch lists for crash handling.
    scratch: Vec<u32>,
    scratch_calls: Vec<CallId>,
}

impl<'m> World<'m> {
    /// Builds the world and schedules the first arrivals, faults, the
    /// warm-up end and the first window end.
    pub fn new(model: &'m Model) -> Self {
        let seed = model.seed;
        let mut services = Vec::with_capacity(model.services.len());
        let mut replicas = Vec::new();
        let mut service_meters = vec![ServiceMeter::default(); model.services.len()];
        for (i, s) in model.services.iter().enumerate() {
            services.push(ServiceState {
                first: replicas.len() as u32,
                replicas: s.slots,
                provisioned: s.replicas,
                concurrency: s.concurrency,
                queue_capacity: s.queue_capacity.unwrap_or(u32::MAX),
                balancer: s.balancer,
                io: s.io,
                startup: s.startup,
                shed_after: s.shed_after,
                outlier: s.outlier,
                unavailable: s.slots - s.replicas,
                ejected: 0,
                dead_ejections: Vec::new(),
                rr: 0,
                work_rng: rng::stream(seed, &format!("service/{}", s.name)),
                lb_rng: rng::stream(seed, &format!("balancer/{}", s.name)),
            });
            replicas.extend((0..s.slots).map(|slot| Replica {
                absent: slot >= s.replicas,
                ..Replica::new(i as u32)
            }));
            service_meters[i].available.add(0, i64::from(s.replicas));
            service_meters[i].provisioned.add(0, i64::from(s.replicas));
        }
        let with_periods = !model.faults.is_empty() || !model.deploys.is_empty();
        let discovery = DiscoveryState::new(model);
        let mut world = World {
            model,
            queue: EventQueue::new(),
            now: 0,
            invs: Invocations::default(),
            calls: Calls::default(),
            services,
            replicas,
            clients: model
                .clients
                .iter()
                .map(|c| ClientState::new(c, seed))
                .collect(),
            faults: FaultState::new(model),
            net_to: model
                .endpoints
                .iter()
                .map(|e| rng::stream(seed, &format!("network/to/{}", e.name)))
                .collect(),
            net_from: model
                .endpoints
                .iter()
                .map(|e| rng::stream(seed, &format!("network/from/{}", e.name)))
                .collect(),
            workload_rngs: model
                .workloads
                .iter()
                .map(|w| rng::stream(seed, &format!("workload/{}", w.name)))
                .collect(),
            workload_meters: vec![WorkloadMeter::default(); model.workloads.len()],
            service_meters,
            client_meters: vec![ClientMeter::default(); model.clients.len()],
            fault_meters: model
                .faults
                .iter()
                .map(|_| FaultMeter {
                    during: vec![PeriodMeter::default(); model.workloads.len()],
                    ..FaultMeter::default()
                })
                .collect(),
            outside_faults: if with_periods {
                vec![PeriodMeter::default(); model.workloads.len()]
            } else {
                Vec::new()
            },
            windows: Windows::new(model.window),
            registry: model.registry.as_ref().map(|_| RegistryState::new(model)),
            discovery_meters: discovery::meters(&discovery.pairs),
            discovery,
            scaling: ScalingState::new(model),
            autoscalers: model
                .services
                .iter()
                .map(|s| {
                    s.autoscale
                        .map(|a| AutoscalerState::new(a.metric == crate::model::Metric::P99))
                })
                .collect(),
            messaging: messaging::MessagingState::new(model),
            consistency: consistency::ConsistencyState::new(model),
            sagas: saga::SagaState::new(model),
            ops: idempotency::Ops::new(model),
            attribution: attribution::AttributionState::new(model),
            tracer: None,
            spans: spans::SpanTables::default(),
            with_periods,
            any_p99: model.services.iter().any(|s| {
                s.autoscale
                    .is_some_and(|a| a.metric == crate::model::Metric::P99)
            }),
            ready: VecDeque::new(),
            local_replies: VecDeque::new(),
            any_outlier: model.services.iter().any(|s| s.outlier.is_some()),
            any_slow: false,
            given_up: false,
            scratch: Vec::new(),
            scratch_calls: Vec::new(),
        };
        if model.warmup > 0 {
            world.queue.push(model.warmup, Event::WarmupEnd);
        }
        world
            .queue
            .push(model.window.min(model.duration), Event::WindowEnd);
        for (i, f) in model.faults.iter().enumerate() {
            let fault = i as FaultId;
            world.queue.push(f.at, Event::FaultStart { fault });
            if f.until < model.duration {
                world.queue.push(f.until, Event::FaultEnd { fault });
            }
        }
        for (i, w) in model.workloads.iter().enumerate() {
            let rng = &mut world.workload_rngs[i];
            match &w.arrival {
                Arrival::Open { .. } => {
                    if let Some(t) = workload::next_open(&w.arrival, 0, rng) {
                        world.queue.push(t, Event::Arrival { workload: i as u32 });
                    }
                }
                Arrival::Closed { users, think } => {
                    // Users start after one think time each, so they do not
                    // all arrive in the same instant.
                    for _ in 0..*users {
                        let t = think.sample(rng);
                        world.queue.push(t, Event::Arrival { workload: i as u32 });
                    }
                }
            }
        }
        world.start_messaging();
        world.start_registry();
        world.start_discovery();
        world.start_scaling();
        world
    }

    /// Handles one event at `self.now`.
    #[inline]
    pub fn handle(&mut self, event: Event) {
        match event {
            Event::Arrival { workload } => self.on_arrival(workload),
            Event::Deliver { inv } => self.admit(inv),
            Event::WorkDone { inv, gen } => {
                if self.invs.is_current(inv, gen) {
                    self.invs.get_mut(inv).step += 1;
                    self.ready.push_back(inv);
                }
            }
            Event::Reply { call, tag, outcome } => {
                if self.calls.is_current(call, tag) {
                    self.attr_reply_call(call);
                    self.end_attempt(call, outcome, false);
                }
            }
            Event::Timeout { call, tag } => self.on_timeout(call, tag),
            Event::Retry { call, tag } => {
                if self.calls.is_current(call, tag) {
                    self.attr_charge_call(call, Kind::Backoff);
                    self.attempt(call);
                }
            }
            Event::FaultStart { fault } => self.on_fault_start(fault),
            Event::FaultEnd { fault } => self.on_fault_end(fault),
            Event::RandomCrash { fault, replica } => self.on_random_crash(fault, replica),
            Event::RandomRepair { fault, replica } => self.on_random_repair(fault, replica),
            Event::ReplicaReady { replica, epoch } => self.on_replica_ready(replica, epoch),
            Event::EjectionEnd { replica, epoch } => self.on_ejection_end(replica, epoch),
            Event::Heartbeat { replica, epoch } => self.on_heartbeat(replica, epoch),
            Event::Refresh { cache, gen } => self.on_refresh(cache, gen),
            Event::LookupReply { lookup, tag, ok } => {
                if self.lookup_current(lookup, tag) {
                    self.lookup_done(lookup, ok);
                }
            }
            Event::LookupTimeout { lookup, tag } => {
                if self.lookup_current(lookup, tag) {
                    // The registry may still work on it, for nobody.
                    self.given_up = true;
                    self.span_lookup_done(lookup, false, true);
                    self.lookup_done(lookup, false);
                }
            }
            Event::ScaleAt { index } => self.on_scale_at(index),
            Event::DeployStart { deploy } => self.on_deploy_start(deploy),
            Event::Autoscale { service } => self.on_autoscale(service),
            Event::DrainDeadline { replica, epoch } => self.on_drain_deadline(replica, epoch),
            Event::PublishReply { msg, tag, ok } => self.on_publish_reply(msg, tag, ok),
            Event::PublishTimeout { msg, tag } => self.on_publish_timeout(msg, tag),
            Event::RelayResume { service } => self.on_relay_resume(service),
            Event::DeliveryArrive { delivery, tag } => self.on_delivery_arrive(delivery, tag),
            Event::DeliveryTimeout { delivery, tag } => self.on_delivery_timeout(delivery, tag),
            Event::Redeliver { delivery, tag } => self.on_redeliver(delivery, tag),
            Event::ConsumerRetry { subscription } => self.on_consumer_retry(subscription),
            Event::WarmupEnd => self.on_warmup_end(),
            Event::WindowEnd => self.on_window_end(),
        }
        loop {
            if let Some(inv) = self.ready.pop_front() {
                self.advance(inv);
            } else if let Some((inv, gen, outcome, acc)) = self.local_replies.pop_front() {
                if self.invs.is_current(inv, gen) {
                    self.on_reply(inv, outcome, acc);
                } else {
                    self.attr_free(acc);
                }
            } else {
                break;
            }
        }
    }

    fn measuring(&self) -> bool {
        self.now >= self.model.warmup
    }

    /// A request hop into `service` goes over the network: counted for the
    /// cost model's network price.
    #[inline]
    fn note_network_call(&mut self, service: crate::model::ServiceId) {
        let measuring = self.measuring();
        let m = &mut self.service_meters[service as usize];
        m.win_network_calls += 1;
        m.network_calls += u64::from(measuring);
    }

    fn on_arrival(&mut self, workload: WorkloadId) {
        let model = self.model;
        let w = &model.workloads[workload as usize];
        if let Arrival::Open { .. } = w.arrival {
            let rng = &mut self.workload_rngs[workload as usize];
            if let Some(t) = workload::next_open(&w.arrival, self.now, rng) {
                // An arrival at the very end could not be served or fall in
                // any window; the run covers [0, duration).
                if t < model.duration {
                    self.queue.push(t, Event::Arrival { workload });
                }
            }
        }
        let measuring = self.measuring();
        let m = &mut self.workload_meters[workload as usize];
        m.win_requests += 1;
        if measuring {
            m.requests += 1;
            m.in_flight += 1;
            if self.with_periods {
                self.for_periods(workload, self.now, |m| m.issued += 1);
            }
        }
        let id = self.invs.alloc(Invocation::new(
            w.target,
            Parent::Root {
                workload,
                start: self.now,
            },
        ));
        if self.tracer.is_some() {
            self.span_root(id, workload, w.target);
        }
        self.admit(id);
    }

    /// A call arrives at its service: pick a running replica, then take a
    /// worker, wait in the queue, or be rejected.
    fn admit(&mut self, id: InvId) {
        let now = self.now;
        let measuring = self.measuring();
        let ep = self.invs.get(id).endpoint;
        let sid = self.model.endpoints[ep as usize].service as usize;
        let svc = &mut self.services[sid];
        let first = svc.first as usize;
        let reps = &mut self.replicas[first..first + svc.replicas as usize];
        let meter = &mut self.service_meters[sid];
        meter.win_requests += 1;
        if measuring {
            meter.requests += 1;
            if !self.invs.get(id).retry {
                meter.first_attempts += 1;
            }
        }
        let target = self.invs.get(id).target;
        let r = if target != NO_TARGET {
            // The caller chose the instance (discovery); it may have died
            // while the call was on the wire.
            let r = (target - svc.first) as usize;
            let rep = &reps[r];
            if rep.epoch != self.invs.get(id).target_epoch || !rep.running() {
                if measuring {
                    meter.unreachable += 1;
                }
                let blackhole = self.reached_dead_instance(id);
                self.lose(id, blackhole);
                return;
            }
            r
        } else if svc.unavailable == 0 {
            balancer::pick(svc.balancer, reps, &mut svc.rr, &mut svc.lb_rng)
        } else {
            let pick = balancer::pick_where(
                svc.balancer,
                reps,
                &mut svc.rr,
                &mut svc.lb_rng,
                Replica::available,
            )
            // Every running replica ejected: route to them anyway rather
            // than to nobody (Envoy's "panic" threshold).
            .or_else(|| {
                balancer::pick_where(
                    svc.balancer,
                    reps,
                    &mut svc.rr,
                    &mut svc.lb_rng,
                    Replica::running,
                )
            });
            match pick {
                Some(r) => r,
                None => {
                    // Nothing is running: a dead address answers with a
                    // refusal, or not at all.
                    let drop = reps.iter().any(|r| r.down > 0 && r.drop_calls);
                    if measuring {
                        meter.unreachable += 1;
                    }
                    self.lose(id, drop);
                    return;
                }
            }
        };
        let rep = &mut reps[r];
        let global = (first + r) as u32;
        let inv = self.invs.get_mut(id);
        inv.replica = global;
        // Which replica an attempt reached matters only to outlier
        // detection.
        if self.any_outlier {
            if let Parent::Call { call, tag, .. } = inv.parent {
                if self.calls.is_current(call, tag) {
                    let rec = self.calls.get_mut(call);
                    rec.replica = global;
                    rec.replica_epoch = rep.epoch;
                }
            }
        }
        // Admission time: for shedding, and a p99 autoscaler's response
        // times.
        inv.queued_at = now;
        if rep.busy < svc.concurrency {
            rep.busy += 1;
            rep.outstanding += 1;
            meter.busy.add(now, 1);
            inv.holds_worker = true;
            self.ready.push_back(id);
        } else if (rep.queue.len() as u32) < svc.queue_capacity {
            rep.outstanding += 1;
            rep.queue.push_back(id);
            meter.queued.add(now, 1);
        } else {
            if measuring {
                meter.rejected += 1;
            }
            self.span_admitted(id, global, false);
            return self.respond(id, Outcome::Failed(Cause::Rejected));
        }
        if self.sagas.on && self.model.endpoints[ep as usize].saga.is_some() {
            self.saga_admitted(id);
        }
        if self.tracer.is_some() {
            let worker = self.invs.get(id).holds_worker;
            self.span_admitted(id, global, worker);
        }
    }

    /// Ends an invocation that met no running replica or whose replica
    /// died: the caller sees `connection_failed`, at once or (`drop`) never,
    /// so it waits for its timeout. A workload's own request always fails
    /// at once: the edge load balancer answers the user.
    fn lose(&mut self, id: InvId, drop: bool) {
        let parent = self.invs.get(id).parent;
        if drop && !matches!(parent, Parent::Root { .. }) {
            self.attr_drop_inv(id);
            self.span_take_inv(id);
            self.invs.release(id);
            self.release_parent_op(parent);
            if let Parent::Delivery { delivery, .. } = parent {
                // Its delivery's ack timeout ends the attempt.
                self.handler_gone(delivery);
            }
        } else {
            self.respond(id, Outcome::Failed(Cause::ConnectionFailed));
        }
    }

    /// Runs the invocation's steps from its current one until it must wait
    /// (for a worker, a work step or a call) or is finished.
    fn advance(&mut self, id: InvId) {
        let model = self.model;
        loop {
            // The fields needed, not a copy of the whole invocation.
            let inv = {
                let i = self.invs.get(id);
                Cursor {
                    endpoint: i.endpoint,
                    step: i.step,
                    replica: i.replica,
                    holds_worker: i.holds_worker,
                }
            };
            let steps = &model.endpoints[inv.endpoint as usize].steps;
            let Some(step) = steps.get(inv.step as usize) else {
                self.finish(id, Outcome::Ok);
                return;
            };
            let sid = model.endpoints[inv.endpoint as usize].service as usize;
            match step {
                Step::Work(dist) => {
                    if !inv.holds_worker
                        && !self.on_callers_worker(id)
                        && !self.take_worker(id, inv.replica)
                    {
                        return; // Queued to resume when a worker frees up.
                    }
                    let mut dt = dist.sample(&mut self.services[sid].work_rng);
                    if self.any_slow {
                        let slow = self.replicas[inv.replica as usize].slow;
                        dt = (dt as f64 * slow).round() as u64;
                    }
                    if self.faults.any_latency() {
                        dt = dt.saturating_add(self.faults.extra_latency(
                            &model.faults,
                            sid as u32,
                            inv.endpoint,
                        ));
                    }
                    let inv = self.invs.get_mut(id);
                    inv.work = inv.work.saturating_add(dt);
                    if dt == 0 {
                        inv.step += 1;
                        continue;
                    }
                    let gen = inv.gen;
                    self.queue.push(
                        self.now.saturating_add(dt),
                        Event::WorkDone { inv: id, gen },
                    );
                    return;
                }
                Step::Call(site) => {
                    self.before_calls(id, sid, 1);
                    if site.local {
                        self.local_call(id, *site);
                    } else {
                        self.call(id, *site);
                    }
                    return;
                }
                Step::Publish(site) => {
                    if self.publish(id, sid, *site) {
                        return; // Waits for the broker's ack.
                    }
                    self.invs.get_mut(id).step += 1;
                }
                Step::Read(site) => {
                    self.read_copy(site.copy);
                    self.invs.get_mut(id).step += 1;
                }
                Step::Parallel(sites) => {
                    self.before_calls(id, sid, sites.len());
                    for s in sites {
                        // A crash cannot happen in between: calls only
                        // schedule events, so the caller stays alive.
                        if s.local {
                            self.local_call(id, *s);
                        } else {
                            self.call(id, *s);
                        }
                    }
                    return;
                }
            }
        }
    }

    /// Async services give their worker back while waiting on calls.
    fn before_calls(&mut self, id: InvId, sid: usize, n: usize) {
        let inv = self.invs.get_mut(id);
        inv.pending = n as u16;
        inv.failure = None;
        if inv.holds_worker && self.services[sid].io == Io::Async {
            inv.holds_worker = false;
            let r = inv.replica;
            self.free_worker(r);
        }
    }

    /// The final answer of one of `id`'s calls (after any retries).
    fn on_reply(&mut self, id: InvId, outcome: Outcome, acc: attribution::Acc) {
        let last = self.invs.get(id).pending <= 1;
        self.attr_join(id, acc, last);
        if self.invs.get(id).saga != 0 {
            return self.on_compensation_reply(id, outcome);
        }
        let inv = self.invs.get_mut(id);
        match outcome {
            Outcome::Ok => {}
            Outcome::Degraded => inv.degraded = true,
            Outcome::Failed(c) => {
                if inv.failure.is_none() {
                    inv.failure = Some(c);
                }
            }
        }
        inv.pending -= 1;
        if inv.pending > 0 {
            return;
        }
        match inv.failure {
            Some(c) => {
                if self.model.endpoints[inv.endpoint as usize].saga.is_some() {
                    self.saga_step_failed(id, c);
                } else {
                    self.finish(id, Outcome::Failed(c));
                }
            }
            None => {
                inv.step += 1;
                self.ready.push_back(id);
            }
        }
    }

    /// Tries to give `id` a worker of replica `r` for its next work step;
    /// otherwise queues it to resume (async services only reach here).
    fn take_worker(&mut self, id: InvId, r: u32) -> bool {
        let rep = &mut self.replicas[r as usize];
        let sid = rep.service as usize;
        if rep.busy < self.services[sid].concurrency {
            rep.busy += 1;
            self.service_meters[sid].busy.add(self.now, 1);
            self.invs.get_mut(id).holds_worker = true;
            if self.tracer.is_some() {
                let arrived = self.invs.get(id).queued_at;
                self.span_worker(id, arrived);
            }
            true
        } else {
            rep.resume.push_back(id);
            self.service_meters[sid].queued.add(self.now, 1);
            false
        }
    }

    /// Frees a worker of replica `r` and hands it to the next waiting
    /// request: continuations first, then new requests in FIFO order,
    /// shedding those that waited past the service's `shed_after`.
    fn free_worker(&mut self, r: u32) {
        let now = self.now;
        let rep = &mut self.replicas[r as usize];
        let sid = rep.service as usize;
        let meter = &mut self.service_meters[sid];
        let mut next = rep.resume.pop_front();
        if next.is_none() {
            if let Some(deadline) = self.services[sid].shed_after {
                while let Some(&n) = rep.queue.front() {
                    if now - self.invs.get(n).queued_at <= deadline {
                        break;
                    }
                    rep.queue.pop_front();
                    rep.outstanding -= 1;
                    meter.queued.add(now, -1);
                    if now >= self.model.warmup {
                        meter.shed += 1;
                    }
                    self.scratch.push(n);
                }
            }
            next = rep.queue.pop_front();
        }
        match next {
            Some(n) => {
                // The worker passes straight on: busy count unchanged.
                meter.queued.add(now, -1);
                self.invs.get_mut(n).holds_worker = true;
                self.ready.push_back(n);
                if self.tracer.is_some() {
                    let arrived = self.invs.get(n).queued_at;
                    self.span_worker(n, arrived);
                }
            }
            None => {
                rep.busy -= 1;
                meter.busy.add(now, -1);
            }
        }
        if !self.scratch.is_empty() {
            let shed = std::mem::take(&mut self.scratch);
            for &n in &shed {
                if self.sagas.on {
                    let ep = self.invs.get(n).endpoint as usize;
                    if self.model.endpoints[ep].saga.is_some() {
                        self.saga_shed(n);
                    }
                }
                self.respond(n, Outcome::Failed(Cause::Shed));
            }
            self.scratch = shed;
            self.scratch.clear();
            self.check_drained(r);
        }
    }

    /// The invocation is done (all steps, or a failed call): free its
    /// worker and answer its parent. An `errors` fault may turn a success
    /// into an injected error here, after the work was done.
    fn finish(&mut self, id: InvId, outcome: Outcome) {
        let inv = {
            let i = self.invs.get(id);
            Cursor {
                endpoint: i.endpoint,
                step: i.step,
                replica: i.replica,
                holds_worker: i.holds_worker,
            }
        };
        let degraded = self.invs.get(id).degraded;
        let mut outcome = match outcome {
            Outcome::Ok if degraded => Outcome::Degraded,
            o => o,
        };
        let measuring = self.measuring();
        let rep = &mut self.replicas[inv.replica as usize];
        let sid = rep.service;
        if outcome.succeeded()
            && self.faults.any_errors()
            && self
                .faults
                .inject_error(&self.model.faults, sid, inv.endpoint)
        {
            outcome = Outcome::Failed(Cause::InjectedError);
            if measuring {
                self.service_meters[sid as usize].injected_errors += 1;
            }
        }
        if rep.bad_until > self.now
            && outcome.succeeded()
            && self.bad_release_error(inv.replica, inv.endpoint)
        {
            outcome = Outcome::Failed(Cause::InjectedError);
            if measuring {
                self.service_meters[sid as usize].injected_errors += 1;
            }
        }
        if outcome.succeeded() && self.model.endpoints[inv.endpoint as usize].tracked {
            self.note_execution(id);
        }
        if self.model.endpoints[inv.endpoint as usize].saga.is_some() {
            self.saga_ended(id, outcome);
        }
        if inv.holds_worker {
            self.free_worker(inv.replica);
        }
        // An in-process call was never admitted: it is part of its
        // caller's request, not one of the replica's own.
        let local = matches!(self.invs.get(id).parent, Parent::Local { .. });
        let rep = &mut self.replicas[inv.replica as usize];
        let draining = rep.draining;
        if !local {
            rep.outstanding -= 1;
            if measuring {
                self.service_meters[sid as usize].completed += 1;
            }
        }
        if !local && self.any_p99 {
            let admitted = self.invs.get(id).queued_at;
            self.note_response_time(sid, self.now - admitted);
        }
        if draining {
            self.check_drained(inv.replica);
        }
        self.count_abandoned(id);
        self.respond(id, outcome);
    }

    /// Counts the work of `id`, which has just finished all its steps, as
    /// wasted if nobody waits for its answer any more: its caller, or a
    /// caller further up, timed out or died.
    fn count_abandoned(&mut self, id: InvId) {
        if !self.given_up || self.now < self.model.warmup || !self.abandoned(id) {
            return;
        }
        let inv = self.invs.get(id);
        let sid = self.model.endpoints[inv.endpoint as usize].service as usize;
        let m = &mut self.service_meters[sid];
        m.abandoned += 1;
        m.wasted_ns = m.wasted_ns.saturating_add(inv.work);
    }

    /// Whether the answer of `id` reaches no workload: some attempt on its
    /// way up to the root was given up (timed out) or its caller died.
    fn abandoned(&self, mut id: InvId) -> bool {
        loop {
            match self.invs.get(id).parent {
                Parent::Root { .. } => return false,
                Parent::Lookup { lookup, tag } => return !self.lookup_current(lookup, tag),
                Parent::Publish { msg, tag } => return !self.publish_current(msg, tag),
                Parent::Delivery { delivery, tag, .. } => {
                    return !self.delivery_current(delivery, tag)
                }
                Parent::Call { call, tag, .. } => {
                    if !self.calls.is_current(call, tag) {
                        return true;
                    }
                    id = self.calls.get(call).caller;
                }
                Parent::Local { inv, gen, .. } => {
                    if !self.invs.is_current(inv, gen) {
                        return true;
                    }
                    id = inv;
                }
            }
        }
    }

    /// Sends the outcome of `id` to its parent and frees its slot.
    fn respond(&mut self, id: InvId, outcome: Outcome) {
        let (parent, replica, endpoint) = {
            let i = self.invs.get(id);
            (i.parent, i.replica, i.endpoint)
        };
        let acc = self.attr_close_inv(id);
        let span = self.span_take_inv(id);
        self.invs.release(id);
        self.release_parent_op(parent);
        match parent {
            Parent::Root { workload, start } => {
                if replica != NOT_ADMITTED && self.any_outlier {
                    self.note_replica_outcome(replica, outcome.succeeded());
                }
                self.attr_complete(workload, start, outcome.succeeded(), acc);
                self.span_finish_root(span, outcome);
                self.complete(workload, start, outcome)
            }
            Parent::Call { call, tag, .. } => {
                // Nobody listens any more (the attempt timed out or the
                // caller died): no reply travels.
                if !self.calls.is_current(call, tag) {
                    self.attr_free(acc);
                    return;
                }
                self.attr_stash_call(call, acc);
                let hop = hop(&self.model.network, &mut self.net_from[endpoint as usize]);
                self.queue.push(
                    self.now.saturating_add(hop),
                    Event::Reply { call, tag, outcome },
                );
            }
            Parent::Local { inv, gen, optional } => {
                self.span_close(span, outcome);
                // No hop: the caller has it at once (if it still lives).
                let outcome = match outcome {
                    Outcome::Failed(_) if optional => Outcome::Degraded,
                    o => o,
                };
                self.local_replies.push_back((inv, gen, outcome, acc));
            }
            Parent::Lookup { lookup, tag } => {
                self.attr_free(acc);
                if !self.lookup_current(lookup, tag) {
                    return;
                }
                let hop = hop(&self.model.network, &mut self.net_from[endpoint as usize]);
                let ok = outcome.succeeded();
                self.queue.push(
                    self.now.saturating_add(hop),
                    Event::LookupReply { lookup, tag, ok },
                );
            }
            Parent::Publish { msg, tag } => {
                if self.publish_current(msg, tag) && self.messaging.acked(msg) {
                    self.attr_stash_msg(msg, acc);
                } else {
                    self.attr_free(acc);
                }
                self.publish_done(msg, tag, endpoint, outcome)
            }
            Parent::Delivery { delivery, tag, .. } => {
                self.attr_free(acc);
                self.handler_done(delivery, tag, outcome)
            }
        }
    }

    /// A workload's request ended.
    fn complete(&mut self, workload: WorkloadId, start: SimTime, outcome: Outcome) {
        let latency = self.now - start;
        let counted = start >= self.model.warmup;
        let m = &mut self.workload_meters[workload as usize];
        match outcome {
            Outcome::Ok | Outcome::Degraded => {
                if outcome == Outcome::Ok {
                    m.win_ok += 1;
                } else {
                    m.win_degraded += 1;
                }
                m.win_latency.record(latency);
                if counted {
                    if outcome == Outcome::Ok {
                        m.ok += 1;
                    } else {
                        m.degraded += 1;
                    }
                    m.latency.record(latency);
                }
            }
            Outcome::Failed(c) => {
                m.win_failed += 1;
                if counted {
                    m.failures[c.index()] += 1;
                }
            }
        }
        if counted {
            m.in_flight -= 1;
            if self.with_periods {
                self.for_periods(workload, start, |m| record(m, latency, outcome));
            }
        }
        if let Arrival::Closed { think, .. } = &self.model.workloads[workload as usize].arrival {
            let t = think.sample(&mut self.workload_rngs[workload as usize]);
            self.queue
                .push(self.now.saturating_add(t), Event::Arrival { workload });
        }
    }

    /// Applies `f` to the period meters of a measured request issued at
    /// `start`: those of every fault whose effect lasted then, or else the
    /// "outside faults" one.
    fn for_periods(&mut self, workload: WorkloadId, start: SimTime, f: impl Fn(&mut PeriodMeter)) {
        let mut any = false;
        for (i, fault) in self.model.faults.iter().enumerate() {
            if fault.at <= start && start < fault.effect_until {
                any = true;
                f(&mut self.fault_meters[i].during[workload as usize]);
            }
        }
        for d in &mut self.scaling.deploys {
            if d.covers(start) {
                any = true;
                f(&mut d.during[workload as usize]);
            }
        }
        if !any {
            f(&mut self.outside_faults[workload as usize]);
        }
    }

    fn on_warmup_end(&mut self) {
        let now = self.now;
        for (m, s) in self.scaling.meters.iter_mut().zip(&self.services) {
            m.min = s.provisioned;
            m.max = s.provisioned;
        }
        for m in &mut self.service_meters {
            m.busy_at_warmup = m.busy.area_at(now);
            m.queued_at_warmup = m.queued.area_at(now);
            m.available_at_warmup = m.available.area_at(now);
            m.provisioned_at_warmup = m.provisioned.area_at(now);
        }
        if self.messaging.on {
            self.messaging_warmup();
        }
    }

    fn on_window_end(&mut self) {
        self.close_window();
        let next = self.now.saturating_add(self.model.window);
        if self.now < self.model.duration {
            self.queue
                .push(next.min(self.model.duration), Event::WindowEnd);
        }
    }

    /// Closes the current time-series window at `self.now`.
    pub fn close_window(&mut self) {
        let start = self.windows.start;
        if self.now > start && (self.discovery.on || self.registry.is_some()) {
            self.close_discovery_window(start);
        }
        self.windows.close(
            self.now,
            self.model,
            &mut self.workload_meters,
            &mut self.service_meters,
        );
        if self.now > start && self.model.messaging.on() {
            self.close_messaging_window(start);
        }
        if self.now > start {
            self.fill_registry_counts();
            if self.scaling.on {
                self.fill_replica_counts();
            }
        }
    }
}

/// Where an invocation is in its program: the fields the step loop reads.
#[derive(Clone, Copy)]
struct Cursor {
    endpoint: u32,
    step: u16,
    replica: u32,
    holds_worker: bool,
}

fn record(m: &mut PeriodMeter, latency: u64, outcome: Outcome) {
    match outcome {
        Outcome::Ok => m.ok += 1,
        Outcome::Degraded => m.degraded += 1,
        Outcome::Failed(_) => m.failed += 1,
    }
    if outcome.succeeded() {
        m.latency.record(latency);
    }
}

/// One network hop's latency.
#[inline]
fn hop(network: &Dist, rng: &mut Stream) -> u64 {
    if network.is_zero() {
        0
    } else {
        network.sample(rng)
    }
}

#[cfg(test)]
impl World<'_> {
    /// Unit tests' event loop: handles every event up to and including
    /// time `until`, as the simulation loop does (without its limits),
    /// calling `after` after each.
    pub(crate) fn run_to(&mut self, until: SimTime, mut after: impl FnMut(&mut Self)) {
        while let Some(t) = self.queue.peek_time() {
            if t > until {
                break;
            }
            let (t, ev) = self.queue.pop().expect("peeked");
            self.now = t;
            self.handle(ev);
            after(self);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The event queue and the invocation slab are the hot path's memory:
    /// keep their entries small.
    #[test]
    fn hot_types_stay_small() {
        assert!(
            std::mem::size_of::<Event>() <= 12,
            "{}",
            std::mem::size_of::<Event>()
        );
        assert!(
            std::mem::size_of::<Invocation>() <= 64,
            "{}",
            std::mem::size_of::<Invocation>()
        );
    }
}
