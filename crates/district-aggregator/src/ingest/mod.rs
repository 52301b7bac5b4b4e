//! The district stream into PostgreSQL, exactly once per `(author, seq)`, in order per author.
//!
//! A durable JetStream **pull** consumer with explicit acks feeds batches (up to
//! `batch_size` messages, or what arrived within `batch_wait` of the first). Each batch is
//! applied in **one** PostgreSQL transaction, message by message in stream order:
//!
//! * unreadable or misaddressed ([`crate::decode`]) → a dead letter; no position moves;
//! * `seq ≤ applied_seq` of its author, or a seq already held, **with the event id that took
//!   that seq** → a duplicate (a redelivery, a re-send, a copy past JetStream's duplicate
//!   window): nothing happens;
//! * the same, **with another event id** → a *divergence*: the author's log was restored from
//!   an old copy or re-created. It is dead-lettered as kind `divergence` (naming the seq and
//!   both ids), counted, never applied; and from then on every new seq of that author is held
//!   (`diverged`): it follows a history the district does not have;
//! * an event type, or a schema version, this build does not know (an agent upgraded before
//!   the aggregator) → held (`unknown_version`) when it is next, and what follows waits behind
//!   it; retried at start-up, so an upgraded aggregator applies it in order;
//! * the author is a school that is not enrolled → held (`not_enrolled`) until its
//!   `school.enrolled` arrives, then applied in order;
//! * `seq > applied_seq + 1` → held (`gap`) and reported ([`crate::gaps`]);
//! * `seq = applied_seq + 1` → validated and applied ([`crate::projection`]) — or, if it
//!   fails to decode or breaks a rule, dead-lettered — and the position advances either way;
//!   then held events that are now next are applied the same way.
//!
//! The transaction commits the projection changes and the positions together; only **then**
//! is every message of the batch acknowledged (held and dead-lettered ones included: they are
//! safely in the database). A crash between the commit and the acks only causes a
//! redelivery, which the positions turn into duplicates (invariant 3).
//!
//! A batch that fails to commit is retried with backoff until it commits or the aggregator
//! stops (then JetStream redelivers it). If the failure is the data's — PostgreSQL refused a
//! value — the retry runs each event under a savepoint and dead-letters the one it refuses,
//! so no single event can wedge the district.
//!
//! In the steady state a batch is not applied inside its transaction but prepared in memory
//! while the batch before it commits, then committed with the same writes, split by school
//! into parts that commit in parallel, each with its own positions ([`pipeline`]); everything
//! above holds there too (per part), and anything unusual comes back to this careful path.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use sqlx::PgPool;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::config::{DistrictSettings, IngestSettings};
use crate::decode::Decoder;
use crate::projection::{ActivityUpdate, ProjectionError, States};
use crate::state::IngestState;

mod bookkeeping;
mod consumer;
pub(crate) mod pipeline;
mod sequencer;

/// Why a batch could not be committed. Nothing of it is applied; it is retried.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error("the projection database failed: {0}")]
    Sql(#[from] sqlx::Error),
    /// A pipelined batch was prepared against a projection schema that a rebuild has since
    /// replaced; it is applied again against the new one.
    #[error("the projection schema was swapped while the batch was prepared")]
    SchemaSwapped,
    /// A pipelined part's commit task ended without an outcome (it panicked or was
    /// cancelled); whether it committed is unknown, so it is applied again (a duplicate, if
    /// it had).
    #[error("the commit task failed: {0}")]
    CommitTask(String),
}

impl IngestError {
    /// Whether PostgreSQL refused a *value* (data exception, integrity violation) rather than
    /// being unavailable: retrying the same statements would fail the same way.
    fn is_data_error(&self) -> bool {
        let sql = match self {
            IngestError::Sql(e) | IngestError::Projection(ProjectionError::Sql(e)) => e,
            IngestError::Projection(ProjectionError::Corrupt { .. })
            | IngestError::SchemaSwapped
            | IngestError::CommitTask(_) => return false,
        };
        is_data_error(sql)
    }
}

fn is_data_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("22") || code.starts_with("23")),
        _ => false,
    }
}

/// Why a held event is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldReason {
    /// An earlier seq is missing; applied when it arrives.
    Gap,
    /// Its school is not enrolled; applied in order once it is.
    NotEnrolled,
    /// A new seq of an author with a divergence on record: it follows a history the district
    /// does not have, so it is kept, never applied, until the author's log is reconciled.
    Diverged,
    /// Its type or schema version is newer than this aggregator knows; retried at start-up.
    UnknownVersion,
}

impl HeldReason {
    pub(crate) fn code(self) -> &'static str {
        match self {
            HeldReason::Gap => "gap",
            HeldReason::NotEnrolled => "not_enrolled",
            HeldReason::Diverged => "diverged",
            HeldReason::UnknownVersion => "unknown_version",
        }
    }

    /// The reason stored as `code`; `None` for a code this build does not write.
    pub(crate) fn from_code(code: &str) -> Option<Self> {
        [
            HeldReason::Gap,
            HeldReason::NotEnrolled,
            HeldReason::Diverged,
            HeldReason::UnknownVersion,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

/// What one committed batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub messages: u64,
    pub applied: u64,
    pub duplicates: u64,
    pub held: u64,
    pub dead_lettered: u64,
    /// Of the dead letters, divergences: a seq already taken by another event id.
    pub divergences: u64,
    /// Activity changes, in the order applied; broadcast after the commit.
    pub activities: Vec<ActivityUpdate>,
    /// Where each author touched by the batch stands, ordered by author.
    pub positions: Vec<AuthorPosition>,
}

/// Where an author stands after a commit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AuthorPosition {
    /// A school code or `_district`.
    pub author: String,
    pub applied_seq: u64,
    /// `(lowest seq held behind a gap, how many are held behind it)`, when there is a gap.
    pub gap: Option<(u64, u64)>,
}

