//! The event loop: pops events in `(time, seq)` order and lets the
//! [`World`] handle them until the end of the run, then turns the meters
//! into a [`RunResult`].

use crate::engine::SimTime;
use crate::metrics::integral::mean_between;
use crate::metrics::resilience::{ClientMeter, FaultMeter};
use crate::metrics::timeseries::WorkloadMeter;
use crate::metrics::*;
use crate::model::capacity::capacity;
use crate::model::Model;
use crate::world::World;
use indexmap::IndexMap;

/// Safety limits that stop a run which cannot end well.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Invocations in flight beyond which a run is stopped: an overloaded
    /// system with unbounded queues would otherwise grow until memory runs
    /// out (each costs a few dozen bytes).
    pub max_in_flight: usize,
    /// Events at one instant beyond which the run is declared stuck (a
    /// loop of zero-time work and zero think time never advances the clock).
    pub max_events_at_one_instant: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_in_flight: 20_000_000,
            max_events_at_one_instant: 50_000_000,
        }
    }
}

/// Why a run could not complete.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// More than [`Limits::max_in_flight`] invocations in flight: the load
    /// outgrows the system.
    #[error("more than {limit} calls in flight at {at_s:.3}s of simulated time: the system cannot keep up with its load (see the capacity table); bound queues with queue_capacity or lower the load")]
    Overloaded {
        /// Simulated time at which the run stopped, in seconds.
        at_s: f64,
        /// The in-flight limit that was exceeded.
        limit: usize,
    },
    /// More than [`Limits::max_events_at_one_instant`] events without the
    /// clock advancing.
    #[error("simulated time stopped advancing at {at_s:.3}s: requests keep ending in the same instant they start (a closed workload with zero think time whose requests are rejected at once, or whose work and network latency are zero?)")]
    Stuck {
        /// Simulated time at which the clock stopped, in seconds.
        at_s: f64,
    },
}

/// A simulation in progress. Most users want [`run`]; stepping is for
/// tools that observe the run as it goes.
pub struct Simulation<'m> {
    world: World<'m>,
    events: u64,
    same_instant: u64,
    limits: Limits,
}

impl<'m> Simulation<'m> {
    /// A simulation of `model` at time 0 with its first events scheduled.
    pub fn new(model: &'m Model) -> Self {
        Self::with_limits(model, Limits::default())
    }

    /// Like [`Simulation::new`] with explicit safety limits.
    pub fn with_limits(model: &'m Model, limits: Limits) -> Self {
        Simulation {
            world: World::new(model),
            events: 0,
            same_instant: 0,
            limits,
        }
    }

    /// Current simulated time.
    pub fn now(&self) -> SimTime {
        self.world.now
    }

    /// Events handled so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Handles every event up to and including time `until`.
    pub fn run_until(&mut self, until: SimTime) -> Result<(), SimError> {
        while let Some(t) = self.world.queue.peek_time() {
            if t > until {
                break;
            }
            self.step()?;
        }
        Ok(())
    }

    /// Handles the next event, if any.
    #[inline]
    pub fn step(&mut self) -> Result<bool, SimError> {
        let Some((t, event)) = self.world.queue.pop() else {
            return Ok(false);
        };
        if t == self.world.now {
            self.same_instant += 1;
            if self.same_instant > self.limits.max_events_at_one_instant {
                return Err(SimError::Stuck {
                    at_s: t as f64 / 1e9,
                });
            }
        } else {
            self.same_instant = 0;
            // Checked when time moves, not per event: cheap and enough.
            if self.world.invs.live() > self.limits.max_in_flight {
                return Err(SimError::Overloaded {
                    at_s: t as f64 / 1e9,
                    limit: self.limits.max_in_flight,
                });
            }
        }
        self.world.now = t;
        self.events += 1;
        self.world.handle(event);
        Ok(true)
    }

    /// Records spans of the requests from now on and hands finished
    /// traces to `recorder` (see [`crate::trace`]). Tracing changes no
    /// result: it draws no random numbers and schedules no events.
    pub fn set_tracer(&mut self, recorder: crate::trace::recorder::Recorder) {
        self.world.tracer = Some(Box::new(recorder));
    }

    /// Like [`Simulation::finish`], also giving back the recorder set with
    /// [`Simulation::set_tracer`], for the caller to complete its output.
    pub fn finish_traced(mut self) -> (RunResult, Option<crate::trace::recorder::Recorder>) {
        let tracer = self.world.tracer.take().map(|t| *t);
        (self.finish(), tracer)
    }

