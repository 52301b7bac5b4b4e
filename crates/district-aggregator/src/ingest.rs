//! The district stream into PostgreSQL, exactly once per `(author, seq)`, in order per author.
//!
//! A durable JetStream **pull** consumer with explicit acks feeds batches (up to
//! `batch_size` messages, or what arrived within `batch_wait` of the first). Each batch is
//! applied in **one** PostgreSQL transaction, message by message in stream order:
//!
//! * unreadable or misaddressed ([`crate::decode`]) → a dead letter; no position moves;
//! * `seq ≤ applied_seq` of its author → a duplicate (a redelivery, a re-send, a copy past
//!   JetStream's duplicate window): nothing happens;
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

use async_nats::jetstream::{self, AckKind, consumer::PullConsumer};
use chrono::Utc;
use futures::StreamExt;
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::broadcast;
use tokio::time::Instant;
use tracing::{debug, error, info, warn};
use uuid::Uuid;

use crate::config::{DistrictSettings, IngestSettings};
use crate::db::{from_i64, to_i64, use_projection, use_projection_for_writes};
use crate::decode::{Candidate, Decoded, Decoder, Headers, Received, Rejected};
use crate::projection::{self, ActivityUpdate, Outcome, ProjectionError, States};
use crate::state::IngestState;
use crate::write_buffer::WriteBuffer;
use domain::Author;
use pipeline::Landed;

pub(crate) mod pipeline;

/// How long a pull request lives on the server before the client renews it.
const PULL_EXPIRES: Duration = Duration::from_secs(30);

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
    Gap,
    NotEnrolled,
}

impl HeldReason {
    fn code(self) -> &'static str {
        match self {
            HeldReason::Gap => "gap",
            HeldReason::NotEnrolled => "not_enrolled",
        }
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
    last_event_id: Option<Uuid>,
    enrolled: bool,
    held: BTreeMap<u64, HeldReason>,
    /// The position changed and must be written back.
    dirty: bool,
}

