//! Budget: estimate, spending and settlement of one calendar year, by school.

use std::collections::HashMap;

use chrono::NaiveDate;
use domain::district::views::{BudgetRow, BudgetTotal, BudgetView, rate};
use domain::{DomainError, Rule};
use sqlx::PgConnection;

use super::{QueryError, district};

/// The latest estimate's total and the settled amount of the year.
const BUDGETS: &str = "SELECT school, estimated, settled_amount FROM budgets WHERE year = $1";

/// Σ of the expenses dated in the year.
const SPENT: &str = "SELECT school, sum(amount)::bigint FROM expenses \
                     WHERE spent_on BETWEEN $1 AND $2 GROUP BY school";

pub async fn budget(conn: &mut PgConnection, year: i32) -> Result<BudgetView, QueryError> {
    let state = district(conn).await?;
    if let Some(plan) = state.plan()
        && !plan.period.years().contains(&year)
    {
        return Err(DomainError::invalid(
            "year",
            Rule::YearOutsidePlan {
                year,
                period: plan.period,
            },
        )
        .into());
    }
    let budgets: HashMap<String, (Option<i64>, Option<i64>)> =
        sqlx::query_as::<_, (String, Option<i64>, Option<i64>)>(BUDGETS)
            .bind(year)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(school, estimated, settled)| (school, (estimated, settled)))
            .collect();
    // Every year of chrono's range has both days; beyond it no expense can be dated.
    let days = NaiveDate::from_ymd_opt(year, 1, 1).zip(NaiveDate::from_ymd_opt(year, 12, 31));
    let mut spent: HashMap<String, Option<i64>> = HashMap::new();
    if let Some((first, last)) = days {
        spent = sqlx::query_as::<_, (String, Option<i64>)>(SPENT)
            .bind(first)
            .bind(last)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    }
    let schools: Vec<BudgetRow> = state
        .enrolments()
        .map(|e| {
            let code = e.code.as_str();
            let (estimated, settled) = budgets.get(code).copied().unwrap_or((None, None));
            let estimated = estimated.unwrap_or(0);
            let spent = spent.get(code).copied().flatten().unwrap_or(0);
            BudgetRow {
                school: code.to_owned(),
                estimated,
                spent,
                settled,
                execution_rate: rate(spent, estimated),
            }
        })
        .collect();
    let estimated = schools.iter().map(|s| s.estimated).sum();
    let spent = schools.iter().map(|s| s.spent).sum();
    let settled: Vec<i64> = schools.iter().filter_map(|s| s.settled).collect();
    let total = BudgetTotal {
        estimated,
        spent,
        settled: (!settled.is_empty()).then(|| settled.iter().sum()),
        schools_settled: settled.len() as i64,
        execution_rate: rate(spent, estimated),
    };
    Ok(BudgetView {
        year,
        schools,
        total,
    })
}
