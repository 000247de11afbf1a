//! Statistics of edgebench run records.
//!
//! The host feeds the records a device wrote (one per run) to [`analyse`],
//! which verifies checksums and summarises every metric of every cell
//! ([`Summary`]), then relates each runtime to a baseline with ratios of means
//! and their geometric means over kernels ([`ratio_of_means`],
//! [`geometric_mean`]). [`compare`] sets two analyses side by side with
//! Welch's t-test ([`welch`]) to flag regressions.
//!
//! Nothing here panics on data a device can produce: statistics that need
//! more values than there are (a spread of one value, an interval of a
//! constant) are `None`, never NaN, so every result survives a JSON round
//! trip.

pub mod analysis;
pub mod compare;
pub mod ratio;
pub mod summary;
mod tdist;
pub mod welch;

pub use analysis::{
    Analysis, CellKey, CellSummary, GeoMeanRow, RatioRow, ReferenceSource, analyse, default_baseline, phase_metric,
};
pub use compare::{Change, Verdict, compare};
pub use ratio::{GeoMean, Ratio, geometric_mean, ratio_of_means};
pub use summary::Summary;
pub use welch::{Welch, welch};

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