impl AuthorView {
    fn gap(&self) -> Option<(u64, u64)> {
        let mut gap_held = self
            .held
            .iter()
            .filter(|(_, r)| **r == HeldReason::Gap)
            .map(|(s, _)| *s);
        let first = gap_held.next()?;
        Some((first, 1 + gap_held.count() as u64))
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
    /// [`crate::write_buffer`]); flushed after each event in careful mode.
    writes: WriteBuffer,
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

    /// Loads the gaps standing in the projection (held events from before a restart), so the
    /// replayer asks for them without waiting for new traffic.
    pub async fn load_gaps(&self) -> Result<(), IngestError> {
        let mut tx = self.pool.begin().await?;
        use_projection(&mut tx, &self.schema).await?;
        let rows = sqlx::query(
            "SELECT h.author, min(h.seq) AS first_held, count(*) AS held, coalesce(p.applied_seq, 0) AS applied_seq \
             FROM held h LEFT JOIN positions p ON p.author = h.author WHERE h.reason = 'gap' \
             GROUP BY h.author, p.applied_seq",
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        for row in rows {
            let author: String = row.try_get("author")?;
            let first_held: i64 = row.try_get("first_held")?;
            let held: i64 = row.try_get("held")?;
            let applied: i64 = row.try_get("applied_seq")?;
            self.state.gaps.update(
                &author,
                from_i64(applied),
                Some((from_i64(first_held), from_i64(held))),
            );
        }
        Ok(())
    }

    /// Consumes until `shutdown` fires. Never returns early: NATS and PostgreSQL failures
    /// are logged and retried with backoff.
    pub async fn run(mut self, mut shutdown: broadcast::Receiver<()>) {
        info!(province = %self.province, district = %self.district, consumer = %self.settings.consumer, "ingest started");
        if let Err(e) = self.load_gaps().await {
            warn!(error = %e, "cannot load standing gaps; they are found again as events arrive");
        }
        let mut failures: u32 = 0;
        // The pipelined batch whose commit is running, if any (see [`pipeline`]).
        let mut in_flight: Option<pipeline::InFlight> = None;
        'connect: loop {
            if let Some(flight) = in_flight.take()
                && matches!(self.land(flight, &mut shutdown).await, Landed::Shutdown)
            {
                break 'connect;
            }
            let consumer = match self.consumer().await {
                Ok(consumer) => consumer,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    warn!(error = %e, failures, "cannot set up the district consumer yet");
                    if self.pause(failures, &mut shutdown).await {
                        break 'connect;
                    }
                    continue 'connect;
                }
            };
            let mut messages = match consumer
                .stream()
                .max_messages_per_batch(self.settings.batch_size)
                .expires(PULL_EXPIRES)
                .heartbeat(self.settings.heartbeat())
                .messages()
                .await
            {
                Ok(messages) => messages,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    warn!(error = %e, failures, "cannot pull from the district consumer yet");
                    if self.pause(failures, &mut shutdown).await {
                        break 'connect;
                    }
                    continue 'connect;
                }
            };
            failures = 0;
            debug!("pulling from the district consumer");
            loop {
                let first = tokio::select! {
                    _ = shutdown.recv() => break 'connect,
                    // An idle stream must not keep the batch in flight unacknowledged.
                    result = pipeline::finished(&mut in_flight) => {
                        if let Some(flight) = in_flight.take()
                            && matches!(self.settle(flight, result, &mut shutdown).await, Landed::Shutdown)
                        {
                            break 'connect;
                        }
                        continue;
                    }
                    next = messages.next() => next,
                };
                let mut batch = Vec::with_capacity(self.settings.batch_size);
                let mut broken = false;
                match first {
                    None => {
                        warn!("the district consumer's message stream ended; pulling again");
                        if self.pause(1, &mut shutdown).await {
                            break 'connect;
                        }
                        continue 'connect;
                    }
                    Some(Err(e)) => {
                        warn!(error = %e, kind = ?e.kind(), "the district consumer's message stream failed; pulling again");
                        // Pause briefly so a persistent failure does not spin.
                        if self.pause(1, &mut shutdown).await {
                            break 'connect;
                        }
                        continue 'connect;
                    }
                    Some(Ok(message)) => batch.push(message),
                }
                let deadline = Instant::now() + self.settings.batch_wait();
                while batch.len() < self.settings.batch_size {
                    match tokio::time::timeout_at(deadline, messages.next()).await {
                        Err(_) => break,
                        Ok(Some(Ok(message))) => batch.push(message),
                        Ok(Some(Err(e))) => {
                            warn!(error = %e, kind = ?e.kind(), "the district consumer's message stream failed; pulling again after this batch");
                            broken = true;
                            break;
                        }
                        Ok(None) => {
                            broken = true;
                            break;
                        }
                    }
                }
                let (decoded, ackable) = self.decode_messages(batch);
                // Prepared while the previous batch commits; dropped if that commit fails.
                let mut prepared = if self.settings.pipeline {
                    self.prepare(&decoded)
                } else {
                    None
                };
                if let Some(flight) = in_flight.take() {
                    match self.land(flight, &mut shutdown).await {
                        Landed::Committed => {}
                        Landed::Redone => prepared = None,
                        Landed::Shutdown => break 'connect,
                    }
                }
                match prepared {
                    Some(prepared) => in_flight = Some(self.launch(prepared, decoded, ackable)),
                    None => {
                        if !self.commit_carefully(decoded, ackable, &mut shutdown).await {
                            break 'connect;
                        }
                    }
                }
                if broken {
                    continue 'connect;
                }
            }
        }
        if let Some(flight) = in_flight.take() {
            self.finish_on_shutdown(flight).await;
        }
        info!("ingest stopped");
    }

    /// Sleeps the backoff for `failures`; `true` when shutdown came first.
    async fn pause(&self, failures: u32, shutdown: &mut broadcast::Receiver<()>) -> bool {
        let delay = backoff(failures, self.settings.max_backoff());
        tokio::select! {
            _ = tokio::time::sleep(delay) => false,
            _ = shutdown.recv() => true,
        }
    }

    /// The district stream (ensured when configured) and our durable consumer on it, created
    /// or updated to the configured settings.
    pub async fn consumer(&self) -> Result<PullConsumer, Box<dyn std::error::Error + Send + Sync>> {
        let stream = if self.settings.ensure_stream {
            event_bus::stream::ensure_district_stream(
                &self.jetstream,
                &self.province,
                &self.district,
            )
            .await?
        } else {
            let name = event_bus::subjects::stream_name(&self.province, &self.district)?;
            self.jetstream.get_stream(name).await?
        };
        let config = jetstream::consumer::pull::Config {
            durable_name: Some(self.settings.consumer.clone()),
            description: Some(format!(
                "truyenthong district aggregator of {}/{} (projection {})",
                self.province, self.district, self.schema
            )),
            filter_subject: event_bus::subjects::district_events_filter(
                &self.province,
                &self.district,
            )?,
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: self.settings.ack_wait(),
            max_ack_pending: self.settings.max_ack_pending,
            // Redeliver for ever: a message is done only when a commit has placed it.
            max_deliver: -1,
            ..Default::default()
        };
        // Create, or update to these settings. A server that cannot update a consumer in
        // place refuses when the settings changed; the existing consumer still serves.
        match stream.create_consumer(config).await {
            Ok(consumer) => Ok(consumer),
            Err(create) => match stream.get_consumer(&self.settings.consumer).await {
                Ok(consumer) => {
                    warn!(consumer = %self.settings.consumer, error = %create, "using the existing consumer with its own settings");
                    Ok(consumer)
                }
                Err(_) => Err(create.into()),
            },
        }
    }

    /// The messages of a batch decoded, beside the ones to acknowledge (a message without
    /// JetStream metadata cannot be placed and is left alone).
    fn decode_messages(
        &self,
        messages: Vec<jetstream::Message>,
    ) -> (Vec<Decoded>, Vec<jetstream::Message>) {
        let mut received = Vec::with_capacity(messages.len());
        let mut ackable = Vec::with_capacity(messages.len());
        for mut message in messages {
            match Received::from_message(&mut message) {
                Ok(r) => {
                    received.push(r);
                    ackable.push(message);
                }
                Err(e) => {
                    warn!(subject = %message.subject, error = %e, "message without JetStream metadata ignored")
                }
            }
        }
        (self.decode_batch(received), ackable)
    }

    /// Applies and acknowledges one batch on the careful path, retrying until it commits.
    /// Returns `false` when shutdown came before the batch could be committed (it is then
    /// left unacknowledged, for redelivery).
    async fn commit_carefully(
        &mut self,
        decoded: Vec<Decoded>,
        ackable: Vec<jetstream::Message>,
        shutdown: &mut broadcast::Receiver<()>,
    ) -> bool {
        let first = decoded
            .first()
            .map(|d| d.received().stream_seq)
            .unwrap_or_default();
        let last = decoded
            .last()
            .map(|d| d.received().stream_seq)
            .unwrap_or_default();
        let mut failures: u32 = 0;
        let report = loop {
            match self.apply_decoded(&decoded).await {
                Ok(report) => break report,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    error!(error = %e, first_stream_seq = first, last_stream_seq = last, failures, "batch not committed; will retry");
                    self.state.update(|c| c.last_error = Some(e.to_string()));
                    // Keep JetStream from redelivering what we still hold.
                    for message in &ackable {
                        message.ack_with(AckKind::Progress).await.ok();
                    }
                    if self.pause(failures, shutdown).await {
                        return false;
                    }
                }
            }
        };
        self.acknowledge(&ackable).await;
        self.after_commit(report);
        true
    }

    /// Acknowledges the messages of a committed batch.
    async fn acknowledge(&self, ackable: &[jetstream::Message]) {
        for message in ackable {
            if let Err(e) = message.ack().await {
                // Committed already: a redelivery will be a duplicate.
                warn!(error = %e, "ack failed; the message will come again and be recognised");
            }
        }
    }

    /// Drops the cached decision states and positions; they are read again from the
    /// projection when next needed.
    fn forget_caches(&mut self) {
        self.states.clear();
        self.views.clear();
    }

    fn after_commit(&self, report: BatchReport) {
        for p in &report.positions {
            self.state.gaps.update(&p.author, p.applied_seq, p.gap);
        }
        debug!(
            messages = report.messages,
            applied = report.applied,
            duplicates = report.duplicates,
            held = report.held,
            dead_lettered = report.dead_lettered,
            "batch committed"
        );
        self.state.update(|c| {
            c.batches += 1;
            c.messages += report.messages;
            c.applied += report.applied;
            c.duplicates += report.duplicates;
            c.held += report.held;
            c.dead_lettered += report.dead_lettered;
            c.last_commit_at = Some(Utc::now());
            c.last_error = None;
        });
        for update in report.activities {
            // No receivers is fine: nobody is watching.
            let _ = self.activities.send(update);
        }
    }

    /// Decodes and checks the addressing of each message ([`crate::decode`]); done once per
    /// batch, whatever the retries of [`Ingest::apply_decoded`].
    pub fn decode_batch(&self, received: Vec<Received>) -> Vec<Decoded> {
        received
            .into_iter()
            .map(|r| self.decoder.decode(r))
            .collect()
    }

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
        load_views(&mut tx, &mut run, &authors).await?;
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
            load_views(conn, run, &[author]).await?;
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
            let row = sqlx::query(
                "DELETE FROM held WHERE author = $1 AND seq = $2 \
                 RETURNING subject, stream_seq, headers, body, received_at",
            )
            .bind(author.as_str())
            .bind(to_i64(next))
            .fetch_one(&mut *conn)
            .await?;
            let received = Received {
                stream_seq: from_i64(row.try_get("stream_seq")?),
                subject: row.try_get("subject")?,
                headers: Headers::Stored(row.try_get("headers")?),
                body: bytes::Bytes::from(row.try_get::<Vec<u8>, _>("body")?),
                received_at: row.try_get("received_at")?,
                outbox_head: None,
            };
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
        sqlx::query("UPDATE held SET reason = 'gap' WHERE author = $1 AND reason = 'not_enrolled'")
            .bind(author.as_str())
            .execute(&mut *conn)
            .await?;
        info!(school = %author, held = released, "school enrolled; applying what it sent meanwhile");
        drain.push(author);
        Ok(())
    }
}

