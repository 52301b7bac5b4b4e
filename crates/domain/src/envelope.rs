//! The event envelope (`docs/contract.md`, `docs/events.md`): what travels on NATS and what
//! the school's log stores.
//!
//! ```json
//! {"id":"0192…","province":"dong-thap","district":"tam-nong","school":"thcs-an-hoa","seq":7,
//!  "type":"activity.recorded","schema":1,"occurred_at":"2018-03-04T17:00:00Z",
//!  "recorded_at":"2018-03-05T02:14:09.120Z","actor":{"role":"vice_principal","person":"…"},
//!  "data":{…}}
//! ```
//!
//! `data` is kept as raw JSON text in the envelope ([`EventData`]) so that an old schema can be
//! upcast before it is read into the current [`Event`] types.
//!
//! The district office publishes its own facts ([`DistrictEvent`]) in the same envelope, with
//! `school` set to `_district` ([`Author::DistrictOffice`]). [`Envelope::decode_any`] reads
//! either kind and checks that the type fits its author: a school cannot enrol itself, the
//! district office does not record activities.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::calendar::start_of_local_day;
use crate::codes::{Author, SchoolRef, Slug};
use crate::district::DistrictEvent;
use crate::error::DomainError;
use crate::event::Event;
use crate::roles::Role;
use crate::text::{self, MAX_LINE};
use crate::upcast;

/// Who recorded the fact: their role in the plan and their name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub role: Role,
    pub person: String,
}

