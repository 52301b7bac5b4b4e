//! Budget by school and year; activity search with folded text and pages.

use super::*;
use crate::calendar::Period;
use crate::district::views::{ActivityFilter, BudgetRow, BudgetTotal};
use crate::error::{ErrorKind, Rule};
use crate::event::{BudgetEstimated, BudgetLine, BudgetSettled, ExpenseRecorded};
use crate::money::Vnd;

const AN_HOA: &str = "thcs-an-hoa";
const PHU_THANH: &str = "thcs-phu-thanh-a";

fn vnd(amount: i64) -> Vnd {
    Vnd::parse("amount", amount).unwrap()
}

fn estimate(year: i32, on: NaiveDate, amounts: &[i64]) -> Event {
    Event::BudgetEstimated(BudgetEstimated {
        year,
        estimated_on: on,
        lines: amounts
            .iter()
            .map(|a| BudgetLine {
                item: "Tin bài, pano, áp phích".into(),
                amount: vnd(*a),
            })
            .collect(),
    })
}

fn expense(n: u128, on: NaiveDate, amount: i64) -> Event {
    Event::ExpenseRecorded(ExpenseRecorded {
        expense_id: id(n),
        spent_on: on,
        item: "In tờ rơi".into(),
        amount: vnd(amount),
        activity_id: None,
        voucher: None,
    })
}

fn budget_history(plan: bool) -> History {
    let plan = plan.then(|| district_plan(vec![], AnswerWithinDays::DEFAULT));
    let mut h = History::district_with(
        plan,
        &[(AN_HOA, SchoolLevel::Thcs), (PHU_THANH, SchoolLevel::Thcs)],
    );
    h.school(
        AN_HOA,
        estimate(2018, d(2018, 1, 10), &[3_000_000, 1_500_000]),
    );
    h.school(AN_HOA, expense(1, d(2018, 3, 1), 1_200_000));
    // A later estimate of the same year supersedes the first.
    h.school(
        AN_HOA,
        estimate(2018, d(2018, 6, 1), &[5_000_000, 1_000_000]),
    );
    h.school(AN_HOA, expense(2, d(2018, 11, 20), 800_000));
    h.school(AN_HOA, expense(3, d(2019, 1, 5), 500_000)); // a 2019 expense
    h.school(
        AN_HOA,
        Event::BudgetSettled(BudgetSettled {
            year: 2018,
            settled_on: d(2019, 1, 20),
            settled_amount: vnd(1_950_000),
            note: None,
        }),
    );
    h.school(PHU_THANH, expense(11, d(2018, 4, 1), 300_000));
    h
}

#[test]
fn budget_of_a_year_by_school_with_district_totals() {
    let model = budget_history(true).fold();
    let view = model.budget(2018).unwrap();
    assert_eq!(
        view.schools,
        vec![
            BudgetRow {
                school: AN_HOA.into(),
                estimated: 6_000_000,
                spent: 2_000_000,
                settled: Some(1_950_000),
                execution_rate: Some(0.3333),
            },
            BudgetRow {
                school: PHU_THANH.into(),
                estimated: 0,
                spent: 300_000,
                settled: None,
                execution_rate: None,
            },
        ]
    );
    // 2,300,000 / 6,000,000 = 0.38333…
    assert_eq!(
        view.total,
        BudgetTotal {
            estimated: 6_000_000,
            spent: 2_300_000,
            settled: Some(1_950_000),
            schools_settled: 1,
            execution_rate: Some(0.3833),
        }
    );
    let next = model.budget(2019).unwrap();
    assert_eq!(
        (
            next.schools[0].estimated,
            next.schools[0].spent,
            next.schools[0].settled
        ),
        (0, 500_000, None)
    );
    assert_eq!(
        (next.total.settled, next.total.execution_rate),
        (None, None)
    );

    let years: Vec<i32> = model
        .budget_years()
        .unwrap()
        .iter()
        .map(|v| v.year)
        .collect();
    assert_eq!(years, [2017, 2018, 2019, 2020]);
    let err = model.budget(2016).unwrap_err();
    assert_eq!(
        (err.kind, err.field.as_str()),
        (ErrorKind::InvalidArgument, "year")
    );
}

#[test]
fn budget_without_a_district_plan_takes_any_year_but_cannot_list_the_plans_years() {
    let model = budget_history(false).fold();
    assert_eq!(model.budget(2018).unwrap().total.spent, 2_300_000);
    let err = model.budget_years().unwrap_err();
    assert_eq!(
        (err.field.as_str(), err.rule),
        ("year", Rule::NoDistrictPlan)
    );
}

