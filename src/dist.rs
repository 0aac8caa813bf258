//! Latency distributions.
//!
//! Every sampled time in the simulation (work, network hops, think time,
//! inter-arrival gaps) comes from a [`Dist`]. Parameters are validated when the
//! scenario is turned into a model, so sampling itself cannot fail; samples
//! are returned as integer nanoseconds because simulated time is never `f64`.

use rand::Rng;
use rand_distr::{Distribution, Exp, Gamma, LogNormal, Normal, Pareto, Weibull};

/// z-score of the 99th percentile of the standard normal distribution, used to
/// fit a lognormal from its median and p99 (`p99 = median * exp(z99 * sigma)`).
pub const Z99: f64 = 2.326_347_874_040_841;

/// A validated, ready-to-sample distribution of non-negative durations.
///
/// Sampling is allocation-free; the enum holds the `rand_distr` objects so the
/// hot path does no parameter arithmetic.
#[derive(Debug, Clone)]
pub struct Dist {
    kind: Kind,
    /// Exact mean in nanoseconds, computed once from the parameters.
    mean: f64,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Always the same value (ns).
    Constant(u64),
    /// Uniform between `lo` and `hi` (ns, inclusive of `lo`).
    Uniform { lo: f64, hi: f64 },
    /// Exponential with the given distribution object (ns scale).
    Exponential(Exp<f64>),
    /// Normal truncated at zero by rejection (ns scale).
    Normal(Normal<f64>),
    /// Lognormal (ns scale).
    LogNormal(LogNormal<f64>),
    /// Gamma (ns scale).
    Gamma(Gamma<f64>),
    /// Weibull (ns scale).
    Weibull(Weibull<f64>),
    /// Pareto (type I; ns scale).
    Pareto(Pareto<f64>),
    /// Piecewise-linear inverse CDF through `(quantile, ns)` points, which
    /// start at quantile 0 and end at quantile 1.
    Empirical(Vec<(f64, f64)>),
}

/// Why a set of distribution parameters was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DistError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, DistError> {
    Err(DistError(msg.into()))
}

impl Dist {
    /// Uniform on `[lo, hi]` nanoseconds.
    pub fn uniform(lo: u64, hi: u64) -> Result<Self, DistError> {
        if hi < lo {
            return err("max must not be below min");
        }
        Ok(Dist {
            kind: Kind::Uniform {
                lo: lo as f64,
                hi: hi as f64,
            },
            mean: (lo as f64 + hi as f64) / 2.0,
        })
    }

    /// Exponential with the given mean (ns).
    pub fn exponential(mean: u64) -> Result<Self, DistError> {
        if mean == 0 {
            return err("mean must be greater than zero");
        }
        Exp::new(1.0 / mean as f64)
            .map(|d| Dist::from(Kind::Exponential(d), mean as f64))
            .or_else(|e| err(e.to_string()))
    }

    /// Normal with the given mean and standard deviation (ns), truncated at 0.
    pub fn normal(mean: u64, sd: u64) -> Result<Self, DistError> {
        if mean == 0 {
            return err("mean must be greater than zero");
        }
        Normal::new(mean as f64, sd as f64)
            .map(|d| {
                Dist::from(
                    Kind::Normal(d),
                    truncated_normal_mean(mean as f64, sd as f64),
                )
            })
            .or_else(|e| err(e.to_string()))
    }

    /// Lognormal fitted so that its median and 99th percentile are as given.
    pub fn lognormal_median_p99(median: u64, p99: u64) -> Result<Self, DistError> {
        if median == 0 {
            return err("median must be greater than zero");
        }
        if p99 <= median {
            return err(format!(
                "p99 ({}) must be greater than median ({})",
                crate::engine::time::fmt_ns(p99),
                crate::engine::time::fmt_ns(median)
            ));
        }
        let mu = (median as f64).ln();
        let sigma = (p99 as f64 / median as f64).ln() / Z99;
        LogNormal::new(mu, sigma)
            .map(|d| Dist::from(Kind::LogNormal(d), (mu + sigma * sigma / 2.0).exp()))
            .or_else(|e| err(e.to_string()))
    }

    /// Lognormal with the given mean (ns) and coefficient of variation.
    pub fn lognormal_mean_cv(mean: u64, cv: f64) -> Result<Self, DistError> {
        if mean == 0 {
            return err("mean must be greater than zero");
        }
        if !(cv.is_finite() && cv > 0.0) {
            return err("cv must be a finite number greater than zero");
        }
        let sigma2 = (1.0 + cv * cv).ln();
        let mu = (mean as f64).ln() - sigma2 / 2.0;
        LogNormal::new(mu, sigma2.sqrt())
            .map(|d| Dist::from(Kind::LogNormal(d), mean as f64))
            .or_else(|e| err(e.to_string()))
    }

