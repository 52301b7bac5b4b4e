//! Completeness and timeliness, responsiveness, commendation.

use super::*;
use crate::calendar::Period;
use crate::district::views::{
    CaseKind, CaseLine, CaseStats, CaseStatus, CommendationCount, LevelCount, NominationLine,
    SchoolCompleteness,
};
use crate::error::{ErrorKind, Rule};
use crate::event::{
    CommendationAwarded, FeedbackAnswered, FeedbackReceived, NomineeNominated, PressIssueAnswered,
    PressIssueRaised,
};
use crate::roles::{CommendationLevel, NomineeKind};

const AN_HOA: &str = "thcs-an-hoa";
const PHU_CUONG: &str = "th-phu-cuong";
const TRAM_CHIM: &str = "mn-tram-chim";

fn period(text: &str) -> Period {
    text.parse().unwrap()
}

fn feedback(n: u128, on: NaiveDate) -> Event {
    Event::FeedbackReceived(FeedbackReceived {
        feedback_id: id(n),
        received_on: on,
        channel: Channel::Hotline,
        citizen: None,
        subject: format!("Phản ánh số {n}"),
        content: "Đề nghị nhà trường công khai các khoản thu.".into(),
        area: None,
    })
}

fn feedback_answer(n: u128, on: NaiveDate) -> Event {
    Event::FeedbackAnswered(FeedbackAnswered {
        feedback_id: id(n),
        answered_on: on,
        channel: Channel::Meeting,
        answer: "Nhà trường đã trả lời tại cuộc họp.".into(),
    })
}

fn press(n: u128, on: NaiveDate) -> Event {
    Event::PressIssueRaised(PressIssueRaised {
        issue_id: id(n),
        raised_on: on,
        outlet: "Báo Đồng Tháp".into(),
        title: format!("Bài báo số {n}"),
        summary: "Phụ huynh phản ánh việc dạy thêm.".into(),
        url: None,
        area: None,
    })
}

fn press_answer(n: u128, on: NaiveDate) -> Event {
    Event::PressIssueAnswered(PressIssueAnswered {
        issue_id: id(n),
        answered_on: on,
        channel: Channel::LocalPress,
        response: "Nhà trường đã kiểm tra và chấn chỉnh.".into(),
    })
}

// ---------------------------------------------------------------------------------------------

#[test]
fn completeness_counts_reporting_schools_and_late_events() {
    let mut h = History::district_with(
        Some(district_plan(vec![], AnswerWithinDays::DEFAULT)),
        &[
            (AN_HOA, SchoolLevel::Thcs),
            (PHU_CUONG, SchoolLevel::TieuHoc),
            (TRAM_CHIM, SchoolLevel::MamNon),
        ],
    );
    use Channel::*;
    use ContentArea::*;
    // An Hòa, 2018-Q1: recorded 2, 19 and 3 days late (the last one on 2 April, still a Q1
    // event), and a retraction of the 19-day one (no date of its own: delay 0).
    h.school_on(
        AN_HOA,
        d(2018, 1, 12),
        activity(1, d(2018, 1, 10), Tasks, Meeting),
    );
    h.school_on(
        AN_HOA,
        d(2018, 2, 20),
        activity(2, d(2018, 2, 1), Tasks, Meeting),
    );
    h.school_on(AN_HOA, d(2018, 3, 5), retraction(2));
    h.school_on(
        AN_HOA,
        d(2018, 4, 2),
        activity(3, d(2018, 3, 30), Tasks, Meeting),
    );
    // Tràm Chim: one feedback on time, no activity.
    h.school(TRAM_CHIM, feedback(1, d(2018, 2, 10)));
    let model = h.fold();

    let view = model.completeness(period("2018-Q1")).unwrap();
    assert_eq!(
        view.schools,
        vec![
            SchoolCompleteness {
                school: TRAM_CHIM.into(),
                activities: 0,
                events: 1,
                reported: false,
                on_time: 1,
                on_time_rate: Some(1.0),
                max_delay_days: Some(0),
            },
            SchoolCompleteness {
                school: PHU_CUONG.into(),
                activities: 0,
                events: 0,
                reported: false,
                on_time: 0,
                on_time_rate: None,
                max_delay_days: None,
            },
            SchoolCompleteness {
                school: AN_HOA.into(),
                activities: 2,
                events: 4,
                reported: true,
                on_time: 3,
                on_time_rate: Some(0.75),
                max_delay_days: Some(19),
            },
        ]
    );
    assert_eq!((view.enrolled, view.reported), (3, 1));
    assert_eq!(view.reporting_rate, Some(0.3333));
    // The whole plan: each school's plan.adopted (20/10/2017, recorded that day) counts too.
    let whole = model.completeness(Period::WholePlan).unwrap();
    assert_eq!(whole.schools[2].events, 5);
    assert_eq!(whole.schools[1].events, 1);
}

// ---------------------------------------------------------------------------------------------

