//! The district office's own lost tail: `_district` events the projection applied but the
//! district stream no longer holds, published again from the projection.
//!
//! The `_district` author has no agent and no log of its own: its events are decided by
//! [`crate::district_commands`], published to the stream and applied from it. A power cut at
//! the district can lose the stream's last messages (nats-server 2.9 acknowledges before it
//! fsyncs), and the aggregator runs on the same server, so two cases follow:
//!
//! - **Applied, then lost from the stream.** The projection has the event (`district_events`
//!   keeps every applied one: id, seq, type, schema, instants, actor and data), so the views
//!   are right, but the stream — the district's record, which a rebuild replays — ends
//!   before it; the next command would publish after a hole, and a rebuild would hold every
//!   later `_district` event behind it. This task compares the seq of the last message on
//!   the district's own subject with the projection's `_district` position, at start and
//!   every [`CHECK_EVERY`], and publishes the missing range again, rebuilt from
//!   `district_events` with the same event ids (so `Nats-Msg-Id` de-duplication and the
//!   ingest's `(author, seq)` check make it harmless) and the same data bytes: the data is
//!   decoded and serialised again by the domain, as [`crate::district_commands`] sealed it.
//!   Only `recorded_at` differs, truncated to PostgreSQL's precision (the microsecond).
//! - **Acknowledged, then lost before the ingest applied it.** Nothing at the district holds
//!   it any more: the office was told the enrolment or plan was recorded, and it is not. The
//!   next command takes the same seq (the stream's last and the projection agree), so the
//!   district's log stays gapless; the office must give the command again. This is not
//!   recovered; the ingest page shows the district's position, and the office's own record
//!   (the document it enacted) is the source to repeat it from.
//!
//! A `_district` event the ingest refused (dead-lettered: rare, since the office's commands
//! are decided by the same rules before they are published) is not in `district_events`; a
//! lost tail that includes one is re-published only up to it, with a warning naming the seq.

use std::time::Duration;

use async_nats::jetstream::{self, stream::LastRawMessageErrorKind};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use domain::district::DistrictEvent;
use domain::{Actor, Author, Envelope, EventData, Role, Slug};
use event_bus::headers::CloudEventHeaders;
use event_bus::publish::{OutgoingEvent, publish_in_order};
use event_bus::subjects::{self, DISTRICT_OWN_TOKEN};
use serde::Deserialize;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tracing::{info, warn};
use uuid::Uuid;

use crate::db::{from_i64, to_i64, use_projection};

