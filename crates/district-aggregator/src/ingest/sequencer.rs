//! The sequencer: places each message of a batch in its author's sequence — duplicate,
//! divergence, held (a gap, a school not yet enrolled, an author whose log diverged, a version
//! this build does not know), or due — applies what is due through [`crate::projection`],
//! then the held events that became due, all in the batch's one transaction; in careful mode
//! each event under a savepoint, so that a value PostgreSQL refuses dead-letters only its
//! event. The decision itself is pure ([`place`], [`taken`]); the rest is bookkeeping.

use std::collections::HashMap;

use sqlx::PgConnection;
use tracing::{debug, info, warn};

use super::bookkeeping::{
    ContactRows, DeadLetterFacts, DeadLetterKind, RecordedAtSeq, dead_letter, held_for, hold,
    load_views, recorded_at_seq, release_not_enrolled, set_held_reason, take_held,
    write_contact_rows, write_positions,
};
use super::{
    AuthorPosition, AuthorView, BatchReport, HeldReason, Ingest, IngestError, advance,
    is_data_error,
};
use crate::db::use_projection_for_writes;
use crate::decode::{Candidate, Decoded};
use crate::projection::write_buffer::WriteBuffer;
use crate::projection::{self, Outcome, ProjectionError};
use domain::Author;
use uuid::Uuid;

/// Where a message goes in its author's sequence, before anything is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Its seq is applied or held already: a duplicate or a divergence, as [`taken`] decides.
    Taken,
    Hold(HeldReason),
    /// Next in line: validated and applied (or refused).
    Due,
}

/// Places seq `seq` of an author whose view is `view`; `known_version` says whether this
/// build reads the event's type and schema version.
fn place(view: &AuthorView, seq: u64, known_version: bool) -> Place {
    if seq <= view.applied_seq || view.held.contains_key(&seq) {
        Place::Taken
    } else if !view.enrolled {
        Place::Hold(HeldReason::NotEnrolled)
    } else if view.diverged {
        // Built on the divergent history: the district must not apply it.
        Place::Hold(HeldReason::Diverged)
    } else if seq > view.applied_seq + 1 {
        Place::Hold(HeldReason::Gap)
    } else if !known_version {
        Place::Hold(HeldReason::UnknownVersion)
    } else {
        Place::Due
    }
}

/// What a message at a taken seq is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Taken {
    /// The same event again (a redelivery, a re-send): no effect.
    Duplicate,
    /// Another event at a seq the district holds `recorded` for.
    Divergence { recorded: Uuid },
}

/// Whether event `own` at a taken seq, where the projection records `recorded`, is the same
/// event. When nothing says which event took the seq, it cannot be called a divergence.
fn taken(own: Uuid, recorded: RecordedAtSeq) -> Taken {
    match recorded.event_id {
        Some(id) if id != own && !recorded.own_divergence => Taken::Divergence { recorded: id },
        _ => Taken::Duplicate,
    }
}

/// The state of one batch's transaction.
#[derive(Debug, Default)]
struct Run {
    views: HashMap<String, AuthorView>,
    report: BatchReport,
    /// Run each event under a savepoint, dead-lettering the ones PostgreSQL refuses.
    careful: bool,
    /// The projection rows of the events applied so far, not yet sent (see
    /// [`crate::projection::write_buffer`]); flushed after each event in careful mode.
    writes: WriteBuffer,
}

impl Ingest {
    /// Applies decoded messages in one transaction, switching to careful mode (a savepoint
    /// per event) when PostgreSQL refuses a value. Public so that a rebuild can feed the
    /// stream into a fresh schema the same way.
    pub async fn apply_decoded(&mut self, decoded: &[Decoded]) -> Result<BatchReport, IngestError> {
        match self.apply_once(decoded, false).await {
            Ok(report) => Ok(report),
            Err(e) if e.is_data_error() => {
                warn!(error = %e, "PostgreSQL refused a value; applying the batch event by event");
                self.forget_caches();
                let result = self.apply_once(decoded, true).await;
                if result.is_err() {
                    self.forget_caches();
                }
                result
            }
            Err(e) => {
                self.forget_caches();
                Err(e)
            }
        }
    }

