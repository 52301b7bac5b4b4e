//! Demo histories as the district's stream holds them: decided and sealed envelopes.
//!
//! The demo drives real agents over gRPC, which decide and seal for themselves. Tests and
//! benchmarks of the district side want the same logs without running ten agents: this module
//! decides each [`DemoRequest`](crate::DemoRequest) with `domain::decide` and seals the events
//! with `Envelope::seal` exactly as an agent does, recorded a few days after they happen; and
//! it keeps the district office's own log (enrolments, the plan 1442/KH-PGDĐT) the way the
//! aggregator's district commands do.
//!
//! No I/O, no clock: ids are fresh UUIDv7 (as an agent's are), everything else is a function
//! of the seed.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use domain::calendar::{local_date, start_of_local_day};
use domain::district::{
    DistrictCommand, DistrictEvent, DistrictPlan, DistrictState, Enrolment, SchoolLevel,
    decide_district,
};
use domain::event::Event;
use domain::{Actor, DecisionContext, Envelope, Role, SchoolRef, SchoolState, Slug};
use uuid::Uuid;
use wire::convert::CommandRequest;

use crate::{DemoRequest, DemoSchool, Volume};

pub use crate::{DISTRICT, PROVINCE};

const DISTRICT_PLAN: &str = include_str!("../../../deploy/plans/kh-1442-pgddt-tam-nong-2017.toml");

/// The district plan 1442/KH-PGDĐT as the office adopts it.
pub fn district_plan() -> DistrictPlan {
    toml::from_str(DISTRICT_PLAN).expect("deploy/plans/kh-1442-pgddt-tam-nong-2017.toml parses")
}

/// The enrolment level of a demo school.
pub fn level(s: &DemoSchool) -> SchoolLevel {
    match s.level.code() {
        "mam_non" => SchoolLevel::MamNon,
        "tieu_hoc" => SchoolLevel::TieuHoc,
        _ => SchoolLevel::Thcs,
    }
}

/// The instant events are recorded when the rules would refuse an earlier one: after the plans
/// end. Also the "today" the whole history is decided on.
pub fn late_recording() -> DateTime<Utc> {
    start_of_local_day(crate::plan_end()) + TimeDelta::days(10)
}

/// When an event is recorded: a few days after the day it happened, at varying hours (some
/// across the UTC/Vietnam date line); or [`late_recording`] when the rules would refuse it then.
fn recorded_at(event: &Event, n: u64, state: &SchoolState) -> DateTime<Utc> {
    let late = late_recording();
    let Some(day) = event.occurred_on() else {
        return late;
    };
    let at = start_of_local_day(day)
        + TimeDelta::days((n % 10) as i64)
        + TimeDelta::hours(1 + (n % 4) as i64 * 6);
    let ctx = DecisionContext {
        today: local_date(at),
    };
    if at < late && state.check(event, ctx).is_ok() {
        at
    } else {
        late
    }
}

/// The domain command of a demo request (demo requests are valid by construction).
pub fn command(request: DemoRequest) -> wire::convert::SchoolCommand {
    let mut id = Uuid::now_v7;
    let converted = match request {
        DemoRequest::AdoptPlan(r) => r.into_command(&mut id),
        DemoRequest::AssignDuty(r) => r.into_command(&mut id),
        DemoRequest::RecordActivity(r) => r.into_command(&mut id),
        DemoRequest::CorrectActivity(r) => r.into_command(&mut id),
        DemoRequest::RetractActivity(r) => r.into_command(&mut id),
        DemoRequest::ReceiveFeedback(r) => r.into_command(&mut id),
        DemoRequest::AnswerFeedback(r) => r.into_command(&mut id),
        DemoRequest::RaisePressIssue(r) => r.into_command(&mut id),
        DemoRequest::AnswerPressIssue(r) => r.into_command(&mut id),
        DemoRequest::HostReporterVisit(r) => r.into_command(&mut id),
        DemoRequest::Nominate(r) => r.into_command(&mut id),
        DemoRequest::AwardCommendation(r) => r.into_command(&mut id),
        DemoRequest::AdoptEmulationCriteria(r) => r.into_command(&mut id),
        DemoRequest::EstimateBudget(r) => r.into_command(&mut id),
        DemoRequest::RecordExpense(r) => r.into_command(&mut id),
        DemoRequest::SettleBudget(r) => r.into_command(&mut id),
    };
    converted.expect("demo requests convert")
}

/// One school's log, built as its agent builds it.
#[derive(Debug)]
pub struct SchoolLog {
    school: SchoolRef,
    state: SchoolState,
    log: Vec<Envelope>,
}

impl SchoolLog {
    pub fn new(s: &DemoSchool) -> Self {
        Self {
            school: SchoolRef::parse(PROVINCE, DISTRICT, s.code).expect("demo codes are valid"),
            state: SchoolState::default(),
            log: Vec::new(),
        }
    }

    /// Decides `request` against the log so far and appends its events; a request the rules
    /// refuse (the history can hold a few, as staff make mistakes) appends nothing. Stops
    /// appending at `cap` events.
    pub fn record(&mut self, request: DemoRequest, cap: usize) {
        let ctx = DecisionContext {
            today: local_date(late_recording()),
        };
        // The agent records the signed-in account as the actor; the demo signs each request's
        // staff member in, so that is the request's actor.
        let Some(actor) = request.actor() else {
            return;
        };
        let command = command(request);
        let Ok(decision) = domain::decide(&self.state, command.command, ctx) else {
            return;
        };
        for event in decision.events {
            if self.log.len() >= cap {
                return;
            }
            let at = recorded_at(&event, self.log.len() as u64, &self.state);
            self.append(&event, actor.clone(), at);
            self.state.apply(&event);
        }
    }

