//! The evidence uploader: sends each evidence file to the school's JetStream Object Store
//! bucket (`event_bus::subjects::evidence_bucket`), after the event that names it, without
//! ever holding up the events.
//!
//! - **Its queue is the log.** It reads `evidence.attached` events from the log (from
//!   `evidence_scan.scanned_seq` on) into `evidence_upload`, one row per file hash, so a crash
//!   between an event and its row loses nothing.
//! - **After the event.** A file is uploaded only once its first event's outbox entry is sent
//!   (JetStream acknowledged it): the district never holds a file it cannot name.
//! - **Apart from the relay.** It is its own task with its own SQLite rows and backoff; the
//!   relay never waits for it, and it never blocks the writer.
//! - **Resumable at the chunk.** The object is written as the object store lays it out
//!   (chunks on `$O.<bucket>.C.<nuid>`, then the meta on `$O.<bucket>.M.<name>` with a
//!   roll-up), but by this module rather than `ObjectStore::put`, so that the chunk id is
//!   chosen here and kept in `evidence_upload.upload_nuid` *before* the first chunk goes out.
//!   Each chunk carries `Tt-Chunk: <index>` and `Nats-Msg-Id: <nuid>.<index>`; after a kill, a
//!   lost connection or a refusal, the next attempt reads the last chunk stored under that
//!   nuid and continues from the next index. The meta (name = the SHA-256, digest
//!   `SHA-256=<base64url>`, size, chunks) is written last, so an object is visible only whole,
//!   and it reads back with any object store client.
//! - **Skips what is there.** A file whose object already exists with the same digest and
//!   size is marked uploaded without sending a byte.
//! - **Optionally gentle.** `relay.evidence_rate_kib_per_s` caps the bandwidth a school's
//!   slow line gives to files (0: no cap).
//!
//! In `insecure` development (`relay.ensure_stream`) it creates the bucket when missing; in
//! the secured setup the district's administrator creates it when the school is issued.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::jetstream::{self, object_store};
use base64::Engine as _;
use bytes::Bytes;
use chrono::Utc;
use domain::event::Event;
use event_bus::subjects::{SchoolAddress, evidence_bucket};
use sqlx::Row as _;
use tokio::io::AsyncReadExt as _;
use tokio::sync::{Notify, broadcast};
use tracing::{debug, info, warn};

use crate::evidence::EvidenceStore;
use crate::store::{Store, StoreError};

/// Default chunk size: the object store's own (128 KiB).
pub const DEFAULT_CHUNK_SIZE: usize = 128 * 1024;

/// How often the uploader looks again while files wait for their events to be sent.
const POLL: Duration = Duration::from_millis(500);

/// Why one upload failed (recorded in `evidence_upload.last_error`, then retried).
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the school's log: {0}")]
    Store(#[from] StoreError),
    #[error("the evidence file: {0}")]
    File(#[from] crate::evidence::EvidenceError),
    #[error("reading the evidence file: {0}")]
    Read(#[from] std::io::Error),
    #[error("the evidence bucket {bucket}: {reason}")]
    Bucket { bucket: String, reason: String },
    #[error("publishing chunk {index} of {sha256}: {reason}")]
    Chunk {
        sha256: String,
        index: u64,
        reason: String,
    },
    #[error("publishing the meta of {sha256}: {reason}")]
    Meta { sha256: String, reason: String },
    #[error("the stored file {sha256} is {actual} bytes, the event says {expected}")]
    SizeChanged {
        sha256: String,
        expected: u64,
        actual: u64,
    },
}

/// A file waiting to be uploaded.
#[derive(Debug, Clone)]
struct Pending {
    sha256: String,
    size: u64,
    nuid: Option<String>,
    chunk_size: Option<usize>,
}

/// The uploader task.
#[derive(Debug, Clone)]
pub struct Uploader {
    pub store: Store,
    pub evidence: EvidenceStore,
    pub jetstream: jetstream::Context,
    pub school: SchoolAddress,
    /// Create the bucket when it is missing (development only).
    pub create_bucket: bool,
    pub chunk_size: usize,
    /// Bytes per second given to files; 0: no cap.
    pub rate_bytes_per_s: u64,
    pub max_backoff: Duration,
    /// Poked when a file is attached.
    pub wakeup: Arc<Notify>,
}

/// Whether the file of `sha256` has been uploaded to the district's bucket.
pub async fn is_uploaded(store: &Store, sha256: &str) -> Result<bool, StoreError> {
    let at: Option<Option<String>> =
        sqlx::query_scalar("SELECT uploaded_at FROM evidence_upload WHERE sha256 = ?")
            .bind(sha256)
            .fetch_optional(store.pool())
            .await?;
    Ok(matches!(at, Some(Some(_))))
}

/// Every file's upload state: `(sha256, uploaded)`, for the school app's lists.
pub async fn upload_states(store: &Store) -> Result<Vec<(String, bool)>, StoreError> {
    let rows = sqlx::query("SELECT sha256, uploaded_at IS NOT NULL AS up FROM evidence_upload")
        .fetch_all(store.pool())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("sha256")?, r.try_get::<bool, _>("up")?)))
        .collect()
}

