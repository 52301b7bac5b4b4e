//! The district's 2017–2020 report on paper. The Word file is converted to PDF by LibreOffice
//! (headless, with a private profile so that parallel runs do not share one) and the
//! printable page is printed to PDF by headless Chromium; both are read back page by page
//! with `pdftotext`. Every table must stay readable on A4 — no table may run over more pages
//! than its rows need — and the whole report must stay the length of a report. The Excel
//! file must hold in full the free text that paper shortens.
//!
//! The PDFs are kept in `target/test-artefacts/reporting/paper/` for people to look at
//! (`pdftoppm -r 60 -png` renders their pages).
//!
//! `cargo test -p reporting --test it paper` runs these tests alone. They share one demo
//! district of their own, started once and stopped before the first check, so they do not
//! wait for the other integration test.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use calamine::{Reader, Xlsx, open_workbook_from_rs};
use chrono::NaiveDate;
use district_fixture::DemoDistrict;
use reporting::model::{Block, Report, Table};
use reporting::render::paper::{self, Orientation};
use reporting::request::Fields;
use reporting::{Format, Issue, ReportRequest, compose, gather, render};
use test_harness::chromium::artefacts_dir;

use crate::{docx_reader, support};

/// The day the report is issued: any day after the plan ended gives the same figures.
fn issued_on() -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 1, 15).unwrap()
}

/// The whole district's report over the plan, composed from the demo district's answers
/// (the district is stopped once they are gathered: the report is plain data).
fn demo_report() -> &'static Report {
    static REPORT: OnceLock<Report> = OnceLock::new();
    REPORT.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let district = DemoDistrict::start().await.unwrap();
            let settings =
                support::settings(district.aggregator_url(), &district.credentials().reporting);
            let client = settings.aggregator.client().unwrap();
            let request = ReportRequest::parse(&Fields::VI, "plan", None, "docx", None).unwrap();
            let data = gather(&client, &request, &Fields::VI, issued_on())
                .await
                .unwrap();
            district.stop().await.unwrap();
            compose(
                &data,
                &Issue {
                    office: &settings.office,
                    number: None,
                    issued_on: issued_on(),
                },
            )
        })
    })
}

