//! Latency accumulation: an HdrHistogram for percentiles (3 significant
//! digits, so any percentile is within 0.1%) plus exact count, sum and max.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Streaming latency statistics of successful requests, in nanoseconds.
#[derive(Debug, Clone)]
pub struct LatencyStats {
    hist: Histogram<u64>,
    count: u64,
    sum: u128,
    max: u64,
}

impl Default for LatencyStats {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyStats {
    /// Empty statistics. The histogram starts at one hour of range and grows
    /// if a longer latency is ever recorded.
    pub fn new() -> Self {
        Self::with_digits(3)
    }

    /// Like [`LatencyStats::new`] with `digits` significant digits (2 keeps
    /// percentiles within 1% in a tenth of the memory).
    pub fn with_digits(digits: u8) -> Self {
        let mut hist = Histogram::new_with_bounds(1, 3_600_000_000_000, digits)
            .expect("static histogram bounds are valid");
        hist.auto(true);
        LatencyStats {
            hist,
            count: 0,
            sum: 0,
            max: 0,
        }
    }

    /// Records one latency.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        // A zero latency is recorded as 1 ns, the histogram's lowest value.
        self.hist.saturating_record(ns.max(1));
        self.count += 1;
        self.sum += u128::from(ns);
        self.max = self.max.max(ns);
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `q` quantile (0..=1) in ns, or `None` if nothing was recorded.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        // HdrHistogram reports the highest value equivalent to the bucket;
        // never report more than the true maximum.
        Some(self.hist.value_at_quantile(q).min(self.max))
    }

    /// Forgets everything (for per-window statistics), keeping the memory.
    pub fn reset(&mut self) {
        self.hist.reset();
        self.count = 0;
        self.sum = 0;
        self.max = 0;
    }

    /// The percentile distribution as HdrHistogram prints it: points
    /// spaced evenly on the "nines" scale (5 per halving of the remaining
    /// tail), up to 100%. Empty if nothing was recorded. Deterministic: a
    /// pure function of the recorded values.
    pub fn distribution(&self) -> Vec<PercentilePoint> {
        let mut out: Vec<PercentilePoint> = Vec::new();
        if self.count == 0 {
            return out;
        }
        for v in self.hist.iter_quantiles(5) {
            let point = PercentilePoint {
                // Rounded to 1e-9 so the ticks print as 30, not 30.000000000000004.
                percentile: (v.quantile_iterated_to() * 1e11).round() / 1e9,
                latency_ms: v.value_iterated_to().min(self.max) as f64 / 1e6,
            };
            match out.last_mut() {
                // The iterator repeats the last tick at 100%; keep one.
                Some(last) if last.percentile == point.percentile => *last = point,
                _ => out.push(point),
            }
        }
        out
    }

    /// The summary in milliseconds, or `None` if nothing was recorded.
    pub fn summary(&self) -> Option<LatencySummary> {
        if self.count == 0 {
            return None;
        }
        let ms = |ns: u64| ns as f64 / 1e6;
        let q = |x: f64| ms(self.quantile(x).expect("count > 0"));
        Some(LatencySummary {
            mean: self.sum as f64 / self.count as f64 / 1e6,
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p999: q(0.999),
            max: ms(self.max),
        })
    }
}

/// One point of a latency percentile distribution (HdrHistogram's
/// percentile plot): `percentile` of the requests took at most
/// `latency_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PercentilePoint {
    /// The percentile, 0 to 100.
    pub percentile: f64,
    /// The latency at that percentile, in ms.
    pub latency_ms: f64,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Exact mean, in ms (not from the histogram).
    pub mean: f64,
    /// Median, in ms (within 0.1%, like every percentile here).
    pub p50: f64,
    /// 90th percentile, in ms.
    pub p90: f64,
    /// 99th percentile, in ms.
    pub p99: f64,
    /// 99.9th percentile, in ms.
    pub p999: f64,
    /// Exact largest latency, in ms; no percentile exceeds it.
    pub max: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_histogram_precision() {
        let mut s = LatencyStats::new();
        for i in 1..=10_000u64 {
            s.record(i * 1_000);
        }
        let sum = s.summary().unwrap();
        assert!((sum.p50 - 5.0).abs() / 5.0 < 0.002, "{sum:?}");
        assert!((sum.p99 - 9.9).abs() / 9.9 < 0.002, "{sum:?}");
        assert_eq!(sum.max, 10.0);
        assert!((sum.mean - 5.0005).abs() < 1e-9);
        let d = s.distribution();
        assert!(d.len() > 20, "{}", d.len());
        assert_eq!(d.last().unwrap().percentile, 100.0);
        assert_eq!(d.last().unwrap().latency_ms, 10.0);
        assert!(d
            .windows(2)
            .all(|p| p[0].percentile < p[1].percentile && p[0].latency_ms <= p[1].latency_ms));
        let at99 = d.iter().find(|p| p.percentile >= 99.0).unwrap();
        assert!((at99.latency_ms - 9.9).abs() / 9.9 < 0.003, "{at99:?}");
        s.reset();
        assert!(s.summary().is_none());
        assert!(s.distribution().is_empty());
    }
}
