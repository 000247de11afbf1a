//! How a runtime variant looks in every chart of every report: a colour
//! for its runtime (the Okabe–Ito palette, which colour-blind readers can
//! tell apart), and a fill pattern and a marker for its variant, so that
//! series stay distinguishable without colour and beyond any palette's
//! length. The style follows from the label alone — never from a series'
//! position in one chart — so `wasmtime/aot` looks the same everywhere.

use std::fmt::Write;

/// Each runtime's hue, and its variants in a fixed order: a variant's
/// position picks its pattern and marker. Variants not listed (a
/// `command` template's name, say) get one of the positions left, from a
/// hash of their name: never a listed variant's style, but two such names
/// may share one (1 in 23 for `command`), which is why every chart also
/// names its marks in text.
const RUNTIMES: &[(&str, &str, &[&str])] = &[
    ("native", "#333333", &["default"]),
    ("docker", "#0072b2", &["debian", "scratch"]),
    ("wasmtime", "#d55e00", &["jit", "aot", "winch", "pulley", "jit+simd", "aot+simd", "winch+simd", "pulley+simd"]),
    ("wasmer", "#009e73", &["cranelift", "singlepass", "llvm", "cranelift+simd", "singlepass+simd", "llvm+simd"]),
    ("wasm3", "#cc79a7", &["eager", "lazy"]),
    ("wasmi", "#e69f00", &["eager", "lazy", "eager+simd", "lazy+simd"]),
    ("command", "#56b4e9", &["docker-cli"]),
];
/// The hue of a runtime this table does not know.
const OTHER_HUE: &str = "#8c8c00";

/// Fill patterns, drawn over the runtime's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    Solid,
    Diagonal,
    Dots,
    Horizontal,
    Crosshatch,
    BackDiagonal,
    Vertical,
    Grid,
}

const PATTERNS: [Pattern; 8] = [
    Pattern::Solid,
    Pattern::Diagonal,
    Pattern::Dots,
    Pattern::Horizontal,
    Pattern::Crosshatch,
    Pattern::BackDiagonal,
    Pattern::Vertical,
    Pattern::Grid,
];

/// Point markers for scatter charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    TriangleDown,
    Pentagon,
    Hexagon,
    Star,
}

const MARKERS: [Marker; 8] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
    Marker::TriangleDown,
    Marker::Pentagon,
    Marker::Hexagon,
    Marker::Star,
];

#[derive(Debug, Clone, PartialEq)]
pub struct Style {
    /// `#rrggbb`.
    pub color: String,
    pub pattern: Pattern,
    pub marker: Marker,
}

/// The style of `runtime/variant`, with an optional `@side` of a revision
/// A/B: the base side is drawn lighter than the head.
pub fn of(label: &str) -> Style {
    let (label, side) = match label.split_once('@') {
        Some((l, s)) => (l, Some(s)),
        None => (label, None),
    };
    let (runtime, variant) = label.split_once('/').unwrap_or((label, ""));
    let (hue, known) =
        RUNTIMES.iter().find(|(r, _, _)| *r == runtime).map(|(_, h, v)| (*h, *v)).unwrap_or((OTHER_HUE, &[]));
    // Unknown variants take positions after the known ones, by a stable hash.
    let styles = 3 * PATTERNS.len();
    let position = known
        .iter()
        .position(|v| *v == variant)
        .unwrap_or_else(|| known.len() + fnv(variant) % (styles - known.len()).max(1));
    // Beyond the patterns, the same pattern again in a darker, then a
    // lighter shade of the hue.
    let shade = [0.0, -0.35, 0.4][(position / PATTERNS.len()) % 3];
    let shade = if side == Some("base") { shade + 0.5 } else { shade };
    Style {
        color: adjust(hue, shade),
        pattern: PATTERNS[position % PATTERNS.len()],
        marker: MARKERS[position % MARKERS.len()],
    }
}

/// 32-bit FNV-1a: stable across builds and platforms, unlike std's hasher.
fn fnv(text: &str) -> usize {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash as usize
}

/// `hex` mixed towards white (`amount` > 0) or black (< 0).
fn adjust(hex: &str, amount: f64) -> String {
    let channel = |i: usize| u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap_or(0) as f64;
    let mix = |c: f64| {
        let v = if amount >= 0.0 { c + (255.0 - c) * amount.min(1.0) } else { c * (1.0 + amount.max(-1.0)) };
        v.round().clamp(0.0, 255.0) as u8
    };
    format!("#{:02x}{:02x}{:02x}", mix(channel(0)), mix(channel(1)), mix(channel(2)))
}

/// Relative luminance of `#rrggbb`, 0 (black) to 1 (white).
pub fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let c = u8::from_str_radix(hex.get(1 + 2 * i..3 + 2 * i).unwrap_or("00"), 16).unwrap_or(0) as f64 / 255.0;
        if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
}

impl Style {
    /// The `fill` of a bar or swatch: the plain colour, or a pattern that
    /// [`Style::defs`] defined under `id`.
    pub fn fill(&self, id: &str) -> String {
        match self.pattern {
            Pattern::Solid => self.color.clone(),
            _ => format!("url(#{id})"),
        }
    }

