//! Asynchronous messaging and the data it carries between services:
//! brokers and their topics, services' subscriptions, and copies of data
//! kept eventually consistent by events.
//!
//! A broker is a service of the model in its own right (like the
//! registry): named after its `[brokers.NAME]` table, appended after the
//! user's services, with one endpoint per topic (`NAME.TOPIC`) whose work
//! is the broker's publish latency. So it has replicas, queues,
//! utilisation and a price, and faults aimed at `service = "NAME"` crash
//! or slow it with the normal fault syntax. Publishing an event is a call
//! of the topic's endpoint; when that invocation finishes, the broker has
//! stored the event, and delivers a copy to every subscription of the
//! topic, at least once.

use super::{EndpointId, ServiceId};
use crate::dist::Dist;
use crate::engine::SimTime;

/// Index of a broker in [`Messaging::brokers`].
pub type BrokerId = u32;
/// Index of a topic in [`Messaging::topics`].
pub type TopicId = u32;
/// Index of a subscription in [`Messaging::subscriptions`].
pub type SubscriptionId = u32;
/// Index of a kept copy in [`Messaging::copies`].
pub type CopyId = u32;
/// Index of a replicated data set in [`Messaging::data`].
pub type DataId = u32;

/// Everything about messaging in a scenario; empty (the default) when it
/// has no `[brokers]`.
#[derive(Debug, Clone, Default)]
pub struct Messaging {
    /// `[brokers.NAME]`, in file order.
    pub brokers: Vec<Broker>,
    /// Every broker's topics, brokers in file order, each broker's topics
    /// in the order of its `topics` list.
    pub topics: Vec<Topic>,
    /// Every service's `[services.S.subscriptions.TOPIC]`, services in
    /// file order, then subscriptions in file order.
    pub subscriptions: Vec<Subscription>,
    /// `[data.NAME]`, in file order.
    pub data: Vec<Data>,
    /// Every data set's copies: data in file order, then its `copies`
    /// list in order.
    pub copies: Vec<Copy>,
}

impl Messaging {
    /// Whether the scenario has any broker (else the engine skips all
    /// messaging work and results have no messaging sections).
    pub fn on(&self) -> bool {
        !self.brokers.is_empty()
    }
}

impl super::Model {
    /// Data copy `c`'s name in results: `DATA@HOLDER`.
    pub fn copy_name(&self, c: &Copy) -> String {
        format!(
            "{}@{}",
            self.messaging.data[c.data as usize].name, self.services[c.holder as usize].name
        )
    }
}

/// A message broker (`[brokers.NAME]`).
#[derive(Debug, Clone)]
pub struct Broker {
    /// Its name: also the name of its service.
    pub name: String,
    /// Its service in [`super::Model::services`] (replicas, concurrency,
    /// startup and price are the service's).
    pub service: ServiceId,
    /// Its topics, as ids into [`Messaging::topics`].
    pub topics: Vec<TopicId>,
    /// Time from the event being stored to a consumer receiving it
    /// (`delivery_latency`), drawn per delivery.
    pub delivery_latency: Dist,
    /// How long a publisher waits for the broker's ack before it gives the
    /// publish up (`publish_timeout`); fire-and-forget publishes and
    /// outbox relays use it too, to learn that an event went nowhere.
    pub publish_timeout: SimTime,
    /// While the broker is unreachable, consumers and outbox relays try
    /// again after this long (`reconnect`).
    pub reconnect: SimTime,
}

/// A topic of a broker.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    /// Its name, unique across brokers.
    pub name: String,
    /// The broker holding it.
    pub broker: BrokerId,
    /// The broker's endpoint a publish to this topic calls
    /// (`BROKER.TOPIC`); its work is the broker's publish latency.
    pub endpoint: EndpointId,
    /// Its subscriptions, as ids into [`Messaging::subscriptions`].
    pub subscriptions: Vec<SubscriptionId>,
    /// The data set whose writes its events carry, if a `[data.NAME]`
    /// names this topic.
    pub data: Option<DataId>,
}

/// A service's subscription to a topic
/// (`[services.S.subscriptions.TOPIC]`): a consumer group of one service.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// `SERVICE` subscribing (its name in results is `TOPIC->SERVICE`).
    pub service: ServiceId,
    /// The topic.
    pub topic: TopicId,
    /// The endpoint of `service` that handles each event (admitted on the
    /// service's replicas like any call: balancer, workers, queue).
    pub handler: EndpointId,
    /// Handlers in flight at once (consumer concurrency).
    pub concurrency: u32,
    /// Lag (events stored and not yet acknowledged, dead-lettered or
    /// dropped: waiting, in a handler or waiting for redelivery) beyond
    /// which new events are dropped and counted; `None`: unbounded.
    pub queue_capacity: Option<u32>,
    /// Deliveries of one event before it is dead-lettered (the first
    /// included; at least 1).
    pub max_attempts: u32,
    /// A handler not finished this long after its delivery counts as
    /// failed and the event is delivered again (it keeps running).
    pub ack_timeout: SimTime,
    /// Wait before a failed event is delivered again.
    pub redelivery_delay: SimTime,
}

/// A data set owned by one service and copied into others by events
/// (`[data.NAME]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// Its name.
    pub name: String,
    /// The service that owns it: its publishes to `topic` are its writes.
    pub owner: ServiceId,
    /// The topic carrying the writes to the copies.
    pub topic: TopicId,
    /// Distinct items (e.g. one email per user): each write and each read
    /// picks one uniformly at random.
    pub keys: u32,
    /// Its copies, as ids into [`Messaging::copies`].
    pub copies: Vec<CopyId>,
}

/// One service's copy of a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Copy {
    /// The data set.
    pub data: DataId,
    /// The service keeping the copy (its name in results is
    /// `DATA@SERVICE`).
    pub holder: ServiceId,
    /// The holder's subscription to the data's topic, whose successful
    /// handlers update the copy.
    pub subscription: SubscriptionId,
}

/// A `publish` step: send an event to a topic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublishSite {
    /// The topic.
    pub topic: TopicId,
    /// Wait for the broker's ack (a failed or timed-out publish then fails
    /// the step, or degrades it when `optional`); false: fire and forget,
    /// the step ends at once and a publish that fails is only counted.
    pub ack: bool,
    /// Write the event to the service's outbox in the same transaction
    /// instead: the step ends at once and a relay publishes it, retrying
    /// while the broker is unreachable, so nothing is lost.
    pub outbox: bool,
    /// A failed acked publish does not fail the request (it is degraded).
    pub optional: bool,
    /// Whether this publish is a write of the topic's data set: the
    /// publishing service owns it.
    pub write: bool,
}

/// A `read` step: read one item of a data set's copy kept by this
/// service; counted as stale when the owner has written the item since
/// the copy last heard of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadSite {
    /// The copy read (of this service).
    pub copy: CopyId,
}

/// An orchestrated saga: an endpoint whose call steps may each have a
/// compensating call, run in reverse order for the steps already done
/// when a later step fails.
#[derive(Debug, Clone, PartialEq)]
pub struct Saga {
    /// Per step of the endpoint (same indices as `Endpoint::steps`): the
    /// call that undoes it, if any. Only `Step::Call` steps have one.
    pub compensations: Vec<Option<super::CallSite>>,
}

impl Saga {
    /// Whether any step before `step` has a compensation.
    pub fn compensates_before(&self, step: usize) -> bool {
        self.compensations[..step.min(self.compensations.len())]
            .iter()
            .any(Option::is_some)
    }
}
