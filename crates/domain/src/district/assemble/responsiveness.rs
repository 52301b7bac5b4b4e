//! Responsiveness from its rows: the citizen feedback and press issues opened in the period,
//! judged as of a date against the answer limits in force.
//!
//! The model tallies every case with [`Tally::add`]; the aggregator tallies them with a
//! `GROUP BY` that counts what [`judge`] decides, and passes only the cases SQL found overdue
//! or late. Either way [`responsiveness`] judges each listed case again with [`judge`], adds
//! the district's totals and orders the listing.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::district::facts::{AnswerWithinDays, DistrictPlan, Enrolment};
use crate::district::views::{
    CaseKind, CaseLine, CaseStats, CaseStatus, ResponsivenessView, SchoolResponsiveness, mean,
};
use crate::error::{DomainError, Rule};

use super::ViewPeriod;

/// The date cases are judged at: `as_of`, or the period's end; a date after the period's end
/// is refused (field `as_of`).
pub fn resolve_as_of(
    period: &ViewPeriod,
    as_of: Option<NaiveDate>,
) -> Result<NaiveDate, DomainError> {
    let end = period.range.end();
    let as_of = as_of.unwrap_or(end);
    if as_of > end {
        return Err(DomainError::invalid(
            "as_of",
            Rule::AfterPeriodEnd {
                date: as_of,
                period: period.shown.period.clone(),
                end,
            },
        ));
    }
    Ok(as_of)
}

/// How many days a school has to answer each kind of case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseLimits {
    pub feedback: i64,
    pub press: i64,
}

impl CaseLimits {
    /// The district plan's `answer_within_days`, or 15 and 7 without a plan.
    pub fn in_force(plan: Option<&DistrictPlan>) -> Self {
        let days = plan.map_or(AnswerWithinDays::DEFAULT, |p| p.answer_within_days);
        Self {
            feedback: i64::from(days.feedback),
            press: i64::from(days.press),
        }
    }

    pub fn of(&self, kind: CaseKind) -> i64 {
        match kind {
            CaseKind::Feedback => self.feedback,
            CaseKind::Press => self.press,
        }
    }
}

/// Where a case stands as of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// Answered on or before the as-of date, `days` after it was opened; `late` when that is
    /// more than the limit.
    Answered { days: i64, late: bool },
    /// Not answered by the as-of date, open for `days`; `overdue` when that is more than the
    /// limit.
    Open { days: i64, overdue: bool },
}

/// Judges a case opened on `opened_on` and answered on `answered_on` (if ever) as of
/// `as_of`, with `limit` days to answer. An answer after the as-of date is not yet given.
pub fn judge(
    opened_on: NaiveDate,
    answered_on: Option<NaiveDate>,
    as_of: NaiveDate,
    limit: i64,
) -> Judgement {
    match answered_on.filter(|on| *on <= as_of) {
        Some(on) => {
            let days = (on - opened_on).num_days();
            Judgement::Answered {
                days,
                late: days > limit,
            }
        }
        None => {
            let days = (as_of - opened_on).num_days();
            Judgement::Open {
                days,
                overdue: days > limit,
            }
        }
    }
}

/// A citizen's feedback or a press issue of an enrolled school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub school: String,
    pub kind: CaseKind,
    /// `feedback_id` or `issue_id`.
    pub id: String,
    /// The feedback's subject or the press issue's title.
    pub subject: String,
    pub opened_on: NaiveDate,
    pub answered_on: Option<NaiveDate>,
}

impl Case {
    /// The case's line in the listing when it is overdue or late as of `as_of`.
    pub fn flag(&self, as_of: NaiveDate, limit: i64) -> Option<CaseLine> {
        let (status, days, answered_on) =
            match judge(self.opened_on, self.answered_on, as_of, limit) {
                Judgement::Answered { days, late: true } => {
                    (CaseStatus::Late, days, self.answered_on)
                }
                Judgement::Open {
                    days,
                    overdue: true,
                } => (CaseStatus::Overdue, days, None),
                Judgement::Answered { late: false, .. }
                | Judgement::Open { overdue: false, .. } => {
                    return None;
                }
            };
        Some(CaseLine {
            school: self.school.clone(),
            kind: self.kind,
            id: self.id.clone(),
            subject: self.subject.clone(),
            opened_on: self.opened_on,
            answered_on,
            days,
            status,
        })
    }
}

