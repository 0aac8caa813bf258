//! Circuit breaker: closed while the failure rate over a sliding time
//! window stays below the threshold; open (calls fail fast with
//! `circuit_open`) for `open_for`; then half-open, letting a few trial
//! calls through: all succeed and it closes, one fails and it opens again.
//!
//! The window is ten buckets of `window / 10`, rotated lazily by time, so
//! recording an outcome is O(1) and the breaker never allocates.

use crate::engine::SimTime;
use crate::model::BreakerConfig;

const BUCKETS: usize = 10;

/// The breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Calls go through; outcomes are counted.
    Closed,
    /// Calls fail fast until `until`.
    Open {
        /// When trial calls may start.
        until: SimTime,
    },
    /// Up to `half_open_calls` trial calls go through.
    HalfOpen,
}

/// May a call go through?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Yes, normally.
    Yes,
    /// Yes, as a half-open trial call.
    Trial,
    /// No: fail fast.
    No,
}

/// A state change, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Closed or half-open -> open.
    Opened,
    /// Open -> half-open.
    HalfOpened,
    /// Half-open -> closed.
    Closed,
}

/// One client's circuit breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    cfg: BreakerConfig,
    state: State,
    /// (successes, failures) per bucket.
    buckets: [(u32, u32); BUCKETS],
    width: SimTime,
    /// Index (time / width) of the newest bucket.
    newest: u64,
    trials_started: u32,
    trials_ok: u32,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(cfg: BreakerConfig) -> Self {
        Breaker {
            cfg,
            state: State::Closed,
            buckets: [(0, 0); BUCKETS],
            width: (cfg.window / BUCKETS as u64).max(1),
            newest: 0,
            trials_started: 0,
            trials_ok: 0,
        }
    }

    /// The current state (as of the last call to `admit` or `record`).
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether a call at `now` may go through, and the state change that
    /// deciding caused (open -> half-open once `open_for` has passed).
    pub fn admit(&mut self, now: SimTime) -> (Admit, Option<Transition>) {
        let mut change = None;
        if let State::Open { until } = self.state {
            if now < until {
                return (Admit::No, None);
            }
            self.state = State::HalfOpen;
            self.trials_started = 0;
            self.trials_ok = 0;
            change = Some(Transition::HalfOpened);
        }
        match self.state {
            State::Closed => (Admit::Yes, change),
            State::HalfOpen if self.trials_started < self.cfg.half_open_calls => {
                self.trials_started += 1;
                (Admit::Trial, change)
            }
            _ => (Admit::No, change),
        }
    }

    /// Records the outcome of a call that went through. `trial` says it
    /// was admitted as a half-open trial; other outcomes arriving while the
    /// breaker is not closed (calls sent before it opened) are ignored.
    pub fn record(&mut self, now: SimTime, ok: bool, trial: bool) -> Option<Transition> {
        match self.state {
            State::Closed => {
                self.rotate(now);
                let b = &mut self.buckets[(self.newest % BUCKETS as u64) as usize];
                if ok {
                    b.0 += 1;
                } else {
                    b.1 += 1;
                }
                let (oks, fails) = self.buckets.iter().fold((0u64, 0u64), |(a, b), (o, f)| {
                    (a + u64::from(*o), b + u64::from(*f))
                });
                let total = oks + fails;
                if total >= u64::from(self.cfg.min_calls)
                    && fails as f64 >= self.cfg.failure_rate * total as f64
                {
                    self.open(now);
                    return Some(Transition::Opened);
                }
                None
            }
            State::HalfOpen if trial => {
                if !ok {
                    self.open(now);
                    return Some(Transition::Opened);
                }
                self.trials_ok += 1;
                if self.trials_ok >= self.cfg.half_open_calls {
                    self.state = State::Closed;
                    self.buckets = [(0, 0); BUCKETS];
                    return Some(Transition::Closed);
                }
                None
            }
            _ => None,
        }
    }

    /// A half-open trial call ended before it reached the dependency
    /// (the caller found no instance to send it to): it says nothing
    /// about the dependency, so its slot goes back for another trial.
    pub fn release_trial(&mut self) {
        if self.state == State::HalfOpen {
            self.trials_started = self.trials_started.saturating_sub(1);
        }
    }

    fn open(&mut self, now: SimTime) {
        self.state = State::Open {
            until: now.saturating_add(self.cfg.open_for),
        };
        self.buckets = [(0, 0); BUCKETS];
    }

    /// Clears the buckets that fell out of the window by `now`.
    fn rotate(&mut self, now: SimTime) {
        let idx = now / self.width;
        if idx <= self.newest {
            return;
        }
        let steps = (idx - self.newest).min(BUCKETS as u64);
        for k in 1..=steps {
            self.buckets[((self.newest + k) % BUCKETS as u64) as usize] = (0, 0);
        }
        self.newest = idx;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            failure_rate: 0.5,
            window: 1_000 * MS,
            min_calls: 4,
            open_for: 500 * MS,
            half_open_calls: 2,
        }
    }

    #[test]
    fn opens_at_the_threshold_once_min_calls_are_seen() {
        let mut b = Breaker::new(cfg());
        assert_eq!(b.record(0, false, false), None, "1 call < min_calls");
        assert_eq!(b.record(MS, false, false), None);
        assert_eq!(b.record(2 * MS, true, false), None);
        // 4 calls, 3 failed: 75% >= 50%.
        assert_eq!(b.record(3 * MS, false, false), Some(Transition::Opened));
        assert_eq!(b.admit(4 * MS).0, Admit::No);
    }

    #[test]
    fn old_outcomes_leave_the_window() {
        let mut b = Breaker::new(cfg());
        for i in 0..3 {
            b.record(i * MS, false, false);
        }
        // 1.5 s later those three failures are out of the 1 s window.
        for i in 0..3 {
            assert_eq!(b.record(1_500 * MS + i * MS, true, false), None);
        }
        assert_eq!(b.record(1_504 * MS, false, false), None, "1 of 4 failed");
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn half_open_trials_close_it_or_open_it_again() {
        let mut b = Breaker::new(cfg());
        for i in 0..4 {
            b.record(i * MS, false, false);
        }
        let t = 3 * MS + 500 * MS;
        assert_eq!(b.admit(t - 1).0, Admit::No);
        assert_eq!(b.admit(t), (Admit::Trial, Some(Transition::HalfOpened)));
        assert_eq!(b.admit(t).0, Admit::Trial);
        assert_eq!(b.admit(t).0, Admit::No, "only two trials at once");
        assert_eq!(b.record(t + MS, true, true), None);
        assert_eq!(b.record(t + MS, true, true), Some(Transition::Closed));
        assert_eq!(b.admit(t + 2 * MS).0, Admit::Yes);

        for i in 0..4 {
            b.record(t + 10 * MS + i, false, false);
        }
        let t2 = t + 10 * MS + 3 + 500 * MS;
        assert_eq!(b.admit(t2).0, Admit::Trial);
        assert_eq!(b.record(t2, false, true), Some(Transition::Opened));
        assert_eq!(b.admit(t2 + 1).0, Admit::No);
    }

    #[test]
    fn a_trial_that_never_left_gives_its_slot_back() {
        let mut b = Breaker::new(cfg());
        for i in 0..4 {
            b.record(i * MS, false, false);
        }
        let t = 3 * MS + 500 * MS;
        assert_eq!(b.admit(t).0, Admit::Trial);
        assert_eq!(b.admit(t).0, Admit::Trial);
        assert_eq!(b.admit(t).0, Admit::No);
        b.release_trial();
        assert_eq!(b.admit(t).0, Admit::Trial, "the slot is free again");
        b.release_trial();
        b.release_trial();
        assert_eq!(b.record(t, true, true), None);
        assert_eq!(b.record(t, true, true), Some(Transition::Closed));
    }
}
