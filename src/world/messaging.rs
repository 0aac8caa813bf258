//! Brokers, publishes, outboxes, subscriptions and at-least-once
//! delivery.
//!
//! A publish is a message record (in a slab with reused slots) that lives
//! until the publisher's side is settled (stored and acked, or lost) and
//! every subscription's delivery record of it has ended (acked,
//! dead-lettered). Each publish attempt moves the record's tag on, so a
//! late ack, refusal or timeout of an earlier attempt is recognised and
//! ignored, like the call records of `world/call.rs`.
//!
//! Publishing sends one invocation of the topic's endpoint to the broker's
//! service (so the broker's replicas, queue, rejection and faults apply);
//! when it finishes successfully the broker stores the event: one delivery
//! record per subscription of the topic joins that subscription's backlog.
//! A subscription delivers up to `concurrency` events at once; each
//! delivery invokes the handler endpoint on the subscribing service, and
//! the event is acked when the handler succeeds and the broker is running
//! to take the ack. A failed handler, an ack timeout or a lost ack sends
//! the event back to the end of the backlog after `redelivery_delay`,
//! until `max_attempts` deliveries were made: then it is dead-lettered.
//!
//! Choices where the spec is silent:
//! - A stored event is durable: a broker crash after storing it loses
//!   nothing already stored (only publishes inside the crashed replica).
//! - A publish timeout that fires after the broker stored the event (its
//!   ack still one hop away) is ignored: the ack settles it, so a stored
//!   event is never counted lost nor sent again.
//! - `delivery_latency` is the whole broker-to-consumer path: a delivery
//!   adds no separate network hop (it counts as a network call into the
//!   subscriber for the cost model).
//! - A relay sends its outbox in order; when the broker of the oldest row
//!   has no running replica it pauses for that broker's `reconnect`, so a
//!   service publishing to two brokers waits for the one that is down.
//! - A handler that succeeds after its ack timeout still updates the copy
//!   (its side effect happened) but is not an ack: the event comes again.
//!
//! Memory is bounded by what is in flight or backlogged: records are freed
//! when they end, and the per-subscription backlogs are `VecDeque`s that
//! keep their capacity.

use super::outcome::{Cause, Outcome};
use super::request::{InvId, Invocation, Parent};
use super::{hop, Event, World};
use crate::engine::{rng, SimTime, Stream};
use crate::metrics::integral::TimeIntegral;
use crate::metrics::latency::LatencyStats;
use crate::metrics::messaging::{
    MessagingSummary, SubscriptionSummary, SubscriptionWindow, TopicSummary,
};
use crate::model::messaging::{DataId, SubscriptionId, TopicId};
use crate::model::{EndpointId, Model, PublishSite, ServiceId};
use indexmap::IndexMap;
use std::collections::VecDeque;

/// Publishes an outbox relay keeps in flight at once per service: a relay
/// is a loop sending a batch of outbox rows and waiting for their acks;
/// 64 keeps it from being the bottleneck of any realistic publish rate
/// while bounding how many publishes pile onto a broker that just came
/// back.
pub const RELAY_WINDOW: u32 = 64;

/// `Message::data` of an event that is no data write.
pub const NO_DATA: DataId = u32::MAX;

/// A slab of records with a free list, each slot carrying a tag that moves
/// on with every attempt and when the slot is freed: events carrying an
/// older tag are stale. Like [`super::call::Calls`], generic over the
/// record.
#[derive(Debug)]
pub struct TagSlab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
}

#[derive(Debug)]
struct Slot<T> {
    rec: T,
    tag: u32,
    /// The tag the record had when it was stored: tags from `first` to
    /// `tag` are the record's own attempts, anything else is another
    /// record's.
    first: u32,
    live: bool,
}

