//! Meters for service discovery: per caller/callee pair, how calls found
//! their instances (cache hits, lookups, stale lists) and what that cost
//! (lookup latency, calls routed to dead instances, calls with no
//! instance, the lag before a new instance got its first call).

use super::latency::LatencyStats;
use crate::engine::SimTime;

/// Counters of one caller/callee pair.
#[derive(Debug, Clone)]
pub struct DiscoveryMeter {
    /// Call attempts that needed an instance (measured).
    pub attempts: u64,
    /// Of those, served from a fresh cached list without a lookup.
    pub hits: u64,
    /// Served from an expired list because the registry could not be
    /// reached (within `max_stale`).
    pub stale_uses: u64,
    /// Lookups started (on the call path and in the background).
    pub lookups: u64,
    /// Lookups that failed (no answer within the lookup timeout, or the
    /// registry refused).
    pub lookup_failures: u64,
    /// Round trip of the lookups that succeeded.
    pub lookup_latency: LatencyStats,
    /// Attempts sent to an instance that was no longer running.
    pub routed_dead: u64,
    /// Attempts that failed with no instance to call.
    pub no_instance: u64,
    /// New instances (started during the run) that got a first call.
    pub discovered: u64,
    /// Sum of their discovery lags, in ns.
    pub lag_sum: u128,
    /// The longest discovery lag, in ns.
    pub lag_max: SimTime,
    /// Lookups in the current window (warm-up included).
    pub win_lookups: u64,
    /// Attempts routed to dead instances in the current window.
    pub win_routed_dead: u64,
    /// Attempts with no instance in the current window.
    pub win_no_instance: u64,
}

impl Default for DiscoveryMeter {
    fn default() -> Self {
        DiscoveryMeter {
            attempts: 0,
            hits: 0,
            stale_uses: 0,
            lookups: 0,
            lookup_failures: 0,
            lookup_latency: LatencyStats::with_digits(2),
            routed_dead: 0,
            no_instance: 0,
            discovered: 0,
            lag_sum: 0,
            lag_max: 0,
            win_lookups: 0,
            win_routed_dead: 0,
            win_no_instance: 0,
        }
    }
}

impl DiscoveryMeter {
    /// A new instance got its first call from this caller `lag` after it
    /// was ready.
    pub fn note_lag(&mut self, lag: SimTime) {
        self.discovered += 1;
        self.lag_sum += u128::from(lag);
        self.lag_max = self.lag_max.max(lag);
    }
}
