//! Replaying the district stream into the new schema: a reader task pulls and decodes the
//! stream from its first message, and the applier feeds it to the live ingest's own code,
//! pointed at the new schema, batch after batch.

use std::time::Duration;

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::warn;

use super::RebuildOptions;
use crate::decode::{Decoded, Decoder, Received};
use crate::ingest::pipeline::InFlight;
use crate::ingest::{self, Ingest};

/// Feeds stream messages to the projection in batches, the way the live ingest does: a batch
/// is prepared in memory while the one before commits, in parts committed in parallel
/// ([`crate::ingest::pipeline`]); what cannot be prepared so (the first batch, a district
/// event, a dead letter, a gap) or whose commit failed is applied on the careful path, with
/// retries.
pub(super) struct Applier {
    ingest: Ingest,
    rx: Chunks,
    batch_size: usize,
    idle_timeout: Duration,
    /// The batch committing in the background, and its highest stream sequence.
    in_flight: Option<(InFlight, u64)>,
    /// The highest stream sequence applied (committed).
    pub(super) reached: u64,
    /// Messages applied (committed).
    pub(super) applied: u64,
    /// Time spent waiting for the stream.
    pub(super) waited: Duration,
    /// Batches that took the pipelined path, and batches applied carefully.
    pub(super) pipelined: u64,
    pub(super) careful: u64,
}

impl Applier {
    /// Applies what `rx` delivers through `ingest` (pointed at the new schema), in batches
    /// of `options.batch_size`.
    pub(super) fn new(ingest: Ingest, rx: Chunks, options: &RebuildOptions) -> Self {
        Self {
            ingest,
            rx,
            batch_size: options.batch_size.max(1),
            idle_timeout: options.idle_timeout,
            in_flight: None,
            reached: 0,
            applied: 0,
            waited: Duration::ZERO,
            pipelined: 0,
            careful: 0,
        }
    }

    /// Applies messages until stream sequence `target` is applied, calling `on_batch` with the
    /// running count after each batch. Returns with nothing in flight.
    pub(super) async fn catch_up(
        &mut self,
        target: u64,
        mut on_batch: impl FnMut(u64),
    ) -> anyhow::Result<()> {
        while self.reached.max(self.in_flight_end()) < target {
            let waiting = Instant::now();
            let received = tokio::time::timeout(self.idle_timeout, self.rx.recv()).await;
            self.waited += waiting.elapsed();
            let mut batch = match received {
                Err(_) => bail!(
                    "the district stream delivered nothing for {:?} while messages up to stream seq {target} are due (at {})",
                    self.idle_timeout,
                    self.reached
                ),
                Ok(None) => bail!("the stream reader stopped"),
                Ok(Some(Err(e))) => bail!("reading the district stream: {e}"),
                Ok(Some(Ok(chunk))) => chunk,
            };
            while batch.len() < self.batch_size {
                match self.rx.try_recv() {
                    Ok(Ok(chunk)) => batch.extend(chunk),
                    Ok(Err(e)) => bail!("reading the district stream: {e}"),
                    Err(_) => break,
                }
            }
            let last = batch
                .iter()
                .map(|d| d.received().stream_seq)
                .max()
                .unwrap_or(0);
            // Prepared while the batch before commits; dropped if that commit fails.
            let mut prepared = self.ingest.prepare(&batch);
            if self.land().await? {
                prepared = None;
            }
            match prepared {
                Some(prepared) => {
                    let flight = self.ingest.launch(prepared, batch, Vec::new());
                    self.in_flight = Some((flight, last));
                    self.pipelined += 1;
                }
                None => {
                    self.careful += 1;
                    self.apply(&batch).await?;
                    self.applied += batch.len() as u64;
                    self.reached = self.reached.max(last);
                }
            }
            on_batch(self.applied);
        }
        self.land().await?;
        Ok(())
    }

    /// The highest stream sequence of the batch in flight (0 when none).
    fn in_flight_end(&self) -> u64 {
        self.in_flight.as_ref().map_or(0, |(_, last)| *last)
    }

    /// Waits for the batch in flight, if any, and applies again what of it failed. `true`
    /// when something failed (then the caches were dropped, and what was prepared on top of
    /// that batch must not be used).
    async fn land(&mut self) -> anyhow::Result<bool> {
        let Some((flight, last)) = self.in_flight.take() else {
            return Ok(false);
        };
        let messages = flight.messages() as u64;
        let failed = self.ingest.land_replay(flight).await;
        let redone = !failed.is_empty();
        if redone {
            self.careful += 1;
            self.apply(&failed).await?;
        }
        self.applied += messages;
        self.reached = self.reached.max(last);
        Ok(redone)
    }

    /// One batch on the careful path, retried with backoff while PostgreSQL is unavailable.
    /// Values PostgreSQL refuses are dead-lettered by the ingest itself, as live.
    async fn apply(&mut self, batch: &[Decoded]) -> anyhow::Result<()> {
        const ATTEMPTS: u32 = 8;
        let mut failures = 0;
        loop {
            match self.ingest.apply_decoded(batch).await {
                Ok(_) => return Ok(()),
                Err(e) => {
                    failures += 1;
                    let first = batch
                        .first()
                        .map(|d| d.received().stream_seq)
                        .unwrap_or_default();
                    if failures >= ATTEMPTS {
                        return Err(e).with_context(|| {
                            format!(
                                "applying the batch from stream seq {first} ({failures} attempts)"
                            )
                        });
                    }
                    warn!(error = %e, first_stream_seq = first, failures, "rebuild batch not committed; retrying");
                    tokio::time::sleep(ingest::backoff(failures, Duration::from_secs(5))).await;
                }
            }
        }
    }
}

