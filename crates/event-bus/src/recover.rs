//! Reading one school's own messages back from the district stream: how a school recovers its
//! log after it lost its PC or its disk (`school_agent::recovery`).
//!
//! The district stream holds every event a school delivered, so a school can get its whole log
//! back from it — but only its own: the school connects with its own identity and reads
//! through a consumer whose filter is its own events subject, named after the school
//! ([`consumer_name`], `recover-<school>`). Nothing else of the stream is readable to it.
//!
//! How it reads: the consumer is deleted if a crashed recovery left it, then created (no acks:
//! `AckPolicy::None`, delivered in stream order from the first message, or only the last
//! message for [`last_message`]); its info at creation says how many messages match
//! (`num_pending`); pull batches are fetched ([`SchoolReader`]) until that many have arrived;
//! the consumer is deleted at the end. A consumer left by a killed process goes away by itself after
//! [`INACTIVE_THRESHOLD`].
//!
//! Facts checked on nats-server 2.9.10 with async-nats 0.51 (the school's rights in
//! [`crate::permissions::school`] are exactly these; `district-admin`'s permission tests probe
//! them):
//! - async-nats creates a named consumer with a filter on
//!   `$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>`; the server refuses a create whose
//!   body's `filter_subject` differs from the filter in the subject (so the right to create
//!   `recover-<school>` with the school's own filter cannot be used to read another subject);
//! - pulling is `$JS.API.CONSUMER.MSG.NEXT.<stream>.<name>`, answered on the client's inbox
//!   (the school's own inbox prefix); with `AckPolicy::None` no `$JS.ACK` right is needed;
//! - deleting is `$JS.API.CONSUMER.DELETE.<stream>.<name>`; `Stream` handles are taken with
//!   `get_stream_no_info`, so no `STREAM.INFO` right is needed, nor `CONSUMER.INFO` (the
//!   create's answer carries the consumer's info).

use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use bytes::Bytes;
use futures::StreamExt as _;

use crate::subjects::{self, SchoolAddress};

/// Messages asked for per pull request.
const BATCH: usize = 1000;
/// How long one pull waits for its messages before it is asked again.
const PULL_EXPIRES: Duration = Duration::from_secs(5);
/// Pulls in a row that bring nothing before the read gives up (the server has the messages,
/// it said so when the consumer was created: nothing arriving means the line is down).
const EMPTY_PULLS: u32 = 3;
/// A recovery consumer nobody pulls from (its process was killed) is removed by the server.
pub const INACTIVE_THRESHOLD: Duration = Duration::from_secs(120);

/// The name of `school`'s recovery consumer: unique in the district's stream, since school
/// codes are unique in their district.
pub fn consumer_name(school: &SchoolAddress) -> String {
    format!("recover-{}", school.school())
}

/// One message of the school's subject, in stream order.
#[derive(Debug, Clone)]
pub struct StreamMessage {
    /// Its sequence in the district stream (0 when the server did not say).
    pub stream_seq: u64,
    /// The message body: the envelope bytes exactly as the school published them.
    pub payload: Bytes,
}

/// How far a read has come, for progress lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Messages received so far.
    pub received: u64,
    /// Messages the stream held for the school when the read began.
    pub total: u64,
}

/// Why the school's messages could not be read, grouped by what the caller does about it.
#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    /// NATS could not be reached, or stopped answering: try again later.
    #[error("the district's NATS is unavailable: {0}")]
    Unavailable(String),
    /// JetStream refused (no permission, no such stream): an operator must act.
    #[error("JetStream refused to read the school's events back: {0}")]
    Refused(String),
}

fn classify(e: impl std::fmt::Display) -> RecoverError {
    let text = e.to_string();
    let lower = text.to_lowercase();
    if lower.contains("timed out")
        || lower.contains("timeout")
        || lower.contains("no responders")
        || lower.contains("disconnected")
        || lower.contains("broken pipe")
    {
        RecoverError::Unavailable(text)
    } else {
        RecoverError::Refused(text)
    }
}

