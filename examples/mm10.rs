//! Runs an M/M/10 queue at utilisation 0.9 for N requests (default
//! 10,000,000) through the library API and prints the latency summary, the
//! speed and the peak memory, to show that memory is bounded by what is in
//! flight, not by how many requests were simulated.
//!
//!     cargo run --release --example mm10 -- 10000000

use std::time::Instant;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("N must be a whole number of requests"))
        .unwrap_or(10_000_000);
    // 900 arrivals per second: N requests take N / 900 seconds; the
    // warm-up is a tenth of that, at most ten seconds.
    let duration_ms = (n * 1000 / 900).max(10);
    let warmup_ms = (duration_ms / 10).min(10_000);
    let toml = format!(
        r#"
        [simulation]
        duration = "{duration_ms}ms"
        warmup = "{warmup_ms}ms"
        seed = 1
        [services.server]
        concurrency = 10
        [services.server.endpoints.serve]
        work = {{ dist = "exponential", mean = "10ms" }}
        [[workloads]]
        name = "requests"
        target = "server.serve"
        arrival = {{ process = "poisson", rate = 900 }}
        "#
    );
    let model = microsim::scenario::from_str(&toml, "mm10", "mm10", &[]).expect("valid model");
    let t = Instant::now();
    let r = microsim::simulation::run(&model).expect("the run completes");
    let wall = t.elapsed().as_secs_f64();
    let w = &r.summary.workloads["requests"];
    let l = w.latency_ms.as_ref().expect("requests completed");
    println!(
        "M/M/10 rho=0.9: {} requests, mean {:.3} ms, p99 {:.3} ms (theory: mean 16.687 ms, p99 62.50 ms)",
        w.requests, l.mean, l.p99
    );
    println!(
        "{} events in {wall:.3}s wall: {:.2}M events/s, {:.2}M requests/s",
        r.summary.events,
        r.summary.events as f64 / wall / 1e6,
        w.requests as f64 / wall / 1e6
    );
    if let Some(peak) = peak_rss_kib() {
        println!("peak memory (VmHWM): {:.1} MiB", peak as f64 / 1024.0);
    }
}

/// Peak resident set size from /proc (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