/// Messages asked for per pull while reading the stream. The ordered consumer of async-nats
/// pulls 500 at a time; pulling more per request read the stream about a quarter faster
/// (≈ 95k against 120k msgs/s on the 2-core bench machine, client and server together).
pub const READ_BATCH: usize = 5_000;
/// How often the server must show it is alive while a pull waits.
const READ_HEARTBEAT: Duration = Duration::from_secs(5);

/// Reads the district stream from the start with an ephemeral pull consumer that needs no
/// acknowledgements (as an ordered consumer, with larger pulls), in chunks of what is ready,
/// until the receiver goes away. Recreates the consumer after the last sequence kept when it
/// fails or a delivery is missing; gives up (and says so) after repeated failures.
async fn read_stream(
    js: jetstream::Context,
    stream_name: String,
    filter: String,
    chunk: usize,
    decoder: Decoder,
    tx: mpsc::Sender<Result<Vec<Decoded>, String>>,
) {
    const MAX_FAILURES: u32 = 10;
    let mut next_seq = 1_u64;
    let mut failures = 0_u32;
    loop {
        let failure: String = 'read: {
            let stream = match js.get_stream(&stream_name).await {
                Ok(stream) => stream,
                Err(e) => break 'read e.to_string(),
            };
            let deliver_policy = if next_seq <= 1 {
                DeliverPolicy::All
            } else {
                DeliverPolicy::ByStartSequence {
                    start_sequence: next_seq,
                }
            };
            let config = pull::Config {
                description: Some("truyenthong district aggregator rebuild (ephemeral)".into()),
                filter_subject: filter.clone(),
                deliver_policy,
                ack_policy: AckPolicy::None,
                // Gone soon after this reader is (the server forgets an idle ephemeral).
                inactive_threshold: Duration::from_secs(60),
                ..Default::default()
            };
            let consumer = match stream.create_consumer(config).await {
                Ok(consumer) => consumer,
                Err(e) => break 'read e.to_string(),
            };
            let messages = match consumer
                .stream()
                .max_messages_per_batch(READ_BATCH)
                .heartbeat(READ_HEARTBEAT)
                .messages()
                .await
            {
                Ok(messages) => messages,
                Err(e) => break 'read e.to_string(),
            };
            // Every delivery of this consumer in order: a consumer sequence that skips means a
            // message was lost on the way, and the read starts again after the last one kept.
            let mut delivered = 0_u64;
            let mut chunks = messages.ready_chunks(chunk);
            while let Some(items) = chunks.next().await {
                let mut out = Vec::with_capacity(items.len());
                let mut error = None;
                for item in items {
                    match item.map_err(|e| e.to_string()).and_then(|mut m| {
                        let info = m.info().map_err(|e| e.to_string())?;
                        if info.delivered != 1 || info.consumer_sequence != delivered + 1 {
                            return Err(format!(
                                "delivery out of order: consumer sequence {} after {delivered}",
                                info.consumer_sequence
                            ));
                        }
                        delivered = info.consumer_sequence;
                        Received::from_message(&mut m)
                    }) {
                        Ok(received) => {
                            next_seq = received.stream_seq + 1;
                            out.push(decoder.decode(received));
                        }
                        Err(e) => {
                            error = Some(e);
                            break;
                        }
                    }
                }
                if !out.is_empty() {
                    failures = 0;
                    if tx.send(Ok(out)).await.is_err() {
                        return;
                    }
                }
                if let Some(e) = error {
                    break 'read e;
                }
            }
            "the stream's consumer ended".to_owned()
        };
        failures += 1;
        if failures >= MAX_FAILURES {
            let _ = tx.send(Err(failure)).await;
            return;
        }
        warn!(error = %failure, failures, next_seq, "reading the district stream failed; reading on from where it stopped");
        tokio::time::sleep(ingest::backoff(failures, Duration::from_secs(5))).await;
    }
}

/// Decoded messages as the reader delivers them, in chunks, or why it gave up.
pub(super) type Chunks = mpsc::Receiver<Result<Vec<Decoded>, String>>;

/// The reader task, stopped when dropped (a rebuild that fails or is interrupted leaves no
/// consumer reading behind it).
pub(super) struct Reader(tokio::task::JoinHandle<()>);

impl Reader {
    /// Starts reading `stream_name` (messages matching `filter`) from its first message;
    /// the reader decodes too, so decoding overlaps the previous batch's commit.
    pub(super) fn start(
        js: jetstream::Context,
        stream_name: &str,
        filter: &str,
        chunk: usize,
        decoder: Decoder,
    ) -> (Chunks, Reader) {
        let (tx, rx) = mpsc::channel(4);
        let task = tokio::spawn(read_stream(
            js,
            stream_name.to_owned(),
            filter.to_owned(),
            chunk,
            decoder,
            tx,
        ));
        (rx, Reader(task))
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.0.abort();
    }
}
