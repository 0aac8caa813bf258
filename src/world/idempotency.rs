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
