//! Part II, completeness and responsiveness: whether the schools keep their records complete
//! and on time, and how they answer citizens and the press — with every overdue case named.

use domain::district::views::{CaseKind, CaseStats, CaseStatus};
use domain::vi;

use super::facts::{Facts, ON_TIME_EXPECTED};
use super::overview::scoped_cases;
use super::{Ctx, totals, words};
use crate::model::{Block, Cell, Column, Series};

pub fn completeness(f: &Facts<'_>, ctx: &mut Ctx) -> Vec<Block> {
    let data = f.data;
    let mut blocks = vec![ctx.heading("Tính đầy đủ, kịp thời của việc cập nhật hoạt động")];
    let mut text = String::new();
    if !f.scoped() {
        text.push_str(&format!(
            "Có {}/{} trường cập nhật hoạt động trong kỳ (tỷ lệ {}).",
            data.completeness.reported,
            data.completeness.enrolled,
            data.completeness
                .reporting_rate
                .map_or_else(|| "—".into(), vi::percent)
        ));
        if !f.not_reported.is_empty() {
            let names: Vec<String> = f.not_reported.iter().map(|s| s.to_string()).collect();
            text.push_str(&format!(
                " Chưa cập nhật hoạt động nào: {}.",
                words::join(&names)
            ));
        }
    } else if f.not_reported.is_empty() {
        text.push_str("Trường có cập nhật hoạt động trong kỳ.");
    } else {
        text.push_str("Trường chưa cập nhật hoạt động nào trong kỳ.");
    }
    let expected = vi::percent(ON_TIME_EXPECTED);
    if f.late_reporters.is_empty() {
        text.push_str(&format!(
            " Việc cập nhật bảo đảm kịp thời: từ {expected} sự kiện trở lên được ghi nhận trong vòng 7 ngày."
        ));
    } else {
        let late: Vec<String> = f
            .late_reporters
            .iter()
            .map(|l| {
                let worst = l
                    .max_delay_days
                    .map(|d| format!(", chậm nhất {} ngày", vi::int(d)))
                    .unwrap_or_default();
                format!(
                    "{} ({} đúng hạn{worst})",
                    l.name,
                    vi::percent(l.on_time_rate)
                )
            })
            .collect();
        text.push_str(&format!(
            " Cập nhật chưa kịp thời (dưới {expected} sự kiện được ghi nhận trong vòng 7 ngày): {}.",
            words::join(&late)
        ));
    }
    blocks.push(Block::Paragraph(text));

    let columns = vec![
        Column::text("Trường"),
        Column::summed("Số hoạt động"),
        Column::summed("Số sự kiện"),
        Column::summed("Ghi nhận trong 7 ngày"),
        Column::number("Tỷ lệ đúng hạn"),
        Column::number("Chậm nhất (ngày)"),
        Column::text("Có cập nhật"),
    ];
    let rows: Vec<Vec<Cell>> = data
        .completeness
        .schools
        .iter()
        .filter(|s| data.in_scope(&s.school))
        .map(|s| {
            vec![
                Cell::text(data.school_name(&s.school)),
                Cell::Int(s.activities),
                Cell::Int(s.events),
                Cell::Int(s.on_time),
                Cell::opt_rate(s.on_time_rate),
                Cell::opt_int(s.max_delay_days),
                Cell::text(if s.reported { "Có" } else { "Chưa" }),
            ]
        })
        .collect();
    let total = (!f.scoped()).then(|| totals("Toàn huyện", &columns, &rows));
    blocks.push(ctx.table(
        "day-du-kip-thoi",
        "Tính đầy đủ, kịp thời của việc cập nhật",
        "Đầy đủ, kịp thời",
        columns,
        rows,
        total,
    ));
    blocks
}

fn cases_sentence(label: &str, s: &CaseStats, within: i64) -> String {
    if s.received == 0 {
        return format!("{label}: không có trong kỳ.");
    }
    let mut text = format!(
        "{label}: tiếp nhận {}, đã trả lời {}",
        vi::int(s.received),
        vi::int(s.answered)
    );
    if let (Some(mean), Some(max)) = (s.mean_days_to_answer, s.max_days_to_answer) {
        text.push_str(&format!(
            " (trung bình {} ngày, lâu nhất {} ngày)",
            vi::decimal(mean, 1),
            vi::int(max)
        ));
    }
    text.push_str(&format!(
        "; còn {} chưa trả lời, trong đó {} quá hạn (quá {within} ngày); {} trường hợp trả lời trễ hạn.",
        vi::int(s.open),
        vi::int(s.overdue),
        vi::int(s.late)
    ));
    text
}

