//! The engine's side of tracing: span buffers of the requests in flight,
//! reused across requests, and the decision, when a request ends, to emit
//! its trace, keep it for the end, or drop it.

use super::{
    Reason, Span, SpanKind, SpanOutcome, Trace, TraceConfig, TraceSink, NO_PARENT, NO_REPLICA,
    NO_SERVICE,
};
use crate::engine::SimTime;
use crate::model::{EndpointId, Model, WorkloadId};

/// Spans recorded per trace at most; beyond, spans are counted in
/// [`Trace::dropped`] (a retry storm must not make one trace unbounded).
pub const MAX_SPANS: usize = 10_000;

/// A span being recorded: the trace's buffer slot and generation (a slot
/// reused by a later request makes older refs stale), and the span's index
/// in it. [`SpanRef::NONE`] when the request is not being recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanRef {
    /// Buffer slot.
    pub trace: u32,
    /// The slot's generation when the span was opened.
    pub gen: u32,
    /// Index in the trace's spans.
    pub span: u32,
}

impl SpanRef {
    /// No span.
    pub const NONE: SpanRef = SpanRef {
        trace: u32::MAX,
        gen: 0,
        span: 0,
    };

    /// Whether this refers to no span.
    #[inline]
    pub fn is_none(self) -> bool {
        self.trace == u32::MAX
    }
}

/// One request's spans while it is in flight.
#[derive(Debug, Default)]
struct Buffer {
    gen: u32,
    live: bool,
    workload: WorkloadId,
    seq: u64,
    spans: Vec<Span>,
    dropped: u32,
}

/// A trace kept for the end of the run, with its rank among its
/// workload's candidates for the same reason (smaller is better).
#[derive(Debug)]
struct Kept {
    rank: (u64, u128),
    trace: Trace,
}

/// Per workload and reason, the best `keep` candidates so far. Small (a
/// few dozen at most), so a linear scan for the worst one is cheap; it
/// runs only when a candidate beats it, which becomes rare as the run
/// goes (about `keep * ln(n / keep)` times over `n` candidates).
#[derive(Debug, Default)]
struct KeptSet {
    items: Vec<Kept>,
    /// Index of the worst item (meaningful when full).
    worst: usize,
}

impl KeptSet {
    /// Whether a candidate of rank `rank` would be kept.
    #[inline]
    fn admits(&self, rank: (u64, u128), keep: usize) -> bool {
        keep > 0 && (self.items.len() < keep || rank < self.items[self.worst].rank)
    }

    /// Keeps `trace` (which [`KeptSet::admits`]); gives back the span list
    /// of the trace it evicts, for reuse.
    fn insert(&mut self, rank: (u64, u128), trace: Trace, keep: usize) -> Option<Vec<Span>> {
        let out = if self.items.len() < keep {
            self.items.push(Kept { rank, trace });
            None
        } else {
            let old = std::mem::replace(&mut self.items[self.worst], Kept { rank, trace });
            Some(old.trace.spans)
        };
        if self.items.len() == keep {
            self.worst = (0..self.items.len())
                .max_by_key(|&i| self.items[i].rank)
                .unwrap_or(0);
        }
        out
    }

    /// The kept traces, best first.
    fn into_sorted(mut self) -> Vec<Trace> {
        self.items.sort_by_key(|k| k.rank);
        self.items.into_iter().map(|k| k.trace).collect()
    }
}

/// How many traces [`Recorder::finish`] wrote, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Head-sampled at the configured rate (streamed during the run).
    pub sampled: u64,
    /// Kept failed requests.
    pub failed: u64,
    /// Kept slowest successful requests.
    pub slowest: u64,
}

impl Written {
    /// All traces written.
    pub fn total(&self) -> u64 {
        self.sampled + self.failed + self.slowest
    }
}

