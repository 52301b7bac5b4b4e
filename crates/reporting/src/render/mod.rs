//! Writing a [`Report`] as a file: one module per format, all pure (bytes in memory).
//!
//! - [`docx`]: Word, A4, Times New Roman 14 pt, the Decree 30/2020 layout, real tables and
//!   the charts as PNG images;
//! - [`xlsx`]: Excel, a sheet per table with numbers as numbers, totals as `SUM` formulas
//!   (with their values cached) and frozen header rows;
//! - [`html`]: a printable page, A4 print styles, inline SVG charts, no script;
//! - [`csv`] and [`json`]: the tables, for other programs.
//!
//! Charts are laid out once ([`chart`]) and drawn as SVG or PNG; tables are laid out on A4
//! once ([`paper`]: orientation and column widths) for Word and the printable page.

pub mod chart;
mod chart_png;
mod chart_svg;
pub mod csv;
pub mod docx;
mod font;
pub mod html;
pub mod json;
pub mod paper;
mod times;
pub mod xlsx;

use domain::vi;

use crate::compose::file_name;
use crate::model::{Cell, Report};
use crate::request::Format;

/// A rendered report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// A Vietnamese file name with its extension.
    pub file_name: String,
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

/// A renderer's failure: a library refusing what we gave it. Never the user's fault.
#[derive(Debug, thiserror::Error)]
#[error("writing the {format} file failed: {reason}")]
pub struct RenderError {
    pub format: Format,
    pub reason: String,
}

impl RenderError {
    fn new(format: Format, reason: impl std::fmt::Display) -> Self {
        Self {
            format,
            reason: reason.to_string(),
        }
    }
}

/// Writes `report` as `format`.
pub fn render(report: &Report, format: Format) -> Result<RenderedFile, RenderError> {
    let bytes = match format {
        Format::Docx => docx::render(report).map_err(|e| RenderError::new(format, e))?,
        Format::Xlsx => xlsx::render(report).map_err(|e| RenderError::new(format, e))?,
        Format::Html => html::render(report).into_bytes(),
        Format::Csv => csv::render(report).map_err(|e| RenderError::new(format, e))?,
        Format::Json => json::render(report).map_err(|e| RenderError::new(format, e))?,
    };
    Ok(RenderedFile {
        file_name: file_name(report, format.extension()),
        media_type: format.media_type(),
        bytes,
    })
}

/// A cell as people read it in Word and on the page: `1.234`, `15.000.000`, `83,33%`, `4,5`.
pub fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => s.clone(),
        Cell::Int(v) | Cell::Money(v) => vi::int(*v),
        Cell::Rate(v) => vi::percent(*v),
        Cell::Decimal(v) => vi::decimal(*v, 1),
        Cell::Empty => String::new(),
    }
}

#[cfg(test)]
mod tests;
