//! The caller's side of service discovery: finding an instance for each
//! call attempt from a static list, a cached list or a fresh lookup, and
//! routing the attempt to it.
//!
//! Lists are kept per caller replica and callee service (a process keeps
//! its own cache). A lookup is a real call to the registry service (its
//! `lookup` endpoint, over the network, through its queue), so a busy,
//! slow or crashed registry shows up as lookup latency and failures. The
//! client picks an instance from its list with the callee's balancer; the
//! list may hold instances that died since, and a call routed to one fails
//! (`refused` at once, or `blackhole`: only the caller's timeout ends it).
//!
//! Concurrent calls that find a list expired each look the service up
//! (no coalescing, as in a naive client). A failed refresh keeps the old
//! list, used within `max_stale` of its expiry, and the registry is not
//! asked again for a while (see `Discovery::retry_delay`). A list being refreshed in
//! the background serves until the answer comes; a process with no list
//! at all (just restarted) looks up on its first call.

use super::call::CallId;
use super::outcome::{Cause, Outcome};
use super::registry::Instance;
use super::request::{Invocation, Parent};
use super::{hop, Event, World};
use crate::engine::{rng, SimTime, Stream};
use crate::metrics::discovery::DiscoveryMeter;
use crate::model::{DeadInstances, Discovery, Mode, Model, Refresh, ServiceId};
use rand::RngExt;

/// No pair / no call.
pub const NONE: u32 = u32::MAX;

/// A caller service and a service it calls, with the caller's settings.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The calling service.
    pub caller: ServiceId,
    /// The called service.
    pub callee: ServiceId,
    /// The caller's discovery settings.
    pub conf: Discovery,
    /// Index of the caller's first replica's cache in `caches`.
    first_cache: u32,
    /// Index of the callee's first replica in `seen`.
    first_seen: u32,
}

/// One caller replica's list of a callee's instances.
#[derive(Debug, Clone)]
pub struct Cache {
    /// The pair it belongs to.
    pair: u32,
    /// The instances it knows.
    list: Vec<Instance>,
    /// The list holds a lookup's answer (or the static list).
    filled: bool,
    /// The list is fresh until then.
    expires_at: SimTime,
    /// After a failed refresh, the registry is not asked again until then
    /// (see `Discovery::retry_delay`); calls use the stale list meanwhile.
    retry_at: SimTime,
    /// Round-robin cursor of this client.
    rr: u32,
    /// A refresh (background, or by a call) is in flight; other calls do
    /// not start one of their own.
    refreshing: bool,
    /// A refresh failed since the list was last refreshed: the list is
    /// stale, not merely being renewed.
    failed: bool,
    /// Bumped when the caller replica crashes: answers to lookups and
    /// refresh timers of the dead process are ignored.
    gen: u32,
}

/// A lookup in flight.
#[derive(Debug, Clone, Copy)]
struct LookupRec {
    /// The cache it refreshes.
    cache: u32,
    /// The cache's generation when it started.
    cache_gen: u32,
    /// The call attempt waiting for it ([`NONE`] for a background one).
    call: CallId,
    /// That attempt's tag.
    call_tag: u32,
    /// When it started.
    started: SimTime,
    /// Bumped when the lookup ends, so its reply and timeout are told
    /// apart from a later lookup in the same slot.
    tag: u32,
    /// Started after the warm-up.
    counted: bool,
    live: bool,
}

/// Discovery's run-time state.
#[derive(Debug, Clone)]
pub struct DiscoveryState {
    /// Some caller uses discovery (the fast-path check).
    pub on: bool,
    /// The caller/callee pairs with discovery, in client order.
    pub pairs: Vec<Pair>,
    /// Per client: its pair, or [`NONE`].
    client_pair: Vec<u32>,
    /// Per pair and caller replica.
    caches: Vec<Cache>,
    /// Per callee service: its instances at time 0 (static lists).
    initial: Vec<Vec<Instance>>,
    /// Per pair and callee replica: 1 + the epoch of the last instance of
    /// that slot this caller sent a call to (0: none), for discovery lag.
    seen: Vec<u32>,
    lookups: Vec<LookupRec>,
    free: Vec<u32>,
    /// Random cache ages at time 0 (`discovery/CALLER->CALLEE`).
    rngs: Vec<Stream>,
}

