//! What the trace writers share: names looked up once from the model,
//! deterministic span ids, and the small pieces of JSON both formats write
//! by hand (they stream, so they do not build a document in memory).

use super::{Span, SpanKind, SpanOutcome, Trace, NO_REPLICA, NO_SERVICE};
use crate::model::Model;
use std::io::{self, Write};

/// Names of a model's endpoints, services, replicas and workloads, built
/// once per writer so that writing a trace formats no name.
#[derive(Debug, Clone)]
pub struct Names {
    /// Per endpoint: its name (`service.endpoint`), the span name of spans
    /// other than lookups and publishes.
    pub endpoint: Vec<String>,
    /// Per endpoint: its service's name.
    pub service_of: Vec<String>,
    /// Per endpoint: its service's index.
    pub service_index: Vec<u32>,
    /// Per endpoint: `publish TOPIC` when it is a topic's endpoint at its
    /// broker, else `publish ENDPOINT`.
    pub publish: Vec<String>,
    /// Per endpoint: `lookup SERVICE` (the registry's name), for a lookup
    /// made for no particular service.
    pub lookup: Vec<String>,
    /// Per service: `lookup SERVICE (REGISTRY)`, the name of a lookup of
    /// that service (empty without a registry).
    pub lookup_for: Vec<String>,
    /// Per global replica index: `service-N` (N counted from 0 within the
    /// service, as in fault outages).
    pub replica: Vec<String>,
    /// Per workload: its name.
    pub workload: Vec<String>,
    /// Per service: its name.
    pub service: Vec<String>,
}

impl Names {
    /// The names of `model`.
    pub fn new(model: &Model) -> Self {
        let service_of: Vec<String> = model
            .endpoints
            .iter()
            .map(|e| model.services[e.service as usize].name.clone())
            .collect();
        let publish = (0..model.endpoints.len())
            .map(|e| {
                let topic = model
                    .messaging
                    .topics
                    .iter()
                    .find(|t| t.endpoint as usize == e);
                match topic {
                    Some(t) => format!("publish {}", t.name),
                    None => format!("publish {}", model.endpoints[e].name),
                }
            })
            .collect();
        let lookup_for = match &model.registry {
            Some(r) => {
                let registry = &service_of[r.lookup as usize];
                model
                    .services
                    .iter()
                    .map(|s| format!("lookup {} ({registry})", s.name))
                    .collect()
            }
            None => Vec::new(),
        };
        Names {
            endpoint: model.endpoints.iter().map(|e| e.name.clone()).collect(),
            service_index: model.endpoints.iter().map(|e| e.service).collect(),
            lookup: service_of.iter().map(|s| format!("lookup {s}")).collect(),
            lookup_for,
            service_of,
            publish,
            // Replica slots are numbered globally, service after service
            // (as the engine lays them out).
            replica: model
                .services
                .iter()
                .flat_map(|s| (0..s.slots).map(move |i| format!("{}-{i}", s.name)))
                .collect(),
            workload: model.workloads.iter().map(|w| w.name.clone()).collect(),
            service: model.services.iter().map(|s| s.name.clone()).collect(),
        }
    }

    /// The span's display name.
    pub fn span_name(&self, s: &Span) -> &str {
        let e = s.endpoint as usize;
        match s.kind {
            SpanKind::Lookup => self
                .lookup_for
                .get(s.lookup_for as usize)
                .unwrap_or(&self.lookup[e]),
            SpanKind::Publish => &self.publish[e],
            _ => &self.endpoint[e],
        }
    }

    /// For a lookup made for a call, the name of the service looked up.
    pub fn lookup_for(&self, s: &Span) -> Option<&str> {
        (s.lookup_for != NO_SERVICE)
            .then(|| self.service.get(s.lookup_for as usize).map(String::as_str))
            .flatten()
    }

    /// The replica's name, or `None` when the span reached none.
    pub fn replica(&self, s: &Span) -> Option<&str> {
        (s.replica != NO_REPLICA)
            .then(|| self.replica.get(s.replica as usize).map(String::as_str))
            .flatten()
    }
}

/// A span's outcome in attributes (`microsim.outcome`).
pub fn outcome_name(o: SpanOutcome) -> &'static str {
    match o {
        SpanOutcome::Open => "open",
        SpanOutcome::Ok => "ok",
        SpanOutcome::Degraded => "degraded",
        SpanOutcome::Failed(_) => "failed",
        SpanOutcome::Unfinished => "unfinished",
    }
}

/// The failure cause of an outcome, if it failed.
pub fn cause_name(o: SpanOutcome) -> Option<&'static str> {
    match o {
        SpanOutcome::Failed(c) => Some(c.name()),
        _ => None,
    }
}

/// The span id of span `index` of trace `id`: 64 bits, never zero (OTLP
/// reserves zero for "no span"), distinct within a trace. A bijective mix
/// of the trace's low half plus the index gives distinct ids for distinct
/// indices; the one index that would map to zero takes the id of an index
/// past [`super::recorder::MAX_SPANS`] instead, which no span has.
pub fn span_id(trace: u128, index: u32) -> u64 {
    let base = (trace as u64) ^ ((trace >> 64) as u64).rotate_left(17);
    let id = mix(base.wrapping_add(u64::from(index)));
    if id != 0 {
        id
    } else {
        mix(base.wrapping_add(super::recorder::MAX_SPANS as u64 + 1))
    }
}

/// SplitMix64's finaliser: a bijection on `u64` that maps 0 to 0.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Writes `s` as a JSON string (quoted, escaped).
pub fn json_str<W: Write>(w: &mut W, s: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *w, s).map_err(io::Error::other)
}

/// Writes `ns` nanoseconds as microseconds with exactly three decimals
/// ("12.345" for 12,345 ns), from integers: no float rounding.
pub fn write_us<W: Write>(w: &mut W, ns: u64) -> io::Result<()> {
    write!(w, "{}.{:03}", ns / 1000, ns % 1000)
}

/// The trace's process label in Chrome traces and a readable summary of
/// its outcome: "checkout #1234 (failed: timeout)".
pub fn trace_label(names: &Names, t: &Trace) -> String {
    let root = &t.spans[0];
    let outcome = match root.outcome {
        SpanOutcome::Failed(c) => format!("failed: {}", c.name()),
        o => outcome_name(o).to_string(),
    };
    format!(
        "{} #{} ({outcome})",
        names.workload[t.workload as usize], t.seq
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_ids_are_distinct_and_nonzero() {
        for trace in [0u128, 1, u128::MAX, 0x1234_5678_9abc_def0_u128 << 64] {
            let ids: std::collections::BTreeSet<u64> =
                (0..2000).map(|i| span_id(trace, i)).collect();
            assert_eq!(ids.len(), 2000);
            assert!(!ids.contains(&0));
        }
    }

    #[test]
    fn microseconds_are_exact() {
        let s = |ns| {
            let mut v = Vec::new();
            write_us(&mut v, ns).unwrap();
            String::from_utf8(v).unwrap()
        };
        assert_eq!(s(12_345), "12.345");
        assert_eq!(s(5), "0.005");
        assert_eq!(s(3_600_000_000_001), "3600000000.001");
    }
}
