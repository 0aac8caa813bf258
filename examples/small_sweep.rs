//! A small sweep through the library API: a shop built in code, swept over
//! Payment replicas (1 to 4) at two checkout rates, each point run 5
//! times, with the p99 of checkout read back as a mean and a 95%
//! confidence interval per point.
//!
//!     cargo run --release --example small_sweep
//!
//! The same sweep from the command line, on a scenario file, is
//! `microsim sweep FILE --param services.payment.replicas=1..4
//! --param workloads.checkout.arrival.rate=100,200 -r 5`.

use microsim::scenario::builder::{Dist, Endpoint, ScenarioBuilder, Service, Workload};
use microsim::sweep::{exec, param};

fn main() {
    let scenario = ScenarioBuilder::new("shop")
        .duration("90s")
        .warmup("10s")
        .seed(11)
        .network_latency(Dist::lognormal("400us", "2ms"))
        .service(
            Service::new("payment")
                .concurrency(4)
                .queue_capacity(64)
                .endpoint(Endpoint::new("charge").work(Dist::lognormal("15ms", "120ms"))),
        )
        .service(
            Service::new("order").replicas(3).concurrency(16).endpoint(
                Endpoint::new("place")
                    .work(Dist::gamma("4ms", 0.5))
                    .call("payment.charge"),
            ),
        )
        .workload(Workload::poisson("checkout", "order.place", 100.0))
        .build()
        .unwrap_or_else(|e| {
            eprintln!("invalid scenario: {e}");
            std::process::exit(2)
        });

    // Parameters as `--param` takes them; any path `--set` takes works.
    let params = vec![
        param::parse_arg("services.payment.replicas=1..4").expect("a valid range"),
        param::parse_arg("workloads.checkout.arrival.rate=100,200").expect("a valid list"),
    ];
    let options = exec::Options {
        replications: 5,
        ..exec::Options::default()
    };
    let result = exec::sweep(&scenario, params, &options).unwrap_or_else(|e| {
        eprintln!("sweep failed: {e}");
        std::process::exit(2)
    });

    let metric = |name: &str| {
        result
            .plan
            .metrics
            .iter()
            .position(|m| m.name == name)
            .expect("the scenario reports this metric")
    };
    let (p99, availability) = (metric("checkout.p99"), metric("checkout.availability"));
    println!("replicas  rate  checkout p99 (ms, mean ± 95% CI)  availability");
    for point in &result.points {
        let value = |p: usize, v: usize| result.plan.params[p].values[v].text.clone();
        let e = &point.estimates[p99];
        println!(
            "{:>8}  {:>4}  {:>10.1} ± {:<6.1} [{:.1}, {:.1}]  {:>10.3}%",
            value(0, point.values[0]),
            value(1, point.values[1]),
            e.mean.unwrap_or(f64::NAN),
            e.half_width.unwrap_or(f64::NAN),
            e.ci_low().unwrap_or(f64::NAN),
            e.ci_high().unwrap_or(f64::NAN),
            point.estimates[availability].mean.unwrap_or(f64::NAN) * 100.0,
        );
    }
}
