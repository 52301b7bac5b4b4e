//! The relay: publishes the outbox to JetStream in seq order, whenever the network allows.
//!
//! It reads the oldest unsent entries, publishes them pipelined with their CloudEvents headers
//! and `Nats-Msg-Id`, and marks sent only the prefix JetStream acknowledged
//! ([`event_bus::publish::publish_in_order`]). On any failure it backs off exponentially up to
//! `max_backoff` and tries again — for days if a school is offline that long — then resumes
//! from the first unacknowledged entry. Nothing here holds state that a restart would lose:
//! the outbox in SQLite is the whole truth.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use bytes::Bytes;
use chrono::Utc;
use event_bus::connect::{ComplaintKind, ServerComplaints};
use event_bus::headers::{CloudEventHeaders, source_for};
use event_bus::publish::{OutgoingEvent, publish_in_order};
use event_bus::subjects::{SchoolAddress, events_subject};
use tokio::sync::{Notify, broadcast};
use tracing::{debug, error, info, warn};

use crate::config::RelaySettings;
use crate::store::{OutboxEntry, Store};

/// Turns a stored event into what goes on the wire. The body is the stored JSON, byte for byte.
/// `head` is the newest seq in the log, sent along so the district knows the backlog.
pub fn outgoing(school: &SchoolAddress, entry: OutboxEntry, head: Option<u64>) -> OutgoingEvent {
    OutgoingEvent {
        subject: events_subject(school),
        headers: CloudEventHeaders {
            id: entry.id,
            source: source_for(school),
            event_type: entry.event_type,
            time: entry.occurred_at,
        },
        body: Bytes::from(entry.body),
        seq: entry.seq,
        outbox_head: head,
    }
}

/// After a round smaller than a full batch, wait this long before reading the outbox again, so
/// a steady trickle of commands is published in rounds rather than one relay transaction per
/// commit (each competes with the writer for SQLite's write lock).
const COALESCE: Duration = Duration::from_millis(15);

/// The delay before retry number `failures` (1-based): 250 ms doubling up to `max`.
pub fn backoff(failures: u32, max: Duration) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    Duration::from_millis(250u64.saturating_mul(1 << exp)).min(max)
}

#[derive(Debug)]
pub struct Relay {
    pub store: Store,
    pub jetstream: jetstream::Context,
    pub school: SchoolAddress,
    pub settings: RelaySettings,
    /// Poked by the writer after each commit.
    pub wakeup: Arc<Notify>,
    /// What the server refused on this connection: a denied publish is only a time-out here.
    pub complaints: Arc<ServerComplaints>,
}

/// The failure as the school's staff should read it: a refusal by the district's server when
/// the server said so during the attempt, the client's error otherwise.
fn explain(
    error: &dyn std::fmt::Display,
    complaint: Option<event_bus::connect::Complaint>,
) -> String {
    match complaint {
        Some(c) if c.kind == ComplaintKind::PermissionDenied => format!(
            "máy chủ của Phòng từ chối quyền gửi (permission denied): {} — kiểm tra mã trường trong cấu hình và khóa do Phòng cấp",
            c.message
        ),
        Some(c) => format!(
            "máy chủ của Phòng không chấp nhận khóa của trường (not authorized): {} — khóa đã bị thu hồi hoặc không đúng; liên hệ Phòng GD-ĐT",
            c.message
        ),
        None => error.to_string(),
    }
}

impl Relay {
    pub async fn run(self, mut shutdown: broadcast::Receiver<()>) {
        info!(school = %self.school, "relay started");
        let mut failures: u32 = 0;
        loop {
            let delay = match self.publish_once().await {
                Ok(0) => {
                    failures = 0;
                    // Idle: wait for the writer, with a periodic look in case a poke was missed.
                    tokio::select! {
                        _ = self.wakeup.notified() => continue,
                        _ = tokio::time::sleep(Duration::from_secs(30)) => continue,
                        _ = shutdown.recv() => break,
                    }
                }
                Ok(n) => {
                    failures = 0;
                    if n < self.settings.batch_size as usize {
                        tokio::select! {
                            _ = tokio::time::sleep(COALESCE) => {}
                            _ = shutdown.recv() => break,
                        }
                    }
                    continue;
                }
                Err(()) => {
                    failures = failures.saturating_add(1);
                    backoff(failures, self.settings.max_backoff())
                }
            };
            debug!(
                failures,
                delay_ms = delay.as_millis() as u64,
                "relay backing off"
            );
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.recv() => break,
            }
        }
        info!(school = %self.school, "relay stopped");
    }

    /// Publishes one batch. `Ok(n)`: n events acknowledged (0 = nothing to send);
    /// `Err(())`: a failure, already logged and recorded, so back off.
    async fn publish_once(&self) -> Result<usize, ()> {
        let started = Instant::now();
        let batch = match self.store.unsent(self.settings.batch_size).await {
            Ok(batch) => batch,
            Err(e) => {
                error!(error = %e, "relay cannot read the outbox");
                return Err(());
            }
        };
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return Ok(0);
        };
        let (first_seq, last_seq) = (first.seq, last.seq);
        let head = self.store.head_seq().await.ok();
        let events: Vec<OutgoingEvent> = batch
            .into_iter()
            .map(|e| outgoing(&self.school, e, head))
            .collect();
        let outcome = publish_in_order(&self.jetstream, &events, self.settings.ack_timeout()).await;
        let now = Utc::now();
        if outcome.acked > 0 {
            let acked_last = events[outcome.acked - 1].seq;
            if let Err(e) = self.store.mark_sent(first_seq, acked_last, now).await {
                // Published but not marked: the entries go out again and are deduplicated.
                error!(error = %e, first_seq, last_seq = acked_last, "relay cannot mark entries sent");
                return Err(());
            }
            debug!(
                first_seq,
                last_seq = acked_last,
                duplicates = outcome.duplicates,
                "published"
            );
        }
        match outcome.error {
            None => Ok(outcome.acked),
            Some(err) => {
                let complaint = self.complaints.since(started);
                let reason = explain(&err, complaint.clone());
                if complaint.is_some() {
                    error!(error = %err, %reason, first_seq, last_seq, acked = outcome.acked, "the district's NATS server refused the relay; will retry");
                } else {
                    warn!(error = %err, first_seq, last_seq, acked = outcome.acked, "relay could not publish; will retry");
                }
                let unsent_from = first_seq + outcome.acked as u64;
                if let Err(e) = self
                    .store
                    .record_failure(unsent_from, last_seq, &reason, now)
                    .await
                {
                    error!(error = %e, "relay cannot record its failure");
                }
                if outcome.acked > 0 {
                    Ok(outcome.acked)
                } else {
                    Err(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        let max = Duration::from_secs(30);
        assert_eq!(backoff(1, max), Duration::from_millis(250));
        assert_eq!(backoff(2, max), Duration::from_millis(500));
        assert_eq!(backoff(5, max), Duration::from_secs(4));
        assert_eq!(backoff(40, max), max);
    }
}
