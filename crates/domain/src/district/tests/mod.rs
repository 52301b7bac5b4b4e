//! Given these envelopes (or district events), when this query (or command), then this answer.
//!
//! Histories are small and hand-made, so every expected number can be checked by hand; the
//! comments next to them say how.

mod decide;
mod delivery;
mod views_budget_search;
mod views_plan;
mod views_reporting;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use crate::calendar::{DateRange, start_of_local_day};
use crate::codes::{SchoolRef, Slug};
use crate::district::facts::{
    AnswerWithinDays, DistrictPlan, Enrolment, SchoolLevel, Target, TargetPer,
};
use crate::district::{DistrictEvent, DistrictModel};
use crate::envelope::{Actor, Envelope};
use crate::event::{
    ActivityCorrected, ActivityDetails, ActivityRecorded, ActivityRetracted, Event, PlanAdopted,
};
use crate::plan::Plan;
use crate::roles::{Channel, ContentArea, Role};

const SEED_PLAN: &str = include_str!("../../../../../deploy/plans/kh-114-thcs-an-hoa-2017.toml");

// A copy of `demo_data::{PROVINCE, DISTRICT}`, which is where the codes live: the domain's
// own unit tests cannot depend on demo-data, which depends on the domain.
pub(super) const PROVINCE: &str = "dong-thap";
pub(super) const DISTRICT: &str = "tam-nong";

pub(super) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub(super) fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub(super) fn slug(s: &str) -> Slug {
    Slug::parse("code", s).unwrap()
}

pub(super) fn model() -> DistrictModel {
    DistrictModel::new(slug(PROVINCE), slug(DISTRICT))
}

/// The school plan every test school adopts: the seed plan of THCS An Hòa, 2017-10-20 …
/// 2020-12-31, every area with topics.
pub(super) fn school_plan() -> Event {
    let plan: Plan = toml::from_str(SEED_PLAN).unwrap();
    let (plan, _) = plan.validated().unwrap();
    Event::PlanAdopted(PlanAdopted { plan })
}

/// A topic of each area of the seed plan.
fn topic(area: ContentArea) -> Slug {
    slug(match area {
        ContentArea::StateManagement => "nq-29-nq-88",
        ContentArea::CurriculumReform => "tai-lieu-huong-dan",
        ContentArea::Tasks => "huong-nghiep",
        ContentArea::EmulationCommendation => "khen-thuong",
        ContentArea::AdministrativeReform => "su-hai-long",
        ContentArea::Other => "chi-dao-dia-phuong",
    })
}

pub(super) fn details(date: NaiveDate, area: ContentArea, channel: Channel) -> ActivityDetails {
    ActivityDetails {
        date,
        area,
        topic: Some(topic(area)),
        channel,
        title: "Tin bài tuyên truyền".into(),
        summary: "Nội dung tuyên truyền của nhà trường.".into(),
        audience: None,
        reach: Some(100),
        partner: None,
        evidence_url: None,
        responsible: Role::VicePrincipal,
    }
}

pub(super) fn activity(n: u128, date: NaiveDate, area: ContentArea, channel: Channel) -> Event {
    Event::ActivityRecorded(ActivityRecorded {
        activity_id: id(n),
        details: details(date, area, channel),
    })
}

pub(super) fn correction(n: u128, details: ActivityDetails) -> Event {
    Event::ActivityCorrected(ActivityCorrected {
        activity_id: id(n),
        reason: "Nhập sai ngày và nội dung".into(),
        details,
    })
}

pub(super) fn retraction(n: u128) -> Event {
    Event::ActivityRetracted(ActivityRetracted {
        activity_id: id(n),
        reason: "Nhập trùng".into(),
    })
}

