//! Horizontal bars sorted by value, each named and labelled with its figure
//! and interval: which runtime starts fastest, needs least memory, comes
//! nearest native — readable at a glance and at any number of runtimes.

use std::fmt::Write;

use super::{Axis, banner_height, esc, figure, open, text_width, with_interval};
use crate::snapshot::style;

/// One bar.
#[derive(Debug, Clone)]
pub struct Bar {
    /// `runtime/variant`: its name and its style.
    pub label: String,
    pub value: f64,
    pub interval: Option<(f64, f64)>,
    /// Said after the figure: "over 29 of 30 kernels", say.
    pub note: Option<String>,
}

pub struct BarChart {
    /// Prefixes the ids of the chart's patterns (unique within a page).
    pub id: String,
    pub title: String,
    /// The value axis's name, with its unit.
    pub axis: String,
    /// Appended to each bar's figure (`ms`, `MiB`, `×`).
    pub unit: String,
    pub bars: Vec<Bar>,
    /// A reference line (1 for a ratio to a baseline).
    pub reference: Option<f64>,
    /// The emulator of an emulated target.
    pub emulated: Option<String>,
}

const WIDTH: f64 = 760.0;
const ROW: f64 = 22.0;
/// Room right of the plot for the longest figure-and-interval label.
const FIGURES: f64 = 190.0;

impl BarChart {
    pub fn to_svg(&self) -> String {
        let mut bars = self.bars.clone();
        bars.sort_by(|a, b| a.value.total_cmp(&b.value).then_with(|| a.label.cmp(&b.label)));
        let mut values: Vec<f64> = bars.iter().flat_map(|b| [b.value, b.interval.map_or(b.value, |i| i.1)]).collect();
        values.extend(bars.iter().filter_map(|b| b.interval.map(|i| i.0)));
        values.extend(self.reference);
        let axis = Axis::fit(&values, false);

        let left = 16.0 + bars.iter().map(|b| text_width(&b.label)).fold(60.0, f64::max);
        let right = WIDTH - FIGURES;
        let emulated = self.emulated.as_deref();
        let height = 34.0 + banner_height(emulated) + 8.0 + ROW * bars.len() as f64 + 44.0;
        let mut svg = String::new();
        let top = open(&mut svg, WIDTH, height, &self.title, emulated) + 8.0;
        let bottom = top + ROW * bars.len() as f64;
        let x = |v: f64| left + (right - left) * axis.t(v);

        self.defs(&mut svg, &bars);
        for tick in axis.ticks() {
            let tx = x(tick);
            let _ =
                writeln!(svg, r##"<line x1="{tx:.1}" y1="{top:.1}" x2="{tx:.1}" y2="{bottom:.1}" stroke="#e4e4e4"/>"##);
            let _ = writeln!(
                svg,
                r#"<text x="{tx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                bottom + 14.0,
                figure(tick)
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            (left + right) / 2.0,
            bottom + 32.0,
            esc(&axis.label(&self.axis))
        );
        for (i, bar) in bars.iter().enumerate() {
            self.bar(&mut svg, i, bar, top, left, &x);
        }
        if let Some(reference) = self.reference {
            let rx = x(reference);
            let _ = writeln!(
                svg,
                r#"<line x1="{rx:.1}" y1="{:.1}" x2="{rx:.1}" y2="{bottom:.1}" stroke="black" stroke-dasharray="4 3"/>"#,
                top - 4.0
            );
        }
        let _ = writeln!(svg, r#"<line x1="{left:.1}" y1="{top:.1}" x2="{left:.1}" y2="{bottom:.1}" stroke="black"/>"#);
        svg.push_str("</svg>\n");
        svg
    }

    fn pattern_id(&self, i: usize) -> String {
        format!("{}-p{i}", self.id)
    }

    fn defs(&self, svg: &mut String, bars: &[Bar]) {
        let defs: String =
            bars.iter().enumerate().map(|(i, b)| style::of(&b.label).defs(&self.pattern_id(i))).collect();
        if !defs.is_empty() {
            let _ = writeln!(svg, "<defs>{defs}</defs>");
        }
    }

    fn bar(&self, svg: &mut String, i: usize, bar: &Bar, top: f64, left: f64, x: &dyn Fn(f64) -> f64) {
        let y = top + ROW * i as f64;
        let style = style::of(&bar.label);
        let (x0, x1) = (left, x(bar.value).max(left + 1.0));
        let mut figures = match self.unit.as_str() {
            "×" => format!("×{}", with_interval(bar.value, bar.interval)),
            unit => format!("{} {unit}", with_interval(bar.value, bar.interval)),
        };
        if let Some(note) = &bar.note {
            figures.push_str(&format!(" {note}"));
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + ROW / 2.0 + 4.0,
            esc(&bar.label)
        );
        let _ = writeln!(
            svg,
            r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}" stroke="{}" stroke-width="0.6"><title>{}: {}</title></rect>"#,
            y + 3.0,
            x1 - x0,
            ROW - 6.0,
            style.fill(&self.pattern_id(i)),
            style.color,
            esc(&bar.label),
            esc(&figures)
        );
        if let Some((l, h)) = bar.interval {
            let (xl, xh, cy) = (x(l), x(h), y + ROW / 2.0);
            let _ = writeln!(
                svg,
                r#"<path d="M{xl:.1},{:.1} v6 M{xl:.1},{cy:.1} H{xh:.1} M{xh:.1},{:.1} v6" stroke="black" fill="none"/>"#,
                cy - 3.0,
                cy - 3.0
            );
        }
        let label_x = x(bar.interval.map_or(bar.value, |i| i.1).max(bar.value)) + 6.0;
        let _ = writeln!(svg, r#"<text x="{label_x:.1}" y="{:.1}">{}</text>"#, y + ROW / 2.0 + 4.0, esc(&figures));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(values: &[(&str, f64)]) -> BarChart {
        BarChart {
            id: "t".into(),
            title: "Start-up <time>".into(),
            axis: "wall time (ms)".into(),
            unit: "ms".into(),
            bars: values
                .iter()
                .map(|(l, v)| Bar { label: l.to_string(), value: *v, interval: Some((v * 0.9, v * 1.1)), note: None })
                .collect(),
            reference: None,
            emulated: None,
        }
    }

    #[test]
    fn bars_are_sorted_by_value_and_labelled_with_their_figures() {
        let svg = chart(&[("docker/debian", 210.0), ("native/default", 0.28), ("wasmtime/aot", 3.96)]).to_svg();
        let order: Vec<usize> = ["native/default", "wasmtime/aot", "docker/debian"]
            .iter()
            .map(|l| svg.find(&format!(">{l}</text>")).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "sorted by value");
        assert!(svg.contains("3.96 (3.56–4.36) ms"), "{svg}");
        assert!(svg.contains("(log scale)"), "0.28 to 210 ms needs a log axis");
        assert!(svg.contains("Start-up &lt;time&gt;"));
        // aot is drawn with a pattern, defined once in the chart.
        assert!(svg.contains(r#"fill="url(#t-p1)""#) && svg.contains(r#"<pattern id="t-p1""#));
        assert!(!svg.contains("EMULATED"));
    }

    #[test]
    fn an_emulated_chart_says_so() {
        let mut c = chart(&[("native/default", 1.0)]);
        c.emulated = Some("QEMU TCG".into());
        assert!(c.to_svg().contains("EMULATED (QEMU TCG)"));
    }
}
