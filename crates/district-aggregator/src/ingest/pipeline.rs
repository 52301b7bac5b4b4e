//! The pipelined path of the ingest: the next batch is prepared in memory while the previous
//! one commits, so the aggregator's CPU and PostgreSQL's work overlap instead of taking turns.
//!
//! A batch takes this path when everything it needs is in memory: every message is a school
//! event (or a duplicate) of an enrolled author whose position the ingest knows from an earlier
//! batch, with nothing held, whose seq is next, and whose decision state is cached as of that
//! seq; and every event is valid and of a version this build knows. That is the steady state
//! of a district. A duplicate is recognised here only when it is the event at the author's
//! position (same seq, same id); any other message at a taken seq may be a divergence, which
//! needs the database. Anything else — a gap, a dead letter, a refused event, a district
//! office event, an author not seen since start, a diverged author, a possible divergence —
//! sends the batch down the careful path ([`Ingest::apply_decoded`]), after the batch
//! in flight has landed; the states it had moved in memory are dropped, the others kept.
//!
//! **Speculation.** The batch is prepared against the positions and states as the batch in
//! flight *will* leave them. If that commit fails, nothing prepared on top of it is used: the
//! caches are dropped, the failed batch is applied again on the careful path (with its
//! retries), and then the next one. Acknowledgements still follow commits, batch by batch, in
//! order; at most one commit is in flight.
//!
//! **Parts.** A prepared batch is split by author into `parallel_commits` parts of about
//! equal size, committed at the same time in their own transactions, so that PostgreSQL works
//! on more than one core. Parts share no author, and every decision (sequence, duplicates,
//! decision states, positions) is per author, so no part depends on another: each commits or
//! fails alone. A committed part is acknowledged; a failed one is applied again on the careful
//! path (its events are then new; the committed parts' are not touched).
//!
//! **Commit.** Each part in its own transaction, holding the ingest's advisory lock *shared*
//! (the parts of a batch run together; a rebuild's swap takes it exclusively and waits for
//! them). It refuses to write when the projection schema is no longer the one the caches
//! describe (a rebuild swapped it): the part is then applied again on the careful path, which
//! reads the new schema's positions. Positions and projection rows commit together, as always.

use std::collections::BTreeMap;

use async_nats::jetstream;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::bookkeeping::{ContactRows, write_contact_rows, write_positions};
use super::{AuthorPosition, AuthorView, BatchReport, Ingest, IngestError, advance};
use crate::db::use_projection_for_writes;
use crate::decode::Decoded;
use crate::projection::write_buffer::WriteBuffer;
use crate::projection::{self, Outcome};

/// A batch applied in memory, ready to commit: its parts, and which part each message of the
/// batch belongs to.
pub(crate) struct Prepared {
    parts: Vec<PreparedPart>,
    part_of: Vec<usize>,
}

/// The messages of a few authors, applied in memory.
struct PreparedPart {
    writes: WriteBuffer,
    /// The authors whose position moved, as they now stand.
    views: BTreeMap<String, AuthorView>,
    report: BatchReport,
}

/// A batch whose parts commit in the background.
pub(crate) struct InFlight {
    /// Resolves to each part's outcome, in the order of `parts`.
    job: JoinHandle<Vec<Result<(), IngestError>>>,
    parts: Vec<PartInFlight>,
}

impl InFlight {
    /// The messages of the batch.
    pub(crate) fn messages(&self) -> usize {
        self.parts.iter().map(|p| p.decoded.len()).sum()
    }
}

struct PartInFlight {
    decoded: Vec<Decoded>,
    ackable: Vec<jetstream::Message>,
    report: BatchReport,
}

/// How the batch in flight ended.
pub(super) enum Landed {
    /// Committed and acknowledged.
    Committed,
    /// A part's commit failed; it was applied again on the careful path (the caches are
    /// dropped).
    Redone,
    /// Shutdown came while it was being applied again; it stays unacknowledged.
    Shutdown,
}

impl Ingest {
    /// Applies `decoded` in memory against the cached positions and states, as
    /// [`Ingest::apply_decoded`] would, split into parts by author; `None` when a message needs
    /// the database. Then the states this attempt moved are dropped (they are restored from the
    /// projection when next needed); the other authors' stay.
    pub(crate) fn prepare(&mut self, decoded: &[Decoded]) -> Option<Prepared> {
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
        let authors: Vec<Option<&str>> = decoded
            .iter()
            .map(|m| m.author().map(|a| a.as_str()))
            .collect();
        let part_of = split_by_author(&authors, self.settings.parallel_commits)
            .ok_or("a message without an author")?;
        let parts_count = part_of.iter().max().map_or(0, |p| p + 1);
        let mut parts = Vec::with_capacity(parts_count);
        for part in 0..parts_count {
            let members = decoded
                .iter()
                .zip(&part_of)
                .filter(|(_, p)| **p == part)
                .map(|(d, _)| d);
            parts.push(self.prepare_part(members, moved)?);
        }
        // The next batch is prepared on top of this one.
        for part in &parts {
            for (author, view) in &part.views {
                self.views.insert(author.clone(), view.clone());
            }
        }
        Ok(Prepared { parts, part_of })
    }

