//! The report's tables as one CSV file (UTF-8 with a byte-order mark, so Excel reads the
//! Vietnamese letters): for each table a line with its caption, the header line, the rows and
//! the totals line, then an empty line. Numbers are plain (`1234567`, rates as shares
//! `0.8333`) so that other programs read them without guessing the locale.
//!
//! The file is safe to open in a spreadsheet. Text comes from schools (a nominee, an
//! achievement, a citizen's question), and a spreadsheet runs a cell that begins with `=`,
//! `+`, `-` or `@` as a formula — or after a tab or a carriage return, which some strip
//! first. Following OWASP's advice on CSV injection, every text cell that begins with one of
//! these six characters is written with a leading `'`, which spreadsheets read as "this is
//! text" (Excel and LibreOffice hide it). Numbers are the exception on purpose: a figure of
//! a numeric column is written from the number itself (`-5`, `-0.25`), never from text, so it
//! can only be a number — a spreadsheet reads it as one and runs nothing — and it stays a
//! number for sorting and sums. A text that merely looks like a negative number (`-5` typed
//! in a text column) is text and gets its `'`.

use crate::model::{Cell, Report};

/// The characters a spreadsheet may take as the start of a formula (OWASP: `=`, `+`, `-`,
/// `@`, tab and carriage return).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `text` as a spreadsheet must show it: with a `'` in front when it could start a formula.
pub fn inert(text: &str) -> String {
    if text.starts_with(FORMULA_STARTS) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn raw(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => inert(s),
        Cell::Int(v) | Cell::Money(v) => v.to_string(),
        Cell::Rate(v) | Cell::Decimal(v) => v.to_string(),
        Cell::Empty => String::new(),
    }
}

pub fn render(report: &Report) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(vec![0xEF, 0xBB, 0xBF]);
    for table in report.tables() {
        writer.write_record([inert(&table.caption)])?;
        writer.write_record(table.columns.iter().map(|c| inert(&c.header)))?;
        for row in &table.rows {
            writer.write_record(row.iter().map(raw))?;
        }
        if let Some(totals) = &table.totals {
            writer.write_record(totals.iter().map(raw))?;
        }
        writer.write_record([""])?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn text_that_could_start_a_formula_is_made_inert() {
        for dangerous in [
            "=HYPERLINK(\"http://x\",\"bấm vào đây\")",
            "+84 912 345 678",
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(A1:A9)",
            "\t=1+1",
            "\r=1+1",
        ] {
            assert_eq!(inert(dangerous), format!("'{dangerous}"));
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for safe in [
            "Trường THCS An Hòa",
            "Giấy khen của Hiệu trưởng",
            " =1+1 (a leading space)",
            "1442/KH-PGDĐT",
            "",
            "– (a dash)",
        ] {
            assert_eq!(inert(safe), safe);
        }
    }

    #[test]
    fn numbers_stay_numbers_even_when_negative() {
        assert_eq!(raw(&Cell::Int(-5)), "-5");
        assert_eq!(raw(&Cell::Money(-1_500_000)), "-1500000");
        assert_eq!(raw(&Cell::Decimal(-0.25)), "-0.25");
        assert_eq!(raw(&Cell::Rate(0.8333)), "0.8333");
        // The same characters as text are text, and inert.
        assert_eq!(raw(&Cell::text("-5")), "'-5");
        assert_eq!(raw(&Cell::Empty), "");
    }
}
