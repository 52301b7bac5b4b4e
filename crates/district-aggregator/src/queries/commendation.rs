//! Commendation: nominations and awards of a period, by school and level, with the listing.
//!
//! One query reads the nominations dated in the period or awarded by a decision dated in it —
//! the listing's rows, and also every row the counts need; the counts, the level totals and
//! the listing are `assemble::commendation` of them, as in the reference model.

use chrono::NaiveDate;
use domain::Period;
use domain::district::access::Scope;
use domain::district::assemble::{self, AwardRecord, NominationRecord};
use domain::district::views::CommendationView;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{QueryError, district, view_period};

const LISTING: &str = "SELECT school, nomination_id, date, nominee_kind, nominee, achievement, \
                       proposed_level, awarded_level, decision_number, decision_date \
                       FROM nominations \
                       WHERE date BETWEEN $1 AND $2 OR decision_date BETWEEN $1 AND $2";

type ListingRow = (
    String,
    Uuid,
    NaiveDate,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<NaiveDate>,
);

pub async fn commendation(
    conn: &mut PgConnection,
    period: Period,
    scope: &Scope,
) -> Result<CommendationView, QueryError> {
    let state = district(conn, scope).await?;
    let period = view_period(&state, period)?;
    let listing: Vec<ListingRow> = sqlx::query_as(LISTING)
        .bind(period.range.start())
        .bind(period.range.end())
        .fetch_all(&mut *conn)
        .await?;
    let records = listing
        .into_iter()
        .map(
            |(school, id, date, kind, nominee, achievement, proposed, level, number, decided)| {
                // An award writes its level, number and date together.
                let award = match (level, number, decided) {
                    (Some(level), Some(decision_number), Some(decision_date)) => {
                        Some(AwardRecord {
                            level,
                            decision_number,
                            decision_date,
                        })
                    }
                    (None, None, None) => None,
                    _ => {
                        return Err(QueryError::Corrupt(format!(
                            "nomination {id} of {school}: a partial award"
                        )));
                    }
                };
                Ok(NominationRecord {
                    school,
                    nomination_id: id.to_string(),
                    date,
                    nominee_kind: kind,
                    nominee,
                    achievement,
                    proposed_level: proposed,
                    award,
                })
            },
        )
        .collect::<Result<Vec<_>, _>>()?;
    Ok(assemble::commendation(period, state.enrolments(), &records))
}