impl Actor {
    pub fn parse(role: Role, person: &str) -> Result<Self, DomainError> {
        Ok(Self {
            role,
            person: text::required_line("actor.person", person, MAX_LINE)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// UUIDv7, globally unique; also the `ce-id` and `Nats-Msg-Id` on NATS.
    pub id: Uuid,
    pub province: Slug,
    pub district: Slug,
    /// The publishing school's code, or `_district` for the district office.
    pub school: Author,
    /// Per author (each school, and the district office), from 1, without gaps.
    pub seq: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema: u32,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub actor: Actor,
    pub data: EventData,
}

/// An event's `data`: the JSON text exactly as it was sealed or received.
///
/// Kept as text rather than as a parsed `serde_json::Value` tree: the district reads every
/// envelope of every school to apply it (and all of them again to rebuild), and building a
/// tree of each event's data, decoding the event from the tree, dropping the tree and writing
/// the data back out as text was about a fifth of the aggregator's work. The event is decoded
/// straight from the text ([`Envelope::decode_any`]); a tree is built only to upcast an old
/// schema. The text is checked to be JSON when an envelope is parsed.
///
/// Two values are equal when their texts are: the log is compared as it was sealed.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventData(Box<RawValue>);

impl EventData {
    /// The compact JSON text of `payload`.
    pub fn of<T: Serialize>(payload: &T) -> Self {
        // Serialising the plain payload structs and JSON values cannot fail: no maps with
        // non-string keys, no custom serialisers that refuse.
        Self(serde_json::value::to_raw_value(payload).expect("event data always serialises"))
    }

    /// JSON text, checked to be JSON.
    pub fn parse(text: &str) -> Result<Self, DecodeError> {
        serde_json::from_str::<Box<RawValue>>(text)
            .map(Self)
            .map_err(|e| DecodeError::Json(e.to_string()))
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The data as a JSON tree (to upcast it, or to look inside in a test). Fails only on
    /// JSON nested deeper than a tree may be (128 levels), which the text itself may be.
    pub fn to_value(&self) -> Result<serde_json::Value, DecodeError> {
        serde_json::from_str(self.0.get()).map_err(|e| DecodeError::Json(e.to_string()))
    }
}

impl From<&serde_json::Value> for EventData {
    fn from(value: &serde_json::Value) -> Self {
        Self::of(value)
    }
}

impl PartialEq for EventData {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::fmt::Debug for EventData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for EventData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why bytes could not become an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not an event envelope: {0}")]
    Json(String),
    #[error("seq must start at 1, got {0}")]
    InvalidSeq(u64),
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("{event_type} schema {schema} is newer than this build understands (at most {max})")]
    SchemaTooNew {
        event_type: String,
        schema: u32,
        max: u32,
    },
    #[error("{event_type} has no upcaster from schema {schema}")]
    NoUpcaster { event_type: String, schema: u32 },
    #[error("{event_type} schema {schema} could not be upcast: {reason}")]
    Upcast {
        event_type: String,
        schema: u32,
        reason: String,
    },
    #[error("{event_type} data does not match its schema: {reason}")]
    Data { event_type: String, reason: String },
    #[error("{event_type} cannot be published by {author}")]
    WrongAuthor { event_type: String, author: String },
    #[error("{event_type} is a district office event, not a school's")]
    NotSchoolEvent { event_type: String },
}

/// A decoded event of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyEvent {
    School(Event),
    District(DistrictEvent),
}

impl AnyEvent {
    /// Every event type of either kind with its current schema version.
    pub fn types() -> impl Iterator<Item = (&'static str, u32)> {
        Event::TYPES
            .iter()
            .chain(DistrictEvent::TYPES)
            .map(|(name, schema)| (*name, *schema))
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            AnyEvent::School(e) => e.type_name(),
            AnyEvent::District(e) => e.type_name(),
        }
    }

    /// Reads `data` written at the current schema of `event_type`, of either kind.
    pub fn from_data(event_type: &str, data: serde_json::Value) -> Result<Self, DecodeError> {
        if DistrictEvent::TYPES.iter().any(|(n, _)| *n == event_type) {
            DistrictEvent::from_data(event_type, data).map(AnyEvent::District)
        } else {
            Event::from_data(event_type, data).map(AnyEvent::School)
        }
    }

    /// Reads `data` written at `schema` of `event_type`, upcast first when the schema is older
    /// than this build's. Most events are at the current schema: they are read straight from
    /// the text, without a tree.
    pub fn from_data_at(
        event_type: &str,
        schema: u32,
        data: &EventData,
    ) -> Result<Self, DecodeError> {
        if upcast::current_schema(event_type)? == schema {
            Self::from_json(event_type, data.as_str())
        } else {
            let data = upcast::upcast(event_type, schema, data.to_value()?)?;
            Self::from_data(event_type, data)
        }
    }

    /// [`Self::from_data`] of `data` as JSON text, without building a tree.
    pub fn from_json(event_type: &str, data: &str) -> Result<Self, DecodeError> {
        if DistrictEvent::TYPES.iter().any(|(n, _)| *n == event_type) {
            DistrictEvent::from_json(event_type, data).map(AnyEvent::District)
        } else {
            Event::from_json(event_type, data).map(AnyEvent::School)
        }
    }
}

impl Envelope {
    /// Wraps a decided event for the log. `occurred_at` is the start of the fact's local date
    /// in Vietnam, or `recorded_at` for facts without a date.
    pub fn seal(
        school: &SchoolRef,
        seq: u64,
        id: Uuid,
        recorded_at: DateTime<Utc>,
        actor: Actor,
        event: &Event,
    ) -> Self {
        let occurred_at = event
            .occurred_on()
            .map(start_of_local_day)
            .unwrap_or(recorded_at);
        Self {
            id,
            province: school.province.clone(),
            district: school.district.clone(),
            school: Author::School(school.school.clone()),
            seq,
            event_type: event.type_name().to_string(),
            schema: event.schema(),
            occurred_at,
            recorded_at,
            actor,
            data: event.to_data(),
        }
    }

    /// Wraps a decided district office event for the district's own log (`school` is
    /// `_district`). `occurred_at` is the start of the fact's local date in Vietnam.
    pub fn seal_district(
        province: &Slug,
        district: &Slug,
        seq: u64,
        id: Uuid,
        recorded_at: DateTime<Utc>,
        actor: Actor,
        event: &DistrictEvent,
    ) -> Self {
        Self {
            id,
            province: province.clone(),
            district: district.clone(),
            school: Author::DistrictOffice,
            seq,
            event_type: event.type_name().to_string(),
            schema: event.schema(),
            occurred_at: start_of_local_day(event.occurred_on()),
            recorded_at,
            actor,
            data: event.to_data(),
        }
    }

