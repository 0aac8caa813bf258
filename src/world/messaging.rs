//! Brokers, publishes, outboxes, subscriptions and at-least-once
//! delivery. (Skeleton: the messaging part fills it in.)

use super::outcome::Outcome;
use super::request::InvId;
use super::World;
use crate::engine::SimTime;
use crate::metrics::messaging::MessagingSummary;
use crate::model::{EndpointId, Model, PublishSite};

/// Run-time state of messaging.
#[derive(Debug, Default)]
pub struct MessagingState {}

impl MessagingState {
    /// Empty state for `model`.
    pub fn new(_model: &Model) -> Self {
        MessagingState {}
    }
}

impl World<'_> {
    /// Schedules what messaging needs at time 0.
    pub(super) fn start_messaging(&mut self) {}

    /// Invocation `id` (of service `sid`) runs a publish step. True when
    /// it now waits for the broker's ack; false when the step is done.
    pub(super) fn publish(&mut self, _id: InvId, _sid: usize, _site: PublishSite) -> bool {
        false
    }

    /// Whether message `msg` is still at attempt `tag`.
    pub(super) fn publish_current(&self, _msg: u32, _tag: u32) -> bool {
        false
    }

    /// Whether delivery `delivery` is still at attempt `tag`.
    pub(super) fn delivery_current(&self, _delivery: u32, _tag: u32) -> bool {
        false
    }

    /// The broker's invocation of topic endpoint `endpoint` for message
    /// `msg` ended with `outcome`.
    pub(super) fn publish_done(
        &mut self,
        _msg: u32,
        _tag: u32,
        _endpoint: EndpointId,
        _outcome: Outcome,
    ) {
    }

    /// A subscription handler's invocation for delivery `delivery` ended.
    pub(super) fn handler_done(&mut self, _delivery: u32, _tag: u32, _outcome: Outcome) {}

    pub(super) fn on_publish_reply(&mut self, _msg: u32, _tag: u32, _ok: bool) {}

    pub(super) fn on_publish_timeout(&mut self, _msg: u32, _tag: u32) {}

    pub(super) fn on_relay_resume(&mut self, _service: u32) {}

    pub(super) fn on_delivery_arrive(&mut self, _delivery: u32, _tag: u32) {}

    pub(super) fn on_delivery_timeout(&mut self, _delivery: u32, _tag: u32) {}

    pub(super) fn on_redeliver(&mut self, _delivery: u32, _tag: u32) {}

    pub(super) fn on_consumer_retry(&mut self, _subscription: u32) {}

    /// Appends the time-series rows of the window `[start, now)`.
    pub(super) fn close_messaging_window(&mut self, _start: SimTime) {}

    /// Topics, subscriptions and copies over the measured period; `None`
    /// without brokers.
    pub fn messaging_summary(&self, _end: SimTime) -> Option<MessagingSummary> {
        None
    }
}