async fn open(
    js: &jetstream::Context,
    school: &SchoolAddress,
    deliver_policy: consumer::DeliverPolicy,
) -> Result<(jetstream::stream::Stream<()>, consumer::PullConsumer), RecoverError> {
    let stream_name = subjects::stream_name(school.province(), school.district())
        .map_err(|e| RecoverError::Refused(e.to_string()))?;
    let stream = js
        .get_stream_no_info(&stream_name)
        .await
        .map_err(classify)?;
    let name = consumer_name(school);
    // A consumer left by a recovery that was killed: start afresh. Not found is fine.
    if let Err(e) = stream.delete_consumer(&name).await {
        let text = e.to_string();
        if !text.contains("not found") && !text.contains("10014") {
            return Err(classify(text));
        }
    }
    let consumer = stream
        .create_consumer(consumer::pull::Config {
            name: Some(name),
            filter_subject: subjects::events_subject(school),
            deliver_policy,
            ack_policy: consumer::AckPolicy::None,
            inactive_threshold: INACTIVE_THRESHOLD,
            ..Default::default()
        })
        .await
        .map_err(classify)?;
    Ok((stream, consumer))
}

async fn close(stream: &jetstream::stream::Stream<()>, school: &SchoolAddress) {
    if let Err(e) = stream.delete_consumer(&consumer_name(school)).await {
        tracing::warn!(error = %e, "the recovery consumer was not deleted; the server removes it when idle");
    }
}

/// A read of `school`'s messages in stream order: [`SchoolReader::next_batch`] until it
/// returns an empty batch, then [`SchoolReader::close`] (which deletes the consumer).
pub struct SchoolReader {
    stream: jetstream::stream::Stream<()>,
    consumer: consumer::PullConsumer,
    school: SchoolAddress,
    total: u64,
    received: u64,
}

impl std::fmt::Debug for SchoolReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchoolReader")
            .field("school", &self.school)
            .field("total", &self.total)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl SchoolReader {
    /// Opens a read of every message of `school`'s events subject, from the first.
    pub async fn open(
        js: &jetstream::Context,
        school: &SchoolAddress,
    ) -> Result<Self, RecoverError> {
        Self::open_with(js, school, consumer::DeliverPolicy::All).await
    }

    async fn open_with(
        js: &jetstream::Context,
        school: &SchoolAddress,
        policy: consumer::DeliverPolicy,
    ) -> Result<Self, RecoverError> {
        let (stream, consumer) = open(js, school, policy).await?;
        let total = consumer.cached_info().num_pending;
        Ok(Self {
            stream,
            consumer,
            school: school.clone(),
            total,
            received: 0,
        })
    }

    /// How far the read has come.
    pub fn progress(&self) -> Progress {
        Progress {
            received: self.received,
            total: self.total,
        }
    }

    /// The next messages in stream order; empty once all the stream held at the start were
    /// read.
    pub async fn next_batch(&mut self) -> Result<Vec<StreamMessage>, RecoverError> {
        let mut empty = 0u32;
        while self.received < self.total {
            let want = usize::try_from(self.total - self.received)
                .unwrap_or(BATCH)
                .min(BATCH);
            let mut batch = self
                .consumer
                .batch()
                .max_messages(want)
                .expires(PULL_EXPIRES)
                .messages()
                .await
                .map_err(classify)?;
            let mut out = Vec::with_capacity(want);
            while let Some(message) = batch.next().await {
                let message = message.map_err(classify)?;
                let stream_seq = message.info().map(|i| i.stream_sequence).unwrap_or(0);
                out.push(StreamMessage {
                    stream_seq,
                    payload: message.payload.clone(),
                });
                if out.len() >= want {
                    break;
                }
            }
            if !out.is_empty() {
                self.received += out.len() as u64;
                return Ok(out);
            }
            empty += 1;
            if empty >= EMPTY_PULLS {
                return Err(RecoverError::Unavailable(format!(
                    "no message arrived for {}s after {} of {}",
                    PULL_EXPIRES.as_secs() * u64::from(EMPTY_PULLS),
                    self.received,
                    self.total
                )));
            }
        }
        Ok(Vec::new())
    }

    /// Deletes the consumer (a failure is logged: the server removes it when idle).
    pub async fn close(self) {
        close(&self.stream, &self.school).await;
    }
}

/// The newest message of `school`'s events subject in the district stream, `None` when it
/// holds none: a cheap look at whether the district has seqs beyond a local head.
pub async fn last_message(
    js: &jetstream::Context,
    school: &SchoolAddress,
) -> Result<Option<StreamMessage>, RecoverError> {
    let mut reader = SchoolReader::open_with(js, school, consumer::DeliverPolicy::Last).await?;
    reader.total = reader.total.min(1);
    let batch = reader.next_batch().await;
    reader.close().await;
    Ok(batch?.pop())
}
