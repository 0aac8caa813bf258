//! `RunResult`: the plain data every output (table, JSON, CSV, charts) is a
//! pure function of. Contains no wall-clock figures, so the same scenario
//! and seed give byte-identical serialisations.

use super::latency::LatencySummary;
use crate::model::capacity::CapacityRow;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Everything one run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Totals over the measured period.
    pub summary: Summary,
    /// Per-window series over the whole run, warm-up included.
    pub timeseries: TimeSeries,
    /// Per workload (in scenario order), the latency percentile
    /// distribution of its successful requests over the measured period
    /// (`percentiles.csv`, the charts' percentile plot).
    pub percentiles: IndexMap<String, Vec<super::latency::PercentilePoint>>,
}

/// The run's summary (`summary.json`, `--json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenario name.
    pub name: String,
    /// Master seed of the run; the same seed reproduces the same result.
    pub seed: u64,
    /// Total simulated time, warm-up included.
    pub simulated_seconds: f64,
    /// Excluded from the statistics below.
    pub warmup_seconds: f64,
    /// The measured period: simulated minus warm-up.
    pub measured_seconds: f64,
    /// Events processed by the engine.
    pub events: u64,
    /// Per-workload results by workload name, in scenario order.
    pub workloads: IndexMap<String, WorkloadSummary>,
    /// Per-service results by service name, in scenario order.
    pub services: IndexMap<String, ServiceSummary>,
    /// The capacity table computed before the run.
    pub capacity: Vec<CapacityRow>,
    /// Per client (caller -> dependency, under one policy), by name.
    pub dependencies: IndexMap<String, DependencySummary>,
    /// Per fault, in scenario order: its windows and blast radius.
    pub faults: Vec<FaultSummary>,
    /// Service discovery: the registry and each caller/callee pair; absent
    /// when the scenario uses no discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<DiscoverySummary>,
    /// Changes of desired replica counts (scaling and the autoscaler), in
    /// time order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scaling: Vec<ScalingDecision>,
    /// Rolling deploys, in scenario order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deploys: Vec<DeploySummary>,
    /// What the measured period cost; absent when the scenario prices
    /// nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<super::cost::CostSummary>,
    /// Topics, subscriptions and data copies; absent without brokers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging: Option<super::messaging::MessagingSummary>,
    /// Per saga endpoint (`service.endpoint`), in model order.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub sagas: IndexMap<String, super::saga::SagaSummary>,
    /// Per tracked endpoint (called with retries, handling redeliverable
    /// events, or idempotent), in model order: executions per logical
    /// call.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub executions: IndexMap<String, super::saga::ExecutionSummary>,
    /// In monolith mode, the modules latency attribution charges work to
    /// (`payment work`): the services the unit was built from, in scenario
    /// order ([`super::attribution::modules`]); absent with microservices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<String>,
    /// Per workload with measured successful requests, in scenario order:
    /// where its latency goes, along each request's critical path, for
    /// all requests and the slowest 1%.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub attribution: IndexMap<String, super::attribution::WorkloadAttribution>,
}

/// Service discovery over the measured period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscoverySummary {
    /// The registry, if the scenario has one.
    pub registry: Option<RegistrySummary>,
    /// Per caller/callee pair (`caller->callee`), in client order.
    pub pairs: IndexMap<String, DiscoveryPairSummary>,
}

/// The registry's side of discovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrySummary {
    /// Heartbeat period, in seconds.
    pub heartbeat_s: f64,
    /// Eviction after this long without a heartbeat, in seconds.
    pub ttl_s: f64,
    /// A client's lookup timeout, in seconds.
    pub lookup_timeout_s: f64,
    /// Instances registered (new entries: restarts, re-registrations).
    pub registrations: u64,
    /// Entries evicted for missing heartbeats.
    pub evictions: u64,
    /// With scaling or deploys: entries removed by graceful shutdowns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deregistrations: Option<u64>,
    /// Heartbeats sent while no registry replica was running.
    pub heartbeats_lost: u64,
    /// Time with no registry replica running, in seconds.
    pub outage_seconds: f64,
}

