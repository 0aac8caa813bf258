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
    println!(
        "{:>8}  {:>4}  {:>28}  {:>18}  {:>12}",
        "replicas", "rate", "checkout p99 (ms): mean ± hw", "95% CI", "availability"
    );
    for point in &result.points {
        let value = |p: usize, v: usize| result.plan.params[p].values[v].text.clone();
        let e = &point.estimates[p99];
        let num = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        println!(
            "{:>8}  {:>4}  {:>28}  {:>18}  {:>11.3}%",
            value(0, point.values[0]),
            value(1, point.values[1]),
            format!("{} ± {}", num(e.mean), num(e.half_width)),
            format!("[{}, {}]", num(e.ci_low()), num(e.ci_high())),
            point.estimates[availability].mean.unwrap_or(f64::NAN) * 100.0,
        );
    }
}
