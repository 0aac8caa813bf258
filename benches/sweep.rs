//! Sweep speed-up: 16 independent points of the checkout scenario (checkout
//! rate 100 to 250/s, 2 simulated minutes each) run on 1 and on 2 threads.
//! The points share nothing, so on a machine with two free cores the
//! second thread should nearly halve the time; the issue asks for at least
//! 1.7x.
//!
//! Run with `cargo bench --bench sweep`. Criterion reports the time per
//! sweep on each thread count; the bench also prints events/s and the
//! speed-up of one timed sweep each, interleaved, outside criterion.

use criterion::{criterion_group, criterion_main, Criterion};
use microsim::scenario::{self, Override, Scenario};
use microsim::sweep::{exec, param, SweepResult};
use std::path::Path;
use std::time::Instant;

/// The checkout scenario at 2 simulated minutes (30 s warm-up).
fn checkout() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/checkout.toml");
    scenario::load(&path, &[Override::parse("simulation.duration=2m").unwrap()])
        .expect("valid bundled scenario")
}

/// One sweep of the 16 points on `jobs` threads.
fn sweep(sc: &Scenario, jobs: usize) -> SweepResult {
    let rates = param::parse_arg("workloads.checkout.arrival.rate=100..250:10").unwrap();
    assert_eq!(rates.values.len(), 16);
    let options = exec::Options {
        jobs,
        ..exec::Options::default()
    };
    exec::sweep(sc, vec![rates], &options).expect("the sweep runs")
}

fn events(r: &SweepResult) -> u64 {
    r.points
        .iter()
        .flat_map(|p| &p.runs)
        .map(|r| r.events)
        .sum()
}

/// Times `rounds` sweeps on 1 and 2 threads, interleaved so that a noisy
/// neighbour hurts both alike, and prints the best of each.
fn report(sc: &Scenario, rounds: usize) {
    let mut best = [f64::INFINITY; 2];
    let mut ev = 0;
    for _ in 0..rounds {
        for (slot, jobs) in [1, 2].into_iter().enumerate() {
            let t = Instant::now();
            let r = sweep(sc, jobs);
            best[slot] = best[slot].min(t.elapsed().as_secs_f64());
            ev = events(&r);
        }
    }
    eprintln!(
        "sweep of 16 checkout points ({ev} events): -j 1 {:.3}s ({:.2}M events/s), -j 2 {:.3}s ({:.2}M events/s): speed-up {:.2}x (best of {rounds})",
        best[0],
        ev as f64 / best[0] / 1e6,
        best[1],
        ev as f64 / best[1] / 1e6,
        best[0] / best[1]
    );
}

fn bench(c: &mut Criterion) {
    let sc = checkout();
    report(&sc, 3);
    let mut g = c.benchmark_group("sweep-16-checkout-points");
    g.sample_size(10);
    for jobs in [1, 2] {
        g.bench_function(format!("jobs={jobs}"), |b| b.iter(|| sweep(&sc, jobs)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
