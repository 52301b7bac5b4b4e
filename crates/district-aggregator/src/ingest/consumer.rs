//! The consumer loop: pulls batches from the district's durable JetStream consumer, has each
//! applied (pipelined, or on the careful path with retries), and acknowledges it only after
//! its commit; reconnects and backs off when NATS or PostgreSQL fail.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::PullConsumer};
use chrono::Utc;
use futures::StreamExt;
use tokio::sync::broadcast;
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use super::bookkeeping::standing_gaps;
use super::pipeline::{self, Landed};
use super::{BatchReport, Ingest, IngestError, backoff};
use crate::db::use_projection;
use crate::decode::{Decoded, Received};

/// How long a pull request lives on the server before the client renews it.
const PULL_EXPIRES: Duration = Duration::from_secs(30);

impl Ingest {
    /// Loads the gaps standing in the projection (held events from before a restart), so the
    /// replayer asks for them without waiting for new traffic.
    pub async fn load_gaps(&self) -> Result<(), IngestError> {
        let mut tx = self.pool.begin().await?;
        use_projection(&mut tx, &self.schema).await?;
        let gaps = standing_gaps(&mut tx).await?;
        tx.commit().await?;
        for gap in gaps {
            self.state.gaps.update(
                &gap.author,
                gap.applied_seq,
                Some((gap.first_held, gap.held)),
            );
        }
        Ok(())
    }

    /// Consumes until `shutdown` fires. Never returns early: NATS and PostgreSQL failures
    /// are logged and retried with backoff.
    pub async fn run(mut self, mut shutdown: broadcast::Receiver<()>) {
        info!(province = %self.province, district = %self.district, consumer = %self.settings.consumer, "ingest started");
        match self.release_known_versions().await {
            Ok(0) => {}
            Ok(released) => info!(
                released,
                "held events of versions this aggregator now knows applied"
            ),
            Err(e) => {
                warn!(error = %e, "cannot retry the events held for an unknown version; they are retried at the next start")
            }
        }
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
    pub(super) async fn commit_carefully(
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
    pub(super) async fn acknowledge(&self, ackable: &[jetstream::Message]) {
        for message in ackable {
            if let Err(e) = message.ack().await {
                // Committed already: a redelivery will be a duplicate.
                warn!(error = %e, "ack failed; the message will come again and be recognised");
            }
        }
    }

    pub(super) fn after_commit(&self, report: BatchReport) {
        for p in &report.positions {
            self.state.gaps.update(&p.author, p.applied_seq, p.gap);
        }
        debug!(
            messages = report.messages,
            applied = report.applied,
            duplicates = report.duplicates,
            held = report.held,
            dead_lettered = report.dead_lettered,
            divergences = report.divergences,
            "batch committed"
        );
        self.state.update(|c| {
            c.batches += 1;
            c.messages += report.messages;
            c.applied += report.applied;
            c.duplicates += report.duplicates;
            c.held += report.held;
            c.dead_lettered += report.dead_lettered;
            c.divergences += report.divergences;
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
}
