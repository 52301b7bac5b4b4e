//! The report as an Excel workbook: a sheet with the report's identity, one sheet per table
//! (a topic each: overview, areas, channels, schools, lagging, completeness, responsiveness,
//! overdue cases, commendation, budget), and one with the assessment and directions.
//!
//! Numbers are numbers (counts, đồng, rates as percentages), never text; every totals line
//! is a `SUM` formula over the rows above it, written with its value cached so that readers
//! that do not calculate (and the office's old viewers) still show it; the header rows and
//! the first column are frozen.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError};

use crate::model::{Block, Cell, Report, Table};

/// The row (0-based) of each table's header line; data starts on the next row.
pub const HEADER_ROW: u32 = 3;
const FONT: &str = "Times New Roman";

/// A column's letters: 0 → A, 27 → AB.
pub fn column_name(mut col: u16) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    name.reverse();
    String::from_utf8_lossy(&name).into_owned()
}

struct Formats {
    title: Format,
    note: Format,
    header: Format,
    text: Format,
    int: Format,
    rate: Format,
    decimal: Format,
    total_text: Format,
    total_int: Format,
    total_rate: Format,
    total_decimal: Format,
    wrap: Format,
}

impl Formats {
    fn new() -> Self {
        let base = Format::new().set_font_name(FONT).set_font_size(12);
        let boxed = base.clone().set_border(FormatBorder::Thin);
        let bold = boxed.clone().set_bold();
        Self {
            title: base.clone().set_bold().set_font_size(13),
            note: base.clone().set_italic(),
            header: bold
                .clone()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_text_wrap()
                .set_background_color(0xDDEBF7),
            text: boxed.clone().set_text_wrap(),
            int: boxed.clone().set_num_format("#,##0"),
            rate: boxed.clone().set_num_format("0.00%"),
            decimal: boxed.clone().set_num_format("0.0"),
            total_text: bold.clone(),
            total_int: bold.clone().set_num_format("#,##0"),
            total_rate: bold.clone().set_num_format("0.00%"),
            total_decimal: bold.set_num_format("0.0"),
            wrap: base.set_text_wrap(),
        }
    }
}

pub fn render(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut workbook = Workbook::new();

    let info = workbook.add_worksheet();
    info.set_name("Thông tin")?;
    info.set_column_width(0, 28)?;
    info.set_column_width(1, 90)?;
    info.write_string_with_format(0, 0, &report.title, &f.title)?;
    info.write_string_with_format(1, 0, &report.subtitle, &f.title)?;
    let l = &report.letterhead;
    let lines = [
        ("Cơ quan", format!("{} – {}", l.parent_agency, l.agency)),
        ("Số", l.number.clone()),
        ("Địa danh, ngày", l.place_date.clone()),
        ("Kỳ báo cáo", report.meta.period_words.clone()),
        ("Mã kỳ", report.meta.period.clone()),
        ("Từ ngày", report.meta.start.clone()),
        ("Đến ngày", report.meta.end.clone()),
        (
            "Số liệu ý kiến, báo chí tính đến",
            report.meta.as_of.clone(),
        ),
        (
            "Phạm vi",
            report
                .meta
                .school
                .as_ref()
                .map_or_else(|| "Toàn huyện".to_string(), |s| s.name.clone()),
        ),
    ];
    for (i, (label, value)) in lines.iter().enumerate() {
        let row = 3 + i as u32;
        info.write_string_with_format(row, 0, *label, &f.total_text)?;
        info.write_string_with_format(row, 1, value, &f.text)?;
    }

    for table in report.tables() {
        let sheet = workbook.add_worksheet();
        write_table(sheet, table, report, &f)?;
    }

    let notes = workbook.add_worksheet();
    notes.set_name("Đánh giá, chỉ đạo")?;
    notes.set_column_width(0, 120)?;
    let mut row = 0;
    for section in report.sections.iter().skip(2) {
        notes.write_string_with_format(
            row,
            0,
            format!("{}. {}", section.number, section.heading),
            &f.title,
        )?;
        row += 1;
        for block in &section.blocks {
            let lines: Vec<String> = match block {
                Block::Heading(h) | Block::Paragraph(h) => vec![h.clone()],
                Block::Bullets(items) => items.iter().map(|i| format!("- {i}")).collect(),
                Block::Table(_) | Block::Figure(_) => Vec::new(),
            };
            for line in lines {
                notes.write_string_with_format(row, 0, line, &f.wrap)?;
                row += 1;
            }
        }
        row += 1;
    }

    workbook.save_to_buffer()
}

fn write_table(
    sheet: &mut Worksheet,
    t: &Table,
    report: &Report,
    f: &Formats,
) -> Result<(), XlsxError> {
    sheet.set_name(&t.sheet)?;
    sheet.write_string_with_format(0, 0, &t.caption, &f.title)?;
    sheet.write_string_with_format(
        1,
        0,
        format!(
            "{} – kỳ báo cáo {} ({} – {})",
            report.subtitle, report.meta.period_words, report.meta.start, report.meta.end
        ),
        &f.note,
    )?;
    for (c, column) in t.columns.iter().enumerate() {
        let c = c as u16;
        sheet.write_string_with_format(HEADER_ROW, c, &column.header, &f.header)?;
        sheet.set_column_width(c, if column.numeric { 14 } else { 34 })?;
    }
    sheet.set_row_height(HEADER_ROW, 32)?;
    let first = HEADER_ROW + 1;
    for (r, cells) in t.rows.iter().enumerate() {
        let row = first + r as u32;
        for (c, cell) in cells.iter().enumerate() {
            write_cell(sheet, row, c as u16, cell, f, false)?;
        }
    }
    if let Some(totals) = &t.totals
        && !t.rows.is_empty()
    {
        let row = first + t.rows.len() as u32;
        let last = row - 1;
        for (c, (column, cell)) in t.columns.iter().zip(totals).enumerate() {
            let c = c as u16;
            match cell.number() {
                Some(value) if column.sum => {
                    let letters = column_name(c);
                    let formula = Formula::new(format!(
                        "=SUM({letters}{}:{letters}{})",
                        first + 1,
                        last + 1
                    ))
                    .set_result(number_text(value));
                    sheet.write_formula_with_format(row, c, formula, &f.total_int)?;
                }
                _ => write_cell(sheet, row, c, cell, f, true)?,
            }
        }
    }
    // The title lines, the header and the first column stay in view.
    sheet.set_freeze_panes(first, 1)?;
    Ok(())
}

/// A cached formula result as Excel stores it: whole numbers without a decimal point.
fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    f: &Formats,
    total: bool,
) -> Result<(), XlsxError> {
    let (text, int, rate, decimal) = if total {
        (&f.total_text, &f.total_int, &f.total_rate, &f.total_decimal)
    } else {
        (&f.text, &f.int, &f.rate, &f.decimal)
    };
    match cell {
        Cell::Text(s) => sheet.write_string_with_format(row, col, s, text)?,
        Cell::Int(v) | Cell::Money(v) => {
            sheet.write_number_with_format(row, col, *v as f64, int)?
        }
        Cell::Rate(v) => sheet.write_number_with_format(row, col, *v, rate)?,
        Cell::Decimal(v) => sheet.write_number_with_format(row, col, *v, decimal)?,
        Cell::Empty => sheet.write_blank(row, col, text)?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(27), "AB");
        assert_eq!(column_name(701), "ZZ");
        assert_eq!(column_name(702), "AAA");
    }
}
