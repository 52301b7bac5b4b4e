//! The sequencer: places each message of a batch in its author's sequence — duplicate, held
//! (a gap, or a school not yet enrolled), or due — applies what is due through
//! [`crate::projection`], then the held events that became due, all in the batch's one
//! transaction; in careful mode each event under a savepoint, so that a value PostgreSQL
//! refuses dead-letters only its event.

use std::collections::HashMap;

use sqlx::PgConnection;
use tracing::{debug, info, warn};

use super::bookkeeping::{
    ContactRows, DeadLetterFacts, dead_letter, hold, load_views, release_not_enrolled, take_held,
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

    async fn apply_once(
        &mut self,
        decoded: &[Decoded],
        careful: bool,
    ) -> Result<BatchReport, IngestError> {
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
        let view = self.view(conn, run, author).await?;
        if seq <= view.applied_seq || view.held.contains_key(&seq) {
            debug!(%author, seq, applied_seq = view.applied_seq, "duplicate");
            run.report.duplicates += 1;
            return Ok(());
        }
        if !view.enrolled {
            hold(conn, candidate, HeldReason::NotEnrolled).await?;
            view.held.insert(seq, HeldReason::NotEnrolled);
            debug!(%author, seq, "held: school not enrolled");
            run.report.held += 1;
            return Ok(());
        }
        if seq > view.applied_seq + 1 {
            hold(conn, candidate, HeldReason::Gap).await?;
            view.held.insert(seq, HeldReason::Gap);
            debug!(%author, seq, applied_seq = view.applied_seq, "held: gap");
            run.report.held += 1;
            return Ok(());
        }
        let mut drain = vec![author.clone()];
        self.apply_due(conn, run, candidate, &mut drain).await?;
        while let Some(author) = drain.pop() {
            self.drain(conn, run, &author, &mut drain).await?;
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
            if !view.enrolled || !view.held.contains_key(&next) {
                return Ok(());
            }
            view.held.remove(&next);
            let received = take_held(conn, author, next).await?;
            debug!(%author, seq = next, "applying a held event");
            match self.decoder.decode(received) {
                Decoded::Candidate(c) if c.author == *author && c.seq == next => {
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
                        author: Some(author.as_str().to_owned()),
                        seq: Some(next),
                        event_id: None,
                        event_type: None,
                        reason,
                    };
                    dead_letter(conn, other.received(), facts).await?;
                    run.report.dead_lettered += 1;
                    let view = self.view(conn, run, author).await?;
                    advance(view, next, None, false);
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
                let facts = DeadLetterFacts {
                    author: Some(author.as_str().to_owned()),
                    seq: Some(seq),
                    event_id: Some(candidate.event_id),
                    event_type: Some(candidate.event_type.clone()),
                    reason,
                };
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
        for reason in view.held.values_mut() {
            *reason = HeldReason::Gap;
        }
        let released = view.held.len();
        release_not_enrolled(conn, &author).await?;
        info!(school = %author, held = released, "school enrolled; applying what it sent meanwhile");
        drain.push(author);
        Ok(())
    }
}