#[cfg(test)]
impl DiscoveryState {
    /// The call attempt (call, tag) that lookup `id` serves, while it is
    /// in flight and serves one.
    pub(super) fn lookup_call(&self, id: u32) -> Option<(CallId, u32)> {
        let l = self.lookups.get(id as usize)?;
        (l.live && l.call != NONE).then_some((l.call, l.call_tag))
    }
}

impl DiscoveryState {
    /// The pairs of `model`'s clients whose caller has discovery settings.
    pub fn new(model: &Model) -> Self {
        let mut pairs: Vec<Pair> = Vec::new();
        let mut client_pair = Vec::with_capacity(model.clients.len());
        // Caches and first-seen marks per replica slot.
        let replicas = |s: ServiceId| model.services[s as usize].slots;
        let mut caches = 0u32;
        let mut seen = 0u32;
        for c in &model.clients {
            let Some(conf) = model.discovery[c.caller as usize] else {
                client_pair.push(NONE);
                continue;
            };
            let i = match pairs
                .iter()
                .position(|p| p.caller == c.caller && p.callee == c.callee)
            {
                Some(i) => i,
                None => {
                    pairs.push(Pair {
                        caller: c.caller,
                        callee: c.callee,
                        conf,
                        first_cache: caches,
                        first_seen: seen,
                    });
                    caches += replicas(c.caller);
                    seen += replicas(c.callee);
                    pairs.len() - 1
                }
            };
            client_pair.push(i as u32);
        }
        let mut first = 0u32;
        let initial = model
            .services
            .iter()
            .map(|s| {
                // The replicas that exist at time 0: the first of the slots.
                let list = (first..first + s.replicas)
                    .map(|replica| Instance { replica, epoch: 0 })
                    .collect();
                first += s.slots;
                list
            })
            .collect();
        let rngs = pairs
            .iter()
            .map(|p| {
                let name = format!(
                    "discovery/{}->{}",
                    model.services[p.caller as usize].name, model.services[p.callee as usize].name
                );
                rng::stream(model.seed, &name)
            })
            .collect();
        DiscoveryState {
            on: !pairs.is_empty(),
            caches: pairs
                .iter()
                .enumerate()
                .flat_map(|(i, p)| {
                    (0..replicas(p.caller)).map(move |_| Cache {
                        pair: i as u32,
                        list: Vec::new(),
                        filled: false,
                        expires_at: 0,
                        retry_at: 0,
                        rr: 0,
                        refreshing: false,
                        failed: false,
                        gen: 0,
                    })
                })
                .collect(),
            pairs,
            client_pair,
            initial,
            seen: vec![0; seen as usize],
            lookups: Vec::new(),
            free: Vec::new(),
            rngs,
        }
    }

    /// The caches of replica `local` (its index within the service) of
    /// service `sid`, one per service it calls.
    fn caches_of(&self, sid: ServiceId, local: u32) -> impl Iterator<Item = u32> + '_ {
        self.pairs
            .iter()
            .filter(move |p| p.caller == sid)
            .map(move |p| p.first_cache + local)
    }
}