/// How one caller service found the instances of one callee service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscoveryPairSummary {
    /// The calling service.
    pub caller: String,
    /// The called service.
    pub callee: String,
    /// The caller's discovery mode: per_request, cached or static.
    pub mode: String,
    /// Call attempts that needed an instance.
    pub attempts: u64,
    /// Share of those served from a fresh cached list without a lookup
    /// (cached mode only).
    pub cache_hit_rate: Option<f64>,
    /// Attempts served from an expired list because the registry could
    /// not be reached.
    pub stale_list_uses: u64,
    /// Registry lookups started (on the call path and in the background).
    pub lookups: u64,
    /// Lookups that got no answer (registry down, overloaded or cut off).
    pub lookup_failures: u64,
    /// Round trip of the successful lookups; `null` when none.
    pub lookup_latency_ms: Option<LatencySummary>,
    /// Attempts sent to an instance that was no longer running.
    pub routed_to_dead: u64,
    /// Attempts that failed with `no_instance` (no usable list, or an
    /// empty one).
    pub no_instance: u64,
    /// Instances started during the run (restarts) that got a first call
    /// from this caller.
    pub new_instances_discovered: u64,
    /// Mean time from such an instance being ready to its first call, in
    /// ms; `null` when none.
    pub discovery_lag_mean_ms: Option<f64>,
    /// The longest such time, in ms.
    pub discovery_lag_max_ms: Option<f64>,
    /// Instances started during the run, running at the end, that never
    /// got a call from this caller (static lists never learn of them).
    pub new_instances_undiscovered: u64,
}

/// Per-workload results over the measured period. A request counts if it
/// was issued after the warm-up; it is `ok` or `failed` when it completed
/// before the end, `in_flight` otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSummary {
    /// Entry endpoint, `service.endpoint`.
    pub target: String,
    /// Requests issued after the warm-up.
    pub requests: u64,
    /// Of those, requests that succeeded fully before the end.
    pub ok: u64,
    /// Of those, requests that succeeded degraded: an optional call on the
    /// way failed and was skipped.
    pub degraded: u64,
    /// Of those, requests that failed before the end (the sum of `failures`).
    pub failed: u64,
    /// Of those, requests still unfinished at the end.
    pub in_flight: u64,
    /// (ok + degraded) / (ok + degraded + failed); `null` when nothing
    /// completed.
    pub availability: Option<f64>,
    /// Successful (ok or degraded) requests per second of measured time.
    pub throughput_rps: f64,
    /// End-to-end latency of successful (ok or degraded) requests; `null`
    /// when none.
    pub latency_ms: Option<LatencySummary>,
    /// Failed requests by cause.
    pub failures: IndexMap<String, u64>,
    /// Requests issued while no fault was active (the baseline the blast
    /// radius compares with); `null` when the scenario has no faults.
    pub outside_faults: Option<PeriodSummary>,
}

/// Outcomes of the measured requests issued during a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodSummary {
    /// Requests issued in the period.
    pub issued: u64,
    /// Of those, requests still unanswered at the end of the run (hung,
    /// e.g. on a dropped call without a timeout).
    pub unfinished: u64,
    /// Requests that completed (ok, degraded or failed).
    pub completed: u64,
    /// Succeeded fully.
    pub ok: u64,
    /// Succeeded degraded.
    pub degraded: u64,
    /// Failed.
    pub failed: u64,
    /// (ok + degraded) / completed; `null` when none completed.
    pub availability: Option<f64>,
    /// Median latency of the successful ones, in ms (within 1%).
    pub p50_ms: Option<f64>,
    /// 99th percentile latency of the successful ones, in ms (within 1%).
    pub p99_ms: Option<f64>,
}

