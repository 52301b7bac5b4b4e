//! An in-memory index of live activity counts, for the plan view at scale.
//!
//! Counting the live activities of a period with `GROUP BY` touches every one of them: at a
//! million events (≈ 650 000 activities) that is 30–300 ms per plan view, whatever the
//! indexes. The plan view only needs, per school, area and channel, how many live activities
//! fall in a date range — so this index keeps, per `(school, area, channel)`, the number of
//! live activities per date, with prefix sums: a range count is two binary searches.
//!
//! **It never disagrees with the projection.** It is a fold of the applied events, kept at a
//! known applied seq per school, and every query brings it to exactly the query's snapshot
//! before counting:
//!
//! 1. built once from `activities` and `positions` read in one snapshot;
//! 2. on each query, inside the query's `REPEATABLE READ` transaction, it reads `positions`;
//!    for every school that moved on, it reads the applied `activity.*` events in between
//!    from `school_events` (by primary key) and folds them exactly as the projection does
//!    (recorded: live; corrected: moved to its new date, area and channel; retracted: gone);
//! 3. queries take the index's lock *before* their snapshot ([`ActivityIndex::lock`]), so
//!    snapshots reach the index in order and it is never ahead of one — unless the projection
//!    itself went back (it was replaced by an older one): then that query counts in SQL and
//!    the index is dropped, to be built again by the next.
//!
//! Only applied events reach `school_events`; dead-lettered ones never do, like the
//! projection's `activities` rows.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use domain::event::{ActivityDetails, Event};
use domain::{AnyEvent, DateRange, EventData};
use sqlx::PgConnection;
use tokio::sync::{Mutex, MutexGuard};
use tracing::{debug, info, warn};
use uuid::Uuid;

use super::QueryError;

const ACTIVITY_TYPES: [&str; 3] = [
    "activity.recorded",
    "activity.corrected",
    "activity.retracted",
];

/// Counts per `(school, area, channel)` and date, as of the query's snapshot.
#[derive(Debug, Default)]
pub struct ActivityIndex {
    inner: Mutex<Option<Index>>,
    /// Queries it could not serve (counted in SQL instead), since start.
    fallbacks: AtomicU64,
    /// Times it was built from the activities table, since start.
    builds: AtomicU64,
}

type Key = (u32, u8, u32);

#[derive(Debug, Default)]
struct Index {
    /// Interned school codes and channel codes.
    schools: Interner,
    channels: Interner,
    /// The applied seq of each school the index reflects.
    positions: HashMap<String, i64>,
    /// Every activity as it now stands.
    activities: HashMap<(u32, Uuid), Cell>,
    series: HashMap<Key, Series>,
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    key: Key,
    date: NaiveDate,
    live: bool,
}

#[derive(Debug, Default)]
struct Interner {
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Interner {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_owned());
        self.ids.insert(name.to_owned(), id);
        id
    }

    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}

/// Live activities of one key per date, with prefix sums rebuilt lazily after changes.
#[derive(Debug, Default)]
struct Series {
    days: BTreeMap<NaiveDate, i64>,
    /// `(date, count of days ≤ date)`, ascending; `None` after a change.
    prefix: Option<Vec<(NaiveDate, i64)>>,
}

impl Series {
    fn add(&mut self, date: NaiveDate, delta: i64) {
        let n = self.days.entry(date).or_insert(0);
        *n += delta;
        if *n == 0 {
            self.days.remove(&date);
        }
        self.prefix = None;
    }

    /// Live activities dated in `range`.
    fn count(&mut self, range: DateRange) -> i64 {
        let days = &self.days;
        let prefix = self.prefix.get_or_insert_with(|| {
            let mut total = 0;
            days.iter()
                .map(|(d, n)| {
                    total += n;
                    (*d, total)
                })
                .collect()
        });
        // Σ of the days ≤ `date`, and of the days < `date`.
        let upto = |date: NaiveDate| {
            let i = prefix.partition_point(|(d, _)| *d <= date);
            if i == 0 { 0 } else { prefix[i - 1].1 }
        };
        let before = {
            let i = prefix.partition_point(|(d, _)| *d < range.start());
            if i == 0 { 0 } else { prefix[i - 1].1 }
        };
        upto(range.end()) - before
    }
}

impl Index {
    fn key(&mut self, school: u32, area: u8, channel: &str) -> Key {
        (school, area, self.channels.id(channel))
    }

    fn count_in(&mut self, cell: Cell, delta: i64) {
        if cell.live {
            self.series
                .entry(cell.key)
                .or_default()
                .add(cell.date, delta);
        }
    }

