//! The raw scenario file as serde reads it: names and strings, no ids yet.
//!
//! Every table refuses unknown keys (serde then lists the valid ones), and
//! fields whose checks need context (durations, distributions, counts that
//! must be positive) are kept loose here and checked in
//! [`super::validate`], where a precise message can be given.

use indexmap::IndexMap;
use serde::Deserialize;

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a scenario table")]
pub struct RawScenario {
    /// Scenario name used in reports; defaults to the file stem.
    pub name: Option<String>,
    /// Free text shown in reports.
    pub description: Option<String>,
    /// Run length, warm-up, seed and time-series window.
    #[serde(default)]
    pub simulation: RawSimulation,
    /// The network between services.
    #[serde(default)]
    pub network: RawNetwork,
    /// Services by name, in file order.
    #[serde(default)]
    pub services: IndexMap<String, RawService>,
    /// Workloads driving entry endpoints.
    #[serde(default)]
    pub workloads: Vec<RawWorkload>,
    /// Named resilience policies (`[policies.NAME]`) that calls refer to.
    #[serde(default)]
    pub policies: IndexMap<String, RawPolicy>,
    /// Faults injected on a schedule (`[[faults]]`).
    #[serde(default)]
    pub faults: Vec<RawFault>,
    /// `[registry]`: the service registry; its presence turns discovery on.
    pub registry: Option<RawRegistry>,
    /// `[discovery]`: discovery defaults for every caller service.
    pub discovery: Option<RawDiscovery>,
    /// `[deployment]`: microservices (default) or one monolith unit.
    pub deployment: Option<super::monolith::RawDeployment>,
    /// Scheduled replica-count changes (`[[scale]]`).
    #[serde(default)]
    pub scale: Vec<RawScale>,
    /// Rolling deployments (`[[deploy]]`).
    #[serde(default)]
    pub deploy: Vec<RawDeploy>,
    /// `[cost]`: prices of replicas, network calls and platform overhead.
    pub cost: Option<super::cost::RawCost>,
    /// `[sweep]`: the parameters `microsim sweep` varies when none are
    /// given on the command line. Other commands ignore it.
    pub sweep: Option<RawSweep>,
    /// Thresholds (`[[assert]]`) every `run`, `compare` and `sweep` of the
    /// scenario checks, like `--assert`.
    #[serde(default)]
    pub assert: Vec<RawAssert>,
    /// Message brokers (`[brokers.NAME]`), in file order.
    #[serde(default)]
    pub brokers: IndexMap<String, RawBroker>,
    /// Data owned by one service and copied into others by events
    /// (`[data.NAME]`), in file order.
    #[serde(default)]
    pub data: IndexMap<String, RawData>,
}

/// `[brokers.NAME]`: a message broker. Its service fields mean what they
/// mean for a service (the broker is a service of the model, named NAME);
/// the rest set its latencies, timeouts and topics.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a broker table such as { replicas = 3, topics = [\"orders\"] }"
)]
pub struct RawBroker {
    /// `topics`: the topics it holds (names unique across brokers).
    #[serde(default)]
    pub topics: Vec<String>,
    /// `replicas`: broker instances; default 1.
    pub replicas: Option<i64>,
    /// `concurrency`: publishes each replica stores at once; default 64.
    pub concurrency: Option<i64>,
    /// `queue_capacity`: publishes waiting per replica; default unbounded.
    pub queue_capacity: Option<i64>,
    /// `balancer`: as a service's; default "round_robin".
    pub balancer: Option<String>,
    /// `startup`: time a restarted broker replica takes; default 0.
    pub startup: Option<String>,
    /// `publish_latency`: the broker's work to store one event (a
    /// distribution); default constant 1ms.
    pub publish_latency: Option<toml::Value>,
    /// `delivery_latency`: from an event being stored to a consumer
    /// receiving it (a distribution); default constant 1ms.
    pub delivery_latency: Option<toml::Value>,
    /// `publish_timeout`: how long a publisher waits for the ack; default 5s.
    pub publish_timeout: Option<String>,
    /// `reconnect`: consumers and outbox relays retry an unreachable
    /// broker after this long; default 1s.
    pub reconnect: Option<String>,
    /// `price_per_hour`: price per broker replica-hour; default
    /// `cost.replica_hour`.
    pub price_per_hour: Option<f64>,
}

