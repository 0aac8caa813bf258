//! Span recording hooks: when the run writes traces (`World::tracer` is
//! set), every request's call attempts, registry lookups on the call
//! path, in-process calls and acked publishes become spans of its trace
//! (see [`crate::trace`]). The engine keeps, per invocation, call, lookup
//! and message slot, the [`SpanRef`] of the span it belongs to, in side
//! tables touched only when tracing; without a tracer every hook is one
//! `Option` check. Recording schedules nothing and draws nothing: a
//! traced run's results are identical to an untraced one's.

use super::call::CallId;
use super::outcome::{Cause, Outcome};
use super::request::InvId;
use super::World;
use crate::model::{EndpointId, WorkloadId};
use crate::trace::recorder::SpanRef;
use crate::trace::{SpanKind, SpanOutcome};

/// Per slot of the engine's slabs, the span it belongs to.
#[derive(Debug, Default)]
pub struct SpanTables {
    /// Per invocation: its span (the root span, or the attempt, local call,
    /// lookup or publish span it serves).
    invs: Vec<SpanRef>,
    /// Per call: the current attempt's span.
    calls: Vec<SpanRef>,
    /// Per lookup record: its span, for a lookup on a call's path.
    lookups: Vec<SpanRef>,
    /// Per message: an acked publish's span.
    msgs: Vec<SpanRef>,
}

/// Entry `id` of `t`, grown with the slab it follows.
#[inline]
fn entry(t: &mut Vec<SpanRef>, id: u32) -> &mut SpanRef {
    let i = id as usize;
    if i >= t.len() {
        t.resize(i + 1, SpanRef::NONE);
    }
    &mut t[i]
}

/// Entry `id` of `t`, taken out (left none).
#[inline]
fn take(t: &mut [SpanRef], id: u32) -> SpanRef {
    t.get_mut(id as usize)
        .map_or(SpanRef::NONE, |s| std::mem::replace(s, SpanRef::NONE))
}

/// A span's outcome for an invocation's or attempt's outcome.
#[inline]
pub fn span_outcome(o: Outcome) -> SpanOutcome {
    match o {
        Outcome::Ok => SpanOutcome::Ok,
        Outcome::Degraded => SpanOutcome::Degraded,
        Outcome::Failed(c) => SpanOutcome::Failed(c),
    }
}

