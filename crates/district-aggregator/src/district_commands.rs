//! The district office's own commands: enrolling schools and adopting the district plan.
//!
//! A command is decided by `domain::district::decide_district` against the district's state,
//! sealed as an envelope of author `_district` with the next gapless seq, and **published** to
//! the district's own subject (`truyenthong.events.<province>.<district>._district`) like any
//! school's event — CloudEvents headers, `Nats-Msg-Id` = event id, in order
//! (`event_bus::publish::publish_in_order`). The reply goes out after JetStream's ack. The
//! aggregator's own ingest then applies the event like every other: the projection (and so
//! every view) changes only through the stream, and a rebuild from the stream gives the same
//! district.
//!
//! Commands run one at a time (a mutex), so seqs stay gapless. The seq and the state come
//! from the stream, not from memory alone: before deciding, the last message on the
//! district's subject gives the last seq published. If it is the one this process last
//! published, the state kept in memory since is current; otherwise (first command since
//! start, a publish that failed after JetStream may have stored it, another publisher) the
//! command waits until the ingest has applied that seq and restores the state from the
//! projection (`projection::restore_district`).
//!
//! Each event is published with `Nats-Expected-Last-Subject-Sequence` = the stream sequence of
//! the last message on the district's subject as read before deciding
//! (`event_bus::publish::publish_if_last`): should two aggregators of one district decide at
//! once from the same last seq, JetStream stores only the first; the second is refused
//! (`CommandError::Conflict`, `ABORTED`) with nothing stored, and its next attempt reads the
//! stream again. The ingest, for its part, applies events on `_district` only when their
//! actor is the district office.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, stream::LastRawMessageErrorKind};
use bytes::Bytes;
use chrono::Utc;
use domain::calendar::local_date;
use domain::district::{DistrictCommand, DistrictState, check_district_actor, decide_district};
use domain::{Actor, Author, DecisionContext, DomainError, Envelope, Rule, Slug};
use event_bus::headers::CloudEventHeaders;
use event_bus::publish::{ConditionalPublishError, OutgoingEvent, publish_if_last};
use event_bus::subjects::{DISTRICT_OWN_TOKEN, district_own_subject, stream_name};
use sqlx::PgPool;
use tokio::sync::Mutex;
use tracing::{info, warn};
use uuid::Uuid;

use crate::db::{from_i64, use_projection};
use crate::projection::restore_district;

/// How long one publication may wait for JetStream's ack.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a command waits for the ingest to apply the district's earlier events.
const APPLY_TIMEOUT: Duration = Duration::from_secs(15);
const APPLY_POLL: Duration = Duration::from_millis(20);

/// Why a district command was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The rules refuse it: nothing was published.
    #[error(transparent)]
    Refused(#[from] DomainError),
    /// NATS, JetStream or PostgreSQL is unavailable, or the ingest is behind: nothing was
    /// published, or it is not known whether it was (then the stream tells, next time).
    #[error("{0}")]
    Unavailable(String),
    /// Another publisher recorded a district event first, from the same last seq: nothing
    /// was published; trying again decides against the stream as it now is.
    #[error("{0}")]
    Conflict(String),
}

/// A recorded district event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub seq: u64,
    pub event_id: Uuid,
}

/// The district office's command handler. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DistrictCommands {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: PgPool,
    schema: String,
    js: jetstream::Context,
    province: Slug,
    district: Slug,
    stream: String,
    subject: String,
    source: String,
    /// The state as of the seq this process last published; `None` when unknown.
    last: Mutex<Option<Known>>,
}

#[derive(Debug)]
struct Known {
    seq: u64,
    state: DistrictState,
}