/// `[services.S.subscriptions.TOPIC]`: service S consumes TOPIC.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a subscription table such as { handler = \"on_order\", concurrency = 4 }"
)]
pub struct RawSubscription {
    /// `handler`: the endpoint of this service that handles each event
    /// ("endpoint" or "service.endpoint").
    pub handler: Option<String>,
    /// `concurrency`: handlers in flight at once; default 1.
    pub concurrency: Option<i64>,
    /// `queue_capacity`: the subscription's lag (events stored and not yet
    /// acknowledged) beyond which new events are dropped; default unbounded.
    pub queue_capacity: Option<i64>,
    /// `max_attempts`: deliveries of an event before it is dead-lettered;
    /// default 5.
    pub max_attempts: Option<i64>,
    /// `ack_timeout`: a handler not done by then counts as failed; default
    /// 30s.
    pub ack_timeout: Option<String>,
    /// `redelivery_delay`: wait before a failed event is delivered again;
    /// default 1s.
    pub redelivery_delay: Option<String>,
}

/// `[data.NAME]`: data owned by one service, copied into others.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a data table such as { owner = \"user\", topic = \"user-updated\", copies = [\"order\"] }"
)]
pub struct RawData {
    /// `owner`: the service owning and writing the data.
    pub owner: Option<String>,
    /// `topic`: the topic its writes are published on.
    pub topic: Option<String>,
    /// `copies`: services keeping a copy, updated by their subscription
    /// to `topic`.
    #[serde(default)]
    pub copies: Vec<String>,
    /// `keys`: distinct items; default 1000.
    pub keys: Option<i64>,
}

/// `[sweep]`: what `microsim sweep` varies, written in the scenario.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table with params, replications and zip"
)]
pub struct RawSweep {
    /// Dotted path (as `--set` takes it) to the values it takes: an array
    /// (`[100, 200, 400]`, `["10ms", "20ms"]`) or a range string
    /// (`"1..8"`, `"100..400:100"`, `"10ms..50ms:10ms"`), as `--param` takes them.
    #[serde(default)]
    pub params: IndexMap<String, toml::Value>,
    /// Runs per point (default 1).
    pub replications: Option<toml::Value>,
    /// Pair the parameters' lists element by element instead of taking
    /// every combination.
    pub zip: Option<bool>,
}

/// One `[[assert]]`: a threshold the results must meet.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table with expr (and an optional name)"
)]
pub struct RawAssert {
    /// The assertion, as `--assert` takes it: `"checkout.p99 < 250ms"`.
    pub expr: String,
    /// A name for reports (default: the expression).
    pub name: Option<String>,
}

/// `[simulation]`.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table such as { duration = \"5m\", warmup = \"30s\", seed = 1 }"
)]
pub struct RawSimulation {
    /// Total simulated time, e.g. "5m".
    pub duration: Option<String>,
    /// Initial period excluded from summary statistics.
    pub warmup: Option<String>,
    /// Master seed of all random streams.
    pub seed: Option<i64>,
    /// Time-series window; chosen automatically when absent.
    pub window: Option<String>,
}

/// `[network]`.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table such as { latency = { dist = \"constant\", value = \"1ms\" } }"
)]
pub struct RawNetwork {
    /// One-way latency of each hop (a distribution).
    pub latency: Option<toml::Value>,
}

/// `[services.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a service table ([services.NAME] with replicas, concurrency, endpoints, ...)"
)]
pub struct RawService {
    /// `replicas`: identical replicas behind the balancer; default 1.
    pub replicas: Option<i64>,
    /// `concurrency`: workers per replica; default 1.
    pub concurrency: Option<i64>,
    /// `queue_capacity`: waiting requests per replica before calls are
    /// rejected (0 = no queue); default unbounded.
    pub queue_capacity: Option<i64>,
    /// `balancer`: "round_robin" (default), "random",
    /// "least_outstanding" or "power_of_two".
    pub balancer: Option<String>,
    /// `io`: "blocking" (default; a worker is held during calls) or
    /// "async" (the worker is released).
    pub io: Option<String>,
    /// `startup`: time a restarted replica takes before serving; default 0.
    pub startup: Option<String>,
    /// `shed_after`: drop queued requests that waited longer than this
    /// (load shedding by queue deadline); default never.
    pub shed_after: Option<String>,
    /// `outlier_ejection`: stop routing to replicas that keep failing.
    pub outlier_ejection: Option<RawOutlier>,
    /// `[services.NAME.discovery]`: how this service, as a caller, finds
    /// the instances it calls; any subset of the `[discovery]` fields,
    /// each overriding the one there.
    pub discovery: Option<RawDiscovery>,
    /// `provisioning`: time before a newly added replica's process starts
    /// (scheduling, image pull, VM boot); its `startup` follows. Default 0.
    pub provisioning: Option<String>,
    /// `drain_timeout`: how long a replica being removed may finish the
    /// work it has before what is left is cut off; default "30s".
    pub drain_timeout: Option<String>,
    /// `[services.NAME.autoscale]`: a horizontal autoscaler.
    pub autoscale: Option<RawAutoscale>,
    /// `price_per_hour`: price per replica-hour of this service; default
    /// `cost.replica_hour`.
    pub price_per_hour: Option<f64>,
    /// `[services.NAME.endpoints.EP]` tables in file order; at least one.
    #[serde(default)]
    pub endpoints: IndexMap<String, RawEndpoint>,
    /// `[services.NAME.subscriptions.TOPIC]` tables in file order.
    #[serde(default)]
    pub subscriptions: IndexMap<String, RawSubscription>,
}

