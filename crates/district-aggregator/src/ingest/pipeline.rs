//! The pipelined path of the ingest: the next batch is prepared in memory while the previous
//! one commits, so the aggregator's CPU and PostgreSQL's work overlap instead of taking turns.
//!
//! A batch takes this path when everything it needs is in memory: every message is a school
//! event (or a duplicate) of an enrolled author whose position the ingest knows from an earlier
//! batch, with nothing held, whose seq is next, and whose decision state is cached as of that
//! seq; and every event is valid. That is the steady state of a district. Anything else — a
//! gap, a dead letter, a refused event, a district office event, an author not seen since
//! start — sends the batch down the careful path ([`Ingest::apply_decoded`]), after the batch
//! in flight has landed; the states it had moved in memory are dropped, the others kept.
//!
//! **Speculation.** The batch is prepared against the positions and states as the batch in
//! flight *will* leave them. If that commit fails, nothing prepared on top of it is used: the
//! caches are dropped, the failed batch is applied again on the careful path (with its
//! retries), and then the next one. Acknowledgements still follow commits, batch by batch, in
//! order; at most one commit is in flight.
//!
//! **Commit.** Its own transaction under the ingest's advisory lock, like every batch. It
//! refuses to write when the projection schema is no longer the one the caches describe (a
//! rebuild swapped it): the batch is then applied again on the careful path, which reads the
//! new schema's positions. Positions and projection rows commit together, as always.

use std::collections::BTreeMap;

use async_nats::jetstream;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::{
    AuthorPosition, AuthorView, BatchReport, ContactRows, Ingest, IngestError, advance,
    write_contact_rows, write_positions,
};
use crate::db::use_projection_for_writes;
use crate::decode::Decoded;
use crate::projection::{self, Outcome};
use crate::write_buffer::WriteBuffer;

/// A batch applied in memory, ready to commit.
pub(super) struct Prepared {
    writes: WriteBuffer,
    /// The authors whose position moved, as they now stand.
    views: BTreeMap<String, AuthorView>,
    report: BatchReport,
}

/// A batch whose commit runs in the background.
pub(super) struct InFlight {
    job: JoinHandle<Result<(), IngestError>>,
    decoded: Vec<Decoded>,
    ackable: Vec<jetstream::Message>,
    report: BatchReport,
}

/// How the batch in flight ended.
pub(super) enum Landed {
    /// Committed and acknowledged.
    Committed,
    /// Its commit failed; it was applied again on the careful path (the caches are dropped).
    Redone,
    /// Shutdown came while it was being applied again; it stays unacknowledged.
    Shutdown,
}

impl Ingest {
    /// Applies `decoded` in memory against the cached positions and states, as
    /// [`Ingest::apply_decoded`] would; `None` when a message needs the database. Then the
    /// states this attempt moved are dropped (they are restored from the projection when next
    /// needed); the other authors' stay.
    pub(super) fn prepare(&mut self, decoded: &[Decoded]) -> Option<Prepared> {
        let mut moved = Vec::new();
        match self.try_prepare(decoded, &mut moved) {
            Ok(prepared) => Some(prepared),
            Err(why) => {
                debug!(
                    why,
                    messages = decoded.len(),
                    "batch takes the careful path"
                );
                for author in moved {
                    self.states.forget(&author);
                }
                None
            }
        }
    }

