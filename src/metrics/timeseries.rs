//! Meters the world updates as it runs: per workload and per service, both
//! the measured-period totals and the current time-series window. Memory is
//! constant per meter; closed windows become rows of [`TimeSeries`].

use super::integral::{mean_between, TimeIntegral};
use super::latency::LatencyStats;
use super::result::{ServiceWindow, TimeSeries, WorkloadWindow};
use crate::engine::SimTime;
use crate::model::Model;

/// Number of distinct failure causes a meter counts.
pub const CAUSES: usize = crate::world::outcome::Cause::ALL.len();

/// Counters for one workload.
#[derive(Debug, Clone)]
pub struct WorkloadMeter {
    /// Measured period (requests issued after the warm-up).
    pub requests: u64,
    /// Measured requests that succeeded.
    pub ok: u64,
    /// Measured requests that succeeded degraded (an optional call failed).
    pub degraded: u64,
    /// Measured requests that failed, indexed by `Cause::index`.
    pub failures: [u64; CAUSES],
    /// Measured requests issued and not yet finished.
    pub in_flight: u64,
    /// End-to-end latency of measured successful requests.
    pub latency: LatencyStats,
    /// Current window (all requests, warm-up included).
    pub win_requests: u64,
    /// Requests that succeeded in the current window.
    pub win_ok: u64,
    /// Requests that succeeded degraded in the current window.
    pub win_degraded: u64,
    /// Requests that failed in the current window.
    pub win_failed: u64,
    /// Latency of the current window's successful requests.
    pub win_latency: LatencyStats,
}

impl Default for WorkloadMeter {
    fn default() -> Self {
        WorkloadMeter {
            requests: 0,
            ok: 0,
            degraded: 0,
            failures: [0; CAUSES],
            in_flight: 0,
            latency: LatencyStats::new(),
            win_requests: 0,
            win_ok: 0,
            win_degraded: 0,
            win_failed: 0,
            // Two significant digits (percentiles within 1%) are plenty for
            // a chart, and the histogram is cleared at every window: a
            // three-digit one is ten times larger to clear.
            win_latency: LatencyStats::with_digits(2),
        }
    }
}

/// Counters and integrals for one service.
#[derive(Debug, Clone, Default)]
pub struct ServiceMeter {
    /// Busy workers over time, summed over replicas.
    pub busy: TimeIntegral,
    /// Requests waiting for a worker over time, summed over replicas.
    pub queued: TimeIntegral,
    /// Calls that reached the service after the warm-up (admitted, queued or
    /// rejected).
    pub requests: u64,
    /// Admitted calls answered after the warm-up.
    pub completed: u64,
    /// Calls refused after the warm-up because the queue was full.
    pub rejected: u64,
    /// Calls received that were first attempts (not retries).
    pub first_attempts: u64,
    /// Queued calls dropped by load shedding.
    pub shed: u64,
    /// Calls lost in replica crashes (queued, in service or waiting).
    pub lost: u64,
    /// Calls that found no replica running.
    pub unreachable: u64,
    /// Calls failed by an `errors` fault.
    pub injected_errors: u64,
    /// Calls finished for a caller that had given up on them.
    pub abandoned: u64,
    /// Work time spent on those, in ns.
    pub wasted_ns: u64,
    /// Outlier ejections of its replicas.
    pub ejections: u64,
    /// Replica crashes.
    pub crashes: u64,
    /// Calls received in the current window (all, warm-up included).
    pub win_requests: u64,
    /// Replicas the balancer may choose, over time.
    pub available: TimeIntegral,
    /// Area of `available` when the measured period began.
    pub available_at_warmup: u128,
    /// Area of `available` when the current window began.
    pub available_at_window: u128,
    /// Replicas that exist and cost money (running, starting, draining, or
    /// crashed and restarting), over time: what the cost model charges.
    pub provisioned: TimeIntegral,
    /// Area of `provisioned` when the measured period began.
    pub provisioned_at_warmup: u128,
    /// Area of `provisioned` when the current window began.
    pub provisioned_at_window: u128,
    /// Network calls into the service sent after the warm-up: call
    /// attempts and registry lookups that went over the network (counted
    /// where the hop is sent; retries count, in-process calls do not).
    pub network_calls: u64,
    /// Network calls into the service in the current window.
    pub win_network_calls: u64,
    /// Areas when the measured period began.
    pub busy_at_warmup: u128,
    /// Like `busy_at_warmup`, for `queued`.
    pub queued_at_warmup: u128,
    /// Areas when the current window began.
    pub busy_at_window: u128,
    /// Like `busy_at_window`, for `queued`.
    pub queued_at_window: u128,
}

