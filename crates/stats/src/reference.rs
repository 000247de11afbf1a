//! The estimators against SciPy: values computed once by
//! `fixtures/scipy_reference.py` and checked in beside it.

use serde_json::Value;

use crate::compare::{Criteria, compare};
use crate::ranktest::mann_whitney;
use crate::resample::{self, Bootstrap};
use crate::{CellKey, Samples};

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
fn rank_test_matches_scipy() {
    let cases = fixture("mann_whitney");
    assert!(cases.len() >= 10);
    for case in cases {
        let (x, y) = (numbers(&case["x"]), numbers(&case["y"]));
        let got = mann_whitney(&x, &y).expect("testable");
        let how = case["how"].as_str().unwrap_or_default();
        assert_eq!(got.exact, case["exact"].as_bool().expect("a flag"), "{how}: {x:?} {y:?}");
        assert_eq!(got.u, number(&case["u"]), "{how}: {x:?} {y:?}");
        let want = number(&case["p"]);
        assert!((got.p - want).abs() <= 1e-12 + 1e-9 * want, "{how}: p {} vs scipy {want}", got.p);
    }
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
fn detectable_shift_matches_a_search_with_scipy() {
    for case in fixture("detectable") {
        let x = numbers(&case["x"]);
        let bound = number(&case["bound"]);
        // One test at α = bound, a threshold below anything detectable.
        let key = CellKey {
            kernel: "k".into(),
            dataset: edgebench_model::Dataset::Small,
            runtime: "r".into(),
            variant: "v".into(),
        };
        let runs: Vec<(u32, f64)> = x.iter().enumerate().map(|(i, v)| (i as u32, *v)).collect();
        let samples: Samples = [(key, [("wall_ms".to_string(), runs)].into())].into();
        let criteria = Criteria { alpha: bound, threshold: 1e-9 };
        let change = compare(&samples, &samples, &criteria, &Bootstrap::new(1), |_| true).remove(0);
        let got = change.detectable.expect("enough runs");
        let want = number(&case["delta"]);
        assert!((got - want).abs() < 1e-9, "{x:?} at {bound}: {got} vs scipy's {want}");
    }
}
