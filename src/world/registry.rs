//! The service registry at run time: which instances are registered, their
//! heartbeats and eviction, and whether the registry itself is up.
//!
//! An instance is one life of a replica slot: `(replica, epoch)`, where the
//! epoch is bumped by every crash. A restarted replica is a new instance
//! at a new address, so the old entry is stale: it stays in the registry,
//! and in the callers' lists, until its heartbeats have been missing for
//! `ttl` (a crash does not deregister).
//!
//! Heartbeats are not calls: they cost the registry no worker. While no
//! registry replica runs (or a partition cuts an instance's service off
//! from it), heartbeats are lost and registrations wait for
//! the instance's next heartbeat; when the registry comes back, every
//! entry's heartbeat clock restarts, so the registry does not evict
//! instances for heartbeats it could not receive (Eureka's
//! self-preservation, Consul's re-sync).

use super::{Event, World};
use crate::engine::{rng, SimTime, Stream};
use crate::model::{Model, ServiceId};
use rand::RngExt;

/// One life of a replica slot (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instance {
    /// Global replica index.
    pub replica: u32,
    /// The slot's crash epoch when this instance started.
    pub epoch: u32,
}

/// A registry entry.
#[derive(Debug, Clone, Copy)]
struct Entry {
    instance: Instance,
    last_heartbeat: SimTime,
}

/// The registry's contents and health.
#[derive(Debug, Clone)]
pub struct RegistryState {
    /// Entries per service, in registration order.
    entries: Vec<Vec<Entry>>,
    /// Some registry replica is running.
    pub up: bool,
    /// When the registry last went down, while it is down.
    pub down_since: Option<SimTime>,
    /// Phases of the first heartbeats (`registry/heartbeats`).
    rng: Stream,
    /// Instances registered (measured).
    pub registrations: u64,
    /// Entries evicted for missing heartbeats (measured).
    pub evictions: u64,
    /// Entries removed by graceful shutdowns (measured).
    pub deregistrations: u64,
    /// Heartbeats sent while no registry replica was running (measured).
    pub heartbeats_lost: u64,
    /// Measured time with no registry replica running, in ns.
    pub outage_ns: u64,
}

impl RegistryState {
    /// An empty registry, up.
    pub fn new(model: &Model) -> Self {
        RegistryState {
            entries: vec![Vec::new(); model.services.len()],
            up: true,
            down_since: None,
            rng: rng::stream(model.seed, "registry/heartbeats"),
            registrations: 0,
            evictions: 0,
            deregistrations: 0,
            heartbeats_lost: 0,
            outage_ns: 0,
        }
    }

    /// Copies the instances of `service` a lookup at `now` returns into
    /// `out` (cleared first), evicting the entries whose heartbeats are
    /// more than `ttl` old.
    pub fn lookup(
        &mut self,
        service: ServiceId,
        now: SimTime,
        ttl: SimTime,
        warmup: SimTime,
        out: &mut Vec<Instance>,
    ) {
        self.evict(service, now, ttl, warmup);
        out.clear();
        out.extend(self.entries[service as usize].iter().map(|e| e.instance));
    }

    /// Removes the entries of `service` not heard from for longer than
    /// `ttl`. Eviction is lazy (done when the list is read), which gives
    /// the same answers as a sweeper without events of its own; an
    /// eviction is counted as measured by when it happened (the entry
    /// expired), not by when it was noticed.
    pub fn evict(&mut self, service: ServiceId, now: SimTime, ttl: SimTime, warmup: SimTime) {
        let mut evicted = 0;
        self.entries[service as usize].retain(|e| {
            let keep = now - e.last_heartbeat <= ttl;
            if !keep && e.last_heartbeat.saturating_add(ttl) >= warmup {
                evicted += 1;
            }
            keep
        });
        self.evictions += evicted;
    }

    /// Records a heartbeat (or the registration) of `instance` of
    /// `service`; true when it was not registered.
    fn beat(&mut self, service: ServiceId, instance: Instance, now: SimTime) -> bool {
        let list = &mut self.entries[service as usize];
        match list.iter_mut().find(|e| e.instance == instance) {
            Some(e) => {
                e.last_heartbeat = now;
                false
            }
            None => {
                list.push(Entry {
                    instance,
                    last_heartbeat: now,
                });
                true
            }
        }
    }

    /// Removes `instance`'s entry (a graceful deregistration).
    fn remove(&mut self, service: ServiceId, instance: Instance) -> bool {
        let list = &mut self.entries[service as usize];
        let before = list.len();
        list.retain(|e| e.instance != instance);
        list.len() < before
    }

    /// Entries of `service`: all of them, and those whose instance is no
    /// longer alive according to `alive`.
    pub fn count(&self, service: ServiceId, alive: impl Fn(Instance) -> bool) -> (u32, u32) {
        let list = &self.entries[service as usize];
        let stale = list.iter().filter(|e| !alive(e.instance)).count();
        (list.len() as u32, stale as u32)
    }
}

