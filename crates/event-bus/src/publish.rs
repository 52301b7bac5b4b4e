//! Publishing a school's outbox to JetStream in `seq` order, pipelined, with an honest count
//! of what was acknowledged.
//!
//! The outbox relay of the school agent hands a batch of unsent events, in `seq` order, to
//! [`publish_in_order`] and marks as sent exactly the first [`PublishOutcome::acked`] of
//! them. Everything after that prefix stays in the outbox and is offered again next time.
//!
//! Why only the acknowledged *prefix* counts, even when later acks did arrive:
//!
//! * **In order.** The outbox's "sent" mark is then always a prefix of the log: there is never
//!   an unsent event below a sent one, so the relay's state is one number (the highest sent
//!   `seq`) and the next attempt resumes exactly at the first gap. Marking a later event sent
//!   while an earlier one failed would let the relay move on past a hole the district would
//!   then wait on for ever.
//! * **Exactly once.** Every event is published with `Nats-Msg-Id` = its event id, and the
//!   district stream drops a second copy of an id seen within its duplicate window (10
//!   minutes). Re-sending events after the failed one — including ones JetStream had in fact
//!   stored — therefore stores nothing twice; their ack says `duplicate`. At-least-once
//!   sending plus id de-duplication is exactly-once storing, and the aggregator's
//!   `(school, seq)` check covers re-sends that come after the window.
//!
//! One thing a pipelined publish cannot promise: if event *k* is lost (say the connection
//! broke just as it was written) while *k+1*, still in the client's buffer, goes out after the
//! reconnect, the stream holds *k+1* before the re-sent *k*. The aggregator holds such a gap
//! until *k* arrives (invariant 3), so it is slower, never wrong.
//!
//! The district office's own events, which any aggregator of the district may publish, go
//! out one at a time with [`publish_if_last`]: JetStream stores each only if its subject's
//! last message is the one the publisher read, so two publishers cannot both be told they
//! stored the same seq.

use std::collections::VecDeque;
use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::{
    self,
    context::{PublishAckFuture, PublishErrorKind},
    publish::PublishAck,
};
use bytes::Bytes;

use crate::headers::{CloudEventHeaders, HeaderError};

/// How many publishes may await their acks at once. Keeps memory and the server's pending
/// work bounded on a large backlog, and stays below async-nats' default limit on in-flight
/// acks (5 000), so a [`jetstream::Context`] built with default settings never refuses.
pub const PIPELINE_WINDOW: usize = 256;

/// One outbox entry, ready for the wire.
#[derive(Debug, Clone)]
pub struct OutgoingEvent {
    /// The school's events subject ([`crate::subjects::events_subject`]).
    pub subject: String,
    /// Its CloudEvents headers; `headers.id` becomes the `Nats-Msg-Id`.
    pub headers: CloudEventHeaders,
    /// The event's JSON.
    pub body: Bytes,
    /// The event's per-school `seq`, for error reports.
    pub seq: u64,
    /// The newest `seq` in the publisher's log when it published, sent as
    /// [`OUTBOX_HEAD_HEADER`], so the district sees how far behind a school still is as of its
    /// last message, without any other subject. `None` leaves the header out.
    pub outbox_head: Option<u64>,
}

/// The header carrying [`OutgoingEvent::outbox_head`].
pub const OUTBOX_HEAD_HEADER: &str = "Tt-Outbox-Head";

/// Why publishing stopped at an event, grouped by what the relay does about it.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Not connected, no ack in time, or no stream answered: nothing is wrong with the event.
    /// Try again later, from this event on.
    #[error("event seq {seq} was not acknowledged: NATS unavailable: {reason}")]
    Unavailable {
        /// The event's `seq`.
        seq: u64,
        /// What happened.
        reason: String,
    },
    /// JetStream answered with an error for this event (e.g. it is too large for the stream).
    /// Retrying the same bytes will fail again: report it.
    #[error("event seq {seq} was rejected by JetStream: {reason}")]
    Rejected {
        /// The event's `seq`.
        seq: u64,
        /// JetStream's reason.
        reason: String,
    },
    /// The event could not even be put on the wire (bad headers, larger than the server's
    /// max payload, invalid subject): a bug or corrupt outbox entry, not a network problem.
    #[error("event seq {seq} cannot be published: {reason}")]
    Invalid {
        /// The event's `seq`.
        seq: u64,
        /// What is wrong with it.
        reason: String,
    },
}

