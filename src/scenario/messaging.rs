//! Validation of messaging: `[brokers.NAME]`, the services'
//! `[services.S.subscriptions.TOPIC]`, `[data.NAME]`, and the `publish`
//! and `read` steps.
//!
//! It runs in two passes around the endpoints' steps: [`names`] first
//! resolves every topic, data set and copy name (so a step can refer to
//! them), then [`add_brokers`] appends each broker as a service (after the
//! user's, before the registry) with one endpoint per topic, and
//! [`messaging`] checks the subscriptions and copies against the
//! services' endpoints.

use super::discovery::positive;
use super::error::{FieldPath, Invalid};
use super::schema::{RawBroker, RawScenario, RawService, RawStep};
use super::validate::{check_name, count, dist, duration};
use crate::dist::Dist;
use crate::engine::time::NS_PER_SEC;
use crate::model::messaging::*;
use crate::model::{Endpoint, EndpointId, Io, Service, ServiceId, Step};
use indexmap::IndexMap;
use std::collections::BTreeMap;

type R<T> = Result<T, Invalid>;

/// Defaults of a broker's fields.
const CONCURRENCY: i64 = 64;
const LATENCY: u64 = 1_000_000;
const PUBLISH_TIMEOUT: u64 = 5 * NS_PER_SEC;
const RECONNECT: u64 = NS_PER_SEC;
/// Defaults of a subscription's fields.
const MAX_ATTEMPTS: i64 = 5;
const ACK_TIMEOUT: u64 = 30 * NS_PER_SEC;
const REDELIVERY_DELAY: u64 = NS_PER_SEC;
/// Default and largest number of distinct items of a data set.
const KEYS: i64 = 1000;
const MAX_KEYS: i64 = 10_000_000;
/// Upper bounds that keep a typo from asking for absurd memory.
const MAX_TOPICS: usize = 10_000;
const MAX_SUB_CONCURRENCY: i64 = 100_000;
const MAX_DELIVERIES: i64 = 1_000;

/// Topic, data and copy names resolved before the steps are validated.
#[derive(Debug, Default)]
pub struct Names {
    /// Topic name -> (id, broker id), in model order.
    topics: IndexMap<String, (TopicId, BrokerId)>,
    /// Data name -> id, in file order.
    data: IndexMap<String, DataId>,
    /// Per data set: its owner and topic.
    data_owner: Vec<ServiceId>,
    data_topic: Vec<TopicId>,
    /// (data, holder) -> copy id.
    copies: BTreeMap<(DataId, ServiceId), CopyId>,
}

