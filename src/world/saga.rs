//! Orchestrated sagas: compensating the steps already done, in reverse,
//! when a later step fails.
//!
//! A saga is an endpoint with [`crate::model::Saga`] compensations: its
//! steps run as usual (the orchestrator is an ordinary invocation). When
//! a step fails ([`World::saga_step_failed`]), the invocation keeps the
//! original cause in `failure` and walks down the steps already done,
//! highest first: for each step `j` that has a compensating call it
//! makes that call (over the network with the compensation's own client
//! and policy, or in-process in a monolith), waits for its answer
//! ([`World::on_compensation_reply`]) and goes on below `j`. The
//! compensating calls hold the orchestrator's worker while they wait with
//! blocking io and release it with async io, like any call; they are
//! never compensated themselves. A compensation that fails (after the
//! retries of its policy, which the call machinery does) is counted and
//! the walk goes on: the other steps are still undone. When no step is
//! left the saga answers its caller with the original failure, and counts
//! as `compensated` if every compensation succeeded, else `inconsistent`.
//! A saga failing at its first step (nothing to compensate) is
//! `compensated` with zero compensations.
//!
//! During the walk, `Invocation::step` is the step being compensated and
//! `Invocation::saga` says whether a compensation failed so far
//! ([`COMPENSATING`], [`COMPENSATION_FAILED`]).
//!
//! Counting: a saga counts when it was admitted after the warm-up (its
//! `queued_at`), and is followed to its end, so `started = completed +
//! compensated + inconsistent + interrupted + in_flight`.

use super::outcome::{Cause, Outcome};
use super::request::InvId;
use super::World;
use crate::engine::SimTime;
use crate::metrics::latency::LatencyStats;
use crate::metrics::saga::SagaSummary;
use crate::model::{Io, Model, Saga};
use indexmap::IndexMap;

/// `Invocation::saga` while the saga runs its steps (the default of
/// every invocation).
pub const RUNNING: u8 = 0;
/// `Invocation::saga` while compensating, every compensation so far
/// having succeeded.
pub const COMPENSATING: u8 = 1;
/// `Invocation::saga` while compensating after some compensation failed.
pub const COMPENSATION_FAILED: u8 = 2;

/// `SagaState::index` of an endpoint that is not a saga.
const NOT_SAGA: u32 = u32::MAX;

/// The highest step below `below` that has a compensation: the next one
/// to undo. The walk of a saga that failed at step `k` is
/// `next(k), next(next(k)), ...` until `None`.
pub fn next_compensation(saga: &Saga, below: usize) -> Option<usize> {
    saga.compensations[..below.min(saga.compensations.len())]
        .iter()
        .rposition(Option::is_some)
}

/// How a saga ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Completed,
    Compensated,
    Inconsistent,
}

/// One saga endpoint's meters (sagas admitted after the warm-up).
#[derive(Debug)]
struct SagaMeter {
    started: u64,
    completed: u64,
    compensated: u64,
    inconsistent: u64,
    interrupted: u64,
    compensations: u64,
    compensation_failures: u64,
    /// Every ended saga's duration.
    duration: LatencyStats,
    /// Completed sagas' durations.
    completed_ns: LatencyStats,
    /// Compensated and inconsistent sagas' durations.
    compensated_ns: LatencyStats,
}

impl SagaMeter {
    fn new() -> Self {
        SagaMeter {
            started: 0,
            completed: 0,
            compensated: 0,
            inconsistent: 0,
            interrupted: 0,
            compensations: 0,
            compensation_failures: 0,
            duration: LatencyStats::new(),
            completed_ns: LatencyStats::new(),
            compensated_ns: LatencyStats::new(),
        }
    }
}

/// Saga meters per saga endpoint.
#[derive(Debug, Default)]
pub struct SagaState {
    /// Whether the model has any saga endpoint (else every hook is
    /// skipped and nothing is allocated).
    pub on: bool,
    /// Per endpoint: its index in `meters`, or [`NOT_SAGA`]; empty
    /// without sagas.
    index: Vec<u32>,
    /// Per saga endpoint, in model order.
    meters: Vec<SagaMeter>,
}

