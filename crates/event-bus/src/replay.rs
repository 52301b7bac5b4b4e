//! Re-send requests: the district asks a school to publish its events again from a `seq`.
//!
//! The district aggregator finds a gap (it has a school's seq 5, then gets 7) or rebuilds, and
//! asks with a NATS request on `truyenthong.replay.<province>.<district>.<school>`. The school
//! agent, which only ever makes outbound connections, is subscribed there and answers on the
//! request's reply subject, over that same connection; its NATS user needs no more than
//! "subscribe to my replay subject" and "answer requests made to me" (`allow_responses`).
//!
//! The reply only says whether the school will re-send, and what range; the events themselves
//! go the normal way, through the school's outbox relay onto its events subject, so they keep
//! their ids and de-duplicate.
//!
//! Wire format: JSON bodies, [`ReplayRequest`] and [`ReplayReply`].

use std::future::Future;
use std::time::Duration;

use async_nats::{Client, RequestErrorKind};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::subjects::{SchoolAddress, replay_subject};

/// How long [`serve_replay_requests`] waits, at shutdown, for the server to confirm the
/// unsubscription.
const SHUTDOWN_FLUSH_TIMEOUT: Duration = Duration::from_secs(1);

/// A request to re-send a school's events from `from_seq` up to `to_seq` (inclusive), or up
/// to its newest event when `to_seq` is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayRequest {
    /// First `seq` to re-send (seqs start at 1).
    pub from_seq: u64,
    /// Last `seq` to re-send; `None` means the school's newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_seq: Option<u64>,
}

impl ReplayRequest {
    /// Checks the range: `from_seq` at least 1 and not above `to_seq`.
    pub fn validate(&self) -> Result<(), String> {
        if self.from_seq == 0 {
            return Err("from_seq must be at least 1 (seqs start at 1)".into());
        }
        if let Some(to_seq) = self.to_seq
            && to_seq < self.from_seq
        {
            return Err(format!(
                "to_seq {to_seq} is below from_seq {}",
                self.from_seq
            ));
        }
        Ok(())
    }
}

/// The school's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayReply {
    /// Whether the school will re-send the range.
    pub accepted: bool,
    /// First `seq` it will re-send (as requested, when accepted).
    pub from_seq: u64,
    /// Last `seq` it will re-send (its newest when the request left it open, capped at it).
    pub to_seq: u64,
    /// The school's newest `seq` at the time of answering; 0 when unknown or empty.
    pub head_seq: u64,
    /// Human-readable detail; the reason when not accepted.
    pub message: String,
}

impl ReplayReply {
    /// A refusal with its reason; ranges are zero.
    pub fn rejected(message: impl Into<String>) -> Self {
        ReplayReply {
            accepted: false,
            from_seq: 0,
            to_seq: 0,
            head_seq: 0,
            message: message.into(),
        }
    }
}

/// Why a re-send request got no usable answer, grouped by what the district does about it.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The requested range is invalid; nothing was sent.
    #[error("invalid re-send range: {0}")]
    InvalidRange(String),
    /// Nobody listens on the school's replay subject: the school agent is offline. Normal for
    /// a school PC; ask again later.
    #[error("school {0} is offline (no responders on its replay subject)")]
    SchoolOffline(SchoolAddress),
    /// No answer in time, or NATS itself is unreachable: ask again later.
    #[error("re-send request to school {school} failed: {reason}")]
    Unavailable {
        /// The school asked.
        school: SchoolAddress,
        /// What happened.
        reason: String,
    },
    /// The school answered something that is not a [`ReplayReply`]: a version mismatch or a
    /// bug on the school side.
    #[error("school {school} sent an unreadable re-send reply: {reason}")]
    InvalidReply {
        /// The school asked.
        school: SchoolAddress,
        /// The parse error.
        reason: String,
    },
}

/// District side: asks `school` to re-send `from_seq..=to_seq` (or to its newest) and waits up
/// to `timeout` for the answer. A refusal is an `Ok` reply with `accepted: false`.
pub async fn request_replay(
    client: &Client,
    school: &SchoolAddress,
    from_seq: u64,
    to_seq: Option<u64>,
    timeout: Duration,
) -> Result<ReplayReply, ReplayError> {
    let request = ReplayRequest { from_seq, to_seq };
    request.validate().map_err(ReplayError::InvalidRange)?;
    let payload =
        serde_json::to_vec(&request).map_err(|err| ReplayError::InvalidRange(err.to_string()))?;
    let message = client
        .send_request(
            replay_subject(school),
            async_nats::Request::new()
                .payload(payload.into())
                .timeout(Some(timeout)),
        )
        .await
        .map_err(|err| match err.kind() {
            RequestErrorKind::NoResponders => ReplayError::SchoolOffline(school.clone()),
            _ => ReplayError::Unavailable {
                school: school.clone(),
                reason: err.to_string(),
            },
        })?;
    serde_json::from_slice(&message.payload).map_err(|err| ReplayError::InvalidReply {
        school: school.clone(),
        reason: err.to_string(),
    })
}

