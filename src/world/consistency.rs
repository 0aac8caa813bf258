//! Copies of data kept eventually consistent by events: versions per
//! item, inconsistency windows and stale reads. (Skeleton: the messaging
//! part fills it in.)

use super::World;
use crate::model::messaging::CopyId;
use crate::model::Model;

/// Run-time state of the data copies.
#[derive(Debug, Default)]
pub struct ConsistencyState {}

impl ConsistencyState {
    /// Empty state for `model`.
    pub fn new(_model: &Model) -> Self {
        ConsistencyState {}
    }
}

impl World<'_> {
    /// A read step reads one item of copy `copy`.
    pub(super) fn read_copy(&mut self, _copy: CopyId) {}
}
