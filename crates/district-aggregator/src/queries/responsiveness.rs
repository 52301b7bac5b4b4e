//! Responsiveness: citizen feedback and press issues opened in a period, judged as of a date.
//!
//! Per kind of case, one `GROUP BY` by school counts received, answered (on or before the
//! as-of date), overdue and late cases and sums the days to answer; a second query lists the
//! overdue and late cases. Means come from the integer sums through `views::mean`.

use std::collections::HashMap;

use chrono::NaiveDate;
use domain::district::AnswerWithinDays;
use domain::district::views::{
    CaseKind, CaseLine, CaseStats, CaseStatus, ResponsivenessView, SchoolResponsiveness, mean,
};
use domain::{DomainError, Period, Rule};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{QueryError, count, district, period_range};

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

/// Running counts of one kind of case, for a school or the district.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    received: i64,
    answered: i64,
    overdue: i64,
    late: i64,
    days_sum: i64,
    days_max: Option<i64>,
}

impl Tally {
    fn merge(&mut self, other: &Tally) {
        self.received += other.received;
        self.answered += other.answered;
        self.overdue += other.overdue;
        self.late += other.late;
        self.days_sum += other.days_sum;
        self.days_max = self.days_max.max(other.days_max);
    }

    fn stats(&self) -> CaseStats {
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

type TallyRow = (String, i64, i64, i64, i64, i64, Option<i32>);
type CaseRow = (String, Uuid, String, NaiveDate, Option<NaiveDate>);

pub async fn responsiveness(
    conn: &mut PgConnection,
    period: Period,
    as_of: Option<NaiveDate>,
) -> Result<ResponsivenessView, QueryError> {
    let state = district(conn).await?;
    let (range, shown) = period_range(&state, period)?;
    let as_of = as_of.unwrap_or(range.end());
    if as_of > range.end() {
        return Err(DomainError::invalid(
            "as_of",
            Rule::AfterPeriodEnd {
                date: as_of,
                period: shown.period.clone(),
                end: range.end(),
            },
        )
        .into());
    }
    let limits = state
        .plan()
        .map_or(AnswerWithinDays::DEFAULT, |p| p.answer_within_days);
    let (feedback_limit, press_limit) = (i64::from(limits.feedback), i64::from(limits.press));

    let mut tallies: [HashMap<String, Tally>; 2] = Default::default();
    let mut flagged = Vec::new();
    for (i, (cases, limit)) in [(&FEEDBACK, feedback_limit), (&PRESS, press_limit)]
        .into_iter()
        .enumerate()
    {
        let rows: Vec<TallyRow> = sqlx::query_as(&cases.tally_sql())
            .bind(range.start())
            .bind(range.end())
            .bind(as_of)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
        tallies[i] = rows
            .into_iter()
            .map(
                |(school, received, answered, overdue, late, days_sum, days_max)| {
                    let tally = Tally {
                        received: count(received),
                        answered: count(answered),
                        overdue: count(overdue),
                        late: count(late),
                        days_sum,
                        days_max: days_max.map(i64::from),
                    };
                    (school, tally)
                },
            )
            .collect();
        let rows: Vec<CaseRow> = sqlx::query_as(&cases.flagged_sql())
            .bind(range.start())
            .bind(range.end())
            .bind(as_of)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
        for (school, id, subject, opened_on, answered_on) in rows {
            if !state.enrolments().any(|e| e.code.as_str() == school) {
                continue;
            }
            let line = match answered_on.filter(|on| *on <= as_of) {
                Some(on) => CaseLine {
                    school,
                    kind: cases.kind,
                    id: id.to_string(),
                    subject,
                    opened_on,
                    answered_on: Some(on),
                    days: (on - opened_on).num_days(),
                    status: CaseStatus::Late,
                },
                None => CaseLine {
                    school,
                    kind: cases.kind,
                    id: id.to_string(),
                    subject,
                    opened_on,
                    answered_on: None,
                    days: (as_of - opened_on).num_days(),
                    status: CaseStatus::Overdue,
                },
            };
            flagged.push(line);
        }
    }
    flagged.sort_by(|a, b| {
        (&a.school, a.kind, a.opened_on, &a.id).cmp(&(&b.school, b.kind, b.opened_on, &b.id))
    });

    let mut all = [Tally::default(), Tally::default()];
    let mut schools = Vec::new();
    for enrolment in state.enrolments() {
        let code = enrolment.code.as_str();
        let feedback = tallies[0].get(code).copied().unwrap_or_default();
        let press = tallies[1].get(code).copied().unwrap_or_default();
        all[0].merge(&feedback);
        all[1].merge(&press);
        schools.push(SchoolResponsiveness {
            school: code.to_owned(),
            feedback: feedback.stats(),
            press: press.stats(),
        });
    }
    Ok(ResponsivenessView {
        period: shown,
        as_of,
        feedback_within_days: feedback_limit,
        press_within_days: press_limit,
        schools,
        feedback: all[0].stats(),
        press: all[1].stats(),
        flagged,
    })
}
