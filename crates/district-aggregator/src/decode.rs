//! From a JetStream message to something the sequencer can place: whose log it belongs to and
//! at which `seq`, or why it can never be applied.
//!
//! Only what the *envelope* says is checked here — the subject, the size, the JSON shape, that
//! the body names the school its subject does. Those failures are the sender's, they have no
//! trustworthy place in any school's sequence, so the message goes straight to the dead
//! letters and no position moves. Whether the event's `data` decodes and obeys the domain's
//! rules is decided later, in `seq` order, by the projection: an event that fails there still
//! takes its place in the sequence (the position advances past it) so that it never blocks
//! the school (invariant 5).

use async_nats::HeaderMap;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use domain::{Author, Envelope};
use event_bus::publish::OUTBOX_HEAD_HEADER;
use event_bus::subjects::{EventOrigin, parse_event_origin};
use uuid::Uuid;

/// A message as it came off the stream, with what JetStream says about it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its position in the district stream: unique, stable across redeliveries and rebuilds.
    pub stream_seq: u64,
    pub subject: String,
    pub headers: Headers,
    pub body: Bytes,
    /// When JetStream stored it (the arrival time at the district).
    pub received_at: DateTime<Utc>,
    /// The sender's newest seq when it published (`Tt-Outbox-Head`), when it said.
    pub outbox_head: Option<u64>,
}

impl Received {
    /// Reads a JetStream message, taking its headers (acknowledging needs only its reply
    /// subject). Fails only when the message carries no JetStream metadata (it then cannot be
    /// acknowledged either).
    pub fn from_message(message: &mut async_nats::jetstream::Message) -> Result<Self, String> {
        let info = message.info().map_err(|e| e.to_string())?;
        let nanos = info.published.unix_timestamp_nanos();
        let received_at = DateTime::from_timestamp_nanos(i64::try_from(nanos).unwrap_or(i64::MAX));
        let stream_seq = info.stream_sequence;
        let headers = message.message.headers.take();
        Ok(Received {
            stream_seq,
            subject: message.subject.to_string(),
            outbox_head: headers.as_ref().and_then(outbox_head),
            headers: Headers::Delivered(headers),
            body: message.payload.clone(),
            received_at,
        })
    }
}

/// A message's headers, as NATS delivered them or as a held message stored them.
///
/// Only held messages and dead letters store headers, as JSON (`Headers::to_json`): the
/// applied majority never pays for that copy.
#[derive(Debug, Clone)]
pub enum Headers {
    Delivered(Option<HeaderMap>),
    Stored(serde_json::Value),
}

impl Headers {
    /// `{"name": ["value", …]}`; `{}` without headers.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Headers::Delivered(Some(headers)) => headers_json(headers),
            Headers::Delivered(None) => serde_json::json!({}),
            Headers::Stored(json) => json.clone(),
        }
    }
}

/// Headers as a JSON object of string arrays. NUL characters, which PostgreSQL's `jsonb`
/// refuses, become U+FFFD so that a dead letter can always be written.
pub(crate) fn headers_json(headers: &HeaderMap) -> serde_json::Value {
    let clean = |s: &str| s.replace('\0', "\u{FFFD}");
    let map: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(name, values)| {
            let name: &str = name.as_ref();
            let values = values
                .iter()
                .map(|v| serde_json::Value::String(clean(v.as_str())))
                .collect();
            (clean(name), serde_json::Value::Array(values))
        })
        .collect();
    serde_json::Value::Object(map)
}

fn outbox_head(headers: &HeaderMap) -> Option<u64> {
    let value = headers
        .get(OUTBOX_HEAD_HEADER)
        .map(|v| v.as_str().to_owned())
        .or_else(|| {
            headers.iter().find_map(|(name, values)| {
                let name: &str = name.as_ref();
                name.eq_ignore_ascii_case(OUTBOX_HEAD_HEADER)
                    .then(|| values.first().map(|v| v.as_str().to_owned()))
                    .flatten()
            })
        })?;
    value.trim().parse().ok()
}

/// A message with a place in an author's sequence.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub author: Author,
    pub seq: u64,
    pub event_id: Uuid,
    pub event_type: String,
    pub envelope: Envelope,
    pub received: Received,
}

/// A message that can never be applied, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// Who the subject says sent it, when the subject is well formed.
    pub author: Option<Author>,
    /// What the body says, as far as it could be read.
    pub seq: Option<u64>,
    pub event_id: Option<Uuid>,
    pub event_type: Option<String>,
    pub reason: String,
    pub received: Received,
}

/// What the sequencer gets for each message.
#[derive(Debug, Clone)]
pub enum Decoded {
    Candidate(Candidate),
    Rejected(Rejected),
}

