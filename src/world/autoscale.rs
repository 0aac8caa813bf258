//! The horizontal autoscaler, in the manner of Kubernetes' HPA. Every
//! `interval` it measures its metric over the interval, averaged over the
//! replicas that served, and proposes `ceil(ready x measured / target)`
//! replicas (no change within `tolerance` of the target). It scales up at
//! once, by at most `max_step_up`, unless a scale-up happened within
//! `scale_up_cooldown`; it scales down by at most `max_step_down`, and
//! only to the highest proposal of the last `scale_down_stabilization`, so
//! a short lull does not shed replicas it will need again. Replicas still
//! starting count as serving nothing, so it does not scale up again for
//! load they are about to take; nor does it scale down while any starts.

use super::{Event, World};
use crate::engine::SimTime;
use crate::metrics::scaling::Reason;
use crate::metrics::LatencyStats;
use crate::model::{Metric, ServiceId};
use std::collections::VecDeque;

/// One autoscaler's memory between evaluations.
#[derive(Debug, Clone)]
pub struct AutoscalerState {
    /// Busy-worker area at the last evaluation.
    busy_mark: u128,
    /// Queue-length area at the last evaluation.
    queued_mark: u128,
    /// Available-replica area at the last evaluation.
    available_mark: u128,
    /// When it last scaled up.
    last_up: Option<SimTime>,
    /// Recent proposals, for the scale-down stabilisation window.
    proposals: VecDeque<(SimTime, u32)>,
    /// Response times since the last evaluation (metric p99 only).
    pub latency: Option<LatencyStats>,
}

impl AutoscalerState {
    /// A fresh autoscaler; `p99` keeps a latency histogram.
    pub fn new(p99: bool) -> Self {
        AutoscalerState {
            busy_mark: 0,
            queued_mark: 0,
            available_mark: 0,
            last_up: None,
            proposals: VecDeque::new(),
            latency: p99.then(|| LatencyStats::with_digits(2)),
        }
    }
}

impl World<'_> {
    /// Schedules the first evaluation of `sid`'s autoscaler.
    pub(super) fn start_autoscaler(&mut self, sid: ServiceId, interval: SimTime) {
        if interval < self.model.duration {
            self.queue.push(interval, Event::Autoscale { service: sid });
        }
    }

    /// Records a response time of `sid` for a p99 autoscaler.
    #[inline]
    pub(super) fn note_response_time(&mut self, sid: ServiceId, ns: u64) {
        if let Some(Some(a)) = self.autoscalers.get_mut(sid as usize) {
            if let Some(h) = &mut a.latency {
                h.record(ns);
            }
        }
    }

    /// Evaluates `sid`'s autoscaler and schedules the next evaluation.
    pub(super) fn on_autoscale(&mut self, sid: ServiceId) {
        let model = self.model;
        let svc = &model.services[sid as usize];
        let conf = svc
            .autoscale
            .expect("autoscale events come from autoscalers");
        let now = self.now;
        let next = now.saturating_add(conf.interval);
        if next < model.duration {
            self.queue.push(next, Event::Autoscale { service: sid });
        }
        let m = &self.service_meters[sid as usize];
        let (busy, queued, available) = (
            m.busy.area_at(now),
            m.queued.area_at(now),
            m.available.area_at(now),
        );
        let (mut ready, mut starting, mut down, mut in_flight) = (0u32, 0u32, 0u32, 0u64);
        for r in self.slots(sid) {
            let rep = &self.replicas[r as usize];
            if rep.running() {
                ready += 1;
                in_flight += u64::from(rep.outstanding);
            } else if rep.present() && rep.starting {
                starting += 1;
            } else if rep.present() {
                down += 1;
            }
        }
        let a = self.autoscalers[sid as usize]
            .as_mut()
            .expect("autoscaler state");
        let d_available = available - a.available_mark;
        let measured = match conf.metric {
            Metric::Utilization => (d_available > 0).then(|| {
                (busy - a.busy_mark) as f64 / (d_available as f64 * f64::from(svc.concurrency))
            }),
            Metric::Queue => {
                (d_available > 0).then(|| (queued - a.queued_mark) as f64 / d_available as f64)
            }
            Metric::InFlight => (ready > 0).then(|| in_flight as f64 / f64::from(ready)),
            Metric::P99 => {
                let h = a.latency.as_mut().expect("p99 histogram");
                let q = h.quantile(0.99).map(|v| v as f64);
                h.reset();
                q
            }
        };
        a.busy_mark = busy;
        a.queued_mark = queued;
        a.available_mark = available;
        let desired = self.scaling.targets[sid as usize].desired;
        let Some(value) = measured else {
            return; // Nothing served: nothing to judge by.
        };
        if ready == 0 {
            return;
        }
        let ratio = value / conf.target;
        let proposal = if (ratio - 1.0).abs() <= conf.tolerance {
            desired
        } else {
            // Replicas that are down (crashed) serve nothing now but come
            // back: for a scale-down they count as loaded at the target,
            // and above the target the proposal never falls below the
            // desired count (as Kubernetes' HPA treats missing pods).
            let p = if ratio < 1.0 {
                (f64::from(ready) * ratio + f64::from(down)).ceil()
            } else {
                (f64::from(ready) * ratio).ceil().max(f64::from(desired))
            };
            if p >= f64::from(conf.max) {
                conf.max
            } else {
                (p as u32).clamp(conf.min, conf.max)
            }
        };
        a.proposals.push_back((now, proposal));
        while a
            .proposals
            .front()
            .is_some_and(|&(t, _)| t.saturating_add(conf.down_stabilization) < now)
        {
            a.proposals.pop_front();
        }
        let to = if proposal > desired {
            let cooling = a
                .last_up
                .is_some_and(|t| now < t.saturating_add(conf.up_cooldown));
            if cooling {
                return;
            }
            a.last_up = Some(now);
            proposal.min(desired.saturating_add(conf.max_step_up))
        } else if proposal < desired && starting == 0 {
            let floor = a.proposals.iter().map(|&(_, p)| p).max().unwrap_or(desired);
            floor
                .max(desired.saturating_sub(conf.max_step_down))
                .min(desired)
        } else {
            return;
        };
        let to = to.clamp(conf.min, conf.max);
        self.set_desired(sid, to, Reason::Autoscaler(value));
    }
}
