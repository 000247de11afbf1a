//! The trade-off between runtimes: start-up time against compute slowdown,
//! memory as the marker's size, and the runtimes that no other beats on
//! every axis at once (the Pareto set) ringed and named in bold.

use std::fmt::Write;

use super::{Axis, banner_height, esc, figure, open};
use crate::snapshot::style;

#[derive(Debug, Clone)]
pub struct Point {
    /// `runtime/variant`.
    pub label: String,
    pub startup_ms: f64,
    /// Compute time ÷ the baseline's (geometric mean over workloads).
    pub slowdown: f64,
    pub memory_mib: f64,
}

pub struct TradeOff {
    pub title: String,
    /// The baseline (native code): best on every axis as a rule, it is
    /// left out when ringing what nothing else beats.
    pub baseline: Option<String>,
    pub x_axis: String,
    pub y_axis: String,
    pub points: Vec<Point>,
    pub emulated: Option<String>,
}

/// Whether `a` is at least as good as `b` on every axis and better on one.
fn dominates(a: &Point, b: &Point) -> bool {
    let le = a.startup_ms <= b.startup_ms && a.slowdown <= b.slowdown && a.memory_mib <= b.memory_mib;
    let lt = a.startup_ms < b.startup_ms || a.slowdown < b.slowdown || a.memory_mib < b.memory_mib;
    le && lt
}

/// The labels of the points no other point dominates, in the points' order.
pub fn pareto(points: &[Point]) -> Vec<String> {
    points.iter().filter(|p| !points.iter().any(|q| dominates(q, p))).map(|p| p.label.clone()).collect()
}

const WIDTH: f64 = 760.0;
const PLOT_HEIGHT: f64 = 380.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;

/// Where values land: the two axes and the plot's edges.
struct Frame {
    x_axis: Axis,
    y_axis: Axis,
    top: f64,
    bottom: f64,
    right: f64,
}

impl Frame {
    fn x(&self, v: f64) -> f64 {
        LEFT + (self.right - LEFT) * self.x_axis.t(v)
    }

    fn y(&self, v: f64) -> f64 {
        self.bottom - PLOT_HEIGHT * self.y_axis.t(v)
    }
}

impl TradeOff {
    pub fn to_svg(&self) -> String {
        let emulated = self.emulated.as_deref();
        let height = 34.0 + banner_height(emulated) + 16.0 + PLOT_HEIGHT + 80.0;
        let mut svg = String::new();
        let top = open(&mut svg, WIDTH, height, &self.title, emulated) + 16.0;
        let xs: Vec<f64> = self.points.iter().map(|p| p.startup_ms).collect();
        let ys: Vec<f64> = self.points.iter().map(|p| p.slowdown).collect();
        let frame = Frame {
            x_axis: Axis::log_with_margin(&xs, 1.6),
            y_axis: Axis::log_with_margin(&ys, 1.25),
            top,
            bottom: top + PLOT_HEIGHT,
            right: WIDTH - RIGHT,
        };
        self.axes(&mut svg, &frame);
        self.points(&mut svg, &frame);
        let _ = writeln!(
            svg,
            r#"<text x="{LEFT}" y="{:.1}">Lower left is better; marker area: peak memory at start-up.</text>"#,
            frame.bottom + 50.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{LEFT}" y="{:.1}">Ringed and bold: no other runtime{} is at least as good on all three and better on one.</text>"#,
            frame.bottom + 64.0,
            self.baseline.as_ref().map(|b| format!(" ({} aside)", esc(b))).unwrap_or_default()
        );
        svg.push_str("</svg>\n");
        svg
    }

