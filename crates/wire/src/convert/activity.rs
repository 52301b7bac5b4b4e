//! Communication activities: recorded, corrected, retracted.

use uuid::Uuid;

use domain::event::{ActivityCorrected, ActivityDetails, ActivityRecorded, ActivityRetracted};
use domain::{Command, DomainError};

use super::parse::{self, date_string, text_or_empty};
use super::{CommandRequest, SchoolCommand, channel, required, role, with_header};
use crate::pb;

/// An activity's details, fields named under `prefix` (`activity.date`, `correction.topic`).
pub fn activity_from_pb(prefix: &str, a: pb::Activity) -> Result<ActivityDetails, DomainError> {
    let f = |name: &str| format!("{prefix}.{name}");
    Ok(ActivityDetails {
        date: parse::date(&f("date"), &a.date)?,
        area: parse::area(&f("area"), a.area)?,
        topic: parse::optional_slug(&f("topic"), &a.topic)?,
        channel: channel(&f("channel"), a.channel)?,
        title: a.title,
        summary: a.summary,
        audience: parse::optional_text(a.audience),
        reach: a.reach,
        partner: parse::optional_text(a.partner),
        evidence_url: parse::optional_text(a.evidence_url),
        responsible: role(&f("responsible"), a.responsible)?,
    })
}

/// An activity's details for the wire.
pub fn activity_to_pb(d: &ActivityDetails) -> pb::Activity {
    pb::Activity {
        date: date_string(d.date),
        area: u32::from(d.area.number()),
        topic: d
            .topic
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        channel: pb::Channel::from(d.channel).into(),
        title: d.title.clone(),
        summary: d.summary.clone(),
        audience: text_or_empty(d.audience.as_ref()),
        reach: d.reach,
        partner: text_or_empty(d.partner.as_ref()),
        evidence_url: text_or_empty(d.evidence_url.as_ref()),
        responsible: pb::Role::from(d.responsible).into(),
    }
}

impl CommandRequest for pb::RecordActivityRequest {
    fn into_command(self, new_id: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            let details = activity_from_pb("activity", required("activity", self.activity)?)?;
            Ok(Command::RecordActivity(ActivityRecorded {
                activity_id: parse::id_or_new("activity.activity_id", &self.activity_id, new_id)?,
                details,
            }))
        })
    }
}

impl CommandRequest for pb::CorrectActivityRequest {
    fn into_command(self, _: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            let activity_id = parse::uuid("correction.activity_id", &self.activity_id)?;
            let details = activity_from_pb("correction", required("correction", self.activity)?)?;
            Ok(Command::CorrectActivity(ActivityCorrected {
                activity_id,
                reason: self.reason,
                details,
            }))
        })
    }
}

impl CommandRequest for pb::RetractActivityRequest {
    fn into_command(self, _: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            Ok(Command::RetractActivity(ActivityRetracted {
                activity_id: parse::uuid("retraction.activity_id", &self.activity_id)?,
                reason: self.reason,
            }))
        })
    }
}
