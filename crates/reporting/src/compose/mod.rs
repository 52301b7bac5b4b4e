//! From the aggregator's answers to the report: pure, no I/O, no clock.
//!
//! [`compose`] writes the official report of Decree 30/2020/NĐ-CP: the header (agencies,
//! national name and motto, number, place and date), the title with the period in words, an
//! opening that cites the district plan, the body, the recipients and the signature. The body
//! has four parts:
//!
//! - I. overview figures ([`overview`]);
//! - II. results: per content area with channels and highlights, per channel, per school,
//!   the schools and areas lagging the plan's targets ([`results`]); completeness and
//!   timeliness, responsiveness to citizens and the press with the overdue cases
//!   ([`follow_up`]); commendation and budget ([`resources`]);
//! - III. assessment and IV. directions, written from the same facts ([`directions`]): they
//!   name the schools and areas below target, the late reporters, the overdue cases, the
//!   budgets that lag — and say so plainly when there is nothing to name.
//!
//! A report for one school is the same report narrowed to that school: its rows, its cases,
//! its budget; the per-school tables then hold one line.

mod directions;
mod facts;
mod follow_up;
mod overview;
mod resources;
mod results;
pub mod words;

use chrono::NaiveDate;
use domain::vi;

use crate::data::ReportData;
use crate::model::{
    Block, Cell, Column, Figure, Letterhead, Report, ReportMeta, SchoolName, Section, Series,
    Signature, Table,
};
use crate::office::Office;

pub use facts::{BUDGET_EXPECTED, ON_TIME_EXPECTED};

/// Who issues the report, when, under which number.
#[derive(Debug, Clone, Copy)]
pub struct Issue<'a> {
    pub office: &'a Office,
    /// The number in the office's register; `None` leaves it blank.
    pub number: Option<&'a str>,
    /// The date of the date line (Vietnam local date).
    pub issued_on: NaiveDate,
}

/// Writes the report of `data`.
pub fn compose(data: &ReportData, issue: &Issue<'_>) -> Report {
    let facts = facts::Facts::new(data);
    let mut ctx = Ctx::default();
    let period_words = words::period(data.period, data.district_plan.period);
    let school = data.school.as_deref().map(|code| SchoolName {
        code: code.to_string(),
        name: data.school_name(code).to_string(),
    });
    let whom = match &school {
        Some(s) => format!(" của {}", s.name),
        None => String::new(),
    };

    let plan = &data.district_plan;
    let mut intro = vec![format!(
        "Căn cứ Kế hoạch số {} ngày {} của {} về {};",
        plan.number,
        vi::date(plan.date),
        plan.issuer,
        words::lower_first(&plan.title)
    )];
    intro.push(match &school {
        Some(s) => format!(
            "Phòng Giáo dục và Đào tạo báo cáo kết quả thực hiện kế hoạch truyền thông về giáo dục và đào tạo {period_words} ({}) của {} như sau:",
            words::range(data.range),
            s.name
        ),
        None => format!(
            "Phòng Giáo dục và Đào tạo báo cáo kết quả thực hiện kế hoạch truyền thông về giáo dục và đào tạo {period_words} ({}) của {} trường trên địa bàn huyện như sau:",
            words::range(data.range),
            facts.schools.len()
        ),
    });

    // Tables and figures are numbered in reading order: part I first.
    let overview = overview::blocks(&facts, &mut ctx);
    let mut results = Vec::new();
    results.extend(results::by_area(&facts, &mut ctx));
    results.extend(results::by_channel(&facts, &mut ctx));
    results.extend(results::by_school(&facts, &mut ctx));
    results.extend(results::lagging(&facts, &mut ctx));
    results.extend(follow_up::completeness(&facts, &mut ctx));
    results.extend(follow_up::responsiveness(&facts, &mut ctx));
    results.extend(resources::commendation(&facts, &mut ctx));
    results.extend(resources::budget(&facts, &mut ctx));
    let sections = vec![
        Section {
            number: words::roman(1),
            heading: "TÌNH HÌNH CHUNG".into(),
            blocks: overview,
        },
        Section {
            number: words::roman(2),
            heading: "KẾT QUẢ THỰC HIỆN".into(),
            blocks: results,
        },
        Section {
            number: words::roman(3),
            heading: "ĐÁNH GIÁ CHUNG".into(),
            blocks: directions::assessment(&facts),
        },
        Section {
            number: words::roman(4),
            heading: "PHƯƠNG HƯỚNG, NHIỆM VỤ VÀ CHỈ ĐẠO TRONG THỜI GIAN TỚI".into(),
            blocks: directions::directions(&facts),
        },
    ];

    let office = issue.office;
    Report {
        meta: ReportMeta {
            period: data.period.to_string(),
            period_words: period_words.clone(),
            start: data.range.start().to_string(),
            end: data.range.end().to_string(),
            as_of: data.as_of.to_string(),
            issued_on: issue.issued_on.to_string(),
            school,
        },
        letterhead: Letterhead {
            parent_agency: office.parent_agency.clone(),
            agency: office.agency.clone(),
            national_name: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(),
            motto: "Độc lập - Tự do - Hạnh phúc".into(),
            number: match issue.number {
                Some(n) => format!("Số: {n}/{}", office.symbol),
                None => format!("Số:      /{}", office.symbol),
            },
            place_date: words::place_date(&office.place, issue.issued_on),
        },
        title: "BÁO CÁO".into(),
        subtitle: format!(
            "Kết quả thực hiện kế hoạch truyền thông về giáo dục và đào tạo{whom} {period_words}"
        ),
        intro,
        sections,
        recipients: office.recipients.clone(),
        signature: Signature {
            title: office.signer_title.clone(),
            name: office.signer_name.clone(),
        },
    }
}