/// Running counts of one kind of case, for a school or the district.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub received: i64,
    /// Answered on or before the as-of date.
    pub answered: i64,
    pub overdue: i64,
    pub late: i64,
    /// Σ of the days to answer of the answered cases.
    pub days_sum: i64,
    /// The most days to answer; `None` when nothing is answered.
    pub days_max: Option<i64>,
}

impl Tally {
    /// Counts one case as [`judge`] judges it.
    pub fn add(
        &mut self,
        opened_on: NaiveDate,
        answered_on: Option<NaiveDate>,
        as_of: NaiveDate,
        limit: i64,
    ) {
        self.received += 1;
        match judge(opened_on, answered_on, as_of, limit) {
            Judgement::Answered { days, late } => {
                self.answered += 1;
                self.late += i64::from(late);
                self.days_sum += days;
                self.days_max = self.days_max.max(Some(days));
            }
            Judgement::Open { overdue, .. } => self.overdue += i64::from(overdue),
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        self.received += other.received;
        self.answered += other.answered;
        self.overdue += other.overdue;
        self.late += other.late;
        self.days_sum += other.days_sum;
        self.days_max = self.days_max.max(other.days_max);
    }

    /// The view's statistics: `open` = received − answered, the mean days to answer.
    pub fn stats(&self) -> CaseStats {
        CaseStats {
            received: self.received,
            answered: self.answered,
            open: self.received - self.answered,
            overdue: self.overdue,
            late: self.late,
            mean_days_to_answer: mean(self.days_sum, self.answered),
            max_days_to_answer: self.days_max,
        }
    }
}

/// One school's tallies, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseTallies {
    pub feedback: Tally,
    pub press: Tally,
}

impl CaseTallies {
    pub fn of_mut(&mut self, kind: CaseKind) -> &mut Tally {
        match kind {
            CaseKind::Feedback => &mut self.feedback,
            CaseKind::Press => &mut self.press,
        }
    }
}

/// The tallies by school of the cases opened in the period, judged as of `as_of`.
pub fn tally_cases<'a>(
    period: &ViewPeriod,
    as_of: NaiveDate,
    limits: CaseLimits,
    cases: impl IntoIterator<Item = &'a Case>,
) -> BTreeMap<String, CaseTallies> {
    let mut tallies: BTreeMap<String, CaseTallies> = BTreeMap::new();
    for case in cases
        .into_iter()
        .filter(|c| period.range.contains(c.opened_on))
    {
        tallies
            .entry(case.school.clone())
            .or_default()
            .of_mut(case.kind)
            .add(
                case.opened_on,
                case.answered_on,
                as_of,
                limits.of(case.kind),
            );
    }
    tallies
}

/// The responsiveness view of the enrolled schools (by code), from each school's tallies
/// (by code; missing is zero) and the cases that may be flagged: those of enrolled schools
/// opened in the period and overdue or late as of `as_of` are listed, by school, kind
/// (feedback first), opening date and id.
pub fn responsiveness<'a>(
    period: ViewPeriod,
    as_of: NaiveDate,
    limits: CaseLimits,
    enrolments: impl IntoIterator<Item = &'a Enrolment>,
    tallies: &BTreeMap<String, CaseTallies>,
    cases: impl IntoIterator<Item = &'a Case>,
) -> ResponsivenessView {
    let mut all = CaseTallies::default();
    let mut schools = Vec::new();
    let mut enrolled = Vec::new();
    for enrolment in enrolments {
        let code = enrolment.code.as_str();
        let tally = tallies.get(code).copied().unwrap_or_default();
        all.feedback.merge(&tally.feedback);
        all.press.merge(&tally.press);
        schools.push(SchoolResponsiveness {
            school: code.to_owned(),
            feedback: tally.feedback.stats(),
            press: tally.press.stats(),
        });
        enrolled.push(code);
    }
    let mut flagged: Vec<CaseLine> = cases
        .into_iter()
        .filter(|c| period.range.contains(c.opened_on) && enrolled.contains(&c.school.as_str()))
        .filter_map(|c| c.flag(as_of, limits.of(c.kind)))
        .collect();
    flagged.sort_by(|a, b| {
        (&a.school, a.kind, a.opened_on, &a.id).cmp(&(&b.school, b.kind, b.opened_on, &b.id))
    });
    ResponsivenessView {
        period: period.shown,
        as_of,
        feedback_within_days: limits.feedback,
        press_within_days: limits.press,
        schools,
        feedback: all.feedback.stats(),
        press: all.press.stats(),
        flagged,
    }
}

