//! Chrome's trace-event JSON, which https://ui.perfetto.dev and
//! chrome://tracing open: `{"displayTimeUnit":"ns","otherData":{...},
//! "traceEvents":[...]}`, streamed trace by trace.
//!
//! Each trace is a process (`pid`, numbered from 1 in writing order) named
//! by a metadata event after its request ("checkout #1234 (failed:
//! timeout)"); each span is a complete event (`ph:"X"`) with `ts` and
//! `dur` in microseconds written exactly from integer nanoseconds
//! ("12.345"), `cat` the span's kind, and `args` the attributes OTLP has
//! (with the span's and parent's ids). Spans that overlap without nesting
//! (parallel branches, an attempt still running after its caller timed
//! out and retried) cannot share a thread: spans are given lanes (`tid`,
//! named `lane N`) greedily, in order of start (longest first on ties),
//! each on the first lane where the innermost slice still open there is
//! one of its ancestors and outlasts it, or where nothing is open. Nesting
//! on a thread is what a viewer shows as a call, so siblings never nest:
//! parallel calls that start together get lanes of their own.

use super::labels::{cause_name, json_str, outcome_name, span_id, trace_label, write_us, Names};
use super::{Trace, TraceSink, NO_PARENT};
use crate::model::Model;
use std::io::{self, Write};

/// Writes traces as Chrome trace-event JSON to `W`.
pub struct ChromeWriter<W: Write> {
    w: W,
    names: Names,
    /// Traces written so far (the next one's pid is this plus one).
    traces: u32,
    /// Reused: span indices in lane-assignment order.
    order: Vec<u32>,
    /// Reused: per span, its lane.
    lane_of: Vec<u32>,
    /// Reused: per lane, the spans (indices) open on it, innermost last.
    lanes: Vec<Vec<u32>>,
}

