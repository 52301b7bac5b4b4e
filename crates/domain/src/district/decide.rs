//! The district office's commands decided against the district's state, the mirror of
//! [`crate::school::decide`] for the two district facts.
//!
//! The state is small on purpose (the enrolled schools and the current plan): the aggregator
//! keeps it in memory and can rebuild it from its tables with [`DistrictState::restore`].

use std::collections::BTreeMap;

use crate::codes::Slug;
use crate::district::event::DistrictEvent;
use crate::district::facts::{DistrictPlan, Enrolment};
use crate::envelope::Actor;
use crate::error::{DomainError, Rule};
use crate::roles::Role;
use crate::school::{DecisionContext, check_not_future};

/// Only the district office records the district's own facts: a district command, or an
/// event on the district office's subject, whose actor has another role is refused — however
/// it got there (a school's key that could publish on `_district`, a hand-made message).
pub fn check_district_actor(actor: &Actor) -> Result<(), DomainError> {
    if actor.role == Role::DistrictOffice {
        return Ok(());
    }
    Err(DomainError::invalid(
        "actor.role",
        Rule::InvalidValue {
            value: actor.role.code().to_owned(),
            expected: "district_office: only the district office records district facts",
        },
    ))
}

/// What the district office asks for. Like a school's command, each carries the payload of the
/// event it would become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistrictCommand {
    EnrollSchool(Enrolment),
    AdoptDistrictPlan(DistrictPlan),
}

impl DistrictCommand {
    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            DistrictCommand::EnrollSchool(_) => "enroll_school",
            DistrictCommand::AdoptDistrictPlan(_) => "adopt_district_plan",
        }
    }
}

/// The command that would have produced this event, to re-check it with the same rules.
impl From<DistrictEvent> for DistrictCommand {
    fn from(event: DistrictEvent) -> Self {
        match event {
            DistrictEvent::SchoolEnrolled(e) => DistrictCommand::EnrollSchool(e),
            DistrictEvent::DistrictPlanAdopted(p) => DistrictCommand::AdoptDistrictPlan(p),
        }
    }
}

/// Everything the district office's decisions depend on: enrolled schools and the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DistrictState {
    schools: BTreeMap<Slug, Enrolment>,
    plan: Option<DistrictPlan>,
}

impl DistrictState {
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a DistrictEvent>) -> Self {
        let mut state = Self::default();
        for event in events {
            state.apply(event);
        }
        state
    }

    /// The state as the aggregator's tables hold it: the enrolments (as they now stand) and
    /// the current plan.
    pub fn restore(
        enrolments: impl IntoIterator<Item = Enrolment>,
        plan: Option<DistrictPlan>,
    ) -> Self {
        Self {
            schools: enrolments
                .into_iter()
                .map(|e| (e.code.clone(), e))
                .collect(),
            plan,
        }
    }

    /// Applies one event. Re-enrolling keeps the first `enrolled_on` and takes the new name,
    /// level and commune; a plan adoption replaces the plan.
    pub fn apply(&mut self, event: &DistrictEvent) {
        match event {
            DistrictEvent::SchoolEnrolled(e) => {
                let enrolled_on = self
                    .schools
                    .get(&e.code)
                    .map_or(e.enrolled_on, |existing| existing.enrolled_on);
                self.schools.insert(
                    e.code.clone(),
                    Enrolment {
                        enrolled_on,
                        ..e.clone()
                    },
                );
            }
            DistrictEvent::DistrictPlanAdopted(p) => self.plan = Some(p.clone()),
        }
    }

    pub fn plan(&self) -> Option<&DistrictPlan> {
        self.plan.as_ref()
    }

    pub fn enrolment(&self, code: &Slug) -> Option<&Enrolment> {
        self.schools.get(code)
    }

    pub fn is_enrolled(&self, code: &Slug) -> bool {
        self.schools.contains_key(code)
    }

    /// The same state with only the schools `scope` includes enrolled: every view assembled
    /// from it (`assemble` ignores rows of schools not enrolled) shows those schools alone,
    /// its district totals included.
    pub fn restricted_to(&self, scope: &crate::district::access::Scope) -> Self {
        Self {
            schools: self
                .schools
                .iter()
                .filter(|(code, _)| scope.includes(code.as_str()))
                .map(|(code, e)| (code.clone(), e.clone()))
                .collect(),
            plan: self.plan.clone(),
        }
    }

    /// Enrolled schools, ordered by code.
    pub fn enrolments(&self) -> impl Iterator<Item = &Enrolment> {
        self.schools.values()
    }

    /// Re-checks a district event with the rules [`decide_district`] applies, as of `today`.
    pub fn check(&self, event: &DistrictEvent, ctx: DecisionContext) -> Result<(), DomainError> {
        decide_district(self, DistrictCommand::from(event.clone()), ctx).map(|_| ())
    }
}

/// Decides a district command: the events it becomes, or why not.
///
/// - enrolment: name and commune required (≤ 300 characters), `enrolled_on` not in the future;
///   enrolling an enrolled code again updates the school, and is refused (`ALREADY_EXISTS`)
///   when it would change nothing;
/// - plan: number like `1442/KH-PGDĐT`, issuer, parent agency, place and title required, date
///   not in the future and not after the period's end, at most 100 targets, each with
///   `min_activities` in 1..=1000 and no two with the same level, area and `per`,
///   `answer_within_days` in 1..=365 for both kinds.
pub fn decide_district(
    state: &DistrictState,
    command: DistrictCommand,
    ctx: DecisionContext,
) -> Result<Vec<DistrictEvent>, DomainError> {
    let event = match command {
        DistrictCommand::EnrollSchool(e) => {
            let e = e.validated()?;
            check_not_future("enrolment.enrolled_on", e.enrolled_on, ctx)?;
            if let Some(existing) = state.enrolment(&e.code)
                && (&existing.name, existing.level, &existing.commune)
                    == (&e.name, e.level, &e.commune)
            {
                return Err(DomainError::already_exists("enrolment.code", &e.code));
            }
            DistrictEvent::SchoolEnrolled(e)
        }
        DistrictCommand::AdoptDistrictPlan(p) => {
            let p = p.validated()?;
            check_not_future("district_plan.date", p.date, ctx)?;
            DistrictEvent::DistrictPlanAdopted(p)
        }
    };
    Ok(vec![event])
}
