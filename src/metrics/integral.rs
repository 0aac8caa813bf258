//! Time-weighted integrals (busy workers, queue length), for utilisation and
//! mean queue length without storing any history.

use crate::engine::SimTime;

/// A piecewise-constant quantity and its exact integral over time.
#[derive(Debug, Clone, Default)]
pub struct TimeIntegral {
    value: u64,
    last: SimTime,
    /// Integral of `value` dt from 0 to `last`, in value x ns.
    area: u128,
}

impl TimeIntegral {
    /// The current value.
    #[inline]
    pub fn value(&self) -> u64 {
        self.value
    }

    /// Accumulates up to `now`, then moves the value by `delta`.
    #[inline]
    pub fn add(&mut self, now: SimTime, delta: i64) {
        self.advance(now);
        self.value = self.value.wrapping_add_signed(delta);
    }

    /// Accumulates the area up to `now` without changing the value.
    #[inline]
    pub fn advance(&mut self, now: SimTime) {
        debug_assert!(now >= self.last, "time went backwards");
        self.area += u128::from(self.value) * u128::from(now - self.last);
        self.last = now;
    }

    /// The integral from 0 to `now` (>= the last change).
    #[inline]
    pub fn area_at(&self, now: SimTime) -> u128 {
        self.area + u128::from(self.value) * u128::from(now.saturating_sub(self.last))
    }
}

/// Mean of a time integral between two snapshots of its area.
pub fn mean_between(area_from: u128, area_to: u128, span: SimTime) -> f64 {
    if span == 0 {
        0.0
    } else {
        (area_to - area_from) as f64 / span as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_piecewise_constant_values() {
        let mut i = TimeIntegral::default();
        i.add(10, 2); // 0 over [0,10)
        i.add(20, 1); // 2 over [10,20)
        assert_eq!(i.area_at(30), 20 + 30); // 3 over [20,30)
        assert_eq!(mean_between(0, i.area_at(30), 30), 50.0 / 30.0);
    }
}
