//! Given/when/then tests of [`compose`]: given small hand-built aggregator answers, when the
//! report is composed, then its text names what the data says and its tables carry the
//! data's figures.

#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use domain::district::views::{
    ActivityLine, BudgetRow, BudgetTotal, BudgetView, CaseKind, CaseLine, CaseStats, CaseStatus,
    CommendationCount, CommendationView, CompletenessView, EnrolledSchool, LevelCount,
    NominationLine, PeriodRange, PlanAreaSummary, PlanRow, PlanSchoolSummary, PlanView,
    ResponsivenessView, SchoolCompleteness, SchoolResponsiveness, TargetStatus,
};
use domain::district::{AnswerWithinDays, DistrictPlan};
use domain::{DateRange, Period};

use super::{Issue, compose, file_name};
use crate::data::ReportData;
use crate::model::{Block, Cell, Report, Table};
use crate::office::Office;

const AN_HOA: &str = "thcs-an-hoa";
const PHU_CUONG: &str = "th-phu-cuong";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn school(code: &str, name: &str, level: &str) -> EnrolledSchool {
    EnrolledSchool {
        code: code.into(),
        name: name.into(),
        level: level.into(),
        commune: "xã An Hòa".into(),
        enrolled_on: d(2017, 10, 18),
    }
}

fn period_range() -> PeriodRange {
    PeriodRange {
        period: "2018-Q1".into(),
        start: d(2018, 1, 1),
        end: d(2018, 3, 31),
    }
}

/// A plan-view row; a target makes it met or missed.
fn row(school: &str, area: u8, activities: i64, target: Option<i64>) -> PlanRow {
    let status = match target {
        None => TargetStatus::NoTarget,
        Some(t) if activities >= t => TargetStatus::Met,
        Some(_) => TargetStatus::Missed,
    };
    PlanRow {
        school: school.into(),
        area,
        activities,
        channels: if activities > 0 {
            vec!["district_radio".into()]
        } else {
            vec![]
        },
        target,
        status,
    }
}

fn activity(school: &str, area: u8, n: u32, reach: i64, title: &str) -> ActivityLine {
    ActivityLine {
        school: school.into(),
        activity_id: format!("{school}-{area}-{n}"),
        date: d(2018, 3, n.clamp(1, 28)),
        area,
        topic: None,
        channel: "district_radio".into(),
        title: title.into(),
        summary: "Chuyên mục trên Đài Truyền thanh huyện".into(),
        audience: Some("phụ huynh học sinh".into()),
        reach: Some(reach),
        partner: None,
        evidence_url: None,
        responsible: "vice_principal".into(),
    }
}

fn stats(received: i64, answered: i64, overdue: i64, late: i64) -> CaseStats {
    CaseStats {
        received,
        answered,
        open: received - answered,
        overdue,
        late,
        mean_days_to_answer: (answered > 0).then_some(4.5),
        max_days_to_answer: (answered > 0).then_some(9),
    }
}

