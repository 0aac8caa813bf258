//! Orchestrated sagas: compensating the steps already done, in reverse,
//! when a later step fails. (Skeleton: the saga part fills it in.)

use super::outcome::{Cause, Outcome};
use super::request::InvId;
use super::World;
use crate::engine::SimTime;
use crate::metrics::saga::SagaSummary;
use crate::model::Model;
use indexmap::IndexMap;

/// Saga meters per saga endpoint.
#[derive(Debug, Default)]
pub struct SagaState {}

impl SagaState {
    /// Zeroed meters for `model`'s saga endpoints.
    pub fn new(_model: &Model) -> Self {
        SagaState {}
    }
}

impl World<'_> {
    /// A step of saga invocation `id` failed with `cause`: compensate the
    /// steps done, or answer the failure when there are none.
    pub(super) fn saga_step_failed(&mut self, id: InvId, cause: Cause) {
        self.finish(id, Outcome::Failed(cause));
    }

    /// A compensating call of invocation `id` answered.
    pub(super) fn on_compensation_reply(&mut self, _id: InvId, _outcome: Outcome) {}

    /// Saga invocation `id` ends with `outcome` (called from `finish`).
    pub(super) fn saga_ended(&mut self, _id: InvId, _outcome: Outcome) {}

    /// Saga invocation `id` is lost in a crash of its replica.
    pub(super) fn saga_interrupted(&mut self, _id: InvId) {}

    /// Per saga endpoint, how its sagas ended.
    pub fn saga_summaries(&self, _end: SimTime) -> IndexMap<String, SagaSummary> {
        IndexMap::new()
    }
}
