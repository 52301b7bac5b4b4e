//! The report as a Word document in the layout of Decree 30/2020/NĐ-CP: A4, margins 20 mm top
//! and bottom, 30 mm left, 20 mm right; Times New Roman 14 pt; the header as a borderless
//! two-column table (parent and issuing agency, number on the left; national name, motto
//! and the italic place-and-date line on the right, each pair over a short rule); the title;
//! the body with real tables and the charts as PNG images; then "Nơi nhận:" and the signature
//! side by side in another borderless table.

use docx_rs::{
    AlignmentType, BorderType, Docx, LineSpacing, LineSpacingType, PageMargin, Paragraph,
    ParagraphBorder, ParagraphBorderPosition, ParagraphBorders, Pic, Run, RunFonts,
    SpecialIndentType, Table, TableCell, TableCellMargins, TableLayoutType, TableRow, VAlignType,
    WidthType,
};

use super::{cell_text, chart, chart_png, font};
use crate::model::{Block, Cell, Report, Table as ReportTable};

/// A4 in twentieths of a point (dxa).
const PAGE_W: u32 = 11_906;
const PAGE_H: u32 = 16_838;
const MARGIN_LEFT: i32 = 1_701; // 30 mm
const MARGIN_RIGHT: i32 = 1_134; // 20 mm
const MARGIN_Y: i32 = 1_134; // 20 mm
/// The text width between the margins.
const TEXT_W: usize = (PAGE_W as i32 - MARGIN_LEFT - MARGIN_RIGHT) as usize;
/// Font sizes in half-points.
const BODY: usize = 28; // 14 pt
const HEADER: usize = 26; // 13 pt
const TABLE: usize = 24; // 12 pt
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
                rule(right, text_width(&l.motto, HEADER, true)),
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

/// The width of `text` in dxa at `size` half-points in Times New Roman, estimated with the
/// charts' font: DejaVu Sans Condensed is a little narrower than Times for lower case and
/// digits, and much narrower than Times capitals, bold ones most.
fn text_width(text: &str, size: usize, bold: bool) -> usize {
    // One half-point is 10 dxa, so an em of `size` half-points is `size * 10` dxa.
    let em = (size * 10) as f32;
    let w: f32 = text
        .chars()
        .map(|c| {
            let scale = match (c.is_uppercase(), bold) {
                (true, true) => 1.32,
                (true, false) => 1.22,
                (false, true) => 1.18,
                (false, false) => 1.07,
            };
            font::text_width(c.encode_utf8(&mut [0; 4]), em) * scale
        })
        .sum();
    w.ceil() as usize
}

/// The ordinal ("TT") column: two bold digits and the cell margins.
const ORDINAL_W: usize = 600;
/// A cell's left and right margins (Word's default 108 dxa each) and a little slack.
const CELL_PAD: usize = 260;
/// The narrowest a numeric column gets, so that its header wraps at most a few times.
const NUMBER_MIN: usize = 700;

/// How much room one column wants, in the order it gets it.
struct ColumnNeed {
    /// Below this a word or a number would break.
    floor: usize,
    /// Every cell on one line (text columns; a numeric column's cells are single words).
    cells: usize,
    /// The header on one line too.
    header: usize,
}

fn column_needs(t: &ReportTable) -> Vec<ColumnNeed> {
    t.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let cells: Vec<(String, bool)> = t
                .rows
                .iter()
                .map(|r| (r.get(i).map(cell_text).unwrap_or_default(), false))
                .chain(
                    t.totals
                        .iter()
                        .map(|r| (r.get(i).map(cell_text).unwrap_or_default(), true)),
                )
                .collect();
            let longest_word = c
                .header
                .split_whitespace()
                .map(|w| (w, true))
                .chain(
                    cells
                        .iter()
                        .flat_map(|(text, bold)| text.split_whitespace().map(|w| (w, *bold))),
                )
                .map(|(w, bold)| text_width(w, TABLE, bold))
                .max()
                .unwrap_or(0);
            let longest_cell = cells
                .iter()
                .map(|(text, bold)| text_width(text, TABLE, *bold))
                .max()
                .unwrap_or(0);
            let floor = longest_word + CELL_PAD;
            let floor = if c.numeric {
                floor.max(NUMBER_MIN)
            } else {
                floor
            };
            let cells = floor.max(longest_cell + CELL_PAD);
            ColumnNeed {
                floor,
                cells,
                header: cells.max(text_width(&c.header, TABLE, true) + CELL_PAD),
            }
        })
        .collect()
}

