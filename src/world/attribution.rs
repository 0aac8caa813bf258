//! Latency attribution in the engine: every invocation, call and acked
//! publish in flight carries an accumulator of nanoseconds per component
//! ([`crate::metrics::attribution::Components`]), merged into its caller's
//! when it answers. A call or publish is charged as its time passes
//! (lookup, backoff, network, attempts lost to timeouts); an invocation's
//! own time is derived when it answers, from its arrival (`queued_at`) and
//! its work steps (`work`): the rest, beyond what its calls took, was spent
//! waiting for a worker. A parallel group merges only the branch that
//! answered last, the one on the critical path; the others' time goes to
//! the off-path `parallel` component. When a workload's request ends, its
//! accumulator adds up to its latency and goes to the workload's
//! [`AttributionMeter`].
//!
//! Accumulators live in one flat arena with reused slots, so memory is
//! bounded by what is in flight and the steady state allocates nothing.

use super::call::CallId;
use super::request::{InvId, NOT_ADMITTED};
use super::World;
use crate::engine::SimTime;
use crate::metrics::attribution::{AttributionMeter, Components, Kind, WorkloadAttribution};
use crate::model::{Model, WorkloadId};
use indexmap::IndexMap;

/// "No accumulator": a holder with nothing allocated yet, or handed on.
pub const NO_ACC: u32 = u32::MAX;

/// One holder's accumulator: which arena slot, since when it runs, and
/// how much of that time is already charged (its critical sum so far).
/// For a call or a publish, everything between `origin + sum` and now is
/// still to be charged, to whatever it was doing meanwhile (a lookup, a
/// backoff, the network). An invocation's entry holds only what its
/// calls took; its own time is derived when it answers
/// ([`World::attr_close_inv`]).
#[derive(Debug, Clone, Copy)]
pub struct Acc {
    /// Arena slot, or [`NO_ACC`] (an empty accumulator).
    pub slot: u32,
    /// For an invocation: `CRASHED` once it was lost in a crash; else 0.
    pub service: u32,
    /// When the holder's time began (arrival at a service, a call's start).
    pub origin: SimTime,
    /// Critical sum of the accumulator so far.
    pub sum: u64,
}

impl Acc {
    /// Nothing allocated, nothing charged.
    pub const EMPTY: Acc = Acc {
        slot: NO_ACC,
        service: 0,
        origin: NOT_STARTED,
        sum: 0,
    };
}

/// Flat storage of accumulators: slot `s` is `data[s * stride..][..stride]`,
/// freed slots are reused (LIFO), so memory follows what is in flight.
#[derive(Debug)]
pub struct Arena {
    data: Vec<u64>,
    free: Vec<u32>,
    stride: usize,
}

impl Arena {
    /// An empty arena of accumulators of `stride` components.
    pub fn new(stride: usize) -> Self {
        Arena {
            data: Vec::new(),
            free: Vec::new(),
            stride,
        }
    }

    /// A zeroed slot.
    #[inline(always)]
    pub fn alloc(&mut self) -> u32 {
        match self.free.pop() {
            Some(s) => {
                let at = s as usize * self.stride;
                self.data[at..at + self.stride].fill(0);
                s
            }
            None => {
                let s = self.data.len() / self.stride;
                self.data.resize(self.data.len() + self.stride, 0);
                s as u32
            }
        }
    }

    /// Gives slot `s` back ([`NO_ACC`] is ignored).
    #[inline]
    pub fn free(&mut self, s: u32) {
        if s != NO_ACC {
            self.free.push(s);
        }
    }

    /// The components of slot `s`.
    #[inline]
    pub fn get(&self, s: u32) -> &[u64] {
        let at = s as usize * self.stride;
        &self.data[at..at + self.stride]
    }

    /// Adds `v` ns to component `c` of slot `s`.
    #[inline(always)]
    fn add(&mut self, s: u32, c: usize, v: u64) {
        self.data[s as usize * self.stride + c] += v;
    }

