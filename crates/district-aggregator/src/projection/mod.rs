//! Applying one event to the projection tables, inside the ingest's transaction.
//!
//! The sequencer (`crate::ingest`) decides *whether* an event is due; this module decides
//! whether it is *valid* and what it changes. A school's event is validated the way its agent
//! decided it: `SchoolState::check` against the school's state as of the previous seq, with
//! "today" the local date of its `recorded_at`; the district office's own events likewise
//! with `DistrictState::check`. The states are kept in memory (`States`) and restored from
//! the projection rows on first use (`SchoolState::from_snapshot`, `DistrictState::restore`),
//! or whenever the cached copy is not at the position the database holds.
//!
//! The rules are exactly those of the domain's reference model (`DistrictModel`), which the
//! views must equal.
//!
//! Statements never name the projection schema; the transaction's `search_path` does (see
//! [`crate::db::use_projection`]).

use chrono::{DateTime, Utc};
use domain::event::ActivityDetails;
use domain::{AnyEvent, Envelope};
use sqlx::PgConnection;
use uuid::Uuid;

use write_buffer::WriteBuffer;

mod district;
mod school;
mod states;
pub(crate) mod write_buffer;

pub(crate) use states::States;
pub use states::{restore_district, restore_school};

use district::apply_district_event;
use school::apply_school_event;

/// Why a projection write failed. The event is not at fault: the batch is retried.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("the projection database failed: {0}")]
    Sql(#[from] sqlx::Error),
    /// An event already applied no longer decodes: the projection is damaged.
    #[error("school {school} seq {seq} in school_events is unreadable: {reason}")]
    Corrupt {
        school: String,
        seq: i64,
        reason: String,
    },
}

/// What happened to an activity, broadcast after the commit that applied it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityUpdate {
    pub school: String,
    pub seq: u64,
    pub activity_id: Uuid,
    pub change: ActivityChange,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityChange {
    Recorded(ActivityDetails),
    Corrected(ActivityDetails),
    Retracted { reason: String },
}

/// The result of offering one due event to the projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Applied; what it changed that others need to know.
    Applied(Effects),
    /// Not applied: it does not decode or breaks a rule. Goes to the dead letters; the
    /// position still advances past it.
    Refused(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Effects {
    pub activity: Option<Box<ActivityUpdate>>,
    /// A school enrolled (or re-enrolled): its held events may now be applied.
    pub enrolled: Option<String>,
}

/// Validates a due event (of a school or of the district office) against its author's state
/// and, when valid, folds it into that state and adds its rows to `writes` (a school's) or
/// writes them at once (the district office's, which are rare and read back by the ingest).
/// A school's state that must be restored from the projection is restored after flushing
/// `writes`, so the restore reads every row applied before.
pub(crate) async fn apply_event(
    conn: &mut PgConnection,
    states: &mut States,
    writes: &mut WriteBuffer,
    envelope: &Envelope,
    applied_seq: u64,
) -> Result<Outcome, ProjectionError> {
    let event = match envelope.decode_any() {
        Ok(event) => event,
        Err(e) => return Ok(Outcome::Refused(format!("cannot decode the event: {e}"))),
    };
    match event {
        AnyEvent::School(event) => {
            let school = envelope.school.as_str();
            if !states.is_fresh(school, applied_seq) {
                writes.flush(conn).await?;
            }
            let state = states.school(conn, school, applied_seq).await?;
            Ok(apply_school_event(writes, envelope, event, state))
        }
        AnyEvent::District(event) => {
            let state = states.district(conn, applied_seq).await?;
            apply_district_event(conn, envelope, &event, state).await
        }
    }
}

/// [`apply_event`] without the database, for the ingest's pipelined path: `None` when the
/// event needs it — the school's state is not cached as of `applied_seq`, the event is the
/// district office's, or it does not decode (a dead letter: the careful path stores those).
/// A refused event comes back as [`Outcome::Refused`], its state untouched.
pub(crate) fn apply_cached(
    states: &mut States,
    writes: &mut WriteBuffer,
    envelope: &Envelope,
    applied_seq: u64,
) -> Option<Outcome> {
    let school = envelope.school.as_str();
    if !states.is_fresh(school, applied_seq) {
        return None;
    }
    let AnyEvent::School(event) = envelope.decode_any().ok()? else {
        return None;
    };
    let state = states.fresh_school(school, applied_seq)?;
    Some(apply_school_event(writes, envelope, event, state))
}

pub(super) fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    // Plain domain structs with string keys always serialise.
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