/// Loads the views of `authors` (none already loaded) into `run`.
async fn load_views(
    conn: &mut PgConnection,
    run: &mut Run,
    authors: &[&Author],
) -> Result<(), IngestError> {
    if authors.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = authors.iter().map(|a| a.as_str()).collect();
    let rows = sqlx::query(
        "SELECT a.author, p.applied_seq, p.applied_events, p.rejected_events, p.last_event_id, \
                EXISTS (SELECT 1 FROM schools s WHERE s.code = a.author) AS enrolled \
         FROM unnest($1::text[]) AS a(author) LEFT JOIN positions p ON p.author = a.author",
    )
    .bind(&keys)
    .fetch_all(&mut *conn)
    .await?;
    let held_rows = sqlx::query("SELECT author, seq, reason FROM held WHERE author = ANY($1)")
        .bind(&keys)
        .fetch_all(&mut *conn)
        .await?;
    let mut held: HashMap<String, BTreeMap<u64, HeldReason>> = HashMap::new();
    for r in held_rows {
        let seq: i64 = r.try_get("seq")?;
        let reason: String = r.try_get("reason")?;
        let reason = if reason == "gap" {
            HeldReason::Gap
        } else {
            HeldReason::NotEnrolled
        };
        held.entry(r.try_get("author")?)
            .or_default()
            .insert(from_i64(seq), reason);
    }
    for row in rows {
        let author: String = row.try_get("author")?;
        let count = |column: &str| -> Result<u64, sqlx::Error> {
            Ok(from_i64(
                row.try_get::<Option<i64>, _>(column)?.unwrap_or(0),
            ))
        };
        let view = AuthorView {
            applied_seq: count("applied_seq")?,
            applied_events: count("applied_events")?,
            rejected_events: count("rejected_events")?,
            last_event_id: row.try_get("last_event_id")?,
            enrolled: author == Author::DISTRICT_TOKEN || row.try_get::<bool, _>("enrolled")?,
            held: held.remove(&author).unwrap_or_default(),
            dirty: false,
        };
        run.views.insert(author, view);
    }
    Ok(())
}

