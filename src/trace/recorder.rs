//! The engine's side of tracing: span buffers of the requests in flight,
//! reused across requests, and the decision, when a request ends, to emit
//! its trace, keep it for the end, or drop it.

use super::{
    Reason, Span, SpanKind, SpanOutcome, Trace, TraceConfig, TraceSink, NO_PARENT, NO_REPLICA,
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
        let (keys, rate) = (&self.keys, self.config.sample);
        if root.is_none() {
            return;
        }
        let b = &mut self.buffers[root.trace as usize];
        if !(b.live && b.gen == root.gen) {
            return;
        }
        for s in &mut b.spans[1..] {
            if s.outcome == SpanOutcome::Open {
                s.end = end;
                s.outcome = SpanOutcome::Unfinished;
            }
        }
        let r = &mut b.spans[0];
        r.end = end;
        r.outcome = outcome;
        let id = trace_id(keys[b.workload as usize], b.seq);
        let w = b.workload as usize;
        let keep = self.config.keep;
        let (reason, rank) = if sampled(id, rate) {
            (Reason::Sampled, (0, id))
        } else if matches!(outcome, SpanOutcome::Failed(_)) {
            (Reason::Failed, (0, id))
        } else {
            let latency = end.saturating_sub(b.spans[0].start);
            (Reason::Slowest, (u64::MAX - latency, id))
        };
        let set = match reason {
            Reason::Sampled => None,
            Reason::Failed => Some(&self.failed[w]),
            Reason::Slowest => Some(&self.slowest[w]),
        };
        if set.is_none_or(|set| set.admits(rank, keep)) {
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