    /// Seals `event` at the next seq without deciding or applying it: what an agent of another
    /// version might have logged, for tests of the district's validation.
    pub fn append_unchecked(&mut self, event: &Event, actor: Actor, at: DateTime<Utc>) {
        self.append(event, actor, at);
    }

    fn append(&mut self, event: &Event, actor: Actor, at: DateTime<Utc>) {
        let seq = self.log.len() as u64 + 1;
        self.log.push(Envelope::seal(
            &self.school,
            seq,
            Uuid::now_v7(),
            at,
            actor,
            event,
        ));
    }

    pub fn len(&self) -> usize {
        self.log.len()
    }

    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }

    pub fn into_envelopes(self) -> Vec<Envelope> {
        self.log
    }
}

/// The school's whole demo history at `volume`, as its agent logs it.
pub fn school_log(s: &DemoSchool, volume: Volume, seed: u64) -> Vec<Envelope> {
    school_log_capped(s, volume, seed, usize::MAX)
}

/// The first `cap` events of the school's demo history at `volume`.
pub fn school_log_capped(s: &DemoSchool, volume: Volume, seed: u64, cap: usize) -> Vec<Envelope> {
    let mut log = SchoolLog::new(s);
    for request in crate::history(s, volume, seed) {
        if log.len() >= cap {
            break;
        }
        log.record(request, cap);
    }
    log.into_envelopes()
}

/// Exactly `wanted` events of the school's history: the volume is scaled until the history is
/// long enough, then cut at `wanted` (its latest days go). For benchmarks of a given size.
pub fn school_log_of_len(s: &DemoSchool, wanted: usize, seed: u64) -> Vec<Envelope> {
    let mut scale = 1.0_f64;
    loop {
        let w = wanted as f64 * scale;
        let volume = Volume {
            activities: (w / 1.4) as u32 + 1,
            feedback: (w / 20.0) as u32,
            press_issues: (w / 200.0) as u32,
        };
        let log = school_log_capped(s, volume, seed, wanted);
        if log.len() >= wanted {
            return log;
        }
        scale *= 1.05 * wanted as f64 / log.len().max(1) as f64;
    }
}

/// The district office's log: enrolments and the district plan, decided and sealed as the
/// aggregator's district commands do.
#[derive(Debug, Default)]
pub struct DistrictOfficeLog {
    state: DistrictState,
    log: Vec<Envelope>,
}

impl DistrictOfficeLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// The office's log for the demo: the plan 1442/KH-PGDĐT, then every school enrolled.
    pub fn demo<'a>(schools: impl IntoIterator<Item = &'a DemoSchool>) -> Self {
        let mut office = Self::new();
        office.adopt_plan();
        for s in schools {
            office.enrol(s);
        }
        office
    }

    /// Decides and seals an office command; returns the last envelope it appended.
    pub fn record(&mut self, command: DistrictCommand) -> Envelope {
        let at = DateTime::parse_from_rfc3339("2017-10-19T02:00:00Z")
            .expect("valid instant")
            .with_timezone(&Utc);
        let ctx = DecisionContext {
            today: local_date(at),
        };
        let events =
            decide_district(&self.state, command, ctx).expect("the office's commands are valid");
        for event in &events {
            self.append(event, at);
            self.state.apply(event);
        }
        self.log
            .last()
            .cloned()
            .expect("a command decides at least one event")
    }

    fn append(&mut self, event: &DistrictEvent, at: DateTime<Utc>) {
        let seq = self.log.len() as u64 + 1;
        self.log.push(Envelope::seal_district(
            &Slug::parse("province", PROVINCE).expect("valid province"),
            &Slug::parse("district", DISTRICT).expect("valid district"),
            seq,
            Uuid::now_v7(),
            at,
            Actor::parse(Role::DistrictOffice, "Trần Văn Bình").expect("valid actor"),
            event,
        ));
    }

    /// Enrols a demo school under its own code.
    pub fn enrol(&mut self, s: &DemoSchool) -> Envelope {
        self.enrol_as(s, s.code)
    }

    /// Enrols a demo school under another code (benchmarks copy schools to grow the district).
    pub fn enrol_as(&mut self, s: &DemoSchool, code: &str) -> Envelope {
        self.record(DistrictCommand::EnrollSchool(Enrolment {
            code: Slug::parse("code", code).expect("valid code"),
            name: s.name.into(),
            level: level(s),
            commune: s.commune.into(),
            enrolled_on: NaiveDate::from_ymd_opt(2017, 10, 18).expect("valid date"),
        }))
    }

    pub fn adopt_plan(&mut self) -> Envelope {
        self.record(DistrictCommand::AdoptDistrictPlan(district_plan()))
    }

    pub fn envelopes(&self) -> &[Envelope] {
        &self.log
    }

    pub fn into_envelopes(self) -> Vec<Envelope> {
        self.log
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TAM_NONG_SCHOOLS;

    #[test]
    fn a_school_log_is_gapless_and_starts_with_the_plan() {
        let log = school_log(&TAM_NONG_SCHOOLS[0], Volume::DEMO, 7);
        assert!(log.len() > 100, "{} events", log.len());
        for (i, e) in log.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1);
        }
        assert_eq!(log[0].event_type, "plan.adopted");
    }

    #[test]
    fn a_log_of_given_length_has_exactly_that_length() {
        assert_eq!(
            school_log_of_len(&TAM_NONG_SCHOOLS[1], 1_000, 7).len(),
            1_000
        );
    }

    #[test]
    fn the_office_adopts_the_plan_then_enrols_every_school() {
        let office = DistrictOfficeLog::demo(TAM_NONG_SCHOOLS);
        assert_eq!(office.envelopes().len(), 1 + TAM_NONG_SCHOOLS.len());
    }
}
