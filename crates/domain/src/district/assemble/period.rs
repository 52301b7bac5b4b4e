//! The dates a view covers, resolved once per query and shown with its answer.

use crate::calendar::{DateRange, Period};
use crate::district::facts::DistrictPlan;
use crate::district::periods::resolve_period;
use crate::district::views::PeriodRange;
use crate::error::DomainError;

/// A query's period: the dates it covers and how the view shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewPeriod {
    pub range: DateRange,
    pub shown: PeriodRange,
}

impl ViewPeriod {
    /// `period` under the district plan now in force, refused as
    /// [`resolve_period`] refuses it (field `period`).
    pub fn resolve(plan: Option<&DistrictPlan>, period: Period) -> Result<Self, DomainError> {
        let range = resolve_period(plan, period)?;
        Ok(Self {
            range,
            shown: PeriodRange {
                period: period.to_string(),
                start: range.start(),
                end: range.end(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::given::*;
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn given_the_plan_when_the_whole_plan_is_asked_then_its_period_is_shown_as_plan() {
        let plan = district_plan(vec![]);
        let period = ViewPeriod::resolve(Some(&plan), Period::WholePlan).unwrap();
        assert_eq!(period.range, plan.period);
        assert_eq!(
            period.shown,
            PeriodRange {
                period: "plan".into(),
                start: d(2017, 10, 18),
                end: d(2020, 12, 31),
            }
        );
    }

    #[test]
    fn given_no_plan_when_a_quarter_is_asked_then_it_is_taken_as_it_is() {
        let period = ViewPeriod::resolve(None, "2018-Q1".parse().unwrap()).unwrap();
        assert_eq!(period.range, range(d(2018, 1, 1), d(2018, 3, 31)));
        assert_eq!(period.shown.period, "2018-Q1");
    }

    #[test]
    fn given_the_plan_when_a_period_outside_it_is_asked_then_it_is_refused() {
        let plan = district_plan(vec![]);
        let err = ViewPeriod::resolve(Some(&plan), "2016".parse().unwrap()).unwrap_err();
        assert_eq!(err.field, "period");
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        let err = ViewPeriod::resolve(None, Period::WholePlan).unwrap_err();
        assert_eq!(err.kind, ErrorKind::FailedPrecondition);
    }
}
