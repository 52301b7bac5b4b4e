//! The plan view: activities, channels and targets per school × area × period.

use super::*;
use crate::calendar::Period;
use crate::district::views::{PlanAreaSummary, PlanRow, PlanSchoolSummary, TargetStatus};
use crate::error::{ErrorKind, Rule};

const AN_HOA: &str = "thcs-an-hoa";
const PHU_THO: &str = "mn-phu-tho";

fn period(text: &str) -> Period {
    text.parse().unwrap()
}

/// Targets: every school, every area, 2 a quarter; THCS schools, area 3, 3 a semester.
///
/// THCS An Hòa: area 3 on 10 Jan, 5 Feb (district radio, portal), 20 Mar (retracted later),
/// 30 Dec 2017; area 1 on 1 Feb (corrected to area 2, 2 Apr) and 1 Mar (portal).
/// MN Phú Thọ: area 3 twice and area 4 twice in 2018-Q1.
fn history() -> History {
    let plan = district_plan(
        vec![
            target(None, None, TargetPer::Quarter, 2),
            target(
                Some(SchoolLevel::Thcs),
                Some(ContentArea::Tasks),
                TargetPer::Semester,
                3,
            ),
        ],
        AnswerWithinDays::DEFAULT,
    );
    let mut h = History::district_with(
        Some(plan),
        &[(AN_HOA, SchoolLevel::Thcs), (PHU_THO, SchoolLevel::MamNon)],
    );
    use Channel::*;
    use ContentArea::*;
    h.school(AN_HOA, activity(1, d(2018, 1, 10), Tasks, DistrictRadio));
    h.school(AN_HOA, activity(2, d(2018, 2, 5), Tasks, SchoolPortal));
    h.school(AN_HOA, activity(3, d(2018, 3, 20), Tasks, Facebook));
    h.school(AN_HOA, activity(4, d(2018, 2, 1), StateManagement, Meeting));
    h.school(
        AN_HOA,
        activity(5, d(2018, 3, 1), StateManagement, SchoolPortal),
    );
    h.school(AN_HOA, activity(6, d(2017, 12, 30), Tasks, Meeting));
    h.school_on(AN_HOA, d(2018, 3, 21), retraction(3));
    h.school_on(
        AN_HOA,
        d(2018, 4, 3),
        correction(4, details(d(2018, 4, 2), CurriculumReform, Meeting)),
    );
    h.school(PHU_THO, activity(11, d(2018, 1, 20), Tasks, Meeting));
    h.school(PHU_THO, activity(12, d(2018, 2, 20), Tasks, Meeting));
    h.school(
        PHU_THO,
        activity(13, d(2018, 3, 5), EmulationCommendation, Facebook),
    );
    h.school(
        PHU_THO,
        activity(14, d(2018, 3, 6), EmulationCommendation, Hotline),
    );
    h
}

fn row(school: &str, area: u8, activities: i64, channels: &[&str], target: Option<i64>) -> PlanRow {
    let status = match target {
        None => TargetStatus::NoTarget,
        Some(t) if activities >= t => TargetStatus::Met,
        Some(_) => TargetStatus::Missed,
    };
    PlanRow {
        school: school.into(),
        area,
        activities,
        channels: channels.iter().map(|c| c.to_string()).collect(),
        target,
        status,
    }
}

#[test]
fn a_quarter_counts_live_activities_where_they_now_are_against_quarter_targets_only() {
    let model = history().fold();
    // When the district asks for 2018-Q1 …
    let view = model.plan_view(period("2018-Q1")).unwrap();
    assert_eq!(
        (view.period.start, view.period.end),
        (d(2018, 1, 1), d(2018, 3, 31))
    );
    // … then one quarter fits (target 2 everywhere); HK II (16 Jan – 31 May) does not, so the
    // THCS area-3 semester target is not counted. Activity 3 is retracted, activity 4 moved
    // to area 2 in April, activity 6 is in 2017.
    assert_eq!(
        view.rows,
        vec![
            row(PHU_THO, 1, 0, &[], Some(2)),
            row(PHU_THO, 2, 0, &[], Some(2)),
            row(PHU_THO, 3, 2, &["meeting"], Some(2)),
            row(PHU_THO, 4, 2, &["facebook", "hotline"], Some(2)),
            row(PHU_THO, 5, 0, &[], Some(2)),
            row(PHU_THO, 6, 0, &[], Some(2)),
            row(AN_HOA, 1, 1, &["school_portal"], Some(2)),
            row(AN_HOA, 2, 0, &[], Some(2)),
            row(AN_HOA, 3, 2, &["district_radio", "school_portal"], Some(2)),
            row(AN_HOA, 4, 0, &[], Some(2)),
            row(AN_HOA, 5, 0, &[], Some(2)),
            row(AN_HOA, 6, 0, &[], Some(2)),
        ]
    );
    assert_eq!(view.rows[9].status, TargetStatus::Missed);
    assert_eq!(view.rows[8].status, TargetStatus::Met);
    let summary = |school: &str, areas_missed, total_activities| PlanSchoolSummary {
        school: school.into(),
        areas_missed,
        total_activities,
    };
    assert_eq!(
        view.schools,
        vec![summary(PHU_THO, 4, 4), summary(AN_HOA, 5, 3)]
    );
    assert_eq!(
        view.lagging,
        vec![summary(AN_HOA, 5, 3), summary(PHU_THO, 4, 4)]
    );
    let missed: Vec<i64> = view.areas.iter().map(|a| a.schools_missed).collect();
    assert_eq!(missed, [2, 2, 0, 1, 2, 2]);
    assert_eq!(
        view.areas[3],
        PlanAreaSummary {
            area: 4,
            schools_missed: 1
        }
    );
}