    /// Adds every component of `src` into `dst`.
    #[inline(always)]
    fn merge(&mut self, dst: u32, src: u32) {
        debug_assert_ne!(dst, src);
        let n = self.stride;
        let (d, s) = (dst as usize * n, src as usize * n);
        // Two disjoint slices, so the loop has no bounds checks and
        // vectorises.
        let (to, from) = if d < s {
            let (lo, hi) = self.data.split_at_mut(s);
            (&mut lo[d..d + n], &hi[..n])
        } else {
            let (lo, hi) = self.data.split_at_mut(d);
            (&mut hi[..n], &lo[s..s + n])
        };
        for (t, f) in to.iter_mut().zip(from) {
            *t += *f;
        }
    }

    /// Slots in use (allocated, not freed).
    pub fn live(&self) -> usize {
        self.data.len() / self.stride - self.free.len()
    }

    /// Slots ever allocated (the arena's high-water mark).
    pub fn capacity(&self) -> usize {
        self.data.len() / self.stride
    }
}

/// Attribution state of a run.
pub struct AttributionState {
    /// The component layout.
    pub comps: Components,
    /// Per endpoint, the component its work is charged to (its service's,
    /// or in a monolith its module's).
    work: Vec<u32>,
    /// Per workload, its meter.
    pub meters: Vec<AttributionMeter>,
    /// The accumulators of everything in flight.
    pub arena: Arena,
    /// Per invocation slot, its accumulator (from its arrival at its
    /// service to its answer).
    invs: Vec<Acc>,
    /// Per call slot, the call's accumulator (from the call to its final
    /// answer, across attempts and backoff waits).
    calls: Vec<Acc>,
    /// Per call slot, the current attempt's callee accumulator, handed
    /// over when the callee answered (merged when the reply arrives,
    /// dropped if the attempt times out first).
    stashed: Vec<Acc>,
    /// Per message slot, an acked publish's accumulator (a single-attempt
    /// call to the broker).
    msgs: Vec<Acc>,
    /// Per message slot, the broker invocation's accumulator, handed over
    /// when it answered.
    msg_stashed: Vec<Acc>,
}

impl AttributionState {
    /// Empty state for `model`.
    pub fn new(model: &Model) -> Self {
        let comps = Components::new(model);
        AttributionState {
            comps,
            work: comps.endpoint_work(model),
            meters: vec![AttributionMeter::new(comps); model.workloads.len()],
            arena: Arena::new(comps.len()),
            invs: Vec::new(),
            calls: Vec::new(),
            stashed: Vec::new(),
            msgs: Vec::new(),
            msg_stashed: Vec::new(),
        }
    }

    /// Accumulator slots in use: what is in flight (plus nothing else, or
    /// a slot leaked).
    pub fn live(&self) -> usize {
        self.arena.live()
    }

    /// Slots referenced by the side tables (in flight); equal to
    /// [`AttributionState::live`] between events unless a slot leaked.
    #[cfg(test)]
    fn held(&self) -> usize {
        [
            &self.invs,
            &self.calls,
            &self.stashed,
            &self.msgs,
            &self.msg_stashed,
        ]
        .iter()
        .map(|t| t.iter().filter(|a| a.slot != NO_ACC).count())
        .sum()
    }

    /// Charges everything of `a` not charged yet (up to `now`) to
    /// component `c`.
    #[inline]
    fn charge(&mut self, a: Acc, c: usize, now: SimTime) -> Acc {
        charge(&mut self.arena, a, c, now)
    }

    /// Adds `v` ns to component `c` of `a` (not to its running sum).
    #[inline(always)]
    fn add(&mut self, a: &mut Acc, c: usize, v: u64) {
        if v > 0 {
            if a.slot == NO_ACC {
                a.slot = self.arena.alloc();
            }
            self.arena.add(a.slot, c, v);
        }
    }

    /// Adds `child` (every component) into `a`; `child` is used up.
    #[inline(always)]
    fn merge(&mut self, mut a: Acc, child: Acc) -> Acc {
        if child.slot != NO_ACC {
            if a.slot == NO_ACC {
                a.slot = child.slot;
            } else {
                self.arena.merge(a.slot, child.slot);
                self.arena.free(child.slot);
            }
        }
        a.sum += child.sum;
        a
    }

    /// Puts `child`'s critical sum and its own off-path time into `a`'s
    /// parallel component (off the critical path); `child` is used up.
    #[inline(always)]
    fn sideline(&mut self, mut a: Acc, child: Acc) -> Acc {
        let p = self.comps.parallel();
        let mut v = child.sum;
        if child.slot != NO_ACC {
            v += self.arena.get(child.slot)[p];
            self.arena.free(child.slot);
        }
        if v > 0 {
            if a.slot == NO_ACC {
                a.slot = self.arena.alloc();
            }
            self.arena.add(a.slot, p, v);
        }
        a
    }
}

