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
    pub summary: Summary,
    pub timeseries: TimeSeries,
}

/// The run's summary (`summary.json`, `--json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub name: String,
    pub seed: u64,
    /// Total simulated time, warm-up included.
    pub simulated_seconds: f64,
    /// Excluded from the statistics below.
    pub warmup_seconds: f64,
    /// The measured period: simulated minus warm-up.
    pub measured_seconds: f64,
    /// Events processed by the engine.
    pub events: u64,
    pub workloads: IndexMap<String, WorkloadSummary>,
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
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
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
    pub replicas: u32,
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
    pub window_seconds: f64,
    pub workloads: Vec<WorkloadWindow>,
    pub services: Vec<ServiceWindow>,
}

/// One workload in one window. Requests count by arrival time, ok and
/// failed by completion time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadWindow {
    pub start_s: f64,
    pub end_s: f64,
    pub workload: String,
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
    pub throughput_rps: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// One service in one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceWindow {
    pub start_s: f64,
    pub end_s: f64,
    pub service: String,
    pub utilization: f64,
    pub queue_length: f64,
    pub replicas: u32,
}
