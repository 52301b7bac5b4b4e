//! The report as a Word document in the layout of Decree 30/2020/NĐ-CP: A4, margins 20 mm top
//! and bottom, 30 mm left, 20 mm right; Times New Roman 14 pt; the header as a borderless
//! two-column table (parent and issuing agency, number on the left; national name, motto
//! and the italic place-and-date line on the right, each pair over a short rule); the title;
//! the body with real tables and the charts as PNG images; then "Nơi nhận:" and the signature
//! side by side in another borderless table.
//!
//! Each data table is laid out by [`paper`]: column widths from what the cells hold, and a
//! landscape section of its own for a table that needs the width (the section ends right
//! after the table, and the text goes on in portrait). Long free text is shortened in the
//! table, with the table's note saying that the Excel file has it in full.

use docx_rs::{
    AlignmentType, BorderType, Docx, LineSpacing, LineSpacingType, PageMargin, PageOrientationType,
    PageSize, Paragraph, ParagraphBorder, ParagraphBorderPosition, ParagraphBorders, Pic, Run,
    RunFonts, SectionProperty, SpecialIndentType, Table, TableCell, TableCellMargins,
    TableLayoutType, TableRow, VAlignType, WidthType,
};

use super::paper::{self, CELL_MARGIN_X, CELL_MARGIN_Y, Orientation, PORTRAIT, Page};
use super::{chart, chart_png, times};
use crate::model::{Block, Cell, Report, Table as ReportTable};

/// The text width of the portrait pages, between the margins, in dxa.
const TEXT_W: usize = PORTRAIT.text_width();
/// Font sizes in half-points.
const BODY: usize = 28; // 14 pt
const HEADER: usize = 26; // 13 pt
const TABLE: usize = paper::TABLE_SIZE; // 12 pt
const SMALL: usize = 22; // 11 pt
/// First-line indent of body paragraphs: 1 cm.
const INDENT: i32 = 567;
/// English Metric Units per dxa.
const EMU_PER_DXA: u64 = 635;

const FONT: &str = "Times New Roman";

fn run(text: &str, size: usize) -> Run {
    Run::new().add_text(text).size(size)
}

fn centered(run: Run) -> Paragraph {
    Paragraph::new().add_run(run).align(AlignmentType::Center)
}

/// An empty paragraph drawn as a short centred rule, `width` dxa wide: only the bottom border
/// of a paragraph a few points high, narrowed by equal indents. (A bare `set_border` would keep
/// `docx-rs`'s default left, right and bottom borders too, and draw a box.)
fn rule(cell_width: usize, width: usize) -> Paragraph {
    let side = ((cell_width.saturating_sub(width)) / 2) as i32;
    let mut p = Paragraph::new()
        .indent(Some(side), None, Some(side), None)
        .line_spacing(
            LineSpacing::new()
                .before(0)
                .after(100)
                .line(100)
                .line_rule(LineSpacingType::Exact),
        );
    p.property = p.property.set_borders(
        ParagraphBorders::with_empty().set(
            ParagraphBorder::new(ParagraphBorderPosition::Bottom)
                .val(BorderType::Single)
                .size(6)
                .space(0),
        ),
    );
    p
}

fn body(text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, BODY))
        .align(AlignmentType::Both)
        .indent(None, Some(SpecialIndentType::FirstLine(INDENT)), None, None)
        .line_spacing(LineSpacing::new().before(60).after(60))
}

fn cell(width: usize, paragraphs: Vec<Paragraph>) -> TableCell {
    let mut c = TableCell::new().width(width, WidthType::Dxa);
    for p in paragraphs {
        c = c.add_paragraph(p);
    }
    c
}

/// The header's columns: the agency on the left, the national name on the right, each on one
/// line at 12 pt bold. Decree 30 templates split the width about 40/60; the agency's
/// "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO" needs a little over 40%, and without cell margins both fit.
const LETTERHEAD_LEFT: usize = TEXT_W * 43 / 100;

fn letterhead(report: &Report) -> Table {
    let l = &report.letterhead;
    let (left, right) = (LETTERHEAD_LEFT, TEXT_W - LETTERHEAD_LEFT);
    Table::without_borders(vec![TableRow::new(vec![
        cell(
            left,
            vec![
                centered(run(&l.parent_agency, TABLE)),
                centered(run(&l.agency, TABLE).bold()),
                rule(left, left / 3),
                centered(run(&l.number, HEADER)),
            ],
        ),
        cell(
            right,
            vec![
                centered(run(&l.national_name, TABLE).bold()),
                centered(run(&l.motto, HEADER).bold()),
                // About as long as the motto.
                rule(right, times::width(&l.motto, HEADER, true)),
                centered(run(&l.place_date, BODY).italic()),
            ],
        ),
    ])])
    .set_grid(vec![left, right])
    .width(TEXT_W, WidthType::Dxa)
    .layout(TableLayoutType::Fixed)
    .margins(TableCellMargins::new().margin(0, 0, 0, 0))
}

