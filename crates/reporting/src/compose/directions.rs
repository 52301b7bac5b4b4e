//! Parts III and IV: the assessment (strengths, shortcomings) and the directions for the
//! coming period — written from the facts, naming schools, areas and cases. Each sentence
//! appears only when the data calls for it; when nothing lags, the text says what went well
//! instead of repeating a stock paragraph.

use std::collections::BTreeMap;

use domain::district::views::{CaseKind, TargetStatus};
use domain::vi;

use super::facts::Facts;
use super::overview::{scoped_cases, scoped_commendation};
use super::words;
use crate::model::Block;

/// Channels the plan relies on most; not using them is worth a direction.
const KEY_CHANNELS: [&str; 3] = ["district_radio", "school_portal", "local_press"];
/// Overdue cases named one by one per school; the rest are counted.
const CASES_NAMED: usize = 3;

fn names(items: &[&str]) -> String {
    words::join(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

/// Part III: "Ưu điểm" and "Hạn chế".
pub fn assessment(f: &Facts<'_>) -> Vec<Block> {
    let data = f.data;
    let n = f.schools.len();
    let (feedback, press) = scoped_cases(data);
    let (_, awarded) = scoped_commendation(data);

    let mut strengths = Vec::new();
    if !f.met_all.is_empty() {
        strengths.push(if f.scoped() {
            "Trường đạt chỉ tiêu ở tất cả các nội dung có chỉ tiêu trong kỳ.".to_string()
        } else {
            format!(
                "{}/{n} trường đạt chỉ tiêu ở tất cả các nội dung có chỉ tiêu: {}.",
                f.met_all.len(),
                names(&f.met_all)
            )
        });
    }
    if let Some(top) = f
        .areas
        .iter()
        .filter(|a| a.activities > 0)
        .max_by(|a, b| a.activities.cmp(&b.activities).then(b.area.cmp(&a.area)))
    {
        strengths.push(format!(
            "Nội dung được quan tâm nhiều nhất là nội dung {} – {} ({} hoạt động).",
            top.area,
            vi::area(i64::from(top.area)),
            vi::int(top.activities)
        ));
    }
    if let Some(top) = f.used_channels().next() {
        strengths.push(format!(
            "Kênh được sử dụng nhiều nhất là {} ({} hoạt động).",
            vi::channel(top.code),
            vi::int(top.activities)
        ));
    }
    if !f.scoped() && f.not_reported.is_empty() && n > 0 {
        strengths.push(format!("Cả {n} trường đều cập nhật hoạt động trong kỳ."));
    }
    if feedback.received > 0 && feedback.overdue == 0 && feedback.late == 0 {
        strengths.push(format!(
            "{} ý kiến của người dân đều được trả lời đúng hạn hoặc còn trong hạn trả lời.",
            vi::int(feedback.received)
        ));
    }
    if awarded > 0 {
        strengths.push(format!(
            "Có {} quyết định khen thưởng tập thể, cá nhân tiêu biểu trong kỳ.",
            vi::int(awarded)
        ));
    }
    if strengths.is_empty() {
        strengths.push("Chưa có kết quả nổi bật được ghi nhận qua số liệu của kỳ.".into());
    }

    let mut shortcomings = Vec::new();
    if !f.lagging.is_empty() {
        let lagging: Vec<&str> = f.lagging.iter().map(|l| l.name).collect();
        shortcomings.push(if f.scoped() {
            let missed: Vec<String> = f
                .lagging
                .iter()
                .flat_map(|l| l.missed.iter())
                .map(|(a, _, _)| format!("nội dung {a}"))
                .collect();
            format!("Chưa đạt chỉ tiêu ở {}.", words::join(&missed))
        } else {
            format!(
                "{}/{n} trường chưa đạt chỉ tiêu ở ít nhất một nội dung: {}.",
                f.lagging.len(),
                names(&lagging)
            )
        });
    }
    if let Some(low) = f
        .areas
        .iter()
        .filter(|a| a.schools_missed > 0 || (f.scoped() && a.status == Some(TargetStatus::Missed)))
        .min_by(|a, b| a.activities.cmp(&b.activities).then(a.area.cmp(&b.area)))
    {
        shortcomings.push(format!(
            "Nội dung {} – {} còn ít hoạt động ({}).",
            low.area,
            vi::area(i64::from(low.area)),
            vi::int(low.activities)
        ));
    }
    if !f.not_reported.is_empty() && !f.scoped() {
        shortcomings.push(format!(
            "Còn {} trường chưa cập nhật hoạt động: {}.",
            f.not_reported.len(),
            names(&f.not_reported)
        ));
    }
    if !f.late_reporters.is_empty() {
        let late: Vec<&str> = f.late_reporters.iter().map(|l| l.name).collect();
        shortcomings.push(format!("Cập nhật chưa kịp thời: {}.", names(&late)));
    }
    if feedback.overdue + press.overdue > 0 {
        shortcomings.push(format!(
            "Còn {} ý kiến của người dân và {} vấn đề báo chí quá hạn chưa trả lời.",
            vi::int(feedback.overdue),
            vi::int(press.overdue)
        ));
    }
    if feedback.late + press.late > 0 {
        shortcomings.push(format!(
            "{} trường hợp được trả lời trễ hạn.",
            vi::int(feedback.late + press.late)
        ));
    }
    let unused = unused_key_channels(f);
    if !unused.is_empty() && f.total_activities > 0 {
        shortcomings.push(format!("Chưa có hoạt động qua {}.", words::join(&unused)));
    }
    if !f.low_budgets.is_empty() || !f.unsettled.is_empty() {
        shortcomings.push(format!(
            "Thực hiện kinh phí chưa đạt yêu cầu: {} lượt dự toán chi dưới {}, {} lượt chưa quyết toán.",
            f.low_budgets.len(),
            vi::percent(super::facts::BUDGET_EXPECTED),
            f.unsettled.len()
        ));
    }
    if shortcomings.is_empty() {
        shortcomings.push("Số liệu của kỳ không cho thấy hạn chế đáng kể.".into());
    }

    vec![
        Block::Heading("1. Ưu điểm".into()),
        Block::Bullets(strengths),
        Block::Heading("2. Hạn chế".into()),
        Block::Bullets(shortcomings),
    ]
}

fn unused_key_channels(f: &Facts<'_>) -> Vec<String> {
    KEY_CHANNELS
        .iter()
        .filter(|code| {
            f.channels
                .iter()
                .any(|c| c.code == **code && c.activities == 0)
        })
        .map(|code| vi::channel(code))
        .collect()
}

/// Part IV: what each school (or the one school) should do next.
pub fn directions(f: &Facts<'_>) -> Vec<Block> {
    let data = f.data;
    let r = &data.responsiveness;
    let mut items = Vec::new();

    for l in &f.lagging {
        let missed: Vec<String> = l
            .missed
            .iter()
            .map(|(a, n, t)| {
                format!(
                    "nội dung {a} – {} ({n}/{t} hoạt động)",
                    vi::area_short(i64::from(*a))
                )
            })
            .collect();
        items.push(format!(
            "{}: bổ sung hoạt động truyền thông ở {}; Hiệu trưởng phân công Phó Hiệu trưởng phụ trách theo dõi, bảo đảm đạt chỉ tiêu trong kỳ tới.",
            l.name,
            words::join(&missed)
        ));
    }

    if !f.scoped() {
        let n = f.schools.len() as i64;
        for a in f
            .areas
            .iter()
            .filter(|a| a.schools_missed * 2 >= n && a.schools_missed > 0)
        {
            let met: Vec<&str> = f
                .rows
                .iter()
                .filter(|r| r.area == a.area && r.status == TargetStatus::Met)
                .take(3)
                .map(|r| data.school_name(&r.school))
                .collect();
            let mut text = format!(
                "Nội dung {} – {}: {}/{n} trường chưa đạt chỉ tiêu; Phòng GD-ĐT sẽ hướng dẫn chuyên đề",
                a.area,
                vi::area(i64::from(a.area)),
                a.schools_missed
            );
            if met.is_empty() {
                text.push('.');
            } else {
                text.push_str(&format!(
                    ", các trường tham khảo cách làm của {}.",
                    names(&met)
                ));
            }
            items.push(text);
        }
    }

    if !f.not_reported.is_empty() {
        items.push(format!(
            "{}: chưa cập nhật hoạt động nào trong kỳ; kiểm tra ngay việc ghi nhận và gửi dữ liệu của máy trạm, cập nhật đầy đủ các hoạt động đã thực hiện.",
            names(&f.not_reported)
        ));
    }
    for l in &f.late_reporters {
        let worst = l
            .max_delay_days
            .map(|d| format!(", chậm nhất {} ngày", vi::int(d)))
            .unwrap_or_default();
        items.push(format!(
            "{}: ghi nhận hoạt động, sự kiện trong vòng 7 ngày kể từ khi thực hiện (hiện {} đúng hạn{worst}).",
            l.name,
            vi::percent(l.on_time_rate)
        ));
    }

    let mut overdue_by_school: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for c in &f.overdue {
        overdue_by_school
            .entry(c.school.as_str())
            .or_default()
            .push(*c);
    }
    for (school, cases) in overdue_by_school {
        let mut listed: Vec<String> = cases
            .iter()
            .take(CASES_NAMED)
            .map(|c| {
                format!(
                    "{} «{}» (tiếp nhận ngày {}, đã {} ngày)",
                    match c.kind {
                        CaseKind::Feedback => "ý kiến",
                        CaseKind::Press => "vấn đề báo chí",
                    },
                    c.subject,
                    vi::date(c.opened_on),
                    vi::int(c.days)
                )
            })
            .collect();
        if cases.len() > CASES_NAMED {
            listed.push(format!("{} trường hợp khác", cases.len() - CASES_NAMED));
        }
        items.push(format!(
            "{}: trả lời ngay {} trường hợp quá hạn — {}; báo cáo kết quả về Phòng GD-ĐT.",
            data.school_name(school),
            cases.len(),
            words::join(&listed)
        ));
    }
    if !f.late_answers.is_empty() {
        let mut per_school: BTreeMap<&str, usize> = BTreeMap::new();
        for c in &f.late_answers {
            *per_school.entry(c.school.as_str()).or_default() += 1;
        }
        let (worst, count) = per_school
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map_or(("", 0), |(s, n)| (*s, *n));
        let mut text = format!(
            "Rút ngắn thời gian trả lời: {} trường hợp trả lời trễ hạn (thời hạn {} ngày với ý kiến người dân, {} ngày với báo chí)",
            f.late_answers.len(),
            r.feedback_within_days,
            r.press_within_days
        );
        if !f.scoped() {
            text.push_str(&format!(
                ", nhiều nhất ở {} ({count})",
                data.school_name(worst)
            ));
        }
        text.push('.');
        items.push(text);
    }

    let unused = unused_key_channels(f);
    if !unused.is_empty() && f.total_activities > 0 {
        items.push(format!(
            "Tăng cường truyền thông qua {}: chưa có hoạt động nào trong kỳ.",
            words::join(&unused)
        ));
    }
    if !f.pending_nominations.is_empty() {
        let total: i64 = f.pending_nominations.iter().map(|(_, n)| n).sum();
        let list: Vec<String> = f
            .pending_nominations
            .iter()
            .map(|(name, n)| format!("{name}: {n}"))
            .collect();
        items.push(format!(
            "Hoàn thiện hồ sơ, xét khen thưởng {} đề nghị chưa có quyết định ({}).",
            vi::int(total),
            list.join("; ")
        ));
    }
    for (name, year, rate) in &f.low_budgets {
        items.push(format!(
            "{name}: rà soát việc sử dụng kinh phí truyền thông năm {year} (mới chi {} dự toán).",
            vi::percent(*rate)
        ));
    }
    let mut unsettled: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
    for (name, year) in &f.unsettled {
        unsettled.entry(*year).or_default().push(name);
    }
    for (year, schools) in unsettled {
        items.push(format!(
            "{}: quyết toán kinh phí truyền thông năm {year}.",
            names(&schools)
        ));
    }

    if items.is_empty() {
        let (feedback, press) = scoped_cases(data);
        items.push(format!(
            "Tiếp tục duy trì kết quả: {} hoạt động, {} ý kiến người dân và {} vấn đề báo chí đều được xử lý trong hạn; chủ động xây dựng kế hoạch truyền thông cho kỳ tới.",
            vi::int(f.total_activities),
            vi::int(feedback.received),
            vi::int(press.received)
        ));
    }
    let to = match f.schools.first() {
        Some(s) if f.scoped() => format!("đề nghị {}:", s.name),
        _ => "đề nghị các trường:".into(),
    };
    vec![
        Block::Paragraph(format!(
            "Trên cơ sở kết quả thực hiện {}, Phòng Giáo dục và Đào tạo {to}",
            words::period(data.period, data.district_plan.period)
        )),
        Block::Bullets(items),
    ]
}