/// Feedback within 10 days, press within 5. An Hòa, 2018-Q3:
/// f1 2 Jul → 5 Jul (3 days); f2 1 Aug → 20 Aug (19, late); f3 10 Sep, open;
/// f4 25 Sep → 3 Oct (after the quarter); f5 30 Jun (outside); p1 10 Jul → 14 Jul (4 days);
/// p2 1 Sep, open.
fn responsiveness_history(plan: bool) -> History {
    let plan = plan.then(|| {
        district_plan(
            vec![],
            AnswerWithinDays {
                feedback: 10,
                press: 5,
            },
        )
    });
    let mut h = History::district_with(
        plan,
        &[
            (AN_HOA, SchoolLevel::Thcs),
            (PHU_CUONG, SchoolLevel::TieuHoc),
        ],
    );
    h.school(AN_HOA, feedback(1, d(2018, 7, 2)));
    h.school(AN_HOA, feedback_answer(1, d(2018, 7, 5)));
    h.school(AN_HOA, feedback(2, d(2018, 8, 1)));
    h.school(AN_HOA, feedback_answer(2, d(2018, 8, 20)));
    h.school(AN_HOA, feedback(3, d(2018, 9, 10)));
    h.school(AN_HOA, feedback(4, d(2018, 9, 25)));
    h.school(AN_HOA, feedback_answer(4, d(2018, 10, 3)));
    h.school(AN_HOA, feedback(5, d(2018, 6, 30)));
    h.school(AN_HOA, press(6, d(2018, 7, 10)));
    h.school(AN_HOA, press_answer(6, d(2018, 7, 14)));
    h.school(AN_HOA, press(7, d(2018, 9, 1)));
    h
}

fn stats(
    [received, answered, open, overdue, late]: [i64; 5],
    mean: Option<f64>,
    max: Option<i64>,
) -> CaseStats {
    CaseStats {
        received,
        answered,
        open,
        overdue,
        late,
        mean_days_to_answer: mean,
        max_days_to_answer: max,
    }
}

fn flagged(
    kind: CaseKind,
    n: u128,
    opened_on: NaiveDate,
    answered_on: Option<NaiveDate>,
    days: i64,
    status: CaseStatus,
) -> CaseLine {
    let subject = match kind {
        CaseKind::Feedback => format!("Phản ánh số {n}"),
        CaseKind::Press => format!("Bài báo số {n}"),
    };
    CaseLine {
        school: AN_HOA.into(),
        kind,
        id: id(n).to_string(),
        subject,
        opened_on,
        answered_on,
        days,
        status,
    }
}

#[test]
fn responsiveness_at_the_end_of_the_quarter() {
    let model = responsiveness_history(true).fold();
    let view = model.responsiveness(period("2018-Q3"), None).unwrap();
    assert_eq!(view.as_of, d(2018, 9, 30));
    assert_eq!((view.feedback_within_days, view.press_within_days), (10, 5));
    // Feedback: f1..f4 received; f1, f2 answered by 30 Sep (3 and 19 days, mean 11.0); f2
    // late; f3 open 20 days (overdue), f4 open 5 days (not).
    let feedback = stats([4, 2, 2, 1, 1], Some(11.0), Some(19));
    // Press: p1 answered in 4 days; p2 open 29 days (overdue).
    let press = stats([2, 1, 1, 1, 0], Some(4.0), Some(4));
    assert_eq!(view.schools[1].school, AN_HOA);
    assert_eq!(
        (&view.schools[1].feedback, &view.schools[1].press),
        (&feedback, &press)
    );
    assert_eq!(view.schools[0].feedback, CaseStats::default());
    assert_eq!((view.feedback, view.press), (feedback, press));
    assert_eq!(
        view.flagged,
        vec![
            flagged(
                CaseKind::Feedback,
                2,
                d(2018, 8, 1),
                Some(d(2018, 8, 20)),
                19,
                CaseStatus::Late
            ),
            flagged(
                CaseKind::Feedback,
                3,
                d(2018, 9, 10),
                None,
                20,
                CaseStatus::Overdue
            ),
            flagged(
                CaseKind::Press,
                7,
                d(2018, 9, 1),
                None,
                29,
                CaseStatus::Overdue
            ),
        ]
    );
}

#[test]
fn responsiveness_as_of_a_date_inside_the_period() {
    let model = responsiveness_history(true).fold();
    // As of 15 Sep: f3 is 5 days old (not overdue); f4 (opened 25 Sep, in the period) is
    // counted, open and not overdue; p2 is 14 days old (overdue).
    let view = model
        .responsiveness(period("2018-Q3"), Some(d(2018, 9, 15)))
        .unwrap();
    assert_eq!(view.feedback, stats([4, 2, 2, 0, 1], Some(11.0), Some(19)));
    assert_eq!(view.press, stats([2, 1, 1, 1, 0], Some(4.0), Some(4)));
    // As of a date after the period: refused.
    let err = model
        .responsiveness(period("2018-Q3"), Some(d(2018, 10, 1)))
        .unwrap_err();
    assert_eq!(
        (err.kind, err.field.as_str(), err.rule),
        (
            ErrorKind::InvalidArgument,
            "as_of",
            Rule::AfterPeriodEnd {
                date: d(2018, 10, 1),
                period: "2018-Q3".into(),
                end: d(2018, 9, 30)
            }
        )
    );
    // The calendar year sees f4's answer (8 days) and f5 (open since 30 Jun: overdue).
    let year = model.responsiveness(period("2018"), None).unwrap();
    assert_eq!(year.feedback, stats([5, 3, 2, 2, 1], Some(10.0), Some(19)));
}