impl<T> Default for TagSlab<T> {
    fn default() -> Self {
        TagSlab {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> TagSlab<T> {
    /// Stores `rec` in a free slot (or a new one); its tag continues from
    /// the slot's last one.
    pub fn alloc(&mut self, rec: T) -> u32 {
        match self.free.pop() {
            Some(id) => {
                let s = &mut self.slots[id as usize];
                s.rec = rec;
                s.first = s.tag;
                s.live = true;
                id
            }
            None => {
                self.slots.push(Slot {
                    rec,
                    tag: 0,
                    first: 0,
                    live: true,
                });
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Frees slot `id`; its tag moves on so late events are stale.
    pub fn release(&mut self, id: u32) {
        let s = &mut self.slots[id as usize];
        debug_assert!(s.live, "double release of record {id}");
        s.live = false;
        s.tag = s.tag.wrapping_add(1);
        self.free.push(id);
    }

    /// Moves record `id` to a new attempt; returns the new tag.
    pub fn next_tag(&mut self, id: u32) -> u32 {
        let s = &mut self.slots[id as usize];
        s.tag = s.tag.wrapping_add(1);
        s.tag
    }

    /// The current tag of record `id`.
    pub fn tag(&self, id: u32) -> u32 {
        self.slots[id as usize].tag
    }

    /// Whether `id` is live and still at attempt `tag`.
    pub fn is_current(&self, id: u32, tag: u32) -> bool {
        let s = &self.slots[id as usize];
        s.live && s.tag == tag
    }

    /// Whether `tag` is one of the live record `id`'s own attempts (the
    /// current one or an earlier one), not a previous occupant's.
    pub fn is_own(&self, id: u32, tag: u32) -> bool {
        let s = &self.slots[id as usize];
        s.live && s.tag.wrapping_sub(tag) <= s.tag.wrapping_sub(s.first)
    }

    /// The record in slot `id`.
    pub fn get(&self, id: u32) -> &T {
        &self.slots[id as usize].rec
    }

    /// The record in slot `id`, mutably.
    pub fn get_mut(&mut self, id: u32) -> &mut T {
        &mut self.slots[id as usize].rec
    }

    /// Records alive.
    pub fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// The live records, in slot order.
    pub fn iter_live(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter(|s| s.live).map(|s| &s.rec)
    }
}

/// Who published a message, and who hears how its publish ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Origin {
    /// A publish step waiting for the broker's ack: invocation `inv` of
    /// generation `gen` (it may have died meanwhile).
    Ack {
        /// The publishing invocation.
        inv: InvId,
        /// Its generation.
        gen: u32,
        /// A failure degrades the publisher instead of failing it.
        optional: bool,
    },
    /// A fire-and-forget publish: nobody waits.
    Forget,
    /// A row of service `service`'s outbox, sent by its relay.
    Outbox {
        /// The publishing service.
        service: ServiceId,
    },
}

/// One published event.
#[derive(Debug, Clone, Copy)]
pub struct Message {
    /// The topic.
    pub topic: TopicId,
    /// The publishing service.
    pub from: ServiceId,
    /// When the publish step ran: the owner's write time for a data write.
    pub published_at: SimTime,
    /// Who waits for the publish.
    pub origin: Origin,
    /// Published after the warm-up: followed to its end in the meters.
    pub counted: bool,
    /// The broker stored it (it is never sent again).
    pub stored: bool,
    /// The publisher's side is not settled yet: an attempt is out or the
    /// message waits in an outbox.
    pub publishing: bool,
    /// It sits in its service's outbox (not in flight).
    pub in_outbox: bool,
    /// Why the last attempt failed (for the publisher's answer).
    pub cause: Cause,
    /// The data set it writes, or [`NO_DATA`].
    pub data: DataId,
    /// The item written.
    pub key: u32,
    /// The owner's version of the item after this write.
    pub version: u32,
    /// Delivery records of it still alive.
    pub refs: u32,
    /// An outbox row's place in its outbox (written order); 0 otherwise.
    pub seq: u64,
}

/// One event's journey to one subscription, across its deliveries.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// The subscription.
    pub sub: SubscriptionId,
    /// The message.
    pub msg: u32,
    /// Deliveries made so far (1 = the first).
    pub attempt: u32,
    /// The event's execution record when the handler is tracked.
    pub op: u32,
    /// A handler already updated the subscription's copy for this event.
    pub handled: bool,
    /// The event was published after the warm-up.
    pub counted: bool,
    /// Handler invocations of it still alive (running, queued or
    /// timed out and still working).
    pub running: u32,
    /// The event ended for this subscription (acked or dead-lettered)
    /// while handlers still ran: the record stays until they finish, so
    /// a late success still updates the copy.
    pub ended: bool,
}

/// A service's outbox and its relay.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Messages written and not yet sent (or sent and failed), oldest
    /// first.
    pub queue: VecDeque<u32>,
    /// Publishes of the relay awaiting their ack.
    pub in_flight: u32,
    /// The relay waits for `reconnect` after a failure.
    pub paused: bool,
    /// The next row's `Message::seq`.
    pub next_seq: u64,
}

/// Counters per topic.
#[derive(Debug, Clone, Default)]
pub struct TopicMeter {
    /// Published after the warm-up.
    pub published: u64,
    /// Of those, stored.
    pub stored: u64,
    /// Of those, lost.
    pub lost: u64,
    /// Published in the current window.
    pub win_published: u64,
    /// Events written to outboxes (any time) and not yet stored: the
    /// publishers' backlog while the broker is unreachable.
    pub in_outboxes: u64,
}

/// Run-time state and counters of one subscription.
#[derive(Debug, Clone)]
pub struct SubState {
    /// Delivery records waiting to be delivered, oldest first.
    pub backlog: VecDeque<u32>,
    /// Deliveries in flight (handler not finished or not timed out).
    pub in_flight: u32,
    /// A `ConsumerRetry` is scheduled.
    pub retry_pending: bool,
    /// Delivery latency draws (`subscription/TOPIC->SERVICE`).
    pub rng: Stream,
    /// Events stored and not yet acked, dead-lettered or dropped.
    pub lag: TimeIntegral,
    /// Area of `lag` when the measured period began.
    pub lag_at_warmup: u128,
    /// Largest lag since the warm-up.
    pub max_lag: u64,
    /// Largest lag in the current window.
    pub win_max_lag: u64,
    /// Counted events acked.
    pub delivered: u64,
    /// Deliveries of counted events.
    pub deliveries: u64,
    /// Redeliveries of counted events.
    pub redelivered: u64,
    /// Counted events dead-lettered.
    pub dead_lettered: u64,
    /// Counted events dropped (queue full).
    pub dropped: u64,
    /// Counted events still alive.
    pub pending: u64,
    /// End-to-end latency of counted events acked.
    pub latency: LatencyStats,
    /// Acked in the current window.
    pub win_delivered: u64,
    /// Redeliveries in the current window.
    pub win_redelivered: u64,
    /// Dead-lettered in the current window.
    pub win_dead_lettered: u64,
    /// The copy this subscription's handlers update, if any.
    pub copy: Option<u32>,
}

impl SubState {
    fn set_lag(&mut self, now: SimTime, delta: i64) {
        self.lag.add(now, delta);
        let v = self.lag.value();
        self.win_max_lag = self.win_max_lag.max(v);
        self.max_lag = self.max_lag.max(v);
    }
}

/// Run-time state of messaging.
#[derive(Debug, Default)]
pub struct MessagingState {
    /// Whether the scenario has brokers (else nothing here is used).
    pub on: bool,
    /// Messages alive.
    pub messages: TagSlab<Message>,
    /// Delivery records alive.
    pub deliveries: TagSlab<Delivery>,
    /// Per service (indexed by `ServiceId`): its outbox.
    pub outboxes: Vec<Outbox>,
    /// Per topic.
    pub topics: Vec<TopicMeter>,
    /// Per subscription.
    pub subs: Vec<SubState>,
}

impl MessagingState {
    /// Whether live message `msg` is an acked publish (someone waits for
    /// it: its time is part of a request's).
    #[inline]
    pub fn acked(&self, msg: u32) -> bool {
        matches!(self.messages.get(msg).origin, Origin::Ack { .. })
    }

    /// Empty state for `model`.
    pub fn new(model: &Model) -> Self {
        let m = &model.messaging;
        if !m.on() {
            return MessagingState::default();
        }
        let subs = m
            .subscriptions
            .iter()
            .enumerate()
            .map(|(i, s)| SubState {
                backlog: VecDeque::new(),
                in_flight: 0,
                retry_pending: false,
                rng: rng::stream(
                    model.seed,
                    &format!(
                        "subscription/{}->{}",
                        m.topics[s.topic as usize].name, model.services[s.service as usize].name
                    ),
                ),
                lag: TimeIntegral::default(),
                lag_at_warmup: 0,
                max_lag: 0,
                win_max_lag: 0,
                delivered: 0,
                deliveries: 0,
                redelivered: 0,
                dead_lettered: 0,
                dropped: 0,
                pending: 0,
                latency: LatencyStats::new(),
                win_delivered: 0,
                win_redelivered: 0,
                win_dead_lettered: 0,
                copy: m
                    .copies
                    .iter()
                    .position(|c| c.subscription as usize == i)
                    .map(|c| c as u32),
            })
            .collect();
        MessagingState {
            on: true,
            messages: TagSlab::default(),
            deliveries: TagSlab::default(),
            outboxes: (0..model.services.len())
                .map(|_| Outbox::default())
                .collect(),
            topics: vec![TopicMeter::default(); m.topics.len()],
            subs,
        }
    }
}

impl World<'_> {
    /// Schedules what messaging needs at time 0: nothing (relays and
    /// consumers start when there is something to send).
    pub(super) fn start_messaging(&mut self) {}

    /// Whether service `sid` has a replica that can take calls.
    pub(super) fn any_running(&self, sid: ServiceId) -> bool {
        let s = &self.services[sid as usize];
        self.replicas[s.first as usize..(s.first + s.replicas) as usize]
            .iter()
            .any(|r| r.running())
    }

    /// The service of the broker holding `topic`.
    fn broker_service(&self, topic: TopicId) -> ServiceId {
        let m = &self.model.messaging;
        m.brokers[m.topics[topic as usize].broker as usize].service
    }

    /// The warm-up ends: the lag's measured period starts now.
    pub(super) fn messaging_warmup(&mut self) {
        let now = self.now;
        for s in &mut self.messaging.subs {
            s.lag_at_warmup = s.lag.area_at(now);
            s.max_lag = s.lag.value();
        }
    }

    /// Invocation `id` (of service `sid`) runs a publish step. True when
    /// it now waits for the broker's ack; false when the step is done.
    pub(super) fn publish(&mut self, id: InvId, sid: usize, site: PublishSite) -> bool {
        let counted = self.measuring();
        let now = self.now;
        let t = &mut self.messaging.topics[site.topic as usize];
        t.win_published += 1;
        t.published += u64::from(counted);
        let (data, key, version) = match self.model.messaging.topics[site.topic as usize].data {
            Some(d) if site.write => {
                let (key, version) = self.write_data(d, counted);
                (d, key, version)
            }
            _ => (NO_DATA, 0, 0),
        };
        let origin = if site.outbox {
            Origin::Outbox {
                service: sid as ServiceId,
            }
        } else if site.ack {
            Origin::Ack {
                inv: id,
                gen: self.invs.get(id).gen,
                optional: site.optional,
            }
        } else {
            Origin::Forget
        };
        let msg = self.messaging.messages.alloc(Message {
            topic: site.topic,
            from: sid as ServiceId,
            published_at: now,
            origin,
            counted,
            stored: false,
            publishing: true,
            in_outbox: false,
            cause: Cause::ConnectionFailed,
            data,
            key,
            version,
            refs: 0,
            seq: 0,
        });
        match origin {
            Origin::Outbox { service } => {
                self.messaging.topics[site.topic as usize].in_outboxes += 1;
                let ob = &mut self.messaging.outboxes[service as usize];
                let seq = ob.next_seq;
                ob.next_seq += 1;
                let m = self.messaging.messages.get_mut(msg);
                m.in_outbox = true;
                m.seq = seq;
                self.messaging.outboxes[service as usize]
                    .queue
                    .push_back(msg);
                self.pump_relay(service);
                false
            }
            Origin::Ack { .. } => {
                self.before_calls(id, sid, 1);
                self.attr_start_msg(msg);
                let ep = self.model.messaging.topics[site.topic as usize].endpoint;
                self.span_publish(id, msg, ep);
                self.send_publish(msg);
                true
            }
            Origin::Forget => {
                self.send_publish(msg);
                false
            }
        }
    }

    /// Sends outbox rows of `service` while the relay has room and is not
    /// paused; pauses it at once when the broker has no running replica.
    fn pump_relay(&mut self, service: ServiceId) {
        loop {
            let ob = &self.messaging.outboxes[service as usize];
            if ob.paused || ob.in_flight >= RELAY_WINDOW {
                return;
            }
            let Some(&msg) = ob.queue.front() else {
                return;
            };
            let topic = self.messaging.messages.get(msg).topic;
            if !self.any_running(self.broker_service(topic)) {
                return self.pause_relay(service, topic);
            }
            let ob = &mut self.messaging.outboxes[service as usize];
            ob.queue.pop_front();
            ob.in_flight += 1;
            self.messaging.messages.get_mut(msg).in_outbox = false;
            self.send_publish(msg);
        }
    }

    /// The relay of `service` waits for the broker of `topic`'s
    /// `reconnect` before sending again.
    fn pause_relay(&mut self, service: ServiceId, topic: TopicId) {
        let ob = &mut self.messaging.outboxes[service as usize];
        if ob.paused {
            return;
        }
        ob.paused = true;
        let m = &self.model.messaging;
        let reconnect = m.brokers[m.topics[topic as usize].broker as usize].reconnect;
        self.queue.push(
            self.now.saturating_add(reconnect),
            Event::RelayResume { service },
        );
    }

    /// Sends a new attempt of message `msg` to its broker: across a
    /// partition or not, then over the network to the topic's endpoint,
    /// with the publish timeout armed.
    fn send_publish(&mut self, msg: u32) {
        let tag = self.messaging.messages.next_tag(msg);
        let (topic, from) = {
            let m = self.messaging.messages.get(msg);
            (m.topic, m.from)
        };
        let model = self.model;
        let t = &model.messaging.topics[topic as usize];
        let broker = &model.messaging.brokers[t.broker as usize];
        self.queue.push(
            self.now.saturating_add(broker.publish_timeout),
            Event::PublishTimeout { msg, tag },
        );
        if let Some(mode) = self.partition(from, broker.service) {
            if mode == crate::model::FailMode::Reject {
                self.messaging.messages.get_mut(msg).cause = Cause::ConnectionFailed;
                self.queue.push(
                    self.now,
                    Event::PublishReply {
                        msg,
                        tag,
                        ok: false,
                    },
                );
            }
            // Drop: lost on the wire; the timeout ends the attempt.
            return;
        }
        self.note_network_call(broker.service);
        let inv = self
            .invs
            .alloc(Invocation::new(t.endpoint, Parent::Publish { msg, tag }));
        if self.tracer.is_some() && self.messaging.acked(msg) {
            self.span_publish_sent(msg, inv);
        }
        let hop = hop(&model.network, &mut self.net_to[t.endpoint as usize]);
        if hop == 0 {
            self.admit(inv);
        } else {
            self.queue
                .push(self.now.saturating_add(hop), Event::Deliver { inv });
        }
    }

    /// Whether message `msg` is still at attempt `tag`.
    pub(super) fn publish_current(&self, msg: u32, tag: u32) -> bool {
        self.messaging.messages.is_current(msg, tag)
    }

    /// Whether delivery `delivery` is still at attempt `tag`.
    pub(super) fn delivery_current(&self, delivery: u32, tag: u32) -> bool {
        self.messaging.deliveries.is_current(delivery, tag)
    }

    /// The broker's invocation of topic endpoint `endpoint` for message
    /// `msg` ended with `outcome`: on success the broker stores the event;
    /// either way its answer travels back to the publisher. A stale tag
    /// means the publisher gave up on this attempt: the broker's work was
    /// for nobody and the event is not stored.
    pub(super) fn publish_done(
        &mut self,
        msg: u32,
        tag: u32,
        endpoint: EndpointId,
        outcome: Outcome,
    ) {
        if !self.publish_current(msg, tag) {
            return;
        }
        let ok = match outcome {
            Outcome::Failed(c) => {
                self.messaging.messages.get_mut(msg).cause = c;
                false
            }
            _ => {
                self.store(msg);
                true
            }
        };
        let hop = hop(&self.model.network, &mut self.net_from[endpoint as usize]);
        self.queue.push(
            self.now.saturating_add(hop),
            Event::PublishReply { msg, tag, ok },
        );
    }

    /// The broker stores message `msg`: one delivery record per
    /// subscription of its topic joins that subscription's backlog, unless
    /// its queue is full (then the event is dropped for it).
    fn store(&mut self, msg: u32) {
        let (topic, counted, outbox) = {
            let m = self.messaging.messages.get_mut(msg);
            m.stored = true;
            (
                m.topic,
                m.counted,
                matches!(m.origin, Origin::Outbox { .. }),
            )
        };
        if outbox {
            self.messaging.topics[topic as usize].in_outboxes -= 1;
        }
        if counted {
            self.messaging.topics[topic as usize].stored += 1;
        }
        let model = self.model;
        let now = self.now;
        for &sub in &model.messaging.topics[topic as usize].subscriptions {
            let spec = &model.messaging.subscriptions[sub as usize];
            let st = &mut self.messaging.subs[sub as usize];
            if spec
                .queue_capacity
                .is_some_and(|cap| st.lag.value() >= u64::from(cap))
            {
                st.dropped += u64::from(counted);
                continue;
            }
            st.pending += u64::from(counted);
            st.set_lag(now, 1);
            let op = if model.endpoints[spec.handler as usize].tracked {
                self.new_op(spec.handler, counted)
            } else {
                super::idempotency::NO_OP
            };
            let d = self.messaging.deliveries.alloc(Delivery {
                sub,
                msg,
                attempt: 0,
                op,
                handled: false,
                counted,
                running: 0,
                ended: false,
            });
            self.messaging.messages.get_mut(msg).refs += 1;
            self.messaging.subs[sub as usize].backlog.push_back(d);
            self.dispatch(sub);
        }
    }

    /// Frees message `msg` if nothing refers to it any more.
    fn maybe_free_message(&mut self, msg: u32) {
        let m = self.messaging.messages.get(msg);
        if !m.publishing && m.refs == 0 {
            self.messaging.messages.release(msg);
        }
    }

    /// The current attempt of message `msg` failed (refused, or timed
    /// out before the broker stored it): an outbox keeps the message and
    /// its relay pauses; otherwise the event is lost and an acked
    /// publisher learns it.
    fn publish_failed(&mut self, msg: u32) {
        // Later answers of this attempt are stale.
        self.messaging.messages.next_tag(msg);
        let m = *self.messaging.messages.get(msg);
        if let Origin::Outbox { service } = m.origin {
            let MessagingState {
                messages, outboxes, ..
            } = &mut self.messaging;
            messages.get_mut(msg).in_outbox = true;
            let ob = &mut outboxes[service as usize];
            ob.in_flight -= 1;
            // Back in its place: rows failing in any order (a refusal
            // overtaking an earlier row's timeout) keep the outbox in
            // written order, so the relay sends it in order.
            let at = ob.queue.partition_point(|&x| messages.get(x).seq < m.seq);
            ob.queue.insert(at, msg);
            return self.pause_relay(service, m.topic);
        }
        if m.counted {
            self.messaging.topics[m.topic as usize].lost += 1;
        }
        self.messaging.messages.get_mut(msg).publishing = false;
        self.maybe_free_message(msg);
        if let Origin::Ack { inv, gen, optional } = m.origin {
            let acc = self.attr_take_msg(msg);
            self.span_publish_done(msg, Outcome::Failed(m.cause));
            if self.invs.is_current(inv, gen) {
                let outcome = if optional {
                    Outcome::Degraded
                } else {
                    Outcome::Failed(m.cause)
                };
                self.on_reply(inv, outcome, acc);
            } else {
                self.attr_free(acc);
            }
        }
    }

    /// The broker's ack (or refusal) of attempt `tag` reached the
    /// publisher.
    pub(super) fn on_publish_reply(&mut self, msg: u32, tag: u32, ok: bool) {
        if !self.publish_current(msg, tag) {
            return;
        }
        if self.messaging.acked(msg) {
            self.attr_reply_msg(msg);
        }
        if !ok {
            return self.publish_failed(msg);
        }
        let m = *self.messaging.messages.get(msg);
        self.messaging.messages.get_mut(msg).publishing = false;
        // Later events of this attempt (its timeout) are stale.
        self.messaging.messages.next_tag(msg);
        self.maybe_free_message(msg);
        match m.origin {
            Origin::Ack { inv, gen, .. } => {
                let acc = self.attr_take_msg(msg);
                self.span_publish_done(msg, Outcome::Ok);
                if self.invs.is_current(inv, gen) {
                    self.on_reply(inv, Outcome::Ok, acc);
                } else {
                    self.attr_free(acc);
                }
            }
            Origin::Outbox { service } => {
                self.messaging.outboxes[service as usize].in_flight -= 1;
                self.pump_relay(service);
            }
            Origin::Forget => {}
        }
    }

    /// The publisher's wait for attempt `tag` is over. An event the broker
    /// already stored is never given up (its ack is one hop away and
    /// settles it); otherwise the attempt failed, and the broker, if it
    /// still works on it, works for nobody.
    pub(super) fn on_publish_timeout(&mut self, msg: u32, tag: u32) {
        if !self.publish_current(msg, tag) || self.messaging.messages.get(msg).stored {
            return;
        }
        self.given_up = true;
        if self.messaging.acked(msg) {
            let topic = self.messaging.messages.get(msg).topic;
            let sid = self.broker_service(topic) as usize;
            self.attr_lose_msg(msg, sid);
        }
        self.messaging.messages.get_mut(msg).cause = Cause::Timeout;
        self.publish_failed(msg);
    }

    /// The relay of `service` tries the broker again.
    pub(super) fn on_relay_resume(&mut self, service: u32) {
        self.messaging.outboxes[service as usize].paused = false;
        self.pump_relay(service);
    }

    /// Delivers events of subscription `sub` while it has free consumer
    /// slots and a backlog. With no running broker or subscriber replica
    /// it stops and tries again after the broker's `reconnect`.
    fn dispatch(&mut self, sub: SubscriptionId) {
        let model = self.model;
        let spec = &model.messaging.subscriptions[sub as usize];
        let topic = &model.messaging.topics[spec.topic as usize];
        let broker = &model.messaging.brokers[topic.broker as usize];
        loop {
            let st = &self.messaging.subs[sub as usize];
            if st.in_flight >= spec.concurrency || st.backlog.is_empty() {
                return;
            }
            if !self.any_running(broker.service) || !self.any_running(spec.service) {
                let st = &mut self.messaging.subs[sub as usize];
                if !st.retry_pending {
                    st.retry_pending = true;
                    self.queue.push(
                        self.now.saturating_add(broker.reconnect),
                        Event::ConsumerRetry { subscription: sub },
                    );
                }
                return;
            }
            let st = &mut self.messaging.subs[sub as usize];
            let d = st.backlog.pop_front().expect("checked non-empty");
            st.in_flight += 1;
            let dt = broker.delivery_latency.sample(&mut st.rng);
            let tag = self.messaging.deliveries.next_tag(d);
            let arrive = self.now.saturating_add(dt);
            self.queue
                .push(arrive, Event::DeliveryArrive { delivery: d, tag });
            self.queue.push(
                arrive.saturating_add(spec.ack_timeout),
                Event::DeliveryTimeout { delivery: d, tag },
            );
        }
    }

    /// A delivery reaches the subscriber: its handler is invoked like any
    /// call (balancer, workers, queue, rejection).
    pub(super) fn on_delivery_arrive(&mut self, delivery: u32, tag: u32) {
        if !self.delivery_current(delivery, tag) {
            return;
        }
        let model = self.model;
        let d = self.messaging.deliveries.get_mut(delivery);
        d.attempt += 1;
        let (sub, attempt, counted, op) = (d.sub, d.attempt, d.counted, d.op);
        let spec = &model.messaging.subscriptions[sub as usize];
        let st = &mut self.messaging.subs[sub as usize];
        if attempt > 1 {
            st.win_redelivered += 1;
        }
        if counted {
            st.deliveries += 1;
            st.redelivered += u64::from(attempt > 1);
        }
        let broker = self.broker_service(spec.topic);
        if let Some(mode) = self.partition(broker, spec.service) {
            if mode == crate::model::FailMode::Reject {
                // The consumer slot this delivery held is free again.
                self.messaging.subs[sub as usize].in_flight -= 1;
                self.delivery_failed(delivery);
                self.dispatch(sub);
            }
            // Drop: the ack timeout ends the attempt.
            return;
        }
        self.note_network_call(spec.service);
        let op = self.acquire_op(op);
        let mut inv = Invocation::new(spec.handler, Parent::Delivery { delivery, tag, op });
        inv.retry = attempt > 1;
        let inv = self.invs.alloc(inv);
        self.messaging.deliveries.get_mut(delivery).running += 1;
        self.admit(inv);
    }

    /// A subscription handler's invocation for delivery `delivery` ended.
    /// A success updates the subscription's copy (even after the ack
    /// timeout: the handler did run) and, if the attempt is still current
    /// and the broker is running to take the ack, the event is delivered;
    /// with the broker down the ack is lost and the event comes again.
    pub(super) fn handler_done(&mut self, delivery: u32, tag: u32, outcome: Outcome) {
        let slab = &self.messaging.deliveries;
        if !slab.is_own(delivery, tag) {
            return;
        }
        let current = slab.is_current(delivery, tag);
        if outcome.succeeded() {
            self.apply_delivery(delivery);
        }
        if !current {
            return self.handler_gone(delivery);
        }
        self.messaging.deliveries.get_mut(delivery).running -= 1;
        let sub = self.messaging.deliveries.get(delivery).sub;
        self.messaging.subs[sub as usize].in_flight -= 1;
        let broker = self.broker_service(self.model.messaging.subscriptions[sub as usize].topic);
        if outcome.succeeded() && self.any_running(broker) {
            self.delivered(delivery);
        } else {
            self.delivery_failed(delivery);
        }
        self.dispatch(sub);
    }

    /// The consumer's ack reached the broker: the event is delivered to
    /// this subscription.
    fn delivered(&mut self, delivery: u32) {
        let d = *self.messaging.deliveries.get(delivery);
        let published_at = self.messaging.messages.get(d.msg).published_at;
        let now = self.now;
        let st = &mut self.messaging.subs[d.sub as usize];
        st.win_delivered += 1;
        if d.counted {
            st.delivered += 1;
            st.pending -= 1;
            st.latency.record(now - published_at);
        }
        st.set_lag(now, -1);
        self.free_delivery(delivery);
    }

    /// The current delivery of `delivery` failed (handler failure, ack
    /// timeout, lost ack, refused by a partition): dead-letter the event
    /// after `max_attempts` deliveries, else deliver it again after
    /// `redelivery_delay`.
    fn delivery_failed(&mut self, delivery: u32) {
        let tag = self.messaging.deliveries.next_tag(delivery);
        let d = *self.messaging.deliveries.get(delivery);
        let spec = &self.model.messaging.subscriptions[d.sub as usize];
        if d.attempt >= spec.max_attempts {
            let now = self.now;
            let st = &mut self.messaging.subs[d.sub as usize];
            st.win_dead_lettered += 1;
            if d.counted {
                st.dead_lettered += 1;
                st.pending -= 1;
            }
            st.set_lag(now, -1);
            self.free_delivery(delivery);
        } else {
            self.queue.push(
                self.now.saturating_add(spec.redelivery_delay),
                Event::Redeliver { delivery, tag },
            );
        }
    }

    /// The event ended for its subscription: frees the delivery record
    /// (and its message with the last one), or, while handlers of it still
    /// run, marks it ended for the last of them to free.
    fn free_delivery(&mut self, delivery: u32) {
        let d = *self.messaging.deliveries.get(delivery);
        self.release_op(d.op);
        if d.running > 0 {
            // Its pending timeout or redelivery is stale from now on.
            self.messaging.deliveries.next_tag(delivery);
            self.messaging.deliveries.get_mut(delivery).ended = true;
            return;
        }
        self.release_delivery(delivery);
    }

    fn release_delivery(&mut self, delivery: u32) {
        let msg = self.messaging.deliveries.get(delivery).msg;
        self.messaging.deliveries.release(delivery);
        self.messaging.messages.get_mut(msg).refs -= 1;
        self.maybe_free_message(msg);
    }

    /// A handler invocation of `delivery` that no longer decides the
    /// event's fate ended (finished late, or was lost in a crash without
    /// answering): the last one frees an ended record.
    pub(super) fn handler_gone(&mut self, delivery: u32) {
        let d = self.messaging.deliveries.get_mut(delivery);
        d.running -= 1;
        if d.ended && d.running == 0 {
            self.release_delivery(delivery);
        }
    }

    /// A successful handler of `delivery` ran: the first time per event,
    /// the subscription's copy (if any) takes the write it carries.
    fn apply_delivery(&mut self, delivery: u32) {
        let d = *self.messaging.deliveries.get(delivery);
        if d.handled {
            return;
        }
        let Some(copy) = self.messaging.subs[d.sub as usize].copy else {
            return;
        };
        let m = *self.messaging.messages.get(d.msg);
        if m.data == NO_DATA {
            return;
        }
        self.messaging.deliveries.get_mut(delivery).handled = true;
        self.apply_write(copy, m.key, m.version, m.published_at, m.counted);
    }

    /// A delivery's ack timeout expired: the handler (which may still
    /// run) counts as failed.
    pub(super) fn on_delivery_timeout(&mut self, delivery: u32, tag: u32) {
        if !self.delivery_current(delivery, tag) {
            return;
        }
        self.given_up = true;
        let sub = self.messaging.deliveries.get(delivery).sub;
        self.messaging.subs[sub as usize].in_flight -= 1;
        self.delivery_failed(delivery);
        self.dispatch(sub);
    }

    /// A failed event's redelivery wait is over: it queues again, at the
    /// end of the backlog.
    pub(super) fn on_redeliver(&mut self, delivery: u32, tag: u32) {
        if !self.delivery_current(delivery, tag) {
            return;
        }
        let sub = self.messaging.deliveries.get(delivery).sub;
        self.messaging.subs[sub as usize]
            .backlog
            .push_back(delivery);
        self.dispatch(sub);
    }

    /// A subscription that found its broker or consumers down tries again.
    pub(super) fn on_consumer_retry(&mut self, subscription: u32) {
        self.messaging.subs[subscription as usize].retry_pending = false;
        self.dispatch(subscription);
    }

    /// Appends the time-series rows of the window `[start, now)`.
    pub(super) fn close_messaging_window(&mut self, start: SimTime) {
        let (start_s, end_s) = (start as f64 / 1e9, self.now as f64 / 1e9);
        let model = self.model;
        let m = &model.messaging;
        for (spec, st) in m.subscriptions.iter().zip(&mut self.messaging.subs) {
            let lag = st.lag.value();
            self.windows.series.subscriptions.push(SubscriptionWindow {
                start_s,
                end_s,
                topic: m.topics[spec.topic as usize].name.clone(),
                subscriber: model.services[spec.service as usize].name.clone(),
                published: self.messaging.topics[spec.topic as usize].win_published,
                delivered: st.win_delivered,
                redelivered: st.win_redelivered,
                dead_lettered: st.win_dead_lettered,
                lag,
                max_lag: st.win_max_lag,
                in_outboxes: self.messaging.topics[spec.topic as usize].in_outboxes,
            });
            st.win_delivered = 0;
            st.win_redelivered = 0;
            st.win_dead_lettered = 0;
            st.win_max_lag = lag;
        }
        for t in &mut self.messaging.topics {
            t.win_published = 0;
        }
        self.close_consistency_window(start_s, end_s);
    }

    /// Topics, subscriptions and copies over the measured period; `None`
    /// without brokers.
    pub fn messaging_summary(&self, end: SimTime) -> Option<MessagingSummary> {
        if !self.messaging.on {
            return None;
        }
        let model = self.model;
        let m = &model.messaging;
        let span = end.saturating_sub(model.warmup);
        let mut in_outbox = vec![0u64; m.topics.len()];
        let mut unacked = vec![0u64; m.topics.len()];
        for msg in self.messaging.messages.iter_live() {
            if !msg.counted || msg.stored {
                continue;
            }
            if msg.in_outbox {
                in_outbox[msg.topic as usize] += 1;
            } else {
                unacked[msg.topic as usize] += 1;
            }
        }
        let topics = m
            .topics
            .iter()
            .enumerate()
            .map(|(ti, t)| {
                let tm = &self.messaging.topics[ti];
                let subscriptions: IndexMap<String, SubscriptionSummary> = t
                    .subscriptions
                    .iter()
                    .map(|&si| {
                        let spec = &m.subscriptions[si as usize];
                        let st = &self.messaging.subs[si as usize];
                        let area = st.lag.area_at(end);
                        (
                            model.services[spec.service as usize].name.clone(),
                            SubscriptionSummary {
                                handler: model.endpoints[spec.handler as usize].name.clone(),
                                delivered: st.delivered,
                                deliveries: st.deliveries,
                                redelivered: st.redelivered,
                                dead_lettered: st.dead_lettered,
                                dropped: st.dropped,
                                pending: st.pending,
                                max_lag: st.max_lag,
                                mean_lag: crate::metrics::integral::mean_between(
                                    st.lag_at_warmup,
                                    area,
                                    span,
                                ),
                                delivery_latency_ms: st.latency.summary(),
                            },
                        )
                    })
                    .collect();
                (
                    t.name.clone(),
                    TopicSummary {
                        broker: m.brokers[t.broker as usize].name.clone(),
                        published: tm.published,
                        stored: tm.stored,
                        lost: tm.lost,
                        in_outbox: in_outbox[ti],
                        unacked: unacked[ti],
                        subscriptions,
                    },
                )
            })
            .collect();
        Some(MessagingSummary {
            topics,
            copies: self.copy_summaries(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;
    use crate::metrics::messaging::{ConsistencyPeriod, TopicSummary};
    use crate::model::messaging::{Broker, Copy, Data, Messaging, ReadSite, Subscription, Topic};
    use crate::model::Step;

    /// A user service whose `update` publishes a write of `user-email` to
    /// topic `user-updated` of broker `events`, which `order` subscribes
    /// to and keeps a copy of; `order.get` reads the copy. Built by hand
    /// on top of a plain scenario (`extra` adds faults), as the scenario
    /// parser would.
    fn model(extra: &str, site: PublishSite) -> Model {
        let toml = format!(
            r#"
            name = "msg"
            [simulation]
            duration = "20s"
            warmup = "2s"
            seed = 3
            [services.user.endpoints.update]
            work = {{ dist = "constant", value = "1ms" }}
            [services.order]
            concurrency = 8
            [services.order.endpoints.on_user_updated]
            work = {{ dist = "constant", value = "3ms" }}
            [services.order.endpoints.get]
            work = {{ dist = "constant", value = "1ms" }}
            [services.events]
            replicas = 2
            [services.events.endpoints.user-updated]
            work = {{ dist = "constant", value = "2ms" }}
            [[workloads]]
            name = "writes"
            target = "user.update"
            arrival = {{ process = "poisson", rate = 200 }}
            [[workloads]]
            name = "reads"
            target = "order.get"
            arrival = {{ process = "poisson", rate = 200 }}
            {extra}
            "#
        );
        let mut m = crate::scenario::test_model(&toml);
        let ep = |m: &Model, n: &str| m.endpoints.iter().position(|e| e.name == n).unwrap() as u32;
        let svc = |m: &Model, n: &str| m.services.iter().position(|s| s.name == n).unwrap() as u32;
        let (user, order, events) = (svc(&m, "user"), svc(&m, "order"), svc(&m, "events"));
        let s = Subscription {
            service: order,
            topic: 0,
            handler: ep(&m, "order.on_user_updated"),
            concurrency: 4,
            queue_capacity: None,
            max_attempts: 5,
            ack_timeout: 30_000_000_000,
            redelivery_delay: 1_000_000_000,
        };
        m.messaging = Messaging {
            brokers: vec![Broker {
                name: "events".into(),
                service: events,
                topics: vec![0],
                delivery_latency: Dist::constant(5_000_000),
                publish_timeout: 5_000_000_000,
                reconnect: 1_000_000_000,
            }],
            topics: vec![Topic {
                name: "user-updated".into(),
                broker: 0,
                endpoint: ep(&m, "events.user-updated"),
                subscriptions: vec![0],
                data: Some(0),
            }],
            subscriptions: vec![s],
            data: vec![Data {
                name: "user-email".into(),
                owner: user,
                topic: 0,
                keys: 100,
                copies: vec![0],
            }],
            copies: vec![Copy {
                data: 0,
                holder: order,
                subscription: 0,
            }],
        };
        let update = ep(&m, "user.update") as usize;
        m.endpoints[update].steps.push(Step::Publish(site));
        let get = ep(&m, "order.get") as usize;
        m.endpoints[get]
            .steps
            .push(Step::Read(ReadSite { copy: 0 }));
        m
    }

    const ACKED: PublishSite = PublishSite {
        topic: 0,
        ack: true,
        outbox: false,
        optional: false,
        write: true,
    };

    fn run(m: &Model) -> crate::metrics::result::Summary {
        crate::simulation::run(m).unwrap().summary
    }

    /// The invariants of `metrics/messaging.rs`, exactly.
    fn check_invariants(t: &TopicSummary) {
        assert_eq!(
            t.published,
            t.stored + t.lost + t.in_outbox + t.unacked,
            "{t:?}"
        );
        for s in t.subscriptions.values() {
            assert_eq!(
                t.stored,
                s.delivered + s.dead_lettered + s.dropped + s.pending,
                "{t:?}"
            );
            // Every event acked or dead-lettered had a first delivery; a
            // pending one may not have had it yet.
            let first = s.deliveries - s.redelivered;
            assert!(first >= s.delivered + s.dead_lettered, "{s:?}");
            assert!(first <= s.delivered + s.dead_lettered + s.pending, "{s:?}");
        }
    }

    #[test]
    fn a_fault_free_run_delivers_everything_once() {
        let m = model("", ACKED);
        let s = run(&m);
        let t = &s.messaging.as_ref().unwrap().topics["user-updated"];
        check_invariants(t);
        let sub = &t.subscriptions["order"];
        // 200/s over the 18s measured: about 3,600 (5 sigma = 300).
        assert!((3300..3900).contains(&t.published), "{t:?}");
        assert_eq!(t.lost, 0);
        assert_eq!(sub.redelivered, 0);
        assert_eq!(sub.dead_lettered, 0);
        assert!(sub.pending <= 2, "{sub:?}");
        // publish 2ms at the broker + 5ms delivery + 3ms handler, no hops.
        let lat = sub.delivery_latency_ms.as_ref().unwrap();
        assert!((lat.mean - 10.0).abs() < 1e-9, "{lat:?}");
        let c = &s.messaging.as_ref().unwrap().copies["user-email@order"];
        assert_eq!(c.outside_faults, None);
        assert_eq!(c.all.writes, t.published);
        assert_eq!(c.all.converged + c.all.unconverged, c.all.writes);
        // The window of a write is the same path, unless a newer write
        // of the item got there first (never, at constant latencies).
        let w = c.all.window_ms.as_ref().unwrap();
        assert!(
            (w.mean - 10.0).abs() < 1e-9 && w.max <= 10.0 + 1e-9,
            "{w:?}"
        );
    }

    #[test]
    fn tags_mark_old_attempts_and_reused_slots() {
        let mut s: TagSlab<u32> = TagSlab::default();
        let a = s.alloc(7);
        let t0 = s.tag(a);
        assert!(s.is_current(a, t0));
        let t1 = s.next_tag(a);
        assert!(!s.is_current(a, t0), "an earlier attempt is stale");
        assert!(s.is_own(a, t0), "but it is still the record's own");
        assert!(s.is_current(a, t1));
        s.release(a);
        assert!(!s.is_current(a, t1) && !s.is_own(a, t1));
        let b = s.alloc(8);
        assert_eq!(a, b, "the slot is reused");
        assert!(!s.is_own(b, t0) && !s.is_own(b, t1), "not the old record's");
        assert!(s.is_own(b, s.tag(b)));
        assert_eq!(*s.get(b), 8);
        assert_eq!(s.live(), 1);
        assert_eq!(s.iter_live().copied().collect::<Vec<_>>(), vec![8]);
    }

    #[test]
    fn slots_are_reused_so_memory_is_bounded() {
        let mut s: TagSlab<u64> = TagSlab::default();
        for i in 0..1000 {
            let a = s.alloc(i);
            let b = s.alloc(i + 1);
            s.release(a);
            s.release(b);
        }
        assert_eq!(s.slots.len(), 2);
        assert_eq!(s.live(), 0);
    }

    fn topic(s: &crate::metrics::result::Summary) -> &TopicSummary {
        &s.messaging.as_ref().unwrap().topics["user-updated"]
    }

    const BROKER_DOWN: &str = r#"
            [[faults]]
            name = "broker down"
            kind = "crash"
            service = "events"
            at = "8s"
            duration = "3s"
    "#;

    #[test]
    fn the_window_mean_matches_random_latencies() {
        let mut m = model("", ACKED);
        m.messaging.brokers[0].delivery_latency = Dist::exponential(5_000_000).unwrap();
        // Enough items that two writes of one item never race (a newer
        // write arriving first shortens the older one's window), and
        // consumers never wait for a slot.
        m.messaging.data[0].keys = 1_000_000;
        m.messaging.subscriptions[0].concurrency = 64;
        let s = run(&m);
        let t = topic(&s);
        check_invariants(t);
        let w = s.messaging.as_ref().unwrap().copies["user-email@order"]
            .all
            .window_ms
            .clone()
            .unwrap();
        // 2ms broker work + exponential 5ms delivery + 3ms handler: mean
        // 10ms, standard deviation 5ms (the exponential's), so the mean of
        // n windows has standard error 5/sqrt(n) ms: allow 5 of them.
        let n = t.subscriptions["order"].delivered as f64;
        let tol = 5.0 * 5.0 / n.sqrt();
        assert!((w.mean - 10.0).abs() < tol, "{w:?} tol {tol}");
        // Never shorter than the fixed part of the path.
        assert!(w.p50 >= 5.0 && w.max >= w.p99, "{w:?}");
    }

    #[test]
    fn handler_failures_and_a_broker_crash_lose_nothing_uncounted() {
        let extra = format!(
            r#"{BROKER_DOWN}
            [[faults]]
            name = "flaky handler"
            kind = "errors"
            service = "order"
            endpoint = "on_user_updated"
            probability = 0.5
            at = "0s"
            duration = "1h"
            "#
        );
        let mut m = model(&extra, ACKED);
        m.messaging.subscriptions[0].redelivery_delay = 100_000_000;
        let s = run(&m);
        let t = topic(&s);
        check_invariants(t);
        let sub = &t.subscriptions["order"];
        // Publishes refused while the broker is down are lost and counted
        // (about 200/s for 3s).
        assert!((450..750).contains(&t.lost), "{t:?}");
        assert!(sub.redelivered > 0, "{sub:?}");
        // Half the handlers fail: 1/2^5 of the events fail 5 times.
        assert!(sub.dead_lettered > 0, "{sub:?}");
        assert!(sub.delivered > 0, "{sub:?}");
    }

    #[test]
    fn always_failing_handlers_dead_letter_after_max_attempts() {
        let extra = r#"
            [[faults]]
            name = "broken handler"
            kind = "errors"
            service = "order"
            endpoint = "on_user_updated"
            probability = 1.0
            at = "0s"
            duration = "1h"
        "#;
        let mut m = model(extra, ACKED);
        m.messaging.subscriptions[0].max_attempts = 3;
        // Three deliveries of 8ms per event at 200/s need 4.8 consumers.
        m.messaging.subscriptions[0].concurrency = 16;
        m.messaging.subscriptions[0].redelivery_delay = 100_000_000;
        let s = run(&m);
        let t = topic(&s);
        check_invariants(t);
        let sub = &t.subscriptions["order"];
        assert_eq!(sub.delivered, 0);
        assert!(sub.dead_lettered > 3000, "{sub:?}");
        // Each dead letter had exactly 3 deliveries; a pending event at
        // most 3.
        assert!(sub.deliveries >= 3 * sub.dead_lettered, "{sub:?}");
        assert!(
            sub.deliveries <= 3 * (sub.dead_lettered + sub.pending),
            "{sub:?}"
        );
    }

    #[test]
    fn an_outbox_loses_nothing_across_a_broker_outage() {
        let outbox = PublishSite {
            outbox: true,
            ..ACKED
        };
        let s = run(&model(BROKER_DOWN, outbox));
        let t = topic(&s);
        check_invariants(t);
        assert_eq!(t.lost, 0, "{t:?}");
        assert_eq!(t.in_outbox, 0, "the relay caught up after the outage");
        let sub = &t.subscriptions["order"];
        assert!(sub.pending <= 2, "{sub:?}");
        assert_eq!(sub.delivered + sub.pending, t.published);
        // The events written during the 3s outage waited for it to end.
        assert!(sub.delivery_latency_ms.as_ref().unwrap().max > 2000.0);
        let c = &s.messaging.as_ref().unwrap().copies["user-email@order"];
        let (during, outside) = (
            c.during_faults.as_ref().unwrap(),
            c.outside_faults.as_ref().unwrap(),
        );
        // Copies go stale while the broker is down, and catch up after
        // (the catch-up, up to about 2s after the fault's end while the
        // relay reconnects and the backlog drains, counts as outside; a
        // fault-free run reads 2% stale).
        let rate = |p: &ConsistencyPeriod| p.stale_read_rate.unwrap();
        assert!(rate(during) > 0.5 && rate(outside) < 0.2, "{c:?}");
        assert!(rate(during) > 4.0 * rate(outside), "{c:?}");
        assert_eq!(c.all.writes, during.writes + outside.writes);
        assert_eq!(c.all.reads, during.reads + outside.reads);

        // Without the outbox, the same outage loses the events, counted,
        // and the copy never catches up with those writes.
        for site in [
            ACKED,
            PublishSite {
                ack: false,
                ..ACKED
            },
        ] {
            let s = run(&model(BROKER_DOWN, site));
            let t = topic(&s);
            check_invariants(t);
            assert!((450..750).contains(&t.lost), "{t:?}");
            let c = &s.messaging.as_ref().unwrap().copies["user-email@order"];
            assert!(c.all.unconverged >= t.lost, "{c:?}");
        }
    }

    #[test]
    fn same_seed_same_summary() {
        let m = model(BROKER_DOWN, ACKED);
        let a = serde_json::to_string(&crate::simulation::run(&m).unwrap()).unwrap();
        let b = serde_json::to_string(&crate::simulation::run(&m).unwrap()).unwrap();
        assert_eq!(a, b);
    }

    /// Runs `world` until `until`, as the simulation loop does.
    fn drive(world: &mut World, until: SimTime) {
        world.run_to(until, |_| {});
    }

    #[test]
    fn an_outbox_stays_in_written_order_after_failed_sends() {
        // Publishes dropped by a partition time out 5s later, oldest
        // first: put back one by one, they must not end up reversed.
        let m = model(
            r#"
            [[faults]]
            kind = "partition"
            from = "user"
            to = "events"
            mode = "drop"
            at = "8s"
            duration = "10s"
            "#,
            PublishSite {
                outbox: true,
                ..ACKED
            },
        );
        let mut w = World::new(&m);
        drive(&mut w, 13_500_000_000);
        let ob = &w.messaging.outboxes[0];
        assert!(
            ob.queue.len() > 2 * RELAY_WINDOW as usize,
            "{}",
            ob.queue.len()
        );
        let seqs: Vec<u64> = ob
            .queue
            .iter()
            .map(|&x| w.messaging.messages.get(x).seq)
            .collect();
        assert!(seqs.windows(2).all(|p| p[0] < p[1]), "{seqs:?}");
    }

    #[test]
    fn memory_follows_what_is_in_flight_not_the_run_length() {
        let mut m = model(
            BROKER_DOWN,
            PublishSite {
                outbox: true,
                ..ACKED
            },
        );
        m.duration = 200_000_000_000;
        let mut w = World::new(&m);
        drive(&mut w, 20_000_000_000);
        let slots = (
            w.messaging.messages.slots.len(),
            w.messaging.deliveries.slots.len(),
        );
        // The 3s outage backlogged ~600 events in the outbox.
        assert!(slots.0 > 300, "{slots:?}");
        drive(&mut w, 200_000_000_000);
        // 36,000 more events later, no slab grew: slots are reused.
        assert_eq!(
            (
                w.messaging.messages.slots.len(),
                w.messaging.deliveries.slots.len()
            ),
            slots
        );
        assert!(w.messaging.messages.live() < 10 && w.messaging.deliveries.live() < 10);
        assert!(w.messaging.outboxes[0].queue.is_empty());
    }
}