impl RawService {
    /// The service fields of a built-in component (the registry, a
    /// broker): its size, balancer and startup, as its own table gives
    /// them, and nothing else; the cost model prices it from that table.
    pub fn component(
        replicas: Option<i64>,
        concurrency: Option<i64>,
        queue_capacity: Option<i64>,
        balancer: Option<String>,
        startup: Option<String>,
    ) -> RawService {
        RawService {
            replicas,
            concurrency,
            queue_capacity,
            balancer,
            io: None,
            startup,
            shed_after: None,
            outlier_ejection: None,
            endpoints: Default::default(),
            subscriptions: Default::default(),
            discovery: None,
            provisioning: None,
            drain_timeout: None,
            autoscale: None,
            price_per_hour: None,
        }
    }
}

/// `[registry]`: the service registry. Its service fields mean what they
/// mean for a service (the defaults differ: a registry is replicated and
/// concurrent); the rest set the lookup work and the registration timers.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a registry table such as { replicas = 3, heartbeat = \"10s\", ttl = \"30s\" }"
)]
pub struct RawRegistry {
    /// `enabled`: default true; false ignores the table (no registry:
    /// every caller with discovery settings uses static addresses), so
    /// `--set registry.enabled=false` compares against no registry.
    pub enabled: Option<bool>,
    /// `replicas`: registry instances; default 3.
    pub replicas: Option<i64>,
    /// `concurrency`: workers per registry replica; default 32.
    pub concurrency: Option<i64>,
    /// `queue_capacity`: waiting lookups per replica; default unbounded.
    pub queue_capacity: Option<i64>,
    /// `balancer`: as a service's; default "round_robin".
    pub balancer: Option<String>,
    /// `startup`: time a restarted registry replica takes; default 0.
    pub startup: Option<String>,
    /// `lookup`: work time of one lookup (a distribution); default
    /// lognormal, median 1ms, p99 5ms.
    pub lookup: Option<toml::Value>,
    /// `heartbeat`: how often each instance renews its entry; default 10s.
    pub heartbeat: Option<String>,
    /// `ttl`: an entry without a heartbeat for this long is evicted;
    /// default 30s, more than `heartbeat`.
    pub ttl: Option<String>,
    /// `lookup_timeout`: how long a caller waits for a lookup; default 1s.
    pub lookup_timeout: Option<String>,
    /// `price_per_hour`: price per registry replica-hour; default
    /// `cost.replica_hour`.
    pub price_per_hour: Option<f64>,
}

/// `[discovery]` and `[services.NAME.discovery]`: every field optional, so
/// a service's table overrides the defaults field by field.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a discovery table such as { mode = \"cached\", cache_ttl = \"30s\" }"
)]
pub struct RawDiscovery {
    /// `mode`: "per_request", "cached" (default) or "static".
    pub mode: Option<String>,
    /// `cache_ttl`: how long a cached list is fresh; default 30s.
    pub cache_ttl: Option<String>,
    /// `refresh`: "on_call" (default) or "background".
    pub refresh: Option<String>,
    /// `max_stale`: how long past expiry a cached list may serve while the
    /// registry is unreachable; default no limit.
    pub max_stale: Option<String>,
    /// `dead_instances`: "refused" (default) or "blackhole".
    pub dead_instances: Option<String>,
}

