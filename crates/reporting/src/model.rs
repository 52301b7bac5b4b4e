//! The report as a document, independent of its file format: what [`crate::compose`] builds
//! and every renderer in [`crate::render`] writes out.
//!
//! The model is the single source of a report's text and figures, so the Word file, the Excel
//! workbook, the printable page and the CSV/JSON exports cannot disagree: each renderer only
//! lays the same [`Report`] out. It is plain data, serialisable as the JSON export.

use std::borrow::Cow;

use serde::Serialize;

/// One report, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// What the report is about (period, scope), for file names and the JSON export.
    pub meta: ReportMeta,
    /// The administrative header of Decree 30/2020/NĐ-CP.
    pub letterhead: Letterhead,
    /// "BÁO CÁO".
    pub title: String,
    /// "Kết quả thực hiện kế hoạch truyền thông về giáo dục và đào tạo quý I năm 2018".
    pub subtitle: String,
    /// Opening paragraphs (the plan the report answers to).
    pub intro: Vec<String>,
    /// The body: I., II., III. …
    pub sections: Vec<Section>,
    /// "Nơi nhận:" lines, each as written ("- UBND huyện (để b/c);").
    pub recipients: Vec<String>,
    pub signature: Signature,
}

/// What the report covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportMeta {
    /// The canonical period code, "2018-Q1".
    pub period: String,
    /// The period in words, "quý I năm 2018".
    pub period_words: String,
    /// First and last day of the period, "YYYY-MM-DD".
    pub start: String,
    pub end: String,
    /// The date citizen feedback and press issues are judged at, "YYYY-MM-DD".
    pub as_of: String,
    /// The day the report is issued, "YYYY-MM-DD".
    pub issued_on: String,
    /// The school the report is scoped to; `None` for the whole district.
    pub school: Option<SchoolName>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchoolName {
    pub code: String,
    pub name: String,
}

/// The header block: issuing agency on the left, national name and motto on the right.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Letterhead {
    /// "UBND HUYỆN TAM NÔNG".
    pub parent_agency: String,
    /// "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO".
    pub agency: String,
    /// "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".
    pub national_name: String,
    /// "Độc lập - Tự do - Hạnh phúc".
    pub motto: String,
    /// "Số: 12/BC-PGDĐT", or with the number left blank for the clerk.
    pub number: String,
    /// "Tam Nông, ngày 26 tháng 11 năm 2026" (written in italics).
    pub place_date: String,
}

/// The signature block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signature {
    /// "TRƯỞNG PHÒNG".
    pub title: String,
    /// The signer's name; empty leaves the space blank.
    pub name: String,
}

/// A numbered part of the body ("I. KẾT QUẢ THỰC HIỆN").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// "I", "II", …
    pub number: String,
    pub heading: String,
    pub blocks: Vec<Block>,
}

/// A piece of a section, in reading order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Block {
    /// A run-in heading inside a section ("1. Kết quả theo nội dung truyền thông").
    Heading(String),
    Paragraph(String),
    /// Items each written on its own line with a leading dash.
    Bullets(Vec<String>),
    Table(Table),
    Figure(Figure),
}

/// A table with typed cells, so that Excel gets numbers and totals become formulas.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// A stable identifier ("ke-hoach-theo-truong"), for CSV/JSON consumers and tests.
    pub key: String,
    /// The caption, "Bảng 2. Số hoạt động theo trường và nội dung".
    pub caption: String,
    /// The Excel sheet's name: at most 31 characters, unique within a report.
    pub sheet: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// The totals line, when the table has one. Cells of `Sum` columns hold the total the
    /// aggregator gave (or the sum of the column); Excel writes them as `SUM` formulas.
    pub totals: Option<Vec<Cell>>,
    /// What Word and the printable page print under the table when they shortened a cell of
    /// a [`Column::paper_chars`] column: which columns, and that the Excel file has the full
    /// text. `None` when nothing was shortened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paper_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub header: String,
    /// Numbers are right-aligned; text is left-aligned.
    pub numeric: bool,
    /// Whether the totals line sums this column (an Excel `SUM` formula).
    pub sum: bool,
    /// Free text typed by schools, which may run to pages (an achievement may hold 10,000
    /// characters): on paper — Word and the printable page — a cell is shortened to this
    /// many characters ([`Column::on_paper`]), so that a row stays a few lines; the Excel
    /// file, the CSV and the JSON keep the full text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paper_chars: Option<usize>,
}

impl Column {
    pub fn text(header: &str) -> Self {
        Self {
            header: header.to_string(),
            numeric: false,
            sum: false,
            paper_chars: None,
        }
    }

    /// A text column of free text, shortened on paper to `paper_chars` characters.
    pub fn long_text(header: &str, paper_chars: usize) -> Self {
        Self {
            paper_chars: Some(paper_chars),
            ..Self::text(header)
        }
    }

