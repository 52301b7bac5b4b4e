//! The single writer of the school's log, with group commit.
//!
//! Every command goes through one task that owns the school's state (folded from the log at
//! start) and the writer connection. It takes whatever commands are waiting — one, or hundreds
//! when many staff or a bulk import are recording at once — decides each against the state in
//! arrival order, appends all resulting events and their outbox entries in **one** transaction,
//! and only after that commit (an fsync of the WAL) answers each caller. So every OK is on
//! disk, and sixteen concurrent clients share one fsync instead of queueing for sixteen.
//!
//! One writer also makes seqs trivially gapless: the task is the only place that assigns them.
//! Recording never touches the network (invariant 2); the relay is woken after each commit.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::calendar::local_date;
use domain::plan::Plan;
use domain::{
    Actor, Command, DecisionContext, DomainError, Envelope, Event, SchoolRef, SchoolState, Warning,
    decide,
};
use sqlx::SqliteConnection;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tracing::{debug, error, info};
use uuid::Uuid;

use crate::store::{self, Store, StoreError};

/// Most commands folded into one transaction.
const MAX_BATCH: usize = 1024;

/// A command accepted and on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The seq of the (last) event the command became.
    pub seq: u64,
    pub event_id: Uuid,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The command broke a rule; nothing was stored.
    #[error(transparent)]
    Refused(#[from] DomainError),
    /// The log could not be written; nothing of this command was stored.
    #[error("the school's log could not be written: {0}")]
    Storage(String),
    /// The writer has stopped (the agent is shutting down).
    #[error("the school agent is shutting down")]
    Stopped,
}

struct Job {
    command: Command,
    actor: Actor,
    reply: oneshot::Sender<Result<Committed, WriteError>>,
}

/// Submits commands to the writer. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    plan: watch::Receiver<Option<Arc<Plan>>>,
    stale: Arc<std::sync::atomic::AtomicBool>,
    reload: Arc<Notify>,
}

impl Writer {
    /// Decides and stores one command; returns once its events are durable.
    pub async fn submit(&self, command: Command, actor: Actor) -> Result<Committed, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                command,
                actor,
                reply,
            })
            .await
            .map_err(|_| WriteError::Stopped)?;
        answer.await.map_err(|_| WriteError::Stopped)?
    }

    /// The plan as currently adopted and amended, if any.
    pub fn plan(&self) -> Option<Arc<Plan>> {
        self.plan.borrow().clone()
    }

    /// Says the log was appended to outside the writer (recovery from the district, while
    /// commands were refused): the writer re-reads the log before its next batch.
    pub fn log_changed(&self) {
        self.stale.store(true, std::sync::atomic::Ordering::SeqCst);
        self.reload.notify_one();
    }
}

/// Folds the log into state and starts the writer task. The task ends when every [`Writer`]
/// handle is dropped, after answering what it had already taken.
pub async fn start(
    store: &Store,
    school: SchoolRef,
    relay_wakeup: Arc<Notify>,
) -> Result<(Writer, tokio::task::JoinHandle<()>), StoreError> {
    let (state, head) = fold_log(store).await?;
    info!(school = %school, head_seq = head, activities = state.activity_count(), "school log loaded");
    let conn = store.writer_connection().await?;
    let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
    let (plan_tx, plan) = watch::channel(state.plan().cloned().map(Arc::new));
    let stale = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reload = Arc::new(Notify::new());
    let task = WriterTask {
        stale: stale.clone(),
        reload: reload.clone(),
        conn,
        state,
        head,
        school,
        relay_wakeup,
        plan_tx,
        store: store.clone(),
        needs_recovery: false,
    };
    let handle = tokio::spawn(task.run(rx));
    Ok((
        Writer {
            jobs,
            plan,
            stale,
            reload,
        },
        handle,
    ))
}

/// Folds the whole log into the school's state, checking that seqs run 1, 2, 3… without a gap
/// and that every event decodes. Returns the state and the head seq.
async fn fold_log(store: &Store) -> Result<(SchoolState, u64), StoreError> {
    let mut state = SchoolState::default();
    let mut head = 0u64;
    store
        .for_each_event(|stored| {
            let corrupt = |reason: String| StoreError::Corrupt {
                seq: i64::try_from(stored.seq).unwrap_or(i64::MAX),
                reason,
            };
            if stored.seq != head + 1 {
                return Err(corrupt(format!(
                    "expected seq {} next: the log has a gap",
                    head + 1
                )));
            }
            let event = stored
                .envelope
                .decode()
                .map_err(|e| corrupt(e.to_string()))?;
            state.apply(&event);
            head = stored.seq;
            Ok(())
        })
        .await?;
    Ok((state, head))
}

