//! Faults at run time: crashes and restarts of replicas (scheduled or as a
//! random failure process), extra latency, injected errors, partitions and
//! slow replicas. A crash loses everything on the replica; its callers see
//! `connection_failed` at once or, in `drop` mode, never hear back.

use super::call::CallId;
use super::request::{InvId, Parent};
use super::{Event, World};
use crate::dist::Dist;
use crate::engine::{rng, SimTime, Stream};
use crate::metrics::resilience::MAX_OUTAGES;
use crate::model::{FailMode, Fault, FaultId, FaultKind, Model, ServiceId};
use rand::RngExt;

/// Which faults are active, and their random streams.
#[derive(Debug, Clone)]
pub struct FaultState {
    /// Per fault: active now.
    active: Vec<bool>,
    /// Active latency faults.
    latency: Vec<FaultId>,
    /// Active error faults.
    errors: Vec<FaultId>,
    /// Active partitions.
    partitions: Vec<FaultId>,
    /// Per fault: its stream (`fault/NAME`).
    rngs: Vec<Stream>,
    /// Per random-crash fault: exponential times to failure and repair.
    lifetimes: Vec<Option<(Dist, Dist)>>,
    /// Per crash fault: the replicas it took down (the first existing
    /// ones when it started) and their epochs then, to repair when it
    /// ends unless the slot has had another replica since.
    crashed: Vec<Vec<(u32, u32)>>,
}

impl FaultState {
    /// No fault active yet.
    pub fn new(model: &Model) -> Self {
        FaultState {
            active: vec![false; model.faults.len()],
            latency: Vec::new(),
            errors: Vec::new(),
            partitions: Vec::new(),
            rngs: model
                .faults
                .iter()
                .map(|f| rng::stream(model.seed, &format!("fault/{}", f.name)))
                .collect(),
            lifetimes: model
                .faults
                .iter()
                .map(|f| match f.kind {
                    FaultKind::RandomCrashes { mtbf, mttr, .. } => Some((
                        Dist::exponential(mtbf).expect("validated mtbf > 0"),
                        Dist::exponential(mttr).expect("validated mttr > 0"),
                    )),
                    _ => None,
                })
                .collect(),
            crashed: vec![Vec::new(); model.faults.len()],
        }
    }

    /// Whether any latency fault is active (the fast-path check).
    #[inline]
    pub fn any_latency(&self) -> bool {
        !self.latency.is_empty()
    }

    /// Whether any error fault is active.
    #[inline]
    pub fn any_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Whether any partition is active.
    #[inline]
    pub fn any_partition(&self) -> bool {
        !self.partitions.is_empty()
    }

    /// Extra time for a work step of endpoint `ep` of service `sid`;
    /// `faults` are the model's.
    pub fn extra_latency(&mut self, faults: &[Fault], sid: ServiceId, ep: u32) -> u64 {
        let mut extra = 0u64;
        for &f in &self.latency {
            if let FaultKind::Latency {
                scope,
                extra: dist,
                fraction,
            } = &faults[f as usize].kind
            {
                if scope.covers(sid, ep) {
                    let rng = &mut self.rngs[f as usize];
                    if *fraction >= 1.0 || rng.random::<f64>() < *fraction {
                        extra = extra.saturating_add(dist.sample(rng));
                    }
                }
            }
        }
        extra
    }

    /// Whether an active error fault fails this call of `ep`; `faults`
    /// are the model's.
    pub fn inject_error(&mut self, faults: &[Fault], sid: ServiceId, ep: u32) -> bool {
        let mut fail = false;
        for &f in &self.errors {
            if let FaultKind::Errors { scope, probability } = &faults[f as usize].kind {
                // Every covering fault draws, so one fault's draws do not
                // depend on whether another already failed the call.
                if scope.covers(sid, ep) && self.rngs[f as usize].random::<f64>() < *probability {
                    fail = true;
                }
            }
        }
        fail
    }

