//! Lost tails: the schools' announced log heads (`event_bus::heads`) compared with what the
//! district applied, so that events a district power cut lost are asked for again.
//!
//! nats-server 2.9 acknowledges a JetStream publish before its file is fsynced: after a power
//! cut at the district the stream may end before events the schools were told were stored.
//! A school whose tail was lost believes it delivered, so nothing held at the district
//! reveals a gap ([`crate::gaps`] sees none) until the school's next event — which may be
//! days away. Each agent announces its head on core NATS every minute or so; this listener
//! hears every school of the district and, per announcement:
//!
//! 1. keeps it as the school's last head heard ([`crate::state::IngestState::heads`], shown in
//!    `GetIngestState` and on the dashboard's ingest page: "the school has 120, we have 100");
//! 2. reads the school's position and held count from the projection. At or beyond the head,
//!    or with events held (a gap [`crate::gaps`] already asks for, or a school not yet
//!    enrolled, whose re-sent events would only be held again), there is nothing to do;
//! 3. reads the seq of the school's **last message in the district stream**. If the stream
//!    holds the head, the district is merely catching up on its own stream (a backlog after
//!    a restart, a slow batch) and asking would only make the school send it all twice;
//! 4. otherwise the tail is lost: it is recorded as a gap of its own kind
//!    ([`crate::gaps::Gaps::lost_tail`]) for `applied_seq + 1 ..= head` and asked for by the
//!    replayer after the grace period, with its polite backoff;
//! 5. answers the announcement's reply subject with the school's receipt
//!    ([`crate::receipts`]): what the school's staff see as *Phòng đã nhận*.
//!
//! Why the stream's last message rather than the consumer's pending count: the count is for
//! the whole district, so one school's backlog would silence every other school's tail, and a
//! count of zero says nothing of messages the consumer has but has not acknowledged. The last
//! message on the school's own subject answers the one question that matters — does the
//! district still have this school's head somewhere? — with one `STREAM.MSG.GET`, which the
//! aggregator's NATS user may ask. It can be fooled only one way: a school's old event re-sent
//! after JetStream's duplicate window (a re-send the district asked for) is then the last
//! message while later ones are stored before it; the district then asks for a range it has,
//! once, and drops the re-sent events as duplicates. And the grace period is a second check:
//! any commit for the school during it ends the suspicion (the next head finds it again if it
//! still stands), so a district that is working through the school's events never asks.
//!
//! The school re-sends only what it believes delivered (`school_agent::resend` caps the range
//! at its acknowledged prefix): a head that includes events still in its outbox costs at most
//! a polite "still in the outbox" answer.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, stream::LastRawMessageErrorKind};
use chrono::Utc;
use event_bus::heads::{self, Head};
use event_bus::subjects::{self, SchoolAddress};
use futures::StreamExt;
use serde::Deserialize;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tracing::{debug, info, warn};

use crate::db::{from_i64, use_projection};
use crate::state::{HeardHead, IngestState};

/// How long to wait before subscribing again after the subscription failed or ended.
const RESUBSCRIBE: Duration = Duration::from_secs(5);

/// What the listener needs: where positions are read and the stream is asked.
#[derive(Debug, Clone)]
pub(crate) struct HeadsListener {
    pub state: Arc<IngestState>,
    pub client: async_nats::Client,
    pub pool: PgPool,
    pub schema: String,
    pub province: String,
    pub district: String,
}

/// Where the district stands with one school, as the projection says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Standing {
    applied_seq: u64,
    held: u64,
}

/// What to do about one announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The district has the head applied, or held events explain the difference.
    NothingMissing,
    /// The stream still holds the school's head: the ingest will get there.
    CatchingUp,
    /// Neither the projection nor the stream has `applied_seq + 1 ..= head`.
    LostTail { applied_seq: u64 },
    /// The stream could not be asked: decide at the next announcement.
    Unknown,
}

/// Only the seq of an envelope.
#[derive(Deserialize)]
struct SeqOnly {
    seq: u64,
}

