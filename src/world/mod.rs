//! The microservice world: services, replicas, in-flight requests and the
//! handlers that move them along. [`World::handle`] dispatches one event;
//! everything it schedules goes back on the world's event queue.
//!
//! A call travels: caller -> network hop -> balancer picks a replica ->
//! worker, or the replica's queue, or rejection -> steps (work, calls) ->
//! network hop back -> caller continues with its next step.

pub mod balancer;
pub mod outcome;
pub mod request;
pub mod service;
pub mod workload;

use crate::dist::Dist;
use crate::engine::{rng, EventQueue, SimTime, Stream};
use crate::metrics::timeseries::{ServiceMeter, Windows, WorkloadMeter};
use crate::model::{Arrival, EndpointId, Io, Model, Step, WorkloadId};
use outcome::{Cause, Outcome};
use request::{InvId, Invocation, Invocations, Parent};
use service::{Replica, ServiceState};
use std::collections::VecDeque;

/// Something that happens at an instant. Small and `Copy`: ids into the
/// world's arenas, never boxed closures.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// A workload issues a request (open: the next arrival; closed: a user
    /// finished thinking).
    Arrival {
        /// The workload issuing the request.
        workload: WorkloadId,
    },
    /// A call reaches its callee's service after the network hop.
    Deliver {
        /// The callee's new invocation.
        inv: InvId,
    },
    /// A work step finished.
    WorkDone {
        /// The invocation whose step finished.
        inv: InvId,
    },
    /// An answer reaches the calling invocation `inv`.
    Reply {
        /// The caller waiting for the answer.
        inv: InvId,
        /// How the callee's invocation ended.
        outcome: Outcome,
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
    /// Run-time state per service, indexed by `ServiceId`.
    pub services: Vec<ServiceState>,
    /// Every service's replicas, contiguous per service (see
    /// `ServiceState::first`).
    pub replicas: Vec<Replica>,
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
    /// The time-series windows: the open one and the rows closed so far.
    pub windows: Windows,
    /// Invocations ready to run their next step now; drained after each
    /// event so that chains of immediate work never recurse.
    ready: VecDeque<InvId>,
}

impl<'m> World<'m> {
    /// Builds the world and schedules the first arrivals, the warm-up end
    /// and the first window end.
    pub fn new(model: &'m Model) -> Self {
        let seed = model.seed;
        let mut services = Vec::with_capacity(model.services.len());
        let mut replicas = Vec::new();
        for (i, s) in model.services.iter().enumerate() {
            services.push(ServiceState {
                first: replicas.len() as u32,
                replicas: s.replicas,
                concurrency: s.concurrency,
                queue_capacity: s.queue_capacity.unwrap_or(u32::MAX),
                balancer: s.balancer,
                io: s.io,
                rr: 0,
                work_rng: rng::stream(seed, &format!("service/{}", s.name)),
                lb_rng: rng::stream(seed, &format!("balancer/{}", s.name)),
            });
            replicas.extend((0..s.replicas).map(|_| Replica::new(i as u32)));
        }
        let mut world = World {
            model,
            queue: EventQueue::new(),
            now: 0,
            invs: Invocations::default(),
            services,
            replicas,
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
            service_meters: vec![ServiceMeter::default(); model.services.len()],
            windows: Windows::new(model.window),
            ready: VecDeque::new(),
        };
        if model.warmup > 0 {
            world.queue.push(model.warmup, Event::WarmupEnd);
        }
        world
            .queue
            .push(model.window.min(model.duration), Event::WindowEnd);
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
        world
    }

    /// Handles one event at `self.now`.
    #[inline]
    pub fn handle(&mut self, event: Event) {
        match event {
            Event::Arrival { workload } => self.on_arrival(workload),
            Event::Deliver { inv } => self.admit(inv),
            Event::WorkDone { inv } => {
                self.invs.get_mut(inv).step += 1;
                self.ready.push_back(inv);
            }
            Event::Reply { inv, outcome } => self.on_reply(inv, outcome),
            Event::WarmupEnd => self.on_warmup_end(),
            Event::WindowEnd => self.on_window_end(),
        }
        while let Some(inv) = self.ready.pop_front() {
            self.advance(inv);
        }
    }