fn closing(report: &Report) -> Table {
    let (left, right) = (4_300, TEXT_W - 4_300);
    let mut recipients = vec![Paragraph::new().add_run(run("Nơi nhận:", TABLE).bold().italic())];
    recipients.extend(
        report
            .recipients
            .iter()
            .map(|r| Paragraph::new().add_run(run(r, SMALL))),
    );
    let mut signer: Vec<Paragraph> = report
        .signature
        .title
        .lines()
        .map(|l| centered(run(l, BODY).bold()))
        .collect();
    signer.extend((0..4).map(|_| Paragraph::new()));
    signer.push(centered(run(&report.signature.name, BODY).bold()));
    Table::without_borders(vec![TableRow::new(vec![
        cell(left, recipients),
        cell(right, signer),
    ])])
    .set_grid(vec![left, right])
    .width(TEXT_W, WidthType::Dxa)
    .layout(TableLayoutType::Fixed)
}

/// A page's margins as Word writes them, with the header and footer distances of the
/// portrait pages.
fn margins(page: Page) -> PageMargin {
    PageMargin {
        top: page.margin_top,
        left: page.margin_left,
        bottom: page.margin_bottom,
        right: page.margin_right,
        header: 720,
        footer: 720,
        gutter: 0,
    }
}

/// The properties of a section set on `orientation`'s page.
fn section(orientation: Orientation) -> SectionProperty {
    let page = orientation.page();
    let size = PageSize::new().size(page.width, page.height);
    let size = match orientation {
        Orientation::Portrait => size,
        Orientation::Landscape => size.orient(PageOrientationType::Landscape),
    };
    SectionProperty::new()
        .page_size(size)
        .page_margin(margins(page))
}

/// An empty paragraph one point high that ends a section set on `orientation`'s page (Word
/// keeps a section's properties in its last paragraph).
fn section_end(orientation: Orientation) -> Paragraph {
    Paragraph::new()
        .line_spacing(
            LineSpacing::new()
                .before(0)
                .after(0)
                .line(20)
                .line_rule(LineSpacingType::Exact),
        )
        .section_property(section(orientation))
}

fn data_table(t: &ReportTable, widths: &[usize]) -> Table {
    let text_cell = |width: usize, text: &str, align: AlignmentType, bold: bool| {
        let mut r = run(text, TABLE);
        if bold {
            r = r.bold();
        }
        TableCell::new()
            .width(width, WidthType::Dxa)
            .vertical_align(VAlignType::Center)
            .add_paragraph(Paragraph::new().add_run(r).align(align))
    };
    let mut rows = Vec::with_capacity(t.rows.len() + 2);
    let mut header = vec![text_cell(widths[0], "TT", AlignmentType::Center, true)];
    header.extend(
        t.columns
            .iter()
            .zip(&widths[1..])
            .map(|(c, w)| text_cell(*w, &c.header, AlignmentType::Center, true)),
    );
    rows.push(TableRow::new(header).cant_split());
    let line = |number: String, cells: &[Cell], bold: bool| {
        let mut out = vec![text_cell(widths[0], &number, AlignmentType::Center, bold)];
        out.extend(
            t.columns
                .iter()
                .zip(&widths[1..])
                .enumerate()
                .map(|(i, (c, w))| {
                    let text = cells.get(i).map(|v| t.paper_text(i, v)).unwrap_or_default();
                    let align = if c.numeric {
                        AlignmentType::Right
                    } else {
                        AlignmentType::Left
                    };
                    text_cell(*w, &text, align, bold)
                }),
        );
        TableRow::new(out).cant_split()
    };
    for (i, cells) in t.rows.iter().enumerate() {
        rows.push(line((i + 1).to_string(), cells, false));
    }
    if let Some(totals) = &t.totals {
        rows.push(line(String::new(), totals, true));
    }
    Table::new(rows)
        .set_grid(widths.to_vec())
        .width(widths.iter().sum(), WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
        .margins(TableCellMargins::new().margin(
            CELL_MARGIN_Y,
            CELL_MARGIN_X,
            CELL_MARGIN_Y,
            CELL_MARGIN_X,
        ))
}

/// A data table with its caption and, when it shortened text, its note; in a landscape
/// section of its own when it needs the width.
fn add_table(doc: Docx, t: &ReportTable) -> Docx {
    let layout = paper::layout(t);
    let landscape = layout.orientation == Orientation::Landscape;
    let mut doc = doc;
    if landscape {
        doc = doc.add_paragraph(section_end(Orientation::Portrait));
    }
    doc = doc
        .add_paragraph(
            centered(run(&t.caption, HEADER).bold())
                .line_spacing(LineSpacing::new().before(120).after(60))
                .keep_next(true),
        )
        .add_table(data_table(t, &layout.widths));
    if let Some(note) = &t.paper_note {
        doc = doc.add_paragraph(
            Paragraph::new()
                .add_run(run(note, SMALL).italic())
                .align(AlignmentType::Both)
                .line_spacing(LineSpacing::new().before(60).after(0)),
        );
    }
    if landscape {
        doc.add_paragraph(section_end(Orientation::Landscape))
    } else {
        doc.add_paragraph(Paragraph::new())
    }
}

pub fn render(report: &Report) -> Result<Vec<u8>, String> {
    let fonts = RunFonts::new()
        .ascii(FONT)
        .hi_ansi(FONT)
        .cs(FONT)
        .east_asia(FONT);
    let mut doc = Docx::new()
        .page_size(PORTRAIT.width, PORTRAIT.height)
        .page_margin(margins(PORTRAIT))
        .default_fonts(fonts)
        .default_size(BODY)
        .add_table(letterhead(report))
        .add_paragraph(Paragraph::new())
        .add_paragraph(centered(run(&report.title, BODY).bold()))
        .add_paragraph(centered(run(&report.subtitle, BODY).bold()))
        .add_paragraph(rule(TEXT_W, 2_000));
    for p in &report.intro {
        doc = doc.add_paragraph(body(p));
    }
    for section in &report.sections {
        doc = doc.add_paragraph(
            Paragraph::new()
                .add_run(run(&format!("{}. {}", section.number, section.heading), BODY).bold())
                .line_spacing(LineSpacing::new().before(180).after(60))
                .keep_next(true),
        );
        for block in &section.blocks {
            doc = match block {
                Block::Heading(h) => doc.add_paragraph(
                    Paragraph::new()
                        .add_run(run(h, BODY).bold())
                        .indent(Some(INDENT), None, None, None)
                        .line_spacing(LineSpacing::new().before(120).after(60))
                        .keep_next(true),
                ),
                Block::Paragraph(p) => doc.add_paragraph(body(p)),
                Block::Bullets(items) => items.iter().fold(doc, |doc, item| {
                    doc.add_paragraph(body(&format!("- {item}")))
                }),
                Block::Table(t) => add_table(doc, t),
                Block::Figure(f) => {
                    let scene = chart::layout(f);
                    let png = chart_png::png(&scene).map_err(|e| e.to_string())?;
                    let (w_px, h_px) = (scene.width as u32, scene.height as u32);
                    let w_emu = TEXT_W as u64 * EMU_PER_DXA;
                    let h_emu = w_emu * u64::from(h_px) / u64::from(w_px.max(1));
                    let pic = Pic::new_with_dimensions(png, w_px, h_px).size(
                        u32::try_from(w_emu).unwrap_or(u32::MAX),
                        u32::try_from(h_emu).unwrap_or(u32::MAX),
                    );
                    doc.add_paragraph(
                        Paragraph::new()
                            .add_run(Run::new().add_image(pic))
                            .align(AlignmentType::Center)
                            .keep_next(true),
                    )
                    .add_paragraph(centered(run(&f.caption, HEADER).italic()))
                }
            };
        }
    }
    doc = doc
        .add_paragraph(Paragraph::new())
        .add_table(closing(report));
    let mut packed = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut packed).map_err(|e| e.to_string())?;
    deflate(&packed.into_inner()).map_err(|e| e.to_string())
}