/// School side: answers re-send requests for `school` until `shutdown` fires (or its sender
/// is dropped).
///
/// Each request is parsed and range-checked here; a malformed one is answered with
/// `accepted: false` and the reason, without bothering `handler`. Valid ones are passed to
/// `handler`, whose reply is sent back. Requests are handled one at a time, so `handler`
/// should only *schedule* the re-send (e.g. rewind the outbox relay) and answer promptly;
/// the requester is waiting with a timeout.
///
/// The subscription survives reconnects (async-nats re-subscribes). On shutdown it is
/// removed and flushed, so requests soon fail fast with "no responders"
/// ([`ReplayError::SchoolOffline`]); one racing the shutdown may time out instead. Returns an error only if subscribing fails or the client
/// is closed under it.
pub async fn serve_replay_requests<H, F>(
    client: &Client,
    school: &SchoolAddress,
    handler: H,
    mut shutdown: broadcast::Receiver<()>,
) -> Result<(), ReplayError>
where
    H: Fn(ReplayRequest) -> F,
    F: Future<Output = ReplayReply>,
{
    let subject = replay_subject(school);
    let unavailable = |reason: String| ReplayError::Unavailable {
        school: school.clone(),
        reason,
    };
    let mut requests = client
        .subscribe(subject.clone())
        .await
        .map_err(|err| unavailable(format!("cannot subscribe to {subject}: {err}")))?;
    tracing::info!(%school, %subject, "serving re-send requests");

    loop {
        let message = tokio::select! {
            // Any message, a closed channel or a lag all mean "stop".
            _ = shutdown.recv() => break,
            message = requests.next() => message,
        };
        let Some(message) = message else {
            return Err(unavailable("the NATS client was closed".into()));
        };
        let Some(reply_to) = message.reply.clone() else {
            tracing::warn!(%school, "re-send request without a reply subject; ignored");
            continue;
        };
        let reply = match serde_json::from_slice::<ReplayRequest>(&message.payload) {
            Err(err) => ReplayReply::rejected(format!("malformed re-send request: {err}")),
            Ok(request) => match request.validate() {
                Err(reason) => ReplayReply::rejected(format!("invalid re-send request: {reason}")),
                Ok(()) => handler(request).await,
            },
        };
        tracing::info!(
            %school,
            accepted = reply.accepted,
            from_seq = reply.from_seq,
            to_seq = reply.to_seq,
            message = %reply.message,
            "answering re-send request"
        );
        let body = match serde_json::to_vec(&reply) {
            Ok(body) => body,
            Err(err) => {
                tracing::warn!(%school, error = %err, "cannot encode re-send reply");
                continue;
            }
        };
        if let Err(err) = client.publish(reply_to, body.into()).await {
            tracing::warn!(%school, error = %err, "cannot send re-send reply");
        }
    }

    // Unsubscribe and flush, so the server stops routing requests here promptly and they get
    // "no responders" instead of timing out. async-nats' flush only writes the socket (it is
    // not a PING/PONG round trip), so a request racing the shutdown may still time out.
    // Bounded: while disconnected a flush would wait for the reconnect.
    requests.unsubscribe().await.ok();
    tokio::time::timeout(SHUTDOWN_FLUSH_TIMEOUT, client.flush())
        .await
        .ok();
    tracing::info!(%school, "stopped serving re-send requests");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_json() {
        let open = ReplayRequest {
            from_seq: 5,
            to_seq: None,
        };
        assert_eq!(serde_json::to_string(&open).unwrap(), r#"{"from_seq":5}"#);
        let closed: ReplayRequest = serde_json::from_str(r#"{"from_seq":5,"to_seq":9}"#).unwrap();
        assert_eq!(closed.to_seq, Some(9));
        assert!(serde_json::from_str::<ReplayRequest>(r#"{"to_seq":9}"#).is_err());
        assert!(serde_json::from_str::<ReplayRequest>(r#"{"from_seq":-1}"#).is_err());
    }

    #[test]
    fn ranges_are_checked() {
        assert!(
            ReplayRequest {
                from_seq: 1,
                to_seq: None
            }
            .validate()
            .is_ok()
        );
        assert!(
            ReplayRequest {
                from_seq: 3,
                to_seq: Some(3)
            }
            .validate()
            .is_ok()
        );
        assert!(
            ReplayRequest {
                from_seq: 0,
                to_seq: None
            }
            .validate()
            .is_err()
        );
        assert_eq!(
            ReplayRequest {
                from_seq: 4,
                to_seq: Some(3)
            }
            .validate(),
            Err("to_seq 3 is below from_seq 4".to_owned())
        );
    }

    #[test]
    fn reply_json_round_trip() {
        let reply = ReplayReply {
            accepted: true,
            from_seq: 5,
            to_seq: 9,
            head_seq: 9,
            message: "re-sending 5 events".into(),
        };
        let json = serde_json::to_string(&reply).unwrap();
        assert_eq!(
            json,
            r#"{"accepted":true,"from_seq":5,"to_seq":9,"head_seq":9,"message":"re-sending 5 events"}"#
        );
        assert_eq!(serde_json::from_str::<ReplayReply>(&json).unwrap(), reply);
    }
}
