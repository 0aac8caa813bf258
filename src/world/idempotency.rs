//! Executions per logical call, and idempotency keys.
//!
//! A logical call is one call record with all its attempts (retries), or
//! one event with all its deliveries to a subscription (redeliveries).
//! When its callee is a tracked endpoint, the logical call gets an
//! execution record (an "op") that every attempt's invocation carries in
//! its parent. An execution is an invocation of the endpoint that
//! finished successfully: its side effect committed. A second execution
//! for the same op is a duplicate side effect (a double charge) unless the
//! endpoint is `idempotent`: callers then send the op as an idempotency
//! key, and the endpoint's unique-key check at commit turns the repeat
//! into a no-op that answers with the stored result (`deduplicated`).
//!
//! An op lives as long as something refers to it: the call record (or
//! delivery record) and every attempt's invocation, which may outlive the
//! call when a timed-out attempt keeps working. Slots are reused, so
//! memory is bounded by what is in flight.

use super::request::{InvId, Parent};
use super::World;
use crate::metrics::saga::ExecutionSummary;
use crate::model::{EndpointId, Model};
use indexmap::IndexMap;

/// No execution record: the callee is not tracked.
pub const NO_OP: u32 = u32::MAX;

/// One logical call's execution record.
#[derive(Debug, Clone, Copy)]
struct Op {
    /// The endpoint executed.
    endpoint: EndpointId,
    /// Successful executions (side effects committed) so far.
    executions: u32,
    /// References: the call or delivery record, and attempts alive.
    refs: u32,
    /// Started after the warm-up: counted in the meters.
    counted: bool,
}

/// Per-endpoint counters of executions.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExecutionMeter {
    /// Logical calls started after the warm-up.
    pub logical_calls: u64,
    /// Their successful executions.
    pub executions: u64,
    /// Executions beyond the first per logical call.
    pub duplicates: u64,
    /// Repeats suppressed by an idempotency key.
    pub deduplicated: u64,
}

/// The execution records and per-endpoint meters.
#[derive(Debug, Default)]
pub struct Ops {
    slots: Vec<Op>,
    free: Vec<u32>,
    /// Indexed by endpoint; all zeros for untracked endpoints.
    pub meters: Vec<ExecutionMeter>,
}

impl Ops {
    /// Empty records and zeroed meters for `model`'s endpoints.
    pub fn new(model: &Model) -> Self {
        Ops {
            slots: Vec::new(),
            free: Vec::new(),
            meters: if model.endpoints.iter().any(|e| e.tracked) {
                vec![ExecutionMeter::default(); model.endpoints.len()]
            } else {
                Vec::new()
            },
        }
    }

    /// Records alive (for tests of boundedness).
    pub fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

impl World<'_> {
    /// A new logical call of tracked endpoint `endpoint`, referenced once
    /// (by its call or delivery record; release it with
    /// [`World::release_op`]).
    pub(super) fn new_op(&mut self, endpoint: EndpointId, counted: bool) -> u32 {
        if counted {
            self.ops.meters[endpoint as usize].logical_calls += 1;
        }
        let op = Op {
            endpoint,
            executions: 0,
            refs: 1,
            counted,
        };
        match self.ops.free.pop() {
            Some(id) => {
                self.ops.slots[id as usize] = op;
                id
            }
            None => {
                self.ops.slots.push(op);
                (self.ops.slots.len() - 1) as u32
            }
        }
    }

    /// One more reference to `op` (an attempt's invocation); returns it.
    pub(super) fn acquire_op(&mut self, op: u32) -> u32 {
        if op != NO_OP {
            self.ops.slots[op as usize].refs += 1;
        }
        op
    }

    /// The op the next attempt of call `call` carries, with a reference
    /// taken for it.
    pub(super) fn attempt_op(&mut self, call: super::call::CallId) -> u32 {
        let op = self.calls.get(call).op;
        self.acquire_op(op)
    }

    /// Drops one reference to `op`; the record is freed with the last.
    pub(super) fn release_op(&mut self, op: u32) {
        if op == NO_OP {
            return;
        }
        let slot = &mut self.ops.slots[op as usize];
        slot.refs -= 1;
        if slot.refs == 0 {
            self.ops.free.push(op);
        }
    }

    /// Drops the reference an invocation with parent `parent` held.
    pub(super) fn release_parent_op(&mut self, parent: Parent) {
        match parent {
            Parent::Call { op, .. } | Parent::Delivery { op, .. } => self.release_op(op),
            _ => {}
        }
    }

    /// Invocation `id` of a tracked endpoint finished successfully: its
    /// side effect commits, once per logical call if it is idempotent.
    pub(super) fn note_execution(&mut self, id: InvId) {
        let op = match self.invs.get(id).parent {
            Parent::Call { op, .. } | Parent::Delivery { op, .. } => op,
            _ => NO_OP,
        };
        if op == NO_OP {
            return;
        }
        let rec = &mut self.ops.slots[op as usize];
        let idempotent = self.model.endpoints[rec.endpoint as usize].idempotent;
        let repeat = rec.executions > 0;
        if !(repeat && idempotent) {
            rec.executions += 1;
        }
        if !rec.counted {
            return;
        }
        let m = &mut self.ops.meters[rec.endpoint as usize];
        match (repeat, idempotent) {
            (true, true) => m.deduplicated += 1,
            (true, false) => {
                m.executions += 1;
                m.duplicates += 1;
            }
            (false, _) => m.executions += 1,
        }
    }