fn advance(view: &mut AuthorView, seq: u64, event_id: Option<Uuid>, applied: bool) {
    view.applied_seq = seq;
    if applied {
        view.applied_events += 1;
    } else {
        view.rejected_events += 1;
    }
    if event_id.is_some() {
        view.last_event_id = event_id;
    }
    view.dirty = true;
}

/// The backoff before retry number `failures` (1-based): 100 ms doubling up to `max`.
pub fn backoff(failures: u32, max: Duration) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    Duration::from_millis(100u64.saturating_mul(1 << exp)).min(max)
}

/// Writes back the positions that moved, in one statement.
async fn write_positions<'v>(
    conn: &mut PgConnection,
    views: impl Iterator<Item = (&'v String, &'v AuthorView)>,
) -> Result<(), sqlx::Error> {
    let mut dirty: Vec<(&String, &AuthorView)> = views.filter(|(_, v)| v.dirty).collect();
    // A stable lock order, should two writers ever meet here.
    dirty.sort_unstable_by_key(|(author, _)| *author);
    if dirty.is_empty() {
        return Ok(());
    }
    let authors: Vec<&str> = dirty.iter().map(|(a, _)| a.as_str()).collect();
    let column = |f: fn(&AuthorView) -> u64| -> Vec<i64> {
        dirty.iter().map(|(_, v)| to_i64(f(v))).collect()
    };
    let last_event_ids: Vec<Option<Uuid>> = dirty.iter().map(|(_, v)| v.last_event_id).collect();
    sqlx::query(
        "INSERT INTO positions (author, applied_seq, applied_events, rejected_events, last_event_id) \
         SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::uuid[]) \
         ON CONFLICT (author) DO UPDATE SET applied_seq = EXCLUDED.applied_seq, \
         applied_events = EXCLUDED.applied_events, rejected_events = EXCLUDED.rejected_events, \
         last_event_id = EXCLUDED.last_event_id",
    )
    .bind(authors)
    .bind(column(|v| v.applied_seq))
    .bind(column(|v| v.applied_events))
    .bind(column(|v| v.rejected_events))
    .bind(last_event_ids)
    .execute(conn)
    .await?;
    Ok(())
}