    fn measuring(&self) -> bool {
        self.now >= self.model.warmup
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
        }
        let id = self.invs.alloc(Invocation {
            endpoint: w.target,
            replica: 0,
            step: 0,
            pending: 0,
            failure: None,
            holds_worker: false,
            parent: Parent::Root {
                workload,
                start: self.now,
            },
        });
        self.admit(id);
    }

    /// A call arrives at its service: pick a replica, then take a worker,
    /// wait in the queue, or be rejected.
    fn admit(&mut self, id: InvId) {
        let now = self.now;
        let measuring = self.measuring();
        let ep = self.invs.get(id).endpoint;
        let sid = self.model.endpoints[ep as usize].service as usize;
        let svc = &mut self.services[sid];
        let first = svc.first as usize;
        let reps = &mut self.replicas[first..first + svc.replicas as usize];
        let r = balancer::pick(svc.balancer, reps, &mut svc.rr, &mut svc.lb_rng);
        let rep = &mut reps[r];
        let meter = &mut self.service_meters[sid];
        if measuring {
            meter.requests += 1;
        }
        let inv = self.invs.get_mut(id);
        inv.replica = (first + r) as u32;
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
            self.respond(id, Outcome::Failed(Cause::Rejected));
        }
    }

    /// Runs the invocation's steps from its current one until it must wait
    /// (for a worker, a work step or a call) or is finished.
    fn advance(&mut self, id: InvId) {
        let model = self.model;
        loop {
            let inv = *self.invs.get(id);
            let steps = &model.endpoints[inv.endpoint as usize].steps;
            let Some(step) = steps.get(inv.step as usize) else {
                self.finish(id, Outcome::Ok);
                return;
            };
            let sid = model.endpoints[inv.endpoint as usize].service as usize;
            match step {
                Step::Work(dist) => {
                    if !inv.holds_worker && !self.take_worker(id, inv.replica) {
                        return; // Queued to resume when a worker frees up.
                    }
                    let dt = dist.sample(&mut self.services[sid].work_rng);
                    if dt == 0 {
                        self.invs.get_mut(id).step += 1;
                        continue;
                    }
                    self.queue
                        .push(self.now.saturating_add(dt), Event::WorkDone { inv: id });
                    return;
                }
                Step::Call(callee) => {
                    self.before_calls(id, sid, 1);
                    self.call(id, *callee);
                    return;
                }
                Step::Parallel(callees) => {
                    self.before_calls(id, sid, callees.len());
                    for c in callees {
                        self.call(id, *c);
                    }
                    return;
                }
            }
        }
    }

    /// Async services give their worker back while waiting on calls.
    fn before_calls(&mut self, id: InvId, sid: usize, n: usize) {
        let inv = self.invs.get_mut(id);
        inv.pending = n as u32;
        inv.failure = None;
        if inv.holds_worker && self.services[sid].io == Io::Async {
            inv.holds_worker = false;
            let r = inv.replica;
            self.free_worker(r);
        }
    }

    /// Sends a call from `caller` to endpoint `callee` over the network.
    fn call(&mut self, caller: InvId, callee: EndpointId) {
        let id = self.invs.alloc(Invocation {
            endpoint: callee,
            replica: 0,
            step: 0,
            pending: 0,
            failure: None,
            holds_worker: false,
            parent: Parent::Call { inv: caller },
        });
        let hop = hop(&self.model.network, &mut self.net_to[callee as usize]);
        if hop == 0 {
            self.admit(id);
        } else {
            self.queue
                .push(self.now.saturating_add(hop), Event::Deliver { inv: id });
        }
    }

    /// An answer from a callee reaches invocation `id`.
    fn on_reply(&mut self, id: InvId, outcome: Outcome) {
        let inv = self.invs.get_mut(id);
        if let (Outcome::Failed(c), None) = (outcome, inv.failure) {
            inv.failure = Some(c);
        }
        inv.pending -= 1;
        if inv.pending > 0 {
            return;
        }
        match inv.failure {
            Some(c) => self.finish(id, Outcome::Failed(c)),
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
            true
        } else {
            rep.resume.push_back(id);
            self.service_meters[sid].queued.add(self.now, 1);
            false
        }
    }

    /// Frees a worker of replica `r` and hands it to the next waiting
    /// request: continuations first, then new requests in FIFO order.
    fn free_worker(&mut self, r: u32) {
        let now = self.now;
        let rep = &mut self.replicas[r as usize];
        let meter = &mut self.service_meters[rep.service as usize];
        let next = rep.resume.pop_front().or_else(|| rep.queue.pop_front());
        match next {
            Some(n) => {
                // The worker passes straight on: busy count unchanged.
                meter.queued.add(now, -1);
                self.invs.get_mut(n).holds_worker = true;
                self.ready.push_back(n);
            }
            None => {
                rep.busy -= 1;
                meter.busy.add(now, -1);
            }
        }
    }

    /// The invocation is done (all steps, or a failed call): free its
    /// worker and answer its parent.
    fn finish(&mut self, id: InvId, outcome: Outcome) {
        let inv = *self.invs.get(id);
        if inv.holds_worker {
            self.free_worker(inv.replica);
        }
        let measuring = self.measuring();
        let rep = &mut self.replicas[inv.replica as usize];
        rep.outstanding -= 1;
        if measuring {
            self.service_meters[rep.service as usize].completed += 1;
        }
        self.respond(id, outcome);
    }

    /// Sends the outcome of `id` to its parent and frees its slot.
    fn respond(&mut self, id: InvId, outcome: Outcome) {
        let inv = *self.invs.get(id);
        self.invs.release(id);
        match inv.parent {
            Parent::Root { workload, start } => self.complete(workload, start, outcome),
            Parent::Call { inv: parent } => {
                let hop = hop(
                    &self.model.network,
                    &mut self.net_from[inv.endpoint as usize],
                );
                self.queue.push(
                    self.now.saturating_add(hop),
                    Event::Reply {
                        inv: parent,
                        outcome,
                    },
                );
            }
        }
    }

    /// A workload's request ended.
    fn complete(&mut self, workload: WorkloadId, start: SimTime, outcome: Outcome) {
        let latency = self.now - start;
        let counted = start >= self.model.warmup;
        let m = &mut self.workload_meters[workload as usize];
        match outcome {
            Outcome::Ok => {
                m.win_ok += 1;
                m.win_latency.record(latency);
                if counted {
                    m.ok += 1;
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
        }
        if let Arrival::Closed { think, .. } = &self.model.workloads[workload as usize].arrival {
            let t = think.sample(&mut self.workload_rngs[workload as usize]);
            self.queue
                .push(self.now.saturating_add(t), Event::Arrival { workload });
        }
    }

    fn on_warmup_end(&mut self) {
        let now = self.now;
        for m in &mut self.service_meters {
            m.busy_at_warmup = m.busy.area_at(now);
            m.queued_at_warmup = m.queued.area_at(now);
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
        self.windows.close(
            self.now,
            self.model,
            &mut self.workload_meters,
            &mut self.service_meters,
        );
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
