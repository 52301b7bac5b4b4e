//! The figures each district view derives from its rows, computed once for both sides.
//!
//! A view is answered in two steps. First its **rows** are obtained: live activities per
//! school, area and channel; per school the events and their delays, the cases and their
//! answers, the nominations, the budget amounts. The aggregator gets them from PostgreSQL
//! (`GROUP BY` and plain selects), the reference model ([`super::DistrictModel`]) by folding
//! events. Then the **figures derived from those rows** — targets and their status, the
//! per-school and per-area summaries, the lagging order, the tallies and statistics of cases,
//! rates, totals, the listings' filters and orders, the page cut — are computed by the
//! functions of this module, which both sides call. So the comparison tests of the two sides
//! check the one thing that is really written twice (how rows are obtained), and each
//! derivation is tested here once, on rows given by hand.
//!
//! Every function takes the enrolled schools ([`Enrolment`]s, by code, as
//! [`super::DistrictState::enrolments`] gives them) and rows keyed by school code; a school
//! without rows has zeros. Rows of schools that are not enrolled are ignored.
//!
//! - [`period`](mod@period): [`ViewPeriod`], the dates a query covers and how the view shows
//!   them;
//! - [`plan`](mod@plan): the plan view — [`ActivityCounts`], [`target_for`], [`target_status`],
//!   [`lagging`], [`plan_view()`];
//! - [`completeness`](mod@completeness): [`Timeliness`], [`completeness()`];
//! - [`responsiveness`](mod@responsiveness): [`judge`], [`Case`], [`Tally`], [`tally_cases`],
//!   [`CaseLimits`], [`responsiveness()`];
//! - [`commendation`](mod@commendation): [`NominationRecord`], [`commendation()`];
//! - [`budget`](mod@budget): [`BudgetAmounts`], [`budget()`];
//! - [`search`](mod@search): [`SearchRequest`], [`activity_page`].

pub mod budget;
pub mod commendation;
pub mod completeness;
pub mod period;
pub mod plan;
pub mod responsiveness;
pub mod search;

pub use budget::{BudgetAmounts, budget, check_budget_year};
pub use commendation::{AwardRecord, NominationRecord, commendation};
pub use completeness::{Timeliness, completeness};
pub use period::ViewPeriod;
pub use plan::{ActivityCounts, lagging, plan_view, target_for, target_status};
pub use responsiveness::{
    Case, CaseLimits, CaseTallies, Judgement, Tally, judge, resolve_as_of, responsiveness,
    tally_cases,
};
pub use search::{SearchRequest, activity_page};

use super::facts::Enrolment;
use super::views::EnrolledSchool;

/// A count of items as a view's `i64`.
pub(crate) fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The enrolled schools as the `schools` view lists them, by code.
pub fn schools<'a>(enrolments: impl IntoIterator<Item = &'a Enrolment>) -> Vec<EnrolledSchool> {
    enrolments
        .into_iter()
        .map(|e| EnrolledSchool {
            code: e.code.to_string(),
            name: e.name.clone(),
            level: e.level.code().to_string(),
            commune: e.commune.clone(),
            enrolled_on: e.enrolled_on,
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod given {
    //! Rows and schools for the given/when/then tests of this module.

    use chrono::NaiveDate;

    use crate::calendar::{DateRange, Period};
    use crate::codes::Slug;
    use crate::district::facts::{
        AnswerWithinDays, DistrictPlan, Enrolment, SchoolLevel, Target, TargetPer,
    };
    use crate::roles::ContentArea;

    use super::ViewPeriod;

    pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    pub(crate) fn range(start: NaiveDate, end: NaiveDate) -> DateRange {
        DateRange::new(start, end).unwrap()
    }

    pub(crate) fn enrolment(code: &str, level: SchoolLevel) -> Enrolment {
        Enrolment {
            code: Slug::parse("code", code).unwrap(),
            name: format!("Trường {code}"),
            level,
            commune: "Xã An Hòa".into(),
            enrolled_on: d(2017, 10, 18),
        }
    }

    pub(crate) fn target(
        level: Option<SchoolLevel>,
        area: Option<ContentArea>,
        per: TargetPer,
        min_activities: u32,
    ) -> Target {
        Target {
            level,
            area,
            per,
            min_activities,
        }
    }

    /// The Tam Nông plan period, 2017-10-18 … 2020-12-31, with these targets.
    pub(crate) fn district_plan(targets: Vec<Target>) -> DistrictPlan {
        DistrictPlan {
            number: "1442/KH-PGDĐT".into(),
            issuer: "Phòng Giáo dục và Đào tạo Tam Nông".into(),
            parent_agency: "UBND huyện Tam Nông".into(),
            place: "Tam Nông".into(),
            date: d(2017, 10, 18),
            title: "Kế hoạch truyền thông về giáo dục và đào tạo giai đoạn 2017 – 2020".into(),
            period: range(d(2017, 10, 18), d(2020, 12, 31)),
            targets,
            answer_within_days: AnswerWithinDays::DEFAULT,
        }
    }

    /// The view period of `text` under `plan`.
    pub(crate) fn period(plan: Option<&DistrictPlan>, text: &str) -> ViewPeriod {
        let period: Period = text.parse().unwrap();
        ViewPeriod::resolve(plan, period).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::given::*;
    use super::*;
    use crate::district::SchoolLevel;

    #[test]
    fn given_enrolments_when_listed_then_each_school_as_it_stands() {
        let schools = schools(&[
            enrolment("mn-phu-tho", SchoolLevel::MamNon),
            enrolment("thcs-an-hoa", SchoolLevel::Thcs),
        ]);
        assert_eq!(
            schools,
            vec![
                EnrolledSchool {
                    code: "mn-phu-tho".into(),
                    name: "Trường mn-phu-tho".into(),
                    level: "mam_non".into(),
                    commune: "Xã An Hòa".into(),
                    enrolled_on: d(2017, 10, 18),
                },
                EnrolledSchool {
                    code: "thcs-an-hoa".into(),
                    name: "Trường thcs-an-hoa".into(),
                    level: "thcs".into(),
                    commune: "Xã An Hòa".into(),
                    enrolled_on: d(2017, 10, 18),
                },
            ]
        );
    }
}
