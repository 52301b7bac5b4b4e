//! The school's log on disk: one SQLite file in WAL mode holding the events and the outbox.
//!
//! Two kinds of connection, on purpose:
//! - one **writer** connection, owned by [`crate::writer`], with `synchronous = FULL`: in WAL
//!   mode that fsyncs the WAL at every commit, so an OK to a command survives a power cut,
//!   not only a process kill;
//! - a small **pool** for everything else (reads for gRPC and the relay, and the relay's
//!   "mark sent"), with `synchronous = NORMAL`: losing a "sent" mark in a power cut only means
//!   the event is published again, and both JetStream (`Nats-Msg-Id`) and the aggregator
//!   (`(school, seq)`) drop the duplicate.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::Envelope;
use futures::TryStreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};

/// Errors of the log. Everything here is "storage unavailable" to a caller: the disk, the file
/// or a corrupt row — none of them is the caller's input.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the school's log at {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    /// The log file is not there. Never created silently: an empty log under the school's
    /// name would re-use seqs the district has already applied.
    #[error(
        "the school's log {path} does not exist; if this is the school's first start, create it with `school-agent init`; otherwise restore the log from its backup (a new empty log would re-use seqs the district already has)"
    )]
    Missing { path: String },
    #[error("the school's log {path} already exists; `school-agent init` creates a new log only")]
    Exists { path: String },
    #[error("cannot migrate the school's log: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the school's log failed: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("event seq {seq} in the log is unreadable: {reason}")]
    Corrupt { seq: i64, reason: String },
}

/// A stored event: its seq and the exact JSON body that is published.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: u64,
    pub envelope: Envelope,
    pub body: String,
}

/// An event as the relay publishes it: the stored JSON body and the fields its headers need.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub seq: u64,
    pub id: uuid::Uuid,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub body: String,
}

/// Delivery figures for `GetStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxStatus {
    pub head_seq: u64,
    pub last_published_seq: u64,
    pub backlog: u64,
    pub last_publish_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// The log: a read/write pool plus the options to open the single writer connection.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    writer_options: SqliteConnectOptions,
}

fn options(path: &Path, create: bool) -> Result<SqliteConnectOptions, StoreError> {
    let url = format!("sqlite://{}", path.display());
    let opts = SqliteConnectOptions::from_str(&url).map_err(|source| StoreError::Open {
        path: path.display().to_string(),
        source,
    })?;
    Ok(opts
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true))
}