/// `origin` of an accumulator whose holder's time has not started (an
/// invocation not admitted yet): charging it does nothing.
const NOT_STARTED: SimTime = SimTime::MAX;

/// `Acc::service` of an invocation lost in a crash.
const CRASHED: u32 = u32::MAX;

/// See [`AttributionState::charge`].
#[inline(always)]
fn charge(arena: &mut Arena, mut a: Acc, c: usize, now: SimTime) -> Acc {
    // NOT_STARTED saturates: nothing to charge.
    let charged = a.origin.saturating_add(a.sum);
    debug_assert!(
        a.origin == NOT_STARTED || charged <= now,
        "attribution charged ahead of time: {charged} > {now}"
    );
    if charged < now {
        let d = now - charged;
        if a.slot == NO_ACC {
            a.slot = arena.alloc();
        }
        arena.add(a.slot, c, d);
        a.sum += d;
    }
    a
}

/// Entry `id` of side table `t`, growing it (with empty entries) as the
/// slab it follows grows.
#[inline]
fn entry(t: &mut Vec<Acc>, id: u32) -> &mut Acc {
    let i = id as usize;
    if i >= t.len() {
        t.resize(i + 1, Acc::EMPTY);
    }
    &mut t[i]
}

/// Takes entry `id` of `t` out, leaving it empty.
#[inline]
fn take(t: &mut [Acc], id: u32) -> Acc {
    match t.get_mut(id as usize) {
        Some(a) => std::mem::replace(a, Acc::EMPTY),
        None => Acc::EMPTY,
    }
}

