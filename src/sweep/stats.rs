//! Mean and 95% confidence interval of a metric over a point's
//! replications (Student t, since replications are few).

use statrs::distribution::{ContinuousCDF, StudentsT};

/// A metric over the replications of one point.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Estimate {
    /// Replications that had a value (a p99 needs completed requests).
    pub n: u32,
    /// Their mean; `None` when no replication had a value.
    pub mean: Option<f64>,
    /// Half the width of the 95% confidence interval of the mean; `None`
    /// with fewer than two values.
    pub half_width: Option<f64>,
}

impl Estimate {
    /// The low end of the 95% confidence interval.
    pub fn ci_low(&self) -> Option<f64> {
        Some(self.mean? - self.half_width?)
    }

    /// The high end of the 95% confidence interval.
    pub fn ci_high(&self) -> Option<f64> {
        Some(self.mean? + self.half_width?)
    }
}

/// The two-sided 95% quantile of Student's t with `df` degrees of freedom
/// (12.706 for 1, 1.96 as `df` grows).
pub fn t95(df: u32) -> f64 {
    StudentsT::new(0.0, 1.0, f64::from(df.max(1)))
        .expect("positive degrees of freedom")
        .inverse_cdf(0.975)
}

/// The mean and 95% confidence interval of the values that are present,
/// summed in the order given so the result does not depend on anything
/// but the values.
pub fn estimate(values: impl IntoIterator<Item = Option<f64>>) -> Estimate {
    let xs: Vec<f64> = values.into_iter().flatten().collect();
    let n = xs.len();
    if n == 0 {
        return Estimate {
            n: 0,
            mean: None,
            half_width: None,
        };
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let half_width = (n >= 2).then(|| {
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        t95(n as u32 - 1) * (var / n as f64).sqrt()
    });
    Estimate {
        n: n as u32,
        mean: Some(mean),
        half_width,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // Values from any Student t table.
        for (df, t) in [
            (1, 12.706),
            (2, 4.303),
            (4, 2.776),
            (9, 2.262),
            (29, 2.045),
            (1000, 1.962),
        ] {
            assert!((t95(df) - t).abs() < 1e-3, "df {df}: {}", t95(df));
        }
    }

    #[test]
    fn estimate_of_known_sample() {
        let e = estimate([Some(1.0), Some(2.0), None, Some(3.0)]);
        assert_eq!(e.n, 3);
        assert_eq!(e.mean, Some(2.0));
        // s = 1, se = 1/sqrt(3), t(2) = 4.303.
        let hw = e.half_width.unwrap();
        assert!((hw - 4.302_652_7 / 3f64.sqrt()).abs() < 1e-6, "{hw}");
        assert_eq!(estimate([Some(5.0)]).half_width, None);
        assert_eq!(estimate([None, None]).mean, None);
    }
}