/// Resolves the names of topics, data sets and copies; `services` are the
/// user's service names in file order.
pub fn names(raw: &RawScenario, root: &FieldPath) -> R<Names> {
    let mut n = Names::default();
    let bp = root.key("brokers");
    for (bi, (bname, b)) in raw.brokers.iter().enumerate() {
        let p = bp.key(bname);
        check_name(bname, &p, "broker")?;
        if raw.services.contains_key(bname) {
            return Err(Invalid::new(
                &p,
                format!("broker name `{bname}` is also a service's: a broker is a service of its own (faults and results name it), so the names must differ"),
            ));
        }
        if bname == crate::model::discovery::REGISTRY && super::discovery::registry_enabled(raw) {
            return Err(Invalid::new(
                &p,
                format!("the name `{bname}` is taken by the service registry ([registry] table); rename the broker"),
            ));
        }
        if b.topics.is_empty() {
            return Err(Invalid::new(
                &p.key("topics"),
                format!("broker `{bname}` has no topics: add topics = [\"NAME\", ...]"),
            ));
        }
        for (i, t) in b.topics.iter().enumerate() {
            let tp = p.key("topics").index(i);
            check_name(t, &tp, "topic")?;
            if let Some((_, other)) = n.topics.get(t) {
                let other = raw.brokers.get_index(*other as usize).expect("known").0;
                return Err(Invalid::new(
                    &tp,
                    format!("topic `{t}` is listed twice (also in broker `{other}`); topic names must be unique"),
                ));
            }
            if n.topics.len() >= MAX_TOPICS {
                return Err(Invalid::new(
                    &tp,
                    format!("at most {MAX_TOPICS} topics are allowed"),
                ));
            }
            let id = n.topics.len() as TopicId;
            n.topics.insert(t.clone(), (id, bi as BrokerId));
        }
    }
    let dp = root.key("data");
    for (di, (dname, d)) in raw.data.iter().enumerate() {
        let p = dp.key(dname);
        check_name(dname, &p, "data")?;
        if raw.brokers.is_empty() {
            return Err(Invalid::new(
                &p,
                "data copies are kept up to date by events: add a [brokers.NAME] table with the data's topic",
            ));
        }
        let owner = match &d.owner {
            Some(o) => service_id(raw, o, &p.key("owner"))?,
            None => {
                return Err(Invalid::new(
                    &p,
                    "missing field `owner` (the service that owns and writes the data)",
                ))
            }
        };
        let topic = match &d.topic {
            Some(t) => topic_id(&n, t, &p.key("topic"))?,
            None => {
                return Err(Invalid::new(
                    &p,
                    "missing field `topic` (the topic the owner publishes its writes on)",
                ))
            }
        };
        if let Some((other, _)) = n
            .data
            .iter()
            .find(|(_, &o)| n.data_topic[o as usize] == topic)
        {
            return Err(Invalid::new(
                &p.key("topic"),
                format!(
                    "topic `{}` already carries the writes of data `{other}`; give each data set its own topic",
                    d.topic.as_deref().unwrap_or_default()
                ),
            ));
        }
        if d.copies.is_empty() {
            return Err(Invalid::new(
                &p.key("copies"),
                "must list at least one service keeping a copy, e.g. copies = [\"order\"]",
            ));
        }
        let id = di as DataId;
        for (i, c) in d.copies.iter().enumerate() {
            let cp = p.key("copies").index(i);
            let holder = service_id(raw, c, &cp)?;
            if holder == owner {
                return Err(Invalid::new(
                    &cp,
                    format!("`{c}` owns the data: the owner's own data is always current, so it keeps no copy"),
                ));
            }
            if n.copies.contains_key(&(id, holder)) {
                return Err(Invalid::new(&cp, format!("`{c}` is listed twice")));
            }
            let copy = n.copies.len() as CopyId;
            n.copies.insert((id, holder), copy);
        }
        n.data.insert(dname.clone(), id);
        n.data_owner.push(owner);
        n.data_topic.push(topic);
    }
    Ok(n)
}

/// The id of user service `name`.
fn service_id(raw: &RawScenario, name: &str, p: &FieldPath) -> R<ServiceId> {
    raw.services
        .get_index_of(name)
        .map(|i| i as ServiceId)
        .ok_or_else(|| {
            let known: Vec<&str> = raw.services.keys().map(String::as_str).collect();
            Invalid::new(
                p,
                format!(
                    "unknown service `{name}`; expected one of: {}",
                    known.join(", ")
                ),
            )
        })
}

/// The id of topic `name`.
fn topic_id(n: &Names, name: &str, p: &FieldPath) -> R<TopicId> {
    n.topics.get(name).map(|(t, _)| *t).ok_or_else(|| {
        let hint = if n.topics.is_empty() {
            "no broker declares any topic: add [brokers.NAME] with topics = [...]".to_string()
        } else {
            let known: Vec<&str> = n.topics.keys().map(String::as_str).collect();
            format!("expected one of: {}", known.join(", "))
        };
        Invalid::new(p, format!("unknown topic `{name}`; {hint}"))
    })
}

