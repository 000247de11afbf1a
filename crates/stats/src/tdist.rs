//! Student's t: for the one interval that is not a bootstrap one (the
//! spread of a geometric mean across kernels), and for the tests and the
//! power of comparisons.
//!
//! Returns `None` instead of a NaN or an infinity so that no non-finite
//! number reaches a serialized summary (JSON cannot hold them).

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// Degrees of freedom beyond which t is taken as the normal: within 1 %
/// of it there, and statrs' inversion of t slows to minutes as the degrees
/// of freedom grow (days at 1e9).
const MAX_FREEDOM: f64 = 500.0;

/// Student's t with `df` degrees of freedom (at least 1), or the standard
/// normal past [`MAX_FREEDOM`] (or for a NaN).
fn distribution(df: f64) -> Box<dyn ContinuousCDF<f64, f64>> {
    match StudentsT::new(0.0, 1.0, df.max(1.0)) {
        Ok(t) if df <= MAX_FREEDOM => Box::new(t),
        _ => Box::new(Normal::new(0.0, 1.0).expect("the standard normal is valid")),
    }
}

/// The `p` quantile of t with `df` degrees of freedom.
pub(crate) fn quantile(p: f64, df: f64) -> f64 {
    distribution(df).inverse_cdf(p)
}

/// The two-sided p-value of `t` under t with `df` degrees of freedom.
pub(crate) fn two_sided_p(t: f64, df: f64) -> f64 {
    (2.0 * distribution(df).sf(t.abs())).min(1.0)
}

/// The two-sided 95 % critical value, the 0.975 quantile of Student's t with
/// `df` degrees of freedom.
pub(crate) fn t975(df: f64) -> Option<f64> {
    if !(df.is_finite() && df > 0.0) {
        return None;
    }
    let t = StudentsT::new(0.0, 1.0, df).ok()?.inverse_cdf(0.975);
    t.is_finite().then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Quantiles from scipy 1.17.1: `stats.t.ppf(0.975, df)`.
    #[test]
    fn critical_values_match_scipy() {
        let cases = [(1.0, 12.706204736174694), (7.0, 2.364624251592784), (30.0, 2.0422724563012378)];
        for (df, want) in cases {
            let got = t975(df).expect("finite quantile");
            assert!((got - want).abs() < 1e-9, "df {df}: {got} vs {want}");
        }
        let got = t975(5.5).expect("finite quantile");
        assert!((got - 2.501858617589239).abs() < 1e-9, "{got}");
    }

    #[test]
    fn rejects_impossible_freedom() {
        assert_eq!(t975(0.0), None);
        assert_eq!(t975(f64::NAN), None);
        assert_eq!(t975(f64::INFINITY), None);
    }
}