impl Store {
    /// Opens and migrates the existing log at `path`; a missing file is an error
    /// ([`StoreError::Missing`]), never a new empty log.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing {
                path: path.display().to_string(),
            });
        }
        Self::connect(path, false).await
    }

    /// Creates a new, empty log at `path` (and its folder); refuses an existing file.
    pub async fn create(path: &Path) -> Result<Self, StoreError> {
        if path.exists() {
            return Err(StoreError::Exists {
                path: path.display().to_string(),
            });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                source: sqlx::Error::Io(e),
            })?;
        }
        Self::connect(path, true).await
    }

    async fn connect(path: &Path, create: bool) -> Result<Self, StoreError> {
        let base = options(path, create)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(base.clone().synchronous(SqliteSynchronous::Normal))
            .await
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self {
            pool,
            writer_options: base.synchronous(SqliteSynchronous::Full),
        })
    }

    /// Opens the one connection that appends events (see the module doc for why it is apart).
    pub async fn writer_connection(&self) -> Result<SqliteConnection, StoreError> {
        Ok(SqliteConnection::connect_with(&self.writer_options).await?)
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Calls `each` on every event in seq order, streaming rather than loading the whole log.
    pub async fn for_each_event(
        &self,
        mut each: impl FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut rows =
            sqlx::query("SELECT seq, envelope FROM events ORDER BY seq").fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            each(stored_event(&row)?)?;
        }
        Ok(())
    }

    /// Up to `limit` events from `from_seq` on.
    pub async fn events_from(
        &self,
        from_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.events_between(from_seq, u64::MAX, limit).await
    }

    /// Up to `limit` events with `from_seq <= seq <= to_seq`.
    pub async fn events_between(
        &self,
        from_seq: u64,
        to_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, envelope FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?",
        )
        .bind(to_i64(from_seq))
        .bind(to_i64(to_seq))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_event).collect()
    }

    /// The oldest unsent outbox entries, in seq order, read for publishing: the relay needs
    /// the body as stored plus a few header fields, not a decoded envelope (decoding every
    /// body was half the relay's time).
    pub async fn unsent(&self, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.seq, e.id, e.type, e.envelope FROM outbox o JOIN events e ON e.seq = o.seq \
             WHERE o.sent_at IS NULL ORDER BY o.seq LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(outbox_entry).collect()
    }

    /// Events `from_seq..=to_seq` (at most `limit`) read for publishing, like [`Store::unsent`].
    pub async fn outgoing_between(
        &self,
        from_seq: u64,
        to_seq: u64,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = sqlx::query("SELECT seq, id, type, envelope FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?")
            .bind(to_i64(from_seq))
            .bind(to_i64(to_seq))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(outbox_entry).collect()
    }

    /// Marks outbox entries `first..=last` sent at `at`: JetStream has acknowledged them.
    pub async fn mark_sent(
        &self,
        first: u64,
        last: u64,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = at.to_rfc3339();
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE seq >= ? AND seq <= ? AND sent_at IS NULL")
            .bind(&at)
            .bind(to_i64(first))
            .bind(to_i64(last))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE relay_state SET last_publish_at = ?, last_error = NULL WHERE id = 1")
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records why the last publish attempt failed, and counts the attempt on the entries.
    pub async fn record_failure(
        &self,
        first: u64,
        last: u64,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE outbox SET attempts = attempts + 1 WHERE seq >= ? AND seq <= ? AND sent_at IS NULL")
            .bind(to_i64(first))
            .bind(to_i64(last))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE relay_state SET last_error = ?, last_error_at = ? WHERE id = 1")
            .bind(error)
            .bind(at.to_rfc3339())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest seq in the log (0 when empty).
    pub async fn head_seq(&self) -> Result<u64, StoreError> {
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(from_i64(head))
    }

    /// The newest event's seq and id (`(0, None)` for an empty log).
    pub async fn head(&self) -> Result<(u64, Option<uuid::Uuid>), StoreError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, id FROM events ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        match row {
            None => Ok((0, None)),
            Some((seq, id)) => {
                let id = uuid::Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt {
                    seq,
                    reason: format!("event id {id:?}: {e}"),
                })?;
                Ok((from_i64(seq), Some(id)))
            }
        }
    }

    /// Head of the log, delivery position and backlog.
    pub async fn outbox_status(&self) -> Result<OutboxStatus, StoreError> {
        let row = sqlx::query(
            "SELECT \
               (SELECT COALESCE(MAX(seq), 0) FROM events) AS head, \
               (SELECT MIN(seq) FROM outbox WHERE sent_at IS NULL) AS first_unsent, \
               (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL) AS backlog, \
               last_publish_at, last_error \
             FROM relay_state WHERE id = 1",
        )
        .fetch_one(&self.pool)
        .await?;
        let head: i64 = row.try_get("head")?;
        let first_unsent: Option<i64> = row.try_get("first_unsent")?;
        let backlog: i64 = row.try_get("backlog")?;
        let last_publish_at: Option<String> = row.try_get("last_publish_at")?;
        let last_error: Option<String> = row.try_get("last_error")?;
        let head = from_i64(head);
        Ok(OutboxStatus {
            head_seq: head,
            last_published_seq: first_unsent
                .map(|s| from_i64(s).saturating_sub(1))
                .unwrap_or(head),
            backlog: from_i64(backlog),
            last_publish_at: last_publish_at
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc)),
            last_error,
        })
    }

    /// Keeps `receipt` as the district's latest word on this school's log, unless a receipt
    /// the district wrote later is already kept (answers can cross on a reconnect).
    pub async fn save_receipt(
        &self,
        receipt: &event_bus::receipts::Receipt,
        received_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let refused = serde_json::to_string(&receipt.refused).unwrap_or_else(|_| "[]".into());
        let held = serde_json::to_string(&receipt.held).unwrap_or_else(|_| "[]".into());
        let district = receipt
            .district
            .as_ref()
            .and_then(|d| serde_json::to_string(d).ok());
        sqlx::query(
            "INSERT INTO district_receipt \
               (id, applied_seq, refused_json, held_json, answered_at, received_at, district_json) \
             VALUES (1, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET \
               applied_seq = excluded.applied_seq, refused_json = excluded.refused_json, \
               held_json = excluded.held_json, answered_at = excluded.answered_at, \
               received_at = excluded.received_at, district_json = excluded.district_json \
             WHERE excluded.answered_at >= district_receipt.answered_at",
        )
        .bind(to_i64(receipt.applied_seq))
        .bind(refused)
        .bind(held)
        .bind(
            receipt
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        )
        .bind(received_at.to_rfc3339())
        .bind(district)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The district's latest receipt and when it arrived; `None` before the first.
    pub async fn receipt(
        &self,
    ) -> Result<Option<(event_bus::receipts::Receipt, DateTime<Utc>)>, StoreError> {
        type Row = (i64, String, String, String, String, Option<String>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT applied_seq, refused_json, held_json, answered_at, received_at, district_json \
             FROM district_receipt WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some((applied_seq, refused, held, answered_at, received_at, district)) = row else {
            return Ok(None);
        };
        let time = |t: &str| {
            DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .ok()
        };
        let (Some(at), Some(received_at)) = (time(&answered_at), time(&received_at)) else {
            return Ok(None);
        };
        let receipt = event_bus::receipts::Receipt {
            applied_seq: from_i64(applied_seq),
            refused: serde_json::from_str(&refused).unwrap_or_default(),
            held: serde_json::from_str(&held).unwrap_or_default(),
            at,
            district: district.and_then(|d| serde_json::from_str(&d).ok()),
        };
        Ok(Some((receipt, received_at)))
    }

    /// Whether the log must catch up from the district before commands are accepted (set by
    /// `school-agent restore`), and why.
    pub async fn needs_catch_up(&self) -> Result<Option<String>, StoreError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT needs_catch_up, reason FROM recovery_state WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(row
            .filter(|(needs, _)| *needs != 0)
            .map(|(_, reason)| reason))
    }

    /// Marks the log as needing to catch up from the district, with the reason.
    pub async fn mark_needs_catch_up(
        &self,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO recovery_state (id, needs_catch_up, reason, marked_at) VALUES (1, 1, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET needs_catch_up = 1, reason = excluded.reason, \
             marked_at = excluded.marked_at",
        )
        .bind(reason)
        .bind(at.to_rfc3339())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records that the log caught up from the district, ending at `head`.
    pub async fn mark_caught_up(&self, head: u64, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE recovery_state SET needs_catch_up = 0, caught_up_at = ?, caught_up_head = ? \
             WHERE id = 1",
        )
        .bind(at.to_rfc3339())
        .bind(to_i64(head))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every event's id in seq order (index 0 is seq 1): what recovery compares the district's
    /// copies with.
    pub async fn event_ids(&self) -> Result<Vec<(u64, String)>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT seq, id FROM events ORDER BY seq")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(s, id)| (from_i64(s), id)).collect())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Appends events recovered from the district stream, with their outbox entries already
/// marked sent at `sent_at`: the district has them, so the relay must not publish them again.
/// `envelopes` are consecutive from the log's head + 1 (the caller checked); `body` is the
/// envelope text exactly as the stream holds it.
pub async fn append_recovered(
    conn: &mut SqliteConnection,
    envelopes: &[(Envelope, String)],
    sent_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    append_with_outbox(conn, envelopes, Some(sent_at)).await
}

/// Rows per multi-row INSERT: 5 parameters each, far below SQLite's variable limit.
const ROWS_PER_INSERT: usize = 200;

/// Appends envelopes and their outbox entries in one transaction on the writer connection.
/// The caller has checked the seqs are consecutive from the head; the primary key refuses a
/// reused seq.
pub async fn append(
    conn: &mut SqliteConnection,
    envelopes: &[(Envelope, String)],
) -> Result<(), StoreError> {
    append_with_outbox(conn, envelopes, None).await
}

/// [`append`] and [`append_recovered`]: the outbox entries unsent, or sent at `sent_at`.
///
/// Each statement is a round trip to sqlx's SQLite thread, so the events go in as multi-row
/// INSERTs and the outbox entries as one INSERT … SELECT: a handful of statements per commit
/// whatever its size, instead of two per event.
async fn append_with_outbox(
    conn: &mut SqliteConnection,
    envelopes: &[(Envelope, String)],
    sent_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let (Some((first, _)), Some((last, _))) = (envelopes.first(), envelopes.last()) else {
        return Ok(());
    };
    let (first_seq, last_seq) = (to_i64(first.seq), to_i64(last.seq));
    let mut tx = conn.begin().await?;
    for chunk in envelopes.chunks(ROWS_PER_INSERT) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO events (seq, id, type, recorded_at, envelope) ",
        );
        insert.push_values(chunk, |mut row, (envelope, body)| {
            row.push_bind(to_i64(envelope.seq))
                .push_bind(envelope.id.to_string())
                .push_bind(envelope.event_type.as_str())
                .push_bind(envelope.recorded_at.to_rfc3339())
                .push_bind(body.as_str());
        });
        // Statement shapes vary with the chunk's length; don't fill the statement cache.
        insert.build().persistent(false).execute(&mut *tx).await?;
    }
    sqlx::query(
        "INSERT INTO outbox (seq, enqueued_at, sent_at) \
         SELECT seq, recorded_at, ? FROM events WHERE seq BETWEEN ? AND ?",
    )
    .bind(sent_at.map(|at| at.to_rfc3339()))
    .bind(first_seq)
    .bind(last_seq)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

fn outbox_entry(row: &sqlx::sqlite::SqliteRow) -> Result<OutboxEntry, StoreError> {
    /// Only the one field of the body the headers need; serde skips the rest unparsed.
    #[derive(serde::Deserialize)]
    struct Occurred {
        occurred_at: DateTime<Utc>,
    }
    let seq: i64 = row.try_get("seq")?;
    let corrupt = |reason: String| StoreError::Corrupt { seq, reason };
    let id: String = row.try_get("id")?;
    let body: String = row.try_get("envelope")?;
    let occurred: Occurred = serde_json::from_str(&body).map_err(|e| corrupt(e.to_string()))?;
    Ok(OutboxEntry {
        seq: from_i64(seq),
        id: id
            .parse()
            .map_err(|e: uuid::Error| corrupt(e.to_string()))?,
        event_type: row.try_get("type")?,
        occurred_at: occurred.occurred_at,
        body,
    })
}

fn stored_event(row: &sqlx::sqlite::SqliteRow) -> Result<StoredEvent, StoreError> {
    let seq: i64 = row.try_get("seq")?;
    let body: String = row.try_get("envelope")?;
    let envelope = Envelope::parse(body.as_bytes()).map_err(|e| StoreError::Corrupt {
        seq,
        reason: e.to_string(),
    })?;
    Ok(StoredEvent {
        seq: from_i64(seq),
        envelope,
        body,
    })
}

/// SQLite integers are i64; seqs never come near the limit, saturate rather than wrap.
fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn from_i64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