/// Given: two schools in 2018-Q1. An Hòa (THCS) did everything; Phú Cường (TH) has one area
/// 3 activity against a target of 2, one overdue citizen feedback, and records late.
pub(crate) fn data() -> ReportData {
    let plan_period = DateRange::new(d(2017, 10, 18), d(2020, 12, 31)).unwrap();
    let mut rows = Vec::new();
    for area in 1..=6 {
        rows.push(row(
            AN_HOA,
            area,
            if area == 3 { 3 } else { 1 },
            (area == 3).then_some(2),
        ));
    }
    for area in 1..=6 {
        rows.push(row(
            PHU_CUONG,
            area,
            i64::from(area == 3),
            (area == 3).then_some(2),
        ));
    }
    let total = |s: &str| {
        rows.iter()
            .filter(|r| r.school == s)
            .map(|r| r.activities)
            .sum()
    };
    let plan_view = PlanView {
        period: period_range(),
        schools: vec![
            PlanSchoolSummary {
                school: AN_HOA.into(),
                areas_missed: 0,
                total_activities: total(AN_HOA),
            },
            PlanSchoolSummary {
                school: PHU_CUONG.into(),
                areas_missed: 1,
                total_activities: total(PHU_CUONG),
            },
        ],
        areas: (1..=6)
            .map(|area| PlanAreaSummary {
                area,
                schools_missed: i64::from(area == 3),
            })
            .collect(),
        lagging: vec![PlanSchoolSummary {
            school: PHU_CUONG.into(),
            areas_missed: 1,
            total_activities: total(PHU_CUONG),
        }],
        rows,
    };
    let mut activities = vec![
        activity(AN_HOA, 3, 20, 350, "Tư vấn hướng nghiệp cho học sinh lớp 9"),
        activity(
            AN_HOA,
            3,
            10,
            40,
            "Sinh hoạt chuyên đề trải nghiệm sáng tạo",
        ),
        activity(AN_HOA, 3, 5, 120, "Chuyên mục giáo dục đạo đức, lối sống"),
        activity(PHU_CUONG, 3, 2, 60, "Họp phụ huynh đầu học kỳ II"),
    ];
    for area in [1, 2, 4, 5, 6] {
        activities.push(activity(
            AN_HOA,
            area,
            15,
            100,
            "Phát thanh chuyên mục giáo dục",
        ));
    }
    ReportData {
        period: Period::Quarter {
            year: 2018,
            quarter: 1,
        },
        range: DateRange::new(d(2018, 1, 1), d(2018, 3, 31)).unwrap(),
        as_of: d(2018, 3, 31),
        school: None,
        district_plan: DistrictPlan {
            number: "1442/KH-PGDĐT".into(),
            issuer: "Phòng Giáo dục và Đào tạo Tam Nông".into(),
            parent_agency: "UBND huyện Tam Nông".into(),
            place: "Tam Nông".into(),
            date: d(2017, 10, 18),
            title: "Truyền thông về giáo dục và đào tạo giai đoạn 2017 – 2020".into(),
            period: plan_period,
            targets: vec![],
            answer_within_days: AnswerWithinDays::DEFAULT,
        },
        schools: vec![
            school(AN_HOA, "Trường THCS An Hòa", "thcs"),
            school(PHU_CUONG, "Trường TH Phú Cường", "tieu_hoc"),
        ],
        plan_view,
        completeness: CompletenessView {
            period: period_range(),
            schools: vec![
                SchoolCompleteness {
                    school: AN_HOA.into(),
                    activities: 8,
                    events: 12,
                    reported: true,
                    on_time: 12,
                    on_time_rate: Some(1.0),
                    max_delay_days: Some(2),
                },
                SchoolCompleteness {
                    school: PHU_CUONG.into(),
                    activities: 1,
                    events: 8,
                    reported: true,
                    on_time: 5,
                    on_time_rate: Some(0.625),
                    max_delay_days: Some(40),
                },
            ],
            enrolled: 2,
            reported: 2,
            reporting_rate: Some(1.0),
        },
        responsiveness: ResponsivenessView {
            period: period_range(),
            as_of: d(2018, 3, 31),
            feedback_within_days: 15,
            press_within_days: 7,
            schools: vec![
                SchoolResponsiveness {
                    school: AN_HOA.into(),
                    feedback: stats(3, 3, 0, 0),
                    press: stats(0, 0, 0, 0),
                },
                SchoolResponsiveness {
                    school: PHU_CUONG.into(),
                    feedback: stats(2, 1, 1, 0),
                    press: stats(1, 1, 0, 1),
                },
            ],
            feedback: stats(5, 4, 1, 0),
            press: stats(1, 1, 0, 1),
            flagged: vec![
                CaseLine {
                    school: PHU_CUONG.into(),
                    kind: CaseKind::Feedback,
                    id: "fb-1".into(),
                    subject: "Khoản thu đầu năm học".into(),
                    opened_on: d(2018, 2, 1),
                    answered_on: None,
                    days: 58,
                    status: CaseStatus::Overdue,
                },
                CaseLine {
                    school: PHU_CUONG.into(),
                    kind: CaseKind::Press,
                    id: "pr-1".into(),
                    subject: "Bài báo về bữa ăn bán trú".into(),
                    opened_on: d(2018, 1, 10),
                    answered_on: Some(d(2018, 1, 25)),
                    days: 15,
                    status: CaseStatus::Late,
                },
            ],
        },
        commendation: CommendationView {
            period: period_range(),
            counts: vec![
                CommendationCount {
                    school: AN_HOA.into(),
                    level: "district".into(),
                    nominated: 1,
                    awarded: 1,
                },
                CommendationCount {
                    school: PHU_CUONG.into(),
                    level: "school".into(),
                    nominated: 2,
                    awarded: 0,
                },
            ],
            levels: vec![
                LevelCount {
                    level: "school".into(),
                    nominated: 2,
                    awarded: 0,
                },
                LevelCount {
                    level: "district".into(),
                    nominated: 1,
                    awarded: 1,
                },
            ],
            nominations: vec![
                NominationLine {
                    school: AN_HOA.into(),
                    nomination_id: "n-1".into(),
                    date: d(2018, 1, 5),
                    nominee_kind: "individual".into(),
                    nominee: "Nguyễn Thị Hồng Nhung".into(),
                    achievement: "Phụ trách chuyên mục phát thanh".into(),
                    proposed_level: "district".into(),
                    awarded_level: Some("district".into()),
                    decision_number: Some("25/QĐ-UBND".into()),
                    decision_date: Some(d(2018, 3, 1)),
                },
                nomination(PHU_CUONG, "n-2", "Tổ chuyên môn khối 5"),
                nomination(PHU_CUONG, "n-3", "Trần Văn Minh"),
            ],
        },
        budgets: vec![BudgetView {
            year: 2018,
            schools: vec![
                BudgetRow {
                    school: AN_HOA.into(),
                    estimated: 12_000_000,
                    spent: 3_000_000,
                    settled: None,
                    execution_rate: Some(0.25),
                },
                BudgetRow {
                    school: PHU_CUONG.into(),
                    estimated: 8_000_000,
                    spent: 1_000_000,
                    settled: None,
                    execution_rate: Some(0.125),
                },
            ],
            total: BudgetTotal {
                estimated: 20_000_000,
                spent: 4_000_000,
                settled: None,
                schools_settled: 0,
                execution_rate: Some(0.2),
            },
        }],
        activities,
    }
}

