//! Small, dependency-free SVG charts: grouped bars with error bars, on a
//! linear or logarithmic axis, with labelled axes and units.

use std::fmt::Write;

/// One bar: a value and, where known, an interval drawn as an error bar.
#[derive(Debug, Clone, Copy)]
pub struct Bar {
    pub value: f64,
    pub interval: Option<(f64, f64)>,
}

pub struct Series {
    pub name: String,
    /// One entry per category; `None` draws nothing there.
    pub bars: Vec<Option<Bar>>,
}

pub struct Chart {
    pub title: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    pub log: bool,
}

const PALETTE: &[&str] =
    &["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"];
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 120.0;

/// Width of one bar, including the 1-pixel gap to the next.
const BAR_WIDTH: f64 = 12.0;

/// The geometry of one chart: its size, and where a value lands on its y axis.
struct Frame {
    width: f64,
    /// Width of one category's group of bars.
    group: f64,
    plot_h: f64,
    lo: f64,
    hi: f64,
    log: bool,
}

impl Frame {
    fn y(&self, v: f64) -> f64 {
        let (lo, hi) = (self.lo, self.hi);
        let t =
            if self.log { (v.max(lo).log10() - lo.log10()) / (hi.log10() - lo.log10()) } else { (v - lo) / (hi - lo) };
        TOP + self.plot_h * (1.0 - t.clamp(0.0, 1.0))
    }

    /// Where the plot area ends, and the legend begins.
    fn plot_right(&self) -> f64 {
        self.width - RIGHT
    }

    /// The y of the x axis, where the bars stand.
    fn bottom(&self) -> f64 {
        TOP + self.plot_h
    }

    /// A bar standing on the x axis, its value named in its tooltip.
    fn bar(&self, svg: &mut String, x: f64, bar: &Bar, color: &str, tooltip: &str) {
        let top = self.y(bar.value);
        let _ = writeln!(
            svg,
            r#"<rect x="{x:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{tooltip}</title></rect>"#,
            BAR_WIDTH - 1.0,
            (self.bottom() - top).max(0.0),
        );
    }

    /// A vertical line from `l` to `h` with a short whisker at each end.
    fn error_bar(&self, svg: &mut String, x: f64, (l, h): (f64, f64)) {
        let cx = x + (BAR_WIDTH - 1.0) / 2.0;
        let (yl, yh) = (self.y(l), self.y(h));
        let _ = writeln!(svg, r#"<line x1="{cx:.1}" y1="{yl:.1}" x2="{cx:.1}" y2="{yh:.1}" stroke="black"/>"#);
        for yy in [yl, yh] {
            let _ = writeln!(
                svg,
                r#"<line x1="{:.1}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="black"/>"#,
                cx - 3.0,
                cx + 3.0
            );
        }
    }
}

/// A series' colour, the same for its bars and its legend swatch.
fn color(series: usize) -> &'static str {
    PALETTE[series % PALETTE.len()]
}

impl Chart {
    pub fn to_svg(&self) -> String {
        let frame = self.frame();
        let mut svg = String::new();
        self.canvas_and_title(&mut svg, &frame);
        self.axes(&mut svg, &frame);
        for (c, category) in self.categories.iter().enumerate() {
            self.bar_group(&mut svg, &frame, c, category);
        }
        self.legend(&mut svg, &frame);
        svg.push_str("</svg>\n");
        svg
    }

    /// Wide enough for every category's group of bars, and never narrower
    /// than 520 pixels.
    fn frame(&self) -> Frame {
        let group = BAR_WIDTH * self.series.len().max(1) as f64 + 14.0;
        let width = (LEFT + RIGHT + group * self.categories.len().max(1) as f64).max(520.0);
        let (lo, hi) = self.range();
        Frame { width, group, plot_h: HEIGHT - TOP - BOTTOM, lo, hi, log: self.log }
    }