/// The `publish` step `s` of an endpoint of service `caller`.
pub fn publish_site(s: &RawStep, p: &FieldPath, caller: ServiceId, n: &Names) -> R<PublishSite> {
    let name = s.publish.as_deref().expect("a publish step");
    let topic = topic_id(n, name, &p.key("publish"))?;
    let outbox = s.outbox.unwrap_or(false);
    if outbox && s.ack == Some(false) {
        return Err(Invalid::new(
            &p.key("ack"),
            "an outbox's relay always waits for the broker's ack (and retries): drop `ack`, or drop `outbox` to fire and forget",
        ));
    }
    let ack = s.ack.unwrap_or(true);
    let optional = s.optional.unwrap_or(false);
    if optional && (outbox || !ack) {
        return Err(Invalid::new(
            &p.key("optional"),
            "only an acknowledged publish can fail its step: with `outbox` or ack = false the step never fails, so `optional` means nothing",
        ));
    }
    let write = n
        .data
        .values()
        .any(|&d| n.data_topic[d as usize] == topic && n.data_owner[d as usize] == caller);
    Ok(PublishSite {
        topic,
        ack,
        outbox,
        optional,
        write,
    })
}

/// The `read` step of data `name` in an endpoint of service `caller`.
pub fn read_site(name: &str, p: &FieldPath, caller: ServiceId, n: &Names) -> R<ReadSite> {
    let Some(&data) = n.data.get(name) else {
        let hint = if n.data.is_empty() {
            "no [data.NAME] tables are defined".to_string()
        } else {
            let known: Vec<&str> = n.data.keys().map(String::as_str).collect();
            format!("expected one of: {}", known.join(", "))
        };
        return Err(Invalid::new(p, format!("unknown data `{name}`; {hint}")));
    };
    match n.copies.get(&(data, caller)) {
        Some(&copy) => Ok(ReadSite { copy }),
        None if n.data_owner[data as usize] == caller => Err(Invalid::new(
            p,
            format!("this service owns `{name}`: reading its own data is always current; `read` measures a copy kept by another service"),
        )),
        None => Err(Invalid::new(
            p,
            format!("this service keeps no copy of `{name}`: add it to [data.{name}] copies (and subscribe it to the data's topic)"),
        )),
    }
}

/// Validates each `[brokers.NAME]` and appends its service (after the
/// user's) and one endpoint per topic, `NAME.TOPIC`, whose work is the
/// publish latency. Returns the brokers and topics (without
/// subscriptions yet).
pub fn add_brokers(
    raw: &RawScenario,
    root: &FieldPath,
    services: &mut Vec<Service>,
    endpoints: &mut Vec<Endpoint>,
) -> R<(Vec<Broker>, Vec<Topic>)> {
    let mut brokers = Vec::new();
    let mut topics = Vec::new();
    for (bi, (bname, b)) in raw.brokers.iter().enumerate() {
        let p = root.key("brokers").key(bname);
        let sid = services.len() as ServiceId;
        let first = endpoints.len() as EndpointId;
        let ids: Vec<EndpointId> = (0..b.topics.len() as EndpointId)
            .map(|i| first + i)
            .collect();
        let mut service = super::validate::service(bname, &as_service(b), &p, ids)?;
        // Storing an event is pure work: blocking or not is the same.
        service.io = Io::Async;
        let publish = match &b.publish_latency {
            Some(v) => dist(v, &p.key("publish_latency"))?,
            None => Dist::constant(LATENCY),
        };
        let delivery_latency = match &b.delivery_latency {
            Some(v) => dist(v, &p.key("delivery_latency"))?,
            None => Dist::constant(LATENCY),
        };
        let publish_timeout = positive(
            b.publish_timeout.as_deref(),
            &p.key("publish_timeout"),
            PUBLISH_TIMEOUT,
        )?;
        let reconnect = positive(b.reconnect.as_deref(), &p.key("reconnect"), RECONNECT)?;
        services.push(service);
        let mut ids = Vec::new();
        for t in &b.topics {
            ids.push(topics.len() as TopicId);
            topics.push(Topic {
                name: t.clone(),
                broker: bi as BrokerId,
                endpoint: endpoints.len() as EndpointId,
                subscriptions: Vec::new(),
                data: None,
            });
            endpoints.push(Endpoint {
                service: sid,
                name: format!("{bname}.{t}"),
                steps: vec![Step::Work(publish.clone())],
                idempotent: false,
                tracked: false,
                saga: None,
            });
        }
        brokers.push(Broker {
            name: bname.clone(),
            service: sid,
            topics: ids,
            delivery_latency,
            publish_timeout,
            reconnect,
        });
    }
    Ok((brokers, topics))
}

