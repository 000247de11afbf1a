//! The estimators against SciPy: values computed once by
//! `fixtures/scipy_reference.py` and checked in beside it.

use serde_json::Value;

use crate::multiplicity::benjamini_hochberg;
use crate::resample::{self, Bootstrap};
use crate::signrank::signed_rank;

fn fixture(section: &str) -> Vec<Value> {
    let all: Value =
        serde_json::from_str(include_str!("../fixtures/scipy_reference.json")).expect("the fixture parses");
    all[section].as_array().unwrap_or_else(|| panic!("no {section} in the fixture")).clone()
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

fn number(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

#[test]
fn quantiles_match_numpy() {
    for case in fixture("quantile") {
        let sorted = numbers(&case["sorted"]);
        let (p, want) = (number(&case["p"]), number(&case["q"]));
        let got = resample::quantile_sorted(&sorted, p);
        assert!((got - want).abs() < 1e-12, "p {p}: {got} vs {want}");
    }
}

#[test]
fn median_intervals_agree_with_scipys_bootstrap() {
    // Different random numbers, same method: with 200 000 resamples each,
    // an end may land one achievable median (a data value) from scipy's.
    let bootstrap = Bootstrap { resamples: 200_000, ..Bootstrap::new(resample::DEFAULT_SEED) };
    for case in fixture("median_interval") {
        let x = numbers(&case["x"]);
        let (lo, hi) = resample::median_interval(&x, &mut bootstrap.stream("x"), bootstrap.resamples).expect("n ≥ 2");
        for (end, got) in [("low", lo), ("high", hi)] {
            let range = numbers(&case[format!("{end}_range")]);
            assert!(
                range[0] <= got && got <= range[1],
                "{x:?}: {end} {got}, scipy's {} (between {} and {})",
                case[end],
                range[0],
                range[1]
            );
        }
    }
}

#[test]
fn signed_rank_test_matches_scipy() {
    let cases = fixture("signed_rank");
    assert!(cases.len() >= 7);
    for case in cases {
        let d = numbers(&case["d"]);
        let got = signed_rank(&d).expect("finite");
        let how = case["how"].as_str().unwrap_or_default();
        assert_eq!(got.exact, case["exact"].as_bool().expect("a flag"), "{how}: {d:?}");
        let want = number(&case["p"]);
        assert!((got.p - want).abs() <= 1e-12 + 1e-9 * want, "{how}: p {} vs scipy {want}", got.p);
    }
}

#[test]
fn benjamini_hochberg_matches_scipy() {
    for case in fixture("benjamini_hochberg") {
        let p: Vec<Option<f64>> = numbers(&case["p"]).into_iter().map(Some).collect();
        let got = benjamini_hochberg(&p);
        for (g, want) in got.iter().zip(numbers(&case["q"])) {
            let g = g.expect("tested");
            assert!((g - want).abs() <= 1e-12, "q {g} vs scipy {want}");
        }
    }
}