/// The `evidence.attached` events of the log (of `record` only, when given), in seq order,
/// each with whether its file is uploaded.
pub async fn attached(
    store: &Store,
    record: Option<domain::evidence::EvidenceTarget>,
) -> Result<Vec<(u64, domain::event::EvidenceAttached, bool)>, StoreError> {
    let uploaded: std::collections::HashMap<String, bool> =
        upload_states(store).await?.into_iter().collect();
    let rows = sqlx::query(
        "SELECT seq, envelope FROM events WHERE type = 'evidence.attached' ORDER BY seq",
    )
    .fetch_all(store.pool())
    .await?;
    let mut files = Vec::new();
    for row in &rows {
        let seq: i64 = row.try_get("seq")?;
        let body: String = row.try_get("envelope")?;
        let decoded = domain::Envelope::parse(body.as_bytes()).and_then(|e| e.decode());
        if let Ok(Event::EvidenceAttached(e)) = decoded
            && record.is_none_or(|r| r == e.record)
        {
            let up = uploaded.get(&e.file.sha256).copied().unwrap_or(false);
            files.push((u64::try_from(seq).unwrap_or(0), e, up));
        }
    }
    Ok(files)
}

/// Reads the `evidence.attached` events after the scanned seq into `evidence_upload`.
/// Returns how many events it read.
pub async fn scan_log(store: &Store) -> Result<usize, StoreError> {
    let from: i64 = sqlx::query_scalar("SELECT scanned_seq FROM evidence_scan WHERE id = 1")
        .fetch_one(store.pool())
        .await?;
    let head = i64::try_from(store.head_seq().await?).unwrap_or(i64::MAX);
    if head <= from {
        return Ok(0);
    }
    let rows = sqlx::query(
        "SELECT seq, envelope FROM events WHERE seq > ? AND type = 'evidence.attached' ORDER BY seq",
    )
    .bind(from)
    .fetch_all(store.pool())
    .await?;
    let mut tx = store.pool().begin().await?;
    for row in &rows {
        let seq: i64 = row.try_get("seq")?;
        let body: String = row.try_get("envelope")?;
        let decoded = domain::Envelope::parse(body.as_bytes()).and_then(|e| e.decode());
        let Ok(Event::EvidenceAttached(e)) = decoded else {
            warn!(
                seq,
                "an evidence.attached event does not decode; its file is not uploaded"
            );
            continue;
        };
        sqlx::query(
            "INSERT OR IGNORE INTO evidence_upload (sha256, size, media_type, first_seq) VALUES (?, ?, ?, ?)",
        )
        .bind(&e.file.sha256)
        .bind(i64::try_from(e.file.size).unwrap_or(i64::MAX))
        .bind(&e.file.media_type)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("UPDATE evidence_scan SET scanned_seq = ? WHERE id = 1")
        .bind(head)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows.len())
}

/// The files whose first event was acknowledged and that are not uploaded, oldest first.
async fn due(store: &Store, limit: u32) -> Result<Vec<Pending>, StoreError> {
    let rows = sqlx::query(
        "SELECT u.sha256, u.size, u.upload_nuid, u.chunk_size FROM evidence_upload u \
         JOIN outbox o ON o.seq = u.first_seq \
         WHERE u.uploaded_at IS NULL AND o.sent_at IS NOT NULL ORDER BY u.first_seq LIMIT ?",
    )
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Pending {
                sha256: r.try_get("sha256")?,
                size: u64::try_from(r.try_get::<i64, _>("size")?).unwrap_or(0),
                nuid: r.try_get("upload_nuid")?,
                chunk_size: r
                    .try_get::<Option<i64>, _>("chunk_size")?
                    .and_then(|c| usize::try_from(c).ok()),
            })
        })
        .collect()
}

/// How many files wait (uploaded or not yet due).
async fn waiting(store: &Store) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM evidence_upload WHERE uploaded_at IS NULL")
            .fetch_one(store.pool())
            .await?,
    )
}