impl Decoded {
    /// The author the subject names, whatever became of the body.
    pub fn author(&self) -> Option<&Author> {
        match self {
            Decoded::Candidate(c) => Some(&c.author),
            Decoded::Rejected(r) => r.author.as_ref(),
        }
    }

    pub fn received(&self) -> &Received {
        match self {
            Decoded::Candidate(c) => &c.received,
            Decoded::Rejected(r) => &r.received,
        }
    }

    /// The seq the body carries, when it could be read.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Decoded::Candidate(c) => Some(c.seq),
            Decoded::Rejected(r) => r.seq,
        }
    }
}

/// The district whose stream is consumed, and the size limit.
#[derive(Debug, Clone)]
pub struct Decoder {
    pub province: String,
    pub district: String,
    pub max_message_bytes: usize,
    /// Event types treated as unknown, to play an older aggregator in tests
    /// (`ingest.unknown_event_types`); empty otherwise.
    pub unknown_event_types: Vec<String>,
}

/// Just enough of any envelope to say what a rejected body claimed to be.
#[derive(serde::Deserialize)]
struct Sketch {
    seq: Option<u64>,
    id: Option<Uuid>,
    #[serde(rename = "type")]
    event_type: Option<String>,
}

impl Decoder {
    /// Places a message, or rejects it with the reason.
    pub fn decode(&self, received: Received) -> Decoded {
        let author = match parse_event_origin(&received.subject) {
            Some(EventOrigin::School(address))
                if address.province() == self.province && address.district() == self.district =>
            {
                Author::parse("school", address.school()).ok()
            }
            Some(EventOrigin::DistrictOffice { province, district })
                if province == self.province && district == self.district =>
            {
                Some(Author::DistrictOffice)
            }
            _ => None,
        };
        let Some(author) = author else {
            let reason = format!(
                "subject {:?} is not an events subject of district {}/{}",
                received.subject, self.province, self.district
            );
            return rejected(None, reason, received);
        };
        if received.body.len() > self.max_message_bytes {
            let reason = format!(
                "message of {} bytes exceeds the limit of {} bytes",
                received.body.len(),
                self.max_message_bytes
            );
            // Not even sketched: a huge body is not parsed at all.
            return Decoded::Rejected(Rejected {
                author: Some(author),
                seq: None,
                event_id: None,
                event_type: None,
                reason,
                received,
            });
        }
        let envelope = match Envelope::parse(&received.body) {
            Ok(envelope) => envelope,
            Err(e) => return rejected(Some(author), format!("invalid envelope: {e}"), received),
        };
        let claimed = (
            envelope.province.as_str(),
            envelope.district.as_str(),
            envelope.school.as_str(),
        );
        if claimed
            != (
                self.province.as_str(),
                self.district.as_str(),
                author.as_str(),
            )
        {
            let reason = format!(
                "body names {}/{}/{} but subject {} is {}/{}/{}",
                claimed.0,
                claimed.1,
                claimed.2,
                received.subject,
                self.province,
                self.district,
                author.as_str()
            );
            return rejected(Some(author), reason, received);
        }
        Decoded::Candidate(Candidate {
            author,
            seq: envelope.seq,
            event_id: envelope.id,
            event_type: envelope.event_type.clone(),
            envelope,
            received,
        })
    }
}

impl Decoder {
    /// Why this build cannot read the event's type or schema version yet — an agent upgraded
    /// before the aggregator sent it — or `None` when it can. Such an event is held, not
    /// dead-lettered (`docs/nats.md`, "Upgrades"): an upgraded aggregator applies it.
    /// The type and version are recognised as `domain::upcast` does: a type it has a current
    /// schema for, at that schema or an older one.
    pub fn unknown_version(&self, envelope: &Envelope) -> Option<String> {
        let event_type = &envelope.event_type;
        if self.unknown_event_types.iter().any(|t| t == event_type) {
            return Some(format!(
                "event type {event_type} is unknown to this aggregator (ingest.unknown_event_types)"
            ));
        }
        match domain::upcast::current_schema(event_type) {
            Err(_) => Some(format!(
                "event type {event_type} is unknown to this aggregator"
            )),
            Ok(current) if envelope.schema > current => Some(format!(
                "{event_type} schema {} is newer than this aggregator knows (at most {current})",
                envelope.schema
            )),
            Ok(_) => None,
        }
    }
}

/// A rejection, with what the body claimed to be as far as it can be read.
fn rejected(author: Option<Author>, reason: String, received: Received) -> Decoded {
    let sketch = serde_json::from_slice::<Sketch>(&received.body).ok();
    Decoded::Rejected(Rejected {
        author,
        seq: sketch.as_ref().and_then(|s| s.seq),
        event_id: sketch.as_ref().and_then(|s| s.id),
        event_type: sketch.and_then(|s| s.event_type),
        reason,
        received,
    })
}
