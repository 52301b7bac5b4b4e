//! The plan, its amendments and duties.

use uuid::Uuid;

use domain::event::DutyAssigned;
use domain::plan::{AddedTopic, AreaPlan, LegalBasis, PlanAmendment, RoleDuties, Topic};
use domain::{Command, DateRange, DomainError, Plan};

use super::parse::{self, date_string};
use super::{CommandRequest, SchoolCommand, required, role, with_header};
use crate::pb;

/// A plan from the wire, fields named under `plan.` (`plan.date`, `plan.period_end`,
/// `plan.content_areas[2].area`, `plan.content_areas[2].topics[0].code`, …).
pub fn plan_from_pb(plan: pb::Plan) -> Result<Plan, DomainError> {
    let f = |name: &str| format!("plan.{name}");
    let date = parse::date(&f("date"), &plan.date)?;
    let start = parse::date(&f("period_start"), &plan.period_start)?;
    let end = parse::date(&f("period_end"), &plan.period_end)?;
    let period =
        DateRange::new(start, end).map_err(|e| DomainError::invalid(f("period_end"), e.rule))?;
    let legal_bases = legal_bases(&f("legal_bases"), plan.legal_bases)?;
    let content_areas = plan
        .content_areas
        .into_iter()
        .enumerate()
        .map(|(i, area)| {
            let field = f(&format!("content_areas[{i}]"));
            let topics = area
                .topics
                .into_iter()
                .enumerate()
                .map(|(j, topic)| topic_from_pb(&format!("{field}.topics[{j}]"), topic))
                .collect::<Result<_, _>>()?;
            Ok(AreaPlan {
                area: parse::area(&format!("{field}.area"), area.area)?,
                title: area.title,
                topics,
            })
        })
        .collect::<Result<_, DomainError>>()?;
    Ok(Plan {
        number: plan.number,
        issuer: plan.issuer,
        parent_agency: plan.parent_agency,
        place: plan.place,
        date,
        title: plan.title,
        period,
        legal_bases,
        purposes: plan.purposes,
        requirements: plan.requirements,
        content_areas,
        duties: duties(&f("duties"), plan.duties)?,
    })
}

/// A plan for the wire (`GetPlan`, and clients that read a plan file).
pub fn plan_to_pb(plan: &Plan) -> pb::Plan {
    pb::Plan {
        number: plan.number.clone(),
        issuer: plan.issuer.clone(),
        parent_agency: plan.parent_agency.clone(),
        place: plan.place.clone(),
        date: date_string(plan.date),
        title: plan.title.clone(),
        period_start: date_string(plan.period.start()),
        period_end: date_string(plan.period.end()),
        legal_bases: plan.legal_bases.iter().map(legal_basis_to_pb).collect(),
        purposes: plan.purposes.clone(),
        requirements: plan.requirements.clone(),
        content_areas: plan
            .content_areas
            .iter()
            .map(|a| pb::AreaPlan {
                area: u32::from(a.area.number()),
                title: a.title.clone(),
                topics: a.topics.iter().map(topic_to_pb).collect(),
            })
            .collect(),
        duties: plan.duties.iter().map(role_duties_to_pb).collect(),
    }
}

impl From<&Plan> for pb::Plan {
    fn from(plan: &Plan) -> Self {
        plan_to_pb(plan)
    }
}

fn legal_bases(field: &str, bases: Vec<pb::LegalBasis>) -> Result<Vec<LegalBasis>, DomainError> {
    bases
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            Ok(LegalBasis {
                number: b.number,
                date: parse::date(&format!("{field}[{i}].date"), &b.date)?,
                issuer: b.issuer,
                title: b.title,
            })
        })
        .collect()
}

fn legal_basis_to_pb(b: &LegalBasis) -> pb::LegalBasis {
    pb::LegalBasis {
        number: b.number.clone(),
        date: date_string(b.date),
        issuer: b.issuer.clone(),
        title: b.title.clone(),
    }
}

/// A topic; `field` is the topic's own path (`plan.content_areas[0].topics[1]`).
fn topic_from_pb(field: &str, topic: pb::Topic) -> Result<Topic, DomainError> {
    Ok(Topic {
        code: domain::Slug::parse(&format!("{field}.code"), &topic.code)?,
        title: topic.title,
    })
}

fn topic_to_pb(t: &Topic) -> pb::Topic {
    pb::Topic {
        code: t.code.to_string(),
        title: t.title.clone(),
    }
}

fn duties(field: &str, duties: Vec<pb::RoleDuties>) -> Result<Vec<RoleDuties>, DomainError> {
    duties
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            Ok(RoleDuties {
                role: role(&format!("{field}[{i}].role"), d.role)?,
                duties: d.duties,
            })
        })
        .collect()
}

fn role_duties_to_pb(d: &RoleDuties) -> pb::RoleDuties {
    pb::RoleDuties {
        role: pb::Role::from(d.role).into(),
        duties: d.duties.clone(),
    }
}

/// The added topics of an amendment, named as the domain names them:
/// `amendment.topics[i].area`, `amendment.topics[i].code`.
fn added_topics(field: &str, topics: Vec<pb::AddedTopic>) -> Result<Vec<AddedTopic>, DomainError> {
    topics
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let f = format!("{field}[{i}]");
            let area = parse::area(&format!("{f}.area"), t.area)?;
            let topic = required(&format!("{f}.topic"), t.topic)?;
            Ok(AddedTopic {
                area,
                topic: topic_from_pb(&f, topic)?,
            })
        })
        .collect()
}

impl CommandRequest for pb::AdoptPlanRequest {
    fn into_command(self, _: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            let plan = required("plan", self.plan)?;
            Ok(Command::AdoptPlan(plan_from_pb(plan)?))
        })
    }
}

impl CommandRequest for pb::AmendPlanRequest {
    fn into_command(self, _: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            let f = |name: &str| format!("amendment.{name}");
            Ok(Command::AmendPlan(PlanAmendment {
                number: parse::optional_text(self.number),
                date: parse::date(&f("date"), &self.date)?,
                reason: self.reason,
                legal_bases: legal_bases(&f("legal_bases"), self.legal_bases)?,
                topics: added_topics(&f("topics"), self.topics)?,
                period_end: parse::optional_date(&f("period_end"), &self.period_end)?,
                duties: duties(&f("duties"), self.duties)?,
            }))
        })
    }
}

impl CommandRequest for pb::AssignDutyRequest {
    fn into_command(self, _: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            Ok(Command::AssignDuty(DutyAssigned {
                role: role("duty.role", self.role)?,
                person: self.person,
                duty: self.duty,
                since: parse::date("duty.since", &self.since)?,
            }))
        })
    }
}