// ---------------------------------------------------------------------------------------------

fn recorded(
    n: u128,
    date: NaiveDate,
    area: ContentArea,
    channel: Channel,
    responsible: Role,
    texts: [&str; 2],
    (audience, partner): (Option<&str>, Option<&str>),
) -> Event {
    let mut details = details(date, area, channel);
    details.responsible = responsible;
    details.title = texts[0].into();
    details.summary = texts[1].into();
    details.audience = audience.map(str::to_string);
    details.partner = partner.map(str::to_string);
    Event::ActivityRecorded(crate::event::ActivityRecorded {
        activity_id: id(n),
        details,
    })
}

/// Four live activities: a1, a2 (An Hòa) and b1 (Phú Thành A) on 5 Mar 2018, b2 on 1 Dec
/// 2017; a3 retracted. a1 was recorded on 4 Mar as a plain radio column and corrected.
fn search_history() -> History {
    use Channel::*;
    use ContentArea::*;
    let mut h = History::district_with(
        Some(district_plan(vec![], AnswerWithinDays::DEFAULT)),
        &[(AN_HOA, SchoolLevel::Thcs), (PHU_THANH, SchoolLevel::Thcs)],
    );
    let radio = |title: &str, date| {
        recorded(
            1,
            date,
            Tasks,
            DistrictRadio,
            Role::VicePrincipal,
            [title, "Phát trên sóng phát thanh của huyện."],
            (None, Some("Đài Truyền thanh huyện Tam Nông")),
        )
    };
    h.school(AN_HOA, radio("Chuyên mục phát thanh", d(2018, 3, 4)));
    let Event::ActivityRecorded(corrected) =
        radio("Chuyên mục giáo dục hướng nghiệp", d(2018, 3, 5))
    else {
        unreachable!()
    };
    h.school_on(AN_HOA, d(2018, 3, 6), correction(1, corrected.details));
    h.school(
        AN_HOA,
        recorded(
            2,
            d(2018, 3, 5),
            StateManagement,
            SchoolPortal,
            Role::DepartmentHead,
            [
                "Tuyên truyền Nghị quyết 29 tại An Hòa",
                "Đăng trên cổng thông tin của trường.",
            ],
            (None, None),
        ),
    );
    h.school(
        AN_HOA,
        recorded(
            3,
            d(2018, 4, 1),
            Tasks,
            Facebook,
            Role::VicePrincipal,
            [
                "Ngày hội hướng nghiệp An Hòa",
                "Bài đăng trên trang của trường.",
            ],
            (None, None),
        ),
    );
    h.school_on(AN_HOA, d(2018, 4, 2), retraction(3));
    h.school(
        PHU_THANH,
        recorded(
            21,
            d(2018, 3, 5),
            Tasks,
            Meeting,
            Role::Principal,
            [
                "Họp phụ huynh về hướng nghiệp",
                "Trao đổi với phụ huynh lớp 9.",
            ],
            (Some("Phụ huynh học sinh xã An Hòa"), None),
        ),
    );
    h.school(
        PHU_THANH,
        recorded(
            22,
            d(2017, 12, 1),
            EmulationCommendation,
            Facebook,
            Role::TradeUnion,
            [
                "Gương người tốt việc tốt",
                "Giới thiệu giáo viên tiêu biểu.",
            ],
            (None, None),
        ),
    );
    h
}

fn found(model: &DistrictModel, filter: ActivityFilter) -> Vec<String> {
    let page = model.search_activities(&filter, None, None).unwrap();
    page.activities
        .iter()
        .map(|a| format!("{}:{}", a.school, a.activity_id))
        .collect()
}

fn ids(items: &[(&str, u128)]) -> Vec<String> {
    items
        .iter()
        .map(|(school, n)| format!("{school}:{}", id(*n)))
        .collect()
}

#[test]
fn search_orders_live_activities_by_date_then_school_then_id() {
    let model = search_history().fold();
    let all = ids(&[(AN_HOA, 1), (AN_HOA, 2), (PHU_THANH, 21), (PHU_THANH, 22)]);
    assert_eq!(found(&model, ActivityFilter::default()), all);
    let page = model
        .search_activities(&ActivityFilter::default(), None, None)
        .unwrap();
    let a1 = &page.activities[0];
    assert_eq!(
        (
            a1.date,
            a1.title.as_str(),
            a1.channel.as_str(),
            a1.area,
            a1.topic.as_deref()
        ),
        (
            d(2018, 3, 5),
            "Chuyên mục giáo dục hướng nghiệp",
            "district_radio",
            3,
            Some("huong-nghiep")
        ),
        "as corrected"
    );
    assert_eq!(
        (a1.reach, a1.responsible.as_str()),
        (Some(100), "vice_principal")
    );
    assert_eq!(page.next_page_token, None);
}