    /// A numeric column without a total.
    pub fn number(header: &str) -> Self {
        Self {
            numeric: true,
            ..Self::text(header)
        }
    }

    /// A numeric column whose total is the sum of its rows.
    pub fn summed(header: &str) -> Self {
        Self {
            numeric: true,
            sum: true,
            ..Self::text(header)
        }
    }

    /// `text` as paper shows it in this column: whole, or shortened at a word to at most
    /// [`Column::paper_chars`] characters ending in "…".
    pub fn on_paper<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match self.paper_chars {
            Some(max) if text.chars().count() > max => Cow::Owned(shorten(text, max)),
            _ => Cow::Borrowed(text),
        }
    }

    /// Whether paper shortens `text` in this column.
    pub fn shortens(&self, text: &str) -> bool {
        matches!(self.on_paper(text), Cow::Owned(_))
    }
}

/// `text` cut to at most `max` characters, "…" included: at the last space when that keeps
/// most of it, else mid-word; trailing spaces and punctuation dropped before the "…".
fn shorten(text: &str, max: usize) -> String {
    let keep: String = text.chars().take(max.saturating_sub(1)).collect();
    let at_word = match keep.rfind(char::is_whitespace) {
        Some(space) if keep[..space].chars().count() * 3 >= max * 2 => &keep[..space],
        _ => keep.as_str(),
    };
    let trimmed = at_word.trim_end_matches(|c: char| c.is_whitespace() || ",;:.-–".contains(c));
    format!("{trimmed}…")
}

/// One value of a table; the variant says how it is written.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    /// A whole number: a count, or days.
    Int(i64),
    /// Integer đồng.
    Money(i64),
    /// A share between 0 and 1, shown as a percentage ("83,33%").
    Rate(f64),
    /// A decimal with one place (mean days, "4,5").
    Decimal(f64),
    /// No value (a rate with nothing to divide, a year not settled yet).
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    pub fn opt_int(v: Option<i64>) -> Self {
        v.map_or(Cell::Empty, Cell::Int)
    }

    pub fn opt_money(v: Option<i64>) -> Self {
        v.map_or(Cell::Empty, Cell::Money)
    }

    pub fn opt_rate(v: Option<f64>) -> Self {
        v.map_or(Cell::Empty, Cell::Rate)
    }

    pub fn opt_decimal(v: Option<f64>) -> Self {
        v.map_or(Cell::Empty, Cell::Decimal)
    }

    /// The number of the cell, if it has one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Cell::Int(v) | Cell::Money(v) => Some(*v as f64),
            Cell::Rate(v) | Cell::Decimal(v) => Some(*v),
            Cell::Text(_) | Cell::Empty => None,
        }
    }
}

/// A chart: horizontal bars, one group per category, one bar per series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// A stable identifier ("hoat-dong-theo-noi-dung").
    pub key: String,
    /// The caption, "Biểu đồ 1. Số hoạt động theo nội dung truyền thông".
    pub caption: String,
    /// What the values count ("hoạt động", "triệu đồng").
    pub unit: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    /// One per category.
    pub values: Vec<f64>,
}

impl Table {
    /// The text of a cell as paper shows it: numbers as [`crate::render::cell_text`] writes
    /// them, free text shortened as its column says.
    pub fn paper_text(&self, column: usize, cell: &Cell) -> String {
        let text = crate::render::cell_text(cell);
        match self.columns.get(column) {
            Some(c) => c.on_paper(&text).into_owned(),
            None => text,
        }
    }
}

impl Report {
    /// Every table of the report, in reading order.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.sections
            .iter()
            .flat_map(|s| s.blocks.iter())
            .filter_map(|b| match b {
                Block::Table(t) => Some(t),
                _ => None,
            })
    }

    /// Every figure of the report, in reading order.
    pub fn figures(&self) -> impl Iterator<Item = &Figure> {
        self.sections
            .iter()
            .flat_map(|s| s.blocks.iter())
            .filter_map(|b| match b {
                Block::Figure(f) => Some(f),
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_free_text_is_shortened_on_paper_at_a_word() {
        let column = Column::long_text("Thành tích", 40);
        let long = "Tổ chức hiệu quả các hoạt động trải nghiệm, được phụ huynh và địa phương đánh giá cao.";
        let shown = column.on_paper(long);
        assert_eq!(shown, "Tổ chức hiệu quả các hoạt động trải…");
        assert!(shown.chars().count() <= 40);
        assert!(column.shortens(long));
        // Short enough: whole, and never shortened in a plain column.
        assert_eq!(column.on_paper("Vận động học sinh"), "Vận động học sinh");
        assert!(!Column::text("Thành tích").shortens(long));
    }

    #[test]
    fn a_text_without_spaces_is_cut_mid_word() {
        let column = Column::long_text("Số quyết định", 10);
        assert_eq!(column.on_paper("123456789/QĐ-UBND"), "123456789…");
    }
}
