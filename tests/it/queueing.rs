//! Queueing-theory validation: simple scenarios whose exact steady-state
//! behaviour is known (M/M/1, M/M/c, M/D/1, a Jackson tandem) are simulated
//! and compared with the formulas.
//!
//! # How the tolerances are derived
//!
//! Nothing here is a guessed tolerance. Every test runs `R` independent
//! replications of the same scenario (different master seeds, hence
//! independent random streams), each with a warm-up that is long compared
//! with the queue's relaxation time, and takes one estimate per replication
//! (a mean, a percentile, a utilisation). The replications are i.i.d.; each
//! is a long-run average, so approximately normal. With `x̄` and `s` their
//! sample mean and standard deviation, the test asserts
//!
//! ```text
//! |x̄ − theory| < t(0.9995, R−1) · s / √R   (+ 0.1% of theory for percentiles)
//! ```
//!
//! i.e. the theory must lie in the two-sided 99.9% confidence interval of
//! the simulated quantity. The extra 0.1% for percentiles is the known
//! quantisation of the 3-significant-digit HdrHistogram, which is a bias
//! (it reports the highest value of a bucket), so averaging does not remove
//! it. Every run is deterministic, so a passing test keeps passing; the
//! 0.1% chance per assertion only matters when the engine or the seeds
//! change.
//!
//! The remaining biases are far below the half-widths: the start-up
//! transient is cut by the warm-up (20 s, against relaxation times below
//! 1 s), requests still in flight at the end are not counted (a handful out of
//! 5·10⁵ per replication), and sampled durations are rounded to 1 ns (out of
//! milliseconds).
//!
//! Every check prints the estimate, the theory and the half-width with
//! `eprintln!`; see them with
//! `cargo test --test it queueing -- --nocapture`.

use microsim::metrics::Summary;

/// Replications per test.
const R: usize = 20;

/// `t(0.9995, R − 1)`: the 0.9995 quantile of Student's t with 19 degrees
/// of freedom (two-sided 99.9%), from tables (3.8834; checked by numerical
/// integration of the t density).
const T_9995_19: f64 = 3.8834;

/// Relative quantisation of a percentile read from the latency histogram
/// (3 significant digits).
const HIST_QUANTUM: f64 = 0.001;

/// Runs `R` replications of the scenario `toml`, with master seeds
/// `seed0, seed0 + 1, ...`, and returns their summaries.
fn replicate(toml: &str, seed0: u64) -> Vec<Summary> {
    let runs = replicate_allowing_failures(toml, seed0);
    for s in &runs {
        for (name, w) in &s.workloads {
            assert_eq!(w.failed, 0, "workload {name}: no request may fail");
        }
    }
    runs
}

/// Like [`replicate`], for systems that reject requests by design.
fn replicate_allowing_failures(toml: &str, seed0: u64) -> Vec<Summary> {
    let mut m = super::common::model(toml);
    (0..R as u64)
        .map(|i| {
            m.seed = seed0 + i;
            microsim::simulation::run(&m)
                .expect("the run completes")
                .summary
        })
        .collect()
}

/// Asserts that `theory` lies in the 99.9% Student-t confidence interval
/// of the mean of the per-replication estimates `xs`, widened by
/// `quantum · theory` for a known one-sided measurement quantisation.
fn check(label: &str, xs: &[f64], theory: f64, quantum: f64) {
    assert_eq!(xs.len(), R);
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let half = T_9995_19 * (var / n).sqrt();
    let tol = half + quantum * theory.abs();
    let diff = mean - theory;
    eprintln!(
        "{label}: estimate {mean:.5} theory {theory:.5} diff {diff:+.5} ({:+.3}%) \
         half-width {half:.5} ({:.3}%) tolerance {tol:.5}",
        100.0 * diff / theory,
        100.0 * half / theory,
    );
    assert!(
        diff.abs() < tol,
        "{label}: estimate {mean} deviates from theory {theory} by {diff} \
         (99.9% half-width {half}, tolerance {tol})"
    );
}

/// Per-replication values of one field of one workload's latency summary.
fn latency(
    runs: &[Summary],
    workload: &str,
    f: fn(&microsim::metrics::latency::LatencySummary) -> f64,
) -> Vec<f64> {
    runs.iter()
        .map(|s| {
            f(s.workloads[workload]
                .latency_ms
                .as_ref()
                .expect("requests completed"))
        })
        .collect()
}

/// Per-replication values of one field of one service's summary.
fn service(
    runs: &[Summary],
    name: &str,
    f: fn(&microsim::metrics::ServiceSummary) -> f64,
) -> Vec<f64> {
    runs.iter().map(|s| f(&s.services[name])).collect()
}