pub fn responsiveness(f: &Facts<'_>, ctx: &mut Ctx) -> Vec<Block> {
    let data = f.data;
    let r = &data.responsiveness;
    let mut blocks = vec![ctx.heading("Tiếp nhận, trả lời ý kiến của người dân và báo chí")];
    let (feedback, press) = scoped_cases(data);
    blocks.push(Block::Paragraph(format!(
        "Tính đến ngày {}: {} {}",
        vi::date(r.as_of),
        cases_sentence("Ý kiến của người dân", &feedback, r.feedback_within_days),
        cases_sentence("Vấn đề báo chí nêu", &press, r.press_within_days)
    )));

    let columns = vec![
        Column::text("Trường"),
        Column::summed("Ý kiến tiếp nhận"),
        Column::summed("Ý kiến đã trả lời"),
        Column::summed("Ý kiến quá hạn"),
        Column::summed("Ý kiến trả lời trễ"),
        Column::number("Số ngày trả lời TB"),
        Column::summed("Báo chí nêu"),
        Column::summed("Báo chí đã trả lời"),
        Column::summed("Báo chí quá hạn"),
        Column::summed("Báo chí trả lời trễ"),
    ];
    let schools: Vec<_> = r
        .schools
        .iter()
        .filter(|s| data.in_scope(&s.school))
        .collect();
    let rows: Vec<Vec<Cell>> = schools
        .iter()
        .map(|s| {
            vec![
                Cell::text(data.school_name(&s.school)),
                Cell::Int(s.feedback.received),
                Cell::Int(s.feedback.answered),
                Cell::Int(s.feedback.overdue),
                Cell::Int(s.feedback.late),
                Cell::opt_decimal(s.feedback.mean_days_to_answer),
                Cell::Int(s.press.received),
                Cell::Int(s.press.answered),
                Cell::Int(s.press.overdue),
                Cell::Int(s.press.late),
            ]
        })
        .collect();
    let total = (!f.scoped()).then(|| totals("Toàn huyện", &columns, &rows));
    blocks.push(ctx.table(
        "y-kien-bao-chi",
        "Tiếp nhận, trả lời ý kiến người dân và báo chí",
        "Ý kiến, báo chí",
        columns,
        rows,
        total,
    ));
    if !f.scoped() {
        blocks.push(
            ctx.figure(
                "y-kien-theo-truong",
                "Ý kiến của người dân: tiếp nhận, đã trả lời, quá hạn",
                "ý kiến",
                schools
                    .iter()
                    .map(|s| data.school_name(&s.school).to_string())
                    .collect(),
                vec![
                    Series {
                        name: "Tiếp nhận".into(),
                        values: schools.iter().map(|s| s.feedback.received as f64).collect(),
                    },
                    Series {
                        name: "Đã trả lời".into(),
                        values: schools.iter().map(|s| s.feedback.answered as f64).collect(),
                    },
                    Series {
                        name: "Quá hạn".into(),
                        values: schools.iter().map(|s| s.feedback.overdue as f64).collect(),
                    },
                ],
            ),
        );
    }

    let flagged: Vec<_> = r
        .flagged
        .iter()
        .filter(|c| data.in_scope(&c.school))
        .collect();
    if flagged.is_empty() {
        blocks.push(Block::Paragraph(
            "Không có trường hợp quá hạn hoặc trả lời trễ hạn.".into(),
        ));
    } else {
        blocks.push(Block::Paragraph(format!(
            "Các trường hợp quá hạn chưa trả lời ({}) và trả lời trễ hạn ({}):",
            f.overdue.len(),
            f.late_answers.len()
        )));
        let columns = vec![
            Column::text("Trường"),
            Column::text("Loại"),
            // A question or a press issue's subject is a line of up to 300 characters; on
            // paper two lines of the table's widest column say what it was about.
            Column::long_text("Nội dung", 120),
            Column::text("Ngày tiếp nhận"),
            Column::text("Ngày trả lời"),
            Column::number("Số ngày"),
            Column::text("Tình trạng"),
        ];
        let rows = flagged
            .iter()
            .map(|c| {
                vec![
                    Cell::text(data.school_name(&c.school)),
                    Cell::text(match c.kind {
                        CaseKind::Feedback => "Ý kiến người dân",
                        CaseKind::Press => "Báo chí",
                    }),
                    Cell::text(c.subject.clone()),
                    Cell::text(vi::date(c.opened_on)),
                    c.answered_on
                        .map_or(Cell::Empty, |d| Cell::text(vi::date(d))),
                    Cell::Int(c.days),
                    Cell::text(match c.status {
                        CaseStatus::Overdue => "Quá hạn, chưa trả lời",
                        CaseStatus::Late => "Trả lời trễ hạn",
                    }),
                ]
            })
            .collect();
        blocks.push(ctx.table(
            "qua-han",
            "Các trường hợp quá hạn, trả lời trễ hạn",
            "Quá hạn",
            columns,
            rows,
            None,
        ));
    }
    blocks
}