    /// Closes the run at the model's duration and collects the results.
    pub fn finish(mut self) -> RunResult {
        let model = self.world.model;
        let end = model.duration;
        self.world.now = end;
        if self.world.windows.start < end {
            self.world.close_window();
        }
        self.world.close_outages(end);
        let measured = end - model.warmup;
        let secs = measured as f64 / 1e9;
        let w = &self.world;
        let workloads: IndexMap<String, WorkloadSummary> = model
            .workloads
            .iter()
            .zip(&w.workload_meters)
            .enumerate()
            .map(|(i, (wl, m))| {
                let failed: u64 = m.failures.iter().sum();
                let good = m.ok + m.degraded;
                let done = good + failed;
                // Every cause, zeros included: a stable schema for tools.
                let failures = model
                    .causes()
                    .iter()
                    .map(|c| (c.name().to_string(), m.failures[c.index()]))
                    .collect();
                let summary = WorkloadSummary {
                    target: model.endpoints[wl.target as usize].name.clone(),
                    requests: m.requests,
                    ok: m.ok,
                    degraded: m.degraded,
                    failed,
                    in_flight: m.in_flight,
                    availability: (done > 0).then(|| good as f64 / done as f64),
                    throughput_rps: good as f64 / secs,
                    latency_ms: m.latency.summary(),
                    failures,
                    outside_faults: w.outside_faults.get(i).map(|p| p.summary()),
                };
                (wl.name.clone(), summary)
            })
            .collect();
        let dependencies = dependencies(model, &w.client_meters, end);
        let entry = entry_requests(model, &w.workload_meters);
        let services = model
            .services
            .iter()
            .zip(&w.service_meters)
            .enumerate()
            .map(|(si, (s, m))| {
                // The clients calling this service.
                let callers = model
                    .clients
                    .iter()
                    .zip(dependencies.values())
                    .filter(move |(c, _)| c.callee as usize == si)
                    .map(|(_, d)| d);
                let scaling = w
                    .scaling
                    .on
                    .then(|| scaling_summary(&w.scaling.meters[si], m, end, measured));
                let replicas = match &scaling {
                    Some(sc) => sc.mean_replicas,
                    None => f64::from(s.replicas),
                };
                let workers = replicas * f64::from(s.concurrency);
                let busy = mean_between(m.busy_at_warmup, m.busy.area_at(end), measured);
                let summary = ServiceSummary {
                    replicas: s.replicas,
                    concurrency: s.concurrency,
                    requests: m.requests,
                    completed: m.completed,
                    rejected: m.rejected,
                    retry_amplification: (m.first_attempts > 0)
                        .then(|| m.requests as f64 / m.first_attempts as f64),
                    calls_per_entry_request: (entry[si] > 0)
                        .then(|| m.requests as f64 / entry[si] as f64),
                    shed: m.shed,
                    lost_in_crashes: m.lost,
                    unreachable: m.unreachable,
                    injected_errors: m.injected_errors,
                    abandoned: m.abandoned,
                    wasted_work_seconds: m.wasted_ns as f64 / 1e9,
                    crashes: m.crashes,
                    ejections: m.ejections,
                    breaker_opens: callers.clone().map(|d| d.breaker_opens).sum(),
                    breaker_open_seconds: callers
                        .map(|d| d.breaker_open_seconds)
                        .fold(0.0, |a, b| a + b),
                    mean_available_replicas: mean_between(
                        m.available_at_warmup,
                        m.available.area_at(end),
                        measured,
                    ),
                    utilization: if workers > 0.0 { busy / workers } else { 0.0 },
                    mean_busy_workers: busy,
                    mean_queue_length: mean_between(
                        m.queued_at_warmup,
                        m.queued.area_at(end),
                        measured,
                    ),
                    scaling,
                };
                (s.name.clone(), summary)
            })
            .collect();
        RunResult {
            summary: Summary {
                name: model.name.clone(),
                seed: model.seed,
                simulated_seconds: end as f64 / 1e9,
                warmup_seconds: model.warmup as f64 / 1e9,
                measured_seconds: secs,
                events: self.events,
                services,
                capacity: capacity(model),
                faults: faults(model, &w.fault_meters, &workloads),
                scaling: decisions(model, w),
                deploys: deploys(model, w, &workloads),
                workloads,
                dependencies,
                discovery: discovery(model, &self.world, end),
                cost: crate::metrics::cost::cost_summary(
                    model,
                    &w.service_meters,
                    w.workload_meters.iter().map(|m| m.ok + m.degraded).sum(),
                    end,
                ),
                messaging: self.world.messaging_summary(end),
                sagas: self.world.saga_summaries(end),
                executions: self.world.execution_summaries(),
                modules: crate::metrics::attribution::modules(model)
                    .into_iter()
                    .map(String::from)
                    .collect(),
                attribution: self.world.attribution_summary(),
            },
            percentiles: model
                .workloads
                .iter()
                .zip(&w.workload_meters)
                .map(|(wl, m)| (wl.name.clone(), m.latency.distribution()))
                .collect(),
            timeseries: self.world.windows.series,
        }
    }
}