#[test]
fn without_a_district_plan_the_default_limits_apply() {
    let model = responsiveness_history(false).fold();
    let view = model.responsiveness(period("2018-Q3"), None).unwrap();
    assert_eq!((view.feedback_within_days, view.press_within_days), (15, 7));
    // f2's 19 days are still late (> 15), f3's 20 still overdue; p2's 29 > 7.
    assert_eq!(view.feedback, stats([4, 2, 2, 1, 1], Some(11.0), Some(19)));
    assert_eq!(view.press.overdue, 1);
}

// ---------------------------------------------------------------------------------------------

fn nomination(n: u128, on: NaiveDate, proposed: CommendationLevel) -> Event {
    Event::NomineeNominated(NomineeNominated {
        nomination_id: id(n),
        date: on,
        nominee_kind: NomineeKind::Individual,
        nominee: format!("Giáo viên số {n}"),
        achievement: "Viết nhiều tin bài cho cổng thông tin của trường.".into(),
        proposed_level: proposed,
    })
}

fn award(n: u128, on: NaiveDate, level: CommendationLevel, number: &str) -> Event {
    Event::CommendationAwarded(CommendationAwarded {
        nomination_id: id(n),
        level,
        decision_number: number.into(),
        decision_date: on,
    })
}

#[test]
fn commendation_counts_nominations_and_awards_by_their_own_dates() {
    use CommendationLevel::*;
    let mut h = History::district_with(
        Some(district_plan(vec![], AnswerWithinDays::DEFAULT)),
        &[
            (AN_HOA, SchoolLevel::Thcs),
            (PHU_CUONG, SchoolLevel::TieuHoc),
        ],
    );
    // Period: school year 2018-2019 (1 Sep 2018 – 31 Aug 2019).
    h.school(AN_HOA, nomination(4, d(2017, 12, 1), District)); // before; never awarded
    h.school(AN_HOA, nomination(3, d(2018, 5, 1), School)); // before …
    h.school(AN_HOA, award(3, d(2018, 9, 10), School, "12/QĐ-THCSAH")); // … awarded inside
    h.school(AN_HOA, nomination(1, d(2018, 10, 1), District));
    h.school(AN_HOA, award(1, d(2018, 12, 1), District, "45/QĐ-UBND"));
    h.school(AN_HOA, nomination(2, d(2019, 5, 20), Province));
    h.school(AN_HOA, award(2, d(2019, 9, 15), District, "301/QĐ-UBND")); // after the period
    let model = h.fold();

    let view = model.commendation(period("2018-2019")).unwrap();
    let count = |school: &str, level: CommendationLevel, nominated, awarded| CommendationCount {
        school: school.into(),
        level: level.code().into(),
        nominated,
        awarded,
    };
    assert_eq!(
        view.counts,
        vec![
            count(PHU_CUONG, School, 0, 0),
            count(PHU_CUONG, District, 0, 0),
            count(PHU_CUONG, Province, 0, 0),
            count(PHU_CUONG, Ministry, 0, 0),
            count(PHU_CUONG, Government, 0, 0),
            count(AN_HOA, School, 0, 1),
            count(AN_HOA, District, 1, 1),
            count(AN_HOA, Province, 1, 0),
            count(AN_HOA, Ministry, 0, 0),
            count(AN_HOA, Government, 0, 0),
        ]
    );
    assert_eq!(
        view.levels[..3],
        [
            LevelCount {
                level: "school".into(),
                nominated: 0,
                awarded: 1
            },
            LevelCount {
                level: "district".into(),
                nominated: 1,
                awarded: 1
            },
            LevelCount {
                level: "province".into(),
                nominated: 1,
                awarded: 0
            },
        ]
    );
    let line =
        |n: u128, on, proposed: CommendationLevel, award: Option<(&str, &str, NaiveDate)>| {
            NominationLine {
                school: AN_HOA.into(),
                nomination_id: id(n).to_string(),
                date: on,
                nominee_kind: "individual".into(),
                nominee: format!("Giáo viên số {n}"),
                achievement: "Viết nhiều tin bài cho cổng thông tin của trường.".into(),
                proposed_level: proposed.code().into(),
                awarded_level: award.map(|a| a.0.to_string()),
                decision_number: award.map(|a| a.1.to_string()),
                decision_date: award.map(|a| a.2),
            }
        };
    // Listed: nominated inside (1, 2) or awarded inside (3); 2's award is after the period.
    assert_eq!(
        view.nominations,
        vec![
            line(
                3,
                d(2018, 5, 1),
                School,
                Some(("school", "12/QĐ-THCSAH", d(2018, 9, 10)))
            ),
            line(
                1,
                d(2018, 10, 1),
                District,
                Some(("district", "45/QĐ-UBND", d(2018, 12, 1)))
            ),
            line(2, d(2019, 5, 20), Province, None),
        ]
    );
}
