//! The HTML report of a snapshot: one self-contained file (no network, no
//! fonts or scripts from elsewhere; it opens from disk) that answers the
//! question at the top — the decision summary, each answer linked to the
//! cells behind it — then the charts, a sortable table of every cell, the
//! rest of the Markdown report (verification, rounds, environment, method)
//! and the provenance. Derived from the snapshot's files alone, like the
//! Markdown report, and byte for byte the same when derived again.

use std::fmt::Write;

use edgebench_model::record::RunRecord;
use edgebench_stats::analysis::{KERNEL_MS, WALL_MS, WORKLOAD_PEAK_MIB};
use edgebench_stats::{Analysis, CellSummary, Summary};
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

use crate::snapshot::glance::{self, Finding};
pub use crate::snapshot::plot::esc;
use crate::snapshot::plot::{figure, with_interval};
use crate::snapshot::provenance::Provenance;
use crate::snapshot::report;

pub const HTML_FILE: &str = "report.html";

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 72rem;
       padding: 0 1rem 3rem; line-height: 1.45; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.5rem; margin-top: 1.2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
nav { position: sticky; top: 0; background: #fff; padding: .4rem 0; border-bottom: 1px solid #eee; z-index: 1; }
nav a { margin-right: 1rem; }
.emulated { border: 2px solid #b2182b; color: #b2182b; padding: .5rem .8rem; font-weight: bold; }
.summary { list-style: none; padding: 0; }
.summary li { margin: .6rem 0; padding: .6rem .8rem; background: #f4f7fb; border-left: 4px solid #0072b2; }
.summary .q { display: block; font-weight: bold; }
.summary .ev { font-size: .85rem; color: #555; }
figure { margin: 1.5rem 0; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: .85rem; color: #555; }
.wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: .85rem; margin: .8rem 0; }
th, td { border: 1px solid #ddd; padding: .2rem .45rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; cursor: pointer; white-space: nowrap; }
th[aria-sort=ascending]::after { content: " ▲"; } th[aria-sort=descending]::after { content: " ▼"; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:target { background: #fff3b0; }
.bad, .regressed { color: #b2182b; font-weight: bold; }
.improved { color: #1a7f37; font-weight: bold; } .equivalent { color: #0072b2; } .inconclusive { color: #777; }
td.regressed { background: #fbe3e6; } td.improved { background: #e3f4e8; }
pre { overflow-x: auto; background: #f7f7f7; padding: .6rem; font-size: .8rem; }
blockquote { border-left: 4px solid #e69f00; margin: .8rem 0; padding: .2rem .8rem; background: #fffaf0; }
@media (max-width: 40rem) { body { padding: 0 .5rem 2rem; } nav a { display: inline-block; margin: .1rem .6rem .1rem 0; } }
"#;

/// Sorts a table by the column whose heading is clicked (numbers as
/// numbers), and marks the page ready once it ran.
const SCRIPT: &str = r#"
(function () {
  function key(row, col) {
    var cell = row.cells[col];
    if (!cell) return "";
    var v = cell.getAttribute("data-v");
    if (v !== null) return parseFloat(v);
    var text = cell.textContent.trim();
    var n = parseFloat(text.replace(/^[^0-9.+-]+/, ""));
    return isNaN(n) ? text.toLowerCase() : n;
  }
  Array.prototype.forEach.call(document.querySelectorAll("table"), function (table) {
    var head = table.tHead, body = table.tBodies[0];
    if (!head || !body) return;
    Array.prototype.forEach.call(head.rows[0].cells, function (th, col) {
      th.tabIndex = 0;
      th.title = "sort by this column";
      th.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(head.rows[0].cells, function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a, col), y = key(b, col), r;
          if (typeof x === typeof y) { r = x < y ? -1 : (x > y ? 1 : 0); } else { r = typeof x === "number" ? -1 : 1; }
          return ascending ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  document.body.setAttribute("data-ready", "1");
})();
"#;

/// A page of ours: `body` in the shell every edgebench page shares (its
/// style, and the script that sorts tables).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}<script>{SCRIPT}</script>\n</body>\n</html>\n",
        esc(title)
    )
}

/// The report as one HTML page. `charts` are (file name, SVG) pairs.
pub fn render(
    records: &[RunRecord],
    analysis: &Analysis,
    provenance: &Provenance,
    charts: &[(String, String)],
) -> String {
    let mut body = String::new();
    let title =
        format!("edgebench: {} on {} ({})", provenance.plan.pipeline, provenance.target.name, provenance.created_utc);
    let nav: String = [
        ("summary", "Summary"),
        ("charts", "Charts"),
        ("cells", "Cells"),
        ("report", "Full report"),
        ("provenance", "Provenance"),
    ]
    .iter()
    .map(|(id, name)| format!("<a href=\"#{id}\">{name}</a>"))
    .collect();
    let _ = writeln!(body, "<nav>{nav}</nav>");
    if let Some(emulator) = &provenance.target.emulator {
        let _ = writeln!(
            body,
            "<p class=\"emulated\">EMULATED with {}: this target's timings are not a device's.</p>",
            esc(emulator)
        );
    }
    body.push_str(&markdown_html(&report::heading(provenance)));
    summary(&mut body, &glance::findings(analysis, &provenance.footprint));
    charts_section(&mut body, charts);
    cells(&mut body, analysis);
    let _ = writeln!(body, "<section id=\"report\">");
    body.push_str(&markdown_html(&report::body(records, analysis, provenance, &[])));
    let _ = writeln!(body, "</section>");
    let json = serde_json::to_string_pretty(provenance).unwrap_or_default();
    let _ = writeln!(
        body,
        "<section id=\"provenance\">\n<h2>Provenance</h2>\n<details><summary><code>provenance.json</code>: the code, \
         tools, device and plan behind every figure</summary>\n<pre>{}</pre>\n</details>\n</section>",
        esc(&json)
    );
    page(&title, &body)
}

/// The decision summary, each answer's evidence linked.
fn summary(page: &mut String, findings: &[Finding]) {
    let _ = writeln!(page, "<section id=\"summary\">\n<h2>At a glance</h2>");
    if findings.is_empty() {
        let _ = writeln!(
            page,
            "<p>This plan ran neither the start-up kernel nor kernels against a baseline: there is nothing to rank.</p>"
        );
    } else {
        let _ = writeln!(page, "<ul class=\"summary\">");
        for f in findings {
            let evidence: Vec<String> =
                f.evidence.iter().map(|(label, anchor)| format!("<a href=\"#{anchor}\">{}</a>", esc(label))).collect();
            let _ = writeln!(
                page,
                "<li><span class=\"q\">{}</span>{}<br><span class=\"ev\">Behind it: {}</span></li>",
                esc(f.question),
                code_spans(&esc(&f.answer)),
                evidence.join(", ")
            );
        }
        let _ = writeln!(page, "</ul>");
    }
    let _ = writeln!(page, "</section>");
}

/// `a` in backticks as `<code>a</code>` (the summary's metric names).
fn code_spans(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

fn charts_section(page: &mut String, charts: &[(String, String)]) {
    let _ = writeln!(page, "<section id=\"charts\">\n<h2>Charts</h2>");
    if charts.is_empty() {
        let _ = writeln!(page, "<p>No charts: the plan ran no start-up kernel and no ratios to a baseline.</p>");
    }
    for (name, svg) in charts {
        let id = format!("chart-{}", name.trim_end_matches(".svg"));
        // The SVG file's own XML declaration-free text, inline.
        let _ = writeln!(
            page,
            "<figure id=\"{id}\">\n{}<figcaption><a href=\"plots/{name}\">plots/{name}</a></figcaption>\n</figure>",
            svg
        );
    }
    let _ = writeln!(page, "</section>");
}

/// Every cell: its runs, its medians with their intervals, its compute
/// ratio to the baseline, and whether its output was verified.
fn cells(page: &mut String, analysis: &Analysis) {
    let baseline = analysis.baseline.as_deref().unwrap_or("the baseline");
    let _ = writeln!(
        page,
        "<section id=\"cells\">\n<h2>Cells</h2>\n<p>Medians with their 95 % bootstrap intervals; the ratio is the cell's \
         compute time (the kernel's own timing where it has one, else wall time) to {}'s. Click a heading to sort.</p>\n\
         <div class=\"wrap\"><table>\n<thead><tr><th>workload</th><th>dataset</th><th>runtime</th><th>runs ok / measured</th>\
         <th>wall time (ms)</th><th>kernel time (ms)</th><th>peak memory (MiB)</th><th>compute ÷ {}</th><th>output</th></tr></thead>\n<tbody>",
        esc(baseline),
        esc(baseline)
    );
    for c in &analysis.cells {
        let runtime = c.key.runtime_label();
        let ratio = analysis
            .ratios
            .iter()
            .filter(|r| r.kernel == c.key.kernel && r.dataset == c.key.dataset && r.runtime == runtime)
            .find(|r| r.metric == KERNEL_MS)
            .or_else(|| {
                analysis.ratios.iter().find(|r| {
                    r.kernel == c.key.kernel
                        && r.dataset == c.key.dataset
                        && r.runtime == runtime
                        && r.metric == WALL_MS
                })
            });
        let ratio_cell = match ratio {
            Some(r) => format!(
                "<td class=\"n\" data-v=\"{}\">{}</td>",
                r.ratio.value,
                with_interval(r.ratio.value, r.ratio.ci95)
            ),
            None => "<td class=\"n\" data-v=\"-1\">—</td>".into(),
        };
        let runs_class = if c.ok_runs < c.measured_runs { " bad" } else { "" };
        let _ = writeln!(
            page,
            "<tr id=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"n{runs_class}\" data-v=\"{}\">{} / {}</td>{}{}{}{ratio_cell}<td>{}</td></tr>",
            glance::cell_anchor(&c.key.kernel, c.key.dataset, &runtime),
            esc(&c.key.kernel),
            c.key.dataset,
            esc(&runtime),
            c.ok_runs,
            c.ok_runs,
            c.measured_runs,
            metric_cell(c.metric(WALL_MS)),
            metric_cell(c.metric(KERNEL_MS)),
            metric_cell(c.metric(WORKLOAD_PEAK_MIB)),
            verdict(c)
        );
    }
    let _ = writeln!(page, "</tbody></table></div>");
    geomeans(page, analysis);
    let _ = writeln!(page, "</section>");
}

fn metric_cell(summary: Option<&Summary>) -> String {
    match summary {
        Some(s) => format!("<td class=\"n\" data-v=\"{}\">{}</td>", s.median, with_interval(s.median, s.median_ci95)),
        None => "<td class=\"n\" data-v=\"-1\">—</td>".into(),
    }
}

/// Whether the cell's output matched the reference.
fn verdict(c: &CellSummary) -> String {
    if !c.failures.is_empty() {
        let kinds: Vec<String> = c.failures.iter().map(|(k, n)| format!("{n}× {k}")).collect();
        return format!("<span class=\"bad\">{}</span>", esc(&kinds.join(", ")));
    }
    match (&c.checksum, &c.reference_checksum) {
        (Some(a), Some(b)) if a == b => "checksum = reference".into(),
        (Some(_), None) => "checksum (no reference)".into(),
        (Some(_), Some(_)) => "<span class=\"bad\">checksum differs</span>".into(),
        (None, _) => "exit status 0 (no checksum)".into(),
    }
}

/// The geometric means, each row an anchor the summary links to.
fn geomeans(page: &mut String, analysis: &Analysis) {
    if analysis.geomeans.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<h3 id=\"geomeans\">Geometric means over kernels</h3>\n<div class=\"wrap\"><table>\n<thead><tr><th>runtime</th>\
         <th>dataset</th><th>metric</th><th>kernels</th><th>geometric mean</th><th>95 % CI, measurement</th>\
         <th>95 % CI, spread across kernels</th></tr></thead>\n<tbody>"
    );
    let range = |ci: Option<(f64, f64)>| {
        ci.map(|(l, h)| format!("{} – {}", figure(l), figure(h))).unwrap_or_else(|| "—".into())
    };
    for g in &analysis.geomeans {
        let _ = writeln!(
            page,
            "<tr id=\"{}\"><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\" data-v=\"{}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            glance::geomean_anchor(&g.runtime, g.dataset, &g.metric),
            esc(&g.runtime),
            g.dataset,
            esc(&g.metric),
            g.geomean.n,
            g.geomean.value,
            figure(g.geomean.value),
            range(g.geomean.measurement_ci95),
            range(g.geomean.across_kernels_ci95)
        );
    }
    let _ = writeln!(page, "</tbody></table></div>");
}

/// Markdown as HTML, tables wrapped so that they scroll on a phone, and
/// each heading given an id from its text (`footprint-on-the-device`), so
/// that the summary can link to it.
pub fn markdown_html(md: &str) -> String {
    let mut events: Vec<Event> = Vec::new();
    let mut heading: Option<(usize, String)> = None;
    for event in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        // The report quotes what runs printed (a failure's stderr): HTML in
        // it is shown as text, never passed through as markup.
        let event = match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            other => other,
        };
        match &event {
            Event::Start(Tag::Heading { .. }) => heading = Some((events.len(), String::new())),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, text)) = heading.as_mut() {
                    text.push_str(t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((start, text)) = heading.take()
                    && let Event::Start(Tag::Heading { id, .. }) = &mut events[start]
                {
                    *id = Some(CowStr::from(heading_id(&text)));
                }
            }
            Event::Start(Tag::Table(_)) => events.push(Event::Html(CowStr::from("<div class=\"wrap\">"))),
            _ => {}
        }
        let closes_table = matches!(event, Event::End(TagEnd::Table));
        events.push(event);
        if closes_table {
            events.push(Event::Html(CowStr::from("</div>")));
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

/// `Footprint on the device` → `footprint-on-the-device`.
fn heading_id(text: &str) -> String {
    let mut id = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            id.push(c);
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_ids_and_tables_a_scrolling_wrapper() {
        let html =
            markdown_html("## Footprint on the device\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n## Dataset `small`\n");
        assert!(html.contains("<h2 id=\"footprint-on-the-device\">"), "{html}");
        assert!(html.contains("<h2 id=\"dataset-small\">"), "{html}");
        assert!(html.contains("<div class=\"wrap\"><table>") && html.contains("</table>\n</div>"), "{html}");
        assert_eq!(glance::FOOTPRINT_ANCHOR, heading_id("Footprint on the device"));
    }

    #[test]
    fn markup_in_what_runs_printed_is_shown_as_text() {
        let html = markdown_html(
            "| cell | example |\n|---|---|\n| a | <img src=x onerror=alert(1)> |\n\n<script>x()</script>\n",
        );
        assert!(!html.contains("<img") && !html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;img src=x"), "{html}");
    }

    #[test]
    fn backticks_become_code() {
        assert_eq!(code_spans("ratio of `kernel_ms` over"), "ratio of <code>kernel_ms</code> over");
    }
}
