//! Recovery from the district: the school's log filled, or caught up, from its own events in
//! the district stream (`school-agent recover` on a new PC, and the catch-up after
//! `school-agent restore`).
//!
//! The district stream holds every event the school delivered, exactly as the school sealed
//! it. [`recover`] reads the school's own subject over the school's own connection
//! (`event_bus::recover`), in stream order, and appends to the local log what it lacks:
//! - seqs must run gapless from the local head + 1 (from 1 on an empty log); a message that
//!   arrives ahead of its turn (a re-send after a lost acknowledgement) waits for the missing
//!   seqs, and a seq that never comes is a [`RecoveryError::Gap`];
//! - the stream may hold one seq twice: a re-publish of the same event (same id) is a
//!   duplicate, skipped; another event under a taken seq is a divergence. The district's
//!   ingest applies the first arrival, so the first in stream order is kept and the other is
//!   reported ([`Divergence`]); a local event that is not the district's first is a
//!   [`RecoveryError::LocalDiffers`] (the log cannot be changed; an operator must look);
//! - a message that is not an envelope of this school is counted and skipped (the district
//!   dead-lettered it as well);
//! - the district's last receipt, when the log has one, says how far the district applied:
//!   ending below it is reported ([`RecoveryReport::behind_receipt`]).
//!
//! Recovered events are appended with their outbox entries already sent, so the relay does
//! not publish them again; the writer (re-read from the log) starts at the next seq.
//!
//! Evidence files: [`recover_files`], called after the log is recovered or caught up, fetches
//! from the school's own Object Store bucket each file an `evidence.attached` event of the log
//! names and the evidence store lacks, verified against its hash before it is kept.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use chrono::Utc;
use domain::{Author, Envelope};
use event_bus::recover::{RecoverError, SchoolReader};
use event_bus::subjects::SchoolAddress;
use tracing::{info, warn};
use uuid::Uuid;

use crate::store::{self, Store, StoreError};

/// Events appended per transaction.
const APPEND_CHUNK: usize = 1000;

/// Another event the district stream holds under a seq that was already taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    pub seq: u64,
    /// The event kept: the first in stream order, the one the district applied.
    pub kept_id: Uuid,
    /// The other event, reported and not kept.
    pub other_id: Uuid,
    /// Where the other one is in the district stream.
    pub stream_seq: u64,
}

/// What a recovery did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Messages read from the district stream.
    pub messages: u64,
    /// Events appended to the local log.
    pub events: u64,
    /// Events the local log already held (the district's copy has the same id).
    pub already_local: u64,
    /// Re-publishes of an event already seen (same seq, same id).
    pub duplicates: u64,
    /// Other events under a taken seq: kept the first, reported these.
    pub divergences: Vec<Divergence>,
    /// Messages that are not an envelope of this school.
    pub unreadable: u64,
    /// The local head before and after.
    pub head_before: u64,
    pub head_seq: u64,
    /// The district's receipt said it applied up to this seq, beyond what the stream gave.
    pub behind_receipt: Option<u64>,
    pub elapsed: Duration,
}

impl RecoveryReport {
    /// Events appended per second.
    pub fn events_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.events as f64 / secs
        } else {
            0.0
        }
    }
}

/// Progress of a recovery, after each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryProgress {
    /// Messages read so far, of `total` the stream held for the school.
    pub received: u64,
    pub total: u64,
    /// Events appended so far.
    pub appended: u64,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// The district's NATS could not be read: retry later.
    #[error(transparent)]
    Bus(#[from] RecoverError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stream lacks a seq: the events from `expected` on cannot be appended.
    #[error(
        "the district stream lacks seq {expected} of this school (it has up to {highest}); recovered up to {}",
        .expected.saturating_sub(1)
    )]
    Gap { expected: u64, highest: u64 },
    /// The local log holds another event under a seq than the one the district applied.
    #[error(
        "the local log's seq {seq} is event {local}, but the district applied {district}: the local log diverges from the district's"
    )]
    LocalDiffers {
        seq: u64,
        local: Uuid,
        district: Uuid,
    },
}

impl RecoveryError {
    /// Whether trying again later may succeed (the line, not the data).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RecoveryError::Bus(RecoverError::Unavailable(_)) | RecoveryError::Store(_)
        )
    }
}

