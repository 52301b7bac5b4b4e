//! Commendation: nominations and awards of a period, by school and level, with the listing.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use domain::Period;
use domain::district::views::{CommendationCount, CommendationView, LevelCount, NominationLine};
use domain::roles::CommendationLevel;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{QueryError, count, district, period_range};

const NOMINATED: &str = "SELECT school, proposed_level, count(*) FROM nominations \
                         WHERE date BETWEEN $1 AND $2 GROUP BY school, proposed_level";

const AWARDED: &str = "SELECT school, awarded_level, count(*) FROM nominations \
                       WHERE decision_date BETWEEN $1 AND $2 AND awarded_level IS NOT NULL \
                       GROUP BY school, awarded_level";

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
) -> Result<CommendationView, QueryError> {
    let state = district(conn).await?;
    let (range, shown) = period_range(&state, period)?;
    let by_level = |rows: Vec<(String, String, i64)>| -> HashMap<(String, String), i64> {
        rows.into_iter()
            .map(|(school, level, n)| ((school, level), count(n)))
            .collect()
    };
    let nominated = by_level(
        sqlx::query_as(NOMINATED)
            .bind(range.start())
            .bind(range.end())
            .fetch_all(&mut *conn)
            .await?,
    );
    let awarded = by_level(
        sqlx::query_as(AWARDED)
            .bind(range.start())
            .bind(range.end())
            .fetch_all(&mut *conn)
            .await?,
    );
    let listing: Vec<ListingRow> = sqlx::query_as(LISTING)
        .bind(range.start())
        .bind(range.end())
        .fetch_all(&mut *conn)
        .await?;

    let mut counts = Vec::new();
    for enrolment in state.enrolments() {
        for level in CommendationLevel::ALL {
            let key = (enrolment.code.as_str().to_owned(), level.code().to_owned());
            counts.push(CommendationCount {
                nominated: nominated.get(&key).copied().unwrap_or(0),
                awarded: awarded.get(&key).copied().unwrap_or(0),
                school: key.0,
                level: key.1,
            });
        }
    }
    let levels = CommendationLevel::ALL
        .iter()
        .map(|level| {
            let of_level = counts.iter().filter(|c| c.level == level.code());
            LevelCount {
                level: level.code().to_owned(),
                nominated: of_level.clone().map(|c| c.nominated).sum(),
                awarded: of_level.map(|c| c.awarded).sum(),
            }
        })
        .collect();

    let enrolled: HashSet<&str> = state.enrolments().map(|e| e.code.as_str()).collect();
    let mut nominations: Vec<NominationLine> = listing
        .into_iter()
        .filter(|row| enrolled.contains(row.0.as_str()))
        .map(
            |(school, id, date, kind, nominee, achievement, proposed, level, number, decided)| {
                // The award shows when its decision is dated on or before the period's end.
                let shown = decided.is_some_and(|d| d <= range.end());
                NominationLine {
                    school,
                    nomination_id: id.to_string(),
                    date,
                    nominee_kind: kind,
                    nominee,
                    achievement,
                    proposed_level: proposed,
                    awarded_level: level.filter(|_| shown),
                    decision_number: number.filter(|_| shown),
                    decision_date: decided.filter(|_| shown),
                }
            },
        )
        .collect();
    nominations.sort_by(|a, b| {
        (&a.school, a.date, &a.nomination_id).cmp(&(&b.school, b.date, &b.nomination_id))
    });
    Ok(CommendationView {
        period: shown,
        counts,
        levels,
        nominations,
    })
}
