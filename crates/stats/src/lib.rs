//! Statistics of edgebench run records.
//!
//! The host feeds the records a device wrote (one per run) to [`analyse`],
//! which verifies checksums and summarises every metric of every cell
//! ([`Summary`]), then relates each runtime to a baseline with ratios of
//! medians and their geometric means over kernels ([`ratio_of_medians`],
//! [`geometric_mean`]). One estimator runs through all of it: the median,
//! with seeded percentile-bootstrap intervals ([`resample`]), paired by
//! round where the runs came in rounds ([`rounds`]). [`compare`] sets two
//! sets of runs side by side: a rank-sum test ([`ranktest`]) for changes,
//! an interval for equivalence.
//!
//! Nothing here panics on data a device can produce: statistics that need
//! more values than there are (the spread or the interval of one value) are
//! `None`, never NaN, so every result survives a JSON round trip; the
//! interval of a constant is that constant.

pub mod analysis;
pub mod compare;
pub mod ranktest;
pub mod ratio;
pub mod resample;
pub mod rounds;
pub mod summary;
mod tdist;

#[cfg(test)]
mod reference;

pub use analysis::{
    Analysis, CellKey, CellSummary, GeoMeanRow, Options, RatioRow, ReferenceSource, Samples, analyse, default_baseline,
    phase_metric, samples,
};
pub use compare::{Change, Criteria, Verdict, compare};
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
