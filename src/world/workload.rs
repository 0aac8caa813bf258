//! Arrival processes: when each workload's next request is issued.

use crate::engine::{SimTime, Stream};
use crate::model::{Arrival, OpenProcess};
use rand::RngExt;
use rand_distr::Exp1;

/// The time of the next open arrival after one at `now`, or `None` when
/// there is none before the schedule runs out of non-zero rates.
///
/// A rate change at time `c` restarts the process at `c`: for Poisson
/// arrivals this is exact (memorylessness); a constant process begins its
/// new spacing at the change.
pub fn next_open(arrival: &Arrival, now: SimTime, rng: &mut Stream) -> Option<SimTime> {
    let Arrival::Open {
        process, schedule, ..
    } = arrival
    else {
        return None;
    };
    let mut t = now;
    loop {
        let rate = arrival.rate_at(t);
        let change = schedule.iter().map(|(at, _)| *at).find(|at| *at > t);
        if rate > 0.0 {
            let mean_gap = 1e9 / rate;
            let gap = match process {
                OpenProcess::Poisson => {
                    let e: f64 = rng.sample(Exp1);
                    (e * mean_gap).round() as u64
                }
                // At least 1 ns, so time always advances.
                OpenProcess::Constant => (mean_gap.round() as u64).max(1),
            };
            let next = t.saturating_add(gap);
            if change.is_none_or(|c| next < c) {
                return Some(next);
            }
        }
        t = change?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;

    #[test]
    fn constant_arrivals_are_evenly_spaced() {
        let a = Arrival::Open {
            process: OpenProcess::Constant,
            rate: 50.0,
            schedule: vec![],
        };
        let mut rng = stream(0, "w");
        assert_eq!(next_open(&a, 0, &mut rng), Some(20_000_000));
        assert_eq!(next_open(&a, 20_000_000, &mut rng), Some(40_000_000));
    }

    #[test]
    fn schedule_switches_rates_and_can_pause() {
        let s = 1_000_000_000;
        let a = Arrival::Open {
            process: OpenProcess::Constant,
            rate: 1.0,
            schedule: vec![(2 * s, 0.0), (10 * s, 2.0)],
        };
        let mut rng = stream(0, "w");
        assert_eq!(next_open(&a, 0, &mut rng), Some(s));
        // The arrival at 2s would fall into the pause: resume at 10s + 0.5s.
        assert_eq!(next_open(&a, s, &mut rng), Some(10 * s + s / 2));
    }

    #[test]
    fn poisson_mean_gap_matches_rate() {
        let a = Arrival::Open {
            process: OpenProcess::Poisson,
            rate: 1000.0,
            schedule: vec![],
        };
        let mut rng = stream(3, "w");
        let mut t = 0;
        let n = 100_000;
        for _ in 0..n {
            t = next_open(&a, t, &mut rng).unwrap();
        }
        let mean_ms = t as f64 / n as f64 / 1e6;
        // Standard error of the mean gap is 1ms / sqrt(1e5) = 0.003ms.
        assert!((mean_ms - 1.0).abs() < 0.015, "{mean_ms}");
    }
}
