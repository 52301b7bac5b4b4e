//! Announcing the head of the school's log to the district while connected
//! (`event_bus::heads`): how a district that lost acknowledged events in a power cut learns it
//! is behind, without waiting for the school's next event.

use std::time::Duration;

use async_nats::connection::State;
use event_bus::heads::{self, Head};
use event_bus::subjects::SchoolAddress;
use tokio::sync::broadcast;
use tracing::{debug, warn};

use crate::store::Store;

/// Announces the head every `interval` while connected, until `stop`.
pub async fn announce_periodically(
    client: async_nats::Client,
    store: Store,
    school: SchoolAddress,
    interval: Duration,
    mut stop: broadcast::Receiver<()>,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
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