/// Per client: its calls, attempts, failures and breaker.
fn dependencies(
    model: &Model,
    meters: &[ClientMeter],
    end: SimTime,
) -> IndexMap<String, DependencySummary> {
    let by_cause = |counts: &[u64]| -> IndexMap<String, u64> {
        model
            .causes()
            .iter()
            .map(|c| (c.name().to_string(), counts[c.index()]))
            .collect()
    };
    model
        .clients
        .iter()
        .zip(meters)
        .map(|(c, m)| {
            let mut open_ns = m.open_ns;
            if let Some(since) = m.not_closed_since {
                let from = since.max(model.warmup);
                open_ns += end.saturating_sub(from);
            }
            let summary = DependencySummary {
                caller: model.services[c.caller as usize].name.clone(),
                callee: model.services[c.callee as usize].name.clone(),
                policy: c.policy_name.clone(),
                calls: m.calls,
                attempts: m.attempts,
                retries: m.retries,
                retries_denied_by_budget: m.retries_denied,
                ok: m.ok,
                fallbacks: m.fallbacks,
                failed: m.failures.iter().sum(),
                failures: by_cause(&m.failures),
                attempt_failures: by_cause(&m.attempt_failures),
                breaker_opens: m.opens,
                breaker_state_changes: m.opens + m.half_opens + m.closes,
                breaker_open_seconds: open_ns as f64 / 1e9,
            };
            (c.name.clone(), summary)
        })
        .collect()
}

/// Per service: measured requests of the workloads whose calls reach it.
fn entry_requests(model: &Model, meters: &[WorkloadMeter]) -> Vec<u64> {
    let mut out = vec![0u64; model.services.len()];
    for (w, m) in model.workloads.iter().zip(meters) {
        for s in crate::model::graph::services_reached(model, w.target) {
            out[s] += m.requests;
        }
    }
    out
}

/// Per fault: its window, crashes, outages and blast radius.
fn faults(
    model: &Model,
    meters: &[FaultMeter],
    workloads: &IndexMap<String, WorkloadSummary>,
) -> Vec<FaultSummary> {
    model
        .faults
        .iter()
        .zip(meters)
        .map(|(f, m)| {
            let blast_radius = workloads
                .iter()
                .zip(&m.during)
                .map(|((name, ws), during)| {
                    let row = blast_row(during.summary(), ws.outside_faults.as_ref());
                    (name.clone(), row)
                })
                .collect();
            FaultSummary {
                name: f.name.clone(),
                kind: f.kind.name().to_string(),
                target: f.target.clone(),
                start_s: f.at as f64 / 1e9,
                end_s: f.until as f64 / 1e9,
                effect_end_s: f.effect_until as f64 / 1e9,
                crashes: m.crashes,
                outages: m
                    .outages
                    .iter()
                    .map(|&(replica, down, up)| Outage {
                        replica,
                        down_s: down as f64 / 1e9,
                        up_s: up as f64 / 1e9,
                    })
                    .collect(),
                blast_radius,
            }
        })
        .collect()
}

/// A workload's row of a blast radius: what it saw during a fault or
/// deploy (`during`) against outside every one (`base`), and a verdict.
pub(crate) fn blast_row(during: PeriodSummary, base: Option<&PeriodSummary>) -> BlastRow {
    let availability_change = match (during.availability, base.and_then(|b| b.availability)) {
        (Some(d), Some(b)) => Some(d - b),
        _ => None,
    };
    let p99_change_ms = match (during.p99_ms, base.and_then(|b| b.p99_ms)) {
        (Some(d), Some(b)) => Some(d - b),
        _ => None,
    };
    let p99_ratio = match (during.p99_ms, base.and_then(|b| b.p99_ms)) {
        (Some(d), Some(b)) if b > 0.0 => Some(d / b),
        _ => None,
    };
    let hung = |p: &PeriodSummary| {
        if p.issued == 0 {
            0.0
        } else {
            p.unfinished as f64 / p.issued as f64
        }
    };
    let impact = match base.filter(|b| b.issued > 0) {
        None => "no baseline",
        Some(b) => {
            let less_available = availability_change.is_some_and(|d| d <= -0.001)
                || hung(&during) - hung(b) >= 0.001;
            let slower = p99_ratio.is_some_and(|r| r >= 1.1);
            match (less_available, slower) {
                (false, false) => "unaffected",
                (true, false) => "less available",
                (false, true) => "slower",
                (true, true) => "less available, slower",
            }
        }
    };
    BlastRow {
        during,
        availability_change,
        p99_change_ms,
        impact: impact.to_string(),
    }
}

