//! Every format renders the sample report, and each file is what its format says it is.
//! (The figures in the files are checked against the aggregator in `tests/it`.)

#![allow(clippy::unwrap_used)]

use std::io::Read;

use chrono::NaiveDate;

use super::render;
use crate::compose::tests::data;
use crate::compose::{Issue, compose};
use crate::model::Report;
use crate::office::Office;
use crate::request::Format;

fn report() -> Report {
    let office = Office::default();
    compose(
        &data(),
        &Issue {
            office: &office,
            number: Some("12"),
            issued_on: NaiveDate::from_ymd_opt(2018, 4, 5).unwrap(),
        },
    )
}

/// Writes the files to `$REPORTING_SAMPLES` when set, to look at them.
fn keep(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("REPORTING_SAMPLES") {
        std::fs::write(std::path::Path::new(&dir).join(name), bytes).unwrap();
    }
}

#[test]
fn every_format_renders_a_file_of_its_kind() {
    let report = report();
    for format in Format::ALL {
        let file = render(&report, format).unwrap();
        keep(&file.file_name, &file.bytes);
        assert!(
            file.file_name
                .ends_with(&format!(".{}", format.extension()))
        );
        assert_eq!(file.media_type, format.media_type());
        match format {
            Format::Docx | Format::Xlsx => {
                let zip = zip::ZipArchive::new(std::io::Cursor::new(&file.bytes)).unwrap();
                let names: Vec<&str> = zip.file_names().collect();
                let main = if format == Format::Docx {
                    "word/document.xml"
                } else {
                    "xl/workbook.xml"
                };
                assert!(names.contains(&main), "{names:?}");
                if format == Format::Docx {
                    let images = names
                        .iter()
                        .filter(|n| n.starts_with("word/media/") && n.ends_with(".png"))
                        .count();
                    assert_eq!(images, report.figures().count());
                    let mut xml = String::new();
                    zip::ZipArchive::new(std::io::Cursor::new(&file.bytes))
                        .unwrap()
                        .by_name("word/document.xml")
                        .unwrap()
                        .read_to_string(&mut xml)
                        .unwrap();
                    // Every data table repeats its header row on each page; every table,
                    // the header and the signature included, has fixed column widths.
                    assert_eq!(
                        xml.matches("<w:tblHeader />").count(),
                        report.tables().count()
                    );
                    assert_eq!(
                        xml.matches("<w:tblLayout w:type=\"fixed\"").count(),
                        report.tables().count() + 2
                    );
                }
            }
            Format::Html => {
                let page = String::from_utf8(file.bytes).unwrap();
                assert!(page.contains("@page { size: A4;"));
                assert_eq!(page.matches("<svg").count(), report.figures().count());
                assert_eq!(
                    page.matches("<table class=\"data\"").count(),
                    report.tables().count()
                );
                assert!(!page.contains("<script"));
            }
            Format::Csv => {
                assert!(file.bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
                let text = String::from_utf8(file.bytes[3..].to_vec()).unwrap();
                let captions = text
                    .lines()
                    .filter(|l| l.trim_start_matches('"').starts_with("Bảng "))
                    .count();
                assert_eq!(captions, report.tables().count());
            }
            Format::Json => {
                let v: serde_json::Value = serde_json::from_slice(&file.bytes).unwrap();
                assert_eq!(v["letterhead"]["number"], "Số: 12/BC-PGDĐT");
            }
        }
    }
}

#[test]
fn charts_are_real_pngs() {
    let report = report();
    let figure = report.figures().next().unwrap();
    let scene = super::chart::layout(figure);
    let png = super::chart_png::png(&scene).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let mut reader = decoder.read_info().unwrap();
    let info = reader.info();
    assert_eq!(
        (info.width, info.height),
        (scene.width as u32, scene.height as u32)
    );
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut pixels).unwrap();
    // Not blank: bars in the first series' blue are drawn.
    assert!(pixels.chunks(3).any(|p| p == [0x1f, 0x4e, 0x79]));
    let mut bytes = Vec::new();
    std::io::Cursor::new(&png).read_to_end(&mut bytes).unwrap();
    keep("chart.png", &bytes);
}