impl<W: Write> ChromeWriter<W> {
    /// Starts the document on `w` for traces of `model`.
    pub fn new(mut w: W, model: &Model) -> io::Result<Self> {
        w.write_all(b"{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"microsim ")?;
        w.write_all(env!("CARGO_PKG_VERSION").as_bytes())?;
        w.write_all(b"\",\"scenario\":")?;
        json_str(&mut w, &model.name)?;
        write!(
            w,
            ",\"seed\":\"{}\",\"time\":\"simulated, since the run's start\"}},\"traceEvents\":[",
            model.seed
        )?;
        Ok(ChromeWriter {
            w,
            names: Names::new(model),
            traces: 0,
            order: Vec::new(),
            lane_of: Vec::new(),
            lanes: Vec::new(),
        })
    }

    /// Assigns every span of `t` a lane (see the module docs); returns the
    /// number of lanes used.
    fn assign_lanes(&mut self, t: &Trace) -> usize {
        let spans = &t.spans;
        self.order.clear();
        self.order.extend(0..spans.len() as u32);
        self.order.sort_unstable_by_key(|&i| {
            let s = &spans[i as usize];
            (s.start, std::cmp::Reverse(s.end), i)
        });
        self.lane_of.clear();
        self.lane_of.resize(spans.len(), 0);
        let mut used = 0;
        for &i in &self.order {
            let s = &spans[i as usize];
            let mut lane = used;
            for (l, open) in self.lanes[..used].iter_mut().enumerate() {
                // Spans come in order of start: what ended by now never
                // matters again on this lane.
                while open
                    .last()
                    .is_some_and(|&j| spans[j as usize].end <= s.start)
                {
                    open.pop();
                }
                let fits = match open.last() {
                    None => true,
                    Some(&j) => spans[j as usize].end >= s.end && is_ancestor(spans, j, s.parent),
                };
                if fits {
                    lane = l;
                    break;
                }
            }
            if lane == used {
                if self.lanes.len() == used {
                    self.lanes.push(Vec::new());
                }
                self.lanes[used].clear();
                used += 1;
            }
            self.lanes[lane].push(i);
            self.lane_of[i as usize] = lane as u32;
        }
        used
    }
}

/// Whether span `a` is `parent` or one of its ancestors.
fn is_ancestor(spans: &[super::Span], a: u32, mut parent: u32) -> bool {
    while parent != NO_PARENT {
        if parent == a {
            return true;
        }
        parent = spans[parent as usize].parent;
    }
    false
}

impl<W: Write> TraceSink for ChromeWriter<W> {
    fn write(&mut self, _model: &Model, t: &Trace) -> io::Result<()> {
        let lanes = self.assign_lanes(t);
        self.traces += 1;
        let pid = self.traces;
        let w = &mut self.w;
        if pid > 1 {
            w.write_all(b",\n")?;
        }
        write!(
            w,
            "{{\"ph\":\"M\",\"pid\":{pid},\"tid\":0,\"name\":\"process_name\",\"args\":{{\"name\":"
        )?;
        json_str(w, &trace_label(&self.names, t))?;
        write!(
            w,
            "}}}},\n{{\"ph\":\"M\",\"pid\":{pid},\"tid\":0,\"name\":\"process_sort_index\",\"args\":{{\"sort_index\":{pid}}}}}"
        )?;
        for l in 0..lanes {
            write!(
                w,
                ",\n{{\"ph\":\"M\",\"pid\":{pid},\"tid\":{l},\"name\":\"thread_name\",\"args\":{{\"name\":\"lane {l}\"}}}}"
            )?;
        }
        for (i, s) in t.spans.iter().enumerate() {
            w.write_all(b",\n{\"ph\":\"X\",\"name\":")?;
            json_str(w, self.names.span_name(s))?;
            write!(
                w,
                ",\"cat\":\"{}\",\"pid\":{pid},\"tid\":{},\"ts\":",
                s.kind.name(),
                self.lane_of[i]
            )?;
            write_us(w, s.start)?;
            w.write_all(b",\"dur\":")?;
            write_us(w, s.end.saturating_sub(s.start))?;
            write!(
                w,
                ",\"args\":{{\"span_id\":\"{:016x}\"",
                span_id(t.id, i as u32)
            )?;
            if s.parent != NO_PARENT {
                write!(w, ",\"parent_id\":\"{:016x}\"", span_id(t.id, s.parent))?;
            }
            write!(w, ",\"kind\":\"{}\",\"endpoint\":", s.kind.name())?;
            json_str(w, &self.names.endpoint[s.endpoint as usize])?;
            if let Some(r) = self.names.replica(s) {
                w.write_all(b",\"replica\":")?;
                json_str(w, r)?;
            }
            if let Some(f) = self.names.lookup_for(s) {
                w.write_all(b",\"lookup_for\":")?;
                json_str(w, f)?;
            }
            write!(w, ",\"attempt\":{}", s.attempt)?;
            if let Some(q) = s.queue_wait {
                write!(w, ",\"queue_wait_ns\":{q}")?;
            }
            write!(w, ",\"outcome\":\"{}\"", outcome_name(s.outcome))?;
            if let Some(c) = cause_name(s.outcome) {
                write!(w, ",\"cause\":\"{c}\"")?;
            }
            if i == 0 {
                write!(w, ",\"trace_id\":\"{:032x}\",\"workload\":", t.id)?;
                json_str(w, &self.names.workload[t.workload as usize])?;
                write!(
                    w,
                    ",\"request\":{},\"sampled_by\":\"{}\"",
                    t.seq,
                    t.reason.name()
                )?;
                if t.dropped > 0 {
                    write!(w, ",\"dropped_spans\":{}", t.dropped)?;
                }
            }
            w.write_all(b"}}")?;
        }
        Ok(())
    }

    fn finish(&mut self, _model: &Model) -> io::Result<()> {
        self.w.write_all(b"]}\n")?;
        self.w.flush()
    }
}
