//! The progress bar of long runs: simulated time, events per second and
//! an ETA on stderr. It appears only once a run has taken about a second
//! (short runs stay quiet), only when stderr is a terminal, and never with
//! `--quiet`. It reads the simulation's clock and never touches it, so
//! results are the same with or without it.

use crate::engine::SimTime;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a run goes before the bar appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Progress over one run or several at once (compare's variants); shared
/// by reference between threads.
pub struct Progress {
    bar: ProgressBar,
    enabled: bool,
    shown: AtomicBool,
    started: Instant,
    /// Simulated nanoseconds done over all runs.
    done_ns: AtomicU64,
    /// Events handled over all runs.
    events: AtomicU64,
}

impl Progress {
    /// Progress over runs totalling `total` simulated nanoseconds; drawn
    /// only if `quiet` is off and stderr is a terminal.
    pub fn new(total: SimTime, quiet: bool) -> Progress {
        let enabled = !quiet && std::io::stderr().is_terminal();
        let bar =
            ProgressBar::with_draw_target(Some(total / 1_000_000), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} simulated {msg} [{wide_bar}] {percent}% eta {eta}",
            )
            .expect("static template is valid")
            .progress_chars("=> "),
        );
        Progress {
            bar,
            enabled,
            shown: AtomicBool::new(false),
            started: Instant::now(),
            done_ns: AtomicU64::new(0),
            events: AtomicU64::new(0),
        }
    }

    /// One run's callback for [`crate::simulation::run_with_progress`]:
    /// it adds the run's advances to the shared totals.
    pub fn tracker(&self) -> impl FnMut(SimTime, u64) + '_ {
        let (mut last_t, mut last_ev) = (0u64, 0u64);
        move |now, events| {
            self.advance(now - last_t, events - last_ev);
            (last_t, last_ev) = (now, events);
        }
    }

    fn advance(&self, ns: u64, events: u64) {
        let done = self.done_ns.fetch_add(ns, Ordering::Relaxed) + ns;
        let ev = self.events.fetch_add(events, Ordering::Relaxed) + events;
        if !self.enabled {
            return;
        }
        let elapsed = self.started.elapsed();
        if elapsed < SHOW_AFTER {
            return;
        }
        self.bar.set_position(done / 1_000_000);
        self.bar.set_message(label(done, ev, elapsed));
        if !self.shown.swap(true, Ordering::Relaxed) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Removes the bar, leaving the terminal as it was.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// "123s, 4.56M events/s": simulated time so far and the event rate.
fn label(done_ns: u64, events: u64, elapsed: Duration) -> String {
    format!(
        "{:.0}s, {:.2}M events/s",
        done_ns as f64 / 1e9,
        events as f64 / elapsed.as_secs_f64().max(1e-9) / 1e6
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_reads_simulated_time_and_rate() {
        assert_eq!(
            label(120_000_000_000, 5_000_000, Duration::from_secs(2)),
            "120s, 2.50M events/s"
        );
    }

    #[test]
    fn trackers_add_up_over_runs() {
        let p = Progress::new(10_000_000_000, true);
        {
            let mut a = p.tracker();
            let mut b = p.tracker();
            a(1_000_000_000, 100);
            b(2_000_000_000, 50);
            a(3_000_000_000, 300);
        }
        assert_eq!(p.done_ns.load(Ordering::Relaxed), 5_000_000_000);
        assert_eq!(p.events.load(Ordering::Relaxed), 350);
        assert!(!p.shown.load(Ordering::Relaxed), "quiet never shows");
    }
}