impl World<'_> {
    /// A request of `workload` arrived at `endpoint` as invocation `id`:
    /// its trace's root span.
    pub(super) fn span_root(&mut self, id: InvId, workload: WorkloadId, endpoint: EndpointId) {
        let measured = self.measuring();
        let now = self.now;
        if let Some(t) = self.tracer.as_mut() {
            let s = t.open_root(workload, endpoint, now, measured);
            *entry(&mut self.spans.invs, id) = s;
        }
    }

    /// Invocation `id` was admitted to global replica `replica`.
    #[inline]
    pub(super) fn span_admitted(&mut self, id: InvId, replica: u32) {
        if let Some(t) = self.tracer.as_mut() {
            let s = self.spans.invs.get(id as usize).copied();
            if let Some(span) = s.and_then(|s| t.span_mut(s)) {
                span.replica = replica;
            }
        }
    }

    /// Invocation `id`, which arrived at `arrived`, holds a worker now: the
    /// first time, that is its span's queue wait.
    #[inline]
    pub(super) fn span_worker(&mut self, id: InvId, arrived: u64) {
        if let Some(t) = self.tracer.as_mut() {
            let now = self.now;
            let s = self.spans.invs.get(id as usize).copied();
            if let Some(span) = s.and_then(|s| t.span_mut(s)) {
                if span.queue_wait.is_none() {
                    span.queue_wait = Some(now.saturating_sub(arrived));
                }
            }
        }
    }

    /// Invocation `id` ends (answers or is lost): its span ref is taken
    /// out of the table (so a reused slot starts clean).
    #[inline]
    pub(super) fn span_take_inv(&mut self, id: InvId) -> SpanRef {
        if self.tracer.is_none() {
            return SpanRef::NONE;
        }
        take(&mut self.spans.invs, id)
    }

    /// The request whose root span is `s` ended with `outcome`.
    #[inline]
    pub(super) fn span_finish_root(&mut self, s: SpanRef, outcome: Outcome) {
        let now = self.now;
        if let Some(t) = self.tracer.as_mut() {
            t.finish_root(s, now, span_outcome(outcome));
        }
    }

    /// Closes span `s` now with `outcome` (in-process calls).
    #[inline]
    pub(super) fn span_close(&mut self, s: SpanRef, outcome: Outcome) {
        let now = self.now;
        if let Some(t) = self.tracer.as_mut() {
            t.close(s, now, span_outcome(outcome));
        }
    }

    /// Attempt `attempt` of call `call` starts: a child span of its
    /// caller's (a compensation when the caller is compensating).
    #[inline]
    pub(super) fn span_attempt(&mut self, call: CallId) {
        if self.tracer.is_none() {
            return;
        }
        let rec = self.calls.get(call);
        let (caller, endpoint, attempt) = (rec.caller, rec.site.target, rec.attempt);
        let kind = if self.invs.get(caller).saga != 0 {
            SpanKind::Compensation
        } else {
            SpanKind::Call
        };
        let parent = self
            .spans
            .invs
            .get(caller as usize)
            .copied()
            .unwrap_or(SpanRef::NONE);
        let now = self.now;
        let t = self.tracer.as_mut().expect("checked");
        let s = t.open(parent, kind, endpoint, attempt, now);
        *entry(&mut self.spans.calls, call) = s;
    }

    /// Call `call`'s current attempt was sent as invocation `callee`: the
    /// callee serves the attempt's span.
    #[inline]
    pub(super) fn span_sent(&mut self, call: CallId, callee: InvId) {
        if self.tracer.is_none() {
            return;
        }
        let s = self
            .spans
            .calls
            .get(call as usize)
            .copied()
            .unwrap_or(SpanRef::NONE);
        *entry(&mut self.spans.invs, callee) = s;
    }

    /// Call `call`'s current attempt ended with `outcome`.
    #[inline]
    pub(super) fn span_end_attempt(&mut self, call: CallId, outcome: Outcome) {
        let now = self.now;
        if let Some(t) = self.tracer.as_mut() {
            let s = take(&mut self.spans.calls, call);
            t.close(s, now, span_outcome(outcome));
        }
    }

    /// Call `call` is over or orphaned: forget its span.
    #[inline]
    pub(super) fn span_forget_call(&mut self, call: CallId) {
        if self.tracer.is_some() {
            take(&mut self.spans.calls, call);
        }
    }

    /// Invocation `caller` calls in-process; `callee` serves the call.
    #[inline]
    pub(super) fn span_local(&mut self, caller: InvId, callee: InvId, endpoint: EndpointId) {
        if self.tracer.is_none() {
            return;
        }
        let parent = self
            .spans
            .invs
            .get(caller as usize)
            .copied()
            .unwrap_or(SpanRef::NONE);
        let replica = self.invs.get(caller).replica;
        let now = self.now;
        let t = self.tracer.as_mut().expect("checked");
        let s = t.open(parent, SpanKind::Local, endpoint, 1, now);
        if let Some(span) = t.span_mut(s) {
            span.replica = replica;
        }
        *entry(&mut self.spans.invs, callee) = s;
    }

    /// Lookup record `lookup` starts for call `call`'s attempt, served by
    /// registry invocation `inv` (none when a partition stops it).
    #[inline]
    pub(super) fn span_lookup(
        &mut self,
        lookup: u32,
        call: CallId,
        inv: Option<InvId>,
        endpoint: EndpointId,
    ) {
        if self.tracer.is_none() {
            return;
        }
        let parent = self
            .spans
            .calls
            .get(call as usize)
            .copied()
            .unwrap_or(SpanRef::NONE);
        let now = self.now;
        let t = self.tracer.as_mut().expect("checked");
        let s = t.open(parent, SpanKind::Lookup, endpoint, 1, now);
        *entry(&mut self.spans.lookups, lookup) = s;
        if let Some(inv) = inv {
            *entry(&mut self.spans.invs, inv) = s;
        }
    }

    /// Lookup record `lookup` ended (answered `ok`, failed or, with
    /// `timeout`, gave up).
    #[inline]
    pub(super) fn span_lookup_done(&mut self, lookup: u32, ok: bool, timeout: bool) {
        let now = self.now;
        if let Some(t) = self.tracer.as_mut() {
            let s = take(&mut self.spans.lookups, lookup);
            let outcome = match (ok, timeout) {
                (true, _) => SpanOutcome::Ok,
                (false, true) => SpanOutcome::Failed(Cause::Timeout),
                (false, false) => SpanOutcome::Failed(Cause::ConnectionFailed),
            };
            t.close(s, now, outcome);
        }
    }

    /// Invocation `id` publishes message `msg` and waits for the ack, to
    /// the broker's `endpoint`.
    #[inline]
    pub(super) fn span_publish(&mut self, id: InvId, msg: u32, endpoint: EndpointId) {
        if self.tracer.is_none() {
            return;
        }
        let parent = self
            .spans
            .invs
            .get(id as usize)
            .copied()
            .unwrap_or(SpanRef::NONE);
        let now = self.now;
        let t = self.tracer.as_mut().expect("checked");
        let s = t.open(parent, SpanKind::Publish, endpoint, 1, now);
        *entry(&mut self.spans.msgs, msg) = s;
    }

    /// Message `msg` was sent as broker invocation `inv`.
    #[inline]
    pub(super) fn span_publish_sent(&mut self, msg: u32, inv: InvId) {
        if self.tracer.is_none() {
            return;
        }
        let s = self
            .spans
            .msgs
            .get(msg as usize)
            .copied()
            .unwrap_or(SpanRef::NONE);
        *entry(&mut self.spans.invs, inv) = s;
    }

    /// Acked publish `msg` ended with `outcome`.
    #[inline]
    pub(super) fn span_publish_done(&mut self, msg: u32, outcome: Outcome) {
        let now = self.now;
        if let Some(t) = self.tracer.as_mut() {
            let s = take(&mut self.spans.msgs, msg);
            t.close(s, now, span_outcome(outcome));
        }
    }
}