    /// A transaction on the projection, holding the ingest's lock; the caches are dropped
    /// when a rebuild swapped the schema since the last one.
    async fn begin_locked(
        &mut self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, IngestError> {
        let mut tx = self.pool.begin().await?;
        use_projection_for_writes(&mut tx, &self.schema).await?;
        // One writer per projection at a time, should two aggregators share a database.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('truyenthong.ingest.' || $1))")
            .bind(&self.schema)
            .execute(&mut *tx)
            .await?;
        // Under the lock, no rebuild can swap the schema until this transaction ends.
        let oid: Option<i64> =
            sqlx::query_scalar("SELECT oid::int8 FROM pg_namespace WHERE nspname = $1")
                .bind(&self.schema)
                .fetch_optional(&mut *tx)
                .await?;
        if oid != self.schema_oid {
            if self.schema_oid.is_some() {
                info!(schema = %self.schema, "the projection schema was swapped (a rebuild); cached states dropped");
            }
            self.forget_caches();
            self.schema_oid = oid;
        }
        Ok(tx)
    }

    /// At start-up: the events held because their type or schema version was unknown, which
    /// this build reads, are applied in order — with what waited behind them — in one
    /// transaction. An aggregator upgraded after its agents thus applies what the older one
    /// held. Returns how many were released.
    pub async fn release_known_versions(&mut self) -> Result<u64, IngestError> {
        let mut tx = self.begin_locked().await?;
        let held = held_for(&mut tx, HeldReason::UnknownVersion).await?;
        let mut run = Run {
            careful: true,
            ..Run::default()
        };
        let mut drain = Vec::new();
        let mut released = 0;
        for received in held {
            let Decoded::Candidate(c) = self.decoder.decode(received) else {
                continue;
            };
            if self.decoder.unknown_version(&c.envelope).is_some() {
                continue;
            }
            set_held_reason(&mut tx, &c.author, c.seq, HeldReason::Gap).await?;
            let view = self.view(&mut tx, &mut run, &c.author).await?;
            view.held.insert(c.seq, HeldReason::Gap);
            released += 1;
            info!(author = %c.author, seq = c.seq, event_type = %c.event_type, "a held event of a version this aggregator now knows is released");
            drain.push(c.author);
        }
        if released == 0 {
            tx.commit().await?;
            return Ok(0);
        }
        drain.dedup();
        while let Some(author) = drain.pop() {
            self.drain(&mut tx, &mut run, &author, &mut drain).await?;
        }
        run.writes.flush(&mut tx).await?;
        write_positions(&mut tx, run.views.iter()).await?;
        tx.commit().await?;
        self.forget_caches();
        let mut report = run.report;
        report.positions = run
            .views
            .iter()
            .map(|(author, view)| AuthorPosition {
                author: author.clone(),
                applied_seq: view.applied_seq,
                gap: view.gap(),
            })
            .collect();
        self.after_commit(report);
        Ok(released)
    }

    async fn apply_once(
        &mut self,
        decoded: &[Decoded],
        careful: bool,
    ) -> Result<BatchReport, IngestError> {
        let mut tx = self.begin_locked().await?;
        let mut run = Run {
            careful,
            ..Run::default()
        };
        // The views of every author of the batch, in two queries rather than two each.
        let mut authors: Vec<&Author> = decoded
            .iter()
            .filter_map(|m| match m {
                Decoded::Candidate(c) => Some(&c.author),
                Decoded::Rejected(_) => None,
            })
            .collect();
        authors.sort_unstable_by_key(|a| a.as_str());
        authors.dedup();
        load_views(&mut tx, &mut run.views, &authors).await?;
        for message in decoded {
            run.report.messages += 1;
            match message {
                Decoded::Rejected(rejected) => {
                    dead_letter(&mut tx, &rejected.received, DeadLetterFacts::from(rejected))
                        .await?;
                    warn!(
                        subject = %rejected.received.subject,
                        stream_seq = rejected.received.stream_seq,
                        reason = %rejected.reason,
                        "message dead-lettered"
                    );
                    run.report.dead_lettered += 1;
                }
                Decoded::Candidate(candidate) => self.offer(&mut tx, &mut run, candidate).await?,
            }
        }
        run.writes.flush(&mut tx).await?;
        write_positions(&mut tx, run.views.iter()).await?;
        if self.record_contacts {
            write_contact_rows(&mut tx, ContactRows::of(decoded)).await?;
        }
        tx.commit().await?;
        for (author, view) in &run.views {
            let mut view = view.clone();
            view.dirty = false;
            self.views.insert(author.clone(), view);
        }
        let mut report = run.report;
        let mut positions: Vec<_> = run
            .views
            .iter()
            .map(|(author, view)| AuthorPosition {
                author: author.clone(),
                applied_seq: view.applied_seq,
                gap: view.gap(),
            })
            .collect();
        positions.sort();
        report.positions = positions;
        Ok(report)
    }

    /// The view of `author` in this transaction, loaded on first use.
    async fn view<'r>(
        &self,
        conn: &mut PgConnection,
        run: &'r mut Run,
        author: &Author,
    ) -> Result<&'r mut AuthorView, IngestError> {
        let key = author.as_str();
        if !run.views.contains_key(key) {
            load_views(conn, &mut run.views, &[author]).await?;
        }
        Ok(run.views.get_mut(key).expect("loaded above"))
    }

    /// Places one message in its author's sequence, then applies whatever became due.
    async fn offer(
        &mut self,
        conn: &mut PgConnection,
        run: &mut Run,
        candidate: &Candidate,
    ) -> Result<(), IngestError> {
        let author = &candidate.author;
        let seq = candidate.seq;
        let known_version = self.decoder.unknown_version(&candidate.envelope).is_none();
        let view = self.view(conn, run, author).await?;
        match place(view, seq, known_version) {
            Place::Taken => self.offer_taken(conn, run, candidate).await,
            Place::Hold(reason) => {
                let applied_seq = view.applied_seq;
                view.held.insert(seq, reason);
                hold(conn, candidate, reason).await?;
                debug!(%author, seq, applied_seq, reason = reason.code(), "held");
                if reason == HeldReason::UnknownVersion {
                    warn!(%author, seq, event_type = %candidate.event_type, schema = candidate.envelope.schema,
                        "held: a version this aggregator does not know; upgrade the aggregator");
                }
                run.report.held += 1;
                Ok(())
            }
            Place::Due => {
                let mut drain = vec![author.clone()];
                self.apply_due(conn, run, candidate, &mut drain).await?;
                while let Some(author) = drain.pop() {
                    self.drain(conn, run, &author, &mut drain).await?;
                }
                Ok(())
            }
        }
    }

    /// A message whose seq is applied or held already: a duplicate when it is the event the
    /// district has at that seq, a divergence otherwise.
    async fn offer_taken(
        &mut self,
        conn: &mut PgConnection,
        run: &mut Run,
        candidate: &Candidate,
    ) -> Result<(), IngestError> {
        let author = &candidate.author;
        let seq = candidate.seq;
        let view = self.view(conn, run, author).await?;
        let recorded = if seq == view.applied_seq && view.last_event_id.is_some() {
            RecordedAtSeq {
                event_id: view.last_event_id,
                own_divergence: false,
            }
        } else {
            // This batch's school rows may still be buffered.
            run.writes.flush(conn).await?;
            recorded_at_seq(conn, author, seq, candidate.event_id).await?
        };
        match taken(candidate.event_id, recorded) {
            Taken::Duplicate => {
                debug!(%author, seq, "duplicate");
                run.report.duplicates += 1;
            }
            Taken::Divergence { recorded } => {
                let reason = format!(
                    "divergence: {author} seq {seq} was already taken by event {recorded}, \
                     and came again as event {}: the school's log was restored from an old \
                     copy or re-created; not applied",
                    candidate.event_id
                );
                warn!(%author, seq, %recorded, event_id = %candidate.event_id, "divergence: a seq came again with another event");
                let facts =
                    DeadLetterFacts::of_candidate(DeadLetterKind::Divergence, candidate, reason);
                dead_letter(conn, &candidate.received, facts).await?;
                let view = self.view(conn, run, author).await?;
                view.diverged = true;
                run.report.dead_lettered += 1;
                run.report.divergences += 1;
            }
        }
        Ok(())
    }

    /// Applies the held events of `author` that are now next in line, in order.
    async fn drain(
        &mut self,
        conn: &mut PgConnection,
        run: &mut Run,
        author: &Author,
        drain: &mut Vec<Author>,
    ) -> Result<(), IngestError> {
        loop {
            let view = self.view(conn, run, author).await?;
            let next = view.applied_seq + 1;
            // Only what waits for its turn is released here; an event held as diverged or
            // of an unknown version stays, and so does everything behind it.
            if !view.enrolled || view.diverged || view.held.get(&next) != Some(&HeldReason::Gap) {
                return Ok(());
            }
            view.held.remove(&next);
            let (received, held_id) = take_held(conn, author, next).await?;
            debug!(%author, seq = next, "applying a held event");
            match self.decoder.decode(received) {
                Decoded::Candidate(c) if c.author == *author && c.seq == next => {
                    if self.decoder.unknown_version(&c.envelope).is_some() {
                        hold(conn, &c, HeldReason::UnknownVersion).await?;
                        let view = self.view(conn, run, author).await?;
                        view.held.insert(next, HeldReason::UnknownVersion);
                        debug!(%author, seq = next, "held: a version this aggregator does not know");
                        return Ok(());
                    }
                    self.apply_due(conn, run, &c, drain).await?;
                }
                other => {
                    // It was readable when held; if it no longer is (a newer build with
                    // stricter limits), it takes its place as a refused event.
                    let reason = match &other {
                        Decoded::Rejected(r) => r.reason.clone(),
                        Decoded::Candidate(c) => format!(
                            "held as {author} seq {next} but reads as {} seq {}",
                            c.author, c.seq
                        ),
                    };
                    let facts = DeadLetterFacts {
                        kind: DeadLetterKind::Refused,
                        author: Some(author.as_str().to_owned()),
                        seq: Some(next),
                        event_id: Some(held_id),
                        event_type: None,
                        reason,
                    };
                    dead_letter(conn, other.received(), facts).await?;
                    run.report.dead_lettered += 1;
                    let view = self.view(conn, run, author).await?;
                    advance(view, next, Some(held_id), false);
                    self.states.advanced(author.as_str(), next);
                }
            }
        }
    }

    /// Validates and applies (or dead-letters) the event that is next for its author, and
    /// advances the position past it.
    async fn apply_due(
        &mut self,
        conn: &mut PgConnection,
        run: &mut Run,
        candidate: &Candidate,
        drain: &mut Vec<Author>,
    ) -> Result<(), IngestError> {
        let author = candidate.author.clone();
        let seq = candidate.seq;
        let applied_seq = self.view(conn, run, &author).await?.applied_seq;
        debug_assert_eq!(seq, applied_seq + 1);
        if run.careful {
            sqlx::query("SAVEPOINT event").execute(&mut *conn).await?;
        }
        let mut result = projection::apply_event(
            conn,
            &mut self.states,
            &mut run.writes,
            &candidate.envelope,
            applied_seq,
        )
        .await;
        if run.careful && result.is_ok() {
            // Pin whatever PostgreSQL refuses to this event's savepoint.
            if let Err(e) = run.writes.flush(conn).await {
                result = Err(e.into());
            }
        }
        let outcome = match result {
            Ok(outcome) => {
                if run.careful {
                    sqlx::query("RELEASE SAVEPOINT event")
                        .execute(&mut *conn)
                        .await?;
                }
                outcome
            }
            Err(ProjectionError::Sql(e)) if run.careful && is_data_error(&e) => {
                sqlx::query("ROLLBACK TO SAVEPOINT event")
                    .execute(&mut *conn)
                    .await?;
                self.states.forget(author.as_str());
                Outcome::Refused(format!("the projection could not store it: {e}"))
            }
            Err(e) => return Err(e.into()),
        };
        match outcome {
            Outcome::Applied(effects) => {
                run.report.applied += 1;
                if let Some(update) = effects.activity {
                    run.report.activities.push(*update);
                }
                let view = self.view(conn, run, &author).await?;
                advance(view, seq, Some(candidate.event_id), true);
                self.states.advanced(author.as_str(), seq);
                if let Some(code) = effects.enrolled {
                    self.enrolled(conn, run, code, drain).await?;
                }
            }
            Outcome::Refused(reason) => {
                warn!(%author, seq, event_type = %candidate.event_type, %reason, "event refused and dead-lettered");
                let facts =
                    DeadLetterFacts::of_candidate(DeadLetterKind::Refused, candidate, reason);
                dead_letter(conn, &candidate.received, facts).await?;
                run.report.dead_lettered += 1;
                let view = self.view(conn, run, &author).await?;
                advance(view, seq, Some(candidate.event_id), false);
                self.states.advanced(author.as_str(), seq);
            }
        }
        Ok(())
    }

    /// A school was enrolled: what it sent meanwhile is no longer waiting for enrolment,
    /// only (possibly) for a gap, and is applied in order from its position.
    async fn enrolled(
        &mut self,
        conn: &mut PgConnection,
        run: &mut Run,
        code: String,
        drain: &mut Vec<Author>,
    ) -> Result<(), IngestError> {
        let Ok(code) = domain::Slug::parse("code", &code) else {
            return Ok(());
        };
        let author = Author::School(code);
        // The view may have been loaded before or after the enrolment's row was written;
        // either way the school is enrolled now and its held events wait only for their turn.
        let view = self.view(conn, run, &author).await?;
        view.enrolled = true;
        let mut released = 0;
        for reason in view.held.values_mut() {
            if *reason == HeldReason::NotEnrolled {
                *reason = HeldReason::Gap;
                released += 1;
            }
        }
        release_not_enrolled(conn, &author).await?;
        info!(school = %author, held = released, "school enrolled; applying what it sent meanwhile");
        drain.push(author);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn view(applied_seq: u64) -> AuthorView {
        AuthorView {
            applied_seq,
            applied_events: applied_seq,
            rejected_events: 0,
            last_event_id: None,
            enrolled: true,
            diverged: false,
            held: BTreeMap::new(),
            dirty: false,
        }
    }

    #[test]
    fn a_seq_at_or_below_the_position_or_held_is_taken() {
        let mut v = view(5);
        v.held.insert(8, HeldReason::Gap);
        assert_eq!(place(&v, 3, true), Place::Taken);
        assert_eq!(place(&v, 5, true), Place::Taken);
        assert_eq!(place(&v, 8, true), Place::Taken);
        assert_eq!(place(&v, 6, true), Place::Due);
        assert_eq!(place(&v, 7, true), Place::Hold(HeldReason::Gap));
    }

    #[test]
    fn a_taken_seq_with_the_same_id_is_a_duplicate_and_with_another_a_divergence() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let recorded = |event_id, own_divergence| RecordedAtSeq {
            event_id,
            own_divergence,
        };
        assert_eq!(taken(a, recorded(Some(a), false)), Taken::Duplicate);
        assert_eq!(
            taken(b, recorded(Some(a), false)),
            Taken::Divergence { recorded: a }
        );
        // The divergence itself, delivered again: recorded once.
        assert_eq!(taken(b, recorded(Some(a), true)), Taken::Duplicate);
        // Nothing says which event took the seq: not called a divergence.
        assert_eq!(taken(b, recorded(None, false)), Taken::Duplicate);
    }

    #[test]
    fn after_a_divergence_new_seqs_are_held_as_diverged() {
        let mut v = view(5);
        v.diverged = true;
        assert_eq!(place(&v, 6, true), Place::Hold(HeldReason::Diverged));
        assert_eq!(place(&v, 9, true), Place::Hold(HeldReason::Diverged));
        // Re-sent old seqs are still compared: duplicates or divergences.
        assert_eq!(place(&v, 4, true), Place::Taken);
    }

    #[test]
    fn an_unknown_version_is_held_when_due_and_what_follows_waits() {
        let mut v = view(5);
        assert_eq!(place(&v, 6, false), Place::Hold(HeldReason::UnknownVersion));
        v.held.insert(6, HeldReason::UnknownVersion);
        assert_eq!(place(&v, 7, true), Place::Hold(HeldReason::Gap));
        assert_eq!(v.gap(), None, "blocked, not missing: no re-send request");
    }

    #[test]
    fn an_unenrolled_school_is_held_whatever_else() {
        let mut v = view(0);
        v.enrolled = false;
        assert_eq!(place(&v, 1, false), Place::Hold(HeldReason::NotEnrolled));
    }
}