    fn try_prepare(
        &mut self,
        decoded: &[Decoded],
        moved: &mut Vec<String>,
    ) -> Result<Prepared, &'static str> {
        if self.schema_oid.is_none() {
            return Err("no batch committed yet");
        }
        let mut writes = WriteBuffer::new();
        let mut views: BTreeMap<String, AuthorView> = BTreeMap::new();
        let mut report = BatchReport::default();
        for message in decoded {
            report.messages += 1;
            let Decoded::Candidate(candidate) = message else {
                return Err("a message to dead-letter");
            };
            let author = candidate.author.as_str();
            if !views.contains_key(author) {
                let cached = self.views.get(author).ok_or("an author not seen yet")?;
                views.insert(author.to_owned(), cached.clone());
            }
            let Some(view) = views.get_mut(author) else {
                return Err("an author not seen yet");
            };
            if !view.enrolled {
                return Err("an author not enrolled");
            }
            if !view.held.is_empty() {
                return Err("an author with events held");
            }
            if candidate.seq <= view.applied_seq {
                report.duplicates += 1;
                continue;
            }
            if candidate.seq != view.applied_seq + 1 {
                return Err("a gap");
            }
            let outcome = projection::apply_cached(
                &mut self.states,
                &mut writes,
                &candidate.envelope,
                view.applied_seq,
            )
            .ok_or("a decision state not cached, or an event that needs the database")?;
            match outcome {
                Outcome::Applied(effects) if effects.enrolled.is_none() => {
                    report.applied += 1;
                    if let Some(update) = effects.activity {
                        report.activities.push(*update);
                    }
                    advance(view, candidate.seq, Some(candidate.event_id), true);
                    self.states.advanced(author, candidate.seq);
                    if !moved.iter().any(|a| a == author) {
                        moved.push(author.to_owned());
                    }
                }
                _ => return Err("an event refused, or an enrolment"),
            }
        }
        report.positions = views
            .iter()
            .map(|(author, view)| AuthorPosition {
                author: author.clone(),
                applied_seq: view.applied_seq,
                gap: None,
            })
            .collect();
        // The next batch is prepared on top of this one.
        for (author, view) in &views {
            self.views.insert(author.clone(), view.clone());
        }
        Ok(Prepared {
            writes,
            views,
            report,
        })
    }

    /// Starts committing `prepared` (the application of `decoded`) in the background.
    pub(super) fn launch(
        &self,
        prepared: Prepared,
        decoded: Vec<Decoded>,
        ackable: Vec<jetstream::Message>,
    ) -> InFlight {
        let contacts = self.record_contacts.then(|| ContactRows::of(&decoded));
        let job = tokio::spawn(commit(
            self.pool.clone(),
            self.schema.clone(),
            self.schema_oid,
            prepared.writes,
            prepared.views,
            contacts,
        ));
        InFlight {
            job,
            decoded,
            ackable,
            report: prepared.report,
        }
    }

    /// Waits for the batch in flight; acknowledges it when committed, applies it again on the
    /// careful path when not.
    pub(super) async fn land(
        &mut self,
        mut flight: InFlight,
        shutdown: &mut broadcast::Receiver<()>,
    ) -> Landed {
        let result = (&mut flight.job).await;
        self.settle(flight, result, shutdown).await
    }

    /// At shutdown: acknowledges the batch in flight if its commit succeeds, else leaves it
    /// for redelivery (no retries once shutdown has begun).
    pub(super) async fn finish_on_shutdown(&mut self, mut flight: InFlight) {
        match (&mut flight.job).await {
            Ok(Ok(())) => {
                self.acknowledge(&flight.ackable).await;
                self.state.update(|c| c.pipelined += 1);
                self.after_commit(flight.report);
            }
            Ok(Err(error)) => {
                warn!(%error, "the last pipelined commit failed at shutdown; its messages will be redelivered")
            }
            Err(error) => {
                warn!(%error, "the last pipelined commit task failed at shutdown; its messages will be redelivered")
            }
        }
    }

    /// [`Ingest::land`] once the commit's `result` is known.
    pub(super) async fn settle(
        &mut self,
        flight: InFlight,
        result: Result<Result<(), IngestError>, tokio::task::JoinError>,
        shutdown: &mut broadcast::Receiver<()>,
    ) -> Landed {
        let outcome = match result {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(join) => Err(format!("the commit task failed: {join}")),
        };
        match outcome {
            Ok(()) => {
                self.acknowledge(&flight.ackable).await;
                self.state.update(|c| c.pipelined += 1);
                self.after_commit(flight.report);
                Landed::Committed
            }
            Err(error) => {
                warn!(%error, messages = flight.decoded.len(), "pipelined commit failed; applying the batch again on the careful path");
                self.state.update(|c| c.redone += 1);
                self.forget_caches();
                if self
                    .commit_carefully(flight.decoded, flight.ackable, shutdown)
                    .await
                {
                    Landed::Redone
                } else {
                    Landed::Shutdown
                }
            }
        }
    }
}

/// Resolves when the batch in flight has finished committing; never, when there is none.
pub(super) async fn finished(
    flight: &mut Option<InFlight>,
) -> Result<Result<(), IngestError>, tokio::task::JoinError> {
    match flight {
        Some(flight) => (&mut flight.job).await,
        None => std::future::pending().await,
    }
}

/// Writes a prepared batch in one transaction under the ingest lock.
async fn commit(
    pool: PgPool,
    schema: String,
    expected_oid: Option<i64>,
    mut writes: WriteBuffer,
    views: BTreeMap<String, AuthorView>,
    contacts: Option<ContactRows>,
) -> Result<(), IngestError> {
    let mut tx = pool.begin().await?;
    use_projection_for_writes(&mut tx, &schema).await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('truyenthong.ingest.' || $1))")
        .bind(&schema)
        .execute(&mut *tx)
        .await?;
    let oid: Option<i64> =
        sqlx::query_scalar("SELECT oid::int8 FROM pg_namespace WHERE nspname = $1")
            .bind(&schema)
            .fetch_optional(&mut *tx)
            .await?;
    if oid != expected_oid {
        return Err(IngestError::SchemaSwapped);
    }
    writes.flush(&mut tx).await?;
    write_positions(&mut tx, views.iter()).await?;
    if let Some(contacts) = contacts {
        write_contact_rows(&mut tx, contacts).await?;
    }
    tx.commit().await?;
    Ok(())
}