impl World<'_> {
    /// The caches of global replica `r`, one per service it calls (a
    /// list: crash and restart handling mutate the world while walking
    /// them).
    fn caches_of(&self, r: u32) -> Vec<u32> {
        let sid = self.replicas[r as usize].service;
        let local = r - self.services[sid as usize].first;
        self.discovery.caches_of(sid, local).collect()
    }

    /// Fills every list at time 0: the registry's initial contents (every
    /// replica), at random ages so that refreshes do not all fall in the
    /// same instant; and starts the background refreshes.
    pub(super) fn start_discovery(&mut self) {
        if !self.discovery.on {
            return;
        }
        let d = &mut self.discovery;
        for c in 0..d.caches.len() {
            let cache = &mut d.caches[c];
            let p = &d.pairs[cache.pair as usize];
            cache.list.clone_from(&d.initial[p.callee as usize]);
            cache.filled = true;
            if p.conf.mode == Mode::Cached {
                let ttl = p.conf.cache_ttl;
                cache.expires_at = d.rngs[cache.pair as usize].random_range(1..=ttl);
                if p.conf.refresh == Refresh::Background {
                    self.queue.push(
                        cache.expires_at,
                        Event::Refresh {
                            cache: c as u32,
                            gen: 0,
                        },
                    );
                }
            }
        }
    }

    /// Finds an instance for attempt `id` of a call through a client with
    /// discovery (`pair`), then sends it there, or waits for a lookup.
    pub(super) fn discover(&mut self, id: CallId, pair: u32) {
        let rec = self.calls.get(id);
        let (tag, counted) = (rec.tag, rec.counted);
        let caller_replica = self.invs.get(rec.caller).replica;
        let p = &self.discovery.pairs[pair as usize];
        let conf = p.conf;
        let local = caller_replica - self.services[p.caller as usize].first;
        let cache = p.first_cache + local;
        let now = self.now;
        let m = &mut self.discovery_meters[pair as usize];
        if counted {
            m.attempts += 1;
        }
        match conf.mode {
            Mode::Static => {
                let callee = p.callee as usize;
                let c = &mut self.discovery.caches[cache as usize];
                if !c.filled {
                    c.list.clone_from(&self.discovery.initial[callee]);
                    c.filled = true;
                }
                self.route(id, cache);
            }
            Mode::PerRequest => self.start_lookup(cache, id, tag),
            Mode::Cached => {
                let c = &self.discovery.caches[cache as usize];
                // A list being renewed serves on until the answer comes (a
                // client library swaps lists, it does not empty them); a
                // process without any list (just restarted) must ask,
                // whatever its refresh mode; an expired list is renewed by
                // one call at a time (on-call mode), the others use it.
                if c.filled && (now < c.expires_at || (c.refreshing && !c.failed)) {
                    if counted {
                        m.hits += 1;
                    }
                    self.route(id, cache);
                } else if !c.filled
                    || (conf.refresh == Refresh::OnCall && !c.refreshing && now >= c.retry_at)
                {
                    self.start_lookup(cache, id, tag);
                } else {
                    self.use_stale(id, cache);
                }
            }
        }
    }

    /// The list of `cache` is expired and could not be refreshed: use it
    /// if it is within `max_stale`, else fail the attempt.
    fn use_stale(&mut self, id: CallId, cache: u32) {
        let c = &self.discovery.caches[cache as usize];
        let p = &self.discovery.pairs[c.pair as usize];
        let usable = c.filled
            && p.conf.mode == Mode::Cached
            && p.conf
                .max_stale
                .is_none_or(|s| self.now < c.expires_at.saturating_add(s));
        let pair = c.pair as usize;
        if usable {
            if self.calls.get(id).counted {
                self.discovery_meters[pair].stale_uses += 1;
            }
            self.route(id, cache);
        } else {
            self.no_instance(id, pair);
        }
    }

    /// Attempt `id` found no instance to call.
    fn no_instance(&mut self, id: CallId, pair: usize) {
        let m = &mut self.discovery_meters[pair];
        m.win_no_instance += 1;
        if self.calls.get(id).counted {
            m.no_instance += 1;
        }
        // The call never left the caller: its breaker does not count it
        // (a registry outage says nothing about the callee's health).
        self.attr_charge_call(id, crate::metrics::attribution::Kind::Lookup);
        self.end_attempt(id, Outcome::Failed(Cause::NoInstance), true);
    }

    /// Picks an instance from the list of `cache` and sends attempt `id`
    /// to it. A dead instance refuses the call or swallows it.
    fn route(&mut self, id: CallId, cache: u32) {
        let now = self.now;
        let measuring = self.measuring();
        let c = &mut self.discovery.caches[cache as usize];
        let pair = c.pair as usize;
        let p = &self.discovery.pairs[pair];
        let svc = &mut self.services[p.callee as usize];
        let dead = &svc.dead_ejections;
        let Some(i) = super::balancer::pick_instance(
            svc.balancer,
            svc.ejected > 0 || !dead.is_empty(),
            &c.list,
            &self.replicas,
            |i| dead.iter().any(|d| d.instance == i && d.until > now),
            &mut c.rr,
            &mut svc.lb_rng,
        ) else {
            return self.no_instance(id, pair);
        };
        let inst = c.list[i];
        let rep = &self.replicas[inst.replica as usize];
        let alive = rep.epoch == inst.epoch && rep.running();
        // Discovery lag: the first call this caller sends to an instance
        // that started during the run. A dead instance is sent the call
        // all the same: it fails on arrival (see `admit`), a network hop
        // away as any connection failure.
        let slot = (p.first_seen + inst.replica - svc.first) as usize;
        if alive && self.discovery.seen[slot] != inst.epoch + 1 {
            let m = &mut self.discovery_meters[pair];
            self.discovery.seen[slot] = inst.epoch + 1;
            if inst.epoch > 0 && measuring {
                m.note_lag(now - rep.ready_at);
            }
        }
        self.send(id, Some(inst));
    }

    /// Starts a lookup refreshing `cache`, for attempt `(call, tag)` or in
    /// the background (`call` = [`NONE`]).
    fn start_lookup(&mut self, cache: u32, call: CallId, call_tag: u32) {
        let model = self.model;
        let reg = model.registry.as_ref().expect("lookups need a registry");
        let now = self.now;
        let counted = self.measuring();
        let pair = self.discovery.caches[cache as usize].pair as usize;
        let caller = self.discovery.pairs[pair].caller;
        let m = &mut self.discovery_meters[pair];
        m.win_lookups += 1;
        if counted {
            m.lookups += 1;
        }
        if self.discovery.pairs[pair].conf.mode == Mode::Cached {
            self.discovery.caches[cache as usize].refreshing = true;
        }
        let rec = LookupRec {
            cache,
            cache_gen: self.discovery.caches[cache as usize].gen,
            call,
            call_tag,
            started: now,
            tag: 0,
            counted,
            live: true,
        };
        let d = &mut self.discovery;
        let id = match d.free.pop() {
            Some(i) => {
                let tag = d.lookups[i as usize].tag;
                d.lookups[i as usize] = LookupRec { tag, ..rec };
                i
            }
            None => {
                d.lookups.push(rec);
                (d.lookups.len() - 1) as u32
            }
        };
        let tag = d.lookups[id as usize].tag;
        self.queue.push(
            now.saturating_add(reg.lookup_timeout),
            Event::LookupTimeout { lookup: id, tag },
        );
        if let Some(mode) = self.partition(caller, reg.service) {
            if call != NONE {
                self.span_lookup(id, call, None, reg.lookup);
            }
            return match mode {
                crate::model::FailMode::Reject => self.lookup_done(id, false),
                crate::model::FailMode::Drop => {}
            };
        }
        let inv = self.invs.alloc(Invocation::new(
            reg.lookup,
            Parent::Lookup { lookup: id, tag },
        ));
        if call != NONE {
            self.span_lookup(id, call, Some(inv), reg.lookup);
        }
        self.note_network_call(reg.service);
        let hop = hop(&model.network, &mut self.net_to[reg.lookup as usize]);
        self.queue
            .push(now.saturating_add(hop), Event::Deliver { inv });
    }

    /// Whether attempt `tag` of call `call` is waiting on a lookup of its
    /// own (per-request discovery, or a cache being filled for it).
    pub(super) fn awaits_lookup(&self, call: CallId, tag: u32) -> bool {
        self.discovery
            .lookups
            .iter()
            .any(|l| l.live && l.call == call && l.call_tag == tag)
    }

    /// Whether lookup `id` is still waiting on attempt `tag`.
    pub(super) fn lookup_current(&self, id: u32, tag: u32) -> bool {
        let l = &self.discovery.lookups[id as usize];
        l.live && l.tag == tag
    }

    /// Lookup `id` got its answer (`ok`) or gave up: refresh the cache,
    /// then go on with the attempt waiting for it, if it still does.
    pub(super) fn lookup_done(&mut self, id: u32, ok: bool) {
        self.span_lookup_done(id, ok, false);
        let now = self.now;
        let l = self.discovery.lookups[id as usize];
        {
            let slot = &mut self.discovery.lookups[id as usize];
            slot.live = false;
            slot.tag = slot.tag.wrapping_add(1);
            self.discovery.free.push(id);
        }
        let c = &mut self.discovery.caches[l.cache as usize];
        let pair = c.pair as usize;
        let p = &self.discovery.pairs[pair];
        let m = &mut self.discovery_meters[pair];
        if l.counted {
            if ok {
                m.lookup_latency.record(now - l.started);
            } else {
                m.lookup_failures += 1;
            }
        }
        if c.gen != l.cache_gen {
            // The caller replica crashed since: nobody is left to use the
            // answer (and its waiting call is gone).
            return;
        }
        let retry = p
            .conf
            .retry_delay(self.model.registry.as_ref().map_or(0, |r| r.lookup_timeout));
        c.refreshing = false;
        if ok {
            let reg = self.model.registry.as_ref().expect("registry");
            let state = self.registry.as_mut().expect("registry state");
            state.lookup(p.callee, now, reg.ttl, self.model.warmup, &mut c.list);
            c.filled = true;
            c.expires_at = now.saturating_add(p.conf.cache_ttl);
            c.retry_at = 0;
            c.failed = false;
        } else if p.conf.mode == Mode::Cached && now >= c.expires_at {
            // The old list stays, stale; the registry is asked again later.
            c.failed = true;
            c.retry_at = now.saturating_add(retry);
        }
        if l.call == NONE {
            // After a failure the refresh is tried again later.
            let next = if ok {
                c.expires_at
            } else {
                now.saturating_add(retry)
            };
            if next < self.model.duration {
                let gen = c.gen;
                self.queue.push(
                    next,
                    Event::Refresh {
                        cache: l.cache,
                        gen,
                    },
                );
            }
            return;
        }
        if !self.calls.is_current(l.call, l.call_tag) {
            return;
        }
        // A failed lookup's caller may still find a fresh list: another
        // lookup renewed it meanwhile.
        let cached = p.conf.mode == Mode::Cached;
        if ok || (cached && c.filled && now < c.expires_at) {
            self.route(l.call, l.cache);
        } else {
            self.use_stale(l.call, l.cache);
        }
    }

    /// A background refresh of `cache` is due.
    pub(super) fn on_refresh(&mut self, cache: u32, gen: u32) {
        let c = &self.discovery.caches[cache as usize];
        if c.refreshing || c.gen != gen {
            return;
        }
        let pair = &self.discovery.pairs[c.pair as usize];
        let local = cache - pair.first_cache;
        let r = self.services[pair.caller as usize].first + local;
        if !self.replicas[r as usize].running() {
            // No process to refresh it; the restarted one fetches its
            // lists when it is ready (see `on_caller_ready`).
            return;
        }
        self.start_lookup(cache, NONE, 0);
    }

    /// Replica `r` crashed: its process's lists are gone.
    pub(super) fn forget_lists(&mut self, r: u32) {
        if !self.discovery.on {
            return;
        }
        let ids = self.caches_of(r);
        for c in ids {
            let cache = &mut self.discovery.caches[c as usize];
            cache.list.clear();
            cache.filled = false;
            cache.refreshing = false;
            cache.failed = false;
            cache.expires_at = 0;
            cache.retry_at = 0;
            cache.gen = cache.gen.wrapping_add(1);
        }
    }

    /// Replica `r` (re)started: a background client fetches its lists
    /// now; the others at their first call (`discover`: a static one
    /// reads its fixed list again, a cached one looks up).
    pub(super) fn on_caller_ready(&mut self, r: u32) {
        if !self.discovery.on {
            return;
        }
        let ids = self.caches_of(r);
        for c in ids {
            let cache = &self.discovery.caches[c as usize];
            let p = &self.discovery.pairs[cache.pair as usize];
            if p.conf.mode == Mode::Cached && p.conf.refresh == Refresh::Background {
                let gen = cache.gen;
                self.on_refresh(c, gen);
            }
        }
    }

    /// Counts, per callee service, the registry's entries and the stale
    /// ones among them, for the time series.
    pub(super) fn registry_counts(&mut self, sid: ServiceId) -> (u32, u32) {
        let (now, warmup) = (self.now, self.model.warmup);
        let (Some(reg), Some(state)) = (&self.model.registry, self.registry.as_mut()) else {
            return (0, 0);
        };
        if state.up {
            state.evict(sid, now, reg.ttl, warmup);
        }
        let replicas = &self.replicas;
        state.count(sid, |i| {
            let rep = &replicas[i.replica as usize];
            rep.epoch == i.epoch && rep.running()
        })
    }
}

