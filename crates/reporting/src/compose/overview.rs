//! Part I: the overview — the period's figures in one paragraph and one table.

use domain::district::views::{CaseStats, TargetStatus};
use domain::vi;

use super::facts::Facts;
use super::{Ctx, words};
use crate::data::ReportData;
use crate::model::{Block, Cell, Column};

/// The feedback and press figures of the scope: the district's totals, or the school's line.
pub fn scoped_cases(data: &ReportData) -> (CaseStats, CaseStats) {
    let r = &data.responsiveness;
    match &data.school {
        None => (r.feedback.clone(), r.press.clone()),
        Some(code) => r
            .schools
            .iter()
            .find(|s| &s.school == code)
            .map(|s| (s.feedback.clone(), s.press.clone()))
            .unwrap_or_default(),
    }
}

/// Nominations and awards of the scope: (nominated, awarded).
pub fn scoped_commendation(data: &ReportData) -> (i64, i64) {
    data.commendation
        .counts
        .iter()
        .filter(|c| data.in_scope(&c.school))
        .fold((0, 0), |(n, a), c| (n + c.nominated, a + c.awarded))
}

/// Estimated and spent over the years of the period: (estimated, spent).
pub fn scoped_budget(data: &ReportData) -> (i64, i64) {
    data.budgets
        .iter()
        .flat_map(|b| b.schools.iter())
        .filter(|r| data.in_scope(&r.school))
        .fold((0, 0), |(e, s), r| (e + r.estimated, s + r.spent))
}

pub fn blocks(f: &Facts<'_>, ctx: &mut Ctx) -> Vec<Block> {
    let data = f.data;
    let reported = f.schools.len() - f.not_reported.len();
    let met = f
        .rows
        .iter()
        .filter(|r| r.status == TargetStatus::Met)
        .count() as i64;
    let missed = f
        .rows
        .iter()
        .filter(|r| r.status == TargetStatus::Missed)
        .count() as i64;
    let (feedback, press) = scoped_cases(data);
    let (nominated, awarded) = scoped_commendation(data);
    let (estimated, spent) = scoped_budget(data);
    let used = f.used_channels().count() as i64;
    let period = words::period(data.period, data.district_plan.period);

    let who = if f.scoped() {
        f.schools
            .first()
            .map_or_else(String::new, |s| s.name.clone())
    } else {
        format!(
            "{} trường ({} trường có cập nhật hoạt động, đạt tỷ lệ {})",
            f.schools.len(),
            reported,
            data.completeness
                .reporting_rate
                .map_or_else(|| "—".into(), vi::percent)
        )
    };
    let mut blocks = vec![Block::Paragraph(format!(
        "Trong {period}, {who} đã thực hiện {} hoạt động truyền thông về giáo dục và đào tạo qua {used} kênh truyền thông; {met} lượt nội dung đạt chỉ tiêu của kế hoạch, {missed} lượt nội dung chưa đạt. Đã tiếp nhận {} ý kiến của người dân (trả lời {}) và {} vấn đề báo chí nêu (trả lời {}); {} đề nghị khen thưởng, {} quyết định khen thưởng; kinh phí đã chi {} trên dự toán {}.",
        vi::int(f.total_activities),
        vi::int(feedback.received),
        vi::int(feedback.answered),
        vi::int(press.received),
        vi::int(press.answered),
        vi::int(nominated),
        vi::int(awarded),
        vi::money(spent),
        vi::money(estimated),
    ))];

    let mut rows = vec![vec![
        Cell::text("Số trường"),
        Cell::Int(f.schools.len() as i64),
    ]];
    if !f.scoped() {
        rows.push(vec![
            Cell::text("Số trường có cập nhật hoạt động"),
            Cell::Int(reported as i64),
        ]);
        rows.push(vec![
            Cell::text("Tỷ lệ trường có cập nhật hoạt động"),
            Cell::opt_rate(data.completeness.reporting_rate),
        ]);
    }
    let more = [
        (
            "Tổng số hoạt động truyền thông",
            Cell::Int(f.total_activities),
        ),
        ("Số kênh truyền thông đã sử dụng", Cell::Int(used)),
        ("Số lượt nội dung đạt chỉ tiêu", Cell::Int(met)),
        ("Số lượt nội dung chưa đạt chỉ tiêu", Cell::Int(missed)),
        (
            "Ý kiến người dân đã tiếp nhận",
            Cell::Int(feedback.received),
        ),
        ("Ý kiến người dân đã trả lời", Cell::Int(feedback.answered)),
        (
            "Ý kiến người dân quá hạn chưa trả lời",
            Cell::Int(feedback.overdue),
        ),
        ("Vấn đề báo chí nêu", Cell::Int(press.received)),
        ("Vấn đề báo chí đã trả lời", Cell::Int(press.answered)),
        (
            "Vấn đề báo chí quá hạn chưa trả lời",
            Cell::Int(press.overdue),
        ),
        ("Số đề nghị khen thưởng", Cell::Int(nominated)),
        ("Số quyết định khen thưởng", Cell::Int(awarded)),
        ("Kinh phí dự toán (đồng)", Cell::Money(estimated)),
        ("Kinh phí đã chi (đồng)", Cell::Money(spent)),
    ];
    rows.extend(
        more.into_iter()
            .map(|(label, v)| vec![Cell::text(label), v]),
    );
    blocks.push(ctx.table(
        "tong-quan",
        "Số liệu tổng quát",
        "Tổng quan",
        vec![Column::text("Chỉ tiêu"), Column::number("Số liệu")],
        rows,
        None,
    ));
    blocks
}