#[test]
fn free_text_matches_every_folded_word_in_title_summary_audience_or_partner() {
    let model = search_history().fold();
    let text = |t: &str| ActivityFilter {
        text: Some(t.into()),
        ..ActivityFilter::default()
    };
    // a1 only by its corrected title; b1 by its title.
    assert_eq!(
        found(&model, text("huong nghiep")),
        ids(&[(AN_HOA, 1), (PHU_THANH, 21)])
    );
    // a2 by its title, b1 by its audience; a3 would match but is retracted.
    assert_eq!(
        found(&model, text("an hoa")),
        ids(&[(AN_HOA, 2), (PHU_THANH, 21)])
    );
    // "dai" only in a1's partner; "truyen" also in a2's title, but both words must match.
    assert_eq!(found(&model, text("ĐÀI  truyền")), ids(&[(AN_HOA, 1)]));
    assert_eq!(found(&model, text("   ")).len(), 4, "blank is no filter");
    assert_eq!(found(&model, text("bong da")), Vec::<String>::new());
}

#[test]
fn structured_filters_combine() {
    let model = search_history().fold();
    let f = ActivityFilter::default;
    let school_area = ActivityFilter {
        school: Some(slug(PHU_THANH)),
        area: Some(ContentArea::Tasks),
        ..f()
    };
    assert_eq!(found(&model, school_area), ids(&[(PHU_THANH, 21)]));
    let channel = ActivityFilter {
        channel: Some(Channel::DistrictRadio),
        ..f()
    };
    assert_eq!(found(&model, channel), ids(&[(AN_HOA, 1)]));
    let role = ActivityFilter {
        responsible: Some(Role::DepartmentHead),
        ..f()
    };
    assert_eq!(found(&model, role), ids(&[(AN_HOA, 2)]));
    let topic = ActivityFilter {
        topic: Some(slug("huong-nghiep")),
        ..f()
    };
    assert_eq!(found(&model, topic), ids(&[(AN_HOA, 1), (PHU_THANH, 21)]));
    let quarter = ActivityFilter {
        period: Some("2017-Q4".parse::<Period>().unwrap()),
        ..f()
    };
    assert_eq!(found(&model, quarter), ids(&[(PHU_THANH, 22)]));
    let outside = ActivityFilter {
        period: Some("2030".parse::<Period>().unwrap()),
        ..f()
    };
    let err = model.search_activities(&outside, None, None).unwrap_err();
    assert_eq!(err.field, "period");
}

#[test]
fn pages_follow_each_other_by_token() {
    let model = search_history().fold();
    let filter = ActivityFilter::default();
    let lines = |page: &crate::district::views::ActivityPage| -> Vec<String> {
        page.activities
            .iter()
            .map(|a| format!("{}:{}", a.school, a.activity_id))
            .collect()
    };
    let first = model.search_activities(&filter, Some(2), None).unwrap();
    assert_eq!(lines(&first), ids(&[(AN_HOA, 1), (AN_HOA, 2)]));
    let token = first.next_page_token.clone().unwrap();
    assert_eq!(token, format!("2018-03-05.{AN_HOA}.{}", id(2)));
    let second = model
        .search_activities(&filter, Some(2), Some(&token))
        .unwrap();
    assert_eq!(lines(&second), ids(&[(PHU_THANH, 21), (PHU_THANH, 22)]));
    assert_eq!(second.next_page_token, None, "nothing after the fourth");

    let first = model.search_activities(&filter, Some(3), None).unwrap();
    let second = model
        .search_activities(&filter, Some(3), first.next_page_token.as_deref())
        .unwrap();
    assert_eq!(lines(&second), ids(&[(PHU_THANH, 22)]));
    assert_eq!(
        model
            .search_activities(&filter, Some(4), None)
            .unwrap()
            .next_page_token,
        None
    );
    let err = model
        .search_activities(&filter, None, Some("not-a-token"))
        .unwrap_err();
    assert_eq!(
        (err.kind, err.field.as_str()),
        (ErrorKind::InvalidArgument, "page_token")
    );
}
