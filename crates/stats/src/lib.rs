//! Statistics of edgebench run records.
//!
//! The host feeds the records a device wrote (one per run) to [`analyse`],
//! which verifies checksums and summarises every metric of every cell
//! ([`Summary`]), then relates each runtime to a baseline with ratios of
//! medians and their geometric means over kernels ([`ratio_of_medians`],
//! [`geometric_mean`]). One estimator runs through all of it: the median,
//! with seeded percentile-bootstrap intervals ([`resample`]), paired by
//! round where the runs came in rounds ([`rounds`]). [`compare`] sets two
//! sides of runs against each other — paired round by round in a
//! same-session A/B bench ([`signrank`]), else two sessions' sets of runs
//! against the spread the sessions themselves add — with the primary tests' false discovery rate controlled
//! ([`multiplicity`]), an interval for equivalence, and the smallest change
//! each cell could have shown ([`power`]).
//!
//! Nothing here panics on data a device can produce: statistics that need
//! more values than there are (the spread or the interval of one value) are
//! `None`, never NaN, so every result survives a JSON round trip; the
//! interval of a constant is that constant.

pub mod analysis;
pub mod compare;
pub mod multiplicity;
pub mod power;
pub mod precision;
pub mod ratio;
pub mod resample;
pub mod rounds;
pub mod sessions;
pub mod signrank;
pub mod summary;
mod tdist;

#[cfg(test)]
mod reference;
#[cfg(test)]
mod simulation;

pub use analysis::{
    Analysis, CellKey, CellSummary, GeoMeanRow, Options, RatioRow, ReferenceSource, Samples, analyse, default_baseline,
    phase_metric, samples,
};
pub use compare::{Change, Criteria, Pairing, Role, Verdict, compare};
pub use ratio::{GeoMean, Ratio, geometric_mean, ratio_of_medians};
pub use resample::Bootstrap;
pub use rounds::RoundShift;
pub use summary::Summary;

#[cfg(test)]
mod tests {
    /// Guards the `float_roundtrip` feature this crate turns on (see
    /// Cargo.toml): these values come back one ulp off without it.
    #[test]
    fn json_floats_round_trip_exactly() {
        for v in [985.6906946328695_f64, 479.60756426982596, 4.897745441634975e-53] {
            let back: f64 = serde_json::from_str(&serde_json::to_string(&v).expect("serialize")).expect("parse");
            assert_eq!(back.to_bits(), v.to_bits(), "{v}");
        }
    }
}
