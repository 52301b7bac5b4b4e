//! Answering the district's re-send requests (`truyenthong.replay.<p>.<d>.<s>`).
//!
//! The school sits behind NAT: its own outbound NATS connection is the only way in, so the
//! district asks over NATS and the school re-publishes the requested range of its log on that
//! same connection. Only events already delivered once are re-sent here; anything still in the
//! outbox goes out through the relay, in order, as usual. One re-send runs at a time.

use std::sync::Arc;

use async_nats::jetstream;
use event_bus::publish::{OutgoingEvent, publish_in_order};
use event_bus::replay::{ReplayReply, ReplayRequest};
use event_bus::subjects::SchoolAddress;
use tokio::sync::Semaphore;
use tracing::{info, warn};

use crate::config::RelaySettings;
use crate::relay::outgoing;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct Resender {
    pub store: Store,
    pub jetstream: jetstream::Context,
    pub school: SchoolAddress,
    pub settings: RelaySettings,
    pub running: Arc<Semaphore>,
}

impl Resender {
    pub fn new(
        store: Store,
        jetstream: jetstream::Context,
        school: SchoolAddress,
        settings: RelaySettings,
    ) -> Self {
        Self {
            store,
            jetstream,
            school,
            settings,
            running: Arc::new(Semaphore::new(1)),
        }
    }

    /// Decides on a request and, when accepted, starts the re-send in the background.
    pub async fn handle(&self, request: ReplayRequest) -> ReplayReply {
        let status = match self.store.outbox_status().await {
            Ok(status) => status,
            Err(e) => {
                return ReplayReply::rejected(format!("the school's log is unavailable: {e}"));
            }
        };
        let delivered = status.last_published_seq;
        if request.from_seq > status.head_seq {
            return ReplayReply {
                accepted: false,
                from_seq: request.from_seq,
                to_seq: 0,
                head_seq: status.head_seq,
                message: format!(
                    "nothing to re-send: the newest event is seq {}",
                    status.head_seq
                ),
            };
        }
        let to_seq = request.to_seq.unwrap_or(status.head_seq).min(delivered);
        if to_seq < request.from_seq {
            return ReplayReply {
                accepted: true,
                from_seq: request.from_seq,
                to_seq,
                head_seq: status.head_seq,
                message: format!(
                    "events from seq {} are still in the outbox and will be delivered in order",
                    delivered + 1
                ),
            };
        }
        let Ok(permit) = self.running.clone().try_acquire_owned() else {
            return ReplayReply {
                accepted: false,
                from_seq: request.from_seq,
                to_seq,
                head_seq: status.head_seq,
                message: "a re-send is already under way; ask again when it ends".into(),
            };
        };
        let this = self.clone();
        let from_seq = request.from_seq;
        tokio::spawn(async move {
            this.resend(from_seq, to_seq).await;
            drop(permit);
        });
        ReplayReply {
            accepted: true,
            from_seq,
            to_seq,
            head_seq: status.head_seq,
            message: format!("re-sending seq {from_seq}..={to_seq}"),
        }
    }

    async fn resend(&self, from_seq: u64, to_seq: u64) {
        info!(school = %self.school, from_seq, to_seq, "re-sending events at the district's request");
        let mut next = from_seq;
        while next <= to_seq {
            let batch = match self
                .store
                .outgoing_between(next, to_seq, self.settings.batch_size)
                .await
            {
                Ok(batch) if !batch.is_empty() => batch,
                Ok(_) => break,
                Err(e) => {
                    warn!(error = %e, next, "re-send stopped: cannot read the log");
                    return;
                }
            };
            let head = self.store.head_seq().await.ok();
            let events: Vec<OutgoingEvent> = batch
                .into_iter()
                .map(|e| outgoing(&self.school, e, head))
                .collect();
            let outcome =
                publish_in_order(&self.jetstream, &events, self.settings.ack_timeout()).await;
            next += outcome.acked as u64;
            if let Some(err) = outcome.error {
                warn!(error = %err, next, to_seq, "re-send stopped; the district will ask again");
                return;
            }
        }
        info!(school = %self.school, from_seq, to_seq, "re-send done");
    }
}