/// A lookup's meter is the pair's (for reports).
pub fn pair_names(model: &Model, pairs: &[Pair]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|p| {
            (
                model.services[p.caller as usize].name.clone(),
                model.services[p.callee as usize].name.clone(),
            )
        })
        .collect()
}

/// A fresh meter per pair.
pub fn meters(pairs: &[Pair]) -> Vec<DiscoveryMeter> {
    pairs.iter().map(|_| DiscoveryMeter::default()).collect()
}

impl World<'_> {
    /// A call attempt `id` reached an instance that is dead (it was when
    /// the caller chose it from a stale list, or it died while the call
    /// was on the wire): counts it, and says whether it meets silence
    /// rather than a refusal (the caller's `dead_instances` setting).
    pub(super) fn reached_dead_instance(&mut self, id: super::request::InvId) -> bool {
        match self.invs.get(id).parent {
            Parent::Call { call, tag, .. } if self.calls.is_current(call, tag) => {
                let rec = self.calls.get(call);
                let pair = self.discovery.client_pair[rec.site.client as usize];
                if pair == NONE {
                    return false;
                }
                let m = &mut self.discovery_meters[pair as usize];
                m.win_routed_dead += 1;
                if rec.counted {
                    m.routed_dead += 1;
                }
                self.discovery.pairs[pair as usize].conf.dead_instances == DeadInstances::Blackhole
            }
            // Nobody waits for the answer any more.
            _ => true,
        }
    }

    /// The discovery pair of client `ci`, or [`NONE`].
    #[inline]
    pub(super) fn pair_of(&self, ci: usize) -> u32 {
        self.discovery.client_pair[ci]
    }
}

