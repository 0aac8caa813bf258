//! Replica lifecycle at run time. A service's desired replica count (set
//! by `[[scale]]` and the autoscaler) and version (set by `[[deploy]]`) are
//! targets; [`World::reconcile`] moves the replicas towards them the way a
//! Kubernetes Deployment controller does:
//!
//! - adding a replica takes a free slot: it exists (and costs) at once,
//!   serves after `provisioning` + `startup`, then registers and is found
//!   by callers' discovery like a restarted one;
//! - removing one drains it: it leaves the balancer and deregisters at
//!   once, finishes the work it has (queued requests included), and is
//!   gone when idle, or after `drain_timeout` with what is left cut off;
//! - a rollout keeps at most `batch` replicas below the desired count
//!   serving and at most `surge` above it existing, replacing old-version
//!   replicas by new ones as the new ones become ready. Old replicas that
//!   serve nothing (starting, crashed) are removed first.

use super::{Event, World};
use crate::engine::{rng, Stream};
use crate::metrics::resilience::PeriodMeter;
use crate::metrics::scaling::{Decision, DeployMeter, Reason, ReplicaMeter, MAX_DECISIONS};
use crate::model::{Model, ServiceId};
use rand::RngExt;

/// Per service: the targets the controller reconciles towards.
#[derive(Debug, Clone)]
pub struct Target {
    /// Desired replica count.
    pub desired: u32,
    /// The version new replicas run (0 until the first deploy).
    pub version: u32,
    /// The deploy rolling out now, if any.
    pub deploy: Option<u32>,
    /// The deploy that introduced `version` (its startup and bad release
    /// apply to every replica of the version, also those added later).
    pub version_deploy: Option<u32>,
}

/// Scaling and deploys at run time.
#[derive(Debug, Clone)]
pub struct ScalingState {
    /// Whether replica counts can change at all (else nothing here runs).
    pub on: bool,
    /// Per service.
    pub targets: Vec<Target>,
    /// Per service: replicas over time.
    pub meters: Vec<ReplicaMeter>,
    /// Per deploy.
    pub deploys: Vec<DeployMeter>,
    /// Per deploy: its bad release's draws (`deploy/NAME`).
    pub deploy_rngs: Vec<Stream>,
    /// Changes of desired counts, in time order.
    pub decisions: Vec<Decision>,
    /// A reconcile is under way (draining calls back into it otherwise).
    reconciling: bool,
}

impl ScalingState {
    /// Every service at its configured count, version 0.
    pub fn new(model: &Model) -> Self {
        ScalingState {
            on: model.dynamic_replicas(),
            targets: model
                .services
                .iter()
                .map(|s| Target {
                    desired: s.replicas,
                    version: 0,
                    deploy: None,
                    version_deploy: None,
                })
                .collect(),
            meters: model
                .services
                .iter()
                .map(|s| ReplicaMeter {
                    min: s.replicas,
                    max: s.replicas,
                    ..ReplicaMeter::default()
                })
                .collect(),
            deploys: model
                .deploys
                .iter()
                .map(|_| DeployMeter {
                    during: vec![PeriodMeter::default(); model.workloads.len()],
                    ..DeployMeter::default()
                })
                .collect(),
            deploy_rngs: model
                .deploys
                .iter()
                .map(|d| rng::stream(model.seed, &format!("deploy/{}", d.name)))
                .collect(),
            decisions: Vec::new(),
            reconciling: false,
        }
    }
}