/// The document with the first row of every bordered table (the data tables; the header and
/// the signature are borderless) marked `<w:tblHeader/>`, so that Word and LibreOffice repeat
/// it at the top of every page the table runs onto. `docx-rs` 0.4 has no row property for it.
fn repeat_header_rows(xml: &str) -> String {
    const TABLE: &str = "<w:tbl>";
    let mut out = String::with_capacity(xml.len() + 1024);
    let mut rest = xml;
    while let Some(at) = rest.find(TABLE) {
        let (before, table) = rest.split_at(at + TABLE.len());
        out.push_str(before);
        rest = table;
        let borderless = table
            .find("</w:tblPr>")
            .is_some_and(|end| table[..end].contains("<w:tblBorders />"));
        let Some(row) = table.find("<w:trPr") else {
            continue;
        };
        if borderless || table.find("<w:tbl>").is_some_and(|next| next < row) {
            continue;
        }
        let (head, tail) = table.split_at(row);
        out.push_str(head);
        if let Some(tail) = tail.strip_prefix("<w:trPr />") {
            out.push_str("<w:trPr><w:tblHeader /></w:trPr>");
            rest = tail;
        } else if let Some(tail) = tail.strip_prefix("<w:trPr>") {
            out.push_str("<w:trPr><w:tblHeader />");
            rest = tail;
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// The package again with every part deflated: `docx-rs` stores its parts uncompressed, which
/// makes a plan-period report several times larger than Word's own files.
fn deflate(stored: &[u8]) -> zip::result::ZipResult<Vec<u8>> {
    use std::io::{Read, Write};

    let mut input = zip::ZipArchive::new(std::io::Cursor::new(stored))?;
    let mut output = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut buffer = Vec::new();
    for i in 0..input.len() {
        let mut part = input.by_index(i)?;
        if part.is_dir() {
            continue;
        }
        let name = part.name().to_string();
        buffer.clear();
        part.read_to_end(&mut buffer)?;
        output.start_file(name.as_str(), options)?;
        if name == "word/document.xml" {
            let xml = String::from_utf8_lossy(&buffer);
            output.write_all(repeat_header_rows(&xml).as_bytes())?;
        } else {
            output.write_all(&buffer)?;
        }
    }
    Ok(output.finish()?.into_inner())
}