/// One client: the calls one service makes to another under one policy.
/// Counts cover the calls started after the warm-up, with all their
/// attempts and their outcome, so `attempts = calls + retries` and
/// `calls = ok + failed + in flight at the end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DependencySummary {
    /// Calling service.
    pub caller: String,
    /// Called service.
    pub callee: String,
    /// Named policy, if any.
    pub policy: Option<String>,
    /// Calls made (each may take several attempts).
    pub calls: u64,
    /// Attempts started, first attempts and retries.
    pub attempts: u64,
    /// Retries started.
    pub retries: u64,
    /// Retries the retry budget refused.
    pub retries_denied_by_budget: u64,
    /// Calls that succeeded.
    pub ok: u64,
    /// Calls that failed but were optional: the caller went on degraded.
    pub fallbacks: u64,
    /// Calls that failed (after all attempts), fallbacks included.
    pub failed: u64,
    /// Failed calls by cause of their last attempt.
    pub failures: IndexMap<String, u64>,
    /// Failed attempts by cause (retried ones included).
    pub attempt_failures: IndexMap<String, u64>,
    /// Times the circuit breaker opened.
    pub breaker_opens: u64,
    /// Every breaker state change (opened, half-opened, closed).
    pub breaker_state_changes: u64,
    /// Measured seconds the breaker was open or half-open.
    pub breaker_open_seconds: f64,
}

/// One fault: when it was active and what it did to each workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultSummary {
    /// The fault's name.
    pub name: String,
    /// crash, latency, errors, partition, slow_replica or random_crashes.
    pub kind: String,
    /// What it hits: a service, `service.endpoint`, `from->to`, or
    /// `service[replica]`.
    pub target: String,
    /// Start, in seconds of simulated time.
    pub start_s: f64,
    /// End (exclusive), in seconds of simulated time.
    pub end_s: f64,
    /// End of its effect: for a crash, `end_s` plus the service's startup
    /// time; `end_s` otherwise. Requests issued in [start_s, effect_end_s)
    /// make up its blast radius.
    pub effect_end_s: f64,
    /// Replica crashes it caused.
    pub crashes: u64,
    /// Individual replica outages of random crashes (at most 10,000).
    pub outages: Vec<Outage>,
    /// Per workload, by name: the requests issued while it was active,
    /// compared with those issued while no fault was.
    pub blast_radius: IndexMap<String, BlastRow>,
}

/// A replica's outage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    /// Replica index within its service.
    pub replica: u32,
    /// When it went down, in seconds.
    pub down_s: f64,
    /// When it was repaired (the startup time follows), in seconds; the
    /// end of the run if it never was.
    pub up_s: f64,
}

/// How a workload fared during a fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlastRow {
    /// The requests issued while the fault was active.
    pub during: PeriodSummary,
    /// Availability during minus availability outside every fault (in
    /// fractions: -0.25 is 25 points lower); `null` if either is unknown.
    pub availability_change: Option<f64>,
    /// p99 during minus p99 outside every fault, in ms.
    pub p99_change_ms: Option<f64>,
    /// "unaffected", or what moved: "less available" (availability down
    /// by 0.1 point or more, or 0.1% more of the requests left unanswered),
    /// "slower" (p99 up 10% or more), or both; "no baseline" when no
    /// request was issued outside every fault.
    pub impact: String,
}