fn nomination(school: &str, id: &str, nominee: &str) -> NominationLine {
    NominationLine {
        school: school.into(),
        nomination_id: id.into(),
        date: d(2018, 2, 10),
        nominee_kind: "individual".into(),
        nominee: nominee.into(),
        achievement: "Tích cực tuyên truyền".into(),
        proposed_level: "school".into(),
        awarded_level: None,
        decision_number: None,
        decision_date: None,
    }
}

fn issue(office: &Office) -> Issue<'_> {
    Issue {
        office,
        number: None,
        issued_on: d(2018, 4, 5),
    }
}

fn section<'r>(report: &'r Report, number: &str) -> &'r [Block] {
    &report
        .sections
        .iter()
        .find(|s| s.number == number)
        .unwrap()
        .blocks
}

/// Every sentence of a part: paragraphs, headings and bullets.
fn text_of(blocks: &[Block]) -> Vec<String> {
    blocks
        .iter()
        .flat_map(|b| match b {
            Block::Heading(t) | Block::Paragraph(t) => vec![t.clone()],
            Block::Bullets(items) => items.clone(),
            Block::Table(_) | Block::Figure(_) => vec![],
        })
        .collect()
}

fn directions(report: &Report) -> Vec<String> {
    text_of(section(report, "IV"))
}

fn table<'r>(report: &'r Report, key: &str) -> &'r Table {
    report
        .tables()
        .find(|t| t.key == key)
        .unwrap_or_else(|| panic!("no table {key}"))
}

fn one_containing<'a>(lines: &'a [String], needle: &str) -> &'a str {
    let found: Vec<&String> = lines.iter().filter(|l| l.contains(needle)).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one line with {needle:?} in {lines:#?}"
    );
    found[0]
}

