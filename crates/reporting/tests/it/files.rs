//! Every figure of a generated report equals the aggregator's answer for the same period —
//! checked by reading the .docx (unzip + XML) and the .xlsx (calamine) back and comparing
//! them with the aggregator's own gRPC answers, fetched here independently.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use wire::pb;

use crate::docx_reader;

use crate::support::{Env, opt_int, vn_number};

const LEVELS: [&str; 5] = ["school", "district", "province", "ministry", "government"];

fn n(v: i64) -> Option<f64> {
    Some(v as f64)
}

fn cell_of(row: &[String], i: usize) -> Option<f64> {
    vn_number(&row[i])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_figure_of_the_word_report_equals_the_aggregators() {
    let env = Env::start().await;
    {
        let period = "2018-2019";
        let reply = env.generate(period, "", pb::ReportFormat::Docx).await;
        assert_eq!(
            reply.media_type,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(
            reply.file_name,
            "Báo cáo truyền thông GDĐT năm học 2018-2019.docx"
        );
        let doc = docx_reader::open(&reply.content);
        let names: HashMap<String, String> = env.school_names().await.into_iter().collect();
        let mut agg = env.aggregator().await;
        let plan = agg
            .get_plan_view(pb::GetPlanViewRequest {
                period: period.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(plan.schools.len(), 10);

        // Activities by school and area.
        let t = doc.table_after(
            "Số hoạt động theo trường và nội dung (ND: nội dung truyền thông trọng tâm)",
        );
        assert_eq!(
            t[0],
            [
                "TT",
                "Trường",
                "ND1",
                "ND2",
                "ND3",
                "ND4",
                "ND5",
                "ND6",
                "Tổng số",
                "Số nội dung chưa đạt"
            ]
        );
        assert_eq!(t.len(), plan.schools.len() + 2);
        for (i, s) in plan.schools.iter().enumerate() {
            let row = &t[i + 1];
            assert_eq!(row[1], names[&s.school]);
            for area in 1..=6u32 {
                let expected = plan
                    .rows
                    .iter()
                    .find(|r| r.school == s.school && r.area == area)
                    .unwrap()
                    .activities;
                assert_eq!(
                    cell_of(row, 1 + area as usize),
                    n(expected),
                    "{} area {area}",
                    s.school
                );
            }
            assert_eq!(cell_of(row, 8), n(s.total_activities));
            assert_eq!(cell_of(row, 9), n(s.areas_missed));
        }
        let totals = t.last().unwrap();
        assert_eq!(totals[1], "Toàn huyện");
        assert_eq!(
            cell_of(totals, 8),
            n(plan.schools.iter().map(|s| s.total_activities).sum())
        );
        assert_eq!(
            cell_of(totals, 9),
            n(plan.schools.iter().map(|s| s.areas_missed).sum())
        );

        // By content area.
        let t = doc.table_after("Số hoạt động truyền thông theo nội dung");
        for a in &plan.areas {
            let row = &t[a.area as usize];
            let activities: i64 = plan
                .rows
                .iter()
                .filter(|r| r.area == a.area)
                .map(|r| r.activities)
                .sum();
            assert_eq!(cell_of(row, 2), n(activities), "area {}", a.area);
            let met = plan
                .rows
                .iter()
                .filter(|r| r.area == a.area && r.status == pb::TargetStatus::Met as i32)
                .count();
            assert_eq!(cell_of(row, 4), n(met as i64));
            assert_eq!(cell_of(row, 5), n(a.schools_missed));
        }
        // The lagging schools' missed areas, one line each.
        let missed_rows = plan
            .rows
            .iter()
            .filter(|r| r.status == pb::TargetStatus::Missed as i32)
            .count();
        if missed_rows > 0 {
            let t = doc.table_after("Các nội dung chưa đạt chỉ tiêu");
            assert_eq!(t.len(), missed_rows + 2, "{t:?}");
        }

        // Completeness.
        let completeness = agg
            .get_completeness(pb::GetCompletenessRequest {
                period: period.into(),
            })
            .await
            .unwrap()
            .into_inner();
        let t = doc.table_after("Tính đầy đủ, kịp thời của việc cập nhật");
        for (i, s) in completeness.schools.iter().enumerate() {
            let row = &t[i + 1];
            assert_eq!(row[1], names[&s.school]);
            assert_eq!(cell_of(row, 2), n(s.activities));
            assert_eq!(cell_of(row, 3), n(s.events));
            assert_eq!(cell_of(row, 4), n(s.on_time));
            assert_eq!(cell_of(row, 5), s.on_time_rate, "{}", s.school);
            assert_eq!(cell_of(row, 6), opt_int(s.max_delay_days));
        }
        let overview = doc.table_after("Số liệu tổng quát");
        let figure = |label: &str| {
            overview
                .iter()
                .find(|r| r[1] == label)
                .map(|r| vn_number(&r[2]))
                .unwrap_or_else(|| panic!("no line {label}"))
        };
        assert_eq!(
            figure("Tỷ lệ trường có cập nhật hoạt động"),
            completeness.reporting_rate
        );
        assert_eq!(
            figure("Số trường có cập nhật hoạt động"),
            n(completeness.reported)
        );
        assert_eq!(
            figure("Tổng số hoạt động truyền thông"),
            n(plan.schools.iter().map(|s| s.total_activities).sum())
        );

        // Responsiveness, judged at the period's end (it is over).
        let resp = agg
            .get_responsiveness(pb::GetResponsivenessRequest {
                period: period.into(),
                as_of: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        let t = doc.table_after("Tiếp nhận, trả lời ý kiến người dân và báo chí");
        for (i, s) in resp.schools.iter().enumerate() {
            let row = &t[i + 1];
            let (f, p) = (s.feedback.unwrap(), s.press.unwrap());
            assert_eq!(row[1], names[&s.school]);
            let expected = [
                n(f.received),
                n(f.answered),
                n(f.overdue),
                n(f.late),
                f.mean_days_to_answer,
                n(p.received),
                n(p.answered),
                n(p.overdue),
                n(p.late),
            ];
            let actual: Vec<Option<f64>> = (2..=10).map(|c| cell_of(row, c)).collect();
            assert_eq!(actual, expected, "{}", s.school);
        }
        let (f, p) = (resp.feedback.unwrap(), resp.press.unwrap());
        let totals = t.last().unwrap();
        assert_eq!(
            [2, 3, 4, 5, 7, 8, 9, 10].map(|c| cell_of(totals, c)),
            [
                f.received, f.answered, f.overdue, f.late, p.received, p.answered, p.overdue,
                p.late
            ]
            .map(n)
        );
        assert_eq!(
            figure("Ý kiến người dân quá hạn chưa trả lời"),
            n(f.overdue)
        );
        if !resp.flagged.is_empty() {
            let t = doc.table_after("Các trường hợp quá hạn, trả lời trễ hạn");
            assert_eq!(t.len(), resp.flagged.len() + 1, "{t:?}");
            assert_eq!(t[1][3], resp.flagged[0].subject);
        }

        // Commendation by level.
        let commendation = agg
            .get_commendation(pb::GetCommendationRequest {
                period: period.into(),
            })
            .await
            .unwrap()
            .into_inner();
        let t = doc.table_after("Đề nghị và quyết định khen thưởng theo hình thức");
        for (i, level) in LEVELS.iter().enumerate() {
            let l = commendation
                .levels
                .iter()
                .find(|l| l.level == *level)
                .unwrap();
            assert_eq!(cell_of(&t[i + 1], 2), n(l.nominated), "{level}");
            assert_eq!(cell_of(&t[i + 1], 3), n(l.awarded), "{level}");
        }

        // Budget of each calendar year the school year touches.
        let t = doc.table_after("Kinh phí truyền thông theo năm");
        for (i, year) in [2018, 2019].into_iter().enumerate() {
            let b = agg
                .get_budget(pb::GetBudgetRequest { year })
                .await
                .unwrap()
                .into_inner()
                .total
                .unwrap();
            let row = &t[i + 1];
            assert_eq!(row[1], year.to_string());
            assert_eq!(cell_of(row, 2), n(b.estimated));
            assert_eq!(cell_of(row, 3), n(b.spent));
            assert_eq!(cell_of(row, 4), opt_int(b.settled));
            assert_eq!(cell_of(row, 5), b.execution_rate);
        }

        // The layout of Decree 30: header table, title, A4, Times New Roman, charts, closing.
        let header = &doc.tables()[0][0];
        assert!(
            header[0].starts_with("UBND HUYỆN TAM NÔNG\nPHÒNG GIÁO DỤC VÀ ĐÀO TẠO"),
            "{header:?}"
        );
        assert!(header[0].contains("Số:      /BC-PGDĐT"), "{header:?}");
        assert!(
            header[1]
                .starts_with("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"),
            "{header:?}"
        );
        assert!(header[1].contains("Tam Nông, ngày "), "{header:?}");
        let date_at = doc.xml.find("Tam Nông, ngày").unwrap();
        let run_start = doc.xml[..date_at].rfind("<w:r>").unwrap();
        assert!(
            doc.xml[run_start..date_at].contains("<w:i"),
            "the date line is not italic"
        );
        assert!(!doc.xml[..doc.xml.find("w:tblBorders").unwrap_or(0)].contains("w:val=\"single\""));
        let paragraphs = doc.paragraphs();
        let title = paragraphs.iter().position(|p| p.text == "BÁO CÁO").unwrap();
        assert!(paragraphs[title].bold);
        assert_eq!(
            paragraphs[title + 1].text,
            "Kết quả thực hiện kế hoạch truyền thông về giáo dục và đào tạo năm học 2018-2019"
        );
        assert!(
            doc.xml.contains(r#"<w:pgSz w:w="11906" w:h="16838""#),
            "not A4"
        );
        assert!(doc.styles.contains("Times New Roman"));
        assert!(
            doc.styles.contains(r#"<w:sz w:val="28" />"#)
                || doc.styles.contains(r#"<w:sz w:val="28"/>"#)
        );
        let charts = paragraphs
            .iter()
            .filter(|p| p.text.starts_with("Biểu đồ "))
            .count();
        let images = doc
            .files
            .iter()
            .filter(|f| f.starts_with("word/media/") && f.ends_with(".png"))
            .count();
        assert!(charts >= 5, "{charts} charts");
        assert_eq!(images, charts, "{:?}", doc.files);
        let closing = doc.tables().last().unwrap()[0].clone();
        assert!(closing[0].starts_with("Nơi nhận:"), "{closing:?}");
        assert!(closing[1].starts_with("TRƯỞNG PHÒNG"), "{closing:?}");
        let sections: Vec<&str> = paragraphs
            .iter()
            .filter(|p| {
                p.bold
                    && ["I. ", "II. ", "III. ", "IV. "]
                        .iter()
                        .any(|s| p.text.starts_with(s))
            })
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(sections.len(), 4, "{sections:?}");
    }
}

fn sheet_xml(bytes: &[u8], index: usize) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name(&format!("xl/worksheets/sheet{index}.xml"))
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

fn number(range: &calamine::Range<Data>, row: u32, col: u32) -> Option<f64> {
    match range.get_value((row, col)) {
        Some(Data::Float(v)) => Some(*v),
        Some(Data::Int(v)) => Some(*v as f64),
        Some(Data::Empty) | None => None,
        Some(other) => panic!("({row}, {col}) is {other:?}, not a number"),
    }
}

fn text(range: &calamine::Range<Data>, row: u32, col: u32) -> String {
    match range.get_value((row, col)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("({row}, {col}) is {other:?}, not text"),
    }
}

fn formula(formulas: &calamine::Range<String>, row: u32, col: u32) -> String {
    formulas
        .get_value((row, col))
        .map(|f| f.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// The header line is on row 3 (0-based), data from row 4: Excel rows 5 and on.
const FIRST: u32 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_figure_of_the_excel_report_equals_the_aggregators_and_totals_are_formulas() {
    let env = Env::start().await;
    {
        let reply = env.generate("plan", "", pb::ReportFormat::Xlsx).await;
        assert_eq!(
            reply.file_name,
            "Báo cáo truyền thông GDĐT giai đoạn 2017-2020.xlsx"
        );
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(reply.content.clone())).unwrap();
        let sheets = book.sheet_names();
        for expected in [
            "Thông tin",
            "Tổng quan",
            "Theo nội dung",
            "Theo kênh",
            "Theo trường",
            "Đầy đủ, kịp thời",
            "Ý kiến, báo chí",
            "Khen thưởng theo cấp",
            "Kinh phí theo năm",
            "Kinh phí theo trường",
            "Đánh giá, chỉ đạo",
        ] {
            assert!(
                sheets.iter().any(|s| s == expected),
                "no sheet {expected}: {sheets:?}"
            );
        }
        let names: HashMap<String, String> = env.school_names().await.into_iter().collect();
        let mut agg = env.aggregator().await;

        // Plan view, by school.
        let plan = agg
            .get_plan_view(pb::GetPlanViewRequest {
                period: "plan".into(),
            })
            .await
            .unwrap()
            .into_inner();
        let values = book.worksheet_range("Theo trường").unwrap();
        let formulas = book.worksheet_formula("Theo trường").unwrap();
        assert_eq!(text(&values, 3, 0), "Trường");
        for (i, s) in plan.schools.iter().enumerate() {
            let row = FIRST + i as u32;
            assert_eq!(text(&values, row, 0), names[&s.school]);
            for area in 1..=6u32 {
                let expected = plan
                    .rows
                    .iter()
                    .find(|r| r.school == s.school && r.area == area)
                    .unwrap()
                    .activities;
                assert_eq!(number(&values, row, area), n(expected));
            }
            assert_eq!(number(&values, row, 7), n(s.total_activities));
            assert_eq!(number(&values, row, 8), n(s.areas_missed));
        }
        let total_row = FIRST + plan.schools.len() as u32;
        assert_eq!(formula(&formulas, total_row, 7), "SUM(H5:H14)");
        assert_eq!(formula(&formulas, total_row, 1), "SUM(B5:B14)");
        assert_eq!(
            number(&values, total_row, 7),
            n(plan.schools.iter().map(|s| s.total_activities).sum())
        );

        // Budget of every year of the plan, by school, and the grand totals.
        let values = book.worksheet_range("Kinh phí theo trường").unwrap();
        let formulas = book.worksheet_formula("Kinh phí theo trường").unwrap();
        let mut row = FIRST;
        let (mut estimated, mut spent, mut settled) = (0, 0, 0);
        for year in 2017..=2020 {
            let b = agg
                .get_budget(pb::GetBudgetRequest { year })
                .await
                .unwrap()
                .into_inner();
            let t = b.total.unwrap();
            estimated += t.estimated;
            spent += t.spent;
            settled += t.settled.unwrap_or(0);
            for s in &b.schools {
                assert_eq!(text(&values, row, 0), year.to_string());
                assert_eq!(text(&values, row, 1), names[&s.school]);
                assert_eq!(
                    number(&values, row, 2),
                    n(s.estimated),
                    "{year} {}",
                    s.school
                );
                assert_eq!(number(&values, row, 3), n(s.spent));
                assert_eq!(number(&values, row, 4), opt_int(s.settled));
                assert_eq!(number(&values, row, 5), s.execution_rate);
                row += 1;
            }
        }
        assert_eq!(formula(&formulas, row, 2), format!("SUM(C5:C{row})"));
        assert_eq!(formula(&formulas, row, 3), format!("SUM(D5:D{row})"));
        assert_eq!(number(&values, row, 2), n(estimated));
        assert_eq!(number(&values, row, 3), n(spent));
        assert_eq!(number(&values, row, 4), n(settled));

        // Responsiveness over the plan period: schools and the district's totals.
        let resp = agg
            .get_responsiveness(pb::GetResponsivenessRequest {
                period: "plan".into(),
                as_of: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        let values = book.worksheet_range("Ý kiến, báo chí").unwrap();
        let formulas = book.worksheet_formula("Ý kiến, báo chí").unwrap();
        for (i, s) in resp.schools.iter().enumerate() {
            let row = FIRST + i as u32;
            let (f, p) = (s.feedback.unwrap(), s.press.unwrap());
            assert_eq!(number(&values, row, 1), n(f.received));
            assert_eq!(number(&values, row, 3), n(f.overdue));
            assert_eq!(number(&values, row, 5), f.mean_days_to_answer);
            assert_eq!(number(&values, row, 6), n(p.received));
            assert_eq!(number(&values, row, 9), n(p.late));
        }
        let total_row = FIRST + resp.schools.len() as u32;
        let (f, p) = (resp.feedback.unwrap(), resp.press.unwrap());
        assert_eq!(formula(&formulas, total_row, 2), "SUM(C5:C14)");
        assert_eq!(number(&values, total_row, 1), n(f.received));
        assert_eq!(number(&values, total_row, 2), n(f.answered));
        assert_eq!(number(&values, total_row, 3), n(f.overdue));
        assert_eq!(number(&values, total_row, 7), n(p.answered));
        // The mean has no meaningful sum: no formula there.
        assert_eq!(formula(&formulas, total_row, 5), "");

        // Frozen header rows and first column on the table sheets.
        let index = sheets.iter().position(|s| s == "Theo trường").unwrap() + 1;
        let xml = sheet_xml(&reply.content, index);
        assert!(
            xml.contains(r#"xSplit="1""#)
                && xml.contains(r#"ySplit="4""#)
                && xml.contains(r#"state="frozen""#),
            "no frozen panes in {}",
            &xml[..xml.len().min(600)]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schools_excel_report_holds_that_schools_figures() {
    let env = Env::start().await;
    {
        let reply = env
            .generate("2018-Q1", "thcs-an-hoa", pb::ReportFormat::Xlsx)
            .await;
        assert_eq!(
            reply.file_name,
            "Báo cáo truyền thông GDĐT Trường THCS An Hòa quý I năm 2018.xlsx"
        );
        let plan = env
            .aggregator()
            .await
            .get_plan_view(pb::GetPlanViewRequest {
                period: "2018-Q1".into(),
            })
            .await
            .unwrap()
            .into_inner();
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(reply.content)).unwrap();
        let values = book.worksheet_range("Theo nội dung").unwrap();
        for area in 1..=6u32 {
            let r = plan
                .rows
                .iter()
                .find(|r| r.school == "thcs-an-hoa" && r.area == area)
                .unwrap();
            let row = FIRST + area - 1;
            assert_eq!(number(&values, row, 1), n(r.activities), "area {area}");
            assert_eq!(number(&values, row, 2), opt_int(r.target), "area {area}");
            let status = match pb::TargetStatus::try_from(r.status).unwrap() {
                pb::TargetStatus::Met => "Đạt",
                pb::TargetStatus::Missed => "Chưa đạt",
                _ => "Không có chỉ tiêu",
            };
            assert_eq!(text(&values, row, 3), status);
        }
        assert!(!book.sheet_names().iter().any(|s| s == "Theo trường"));
    }
}