impl PublishError {
    /// The `seq` of the event publishing stopped at.
    pub fn seq(&self) -> u64 {
        match self {
            PublishError::Unavailable { seq, .. }
            | PublishError::Rejected { seq, .. }
            | PublishError::Invalid { seq, .. } => *seq,
        }
    }

    fn from_nats(seq: u64, err: &jetstream::context::PublishError) -> Self {
        let reason = err.to_string();
        match err.kind() {
            PublishErrorKind::TimedOut
            | PublishErrorKind::BrokenPipe
            | PublishErrorKind::MaxAckPending
            | PublishErrorKind::StreamNotFound => PublishError::Unavailable { seq, reason },
            PublishErrorKind::MaxPayloadExceeded => PublishError::Invalid { seq, reason },
            PublishErrorKind::WrongLastMessageId
            | PublishErrorKind::WrongLastSequence
            | PublishErrorKind::Other => {
                // `Other` covers both a JetStream error reply and local failures (an invalid
                // subject, a closed client). The source tells them apart.
                if is_jetstream_reply(err) {
                    PublishError::Rejected { seq, reason }
                } else {
                    PublishError::Unavailable { seq, reason }
                }
            }
        }
    }

    fn from_headers(seq: u64, err: &HeaderError) -> Self {
        PublishError::Invalid {
            seq,
            reason: err.to_string(),
        }
    }
}

fn is_jetstream_reply(err: &jetstream::context::PublishError) -> bool {
    use std::error::Error as _;
    err.source()
        .is_some_and(|source| source.is::<jetstream::Error>())
}

/// What [`publish_in_order`] achieved.
#[derive(Debug, Default)]
pub struct PublishOutcome {
    /// Length of the acknowledged prefix of the batch: events `[0, acked)` are stored in
    /// JetStream and may be marked sent.
    pub acked: usize,
    /// Why publishing stopped before the end of the batch; `None` when all were acked.
    pub error: Option<PublishError>,
    /// How many of the acked prefix JetStream reported as duplicates (already stored).
    pub duplicates: usize,
}

impl PublishOutcome {
    /// Whether the whole batch was acknowledged.
    pub fn is_complete(&self) -> bool {
        self.error.is_none()
    }
}

/// Publishes `events` in order and returns the acknowledged prefix. See the module
/// documentation for why only the prefix counts.
///
/// Publishes are pipelined: up to [`PIPELINE_WINDOW`] are sent before the oldest ack is
/// awaited, and acks are awaited in order. Each ack may take up to `ack_timeout`, measured
/// from when it starts being awaited. At the first failure nothing more is sent and later
/// acks are ignored (they may well be stored; re-sending them is safe).
///
/// `events` must be in increasing `seq` order; publishing stops with
/// [`PublishError::Invalid`] at an event that is not.
///
/// If the client is not connected the batch fails at once with
/// [`PublishError::Unavailable`] and `acked == 0`, instead of queueing publishes in the
/// client's buffer where they would go out, stale, at the next reconnect.
pub async fn publish_in_order(
    js: &jetstream::Context,
    events: &[OutgoingEvent],
    ack_timeout: Duration,
) -> PublishOutcome {
    let mut outcome = PublishOutcome::default();
    let Some(first) = events.first() else {
        return outcome;
    };
    let state = js.client().connection_state();
    if state != State::Connected {
        outcome.error = Some(PublishError::Unavailable {
            seq: first.seq,
            reason: format!("not connected to NATS ({state})"),
        });
        return outcome;
    }

    // A clone shares the connection and in-flight limit; only its timeout is ours.
    let mut js = js.clone();
    js.set_timeout(ack_timeout);

    let mut in_flight: VecDeque<(u64, PublishAckFuture)> =
        VecDeque::with_capacity(PIPELINE_WINDOW.min(events.len()));
    let mut send_error = None;
    let mut previous_seq = None;
    for event in events {
        if in_flight.len() >= PIPELINE_WINDOW
            && let Some((seq, ack)) = in_flight.pop_front()
            && let Err(err) = await_ack(seq, ack, &mut outcome).await
        {
            outcome.error = Some(err);
            return outcome;
        }
        if let Some(previous) = previous_seq
            && event.seq <= previous
        {
            send_error = Some(PublishError::Invalid {
                seq: event.seq,
                reason: format!(
                    "it follows seq {previous}; a batch must be in increasing seq order"
                ),
            });
            break;
        }
        previous_seq = Some(event.seq);
        let headers = match event.headers.to_header_map() {
            Ok(mut headers) => {
                if let Some(head) = event.outbox_head {
                    headers.insert(OUTBOX_HEAD_HEADER, head.to_string().as_str());
                }
                headers
            }
            Err(err) => {
                send_error = Some(PublishError::from_headers(event.seq, &err));
                break;
            }
        };
        match js
            .publish_with_headers(event.subject.clone(), headers, event.body.clone())
            .await
        {
            Ok(ack) => in_flight.push_back((event.seq, ack)),
            Err(err) => {
                send_error = Some(PublishError::from_nats(event.seq, &err));
                break;
            }
        }
    }
    // Acks of everything sent, in order; an earlier failure wins over a later send error.
    while let Some((seq, ack)) = in_flight.pop_front() {
        if let Err(err) = await_ack(seq, ack, &mut outcome).await {
            outcome.error = Some(err);
            return outcome;
        }
    }
    outcome.error = send_error;
    outcome
}