impl HeadsListener {
    /// Hears the schools' heads until `shutdown`.
    pub(crate) async fn run(self, mut shutdown: broadcast::Receiver<()>) {
        let js = jetstream::new(self.client.clone());
        loop {
            let mut subscriber =
                match heads::subscribe(&self.client, &self.province, &self.district).await {
                    Ok(subscriber) => subscriber,
                    Err(e) => {
                        warn!(error = %e, "cannot hear the schools' heads yet");
                        tokio::select! {
                            _ = tokio::time::sleep(RESUBSCRIBE) => continue,
                            _ = shutdown.recv() => return,
                        }
                    }
                };
            info!("hearing the schools' log heads");
            loop {
                let message = tokio::select! {
                    message = subscriber.next() => message,
                    _ = shutdown.recv() => return,
                };
                let Some(message) = message else {
                    warn!("the heads subscription ended; subscribing again");
                    break;
                };
                let Some((school, head)) = heads::parse(&message) else {
                    debug!(subject = %message.subject, "unreadable head announcement ignored");
                    continue;
                };
                if school.province() != self.province || school.district() != self.district {
                    continue;
                }
                self.heard(&js, &school, head).await;
                if let Some(reply) = message.reply.clone() {
                    self.send_receipt(&school, reply).await;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(RESUBSCRIBE) => {}
                _ = shutdown.recv() => return,
            }
        }
    }

    /// Keeps `head` and acts on what it shows.
    async fn heard(&self, js: &jetstream::Context, school: &SchoolAddress, head: Head) {
        let code = school.school();
        self.state.heard(HeardHead {
            school: code.to_owned(),
            seq: head.seq,
            id: head.id,
            at: Utc::now(),
        });
        let standing = match self.standing(code).await {
            Ok(standing) => standing,
            Err(e) => {
                debug!(school = code, error = %e, "cannot read the school's position; next head");
                return;
            }
        };
        let verdict = if standing.applied_seq >= head.seq || standing.held > 0 {
            Verdict::NothingMissing
        } else {
            match last_stored_seq(js, &self.province, &self.district, school).await {
                Ok(stored) => verdict(standing, head.seq, stored),
                Err(e) => {
                    debug!(school = code, error = %e, "cannot read the school's last stored event");
                    Verdict::Unknown
                }
            }
        };
        debug!(
            school = code,
            head_seq = head.seq,
            applied_seq = standing.applied_seq,
            held = standing.held,
            ?verdict,
            "head heard"
        );
        match verdict {
            Verdict::NothingMissing | Verdict::CatchingUp => self.state.gaps.no_lost_tail(code),
            Verdict::LostTail { applied_seq } => {
                self.state.gaps.lost_tail(code, applied_seq, head.seq)
            }
            Verdict::Unknown => {}
        }
    }

    /// Answers the announcement with the school's receipt (`crate::receipts`).
    async fn send_receipt(&self, school: &SchoolAddress, reply: async_nats::Subject) {
        let code = school.school();
        match crate::receipts::receipt_of(&self.pool, &self.schema, code).await {
            Ok(receipt) => {
                let body = event_bus::receipts::encode(&receipt);
                if let Err(e) = self.client.publish(reply, body.into()).await {
                    debug!(school = code, error = %e, "receipt not sent; next head");
                } else {
                    debug!(
                        school = code,
                        applied_seq = receipt.applied_seq,
                        refused = receipt.refused.len(),
                        "receipt sent"
                    );
                }
            }
            Err(e) => {
                debug!(school = code, error = %e, "cannot read the school's receipt; next head")
            }
        }
    }

    /// The school's applied seq and held count in the projection.
    async fn standing(&self, school: &str) -> Result<Standing, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        use_projection(&mut tx, &self.schema).await?;
        let (applied, held): (Option<i64>, i64) = sqlx::query_as(
            "SELECT (SELECT applied_seq FROM positions WHERE author = $1), \
                    (SELECT count(*) FROM held WHERE author = $1)",
        )
        .bind(school)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Standing {
            applied_seq: applied.map_or(0, from_i64),
            held: from_i64(held),
        })
    }
}

/// What a head shows, given the district's standing (nothing held) and the seq of the
/// school's last message in the stream (0 when there is none).
fn verdict(standing: Standing, head_seq: u64, stored_seq: u64) -> Verdict {
    if standing.applied_seq >= head_seq || standing.held > 0 {
        Verdict::NothingMissing
    } else if stored_seq >= head_seq {
        Verdict::CatchingUp
    } else {
        Verdict::LostTail {
            applied_seq: standing.applied_seq,
        }
    }
}

/// Why the stream could not say what it holds of a school.
#[derive(Debug, thiserror::Error)]
enum StoredError {
    #[error(transparent)]
    Address(#[from] subjects::AddressError),
    #[error("the district stream is not available: {0}")]
    Stream(#[from] jetstream::context::GetStreamError),
    #[error("cannot read the school's last message: {0}")]
    Last(#[from] jetstream::stream::LastRawMessageError),
}

/// The seq of `school`'s last message in the district stream; 0 when it has none, or when
/// that message is not a readable envelope (then only the projection is trusted).
async fn last_stored_seq(
    js: &jetstream::Context,
    province: &str,
    district: &str,
    school: &SchoolAddress,
) -> Result<u64, StoredError> {
    let stream = js
        .get_stream(subjects::stream_name(province, district)?)
        .await?;
    match stream
        .get_last_raw_message_by_subject(&subjects::events_subject(school))
        .await
    {
        Ok(message) => Ok(serde_json::from_slice::<SeqOnly>(&message.payload).map_or(0, |s| s.seq)),
        Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(0),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(applied_seq: u64, held: u64) -> Standing {
        Standing { applied_seq, held }
    }

    #[test]
    fn a_tail_is_lost_only_when_neither_the_projection_nor_the_stream_has_the_head() {
        assert_eq!(verdict(at(120, 0), 120, 120), Verdict::NothingMissing);
        assert_eq!(verdict(at(100, 3), 120, 100), Verdict::NothingMissing);
        assert_eq!(verdict(at(100, 0), 120, 120), Verdict::CatchingUp);
        assert_eq!(
            verdict(at(100, 0), 120, 100),
            Verdict::LostTail { applied_seq: 100 }
        );
        assert_eq!(
            verdict(at(0, 0), 5, 0),
            Verdict::LostTail { applied_seq: 0 }
        );
    }
}