/// The name of a report's file: "Báo cáo truyền thông GDĐT quý I năm 2018.docx", with the
/// school's name for a school's report.
pub fn file_name(report: &Report, extension: &str) -> String {
    let whom = match &report.meta.school {
        Some(s) => format!(" {}", s.name),
        None => String::new(),
    };
    let name = format!(
        "Báo cáo truyền thông GDĐT{whom} {}.{extension}",
        report.meta.period_words
    );
    // Nothing a file system refuses.
    name.chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '-'
            } else {
                c
            }
        })
        .collect()
}

/// Numbers headings, tables and figures in reading order.
#[derive(Debug, Default)]
struct Ctx {
    headings: usize,
    tables: usize,
    figures: usize,
}

impl Ctx {
    /// A numbered heading of part II, "3. Kết quả theo từng trường".
    fn heading(&mut self, text: &str) -> Block {
        self.headings += 1;
        Block::Heading(format!("{}. {text}", self.headings))
    }

    /// A table block, captioned "Bảng N. …".
    fn table(
        &mut self,
        key: &str,
        caption: &str,
        sheet: &str,
        columns: Vec<Column>,
        rows: Vec<Vec<Cell>>,
        totals: Option<Vec<Cell>>,
    ) -> Block {
        self.tables += 1;
        let paper_note = paper_note(&columns, &rows, sheet);
        Block::Table(Table {
            key: key.to_string(),
            caption: format!("Bảng {}. {caption}", self.tables),
            sheet: sheet.to_string(),
            columns,
            rows,
            totals,
            paper_note,
        })
    }

    /// A figure block, captioned "Biểu đồ N. …".
    fn figure(
        &mut self,
        key: &str,
        caption: &str,
        unit: &str,
        categories: Vec<String>,
        series: Vec<Series>,
    ) -> Block {
        self.figures += 1;
        Block::Figure(Figure {
            key: key.to_string(),
            caption: format!("Biểu đồ {}. {caption}", self.figures),
            unit: unit.to_string(),
            categories,
            series,
        })
    }
}

/// The note under a table whose free text paper shortens: which columns, and where the full
/// text is (the Excel file's sheet of the table). `None` when every cell fits.
fn paper_note(columns: &[Column], rows: &[Vec<Cell>], sheet: &str) -> Option<String> {
    let shortened: Vec<String> = columns
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            rows.iter().any(|r| match r.get(*i) {
                Some(Cell::Text(text)) => c.shortens(text),
                _ => false,
            })
        })
        .map(|(_, c)| format!("“{}”", c.header))
        .collect();
    let which = match shortened.as_slice() {
        [] => return None,
        [one] => format!("cột {one}"),
        many => format!("các cột {}", words::join(many)),
    };
    Some(format!(
        "Ghi chú: nội dung dài ở {which} được rút gọn trong bảng (kết thúc bằng dấu “…”); \
         toàn văn xem tại trang tính “{sheet}” của tệp Excel cùng kỳ báo cáo."
    ))
}

/// The totals line of `rows`: the label in the first column, the sum of every `sum` column
/// (empty when no row has a value there, like a year nobody has settled), nothing elsewhere.
fn totals(label: &str, columns: &[Column], rows: &[Vec<Cell>]) -> Vec<Cell> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                Cell::text(label)
            } else if c.sum {
                let (mut money, mut any) = (false, false);
                let sum = rows
                    .iter()
                    .map(|r| match r.get(i) {
                        Some(Cell::Int(v)) => {
                            any = true;
                            *v
                        }
                        Some(Cell::Money(v)) => {
                            (money, any) = (true, true);
                            *v
                        }
                        _ => 0,
                    })
                    .sum();
                match (any, money) {
                    (false, _) => Cell::Empty,
                    (true, true) => Cell::Money(sum),
                    (true, false) => Cell::Int(sum),
                }
            } else {
                Cell::Empty
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