/// A service's replicas over the measured period.
fn scaling_summary(
    m: &crate::metrics::scaling::ReplicaMeter,
    sm: &crate::metrics::timeseries::ServiceMeter,
    end: SimTime,
    measured: SimTime,
) -> ScalingSummary {
    let area = sm.provisioned.area_at(end) - sm.provisioned_at_warmup;
    ScalingSummary {
        min_replicas: m.min,
        max_replicas: m.max,
        mean_replicas: mean_between(
            sm.provisioned_at_warmup,
            sm.provisioned.area_at(end),
            measured,
        ),
        replica_hours: area as f64 / 1e9 / 3600.0,
        final_replicas: sm.provisioned.value() as u32,
        scale_ups: m.scale_ups,
        scale_downs: m.scale_downs,
        replicas_started: m.started,
        replicas_drained: m.drained,
        drain_cutoffs: m.drain_cutoffs,
        lost_in_drain_cutoffs: m.lost_in_cutoffs,
    }
}

/// The log of desired-count changes.
fn decisions(model: &Model, w: &World) -> Vec<ScalingDecision> {
    use crate::metrics::scaling::Reason;
    w.scaling
        .decisions
        .iter()
        .map(|d| {
            let metric = model.services[d.service as usize]
                .autoscale
                .map(|a| a.metric);
            let measured = match d.reason {
                Reason::Schedule => None,
                Reason::Autoscaler(v) if metric == Some(crate::model::Metric::P99) => Some(v / 1e6),
                Reason::Autoscaler(v) => Some(v),
            };
            ScalingDecision {
                at_s: d.at as f64 / 1e9,
                service: model.services[d.service as usize].name.clone(),
                from: d.from,
                to: d.to,
                reason: match d.reason {
                    Reason::Schedule => "schedule",
                    Reason::Autoscaler(_) => "autoscaler",
                }
                .to_string(),
                measured,
            }
        })
        .collect()
}

/// Per deploy: its rollout and blast radius.
fn deploys(
    model: &Model,
    w: &World,
    workloads: &IndexMap<String, WorkloadSummary>,
) -> Vec<DeploySummary> {
    model
        .deploys
        .iter()
        .zip(&w.scaling.deploys)
        .filter(|(_, m)| m.started.is_some())
        .map(|(d, m)| DeploySummary {
            name: d.name.clone(),
            service: model.services[d.service as usize].name.clone(),
            start_s: d.at as f64 / 1e9,
            end_s: m.finished.filter(|_| !m.superseded).map(|t| t as f64 / 1e9),
            effect_end_s: m.effect_end.unwrap_or(model.duration).min(model.duration) as f64 / 1e9,
            batch: d.batch,
            surge: d.surge,
            old_replicas: m.old_replicas,
            new_replicas: m.new_replicas,
            superseded: m.superseded,
            error_rate: d.error_rate,
            bad_release_errors: m.bad_release_errors,
            blast_radius: workloads
                .iter()
                .zip(&m.during)
                .map(|((name, ws), during)| {
                    (
                        name.clone(),
                        blast_row(during.summary(), ws.outside_faults.as_ref()),
                    )
                })
                .collect(),
        })
        .collect()
}

/// Runs `model` from start to end. `model.duration` is positive (validated).
pub fn run(model: &Model) -> Result<RunResult, SimError> {
    let mut sim = Simulation::new(model);
    // The run covers [0, duration): what happens at the end instant itself
    // belongs to no window and could never complete.
    sim.run_until(model.duration - 1)?;
    Ok(sim.finish())
}

/// Like [`run`], calling `progress(now, events)` as simulated time
/// advances, about a thousand times over the run. The run goes through
/// the same events in the same order, so the result is identical to
/// [`run`]'s; only the loop is cut into slices of simulated time.
pub fn run_with_progress(
    model: &Model,
    progress: &mut dyn FnMut(SimTime, u64),
) -> Result<RunResult, SimError> {
    run_traced(model, progress, None).map(|(r, _)| r)
}

