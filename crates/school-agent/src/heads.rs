//! Announcing the head of the school's log to the district while connected
//! (`event_bus::heads`): how a district that lost acknowledged events in a power cut learns it
//! is behind, without waiting for the school's next event. The district answers each
//! announcement with the school's receipt (`event_bus::receipts`), which [`keep_receipts`]
//! stores for the school app's *Phòng đã nhận*.

use std::sync::Arc;
use std::time::Duration;

use async_nats::connection::State;
use event_bus::heads::{self, Head};
use event_bus::subjects::SchoolAddress;
use futures::StreamExt as _;
use tokio::sync::{Notify, broadcast};
use tracing::{debug, info, warn};

use crate::store::Store;

/// Announces the head every `interval` while connected, and at once when `now` is notified
/// (the app's *Gửi ngay*, a relay batch delivered), until `stop`.
pub async fn announce_periodically(
    client: async_nats::Client,
    store: Store,
    school: SchoolAddress,
    interval: Duration,
    now: Arc<Notify>,
    mut stop: broadcast::Receiver<()>,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = now.notified() => {}
            _ = stop.recv() => return,
        }
        if client.connection_state() != State::Connected {
            continue;
        }
        let (seq, id) = match store.head().await {
            Ok(head) => head,
            Err(e) => {
                warn!(error = %e, "cannot read the log's head to announce it");
                continue;
            }
        };
        match heads::announce(&client, &school, Head { seq, id }).await {
            Ok(()) => debug!(seq, "head announced"),
            Err(e) => debug!(error = %e, "head not announced; next time"),
        }
    }
}

/// Keeps every receipt the district sends on the school's receipts subject, until `stop`.
/// The subscription survives reconnects (async-nats subscribes again).
pub async fn keep_receipts(
    client: async_nats::Client,
    store: Store,
    school: SchoolAddress,
    mut stop: broadcast::Receiver<()>,
) {
    let subject = event_bus::receipts::receipts_subject(&school);
    let mut receipts = loop {
        match client.subscribe(subject.clone()).await {
            Ok(subscriber) => break subscriber,
            Err(e) => {
                warn!(error = %e, %subject, "cannot listen for the district's receipts yet");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    _ = stop.recv() => return,
                }
            }
        }
    };
    info!(%subject, "listening for the district's receipts");
    loop {
        let message = tokio::select! {
            message = receipts.next() => message,
            _ = stop.recv() => return,
        };
        let Some(message) = message else {
            warn!("the receipts subscription ended");
            return;
        };
        let Some(receipt) = event_bus::receipts::parse(&message.payload) else {
            debug!("unreadable receipt ignored");
            continue;
        };
        match store.save_receipt(&receipt, chrono::Utc::now()).await {
            Ok(()) => debug!(
                applied_seq = receipt.applied_seq,
                refused = receipt.refused.len(),
                held = receipt.held.len(),
                "district receipt kept"
            ),
            Err(e) => warn!(error = %e, "cannot keep the district's receipt"),
        }
    }
}
