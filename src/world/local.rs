//! In-process calls (monolith mode): a call between two components of one
//! unit has no network hop, no balancer, no admission (queue or
//! rejection), no registry and no client policy. The callee's invocation
//! runs on its caller's replica and answers it at once.
//!
//! Workers: with blocking io the callee runs on its caller's worker (it
//! takes none of its own and frees none when it finishes; parallel
//! in-process calls run as concurrent tasks on that one worker). With
//! async io the caller gave its worker back before the calls, and the
//! callee takes a worker for each work step like any async request
//! (continuations go ahead of new requests).

use super::request::{InvId, Invocation, Parent};
use super::World;
use crate::model::{CallSite, Io};

impl World<'_> {
    /// Invocation `caller` calls `site.target` in-process.
    pub(super) fn local_call(&mut self, caller: InvId, site: CallSite) {
        let (replica, gen) = {
            let c = self.invs.get(caller);
            (c.replica, c.gen)
        };
        let mut inv = Invocation::new(
            site.target,
            Parent::Local {
                inv: caller,
                gen,
                optional: site.optional,
            },
        );
        inv.replica = replica;
        // Its time runs from the call (attribution, the saga's duration).
        inv.queued_at = self.now;
        let callee = self.invs.alloc(inv);
        self.span_local(caller, callee, site.target);
        if self.sagas.on && self.model.endpoints[site.target as usize].saga.is_some() {
            self.saga_admitted(callee);
        }
        self.ready.push_back(callee);
    }

    /// Whether `id`, holding no worker of its own, works on its caller's:
    /// an in-process call of a blocking unit.
    #[inline]
    pub(super) fn on_callers_worker(&self, id: InvId) -> bool {
        let inv = self.invs.get(id);
        matches!(inv.parent, Parent::Local { .. }) && {
            let sid = self.replicas[inv.replica as usize].service as usize;
            self.services[sid].io == Io::Blocking
        }
    }
}
