//! Meters for the failure side of a run: per client (caller -> dependency
//! under a policy) and per fault (the blast radius: how each workload fared
//! while the fault was active, against the time without any fault).

use super::latency::LatencyStats;
use super::result::PeriodSummary;
use super::timeseries::CAUSES;
use crate::engine::SimTime;

/// Counters of one client.
#[derive(Debug, Clone, Default)]
pub struct ClientMeter {
    /// Calls made (first attempts).
    pub calls: u64,
    /// Attempts started, retries included (fast-fails too).
    pub attempts: u64,
    /// Retries started.
    pub retries: u64,
    /// Retries refused by the retry budget.
    pub retries_denied: u64,
    /// Calls that succeeded.
    pub ok: u64,
    /// Calls whose failure was absorbed because the call is optional.
    pub fallbacks: u64,
    /// Calls that finally failed, by cause.
    pub failures: [u64; CAUSES],
    /// Attempts that failed, by cause (a retried timeout counts here).
    pub attempt_failures: [u64; CAUSES],
    /// Breaker transitions to open (from closed or half-open).
    pub opens: u64,
    /// Breaker transitions to half-open.
    pub half_opens: u64,
    /// Breaker transitions to closed.
    pub closes: u64,
    /// Measured time the breaker was not closed, up to `not_closed_since`.
    pub open_ns: u64,
    /// When the breaker last left the closed state, if it has not closed
    /// again since.
    pub not_closed_since: Option<SimTime>,
}

impl ClientMeter {
    /// Adds the measured part of `[from, to)` to `open_ns`.
    pub fn add_open(&mut self, from: SimTime, to: SimTime, warmup: SimTime) {
        let from = from.max(warmup);
        if to > from {
            self.open_ns += to - from;
        }
    }
}

/// Outcomes and latency of the requests issued during one period.
#[derive(Debug, Clone)]
pub struct PeriodMeter {
    /// Requests issued.
    pub issued: u64,
    /// Requests that succeeded fully.
    pub ok: u64,
    /// Requests that succeeded degraded.
    pub degraded: u64,
    /// Requests that failed.
    pub failed: u64,
    /// Latency of the successful ones (ok and degraded).
    pub latency: LatencyStats,
}

impl Default for PeriodMeter {
    fn default() -> Self {
        PeriodMeter {
            issued: 0,
            ok: 0,
            degraded: 0,
            failed: 0,
            // Two digits (1%) are plenty to compare periods, at a tenth of
            // the memory of the main histograms: there is one per fault and
            // workload.
            latency: LatencyStats::with_digits(2),
        }
    }
}

impl PeriodMeter {
    /// The period's figures.
    pub fn summary(&self) -> PeriodSummary {
        let done = self.ok + self.degraded + self.failed;
        let ms = |q: f64| self.latency.quantile(q).map(|v| v as f64 / 1e6);
        PeriodSummary {
            issued: self.issued,
            unfinished: self.issued - done,
            completed: done,
            ok: self.ok,
            degraded: self.degraded,
            failed: self.failed,
            availability: (done > 0).then(|| (self.ok + self.degraded) as f64 / done as f64),
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
        }
    }
}

/// Most outages a random-crash fault lists in the results (all are
/// counted).
pub const MAX_OUTAGES: usize = 10_000;

/// What one fault did.
#[derive(Debug, Clone, Default)]
pub struct FaultMeter {
    /// Per workload: requests issued while the fault was active.
    pub during: Vec<PeriodMeter>,
    /// Replica crashes it caused.
    pub crashes: u64,
    /// Replica outages (replica index in the service, down, up), for
    /// random crashes; at most [`MAX_OUTAGES`].
    pub outages: Vec<(u32, SimTime, SimTime)>,
    /// When each replica of the service went down, while it is down
    /// (random crashes).
    pub down_since: Vec<Option<SimTime>>,
}