    /// Sets an activity as it now stands, moving its count.
    fn set(&mut self, school: u32, id: Uuid, cell: Cell) {
        if let Some(old) = self.activities.insert((school, id), cell) {
            self.count_in(old, -1);
        }
        self.count_in(cell, 1);
    }

    fn cell(&mut self, school: u32, d: &ActivityDetails, live: bool) -> Cell {
        Cell {
            key: self.key(school, d.area.number(), d.channel.code()),
            date: d.date,
            live,
        }
    }

    /// Folds one applied event of `school`, as the projection applies it.
    fn apply(&mut self, school: &str, event: &Event) {
        let s = self.schools.id(school);
        match event {
            Event::ActivityRecorded(e) => {
                let cell = self.cell(s, &e.details, true);
                self.set(s, e.activity_id, cell);
            }
            Event::ActivityCorrected(e) => {
                if let Some(old) = self.activities.get(&(s, e.activity_id)).copied() {
                    let cell = self.cell(s, &e.details, old.live);
                    self.set(s, e.activity_id, cell);
                }
            }
            Event::ActivityRetracted(e) => {
                if let Some(old) = self.activities.get(&(s, e.activity_id)).copied() {
                    self.set(s, e.activity_id, Cell { live: false, ..old });
                }
            }
            _ => {}
        }
    }

    /// `(school, area, channel, count)` of the live activities dated in `range`, count > 0.
    fn counts(&mut self, range: DateRange) -> Vec<(String, i16, String, i64)> {
        let mut out = Vec::new();
        for ((school, area, channel), series) in &mut self.series {
            let n = series.count(range);
            if n > 0 {
                out.push((
                    self.schools.name(*school).to_owned(),
                    i16::from(*area),
                    self.channels.name(*channel).to_owned(),
                    n,
                ));
            }
        }
        out
    }
}

/// Positions of every school in the snapshot.
async fn positions(conn: &mut PgConnection) -> Result<HashMap<String, i64>, QueryError> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT author, applied_seq FROM positions WHERE author <> '_district'")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().collect())
}

/// The index as of the snapshot of `conn`.
async fn build(conn: &mut PgConnection) -> Result<Index, QueryError> {
    let started = std::time::Instant::now();
    let mut index = Index {
        positions: positions(&mut *conn).await?,
        ..Index::default()
    };
    let rows: Vec<(String, Uuid, i16, String, NaiveDate, bool)> =
        sqlx::query_as("SELECT school, activity_id, area, channel, date, live FROM activities")
            .fetch_all(conn)
            .await?;
    let count = rows.len();
    for (school, id, area, channel, date, live) in rows {
        let s = index.schools.id(&school);
        let key = index.key(s, u8::try_from(area).unwrap_or(0), &channel);
        index.set(s, id, Cell { key, date, live });
    }
    info!(
        activities = count,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "activity index built"
    );
    Ok(index)
}

/// `school_events.data` is JSON text (the migration `event_data_as_text`).
type EventRow = (String, i64, String, i32, String);

