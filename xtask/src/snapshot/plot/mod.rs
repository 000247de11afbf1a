//! Small, dependency-free, deterministic SVG charts, one kind per file:
//! horizontal bars sorted by value ([`bars`]), a heatmap of workloads ×
//! runtimes ([`heatmap`]) and a trade-off scatter ([`tradeoff`]). Every
//! mark is styled by its runtime variant ([`super::style`]) and named in
//! text; a chart of an emulated target says so under its title.
//!
//! Our own SVG rather than a charting library: a library (plotters, say)
//! would add a font stack and more code than these charts are, and its
//! output would not be byte-for-byte the same wherever a snapshot is
//! derived again.

pub mod bars;
pub mod heatmap;
pub mod tradeoff;

use std::fmt::Write;

/// A value axis: linear from zero, or logarithmic over whole decades.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
}

/// A log axis is used when the values span more than this factor.
const LOG_WHEN_SPAN: f64 = 30.0;

impl Axis {
    /// The axis for `values`: logarithmic when they are all positive and
    /// span more than [`LOG_WHEN_SPAN`] (or when `force_log`).
    pub fn fit(values: &[f64], force_log: bool) -> Axis {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let max = finite.iter().copied().fold(0.0, f64::max);
        if finite.is_empty() {
            return Axis { lo: 0.0, hi: 1.0, log: false };
        }
        if min > 0.0 && (force_log || max / min > LOG_WHEN_SPAN) {
            let lo = 10f64.powf(min.log10().floor());
            let hi = 10f64.powf(max.log10().ceil()).max(lo * 10.0);
            Axis { lo, hi, log: true }
        } else {
            Axis { lo: 0.0, hi: nice_ceiling(max), log: false }
        }
    }

    /// Where `v` lies between the axis's ends, 0 to 1.
    pub fn t(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.max(self.lo).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        t.clamp(0.0, 1.0)
    }

    /// A log axis from `min` ÷ `margin` to `max` × `margin`: markers at the
    /// extremes stay clear of the frame.
    pub fn log_with_margin(values: &[f64], margin: f64) -> Axis {
        let positive: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0 && v.is_finite()).collect();
        if positive.is_empty() {
            return Axis { lo: 0.1, hi: 10.0, log: true };
        }
        let min = positive.iter().copied().fold(f64::INFINITY, f64::min);
        let max = positive.iter().copied().fold(0.0, f64::max);
        Axis { lo: min / margin, hi: (max * margin).max(min * margin * margin), log: true }
    }

    /// Tick values: each decade (with 2 and 5 between when there are few
    /// decades) within a log axis, six even steps on a linear one.
    pub fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (a, b) = (self.lo.log10().floor() as i32, self.hi.log10().ceil() as i32);
            let few = self.hi / self.lo <= 1000.0 * (1.0 + 1e-9);
            let mut out = Vec::new();
            for e in a..=b {
                let decade = 10f64.powi(e);
                out.push(decade);
                if few {
                    out.extend([2.0 * decade, 5.0 * decade]);
                }
            }
            // Within the axis (a little tolerance for rounding).
            out.retain(|t| *t >= self.lo * (1.0 - 1e-9) && *t <= self.hi * (1.0 + 1e-9));
            out
        } else {
            (0..=5).map(|i| self.lo + (self.hi - self.lo) * i as f64 / 5.0).collect()
        }
    }

    /// The axis's name with "(log scale)" where it is one.
    pub fn label(&self, name: &str) -> String {
        if self.log { format!("{name} (log scale)") } else { name.to_string() }
    }
}

/// The start of a chart: the `<svg>` element, a white canvas, the title and,
/// on an emulated target, the warning under it. Returns the y where the
/// chart's own content may begin.
pub fn open(svg: &mut String, width: f64, height: f64, title: &str, emulated: Option<&str>) -> f64 {
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="11" role="img">"#
    );
    let _ = writeln!(svg, "<title>{}</title>", esc(title));
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="12" y="22" font-size="14" font-weight="bold">{}</text>"#, esc(title));
    match emulated {
        Some(emulator) => {
            let _ = writeln!(
                svg,
                r##"<text x="12" y="40" font-size="12" fill="#b2182b" font-weight="bold">EMULATED ({}): timings are not a device's</text>"##,
                esc(emulator)
            );
            52.0
        }
        None => 34.0,
    }
}

/// Extra height a chart needs for the emulated warning.
pub fn banner_height(emulated: Option<&str>) -> f64 {
    if emulated.is_some() { 18.0 } else { 0.0 }
}

/// The smallest of 1, 2, 2.5 and 5 times a power of ten that is ≥ `v`.
pub fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|c| *c >= v).unwrap_or(10.0 * magnitude)
}

/// A figure to three significant digits at most, without trailing zeros.
pub fn figure(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let magnitude = v.abs().log10().floor() as i32;
    if !(-3..6).contains(&magnitude) {
        return format!("{v:.1e}");
    }
    let decimals = (2 - magnitude).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

/// A figure and its interval: `3.96 (3.9–4.02)`.
pub fn with_interval(value: f64, interval: Option<(f64, f64)>) -> String {
    match interval {
        Some((l, h)) => format!("{} ({}–{})", figure(value), figure(l), figure(h)),
        None => figure(value),
    }
}

/// Text escaped for SVG and HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The width a label of `text` takes at 11 px sans-serif, roughly.
pub fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * 6.4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_go_logarithmic_only_where_the_range_needs_it() {
        let linear = Axis::fit(&[3.0, 7.3], false);
        assert_eq!(linear, Axis { lo: 0.0, hi: 10.0, log: false });
        let log = Axis::fit(&[0.3, 250.0], false);
        assert_eq!(log, Axis { lo: 0.1, hi: 1000.0, log: true });
        assert_eq!(log.ticks(), vec![0.1, 1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(Axis::log_with_margin(&[1.0, 100.0], 1.25).ticks(), vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]);
        assert_eq!(Axis::fit(&[2.0, 8.0], true).ticks(), vec![1.0, 2.0, 5.0, 10.0]);
        assert!((log.t(1.0) - 0.25).abs() < 1e-12);
        assert_eq!(Axis::fit(&[], false), Axis { lo: 0.0, hi: 1.0, log: false });
    }

    #[test]
    fn figures_keep_three_significant_digits() {
        assert_eq!(figure(3.9612), "3.96");
        assert_eq!(figure(0.2814), "0.281");
        assert_eq!(figure(210.4), "210");
        assert_eq!(figure(12.0), "12");
        assert_eq!(figure(1234567.0), "1.2e6");
        assert_eq!(with_interval(1.5, Some((1.25, 1.75))), "1.5 (1.25–1.75)");
        assert_eq!(nice_ceiling(0.42), 0.5);
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
