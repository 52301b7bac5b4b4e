//! The evidence fetcher: brings each school's evidence files from its JetStream Object Store
//! bucket into `ops.evidence_files`, and the queries that list and serve them.
//!
//! A file is pending from the moment the projection applied the `evidence.attached` event
//! that names it (a row of the projection's `evidence`) until a row of `ops.evidence_files`
//! says what became of it:
//! - **received** — the object `<sha256>` of the school's bucket had the size and SHA-256 the
//!   event said; its content is stored and may be served;
//! - **refused** — it did not (its reason says which, in Vietnamese with a code); nothing of
//!   it is stored and it is never served. Another attempt is not made: the object a school
//!   uploaded is named by the hash, so a correct upload is the same object.
//!
//! An object not yet in the bucket (the school has not uploaded it, or its line is down)
//! stays pending and is looked for again on the next round. The bytes live outside the
//! projection, so a rebuild keeps them; the rows in `ops` are keyed by school and hash.
//! The aggregator only reads buckets (`event_bus::permissions::aggregator`).

use std::time::Duration;

use async_nats::jetstream::{self, object_store};
use event_bus::subjects::{SchoolAddress, evidence_bucket};
use sha2::{Digest as _, Sha256};
use sqlx::{PgPool, Row as _};
use tokio::io::AsyncReadExt as _;
use tokio::sync::broadcast;
use tracing::{debug, info, warn};

/// How often pending files are looked for.
const ROUND: Duration = Duration::from_secs(1);

/// Why a round failed (logged, then retried).
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("the database: {0}")]
    Db(#[from] sqlx::Error),
}

/// A refused file's reason, in Vietnamese with the code in brackets.
pub(crate) fn refusal_text(code: &str) -> String {
    let words = match code {
        "hash_mismatch" => "nội dung tệp không khớp với mã SHA-256 đã ghi trong sự kiện",
        "size_mismatch" => "kích thước tệp khác với kích thước đã ghi trong sự kiện",
        "too_large" => "tệp vượt quá giới hạn 20 MB",
        _ => "tệp không hợp lệ",
    };
    format!("Bị từ chối: {words} [{code}]")
}

/// The task: fetches what is pending, round after round, until `stop`.
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    pub pool: PgPool,
    pub schema: String,
    pub jetstream: jetstream::Context,
    pub province: String,
    pub district: String,
}

struct PendingFile {
    school: String,
    sha256: String,
    min_size: i64,
    max_size: i64,
}

