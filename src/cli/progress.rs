//! The progress bar of long runs: simulated time, events per second and
//! an ETA on stderr. It appears only once a run has taken about a second
//! (short runs stay quiet), only when stderr is a terminal, and never with
//! `--quiet`. It reads the simulation's clock and never touches it, so
//! results are the same with or without it.

use crate::engine::SimTime;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
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
    /// The most simulated time drawn so far: threads race to draw, and
    /// the bar must never step back.
    drawn_ns: AtomicU64,
    /// Total simulated nanoseconds over all runs.
    total_ns: u64,
    /// How many runs share the bar (compare's variants).
    runs: usize,
    /// A sweep's points: how many are done (counting those done before a
    /// resume) and how many there are; no count when `total` is 0.
    points_done: AtomicUsize,
    points_total: usize,
}

impl Progress {
    /// Progress over `runs` runs totalling `total` simulated nanoseconds;
    /// drawn only if `quiet` is off and stderr is a terminal.
    pub fn new(total: SimTime, runs: usize, quiet: bool) -> Progress {
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
            drawn_ns: AtomicU64::new(0),
            total_ns: total,
            runs,
            points_done: AtomicUsize::new(0),
            points_total: 0,
        }
    }

    /// Progress over a sweep's `runs` runs of `points` points (of which
    /// `done` are already finished), totalling `total` simulated
    /// nanoseconds: the bar also counts points done.
    pub fn for_sweep(
        total: SimTime,
        runs: usize,
        points: usize,
        done: usize,
        quiet: bool,
    ) -> Progress {
        let mut p = Progress::new(total, runs, quiet);
        p.points_total = points;
        p.points_done = AtomicUsize::new(done);
        p
    }

    /// Counts one more of a sweep's points done.
    pub fn point_done(&self) {
        self.points_done.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds advances made by a run (simulated nanoseconds and events
    /// since its last report), for callers that track runs themselves.
    pub fn add(&self, ns: u64, events: u64) {
        self.advance(ns, events);
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
        if self.drawn_ns.fetch_max(done, Ordering::Relaxed) > done {
            return;
        }
        self.bar.set_position(done / 1_000_000);
        let mut message = label(done, self.total_ns, self.runs, ev, elapsed);
        if self.points_total > 0 {
            message.push_str(&format!(
                ", {}/{} points",
                self.points_done.load(Ordering::Relaxed),
                self.points_total
            ));
        }
        self.bar.set_message(message);
        if !self.shown.swap(true, Ordering::Relaxed) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Removes the bar, leaving the terminal as it was.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// "2h05m of 6h, 4.56M events/s" (with several runs: "of 18h over 3
/// runs"): simulated time so far and the event rate.
fn label(done_ns: u64, total_ns: u64, runs: usize, events: u64, elapsed: Duration) -> String {
    let over = if runs > 1 {
        format!(" over {runs} runs")
    } else {
        String::new()
    };
    format!(
        "{} of {}{over}, {:.2}M events/s",
        clock(done_ns),
        clock(total_ns),
        events as f64 / elapsed.as_secs_f64().max(1e-9) / 1e6
    )
}

/// Simulated time as a clock reads: "2h05m", "3m07s", "42s", "6h".
fn clock(ns: u64) -> String {
    let s = ns / 1_000_000_000;
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    match (h, m, sec) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, sec) => format!("{m}m{sec:02}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_reads_simulated_time_and_rate() {
        let s = 1_000_000_000u64;
        assert_eq!(
            label(
                125 * 60 * s,
                6 * 3600 * s,
                1,
                5_000_000,
                Duration::from_secs(2)
            ),
            "2h05m of 6h, 2.50M events/s"
        );
        assert_eq!(
            label(187 * s, 600 * s, 3, 0, Duration::from_secs(1)),
            "3m07s of 10m over 3 runs, 0.00M events/s"
        );
        assert_eq!(clock(42 * s + 999_999_999), "42s");
    }

    #[test]
    fn trackers_add_up_over_runs() {
        let p = Progress::new(10_000_000_000, 2, true);
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
