//! The dates a district query covers, and how many target periods fit inside them.
//!
//! Shared by the reference model and the aggregator, so that both refuse the same periods and
//! count the same targets.

use chrono::Datelike;

use crate::calendar::{DateRange, Period};
use crate::district::facts::{DistrictPlan, TargetPer};
use crate::error::{DomainError, Rule};

/// The dates of `period` for a district query (field `period`).
///
/// With a district plan: `plan` is the plan's period, and a period that does not overlap the
/// plan's period is refused (`INVALID_ARGUMENT`). Without one: a named period is taken as it
/// is, and `plan` is refused (`FAILED_PRECONDITION`, [`Rule::NoDistrictPlan`]).
pub fn resolve_period(
    plan: Option<&DistrictPlan>,
    period: Period,
) -> Result<DateRange, DomainError> {
    match plan {
        Some(plan) => {
            let range = period.range(plan.period);
            if range.overlaps(&plan.period) {
                Ok(range)
            } else {
                Err(DomainError::invalid(
                    "period",
                    Rule::PeriodOutsidePlan {
                        period: period.to_string(),
                        range,
                        plan: plan.period,
                    },
                ))
            }
        }
        None if period == Period::WholePlan => {
            Err(DomainError::precondition("period", Rule::NoDistrictPlan))
        }
        // Any range will do: only `WholePlan` reads it.
        None => Ok(period.range(unused_plan_range())),
    }
}

fn unused_plan_range() -> DateRange {
    let day = chrono::NaiveDate::MIN;
    DateRange::new(day, day).expect("a one-day range")
}

/// How many periods `per` (every calendar quarter; every HK I 1 Sep – 15 Jan and HK II
/// 16 Jan – 31 May; every school year 1 Sep – 31 Aug; every calendar year) lie entirely
/// inside `range`, both ends included, and overlap the district plan's period `plan` (no target
/// is due for a period that ended before the plan existed or began after it ended).
pub fn target_periods_within(per: TargetPer, range: DateRange, plan: DateRange) -> i64 {
    let (first, last) = (range.start().year() - 1, range.end().year());
    let candidates: Vec<Period> = match per {
        TargetPer::Quarter => (first..=last)
            .flat_map(|year| (1..=4).map(move |quarter| Period::Quarter { year, quarter }))
            .collect(),
        TargetPer::Semester => (first..=last)
            .flat_map(|start_year| (1..=2).map(move |half| Period::Semester { start_year, half }))
            .collect(),
        TargetPer::SchoolYear => (first..=last)
            .map(|start_year| Period::SchoolYear { start_year })
            .collect(),
        TargetPer::CalendarYear => (first..=last)
            .map(|year| Period::CalendarYear { year })
            .collect(),
    };
    let inside = candidates
        .iter()
        .map(|p| p.range(range))
        .filter(|r| range.start() <= r.start() && r.end() <= range.end() && r.overlaps(&plan))
        .count();
    i64::try_from(inside).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn range(a: (i32, u32, u32), b: (i32, u32, u32)) -> DateRange {
        let d = |(y, m, day)| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        DateRange::new(d(a), d(b)).unwrap()
    }

    #[test]
    fn counts_only_target_periods_entirely_inside() {
        let plan = range((2017, 10, 18), (2020, 12, 31));
        // 2018-Q1 … 2020-Q4; 2017-Q4 began on 1 Oct, before the range.
        assert_eq!(target_periods_within(TargetPer::Quarter, plan, plan), 12);
        // HK II 2017-2018 … HK II 2019-2020, and HK I 2018-2019, 2019-2020: 5.
        assert_eq!(target_periods_within(TargetPer::Semester, plan, plan), 5);
        assert_eq!(target_periods_within(TargetPer::SchoolYear, plan, plan), 2);
        assert_eq!(
            target_periods_within(TargetPer::CalendarYear, plan, plan),
            3
        );

        let q1 = range((2018, 1, 1), (2018, 3, 31));
        assert_eq!(target_periods_within(TargetPer::Quarter, q1, q1), 1);
        assert_eq!(target_periods_within(TargetPer::Semester, q1, q1), 0);
        let school_year = range((2018, 9, 1), (2019, 8, 31));
        assert_eq!(
            target_periods_within(TargetPer::Quarter, school_year, school_year),
            3
        );
        // The plan of 18 Oct 2017: a 2017 query counts Q4 only.
        let plan = range((2017, 10, 18), (2020, 12, 31));
        let year_2017 = range((2017, 1, 1), (2017, 12, 31));
        assert_eq!(
            target_periods_within(TargetPer::Quarter, year_2017, plan),
            1
        );
        assert_eq!(
            target_periods_within(TargetPer::Semester, school_year, school_year),
            2
        );
        assert_eq!(
            target_periods_within(TargetPer::SchoolYear, school_year, school_year),
            1
        );
        assert_eq!(
            target_periods_within(TargetPer::CalendarYear, school_year, school_year),
            0
        );
    }
}
