//! OpenTelemetry's JSON encoding of OTLP traces
//! (`ExportTraceServiceRequest`): `{"resourceSpans":[...]}`, streamed
//! trace by trace, so tools that import OTLP/JSON (the collector's
//! `otlpjsonfile` receiver, Jaeger, Tempo, ...) can load the file.
//!
//! The encoding follows the protocol's JSON mapping: lowerCamelCase field
//! names, trace and span ids as lowercase hex (32 and 16 digits), 64-bit
//! integers (times, integer attributes) as decimal strings, enums as
//! integers.
//!
//! Per trace, one `ResourceSpans` per service the trace reached (resource
//! attribute `service.name`), in service order, each with one scope
//! (`microsim` and the crate's version). A replica is not a resource of
//! its own (`service.instance.id` would split a service's spans by
//! replica): it is the span attribute `microsim.replica`.
//!
//! Span conventions: microsim records one span per call attempt, timed as
//! the caller saw it (attempt sent to answer received, timed out or failed
//! fast) and attributed to the callee (its service's resource, the replica
//! that handled it, the time it queued there). It stands for both sides of
//! the call, so it has the callee's kind: SERVER (2) for the root request,
//! calls, compensating calls and registry lookups; INTERNAL (1) for
//! in-process calls (monolith); PRODUCER (4) for a publish to a broker.
//! A registry lookup is the caller's work before it sends its attempt: a
//! child of the caller's span (a sibling of the attempt's, which starts
//! with it), attributed to the registry, named `lookup SERVICE
//! (REGISTRY)` after the service looked up, which the attribute
//! `microsim.lookup_for` also names.
//! Times are simulated nanoseconds since the run's start (the "Unix" epoch
//! of a trace file is the start of the run). Status: OK (1) for a span that
//! succeeded (degraded included), ERROR (2) with the cause as message for
//! a failed one, UNSET (0) for work abandoned when its request ended.

use super::labels::{cause_name, json_str, outcome_name, span_id, Names};
use super::{Span, SpanKind, SpanOutcome, Trace, TraceSink, NO_PARENT};
use crate::model::Model;
use std::io::{self, Write};

/// The scope name of every span.
pub const SCOPE: &str = "microsim";

/// Writes traces as OTLP/JSON to `W`.
pub struct OtlpWriter<W: Write> {
    w: W,
    names: Names,
    /// No `ResourceSpans` written yet (a comma goes before every one but
    /// the first).
    first: bool,
    /// Reused: (service index, span index) of the trace being written.
    order: Vec<(u32, u32)>,
}

impl<W: Write> OtlpWriter<W> {
    /// Starts the document on `w` for traces of `model`.
    pub fn new(mut w: W, model: &Model) -> io::Result<Self> {
        w.write_all(b"{\"resourceSpans\":[")?;
        Ok(OtlpWriter {
            w,
            names: Names::new(model),
            first: true,
            order: Vec::new(),
        })
    }

