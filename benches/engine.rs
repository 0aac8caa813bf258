//! Engine throughput: simulated requests (and events) per second of wall
//! time, on the two reference models of the core-engine issue:
//!
//! - M/M/10 at utilisation 0.9, 1,000,000 requests (goal: under 0.25 s);
//! - the checkout scenario, 1,000,000 checkout requests (goal: under 1.5 s);
//! - the same with a service registry and cached discovery (the default
//!   mode), and with a lookup on every call (`per_request`), to show what
//!   discovery costs the engine;
//! - `event-driven.toml` (a broker, a subscription, a data copy read by
//!   every checkout, a broker outage) and `duplicate-charges.toml`
//!   (retries past timeouts, every charge's executions counted), each
//!   stretched to 1,000,000 requests of their main workload, to show what
//!   messaging, consistency and execution tracking cost per event next to
//!   checkout;
//! - checkout 1M traced at `--trace-sample 0.001` (and the default
//!   `--trace-keep 10`), writing OTLP/JSON into `io::sink()`: what the
//!   span recorder and the writer cost (goal: under 10% over untraced).
//!   Before criterion, untraced and traced runs are timed interleaved and
//!   the overhead ratio of their fastest runs is printed.
//!
//! Run with `cargo bench --bench engine`. Criterion reports time per run
//! and requests/s (its "elements"); each bench also prints events/s.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use microsim::model::Model;
use microsim::scenario::{self, Override};
use microsim::simulation::run_traced;
use microsim::trace::otlp::OtlpWriter;
use microsim::trace::recorder::Recorder;
use microsim::trace::TraceConfig;
use std::path::Path;
use std::time::Instant;

/// M/M/10: ten workers, exponential 10 ms work, Poisson 900/s (rho = 0.9),
/// zero network latency. 1,111.1 s of simulated time is 1,000,000 arrivals.
const MM10: &str = r#"
[simulation]
duration = "1111111ms"
seed = 1
[services.server]
concurrency = 10
[services.server.endpoints.serve]
work = { dist = "exponential", mean = "10ms" }
[[workloads]]
name = "requests"
target = "server.serve"
arrival = { process = "poisson", rate = 900 }
"#;

fn mm10() -> Model {
    scenario::from_str(MM10, "mm10", "mm10", &[]).expect("valid bench model")
}

/// The bundled checkout scenario stretched to 1,000,000 checkout requests
/// (150/s for 6,666.7 s; order-status adds 50/s on top).
fn checkout(extra: &[&str]) -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/checkout.toml");
    let mut set = vec![Override::parse("simulation.duration=6666667ms").unwrap()];
    set.extend(extra.iter().map(|s| Override::parse(s).unwrap()));
    scenario::load(&path, &set)
        .expect("valid bundled scenario")
        .model
}

/// A bundled scenario run for `duration`.
fn bundled(file: &str, duration: &str) -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let set = [Override::parse(&format!("simulation.duration={duration}")).unwrap()];
    scenario::load(&path, &set)
        .expect("valid bundled scenario")
        .model
}

/// Prints events/s and requests/s of one timed run outside criterion.
fn report(name: &str, model: &Model, requests_of: &str) {
    let t = Instant::now();
    let r = microsim::simulation::run(model).unwrap();
    let wall = t.elapsed().as_secs_f64();
    let req = r.summary.workloads[requests_of].requests;
    eprintln!(
        "{name}: {} requests of workload {requests_of}, {} events in {wall:.3}s: {:.2}M events/s, {:.2}M requests/s",
        req,
        r.summary.events,
        r.summary.events as f64 / wall / 1e6,
        req as f64 / wall / 1e6
    );
}

/// A recorder at `--trace-sample 0.001 --trace-keep 10` writing OTLP/JSON
/// into `io::sink()`.
fn tracer(model: &Model) -> Recorder {
    let config = TraceConfig {
        sample: 0.001,
        keep: 10,
    };
    let sink = OtlpWriter::new(std::io::sink(), model).expect("io::sink never fails");
    Recorder::new(model, config, Box::new(sink))
}

/// One run of `model`, traced or not; returns the wall time, events and
/// traces written.
fn timed(model: &Model, traced: bool) -> (f64, u64, u64) {
    let t = Instant::now();
    let (r, rec) = run_traced(model, &mut |_, _| {}, traced.then(|| tracer(model))).unwrap();
    let written = rec
        .map(|rec| rec.finish(model).unwrap().total())
        .unwrap_or(0);
    (t.elapsed().as_secs_f64(), r.summary.events, written)
}

/// Times untraced and traced runs of `model` interleaved (so that a slow
/// moment of the machine hits both) and prints the overhead ratio of the
/// fastest of each.
fn tracing_overhead(name: &str, model: &Model) {
    let (mut plain, mut traced) = (f64::MAX, f64::MAX);
    let (mut events, mut written) = (0, 0);
    for _ in 0..5 {
        let (t, e, _) = timed(model, false);
        plain = plain.min(t);
        let (t, e2, w) = timed(model, true);
        traced = traced.min(t);
        assert_eq!(e, e2, "tracing must not change the run");
        (events, written) = (e, w);
    }
    eprintln!(
        "{name}: untraced {plain:.3}s ({:.2}M events/s), traced {traced:.3}s ({:.2}M events/s, {written} traces): overhead {:+.1}%",
        events as f64 / plain / 1e6,
        events as f64 / traced / 1e6,
        (traced / plain - 1.0) * 100.0
    );
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    let model = checkout(&[]);
    tracing_overhead("checkout_1M_traced_0.001", &model);
    g.throughput(Throughput::Elements(1_000_000));
    g.bench_function("checkout_1M_traced_0.001", |b| {
        b.iter_batched(
            || tracer(&model),
            |rec| {
                run_traced(&model, &mut |_, _| {}, Some(rec))
                    .unwrap()
                    .0
                    .summary
                    .events
            },
            BatchSize::PerIteration,
        )
    });
    for (name, model, wl) in [
        ("mm10_rho0.9_1M", mm10(), "requests"),
        ("checkout_1M", checkout(&[]), "checkout"),
        (
            "checkout_1M_cached_discovery",
            checkout(&["registry={}"]),
            "checkout",
        ),
        (
            "checkout_1M_per_request_discovery",
            checkout(&["registry={}", "discovery={ mode = \"per_request\" }"]),
            "checkout",
        ),
        // 100 checkouts/s reading the copy, 10 email changes/s.
        (
            "event_driven_1M",
            bundled("event-driven.toml", "10000s"),
            "checkout",
        ),
        // 100 checkouts/s, each charge's executions tracked.
        (
            "duplicate_charges_1M",
            bundled("duplicate-charges.toml", "10000s"),
            "checkout",
        ),
    ] {
        report(name, &model, wl);
        g.throughput(Throughput::Elements(1_000_000));
        g.bench_function(name, |b| {
            b.iter_batched(
                || (),
                |()| microsim::simulation::run(&model).unwrap().summary.events,
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
