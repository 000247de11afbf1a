//! Sessions as the unit of replication (Kalibera and Jones, *Rigorous
//! Benchmarking in Reasonable Time*, 2013): a claim about two runtimes
//! holds if it holds across independent sessions — separate bench
//! invocations, apart in time (on an emulated machine, separate boots) —
//! not only across the rounds of one. Between two sessions of one plan the
//! machine differs in ways no round of either sees (another tenant, a
//! frequency, where memory landed), so an interval from one session's
//! rounds is too narrow for such a claim.
//!
//! The estimate is the geometric mean over sessions of each session's
//! ratio of medians. Its interval is a two-level bootstrap: sessions drawn
//! with replacement, then, within each drawn session, its rounds (paired)
//! or each side's runs drawn with replacement, as one session's interval
//! is. The share of the variance that lies between sessions is said beside
//! it: method of moments on the sessions' log ratios, the within-session
//! part estimated by each session's own bootstrap.

use serde::{Deserialize, Serialize};

use crate::resample::{self, Bootstrap, LEVEL, Rng};

/// One session's measured runs of the two cells of a ratio.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub num: Vec<f64>,
    pub den: Vec<f64>,
    /// Whether `num[i]` and `den[i]` ran in the same round (both in round
    /// order, one run each per round).
    pub paired: bool,
}

/// A ratio of medians replicated over sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRatio {
    /// exp(mean over sessions of ln(session's ratio of medians)).
    pub value: f64,
    pub sessions: usize,
    /// Two-level percentile bootstrap (sessions, then rounds or runs); with
    /// one session, that session's own interval. `None` when a session has
    /// fewer than two runs on a side.
    pub ci95: Option<(f64, f64)>,
    /// Of the variance of the sessions' log ratios, the share between
    /// sessions (0 to 1); `None` with fewer than two sessions.
    pub between_share: Option<f64>,
}

/// The ratio `num ÷ den` over `sessions`; `None` when there is none, or
/// when a session's ratio is not a positive, finite number. The stream
/// `name` of `bootstrap` draws the resamples.
pub fn session_ratio(sessions: &[Session], bootstrap: &Bootstrap, name: &str) -> Option<SessionRatio> {
    let logs: Vec<f64> = sessions.iter().map(log_ratio).collect::<Option<_>>()?;
    if logs.is_empty() {
        return None;
    }
    let value = mean(&logs).exp();
    let mut rng = bootstrap.stream(name);
    let replicates = two_level_replicates(sessions, &mut rng, bootstrap.resamples);
    let ci95 = replicates.and_then(|r| resample::percentile_interval(r, LEVEL));
    let between_share = between_share(sessions, &logs, &mut rng, bootstrap.resamples);
    Some(SessionRatio { value, sessions: sessions.len(), ci95, between_share })
}

/// ln(median(num) ÷ median(den)) of one session.
fn log_ratio(session: &Session) -> Option<f64> {
    if session.num.is_empty() || session.den.is_empty() {
        return None;
    }
    let ratio = resample::median(&session.num) / resample::median(&session.den);
    (ratio.is_finite() && ratio > 0.0).then(|| ratio.ln())
}

/// The estimate over `resamples` two-level resamples: each draws as many
/// sessions as there are, with replacement, and within each drawn session
/// its rounds (or each side's runs).
fn two_level_replicates(sessions: &[Session], rng: &mut Rng, resamples: usize) -> Option<Vec<f64>> {
    if sessions.iter().any(|s| s.num.len() < 2 || s.den.len() < 2) {
        return None;
    }
    let mut out = Vec::with_capacity(resamples);
    let mut logs = Vec::with_capacity(sessions.len());
    for _ in 0..resamples {
        logs.clear();
        for _ in 0..sessions.len() {
            let session = &sessions[rng.below(sessions.len())];
            let ratio = one_resample(session, rng);
            if !(ratio.is_finite() && ratio > 0.0) {
                return None;
            }
            logs.push(ratio.ln());
        }
        out.push(mean(&logs).exp());
    }
    Some(out)
}

/// One bootstrap resample of a session's ratio of medians.
fn one_resample(session: &Session, rng: &mut Rng) -> f64 {
    let paired = session.paired && session.num.len() == session.den.len();
    let (mut a, mut b) = (Vec::with_capacity(session.num.len()), Vec::with_capacity(session.den.len()));
    if paired {
        for _ in 0..session.num.len() {
            let i = rng.below(session.num.len());
            a.push(session.num[i]);
            b.push(session.den[i]);
        }
    } else {
        a.extend((0..session.num.len()).map(|_| session.num[rng.below(session.num.len())]));
        b.extend((0..session.den.len()).map(|_| session.den[rng.below(session.den.len())]));
    }
    resample::median_in_place(&mut a) / resample::median_in_place(&mut b)
}