impl World<'_> {
    /// Registers the initial instances at time 0 and schedules their first
    /// heartbeats at random phases within one period.
    pub(super) fn start_registry(&mut self) {
        let Some(reg) = self.model.registry.clone() else {
            return;
        };
        let Some(state) = self.registry.as_mut() else {
            return;
        };
        for r in 0..self.replicas.len() as u32 {
            let sid = self.replicas[r as usize].service;
            if sid == reg.service || self.replicas[r as usize].absent {
                continue;
            }
            let instance = Instance {
                replica: r,
                epoch: 0,
            };
            state.beat(sid, instance, 0);
            let phase = state.rng.random_range(1..=reg.heartbeat);
            self.queue.push(
                phase,
                Event::Heartbeat {
                    replica: r,
                    epoch: 0,
                },
            );
        }
    }

    /// Replica `r` has (re)started and serves: a new instance registers
    /// (if it can reach the registry) and starts heartbeating.
    pub(super) fn register(&mut self, r: u32) {
        let Some(reg) = &self.model.registry else {
            return;
        };
        if self.replicas[r as usize].service == reg.service {
            return;
        }
        let epoch = self.replicas[r as usize].epoch;
        self.beat(r, epoch);
    }

    /// Replica `r` is being removed gracefully: it deregisters (if it can
    /// reach the registry; else its entry expires after `ttl`) and sends
    /// no more heartbeats.
    pub(super) fn deregister(&mut self, r: u32) {
        let Some(reg) = &self.model.registry else {
            return;
        };
        let rep = &self.replicas[r as usize];
        let sid = rep.service;
        if sid == reg.service {
            return;
        }
        let instance = Instance {
            replica: r,
            epoch: rep.epoch,
        };
        let cut = self.partition(sid, reg.service).is_some();
        let state = self.registry.as_mut().expect("registry state");
        if state.up && !cut && state.remove(sid, instance) && self.now >= self.model.warmup {
            state.deregistrations += 1;
        }
    }

    /// A heartbeat of instance `(r, epoch)` is due; a dead instance sends
    /// none (and no further ones).
    pub(super) fn on_heartbeat(&mut self, r: u32, epoch: u32) {
        let rep = &self.replicas[r as usize];
        if rep.epoch != epoch || !rep.running() {
            return;
        }
        self.beat(r, epoch);
    }

    /// Instance `(r, epoch)` heartbeats (the first one registers it, as
    /// does one for an entry evicted meanwhile) and schedules the next.
    /// The heartbeat is lost while no registry replica runs or a partition
    /// cuts the instance's service off from the registry.
    fn beat(&mut self, r: u32, epoch: u32) {
        let model = self.model;
        let reg = model.registry.as_ref().expect("heartbeats need a registry");
        let sid = self.replicas[r as usize].service;
        let cut = self.partition(sid, reg.service).is_some();
        let (now, counted) = (self.now, self.measuring());
        let state = self.registry.as_mut().expect("registry state");
        if state.up && !cut {
            // Sweep first, so an entry that expired unnoticed counts as
            // evicted and registered again, as with an eager sweeper.
            state.evict(sid, now, reg.ttl, model.warmup);
            if state.beat(sid, Instance { replica: r, epoch }, now) && counted {
                state.registrations += 1;
            }
        } else if counted {
            state.heartbeats_lost += 1;
        }
        self.queue.push(
            now.saturating_add(reg.heartbeat),
            Event::Heartbeat { replica: r, epoch },
        );
    }

    /// The registry's count of running replicas changed: note an outage
    /// starting or ending.
    pub(super) fn on_registry_replicas(&mut self) {
        let Some(reg) = &self.model.registry else {
            return;
        };
        let svc = &self.services[reg.service as usize];
        let up = svc.replicas > svc.unavailable;
        let (now, warmup) = (self.now, self.model.warmup);
        let state = self.registry.as_mut().expect("registry state");
        if up == state.up {
            return;
        }
        state.up = up;
        if up {
            if let Some(since) = state.down_since.take() {
                state.outage_ns += now.saturating_sub(since.max(warmup));
            }
            // Heartbeat clocks restart: nobody is evicted for heartbeats
            // the registry could not receive.
            for list in &mut state.entries {
                for e in list {
                    e.last_heartbeat = now;
                }
            }
        } else {
            // Entries that expired before the outage are gone, however
            // late a lookup or a time-series window would have noticed
            // (the clock restart above must not revive them).
            for sid in 0..state.entries.len() as ServiceId {
                state.evict(sid, now, reg.ttl, warmup);
            }
            state.down_since = Some(now);
        }
    }
}
