//! Budget: estimate, spending and settlement of one calendar year, by school.
//!
//! Two queries read each school's amounts of the year; the rows, execution rates and district
//! totals are `assemble::budget` of them, as in the reference model.

use domain::district::access::Scope;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::district::assemble::{self, BudgetAmounts};
use domain::district::views::BudgetView;
use sqlx::PgConnection;

use super::{QueryError, district};

/// The latest estimate's total and the settled amount of the year.
const BUDGETS: &str = "SELECT school, estimated, settled_amount FROM budgets WHERE year = $1";

/// Σ of the expenses dated in the year.
const SPENT: &str = "SELECT school, sum(amount)::bigint FROM expenses \
                     WHERE spent_on BETWEEN $1 AND $2 GROUP BY school";

pub async fn budget(
    conn: &mut PgConnection,
    year: i32,
    scope: &Scope,
) -> Result<BudgetView, QueryError> {
    let state = district(conn, scope).await?;
    assemble::check_budget_year(state.plan(), year)?;
    let mut amounts: BTreeMap<String, BudgetAmounts> = BTreeMap::new();
    let budgets: Vec<(String, Option<i64>, Option<i64>)> = sqlx::query_as(BUDGETS)
        .bind(year)
        .fetch_all(&mut *conn)
        .await?;
    for (school, estimated, settled) in budgets {
        let entry = amounts.entry(school).or_default();
        entry.estimated = estimated.unwrap_or(0);
        entry.settled = settled;
    }
    // Every year of chrono's range has both days; beyond it no expense can be dated.
    let days = NaiveDate::from_ymd_opt(year, 1, 1).zip(NaiveDate::from_ymd_opt(year, 12, 31));
    if let Some((first, last)) = days {
        let spent: Vec<(String, Option<i64>)> = sqlx::query_as(SPENT)
            .bind(first)
            .bind(last)
            .fetch_all(&mut *conn)
            .await?;
        for (school, spent) in spent {
            amounts.entry(school).or_default().spent = spent.unwrap_or(0);
        }
    }
    Ok(assemble::budget(year, state.enrolments(), &amounts))
}