#[cfg(test)]
mod tests {
    use super::super::given::*;
    use super::*;
    use crate::district::SchoolLevel;

    const LIMITS: CaseLimits = CaseLimits {
        feedback: 15,
        press: 7,
    };

    fn case(
        school: &str,
        kind: CaseKind,
        id: &str,
        opened_on: NaiveDate,
        answered_on: Option<NaiveDate>,
    ) -> Case {
        Case {
            school: school.into(),
            kind,
            id: id.into(),
            subject: format!("Vụ việc {id}"),
            opened_on,
            answered_on,
        }
    }

    #[test]
    fn given_the_as_of_date_when_judged_then_answers_after_it_are_not_yet_given() {
        let opened = d(2018, 3, 1);
        assert_eq!(
            judge(opened, Some(d(2018, 3, 16)), d(2018, 3, 31), 15),
            Judgement::Answered {
                days: 15,
                late: false
            },
            "15 days of 15 is in time"
        );
        assert_eq!(
            judge(opened, Some(d(2018, 3, 17)), d(2018, 3, 31), 15),
            Judgement::Answered {
                days: 16,
                late: true
            }
        );
        assert_eq!(
            judge(opened, Some(d(2018, 4, 2)), d(2018, 3, 31), 15),
            Judgement::Open {
                days: 30,
                overdue: true
            },
            "answered after the as-of date"
        );
        assert_eq!(
            judge(opened, None, d(2018, 3, 16), 15),
            Judgement::Open {
                days: 15,
                overdue: false
            }
        );
    }

    #[test]
    fn given_no_plan_when_limits_are_looked_up_then_fifteen_and_seven() {
        assert_eq!(CaseLimits::in_force(None), LIMITS);
        let mut plan = district_plan(vec![]);
        plan.answer_within_days = AnswerWithinDays {
            feedback: 10,
            press: 3,
        };
        let limits = CaseLimits::in_force(Some(&plan));
        assert_eq!(
            (limits.of(CaseKind::Feedback), limits.of(CaseKind::Press)),
            (10, 3)
        );
    }

    #[test]
    fn given_a_period_when_as_of_is_resolved_then_its_end_by_default_and_never_after() {
        let q1 = period(None, "2018-Q1");
        assert_eq!(resolve_as_of(&q1, None).unwrap(), d(2018, 3, 31));
        assert_eq!(
            resolve_as_of(&q1, Some(d(2018, 2, 1))).unwrap(),
            d(2018, 2, 1)
        );
        let err = resolve_as_of(&q1, Some(d(2018, 4, 1))).unwrap_err();
        assert_eq!(err.field, "as_of");
        assert!(matches!(err.rule, Rule::AfterPeriodEnd { .. }), "{err}");
    }

    #[test]
    fn given_cases_when_tallied_then_counts_sums_and_stats() {
        let as_of = d(2018, 3, 31);
        let mut tally = Tally::default();
        tally.add(d(2018, 3, 1), Some(d(2018, 3, 4)), as_of, 15); // 3 days
        tally.add(d(2018, 1, 2), Some(d(2018, 1, 22)), as_of, 15); // 20 days: late
        tally.add(d(2018, 3, 20), None, as_of, 15); // 11 days open
        tally.add(d(2018, 2, 1), None, as_of, 15); // 58 days open: overdue
        tally.add(d(2018, 3, 1), Some(d(2018, 4, 9)), as_of, 15); // not yet: overdue
        assert_eq!(
            tally.stats(),
            CaseStats {
                received: 5,
                answered: 2,
                open: 3,
                overdue: 2,
                late: 1,
                mean_days_to_answer: Some(11.5),
                max_days_to_answer: Some(20),
            }
        );
        let mut district = Tally::default();
        district.merge(&tally);
        district.merge(&Tally::default());
        assert_eq!(district, tally, "merging nothing changes nothing");
        assert_eq!(
            Tally::default().stats(),
            CaseStats::default(),
            "nothing received: no mean, no maximum"
        );
    }