/// Var(between) ÷ Var(sessions' log ratios), where Var(between) is that
/// variance less the mean within-session variance of a log ratio (each
/// session's bootstrap), at least 0.
fn between_share(sessions: &[Session], logs: &[f64], rng: &mut Rng, resamples: usize) -> Option<f64> {
    if sessions.len() < 2 {
        return None;
    }
    let observed = variance(logs);
    if observed == 0.0 {
        return Some(0.0);
    }
    let mut within = Vec::with_capacity(sessions.len());
    for session in sessions {
        let replicates: Vec<f64> = (0..resamples).map(|_| one_resample(session, rng).ln()).collect();
        if replicates.iter().any(|r| !r.is_finite()) {
            return None;
        }
        within.push(variance(&replicates));
    }
    let between = (observed - mean(&within)).max(0.0);
    Some((between / observed).clamp(0.0, 1.0))
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sample variance (n − 1); 0 for fewer than two values.
fn variance(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratio::ratio_of_medians;
    use crate::resample::DEFAULT_SEED;

    /// A session of `rounds` paired rounds: the numerator `factor` times the
    /// denominator, both with a small deterministic jitter per round.
    fn session(factor: f64, rounds: usize, jitter_seed: u64) -> Session {
        let mut rng = Rng::new(jitter_seed);
        let mut noise = || 1.0 + (rng.below(1000) as f64 - 500.0) / 25_000.0; // ±2 %
        let den: Vec<f64> = (0..rounds).map(|_| 10.0 * noise()).collect();
        let num: Vec<f64> = den.iter().map(|d| d * factor * noise()).collect();
        Session { num, den, paired: true }
    }

    #[test]
    fn one_session_gives_its_own_ratio_and_an_interval_like_its_rounds() {
        let s = session(2.0, 20, 7);
        let bootstrap = Bootstrap::new(DEFAULT_SEED);
        let over_sessions = session_ratio(std::slice::from_ref(&s), &bootstrap, "x").unwrap();
        let one = ratio_of_medians(&s.num, &s.den, true, &bootstrap, "x").unwrap().ratio;
        assert!((over_sessions.value - one.value).abs() < 1e-12);
        let ((a, b), (c, d)) = (over_sessions.ci95.unwrap(), one.ci95.unwrap());
        // The same resampling scheme, another order of draws: close, not equal.
        assert!((a - c).abs() < 0.02 && (b - d).abs() < 0.02, "{a}–{b} against {c}–{d}");
        assert_eq!(over_sessions.between_share, None);
    }

    #[test]
    fn sessions_that_disagree_widen_the_interval_and_show_between_session_variance() {
        let bootstrap = Bootstrap::new(DEFAULT_SEED);
        // Five sessions whose machine ran the numerator 8 % slower or faster.
        let factors = [1.84, 2.0, 2.16, 1.92, 2.08];
        let sessions: Vec<Session> = factors.iter().enumerate().map(|(i, f)| session(*f, 20, i as u64)).collect();
        let over = session_ratio(&sessions, &bootstrap, "x").unwrap();
        let (lo, hi) = over.ci95.unwrap();
        assert!(lo < 2.0 && 2.0 < hi, "{lo}–{hi} holds the factor the sessions scatter around");
        for s in &sessions {
            let (a, b) = ratio_of_medians(&s.num, &s.den, true, &bootstrap, "x").unwrap().ratio.ci95.unwrap();
            assert!(hi - lo > b - a, "the sessions' interval {lo}–{hi} is wider than one session's {a}–{b}");
        }
        assert!(over.between_share.unwrap() > 0.8, "{:?}", over.between_share);

        // The same session five times: nothing lies between sessions.
        let same = vec![session(2.0, 20, 1); 5];
        let over = session_ratio(&same, &bootstrap, "x").unwrap();
        assert_eq!(over.between_share, Some(0.0));
        let (lo, hi) = over.ci95.unwrap();
        assert!(hi - lo < 0.1, "{lo}–{hi}");
    }

    #[test]
    fn the_interval_repeats_with_its_seed_and_needs_two_runs_a_side() {
        let sessions = vec![session(1.5, 10, 3), session(1.6, 10, 4)];
        let a = session_ratio(&sessions, &Bootstrap::new(1), "x").unwrap();
        assert_eq!(a, session_ratio(&sessions, &Bootstrap::new(1), "x").unwrap());
        assert_ne!(a.ci95, session_ratio(&sessions, &Bootstrap::new(2), "x").unwrap().ci95);
        let short = vec![Session { num: vec![1.0], den: vec![1.0], paired: true }];
        assert_eq!(session_ratio(&short, &Bootstrap::new(1), "x").unwrap().ci95, None);
        assert!(session_ratio(&[], &Bootstrap::new(1), "x").is_none());
    }
}
