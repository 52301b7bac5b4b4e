//! The plan view: schools × content areas × period, with targets met or missed.
//!
//! The counts of live activities of the period per school, area and channel come from the
//! [`ActivityIndex`] (brought to the query's snapshot, microseconds at any scale), or from one
//! `GROUP BY` over the activities when there is no index or it cannot serve the snapshot.
//! Everything else — rows, channel lists, targets (from the district plan, once per level and
//! area), statuses, summaries and the lagging order — is `assemble::plan_view` of those counts,
//! as in the reference model.
//!
//! [`ActivityIndex`]: super::ActivityIndex

use domain::Period;
use domain::district::access::Scope;
use domain::district::assemble::{self, ActivityCounts};
use domain::district::views::PlanView;
use sqlx::PgConnection;

use super::activity_index::IndexGuard;
use super::{QueryError, count, district, view_period};

/// Live activities of the period by school, area and channel.
const COUNTS: &str = "SELECT school, area, channel, count(*) FROM activities \
                      WHERE live AND date BETWEEN $1 AND $2 GROUP BY school, area, channel";

/// The plan view as of the snapshot of `conn`; activities are counted by `index` when given
/// (locked before the snapshot began), by SQL otherwise.
pub async fn plan_view(
    conn: &mut PgConnection,
    period: Period,
    index: Option<IndexGuard<'_>>,
    scope: &Scope,
) -> Result<PlanView, QueryError> {
    let state = district(conn, scope).await?;
    let period = view_period(&state, period)?;
    let range = period.range;
    let indexed = match index {
        // The lock is released as soon as the counts are out.
        Some(mut index) => index.counts(&mut *conn, range).await?,
        None => None,
    };
    let rows: Vec<(String, i16, String, i64)> = match indexed {
        Some(counts) => counts,
        None => {
            sqlx::query_as(COUNTS)
                .bind(range.start())
                .bind(range.end())
                .fetch_all(&mut *conn)
                .await?
        }
    };
    let mut counts = ActivityCounts::new();
    for (school, area, channel, n) in rows {
        let area = u8::try_from(area)
            .map_err(|_| QueryError::Corrupt(format!("activities of {school}: area {area}")))?;
        counts.add(&school, area, &channel, count(n));
    }
    Ok(assemble::plan_view(
        period,
        state.plan(),
        state.enrolments(),
        &counts,
    ))
}