impl World<'_> {
    /// Invocation `id`, admitted on a replica that is crashing, is lost:
    /// when it answers, its whole time is lost at its service, whatever
    /// it was doing (queued, working, or waiting on calls that will never
    /// answer it).
    #[inline]
    pub(super) fn attr_crashed(&mut self, id: InvId) {
        entry(&mut self.attribution.invs, id).service = CRASHED;
    }

    /// Invocation `id` answers now: its accumulator, which holds what its
    /// calls took (merged as they ended), gains its own time. That time is
    /// derived, not charged event by event (the event loop's hot path
    /// pays nothing for it): from its arrival at its service
    /// (`queued_at`) to now, minus its work steps (`work`) and its calls,
    /// is the time it waited for a worker; the whole of it is lost if it
    /// was lost in a crash. Its work goes to its endpoint's work component
    /// (in a monolith, its module's), its queue and losses to its service.
    #[inline]
    pub(super) fn attr_close_inv(&mut self, id: InvId) -> Acc {
        let inv = self.invs.get(id);
        // An invocation that met no running replica never arrived.
        let elapsed = if inv.replica == NOT_ADMITTED {
            0
        } else {
            self.now - inv.queued_at
        };
        let work = inv.work;
        let endpoint = inv.endpoint as usize;
        let sid = self.model.endpoints[endpoint].service as usize;
        let st = &mut self.attribution;
        let mut a = take(&mut st.invs, id);
        if a.service == CRASHED {
            st.arena.free(a.slot);
            a.slot = NO_ACC;
            let c = st.comps.service(Kind::Lost, sid);
            st.add(&mut a, c, elapsed);
        } else {
            debug_assert!(
                a.sum + work <= elapsed,
                "calls ({}) and work ({work}) exceed the time since arrival ({elapsed})",
                a.sum
            );
            let queue = elapsed.saturating_sub(a.sum + work);
            let c = st.work[endpoint] as usize;
            st.add(&mut a, c, work);
            let c = st.comps.service(Kind::Queue, sid);
            st.add(&mut a, c, queue);
        }
        a.service = 0;
        a.sum = elapsed;
        a
    }

    /// Frees invocation `id`'s accumulator (it ends without an answer).
    #[inline]
    pub(super) fn attr_drop_inv(&mut self, id: InvId) {
        let a = take(&mut self.attribution.invs, id);
        self.attr_free(a);
    }

    /// Frees an accumulator nobody merges.
    #[inline]
    pub(super) fn attr_free(&mut self, a: Acc) {
        self.attribution.arena.free(a.slot);
    }

    /// A call, parallel branch or acked publish of invocation `id` ended
    /// with accumulator `child`: merged if it ended the step (`last`), else
    /// off the critical path.
    #[inline]
    pub(super) fn attr_join(&mut self, id: InvId, child: Acc, last: bool) {
        let st = &mut self.attribution;
        let a = entry(&mut st.invs, id);
        let a0 = *a;
        let a = if last {
            st.merge(a0, child)
        } else {
            st.sideline(a0, child)
        };
        debug_assert!(
            !last || a.origin == NOT_STARTED || a.origin + a.sum == self.now,
            "a step's end left a gap: {} + {} != {}",
            a.origin,
            a.sum,
            self.now
        );
        st.invs[id as usize] = a;
    }

    /// Call `call` starts now.
    #[inline]
    pub(super) fn attr_start_call(&mut self, call: CallId) {
        let now = self.now;
        let a = entry(&mut self.attribution.calls, call);
        debug_assert_eq!(a.slot, NO_ACC, "call {call} kept an accumulator");
        *a = Acc {
            slot: NO_ACC,
            service: 0,
            origin: now,
            sum: 0,
        };
    }

    /// Charges call `call`'s time up to now to global component `kind`
    /// (lookup before a send, backoff before a retry).
    #[inline]
    pub(super) fn attr_charge_call(&mut self, call: CallId, kind: Kind) {
        let st = &mut self.attribution;
        let c = st.comps.global(kind);
        let a = st.calls[call as usize];
        st.calls[call as usize] = st.charge(a, c, self.now);
    }

    /// The callee of call `call`'s current attempt answered with `callee`:
    /// kept until the reply arrives.
    #[inline]
    pub(super) fn attr_stash_call(&mut self, call: CallId, callee: Acc) {
        let old = std::mem::replace(entry(&mut self.attribution.stashed, call), callee);
        self.attr_free(old);
    }

    /// The reply of call `call`'s current attempt arrived: the callee's
    /// time (if it answered) is merged, the rest of the attempt was
    /// network.
    #[inline]
    pub(super) fn attr_reply_call(&mut self, call: CallId) {
        let st = &mut self.attribution;
        let child = take(&mut st.stashed, call);
        let a = st.calls[call as usize];
        let a = st.merge(a, child);
        let c = st.comps.global(Kind::Network);
        st.calls[call as usize] = st.charge(a, c, self.now);
    }

    /// Call `call`'s current attempt timed out: its time is lost at the
    /// callee's service, whatever the callee did meanwhile.
    #[inline]
    pub(super) fn attr_lose_call(&mut self, call: CallId) {
        let target = self.calls.get(call).site.target as usize;
        let sid = self.model.endpoints[target].service as usize;
        let st = &mut self.attribution;
        let child = take(&mut st.stashed, call);
        st.arena.free(child.slot);
        let c = st.comps.service(Kind::Lost, sid);
        let a = st.calls[call as usize];
        st.calls[call as usize] = st.charge(a, c, self.now);
    }

    /// Takes call `call`'s accumulator (the call is over).
    #[inline]
    pub(super) fn attr_take_call(&mut self, call: CallId) -> Acc {
        let st = &mut self.attribution;
        let stale = take(&mut st.stashed, call);
        st.arena.free(stale.slot);
        take(&mut st.calls, call)
    }

    /// Frees call `call`'s accumulators (its caller died).
    #[inline]
    pub(super) fn attr_drop_call(&mut self, call: CallId) {
        let a = self.attr_take_call(call);
        self.attr_free(a);
    }

    /// Acked publish `msg` starts now.
    #[inline]
    pub(super) fn attr_start_msg(&mut self, msg: u32) {
        let now = self.now;
        let a = entry(&mut self.attribution.msgs, msg);
        debug_assert_eq!(a.slot, NO_ACC, "message {msg} kept an accumulator");
        *a = Acc {
            slot: NO_ACC,
            service: 0,
            origin: now,
            sum: 0,
        };
    }

    /// The broker's invocation for acked publish `msg` answered with
    /// `broker`.
    #[inline]
    pub(super) fn attr_stash_msg(&mut self, msg: u32, broker: Acc) {
        let old = std::mem::replace(entry(&mut self.attribution.msg_stashed, msg), broker);
        self.attr_free(old);
    }

    /// The broker's answer to acked publish `msg` arrived: the broker's
    /// time is merged, the rest was network.
    #[inline]
    pub(super) fn attr_reply_msg(&mut self, msg: u32) {
        let st = &mut self.attribution;
        let child = take(&mut st.msg_stashed, msg);
        let a = *entry(&mut st.msgs, msg);
        let a = st.merge(a, child);
        let c = st.comps.global(Kind::Network);
        st.msgs[msg as usize] = st.charge(a, c, self.now);
    }

    /// Acked publish `msg` timed out: its time is lost at broker service
    /// `sid`.
    #[inline]
    pub(super) fn attr_lose_msg(&mut self, msg: u32, sid: usize) {
        let st = &mut self.attribution;
        let child = take(&mut st.msg_stashed, msg);
        st.arena.free(child.slot);
        let c = st.comps.service(Kind::Lost, sid);
        let a = *entry(&mut st.msgs, msg);
        st.msgs[msg as usize] = st.charge(a, c, self.now);
    }

    /// Takes acked publish `msg`'s accumulator (the publish is over).
    #[inline]
    pub(super) fn attr_take_msg(&mut self, msg: u32) -> Acc {
        let st = &mut self.attribution;
        let stale = take(&mut st.msg_stashed, msg);
        st.arena.free(stale.slot);
        take(&mut st.msgs, msg)
    }

    /// A request of `workload` issued at `start` ended now with
    /// accumulator `acc`: measured successful ones are recorded.
    #[inline]
    pub(super) fn attr_complete(
        &mut self,
        workload: WorkloadId,
        start: SimTime,
        succeeded: bool,
        acc: Acc,
    ) {
        let latency = self.now - start;
        let st = &mut self.attribution;
        if succeeded && start >= self.model.warmup {
            let acc_sum = match acc.slot {
                NO_ACC => 0,
                s => st.comps.critical_sum(st.arena.get(s)),
            };
            debug_assert_eq!(acc.sum, acc_sum, "running sum != components");
            debug_assert_eq!(acc_sum, latency, "attribution != latency");
            // A zero-latency request has no slot: record zeros.
            let s = match acc.slot {
                NO_ACC => st.arena.alloc(),
                s => s,
            };
            st.meters[workload as usize].record(latency, st.arena.get(s));
            st.arena.free(s);
        } else {
            st.arena.free(acc.slot);
        }
    }

    /// Per workload with measured successful requests, its attribution.
    pub fn attribution_summary(&self) -> IndexMap<String, WorkloadAttribution> {
        let model = self.model;
        model
            .workloads
            .iter()
            .zip(&self.attribution.meters)
            .zip(&self.workload_meters)
            .filter_map(|((w, a), m)| {
                a.summary(model, m.latency.quantile(0.99))
                    .map(|s| (w.name.clone(), s))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls with timeouts and retries, a parallel group, an acked-free
    /// chain, random crashes of both tiers (in drop mode, so callers time
    /// out on calls that vanish) and of the front.
    const CRASHY: &str = r#"
        [simulation]
        duration = "10m"
        warmup = "10s"
        [network]
        latency = { dist = "exponential", mean = "1ms" }
        [services.front]
        io = "async"
        replicas = 2
        concurrency = 8
        [services.front.endpoints.e]
        steps = [
          { work = { dist = "exponential", mean = "2ms" } },
          { parallel = [
              { call = "mid.e", timeout = "60ms", retries = { attempts = 3, backoff = "constant", base = "5ms" } },
              { call = "back.e", timeout = "80ms" },
          ] },
        ]
        [services.mid]
        replicas = 2
        concurrency = 4
        queue_capacity = 20
        [services.mid.endpoints.e]
        steps = [ { work = { dist = "exponential", mean = "5ms" } }, { call = "back.e", timeout = "40ms" } ]
        [services.back]
        replicas = 3
        concurrency = 4
        [services.back.endpoints.e]
        work = { dist = "exponential", mean = "8ms" }
        [[faults]]
        kind = "random_crashes"
        service = "back"
        mtbf = "40s"
        mttr = "5s"
        mode = "drop"
        [[faults]]
        kind = "random_crashes"
        service = "mid"
        mtbf = "60s"
        mttr = "5s"
        [[faults]]
        kind = "random_crashes"
        service = "front"
        mtbf = "90s"
        mttr = "3s"
        [[workloads]]
        name = "w"
        target = "front.e"
        arrival = { process = "poisson", rate = 300 }
    "#;

    /// Runs `w` until `until`, calling `check` every 997 events.
    fn drive(w: &mut World, until: SimTime, mut check: impl FnMut(&World)) {
        let mut n = 0u64;
        w.run_to(until, |w| {
            n += 1;
            if n.is_multiple_of(997) {
                check(w);
            }
        });
    }

    /// Every slot in use belongs to something in flight, none leaks, and
    /// the arena stays at the in-flight peak over a long run with crashes
    /// and timeouts (memory bounded by what is in flight).
    #[test]
    fn accumulators_follow_what_is_in_flight() {
        let m = crate::scenario::from_str(CRASHY, "t.toml", "t", &[]).unwrap();
        let mut w = World::new(&m);
        let mut peak = 0usize;
        let mut check = |w: &World| {
            let a = &w.attribution;
            assert_eq!(a.held(), a.live(), "a slot leaked (or is shared)");
            for (id, acc) in a.invs.iter().enumerate() {
                if acc.slot != NO_ACC {
                    assert!(w.invs.get(id as u32).live, "invocation {id} is gone");
                }
            }
            for (id, acc) in a.calls.iter().enumerate() {
                if acc.slot != NO_ACC {
                    assert!(w.calls.get(id as u32).live, "call {id} is gone");
                }
            }
            peak = peak.max(w.invs.live() + 2 * w.calls.live());
        };
        drive(&mut w, 120_000_000_000, &mut check);
        let early = w.attribution.arena.capacity();
        drive(&mut w, m.duration - 1, &mut check);
        let s = w.workload_meters[0].ok;
        assert!(s > 100_000, "{s} requests succeeded");
        assert!(w.service_meters.iter().map(|m| m.crashes).sum::<u64>() >= 10);
        let cap = w.attribution.arena.capacity();
        assert!(cap <= peak, "arena {cap} slots > in-flight peak {peak}");
        // Five times more requests later, the arena barely grew: its slots
        // are reused, not piled up.
        assert!(cap <= early + early / 2 + 8, "{early} -> {cap}");
        assert!(w.attribution.live() <= w.invs.live() + 2 * w.calls.live());
        assert!(w.attribution.meters[0].summary(&m, None).is_some());
    }

    /// Everything at once: per-request and cached discovery with a
    /// crashing, partitioned registry, optional and retried calls in a
    /// parallel group, shedding and rejections, an optional acked publish
    /// to a crashing, partitioned broker, a saga compensating with
    /// retries, crashes in both modes; traced at rate 1. No slot or span
    /// buffer leaks, and both stay at the in-flight peak.
    const NASTY: &str = r#"
name = "nasty"
[simulation]
duration = "8m"
warmup = "10s"
seed = 11

[network]
latency = { dist = "exponential", mean = "2ms" }

[registry]
replicas = 1
heartbeat = "5s"
ttl = "15s"
lookup = { dist = "exponential", mean = "3ms" }
lookup_timeout = "1s"

[discovery]
mode = "cached"
cache_ttl = "5s"
max_stale = "3s"

[policies.undo]
timeout = "50ms"
retries = { attempts = 4, backoff = "exponential", base = "2ms", max_delay = "20ms" }

[policies.tight]
timeout = "40ms"
retries = { attempts = 3, backoff = "constant", base = "1ms" }

[brokers.bus]
replicas = 1
publish_latency = { dist = "exponential", mean = "3ms" }
publish_timeout = "60ms"
topics = ["ev"]

[services.front]
io = "async"
replicas = 2
concurrency = 6
discovery = { mode = "per_request" }
[services.front.endpoints.e]
steps = [
  { work = { dist = "exponential", mean = "1ms" } },
  { parallel = [
      { call = "mid.e", policy = "tight" },
      { call = "back.e", timeout = "25ms", optional = true },
      { call = "back.f", timeout = "40ms", retries = { attempts = 2, backoff = "constant", base = "0ms" } },
  ] },
  { publish = "ev", optional = true },
  { call = "sg.run", timeout = "400ms" },
  { work = { dist = "exponential", mean = "1ms" } },
]

[services.mid]
replicas = 2
concurrency = 3
queue_capacity = 6
shed_after = "8ms"
[services.mid.endpoints.e]
steps = [ { work = { dist = "exponential", mean = "3ms" } }, { call = "back.e", timeout = "30ms" } ]

[services.back]
replicas = 3
concurrency = 4
[services.back.endpoints.e]
work = { dist = "exponential", mean = "4ms" }
[services.back.endpoints.f]
work = "0ms"
[services.back.endpoints.undo]
work = { dist = "exponential", mean = "2ms" }

[services.sg]
replicas = 2
concurrency = 8
[services.sg.endpoints.run]
steps = [
  { call = "back.e", compensate = "back.undo", timeout = "15ms" },
  { call = "back.f", compensate = "back.undo", timeout = "20ms" },
  { call = "mid.e", timeout = "15ms" },
]

[services.cons]
replicas = 1
[services.cons.endpoints.h]
work = "1ms"
[services.cons.subscriptions.ev]
handler = "h"

[[workloads]]
name = "w"
target = "front.e"
arrival = { process = "poisson", rate = 150 }

[[faults]]
kind = "random_crashes"
service = "back"
mtbf = "20s"
mttr = "3s"
mode = "drop"
[[faults]]
kind = "random_crashes"
service = "mid"
mtbf = "30s"
mttr = "2s"
[[faults]]
kind = "random_crashes"
service = "registry"
mtbf = "40s"
mttr = "5s"
mode = "drop"
[[faults]]
kind = "random_crashes"
service = "front"
mtbf = "60s"
mttr = "2s"
[[faults]]
kind = "random_crashes"
service = "bus"
mtbf = "30s"
mttr = "3s"
mode = "drop"
[[faults]]
kind = "partition"
from = "front"
to = "bus"
mode = "drop"
at = "40s"
duration = "10s"
[[faults]]
kind = "partition"
from = "front"
to = "back"
mode = "reject"
at = "60s"
duration = "10s"
[[faults]]
kind = "partition"
from = "front"
to = "registry"
mode = "drop"
at = "80s"
duration = "10s"
"#;

    struct NullSink;

    impl crate::trace::TraceSink for NullSink {
        fn write(&mut self, _: &Model, _: &crate::trace::Trace) -> std::io::Result<()> {
            Ok(())
        }
        fn finish(&mut self, _: &Model) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn nothing_leaks_with_every_feature_and_tracing() {
        let m = crate::scenario::from_str(NASTY, "t.toml", "t", &[]).unwrap();
        let mut w = World::new(&m);
        let config = crate::trace::TraceConfig {
            sample: 1.0,
            keep: 5,
        };
        w.tracer = Some(Box::new(crate::trace::recorder::Recorder::new(
            &m,
            config,
            Box::new(NullSink),
        )));
        let mut peak = 0usize;
        let mut check = |w: &World| {
            let a = &w.attribution;
            assert_eq!(a.held(), a.live(), "a slot leaked (or is shared)");
            peak = peak.max(w.invs.live() + 2 * w.calls.live() + 2 * w.messaging.messages.live());
        };
        drive(&mut w, 60_000_000_000, &mut check);
        let early = w.attribution.arena.capacity();
        let early_buf = w.tracer.as_ref().unwrap().buffers();
        drive(&mut w, m.duration - 1, &mut check);
        let cap = w.attribution.arena.capacity();
        assert!(cap <= peak, "arena {cap} slots > in-flight peak {peak}");
        assert!(cap <= early + early / 2 + 8, "{early} -> {cap}");
        let bufs = w.tracer.as_ref().unwrap().buffers();
        assert!(
            bufs <= early_buf + early_buf / 2 + 8,
            "{early_buf} -> {bufs}"
        );
        assert!(w.workload_meters[0].ok > 100);
    }

    #[test]
    fn arena_reuses_zeroed_slots() {
        let mut a = Arena::new(3);
        let x = a.alloc();
        a.add(x, 1, 5);
        let y = a.alloc();
        a.merge(y, x);
        assert_eq!(a.get(y), &[0, 5, 0]);
        a.free(x);
        assert_eq!(a.live(), 1);
        let z = a.alloc();
        assert_eq!(z, x, "the freed slot is reused");
        assert_eq!(a.get(z), &[0, 0, 0], "and comes back zeroed");
        assert_eq!(a.capacity(), 2);
    }
}
