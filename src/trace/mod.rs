//! Simulated distributed traces: one span per call attempt (and per
//! registry lookup, publish and in-process call) of sampled requests,
//! written as OpenTelemetry OTLP/JSON or Chrome trace-event JSON.
//!
//! The engine records the spans of every request in flight into reused
//! buffers ([`recorder::Recorder`]); when a request ends, the recorder
//! decides whether to keep it: a head sample at `--trace-sample RATE`
//! (decided from the trace id, as OpenTelemetry's ratio sampler does, so a
//! lower rate keeps a subset of a higher rate's traces), or, always, one
//! of a bounded number of failed and slowest requests per workload.
//! Sampled traces are streamed to a [`TraceSink`]; the kept tail ones are
//! written at the end. Recording draws no random numbers and schedules no
//! events, so a traced run's results are identical to an untraced one's.
//! Memory is bounded by the requests in flight plus the kept traces.

pub mod chrome;
pub mod file;
pub mod labels;
pub mod otlp;
pub mod recorder;

use crate::engine::SimTime;
use crate::model::{Cause, EndpointId, Model, ServiceId, WorkloadId};

/// `Span::parent` of a trace's root span.
pub const NO_PARENT: u32 = u32::MAX;

/// `Span::replica` when the span reached no replica.
pub const NO_REPLICA: u32 = u32::MAX;

/// `Span::lookup_for` of a span that is not a lookup made for a call.
pub const NO_SERVICE: ServiceId = u32::MAX;

/// What to trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceConfig {
    /// Probability (0..=1) that a measured request is traced, whatever its
    /// outcome.
    pub sample: f64,
    /// Per workload, how many failed requests and how many of the slowest
    /// successful requests are also kept (each).
    pub keep: usize,
}

/// What a span stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// The workload's request at its entry endpoint: the trace's root.
    Request,
    /// One attempt of a call over the network.
    Call,
    /// One attempt of a saga's compensating call.
    Compensation,
    /// An in-process call (monolith mode): no network, no attempt.
    Local,
    /// A registry lookup made on the call path (service discovery): the
    /// caller's own work before it sends the attempt, so a child of the
    /// caller's span beside the attempt's.
    Lookup,
    /// A publish to a broker, waited for by the publisher.
    Publish,
}

impl SpanKind {
    /// Name in trace attributes (`microsim.kind`).
    pub fn name(self) -> &'static str {
        match self {
            SpanKind::Request => "request",
            SpanKind::Call => "call",
            SpanKind::Compensation => "compensation",
            SpanKind::Local => "local",
            SpanKind::Lookup => "lookup",
            SpanKind::Publish => "publish",
        }
    }
}

/// How a span ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanOutcome {
    /// Still open (set while recording).
    Open,
    /// Succeeded.
    Ok,
    /// Succeeded with an optional call skipped on the way.
    Degraded,
    /// Failed, with the cause.
    Failed(Cause),
    /// Still running when its request ended (work abandoned after a
    /// timeout): closed at the request's end.
    Unfinished,
}

/// One span, as recorded. Ids are positions: `parent` indexes the trace's
/// span list; the writers turn positions into OTLP span ids.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// Index of the parent span in [`Trace::spans`] ([`NO_PARENT`] for the
    /// root).
    pub parent: u32,
    /// What it is.
    pub kind: SpanKind,
    /// The endpoint called (for a lookup, the registry's endpoint; for a
    /// publish, the topic's endpoint at the broker).
    pub endpoint: EndpointId,
    /// Global replica index that handled it, or [`NO_REPLICA`].
    pub replica: u32,
    /// Attempt number of its call (1 = first).
    pub attempt: u32,
    /// When it started: the caller's view (attempt sent; request arrived).
    pub start: SimTime,
    /// When it ended: answer received, timed out or failed fast.
    pub end: SimTime,
    /// Time the callee waited for a worker before its first step, if it
    /// got one; for an attempt that ended while its callee was still
    /// queued (timed out), the time it had waited so far. `None`: the
    /// callee got no worker while the span was open and was not queued
    /// when it closed (e.g. still on the network at a timeout, refused or
    /// shed).
    pub queue_wait: Option<u64>,
    /// For a lookup made for a call, the service looked up (the called
    /// endpoint's); [`NO_SERVICE`] otherwise. (It sits in what would be
    /// padding: a span stays 56 bytes.)
    pub lookup_for: ServiceId,
    /// How it ended.
    pub outcome: SpanOutcome,
}

/// Why a trace was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Head-sampled at the configured rate.
    Sampled,
    /// One of the workload's kept failed requests.
    Failed,
    /// One of the workload's slowest successful requests.
    Slowest,
}

impl Reason {
    /// Name in trace attributes (`microsim.sampled_by`).
    pub fn name(self) -> &'static str {
        match self {
            Reason::Sampled => "rate",
            Reason::Failed => "failed",
            Reason::Slowest => "slowest",
        }
    }
}

/// A finished request's trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// 128-bit trace id, derived from the seed, the workload and the
    /// request's number: the same run gives the same ids.
    pub id: u128,
    /// The workload that issued the request.
    pub workload: WorkloadId,
    /// The request's number within its workload (0-based, warm-up
    /// included).
    pub seq: u64,
    /// Spans in the order they started; `spans[0]` is the root.
    pub spans: Vec<Span>,
    /// Spans not recorded because the trace hit the per-trace limit.
    pub dropped: u32,
    /// Why it was kept.
    pub reason: Reason,
}

/// Where finished traces go. Called in a deterministic order: sampled
/// traces as their requests end, then the kept failed and slowest ones.
pub trait TraceSink {
    /// Writes one trace.
    fn write(&mut self, model: &Model, trace: &Trace) -> std::io::Result<()>;
    /// Completes the output (closing brackets, flushing) after the last
    /// trace.
    fn finish(&mut self, model: &Model) -> std::io::Result<()>;
}
