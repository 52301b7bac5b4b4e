//! The report as one printable HTML page: A4 print styles (`@page`, Times New Roman 14 pt,
//! the margins of Decree 30/2020/NĐ-CP), the administrative header as a two-column layout,
//! real tables, inline SVG charts, and no script — it prints from any browser and opens
//! offline.
//!
//! Tables are laid out as in the Word file ([`paper`]): the same column widths (as shares of
//! the text width), the same long text shortened with the same note, and a table that needs
//! the width printed on a landscape page of its own (a named CSS page, `page: landscape`).

use std::fmt::Write as _;

use super::paper::{self, Orientation};
use super::{chart, chart_svg};
use crate::model::{Block, Report, Table};

/// Text made safe for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
@page { size: A4; margin: 20mm 15mm 20mm 30mm; }
* { box-sizing: border-box; }
body { font-family: "Times New Roman", Times, "Liberation Serif", serif; font-size: 14pt; line-height: 1.35; color: #000; margin: 0; }
.page { max-width: 165mm; margin: 0 auto; }
table.letterhead, table.closing { width: 100%; border-collapse: collapse; }
table.letterhead td, table.closing td { vertical-align: top; text-align: center; padding: 0; }
.parent { font-size: 12pt; }
.agency, .nation { font-weight: bold; font-size: 12pt; }
.motto { font-weight: bold; }
.rule { display: block; width: 35%; margin: 2pt auto 6pt; border-top: 1px solid #000; }
.rule.wide { width: 60%; }
.number { font-size: 13pt; }
.place-date { font-style: italic; }
h1 { font-size: 14pt; text-align: center; margin: 18pt 0 0; }
.subtitle { text-align: center; font-weight: bold; margin: 0 0 12pt; }
h2 { font-size: 14pt; margin: 12pt 0 4pt; }
h3 { font-size: 14pt; font-style: italic; font-weight: bold; margin: 8pt 0 4pt; }
p { margin: 4pt 0; text-align: justify; text-indent: 1cm; }
ul { margin: 2pt 0 4pt 1cm; padding: 0; list-style: none; }
ul li { text-align: justify; }
ul li::before { content: "- "; }
table.data { width: 100%; border-collapse: collapse; font-size: 12pt; margin: 4pt 0 8pt; }
table.data th, table.data td { border: 1px solid #000; padding: 1.5pt 4.25pt; vertical-align: top; line-height: 1.15; }
table.data th { text-align: center; font-weight: bold; }
table.data td.n { text-align: right; white-space: nowrap; }
table.data tr.total td { font-weight: bold; }
table.data thead { display: table-header-group; }
table.data tr { page-break-inside: avoid; }
.caption { text-align: center; font-weight: bold; font-size: 13pt; margin: 8pt 0 2pt; text-indent: 0; }
/* The widths and spacing of the Word file's tables (render::paper). */
table.data { table-layout: fixed; }
.paper-note { font-size: 11pt; font-style: italic; text-indent: 0; margin: 0 0 8pt; }
@page landscape { size: A4 landscape; margin: 30mm 20mm 20mm 20mm; }
/* On paper the page box is the width: a landscape table gets the landscape page's. */
@media print { .page { max-width: none; } .landscape { page: landscape; } }
figure { margin: 6pt 0 10pt; page-break-inside: avoid; }
figcaption { text-align: center; font-style: italic; font-size: 13pt; }
.recipients { text-align: left !important; font-size: 11pt; }
.recipients b { font-size: 12pt; font-style: italic; }
.signer { font-weight: bold; }
.signature-space { height: 70pt; }
@media screen {
  body { background: #e8e8e8; }
  .page { background: #fff; max-width: 210mm; padding: 20mm 15mm 20mm 30mm; margin: 12px auto; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
}
"#;

pub fn render(report: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let title = format!("{} {}", report.title, report.subtitle);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<div class=\"page\">\n",
        escape(&title)
    );
    let l = &report.letterhead;
    let _ = write!(
        out,
        r#"<table class="letterhead"><tr>
<td style="width:42%"><div class="parent">{}</div><div class="agency">{}</div><span class="rule"></span><div class="number">{}</div></td>
<td style="width:58%"><div class="nation">{}</div><div class="motto">{}</div><span class="rule wide"></span><div class="place-date">{}</div></td>
</tr></table>
"#,
        escape(&l.parent_agency),
        escape(&l.agency),
        escape(&l.number),
        escape(&l.national_name),
        escape(&l.motto),
        escape(&l.place_date)
    );
    let _ = write!(
        out,
        "<h1>{}</h1>\n<div class=\"subtitle\">{}</div>\n<span class=\"rule\"></span>\n",
        escape(&report.title),
        escape(&report.subtitle)
    );
    for p in &report.intro {
        let _ = writeln!(out, "<p>{}</p>", escape(p));
    }
    for section in &report.sections {
        let _ = writeln!(
            out,
            "<h2>{}. {}</h2>",
            escape(&section.number),
            escape(&section.heading)
        );
        for block in &section.blocks {
            match block {
                Block::Heading(h) => {
                    let _ = writeln!(out, "<h3>{}</h3>", escape(h));
                }
                Block::Paragraph(p) => {
                    let _ = writeln!(out, "<p>{}</p>", escape(p));
                }
                Block::Bullets(items) => {
                    out.push_str("<ul>");
                    for item in items {
                        let _ = write!(out, "<li>{}</li>", escape(item));
                    }
                    out.push_str("</ul>\n");
                }
                Block::Table(t) => table(&mut out, t),
                Block::Figure(f) => {
                    let scene = chart::layout(f);
                    let _ = writeln!(
                        out,
                        "<figure id=\"{}\">{}<figcaption>{}</figcaption></figure>",
                        escape(&f.key),
                        chart_svg::svg(&scene, &f.caption),
                        escape(&f.caption)
                    );
                }
            }
        }
    }
    let s = &report.signature;
    let _ = writeln!(
        out,
        "<table class=\"closing\"><tr><td class=\"recipients\" style=\"width:45%\"><b>Nơi nhận:</b><br>{}</td><td style=\"width:55%\"><div class=\"signer\">{}</div><div class=\"signature-space\"></div><div class=\"signer\">{}</div></td></tr></table>",
        report
            .recipients
            .iter()
            .map(|r| escape(r))
            .collect::<Vec<_>>()
            .join("<br>"),
        escape(&s.title).replace('\n', "<br>"),
        escape(&s.name)
    );
    out.push_str("</div>\n</body>\n</html>\n");
    out
}

fn table(out: &mut String, t: &Table) {
    let layout = paper::layout(t);
    let landscape = layout.orientation == Orientation::Landscape;
    if landscape {
        out.push_str("<div class=\"landscape\">\n");
    }
    let _ = write!(
        out,
        "<p class=\"caption\">{}</p>\n<table class=\"data\" id=\"{}\"><colgroup>",
        escape(&t.caption),
        escape(&t.key)
    );
    let total: usize = layout.widths.iter().sum::<usize>().max(1);
    for w in &layout.widths {
        let _ = write!(
            out,
            "<col style=\"width:{:.2}%\">",
            *w as f64 * 100.0 / total as f64
        );
    }
    out.push_str("</colgroup><thead><tr><th>TT</th>");
    for c in &t.columns {
        let _ = write!(out, "<th>{}</th>", escape(&c.header));
    }
    out.push_str("</tr></thead><tbody>\n");
    let row = |out: &mut String, number: String, cells: &[crate::model::Cell], class: &str| {
        let _ = write!(out, "<tr{class}><td class=\"n\">{number}</td>");
        for (i, cell) in cells.iter().enumerate() {
            let numeric = t.columns.get(i).is_some_and(|c| c.numeric);
            let _ = write!(
                out,
                "<td{}>{}</td>",
                if numeric { " class=\"n\"" } else { "" },
                escape(&t.paper_text(i, cell))
            );
        }
        out.push_str("</tr>\n");
    };
    for (i, cells) in t.rows.iter().enumerate() {
        row(out, (i + 1).to_string(), cells, "");
    }
    if let Some(totals) = &t.totals {
        row(out, String::new(), totals, " class=\"total\"");
    }
    out.push_str("</tbody></table>\n");
    if let Some(note) = &t.paper_note {
        let _ = writeln!(out, "<p class=\"paper-note\">{}</p>", escape(note));
    }
    if landscape {
        out.push_str("</div>\n");
    }
}
