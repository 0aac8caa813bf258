//! Latency attribution in the engine: every invocation, call and acked
//! publish in flight carries an accumulator of nanoseconds per component
//! ([`crate::metrics::attribution::Components`]), charged as its time
//! passes (queued, working, network, lookup, backoff, lost attempts) and
//! merged into its caller's when it answers. A parallel group merges only
//! the branch that answered last, the one on the critical path. When a
//! workload's request ends, its accumulator adds up to its latency and
//! goes to the workload's [`AttributionMeter`].
//!
//! Accumulators live in one flat arena with reused slots, so memory is
//! bounded by what is in flight and the steady state allocates nothing.

use super::World;
use crate::metrics::attribution::{AttributionMeter, Components, WorkloadAttribution};
use crate::model::Model;
use indexmap::IndexMap;

/// Attribution state of a run.
pub struct AttributionState {
    /// The component layout.
    pub comps: Components,
    /// Per workload, its meter.
    pub meters: Vec<AttributionMeter>,
}

impl AttributionState {
    /// Empty state for `model`.
    pub fn new(model: &Model) -> Self {
        let comps = Components::new(model);
        AttributionState {
            comps,
            meters: vec![AttributionMeter::new(comps); model.workloads.len()],
        }
    }
}

impl World<'_> {
    /// Per workload with measured successful requests, its attribution.
    pub fn attribution_summary(&self) -> IndexMap<String, WorkloadAttribution> {
        let model = self.model;
        model
            .workloads
            .iter()
            .zip(&self.attribution.meters)
            .zip(&self.workload_meters)
            .filter_map(|((w, a), m)| {
                a.summary(model, m.latency.quantile(0.99))
                    .map(|s| (w.name.clone(), s))
            })
            .collect()
    }
}