/// The broker's service fields as a service table, with the broker's
/// defaults, so they are checked by the same code and read the same.
fn as_service(b: &RawBroker) -> RawService {
    RawService::component(
        b.replicas,
        Some(b.concurrency.unwrap_or(CONCURRENCY)),
        b.queue_capacity,
        b.balancer.clone(),
        b.startup.clone(),
    )
}

/// The whole messaging model: the brokers and topics from
/// [`add_brokers`], the services' subscriptions (their handlers among
/// `endpoints`), the data sets and their copies.
pub fn messaging(
    raw: &RawScenario,
    root: &FieldPath,
    n: &Names,
    brokers: Vec<Broker>,
    mut topics: Vec<Topic>,
    endpoints: &[Endpoint],
) -> R<Messaging> {
    let mut subscriptions = Vec::new();
    let sp = root.key("services");
    for (si, (sname, s)) in raw.services.iter().enumerate() {
        for (tname, sub) in &s.subscriptions {
            let p = sp.key(sname).key("subscriptions").key(tname);
            let topic = topic_id(n, tname, &p)?;
            let handler = match &sub.handler {
                Some(h) => handler(h, sname, si as ServiceId, &p.key("handler"), endpoints)?,
                None => {
                    return Err(Invalid::new(
                        &p,
                        format!("missing field `handler` (the endpoint of `{sname}` that handles each event)"),
                    ))
                }
            };
            let queue_capacity = match sub.queue_capacity {
                None => None,
                Some(q) => Some(count(
                    Some(q),
                    &p.key("queue_capacity"),
                    0,
                    1,
                    i64::from(u32::MAX),
                )?),
            };
            let id = subscriptions.len() as SubscriptionId;
            topics[topic as usize].subscriptions.push(id);
            subscriptions.push(Subscription {
                service: si as ServiceId,
                topic,
                handler,
                concurrency: count(
                    sub.concurrency,
                    &p.key("concurrency"),
                    1,
                    1,
                    MAX_SUB_CONCURRENCY,
                )?,
                queue_capacity,
                max_attempts: count(
                    sub.max_attempts,
                    &p.key("max_attempts"),
                    MAX_ATTEMPTS as u32,
                    1,
                    MAX_DELIVERIES,
                )?,
                ack_timeout: positive(
                    sub.ack_timeout.as_deref(),
                    &p.key("ack_timeout"),
                    ACK_TIMEOUT,
                )?,
                redelivery_delay: match &sub.redelivery_delay {
                    Some(d) => duration(d, &p.key("redelivery_delay"))?,
                    None => REDELIVERY_DELAY,
                },
            });
        }
    }
    let mut data = Vec::new();
    let mut copies = Vec::new();
    let dp = root.key("data");
    for (di, (dname, d)) in raw.data.iter().enumerate() {
        let p = dp.key(dname);
        let topic = n.data_topic[di];
        topics[topic as usize].data = Some(di as DataId);
        let mut ids = Vec::new();
        for (i, c) in d.copies.iter().enumerate() {
            let holder = raw.services.get_index_of(c).expect("resolved") as ServiceId;
            let Some(sub) = subscriptions
                .iter()
                .position(|s| s.service == holder && s.topic == topic)
            else {
                let t = &topics[topic as usize].name;
                return Err(Invalid::new(
                    &p.key("copies").index(i),
                    format!("`{c}` keeps a copy but does not subscribe to `{t}`: add [services.{c}.subscriptions.{t}] with a handler, whose successes update the copy"),
                ));
            };
            ids.push(copies.len() as CopyId);
            copies.push(Copy {
                data: di as DataId,
                holder,
                subscription: sub as SubscriptionId,
            });
        }
        data.push(Data {
            name: dname.clone(),
            owner: n.data_owner[di],
            topic,
            keys: count(d.keys, &p.key("keys"), KEYS as u32, 1, MAX_KEYS)?,
            copies: ids,
        });
    }
    Ok(Messaging {
        brokers,
        topics,
        subscriptions,
        data,
        copies,
    })
}

