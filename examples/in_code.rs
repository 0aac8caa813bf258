//! Builds a small shop in code with the library API, runs it with Payment
//! at 1 to 4 replicas, and reads the results: the question "how many
//! Payment replicas does checkout need for p99 under 150 ms?" answered by a
//! program instead of a scenario file.
//!
//!     cargo run --release --example in_code
//!
//! Each variant is validated exactly as a file would be, and its
//! `Scenario::source` is a file `microsim run` accepts, so any row can be
//! reproduced from the command line.

use microsim::scenario::builder::{Dist, Endpoint, ScenarioBuilder, Service, Workload};

fn shop(payment_replicas: u32) -> ScenarioBuilder {
    ScenarioBuilder::new("shop")
        .duration("2m")
        .warmup("15s")
        .seed(7)
        .network_latency(Dist::lognormal("400us", "2ms"))
        .service(
            Service::new("user")
                .replicas(2)
                .concurrency(4)
                .endpoint(Endpoint::new("auth").work(Dist::exponential("3ms"))),
        )
        .service(
            Service::new("payment")
                .replicas(payment_replicas)
                .concurrency(4)
                .queue_capacity(128)
                .price_per_hour(0.10)
                .endpoint(Endpoint::new("charge").work(Dist::lognormal("15ms", "120ms"))),
        )
        .service(
            Service::new("order").replicas(3).concurrency(16).endpoint(
                Endpoint::new("place")
                    .work(Dist::gamma("4ms", 0.5))
                    .call("user.auth")
                    .call("payment.charge"),
            ),
        )
        .workload(Workload::poisson("checkout", "order.place", 150.0))
        // Anything without a typed method is reachable by its dotted path.
        .set("services.order.price_per_hour", 0.05)
}

fn main() {
    println!(
        "payment replicas | checkout p50 (ms) | p99 (ms) | availability | payment util. | cost/h"
    );
    for replicas in 1..=4 {
        let scenario = match shop(replicas).build() {
            Ok(sc) => sc,
            Err(e) => {
                eprintln!("invalid scenario: {e}");
                std::process::exit(2);
            }
        };
        let result = microsim::simulation::run(&scenario.model).expect("the run completes");
        let s = &result.summary;
        let checkout = &s.workloads["checkout"];
        let latency = checkout
            .latency_ms
            .as_ref()
            .expect("checkout requests completed");
        let payment = &s.services["payment"];
        let cost = s.cost.as_ref().map_or(0.0, |c| c.per_hour);
        println!(
            "{replicas:>16} | {:>17.1} | {:>8.1} | {:>11.3}% | {:>12.1}% | {cost:.2}",
            latency.p50,
            latency.p99,
            checkout.availability.unwrap_or(0.0) * 100.0,
            payment.utilization * 100.0,
        );
    }
}
