//! Completeness and timeliness: which schools reported in a period, and how late their events
//! arrived.
//!
//! The projection stores each applied school event's Vietnam local dates and its delay
//! (`school_events.occurred_on`, `recorded_on`, `delay_days`, computed at ingest by the same
//! `calendar::local_date` the model uses), so the view is two `GROUP BY`s by school.

use std::collections::HashMap;

use domain::Period;
use domain::district::views::{CompletenessView, ON_TIME_DAYS, SchoolCompleteness, rate};
use sqlx::PgConnection;

use super::{QueryError, count, district, period_range};

const ACTIVITIES: &str = "SELECT school, count(*) FROM activities \
                          WHERE live AND date BETWEEN $1 AND $2 GROUP BY school";

const EVENTS: &str = "SELECT school, count(*), count(*) FILTER (WHERE delay_days <= $3), \
                      max(delay_days) FROM school_events \
                      WHERE occurred_on BETWEEN $1 AND $2 GROUP BY school";

pub async fn completeness(
    conn: &mut PgConnection,
    period: Period,
) -> Result<CompletenessView, QueryError> {
    let state = district(conn).await?;
    let (range, shown) = period_range(&state, period)?;
    let activities: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(ACTIVITIES)
        .bind(range.start())
        .bind(range.end())
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
    let events: HashMap<String, (i64, i64, Option<i32>)> =
        sqlx::query_as::<_, (String, i64, i64, Option<i32>)>(EVENTS)
            .bind(range.start())
            .bind(range.end())
            .bind(i32::try_from(ON_TIME_DAYS).unwrap_or(i32::MAX))
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(school, events, on_time, max)| (school, (events, on_time, max)))
            .collect();
    let schools: Vec<SchoolCompleteness> = state
        .enrolments()
        .map(|e| {
            let code = e.code.as_str();
            let activities = activities.get(code).copied().map_or(0, count);
            let (events, on_time, max_delay) = events.get(code).copied().unwrap_or((0, 0, None));
            let (events, on_time) = (count(events), count(on_time));
            SchoolCompleteness {
                school: code.to_owned(),
                activities,
                events,
                reported: activities > 0,
                on_time,
                on_time_rate: rate(on_time, events),
                max_delay_days: max_delay.map(i64::from),
            }
        })
        .collect();
    let enrolled = schools.len() as i64;
    let reported = schools.iter().filter(|s| s.reported).count() as i64;
    Ok(CompletenessView {
        period: shown,
        schools,
        enrolled,
        reported,
        reporting_rate: rate(reported, enrolled),
    })
}