    fn span(&mut self, t: &Trace, i: usize, s: &Span) -> io::Result<()> {
        let w = &mut self.w;
        write!(
            w,
            "{{\"traceId\":\"{:032x}\",\"spanId\":\"{:016x}\",",
            t.id,
            span_id(t.id, i as u32)
        )?;
        if s.parent != NO_PARENT {
            write!(w, "\"parentSpanId\":\"{:016x}\",", span_id(t.id, s.parent))?;
        }
        w.write_all(b"\"name\":")?;
        json_str(w, self.names.span_name(s))?;
        let kind = match s.kind {
            SpanKind::Request | SpanKind::Call | SpanKind::Compensation | SpanKind::Lookup => 2,
            SpanKind::Local => 1,
            SpanKind::Publish => 4,
        };
        write!(
            w,
            ",\"kind\":{kind},\"startTimeUnixNano\":\"{}\",\"endTimeUnixNano\":\"{}\",\"attributes\":[",
            s.start, s.end
        )?;
        str_attr(w, "microsim.kind", s.kind.name(), true)?;
        str_attr(
            w,
            "microsim.endpoint",
            &self.names.endpoint[s.endpoint as usize],
            false,
        )?;
        if let Some(r) = self.names.replica(s) {
            str_attr(w, "microsim.replica", r, false)?;
        }
        if let Some(f) = self.names.lookup_for(s) {
            str_attr(w, "microsim.lookup_for", f, false)?;
        }
        int_attr(w, "microsim.attempt", u64::from(s.attempt))?;
        if let Some(q) = s.queue_wait {
            int_attr(w, "microsim.queue_wait_ns", q)?;
        }
        str_attr(w, "microsim.outcome", outcome_name(s.outcome), false)?;
        if let Some(c) = cause_name(s.outcome) {
            str_attr(w, "microsim.cause", c, false)?;
        }
        if i == 0 {
            str_attr(
                w,
                "microsim.workload",
                &self.names.workload[t.workload as usize],
                false,
            )?;
            int_attr(w, "microsim.request", t.seq)?;
            str_attr(w, "microsim.sampled_by", t.reason.name(), false)?;
            if t.dropped > 0 {
                int_attr(w, "microsim.dropped_spans", u64::from(t.dropped))?;
            }
        }
        w.write_all(b"],\"status\":{")?;
        match s.outcome {
            SpanOutcome::Ok | SpanOutcome::Degraded => w.write_all(b"\"code\":1")?,
            SpanOutcome::Failed(c) => write!(w, "\"code\":2,\"message\":\"{}\"", c.name())?,
            SpanOutcome::Open | SpanOutcome::Unfinished => w.write_all(b"\"code\":0")?,
        }
        w.write_all(b"}}")
    }
}

/// Writes one string attribute (`first`: no comma before it).
fn str_attr<W: Write>(w: &mut W, key: &str, value: &str, first: bool) -> io::Result<()> {
    if !first {
        w.write_all(b",")?;
    }
    write!(w, "{{\"key\":\"{key}\",\"value\":{{\"stringValue\":")?;
    json_str(w, value)?;
    w.write_all(b"}}")
}

/// Writes one integer attribute (never first), as OTLP/JSON's decimal
/// string.
fn int_attr<W: Write>(w: &mut W, key: &str, value: u64) -> io::Result<()> {
    write!(
        w,
        ",{{\"key\":\"{key}\",\"value\":{{\"intValue\":\"{value}\"}}}}"
    )
}

impl<W: Write> TraceSink for OtlpWriter<W> {
    fn write(&mut self, _model: &Model, t: &Trace) -> io::Result<()> {
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        order.extend(
            t.spans
                .iter()
                .enumerate()
                .map(|(i, s)| (self.names.service_index[s.endpoint as usize], i as u32)),
        );
        order.sort_unstable();
        let mut k = 0;
        let result = (|| {
            while k < order.len() {
                let service = order[k].0;
                if !std::mem::take(&mut self.first) {
                    self.w.write_all(b",")?;
                }
                self.w
                    .write_all(b"{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":")?;
                json_str(&mut self.w, &self.names.service[service as usize])?;
                write!(
                    self.w,
                    "}}}}]}},\"scopeSpans\":[{{\"scope\":{{\"name\":\"{SCOPE}\",\"version\":\"{}\"}},\"spans\":[",
                    env!("CARGO_PKG_VERSION")
                )?;
                let mut first = true;
                while k < order.len() && order[k].0 == service {
                    if !std::mem::take(&mut first) {
                        self.w.write_all(b",")?;
                    }
                    let i = order[k].1 as usize;
                    self.span(t, i, &t.spans[i])?;
                    k += 1;
                }
                self.w.write_all(b"]}]}")?;
            }
            Ok(())
        })();
        self.order = order;
        result
    }

    fn finish(&mut self, _model: &Model) -> io::Result<()> {
        self.w.write_all(b"]}\n")?;
        self.w.flush()
    }
}
