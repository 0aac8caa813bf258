//! In-flight invocations (one per call attempt of an endpoint, the root one
//! being a workload's request), kept in a slab whose slots are reused, so
//! memory is bounded by what is in flight and the steady state allocates
//! nothing. Each slot has a generation, bumped when it is freed, so events
//! for an invocation that died meanwhile (a crash) are recognised as stale.

use super::call::CallId;
use super::outcome::Cause;
use crate::engine::SimTime;
use crate::model::{EndpointId, WorkloadId};

/// Index of an invocation slot.
pub type InvId = u32;

/// `Invocation::replica` before admission.
pub const NOT_ADMITTED: u32 = u32::MAX;

/// `Invocation::target` when the callee's balancer chooses the replica.
pub const NO_TARGET: u32 = u32::MAX;

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
    /// One attempt of a call: the answer goes to the call record `call`
    /// if it is still on attempt `tag`.
    Call {
        /// The call record.
        call: CallId,
        /// The attempt's tag (see [`super::call::Calls`]).
        tag: u32,
        /// The logical call's execution record when the callee is a
        /// tracked endpoint ([`super::idempotency`]), else
        /// [`super::idempotency::NO_OP`].
        op: u32,
    },
    /// An in-process call (monolith mode): the answer goes straight to
    /// invocation `inv` on the same replica, if it is still of generation
    /// `gen` (it may have been lost in a crash).
    Local {
        /// The calling invocation.
        inv: InvId,
        /// Its generation when it made the call.
        gen: u32,
        /// A failure does not fail the caller, whose answer becomes
        /// degraded (the call site's `optional`).
        optional: bool,
    },
    /// A registry lookup (see [`super::discovery`]): the answer goes to
    /// lookup record `lookup` if it is still at `tag`.
    Lookup {
        /// The lookup record.
        lookup: u32,
        /// Its tag.
        tag: u32,
    },
    /// A publish at the broker (see [`super::messaging`]): when it
    /// finishes, the broker stores message `msg` if the message is still
    /// at `tag` (the attempt), and the ack goes back to its publisher.
    Publish {
        /// The message record.
        msg: u32,
        /// Its tag (attempt).
        tag: u32,
    },
    /// A subscription's handler of one delivery of an event (see
    /// [`super::messaging`]): the outcome goes to delivery record
    /// `delivery` if it is still at `tag`.
    Delivery {
        /// The delivery record.
        delivery: u32,
        /// Its tag (delivery attempt).
        tag: u32,
        /// The event's execution record when the handler is tracked, else
        /// [`super::idempotency::NO_OP`].
        op: u32,
    },
}

/// One execution of an endpoint's steps.
#[derive(Debug, Clone, Copy)]
pub struct Invocation {
    /// The endpoint whose steps it runs.
    pub endpoint: EndpointId,
    /// Global replica index, set on admission ([`NOT_ADMITTED`] before).
    pub replica: u32,
    /// The next step to run (the validator allows at most 10,000 steps
    /// per endpoint and calls per parallel group, so 16 bits keep an
    /// invocation within one cache line).
    pub step: u16,
    /// Downstream calls not yet answered.
    pub pending: u16,
    /// The slot's generation; set by the slab.
    pub gen: u32,
    /// The replica the caller chose through discovery ([`NO_TARGET`]
    /// without discovery), and the epoch of the instance it meant: if the
    /// slot has crashed since, the instance is dead.
    pub target: u32,
    /// See `target`.
    pub target_epoch: u32,
    /// The first failure among the current step's calls.
    pub failure: Option<Cause>,
    /// Whether it currently occupies one of its replica's workers.
    pub holds_worker: bool,
    /// An optional call failed on the way: the answer will be degraded.
    pub degraded: bool,
    /// A retry (not the first attempt of its call).
    pub retry: bool,
    /// Saga state ([`super::saga`]): 0 running its steps, otherwise
    /// compensating (see the saga module's constants).
    pub saga: u8,
    /// Whether the slot is in use; set by the slab.
    pub live: bool,
    /// Work time sampled for its own work steps, in ns.
    pub work: u64,
    /// When it joined its replica's queue (for load shedding).
    pub queued_at: SimTime,
    /// Who receives its outcome.
    pub parent: Parent,
}

impl Invocation {
    /// A new, unadmitted invocation of `endpoint` answering `parent`.
    #[inline]
    pub fn new(endpoint: EndpointId, parent: Parent) -> Self {
        Invocation {
            endpoint,
            replica: NOT_ADMITTED,
            step: 0,
            pending: 0,
            gen: 0,
            target: NO_TARGET,
            target_epoch: 0,
            failure: None,
            holds_worker: false,
            degraded: false,
            retry: false,
            saga: 0,
            live: true,
            work: 0,
            queued_at: 0,
            parent,
        }
    }
}

/// Slab of invocations with a free list.
#[derive(Debug, Default)]
pub struct Invocations {
    slots: Vec<Invocation>,
    free: Vec<InvId>,
}

impl Invocations {
    /// Stores `inv`, reusing a free slot when there is one; the slot's
    /// generation carries over.
    #[inline]
    pub fn alloc(&mut self, mut inv: Invocation) -> InvId {
        inv.live = true;
        if let Some(id) = self.free.pop() {
            let slot = &mut self.slots[id as usize];
            inv.gen = slot.gen;
            *slot = inv;
            id
        } else {
            inv.gen = 0;
            self.slots.push(inv);
            (self.slots.len() - 1) as InvId
        }
    }

    /// Returns a slot to the free list and bumps its generation.
    #[inline]
    pub fn release(&mut self, id: InvId) {
        let slot = &mut self.slots[id as usize];
        debug_assert!(slot.live, "double release of invocation {id}");
        slot.live = false;
        slot.gen = slot.gen.wrapping_add(1);
        self.free.push(id);
    }

    /// Whether slot `id` still holds the invocation of generation `gen`.
    #[inline]
    pub fn is_current(&self, id: InvId, gen: u32) -> bool {
        let s = &self.slots[id as usize];
        s.live && s.gen == gen
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

    /// Ids of the live invocations admitted to global replica `r`, in slot
    /// order, appended to `out`. A scan of the slab: used on crashes only.
    pub fn on_replica(&self, r: u32, out: &mut Vec<InvId>) {
        out.extend(
            self.slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.live && s.replica == r)
                .map(|(i, _)| i as InvId),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_mark_reused_slots_stale() {
        let mut s = Invocations::default();
        let root = Parent::Root {
            workload: 0,
            start: 0,
        };
        let a = s.alloc(Invocation::new(0, root));
        let gen = s.get(a).gen;
        assert!(s.is_current(a, gen));
        s.release(a);
        assert!(!s.is_current(a, gen));
        let b = s.alloc(Invocation::new(1, root));
        assert_eq!(a, b, "the slot is reused");
        assert!(
            !s.is_current(b, gen),
            "an old event must not see the new invocation"
        );
        assert!(s.is_current(b, s.get(b).gen));
        assert_eq!(s.live(), 1);
    }
}
