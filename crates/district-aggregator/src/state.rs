//! What the ingest is doing, for operators and the gRPC status query: counters since start,
//! the last failure, every school's current gap, and the last log head each school announced.
//!
//! This is process state, not a projection: it starts empty (gaps are reloaded from `held`)
//! and is never part of a district view.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::gaps::Gaps;

pub use crate::gaps::Gap;

/// The last log head a school announced (`event_bus::heads`), as this aggregator heard it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeardHead {
    pub school: String,
    /// The newest seq in the school's log.
    pub seq: u64,
    /// That event's id (absent for an empty log).
    pub id: Option<Uuid>,
    /// When this aggregator heard it.
    pub at: DateTime<Utc>,
}

/// Counters since the aggregator started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestCounters {
    /// Transactions committed: one per careful batch, one per part of a pipelined batch (whose
    /// parts, split by school, commit in parallel).
    pub batches: u64,
    /// Messages in those transactions.
    pub messages: u64,
    /// Events applied to the projection.
    pub applied: u64,
    /// Messages whose `(author, seq)` was already applied or already held: no effect.
    pub duplicates: u64,
    /// Messages held (a gap, a school not enrolled, a diverged author, an unknown version).
    pub held: u64,
    /// Messages that went to the dead letters (unreadable, misaddressed, or refused).
    pub dead_lettered: u64,
    /// Of those, divergences: a seq the district already has with another event id.
    pub divergences: u64,
    /// Batches committed on the pipelined path (prepared while the one before committed), all
    /// their parts committed.
    pub pipelined: u64,
    /// Pipelined batches with a part whose commit failed, and which was applied again
    /// carefully.
    pub redone: u64,
    pub last_commit_at: Option<DateTime<Utc>>,
    /// The last failure to commit a batch, cleared by the next success.
    pub last_error: Option<String>,
}

/// Shared, cheap-to-read ingest state.
#[derive(Debug)]
pub struct IngestState {
    counters: Mutex<IngestCounters>,
    /// Every school's current gap.
    pub(crate) gaps: Gaps,
    /// The last head each school announced, by school.
    heads: Mutex<HashMap<String, HeardHead>>,
}

impl IngestState {
    pub(crate) fn new(gaps: Gaps) -> Self {
        Self {
            counters: Mutex::new(IngestCounters::default()),
            gaps,
            heads: Mutex::new(HashMap::new()),
        }
    }

    pub fn counters(&self) -> IngestCounters {
        self.counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every current gap (first missing seq, held count, …), ordered by school.
    pub fn gaps(&self) -> Vec<Gap> {
        self.gaps.snapshot()
    }

    /// The last head each school announced since this aggregator started, ordered by school.
    pub fn heads(&self) -> Vec<HeardHead> {
        let heads = self.heads.lock().unwrap_or_else(PoisonError::into_inner);
        let mut heads: Vec<HeardHead> = heads.values().cloned().collect();
        heads.sort_by(|a, b| a.school.cmp(&b.school));
        heads
    }

    pub(crate) fn heard(&self, head: HeardHead) {
        self.heads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(head.school.clone(), head);
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut IngestCounters)) {
        f(&mut self.counters.lock().unwrap_or_else(PoisonError::into_inner));
    }
}
