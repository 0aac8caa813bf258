//! The caller's side of a call: timeouts, retries with backoff and a
//! budget, circuit breakers, bulkheads and optional calls; and outlier
//! ejection, which the balancer does from the outcomes callers see.
//!
//! A call is a [`CallRec`] that lives across its attempts. Each attempt
//! gets a new tag; the callee's reply, the attempt's timeout and a retry's
//! wake-up carry the tag, so whichever comes second finds the record moved
//! on and is ignored. A timed-out callee keeps working (its work is
//! counted as wasted when it finishes).

use super::breaker::{Admit, Breaker, Transition};
use super::call::{CallId, CallRec, NO_CALLEE, NO_REPLICA};
use super::outcome::{Cause, Outcome};
use super::registry::Instance;
use super::request::{InvId, Invocation, Parent};
use super::{hop, Event, World};
use crate::engine::{rng, SimTime, Stream};
use crate::metrics::attribution::Kind;
use crate::model::policy::BUDGET_BURST;
use crate::model::{CallSite, Client, Jitter};
use rand::RngExt;

/// Run-time state of one client.
#[derive(Debug, Clone)]
pub struct ClientState {
    /// Its circuit breaker, if the policy has one.
    pub breaker: Option<Breaker>,
    /// Attempts in flight (bulkhead).
    pub in_flight: u32,
    /// Retry budget tokens.
    pub tokens: f64,
    /// Backoff jitter (`client/NAME`).
    pub rng: Stream,
    /// No timeout, retries, breaker or bulkhead: attempts take the short
    /// path.
    pub plain: bool,
}

impl ClientState {
    /// Fresh state for client `c`.
    pub fn new(c: &Client, seed: u64) -> Self {
        ClientState {
            breaker: c.policy.breaker.map(Breaker::new),
            in_flight: 0,
            tokens: 0.0,
            rng: rng::stream(seed, &format!("client/{}", c.name)),
            plain: c.policy == crate::model::Policy::default(),
        }
    }
}