struct WriterTask {
    conn: SqliteConnection,
    state: SchoolState,
    head: u64,
    school: SchoolRef,
    relay_wakeup: Arc<Notify>,
    plan_tx: watch::Sender<Option<Arc<Plan>>>,
    store: Store,
    /// Set when an append failed and the state could not be re-read from the log: the
    /// in-memory state may hold events that are not on disk, so nothing is decided until
    /// a re-read succeeds.
    needs_recovery: bool,
    /// Set by [`Writer::log_changed`], which also wakes `reload`.
    stale: Arc<std::sync::atomic::AtomicBool>,
    reload: Arc<Notify>,
}

type Reply = (
    oneshot::Sender<Result<Committed, WriteError>>,
    Result<Committed, WriteError>,
);

impl WriterTask {
    async fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        let reload = self.reload.clone();
        loop {
            tokio::select! {
                taken = rx.recv_many(&mut batch, MAX_BATCH) => {
                    if taken == 0 {
                        break;
                    }
                    self.write_batch(std::mem::take(&mut batch), Utc::now())
                        .await;
                }
                () = reload.notified() => {
                    if self.stale.swap(false, std::sync::atomic::Ordering::SeqCst) {
                        self.needs_recovery = true;
                        self.recover().await;
                    }
                }
            }
        }
        info!(head_seq = self.head, "writer stopped");
    }

    async fn write_batch(&mut self, jobs: Vec<Job>, now: DateTime<Utc>) {
        if self.stale.swap(false, std::sync::atomic::Ordering::SeqCst) {
            self.needs_recovery = true;
        }
        if self.needs_recovery && !self.recover().await {
            for job in jobs {
                let _ = job.reply.send(Err(WriteError::Storage(
                    "the school's log cannot be read".into(),
                )));
            }
            return;
        }
        let ctx = DecisionContext {
            today: local_date(now),
        };
        let before = self.head;
        let mut rows: Vec<(Envelope, String)> = Vec::new();
        let mut replies: Vec<Reply> = Vec::with_capacity(jobs.len());
        let mut plan_changed = false;
        for job in jobs {
            let name = job.command.name();
            let outcome = decide(&self.state, job.command, ctx).map(|decision| {
                let mut last = None;
                for event in &decision.events {
                    plan_changed |= matches!(event, Event::PlanAdopted(_) | Event::PlanAmended(_));
                    self.state.apply(event);
                    self.head += 1;
                    let envelope = Envelope::seal(
                        &self.school,
                        self.head,
                        Uuid::now_v7(),
                        now,
                        job.actor.clone(),
                        event,
                    );
                    last = Some((self.head, envelope.id));
                    let body =
                        String::from_utf8(envelope.to_json()).expect("serde_json writes UTF-8");
                    rows.push((envelope, body));
                }
                let (seq, event_id) = last.unwrap_or((self.head, Uuid::nil()));
                Committed {
                    seq,
                    event_id,
                    warnings: decision.warnings,
                }
            });
            if let Err(refusal) = &outcome {
                debug!(command = name, %refusal, "command refused");
            }
            replies.push((job.reply, outcome.map_err(WriteError::from)));
        }
        if !rows.is_empty() {
            if let Err(e) = store::append(&mut self.conn, &rows).await {
                error!(error = %e, first_seq = before + 1, events = rows.len(), "append failed; nothing of this batch is stored");
                self.head = before;
                self.needs_recovery = true;
                self.recover().await;
                let message = e.to_string();
                for (reply, outcome) in replies {
                    let outcome = outcome.and_then(|_| Err(WriteError::Storage(message.clone())));
                    let _ = reply.send(outcome);
                }
                return;
            }
            debug!(events = rows.len(), head_seq = self.head, "batch committed");
            self.relay_wakeup.notify_one();
            if plan_changed {
                self.plan_tx
                    .send_replace(self.state.plan().cloned().map(Arc::new));
            }
        }
        for (reply, outcome) in replies {
            // A caller that went away (client cancelled) still had its command stored.
            let _ = reply.send(outcome);
        }
    }

    /// After a failed append, the in-memory state holds events that are not on disk: rebuild
    /// it from the log so the next decisions see only what is stored. Returns whether it could.
    async fn recover(&mut self) -> bool {
        let folded = fold_log(&self.store).await;
        let (state, head) = match folded {
            Ok(folded) => folded,
            Err(e) => {
                error!(error = %e, "cannot re-read the school's log; refusing commands until it can");
                return false;
            }
        };
        if let Err(e) = self.writer_reconnect().await {
            error!(error = %e, "cannot reopen the writer connection; refusing commands until it can");
            return false;
        }
        self.state = state;
        self.head = head;
        self.needs_recovery = false;
        self.plan_tx
            .send_replace(self.state.plan().cloned().map(Arc::new));
        info!(head_seq = head, "school state re-read from the log");
        true
    }

    async fn writer_reconnect(&mut self) -> Result<(), StoreError> {
        self.conn = self.store.writer_connection().await?;
        Ok(())
    }
}