/// One author's position and held events, as seen inside the current transaction.
#[derive(Debug, Clone)]
struct AuthorView {
    applied_seq: u64,
    applied_events: u64,
    rejected_events: u64,
    /// The id of the event at `applied_seq`, when known.
    last_event_id: Option<Uuid>,
    enrolled: bool,
    /// A divergence of this author is on record: new seqs are held, not applied.
    diverged: bool,
    held: BTreeMap<u64, HeldReason>,
    /// The position changed and must be written back.
    dirty: bool,
}

impl AuthorView {
    /// `(lowest seq held behind a gap, how many)`, when the next seq is missing and later ones
    /// are held. When the next seq is itself held (an unknown version, a divergence), or the
    /// author's log diverged, nothing is missing: the author is blocked, and asking it to
    /// re-send would not help.
    fn gap(&self) -> Option<(u64, u64)> {
        if self.diverged || self.held.contains_key(&(self.applied_seq + 1)) {
            return None;
        }
        let mut gap_held = self
            .held
            .iter()
            .filter(|(_, r)| **r == HeldReason::Gap)
            .map(|(s, _)| *s);
        let first = gap_held.next()?;
        Some((first, 1 + gap_held.count() as u64))
    }
}

/// Consumes the district stream into the projection schema `schema`.
#[derive(Debug)]
pub struct Ingest {
    pub pool: PgPool,
    pub jetstream: jetstream::Context,
    pub settings: IngestSettings,
    pub province: String,
    pub district: String,
    /// The projection schema written to ([`crate::db::LIVE_SCHEMA`] for the live views).
    pub schema: String,
    pub state: Arc<IngestState>,
    pub activities: broadcast::Sender<ActivityUpdate>,
    /// Record last contact and backlog in `ops.contacts` (the live ingest). A rebuild turns
    /// this off: those are operational facts the live ingest keeps, not projection state,
    /// and two writers upserting the same rows in different orders could deadlock.
    pub record_contacts: bool,
    decoder: Decoder,
    states: States,
    /// Each author's view as the last committed batch left it (or, while a pipelined batch is
    /// in flight, as it will leave it): what the pipelined path prepares against.
    views: HashMap<String, AuthorView>,
    /// The OID of the schema named `schema` when the last batch ran. A rebuild swaps a new
    /// schema in under the same name (holding this ingest's advisory lock): the decision
    /// states cached in memory then describe the old one and are dropped.
    schema_oid: Option<i64>,
}

impl Ingest {
    pub fn new(
        pool: PgPool,
        jetstream: jetstream::Context,
        district: &DistrictSettings,
        settings: IngestSettings,
        schema: String,
        state: Arc<IngestState>,
        activities: broadcast::Sender<ActivityUpdate>,
    ) -> Self {
        let (province, district) = (district.province.clone(), district.district.clone());
        let decoder = Decoder {
            province: province.clone(),
            district: district.clone(),
            max_message_bytes: settings.max_message_bytes,
            unknown_event_types: settings.unknown_event_types.clone(),
        };
        Self {
            pool,
            jetstream,
            settings,
            province,
            district,
            schema,
            state,
            activities,
            record_contacts: true,
            decoder,
            states: States::default(),
            views: HashMap::new(),
            schema_oid: None,
        }
    }

    /// How this ingest decodes and checks the addressing of messages.
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Drops the cached decision states and positions; they are read again from the
    /// projection when next needed.
    fn forget_caches(&mut self) {
        self.states.clear();
        self.views.clear();
    }
}

fn advance(view: &mut AuthorView, seq: u64, event_id: Option<Uuid>, applied: bool) {
    view.applied_seq = seq;
    if applied {
        view.applied_events += 1;
    } else {
        view.rejected_events += 1;
    }
    view.last_event_id = event_id;
    view.dirty = true;
}

/// The backoff before retry number `failures` (1-based): 100 ms doubling up to `max`.
pub fn backoff(failures: u32, max: Duration) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    Duration::from_millis(100u64.saturating_mul(1 << exp)).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        let max = Duration::from_secs(10);
        assert_eq!(backoff(1, max), Duration::from_millis(100));
        assert_eq!(backoff(2, max), Duration::from_millis(200));
        assert_eq!(backoff(40, max), max);
    }

    #[test]
    fn gap_is_the_first_gap_held_seq_and_count() {
        let mut view = AuthorView {
            applied_seq: 10,
            applied_events: 10,
            rejected_events: 0,
            last_event_id: None,
            enrolled: true,
            diverged: false,
            held: BTreeMap::new(),
            dirty: false,
        };
        assert_eq!(view.gap(), None);
        view.held.insert(14, HeldReason::Gap);
        view.held.insert(12, HeldReason::Gap);
        assert_eq!(view.gap(), Some((12, 2)));
        // The next seq held for another reason: blocked, not missing.
        view.held.insert(11, HeldReason::UnknownVersion);
        assert_eq!(view.gap(), None);
    }

    #[test]
    fn held_reasons_round_trip_their_codes() {
        for reason in [
            HeldReason::Gap,
            HeldReason::NotEnrolled,
            HeldReason::Diverged,
            HeldReason::UnknownVersion,
        ] {
            assert_eq!(HeldReason::from_code(reason.code()), Some(reason));
        }
        assert_eq!(HeldReason::from_code("later"), None);
    }
}