    fn canvas_and_title(&self, svg: &mut String, frame: &Frame) {
        let width = frame.width;
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{HEIGHT:.0}" viewBox="0 0 {width:.0} {HEIGHT:.0}" font-family="sans-serif" font-size="11">"#
        );
        let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="24" font-size="14" text-anchor="middle">{}</text>"#,
            width / 2.0,
            esc(&self.title)
        );
    }

    /// The y axis with its grid, ticks and label, and the x axis.
    fn axes(&self, svg: &mut String, frame: &Frame) {
        let plot_right = frame.plot_right();
        let bottom = frame.bottom();
        for tick in self.ticks(frame.lo, frame.hi) {
            let ty = frame.y(tick);
            let _ =
                writeln!(svg, r##"<line x1="{LEFT}" y1="{ty:.1}" x2="{plot_right:.1}" y2="{ty:.1}" stroke="#ddd"/>"##);
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                LEFT - 6.0,
                ty + 4.0,
                tick_label(tick)
            );
        }
        let _ = writeln!(svg, r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom:.1}" stroke="black"/>"#);
        let _ = writeln!(
            svg,
            r#"<line x1="{LEFT}" y1="{bottom:.1}" x2="{plot_right:.1}" y2="{bottom:.1}" stroke="black"/>"#
        );
        let _ = writeln!(
            svg,
            r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{}{}</text>"#,
            TOP + frame.plot_h / 2.0,
            esc(&self.y_label),
            if self.log { " (log scale)" } else { "" }
        );
    }

    /// The bars of category `c`, one per series, and the category's label under them.
    fn bar_group(&self, svg: &mut String, frame: &Frame, c: usize, category: &str) {
        let x0 = LEFT + 8.0 + c as f64 * frame.group;
        for (s, series) in self.series.iter().enumerate() {
            let Some(Some(bar)) = series.bars.get(c) else { continue };
            let x = x0 + s as f64 * BAR_WIDTH;
            let tooltip = format!("{}: {} = {}", esc(&series.name), esc(category), tick_label(bar.value));
            frame.bar(svg, x, bar, color(s), &tooltip);
            if let Some(interval) = bar.interval {
                frame.error_bar(svg, x, interval);
            }
        }
        let lx = x0 + frame.group / 2.0 - 7.0;
        let ly = frame.bottom() + 12.0;
        let _ = writeln!(
            svg,
            r#"<text transform="translate({lx:.1} {ly:.1}) rotate(-45)" text-anchor="end">{}</text>"#,
            esc(category)
        );
    }

    /// One swatch and name per series, right of the plot.
    fn legend(&self, svg: &mut String, frame: &Frame) {
        for (s, series) in self.series.iter().enumerate() {
            let ly = TOP + 4.0 + s as f64 * 16.0;
            let lx = frame.plot_right() + 14.0;
            let _ =
                writeln!(svg, r#"<rect x="{lx:.1}" y="{:.1}" width="10" height="10" fill="{}"/>"#, ly - 9.0, color(s));
            let _ = writeln!(svg, r#"<text x="{:.1}" y="{ly:.1}">{}</text>"#, lx + 14.0, esc(&series.name));
        }
    }

    fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.series.iter().flat_map(|s| s.bars.iter().flatten()).flat_map(|b| {
            let (l, h) = b.interval.unwrap_or((b.value, b.value));
            [b.value, l, h]
        })
    }

    /// The axis range: decades for a log axis, zero to a round number else.
    fn range(&self) -> (f64, f64) {
        if self.log {
            let positive: Vec<f64> = self.values().filter(|v| *v > 0.0 && v.is_finite()).collect();
            let min = positive.iter().copied().fold(f64::INFINITY, f64::min);
            let max = positive.iter().copied().fold(0.0, f64::max);
            if positive.is_empty() {
                return (0.1, 1.0);
            }
            let lo = 10f64.powf(min.log10().floor());
            let hi = 10f64.powf(max.log10().ceil()).max(lo * 10.0);
            (lo, hi)
        } else {
            let max = self.values().filter(|v| v.is_finite()).fold(0.0, f64::max);
            (0.0, nice_ceiling(max))
        }
    }

    fn ticks(&self, lo: f64, hi: f64) -> Vec<f64> {
        if self.log {
            let (a, b) = (lo.log10().round() as i32, hi.log10().round() as i32);
            (a..=b).map(|e| 10f64.powi(e)).collect()
        } else {
            (0..=5).map(|i| lo + (hi - lo) * i as f64 / 5.0).collect()
        }
    }
}

fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|c| *c >= v).unwrap_or(10.0 * magnitude)
}

fn tick_label(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1000.0 || v.abs() < 0.01 {
        format!("{v:.0e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_chart_spans_whole_decades_and_escapes_labels() {
        let chart = Chart {
            title: "a < b".into(),
            y_label: "wall time (ms)".into(),
            categories: vec!["gemm".into(), "atax".into()],
            series: vec![Series {
                name: "wasmtime/jit".into(),
                bars: vec![
                    Some(Bar { value: 3.0, interval: Some((2.5, 3.5)) }),
                    Some(Bar { value: 250.0, interval: None }),
                ],
            }],
            log: true,
        };
        assert_eq!(chart.range(), (1.0, 1000.0));
        let svg = chart.to_svg();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("a &lt; b") && svg.contains("wall time (ms) (log scale)"));
        assert_eq!(svg.matches("<rect x=").count(), 2 + 1, "two bars and one legend swatch");
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn linear_axes_end_on_a_round_number() {
        assert_eq!(nice_ceiling(7.3), 10.0);
        assert_eq!(nice_ceiling(0.42), 0.5);
        assert_eq!(nice_ceiling(180.0), 200.0);
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(10000.0), "1e4");
    }
}