/// How often the stream is compared with the projection after the first check.
pub const CHECK_EVERY: Duration = Duration::from_secs(60);
/// How soon a failed check is tried again (NATS or PostgreSQL not there yet).
const RETRY: Duration = Duration::from_secs(2);
/// How long one publication may wait for JetStream's ack.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a check could not be made; it is made again later.
#[derive(Debug, thiserror::Error)]
enum OwnTailError {
    #[error(transparent)]
    Address(#[from] subjects::AddressError),
    #[error("the district stream is not available: {0}")]
    Stream(#[from] jetstream::context::GetStreamError),
    #[error("cannot read the district's last message: {0}")]
    Last(#[from] jetstream::stream::LastRawMessageError),
    #[error("the projection database failed: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("the district's events could not be published again: {0}")]
    Publish(String),
}

/// Only the seq of an envelope.
#[derive(Deserialize)]
struct SeqOnly {
    seq: u64,
}

/// One applied `_district` event as `district_events` keeps it.
#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    event_id: Uuid,
    r#type: String,
    schema: i32,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    actor_role: String,
    actor_person: String,
    data: String,
}

/// Compares and re-publishes the district's own tail until `shutdown`.
#[derive(Debug, Clone)]
pub(crate) struct OwnTail {
    pub client: async_nats::Client,
    pub pool: PgPool,
    pub schema: String,
    pub province: String,
    pub district: String,
}

impl OwnTail {
    pub(crate) async fn run(self, mut shutdown: broadcast::Receiver<()>) {
        let js = jetstream::new(self.client.clone());
        loop {
            let wait = match self.check(&js).await {
                Ok(0) => CHECK_EVERY,
                Ok(published) => {
                    info!(published, "the district's own lost tail published again");
                    CHECK_EVERY
                }
                Err(e) => {
                    warn!(error = %e, "cannot compare the district's own events with the stream yet");
                    RETRY
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.recv() => return,
            }
        }
    }

    /// One comparison; returns how many events were published again.
    async fn check(&self, js: &jetstream::Context) -> Result<usize, OwnTailError> {
        let (province, district) = (self.province.as_str(), self.district.as_str());
        let subject = subjects::district_own_subject(province, district)?;
        let stream = js
            .get_stream(subjects::stream_name(province, district)?)
            .await?;
        let stored = match stream.get_last_raw_message_by_subject(&subject).await {
            Ok(message) => serde_json::from_slice::<SeqOnly>(&message.payload).map_or(0, |s| s.seq),
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => 0,
            Err(e) => return Err(e.into()),
        };
        let mut tx = self.pool.begin().await?;
        use_projection(&mut tx, &self.schema).await?;
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT applied_seq FROM positions WHERE author = $1")
                .bind(DISTRICT_OWN_TOKEN)
                .fetch_optional(&mut *tx)
                .await?;
        let applied = applied.map_or(0, from_i64);
        if stored >= applied {
            tx.commit().await?;
            return Ok(0);
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT seq, event_id, type, schema, occurred_at, recorded_at, actor_role, \
                    actor_person, data::text AS data \
             FROM district_events WHERE seq > $1 AND seq <= $2 ORDER BY seq",
        )
        .bind(to_i64(stored))
        .bind(to_i64(applied))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        warn!(
            stored_seq = stored,
            applied_seq = applied,
            "the district stream lost the district's own events the projection applied"
        );
        let source = format!("/truyenthong/{province}/{district}/{DISTRICT_OWN_TOKEN}");
        let mut outgoing = Vec::with_capacity(rows.len());
        for (expected, row) in (stored + 1..).zip(rows) {
            let seq = from_i64(row.seq);
            if seq != expected {
                // A refused event: not in district_events.
                break;
            }
            let envelope = match self.envelope(row) {
                Ok(envelope) => envelope,
                Err(reason) => {
                    warn!(
                        seq,
                        reason, "an applied district event cannot be sealed again"
                    );
                    break;
                }
            };
            outgoing.push(OutgoingEvent {
                subject: subject.clone(),
                headers: CloudEventHeaders {
                    id: envelope.id,
                    source: source.clone(),
                    event_type: envelope.event_type.clone(),
                    time: envelope.occurred_at,
                },
                body: Bytes::from(envelope.to_json()),
                seq,
                outbox_head: Some(applied),
            });
        }
        let publishable = outgoing.len() as u64;
        if publishable < applied - stored {
            warn!(
                first_missing_seq = stored + 1 + publishable,
                applied_seq = applied,
                "a district event the ingest refused is not in district_events and cannot be \
                 published again; the stream keeps a hole from here"
            );
        }
        let outcome = publish_in_order(js, &outgoing, ACK_TIMEOUT).await;
        match outcome.error {
            None => Ok(outcome.acked),
            Some(e) => Err(OwnTailError::Publish(format!(
                "{} of {} acknowledged: {e}",
                outcome.acked,
                outgoing.len()
            ))),
        }
    }

    /// The envelope of an applied `_district` event, as it was sealed.
    fn envelope(&self, row: Row) -> Result<Envelope, String> {
        let province = Slug::parse("province", &self.province).map_err(|e| e.to_string())?;
        let district = Slug::parse("district", &self.district).map_err(|e| e.to_string())?;
        let role = Role::parse("actor_role", &row.actor_role).map_err(|e| e.to_string())?;
        let schema = u32::try_from(row.schema).map_err(|e| e.to_string())?;
        // The same text the office sealed: decoded and serialised again by the domain, when
        // the schema is the current one; the stored JSON as it is otherwise.
        let data = match DistrictEvent::from_json(&row.r#type, &row.data) {
            Ok(event) if event.schema() == schema => event.to_data(),
            _ => EventData::parse(&row.data).map_err(|e| e.to_string())?,
        };
        Ok(Envelope {
            id: row.event_id,
            province,
            district,
            school: Author::DistrictOffice,
            seq: from_i64(row.seq),
            event_type: row.r#type,
            schema,
            occurred_at: row.occurred_at,
            recorded_at: row.recorded_at,
            actor: Actor {
                role,
                person: row.actor_person,
            },
            data,
        })
    }
}
