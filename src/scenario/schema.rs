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
    /// `[services.NAME.endpoints.EP]` tables in file order; at least one.
    #[serde(default)]
    pub endpoints: IndexMap<String, RawEndpoint>,
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
}

/// One step of an endpoint: exactly one of the fields is set.
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
