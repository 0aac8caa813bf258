//! Calls in flight between an invocation and a callee: one record per
//! call, living across its attempts (retries), backoff waits and timeout.
//! Each attempt has a tag; replies and timers carry it, and a record whose
//! tag moved on (the attempt timed out, was retried, or the call ended)
//! ignores them. Records sit in a slab with reused slots.

use super::request::InvId;
use crate::model::CallSite;

/// Index of a call record.
pub type CallId = u32;

/// `CallRec::replica` when the attempt has not reached a replica.
pub const NO_REPLICA: u32 = u32::MAX;

/// `CallRec::callee` when the attempt has no invocation (it failed fast or
/// was dropped by a partition).
pub const NO_CALLEE: u32 = u32::MAX;

/// One call from an invocation to an endpoint, across its attempts.
#[derive(Debug, Clone, Copy)]
pub struct CallRec {
    /// The calling invocation.
    pub caller: InvId,
    /// Its generation when it made the call.
    pub caller_gen: u32,
    /// What is called and under which client.
    pub site: CallSite,
    /// Attempts started so far (1 = the first).
    pub attempt: u32,
    /// Tag of the current attempt; set by the slab.
    pub tag: u32,
    /// The current attempt's invocation ([`NO_CALLEE`] if none), and its
    /// generation.
    pub callee: InvId,
    /// See `callee`.
    pub callee_gen: u32,
    /// Global replica the current attempt was admitted to (or, with
    /// discovery, sent to), when outlier detection needs it.
    pub replica: u32,
    /// That replica's crash epoch then: which instance it was.
    pub replica_epoch: u32,
    /// The attempt holds a place in the client's bulkhead.
    pub in_bulkhead: bool,
    /// The attempt is a half-open breaker's trial call.
    pub trial: bool,
    /// Its client has no policy: attempts take the short path.
    pub plain: bool,
    /// The call started after the warm-up: its attempts and outcome count
    /// in the client's meters (all of them or none, so they add up).
    pub counted: bool,
    /// The logical call's execution record when the callee is a tracked
    /// endpoint ([`super::idempotency`]), else
    /// [`super::idempotency::NO_OP`]; every attempt carries it.
    pub op: u32,
    /// Whether the slot is in use; set by the slab.
    pub live: bool,
}

impl CallRec {
    /// A call from `caller` (of generation `caller_gen`) through `site`.
    #[inline]
    pub fn new(caller: InvId, caller_gen: u32, site: CallSite, plain: bool, counted: bool) -> Self {
        CallRec {
            caller,
            caller_gen,
            site,
            attempt: 0,
            tag: 0,
            callee: NO_CALLEE,
            callee_gen: 0,
            replica: NO_REPLICA,
            replica_epoch: 0,
            in_bulkhead: false,
            trial: false,
            plain,
            counted,
            op: super::idempotency::NO_OP,
            live: true,
        }
    }
}

/// Slab of call records.
#[derive(Debug, Default)]
pub struct Calls {
    slots: Vec<CallRec>,
    free: Vec<CallId>,
}

impl Calls {
    /// Stores `rec`; its tag continues from the slot's last one.
    #[inline]
    pub fn alloc(&mut self, mut rec: CallRec) -> CallId {
        rec.live = true;
        if let Some(id) = self.free.pop() {
            let slot = &mut self.slots[id as usize];
            rec.tag = slot.tag;
            *slot = rec;
            id
        } else {
            self.slots.push(rec);
            (self.slots.len() - 1) as CallId
        }
    }

    /// Moves the call to a new attempt tag: anything still carrying the
    /// old one is stale. Returns the new tag.
    #[inline]
    pub fn next_tag(&mut self, id: CallId) -> u32 {
        let s = &mut self.slots[id as usize];
        s.tag = s.tag.wrapping_add(1);
        s.tag
    }

    /// Frees the record; its tag moves on so late replies are stale.
    #[inline]
    pub fn release(&mut self, id: CallId) {
        let s = &mut self.slots[id as usize];
        debug_assert!(s.live, "double release of call {id}");
        s.live = false;
        s.tag = s.tag.wrapping_add(1);
        self.free.push(id);
    }

    /// Whether `id` is live and still on attempt `tag`.
    #[inline]
    pub fn is_current(&self, id: CallId, tag: u32) -> bool {
        let s = &self.slots[id as usize];
        s.live && s.tag == tag
    }

    /// The record in slot `id`.
    #[inline]
    pub fn get(&self, id: CallId) -> &CallRec {
        &self.slots[id as usize]
    }

    /// The record in slot `id`, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: CallId) -> &mut CallRec {
        &mut self.slots[id as usize]
    }

    /// Number of live records.
    pub fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Ids of the live records, in slot order, appended to `out` (crashes
    /// only: a scan of the slab).
    pub fn live_ids(&self, out: &mut Vec<CallId>) {
        out.extend(
            self.slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.live)
                .map(|(i, _)| i as CallId),
        );
    }
}