impl World<'_> {
    /// Adds the discovery rows of the window `[start, now)` to the time
    /// series (before the service rows, whose registry counts it fills
    /// once they exist: see `close_window`).
    pub(super) fn close_discovery_window(&mut self, start: SimTime) {
        let (start_s, end_s) = (start as f64 / 1e9, self.now as f64 / 1e9);
        let model = self.model;
        for (p, m) in self.discovery.pairs.iter().zip(&mut self.discovery_meters) {
            self.windows
                .series
                .discovery
                .push(crate::metrics::DiscoveryWindow {
                    start_s,
                    end_s,
                    caller: model.services[p.caller as usize].name.clone(),
                    callee: model.services[p.callee as usize].name.clone(),
                    lookups: m.win_lookups,
                    routed_to_dead: m.win_routed_dead,
                    no_instance: m.win_no_instance,
                });
            m.win_lookups = 0;
            m.win_routed_dead = 0;
            m.win_no_instance = 0;
        }
    }

    /// Fills the registry counts of the service rows just closed.
    pub(super) fn fill_registry_counts(&mut self) {
        let Some(reg) = self.model.registry.as_ref() else {
            return;
        };
        let n = self.model.services.len();
        let rows = self.windows.series.services.len();
        if rows < n {
            return;
        }
        for sid in 0..n as u32 {
            if sid == reg.service {
                continue;
            }
            let (all, stale) = self.registry_counts(sid);
            let row = &mut self.windows.series.services[rows - n + sid as usize];
            row.registered = Some(all);
            row.stale_registered = Some(stale);
        }
    }
}