/// Customers measured over all replications (for the doc comments).
fn customers(runs: &[Summary], workload: &str) -> u64 {
    runs.iter().map(|s| s.workloads[workload].ok).sum()
}

/// Smallest `t` with `tail(t) <= p` for a decreasing survival function, by
/// bisection (to well below the histogram's 0.1%).
fn solve_tail(tail: impl Fn(f64) -> f64, p: f64) -> f64 {
    let mut hi = 1.0;
    while tail(hi) > p {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if tail(mid) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Erlang C: probability that an arrival to an M/M/c queue with offered
/// load `a = λ/μ` has to wait. Computed from Erlang B by its stable
/// recursion `B(k) = a B(k−1) / (k + a B(k−1))`, then
/// `C = c B / (c − a (1 − B))`.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let c = f64::from(c);
    c * b / (c - a * (1.0 - b))
}

/// A single-service scenario: one replica with `concurrency` workers, an
/// unbounded FIFO queue, the endpoint's `work` distribution (TOML inline
/// table) and Poisson arrivals at `rate` per second.
fn single_station(concurrency: u32, work: &str, rate: f64, duration_s: u32) -> String {
    format!(
        r#"
        [simulation]
        duration = "{duration_s}s"
        warmup = "20s"
        [services.q]
        replicas = 1
        concurrency = {concurrency}
        [services.q.endpoints.e]
        work = {work}
        [[workloads]]
        name = "w"
        target = "q.e"
        arrival = {{ process = "poisson", rate = {rate} }}
        "#
    )
}

/// M/M/1 with λ = 80/s and μ = 100/s (mean service 10 ms), ρ = 0.8.
///
/// Theory: the FIFO response time is exponential with rate μ − λ = 20/s,
/// so W = 1/(μ−λ) = 50 ms and p99 = ln(100)/(μ−λ) = 230.26 ms; the server
/// is busy a fraction ρ = 0.8 of the time and the mean number waiting is
/// Lq = ρ²/(1−ρ) = 3.2.
///
/// Run length: R = 20 replications of 6000 s measured (after 20 s of
/// warm-up), 9.6 M customers in all. The resulting 99.9% half-widths
/// (printed by the test) are 0.93% of W, 2.8% of p99 (plus the 0.1%
/// quantum), 1.2% of Lq and 0.13% of ρ.
#[test]
fn mm1_matches_exponential_response_time() {
    let (lambda, mu) = (80.0, 100.0);
    let rho = lambda / mu;
    let toml = single_station(
        1,
        r#"{ dist = "exponential", mean = "10ms" }"#,
        lambda,
        6_020,
    );
    let runs = replicate(&toml, 1_000);
    eprintln!("M/M/1: {} customers measured", customers(&runs, "w"));
    let w = 1e3 / (mu - lambda);
    check(
        "M/M/1 mean W (ms)",
        &latency(&runs, "w", |l| l.mean),
        w,
        0.0,
    );
    check(
        "M/M/1 p99 (ms)",
        &latency(&runs, "w", |l| l.p99),
        100f64.ln() * w,
        HIST_QUANTUM,
    );
    check(
        "M/M/1 utilisation",
        &service(&runs, "q", |s| s.utilization),
        rho,
        0.0,
    );
    check(
        "M/M/1 Lq",
        &service(&runs, "q", |s| s.mean_queue_length),
        rho * rho / (1.0 - rho),
        0.0,
    );
}

/// Checks an M/M/c queue (one replica, `c` workers, μ = 100/s) at
/// arrival rate `lambda` against Erlang C.
///
/// With `a = λ/μ` and `C = C(c, a)`: a customer waits with probability C,
/// and then for an exponential time of rate `a' = cμ − λ`. So
/// `W = C/(cμ−λ) + 1/μ`, `Lq = C ρ/(1−ρ)`, utilisation = ρ, and the
/// response time T = service + wait has
/// `P(T>t) = (1−C) e^{−μt} + C (a' e^{−μt} − μ e^{−a't})/(a' − μ)`, which for
/// `a' = μ` becomes `(1−C) e^{−μt} + C (1 + μt) e^{−μt}` (Erlang-2); its p99
/// is found by bisection.
fn mmc(c: u32, lambda: f64, duration_s: u32, seed0: u64) {
    let mu = 100.0;
    let rho = lambda / (f64::from(c) * mu);
    let a = lambda / mu;
    let cw = erlang_c(c, a);
    let a2 = f64::from(c) * mu - lambda;
    let tail = |t: f64| {
        let s = (-mu * t).exp();
        let both = if (a2 - mu).abs() < 1e-9 * mu {
            (1.0 + mu * t) * s
        } else {
            (a2 * s - mu * (-a2 * t).exp()) / (a2 - mu)
        };
        (1.0 - cw) * s + cw * both
    };
    let p99 = 1e3 * solve_tail(tail, 0.01);
    let w = 1e3 * (cw / a2 + 1.0 / mu);
    let toml = single_station(
        c,
        r#"{ dist = "exponential", mean = "10ms" }"#,
        lambda,
        duration_s,
    );
    let runs = replicate(&toml, seed0);
    let label = format!("M/M/{c} rho={rho}");
    eprintln!(
        "{label}: {} customers measured, Erlang C = {cw:.5}",
        customers(&runs, "w")
    );
    check(
        &format!("{label} mean W (ms)"),
        &latency(&runs, "w", |l| l.mean),
        w,
        0.0,
    );
    check(
        &format!("{label} p99 (ms)"),
        &latency(&runs, "w", |l| l.p99),
        p99,
        HIST_QUANTUM,
    );
    check(
        &format!("{label} utilisation"),
        &service(&runs, "q", |s| s.utilization),
        rho,
        0.0,
    );
    check(
        &format!("{label} Lq"),
        &service(&runs, "q", |s| s.mean_queue_length),
        cw * rho / (1.0 - rho),
        0.0,
    );
}

/// M/M/4 with μ = 100/s and λ = 320/s (ρ = 0.8, a = 3.2): Erlang C =
/// 0.5964, W = 17.455 ms, p99 = 68.93 ms, Lq = 2.386; see [`mmc`] for the
/// formulas.
///
/// Run length: R = 20 replications of 3000 s measured, 19.2 M customers.
/// Half-widths: 0.56% of W, 0.89% of p99 (plus 0.1%), 1.3% of Lq, 0.15% of
/// ρ.
#[test]
fn mm4_matches_erlang_c() {
    mmc(4, 320.0, 3_020, 2_000);
}

/// M/M/10 with μ = 100/s and λ = 900/s (ρ = 0.9, a = 9): here
/// `a' = cμ − λ = μ`, which exercises the Erlang-2 branch of the p99
/// formula. See [`mmc`].
///
/// Theory: Erlang C = 0.6687, W = 16.687 ms, p99 = 62.50 ms, Lq = 6.019.
///
/// Run length: R = 20 replications of 1200 s measured, 21.6 M customers.
/// Half-widths: 1.0% of W, 1.7% of p99 (plus 0.1%), 2.5% of Lq, 0.15% of
/// ρ.
#[test]
fn mm10_heavy_traffic_matches_erlang_c() {
    mmc(10, 900.0, 1_220, 3_000);
}

/// M/D/1 with λ = 80/s and a constant 10 ms service (ρ = 0.8).
///
/// Theory (Pollaczek–Khinchine): Wq = λE[S²]/(2(1−ρ)) = ρ/(2μ(1−ρ)) =
/// 20 ms, so W = 1/μ + Wq = 30 ms, Lq = λ Wq = 1.6, utilisation ρ.
///
/// Run length: R = 20 replications of 6000 s measured, 9.6 M customers;
/// half-widths 0.65% of W, 1.1% of Lq and 0.14% of ρ.
#[test]
fn md1_matches_pollaczek_khinchine() {
    let (lambda, mu) = (80.0, 100.0);
    let rho = lambda / mu;
    let toml = single_station(1, r#"{ dist = "constant", value = "10ms" }"#, lambda, 6_020);
    let runs = replicate(&toml, 4_000);
    eprintln!("M/D/1: {} customers measured", customers(&runs, "w"));
    let wq = rho / (2.0 * mu * (1.0 - rho));
    check(
        "M/D/1 mean W (ms)",
        &latency(&runs, "w", |l| l.mean),
        1e3 * (1.0 / mu + wq),
        0.0,
    );
    check(
        "M/D/1 utilisation",
        &service(&runs, "q", |s| s.utilization),
        rho,
        0.0,
    );
    check(
        "M/D/1 Lq",
        &service(&runs, "q", |s| s.mean_queue_length),
        lambda * wq,
        0.0,
    );
}

/// Three M/M/1 stations in tandem (A → B → C, async I/O so each station's
/// worker is released while its request waits downstream, zero network
/// latency): an open Jackson network with λ = 80/s and μ = 200, 125 and
/// 100/s (mean service 5, 8 and 10 ms; ρ = 0.4, 0.64, 0.8).
///
/// Theory: each station behaves as an independent M/M/1 queue (Jackson),
/// so the end-to-end mean is Σ 1/(μ_i − λ) = 8.333 + 22.222 + 50 =
/// 80.556 ms. Moreover, by Reich's theorem a customer's sojourn times at
/// the stations of a tandem are independent exponentials of rates
/// r_i = μ_i − λ, so the end-to-end latency is hypoexponential,
/// `P(T>t) = Σ_i e^{−r_i t} Π_{j≠i} r_j/(r_j − r_i)`, whose p99 is found
/// by bisection. Each station is busy λ/μ_i of the time.
///
/// Run length: R = 20 replications of 6000 s measured, 9.6 M customers
/// (each visiting three stations); half-widths 0.77% of the mean, 2.2% of
/// p99 = 268.73 ms (plus 0.1%), 0.15-0.2% of the utilisations.
#[test]
fn tandem_matches_jackson_network() {
    let lambda = 80.0;
    let mus = [200.0, 125.0, 100.0];
    let toml = r#"
        [simulation]
        duration = "6020s"
        warmup = "20s"
        [services.a]
        io = "async"
        [services.a.endpoints.e]
        steps = [ { work = { dist = "exponential", mean = "5ms" } }, { call = "b.e" } ]
        [services.b]
        io = "async"
        [services.b.endpoints.e]
        steps = [ { work = { dist = "exponential", mean = "8ms" } }, { call = "c.e" } ]
        [services.c]
        io = "async"
        [services.c.endpoints.e]
        work = { dist = "exponential", mean = "10ms" }
        [[workloads]]
        name = "w"
        target = "a.e"
        arrival = { process = "poisson", rate = 80 }
    "#;
    let runs = replicate(toml, 5_000);
    eprintln!("tandem: {} customers measured", customers(&runs, "w"));
    let rates = mus.map(|mu| mu - lambda);
    let tail = |t: f64| {
        (0..3)
            .map(|i| {
                let prod: f64 = (0..3)
                    .filter(|&j| j != i)
                    .map(|j| rates[j] / (rates[j] - rates[i]))
                    .product();
                (-rates[i] * t).exp() * prod
            })
            .sum::<f64>()
    };
    check(
        "tandem mean (ms)",
        &latency(&runs, "w", |l| l.mean),
        1e3 * rates.iter().map(|r| 1.0 / r).sum::<f64>(),
        0.0,
    );
    check(
        "tandem p99 (ms)",
        &latency(&runs, "w", |l| l.p99),
        1e3 * solve_tail(tail, 0.01),
        HIST_QUANTUM,
    );
    for (name, mu) in ["a", "b", "c"].iter().zip(mus) {
        check(
            &format!("tandem utilisation {name}"),
            &service(&runs, name, |s| s.utilization),
            lambda / mu,
            0.0,
        );
    }
}

/// M/M/1/K: one worker and room for K − 1 = 4 waiting (K = 5 in the
/// system), λ = 80/s, μ = 100/s, so arrivals that find the queue full are
/// rejected.
///
/// Theory (birth-death chain truncated at K): P_n = (1−ρ)ρⁿ/(1−ρ^{K+1}),
/// so the blocking probability is P_K = 0.08882, the utilisation 1 − P_0 =
/// 0.72894, L = ρ/(1−ρ) − (K+1)ρ^{K+1}/(1−ρ^{K+1}) = 1.86835, Lq = L − (1 −
/// P_0) = 1.13941, and (Little) the admitted requests' mean response time
/// W = L / (λ(1 − P_K)) = 25.631 ms.
///
/// Run length: R = 20 replications of 3000 s measured, 4.8 M arrivals;
/// half-widths are printed by the test (about 1% of P_K and of W).
#[test]
fn mm1k_matches_the_truncated_birth_death_chain() {
    let (lambda, mu, k) = (80.0f64, 100.0f64, 5i32);
    let rho = lambda / mu;
    let toml = single_station(
        1,
        r#"{ dist = "exponential", mean = "10ms" }"#,
        lambda,
        3_020,
    )
    .replace(
        "concurrency = 1",
        "concurrency = 1\n        queue_capacity = 4",
    );
    let runs = replicate_allowing_failures(&toml, 6_000);
    let norm = 1.0 - rho.powi(k + 1);
    let p0 = (1.0 - rho) / norm;
    let pk = (1.0 - rho) * rho.powi(k) / norm;
    let l = rho / (1.0 - rho) - f64::from(k + 1) * rho.powi(k + 1) / norm;
    let blocked: Vec<f64> = runs
        .iter()
        .map(|s| {
            let w = &s.workloads["w"];
            assert_eq!(w.failures["rejected"], w.failed, "only rejections");
            assert_eq!(s.services["q"].rejected, w.failed);
            w.failed as f64 / (w.ok + w.failed) as f64
        })
        .collect();
    check("M/M/1/K blocking probability", &blocked, pk, 0.0);
    check(
        "M/M/1/K utilisation",
        &service(&runs, "q", |s| s.utilization),
        1.0 - p0,
        0.0,
    );
    check(
        "M/M/1/K Lq",
        &service(&runs, "q", |s| s.mean_queue_length),
        l - (1.0 - p0),
        0.0,
    );
    let w = 1e3 * l / (lambda * (1.0 - pk));
    check("M/M/1/K W (ms)", &latency(&runs, "w", |l| l.mean), w, 0.0);
}

/// Four single-worker replicas behind a balancer, λ = 320/s, μ = 100/s
/// each (ρ = 0.8), with `balancer` set as given.
fn four_replicas(balancer: &str, duration_s: u32) -> String {
    format!(
        r#"
        [simulation]
        duration = "{duration_s}s"
        warmup = "20s"
        [services.q]
        replicas = 4
        concurrency = 1
        balancer = "{balancer}"
        [services.q.endpoints.e]
        work = {{ dist = "exponential", mean = "10ms" }}
        [[workloads]]
        name = "w"
        target = "q.e"
        arrival = {{ process = "poisson", rate = 320 }}
        "#
    )
}

/// Random balancing splits a Poisson stream into independent Poisson
/// streams, so four replicas behind `random` are four independent M/M/1
/// queues at λ = 80/s: W = 1/(μ − λ) = 50 ms, utilisation 0.8.
///
/// Run length: R = 20 replications of 500 s measured, 3.2 M customers;
/// the half-width of W is about 2%.
#[test]
fn random_balancing_gives_independent_mm1_queues() {
    let runs = replicate(&four_replicas("random", 520), 7_000);
    check(
        "random x4 W (ms)",
        &latency(&runs, "w", |l| l.mean),
        50.0,
        0.0,
    );
    check(
        "random x4 utilisation",
        &service(&runs, "q", |s| s.utilization),
        0.8,
        0.0,
    );
}

/// Round robin hands each replica every fourth arrival of a Poisson
/// stream: Erlang-4 interarrival times at λ' = 80/s, so each replica is an
/// E4/M/1 queue. GI/M/1 theory: W = 1/(μ(1 − σ)), where σ is the root in
/// (0, 1) of σ = A*(μ(1 − σ)) and A*(s) = (4λ'/(4λ' + s))⁴ is the
/// interarrival time's Laplace transform (found by fixed-point iteration,
/// which converges from 0 when ρ < 1). Here W = 32.67 ms.
///
/// Run length: R = 20 replications of 500 s measured, 3.2 M customers.
#[test]
fn round_robin_gives_erlang_arrivals_per_replica() {
    let (k, lam, mu) = (4, 80.0f64, 100.0f64);
    let mut sigma = 0.0f64;
    for _ in 0..10_000 {
        sigma = (f64::from(k) * lam / (f64::from(k) * lam + mu * (1.0 - sigma))).powi(k);
    }
    let w = 1e3 / (mu * (1.0 - sigma));
    let runs = replicate(&four_replicas("round_robin", 520), 8_000);
    check(
        "round_robin x4 W (ms)",
        &latency(&runs, "w", |l| l.mean),
        w,
        0.0,
    );
}

/// Load-aware balancers queue less than random: join-the-shortest-queue
/// (`least_outstanding`) comes close to a central M/M/4 queue (W = 17.455
/// ms, which no per-replica queueing can beat), and `power_of_two` sits
/// between it and `random` (50 ms). One 500 s run each (160k customers):
/// the gaps between the policies are tens of standard errors.
#[test]
fn load_aware_balancers_approach_the_central_queue() {
    let mean = |b: &str| {
        let m = super::common::model(&four_replicas(b, 520));
        let s = microsim::simulation::run(&m).unwrap().summary;
        s.workloads["w"].latency_ms.as_ref().unwrap().mean
    };
    let (lo, p2, random) = (
        mean("least_outstanding"),
        mean("power_of_two"),
        mean("random"),
    );
    eprintln!("W (ms): least_outstanding {lo:.3}, power_of_two {p2:.3}, random {random:.3}");
    assert!(lo > 17.455 && lo < p2 && p2 < random, "{lo} {p2} {random}");
    // JSQ with four servers at rho = 0.8 is within a few ms of M/M/4.
    assert!(lo < 17.455 * 1.5, "least_outstanding {lo}");
}