#[test]
fn the_header_title_and_closing_follow_decree_30() {
    let office = Office::default();
    let report = compose(&data(), &issue(&office));
    let l = &report.letterhead;
    assert_eq!(l.parent_agency, "UBND HUYỆN TAM NÔNG");
    assert_eq!(l.agency, "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO");
    assert_eq!(l.national_name, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    assert_eq!(l.motto, "Độc lập - Tự do - Hạnh phúc");
    assert_eq!(l.number, "Số:      /BC-PGDĐT");
    assert_eq!(l.place_date, "Tam Nông, ngày 05 tháng 4 năm 2018");
    assert_eq!(report.title, "BÁO CÁO");
    assert_eq!(
        report.subtitle,
        "Kết quả thực hiện kế hoạch truyền thông về giáo dục và đào tạo quý I năm 2018"
    );
    assert!(report.intro[0].starts_with("Căn cứ Kế hoạch số 1442/KH-PGDĐT ngày 18/10/2017"));
    assert!(report.intro[1].contains("từ ngày 01/01/2018 đến ngày 31/03/2018"));
    assert_eq!(report.signature.title, "TRƯỞNG PHÒNG");
    assert_eq!(
        report.recipients.last().map(String::as_str),
        Some("- Lưu: VT.")
    );
    let headings: Vec<&str> = report.sections.iter().map(|s| s.heading.as_str()).collect();
    assert_eq!(headings[1], "KẾT QUẢ THỰC HIỆN");

    let numbered = compose(
        &data(),
        &Issue {
            number: Some("12"),
            ..issue(&office)
        },
    );
    assert_eq!(numbered.letterhead.number, "Số: 12/BC-PGDĐT");
    assert_eq!(
        file_name(&numbered, "docx"),
        "Báo cáo truyền thông GDĐT quý I năm 2018.docx"
    );
}

#[test]
fn a_school_below_target_is_named_with_its_area_and_counts() {
    let office = Office::default();
    let report = compose(&data(), &issue(&office));

    let directions = directions(&report);
    let line = one_containing(&directions, "Trường TH Phú Cường: bổ sung");
    assert!(
        line.contains("nội dung 3 – Nhiệm vụ (1/2 hoạt động)"),
        "{line}"
    );
    assert!(
        !directions
            .iter()
            .any(|l| l.contains("Trường THCS An Hòa: bổ sung")),
        "{directions:#?}"
    );

    let lagging = table(&report, "chua-dat-chi-tieu");
    assert_eq!(
        lagging.rows,
        vec![vec![
            Cell::text("Trường TH Phú Cường"),
            Cell::text("3. Nhiệm vụ"),
            Cell::Int(1),
            Cell::Int(2),
            Cell::Int(1),
        ]]
    );
    // Half the schools missed area 3: the district's direction names the school that met it.
    let area = one_containing(&directions, "Nội dung 3 – Nhiệm vụ");
    assert!(area.contains("1/2 trường chưa đạt"), "{area}");
    assert!(
        area.contains("tham khảo cách làm của Trường THCS An Hòa"),
        "{area}"
    );
    // Only the district radio was used: the other key channels are named.
    one_containing(
        &directions,
        "Tăng cường truyền thông qua Cổng thông tin điện tử của trường và Báo, đài địa phương",
    );
}

#[test]
fn overdue_feedback_and_late_reporters_are_named_in_the_directions() {
    let office = Office::default();
    let report = compose(&data(), &issue(&office));
    let directions = directions(&report);

    let overdue = one_containing(&directions, "trả lời ngay");
    assert!(
        overdue.starts_with("Trường TH Phú Cường: trả lời ngay 1 trường hợp quá hạn"),
        "{overdue}"
    );
    assert!(
        overdue.contains("«Khoản thu đầu năm học» (tiếp nhận ngày 01/02/2018, đã 58 ngày)"),
        "{overdue}"
    );

    let late = one_containing(&directions, "trong vòng 7 ngày");
    assert!(late.contains("Trường TH Phú Cường"), "{late}");
    assert!(late.contains("62,5% đúng hạn, chậm nhất 40 ngày"), "{late}");

    let slow = one_containing(&directions, "Rút ngắn thời gian trả lời");
    assert!(slow.contains("1 trường hợp trả lời trễ hạn"), "{slow}");

    // Budgets of a year not yet over are not judged; nominations without award are.
    assert!(
        !directions.iter().any(|l| l.contains("kinh phí")),
        "{directions:#?}"
    );
    let pending = one_containing(&directions, "xét khen thưởng");
    assert!(
        pending.contains("2 đề nghị") && pending.contains("Trường TH Phú Cường: 2"),
        "{pending}"
    );

    let cases = table(&report, "qua-han");
    assert_eq!(cases.rows.len(), 2);
    assert_eq!(cases.rows[0][2], Cell::text("Khoản thu đầu năm học"));
    assert_eq!(cases.rows[0][5], Cell::Int(58));
}

#[test]
fn a_school_without_activities_is_called_out() {
    let mut data = data();
    data.completeness.schools[1].reported = false;
    data.completeness.schools[1].activities = 0;
    data.completeness.reported = 1;
    data.completeness.reporting_rate = Some(0.5);
    let office = Office::default();
    let report = compose(&data, &issue(&office));

    let directions = directions(&report);
    let line = one_containing(&directions, "chưa cập nhật hoạt động nào");
    assert!(line.starts_with("Trường TH Phú Cường:"), "{line}");
    let completeness = text_of(section(&report, "II"));
    let summary = one_containing(&completeness, "trường cập nhật hoạt động trong kỳ");
    assert!(
        summary.contains("1/2 trường") && summary.contains("50%"),
        "{summary}"
    );
    assert!(
        summary.contains("Chưa cập nhật hoạt động nào: Trường TH Phú Cường."),
        "{summary}"
    );
}

#[test]
fn ended_years_with_unspent_or_unsettled_budgets_get_directions() {
    let mut data = data();
    data.as_of = d(2019, 1, 31);
    let office = Office::default();
    let report = compose(&data, &issue(&office));
    let directions = directions(&report);
    let low = one_containing(&directions, "Trường TH Phú Cường: rà soát");
    assert!(low.contains("năm 2018 (mới chi 12,5% dự toán)"), "{low}");
    let unsettled = one_containing(&directions, "quyết toán kinh phí truyền thông năm 2018");
    assert!(
        unsettled.starts_with("Trường THCS An Hòa và Trường TH Phú Cường:"),
        "{unsettled}"
    );
}

#[test]
fn when_nothing_lags_the_directions_say_so_with_the_figures() {
    let mut data = data();
    for r in &mut data.plan_view.rows {
        r.activities = r.activities.max(2);
        r.status = if r.target.is_some() {
            TargetStatus::Met
        } else {
            TargetStatus::NoTarget
        };
    }
    data.plan_view.lagging.clear();
    for s in &mut data.plan_view.schools {
        s.areas_missed = 0;
    }
    for a in &mut data.plan_view.areas {
        a.schools_missed = 0;
    }
    data.responsiveness.flagged.clear();
    let r = &mut data.responsiveness;
    for s in r.schools.iter_mut() {
        for stats in [&mut s.feedback, &mut s.press] {
            stats.overdue = 0;
            stats.late = 0;
        }
    }
    for stats in [&mut r.feedback, &mut r.press] {
        stats.overdue = 0;
        stats.late = 0;
    }
    for s in &mut data.completeness.schools {
        s.on_time_rate = Some(1.0);
    }
    data.commendation
        .nominations
        .retain(|n| n.awarded_level.is_some());
    data.commendation
        .counts
        .retain(|c| c.awarded == c.nominated);
    let channels = ["school_portal", "local_press", "district_radio"];
    for (a, channel) in data.activities.iter_mut().zip(channels.iter().cycle()) {
        a.channel = channel.to_string();
    }
    let office = Office::default();
    let report = compose(&data, &issue(&office));

    let directions = directions(&report);
    assert_eq!(directions.len(), 2, "{directions:#?}");
    assert!(
        directions[1].starts_with("Tiếp tục duy trì kết quả: 25 hoạt động"),
        "{directions:#?}"
    );
    assert!(report.tables().all(|t| t.key != "chua-dat-chi-tieu"));
    let results = text_of(section(&report, "II"));
    one_containing(&results, "Tất cả 2 trường đạt chỉ tiêu");
}

#[test]
fn tables_carry_the_views_figures_and_their_totals() {
    let office = Office::default();
    let data = data();
    let report = compose(&data, &issue(&office));

    let by_school = table(&report, "theo-truong");
    assert_eq!(by_school.rows.len(), 2);
    // An Hòa: 1, 1, 3, 1, 1, 1 → 8 activities, nothing missed.
    assert_eq!(
        by_school.rows[0][1..],
        [1, 1, 3, 1, 1, 1, 8, 0].map(Cell::Int)
    );
    let totals = by_school.totals.as_ref().unwrap();
    assert_eq!(totals[0], Cell::text("Toàn huyện"));
    assert_eq!(totals[3], Cell::Int(4));
    assert_eq!(totals[7], Cell::Int(9));
    assert_eq!(totals[8], Cell::Int(1));

    let budget = table(&report, "kinh-phi-theo-nam");
    assert_eq!(
        budget.rows[0],
        vec![
            Cell::text("2018"),
            Cell::Money(20_000_000),
            Cell::Money(4_000_000),
            Cell::Empty,
            Cell::Rate(0.2),
        ]
    );
    // Nobody settled: the settled total stays empty rather than a made-up 0.
    assert_eq!(budget.totals.as_ref().unwrap()[3], Cell::Empty);

    let responsiveness = table(&report, "y-kien-bao-chi");
    let totals = responsiveness.totals.as_ref().unwrap();
    assert_eq!(totals[1], Cell::Int(data.responsiveness.feedback.received));
    assert_eq!(totals[3], Cell::Int(data.responsiveness.feedback.overdue));
    assert_eq!(totals[9], Cell::Int(data.responsiveness.press.late));

    // Highlights: the widest reach first, with its school and date.
    let results = text_of(section(&report, "II"));
    let first = results
        .iter()
        .find(|l| l.starts_with("«Tư vấn hướng nghiệp"))
        .unwrap();
    assert!(
        first.contains("Trường THCS An Hòa; 20/03/2018; Đài Truyền thanh huyện"),
        "{first}"
    );
    assert!(report.figures().count() >= 4);
}

#[test]
fn a_schools_report_is_scoped_to_that_school() {
    let mut data = data();
    data.school = Some(PHU_CUONG.into());
    let office = Office::default();
    let report = compose(&data, &issue(&office));

    assert_eq!(
        report.subtitle,
        "Kết quả thực hiện kế hoạch truyền thông về giáo dục và đào tạo của Trường TH Phú Cường quý I năm 2018"
    );
    assert_eq!(
        file_name(&report, "xlsx"),
        "Báo cáo truyền thông GDĐT Trường TH Phú Cường quý I năm 2018.xlsx"
    );
    for t in report.tables() {
        for r in &t.rows {
            assert!(
                !r.contains(&Cell::text("Trường THCS An Hòa")),
                "{} has An Hòa: {r:?}",
                t.key
            );
        }
    }
    assert!(report.tables().all(|t| t.key != "theo-truong"));
    let areas = table(&report, "theo-noi-dung");
    assert_eq!(
        areas.rows[2][1..4],
        [Cell::Int(1), Cell::Int(2), Cell::text("Chưa đạt")]
    );
    let directions = directions(&report);
    assert!(
        directions[0].ends_with("đề nghị Trường TH Phú Cường:"),
        "{directions:#?}"
    );
    assert!(directions.iter().any(|l| l.contains("(1/2 hoạt động)")));
    let overview = table(&report, "tong-quan");
    assert_eq!(
        overview.rows[0],
        vec![Cell::text("Số trường"), Cell::Int(1)]
    );
}

#[test]
fn a_long_achievement_is_shortened_on_paper_and_the_note_says_where_it_is_whole() {
    let mut long_one = data();
    let long = "Phụ trách chuyên mục phát thanh hằng tuần trên Đài Truyền thanh huyện, ".repeat(20);
    long_one.commendation.nominations[0].achievement = long.clone();
    let office = Office::default();
    let report = compose(&long_one, &issue(&office));

    let list = table(&report, "danh-sach-khen-thuong");
    // The model keeps the whole text (Excel, CSV and JSON write it); paper shortens it.
    assert_eq!(list.rows[0][3], Cell::text(long.clone()));
    let column = &list.columns[3];
    assert_eq!(column.header, "Thành tích");
    let on_paper = column.on_paper(&long);
    assert!(
        on_paper.ends_with('…') && on_paper.chars().count() <= 160,
        "{on_paper}"
    );
    assert_eq!(
        list.paper_note.as_deref(),
        Some(
            "Ghi chú: nội dung dài ở cột “Thành tích” được rút gọn trong bảng (kết thúc bằng dấu “…”); \
             toàn văn xem tại trang tính “Danh sách khen thưởng” của tệp Excel cùng kỳ báo cáo."
        )
    );
    // Nothing long, no note.
    let report = compose(&data(), &issue(&office));
    assert_eq!(table(&report, "danh-sach-khen-thuong").paper_note, None);
}