#[test]
fn the_corrected_activity_counts_in_its_new_quarter_and_area() {
    let view = history().fold().plan_view(period("2018-Q2")).unwrap();
    let an_hoa_2 = view
        .rows
        .iter()
        .find(|r| r.school == AN_HOA && r.area == 2)
        .unwrap();
    assert_eq!(*an_hoa_2, row(AN_HOA, 2, 1, &["meeting"], Some(2)));
}

#[test]
fn longer_periods_sum_every_target_period_entirely_inside() {
    let model = history().fold();
    let area = |view: &crate::district::views::PlanView, school: &str, area: u8| {
        view.rows
            .iter()
            .find(|r| r.school == school && r.area == area)
            .cloned()
            .unwrap()
    };
    // School year 2017-2018 (1 Sep 2017 – 31 Aug 2018): quarters 2017-Q4, 2018-Q1, 2018-Q2
    // (2018-Q3 ends in September) → 3 × 2 = 6; both semesters → 2 × 3 = 6 more for THCS area 3.
    // An Hòa's area 3: 30 Dec, 10 Jan, 5 Feb (20 Mar retracted) = 3 of 12.
    let year = model.plan_view(period("2017-2018")).unwrap();
    assert_eq!(
        area(&year, AN_HOA, 3),
        row(
            AN_HOA,
            3,
            3,
            &["district_radio", "meeting", "school_portal"],
            Some(12)
        )
    );
    assert_eq!(
        area(&year, PHU_THO, 3),
        row(PHU_THO, 3, 2, &["meeting"], Some(6))
    );
    // Calendar 2018: 4 quarters × 2 = 8; only HK II 2017-2018 fits (HK I 2018-2019 ends in
    // January 2019) → 3; THCS area 3 target 11.
    let y2018 = model.plan_view(period("2018")).unwrap();
    assert_eq!(area(&y2018, AN_HOA, 3).target, Some(11));
    assert_eq!(
        area(&y2018, AN_HOA, 2),
        row(AN_HOA, 2, 1, &["meeting"], Some(8))
    );
    // A month holds no whole quarter: no target at all.
    let march = model.plan_view(period("2018-03")).unwrap();
    assert!(
        march
            .rows
            .iter()
            .all(|r| r.target.is_none() && r.status == TargetStatus::NoTarget)
    );
    assert_eq!(march.lagging, vec![]);
}

#[test]
fn without_a_district_plan_there_is_no_target_and_no_plan_period() {
    let mut h = History::district_with(None, &[(AN_HOA, SchoolLevel::Thcs)]);
    h.school(
        AN_HOA,
        activity(1, d(2018, 1, 10), ContentArea::Tasks, Channel::Email),
    );
    let model = h.fold();
    let view = model.plan_view(period("2018-Q1")).unwrap();
    assert_eq!(view.rows[2], row(AN_HOA, 3, 1, &["email"], None));
    assert_eq!(view.rows[2].status, TargetStatus::NoTarget);
    let err = model.plan_view(Period::WholePlan).unwrap_err();
    assert_eq!(
        (err.kind, err.field.as_str(), err.rule),
        (
            ErrorKind::FailedPrecondition,
            "period",
            Rule::NoDistrictPlan
        )
    );
}

#[test]
fn periods_outside_the_district_plan_are_refused_naming_the_period() {
    let model = history().fold();
    let err = model.plan_view(period("2031")).unwrap_err();
    assert_eq!(
        (err.kind, err.field.as_str()),
        (ErrorKind::InvalidArgument, "period")
    );
    assert_eq!(
        err.to_string(),
        "period 2031 (2031-01-01..2031-12-31) is outside plan period 2017-10-18..2020-12-31"
    );
    assert!(
        err.vietnamese().contains("nằm ngoài"),
        "{}",
        err.vietnamese()
    );
    // Overlapping is enough: 2017 begins before the plan but overlaps it.
    assert!(model.plan_view(period("2017")).is_ok());
    for refused in ["2017-03", "2016-2017", "2021-Q1"] {
        assert_eq!(
            model.completeness(period(refused)).unwrap_err().field,
            "period"
        );
        assert_eq!(
            model.commendation(period(refused)).unwrap_err().field,
            "period"
        );
        assert_eq!(
            model
                .responsiveness(period(refused), None)
                .unwrap_err()
                .field,
            "period"
        );
    }
    let whole = model.plan_view(Period::WholePlan).unwrap();
    assert_eq!(
        (
            whole.period.period.as_str(),
            whole.period.start,
            whole.period.end
        ),
        ("plan", d(2017, 10, 18), d(2020, 12, 31))
    );
}
