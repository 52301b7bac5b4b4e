//! The report as a Word document in the layout of Decree 30/2020/NĐ-CP: A4, margins 20 mm top
//! and bottom, 30 mm left, 20 mm right; Times New Roman 14 pt; the header as a borderless
//! two-column table (parent and issuing agency, number on the left; national name, motto
//! and the italic place-and-date line on the right, each pair over a short rule); the title;
//! the body with real tables and the charts as PNG images; then "Nơi nhận:" and the signature
//! side by side in another borderless table.

use docx_rs::{
    AlignmentType, BorderType, Docx, LineSpacing, PageMargin, Paragraph, ParagraphBorder,
    ParagraphBorderPosition, Pic, Run, RunFonts, SpecialIndentType, Table, TableCell, TableRow,
    VAlignType, WidthType,
};

use super::{cell_text, chart, chart_png};
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

/// An empty paragraph drawn as a short centred rule, `width` dxa wide.
fn rule(cell_width: usize, width: usize) -> Paragraph {
    let side = ((cell_width.saturating_sub(width)) / 2) as i32;
    let mut p = Paragraph::new()
        .indent(Some(side), None, Some(side), None)
        .line_spacing(LineSpacing::new().before(0).after(60).line(120));
    p.property = p.property.set_border(
        ParagraphBorder::new(ParagraphBorderPosition::Top)
            .val(BorderType::Single)
            .size(6)
            .space(1),
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

fn letterhead(report: &Report) -> Table {
    let l = &report.letterhead;
    let (left, right) = (4_000, TEXT_W - 4_000);
    Table::without_borders(vec![TableRow::new(vec![
        cell(
            left,
            vec![
                centered(run(&l.parent_agency, TABLE)),
                centered(run(&l.agency, TABLE).bold()),
                rule(left, 1_400),
                centered(run(&l.number, HEADER)),
            ],
        ),
        cell(
            right,
            vec![
                centered(run(&l.national_name, TABLE).bold()),
                centered(run(&l.motto, HEADER).bold()),
                rule(right, 3_000),
                centered(run(&l.place_date, BODY).italic()),
            ],
        ),
    ])])
    .set_grid(vec![left, right])
    .width(TEXT_W, WidthType::Dxa)
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
}

/// Column widths: the ordinal narrow, text columns three times a number column.
fn grid(t: &ReportTable) -> Vec<usize> {
    let ordinal = 500;
    let weights: Vec<usize> = t
        .columns
        .iter()
        .map(|c| if c.numeric { 10 } else { 28 })
        .collect();
    let total: usize = weights.iter().sum::<usize>().max(1);
    let room = TEXT_W - ordinal;
    std::iter::once(ordinal)
        .chain(weights.iter().map(|w| room * w / total))
        .collect()
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
        output.start_file(name, options)?;
        output.write_all(&buffer)?;
    }
    Ok(output.finish()?.into_inner())
}
