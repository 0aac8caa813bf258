//! What messaging and eventual consistency did: per topic and
//! subscription (published, stored, lost, delivered, redelivered,
//! dead-lettered, lag, end-to-end latency) and per data copy (the
//! inconsistency window and stale reads), with their time-series rows.
//!
//! Counts follow events published after the warm-up to their end, so
//! they add up: for a topic, `published = stored + lost + in_outbox +
//! unacked`; for each of its subscriptions, `stored = delivered +
//! dead_lettered + dropped + pending`.

use super::latency::LatencySummary;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Messaging over the measured period (`summary.json`'s `messaging`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagingSummary {
    /// Per topic, in model order.
    pub topics: IndexMap<String, TopicSummary>,
    /// Per data copy, named `DATA@HOLDER`, in model order; empty without
    /// `[data]`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub copies: IndexMap<String, CopySummary>,
}

/// One topic: what its publishers sent and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicSummary {
    /// The broker holding the topic.
    pub broker: String,
    /// Events published after the warm-up (publish steps run, outbox
    /// writes included).
    pub published: u64,
    /// Of those, events the broker stored.
    pub stored: u64,
    /// Of those, events the broker never stored: the publish failed or
    /// timed out (broker unreachable, overloaded or partitioned) and no
    /// outbox kept them.
    pub lost: u64,
    /// Of those, events still in a publisher's outbox at the end.
    pub in_outbox: u64,
    /// Of those, publishes still waiting for the broker at the end.
    pub unacked: u64,
    /// Per subscribing service, in model order.
    pub subscriptions: IndexMap<String, SubscriptionSummary>,
}

/// One service's subscription to a topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionSummary {
    /// The handler endpoint, `service.endpoint`.
    pub handler: String,
    /// Stored events (published after the warm-up) whose handler
    /// succeeded and was acknowledged.
    pub delivered: u64,
    /// Deliveries made (handler invocations started), redeliveries
    /// included.
    pub deliveries: u64,
    /// Deliveries beyond each event's first: after a handler failure or
    /// ack timeout, or a lost ack.
    pub redelivered: u64,
    /// Events given up after `max_attempts` deliveries.
    pub dead_lettered: u64,
    /// Events dropped because the subscription's queue was full.
    pub dropped: u64,
    /// Events stored and not yet delivered at the end (the lag then).
    pub pending: u64,
    /// The largest lag (events stored and not yet acknowledged) seen at
    /// any time of the measured period.
    pub max_lag: u64,
    /// Time-weighted mean lag over the measured period.
    pub mean_lag: f64,
    /// End-to-end: from the publish step to the handler's first success,
    /// for delivered events; `null` when none.
    pub delivery_latency_ms: Option<LatencySummary>,
}

/// One service's copy of a data set owned by another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopySummary {
    /// The data set.
    pub data: String,
    /// The service owning (writing) it.
    pub owner: String,
    /// The service keeping this copy.
    pub holder: String,
    /// The topic carrying the writes.
    pub topic: String,
    /// Distinct items.
    pub keys: u32,
    /// The whole measured period.
    pub all: ConsistencyPeriod,
    /// Writes made and reads done while no fault's effect lasted; `null`
    /// when the scenario has no faults.
    pub outside_faults: Option<ConsistencyPeriod>,
    /// Writes made and reads done while some fault's effect lasted; `null`
    /// when the scenario has no faults.
    pub during_faults: Option<ConsistencyPeriod>,
    /// Items whose copy was behind the owner at the end.
    pub stale_keys_at_end: u64,
}

/// The inconsistency of a copy over a period: writes by the time they
/// were made, reads by the time they were done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsistencyPeriod {
    /// Writes of the owner after the warm-up.
    pub writes: u64,
    /// Of those, writes whose own event reached the copy before the end
    /// (applied, or found already superseded by a newer version).
    pub converged: u64,
    /// Writes whose own event never reached the copy before the end (lost,
    /// dead-lettered, dropped or still pending), even if a newer write of
    /// the same item did.
    pub unconverged: u64,
    /// Inconsistency window of the converged writes: from the owner's
    /// write to the copy holding that version or a newer one (for an event
    /// that arrives after a newer one was applied, to the latest such
    /// apply: an upper bound); `null` when none.
    pub window_ms: Option<LatencySummary>,
    /// Reads of the copy.
    pub reads: u64,
    /// Of those, reads that saw an item older than the owner's.
    pub stale_reads: u64,
    /// stale_reads / reads; `null` without reads.
    pub stale_read_rate: Option<f64>,
}

/// One subscription in one time-series window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionWindow {
    /// Window start, in seconds of simulated time.
    pub start_s: f64,
    /// Window end (exclusive), in seconds of simulated time.
    pub end_s: f64,
    /// The topic.
    pub topic: String,
    /// The subscribing service.
    pub subscriber: String,
    /// Events of the topic published in the window.
    pub published: u64,
    /// Events the subscription acknowledged in the window.
    pub delivered: u64,
    /// Redeliveries in the window.
    pub redelivered: u64,
    /// Events dead-lettered in the window.
    pub dead_lettered: u64,
    /// Lag at the end of the window: events stored and not yet
    /// acknowledged.
    pub lag: u64,
    /// The largest lag during the window.
    pub max_lag: u64,
    /// Events of the topic waiting in publishers' outboxes at the end of
    /// the window (written, not yet stored by the broker): the backlog a
    /// broker outage builds up before it can become lag.
    pub in_outboxes: u64,
}

/// One data copy in one time-series window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyWindow {
    /// Window start, in seconds of simulated time.
    pub start_s: f64,
    /// Window end (exclusive), in seconds of simulated time.
    pub end_s: f64,
    /// The copy, `DATA@HOLDER`.
    pub copy: String,
    /// Writes the copy caught up with in the window.
    pub converged: u64,
    /// Median inconsistency window of those, in ms.
    pub window_p50_ms: Option<f64>,
    /// 99th percentile of those, in ms.
    pub window_p99_ms: Option<f64>,
    /// The longest of those, in ms.
    pub window_max_ms: Option<f64>,
    /// Reads of the copy in the window.
    pub reads: u64,
    /// Of those, stale reads.
    pub stale_reads: u64,
}
