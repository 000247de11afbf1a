//! A matrix of workloads × runtimes, each cell the ratio to the baseline on
//! a diverging logarithmic colour scale (blue faster, red slower, white
//! level) with its value written in it; workloads grouped by category, each
//! group headed by its geometric mean. Thirty kernels by fifteen variants
//! stay readable, where side-by-side bars did not.

use std::fmt::Write;

use super::{banner_height, esc, figure, open, text_width};

/// A ratio and its 95 % interval.
#[derive(Debug, Clone, Copy)]
pub struct Value {
    pub ratio: f64,
    pub interval: Option<(f64, f64)>,
}

pub enum Row {
    /// A category's heading, with the geometric mean of its rows per column.
    Group {
        name: String,
        geomeans: Vec<Option<f64>>,
    },
    Workload {
        name: String,
        values: Vec<Option<Value>>,
    },
}

pub struct Heatmap {
    pub title: String,
    /// What the colour is: "kernel time ÷ native/default", say.
    pub scale: String,
    /// What below and above 1 mean: ("faster", "slower"), ("less", "more").
    pub words: (&'static str, &'static str),
    /// `runtime/variant` per column.
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    pub emulated: Option<String>,
}

const COLUMN: f64 = 58.0;
const ROW: f64 = 19.0;
const HEADER: f64 = 120.0;
/// Faster, level and slower.
const BLUE: (f64, f64, f64) = (33.0, 102.0, 172.0);
const WHITE: (f64, f64, f64) = (247.0, 247.0, 247.0);
const RED: (f64, f64, f64) = (178.0, 24.0, 43.0);

impl Heatmap {
    /// The colour scale's reach, in doublings: every value's, rounded up,
    /// at least 1 (2×) and at most 6 (64×; beyond, the colour is the
    /// scale's end and the written value tells).
    fn reach(&self) -> f64 {
        let widest = self
            .rows
            .iter()
            .flat_map(|r| match r {
                Row::Workload { values, .. } => values.iter().flatten().map(|v| v.ratio).collect::<Vec<_>>(),
                Row::Group { geomeans, .. } => geomeans.iter().flatten().copied().collect(),
            })
            .filter(|r| *r > 0.0 && r.is_finite())
            .map(|r| r.log2().abs())
            .fold(0.0, f64::max);
        widest.ceil().clamp(1.0, 6.0)
    }

    pub fn to_svg(&self) -> String {
        let reach = self.reach();
        let names = self.rows.iter().map(|r| match r {
            Row::Group { name, .. } => text_width(&group_label(name)) * 1.1,
            Row::Workload { name, .. } => text_width(name),
        });
        let left = 20.0 + names.fold(80.0, f64::max);
        let emulated = self.emulated.as_deref();
        let width = (left + COLUMN * self.columns.len() as f64 + 20.0).max(560.0);
        let height = 34.0 + banner_height(emulated) + HEADER + ROW * self.rows.len() as f64 + 70.0;
        let mut svg = String::new();
        let top = open(&mut svg, width, height, &self.title, emulated) + HEADER;

        for (c, column) in self.columns.iter().enumerate() {
            let cx = left + COLUMN * (c as f64 + 0.5);
            let _ = writeln!(
                svg,
                r#"<text transform="translate({cx:.1} {:.1}) rotate(-50)">{}</text>"#,
                top - 6.0,
                esc(column)
            );
        }
        for (r, row) in self.rows.iter().enumerate() {
            let y = top + ROW * r as f64;
            match row {
                Row::Group { name, geomeans } => {
                    let _ = writeln!(
                        svg,
                        r##"<rect x="4" y="{y:.1}" width="{:.1}" height="{ROW}" fill="#eeeeee"/>"##,
                        width - 8.0
                    );
                    let _ = writeln!(
                        svg,
                        r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-weight="bold">{}</text>"#,
                        left - 6.0,
                        y + 13.5,
                        esc(&group_label(name))
                    );
                    for (c, g) in geomeans.iter().enumerate() {
                        if let Some(g) = g {
                            let value = Value { ratio: *g, interval: None };
                            self.cell(&mut svg, left, y, c, &value, reach, true, name);
                        }
                    }
                }
                Row::Workload { name, values } => {
                    let _ = writeln!(
                        svg,
                        r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                        left - 6.0,
                        y + 13.5,
                        esc(name)
                    );
                    for (c, v) in values.iter().enumerate() {
                        if let Some(v) = v {
                            self.cell(&mut svg, left, y, c, v, reach, false, name);
                        }
                    }
                }
            }
        }
        self.legend(&mut svg, left, top + ROW * self.rows.len() as f64 + 16.0, reach);
        svg.push_str("</svg>\n");
        svg
    }