/// The Tam Nông plan: 1442/KH-PGDĐT of 18/10/2017, 2017-10-18 … 2020-12-31.
pub(super) fn district_plan(targets: Vec<Target>, answer: AnswerWithinDays) -> DistrictPlan {
    DistrictPlan {
        number: "1442/KH-PGDĐT".into(),
        issuer: "Phòng Giáo dục và Đào tạo Tam Nông".into(),
        parent_agency: "UBND huyện Tam Nông".into(),
        place: "Tam Nông".into(),
        date: d(2017, 10, 18),
        title: "Kế hoạch truyền thông về giáo dục và đào tạo giai đoạn 2017 – 2020".into(),
        period: DateRange::new(d(2017, 10, 18), d(2020, 12, 31)).unwrap(),
        targets,
        answer_within_days: answer,
    }
}

pub(super) fn target(
    level: Option<SchoolLevel>,
    area: Option<ContentArea>,
    per: TargetPer,
    min_activities: u32,
) -> Target {
    Target {
        level,
        area,
        per,
        min_activities,
    }
}

pub(super) fn enrolment(code: &str, level: SchoolLevel) -> Enrolment {
    Enrolment {
        code: slug(code),
        name: format!("Trường {code}"),
        level,
        commune: "Xã An Hòa".into(),
        enrolled_on: d(2017, 10, 18),
    }
}

/// 10:00 in Vietnam on a local date.
fn morning(date: NaiveDate) -> DateTime<Utc> {
    start_of_local_day(date) + Duration::hours(10)
}

/// Envelopes as authors would publish them, each author's seq counted from 1.
#[derive(Debug, Default)]
pub(super) struct History {
    pub(super) envelopes: Vec<Envelope>,
    seqs: BTreeMap<String, u64>,
}

impl History {
    fn next_seq(&mut self, author: &str) -> u64 {
        let seq = self.seqs.entry(author.to_string()).or_default();
        *seq += 1;
        *seq
    }

    /// A school event recorded on `recorded_on`.
    pub(super) fn school_on(
        &mut self,
        code: &str,
        recorded_on: NaiveDate,
        event: Event,
    ) -> Envelope {
        let seq = self.next_seq(code);
        let school = SchoolRef::parse(PROVINCE, DISTRICT, code).unwrap();
        let actor = Actor::parse(Role::VicePrincipal, "Nguyễn Thị Hồng").unwrap();
        let n = u128::from(seq) + (self.envelopes.len() as u128) * 1_000;
        let envelope = Envelope::seal(&school, seq, id(n), morning(recorded_on), actor, &event);
        self.envelopes.push(envelope.clone());
        envelope
    }

    /// A school event recorded on the day it happened.
    pub(super) fn school(&mut self, code: &str, event: Event) -> Envelope {
        let on = event.occurred_on().expect("a dated event");
        self.school_on(code, on, event)
    }

    /// A district office event recorded on the day it happened.
    pub(super) fn district(&mut self, event: DistrictEvent) -> Envelope {
        let seq = self.next_seq("_district");
        let actor = Actor::parse(Role::DistrictOffice, "Trần Văn Nam").unwrap();
        let n = u128::from(seq) + (self.envelopes.len() as u128) * 1_000;
        let envelope = Envelope::seal_district(
            &slug(PROVINCE),
            &slug(DISTRICT),
            seq,
            id(n),
            morning(event.occurred_on()),
            actor,
            &event,
        );
        self.envelopes.push(envelope.clone());
        envelope
    }

    /// The district plan and the schools enrolled, then each school's plan adopted.
    pub(super) fn district_with(
        plan: Option<DistrictPlan>,
        schools: &[(&str, SchoolLevel)],
    ) -> Self {
        let mut history = History::default();
        if let Some(plan) = plan {
            history.district(DistrictEvent::DistrictPlanAdopted(plan));
        }
        for (code, level) in schools {
            history.district(DistrictEvent::SchoolEnrolled(enrolment(code, *level)));
        }
        for (code, _) in schools {
            history.school(code, school_plan());
        }
        history
    }

    /// A model folded from the whole history, in order; every envelope must apply.
    pub(super) fn fold(&self) -> DistrictModel {
        let mut model = model();
        model.apply_all(&self.envelopes);
        assert_eq!(model.dead_letters(), &[], "every test event applies");
        model
    }
}