    /// Gamma with the given mean (ns) and coefficient of variation
    /// (shape `1/cv^2`, scale `mean * cv^2`).
    pub fn gamma(mean: u64, cv: f64) -> Result<Self, DistError> {
        if mean == 0 {
            return err("mean must be greater than zero");
        }
        if !(cv.is_finite() && cv > 0.0) {
            return err("cv must be a finite number greater than zero");
        }
        Gamma::new(1.0 / (cv * cv), mean as f64 * cv * cv)
            .map(|d| Dist::from(Kind::Gamma(d), mean as f64))
            .or_else(|e| err(e.to_string()))
    }

    /// Weibull with the given scale (ns) and shape.
    pub fn weibull(scale: u64, shape: f64) -> Result<Self, DistError> {
        if scale == 0 {
            return err("scale must be greater than zero");
        }
        if !(shape.is_finite() && shape > 0.0) {
            return err("shape must be a finite number greater than zero");
        }
        Weibull::new(scale as f64, shape)
            .map(|d| Dist::from(Kind::Weibull(d), scale as f64 * gamma_fn(1.0 + 1.0 / shape)))
            .or_else(|e| err(e.to_string()))
    }

    /// Pareto (type I) with minimum `scale` (ns) and tail index `shape`.
    /// `shape` must exceed 1 so that the mean, and so utilisation, is finite.
    pub fn pareto(scale: u64, shape: f64) -> Result<Self, DistError> {
        if scale == 0 {
            return err("scale must be greater than zero");
        }
        if !(shape.is_finite() && shape > 1.0) {
            return err(
                "shape must be a finite number greater than 1 (otherwise the mean is infinite)",
            );
        }
        Pareto::new(scale as f64, shape)
            .map(|d| Dist::from(Kind::Pareto(d), shape * scale as f64 / (shape - 1.0)))
            .or_else(|e| err(e.to_string()))
    }

    /// Empirical distribution through `(quantile, ns)` points, as read off a
    /// dashboard. Points are sorted by quantile; values must not decrease.
    /// A point at quantile 0 (`min`, default 0 ns) and at quantile 1 (`max`,
    /// default the highest percentile given) close the curve.
    pub fn empirical(mut points: Vec<(f64, u64)>) -> Result<Self, DistError> {
        if points.is_empty() {
            return err("give at least one percentile, e.g. p50 = \"10ms\"");
        }
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in points.windows(2) {
            if w[0].0 == w[1].0 {
                return err(format!("percentile {} is given twice", w[0].0 * 100.0));
            }
            if w[1].1 < w[0].1 {
                return err(format!(
                    "values must not decrease with the percentile: p{} = {} but p{} = {}",
                    w[0].0 * 100.0,
                    crate::engine::time::fmt_ns(w[0].1),
                    w[1].0 * 100.0,
                    crate::engine::time::fmt_ns(w[1].1)
                ));
            }
        }
        let mut pts: Vec<(f64, f64)> = points.iter().map(|&(q, v)| (q, v as f64)).collect();
        if pts[0].0 > 0.0 {
            pts.insert(0, (0.0, 0.0));
        }
        let last = pts[pts.len() - 1];
        if last.0 < 1.0 {
            pts.push((1.0, last.1));
        }
        let mean = pts
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0)
            .sum();
        Ok(Dist::from(Kind::Empirical(pts), mean))
    }

    /// Draws one sample, in nanoseconds.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let x = match &self.kind {
            Kind::Constant(v) => return *v,
            Kind::Uniform { lo, hi } => lo + (hi - lo) * unit(rng),
            Kind::Exponential(d) => d.sample(rng),
            Kind::Normal(d) => loop {
                // Rejection keeps the exact truncated shape; validation
                // requires mean > 0 so at least half the draws are accepted.
                let x = d.sample(rng);
                if x >= 0.0 {
                    break x;
                }
            },
            Kind::LogNormal(d) => d.sample(rng),
            Kind::Gamma(d) => d.sample(rng),
            Kind::Weibull(d) => d.sample(rng),
            Kind::Pareto(d) => d.sample(rng),
            Kind::Empirical(pts) => interpolate(pts, unit(rng)),
        };
        to_ns(x)
    }

    /// The exact mean in nanoseconds (used by the capacity table).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// True when every sample is exactly zero, so the engine can skip the
    /// event entirely (e.g. a network with no latency).
    pub fn is_zero(&self) -> bool {
        matches!(self.kind, Kind::Constant(0))
    }

    /// A distribution that always yields `ns`.
    pub fn constant(ns: u64) -> Self {
        Dist::from(Kind::Constant(ns), ns as f64)
    }

    fn from(kind: Kind, mean: f64) -> Self {
        Dist { kind, mean }
    }
}

/// A uniform draw in `[0, 1)` with 53 random bits.
#[inline]
fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Rounds a sampled `f64` nanosecond value to an integer, mapping NaN and
/// negatives to 0 and saturating absurdly large draws (heavy tails) at
/// about 292 years, so that adding it to a time can never overflow.
#[inline]
fn to_ns(x: f64) -> u64 {
    const CAP: f64 = (u64::MAX / 2) as f64;
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= CAP {
        u64::MAX / 2
    } else {
        x.round() as u64
    }
}

