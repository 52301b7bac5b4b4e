//! Conversions between protobuf messages and domain types, at the edge.
//!
//! Inbound, every command request implements [`CommandRequest`]: it becomes the school the
//! client claims to address and a [`domain::Command`] (the actor is the agent's signed-in
//! account, not the request's). Ids the
//! client may leave empty are filled by the caller's `new_id` (the school agent passes
//! `Uuid::now_v7`); the domain itself has no randomness.
//!
//! Parse errors are [`DomainError`]s named with the domain's field paths (`activity.date`,
//! `feedback.received_on`, `expense.amount`, …), so a client sees the same names whether the
//! wire or the domain refused its input. Nothing here applies a business rule: dates in the
//! plan period, known ids, text lengths and the like are `domain::decide`'s.
//!
//! Outbound, domain types become messages: [`plan_to_pb`], [`event_record`],
//! [`command_reply`], and `From` for the enums, the actor and the staff account
//! ([`staff`]).

mod activity;
mod budget;
mod cases;
mod commendation;
pub mod district;
pub mod district_views;
mod enums;
pub mod parse;
mod plan;
mod record;
pub mod staff;

use uuid::Uuid;

use domain::{Command, DomainError, Rule};

use crate::pb;

pub use activity::{activity_from_pb, activity_to_pb};
pub use enums::{channel, commendation_level, nominee_kind, role};
pub use plan::{plan_from_pb, plan_to_pb};
pub use record::{command_reply, datetime, event_record, timestamp, warning};

/// A command request, converted: whom it claims to address and what it asks. Who acts is
/// not the request's to say: the agent takes the actor from the signed-in staff account, so
/// `CommandHeader.actor` is ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolCommand {
    /// The school code of `CommandHeader.school`, as sent; empty when the client did not
    /// say. The agent checks it against its own (`domain::school::check_addressed_to`, field
    /// `header.school`).
    pub claimed_school: String,
    pub command: Command,
}

/// A protobuf command request of the `SchoolAgent` service.
pub trait CommandRequest {
    /// Converts the request. `new_id` is called once for each id the client left empty (at
    /// most once per request), and only after the rest of the request has parsed.
    fn into_command(self, new_id: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError>;
}

/// The claimed school of a command header; empty when there is no header. The header's
/// `actor` is ignored, whatever it says (the agent's signed-in account acts).
pub fn header(header: Option<pb::CommandHeader>) -> String {
    header.map(|h| h.school).unwrap_or_default()
}

/// Assembles a [`SchoolCommand`] from a request's header and its converted body.
fn with_header(
    header_pb: Option<pb::CommandHeader>,
    body: impl FnOnce() -> Result<Command, DomainError>,
) -> Result<SchoolCommand, DomainError> {
    Ok(SchoolCommand {
        claimed_school: header(header_pb),
        command: body()?,
    })
}

/// A message field that must be present.
fn required<T>(field: &str, value: Option<T>) -> Result<T, DomainError> {
    value.ok_or_else(|| DomainError::invalid(field, Rule::Required))
}

#[cfg(test)]
mod tests;
