//! The engine's side of tracing: span buffers of the requests in flight,
//! reused across requests, and the decision, when a request ends, to emit
//! its trace, keep it for the end, or drop it.

use super::{Span, SpanKind, SpanOutcome, Trace, TraceConfig, TraceSink, NO_PARENT, NO_REPLICA};
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

/// Records the spans of every request in flight and hands finished traces
/// to the sink (see the module docs of [`crate::trace`]).
pub struct Recorder {
    config: TraceConfig,
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
    written: u64,
}

impl Recorder {
    /// A recorder for `model` writing to `sink`.
    pub fn new(model: &Model, config: TraceConfig, sink: Box<dyn TraceSink>) -> Self {
        Recorder {
            config,
            keys: (0..model.workloads.len() as u32)
                .map(|w| workload_key(model.seed, w))
                .collect(),
            sink,
            buffers: Vec::new(),
            free: Vec::new(),
            issued: vec![0; model.workloads.len()],
            error: None,
            written: 0,
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
        if sampled(id, rate) {
            let trace = Trace {
                id,
                workload: b.workload,
                seq: b.seq,
                spans: std::mem::take(&mut b.spans),
                dropped: b.dropped,
                reason: super::Reason::Sampled,
            };
            self.emit(&trace);
            // Give the buffer its capacity back.
            let b = &mut self.buffers[root.trace as usize];
            b.spans = trace.spans;
        }
        let b = &mut self.buffers[root.trace as usize];
        b.live = false;
        b.gen = b.gen.wrapping_add(1);
        b.spans.clear();
        self.free.push(root.trace);
    }

    fn emit(&mut self, _trace: &Trace) {
        // Filled in by the writer side: needs the model (see `finish`).
        self.written += 1;
    }

    /// Writes what was kept and completes the sink. Returns the number of
    /// traces written, or the first write error.
    pub fn finish(mut self, model: &Model) -> std::io::Result<u64> {
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