#[test]
fn the_csv_file_opens_in_a_spreadsheet_without_running_formulas() {
    let mut report = report();
    // What a school could type as a nominee, and a figure below zero in a numeric column.
    let table = report
        .sections
        .iter_mut()
        .flat_map(|s| s.blocks.iter_mut())
        .find_map(|b| match b {
            crate::model::Block::Table(t) if t.columns.iter().any(|c| c.numeric) => Some(t),
            _ => None,
        })
        .unwrap();
    let numeric = table.columns.iter().position(|c| c.numeric).unwrap();
    table.rows[0][0] = crate::model::Cell::text("=HYPERLINK(\"http://x\")");
    table.rows[0][numeric] = crate::model::Cell::Int(-5);
    let caption = table.caption.clone();

    let file = render(&report, Format::Csv).unwrap();
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&file.bytes[3..]);
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let at = records.iter().position(|r| r[0] == caption).unwrap();
    // Caption, header, then the first row.
    let row = &records[at + 2];
    assert_eq!(row[0], "'=HYPERLINK(\"http://x\")");
    assert_eq!(row[numeric], "-5");
    for record in &records {
        for cell in record {
            let starts_a_formula = cell.starts_with(['=', '+', '@', '\t', '\r'])
                || (cell.starts_with('-') && cell.parse::<f64>().is_err());
            assert!(!starts_a_formula, "{cell:?}");
        }
    }
}

/// The sample report with a nomination list as wide and long as a district's: 60 lines and
/// one achievement that runs to pages.
fn report_with_a_wide_table() -> (Report, String) {
    let mut data = data();
    let long = "Phụ trách chuyên mục phát thanh hằng tuần trên Đài Truyền thanh huyện, ".repeat(20);
    let first = data.commendation.nominations[0].clone();
    data.commendation.nominations = (0..60)
        .map(|i| domain::district::views::NominationLine {
            nomination_id: format!("n-{i}"),
            achievement: if i == 0 {
                long.clone()
            } else {
                "Vận động 12 học sinh bỏ học trở lại lớp, góp phần duy trì phổ cập giáo dục.".into()
            },
            ..first.clone()
        })
        .collect();
    let office = Office::default();
    let report = compose(
        &data,
        &Issue {
            office: &office,
            number: Some("12"),
            issued_on: NaiveDate::from_ymd_opt(2018, 4, 5).unwrap(),
        },
    );
    (report, long)
}

#[test]
fn a_wide_table_gets_a_landscape_section_of_its_own_and_its_long_text_shortened() {
    let (report, long) = report_with_a_wide_table();
    let list = report
        .tables()
        .find(|t| t.key == "danh-sach-khen-thuong")
        .unwrap();
    assert_eq!(
        super::paper::layout(list).orientation,
        super::paper::Orientation::Landscape
    );
    let note = list.paper_note.clone().unwrap();
    let shortened = list.columns[3].on_paper(&long).into_owned();

    let file = render(&report, Format::Docx).unwrap();
    keep("wide.docx", &file.bytes);
    let mut xml = String::new();
    zip::ZipArchive::new(std::io::Cursor::new(&file.bytes))
        .unwrap()
        .by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    // One landscape section, ended by the paragraph after the list; the body's own (last)
    // section is portrait again.
    assert_eq!(xml.matches("w:orient=\"landscape\"").count(), 1);
    let landscape = xml.find("w:orient=\"landscape\"").unwrap();
    assert!(xml.find("Danh sách đề nghị, khen thưởng").unwrap() < landscape);
    let body_section = xml.rfind("<w:sectPr>").unwrap();
    assert!(landscape < body_section);
    assert!(xml[body_section..].contains("<w:pgSz w:w=\"11906\" w:h=\"16838\" />"));
    assert!(xml.contains(&note));
    assert!(xml.contains(&shortened));
    assert!(!xml.contains(long.trim()));

    let page = String::from_utf8(render(&report, Format::Html).unwrap().bytes).unwrap();
    keep("wide.html", page.as_bytes());
    assert_eq!(page.matches("<div class=\"landscape\">").count(), 1);
    assert!(page.contains("@page landscape { size: A4 landscape;"));
    assert!(page.contains(&super::html::escape(&note)));
    assert!(page.contains(&super::html::escape(&shortened)));

    // Excel keeps the achievement whole.
    let xlsx = render(&report, Format::Xlsx).unwrap();
    let mut strings = String::new();
    zip::ZipArchive::new(std::io::Cursor::new(&xlsx.bytes))
        .unwrap()
        .by_name("xl/sharedStrings.xml")
        .unwrap()
        .read_to_string(&mut strings)
        .unwrap();
    assert!(strings.contains(long.trim()));
}