/// `[services.NAME.endpoints.EP]`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an endpoint table with `work = {...}` or `steps = [...]`"
)]
pub struct RawEndpoint {
    /// Shorthand for a single work step.
    pub work: Option<toml::Value>,
    /// `steps`: the endpoint's steps, run in order; excludes `work`.
    pub steps: Option<Vec<RawStep>>,
    /// `idempotent`: callers send an idempotency key, so a repeated
    /// execution of the same call has no second side effect; default false.
    pub idempotent: Option<bool>,
    /// `compensation_policy`: the `[policies.NAME]` its saga's
    /// compensating calls use; default a built-in retrying policy.
    pub compensation_policy: Option<String>,
}

/// One step of an endpoint: exactly one of `work`, `call` and `parallel`
/// is set; a call may carry a policy (named, or inline fields).
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a step: { work = DIST }, { call = \"service.endpoint\" } or { parallel = [calls] }"
)]
pub struct RawStep {
    /// `work`: hold a worker for a time drawn from this distribution.
    pub work: Option<toml::Value>,
    /// `call`: a synchronous call to "service.endpoint".
    pub call: Option<String>,
    /// `parallel`: concurrent `call` steps; the step ends when all have
    /// answered.
    pub parallel: Option<Vec<RawStep>>,
    /// `policy`: the name of a `[policies.NAME]` table for this call.
    pub policy: Option<String>,
    /// `timeout`: give up on an attempt after this long.
    pub timeout: Option<String>,
    /// `retries`: try again after failures.
    pub retries: Option<RawRetries>,
    /// `circuit_breaker`: stop calling a failing dependency for a while.
    pub circuit_breaker: Option<RawBreaker>,
    /// `bulkhead`: at most this many calls in flight to the dependency.
    pub bulkhead: Option<i64>,
    /// `optional`: a failure of this call does not fail the request (it
    /// succeeds degraded); allowed with `policy` too.
    pub optional: Option<bool>,
    /// `publish`: publish an event to this topic.
    pub publish: Option<String>,
    /// `ack`: with `publish`, wait for the broker's ack (default true).
    pub ack: Option<bool>,
    /// `outbox`: with `publish`, write the event to the service's outbox
    /// in the same transaction; a relay publishes it (default false).
    pub outbox: Option<bool>,
    /// `read`: read an item of this data set's copy, kept by this service.
    pub read: Option<String>,
    /// `compensate`: with `call`, the "service.endpoint" that undoes the
    /// call when a later step of the saga fails.
    pub compensate: Option<String>,
}

/// `[policies.NAME]`: what a caller does around a call.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a policy table with timeout, retries, circuit_breaker, bulkhead and optional"
)]
pub struct RawPolicy {
    /// `timeout`: give up on an attempt after this long.
    pub timeout: Option<String>,
    /// `retries`: try again after failures.
    pub retries: Option<RawRetries>,
    /// `circuit_breaker`: stop calling a failing dependency for a while.
    pub circuit_breaker: Option<RawBreaker>,
    /// `bulkhead`: at most this many calls in flight to the dependency.
    pub bulkhead: Option<i64>,
    /// `optional`: calls under this policy do not fail their request.
    pub optional: Option<bool>,
}

/// The policy settings of a named policy or of a call step (inline),
/// borrowed: one validator serves both.
#[derive(Debug, Clone, Copy)]
pub struct RawPolicyFields<'a> {
    /// `timeout`.
    pub timeout: Option<&'a String>,
    /// `retries`.
    pub retries: Option<&'a RawRetries>,
    /// `circuit_breaker`.
    pub circuit_breaker: Option<&'a RawBreaker>,
    /// `bulkhead`.
    pub bulkhead: Option<i64>,
}

impl RawPolicyFields<'_> {
    /// Names of the fields that are set, in declaration order.
    pub fn set_fields(&self) -> Vec<&'static str> {
        [
            ("timeout", self.timeout.is_some()),
            ("retries", self.retries.is_some()),
            ("circuit_breaker", self.circuit_breaker.is_some()),
            ("bulkhead", self.bulkhead.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(n, _)| n)
        .collect()
    }
}

impl RawStep {
    /// The inline policy fields of this step.
    pub fn policy_fields(&self) -> RawPolicyFields<'_> {
        RawPolicyFields {
            timeout: self.timeout.as_ref(),
            retries: self.retries.as_ref(),
            circuit_breaker: self.circuit_breaker.as_ref(),
            bulkhead: self.bulkhead,
        }
    }
}