/// Reads `school`'s events from the district stream over `js` (the school's own connection)
/// and appends to `store` what it lacks, calling `progress` after each batch. Not to be run
/// while the writer accepts commands (the agent gates them; `recover` runs without the
/// agent). See the module doc for the checks.
pub async fn recover(
    js: &jetstream::Context,
    school: &SchoolAddress,
    store: &Store,
    mut progress: impl FnMut(RecoveryProgress),
) -> Result<RecoveryReport, RecoveryError> {
    let started = Instant::now();
    let mut ids: Vec<Uuid> = Vec::new();
    for (seq, id) in store.event_ids().await? {
        let id = Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt {
            seq: i64::try_from(seq).unwrap_or(i64::MAX),
            reason: format!("event id {id:?}: {e}"),
        })?;
        ids.push(id);
    }
    let head_before = ids.len() as u64;
    let mut report = RecoveryReport {
        head_before,
        head_seq: head_before,
        ..RecoveryReport::default()
    };
    // The district's first arrival for each seq seen so far.
    let mut first: std::collections::HashMap<u64, Uuid> = std::collections::HashMap::new();
    let mut waiting: BTreeMap<u64, (Envelope, String, u64)> = BTreeMap::new();
    let mut ready: Vec<(Envelope, String)> = Vec::new();
    let mut conn = store.writer_connection().await?;

    let mut reader = SchoolReader::open(js, school).await?;
    let read = async {
        loop {
            let batch = reader.next_batch().await?;
            if batch.is_empty() {
                break;
            }
            for message in batch {
                report.messages += 1;
                let Some((envelope, body)) = own_envelope(school, &message.payload) else {
                    report.unreadable += 1;
                    continue;
                };
                let seq = envelope.seq;
                if let Some(&kept) = first.get(&seq) {
                    if kept == envelope.id {
                        report.duplicates += 1;
                    } else {
                        warn!(seq, kept = %kept, other = %envelope.id, stream_seq = message.stream_seq, "the district stream holds another event under a taken seq; kept the first");
                        report.divergences.push(Divergence {
                            seq,
                            kept_id: kept,
                            other_id: envelope.id,
                            stream_seq: message.stream_seq,
                        });
                    }
                    continue;
                }
                first.insert(seq, envelope.id);
                if seq <= head_before {
                    let local = ids[usize::try_from(seq - 1).unwrap_or(0)];
                    if local != envelope.id {
                        return Err(RecoveryError::LocalDiffers {
                            seq,
                            local,
                            district: envelope.id,
                        });
                    }
                    report.already_local += 1;
                    continue;
                }
                waiting.insert(seq, (envelope, body, message.stream_seq));
                while let Some(entry) = waiting.first_entry() {
                    if *entry.key() != report.head_seq + 1 {
                        break;
                    }
                    let (envelope, body, _) = entry.remove();
                    report.head_seq += 1;
                    ready.push((envelope, body));
                }
            }
            // One transaction per pulled batch (at most a thousand messages).
            for chunk in ready.chunks(APPEND_CHUNK) {
                store::append_recovered(&mut conn, chunk, Utc::now()).await?;
                report.events += chunk.len() as u64;
            }
            ready.clear();
            let p = reader.progress();
            progress(RecoveryProgress {
                received: p.received,
                total: p.total,
                appended: report.events,
                elapsed: started.elapsed(),
            });
        }
        Ok::<_, RecoveryError>(())
    }
    .await;
    reader.close().await;
    read?;
    if let Some((&expected_after, _)) = waiting.first_key_value() {
        let highest = waiting.last_key_value().map_or(expected_after, |(s, _)| *s);
        return Err(RecoveryError::Gap {
            expected: report.head_seq + 1,
            highest,
        });
    }
    if let Some((receipt, _)) = store.receipt().await?
        && receipt.applied_seq > report.head_seq
    {
        warn!(
            applied_seq = receipt.applied_seq,
            head_seq = report.head_seq,
            "the district's receipt says it applied more than its stream gave back"
        );
        report.behind_receipt = Some(receipt.applied_seq);
    }
    report.elapsed = started.elapsed();
    info!(
        school = %school,
        messages = report.messages,
        events = report.events,
        head_seq = report.head_seq,
        duplicates = report.duplicates,
        divergences = report.divergences.len(),
        "the school's log was recovered from the district"
    );
    Ok(report)
}

/// What [`recover_files`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilesReport {
    /// Files fetched from the bucket and kept.
    pub fetched: u64,
    /// Files the evidence store already had.
    pub already: u64,
    /// Files not (yet) in the bucket, or whose content did not match their hash: the event
    /// stays, the file is missing on this PC (the app shows it as such).
    pub missing: Vec<String>,
}