/// Closes windows into rows.
#[derive(Debug, Clone)]
pub struct Windows {
    /// Window width, in ns of simulated time.
    pub width: SimTime,
    /// Start of the window still open.
    pub start: SimTime,
    /// Rows of the windows closed so far.
    pub series: TimeSeries,
}

impl Windows {
    /// Windows of `width`, the first starting at time 0.
    pub fn new(width: SimTime) -> Self {
        Windows {
            width,
            start: 0,
            series: TimeSeries {
                window_seconds: width as f64 / 1e9,
                ..TimeSeries::default()
            },
        }
    }

    /// Closes the window `[self.start, now)` and opens the next one.
    pub fn close(
        &mut self,
        now: SimTime,
        model: &Model,
        workloads: &mut [WorkloadMeter],
        services: &mut [ServiceMeter],
    ) {
        let span = now - self.start;
        if span == 0 {
            return;
        }
        let (start_s, end_s) = (self.start as f64 / 1e9, now as f64 / 1e9);
        for (w, m) in model.workloads.iter().zip(workloads.iter_mut()) {
            self.series.workloads.push(WorkloadWindow {
                start_s,
                end_s,
                workload: w.name.clone(),
                requests: m.win_requests,
                ok: m.win_ok,
                degraded: m.win_degraded,
                failed: m.win_failed,
                throughput_rps: (m.win_ok + m.win_degraded) as f64 / (span as f64 / 1e9),
                p50_ms: m.win_latency.quantile(0.5).map(|v| v as f64 / 1e6),
                p95_ms: m.win_latency.quantile(0.95).map(|v| v as f64 / 1e6),
                p99_ms: m.win_latency.quantile(0.99).map(|v| v as f64 / 1e6),
            });
            m.win_requests = 0;
            m.win_ok = 0;
            m.win_degraded = 0;
            m.win_failed = 0;
            m.win_latency.reset();
        }
        let cost = &model.cost;
        let dynamic = model.dynamic_replicas();
        for (si, (s, m)) in model.services.iter().zip(services.iter_mut()).enumerate() {
            let busy = m.busy.area_at(now);
            let provisioned = m.provisioned.area_at(now);
            let replica_ns = provisioned - m.provisioned_at_window;
            let queued = m.queued.area_at(now);
            let available = m.available.area_at(now);
            let workers = f64::from(s.replicas) * f64::from(s.concurrency);
            self.series.services.push(ServiceWindow {
                start_s,
                end_s,
                service: s.name.clone(),
                utilization: mean_between(m.busy_at_window, busy, span) / workers,
                queue_length: mean_between(m.queued_at_window, queued, span),
                replicas: s.replicas,
                available_replicas: mean_between(m.available_at_window, available, span),
                requests: m.win_requests,
                registered: None,
                stale_registered: None,
                mean_replicas: (cost.on() || dynamic)
                    .then(|| mean_between(m.provisioned_at_window, provisioned, span)),
                cost: cost.on().then(|| {
                    cost.parts(si as u32, replica_ns, span, m.win_network_calls)
                        .total()
                }),
            });
            m.provisioned_at_window = provisioned;
            m.win_network_calls = 0;
            m.busy_at_window = busy;
            m.queued_at_window = queued;
            m.available_at_window = available;
            m.win_requests = 0;
        }
        self.start = now;
    }
}