    /// Per tracked endpoint, its executions per logical call.
    pub fn execution_summaries(&self) -> IndexMap<String, ExecutionSummary> {
        self.model
            .endpoints
            .iter()
            .zip(&self.ops.meters)
            .filter(|(e, _)| e.tracked)
            .map(|(e, m)| {
                (
                    e.name.clone(),
                    ExecutionSummary {
                        idempotent: e.idempotent,
                        logical_calls: m.logical_calls,
                        executions: m.executions,
                        duplicates: m.duplicates,
                        deduplicated: m.deduplicated,
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::test_model;

    /// api.buy calls payment.charge (work `work`) under `policy`; the
    /// charge is tracked (as validation marks targets of retrying
    /// clients) and `idempotent` as given.
    fn model(policy: &str, work: &str, idempotent: bool, duration: &str) -> Model {
        let toml = format!(
            r#"
            name = "charges"
            [simulation]
            duration = "{duration}"
            [network]
            latency = {{ dist = "constant", value = "500us" }}
            [policies.p]
            {policy}
            [services.api]
            concurrency = 256
            [services.api.endpoints.buy]
            steps = [{{ call = "payment.charge", policy = "p" }}]
            [services.payment]
            concurrency = 256
            [services.payment.endpoints.charge]
            steps = [{{ work = {work} }}]
            [[workloads]]
            name = "buy"
            target = "api.buy"
            arrival = {{ process = "poisson", rate = 200 }}
            "#
        );
        let mut m = test_model(&toml);
        let charge = m.endpoint_id("payment.charge").expect("charge") as usize;
        m.endpoints[charge].tracked = true;
        m.endpoints[charge].idempotent = idempotent;
        m
    }

    /// Runs `model` to its end; the world's live op count at the end, and
    /// the most seen at any time, with the charge's summary.
    fn run(m: &Model) -> (usize, usize, ExecutionSummary) {
        let mut w = World::new(m);
        let mut most = 0;
        w.run_to(m.duration, |w| most = most.max(w.ops.live()));
        let s = w.execution_summaries();
        assert_eq!(s.len(), 1, "only the charge is tracked");
        (w.ops.live(), most, s["payment.charge"].clone())
    }

    const EXP_4MS: &str = r#"{ dist = "exponential", mean = "4ms" }"#;
    const RETRY: &str = r#"timeout = "5ms"
        retries = { attempts = 3 }"#;

    #[test]
    fn retries_past_a_timeout_repeat_a_non_idempotent_charge() {
        let (_, _, s) = run(&model(RETRY, EXP_4MS, false, "20s"));
        assert!(s.logical_calls > 3000, "{s:?}");
        // An attempt times out when the charge takes over 5ms minus the
        // 1ms of hops (p = e^-1 = 0.37), yet the charge commits: a call
        // charges 1 + p + p^2 = 1.5 times on average, 0.5 duplicates per
        // call, with a standard deviation of the mean under 0.7/sqrt(3000)
        // = 0.013 over 3000+ calls: 0.2 is over 20 deviations away.
        assert!(s.duplicates > s.logical_calls / 5, "{s:?}");
        assert_eq!(s.deduplicated, 0);
        assert!(s.executions >= s.duplicates + s.logical_calls * 9 / 10);
    }

    #[test]
    fn an_idempotency_key_absorbs_the_repeats() {
        let dup = run(&model(RETRY, EXP_4MS, false, "20s")).2;
        let (_, _, s) = run(&model(RETRY, EXP_4MS, true, "20s"));
        assert!(s.idempotent);
        assert_eq!(s.duplicates, 0);
        // The same draws (common random numbers): the same repeats, now
        // suppressed.
        assert_eq!(s.deduplicated, dup.duplicates, "{s:?} {dup:?}");
        assert_eq!(s.executions + s.deduplicated, dup.executions);
        assert!(s.executions <= s.logical_calls);
    }

    #[test]
    fn without_retries_there_are_no_duplicates() {
        let (_, _, s) = run(&model(r#"timeout = "5ms""#, EXP_4MS, false, "20s"));
        assert!(s.logical_calls > 3000, "{s:?}");
        assert_eq!(s.duplicates, 0);
        assert!(s.executions <= s.logical_calls);
    }

    #[test]
    fn the_records_stay_bounded_by_what_is_in_flight() {
        // Every attempt times out and keeps working: three charges per
        // call. About 200 calls/s each live ~25ms (3 attempts of 5ms and
        // the last one's 8ms of work): some 5-10 records at a time, never
        // thousands, however long the run.
        let work = r#"{ dist = "constant", value = "8ms" }"#;
        let (end, most, s) = run(&model(RETRY, work, false, "60s"));
        assert!(s.logical_calls > 10_000, "{s:?}");
        // Three executions per call, two of them duplicates, but for the
        // calls still in flight at the end (a few dozen at most).
        let firsts = s.executions - s.duplicates;
        assert!(
            firsts <= s.logical_calls && firsts + 30 >= s.logical_calls,
            "{s:?}"
        );
        assert!(s.executions <= 3 * s.logical_calls, "{s:?}");
        assert!(s.executions + 90 >= 3 * s.logical_calls, "{s:?}");
        assert!(most < 60, "{most} records alive at once");
        assert!(end < 60, "{end}");
    }
}
