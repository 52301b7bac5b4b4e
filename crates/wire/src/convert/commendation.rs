//! Nominations, commendations and emulation criteria.

use uuid::Uuid;

use domain::event::{CommendationAwarded, Criterion, EmulationCriteriaAdopted, NomineeNominated};
use domain::{Command, DomainError};

use super::parse;
use super::{CommandRequest, SchoolCommand, commendation_level, nominee_kind, with_header};
use crate::pb;

impl CommandRequest for pb::NominateRequest {
    fn into_command(self, new_id: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            let date = parse::date("nomination.date", &self.date)?;
            let kind = nominee_kind("nomination.nominee_kind", self.nominee_kind)?;
            let level = commendation_level("nomination.proposed_level", self.proposed_level)?;
            Ok(Command::Nominate(NomineeNominated {
                nomination_id: parse::id_or_new(
                    "nomination.nomination_id",
                    &self.nomination_id,
                    new_id,
                )?,
                date,
                nominee_kind: kind,
                nominee: self.nominee,
                achievement: self.achievement,
                proposed_level: level,
            }))
        })
    }
}

impl CommandRequest for pb::AwardCommendationRequest {
    fn into_command(self, _: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            Ok(Command::AwardCommendation(CommendationAwarded {
                nomination_id: parse::uuid("commendation.nomination_id", &self.nomination_id)?,
                level: commendation_level("commendation.level", self.level)?,
                decision_number: self.decision_number,
                decision_date: parse::date("commendation.decision_date", &self.decision_date)?,
            }))
        })
    }
}

impl CommandRequest for pb::AdoptEmulationCriteriaRequest {
    fn into_command(self, _: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            Ok(Command::AdoptEmulationCriteria(EmulationCriteriaAdopted {
                school_year: self.school_year,
                adopted_on: parse::date("criteria.adopted_on", &self.adopted_on)?,
                criteria: self
                    .criteria
                    .into_iter()
                    .map(|c| Criterion {
                        title: c.title,
                        points: c.points,
                    })
                    .collect(),
            }))
        })
    }
}