/// Like [`run_with_progress`], recording traces into `tracer` when given;
/// gives the recorder back for the caller to complete its output. The
/// result is identical with or without a tracer.
pub fn run_traced(
    model: &Model,
    progress: &mut dyn FnMut(SimTime, u64),
    tracer: Option<crate::trace::recorder::Recorder>,
) -> Result<(RunResult, Option<crate::trace::recorder::Recorder>), SimError> {
    let mut sim = Simulation::new(model);
    if let Some(t) = tracer {
        sim.set_tracer(t);
    }
    let last = model.duration - 1;
    let slice = (model.duration / 1000).max(1);
    let mut until: SimTime = 0;
    loop {
        until = until.saturating_add(slice).min(last);
        sim.run_until(until)?;
        progress(until, sim.events());
        if until == last {
            break;
        }
    }
    Ok(sim.finish_traced())
}

/// Discovery's registry and pairs, if the scenario uses discovery.
fn discovery(model: &Model, w: &World, end: SimTime) -> Option<DiscoverySummary> {
    if !model.uses_discovery() {
        return None;
    }
    let registry = model
        .registry
        .as_ref()
        .zip(w.registry.as_ref())
        .map(|(reg, st)| {
            let mut outage = st.outage_ns;
            if let Some(since) = st.down_since {
                outage += end.saturating_sub(since.max(model.warmup));
            }
            RegistrySummary {
                heartbeat_s: reg.heartbeat as f64 / 1e9,
                ttl_s: reg.ttl as f64 / 1e9,
                lookup_timeout_s: reg.lookup_timeout as f64 / 1e9,
                registrations: st.registrations,
                evictions: st.evictions,
                deregistrations: w.scaling.on.then_some(st.deregistrations),
                heartbeats_lost: st.heartbeats_lost,
                outage_seconds: outage as f64 / 1e9,
            }
        });
    let pairs = w
        .discovery
        .pairs
        .iter()
        .enumerate()
        .zip(&w.discovery_meters)
        .map(|((i, p), m)| {
            let caller = model.services[p.caller as usize].name.clone();
            let callee = model.services[p.callee as usize].name.clone();
            let cached = p.conf.mode == crate::model::Mode::Cached;
            let summary = DiscoveryPairSummary {
                mode: p.conf.mode.name().to_string(),
                attempts: m.attempts,
                cache_hit_rate: (cached && m.attempts > 0)
                    .then(|| m.hits as f64 / m.attempts as f64),
                stale_list_uses: m.stale_uses,
                lookups: m.lookups,
                lookup_failures: m.lookup_failures,
                lookup_latency_ms: m.lookup_latency.summary(),
                routed_to_dead: m.routed_dead,
                no_instance: m.no_instance,
                new_instances_discovered: m.discovered,
                discovery_lag_mean_ms: (m.discovered > 0)
                    .then(|| m.lag_sum as f64 / m.discovered as f64 / 1e6),
                discovery_lag_max_ms: (m.discovered > 0).then(|| m.lag_max as f64 / 1e6),
                new_instances_undiscovered: w.undiscovered(i),
                caller: caller.clone(),
                callee: callee.clone(),
            };
            (format!("{caller}->{callee}"), summary)
        })
        .collect();
    Some(DiscoverySummary { registry, pairs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::test_model as model;

    #[test]
    fn an_overloaded_run_stops_with_a_clear_error() {
        let m = model(
            r#"
            [simulation]
            duration = "1h"
            [services.s.endpoints.e]
            work = "10ms"
            [[workloads]]
            name = "w"
            target = "s.e"
            arrival = { process = "constant", rate = 1000 }
            "#,
        );
        let limits = Limits {
            max_in_flight: 10_000,
            ..Limits::default()
        };
        let mut sim = Simulation::with_limits(&m, limits);
        let err = sim.run_until(m.duration).unwrap_err();
        assert!(matches!(err, SimError::Overloaded { .. }), "{err}");
        // 1000/s in, 100/s out: 10,000 in flight after about 11 s.
        assert!(sim.now() < 12_000_000_000, "stopped at {}", sim.now());
    }

    #[test]
    fn a_zero_time_loop_is_detected() {
        let m = model(
            r#"
            [simulation]
            duration = "1s"
            [services.s.endpoints.e]
            work = "0s"
            [[workloads]]
            name = "w"
            target = "s.e"
            arrival = { process = "closed", users = 1, think = "0s" }
            "#,
        );
        let limits = Limits {
            max_events_at_one_instant: 1_000,
            ..Limits::default()
        };
        let err = Simulation::with_limits(&m, limits)
            .run_until(m.duration)
            .unwrap_err();
        assert!(matches!(err, SimError::Stuck { .. }), "{err}");
    }
}