impl World<'_> {
    /// Invocation `caller` calls through `site`.
    pub(super) fn call(&mut self, caller: InvId, site: CallSite) {
        let gen = self.invs.get(caller).gen;
        let counted = self.measuring();
        let ci = site.client as usize;
        let plain = self.clients[ci].plain;
        let id = self
            .calls
            .alloc(CallRec::new(caller, gen, site, plain, counted));
        self.attr_start_call(id);
        if self.model.endpoints[site.target as usize].tracked {
            let op = self.new_op(site.target, counted);
            self.calls.get_mut(id).op = op;
        }
        if counted {
            self.client_meters[ci].calls += 1;
        }
        if !plain {
            let policy = &self.model.clients[ci].policy;
            if let Some(ratio) = policy.retry.as_ref().and_then(|r| r.budget) {
                let c = &mut self.clients[ci];
                c.tokens = (c.tokens + ratio).min(BUDGET_BURST);
            }
        }
        self.attempt(id);
    }

    /// Starts the next attempt of call `id`: through the breaker and the
    /// bulkhead, across a partition or not, then over the network.
    pub(super) fn attempt(&mut self, id: CallId) {
        let model = self.model;
        let rec = self.calls.get_mut(id);
        let (measuring, plain) = (rec.counted, rec.plain);
        rec.attempt += 1;
        rec.callee = NO_CALLEE;
        rec.replica = NO_REPLICA;
        let tag = rec.tag;
        let site = rec.site;
        let attempt = rec.attempt;
        let ci = site.client as usize;
        if measuring {
            let m = &mut self.client_meters[ci];
            m.attempts += 1;
            if attempt > 1 {
                m.retries += 1;
            }
        }
        self.span_attempt(id);
        if !plain && !self.guard_attempt(id, ci, tag) {
            return;
        }
        let c = &model.clients[ci];
        if let Some(mode) = self.partition(c.caller, c.callee) {
            return match mode {
                crate::model::FailMode::Reject => {
                    self.end_attempt(id, Outcome::Failed(Cause::ConnectionFailed), false)
                }
                // Lost on the wire: only the timeout ends the attempt.
                crate::model::FailMode::Drop => {}
            };
        }
        if self.discovery.on {
            let pair = self.pair_of(ci);
            if pair != super::discovery::NONE {
                return self.discover(id, pair);
            }
        }
        self.send(id, None);
    }

    /// Sends the current attempt of call `id` over the network: to the
    /// instance the caller chose (discovery), or to the callee's balancer.
    pub(super) fn send(&mut self, id: CallId, target: Option<Instance>) {
        // Time since the attempt began went to finding an instance (none
        // without discovery: the attempt is sent as it starts).
        if self.discovery.on {
            self.attr_charge_call(id, Kind::Lookup);
        }
        let rec = self.calls.get(id);
        let (site, tag, attempt) = (rec.site, rec.tag, rec.attempt);
        let op = self.attempt_op(id);
        let mut inv = Invocation::new(site.target, Parent::Call { call: id, tag, op });
        inv.retry = attempt > 1;
        if let Some(t) = target {
            inv.target = t.replica;
            inv.target_epoch = t.epoch;
        }
        let callee = self.invs.alloc(inv);
        self.span_sent(id, callee);
        let rec = self.calls.get_mut(id);
        rec.callee = callee;
        rec.callee_gen = self.invs.get(callee).gen;
        if let (Some(t), true) = (target, self.any_outlier) {
            // Outlier detection judges the instance the caller chose,
            // even if the call never reaches it.
            rec.replica = t.replica;
            rec.replica_epoch = t.epoch;
        }
        self.note_network_call(self.model.endpoints[site.target as usize].service);
        let hop = hop(&self.model.network, &mut self.net_to[site.target as usize]);
        if hop == 0 {
            self.admit(callee);
        } else {
            self.queue
                .push(self.now.saturating_add(hop), Event::Deliver { inv: callee });
        }
    }

    /// The policy's checks before an attempt goes out: bulkhead, breaker,
    /// and arming the timeout. False when the attempt failed fast.
    fn guard_attempt(&mut self, id: CallId, ci: usize, tag: u32) -> bool {
        let now = self.now;
        let policy = &self.model.clients[ci].policy;
        // The bulkhead first: a refused call must not use up one of a
        // half-open breaker's trial calls.
        if let Some(max) = policy.bulkhead {
            if self.clients[ci].in_flight >= max {
                self.end_attempt(id, Outcome::Failed(Cause::BulkheadFull), true);
                return false;
            }
        }
        let client = &mut self.clients[ci];
        if let Some(b) = &mut client.breaker {
            let (admit, change) = b.admit(now);
            if let Some(t) = change {
                self.note_transition(ci, t);
            }
            match admit {
                Admit::Yes => {}
                Admit::Trial => self.calls.get_mut(id).trial = true,
                Admit::No => {
                    self.end_attempt(id, Outcome::Failed(Cause::CircuitOpen), true);
                    return false;
                }
            }
        }
        if policy.bulkhead.is_some() {
            self.clients[ci].in_flight += 1;
            self.calls.get_mut(id).in_bulkhead = true;
        }
        if let Some(t) = policy.timeout {
            self.queue
                .push(now.saturating_add(t), Event::Timeout { call: id, tag });
        }
        true
    }

    /// The caller's timeout for attempt `tag` of call `id` expired.
    pub(super) fn on_timeout(&mut self, id: CallId, tag: u32) {
        if !self.calls.is_current(id, tag) {
            return;
        }
        // The callee keeps working, for nobody: its work is wasted.
        self.given_up = true;
        if self.discovery.on
            && self.calls.get(id).callee == NO_CALLEE
            && self.awaits_lookup(id, tag)
        {
            // The attempt never left: its time went to a lookup the
            // registry has not answered, not to the callee.
            self.attr_charge_call(id, Kind::Lookup);
        }
        self.attr_lose_call(id);
        self.end_attempt(id, Outcome::Failed(Cause::Timeout), false);
    }

    /// Attempt of call `id` ended with `outcome`: account for it, then
    /// retry or give the call's answer to the caller. `local` marks the
    /// caller's own fast-fails (its breaker or bulkhead refused the
    /// attempt), which the breaker does not count; a `circuit_open` that
    /// came back over the network from further down is a real failure.
    pub(super) fn end_attempt(&mut self, id: CallId, outcome: Outcome, local: bool) {
        self.span_end_attempt(id, outcome);
        let now = self.now;
        let (ci, replica, epoch, plain, measuring) = {
            let r = self.calls.get(id);
            (
                r.site.client as usize,
                r.replica,
                r.replica_epoch,
                r.plain,
                r.counted,
            )
        };
        if replica != NO_REPLICA && self.any_outlier {
            let rep = &self.replicas[replica as usize];
            if rep.epoch == epoch || !self.discovery.on {
                self.note_replica_outcome(replica, outcome.succeeded());
            } else if !outcome.succeeded() {
                // The instance the caller meant is gone (a stale address
                // from discovery, or it crashed meanwhile).
                self.note_dead_instance_failure(Instance { replica, epoch });
            }
        }
        if plain {
            if let (Outcome::Failed(cause), true) = (outcome, measuring) {
                self.client_meters[ci].attempt_failures[cause.index()] += 1;
            }
            return self.finish_call(id, outcome);
        }
        let rec = *self.calls.get(id);
        let client = &mut self.clients[ci];
        if rec.in_bulkhead {
            client.in_flight -= 1;
            self.calls.get_mut(id).in_bulkhead = false;
        }
        if let Some(b) = &mut client.breaker {
            if !local {
                if let Some(t) = b.record(now, outcome.succeeded(), rec.trial) {
                    self.note_transition(ci, t);
                }
            } else if rec.trial {
                b.release_trial();
            }
        }
        self.calls.get_mut(id).trial = false;
        if let Outcome::Failed(cause) = outcome {
            if measuring {
                self.client_meters[ci].attempt_failures[cause.index()] += 1;
            }
            if let Some(retry) = &self.model.clients[ci].policy.retry {
                if rec.attempt < retry.attempts && retry.on.contains(cause) {
                    let client = &mut self.clients[ci];
                    let allowed = match retry.budget {
                        None => true,
                        Some(_) if client.tokens >= 1.0 => {
                            client.tokens -= 1.0;
                            true
                        }
                        Some(_) => false,
                    };
                    if allowed {
                        let tag = self.calls.next_tag(id);
                        let wait = backoff_wait(retry, rec.attempt, &mut client.rng);
                        if wait == 0 {
                            self.attempt(id);
                        } else {
                            self.queue
                                .push(now.saturating_add(wait), Event::Retry { call: id, tag });
                        }
                        return;
                    }
                    if measuring {
                        self.client_meters[ci].retries_denied += 1;
                    }
                }
            }
        }
        self.finish_call(id, outcome);
    }

    /// Call `id` is over: free its record and answer the caller (an
    /// optional call's failure becomes a degraded success).
    fn finish_call(&mut self, id: CallId, outcome: Outcome) {
        let (caller, site, measuring) = {
            let r = self.calls.get(id);
            (r.caller, r.site, r.counted)
        };
        let op = self.calls.get(id).op;
        let acc = self.attr_take_call(id);
        self.calls.release(id);
        self.release_op(op);
        let ci = site.client as usize;
        let outcome = match outcome {
            Outcome::Failed(c) => {
                if measuring {
                    let m = &mut self.client_meters[ci];
                    m.failures[c.index()] += 1;
                    if site.optional {
                        m.fallbacks += 1;
                    }
                }
                if site.optional {
                    Outcome::Degraded
                } else {
                    outcome
                }
            }
            ok => {
                if measuring {
                    self.client_meters[ci].ok += 1;
                }
                ok
            }
        };
        self.on_reply(caller, outcome, acc);
    }

    /// Counts a breaker state change of client `ci`.
    pub(super) fn note_transition(&mut self, ci: usize, t: Transition) {
        let now = self.now;
        let warmup = self.model.warmup;
        let m = &mut self.client_meters[ci];
        let measuring = now >= warmup;
        match t {
            Transition::Opened => {
                if measuring {
                    m.opens += 1;
                }
                if m.not_closed_since.is_none() {
                    m.not_closed_since = Some(now);
                }
            }
            Transition::HalfOpened => {
                if measuring {
                    m.half_opens += 1;
                }
            }
            Transition::Closed => {
                if measuring {
                    m.closes += 1;
                }
                if let Some(since) = m.not_closed_since.take() {
                    m.add_open(since, now, warmup);
                }
            }
        }
    }

    /// Outlier detection: a call handled by global replica `r` succeeded or
    /// failed (as its caller saw it, timeouts included).
    #[inline]
    pub(super) fn note_replica_outcome(&mut self, r: u32, ok: bool) {
        let rep = &mut self.replicas[r as usize];
        let sid = rep.service as usize;
        let Some(o) = self.services[sid].outlier else {
            return;
        };
        if !rep.running() {
            // Answers from a replica that has since died say nothing
            // about the process that will be there after the restart.
            return;
        }
        if ok {
            rep.consecutive_failures = 0;
            return;
        }
        rep.consecutive_failures = rep.consecutive_failures.saturating_add(1);
        if rep.consecutive_failures < o.consecutive_failures || rep.ejected {
            return;
        }
        let now = self.now;
        let svc = &mut self.services[sid];
        let max = ((o.max_ejected * f64::from(svc.provisioned)).floor() as u32).max(1);
        if svc.ejected + svc.dead_ejected(now) >= max {
            return;
        }
        let epoch = self.update_availability(r, |rep| {
            rep.ejected = true;
            rep.consecutive_failures = 0;
            rep.eject_epoch = rep.eject_epoch.wrapping_add(1);
            rep.eject_epoch
        });
        self.services[sid].ejected += 1;
        if self.measuring() {
            self.service_meters[sid].ejections += 1;
        }
        self.queue.push(
            self.now.saturating_add(o.eject_for),
            Event::EjectionEnd { replica: r, epoch },
        );
    }

    /// An ejection of replica `r` ends (unless a later one replaced it).
    pub(super) fn on_ejection_end(&mut self, r: u32, epoch: u32) {
        let rep = &self.replicas[r as usize];
        if !rep.ejected || rep.eject_epoch != epoch {
            return;
        }
        let sid = rep.service as usize;
        self.update_availability(r, |rep| rep.ejected = false);
        self.services[sid].ejected -= 1;
    }

    /// Applies `f` to replica `r` and keeps the service's count of
    /// unavailable replicas (and its time integral) in step.
    pub(super) fn update_availability<T>(
        &mut self,
        r: u32,
        f: impl FnOnce(&mut Replica) -> T,
    ) -> T {
        let rep = &mut self.replicas[r as usize];
        let before = rep.available();
        let out = f(rep);
        let after = rep.available();
        let sid = rep.service as usize;
        if before != after {
            let svc = &mut self.services[sid];
            let m = &mut self.service_meters[sid];
            if after {
                svc.unavailable -= 1;
                m.available.add(self.now, 1);
            } else {
                svc.unavailable += 1;
                m.available.add(self.now, -1);
            }
            if self.registry.is_some() {
                self.on_registry_replicas();
            }
        }
        out
    }
}

use super::service::Replica;

/// The wait before retrying after attempt `attempt` failed.
fn backoff_wait(retry: &crate::model::Retry, attempt: u32, rng: &mut Stream) -> SimTime {
    let d = retry.backoff.delay(attempt);
    if d == 0 {
        return 0;
    }
    match retry.jitter {
        Jitter::None => d,
        Jitter::Full => rng.random_range(0..=d),
        Jitter::Equal => d / 2 + rng.random_range(0..=d - d / 2),
    }
}