impl RawPolicy {
    /// The settings of this policy.
    pub fn policy_fields(&self) -> RawPolicyFields<'_> {
        RawPolicyFields {
            timeout: self.timeout.as_ref(),
            retries: self.retries.as_ref(),
            circuit_breaker: self.circuit_breaker.as_ref(),
            bulkhead: self.bulkhead,
        }
    }
}

/// `retries = { attempts = 3, backoff = "exponential", base = "50ms", ... }`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a retries table such as { attempts = 3, backoff = \"exponential\", base = \"50ms\" }"
)]
pub struct RawRetries {
    /// `attempts`: attempts in all, the first included; required.
    pub attempts: i64,
    /// `backoff`: "constant" (default) or "exponential".
    pub backoff: Option<String>,
    /// `base`: the wait before the first retry; default "0s".
    pub base: Option<String>,
    /// `max_delay`: the longest wait (exponential backoff).
    pub max_delay: Option<String>,
    /// `jitter`: "none" (default), "full" or "equal".
    pub jitter: Option<String>,
    /// `on`: causes to retry; default all but circuit_open and
    /// bulkhead_full.
    pub on: Option<Vec<String>>,
    /// `budget`: retries at most this fraction of calls (0 < budget <= 1).
    pub budget: Option<f64>,
}

/// `circuit_breaker = { failure_rate = 0.5, window = "10s", ... }`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a circuit_breaker table such as { failure_rate = 0.5, window = \"10s\", min_calls = 20, open_for = \"5s\" }"
)]
pub struct RawBreaker {
    /// `failure_rate`: open at this failure fraction; required.
    pub failure_rate: f64,
    /// `window`: sliding window of outcomes; default "10s".
    pub window: Option<String>,
    /// `min_calls`: outcomes in the window before it may open; default 20.
    pub min_calls: Option<i64>,
    /// `open_for`: time open before trial calls; default "5s".
    pub open_for: Option<String>,
    /// `half_open_calls`: trial calls, all must succeed; default 3.
    pub half_open_calls: Option<i64>,
}

/// `outlier_ejection = { consecutive_failures = 5, eject_for = "30s" }`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an outlier_ejection table such as { consecutive_failures = 5, eject_for = \"30s\", max_ejected = 0.5 }"
)]
pub struct RawOutlier {
    /// Failures in a row that eject a replica; default 5.
    pub consecutive_failures: Option<i64>,
    /// How long an ejected replica gets no traffic; default "30s".
    pub eject_for: Option<String>,
    /// Largest fraction of replicas ejected at once; default 0.5.
    pub max_ejected: Option<f64>,
}

/// `[[faults]]`: one fault. Which fields apply depends on `kind`; the
/// validator refuses the ones that do not.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a fault table ([[faults]] with kind, at, duration and the kind's fields)"
)]
pub struct RawFault {
    /// `name`: the fault's name in results; default "KIND TARGET at AT".
    pub name: Option<String>,
    /// `kind`: crash, latency, errors, partition, slow_replica or
    /// random_crashes; required.
    pub kind: String,
    /// `at`: when it starts (required, but "0s" for random_crashes).
    pub at: Option<String>,
    /// `duration`: how long it lasts; default until the end of the run.
    pub duration: Option<String>,
    /// `service`: the service affected.
    pub service: Option<String>,
    /// `endpoint`: one endpoint of `service` (latency and errors).
    pub endpoint: Option<String>,
    /// `replicas`: how many replicas crash; default all.
    pub replicas: Option<i64>,
    /// `mode`: "reject" (callers see a failure at once) or "drop" (no
    /// answer, callers wait for their timeout).
    pub mode: Option<String>,
    /// `extra`: latency added to work (a distribution).
    pub extra: Option<toml::Value>,
    /// `fraction`: share of work steps slowed; default 1.
    pub fraction: Option<f64>,
    /// `probability`: share of calls failed (errors).
    pub probability: Option<f64>,
    /// `from`: calling service (partition).
    pub from: Option<String>,
    /// `to`: called service (partition).
    pub to: Option<String>,
    /// `replica`: index of the slow replica; default 0.
    pub replica: Option<i64>,
    /// `factor`: how many times slower the replica works.
    pub factor: Option<f64>,
    /// `mtbf`: mean time between failures per replica (random_crashes).
    pub mtbf: Option<String>,
    /// `mttr`: mean time to repair (random_crashes).
    pub mttr: Option<String>,
}