impl SagaState {
    /// Zeroed meters for `model`'s saga endpoints.
    pub fn new(model: &Model) -> Self {
        if model.endpoints.iter().all(|e| e.saga.is_none()) {
            return SagaState::default();
        }
        let mut meters = Vec::new();
        let index = model
            .endpoints
            .iter()
            .map(|e| {
                if e.saga.is_some() {
                    meters.push(SagaMeter::new());
                    (meters.len() - 1) as u32
                } else {
                    NOT_SAGA
                }
            })
            .collect();
        SagaState {
            on: true,
            index,
            meters,
        }
    }
}

impl World<'_> {
    /// The meter of saga invocation `id` if it counts (admitted after
    /// the warm-up).
    fn saga_meter(&mut self, id: InvId) -> Option<&mut SagaMeter> {
        let inv = self.invs.get(id);
        if inv.queued_at < self.model.warmup {
            return None;
        }
        let i = self.sagas.index[inv.endpoint as usize];
        debug_assert!(i != NOT_SAGA, "saga hook on a non-saga endpoint");
        self.sagas.meters.get_mut(i as usize)
    }

    /// Saga invocation `id` was admitted on a replica (or, in-process,
    /// called by another component): the saga starts. Its duration runs
    /// from now.
    pub(super) fn saga_admitted(&mut self, id: InvId) {
        // Admission already set it; an in-process call has no admission.
        self.invs.get_mut(id).queued_at = self.now;
        if let Some(m) = self.saga_meter(id) {
            m.started += 1;
        }
    }

    /// A step of saga invocation `id` failed with `cause`: compensate the
    /// steps done, or answer the failure when there are none.
    pub(super) fn saga_step_failed(&mut self, id: InvId, cause: Cause) {
        let inv = self.invs.get_mut(id);
        inv.saga = COMPENSATING;
        // `failure` keeps the original cause through the walk.
        inv.failure = Some(cause);
        let below = inv.step as usize;
        self.compensate_below(id, below);
    }

    /// A compensating call of invocation `id` answered.
    pub(super) fn on_compensation_reply(&mut self, id: InvId, outcome: Outcome) {
        let inv = self.invs.get_mut(id);
        inv.pending -= 1;
        let below = inv.step as usize;
        // Degraded: the compensation succeeded, with an optional call
        // further down skipped.
        if !outcome.succeeded() {
            inv.saga = COMPENSATION_FAILED;
            if let Some(m) = self.saga_meter(id) {
                m.compensation_failures += 1;
            }
        }
        self.compensate_below(id, below);
    }

    /// Calls the compensation of the highest step below `below` that has
    /// one; when none is left, answers the original failure.
    fn compensate_below(&mut self, id: InvId, below: usize) {
        let model = self.model;
        let inv = self.invs.get(id);
        let saga = model.endpoints[inv.endpoint as usize]
            .saga
            .as_ref()
            .expect("only saga endpoints compensate");
        let Some(j) = next_compensation(saga, below) else {
            let cause = inv.failure.expect("a compensating saga keeps its failure");
            return self.finish(id, Outcome::Failed(cause));
        };
        let site = saga.compensations[j].expect("next_compensation found one");
        let (replica, holds_worker) = (inv.replica, inv.holds_worker);
        let sid = self.replicas[replica as usize].service as usize;
        let inv = self.invs.get_mut(id);
        inv.step = j as u16;
        inv.pending = 1;
        if holds_worker && self.services[sid].io == Io::Async {
            self.invs.get_mut(id).holds_worker = false;
            self.free_worker(replica);
        }
        if let Some(m) = self.saga_meter(id) {
            m.compensations += 1;
        }
        if site.local {
            self.local_call(id, site);
        } else {
            self.call(id, site);
        }
    }

    /// Saga invocation `id` ends with `outcome` (called from `finish`).
    pub(super) fn saga_ended(&mut self, id: InvId, outcome: Outcome) {
        let inv = self.invs.get(id);
        let ep = &self.model.endpoints[inv.endpoint as usize];
        let end = match (inv.saga, outcome.succeeded()) {
            (RUNNING, true) => End::Completed,
            // Every step succeeded and an injected error failed the
            // orchestrator's own answer: the steps' effects stand.
            (RUNNING, false) if inv.step as usize >= ep.steps.len() => End::Completed,
            // A failure that did not go through the walk: steps done
            // with a compensation stay done.
            (RUNNING, false) => {
                let saga = ep.saga.as_ref().expect("saga endpoint");
                if saga.compensates_before(inv.step as usize) {
                    End::Inconsistent
                } else {
                    End::Compensated
                }
            }
            (COMPENSATING, _) => End::Compensated,
            _ => End::Inconsistent,
        };
        let d = self.now - inv.queued_at;
        let Some(m) = self.saga_meter(id) else {
            return;
        };
        m.duration.record(d);
        match end {
            End::Completed => {
                m.completed += 1;
                m.completed_ns.record(d);
            }
            End::Compensated => {
                m.compensated += 1;
                m.compensated_ns.record(d);
            }
            End::Inconsistent => {
                m.inconsistent += 1;
                m.compensated_ns.record(d);
            }
        }
    }

    /// Saga invocation `id`, admitted but still in its replica's queue,
    /// was shed: it ran no step, so it ends compensated with nothing to
    /// compensate.
    pub(super) fn saga_shed(&mut self, id: InvId) {
        self.saga_ended(id, Outcome::Failed(Cause::Shed));
    }

    /// Saga invocation `id` is lost in a crash of its replica.
    pub(super) fn saga_interrupted(&mut self, id: InvId) {
        if let Some(m) = self.saga_meter(id) {
            m.interrupted += 1;
        }
    }

    /// Per saga endpoint, how its sagas ended.
    pub fn saga_summaries(&self, _end: SimTime) -> IndexMap<String, SagaSummary> {
        let ms = |s: &LatencyStats| s.summary();
        self.model
            .endpoints
            .iter()
            .filter(|e| e.saga.is_some())
            .zip(&self.sagas.meters)
            .map(|(e, m)| {
                let ended = m.completed + m.compensated + m.inconsistent + m.interrupted;
                (
                    e.name.clone(),
                    SagaSummary {
                        started: m.started,
                        completed: m.completed,
                        compensated: m.compensated,
                        inconsistent: m.inconsistent,
                        interrupted: m.interrupted,
                        in_flight: m.started - ended,
                        compensations: m.compensations,
                        compensation_failures: m.compensation_failures,
                        duration_ms: ms(&m.duration),
                        completed_ms: ms(&m.completed_ns),
                        compensated_ms: ms(&m.compensated_ns),
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CallSite, Endpoint, Step};
    use crate::scenario::test_model;

    /// Runs `model` to its duration and returns the world.
    fn run(model: &Model) -> World<'_> {
        let mut w = World::new(model);
        run_on(&mut w, |_| {});
        w
    }

    /// Runs `w` to its duration, calling `after` after each event.
    fn run_on(w: &mut World<'_>, mut after: impl FnMut(&World<'_>)) {
        let until = w.model.duration;
        w.run_to(until, |w| after(w));
    }

    fn saga(layout: &[bool]) -> Saga {
        let site = CallSite {
            target: 0,
            client: 0,
            optional: false,
            local: false,
        };
        Saga {
            compensations: layout.iter().map(|&c| c.then_some(site)).collect(),
        }
    }

    /// The whole walk of a saga failing at step `failed`.
    fn walk(s: &Saga, failed: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut below = failed;
        while let Some(j) = next_compensation(s, below) {
            out.push(j);
            below = j;
        }
        out
    }

    #[test]
    fn the_walk_undoes_earlier_compensable_steps_highest_first() {
        // call, call, call (fails): both earlier calls, in reverse.
        let s = saga(&[true, true, false]);
        assert_eq!(walk(&s, 2), vec![1, 0]);
        assert_eq!(walk(&s, 1), vec![0]);
        // Failing at the first step: nothing to undo.
        assert_eq!(walk(&s, 0), Vec::<usize>::new());
        // work, call, parallel, call, call (fails): steps without a
        // compensation (work, parallel groups) are skipped.
        let s = saga(&[false, true, false, true, false]);
        assert_eq!(walk(&s, 4), vec![3, 1]);
        assert_eq!(walk(&s, 3), vec![1]);
        assert_eq!(walk(&s, 2), vec![1]);
        assert_eq!(walk(&s, 1), Vec::<usize>::new());
        // The failing step's own compensation is never run.
        let s = saga(&[true, false, true]);
        assert_eq!(walk(&s, 2), vec![0]);
        // Past the last step (e.g. every step done): everything.
        assert_eq!(walk(&s, 3), vec![2, 0]);
        assert_eq!(walk(&s, 99), vec![2, 0]);
        // No compensations at all.
        assert_eq!(walk(&saga(&[false, false]), 2), Vec::<usize>::new());
    }

    /// order.create: charge, reserve, ship, with refund and release as
    /// compensations of the first two, each in its own service so that
    /// their request counts tell them apart. `extra` is appended (faults,
    /// deployment).
    fn checkout(extra: &str) -> Model {
        let toml = format!(
            r#"
            name = "saga"
            [simulation]
            duration = "{{DUR}}"
            [network]
            latency = {{ dist = "constant", value = "1ms" }}
            [policies.comp]
            timeout = "1s"
            retries = {{ attempts = 3 }}
            [services.order]
            io = "{{IO}}"
            concurrency = 4
            [services.order.endpoints.create]
            steps = [
              {{ call = "payment.charge" }},
              {{ call = "inventory.reserve" }},
              {{ call = "shipping.ship" }},
            ]
            [services.order.endpoints.holder]
            steps = [
              {{ call = "refunds.refund", policy = "comp" }},
              {{ call = "releases.release", policy = "comp" }},
            ]
            [services.payment.endpoints.charge]
            steps = [{{ work = {{ dist = "constant", value = "2ms" }} }}]
            [services.inventory.endpoints.reserve]
            steps = [{{ work = {{ dist = "constant", value = "3ms" }} }}]
            [services.shipping.endpoints.ship]
            steps = [{{ work = {{ dist = "constant", value = "4ms" }} }}]
            [services.refunds.endpoints.refund]
            steps = [{{ work = {{ dist = "constant", value = "5ms" }} }}]
            [services.releases.endpoints.release]
            steps = [{{ work = {{ dist = "constant", value = "6ms" }} }}]
            [[workloads]]
            name = "checkout"
            target = "order.create"
            arrival = {{ process = "closed", users = 1, think = {{ dist = "constant", value = "10ms" }} }}
            {extra}
            "#
        );
        make_saga(test_model(
            &toml.replace("{DUR}", "2s").replace("{IO}", "blocking"),
        ))
    }

    /// Turns `order.create` into a saga whose compensations are the call
    /// sites of `order.holder` (never called itself: it only gives the
    /// compensations their clients).
    fn make_saga(mut m: Model) -> Model {
        let holder = m.endpoint_id("order.holder").expect("holder") as usize;
        let sites: Vec<CallSite> = m.endpoints[holder]
            .steps
            .iter()
            .map(|s| match s {
                Step::Call(c) => *c,
                _ => unreachable!("holder has calls only"),
            })
            .collect();
        let create = m.endpoint_id("order.create").expect("create") as usize;
        m.endpoints[create].saga = Some(Saga {
            compensations: vec![Some(sites[0]), Some(sites[1]), None],
        });
        m
    }

    fn service(m: &Model, name: &str) -> usize {
        m.services.iter().position(|s| s.name == name).expect(name)
    }

    fn endpoint<'a>(m: &'a Model, name: &str) -> &'a Endpoint {
        &m.endpoints[m.endpoint_id(name).expect(name) as usize]
    }

    fn summary(w: &World<'_>) -> SagaSummary {
        let s = w.saga_summaries(w.model.duration);
        assert_eq!(s.len(), 1);
        let s = s["order.create"].clone();
        assert_eq!(
            s.started,
            s.completed + s.compensated + s.inconsistent + s.interrupted + s.in_flight,
            "{s:?}"
        );
        s
    }

    /// Every worker is accounted for: a replica's busy count is the number
    /// of live invocations on it that hold a worker (none leaked by the
    /// compensation walk).
    fn assert_workers(w: &World<'_>) {
        let mut held = vec![0u32; w.replicas.len()];
        let mut ids = Vec::new();
        for r in 0..w.replicas.len() as u32 {
            ids.clear();
            w.invs.on_replica(r, &mut ids);
            held[r as usize] = ids.iter().filter(|&&i| w.invs.get(i).holds_worker).count() as u32;
        }
        let busy: Vec<u32> = w.replicas.iter().map(|r| r.busy).collect();
        assert_eq!(busy, held);
    }

    #[test]
    fn a_failing_last_step_compensates_the_earlier_ones_in_reverse() {
        let m = checkout(
            r#"[[faults]]
            kind = "errors"
            service = "shipping"
            probability = 1.0
            at = "0s""#,
        );
        let (refunds, releases) = (service(&m, "refunds"), service(&m, "releases"));
        let mut w = World::new(&m);
        // The order in which the compensating services receive calls.
        let mut seen = Vec::new();
        let mut last = (0, 0);
        run_on(&mut w, |w| {
            let now = (
                w.service_meters[refunds].win_requests,
                w.service_meters[releases].win_requests,
            );
            // Window counters reset each second: watch increments only.
            if now.0 > last.0 {
                seen.push("refund");
            }
            if now.1 > last.1 {
                seen.push("release");
            }
            last = now;
        });
        let s = summary(&w);
        assert!(s.started >= 40, "{s:?}");
        assert_eq!(s.completed, 0);
        assert_eq!(s.inconsistent, 0);
        assert_eq!(s.interrupted, 0);
        // One user: at most the last saga is still running.
        assert!(s.in_flight <= 1, "{s:?}");
        assert!(s.compensations >= 2 * s.compensated);
        assert!(s.compensations <= 2 * s.compensated + 2);
        assert_eq!(s.compensation_failures, 0);
        // Release (step 1's) always comes before refund (step 0's).
        for (i, pair) in seen.chunks(2).enumerate() {
            assert_eq!(pair[0], "release", "saga {i}: {seen:?}");
            if pair.len() == 2 {
                assert_eq!(pair[1], "refund", "saga {i}: {seen:?}");
            }
        }
        assert!(seen.len() as u64 >= 2 * s.compensated);
        // A compensated saga takes at least its steps' work, the failing
        // one's and the compensations' (2+3+4+6+5 ms) plus 10 hops of 1ms.
        let d = s.compensated_ms.expect("some compensated");
        assert!(d.p50 == 30.0 && d.max == 30.0, "{d:?}");
        assert!(s.completed_ms.is_none());
        assert_workers(&w);
        // The original cause reaches the workload, not the compensations'.
        let wl = &w.workload_meters[0];
        assert_eq!(wl.ok, 0);
        assert_eq!(wl.failures[Cause::InjectedError.index()], s.compensated);
    }

    #[test]
    fn sagas_without_failures_complete_and_take_their_steps_time() {
        let m = checkout("");
        let w = run(&m);
        let s = summary(&w);
        assert!(s.started >= 40);
        assert_eq!(s.completed + s.in_flight, s.started);
        assert_eq!(s.compensations, 0);
        // 2+3+4 ms of work and 6 hops of 1ms: 15ms exactly.
        let d = s.completed_ms.clone().expect("completed");
        assert!(
            (d.p50 - 15.0).abs() < 0.05 && (d.max - 15.0).abs() < 0.05,
            "{d:?}"
        );
        assert_eq!(s.duration_ms, s.completed_ms);
        assert!(s.compensated_ms.is_none());
        assert_workers(&w);
    }

    #[test]
    fn a_failing_compensation_leaves_the_saga_inconsistent_after_the_whole_walk() {
        let m = checkout(
            r#"[[faults]]
            kind = "errors"
            service = "shipping"
            probability = 1.0
            at = "0s"
            [[faults]]
            kind = "errors"
            service = "releases"
            probability = 1.0
            at = "0s""#,
        );
        let w = run(&m);
        let s = summary(&w);
        assert!(s.started > 20, "{s:?}");
        assert_eq!(s.compensated, 0);
        assert!(s.inconsistent + s.in_flight == s.started, "{s:?}");
        // Release fails (after its 3 attempts) in every saga; refund still
        // runs after it.
        assert!(s.compensation_failures >= s.inconsistent);
        assert!(s.compensations >= 2 * s.inconsistent);
        let refunds = service(&m, "refunds");
        let releases = service(&m, "releases");
        let (rf, rl) = (
            w.service_meters[refunds].requests,
            w.service_meters[releases].requests,
        );
        // Each release is retried: 3 attempts per compensation.
        assert!(
            rl >= 3 * s.inconsistent && rf >= s.inconsistent,
            "{rl} {rf}"
        );
        // The compensation client counted the retries.
        let client = endpoint(&m, "order.holder").steps[1].clone();
        let Step::Call(site) = client else {
            unreachable!()
        };
        let cm = &w.client_meters[site.client as usize];
        // (The last call may be in the middle of its attempts.)
        assert!(
            cm.retries <= 2 * cm.calls && cm.retries + 2 >= 2 * cm.calls,
            "{cm:?}"
        );
        assert_eq!(
            cm.failures[Cause::InjectedError.index()],
            s.compensation_failures
        );
        assert_workers(&w);
    }

    #[test]
    fn async_orchestrators_release_their_worker_while_compensating() {
        let toml_extra = r#"[[faults]]
            kind = "errors"
            service = "shipping"
            probability = 1.0
            at = "0s""#;
        let mut m = checkout(toml_extra);
        let order = service(&m, "order");
        m.services[order].io = Io::Async;
        let w = run(&m);
        let s = summary(&w);
        assert!(s.compensated >= 40 && s.inconsistent == 0, "{s:?}");
        assert_workers(&w);
        // The orchestrator holds a worker for none of its time (it has no
        // work steps).
        assert_eq!(w.service_meters[order].busy.area_at(w.now), 0);
    }

    #[test]
    fn a_crash_interrupts_the_sagas_on_the_replica_and_the_counts_add_up() {
        let m = checkout(
            r#"[[faults]]
            kind = "errors"
            service = "shipping"
            probability = 0.5
            at = "0s"
            [[faults]]
            kind = "random_crashes"
            service = "order"
            mtbf = "100ms"
            mttr = "20ms"
            at = "0s""#,
        );
        let w = run(&m);
        let s = summary(&w);
        assert!(s.interrupted > 0, "{s:?}");
        assert!(s.completed > 0 && s.compensated > 0, "{s:?}");
    }

    #[test]
    fn an_in_process_saga_in_a_monolith_compensates_too() {
        let extra = r#"[[faults]]
            kind = "errors"
            service = "shipping"
            endpoint = "ship"
            probability = 1.0
            at = "0s"
            [deployment]
            mode = "monolith""#;
        let m = checkout(extra);
        assert!(m.deployment.is_monolith());
        let create = endpoint(&m, "order.create");
        let comps = &create.saga.as_ref().expect("saga").compensations;
        assert!(comps[0].expect("refund").local);
        let w = run(&m);
        let s = summary(&w);
        assert!(s.started >= 40, "{s:?}");
        assert!(s.compensated + s.in_flight == s.started, "{s:?}");
        assert!(s.compensations >= 2 * s.compensated);
        // No hops in-process: 2+3+4 ms of steps, 6+5 ms of compensations.
        let d = s.compensated_ms.expect("compensated");
        assert!((d.p50 - 20.0).abs() < 0.05, "{d:?}");
        assert_workers(&w);
    }

    #[test]
    fn shed_sagas_end_compensated_with_nothing_to_compensate() {
        let mut m = checkout("");
        // One worker, 15ms a saga (66/s) under 200/s: the queue sheds.
        let order = service(&m, "order");
        m.services[order].concurrency = 1;
        m.services[order].shed_after = Some(5_000_000);
        m.workloads[0].arrival = crate::model::Arrival::Open {
            process: crate::model::OpenProcess::Poisson,
            rate: 200.0,
            schedule: Vec::new(),
        };
        let w = run(&m);
        let s = summary(&w);
        assert_eq!(s.compensations, 0);
        assert!(s.completed > 50 && s.compensated > 50, "{s:?}");
        assert_eq!(s.compensated, w.service_meters[order].shed, "{s:?}");
        assert_eq!(s.inconsistent + s.interrupted, 0);
    }

    #[test]
    fn warm_up_sagas_are_not_counted() {
        let mut m = checkout("");
        m.warmup = m.duration / 2;
        let all = summary(&run(&checkout("")));
        let w = run(&m);
        let s = summary(&w);
        assert!(s.started < all.started * 6 / 10 && s.started > all.started * 4 / 10);
    }
}
