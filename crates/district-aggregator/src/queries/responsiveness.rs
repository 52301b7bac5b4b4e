//! Responsiveness: citizen feedback and press issues opened in a period, judged as of a date.
//!
//! Per kind of case, one `GROUP BY` by school counts received, answered (on or before the
//! as-of date), overdue and late cases and sums the days to answer — what
//! `assemble::responsiveness::judge` decides for each case, counted where the cases are; a
//! second query fetches the cases that are overdue or late. The statistics (means from the
//! integer sums), the district's totals and the listing are `assemble::responsiveness` of
//! those rows, as in the reference model.

use domain::district::access::Scope;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::Period;
use domain::district::assemble::{self, Case, CaseLimits, CaseTallies, Tally};
use domain::district::views::{CaseKind, ResponsivenessView};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{QueryError, count, district, view_period};

/// Where a kind of case lives.
struct Cases {
    kind: CaseKind,
    table: &'static str,
    id: &'static str,
    opened_on: &'static str,
    subject: &'static str,
}

const FEEDBACK: Cases = Cases {
    kind: CaseKind::Feedback,
    table: "feedback",
    id: "feedback_id",
    opened_on: "received_on",
    subject: "subject",
};

const PRESS: Cases = Cases {
    kind: CaseKind::Press,
    table: "press_issues",
    id: "issue_id",
    opened_on: "raised_on",
    subject: "title",
};

impl Cases {
    /// Per school: received, answered, overdue, late, Σ days to answer, max days to answer.
    /// `$1..$2` the period, `$3` the as-of date, `$4` the limit in days.
    fn tally_sql(&self) -> String {
        let (t, o) = (self.table, self.opened_on);
        format!(
            "SELECT school, count(*), \
               count(*) FILTER (WHERE answered_on <= $3), \
               count(*) FILTER (WHERE (answered_on IS NULL OR answered_on > $3) \
                                AND $3 - {o} > $4), \
               count(*) FILTER (WHERE answered_on <= $3 AND answered_on - {o} > $4), \
               coalesce(sum(answered_on - {o}) FILTER (WHERE answered_on <= $3), 0)::bigint, \
               max(answered_on - {o}) FILTER (WHERE answered_on <= $3) \
             FROM {t} WHERE {o} BETWEEN $1 AND $2 GROUP BY school"
        )
    }

    /// The overdue and late cases, same parameters.
    fn flagged_sql(&self) -> String {
        let (t, id, o, s) = (self.table, self.id, self.opened_on, self.subject);
        format!(
            "SELECT school, {id}, {s}, {o}, answered_on FROM {t} \
             WHERE {o} BETWEEN $1 AND $2 AND ( \
               (answered_on <= $3 AND answered_on - {o} > $4) \
               OR ((answered_on IS NULL OR answered_on > $3) AND $3 - {o} > $4))"
        )
    }
}

type TallyRow = (String, i64, i64, i64, i64, i64, Option<i32>);
type CaseRow = (String, Uuid, String, NaiveDate, Option<NaiveDate>);

pub async fn responsiveness(
    conn: &mut PgConnection,
    period: Period,
    as_of: Option<NaiveDate>,
    scope: &Scope,
) -> Result<ResponsivenessView, QueryError> {
    let state = district(conn, scope).await?;
    let period = view_period(&state, period)?;
    let as_of = assemble::resolve_as_of(&period, as_of)?;
    let limits = CaseLimits::in_force(state.plan());
    let range = period.range;

    let mut tallies: BTreeMap<String, CaseTallies> = BTreeMap::new();
    let mut flagged = Vec::new();
    for cases in [&FEEDBACK, &PRESS] {
        let limit = limits.of(cases.kind);
        let rows: Vec<TallyRow> = sqlx::query_as(&cases.tally_sql())
            .bind(range.start())
            .bind(range.end())
            .bind(as_of)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
        for (school, received, answered, overdue, late, days_sum, days_max) in rows {
            *tallies.entry(school).or_default().of_mut(cases.kind) = Tally {
                received: count(received),
                answered: count(answered),
                overdue: count(overdue),
                late: count(late),
                days_sum,
                days_max: days_max.map(i64::from),
            };
        }
        let rows: Vec<CaseRow> = sqlx::query_as(&cases.flagged_sql())
            .bind(range.start())
            .bind(range.end())
            .bind(as_of)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
        flagged.extend(
            rows.into_iter()
                .map(|(school, id, subject, opened_on, answered_on)| Case {
                    school,
                    kind: cases.kind,
                    id: id.to_string(),
                    subject,
                    opened_on,
                    answered_on,
                }),
        );
    }
    Ok(assemble::responsiveness(
        period,
        as_of,
        limits,
        state.enrolments(),
        &tallies,
        &flagged,
    ))
}