/// Fetches from the school's own evidence bucket every file the log's `evidence.attached`
/// events name that `evidence` lacks; each is checked against its hash before it is kept
/// (`EvidenceStore::put_verified`). A file the bucket does not have is reported, not an error:
/// the log is what matters, and its uploader may still be on the way.
pub async fn recover_files(
    js: &jetstream::Context,
    school: &SchoolAddress,
    store: &Store,
    evidence: &crate::evidence::EvidenceStore,
) -> Result<FilesReport, RecoveryError> {
    use tokio::io::AsyncReadExt as _;
    let attached = crate::evidence_upload::attached(store, None).await?;
    let mut report = FilesReport::default();
    let mut wanted: Vec<String> = attached
        .into_iter()
        .map(|(_, e, _)| e.file.sha256)
        .collect();
    wanted.sort();
    wanted.dedup();
    let (have, lack): (Vec<String>, Vec<String>) =
        wanted.into_iter().partition(|sha| evidence.has(sha));
    report.already = have.len() as u64;
    if lack.is_empty() {
        return Ok(report);
    }
    let bucket_name = event_bus::subjects::evidence_bucket(school);
    let bucket = match js.get_object_store(&bucket_name).await {
        Ok(bucket) => bucket,
        Err(e) => {
            warn!(bucket = %bucket_name, error = %e, missing = lack.len(), "the school's evidence bucket cannot be read; files stay missing");
            report.missing = lack;
            return Ok(report);
        }
    };
    for sha256 in lack {
        let mut content = Vec::new();
        let read = match bucket.get(&sha256).await {
            Ok(mut object) => object
                .read_to_end(&mut content)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = read {
            warn!(%sha256, error = %e, "an evidence file is not in the school's bucket");
            report.missing.push(sha256);
            continue;
        }
        let target = evidence.clone();
        let expected = sha256.clone();
        let kept = tokio::task::spawn_blocking(move || target.put_verified(&content, &expected))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        match kept {
            Ok(_) => report.fetched += 1,
            Err(e) => {
                warn!(%sha256, error = %e, "an evidence file from the bucket was not kept");
                report.missing.push(sha256);
            }
        }
    }
    info!(
        fetched = report.fetched,
        already = report.already,
        missing = report.missing.len(),
        "evidence files recovered from the school's bucket"
    );
    Ok(report)
}

/// The envelope in `payload` and its exact text, when it is one of `school`'s.
fn own_envelope(school: &SchoolAddress, payload: &[u8]) -> Option<(Envelope, String)> {
    let envelope = Envelope::parse(payload).ok()?;
    let ours = envelope.province.as_str() == school.province()
        && envelope.district.as_str() == school.district()
        && matches!(&envelope.school, Author::School(code) if code.as_str() == school.school())
        && envelope.seq >= 1;
    let body = String::from_utf8(payload.to_vec()).ok()?;
    ours.then_some((envelope, body))
}

/// Whether the log is catching up from the district, for the service (commands refused while
/// it is) and the status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatchUpState {
    pub catching_up: bool,
    /// Why it has not finished (Vietnamese), or what the start-up check found; empty if none.
    pub status: String,
}

/// The service's view of [`CatchUpState`].
pub type CatchUpWatch = tokio::sync::watch::Receiver<CatchUpState>;

/// The Vietnamese status line of a failed catch-up attempt (the English is logged).
fn catch_up_status(e: &RecoveryError) -> String {
    match e {
        RecoveryError::Bus(RecoverError::Unavailable(_)) | RecoveryError::Store(_) => {
            "Chưa đọc được sổ của trường ở Phòng GD-ĐT (chưa có mạng?); đang thử lại.".to_owned()
        }
        RecoveryError::Bus(RecoverError::Refused(_)) => {
            "Phòng GD-ĐT không cho đọc lại sổ của trường (quyền NATS của trường?); đang thử lại. \
             Cần cán bộ kỹ thuật kiểm tra."
                .to_owned()
        }
        RecoveryError::Gap { expected, .. } => format!(
            "Phòng GD-ĐT thiếu sự kiện số {expected} của trường nên chưa bổ sung tiếp được; \
             đang thử lại. Cần cán bộ kỹ thuật kiểm tra."
        ),
        RecoveryError::LocalDiffers { seq, .. } => format!(
            "Sổ ở máy này khác sổ Phòng GD-ĐT đã nhận ở số {seq}. Cần cán bộ kỹ thuật kiểm tra \
             trước khi ghi tiếp."
        ),
    }
}