/// Records the spans of every request in flight and hands finished traces
/// to the sink (see the module docs of [`crate::trace`]).
///
/// Retention, when a request ends: a head-sampled trace
/// ([`sampled`]) is written to the sink at once, so memory does not grow
/// with the run's length. Any other is a candidate, per workload, for the
/// `keep` failed requests with the lowest trace ids (a uniform,
/// deterministic sample over the run: ids are hashes) or, if it
/// succeeded (degraded included), for the `keep` slowest (longest root
/// span; ties to the lower id). The two sets cannot overlap (a request
/// either failed or not) and never hold a sampled trace. They are
/// written by [`Recorder::finish`]. A kept trace's span list is moved,
/// not copied, and the evicted one's list goes back to the buffer, so
/// steady state allocates nothing.
pub struct Recorder {
    config: TraceConfig,
    /// The model, for the sink's names (the in-flight API does not carry
    /// it).
    model: Box<Model>,
    /// Per workload, the high half of its trace ids.
    keys: Vec<u64>,
    sink: Box<dyn TraceSink>,
    buffers: Vec<Buffer>,
    free: Vec<u32>,
    /// Requests issued per workload so far (a trace's `seq`).
    issued: Vec<u64>,
    /// The first write error, reported by [`Recorder::finish`].
    error: Option<std::io::Error>,
    /// Traces written so far.
    written: Written,
    /// Per workload: the kept failed requests.
    failed: Vec<KeptSet>,
    /// Per workload: the kept slowest successful requests.
    slowest: Vec<KeptSet>,
}

