//! Span recording hooks: when the run writes traces (`World::tracer` is
//! set), every request's call attempts, registry lookups on the call
//! path (children of the calling invocation's span, beside the attempt
//! they serve), in-process calls and acked publishes become spans of its
//! trace (see [`crate::trace`]). The engine keeps, per invocation, call, lookup
//! and message slot, the [`SpanRef`] of the span it belongs to, in side
//! tables touched only when tracing; without a tracer every hook is one
//! `Option` check. Recording schedules nothing and draws nothing: a
//! traced run's results are identical to an untraced one's.

use super::call::{CallId, NO_CALLEE};
use super::outcome::{Cause, Outcome};
use super::request::{InvId, NOT_ADMITTED};
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

/// Entry `id` of `t` (none past its end).
#[inline]
fn get(t: &[SpanRef], id: u32) -> SpanRef {
    t.get(id as usize).copied().unwrap_or(SpanRef::NONE)
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

    /// Invocation `id` was admitted to global replica `replica` (refused
    /// by it, too: the span names the replica all the same), and, with
    /// `worker`, got a worker at once (a queue wait of zero). One look-up
    /// for both: admission is the hottest of the hooks.
    #[inline]
    pub(super) fn span_admitted(&mut self, id: InvId, replica: u32, worker: bool) {
        if let Some(t) = self.tracer.as_mut() {
            if let Some(span) = t.span_mut(get(&self.spans.invs, id)) {
                span.replica = replica;
                if worker && span.queue_wait.is_none() && span.outcome == SpanOutcome::Open {
                    span.queue_wait = Some(0);
                }
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
                // Not once the attempt is over (timed out while the
                // callee was still queued): its wait until then was
                // recorded as the span closed, and a queue wait lies
                // within its span.
                if span.queue_wait.is_none() && span.outcome == SpanOutcome::Open {
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
        let kind = if self.sagas.on && self.invs.get(caller).saga != 0 {
            SpanKind::Compensation
        } else {
            SpanKind::Call
        };
        let parent = get(&self.spans.invs, caller);
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
        let s = get(&self.spans.calls, call);
        *entry(&mut self.spans.invs, callee) = s;
    }

    /// Call `call`'s current attempt ended with `outcome`. If its callee
    /// is still queued at a replica (admitted, no worker yet: the attempt
    /// timed out while it waited), the span's queue wait is the time it
    /// waited so far, which lies within the span (the callee arrived after
    /// the attempt started).
    #[inline]
    pub(super) fn span_end_attempt(&mut self, call: CallId, outcome: Outcome) {
        let now = self.now;
        if let Some(t) = self.tracer.as_mut() {
            let s = take(&mut self.spans.calls, call);
            if let Some(span) = t.span_mut(s) {
                span.end = now;
                span.outcome = span_outcome(outcome);
                let rec = self.calls.get(call);
                if span.queue_wait.is_none()
                    && rec.callee != NO_CALLEE
                    && self.invs.is_current(rec.callee, rec.callee_gen)
                {
                    let inv = self.invs.get(rec.callee);
                    if inv.replica != NOT_ADMITTED && !inv.holds_worker {
                        span.queue_wait = Some(now.saturating_sub(inv.queued_at));
                    }
                }
            }
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
        let parent = get(&self.spans.invs, caller);
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
    /// registry invocation `inv` (none when a partition stops it). The
    /// lookup is the caller's work before it sends the attempt: a child of
    /// the caller's span (beside the attempt's), naming the service looked
    /// up.
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
        let rec = self.calls.get(call);
        let parent = get(&self.spans.invs, rec.caller);
        let target = self.model.endpoints[rec.site.target as usize].service;
        let now = self.now;
        let t = self.tracer.as_mut().expect("checked");
        let s = t.open(parent, SpanKind::Lookup, endpoint, 1, now);
        if let Some(span) = t.span_mut(s) {
            span.lookup_for = target;
        }
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
        let parent = get(&self.spans.invs, id);
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
        let s = get(&self.spans.msgs, msg);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::trace::recorder::Recorder;
    use crate::trace::{Span, Trace, TraceConfig, TraceSink, NO_PARENT};

    /// A sink that drops everything: these tests look at spans in flight.
    struct Null;

    impl TraceSink for Null {
        fn write(&mut self, _: &Model, _: &Trace) -> std::io::Result<()> {
            Ok(())
        }
        fn finish(&mut self, _: &Model) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn recorder(m: &Model) -> Recorder {
        let config = TraceConfig {
            sample: 1.0,
            keep: 5,
        };
        Recorder::new(m, config, Box::new(Null))
    }

    fn bundled(name: &str, sets: &[&str]) -> Model {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name);
        let sets: Vec<_> = sets
            .iter()
            .map(|s| crate::scenario::Override::parse(s).unwrap())
            .collect();
        crate::scenario::load(&path, &sets).unwrap().model
    }

    /// The span `s` refers to and its parent (if recorded).
    fn with_parent(w: &mut World, s: SpanRef) -> Option<(Span, Option<Span>)> {
        let t = w.tracer.as_mut().unwrap();
        let span = *t.span_mut(s)?;
        let parent = (span.parent != NO_PARENT).then(|| {
            *t.span_mut(SpanRef {
                span: span.parent,
                ..s
            })
            .expect("a recorded span's parent is recorded")
        });
        Some((span, parent))
    }

    /// Checks the spans of everything in flight: attempts are open
    /// children of their caller's span with the call's attempt number,
    /// started no earlier than it; lookups for a call are children of the
    /// same span, started with the attempt; invocations serve spans that
    /// started by now, on the replica they were admitted to.
    /// Returns how many spans it checked.
    fn check(w: &mut World) -> usize {
        let now = w.now;
        let mut checked = 0;
        for c in 0..w.spans.calls.len() as u32 {
            let s = w.spans.calls[c as usize];
            if s.is_none() {
                continue;
            }
            let rec = *w.calls.get(c);
            assert!(rec.live, "call {c} is over but keeps a span");
            let Some((span, parent)) = with_parent(w, s) else {
                continue;
            };
            let parent = parent.expect("an attempt has a parent");
            assert!(span.parent < s.span);
            assert!(matches!(span.kind, SpanKind::Call | SpanKind::Compensation));
            assert_eq!(span.attempt, rec.attempt);
            assert_eq!(span.endpoint, rec.site.target);
            assert_eq!(span.outcome, SpanOutcome::Open);
            assert!(parent.start <= span.start && span.start <= now);
            let caller = w.spans.invs[rec.caller as usize];
            assert_eq!(
                (caller.trace, caller.gen, caller.span),
                (s.trace, s.gen, span.parent)
            );
            checked += 1;
        }
        for l in 0..w.spans.lookups.len() as u32 {
            let s = w.spans.lookups[l as usize];
            if s.is_none() {
                continue;
            }
            let (call, tag) = w
                .discovery
                .lookup_call(l)
                .expect("a lookup with a span serves a call");
            if !w.calls.is_current(call, tag) {
                // Its attempt timed out: the lookup goes on, for nobody.
                continue;
            }
            let Some((span, _)) = with_parent(w, s) else {
                continue;
            };
            // A child of the caller's span, beside its attempt's, naming
            // the service looked up.
            let rec = *w.calls.get(call);
            assert_eq!(span.kind, SpanKind::Lookup);
            assert_eq!(span.outcome, SpanOutcome::Open);
            assert_eq!(
                span.lookup_for,
                w.model.endpoints[rec.site.target as usize].service
            );
            let caller = w.spans.invs[rec.caller as usize];
            assert_eq!(
                (caller.trace, caller.gen, caller.span),
                (s.trace, s.gen, span.parent)
            );
            let attempt = w.spans.calls[call as usize];
            if let Some((a, _)) = with_parent(w, attempt) {
                assert_eq!((a.parent, a.start), (span.parent, span.start));
            }
            checked += 1;
        }
        for m in 0..w.spans.msgs.len() {
            let s = w.spans.msgs[m];
            let Some((span, parent)) = with_parent(w, s) else {
                continue;
            };
            assert_eq!(span.kind, SpanKind::Publish);
            assert_eq!(span.outcome, SpanOutcome::Open);
            assert!(span.parent < s.span);
            assert!(parent.expect("a publish has a parent").start <= span.start);
            checked += 1;
        }
        for i in 0..w.spans.invs.len() as u32 {
            let s = w.spans.invs[i as usize];
            if s.is_none() {
                continue;
            }
            let inv = *w.invs.get(i);
            assert!(inv.live, "invocation {i} is over but keeps a span");
            let Some((span, _)) = with_parent(w, s) else {
                continue;
            };
            assert!(span.start <= now);
            if let Some(q) = span.queue_wait {
                // A queue wait lies within its span: an attempt that ended
                // with its callee still queued has the wait until then,
                // and a worker got later changes nothing.
                let end = if span.outcome == SpanOutcome::Open {
                    now
                } else {
                    span.end
                };
                assert!(
                    span.start + q <= end,
                    "queue wait {q} past the span {span:?}"
                );
            }
            if inv.replica != crate::world::request::NOT_ADMITTED
                && span.kind != SpanKind::Lookup
                && span.kind != SpanKind::Publish
            {
                // An abandoned attempt's span may be closed (timed out)
                // while its callee runs on, but it still names the callee.
                assert_eq!(span.replica, inv.replica);
            }
            if let (SpanKind::Local, crate::world::request::Parent::Local { inv: caller, .. }) =
                (span.kind, inv.parent)
            {
                let c = w.spans.invs[caller as usize];
                assert_eq!((c.trace, c.gen, c.span), (s.trace, s.gen, span.parent));
            }
            checked += 1;
        }
        checked
    }

    /// Runs `m` with a recorder, checking the spans in flight every 13
    /// events; returns the attempt spans checked.
    fn run_checked(m: &Model) -> usize {
        let mut w = World::new(m);
        w.tracer = Some(Box::new(recorder(m)));
        let mut n = 0usize;
        let mut checked = 0;
        // The events before the end.
        w.run_to(m.duration - 1, |w| {
            n += 1;
            if n.is_multiple_of(13) {
                checked += check(w);
            }
        });
        checked
    }

    #[test]
    fn spans_in_flight_are_consistent() {
        for (name, sets) in [
            ("retry-storm.toml", &["simulation.duration=90s"][..]),
            ("saga-checkout.toml", &["simulation.duration=70s"][..]),
            ("registry-outage.toml", &["simulation.duration=150s"][..]),
            ("event-driven.toml", &["simulation.duration=40s"][..]),
            ("duplicate-charges.toml", &["simulation.duration=90s"][..]),
            (
                "fault-isolation.toml",
                &["simulation.duration=40s", "deployment.mode=monolith"][..],
            ),
        ] {
            let m = bundled(name, sets);
            let checked = run_checked(&m);
            assert!(checked > 20, "{name}: {checked} spans checked");
        }
    }

    /// An attempt span whose callee was seen queued (admitted, no worker
    /// yet) has, once closed, a queue wait at least as long as the wait
    /// seen, within the span: if the attempt timed out first, the wait
    /// until then. On the retry storm, attempts time out in db's queue.
    #[test]
    fn timed_out_attempts_keep_their_callees_queue_wait() {
        let m = bundled("retry-storm.toml", &["simulation.duration=90s"]);
        let mut w = World::new(&m);
        w.tracer = Some(Box::new(recorder(&m)));
        // Per span seen with its callee queued: its ref and the longest
        // wait seen.
        let mut seen: std::collections::BTreeMap<(u32, u32, u32), (SpanRef, u64)> =
            std::collections::BTreeMap::new();
        let (mut n, mut closed, mut timed_out) = (0usize, 0usize, 0usize);
        w.run_to(m.duration - 1, |w| {
            n += 1;
            if !n.is_multiple_of(7) {
                return;
            }
            for c in 0..w.spans.calls.len() as u32 {
                let s = w.spans.calls[c as usize];
                let rec = *w.calls.get(c);
                if s.is_none()
                    || rec.callee == NO_CALLEE
                    || !w.invs.is_current(rec.callee, rec.callee_gen)
                {
                    continue;
                }
                let inv = *w.invs.get(rec.callee);
                if inv.replica != NOT_ADMITTED && !inv.holds_worker {
                    let waited = w.now - inv.queued_at;
                    let e = seen.entry((s.trace, s.gen, s.span)).or_insert((s, 0));
                    e.1 = e.1.max(waited);
                }
            }
            let t = w.tracer.as_mut().unwrap();
            seen.retain(|_, &mut (s, waited)| {
                let Some(span) = t.span_mut(s) else {
                    // Its request ended.
                    return false;
                };
                if span.outcome == SpanOutcome::Open {
                    return true;
                }
                let q = span
                    .queue_wait
                    .expect("a queued callee's span has a queue wait");
                assert!(q >= waited, "{q} < {waited} seen: {span:?}");
                assert!(span.start + q <= span.end, "{span:?}");
                closed += 1;
                if span.outcome == SpanOutcome::Failed(Cause::Timeout) {
                    timed_out += 1;
                }
                false
            });
        });
        assert!(closed > 1000, "{closed} spans checked");
        assert!(timed_out > 100, "{timed_out} timed out");
    }

    /// Keeps every span written.
    struct Collect(std::rc::Rc<std::cell::RefCell<Vec<Span>>>);

    impl TraceSink for Collect {
        fn write(&mut self, _: &Model, t: &Trace) -> std::io::Result<()> {
            self.0.borrow_mut().extend_from_slice(&t.spans);
            Ok(())
        }
        fn finish(&mut self, _: &Model) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A call refused by a full queue names the replica that refused it.
    #[test]
    fn rejected_attempts_name_their_replica() {
        let m = crate::scenario::from_str(
            r#"
            [simulation]
            duration = "5s"
            [services.front]
            io = "async"
            concurrency = 64
            [services.front.endpoints.e]
            steps = [ { parallel = [ { call = "back.e" }, { call = "back.e", optional = true } ] } ]
            [services.back]
            replicas = 2
            concurrency = 1
            queue_capacity = 0
            [services.back.endpoints.e]
            work = "1ms"
            [[workloads]]
            name = "w"
            target = "front.e"
            arrival = { process = "poisson", rate = 200 }
            "#,
            "t.toml",
            "t",
            &[],
        )
        .unwrap();
        let spans = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let config = TraceConfig {
            sample: 1.0,
            keep: 0,
        };
        let rec = Recorder::new(&m, config, Box::new(Collect(spans.clone())));
        crate::simulation::run_traced(&m, &mut |_, _| {}, Some(rec)).unwrap();
        let spans = spans.borrow();
        let rejected: Vec<_> = spans
            .iter()
            .filter(|s| s.outcome == SpanOutcome::Failed(Cause::Rejected))
            .collect();
        assert!(rejected.len() > 50, "{} rejected", rejected.len());
        assert!(rejected.iter().all(|s| s.replica < 3), "{rejected:?}");
    }

    /// Tracing records and changes nothing: the traced run's result is
    /// identical to the untraced one's.
    #[test]
    fn tracing_leaves_the_results_unchanged() {
        for name in [
            "retry-storm.toml",
            "saga-checkout.toml",
            "event-driven.toml",
        ] {
            let m = bundled(name, &["simulation.duration=60s"]);
            let plain = crate::simulation::run(&m).unwrap();
            let (traced, rec) =
                crate::simulation::run_traced(&m, &mut |_, _| {}, Some(recorder(&m))).unwrap();
            assert!(rec.is_some());
            assert!(plain == traced, "{name}: tracing changed the results");
        }
    }
}