impl DistrictCommands {
    /// Commands of district `province`/`district`, reading its state from projection
    /// `schema` and publishing through `client`.
    pub fn new(
        pool: PgPool,
        schema: impl Into<String>,
        client: async_nats::Client,
        province: &str,
        district: &str,
    ) -> Result<Self, DomainError> {
        let province = Slug::parse("district.province", province)?;
        let district = Slug::parse("district.district", district)?;
        let address_error = |e: event_bus::subjects::AddressError| {
            DomainError::invalid(
                "district",
                Rule::InvalidValue {
                    value: e.to_string(),
                    expected: "a valid province and district code",
                },
            )
        };
        let subject =
            district_own_subject(province.as_str(), district.as_str()).map_err(address_error)?;
        let stream = stream_name(province.as_str(), district.as_str()).map_err(address_error)?;
        let source = format!("/truyenthong/{province}/{district}/{DISTRICT_OWN_TOKEN}");
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                schema: schema.into(),
                js: jetstream::new(client),
                province,
                district,
                stream,
                subject,
                source,
                last: Mutex::new(None),
            }),
        })
    }

    /// Decides, publishes and (after JetStream's ack) answers one command.
    pub async fn execute(
        &self,
        actor: Actor,
        command: DistrictCommand,
    ) -> Result<Committed, CommandError> {
        check_district_actor(&actor)?;
        let me = &self.inner;
        let name = command.name();
        let mut last = me.last.lock().await;
        let (published, last_stream_seq) = me.last_published_seq().await?;
        let known = match last.take() {
            Some(known) if Some(known.seq) == published => known,
            _ => me.restore(published).await?,
        };
        let now = Utc::now();
        let ctx = DecisionContext {
            today: local_date(now),
        };
        let events = match decide_district(&known.state, command, ctx) {
            Ok(events) => events,
            Err(refusal) => {
                *last = Some(known);
                return Err(refusal.into());
            }
        };
        let mut envelopes = Vec::with_capacity(events.len());
        let mut seq = known.seq;
        for event in &events {
            seq += 1;
            envelopes.push(Envelope::seal_district(
                &me.province,
                &me.district,
                seq,
                Uuid::now_v7(),
                now,
                actor.clone(),
                event,
            ));
        }
        let outgoing: Vec<OutgoingEvent> = envelopes
            .iter()
            .map(|e| OutgoingEvent {
                subject: me.subject.clone(),
                headers: CloudEventHeaders {
                    id: e.id,
                    source: me.source.clone(),
                    event_type: e.event_type.clone(),
                    time: e.occurred_at,
                },
                body: Bytes::from(e.to_json()),
                seq: e.seq,
                outbox_head: Some(seq),
            })
            .collect();
        let mut expected = last_stream_seq;
        for (i, event) in outgoing.iter().enumerate() {
            match publish_if_last(&me.js, event, expected, ACK_TIMEOUT).await {
                Ok(stored_at) => expected = stored_at,
                Err(ConditionalPublishError::Conflict { .. }) => {
                    warn!(
                        command = name,
                        seq = event.seq,
                        expected,
                        "district command not published: another publisher stored a district event first"
                    );
                    return Err(CommandError::Conflict(format!(
                        "another publisher recorded district event seq {} first (the district's \
                         subject moved past stream seq {expected}); nothing was recorded; try again",
                        event.seq
                    )));
                }
                Err(ConditionalPublishError::Failed(error)) => {
                    // Some of it may be stored all the same: the stream says, next time.
                    warn!(
                        command = name,
                        acked = i,
                        error = %error,
                        "district command not published"
                    );
                    return Err(CommandError::Unavailable(format!(
                        "the district's event could not be published to NATS: {error}; try again"
                    )));
                }
            }
        }
        let mut state = known.state;
        for event in &events {
            state.apply(event);
        }
        let Some(envelope) = envelopes.last() else {
            // decide_district always returns an event; keep the state as it was.
            *last = Some(Known { seq, state });
            return Err(CommandError::Unavailable(
                "the command produced no event".into(),
            ));
        };
        let committed = Committed {
            seq: envelope.seq,
            event_id: envelope.id,
        };
        info!(
            command = name,
            seq = committed.seq,
            event_id = %committed.event_id,
            "district event published"
        );
        *last = Some(Known { seq, state });
        Ok(committed)
    }
}

impl Inner {
    /// The seq of the last envelope on the district's subject — `None` when the last message
    /// is not a readable envelope of this district office (then the projection's position is
    /// taken instead), `Some(0)` when there is none — and that message's stream sequence
    /// (0 when none), which the next publish expects.
    async fn last_published_seq(&self) -> Result<(Option<u64>, u64), CommandError> {
        let stream = self.js.get_stream(&self.stream).await.map_err(|e| {
            CommandError::Unavailable(format!("the district stream is not available: {e}"))
        })?;
        match stream.get_last_raw_message_by_subject(&self.subject).await {
            Ok(message) => Ok((
                Envelope::parse(&message.payload)
                    .ok()
                    .filter(|e| {
                        e.school == Author::DistrictOffice
                            && e.province == self.province
                            && e.district == self.district
                    })
                    .map(|e| e.seq),
                message.sequence,
            )),
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok((Some(0), 0)),
            Err(e) => Err(CommandError::Unavailable(format!(
                "cannot read the district's last event from the stream: {e}"
            ))),
        }
    }

    /// The district's state once the ingest has applied seq `published`, from the projection.
    async fn restore(&self, published: Option<u64>) -> Result<Known, CommandError> {
        let deadline = tokio::time::Instant::now() + APPLY_TIMEOUT;
        loop {
            let mut tx = self.pool.begin().await.map_err(storage)?;
            use_projection(&mut tx, &self.schema)
                .await
                .map_err(storage)?;
            let applied: Option<i64> =
                sqlx::query_scalar("SELECT applied_seq FROM positions WHERE author = $1")
                    .bind(DISTRICT_OWN_TOKEN)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(storage)?;
            let applied = applied.map_or(0, from_i64);
            if published.is_none_or(|p| applied >= p) {
                let state = restore_district(&mut tx)
                    .await
                    .map_err(|e| CommandError::Unavailable(e.to_string()))?;
                tx.commit().await.map_err(storage)?;
                return Ok(Known {
                    seq: applied.max(published.unwrap_or(0)),
                    state,
                });
            }
            tx.commit().await.map_err(storage)?;
            if tokio::time::Instant::now() >= deadline {
                return Err(CommandError::Unavailable(format!(
                    "the district's own events up to seq {} are published but not yet applied \
                     (applied: {applied}); try again shortly",
                    published.unwrap_or(0)
                )));
            }
            tokio::time::sleep(APPLY_POLL).await;
        }
    }
}

fn storage(e: sqlx::Error) -> CommandError {
    CommandError::Unavailable(format!("the projection database is unavailable: {e}"))
}
