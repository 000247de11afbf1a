//! Student's t, for the one interval that is not a bootstrap one: the
//! spread of a geometric mean across kernels.
//!
//! Returns `None` instead of a NaN or an infinity so that no non-finite
//! number reaches a serialized summary (JSON cannot hold them).

use statrs::distribution::{ContinuousCDF, StudentsT};

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
