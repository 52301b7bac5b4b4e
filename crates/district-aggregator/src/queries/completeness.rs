//! Completeness and timeliness: which schools reported in a period, and how late their events
//! arrived.
//!
//! The projection stores each applied school event's Vietnam local dates and its delay
//! (`school_events.occurred_on`, `recorded_on`, `delay_days`, computed at ingest by the same
//! `calendar::local_date` the model uses), so the rows are two `GROUP BY`s by school; the
//! lines and the reporting rate are `assemble::completeness` of them.

use domain::district::access::Scope;
use std::collections::BTreeMap;

use domain::Period;
use domain::district::assemble::{self, Timeliness};
use domain::district::views::{CompletenessView, ON_TIME_DAYS};
use sqlx::PgConnection;

use super::{QueryError, count, district, view_period};

const ACTIVITIES: &str = "SELECT school, count(*) FROM activities \
                          WHERE live AND date BETWEEN $1 AND $2 GROUP BY school";

/// Per school: events, events on time (`delay_days <= $3`, `assemble::completeness::is_on_time`),
/// the longest delay.
const EVENTS: &str = "SELECT school, count(*), count(*) FILTER (WHERE delay_days <= $3), \
                      max(delay_days) FROM school_events \
                      WHERE occurred_on BETWEEN $1 AND $2 GROUP BY school";

pub async fn completeness(
    conn: &mut PgConnection,
    period: Period,
    scope: &Scope,
) -> Result<CompletenessView, QueryError> {
    let state = district(conn, scope).await?;
    let period = view_period(&state, period)?;
    let range = period.range;
    let activities: BTreeMap<String, i64> = sqlx::query_as::<_, (String, i64)>(ACTIVITIES)
        .bind(range.start())
        .bind(range.end())
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(school, n)| (school, count(n)))
        .collect();
    let timeliness: BTreeMap<String, Timeliness> =
        sqlx::query_as::<_, (String, i64, i64, Option<i32>)>(EVENTS)
            .bind(range.start())
            .bind(range.end())
            .bind(i32::try_from(ON_TIME_DAYS).unwrap_or(i32::MAX))
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(school, events, on_time, max_delay)| {
                let timeliness = Timeliness {
                    events: count(events),
                    on_time: count(on_time),
                    max_delay_days: max_delay.map(i64::from),
                };
                (school, timeliness)
            })
            .collect();
    Ok(assemble::completeness(
        period,
        state.enrolments(),
        &activities,
        &timeliness,
    ))
}