    /// The mode of an active partition cutting calls from `from` to `to`;
    /// `faults` are the model's.
    pub fn partition(&self, faults: &[Fault], from: ServiceId, to: ServiceId) -> Option<FailMode> {
        self.partitions
            .iter()
            .find_map(|&f| match faults[f as usize].kind {
                FaultKind::Partition {
                    from: a,
                    to: b,
                    mode,
                } if a == from && b == to => Some(mode),
                _ => None,
            })
    }
}

impl World<'_> {
    /// The mode of an active partition cutting `from` off from `to`, if
    /// any: calls, lookups and heartbeats all ask here.
    #[inline]
    pub(super) fn partition(&self, from: ServiceId, to: ServiceId) -> Option<FailMode> {
        if !self.faults.any_partition() {
            return None;
        }
        self.faults.partition(&self.model.faults, from, to)
    }

    /// Global index of replica `i` of service `sid`.
    fn global(&self, sid: ServiceId, i: u32) -> u32 {
        self.services[sid as usize].first + i
    }

    pub(super) fn on_fault_start(&mut self, f: FaultId) {
        self.faults.active[f as usize] = true;
        let model = self.model;
        match model.faults[f as usize].kind {
            FaultKind::Crash {
                service,
                replicas,
                all,
                mode,
            } => {
                // The first `replicas` replicas that exist, or all of them.
                let svc = &self.services[service as usize];
                let n = if all { usize::MAX } else { replicas as usize };
                let targets: Vec<u32> = (svc.first..svc.first + svc.replicas)
                    .filter(|&r| !self.replicas[r as usize].absent)
                    .take(n)
                    .collect();
                let mut crashed = Vec::with_capacity(targets.len());
                for &r in &targets {
                    self.crash(r, mode, f);
                    crashed.push((r, self.replicas[r as usize].epoch));
                }
                self.faults.crashed[f as usize] = crashed;
            }
            FaultKind::Latency { .. } => self.faults.latency.push(f),
            FaultKind::Errors { .. } => self.faults.errors.push(f),
            FaultKind::Partition { .. } => self.faults.partitions.push(f),
            FaultKind::SlowReplica {
                service, replica, ..
            } => {
                let r = self.global(service, replica);
                self.update_slowness(r);
            }
            FaultKind::RandomCrashes { service, .. } => {
                // Every slot: a replica added later fails like the others.
                let n = self.services[service as usize].replicas;
                self.fault_meters[f as usize].down_since = vec![None; n as usize];
                for i in 0..n {
                    let r = self.global(service, i);
                    self.schedule_random_crash(f, r);
                }
            }
        }
    }

    pub(super) fn on_fault_end(&mut self, f: FaultId) {
        self.faults.active[f as usize] = false;
        let model = self.model;
        match model.faults[f as usize].kind {
            FaultKind::Crash { .. } => {
                for (r, epoch) in std::mem::take(&mut self.faults.crashed[f as usize]) {
                    if self.replicas[r as usize].epoch == epoch {
                        self.repair(r);
                    }
                }
            }
            FaultKind::Latency { .. } => self.faults.latency.retain(|&x| x != f),
            FaultKind::Errors { .. } => self.faults.errors.retain(|&x| x != f),
            FaultKind::Partition { .. } => self.faults.partitions.retain(|&x| x != f),
            FaultKind::SlowReplica {
                service, replica, ..
            } => {
                let r = self.global(service, replica);
                self.update_slowness(r);
            }
            // Replicas down at the end are still repaired after their
            // repair time; no new failures are drawn.
            FaultKind::RandomCrashes { .. } => {}
        }
    }

    /// Sets replica `r`'s work multiplier to the product of the active
    /// slow-replica faults on it.
    fn update_slowness(&mut self, r: u32) {
        let mut slow = 1.0;
        for (f, fault) in self.model.faults.iter().enumerate() {
            if let FaultKind::SlowReplica {
                service,
                replica,
                factor,
            } = fault.kind
            {
                if self.faults.active[f] && self.global(service, replica) == r {
                    slow *= factor;
                }
            }
        }
        self.replicas[r as usize].slow = slow;
        self.any_slow = self.replicas.iter().any(|r| r.slow != 1.0);
    }

    fn schedule_random_crash(&mut self, f: FaultId, r: u32) {
        let (ttf, _) = self.faults.lifetimes[f as usize]
            .as_ref()
            .expect("random fault");
        let t = self
            .now
            .saturating_add(ttf.sample(&mut self.faults.rngs[f as usize]));
        if t < self.model.faults[f as usize].until {
            self.queue.push(
                t,
                Event::RandomCrash {
                    fault: f,
                    replica: r,
                },
            );
        }
    }

    pub(super) fn on_random_crash(&mut self, f: FaultId, r: u32) {
        let FaultKind::RandomCrashes { service, mode, .. } = self.model.faults[f as usize].kind
        else {
            unreachable!("random crash events come from random_crashes faults")
        };
        if self.replicas[r as usize].absent {
            // No replica in this slot now: nothing to fail; the process
            // goes on for whichever replica occupies it later.
            self.schedule_random_crash(f, r);
            return;
        }
        self.crash(r, mode, f);
        let i = (r - self.services[service as usize].first) as usize;
        self.fault_meters[f as usize].down_since[i] = Some(self.now);
        let (_, ttr) = self.faults.lifetimes[f as usize]
            .as_ref()
            .expect("random fault");
        let t = self
            .now
            .saturating_add(ttr.sample(&mut self.faults.rngs[f as usize]));
        self.queue.push(
            t,
            Event::RandomRepair {
                fault: f,
                replica: r,
            },
        );
    }

    pub(super) fn on_random_repair(&mut self, f: FaultId, r: u32) {
        let FaultKind::RandomCrashes { service, .. } = self.model.faults[f as usize].kind else {
            unreachable!("random repair events come from random_crashes faults")
        };
        let i = (r - self.services[service as usize].first) as usize;
        let m = &mut self.fault_meters[f as usize];
        if let Some(down) = m.down_since[i].take() {
            if m.outages.len() < MAX_OUTAGES {
                m.outages.push((i as u32, down, self.now));
            }
        }
        self.repair(r);
        self.schedule_random_crash(f, r);
    }

    /// Takes replica `r` down (fault `f`): everything on it is lost.
    fn crash(&mut self, r: u32, mode: FailMode, f: FaultId) {
        let measuring = self.measuring();
        let rep = &self.replicas[r as usize];
        let sid = rep.service as usize;
        if rep.down > 0 {
            // Already down: this crash only extends the outage.
            self.replicas[r as usize].down += 1;
            return;
        }
        self.update_availability(r, |rep| {
            rep.down = 1;
            rep.starting = false;
            rep.drop_calls = mode == FailMode::Drop;
            rep.epoch = rep.epoch.wrapping_add(1);
            rep.consecutive_failures = 0;
        });
        self.fault_meters[f as usize].crashes += u64::from(measuring);
        self.forget_lists(r);
        if measuring {
            self.service_meters[sid].crashes += 1;
        }
        let lost = self.drop_work(r, mode == FailMode::Drop);
        if measuring {
            self.service_meters[sid].lost += lost;
        }
        if self.replicas[r as usize].draining {
            // It was on its way out anyway: it does not restart.
            self.drained(r);
        }
    }

    /// Everything on replica `r` (in service, queued, waiting on calls) is
    /// lost: its callers see `connection_failed`, or (`drop`) nothing.
    /// Returns how many invocations were lost.
    pub(super) fn drop_work(&mut self, r: u32, drop: bool) -> u64 {
        let now = self.now;
        let rep = &mut self.replicas[r as usize];
        let m = &mut self.service_meters[rep.service as usize];
        m.busy.add(now, -i64::from(rep.busy));
        m.queued
            .add(now, -((rep.queue.len() + rep.resume.len()) as i64));
        rep.busy = 0;
        rep.outstanding = 0;
        rep.queue.clear();
        rep.resume.clear();

        let mut lost: Vec<InvId> = std::mem::take(&mut self.scratch);
        lost.clear();
        self.invs.on_replica(r, &mut lost);
        // In-process calls are part of their callers' requests, lost with
        // them: only admitted requests count.
        let n = lost
            .iter()
            .filter(|&&id| !matches!(self.invs.get(id).parent, Parent::Local { .. }))
            .count() as u64;
        for &id in &lost {
            let ep = self.invs.get(id).endpoint as usize;
            if self.model.endpoints[ep].saga.is_some() {
                self.saga_interrupted(id);
            }
            // It no longer holds a worker: the replica's are gone.
            self.invs.get_mut(id).holds_worker = false;
            // Whatever it was waiting for is lost with it.
            self.attr_crashed(id);
            self.lose(id, drop);
        }
        lost.clear();
        self.scratch = lost;
        self.orphan_calls();
        n
    }

    /// Ends the calls whose caller died: their callees work on for nobody.
    fn orphan_calls(&mut self) {
        let mut ids: Vec<CallId> = std::mem::take(&mut self.scratch_calls);
        ids.clear();
        self.calls.live_ids(&mut ids);
        for &c in &ids {
            let rec = *self.calls.get(c);
            if self.invs.is_current(rec.caller, rec.caller_gen) {
                continue;
            }
            self.given_up = true;
            let ci = rec.site.client as usize;
            if rec.in_bulkhead {
                self.clients[ci].in_flight -= 1;
            }
            // A trial call that will never report back counts as failed,
            // or the breaker would wait for it forever.
            if rec.trial {
                let now = self.now;
                if let Some(b) = &mut self.clients[ci].breaker {
                    if let Some(t) = b.record(now, false, true) {
                        self.note_transition(ci, t);
                    }
                }
            }
            self.attr_drop_call(c);
            self.span_forget_call(c);
            self.calls.release(c);
            self.release_op(rec.op);
        }
        ids.clear();
        self.scratch_calls = ids;
    }

    /// One crash holding replica `r` down is over; when none is left, it
    /// restarts and serves after the service's startup time.
    fn repair(&mut self, r: u32) {
        let rep = &mut self.replicas[r as usize];
        if rep.down == 0 {
            return;
        }
        if rep.down > 1 {
            rep.down -= 1;
            return;
        }
        // It restarts as the version it ran.
        let startup = match self.model.deploys.get(rep.deploy as usize) {
            Some(d) => d.startup,
            None => self.services[rep.service as usize].startup,
        };
        if startup == 0 {
            self.update_availability(r, |rep| rep.down = 0);
            self.on_instance_ready(r);
        } else {
            let epoch = self.update_availability(r, |rep| {
                rep.down = 0;
                rep.starting = true;
                rep.epoch
            });
            self.queue.push(
                self.now.saturating_add(startup),
                Event::ReplicaReady { replica: r, epoch },
            );
        }
    }

    pub(super) fn on_replica_ready(&mut self, r: u32, epoch: u32) {
        let rep = &self.replicas[r as usize];
        if rep.epoch != epoch || !rep.starting {
            return;
        }
        self.update_availability(r, |rep| rep.starting = false);
        self.on_instance_ready(r);
    }

    /// Replica `r` serves again, as a new instance: it registers and
    /// fetches its own instance lists.
    pub(super) fn on_instance_ready(&mut self, r: u32) {
        let now = self.now;
        let rep = &mut self.replicas[r as usize];
        rep.ready_at = now;
        if let Some(d) = self.model.deploys.get(rep.deploy as usize) {
            if d.error_rate > 0.0 {
                rep.bad_until = now.saturating_add(d.bad_for);
            }
        }
        let sid = rep.service;
        self.register(r);
        self.on_caller_ready(r);
        self.on_replica_serving(sid);
    }

    /// Closes the outages still open at the end of the run.
    pub fn close_outages(&mut self, end: SimTime) {
        for m in &mut self.fault_meters {
            for (i, d) in m.down_since.iter_mut().enumerate() {
                if let Some(down) = d.take() {
                    if m.outages.len() < MAX_OUTAGES {
                        m.outages.push((i as u32, down, end));
                    }
                }
            }
        }
    }
}