    /// Grid lines, ticks and the axes' names.
    fn axes(&self, svg: &mut String, f: &Frame) {
        let (top, bottom, right) = (f.top, f.bottom, f.right);
        for tick in f.x_axis.ticks() {
            let tx = f.x(tick);
            let _ =
                writeln!(svg, r##"<line x1="{tx:.1}" y1="{top:.1}" x2="{tx:.1}" y2="{bottom:.1}" stroke="#e4e4e4"/>"##);
            let _ = writeln!(
                svg,
                r#"<text x="{tx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                bottom + 14.0,
                figure(tick)
            );
        }
        for tick in f.y_axis.ticks() {
            let ty = f.y(tick);
            let _ =
                writeln!(svg, r##"<line x1="{LEFT}" y1="{ty:.1}" x2="{right:.1}" y2="{ty:.1}" stroke="#e4e4e4"/>"##);
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">×{}</text>"#,
                LEFT - 6.0,
                ty + 4.0,
                figure(tick)
            );
        }
        let _ = writeln!(svg, r#"<path d="M{LEFT},{top:.1} V{bottom:.1} H{right:.1}" stroke="black" fill="none"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            (LEFT + right) / 2.0,
            bottom + 32.0,
            esc(&f.x_axis.label(&self.x_axis))
        );
        let _ = writeln!(
            svg,
            r#"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            (top + bottom) / 2.0,
            esc(&f.y_axis.label(&self.y_axis))
        );
    }

    /// Each runtime's marker (sized by memory), the ring of those nothing
    /// else beats, and the labels, placed clear of the markers.
    fn points(&self, svg: &mut String, f: &Frame) {
        let others: Vec<Point> =
            self.points.iter().filter(|p| Some(&p.label) != self.baseline.as_ref()).cloned().collect();
        let best = pareto(&others);
        let most_memory = self.points.iter().map(|p| p.memory_mib).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
        let radius = |p: &Point| 4.0 + 12.0 * (p.memory_mib / most_memory).sqrt();
        // Every marker's box first, so that no label covers a marker.
        let mut boxes: Vec<[f64; 4]> = self
            .points
            .iter()
            .map(|p| {
                let (px, py, r) = (f.x(p.startup_ms), f.y(p.slowdown), radius(p));
                [px - r, py - r, px + r, py + r]
            })
            .collect();
        // Larger markers first, so that small ones stay visible on top.
        let mut order: Vec<&Point> = self.points.iter().collect();
        order.sort_by(|a, b| b.memory_mib.total_cmp(&a.memory_mib).then_with(|| a.label.cmp(&b.label)));
        for p in order {
            let (px, py, r) = (f.x(p.startup_ms), f.y(p.slowdown), radius(p));
            let is_best = best.contains(&p.label);
            let tooltip = format!(
                "<title>{}: start-up {} ms, compute ×{}, memory {} MiB</title>",
                esc(&p.label),
                figure(p.startup_ms),
                figure(p.slowdown),
                figure(p.memory_mib)
            );
            let marker =
                style::of(&p.label).marker_svg(px, py, r, r#"fill-opacity="0.75" stroke="black" stroke-width="0.8""#);
            let _ = writeln!(svg, "<g>{tooltip}{marker}</g>");
            if is_best {
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{px:.1}" cy="{py:.1}" r="{:.1}" fill="none" stroke="black" stroke-width="1.6" stroke-dasharray="3 2"/>"#,
                    r + 4.0
                );
            }
            let (lx, ly) = place_label(&mut boxes, px, py, r, super::text_width(&p.label));
            let weight = if is_best { r#" font-weight="bold""# } else { "" };
            let _ = writeln!(svg, r#"<text x="{lx:.1}" y="{ly:.1}"{weight}>{}</text>"#, esc(&p.label));
        }
    }
}

/// Where a label of `width` goes beside its marker at (`px`, `py`) of
/// radius `r`: right, left, above or below it, the first place that covers
/// no marker and no other label, else the one that covers least. Its box is
/// added to `boxes`; returns the text's baseline start.
fn place_label(boxes: &mut Vec<[f64; 4]>, px: f64, py: f64, r: f64, width: f64) -> (f64, f64) {
    let height = 11.0;
    let candidates = [
        (px + r + 4.0, py + 4.0),
        (px - r - 4.0 - width, py + 4.0),
        (px - width / 2.0, py - r - 4.0),
        (px - width / 2.0, py + r + height + 2.0),
        (px + r + 4.0, py - r - 2.0),
        (px + r + 4.0, py + r + height),
        (px - r - 4.0 - width, py - r - 2.0),
        (px - r - 4.0 - width, py + r + height),
    ];
    // The marker's own box does not count against its label.
    let own = boxes.iter().position(|b| *b == [px - r, py - r, px + r, py + r]).map(|i| boxes.remove(i));
    let others: &[[f64; 4]] = boxes;
    let overlap = |(lx, ly): (f64, f64)| -> f64 {
        let b = [lx, ly - height + 2.0, lx + width, ly + 2.0];
        let off_canvas = if b[0] < LEFT + 2.0 || b[2] > WIDTH - 2.0 { 1e6 } else { 0.0 };
        off_canvas
            + others
                .iter()
                .map(|o| {
                    let w = (b[2].min(o[2]) - b[0].max(o[0])).max(0.0);
                    let h = (b[3].min(o[3]) - b[1].max(o[1])).max(0.0);
                    w * h
                })
                .sum::<f64>()
    };
    let best = candidates.iter().copied().min_by(|a, b| overlap(*a).total_cmp(&overlap(*b))).unwrap_or(candidates[0]);
    if let Some(own) = own {
        boxes.push(own);
    }
    boxes.push([best.0, best.1 - height + 2.0, best.0 + width, best.1 + 2.0]);
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(label: &str, startup_ms: f64, slowdown: f64, memory_mib: f64) -> Point {
        Point { label: label.into(), startup_ms, slowdown, memory_mib }
    }

    #[test]
    fn the_pareto_set_is_what_nothing_beats_on_every_axis() {
        let points = [
            point("native/default", 0.3, 1.0, 0.8),
            point("wasmtime/aot", 4.0, 1.3, 6.8),
            point("wasmtime/jit", 11.5, 1.3, 13.3),
            point("wasm3/eager", 2.0, 9.0, 3.0),
            point("docker/debian", 210.0, 1.0, 4.0),
        ];
        // Native is best on all three: it dominates every other point.
        assert_eq!(pareto(&points), ["native/default"]);
        let without_native = &points[1..];
        assert_eq!(pareto(without_native), ["wasmtime/aot", "wasm3/eager", "docker/debian"]);
        let chart = TradeOff {
            title: "Trade-offs".into(),
            baseline: None,
            x_axis: "start-up (ms)".into(),
            y_axis: "compute ÷ native".into(),
            points: without_native.to_vec(),
            emulated: None,
        };
        let svg = chart.to_svg();
        assert_eq!(svg.matches("stroke-dasharray=\"3 2\"").count(), 3, "three ringed");
        assert!(svg.contains(r#"font-weight="bold">wasm3/eager<"#));
        assert!(svg.contains(">wasmtime/jit<") && !svg.contains(r#"font-weight="bold">wasmtime/jit<"#));
    }
}
