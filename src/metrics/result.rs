//! `RunResult`: the plain data every output (table, JSON, CSV, charts) is a
//! pure function of. Contains no wall-clock figures, so the same scenario
//! and seed give byte-identical serialisations.

use super::latency::LatencySummary;
use crate::model::capacity::CapacityRow;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Everything one run produced.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// Totals over the measured period.
    pub summary: Summary,
    /// Per-window series over the whole run, warm-up included.
    pub timeseries: TimeSeries,
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
    /// Of those, requests that succeeded before the end.
    pub ok: u64,
    /// Of those, requests that failed before the end (the sum of `failures`).
    pub failed: u64,
    /// Of those, requests still unfinished at the end.
    pub in_flight: u64,
    /// ok / (ok + failed); `null` when nothing completed.
    pub availability: Option<f64>,
    /// Successful requests per second of measured time.
    pub throughput_rps: f64,
    /// End-to-end latency of successful requests; `null` when none.
    pub latency_ms: Option<LatencySummary>,
    /// Failed requests by cause.
    pub failures: IndexMap<String, u64>,
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
    /// Mean fraction of workers busy (held by a request).
    pub utilization: f64,
    /// Mean number of busy workers.
    pub mean_busy_workers: f64,
    /// Time-weighted mean number of requests waiting, over all replicas.
    pub mean_queue_length: f64,
}

/// Per-window series for charts; windows cover the whole run, warm-up
/// included.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TimeSeries {
    /// Width of a window in seconds; the last window may be shorter.
    pub window_seconds: f64,
    /// One row per workload per window, in time order.
    pub workloads: Vec<WorkloadWindow>,
    /// One row per service per window, in time order.
    pub services: Vec<ServiceWindow>,
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
    /// Requests that succeeded in the window.
    pub ok: u64,
    /// Requests that failed in the window.
    pub failed: u64,
    /// Successful requests per second of the window.
    pub throughput_rps: f64,
    /// Median latency of the window's successful requests, in ms; `null`
    /// when there were none.
    pub p50_ms: Option<f64>,
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
    /// Replicas of the service.
    pub replicas: u32,
}