/// Per-service results over the measured period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    /// Replicas of the service.
    pub replicas: u32,
    /// Workers per replica; `utilization` is relative to
    /// replicas x concurrency.
    pub concurrency: u32,
    /// Calls that reached the service (admitted, queued or rejected).
    pub requests: u64,
    /// Calls answered after being admitted (successfully or not), counted
    /// when they finish: calls admitted during the warm-up and finished
    /// after it count here but not in `requests`.
    pub completed: u64,
    /// Calls refused because the replica's queue was full.
    pub rejected: u64,
    /// Calls received per first attempt: 1 without retries, up to the
    /// attempt count in a retry storm; `null` when nothing was received.
    pub retry_amplification: Option<f64>,
    /// Calls received per measured request of the workloads whose calls
    /// reach the service; `null` when none does.
    pub calls_per_entry_request: Option<f64>,
    /// Queued calls dropped by load shedding (`shed_after`).
    pub shed: u64,
    /// Calls lost in replica crashes.
    pub lost_in_crashes: u64,
    /// Calls that found no replica running.
    pub unreachable: u64,
    /// Calls failed by an `errors` fault.
    pub injected_errors: u64,
    /// Calls it finished whose answer could no longer reach a user: their
    /// caller, or one further up the chain, had timed out or died. Their
    /// work was wasted.
    pub abandoned: u64,
    /// Worker time spent on those calls' own work steps, in seconds.
    pub wasted_work_seconds: f64,
    /// Replica crashes.
    pub crashes: u64,
    /// Outlier ejections of its replicas.
    pub ejections: u64,
    /// Times the breakers of its callers opened.
    pub breaker_opens: u64,
    /// Measured seconds its callers' breakers were open, summed over
    /// callers.
    pub breaker_open_seconds: f64,
    /// Mean replicas the balancer could choose (not down, starting or
    /// ejected).
    pub mean_available_replicas: f64,
    /// Mean fraction of workers busy (held by a request).
    pub utilization: f64,
    /// Mean number of busy workers.
    pub mean_busy_workers: f64,
    /// Time-weighted mean number of requests waiting, over all replicas.
    pub mean_queue_length: f64,
    /// With scaling, autoscaling or deploys: its replicas over the run
    /// (`replicas` is then the count it started with, and `utilization`
    /// is relative to the mean replicas that existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<ScalingSummary>,
}

/// A service's replica counts over the measured period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingSummary {
    /// Fewest replicas that existed at once (starting, serving, down or
    /// draining).
    pub min_replicas: u32,
    /// Most replicas that existed at once.
    pub max_replicas: u32,
    /// Time-weighted mean replicas that existed.
    pub mean_replicas: f64,
    /// Replica-hours: what a per-replica price applies to.
    pub replica_hours: f64,
    /// Replicas that existed at the end of the run.
    pub final_replicas: u32,
    /// Decisions that raised the desired count.
    pub scale_ups: u64,
    /// Decisions that lowered it.
    pub scale_downs: u64,
    /// Replicas added (scaling and deploys).
    pub replicas_started: u64,
    /// Replicas removed after draining (scaling and deploys).
    pub replicas_drained: u64,
    /// Drains cut off at `drain_timeout` with work left.
    pub drain_cutoffs: u64,
    /// Calls lost in those cut-offs.
    pub lost_in_drain_cutoffs: u64,
}

/// One change of a service's desired replica count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingDecision {
    /// When, in seconds of simulated time.
    pub at_s: f64,
    /// The service.
    pub service: String,
    /// Desired replicas before.
    pub from: u32,
    /// Desired replicas after.
    pub to: u32,
    /// "schedule" (a `[[scale]]` entry) or "autoscaler".
    pub reason: String,
    /// The autoscaler's measured metric (its unit: a fraction, requests
    /// per replica, or ms for p99); `null` for a schedule.
    pub measured: Option<f64>,
}

/// One rolling deploy: its rollout and what the workloads saw meanwhile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploySummary {
    /// The deploy's name.
    pub name: String,
    /// The service deployed.
    pub service: String,
    /// When the rollout started, in seconds.
    pub start_s: f64,
    /// When the last old replica was gone and every new one served;
    /// `null` if the run ended first (or it was superseded then).
    pub end_s: Option<f64>,
    /// `end_s` plus a bad release's `bad_for`: the blast radius counts
    /// requests issued from `start_s` until then (the run's end if open).
    pub effect_end_s: f64,
    /// Old replicas outside service at once, at most (maxUnavailable).
    pub batch: u32,
    /// Extra replicas above the desired count, at most (maxSurge).
    pub surge: u32,
    /// Old-version replicas when it started.
    pub old_replicas: u32,
    /// New-version replicas started.
    pub new_replicas: u32,
    /// A later deploy of the service took over before it finished.
    pub superseded: bool,
    /// A bad release's error rate (0 for a good one).
    pub error_rate: f64,
    /// Requests the bad release failed (measured).
    pub bad_release_errors: u64,
    /// Per workload: during the deploy's effect against outside every
    /// fault and deploy.
    pub blast_radius: IndexMap<String, BlastRow>,
}