async fn await_ack(
    seq: u64,
    ack: PublishAckFuture,
    outcome: &mut PublishOutcome,
) -> Result<PublishAck, PublishError> {
    let ack = ack
        .await
        .map_err(|err| PublishError::from_nats(seq, &err))?;
    outcome.acked += 1;
    if ack.duplicate {
        outcome.duplicates += 1;
    }
    Ok(ack)
}

/// The JetStream header that makes a publish conditional: the stream stores the message only
/// if the last message on its subject is at this stream sequence (`0`: there is none).
pub const EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER: &str = "Nats-Expected-Last-Subject-Sequence";

/// Why [`publish_if_last`] did not store its event.
#[derive(Debug, thiserror::Error)]
pub enum ConditionalPublishError {
    /// Another message was stored on the subject after stream sequence `expected`: another
    /// publisher got there first. Nothing was stored.
    #[error(
        "event seq {seq} was refused: the last message on {subject} is no longer at stream \
         seq {expected} (another publisher stored one first); nothing was stored"
    )]
    Conflict {
        seq: u64,
        subject: String,
        expected: u64,
    },
    #[error(transparent)]
    Failed(#[from] PublishError),
}

/// Publishes one event only if the last message on its subject is still at stream sequence
/// `expected_last` (`0` when the subject has none), with
/// [`EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER`]: of two publishers that read the same last
/// message, only one gets an acknowledgement. Returns the stream sequence the event was
/// stored at, which the next publish on the subject expects.
pub async fn publish_if_last(
    js: &jetstream::Context,
    event: &OutgoingEvent,
    expected_last: u64,
    ack_timeout: Duration,
) -> Result<u64, ConditionalPublishError> {
    let mut headers = event
        .headers
        .to_header_map()
        .map_err(|err| PublishError::from_headers(event.seq, &err))?;
    if let Some(head) = event.outbox_head {
        headers.insert(OUTBOX_HEAD_HEADER, head.to_string().as_str());
    }
    headers.insert(
        EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER,
        expected_last.to_string().as_str(),
    );
    let ack = js
        .publish_with_headers(event.subject.clone(), headers, event.body.clone())
        .await
        .map_err(|err| PublishError::from_nats(event.seq, &err))?;
    let ack = match tokio::time::timeout(ack_timeout, ack).await {
        Err(_) => {
            return Err(PublishError::Unavailable {
                seq: event.seq,
                reason: format!("no acknowledgement within {ack_timeout:?}"),
            }
            .into());
        }
        Ok(Err(err)) if err.kind() == PublishErrorKind::WrongLastSequence => {
            return Err(ConditionalPublishError::Conflict {
                seq: event.seq,
                subject: event.subject.clone(),
                expected: expected_last,
            });
        }
        Ok(result) => result.map_err(|err| PublishError::from_nats(event.seq, &err))?,
    };
    Ok(ack.sequence)
}