    /// One part: messages of authors no other part has, in stream order.
    fn prepare_part<'d>(
        &mut self,
        decoded: impl Iterator<Item = &'d Decoded>,
        moved: &mut Vec<String>,
    ) -> Result<PreparedPart, &'static str> {
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
            if view.diverged {
                return Err("an author whose log diverged");
            }
            if candidate.seq <= view.applied_seq {
                if candidate.seq == view.applied_seq
                    && view.last_event_id == Some(candidate.event_id)
                {
                    report.duplicates += 1;
                    continue;
                }
                return Err("a taken seq to compare with the database (a divergence?)");
            }
            if candidate.seq != view.applied_seq + 1 {
                return Err("a gap");
            }
            if self.decoder.unknown_version(&candidate.envelope).is_some() {
                return Err("a version this aggregator does not know");
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
        Ok(PreparedPart {
            writes,
            views,
            report,
        })
    }

    /// Starts committing the parts of `prepared` (the application of `decoded`) in the
    /// background, each in its own transaction.
    pub(crate) fn launch(
        &self,
        prepared: Prepared,
        decoded: Vec<Decoded>,
        ackable: Vec<jetstream::Message>,
    ) -> InFlight {
        let mut split: Vec<(Vec<Decoded>, Vec<jetstream::Message>)> =
            prepared.parts.iter().map(|_| Default::default()).collect();
        // A replay (the rebuild) has nothing to acknowledge: `ackable` is then empty.
        let mut acks = ackable.into_iter().fuse();
        for (message, part) in decoded.into_iter().zip(&prepared.part_of) {
            split[*part].0.push(message);
            if let Some(ack) = acks.next() {
                split[*part].1.push(ack);
            }
        }
        let mut commits = Vec::with_capacity(split.len());
        let mut parts = Vec::with_capacity(split.len());
        for (part, (decoded, ackable)) in prepared.parts.into_iter().zip(split) {
            let contacts = self.record_contacts.then(|| ContactRows::of(&decoded));
            commits.push(tokio::spawn(commit(
                self.pool.clone(),
                self.schema.clone(),
                self.schema_oid,
                part.writes,
                part.views,
                contacts,
            )));
            parts.push(PartInFlight {
                decoded,
                ackable,
                report: part.report,
            });
        }
        let job = tokio::spawn(async move {
            let mut outcomes = Vec::with_capacity(commits.len());
            for commit in commits {
                outcomes.push(match commit.await {
                    Ok(outcome) => outcome,
                    Err(join) => Err(IngestError::CommitTask(join.to_string())),
                });
            }
            outcomes
        });
        InFlight { job, parts }
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

    /// At shutdown: acknowledges the parts in flight whose commits succeed, and leaves the
    /// others for redelivery (no retries once shutdown has begun).
    pub(super) async fn finish_on_shutdown(&mut self, mut flight: InFlight) {
        let result = (&mut flight.job).await;
        for (part, error) in self.keep_committed(flight.parts, result).await {
            warn!(%error, messages = part.decoded.len(), "a pipelined commit failed at shutdown; its messages will be redelivered");
        }
    }

    /// For a replay (the rebuild, which acknowledges nothing and retries its own way): waits
    /// for the batch in flight and returns the messages of the parts that failed, in stream
    /// order per author, for the caller to apply again on the careful path. The caches are
    /// dropped when a part failed.
    pub(crate) async fn land_replay(&mut self, mut flight: InFlight) -> Vec<Decoded> {
        let result = (&mut flight.job).await;
        let mut failed = Vec::new();
        for (part, error) in self.keep_committed(flight.parts, result).await {
            warn!(%error, messages = part.decoded.len(), "pipelined commit of the replay failed; applying its messages again");
            failed.extend(part.decoded);
        }
        if !failed.is_empty() {
            self.forget_caches();
        }
        failed
    }

    /// [`Ingest::land`] once the commits' `result` is known: the committed parts are
    /// acknowledged, the failed ones applied again together on the careful path.
    pub(super) async fn settle(
        &mut self,
        flight: InFlight,
        result: Result<Vec<Result<(), IngestError>>, tokio::task::JoinError>,
        shutdown: &mut broadcast::Receiver<()>,
    ) -> Landed {
        let mut redo: (Vec<Decoded>, Vec<jetstream::Message>) = Default::default();
        for (part, error) in self.keep_committed(flight.parts, result).await {
            warn!(%error, messages = part.decoded.len(), "pipelined commit failed; applying its messages again on the careful path");
            redo.0.extend(part.decoded);
            redo.1.extend(part.ackable);
        }
        if redo.0.is_empty() {
            self.state.update(|c| c.pipelined += 1);
            return Landed::Committed;
        }
        self.state.update(|c| c.redone += 1);
        self.forget_caches();
        if self.commit_carefully(redo.0, redo.1, shutdown).await {
            Landed::Redone
        } else {
            Landed::Shutdown
        }
    }

    /// Acknowledges and reports the parts whose commit succeeded; returns the others with
    /// why they failed (all of them when the commit task itself failed: whether they
    /// committed is then unknown, and applying them again is a no-op if they had).
    async fn keep_committed(
        &mut self,
        parts: Vec<PartInFlight>,
        result: Result<Vec<Result<(), IngestError>>, tokio::task::JoinError>,
    ) -> Vec<(PartInFlight, IngestError)> {
        let count = parts.len();
        let outcomes = match result {
            Ok(outcomes) if outcomes.len() == count => outcomes,
            Ok(_) => failed_all(count, "the commit task lost a part".into()),
            Err(join) => failed_all(count, join.to_string()),
        };
        let mut failed = Vec::new();
        for (part, outcome) in parts.into_iter().zip(outcomes) {
            match outcome {
                Ok(()) => {
                    self.acknowledge(&part.ackable).await;
                    self.after_commit(part.report);
                }
                Err(error) => failed.push((part, error)),
            }
        }
        failed
    }
}

