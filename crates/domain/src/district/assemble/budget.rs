//! The budget view from its rows: per school, the year's estimate, spending and settlement.

use std::collections::BTreeMap;

use crate::district::facts::{DistrictPlan, Enrolment};
use crate::district::views::{BudgetRow, BudgetTotal, BudgetView, rate};
use crate::error::{DomainError, Rule};

use super::count;

/// Refuses a year outside the district plan's period (field `year`); without a plan any year
/// is accepted.
pub fn check_budget_year(plan: Option<&DistrictPlan>, year: i32) -> Result<(), DomainError> {
    match plan {
        Some(plan) if !plan.period.years().contains(&year) => Err(DomainError::invalid(
            "year",
            Rule::YearOutsidePlan {
                year,
                period: plan.period,
            },
        )),
        _ => Ok(()),
    }
}

/// One school's amounts of a year, in đồng.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetAmounts {
    /// Total of the year's latest estimate; 0 without one.
    pub estimated: i64,
    /// Σ of the expenses dated in the year.
    pub spent: i64,
    /// The settled amount, when the year is settled.
    pub settled: Option<i64>,
}

/// A school's line: its amounts and its execution rate (spent / estimated).
pub fn budget_row(school: &str, amounts: BudgetAmounts) -> BudgetRow {
    BudgetRow {
        school: school.to_owned(),
        estimated: amounts.estimated,
        spent: amounts.spent,
        settled: amounts.settled,
        execution_rate: rate(amounts.spent, amounts.estimated),
    }
}

/// The district's totals: the schools' sums; `settled` only when some school has settled.
pub fn budget_total(rows: &[BudgetRow]) -> BudgetTotal {
    let estimated = rows.iter().map(|s| s.estimated).sum();
    let spent = rows.iter().map(|s| s.spent).sum();
    let settled: Vec<i64> = rows.iter().filter_map(|s| s.settled).collect();
    BudgetTotal {
        estimated,
        spent,
        settled: (!settled.is_empty()).then(|| settled.iter().sum()),
        schools_settled: count(settled.len()),
        execution_rate: rate(spent, estimated),
    }
}

/// The budget view of `year` for the enrolled schools (by code), from each school's amounts
/// (by code; missing is zero and unsettled).
pub fn budget<'a>(
    year: i32,
    enrolments: impl IntoIterator<Item = &'a Enrolment>,
    amounts: &BTreeMap<String, BudgetAmounts>,
) -> BudgetView {
    let schools: Vec<BudgetRow> = enrolments
        .into_iter()
        .map(|e| {
            let code = e.code.as_str();
            budget_row(code, amounts.get(code).copied().unwrap_or_default())
        })
        .collect();
    BudgetView {
        year,
        total: budget_total(&schools),
        schools,
    }
}

#[cfg(test)]
mod tests {
    use super::super::given::*;
    use super::*;
    use crate::district::SchoolLevel;

    #[test]
    fn given_the_plan_when_a_year_is_checked_then_only_its_years_pass() {
        let plan = district_plan(vec![]);
        assert!(check_budget_year(Some(&plan), 2017).is_ok());
        assert!(check_budget_year(Some(&plan), 2020).is_ok());
        let err = check_budget_year(Some(&plan), 2021).unwrap_err();
        assert_eq!(err.field, "year");
        assert!(check_budget_year(None, 1990).is_ok(), "no plan: any year");
    }

    #[test]
    fn given_amounts_when_assembled_then_rates_and_totals() {
        let schools = [
            enrolment("mn-phu-tho", SchoolLevel::MamNon),
            enrolment("th-phu-duc", SchoolLevel::TieuHoc),
            enrolment("thcs-an-hoa", SchoolLevel::Thcs),
        ];
        let amounts = BTreeMap::from([
            (
                "thcs-an-hoa".to_string(),
                BudgetAmounts {
                    estimated: 4_500_000,
                    spent: 4_200_000,
                    settled: Some(4_150_000),
                },
            ),
            (
                // Spent without an estimate: no rate of its own.
                "th-phu-duc".to_string(),
                BudgetAmounts {
                    estimated: 0,
                    spent: 300_000,
                    settled: None,
                },
            ),
            (
                "not-enrolled".to_string(),
                BudgetAmounts {
                    estimated: 1,
                    spent: 1,
                    settled: Some(1),
                },
            ),
        ]);
        let view = budget(2018, &schools, &amounts);
        assert_eq!(view.year, 2018);
        let rates: Vec<(&str, Option<f64>)> = view
            .schools
            .iter()
            .map(|s| (s.school.as_str(), s.execution_rate))
            .collect();
        assert_eq!(
            rates,
            [
                ("mn-phu-tho", None),
                ("th-phu-duc", None),
                ("thcs-an-hoa", Some(0.9333)),
            ]
        );
        assert_eq!(
            view.total,
            BudgetTotal {
                estimated: 4_500_000,
                spent: 4_500_000,
                settled: Some(4_150_000),
                schools_settled: 1,
                execution_rate: Some(1.0),
            }
        );
    }

    #[test]
    fn given_nobody_settled_when_totalled_then_settled_is_unknown_not_zero() {
        let rows = [budget_row(
            "thcs-an-hoa",
            BudgetAmounts {
                estimated: 100,
                spent: 0,
                settled: None,
            },
        )];
        let total = budget_total(&rows);
        assert_eq!(total.settled, None);
        assert_eq!(total.schools_settled, 0);
        assert_eq!(total.execution_rate, Some(0.0));
        assert_eq!(budget_total(&[]).execution_rate, None, "nothing estimated");
    }
}
