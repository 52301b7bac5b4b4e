//! The plan view: schools × content areas × period, with targets met or missed.
//!
//! The counts of live activities of the period per school, area and channel come from the
//! [`ActivityIndex`] (brought to the query's snapshot, microseconds at any scale), or from one
//! `GROUP BY` over the activities when there is no index or it cannot serve the snapshot;
//! the rows, channel lists and summaries are assembled from them in Rust.
//! Targets depend only on the district plan, the period and the school's level, so they are
//! computed in Rust with the domain's own period arithmetic (`target_periods_within`), once
//! per level and area.

use std::collections::{BTreeMap, BTreeSet};

use domain::district::views::{
    PlanAreaSummary, PlanRow, PlanSchoolSummary, PlanView, TargetStatus,
};
use domain::district::{SchoolLevel, Target, target_periods_within};
use domain::{ContentArea, DateRange, Period};
use sqlx::PgConnection;

use super::activity_index::IndexGuard;
use super::{QueryError, count, district, period_range};

/// Live activities of the period by school, area and channel.
const COUNTS: &str = "SELECT school, area, channel, count(*) FROM activities \
                      WHERE live AND date BETWEEN $1 AND $2 GROUP BY school, area, channel";

#[derive(Default)]
struct Cell {
    activities: i64,
    channels: BTreeSet<String>,
}

/// The plan view as of the snapshot of `conn`; activities are counted by `index` when given
/// (locked before the snapshot began), by SQL otherwise.
pub async fn plan_view(
    conn: &mut PgConnection,
    period: Period,
    index: Option<IndexGuard<'_>>,
) -> Result<PlanView, QueryError> {
    let state = district(conn).await?;
    let (range, shown) = period_range(&state, period)?;
    let indexed = match index {
        // The lock is released as soon as the counts are out.
        Some(mut index) => index.counts(&mut *conn, range).await?,
        None => None,
    };
    let counts: Vec<(String, i16, String, i64)> = match indexed {
        Some(counts) => counts,
        None => {
            sqlx::query_as(COUNTS)
                .bind(range.start())
                .bind(range.end())
                .fetch_all(&mut *conn)
                .await?
        }
    };
    let mut cells: BTreeMap<(String, i16), Cell> = BTreeMap::new();
    for (school, area, channel, n) in counts {
        let cell = cells.entry((school, area)).or_default();
        cell.activities += count(n);
        cell.channels.insert(channel);
    }

    let targets = state
        .plan()
        .map(|p| p.targets.as_slice())
        .unwrap_or_default();
    let plan_period = state.plan().map(|p| p.period);
    let mut rows = Vec::new();
    let mut schools = Vec::new();
    for enrolment in state.enrolments() {
        let code = enrolment.code.as_str();
        let mut summary = PlanSchoolSummary {
            school: code.to_owned(),
            areas_missed: 0,
            total_activities: 0,
        };
        for area in ContentArea::ALL {
            let cell = cells.remove(&(code.to_owned(), i16::from(area.number())));
            let (activities, channels) =
                cell.map_or((0, BTreeSet::new()), |c| (c.activities, c.channels));
            let target = target_for(targets, enrolment.level, area, range, plan_period);
            let status = match target {
                None => TargetStatus::NoTarget,
                Some(t) if activities >= t => TargetStatus::Met,
                Some(_) => TargetStatus::Missed,
            };
            if status == TargetStatus::Missed {
                summary.areas_missed += 1;
            }
            summary.total_activities += activities;
            rows.push(PlanRow {
                school: code.to_owned(),
                area: area.number(),
                activities,
                channels: channels.into_iter().collect(),
                target,
                status,
            });
        }
        schools.push(summary);
    }
    let areas = ContentArea::ALL
        .iter()
        .map(|area| PlanAreaSummary {
            area: area.number(),
            schools_missed: rows
                .iter()
                .filter(|r| r.area == area.number() && r.status == TargetStatus::Missed)
                .count() as i64,
        })
        .collect();
    let mut lagging: Vec<PlanSchoolSummary> = schools
        .iter()
        .filter(|s| s.areas_missed > 0)
        .cloned()
        .collect();
    lagging.sort_by(|a, b| {
        b.areas_missed
            .cmp(&a.areas_missed)
            .then_with(|| a.school.cmp(&b.school))
    });
    Ok(PlanView {
        period: shown,
        rows,
        schools,
        areas,
        lagging,
    })
}

/// Σ over the targets matching `level` and `area` of `min_activities` × the target periods
/// inside `range` (and the plan's period); `None` when no term is positive.
fn target_for(
    targets: &[Target],
    level: SchoolLevel,
    area: ContentArea,
    range: DateRange,
    plan_period: Option<DateRange>,
) -> Option<i64> {
    let terms: Vec<i64> = targets
        .iter()
        .filter(|t| t.applies_to(level, area))
        .map(|t| {
            let periods = plan_period.map_or(0, |plan| target_periods_within(t.per, range, plan));
            i64::from(t.min_activities) * periods
        })
        .filter(|term| *term > 0)
        .collect();
    (!terms.is_empty()).then(|| terms.iter().sum())
}
