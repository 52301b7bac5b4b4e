//! The report's tables as one CSV file (UTF-8 with a byte-order mark, so Excel reads the
//! Vietnamese letters): for each table a line with its caption, the header line, the rows and
//! the totals line, then an empty line. Numbers are plain (`1234567`, rates as shares
//! `0.8333`) so that other programs read them without guessing the locale.

use crate::model::{Cell, Report};

fn raw(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => s.clone(),
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
        writer.write_record([table.caption.as_str()])?;
        writer.write_record(table.columns.iter().map(|c| c.header.as_str()))?;
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