/// Brings `index` to the snapshot's positions; `false` when it is ahead of them.
async fn refresh(conn: &mut PgConnection, index: &mut Index) -> Result<bool, QueryError> {
    let now = positions(&mut *conn).await?;
    if index
        .positions
        .iter()
        .any(|(school, seq)| now.get(school).copied().unwrap_or(0) < *seq)
    {
        return Ok(false);
    }
    let moved: Vec<(&String, i64, i64)> = now
        .iter()
        .filter_map(|(school, seq)| {
            let known = index.positions.get(school).copied().unwrap_or(0);
            (*seq > known).then_some((school, known, *seq))
        })
        .collect();
    if moved.is_empty() {
        return Ok(true);
    }
    let schools: Vec<&str> = moved.iter().map(|m| m.0.as_str()).collect();
    let after: Vec<i64> = moved.iter().map(|m| m.1).collect();
    let upto: Vec<i64> = moved.iter().map(|m| m.2).collect();
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT e.school, e.seq, e.type, e.schema, e.data \
         FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS k(school, after, upto) \
         JOIN school_events e ON e.school = k.school AND e.seq > k.after AND e.seq <= k.upto \
         WHERE e.type = ANY($4) ORDER BY e.school, e.seq",
    )
    .bind(&schools)
    .bind(&after)
    .bind(&upto)
    .bind(&ACTIVITY_TYPES[..])
    .fetch_all(&mut *conn)
    .await?;
    // Decode everything first: an unreadable row leaves the index as it was.
    let events = rows
        .into_iter()
        .map(|(school, seq, event_type, schema, data)| {
            let corrupt = |e: &dyn std::fmt::Display| {
                QueryError::Corrupt(format!("school {school} seq {seq} in school_events: {e}"))
            };
            let schema = u32::try_from(schema).unwrap_or(0);
            let data = EventData::parse(&data).map_err(|e| corrupt(&e))?;
            match AnyEvent::from_data_at(&event_type, schema, &data) {
                Ok(AnyEvent::School(event)) => Ok((school.clone(), event)),
                Ok(AnyEvent::District(_)) => Err(corrupt(&"a district office event")),
                Err(e) => Err(corrupt(&e)),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let applied = events.len();
    for (school, event) in &events {
        index.apply(school, event);
    }
    for (school, _, seq) in moved {
        index.positions.insert(school.clone(), seq);
    }
    debug!(events = applied, "activity index refreshed");
    Ok(true)
}

impl ActivityIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// `(builds, fallbacks)` since start: how often the index was built from the activities
    /// table, and how many queries it left to SQL.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.builds.load(Ordering::Relaxed),
            self.fallbacks.load(Ordering::Relaxed),
        )
    }

    /// [`IndexGuard::counts`] with the lock taken now, for a caller whose snapshot has already
    /// begun. Correct; but if a concurrent query refreshed the index past that snapshot, the
    /// answer is `None` (count in SQL) and the index is rebuilt — so concurrent callers take
    /// [`ActivityIndex::lock`] before their snapshot, as [`super::Views::plan_view`] does.
    pub async fn counts(
        &self,
        conn: &mut PgConnection,
        range: DateRange,
    ) -> Result<Option<Vec<(String, i16, String, i64)>>, QueryError> {
        self.lock().await.counts(conn, range).await
    }

    /// Exclusive use of the index, to be taken **before** the transaction whose snapshot it
    /// will serve begins.
    pub async fn lock(&self) -> IndexGuard<'_> {
        IndexGuard {
            owner: self,
            index: self.inner.lock().await,
        }
    }
}

/// The locked index; see [`ActivityIndex::lock`].
#[derive(Debug)]
pub struct IndexGuard<'a> {
    owner: &'a ActivityIndex,
    index: MutexGuard<'a, Option<Index>>,
}

impl IndexGuard<'_> {
    /// `(school, area, channel, live activities)` dated in `range`, as of the snapshot of
    /// `conn` (a `REPEATABLE READ` transaction on the projection, begun after the lock was
    /// taken); `None` when the caller must count in SQL instead (the projection went back
    /// behind the index).
    pub async fn counts(
        &mut self,
        conn: &mut PgConnection,
        range: DateRange,
    ) -> Result<Option<Vec<(String, i16, String, i64)>>, QueryError> {
        // Cancellation-safe (a gRPC call may be dropped at any await): the index is only
        // changed by code without awaits, after everything it needs has been read.
        if self.index.is_none() {
            let built = build(&mut *conn).await?;
            self.owner.builds.fetch_add(1, Ordering::Relaxed);
            *self.index = Some(built);
        }
        let Some(index) = self.index.as_mut() else {
            return Ok(None);
        };
        if !refresh(&mut *conn, index).await? {
            self.owner.fallbacks.fetch_add(1, Ordering::Relaxed);
            warn!("the projection is behind the activity index; rebuilding the index");
            *self.index = None;
            return Ok(None);
        }
        Ok(Some(index.counts(range)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn range_counts_include_both_ends() {
        let mut s = Series::default();
        s.add(d(2018, 1, 1), 2);
        s.add(d(2018, 1, 15), 1);
        s.add(d(2018, 3, 31), 4);
        let r = |a, b| DateRange::new(a, b).unwrap();
        assert_eq!(s.count(r(d(2018, 1, 1), d(2018, 3, 31))), 7);
        assert_eq!(s.count(r(d(2018, 1, 2), d(2018, 3, 30))), 1);
        assert_eq!(s.count(r(d(2017, 1, 1), d(2017, 12, 31))), 0);
        assert_eq!(s.count(r(d(2018, 1, 15), d(2018, 1, 15))), 1);
        s.add(d(2018, 1, 15), -1);
        assert_eq!(s.count(r(d(2018, 1, 1), d(2018, 3, 31))), 6);
        assert!(
            !s.days.contains_key(&d(2018, 1, 15)),
            "empty days are dropped"
        );
    }
}