/// The object store's digest of a SHA-256 given in hex: `SHA-256=<base64url of the bytes>`.
pub fn object_digest(sha256_hex: &str) -> Option<String> {
    let bytes = (0..sha256_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(sha256_hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(format!(
        "SHA-256={}",
        base64::engine::general_purpose::URL_SAFE.encode(bytes)
    ))
}

impl Uploader {
    /// Runs until `stop` fires: scan, upload what is due, back off on failure.
    pub async fn run(self, mut stop: broadcast::Receiver<()>) {
        let mut failures = 0u32;
        loop {
            let outcome = self.round().await;
            let pause = match outcome {
                Ok(Round::Busy) => {
                    failures = 0;
                    continue;
                }
                Ok(Round::Waiting) => {
                    failures = 0;
                    POLL
                }
                Ok(Round::Idle) => {
                    failures = 0;
                    Duration::from_secs(30)
                }
                Err(e) => {
                    failures += 1;
                    warn!(error = %e, failures, "an evidence upload failed; retrying");
                    crate::relay::backoff(failures, self.max_backoff)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.wakeup.notified() => {}
                _ = stop.recv() => return,
            }
        }
    }

    async fn round(&self) -> Result<Round, UploadError> {
        scan_log(&self.store).await?;
        let due = due(&self.store, 8).await?;
        if due.is_empty() {
            return Ok(if waiting(&self.store).await? > 0 {
                Round::Waiting
            } else {
                Round::Idle
            });
        }
        let bucket = self.bucket().await?;
        for file in due {
            if let Err(e) = self.upload(&bucket, &file).await {
                sqlx::query(
                    "UPDATE evidence_upload SET attempts = attempts + 1, last_error = ? WHERE sha256 = ?",
                )
                .bind(e.to_string())
                .bind(&file.sha256)
                .execute(self.store.pool())
                .await
                .map_err(StoreError::from)?;
                return Err(e);
            }
        }
        Ok(Round::Busy)
    }

    /// The school's bucket, created if missing and allowed.
    async fn bucket(&self) -> Result<object_store::ObjectStore, UploadError> {
        let name = evidence_bucket(&self.school);
        let err = |reason: String| UploadError::Bucket {
            bucket: name.clone(),
            reason,
        };
        match self.jetstream.get_object_store(&name).await {
            Ok(bucket) => Ok(bucket),
            Err(e) if self.create_bucket => {
                debug!(error = %e, bucket = %name, "creating the evidence bucket");
                self.jetstream
                    .create_object_store(object_store::Config {
                        bucket: name.clone(),
                        description: Some("evidence files of one school".into()),
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| err(e.to_string()))
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    async fn upload(
        &self,
        bucket: &object_store::ObjectStore,
        file: &Pending,
    ) -> Result<(), UploadError> {
        let name = evidence_bucket(&self.school);
        let digest = object_digest(&file.sha256).ok_or_else(|| UploadError::Meta {
            sha256: file.sha256.clone(),
            reason: "not a SHA-256".into(),
        })?;
        if let Ok(existing) = bucket.info(&file.sha256).await
            && !existing.deleted
            && existing.digest.as_deref() == Some(digest.as_str())
            && existing.size as u64 == file.size
        {
            info!(sha256 = %file.sha256, "the evidence file is in the bucket already");
            return self.mark_uploaded(&file.sha256).await;
        }
        // The chunk id and size are kept before the first chunk goes out.
        let (nuid, chunk_size) = match (&file.nuid, file.chunk_size) {
            (Some(nuid), Some(size)) if size > 0 => (nuid.clone(), size),
            _ => {
                let nuid = uuid::Uuid::now_v7().simple().to_string();
                sqlx::query(
                    "UPDATE evidence_upload SET upload_nuid = ?, chunk_size = ? WHERE sha256 = ?",
                )
                .bind(&nuid)
                .bind(i64::try_from(self.chunk_size).unwrap_or(i64::MAX))
                .bind(&file.sha256)
                .execute(self.store.pool())
                .await
                .map_err(StoreError::from)?;
                (nuid, self.chunk_size)
            }
        };
        let chunk_subject = format!("$O.{name}.C.{nuid}");
        let stream = self
            .jetstream
            .get_stream(format!("OBJ_{name}"))
            .await
            .map_err(|e| UploadError::Bucket {
                bucket: name.clone(),
                reason: e.to_string(),
            })?;
        // Resume after the last chunk the bucket holds under this nuid.
        let first = match stream.get_last_raw_message_by_subject(&chunk_subject).await {
            Ok(last) => last
                .headers
                .get("Tt-Chunk")
                .and_then(|v| v.as_str().parse::<u64>().ok())
                .map_or(0, |i| i + 1),
            Err(_) => 0,
        };
        let chunks = file.size.div_ceil(chunk_size as u64);
        if first > 0 {
            info!(sha256 = %file.sha256, from_chunk = first, chunks, "resuming an evidence upload");
        }
        let mut reader = tokio::fs::File::open(self.evidence.path(&file.sha256)?).await?;
        let actual = reader.metadata().await?.len();
        if actual != file.size {
            return Err(UploadError::SizeChanged {
                sha256: file.sha256.clone(),
                expected: file.size,
                actual,
            });
        }
        use tokio::io::AsyncSeekExt as _;
        reader
            .seek(std::io::SeekFrom::Start(first * chunk_size as u64))
            .await?;
        let started = Instant::now();
        let mut sent_bytes = 0u64;
        let mut buffer = vec![0u8; chunk_size];
        for index in first..chunks {
            let want =
                usize::try_from((file.size - index * chunk_size as u64).min(chunk_size as u64))
                    .unwrap_or(chunk_size);
            reader.read_exact(&mut buffer[..want]).await?;
            let mut headers = HeaderMap::new();
            headers.insert("Tt-Chunk", index.to_string().as_str());
            headers.insert("Nats-Msg-Id", format!("{nuid}.{index}").as_str());
            let chunk_err = |reason: String| UploadError::Chunk {
                sha256: file.sha256.clone(),
                index,
                reason,
            };
            self.jetstream
                .publish_with_headers(
                    chunk_subject.clone(),
                    headers,
                    Bytes::copy_from_slice(&buffer[..want]),
                )
                .await
                .map_err(|e| chunk_err(e.to_string()))?
                .await
                .map_err(|e| chunk_err(e.to_string()))?;
            sent_bytes += want as u64;
            self.pace(started, sent_bytes).await;
        }
        let info = object_store::ObjectInfo {
            name: file.sha256.clone(),
            description: None,
            metadata: Default::default(),
            headers: None,
            options: Some(object_store::ObjectOptions {
                link: None,
                max_chunk_size: Some(chunk_size),
            }),
            bucket: name.clone(),
            nuid: nuid.clone(),
            size: usize::try_from(file.size).unwrap_or(usize::MAX),
            chunks: usize::try_from(chunks).unwrap_or(usize::MAX),
            modified: None,
            digest: Some(digest),
            deleted: false,
        };
        let meta_err = |reason: String| UploadError::Meta {
            sha256: file.sha256.clone(),
            reason,
        };
        let body = serde_json::to_vec(&info).map_err(|e| meta_err(e.to_string()))?;
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Rollup", "sub");
        let encoded = base64::engine::general_purpose::URL_SAFE.encode(&file.sha256);
        self.jetstream
            .publish_with_headers(format!("$O.{name}.M.{encoded}"), headers, body.into())
            .await
            .map_err(|e| meta_err(e.to_string()))?
            .await
            .map_err(|e| meta_err(e.to_string()))?;
        info!(sha256 = %file.sha256, size = file.size, chunks, "evidence file uploaded");
        self.mark_uploaded(&file.sha256).await
    }

    /// Sleeps so that `sent` bytes since `started` stay under the rate cap.
    async fn pace(&self, started: Instant, sent: u64) {
        if self.rate_bytes_per_s == 0 {
            return;
        }
        let due = Duration::from_secs_f64(sent as f64 / self.rate_bytes_per_s as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }

    async fn mark_uploaded(&self, sha256: &str) -> Result<(), UploadError> {
        sqlx::query(
            "UPDATE evidence_upload SET uploaded_at = ?, last_error = NULL, attempts = attempts + 1 \
             WHERE sha256 = ?",
        )
        .bind(Utc::now().to_rfc3339())
        .bind(sha256)
        .execute(self.store.pool())
        .await
        .map_err(StoreError::from)?;
        Ok(())
    }
}

/// What one round found.
enum Round {
    /// It uploaded files: look again at once.
    Busy,
    /// Files wait for their events to be sent.
    Waiting,
    /// Nothing to do.
    Idle,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_digest_is_the_object_stores_spelling_of_the_hash() {
        let hex = crate::evidence::sha256_hex(b"abc");
        assert_eq!(
            object_digest(&hex).unwrap(),
            "SHA-256=ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0="
        );
    }
}