impl Fetcher {
    pub(crate) async fn run(self, mut stop: broadcast::Receiver<()>) {
        loop {
            match self.round().await {
                Ok(n) if n > 0 => debug!(fetched = n, "evidence files settled"),
                Ok(_) => {}
                Err(e) => warn!(error = %e, "fetching evidence files failed; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(ROUND) => {}
                _ = stop.recv() => return,
            }
        }
    }

    /// One round: every pending file is looked for once. Answers how many were settled.
    async fn round(&self) -> Result<usize, FetchError> {
        let schema = crate::db::quote_identifier(&self.schema);
        let rows = sqlx::query(&format!(
            "SELECT e.school, e.sha256, min(e.size) AS min_size, max(e.size) AS max_size \
             FROM {schema}.evidence e \
             WHERE NOT EXISTS (SELECT 1 FROM ops.evidence_files f \
                               WHERE f.school = e.school AND f.sha256 = e.sha256) \
             GROUP BY e.school, e.sha256 ORDER BY min(e.attached_seq) LIMIT 64"
        ))
        .fetch_all(&self.pool)
        .await?;
        let pending = rows
            .iter()
            .map(|r| {
                Ok(PendingFile {
                    school: r.try_get("school")?,
                    sha256: r.try_get("sha256")?,
                    min_size: r.try_get("min_size")?,
                    max_size: r.try_get("max_size")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let mut settled = 0;
        for file in pending {
            if self.fetch(&file).await? {
                settled += 1;
            }
        }
        Ok(settled)
    }

    /// Fetches one file; `false` when it is not in the bucket yet.
    async fn fetch(&self, file: &PendingFile) -> Result<bool, FetchError> {
        let Ok(address) = SchoolAddress::parse(&self.province, &self.district, &file.school) else {
            return Ok(false);
        };
        let name = evidence_bucket(&address);
        let bucket = match self.jetstream.get_object_store(&name).await {
            Ok(bucket) => bucket,
            Err(e) => {
                debug!(bucket = %name, error = %e, "no evidence bucket yet");
                return Ok(false);
            }
        };
        let info = match bucket.info(&file.sha256).await {
            Ok(info) if !info.deleted => info,
            Ok(_) => return Ok(false),
            Err(e) => {
                debug!(sha256 = %file.sha256, error = %e, "evidence object not there yet");
                return Ok(false);
            }
        };
        let expected = u64::try_from(file.min_size).unwrap_or(0);
        if file.min_size != file.max_size || info.size as u64 != expected {
            return self.settle_refused(file, "size_mismatch").await;
        }
        if expected > domain::evidence::MAX_FILE_SIZE {
            return self.settle_refused(file, "too_large").await;
        }
        let content = match read_object(&bucket, &file.sha256, expected).await {
            Ok(content) => content,
            Err(ReadFailure::TooLong) => return self.settle_refused(file, "size_mismatch").await,
            Err(ReadFailure::Nats(e)) => {
                warn!(sha256 = %file.sha256, error = %e, "reading an evidence object failed");
                return Ok(false);
            }
        };
        let actual = hex(&Sha256::digest(&content));
        if content.len() as u64 != expected {
            return self.settle_refused(file, "size_mismatch").await;
        }
        if actual != file.sha256 {
            warn!(school = %file.school, sha256 = %file.sha256, actual = %actual, "an evidence file does not match its hash");
            return self.settle_refused(file, "hash_mismatch").await;
        }
        sqlx::query(
            "INSERT INTO ops.evidence_files (school, sha256, state, content) VALUES ($1, $2, 'received', $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&file.school)
        .bind(&file.sha256)
        .bind(content)
        .execute(&self.pool)
        .await?;
        info!(school = %file.school, sha256 = %file.sha256, size = expected, "evidence file received");
        Ok(true)
    }

    async fn settle_refused(&self, file: &PendingFile, code: &str) -> Result<bool, FetchError> {
        sqlx::query(
            "INSERT INTO ops.evidence_files (school, sha256, state, reason) VALUES ($1, $2, 'refused', $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&file.school)
        .bind(&file.sha256)
        .bind(refusal_text(code))
        .execute(&self.pool)
        .await?;
        warn!(school = %file.school, sha256 = %file.sha256, code, "evidence file refused");
        Ok(true)
    }
}

/// The evidence files of an imported bundle go where the fetcher puts files from a bucket:
/// `ops.evidence_files`, received. The bundle reader checked each file hashes to its name,
/// so the content is the one the event names (its size too): a file already received is
/// kept, and one the fetcher refused (a forged object in the bucket) is replaced by it.
#[derive(Debug, Clone)]
pub struct BundleFiles {
    pub pool: PgPool,
}

impl crate::bundles::FileSink for BundleFiles {
    fn store<'a>(
        &'a self,
        school: &'a str,
        file: &'a bundle::File,
    ) -> crate::bundles::SinkFuture<'a> {
        Box::pin(async move {
            if file.content.len() as u64 > domain::evidence::MAX_FILE_SIZE {
                return Err(refusal_text("too_large"));
            }
            sqlx::query(
                "INSERT INTO ops.evidence_files (school, sha256, state, content) \
                 VALUES ($1, $2, 'received', $3) \
                 ON CONFLICT (school, sha256) DO UPDATE \
                 SET state = 'received', content = EXCLUDED.content, reason = NULL, at = now() \
                 WHERE ops.evidence_files.state = 'refused'",
            )
            .bind(school)
            .bind(&file.sha256)
            .bind(&file.content)
            .execute(&self.pool)
            .await
            .map_err(|e| {
                warn!(school, sha256 = %file.sha256, error = %e, "an imported evidence file was not stored");
                "Phòng chưa lưu được tệp đính kèm (lỗi cơ sở dữ liệu)".to_owned()
            })?;
            info!(school, sha256 = %file.sha256, size = file.content.len(), "evidence file received from a bundle");
            Ok(())
        })
    }
}

enum ReadFailure {
    TooLong,
    Nats(String),
}

/// The object's whole content, reading at most `expected + 1` bytes.
async fn read_object(
    bucket: &object_store::ObjectStore,
    name: &str,
    expected: u64,
) -> Result<Vec<u8>, ReadFailure> {
    let object = bucket
        .get(name)
        .await
        .map_err(|e| ReadFailure::Nats(e.to_string()))?;
    let mut content = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    object
        .take(expected + 1)
        .read_to_end(&mut content)
        .await
        .map_err(|e| ReadFailure::Nats(e.to_string()))?;
    if content.len() as u64 > expected {
        return Err(ReadFailure::TooLong);
    }
    Ok(content)
}

fn hex(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// One file as `ListEvidence` answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRow {
    pub record_kind: String,
    pub record_id: uuid::Uuid,
    pub sha256: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub attached_seq: i64,
    /// `received`, `pending` or `refused`.
    pub state: String,
    pub received_at: Option<chrono::DateTime<chrono::Utc>>,
    pub refused: Option<String>,
}

/// A school's evidence files (of one record when given), by record, then in the order
/// attached.
pub async fn list(
    pool: &PgPool,
    schema: &str,
    school: &str,
    record: Option<(&str, uuid::Uuid)>,
) -> Result<Vec<EvidenceRow>, sqlx::Error> {
    let schema = crate::db::quote_identifier(schema);
    let rows = sqlx::query(&format!(
        "SELECT e.record_kind, e.record_id, e.sha256, e.name, e.media_type, e.size, e.attached_seq, \
         coalesce(f.state, 'pending') AS state, CASE WHEN f.state = 'received' THEN f.at END AS received_at, \
         f.reason FROM {schema}.evidence e \
         LEFT JOIN ops.evidence_files f ON f.school = e.school AND f.sha256 = e.sha256 \
         WHERE e.school = $1 AND ($2::text IS NULL OR (e.record_kind = $2 AND e.record_id = $3)) \
         ORDER BY e.record_kind, e.record_id, e.attached_seq"
    ))
    .bind(school)
    .bind(record.map(|(k, _)| k.to_owned()))
    .bind(record.map(|(_, id)| id))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(EvidenceRow {
                record_kind: r.try_get("record_kind")?,
                record_id: r.try_get("record_id")?,
                sha256: r.try_get("sha256")?,
                name: r.try_get("name")?,
                media_type: r.try_get("media_type")?,
                size: r.try_get("size")?,
                attached_seq: r.try_get("attached_seq")?,
                state: r.try_get("state")?,
                received_at: r.try_get("received_at")?,
                refused: r.try_get("reason")?,
            })
        })
        .collect()
}

/// A received file: its name and media type (from the first record naming it) and content.
/// `None` while pending, when refused, or when no record of the school names it.
pub async fn get(
    pool: &PgPool,
    schema: &str,
    school: &str,
    sha256: &str,
) -> Result<Option<(String, String, Vec<u8>)>, sqlx::Error> {
    let schema = crate::db::quote_identifier(schema);
    let row = sqlx::query(&format!(
        "SELECT e.name, e.media_type, f.content FROM {schema}.evidence e \
         JOIN ops.evidence_files f ON f.school = e.school AND f.sha256 = e.sha256 \
         WHERE e.school = $1 AND e.sha256 = $2 AND f.state = 'received' \
         ORDER BY e.attached_seq LIMIT 1"
    ))
    .bind(school)
    .bind(sha256)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok((
            r.try_get("name")?,
            r.try_get("media_type")?,
            r.try_get("content")?,
        ))
    })
    .transpose()
}