/// `extra` dxa shared among columns towards `target`, in proportion to what each still lacks;
/// returns what is left when every column has reached its target.
fn grow(widths: &mut [usize], target: &[usize], extra: usize) -> usize {
    let lacking: Vec<usize> = widths
        .iter()
        .zip(target)
        .map(|(w, t)| t.saturating_sub(*w))
        .collect();
    let total: usize = lacking.iter().sum();
    if total <= extra {
        for (w, l) in widths.iter_mut().zip(&lacking) {
            *w += l;
        }
        extra - total
    } else {
        for (w, l) in widths.iter_mut().zip(&lacking) {
            *w += extra * l / total;
        }
        0
    }
}

/// Column widths filling the text width, derived from what the columns hold: the ordinal
/// narrow; every column first as wide as its longest word or number; then text columns grow
/// towards one line per cell, in proportion to what they lack, so that long text (a subject,
/// a content, a title) gets the most room and short text (a date, "Có") no more than it needs;
/// then headers towards one line; whatever is left goes to every column alike.
fn grid(t: &ReportTable) -> Vec<usize> {
    let needs = column_needs(t);
    let room = TEXT_W - ORDINAL_W;
    let floors: usize = needs.iter().map(|n| n.floor).sum();
    let mut widths: Vec<usize> = if floors >= room {
        // Too many columns to keep every word whole: shrink them all alike.
        needs
            .iter()
            .map(|n| n.floor * room / floors.max(1))
            .collect()
    } else {
        let mut widths: Vec<usize> = needs.iter().map(|n| n.floor).collect();
        let cells: Vec<usize> = needs.iter().map(|n| n.cells).collect();
        let headers: Vec<usize> = needs.iter().map(|n| n.header).collect();
        let mut extra = grow(&mut widths, &cells, room - floors);
        extra = grow(&mut widths, &headers, extra);
        let now = widths.clone();
        let total: usize = now.iter().sum::<usize>().max(1);
        for (w, n) in widths.iter_mut().zip(&now) {
            *w += extra * n / total;
        }
        widths
    };
    // Rounding: the widest column takes the few dxa left, so the table is exactly the text width.
    let used: usize = widths.iter().sum();
    if let Some(widest) = widths.iter_mut().max() {
        *widest += room.saturating_sub(used);
    }
    std::iter::once(ORDINAL_W).chain(widths).collect()
}

fn data_table(t: &ReportTable) -> Table {
    let widths = grid(t);
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
                    let text = cells.get(i).map(cell_text).unwrap_or_default();
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
        .set_grid(widths)
        .width(TEXT_W, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
}

pub fn render(report: &Report) -> Result<Vec<u8>, String> {
    let fonts = RunFonts::new()
        .ascii(FONT)
        .hi_ansi(FONT)
        .cs(FONT)
        .east_asia(FONT);
    let mut doc = Docx::new()
        .page_size(PAGE_W, PAGE_H)
        .page_margin(PageMargin {
            top: MARGIN_Y,
            left: MARGIN_LEFT,
            bottom: MARGIN_Y,
            right: MARGIN_RIGHT,
            header: 720,
            footer: 720,
            gutter: 0,
        })
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
                Block::Table(t) => doc
                    .add_paragraph(
                        centered(run(&t.caption, HEADER).bold())
                            .line_spacing(LineSpacing::new().before(120).after(60))
                            .keep_next(true),
                    )
                    .add_table(data_table(t))
                    .add_paragraph(Paragraph::new()),
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