/// Each of `parts` outcomes failed with `reason`.
fn failed_all(parts: usize, reason: String) -> Vec<Result<(), IngestError>> {
    (0..parts)
        .map(|_| Err(IngestError::CommitTask(reason.clone())))
        .collect()
}

/// Which part each message goes to, given the messages' authors: at most `parts` parts,
/// every author in one, authors placed largest first on the part with the fewest messages so
/// far (so with fewer authors than parts, one part per author). `None` when a message has no
/// author: it is dead-lettered, on the careful path.
fn split_by_author(authors: &[Option<&str>], parts: usize) -> Option<Vec<usize>> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for author in authors {
        *counts.entry((*author)?).or_default() += 1;
    }
    let mut by_size: Vec<(&str, usize)> = counts.into_iter().collect();
    // Largest first; ties by name, so a batch always splits the same way.
    by_size.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut load = vec![0_usize; parts.clamp(1, by_size.len().max(1))];
    let mut part_of_author: BTreeMap<&str, usize> = BTreeMap::new();
    for (author, count) in by_size {
        let lightest = (0..load.len()).min_by_key(|i| (load[*i], *i)).unwrap_or(0);
        load[lightest] += count;
        part_of_author.insert(author, lightest);
    }
    authors
        .iter()
        .map(|a| a.and_then(|a| part_of_author.get(a).copied()))
        .collect()
}

/// Resolves when the batch in flight has finished committing; never, when there is none.
pub(super) async fn finished(
    flight: &mut Option<InFlight>,
) -> Result<Vec<Result<(), IngestError>>, tokio::task::JoinError> {
    match flight {
        Some(flight) => (&mut flight.job).await,
        None => std::future::pending().await,
    }
}

/// Writes a prepared part in one transaction, holding the ingest lock shared with the other
/// parts of its batch.
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
    sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtext('truyenthong.ingest.' || $1))")
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

#[cfg(test)]
mod tests {
    use super::split_by_author;

    #[test]
    fn authors_are_split_evenly_and_never_across_parts() {
        // a: 4 messages, b: 3, c: 2, d: 1, interleaved.
        let authors = ["a", "b", "a", "c", "b", "a", "d", "c", "b", "a"].map(Some);
        let part_of = split_by_author(&authors, 2).expect("every message has an author");
        // Largest first onto the lightest part: a→0, b→1, c→1, d→0: 5 and 5.
        assert_eq!(part_of, vec![0, 1, 0, 1, 1, 0, 0, 1, 1, 0]);
        for (i, author) in authors.iter().enumerate() {
            for (j, other) in authors.iter().enumerate() {
                if author == other {
                    assert_eq!(part_of[i], part_of[j], "{author:?} split across parts");
                }
            }
        }
    }

    #[test]
    fn fewer_authors_than_parts_make_fewer_parts() {
        let authors = ["a", "a", "b"].map(Some);
        assert_eq!(split_by_author(&authors, 4), Some(vec![0, 0, 1]));
        assert_eq!(split_by_author(&authors, 1), Some(vec![0, 0, 0]));
        assert_eq!(split_by_author(&[], 2), Some(vec![]));
    }

    #[test]
    fn a_message_without_an_author_refuses_the_split() {
        assert_eq!(split_by_author(&[Some("a"), None], 2), None);
    }
}
