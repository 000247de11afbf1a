//! Student's t helpers shared by the summaries, ratios and tests.
//!
//! Every function returns `None` instead of a NaN or an infinity so that no
//! non-finite number reaches a serialized summary (JSON cannot hold them).

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The two-sided 95 % critical value, the 0.975 quantile of Student's t with
/// `df` degrees of freedom.
pub(crate) fn t975(df: f64) -> Option<f64> {
    let dist = standard_t(df)?;
    let t = dist.inverse_cdf(0.975);
    t.is_finite().then_some(t)
}

/// Two-sided p-value of a t statistic.
///
/// Uses the survival function rather than `1 − cdf`, which would round tiny
/// p-values to zero.
pub(crate) fn two_sided_p(t: f64, df: f64) -> Option<f64> {
    let dist = standard_t(df)?;
    let p = 2.0 * dist.sf(t.abs());
    p.is_finite().then_some(p.clamp(0.0, 1.0))
}

/// Welch–Satterthwaite degrees of freedom for a sum of two variance terms
/// `va` (from `na` observations) and `vb` (from `nb`).
///
/// Both terms are first divided by their sum: the textbook form squares the
/// variances, which underflows for very small ones. Returns `None` when the
/// sum is zero (there is nothing to estimate) or either `n` is below 2.
pub(crate) fn satterthwaite_df(va: f64, na: usize, vb: f64, nb: usize) -> Option<f64> {
    if na < 2 || nb < 2 {
        return None;
    }
    let total = va + vb;
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    let (fa, fb) = (va / total, vb / total);
    let df = 1.0 / (fa * fa / (na - 1) as f64 + fb * fb / (nb - 1) as f64);
    (df.is_finite() && df > 0.0).then_some(df)
}

fn standard_t(df: f64) -> Option<StudentsT> {
    if !(df.is_finite() && df > 0.0) {
        return None;
    }
    StudentsT::new(0.0, 1.0, df).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Quantiles and p-values from scipy 1.17.1: `stats.t.ppf(0.975, df)` and
    // `2 * stats.t.sf(abs(t), df)`.
    #[test]
    fn critical_values_match_scipy() {
        let cases = [(1.0, 12.706204736174694), (7.0, 2.364624251592784), (30.0, 2.0422724563012378)];
        for (df, want) in cases {
            let got = t975(df).expect("finite quantile");
            assert!((got - want).abs() < 1e-9, "df {df}: {got} vs {want}");
        }
        // Non-integer degrees of freedom, as Welch produces them.
        let got = t975(5.5).expect("finite quantile");
        assert!((got - 2.501858617589239).abs() < 1e-9, "{got}");
    }

    #[test]
    fn p_values_match_scipy() {
        let got = two_sided_p(2.5, 10.0).expect("p");
        assert!((got - 0.03144684423660882).abs() < 1e-12, "{got}");
        let got = two_sided_p(-40.0, 6.0).expect("p");
        assert!((got - 1.6318360930542468e-08).abs() < 1e-15, "{got}");
        assert_eq!(two_sided_p(0.0, 3.0), Some(1.0));
    }

    #[test]
    fn rejects_impossible_freedom() {
        assert_eq!(t975(0.0), None);
        assert_eq!(t975(f64::NAN), None);
        assert_eq!(t975(f64::INFINITY), None);
        assert_eq!(satterthwaite_df(0.0, 5, 0.0, 5), None);
        assert_eq!(satterthwaite_df(1.0, 1, 1.0, 5), None);
    }

    #[test]
    fn satterthwaite_reduces_to_the_one_sided_case() {
        // With one term zero, all freedom comes from the other sample.
        assert_eq!(satterthwaite_df(0.0, 4, 2.5, 9), Some(8.0));
        // Equal terms and sizes: df = 2(n − 1).
        let df = satterthwaite_df(1e-200, 6, 1e-200, 6).expect("df");
        assert!((df - 10.0).abs() < 1e-12, "{df}");
    }
}