/// `[[workloads]]`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a workload table ([[workloads]] with name, target and arrival)"
)]
pub struct RawWorkload {
    /// `name`: the workload's name in results; required.
    pub name: String,
    /// `target`: the entry endpoint, "service.endpoint"; required.
    pub target: String,
    /// `arrival`: how requests arrive; required.
    pub arrival: RawArrival,
}

/// A workload's arrival process.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an arrival table such as { process = \"poisson\", rate = 100 }"
)]
pub struct RawArrival {
    /// "poisson", "constant" or "closed".
    pub process: String,
    /// Requests per second (open processes).
    pub rate: Option<f64>,
    /// Rate changes over time (open processes).
    pub schedule: Option<Vec<RawRateStep>>,
    /// Concurrent users (closed process).
    pub users: Option<i64>,
    /// Think time between a user's requests (closed process).
    pub think: Option<toml::Value>,
}

/// `{ at = "1m", rate = 300 }`: from `at` on, arrivals come at `rate`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a schedule step such as { at = \"1m\", rate = 300 }"
)]
pub struct RawRateStep {
    /// `at`: when the rate changes, as a duration from the start; required.
    pub at: String,
    /// `rate`: requests per second from `at` on (0 allowed); required.
    pub rate: f64,
}

/// `[[scale]]`: set a service's replica count at a time.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a scale table such as { service = \"payment\", at = \"5m\", replicas = 4 }"
)]
pub struct RawScale {
    /// `service`: the service scaled; required.
    pub service: String,
    /// `at`: when; required.
    pub at: String,
    /// `replicas`: the new replica count (0 allowed); required.
    pub replicas: i64,
}

/// `[services.NAME.autoscale]`: a horizontal autoscaler in the manner of
/// Kubernetes' HPA: every `interval` it measures `metric` over the
/// interval, proposes `ceil(ready replicas x measured / target)`, and
/// moves towards it within step limits, cooldowns and min/max.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an autoscale table such as { metric = \"utilization\", target = 0.6, min = 2, max = 10 }"
)]
pub struct RawAutoscale {
    /// `metric`: "utilization", "in_flight", "queue" or "p99"; required.
    pub metric: String,
    /// `target`: a number (utilisation 0..1, requests per replica) or,
    /// for p99, a duration such as "200ms"; required.
    pub target: toml::Value,
    /// `min`: fewest replicas; default 1.
    pub min: Option<i64>,
    /// `max`: most replicas; required.
    pub max: Option<i64>,
    /// `interval`: time between evaluations; default "15s".
    pub interval: Option<String>,
    /// `tolerance`: no change while |measured / target - 1| is within
    /// it; default 0.1.
    pub tolerance: Option<f64>,
    /// `max_step_up`: replicas added per evaluation at most; default 4.
    pub max_step_up: Option<i64>,
    /// `max_step_down`: replicas removed per evaluation at most; default 1.
    pub max_step_down: Option<i64>,
    /// `scale_up_cooldown`: no scale-up for this long after one; default 0.
    pub scale_up_cooldown: Option<String>,
    /// `scale_down_stabilization`: scale down only to the highest
    /// proposal of this past period; default "5m".
    pub scale_down_stabilization: Option<String>,
}

/// `[[deploy]]`: a rolling deployment of a new version of one service.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a deploy table such as { service = \"payment\", at = \"10m\", batch = 1 }"
)]
pub struct RawDeploy {
    /// `name`: the deploy's name in results; default "deploy SERVICE at AT".
    pub name: Option<String>,
    /// `service`: the service deployed; required.
    pub service: String,
    /// `at`: when the rollout starts; required.
    pub at: String,
    /// `batch`: old replicas that may be out of service at once
    /// (Kubernetes' maxUnavailable); default 1.
    pub batch: Option<i64>,
    /// `surge`: extra new replicas started above the desired count
    /// (maxSurge); default 0.
    pub surge: Option<i64>,
    /// `startup`: a new-version replica's startup time; default the
    /// service's `startup`.
    pub startup: Option<String>,
    /// `error_rate`: share of requests a new replica fails during its
    /// first `bad_for` (a bad release); default 0.
    pub error_rate: Option<f64>,
    /// `bad_for`: how long after it starts serving a new replica fails
    /// `error_rate` of its requests; default the rest of the run.
    pub bad_for: Option<String>,
}