async fn hold(
    conn: &mut PgConnection,
    c: &Candidate,
    reason: HeldReason,
) -> Result<(), sqlx::Error> {
    let r = &c.received;
    sqlx::query(
        "INSERT INTO held (author, seq, reason, event_id, event_type, subject, stream_seq, headers, body, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (author, seq) DO NOTHING",
    )
    .bind(c.author.as_str())
    .bind(to_i64(c.seq))
    .bind(reason.code())
    .bind(c.event_id)
    .bind(&c.event_type)
    .bind(&r.subject)
    .bind(to_i64(r.stream_seq))
    .bind(r.headers.to_json())
    .bind(r.body.as_ref())
    .bind(r.received_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// What a dead letter says about the message beyond its bytes.
#[derive(Debug)]
struct DeadLetterFacts {
    author: Option<String>,
    seq: Option<u64>,
    event_id: Option<Uuid>,
    event_type: Option<String>,
    reason: String,
}

impl From<&Rejected> for DeadLetterFacts {
    fn from(r: &Rejected) -> Self {
        Self {
            author: r.author.as_ref().map(|a| a.as_str().to_owned()),
            seq: r.seq,
            event_id: r.event_id,
            event_type: r.event_type.clone(),
            reason: r.reason.clone(),
        }
    }
}

async fn dead_letter(
    conn: &mut PgConnection,
    r: &Received,
    facts: DeadLetterFacts,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO dead_letters (stream_seq, subject, author, seq, event_id, event_type, reason, raw, headers, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (stream_seq) DO NOTHING",
    )
    .bind(to_i64(r.stream_seq))
    .bind(&r.subject)
    .bind(facts.author)
    .bind(facts.seq.map(to_i64))
    .bind(facts.event_id)
    .bind(facts.event_type)
    // PostgreSQL text cannot hold NUL.
    .bind(facts.reason.replace('\0', "\u{FFFD}"))
    .bind(r.body.as_ref())
    .bind(r.headers.to_json())
    .bind(r.received_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Last contact and outbox backlog of each author heard from in a batch (its newest message
/// wins), one array per column.
#[derive(Debug, Default)]
struct ContactRows {
    authors: Vec<String>,
    contact_at: Vec<chrono::DateTime<Utc>>,
    seqs: Vec<Option<i64>>,
    heads: Vec<Option<i64>>,
    backlogs: Vec<Option<i64>>,
    stream_seqs: Vec<i64>,
}

impl ContactRows {
    fn of(decoded: &[Decoded]) -> Self {
        let mut latest: HashMap<&str, &Decoded> = HashMap::new();
        for message in decoded {
            if let Some(author) = message.author() {
                let entry = latest.entry(author.as_str()).or_insert(message);
                if message.received().stream_seq > entry.received().stream_seq {
                    *entry = message;
                }
            }
        }
        let mut latest: Vec<(&str, &Decoded)> = latest.into_iter().collect();
        // A stable lock order, should two writers ever meet here.
        latest.sort_unstable_by_key(|(author, _)| *author);
        let mut rows = ContactRows::default();
        for (author, message) in latest {
            let r = message.received();
            let seq = message.seq();
            let backlog = match (r.outbox_head, seq) {
                (Some(head), Some(seq)) => Some(head.saturating_sub(seq)),
                _ => None,
            };
            rows.authors.push(author.to_owned());
            rows.contact_at.push(r.received_at);
            rows.seqs.push(seq.map(to_i64));
            rows.heads.push(r.outbox_head.map(to_i64));
            rows.backlogs.push(backlog.map(to_i64));
            rows.stream_seqs.push(to_i64(r.stream_seq));
        }
        rows
    }
}

/// Records last contact and backlog (an older redelivery never moves them back), in one
/// statement.
async fn write_contact_rows(conn: &mut PgConnection, rows: ContactRows) -> Result<(), sqlx::Error> {
    if rows.authors.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO ops.contacts (author, last_contact_at, last_seq, outbox_head, backlog, last_stream_seq) \
         SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::int8[], $4::int8[], $5::int8[], $6::int8[]) \
         ON CONFLICT (author) DO UPDATE SET \
         last_contact_at = EXCLUDED.last_contact_at, last_seq = EXCLUDED.last_seq, outbox_head = EXCLUDED.outbox_head, \
         backlog = EXCLUDED.backlog, last_stream_seq = EXCLUDED.last_stream_seq \
         WHERE ops.contacts.last_stream_seq < EXCLUDED.last_stream_seq",
    )
    .bind(rows.authors)
    .bind(rows.contact_at)
    .bind(rows.seqs)
    .bind(rows.heads)
    .bind(rows.backlogs)
    .bind(rows.stream_seqs)
    .execute(&mut *conn)
    .await?;
    Ok(())
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
            held: BTreeMap::new(),
            dirty: false,
        };
        assert_eq!(view.gap(), None);
        view.held.insert(14, HeldReason::Gap);
        view.held.insert(12, HeldReason::Gap);
        assert_eq!(view.gap(), Some((12, 2)));
    }
}