fn interpolate(pts: &[(f64, f64)], u: f64) -> f64 {
    // Few points (a handful of percentiles): a linear scan beats a search.
    for w in pts.windows(2) {
        let (q0, v0) = w[0];
        let (q1, v1) = w[1];
        if u <= q1 {
            if q1 <= q0 {
                return v1;
            }
            return v0 + (v1 - v0) * (u - q0) / (q1 - q0);
        }
    }
    pts[pts.len() - 1].1
}

/// Mean of a normal(mu, sigma) truncated below at zero.
fn truncated_normal_mean(mu: f64, sigma: f64) -> f64 {
    if sigma == 0.0 {
        return mu.max(0.0);
    }
    let a = -mu / sigma;
    let pdf = (-a * a / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let tail = 0.5 * erfc(a / std::f64::consts::SQRT_2);
    mu + sigma * pdf / tail
}

/// Complementary error function (Numerical Recipes' Chebyshev fit,
/// relative error below 1.2e-7: ample for a capacity estimate).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The gamma function (Lanczos approximation, g = 7), for the Weibull mean.
fn gamma_fn(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma_fn(1.0 - x))
    } else {
        let x = x - 1.0;
        let mut a = G[0];
        let t = x + 7.5;
        for (i, g) in G.iter().enumerate().skip(1) {
            a += g / (x + i as f64);
        }
        (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Sample mean and its standard error over `n` draws.
    fn sample_mean(d: &Dist, n: usize) -> (f64, f64) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng) as f64).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, (var / n as f64).sqrt())
    }

    #[test]
    fn analytic_means_match_samples() {
        let ms = 1_000_000;
        let dists = [
            Dist::constant(5 * ms),
            Dist::uniform(ms, 3 * ms).unwrap(),
            Dist::exponential(3 * ms).unwrap(),
            Dist::normal(2 * ms, 2 * ms).unwrap(),
            Dist::lognormal_median_p99(15 * ms, 120 * ms).unwrap(),
            Dist::lognormal_mean_cv(10 * ms, 0.5).unwrap(),
            Dist::gamma(4 * ms, 0.5).unwrap(),
            Dist::weibull(10 * ms, 1.5).unwrap(),
            Dist::pareto(ms, 3.0).unwrap(),
            Dist::empirical(vec![(0.5, 10 * ms), (0.99, 50 * ms), (1.0, 100 * ms)]).unwrap(),
        ];
        for d in &dists {
            let (m, se) = sample_mean(d, 400_000);
            // Five standard errors of the sample mean (a false alarm
            // rate below 1e-6), plus half a nanosecond of rounding per draw.
            let tol = 5.0 * se + 0.5;
            assert!(
                (m - d.mean()).abs() < tol,
                "{d:?}: sample mean {m} vs analytic {} (tolerance {tol})",
                d.mean()
            );
        }
    }

    #[test]
    fn lognormal_fit_hits_median_and_p99() {
        let ms = 1e6;
        let (median, p99): (f64, f64) = (15.0, 120.0);
        let d = Dist::lognormal_median_p99((median * ms) as u64, (p99 * ms) as u64).unwrap();
        let n = 200_000usize;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let mut xs: Vec<u64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        xs.sort_unstable();
        // Standard error of the sample q-quantile: sqrt(q(1-q)/n) / f(x_q),
        // with the lognormal density f(x) = phi(z) / (x sigma).
        let sigma = (p99 / median).ln() / Z99;
        let se = |q: f64, x: f64, z: f64| {
            let phi = (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
            (q * (1.0 - q) / n as f64).sqrt() / (phi / (x * sigma))
        };
        for (q, x, z) in [(0.5, median, 0.0), (0.99, p99, Z99)] {
            let got = xs[(q * n as f64) as usize] as f64 / ms;
            let tol = 5.0 * se(q, x, z);
            assert!(
                (got - x).abs() < tol,
                "q{q}: {got} vs {x} (tolerance {tol})"
            );
        }
    }

    #[test]
    fn invalid_parameters_are_refused() {
        assert!(Dist::lognormal_median_p99(10, 5).is_err());
        assert!(Dist::gamma(0, 1.0).is_err());
        assert!(Dist::gamma(10, -1.0).is_err());
        assert!(Dist::pareto(10, 1.0).is_err());
        assert!(Dist::uniform(10, 5).is_err());
        assert!(Dist::empirical(vec![(0.5, 10), (0.9, 5)]).is_err());
        assert!(Dist::empirical(vec![]).is_err());
    }

    #[test]
    fn special_functions() {
        assert!((gamma_fn(5.0) - 24.0).abs() < 1e-9);
        assert!((gamma_fn(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-9);
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-6);
    }
}