/// Runs `program`, failing with a hint when it is not installed.
fn run(program: &str, args: &[&std::ffi::OsStr]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{program}` ({e}); the paper tests need LibreOffice, poppler-utils, \
             Chromium and Liberation fonts (`cargo xtask test` installs them: \
             libreoffice-writer-nogui, poppler-utils, chromium, fonts-liberation2)"
            )
        });
    assert!(
        output.status.success(),
        "`{program}` failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Without Times New Roman or its metric twin, LibreOffice and Chromium set the report in
/// another font's widths and the page counts measure that font, not the layout.
fn assert_times_metrics() {
    let font = run("fc-match", &["Times New Roman".as_ref()]);
    assert!(
        font.contains("Liberation Serif") || font.contains("Times New Roman"),
        "Times New Roman resolves to {font:?}: install fonts-liberation2 (`cargo xtask test` does)"
    );
}

/// Where the files of one test go.
fn artefacts() -> PathBuf {
    let dir = artefacts_dir("reporting").join("paper");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `docx` converted to PDF next to it by LibreOffice, with a profile of its own.
fn word_to_pdf(docx: &Path) -> PathBuf {
    let profile = tempfile::tempdir().unwrap();
    let profile = format!("-env:UserInstallation=file://{}", profile.path().display());
    run(
        "soffice",
        &[
            profile.as_ref(),
            "--headless".as_ref(),
            "--norestore".as_ref(),
            "--convert-to".as_ref(),
            "pdf".as_ref(),
            "--outdir".as_ref(),
            docx.parent().unwrap().as_os_str(),
            docx.as_os_str(),
        ],
    );
    let pdf = docx.with_extension("pdf");
    assert!(pdf.exists(), "LibreOffice wrote no {}", pdf.display());
    pdf
}

/// `html` printed to `pdf` by headless Chromium, with a profile of its own, without the
/// browser's own header and footer.
fn page_to_pdf(html: &Path, pdf: &Path) {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", html.display());
    run(
        "chromium",
        &[
            "--headless".as_ref(),
            "--no-sandbox".as_ref(),
            "--disable-gpu".as_ref(),
            format!("--user-data-dir={}", profile.path().display()).as_ref(),
            "--no-pdf-header-footer".as_ref(),
            format!("--print-to-pdf={}", pdf.display()).as_ref(),
            url.as_ref(),
        ],
    );
    assert!(pdf.exists(), "Chromium wrote no {}", pdf.display());
}

/// The text of every page, lines with their runs of spaces collapsed.
fn pages(pdf: &Path) -> Vec<Vec<String>> {
    let text = run(
        "pdftotext",
        &["-layout".as_ref(), pdf.as_os_str(), "-".as_ref()],
    );
    let mut pages: Vec<Vec<String>> = text
        .split('\u{c}')
        .map(|page| {
            page.lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|l| !l.is_empty())
                .collect()
        })
        .collect();
    // pdftotext ends the last page with a form feed too.
    if pages.last().is_some_and(Vec::is_empty) {
        pages.pop();
    }
    pages
}

/// The page sizes of a PDF as `pdfinfo` reports them, in points, first page to last.
fn page_sizes(pdf: &Path) -> Vec<(f64, f64)> {
    let info = run(
        "pdfinfo",
        &[
            "-f".as_ref(),
            "1".as_ref(),
            "-l".as_ref(),
            "9999".as_ref(),
            pdf.as_os_str(),
        ],
    );
    info.lines()
        .filter(|l| l.starts_with("Page") && l.contains(" size: "))
        .map(|l| {
            let size = l.split(" size: ").nth(1).unwrap();
            let mut parts = size.split_whitespace();
            let w: f64 = parts.next().unwrap().parse().unwrap();
            parts.next(); // "x"
            let h: f64 = parts.next().unwrap().parse().unwrap();
            (w, h)
        })
        .collect()
}

/// What the first line of a block starts with on paper: enough words to find it, few enough
/// to stay on its first line.
fn probe(block: &Block) -> String {
    let first_words = |s: &str| s.split_whitespace().take(4).collect::<Vec<_>>().join(" ");
    match block {
        Block::Heading(h) | Block::Paragraph(h) => first_words(h),
        Block::Bullets(items) => items.first().map_or_else(String::new, |i| first_words(i)),
        Block::Table(t) => first_words(&t.caption),
        // A chart's first line on paper is part of the picture; its caption follows it.
        Block::Figure(f) => first_words(&f.caption),
    }
}

/// One table's place in a PDF.
#[derive(Debug)]
struct Placed<'r> {
    table: &'r Table,
    /// 0-based pages of the caption and of the table's last row.
    first: usize,
    last: usize,
}

impl Placed<'_> {
    fn spans(&self) -> usize {
        self.last - self.first + 1
    }

    /// Rows on paper: the header's, the table's and the totals line.
    fn rows(&self) -> usize {
        self.table.rows.len() + 1 + usize::from(self.table.totals.is_some())
    }
}

/// Finds each table's caption and the block after it, in reading order.
fn place_tables<'r>(report: &'r Report, pages: &[Vec<String>]) -> Vec<Placed<'r>> {
    // Each block with what follows it on paper: the next block, the next section's heading,
    // or the closing.
    let mut followed: Vec<(&Block, String)> = Vec::new();
    for (i, section) in report.sections.iter().enumerate() {
        for (j, block) in section.blocks.iter().enumerate() {
            let next = match section.blocks.get(j + 1) {
                Some(next) => probe(next),
                None => report.sections.get(i + 1).map_or_else(
                    || "Nơi nhận:".to_string(),
                    |s| format!("{}. {}", s.number, s.heading),
                ),
            };
            followed.push((block, next));
        }
    }
    // (page, line) of the first line at or after `from` that starts with `text`.
    let find = |text: &str, from: (usize, usize)| -> (usize, usize) {
        for (p, lines) in pages.iter().enumerate().skip(from.0) {
            let start = if p == from.0 { from.1 } else { 0 };
            if let Some(l) = lines.iter().skip(start).position(|l| l.starts_with(text)) {
                return (p, start + l);
            }
        }
        panic!("«{text}» is on no page from page {} on", from.0 + 1)
    };
    let mut at = (0, 0);
    let mut placed = Vec::new();
    for (block, next) in followed {
        let Block::Table(table) = block else { continue };
        at = find(&probe(block), at);
        let (page, line) = find(&next, (at.0, at.1 + 1));
        // A block that opens its page follows a table that ended on the page before.
        let last = if line == 0 && page > at.0 {
            page - 1
        } else {
            page
        };
        placed.push(Placed {
            table,
            first: at.0,
            last,
        });
    }
    placed
}

/// The most pages a table of `rows` rows (its header included) may span. A readable row of
/// an A4 table is one to three lines of 12 pt text — long free text is shortened in the
/// table and the Excel file has it in full, and no word is broken. A line is 13.8 pt and a
/// row adds its margins and border, so three lines take 1.6 cm; a landscape page holds 16 cm
/// of text, the portrait page 25.7 cm. Nine rows to a page (landscape, every row three lines
/// high, the header repeated) and one page more for a table that starts low on a page give
/// the bound: the 52 rows of the demo's nominations may take 7 pages. Before the tables were
/// laid out from their content, the nominations took 17 pages: column widths that broke
/// words and left the achievement a few letters wide.
fn max_pages(rows: usize) -> usize {
    rows.div_ceil(9) + 1
}

/// The whole report's bound. The demo district's report has about 8 pages of text and
/// charts and 13 tables with 320 rows, 135 of them the overdue and late cases; laid out
/// from their content they come to 32 pages in Word and about as many in Chromium. Before,
/// the same report took 43 pages in Word and 44 printed from the page. 36 leaves room for the
/// text to grow a little and still fails when tables go back to wrapping word by word.
const MAX_REPORT_PAGES: usize = 36;

/// The problems of `report` laid out in `pdf`, printed as a table of where each table went.
fn problems_on_paper(what: &str, report: &Report, pdf: &Path) -> Vec<String> {
    let pages = pages(pdf);
    let sizes = page_sizes(pdf);
    let placed = place_tables(report, &pages);
    assert_eq!(placed.len(), report.tables().count());
    let mut problems = Vec::new();
    eprintln!("{what}: {} pages ({})", pages.len(), pdf.display());
    for t in &placed {
        let layout = paper::layout(t.table);
        eprintln!(
            "  {:<66} {:>4} rows, pages {:>2}–{:<2} ({} of at most {}), {:?}",
            t.table.caption,
            t.rows(),
            t.first + 1,
            t.last + 1,
            t.spans(),
            max_pages(t.rows()),
            layout.orientation
        );
        if t.spans() > max_pages(t.rows()) {
            problems.push(format!(
                "{what}: {} ({} rows) spans {} pages, {}–{}",
                t.table.caption,
                t.rows(),
                t.spans(),
                t.first + 1,
                t.last + 1
            ));
        }
        // A table laid out landscape is printed on landscape pages, and only those.
        let landscape = |p: usize| sizes.get(p).is_some_and(|(w, h)| w > h);
        let wanted = layout.orientation == Orientation::Landscape;
        if (t.first..=t.last).any(|p| landscape(p) != wanted) {
            problems.push(format!(
                "{what}: {} should be on {:?} pages, pages {}–{} are {:?}",
                t.table.caption,
                layout.orientation,
                t.first + 1,
                t.last + 1,
                &sizes[t.first..=t.last.min(sizes.len() - 1)]
            ));
        }
    }
    if pages.len() > MAX_REPORT_PAGES {
        problems.push(format!(
            "{what}: the report has {} pages, more than {MAX_REPORT_PAGES}",
            pages.len()
        ));
    }
    problems
}

#[test]
fn the_word_report_reads_well_on_a4() {
    assert_times_metrics();
    let report = demo_report();
    let file = render(report, Format::Docx).unwrap();
    let docx = artefacts().join("bao-cao-2017-2020.docx");
    std::fs::write(&docx, &file.bytes).unwrap();
    let pdf = word_to_pdf(&docx);
    let problems = problems_on_paper("Word", report, &pdf);
    assert!(problems.is_empty(), "{problems:#?}");

    // The demo's report turns the page for its widest table, and only for tables.
    assert!(
        report
            .tables()
            .any(|t| paper::layout(t).orientation == Orientation::Landscape)
    );
}

#[test]
fn the_printable_page_reads_well_on_a4() {
    assert_times_metrics();
    let report = demo_report();
    let file = render(report, Format::Html).unwrap();
    let dir = artefacts();
    let html = dir.join("bao-cao-2017-2020.html");
    std::fs::write(&html, &file.bytes).unwrap();
    let pdf = dir.join("bao-cao-2017-2020-trang-in.pdf");
    page_to_pdf(&html, &pdf);
    let problems = problems_on_paper("Printable page", report, &pdf);
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The free text paper shortens is whole in the Excel file, shortened in Word as its column
/// says, and the Word table says so under it.
#[test]
fn the_excel_file_keeps_the_full_text_that_paper_shortens() {
    let report = demo_report();
    let xlsx = render(report, Format::Xlsx).unwrap();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(xlsx.bytes)).unwrap();
    let docx = render(report, Format::Docx).unwrap();
    let doc = docx_reader::open(&docx.bytes);
    let mut long_columns = 0;
    for t in report.tables() {
        let sheet = book.worksheet_range(&t.sheet).unwrap();
        let word = doc.table_after(t.caption.split_once(". ").unwrap().1);
        for (c, column) in t.columns.iter().enumerate() {
            if column.paper_chars.is_none() {
                continue;
            }
            long_columns += 1;
            for (r, cells) in t.rows.iter().enumerate() {
                let full = reporting::render::cell_text(&cells[c]);
                // The sheet's header is on row 4 and data from row 5; Word's header is row 0.
                let in_excel = sheet
                    .get_value((reporting::render::xlsx::HEADER_ROW + 1 + r as u32, c as u32))
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                assert_eq!(in_excel, full, "{}: row {}", t.caption, r + 1);
                assert_eq!(
                    word[r + 1][c + 1],
                    column.on_paper(&full),
                    "{}: row {}",
                    t.caption,
                    r + 1
                );
            }
        }
        let shortened = t.columns.iter().enumerate().any(|(c, column)| {
            t.rows
                .iter()
                .any(|r| column.shortens(&reporting::render::cell_text(&r[c])))
        });
        assert_eq!(t.paper_note.is_some(), shortened, "{}", t.caption);
        if let Some(note) = &t.paper_note {
            assert!(
                doc.paragraphs().iter().any(|p| &p.text == note),
                "{}: no note in Word",
                t.caption
            );
            assert!(note.contains(&t.sheet), "{note}");
        }
    }
    // The nominations (nominee, achievement, decision) and the cases' subjects.
    assert_eq!(long_columns, 4);
}