/// A subscription's handler: `endpoint` or `service.endpoint` of the
/// subscribing service.
fn handler(
    h: &str,
    sname: &str,
    sid: ServiceId,
    p: &FieldPath,
    endpoints: &[Endpoint],
) -> R<EndpointId> {
    let full = if h.contains('.') {
        h.to_string()
    } else {
        format!("{sname}.{h}")
    };
    if let Some(i) = endpoints.iter().position(|e| e.name == full) {
        if endpoints[i].service == sid {
            return Ok(i as EndpointId);
        }
        return Err(Invalid::new(
            p,
            format!("`{full}` belongs to another service: a subscription's handler is an endpoint of the subscribing service `{sname}`"),
        ));
    }
    let own: Vec<&str> = endpoints
        .iter()
        .filter(|e| e.service == sid)
        .map(|e| e.name.split_once('.').map_or(e.name.as_str(), |(_, n)| n))
        .collect();
    Err(Invalid::new(
        p,
        format!(
            "unknown endpoint `{h}` of `{sname}`; expected one of: {}",
            own.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::scenario::{from_str, test_model};

    /// `user` publishes its writes; `order` subscribes, keeps a copy and
    /// reads it; `pay` is a saga; `extra` is appended.
    fn scenario(extra: &str) -> String {
        format!(
            r#"
[simulation]
duration = "1m"

[brokers.events]
replicas = 2
topics = ["user-updated", "audit"]

[services.user.endpoints.update]
steps = [{{ work = "1ms" }}, {{ publish = "user-updated" }}, {{ publish = "audit", ack = false }}]

[services.order.endpoints.place]
steps = [{{ read = "user-email" }}, {{ call = "pay.charge", compensate = "pay.refund", timeout = "1s", retries = {{ attempts = 3 }} }}, {{ call = "pay.notify" }}]

[services.order.endpoints.on_user]
work = "1ms"

[services.order.subscriptions.user-updated]
handler = "on_user"
concurrency = 2

[services.pay.endpoints.charge]
work = "2ms"
idempotent = true

[services.pay.endpoints.refund]
work = "1ms"

[services.pay.endpoints.notify]
steps = [{{ publish = "audit", outbox = true }}]

[services.pay.endpoints.on_audit]
work = "1ms"

[services.pay.subscriptions.audit]
handler = "pay.on_audit"
max_attempts = 1

[data.user-email]
owner = "user"
topic = "user-updated"
copies = ["order"]
keys = 50

[[workloads]]
name = "w"
target = "order.place"
arrival = {{ process = "poisson", rate = 10 }}

{extra}
"#
        )
    }

    /// The error's field path and message.
    fn error(text: &str) -> (String, String) {
        let e = from_str(text, "t.toml", "t", &[]).expect_err("should be refused");
        (e.field.unwrap_or_default(), e.message)
    }

    fn id(m: &Model, name: &str) -> usize {
        m.endpoint_id(name).expect("known") as usize
    }

    #[test]
    fn brokers_are_services_with_an_endpoint_per_topic() {
        let m = test_model(&scenario(""));
        let b = &m.messaging.brokers[0];
        assert_eq!(b.service, 3, "after user, order and pay");
        let s = &m.services[3];
        assert_eq!(
            (s.name.as_str(), s.replicas, s.concurrency),
            ("events", 2, 64)
        );
        assert_eq!(b.topics, vec![0, 1]);
        assert_eq!(
            (b.publish_timeout, b.reconnect),
            (PUBLISH_TIMEOUT, RECONNECT)
        );
        let t = &m.messaging.topics[0];
        assert_eq!(m.endpoints[t.endpoint as usize].name, "events.user-updated");
        assert_eq!(t.data, Some(0));
        assert_eq!(t.subscriptions, vec![0]);
        assert_eq!(m.messaging.topics[1].subscriptions, vec![1]);
        let sub = &m.messaging.subscriptions[0];
        assert_eq!(sub.handler as usize, id(&m, "order.on_user"));
        assert_eq!((sub.concurrency, sub.max_attempts), (2, 5));
        assert_eq!(
            (sub.ack_timeout, sub.redelivery_delay),
            (ACK_TIMEOUT, REDELIVERY_DELAY)
        );
        let d = &m.messaging.data[0];
        assert_eq!(
            (d.owner, d.topic, d.keys, d.copies.clone()),
            (0, 0, 50, vec![0])
        );
        assert_eq!(m.messaging.copies[0].holder, 1);
    }

    #[test]
    fn steps_resolve_topics_writes_and_copies() {
        let m = test_model(&scenario(""));
        let update = &m.endpoints[id(&m, "user.update")].steps;
        let Step::Publish(p) = update[1] else {
            panic!()
        };
        assert!(
            p.write && p.ack && !p.outbox,
            "the owner's publish is a write"
        );
        let Step::Publish(p) = update[2] else {
            panic!()
        };
        assert!(!p.write && !p.ack);
        let notify = &m.endpoints[id(&m, "pay.notify")].steps;
        assert!(matches!(notify[0], Step::Publish(p) if p.outbox && !p.write));
        let place = &m.endpoints[id(&m, "order.place")];
        assert!(matches!(place.steps[0], Step::Read(r) if r.copy == 0));
        let saga = place.saga.as_ref().expect("a saga");
        assert_eq!(saga.compensations.len(), 3);
        let c = saga.compensations[1].expect("charge is compensated");
        assert_eq!(c.target as usize, id(&m, "pay.refund"));
        assert!(saga.compensations[0].is_none() && saga.compensations[2].is_none());
        let client = &m.clients[c.client as usize];
        assert_eq!(client.name, "order->pay (compensation)");
        assert_eq!(client.policy.retry.as_ref().unwrap().attempts, 5);
    }

    #[test]
    fn tracked_endpoints_are_retried_redelivered_or_idempotent() {
        let m = test_model(&scenario(""));
        let tracked: Vec<&str> = m
            .endpoints
            .iter()
            .filter(|e| e.tracked)
            .map(|e| e.name.as_str())
            .collect();
        // charge: retried and idempotent; refund: retried compensation;
        // on_user: redeliverable; on_audit has max_attempts = 1.
        assert_eq!(tracked, ["order.on_user", "pay.charge", "pay.refund"]);
    }

    #[test]
    fn the_registry_stays_last_and_brokers_are_priced() {
        let m = test_model(&scenario(
            "[registry]\n[brokers.events2]\ntopics = [\"x\"]\nprice_per_hour = 2.0\n[cost]\nreplica_hour = 1.0",
        ));
        let names: Vec<&str> = m.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["user", "order", "pay", "events", "events2", "registry"]
        );
        assert_eq!(m.registry.as_ref().unwrap().service, 5);
        assert_eq!(m.cost.replica_hour, vec![1.0, 1.0, 1.0, 1.0, 2.0, 1.0]);
    }

    #[test]
    fn capacity_follows_events_to_their_handlers() {
        let text = scenario("").replace("target = \"order.place\"", "target = \"user.update\"");
        let m = test_model(&text);
        let rows = crate::model::capacity::capacity(&m);
        let row = |s: &str| rows.iter().find(|r| r.service == s).unwrap().clone();
        // 10 updates/s: 20 publishes/s at the broker, 10 events/s handled
        // by order and 10 audit events by pay.
        assert_eq!(row("events").offered_rps, 20.0);
        assert_eq!(row("order").offered_rps, 10.0);
        assert_eq!(row("pay").offered_rps, 10.0);
        // The acked publish waits for the broker's 1ms; the other does not.
        assert!((row("user").mean_hold_ms - 2.0).abs() < 1e-9);
    }

    #[test]
    fn bad_messaging_is_refused_with_the_field() {
        let cases: &[(&str, &str, &str, &str)] = &[
            (
                "topics = [\"user-updated\", \"audit\"]",
                "topics = []",
                "brokers.events.topics",
                "has no topics",
            ),
            (
                "topics = [\"user-updated\", \"audit\"]",
                "topics = [\"a\", \"a\"]",
                "brokers.events.topics[1]",
                "listed twice",
            ),
            (
                "{ publish = \"audit\", ack = false }",
                "{ publish = \"nope\" }",
                "services.user.endpoints.update.steps[2].publish",
                "unknown topic `nope`",
            ),
            (
                "{ publish = \"audit\", ack = false }",
                "{ publish = \"audit\", ack = false, outbox = true }",
                "services.user.endpoints.update.steps[2].ack",
                "outbox",
            ),
            (
                "{ publish = \"audit\", ack = false }",
                "{ publish = \"audit\", timeout = \"1s\" }",
                "services.user.endpoints.update.steps[2].timeout",
                "calls only",
            ),
            (
                "{ publish = \"audit\", ack = false }",
                "{ work = \"1ms\", ack = true }",
                "services.user.endpoints.update.steps[2].ack",
                "publish steps only",
            ),
            (
                "{ read = \"user-email\" }",
                "{ read = \"mail\" }",
                "services.order.endpoints.place.steps[0].read",
                "unknown data `mail`",
            ),
            (
                "handler = \"on_user\"",
                "handler = \"nope\"",
                "services.order.subscriptions.user-updated.handler",
                "unknown endpoint `nope` of `order`",
            ),
            (
                "handler = \"on_user\"",
                "handler = \"pay.charge\"",
                "services.order.subscriptions.user-updated.handler",
                "another service",
            ),
            (
                "copies = [\"order\"]",
                "copies = [\"user\"]",
                "data.user-email.copies[0]",
                "owns the data",
            ),
            (
                "copies = [\"order\"]",
                "copies = [\"order\", \"pay\"]",
                "data.user-email.copies[1]",
                "does not subscribe",
            ),
            ("keys = 50", "keys = 0", "data.user-email.keys", ""),
            (
                "compensate = \"pay.refund\"",
                "compensate = \"pay.nope\"",
                "services.order.endpoints.place.steps[1].compensate",
                "unknown endpoint",
            ),
            (
                "{ call = \"pay.notify\" }",
                "{ work = \"1ms\", compensate = \"pay.refund\" }",
                "services.order.endpoints.place.steps[2].compensate",
                "only a `call`",
            ),
            (
                "compensate = \"pay.refund\"",
                "compensate = \"pay.refund\", optional = true",
                "services.order.endpoints.place.steps[1].compensate",
                "must not be optional",
            ),
            (
                "[services.pay.endpoints.refund]",
                "[services.events.endpoints.x]\nwork = \"1ms\"\n[services.pay.endpoints.refund]",
                "brokers.events",
                "also a service",
            ),
        ];
        for (from, to, field, msg) in cases {
            let text = scenario("").replacen(from, to, 1);
            assert_ne!(text, scenario(""), "{from}");
            let (f, m) = error(&text);
            assert_eq!(f, *field, "{to}: {m}");
            assert!(m.contains(msg), "{to}: {m}");
        }
    }

    #[test]
    fn event_cycles_are_refused() {
        let text =
            scenario("[services.order.endpoints.echo]\nsteps = [{ publish = \"user-updated\" }]")
                .replace("handler = \"on_user\"", "handler = \"echo\"");
        let (f, m) = error(&text);
        assert!(
            m.starts_with("event cycle: order.echo -> events.user-updated -> order.echo"),
            "{m}"
        );
        assert_eq!(f, "services.order.endpoints.echo");
    }

    #[test]
    fn a_monolith_with_brokers_is_refused() {
        let (f, m) = error(&scenario("[deployment]\nmode = \"monolith\""));
        assert_eq!(f, "deployment.mode");
        assert!(m.contains("not supported"), "{m}");
    }
}