/// At `serve` start, when the log is marked as needing catch-up (after `restore`): reads the
/// school's events back from the district until it succeeds (retrying with backoff while the
/// district is unreachable), then clears the mark, tells the writer the log changed and opens
/// `state` (commands accepted again). Stops early on `stop`.
#[allow(clippy::too_many_arguments)]
pub async fn catch_up(
    js: jetstream::Context,
    school: SchoolAddress,
    store: Store,
    evidence: crate::evidence::EvidenceStore,
    writer: crate::writer::Writer,
    state: tokio::sync::watch::Sender<CatchUpState>,
    max_backoff: Duration,
    mut stop: tokio::sync::broadcast::Receiver<()>,
) {
    let mut failures = 0;
    loop {
        match recover(&js, &school, &store, |_| {}).await {
            Ok(report) => {
                if let Err(e) = store.mark_caught_up(report.head_seq, Utc::now()).await {
                    warn!(error = %e, "the catch-up's mark could not be cleared; it runs again at the next start");
                }
                writer.log_changed();
                // The files attached after the backup was taken are in the bucket only.
                if let Err(e) = recover_files(&js, &school, &store, &evidence).await {
                    warn!(error = %e, "evidence files were not recovered; the log is");
                }
                info!(
                    head_seq = report.head_seq,
                    events = report.events,
                    "caught up from the district; commands are accepted"
                );
                let status = if report.divergences.is_empty() {
                    String::new()
                } else {
                    format!(
                        "Phòng GD-ĐT giữ {} sự kiện khác trùng số thứ tự; đã giữ sự kiện Phòng đã nhận trước.",
                        report.divergences.len()
                    )
                };
                state.send_replace(CatchUpState {
                    catching_up: false,
                    status,
                });
                return;
            }
            Err(e) => {
                failures += 1;
                warn!(error = %e, failures, "cannot catch up from the district yet");
                state.send_replace(CatchUpState {
                    catching_up: true,
                    status: catch_up_status(&e),
                });
                let pause = if e.is_transient() {
                    crate::relay::backoff(failures, max_backoff)
                } else {
                    max_backoff
                };
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.recv() => return,
                }
            }
        }
    }
}

/// At every other start, once the district answers: a cheap look (its last message on the
/// school's subject) at whether it holds seqs beyond the local head — a reinstall that
/// restored nothing, or an old backup put back by hand. With an empty local log that nobody
/// has written to yet, the log catches up at once (commands refused meanwhile); otherwise the
/// finding is logged and shown in the status, for someone to stop the agent and restore.
#[allow(clippy::too_many_arguments)]
pub async fn check_district_head(
    js: jetstream::Context,
    school: SchoolAddress,
    store: Store,
    evidence: crate::evidence::EvidenceStore,
    writer: crate::writer::Writer,
    state: tokio::sync::watch::Sender<CatchUpState>,
    max_backoff: Duration,
    stop: tokio::sync::broadcast::Receiver<()>,
) {
    let mut stop = stop;
    let mut failures = 0;
    let district_seq = loop {
        match event_bus::recover::last_message(&js, &school).await {
            Ok(last) => {
                break last
                    .and_then(|m| own_envelope(&school, &m.payload))
                    .map_or(0, |(e, _)| e.seq);
            }
            Err(e) => {
                failures += 1;
                tracing::debug!(error = %e, "the district's head of this school is not known yet");
                tokio::select! {
                    _ = tokio::time::sleep(crate::relay::backoff(failures, max_backoff)) => {}
                    _ = stop.recv() => return,
                }
            }
        }
    };
    let local = match store.head_seq().await {
        Ok(head) => head,
        Err(e) => {
            warn!(error = %e, "cannot read the local head for the district check");
            return;
        }
    };
    if district_seq <= local {
        tracing::debug!(
            district_seq,
            local,
            "the district holds nothing beyond the local head"
        );
        return;
    }
    if local == 0 {
        warn!(
            district_seq,
            "the local log is empty but the district holds this school's events: catching up"
        );
        state.send_replace(CatchUpState {
            catching_up: true,
            status: "Sổ ở máy này trống nhưng Phòng GD-ĐT đã có sổ của trường: đang bổ sung."
                .into(),
        });
        // Re-check under the gate: nothing may have been written since.
        if matches!(store.head_seq().await, Ok(0)) {
            catch_up(
                js,
                school,
                store,
                evidence,
                writer,
                state,
                max_backoff,
                stop,
            )
            .await;
        } else {
            state.send_replace(CatchUpState::default());
        }
        return;
    }
    tracing::error!(
        district_seq,
        local_head = local,
        "the district holds seqs beyond this log's head: stop the agent and restore or recover the log"
    );
    state.send_replace(CatchUpState {
        catching_up: false,
        status: format!(
            "Phòng GD-ĐT đã nhận sổ của trường đến số {district_seq}, nhưng sổ ở máy này chỉ đến số {local}: \
             hãy dừng school-agent, khôi phục bản sao mới nhất (school-agent khoi-phuc-ban-sao) để sổ được bổ sung."
        ),
    });
}