    #[allow(clippy::too_many_arguments)]
    fn cell(&self, svg: &mut String, left: f64, y: f64, c: usize, v: &Value, reach: f64, bold: bool, row: &str) {
        let x = left + COLUMN * c as f64;
        let fill = color(v.ratio, reach);
        let ink = if super::super::style::luminance(&fill) > 0.35 { "black" } else { "white" };
        // A ratio whose interval includes 1 is not told apart from the
        // baseline: written in italics.
        let level = v.interval.is_some_and(|(l, h)| l <= 1.0 && h >= 1.0);
        let interval = v.interval.map(|(l, h)| format!(", 95 % CI {}–{}", figure(l), figure(h))).unwrap_or_default();
        let _ = writeln!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>{} on {}: ×{}{interval}</title></rect>"#,
            x + 1.0,
            y + 1.0,
            COLUMN - 2.0,
            ROW - 2.0,
            esc(row),
            esc(&self.columns[c]),
            figure(v.ratio)
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="{ink}"{}{}>{}</text>"#,
            x + COLUMN / 2.0,
            y + 13.5,
            if bold { r#" font-weight="bold""# } else { "" },
            if level { r#" font-style="italic""# } else { "" },
            figure(v.ratio)
        );
    }

    /// The colour scale, with its doublings marked, and how to read it.
    fn legend(&self, svg: &mut String, left: f64, y: f64, reach: f64) {
        let width = 300.0;
        let steps = 60;
        for i in 0..steps {
            let t = i as f64 / (steps - 1) as f64;
            let ratio = 2f64.powf((2.0 * t - 1.0) * reach);
            let _ = writeln!(
                svg,
                r#"<rect x="{:.1}" y="{y:.1}" width="{:.2}" height="10" fill="{}"/>"#,
                left + width * i as f64 / steps as f64,
                width / steps as f64 + 0.3,
                color(ratio, reach)
            );
        }
        let stride = (reach / 3.0).ceil().max(1.0) as i32;
        let reach_i = reach as i32;
        for e in (-reach_i..=reach_i).filter(|e| e % stride == 0) {
            let x = left + width * (e as f64 + reach) / (2.0 * reach);
            let label =
                if e >= 0 { format!("×{}", figure(2f64.powi(e))) } else { format!("÷{}", figure(2f64.powi(-e))) };
            let _ = writeln!(svg, r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#, y + 24.0);
        }
        let _ = writeln!(
            svg,
            r#"<text x="{left:.1}" y="{:.1}">{}: blue {}, red {}; italic where the 95 % interval includes 1</text>"#,
            y + 42.0,
            esc(&self.scale),
            self.words.0,
            self.words.1
        );
    }
}

/// A category's heading: its name and what its cells hold.
fn group_label(category: &str) -> String {
    format!("{category} · geometric mean")
}

/// The colour of `ratio` on a scale reaching `reach` doublings each way.
fn color(ratio: f64, reach: f64) -> String {
    let t = if ratio > 0.0 && ratio.is_finite() { (ratio.log2() / reach).clamp(-1.0, 1.0) } else { 0.0 };
    let (from, to, k) = if t < 0.0 { (WHITE, BLUE, -t) } else { (WHITE, RED, t) };
    let mix = |a: f64, b: f64| (a + (b - a) * k).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_diverge_from_white_at_one() {
        assert_eq!(color(1.0, 3.0), "#f7f7f7");
        assert_eq!(color(8.0, 3.0), "#b2182b");
        assert_eq!(color(1.0 / 8.0, 3.0), "#2166ac");
        assert_eq!(color(100.0, 3.0), "#b2182b", "clamped at the reach");
    }

    #[test]
    fn a_heatmap_writes_every_value_in_its_cell() {
        let map = Heatmap {
            title: "Kernel time".into(),
            scale: "kernel time ÷ native/default".into(),
            words: ("faster", "slower"),
            columns: vec!["wasmtime/aot".into(), "wasm3/eager".into()],
            rows: vec![
                Row::Group { name: "linear-algebra/blas".into(), geomeans: vec![Some(1.2), Some(9.5)] },
                Row::Workload {
                    name: "gemm".into(),
                    values: vec![
                        Some(Value { ratio: 1.2, interval: Some((0.9, 1.3)) }),
                        Some(Value { ratio: 9.5, interval: Some((9.0, 10.0)) }),
                    ],
                },
            ],
            emulated: None,
        };
        assert_eq!(map.reach(), 4.0);
        let svg = map.to_svg();
        assert!(svg.contains(r#"font-style="italic">1.2<"#), "level with the baseline: {svg}");
        assert!(svg.contains(">9.5</text>") && svg.contains("gemm on wasm3/eager: ×9.5, 95 % CI 9–10"));
        assert!(svg.contains("linear-algebra/blas · geometric mean"));
        assert!(svg.contains("×16") && svg.contains("÷16"), "the scale reaches 2⁴ each way");
    }
}