impl World<'_> {
    /// Schedules the scale events, deploys and autoscaler evaluations.
    pub(super) fn start_scaling(&mut self) {
        let model = self.model;
        for (i, s) in model.scales.iter().enumerate() {
            if s.at < model.duration {
                self.queue.push(s.at, Event::ScaleAt { index: i as u32 });
            }
        }
        for (i, d) in model.deploys.iter().enumerate() {
            if d.at < model.duration {
                self.queue
                    .push(d.at, Event::DeployStart { deploy: i as u32 });
            }
        }
        for (i, s) in model.services.iter().enumerate() {
            if let Some(a) = &s.autoscale {
                self.start_autoscaler(i as ServiceId, a.interval);
            }
        }
    }

    /// A `[[scale]]` entry takes effect.
    pub(super) fn on_scale_at(&mut self, index: u32) {
        let s = self.model.scales[index as usize];
        self.set_desired(s.service, s.replicas, Reason::Schedule);
    }

    /// Sets a service's desired replica count and reconciles towards it.
    pub(super) fn set_desired(&mut self, sid: ServiceId, to: u32, reason: Reason) {
        let t = &mut self.scaling.targets[sid as usize];
        let from = t.desired;
        if from == to {
            return;
        }
        t.desired = to;
        if self.measuring() {
            let m = &mut self.scaling.meters[sid as usize];
            if to > from {
                m.scale_ups += 1;
            } else {
                m.scale_downs += 1;
            }
        }
        if self.scaling.decisions.len() < MAX_DECISIONS {
            self.scaling.decisions.push(Decision {
                at: self.now,
                service: sid,
                from,
                to,
                reason,
            });
        }
        self.reconcile(sid);
    }

    /// A deploy starts: new replicas get the next version.
    pub(super) fn on_deploy_start(&mut self, d: u32) {
        let sid = self.model.deploys[d as usize].service;
        let prev = self.scaling.targets[sid as usize].deploy.replace(d);
        if let Some(prev) = prev {
            // A newer deploy of the same service takes over its rollout.
            self.scaling.deploys[prev as usize].superseded = true;
            self.end_deploy(prev);
        }
        let t = &mut self.scaling.targets[sid as usize];
        t.version += 1;
        t.version_deploy = Some(d);
        let version = t.version;
        let old = self
            .slots(sid)
            .filter(|&r| {
                let rep = &self.replicas[r as usize];
                rep.present() && rep.version != version
            })
            .count() as u32;
        let m = &mut self.scaling.deploys[d as usize];
        m.started = Some(self.now);
        m.old_replicas = old;
        self.reconcile(sid);
    }

    /// Global indices of service `sid`'s slots.
    pub(super) fn slots(&self, sid: ServiceId) -> std::ops::Range<u32> {
        let s = &self.services[sid as usize];
        s.first..s.first + s.replicas
    }

    /// A replica of `sid` started serving: a rollout may take its next
    /// step, or finish.
    pub(super) fn on_replica_serving(&mut self, sid: ServiceId) {
        if self.scaling.on {
            self.reconcile(sid);
        }
    }

    /// Moves `sid`'s replicas towards its desired count and version, as
    /// far as can be done now (see the module docs).
    pub(super) fn reconcile(&mut self, sid: ServiceId) {
        if self.scaling.reconciling {
            return;
        }
        self.scaling.reconciling = true;
        self.reconcile_now(sid);
        self.scaling.reconciling = false;
    }

    fn reconcile_now(&mut self, sid: ServiceId) {
        let t = self.scaling.targets[sid as usize].clone();
        let (surge, batch) = match t.deploy {
            Some(d) => {
                let d = &self.model.deploys[d as usize];
                (d.surge, d.batch)
            }
            None => (0, u32::MAX),
        };
        let desired = t.desired;
        loop {
            let c = self.census(sid, t.version);
            let total = c.new + c.old;
            let step = if c.old == 0 {
                if total < desired {
                    Step::Start
                } else if total > desired {
                    Step::Drain { old: false }
                } else {
                    Step::Done
                }
            } else if total > desired + surge || c.old > c.old_ready {
                // Too many (the desired count fell), or old replicas that
                // serve nothing: remove them first.
                Step::Drain { old: true }
            } else if c.new > desired {
                Step::Drain { old: false }
            } else if c.new < desired && total < desired + surge {
                Step::Start
            } else if i64::from(c.new_ready + c.old_ready) > i64::from(desired) - i64::from(batch) {
                Step::Drain { old: true }
            } else {
                Step::Done
            };
            match step {
                Step::Start => {
                    if !self.provision(sid, t.version, t.version_deploy) {
                        break; // Every slot busy: a drain will free one.
                    }
                }
                Step::Drain { old } => {
                    let r = self.pick_to_remove(sid, t.version, old);
                    self.drain(r);
                }
                Step::Done => break,
            }
        }
        if let Some(d) = t.deploy {
            let c = self.census(sid, t.version);
            if c.old == 0 && c.new == c.new_ready && c.new == t.desired {
                self.end_deploy(d);
                self.scaling.targets[sid as usize].deploy = None;
            }
        }
    }

    /// Marks deploy `d`'s rollout finished now.
    fn end_deploy(&mut self, d: u32) {
        let spec = &self.model.deploys[d as usize];
        let now = self.now;
        let m = &mut self.scaling.deploys[d as usize];
        m.finished = Some(now);
        let bad = if spec.error_rate > 0.0 {
            spec.bad_for
        } else {
            0
        };
        m.effect_end = Some(now.saturating_add(bad));
    }

    /// Counts `sid`'s present replicas by version and readiness.
    fn census(&self, sid: ServiceId, version: u32) -> Census {
        let mut c = Census::default();
        for r in self.slots(sid) {
            let rep = &self.replicas[r as usize];
            if !rep.present() {
                continue;
            }
            let ready = u32::from(rep.running());
            if rep.version == version {
                c.new += 1;
                c.new_ready += ready;
            } else {
                c.old += 1;
                c.old_ready += ready;
            }
        }
        c
    }

    /// The replica to remove: of the old version (`old`) or any, those
    /// that serve nothing first (starting or down), then the highest slot.
    fn pick_to_remove(&self, sid: ServiceId, version: u32, old: bool) -> u32 {
        let mut best: Option<(bool, u32)> = None;
        for r in self.slots(sid) {
            let rep = &self.replicas[r as usize];
            if !rep.present() || (old && rep.version == version) {
                continue;
            }
            let key = (!rep.running(), r);
            if best.is_none_or(|b| key > b) {
                best = Some(key);
            }
        }
        best.expect("reconcile removes only replicas it counted").1
    }

    /// Adds a replica of `sid` running `version` in its lowest free slot;
    /// false when every slot is taken (some still draining).
    fn provision(&mut self, sid: ServiceId, version: u32, deploy: Option<u32>) -> bool {
        let Some(r) = self.slots(sid).find(|&r| {
            let rep = &self.replicas[r as usize];
            rep.absent && rep.down == 0
        }) else {
            return false;
        };
        let model = self.model;
        let svc = &model.services[sid as usize];
        let startup = match deploy {
            Some(d) => model.deploys[d as usize].startup,
            None => svc.startup,
        };
        let epoch = self.update_availability(r, |rep| {
            rep.absent = false;
            rep.starting = true;
            rep.epoch = rep.epoch.wrapping_add(1);
            rep.version = version;
            rep.deploy = deploy.unwrap_or(u32::MAX);
            rep.bad_until = 0;
            rep.consecutive_failures = 0;
            rep.epoch
        });
        let measuring = self.measuring();
        let svc_state = &mut self.services[sid as usize];
        svc_state.provisioned += 1;
        let provisioned = svc_state.provisioned;
        self.service_meters[sid as usize]
            .provisioned
            .add(self.now, 1);
        let m = &mut self.scaling.meters[sid as usize];
        m.note(provisioned, measuring);
        m.started += u64::from(measuring);
        if let (Some(d), Some(_)) = (deploy, self.scaling.targets[sid as usize].deploy) {
            self.scaling.deploys[d as usize].new_replicas += 1;
        }
        let ready = self
            .now
            .saturating_add(svc.provisioning)
            .saturating_add(startup);
        self.queue
            .push(ready, Event::ReplicaReady { replica: r, epoch });
        true
    }

    /// Starts removing replica `r`: no new calls, deregistered, and gone
    /// once idle (or at its drain deadline).
    fn drain(&mut self, r: u32) {
        self.update_availability(r, |rep| rep.draining = true);
        self.deregister(r);
        let rep = &self.replicas[r as usize];
        if rep.outstanding == 0 {
            self.drained(r);
        } else {
            let timeout = self.model.services[rep.service as usize].drain_timeout;
            let epoch = rep.epoch;
            self.queue.push(
                self.now.saturating_add(timeout),
                Event::DrainDeadline { replica: r, epoch },
            );
        }
    }

    /// A draining replica finished its last request.
    #[inline]
    pub(super) fn check_drained(&mut self, r: u32) {
        let rep = &self.replicas[r as usize];
        if rep.draining && rep.outstanding == 0 {
            self.drained(r);
        }
    }

    /// Replica `r` is gone: its slot is free (once any crash holding it
    /// is over).
    pub(super) fn drained(&mut self, r: u32) {
        let was_ejected = self.update_availability(r, |rep| {
            rep.draining = false;
            rep.starting = false;
            rep.absent = true;
            // A crashed replica scaled away frees its slot at once: the
            // crash's end finds another epoch (or nobody) there.
            rep.down = 0;
            rep.bad_until = 0;
            rep.consecutive_failures = 0;
            std::mem::replace(&mut rep.ejected, false)
        });
        if was_ejected {
            // Its ejection ends with it (the pending end is then stale).
            let sid = self.replicas[r as usize].service as usize;
            self.services[sid].ejected -= 1;
            let rep = &mut self.replicas[r as usize];
            rep.eject_epoch = rep.eject_epoch.wrapping_add(1);
        }
        self.forget_lists(r);
        let sid = self.replicas[r as usize].service;
        let measuring = self.measuring();
        let svc_state = &mut self.services[sid as usize];
        svc_state.provisioned -= 1;
        let provisioned = svc_state.provisioned;
        self.service_meters[sid as usize]
            .provisioned
            .add(self.now, -1);
        let m = &mut self.scaling.meters[sid as usize];
        m.note(provisioned, measuring);
        m.drained += u64::from(measuring);
        // A slot is free: a start that had to wait may go ahead.
        self.reconcile(sid);
    }

    /// A drain took longer than `drain_timeout`: what is left is cut off.
    pub(super) fn on_drain_deadline(&mut self, r: u32, epoch: u32) {
        let rep = &self.replicas[r as usize];
        if !rep.draining || rep.epoch != epoch {
            return;
        }
        let sid = rep.service as usize;
        let lost = self.drop_work(r, false);
        if self.measuring() {
            let m = &mut self.scaling.meters[sid];
            m.drain_cutoffs += 1;
            m.lost_in_cutoffs += lost;
        }
        self.drained(r);
    }

    /// Fills the scaling columns of the service rows of the window just
    /// closed.
    pub(super) fn fill_replica_counts(&mut self) {
        let n = self.model.services.len();
        let rows = &mut self.windows.series.services;
        let first_row = rows.len() - n;
        for i in 0..n {
            let row = &mut rows[first_row + i];
            let mean = row
                .mean_replicas
                .expect("windows keep mean replicas with scaling");
            // Utilisation against the workers that existed, not the
            // configured count.
            let configured = f64::from(self.model.services[i].replicas);
            row.utilization = if mean > 0.0 {
                row.utilization * configured / mean
            } else {
                0.0
            };
            row.replicas = self.scaling.targets[i].desired;
        }
    }

    /// Whether a bad release fails this request on replica `r` (draws
    /// only on a replica that is bad now).
    #[inline]
    pub(super) fn bad_release_error(&mut self, r: u32, endpoint: u32) -> bool {
        let rep = &self.replicas[r as usize];
        if rep.bad_until <= self.now {
            return false;
        }
        let d = rep.deploy as usize;
        if let Some((first, last)) = self.model.deploys[d].endpoints {
            // A monolith's unit: only the deployed component's code is bad.
            if endpoint < first || endpoint > last {
                return false;
            }
        }
        let rate = self.model.deploys[d].error_rate;
        let fail = self.scaling.deploy_rngs[d].random::<f64>() < rate;
        if fail && self.measuring() {
            self.scaling.deploys[d].bad_release_errors += 1;
        }
        fail
    }
}

/// A service's present replicas by version.
#[derive(Debug, Default, Clone, Copy)]
struct Census {
    new: u32,
    new_ready: u32,
    old: u32,
    old_ready: u32,
}

/// What the controller does next.
enum Step {
    Start,
    Drain { old: bool },
    Done,
}