/// Per-window series for charts; windows cover the whole run, warm-up
/// included.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeSeries {
    /// Width of a window in seconds; the last window may be shorter.
    pub window_seconds: f64,
    /// One row per workload per window, in time order.
    pub workloads: Vec<WorkloadWindow>,
    /// One row per service per window, in time order.
    pub services: Vec<ServiceWindow>,
    /// With discovery: one row per caller/callee pair per window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discovery: Vec<DiscoveryWindow>,
    /// With brokers: one row per subscription per window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<super::messaging::SubscriptionWindow>,
    /// With data copies: one row per copy per window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<super::messaging::CopyWindow>,
}

/// One workload in one window. Requests count by arrival time, ok and
/// failed by completion time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadWindow {
    /// Window start, in seconds of simulated time.
    pub start_s: f64,
    /// Window end (exclusive), in seconds of simulated time.
    pub end_s: f64,
    /// Workload name.
    pub workload: String,
    /// Requests issued in the window.
    pub requests: u64,
    /// Requests that succeeded fully in the window.
    pub ok: u64,
    /// Requests that succeeded degraded in the window.
    pub degraded: u64,
    /// Requests that failed in the window.
    pub failed: u64,
    /// Successful (ok or degraded) requests per second of the window.
    pub throughput_rps: f64,
    /// Median latency of the window's successful requests, in ms; `null`
    /// when there were none.
    pub p50_ms: Option<f64>,
    /// 95th percentile latency of the window's successful requests, in ms;
    /// `null` when there were none.
    pub p95_ms: Option<f64>,
    /// 99th percentile latency of the window's successful requests, in ms;
    /// `null` when there were none.
    pub p99_ms: Option<f64>,
}

/// One service in one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceWindow {
    /// Window start, in seconds of simulated time.
    pub start_s: f64,
    /// Window end (exclusive), in seconds of simulated time.
    pub end_s: f64,
    /// Service name.
    pub service: String,
    /// Mean fraction of the service's workers busy during the window.
    pub utilization: f64,
    /// Time-weighted mean number of requests waiting, over all replicas.
    pub queue_length: f64,
    /// Replicas of the service (with scaling: the desired count at the
    /// window's end).
    pub replicas: u32,
    /// Mean replicas the balancer could choose during the window.
    pub available_replicas: f64,
    /// Calls received in the window, retries included.
    pub requests: u64,
    /// With a registry: its entries for the service at the window's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered: Option<u32>,
    /// Of those, entries of instances no longer running (not yet evicted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_registered: Option<u32>,
    /// With scaling or cost on: mean replicas that existed (and were paid
    /// for: starting, serving, down or draining) in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_replicas: Option<f64>,
    /// With cost on: what the service cost in the window (replicas,
    /// network calls into it, its platform overhead), in the currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
}

/// One caller/callee discovery pair in one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscoveryWindow {
    /// Window start, in seconds of simulated time.
    pub start_s: f64,
    /// Window end (exclusive), in seconds of simulated time.
    pub end_s: f64,
    /// The calling service.
    pub caller: String,
    /// The called service.
    pub callee: String,
    /// Registry lookups started.
    pub lookups: u64,
    /// Call attempts routed to instances no longer running.
    pub routed_to_dead: u64,
    /// Call attempts that found no instance to call.
    pub no_instance: u64,
}