    /// The SVG `<pattern>` element of this style, named `id`: the colour
    /// with the pattern's strokes in white (black on a light colour).
    pub fn defs(&self, id: &str) -> String {
        let ink = if luminance(&self.color) > 0.45 { "#000000" } else { "#ffffff" };
        let strokes = match self.pattern {
            Pattern::Solid => return String::new(),
            Pattern::Diagonal => {
                format!(r#"<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" stroke="{ink}" stroke-width="1.6"/>"#)
            }
            Pattern::BackDiagonal => {
                format!(r#"<path d="M-2,6 l4,4 M0,0 l8,8 M6,-2 l4,4" stroke="{ink}" stroke-width="1.6"/>"#)
            }
            Pattern::Horizontal => format!(r#"<path d="M0,2 h8 M0,6 h8" stroke="{ink}" stroke-width="1.4"/>"#),
            Pattern::Vertical => format!(r#"<path d="M2,0 v8 M6,0 v8" stroke="{ink}" stroke-width="1.4"/>"#),
            Pattern::Crosshatch => format!(
                r#"<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4 M-2,6 l4,4 M0,0 l8,8 M6,-2 l4,4" stroke="{ink}" stroke-width="1"/>"#
            ),
            Pattern::Dots => {
                format!(r#"<circle cx="2" cy="2" r="1.4" fill="{ink}"/><circle cx="6" cy="6" r="1.4" fill="{ink}"/>"#)
            }
            Pattern::Grid => format!(r#"<path d="M0,4 h8 M4,0 v8" stroke="{ink}" stroke-width="1"/>"#),
        };
        format!(
            r#"<pattern id="{id}" width="8" height="8" patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="{}"/>{strokes}</pattern>"#,
            self.color
        )
    }

    /// The marker at (`x`, `y`) with radius `r`, filled with the colour.
    pub fn marker_svg(&self, x: f64, y: f64, r: f64, extra: &str) -> String {
        let fill = &self.color;
        let points = |n: usize, start: f64, inner: Option<f64>| {
            let mut out = String::new();
            let steps = if inner.is_some() { 2 * n } else { n };
            for i in 0..steps {
                let radius = match inner {
                    Some(k) if i % 2 == 1 => r * k,
                    _ => r,
                };
                let a = start + i as f64 * std::f64::consts::TAU / steps as f64;
                let _ = write!(out, "{:.1},{:.1} ", x + radius * a.cos(), y + radius * a.sin());
            }
            out.trim_end().to_string()
        };
        let up = -std::f64::consts::FRAC_PI_2;
        let polygon = |pts: String| format!(r#"<polygon points="{pts}" fill="{fill}" {extra}/>"#);
        match self.marker {
            Marker::Circle => format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{fill}" {extra}/>"#),
            Marker::Square => {
                let s = r * 0.9;
                format!(
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}" {extra}/>"#,
                    x - s,
                    y - s,
                    2.0 * s,
                    2.0 * s
                )
            }
            Marker::Triangle => polygon(points(3, up, None)),
            Marker::TriangleDown => polygon(points(3, -up, None)),
            Marker::Diamond => polygon(points(4, up, None)),
            Marker::Pentagon => polygon(points(5, up, None)),
            Marker::Hexagon => polygon(points(6, 0.0, None)),
            Marker::Star => polygon(points(5, up, Some(0.45))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_has_one_style_wherever_it_appears() {
        assert_eq!(of("wasmtime/aot"), of("wasmtime/aot"));
        assert_eq!(of("wasmtime/jit").color, "#d55e00");
        assert_eq!(of("wasmtime/jit").pattern, Pattern::Solid);
        assert_eq!(of("wasmtime/aot").pattern, Pattern::Diagonal);
        assert_eq!(of("native/default").marker, Marker::Circle);
    }

    #[test]
    fn every_variant_a_pipeline_can_hold_looks_different() {
        // Every runtime variant edgebench knows, with and without SIMD and
        // on both sides of a revision A/B, and command templates.
        let mut labels: Vec<String> = Vec::new();
        for (runtime, _, variants) in RUNTIMES {
            for variant in *variants {
                for side in ["", "@base", "@head"] {
                    labels.push(format!("{runtime}/{variant}{side}"));
                }
            }
        }
        // The head side of an A/B is drawn as the variant itself.
        labels.retain(|l| !l.ends_with("@head"));
        let styles: Vec<(String, Pattern)> = labels
            .iter()
            .map(|l| {
                let s = of(l);
                (s.color, s.pattern)
            })
            .collect();
        for (i, a) in styles.iter().enumerate() {
            for (j, b) in styles.iter().enumerate().skip(i + 1) {
                assert_ne!(a, b, "{} and {} look alike", labels[i], labels[j]);
            }
        }
        // A name of the user's own never takes a listed variant's style.
        for name in ["again", "wasmedge", "wamr", "wasmtime-cli", "iwasm-aot", "wazero"] {
            let own = of(&format!("command/{name}"));
            assert_ne!((own.color.as_str(), own.pattern), ("#56b4e9", Pattern::Solid), "{name}");
            let other = of(&format!("wasmtime/{name}"));
            assert!(!styles.contains(&(other.color, other.pattern)), "wasmtime/{name}");
        }
    }

    #[test]
    fn shades_mix_towards_white_or_black() {
        assert_eq!(adjust("#808080", 0.0), "#808080");
        assert_eq!(adjust("#000000", 1.0), "#ffffff");
        assert_eq!(adjust("#ffffff", -1.0), "#000000");
        assert!(luminance("#ffffff") > 0.99 && luminance("#000000") < 0.01);
    }
}