impl World<'_> {
    /// Instances of pair `pair`'s callee that started during the run, are
    /// running now, and never got a call from the caller.
    pub fn undiscovered(&self, pair: usize) -> u64 {
        let p = &self.discovery.pairs[pair];
        let svc = &self.services[p.callee as usize];
        (0..svc.replicas)
            .filter(|&i| {
                let rep = &self.replicas[(svc.first + i) as usize];
                rep.epoch > 0
                    && rep.running()
                    && self.discovery.seen[(p.first_seen + i) as usize] != rep.epoch + 1
            })
            .count() as u64
    }
}

impl World<'_> {
    /// Outlier detection met a failed call to a dead instance (a stale
    /// address): after the service's `consecutive_failures` in a row it
    /// is ejected for `eject_for`, as a live replica would be, so callers
    /// stop trying it before the registry and their lists catch up.
    pub(super) fn note_dead_instance_failure(&mut self, instance: Instance) {
        let now = self.now;
        let sid = self.replicas[instance.replica as usize].service as usize;
        let svc = &mut self.services[sid];
        let Some(o) = svc.outlier else {
            return;
        };
        // Forget records whose ejection is over: the list stays as short
        // as the dead instances callers are still trying.
        svc.dead_ejections
            .retain(|d| d.until > now || (d.until == 0 && d.failures > 0));
        let max = ((o.max_ejected * f64::from(svc.provisioned)).floor() as u32).max(1);
        let ejected = svc.ejected + svc.dead_ejected(now);
        let d = match svc
            .dead_ejections
            .iter()
            .position(|d| d.instance == instance)
        {
            Some(i) => &mut svc.dead_ejections[i],
            None => {
                svc.dead_ejections.push(super::service::DeadEjection {
                    instance,
                    failures: 0,
                    until: 0,
                });
                svc.dead_ejections.last_mut().expect("just pushed")
            }
        };
        if d.until > now {
            return;
        }
        d.failures += 1;
        if d.failures >= o.consecutive_failures && ejected < max {
            d.failures = 0;
            d.until = now.saturating_add(o.eject_for);
            if now >= self.model.warmup {
                self.service_meters[sid].ejections += 1;
            }
        }
    }
}
