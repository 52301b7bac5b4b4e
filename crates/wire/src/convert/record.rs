//! Outbound: the log's events, command replies, warnings, actors and instants.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;
use uuid::Uuid;

use domain::Envelope;

use crate::pb;

impl From<&domain::Actor> for pb::Actor {
    fn from(actor: &domain::Actor) -> Self {
        pb::Actor {
            role: pb::Role::from(actor.role).into(),
            person: actor.person.clone(),
        }
    }
}

/// An instant for the wire.
pub fn timestamp(instant: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: instant.timestamp(),
        // Below 2·10⁹ even in a leap second, so it fits; clamp to the protobuf range anyway.
        nanos: i32::try_from(instant.timestamp_subsec_nanos().min(999_999_999)).unwrap_or(0),
    }
}

/// An instant from the wire; `None` when it is out of chrono's range or not normalised.
pub fn datetime(timestamp: &Timestamp) -> Option<DateTime<Utc>> {
    let nanos = u32::try_from(timestamp.nanos).ok()?;
    DateTime::from_timestamp(timestamp.seconds, nanos)
}

/// One event of the log for `ListEvents`. `published` is whether JetStream has acknowledged
/// it (the outbox's knowledge, not the envelope's).
pub fn event_record(envelope: &Envelope, published: bool) -> pb::EventRecord {
    pb::EventRecord {
        id: envelope.id.to_string(),
        seq: envelope.seq,
        r#type: envelope.event_type.clone(),
        schema: envelope.schema,
        occurred_at: Some(timestamp(envelope.occurred_at)),
        recorded_at: Some(timestamp(envelope.recorded_at)),
        actor: Some(pb::Actor::from(&envelope.actor)),
        data_json: envelope.data.to_string(),
        published,
    }
}

/// A warning in both languages.
pub fn warning(warning: &domain::Warning) -> pb::Warning {
    pb::Warning {
        field: warning.field().to_string(),
        message: warning.english(),
        message_vi: warning.vietnamese(),
    }
}

/// The reply to an accepted command: the (last) event's seq and id, the entity the command
/// created or changed (`domain::Command::entity_id`), and the decision's warnings.
pub fn command_reply(
    seq: u64,
    event_id: Uuid,
    entity_id: Option<Uuid>,
    warnings: &[domain::Warning],
) -> pb::CommandReply {
    pb::CommandReply {
        seq,
        event_id: event_id.to_string(),
        entity_id: entity_id.map(|id| id.to_string()).unwrap_or_default(),
        warnings: warnings.iter().map(warning).collect(),
    }
}