impl Recorder {
    /// A recorder for `model` writing to `sink`.
    pub fn new(model: &Model, config: TraceConfig, sink: Box<dyn TraceSink>) -> Self {
        let n = model.workloads.len();
        Recorder {
            config,
            model: Box::new(model.clone()),
            keys: (0..model.workloads.len() as u32)
                .map(|w| workload_key(model.seed, w))
                .collect(),
            sink,
            buffers: Vec::new(),
            free: Vec::new(),
            issued: vec![0; model.workloads.len()],
            error: None,
            written: Written::default(),
            failed: (0..n).map(|_| KeptSet::default()).collect(),
            slowest: (0..n).map(|_| KeptSet::default()).collect(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> TraceConfig {
        self.config
    }

    /// A request of `workload` arrives at `endpoint` at `start`: opens its
    /// trace and root span. `measured` is false during the warm-up (such
    /// requests are numbered but not recorded: [`SpanRef::NONE`]).
    pub fn open_root(
        &mut self,
        workload: WorkloadId,
        endpoint: EndpointId,
        start: SimTime,
        measured: bool,
    ) -> SpanRef {
        let seq = self.issued[workload as usize];
        self.issued[workload as usize] += 1;
        if !measured {
            return SpanRef::NONE;
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.buffers.push(Buffer::default());
                (self.buffers.len() - 1) as u32
            }
        };
        let b = &mut self.buffers[slot as usize];
        b.live = true;
        b.workload = workload;
        b.seq = seq;
        b.spans.clear();
        b.dropped = 0;
        b.spans.push(Span {
            parent: NO_PARENT,
            kind: SpanKind::Request,
            endpoint,
            replica: NO_REPLICA,
            attempt: 1,
            start,
            end: start,
            queue_wait: None,
            lookup_for: NO_SERVICE,
            outcome: SpanOutcome::Open,
        });
        SpanRef {
            trace: slot,
            gen: b.gen,
            span: 0,
        }
    }

    /// Opens a child span of `parent` (nothing when `parent` is none or its
    /// request has ended). The new span starts now, open.
    pub fn open(
        &mut self,
        parent: SpanRef,
        kind: SpanKind,
        endpoint: EndpointId,
        attempt: u32,
        start: SimTime,
    ) -> SpanRef {
        let Some(b) = self.buffer(parent) else {
            return SpanRef::NONE;
        };
        if b.spans.len() >= MAX_SPANS {
            b.dropped += 1;
            return SpanRef::NONE;
        }
        b.spans.push(Span {
            parent: parent.span,
            kind,
            endpoint,
            replica: NO_REPLICA,
            attempt,
            start,
            end: start,
            queue_wait: None,
            lookup_for: NO_SERVICE,
            outcome: SpanOutcome::Open,
        });
        SpanRef {
            span: (b.spans.len() - 1) as u32,
            ..parent
        }
    }

    /// The span `s` refers to, if its request is still being recorded.
    #[inline]
    pub fn span_mut(&mut self, s: SpanRef) -> Option<&mut Span> {
        let i = s.span as usize;
        self.buffer(s).map(|b| &mut b.spans[i])
    }

    /// Closes span `s` at `end` with `outcome` (if still recorded).
    pub fn close(&mut self, s: SpanRef, end: SimTime, outcome: SpanOutcome) {
        if let Some(span) = self.span_mut(s) {
            span.end = end;
            span.outcome = outcome;
        }
    }

    fn buffer(&mut self, s: SpanRef) -> Option<&mut Buffer> {
        if s.is_none() {
            return None;
        }
        let b = &mut self.buffers[s.trace as usize];
        (b.live && b.gen == s.gen).then_some(b)
    }

    /// The request whose root span is `root` ended at `end` with
    /// `outcome`: closes the root and any span still open (as
    /// [`SpanOutcome::Unfinished`]), decides whether the trace is kept,
    /// and frees the buffer for reuse.
    pub fn finish_root(&mut self, root: SpanRef, end: SimTime, outcome: SpanOutcome) {
        if root.is_none() {
            return;
        }
        let b = &mut self.buffers[root.trace as usize];
        if !(b.live && b.gen == root.gen) {
            return;
        }
        let w = b.workload as usize;
        let id = trace_id(self.keys[w], b.seq);
        let keep = self.config.keep;
        let (reason, rank) = if sampled(id, self.config.sample) {
            (Reason::Sampled, (0, id))
        } else if matches!(outcome, SpanOutcome::Failed(_)) {
            (Reason::Failed, (0, id))
        } else {
            let latency = end.saturating_sub(b.spans[0].start);
            (Reason::Slowest, (u64::MAX - latency, id))
        };
        // Decided before the spans are touched: most requests are neither
        // sampled nor among the kept, and cost no more than this.
        let kept = match reason {
            Reason::Sampled => true,
            Reason::Failed => self.failed[w].admits(rank, keep),
            Reason::Slowest => self.slowest[w].admits(rank, keep),
        };
        if kept {
            for s in &mut b.spans[1..] {
                if s.outcome == SpanOutcome::Open {
                    s.end = end;
                    s.outcome = SpanOutcome::Unfinished;
                }
            }
            let r = &mut b.spans[0];
            r.end = end;
            r.outcome = outcome;
            let trace = Trace {
                id,
                workload: b.workload,
                seq: b.seq,
                spans: std::mem::take(&mut b.spans),
                dropped: b.dropped,
                reason,
            };
            let back = match reason {
                Reason::Sampled => {
                    self.emit(&trace);
                    self.written.sampled += 1;
                    // Give the buffer its capacity back.
                    Some(trace.spans)
                }
                Reason::Failed => self.failed[w].insert(rank, trace, keep),
                Reason::Slowest => self.slowest[w].insert(rank, trace, keep),
            };
            self.buffers[root.trace as usize].spans = back.unwrap_or_default();
        }
        let b = &mut self.buffers[root.trace as usize];
        b.live = false;
        b.gen = b.gen.wrapping_add(1);
        b.spans.clear();
        self.free.push(root.trace);
    }

    /// Writes `trace` to the sink, unless an earlier write failed (the
    /// first error is kept for [`Recorder::finish`]).
    fn emit(&mut self, trace: &Trace) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.sink.write(&self.model, trace) {
            self.error = Some(e);
        }
    }

    /// Writes the kept traces (per workload in model order: the failed
    /// ones by trace id, then the slowest, slowest first) and completes
    /// the sink. Returns how many traces were written, or the first write
    /// error.
    pub fn finish(mut self, model: &Model) -> std::io::Result<Written> {
        let failed = std::mem::take(&mut self.failed);
        let slowest = std::mem::take(&mut self.slowest);
        for (f, s) in failed.into_iter().zip(slowest) {
            for t in f.into_sorted() {
                self.emit(&t);
                self.written.failed += 1;
            }
            for t in s.into_sorted() {
                self.emit(&t);
                self.written.slowest += 1;
            }
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.sink.finish(model)?;
        Ok(self.written)
    }

    /// Buffers allocated (in flight or free): bounded by the requests in
    /// flight at once, whatever the run's length.
    pub fn buffers(&self) -> usize {
        self.buffers.len()
    }
}

/// The high half of the trace ids of `workload` in a run with `seed`.
pub fn workload_key(seed: u64, workload: WorkloadId) -> u64 {
    crate::engine::rng::stream_seed(seed, &format!("trace/{workload}"))
}

/// The trace id of request `seq` of the workload whose key
/// ([`workload_key`]) is `key`.
pub fn trace_id(key: u64, seq: u64) -> u128 {
    let hi = key;
    let lo = splitmix(hi ^ splitmix(seq));
    (u128::from(hi) << 64) | u128::from(lo)
}

/// Whether the trace with id `id` is head-sampled at `rate`: its low 64
/// bits, read as a fraction, fall below the rate.
pub fn sampled(id: u128, rate: f64) -> bool {
    if rate >= 1.0 {
        return true;
    }
    if rate <= 0.0 {
        return false;
    }
    ((id as u64) as f64) < rate * 18_446_744_073_709_551_616.0
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cause;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// Collects what the recorder writes; `fail_after` makes writes fail
    /// from the n-th on.
    #[derive(Clone, Default)]
    struct Capture {
        traces: Rc<RefCell<Vec<Trace>>>,
        finished: Rc<RefCell<bool>>,
        fail_after: Option<usize>,
    }

    impl TraceSink for Capture {
        fn write(&mut self, _: &Model, t: &Trace) -> std::io::Result<()> {
            let mut v = self.traces.borrow_mut();
            if self.fail_after.is_some_and(|n| v.len() >= n) {
                return Err(std::io::Error::other(format!("full after {}", v.len())));
            }
            v.push(t.clone());
            Ok(())
        }
        fn finish(&mut self, _: &Model) -> std::io::Result<()> {
            *self.finished.borrow_mut() = true;
            Ok(())
        }
    }

    fn model() -> Model {
        crate::scenario::test_model(
            r#"
            [simulation]
            duration = "10s"
            [services.s.endpoints.e]
            work = "1ms"
            [[workloads]]
            name = "a"
            target = "s.e"
            arrival = { process = "constant", rate = 10 }
            [[workloads]]
            name = "b"
            target = "s.e"
            arrival = { process = "constant", rate = 10 }
            "#,
        )
    }

    /// Runs `n` requests per workload one after the other, request `i`
    /// lasting `latency(i)` and failing when `fails(i)`; each has one
    /// child span.
    fn drive(
        rec: &mut Recorder,
        n: u64,
        latency: impl Fn(u64) -> u64,
        fails: impl Fn(u64) -> bool,
    ) {
        let mut now = 0;
        for i in 0..n {
            for w in 0..2 {
                let root = rec.open_root(w, 0, now, true);
                let child = rec.open(root, SpanKind::Call, 0, 1, now + 1);
                rec.close(child, now + 2, SpanOutcome::Ok);
                now += latency(i);
                let outcome = if fails(i) {
                    SpanOutcome::Failed(Cause::Timeout)
                } else {
                    SpanOutcome::Ok
                };
                rec.finish_root(root, now, outcome);
            }
        }
    }

    /// A recorder sampling `sample` and keeping `keep`, writing to `cap`.
    fn recorder(m: &Model, sample: f64, keep: usize, cap: &Capture) -> Recorder {
        Recorder::new(m, TraceConfig { sample, keep }, Box::new(cap.clone()))
    }

    fn latency(t: &Trace) -> u64 {
        t.spans[0].end - t.spans[0].start
    }

    #[test]
    fn keeps_the_sample_and_a_bounded_number_of_failed_and_slowest() {
        let m = model();
        let cap = Capture::default();
        let keep = 5;
        let mut rec = recorder(&m, 0.01, keep, &cap);
        let n = 2000;
        // Latencies are a hash of i: distinct, in no order.
        let lat = |i: u64| 1000 + splitmix(i) % 1_000_000;
        let fails = |i: u64| i % 7 == 3;
        drive(&mut rec, n, lat, fails);
        // Sequential requests: one buffer whatever the run's length.
        assert_eq!(rec.buffers(), 1);
        let sampled_during_run = cap.traces.borrow().len();
        let written = rec.finish(&m).unwrap();
        assert!(*cap.finished.borrow());
        let all = cap.traces.borrow();
        assert_eq!(written.total() as usize, all.len());
        assert_eq!(written.sampled as usize, sampled_during_run);
        // Sampled ones were streamed during the run, the rest at the end.
        assert!(all[..sampled_during_run]
            .iter()
            .all(|t| t.reason == Reason::Sampled));
        // The head sample: exactly the requests whose ids fall under the
        // rate, in the order they ended.
        let keys: Vec<u64> = (0..2).map(|w| workload_key(m.seed, w)).collect();
        let expected: Vec<u128> = (0..n)
            .flat_map(|i| (0..2).map(move |w| (w, i)))
            .map(|(w, i)| trace_id(keys[w], i))
            .filter(|&id| sampled(id, 0.01))
            .collect();
        let got: Vec<u128> = all[..sampled_during_run].iter().map(|t| t.id).collect();
        assert_eq!(got, expected);
        for w in 0..2u32 {
            let of = |r: Reason| -> Vec<&Trace> {
                all.iter()
                    .filter(|t| t.workload == w && t.reason == r)
                    .collect()
            };
            let (failed, slowest) = (of(Reason::Failed), of(Reason::Slowest));
            assert_eq!(failed.len(), keep);
            assert_eq!(slowest.len(), keep);
            // Failed: the lowest ids among the unsampled failed requests,
            // in id order.
            let mut want: Vec<u128> = (0..n)
                .filter(|&i| fails(i))
                .map(|i| trace_id(keys[w as usize], i))
                .filter(|&id| !sampled(id, 0.01))
                .collect();
            want.sort_unstable();
            want.truncate(keep);
            assert_eq!(failed.iter().map(|t| t.id).collect::<Vec<_>>(), want);
            assert!(failed
                .iter()
                .all(|t| matches!(t.spans[0].outcome, SpanOutcome::Failed(_))));
            // Slowest: the longest unsampled successful requests, slowest
            // first.
            let mut want: Vec<u64> = (0..n)
                .filter(|&i| !fails(i) && !sampled(trace_id(keys[w as usize], i), 0.01))
                .map(lat)
                .collect();
            want.sort_unstable_by(|a, b| b.cmp(a));
            want.truncate(keep);
            assert_eq!(slowest.iter().map(|t| latency(t)).collect::<Vec<_>>(), want);
            // Every kept trace has its child span, closed.
            assert!(failed.iter().chain(&slowest).all(|t| t.spans.len() == 2
                && t.spans[1].parent == 0
                && t.spans[1].outcome == SpanOutcome::Ok));
        }
        // No trace twice.
        let mut ids: Vec<u128> = all.iter().map(|t| t.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
    }

    #[test]
    fn keep_zero_keeps_only_the_sample_and_rate_one_keeps_everything() {
        let m = model();
        let cap = Capture::default();
        let mut rec = recorder(&m, 0.0, 0, &cap);
        drive(&mut rec, 100, |_| 10, |i| i % 2 == 0);
        assert_eq!(rec.finish(&m).unwrap(), Written::default());
        assert!(cap.traces.borrow().is_empty() && *cap.finished.borrow());

        let cap = Capture::default();
        let mut rec = recorder(&m, 1.0, 10, &cap);
        drive(&mut rec, 100, |_| 10, |i| i % 2 == 0);
        let w = rec.finish(&m).unwrap();
        assert_eq!((w.sampled, w.failed, w.slowest), (200, 0, 0));
    }

    #[test]
    fn open_spans_end_unfinished_with_their_request_and_stale_refs_do_nothing() {
        let m = model();
        let cap = Capture::default();
        let mut rec = recorder(&m, 1.0, 0, &cap);
        let root = rec.open_root(0, 0, 5, true);
        let child = rec.open(root, SpanKind::Call, 0, 2, 6);
        rec.finish_root(root, 9, SpanOutcome::Failed(Cause::Timeout));
        // The request ended: its refs are stale, even once the slot is
        // reused.
        let again = rec.open_root(0, 0, 10, true);
        assert_eq!(again.trace, root.trace);
        rec.close(child, 100, SpanOutcome::Ok);
        assert!(rec.span_mut(child).is_none());
        assert!(rec.open(root, SpanKind::Call, 0, 1, 11).is_none());
        // Warm-up requests are numbered but not recorded.
        assert!(rec.open_root(0, 0, 10, false).is_none());
        rec.finish_root(again, 12, SpanOutcome::Ok);
        rec.finish(&m).unwrap();
        let t = cap.traces.borrow();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].spans[1].outcome, SpanOutcome::Unfinished);
        assert_eq!((t[0].spans[1].end, t[0].spans[1].attempt), (9, 2));
        assert_eq!(t[1].spans.len(), 1);
        assert_eq!((t[0].seq, t[1].seq), (0, 1));
    }

    /// A span is recorded for every call of every request in flight: keep
    /// it small (`lookup_for` sits in what was padding).
    #[test]
    fn spans_stay_small() {
        assert!(
            std::mem::size_of::<Span>() <= 56,
            "{}",
            std::mem::size_of::<Span>()
        );
    }

    #[test]
    fn the_first_write_error_is_reported_at_the_end() {
        let m = model();
        let cap = Capture {
            fail_after: Some(3),
            ..Capture::default()
        };
        let mut rec = recorder(&m, 1.0, 0, &cap);
        drive(&mut rec, 10, |_| 10, |_| false);
        let err = rec.finish(&m).unwrap_err();
        assert_eq!(err.to_string(), "full after 3");
        assert!(!*cap.finished.borrow());
    }
}
