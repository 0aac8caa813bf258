//! In-flight invocations (one per call of an endpoint, the root one being a
//! workload's request), kept in a slab whose slots are reused, so memory is
//! bounded by what is in flight and the steady state allocates nothing.

use super::outcome::Cause;
use crate::engine::SimTime;
use crate::model::{EndpointId, WorkloadId};

/// Index of an invocation slot.
pub type InvId = u32;

/// Who is waiting for an invocation's answer.
#[derive(Debug, Clone, Copy)]
pub enum Parent {
    /// A workload's request, issued at `start`.
    Root {
        /// The workload that issued it.
        workload: WorkloadId,
        /// When it was issued: the start of its latency and the warm-up cut.
        start: SimTime,
    },
    /// Another invocation that called this one.
    Call {
        /// The calling invocation.
        inv: InvId,
    },
}

/// One execution of an endpoint's steps.
#[derive(Debug, Clone, Copy)]
pub struct Invocation {
    /// The endpoint whose steps it runs.
    pub endpoint: EndpointId,
    /// Global replica index, set on admission.
    pub replica: u32,
    /// The next step to run.
    pub step: u32,
    /// Downstream calls not yet answered.
    pub pending: u32,
    /// The first failure among the current step's calls.
    pub failure: Option<Cause>,
    /// Whether it currently occupies one of its replica's workers.
    pub holds_worker: bool,
    /// Who receives its outcome.
    pub parent: Parent,
}

/// Slab of invocations with a free list.
#[derive(Debug, Default)]
pub struct Invocations {
    slots: Vec<Invocation>,
    free: Vec<InvId>,
}

impl Invocations {
    /// Stores `inv`, reusing a free slot when there is one.
    #[inline]
    pub fn alloc(&mut self, inv: Invocation) -> InvId {
        if let Some(id) = self.free.pop() {
            self.slots[id as usize] = inv;
            id
        } else {
            self.slots.push(inv);
            (self.slots.len() - 1) as InvId
        }
    }

    /// Returns a slot to the free list.
    #[inline]
    pub fn release(&mut self, id: InvId) {
        self.free.push(id);
    }

    /// Number of live invocations.
    pub fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// The invocation in slot `id`.
    #[inline]
    pub fn get(&self, id: InvId) -> &Invocation {
        &self.slots[id as usize]
    }

    /// The invocation in slot `id`, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: InvId) -> &mut Invocation {
        &mut self.slots[id as usize]
    }
}