    /// Parses an envelope from JSON bytes (the body of a NATS message, a row of the log).
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        let envelope: Envelope =
            serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))?;
        if envelope.seq == 0 {
            return Err(DecodeError::InvalidSeq(0));
        }
        Ok(envelope)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an envelope always serialises")
    }

    /// The publishing school's full address; `None` for the district office's own events.
    pub fn school_ref(&self) -> Option<SchoolRef> {
        Some(SchoolRef {
            province: self.province.clone(),
            district: self.district.clone(),
            school: self.school.school()?.clone(),
        })
    }

    /// The school event inside, upcast to the current schema of its type. A district office
    /// event is refused ([`DecodeError::NotSchoolEvent`]); use [`Envelope::decode_any`] to read
    /// both kinds.
    pub fn decode(&self) -> Result<Event, DecodeError> {
        match self.decode_any()? {
            AnyEvent::School(event) => Ok(event),
            AnyEvent::District(event) => Err(DecodeError::NotSchoolEvent {
                event_type: event.type_name().into(),
            }),
        }
    }

    /// The event inside, of either kind, upcast to the current schema of its type. School
    /// types must come from a school and district types from `_district`
    /// ([`DecodeError::WrongAuthor`] otherwise).
    pub fn decode_any(&self) -> Result<AnyEvent, DecodeError> {
        let event = AnyEvent::from_data_at(&self.event_type, self.schema, &self.data)?;
        match (&self.school, &event) {
            (Author::School(_), AnyEvent::School(_))
            | (Author::DistrictOffice, AnyEvent::District(_)) => Ok(event),
            (author, _) => Err(DecodeError::WrongAuthor {
                event_type: self.event_type.clone(),
                author: author.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ActivityRetracted;

    #[test]
    fn seal_parse_decode_round_trip() {
        let school = SchoolRef::parse("dong-thap", "tam-nong", "thcs-an-hoa").unwrap();
        let event = Event::ActivityRetracted(ActivityRetracted {
            activity_id: Uuid::nil(),
            reason: "Trùng".into(),
        });
        let at = DateTime::parse_from_rfc3339("2018-03-05T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let actor = Actor::parse(Role::VicePrincipal, "Nguyễn Thị Hồng").unwrap();
        let env = Envelope::seal(&school, 3, Uuid::nil(), at, actor, &event);
        let json = env.to_json();
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(text.contains(r#""type":"activity.retracted""#), "{text}");
        assert!(text.contains(r#""schema":1"#), "{text}");
        let back = Envelope::parse(&json).unwrap();
        assert_eq!(back, env);
        assert_eq!(back.decode().unwrap(), event);
        assert_eq!(
            back.occurred_at, at,
            "no business date: occurred when recorded"
        );
    }

    #[test]
    fn bad_envelopes_are_refused_with_a_reason() {
        assert!(matches!(
            Envelope::parse(b"{not json"),
            Err(DecodeError::Json(_))
        ));
        let mut v: serde_json::Value = serde_json::json!({
            "id": Uuid::nil(), "province": "dong-thap", "district": "tam-nong",
            "school": "Bad School", "seq": 1, "type": "activity.retracted", "schema": 1,
            "occurred_at": "2018-01-01T00:00:00Z", "recorded_at": "2018-01-01T00:00:00Z",
            "actor": {"role": "principal", "person": "A"}, "data": {}
        });
        let err = Envelope::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(
            matches!(err, DecodeError::Json(ref m) if m.contains("school") || m.contains("code")),
            "{err}"
        );
        v["school"] = "thcs-an-hoa".into();
        v["schema"] = 9.into();
        let env = Envelope::parse(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert!(matches!(
            env.decode(),
            Err(DecodeError::SchemaTooNew {
                schema: 9,
                max: 1,
                ..
            })
        ));
        v["schema"] = 1.into();
        let env = Envelope::parse(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert!(matches!(env.decode(), Err(DecodeError::Data { .. })));
        v["seq"] = 0.into();
        assert_eq!(
            Envelope::parse(&serde_json::to_vec(&v).unwrap()),
            Err(DecodeError::InvalidSeq(0))
        );
    }

    #[test]
    fn data_keeps_its_text_and_deep_nesting_is_an_error_not_a_panic() {
        let text = r#"{"z":1, "a":[true,null]}"#;
        let data = EventData::parse(text).unwrap();
        assert_eq!(
            data.as_str(),
            text,
            "the text as it came, spacing and key order too"
        );
        assert_eq!(
            data.to_value().unwrap(),
            serde_json::json!({"a": [true, null], "z": 1})
        );
        assert!(matches!(
            EventData::parse("{not json"),
            Err(DecodeError::Json(_))
        ));

        // A raw value may nest deeper than a JSON tree can: reading it as a tree fails.
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        let data = EventData::parse(&format!(r#"{{"extra":{deep}}}"#)).unwrap();
        assert!(matches!(data.to_value(), Err(DecodeError::Json(_))));
    }
}