    #[test]
    fn given_cases_of_several_schools_when_assembled_then_totals_and_ordered_listing() {
        let q1 = period(None, "2018-Q1");
        let as_of = d(2018, 3, 31);
        let schools = [
            enrolment("th-phu-duc", SchoolLevel::TieuHoc),
            enrolment("thcs-an-hoa", SchoolLevel::Thcs),
        ];
        use CaseKind::*;
        let cases = [
            case("thcs-an-hoa", Press, "p1", d(2018, 3, 1), None), // overdue 30
            case("thcs-an-hoa", Feedback, "f2", d(2018, 2, 1), None), // overdue 58
            case(
                "thcs-an-hoa",
                Feedback,
                "f1",
                d(2018, 2, 1),
                Some(d(2018, 3, 1)),
            ), // late 28
            case("thcs-an-hoa", Feedback, "f3", d(2018, 3, 25), None), // open 6
            case(
                "th-phu-duc",
                Press,
                "p2",
                d(2018, 1, 5),
                Some(d(2018, 1, 9)),
            ), // in time
            case("th-phu-duc", Press, "p0", d(2017, 12, 1), None), // opened before
            case("not-enrolled", Feedback, "f9", d(2018, 1, 1), None),
        ];
        let tallies = tally_cases(&q1, as_of, LIMITS, &cases);
        assert_eq!(tallies["not-enrolled"].feedback.received, 1, "tallied…");
        let view = responsiveness(q1, as_of, LIMITS, &schools, &tallies, &cases);

        let an_hoa = &view.schools[1];
        assert_eq!(an_hoa.school, "thcs-an-hoa");
        assert_eq!(
            (
                an_hoa.feedback.received,
                an_hoa.feedback.overdue,
                an_hoa.feedback.late
            ),
            (3, 1, 1)
        );
        assert_eq!(view.schools[0].press.received, 1, "p0 was opened in 2017");
        assert_eq!(
            view.feedback.received, 3,
            "…but not in the district's totals"
        );
        assert_eq!(view.press.received, 2);
        assert_eq!(view.press.mean_days_to_answer, Some(4.0));
        assert_eq!(view.press.overdue, 1);
        let listed: Vec<_> = view
            .flagged
            .iter()
            .map(|l| {
                (
                    l.school.as_str(),
                    l.kind,
                    l.id.as_str(),
                    l.status,
                    l.days,
                    l.answered_on,
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                (
                    "thcs-an-hoa",
                    Feedback,
                    "f1",
                    CaseStatus::Late,
                    28,
                    Some(d(2018, 3, 1))
                ),
                ("thcs-an-hoa", Feedback, "f2", CaseStatus::Overdue, 58, None),
                ("thcs-an-hoa", Press, "p1", CaseStatus::Overdue, 30, None),
            ],
            "feedback before press; same date by id"
        );
        assert_eq!((view.feedback_within_days, view.press_within_days), (15, 7));
    }

    #[test]
    fn given_an_empty_period_when_assembled_then_zeros_and_nothing_listed() {
        let schools = [enrolment("thcs-an-hoa", SchoolLevel::Thcs)];
        let view = responsiveness(
            period(None, "2019-Q2"),
            d(2019, 6, 30),
            LIMITS,
            &schools,
            &BTreeMap::new(),
            &[],
        );
        assert_eq!(view.schools[0].feedback, CaseStats::default());
        assert_eq!(view.feedback, CaseStats::default());
        assert_eq!(view.flagged, vec![]);
    }
}
