//! The `DistrictAggregator` service: the district office's commands in, the district views
//! (`domain::district::views`) out.
//!
//! Inbound, requests become domain values with the domain's field names: `enrolment.code`,
//! `district_plan.targets[2].area`, `period`, `as_of`, `year`, `page_token`, `filter.school`.
//! A period goes through `domain::Period::from_str`, which names the field `period`.
//!
//! Outbound, each view maps field by field onto its message (see the proto's conventions):
//! `Option` numbers become proto3 `optional` fields, optional text the empty string, dates
//! `YYYY-MM-DD`, the view's enums their proto enums.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use domain::codes::Slug;
use domain::district::views::{
    ActivityFilter, ActivityLine, ActivityPage, BudgetRow, BudgetTotal, BudgetView, CaseKind,
    CaseLine, CaseStats, CaseStatus, CommendationCount, CommendationView, CompletenessView,
    EnrolledSchool, LevelCount, NominationLine, PeriodRange, PlanAreaSummary, PlanRow,
    PlanSchoolSummary, PlanView, ResponsivenessView, SchoolCompleteness, SchoolResponsiveness,
    TargetStatus,
};
use domain::district::{
    AnswerWithinDays, DistrictCommand, DistrictPlan, Enrolment, SchoolLevel, Target, TargetPer,
};
use domain::event::ActivityDetails;
use domain::{DateRange, DomainError, Period, Rule};

use super::parse::{self, date_string, text_or_empty};
use super::{activity_to_pb, channel, required, role, timestamp};
use crate::pb;

// ---------------------------------------------------------------------------------------------
// Vocabularies

fn unknown(field: &str, value: i32, expected: &'static str) -> DomainError {
    DomainError::invalid(
        field,
        Rule::InvalidValue {
            value: value.to_string(),
            expected,
        },
    )
}

/// An optional school level: unspecified is `None` (every level, in a target).
pub fn optional_school_level(field: &str, value: i32) -> Result<Option<SchoolLevel>, DomainError> {
    match pb::SchoolLevel::try_from(value) {
        Ok(pb::SchoolLevel::Unspecified) => Ok(None),
        Ok(pb::SchoolLevel::MamNon) => Ok(Some(SchoolLevel::MamNon)),
        Ok(pb::SchoolLevel::TieuHoc) => Ok(Some(SchoolLevel::TieuHoc)),
        Ok(pb::SchoolLevel::Thcs) => Ok(Some(SchoolLevel::Thcs)),
        Err(_) => Err(unknown(field, value, "a SchoolLevel (1..=3)")),
    }
}

/// A required school level.
pub fn school_level(field: &str, value: i32) -> Result<SchoolLevel, DomainError> {
    optional_school_level(field, value)?.ok_or_else(|| DomainError::invalid(field, Rule::Required))
}

impl From<SchoolLevel> for pb::SchoolLevel {
    fn from(level: SchoolLevel) -> Self {
        match level {
            SchoolLevel::MamNon => pb::SchoolLevel::MamNon,
            SchoolLevel::TieuHoc => pb::SchoolLevel::TieuHoc,
            SchoolLevel::Thcs => pb::SchoolLevel::Thcs,
        }
    }
}

/// A required target period.
pub fn target_per(field: &str, value: i32) -> Result<TargetPer, DomainError> {
    match pb::TargetPer::try_from(value) {
        Ok(pb::TargetPer::Unspecified) => Err(DomainError::invalid(field, Rule::Required)),
        Ok(pb::TargetPer::Quarter) => Ok(TargetPer::Quarter),
        Ok(pb::TargetPer::Semester) => Ok(TargetPer::Semester),
        Ok(pb::TargetPer::SchoolYear) => Ok(TargetPer::SchoolYear),
        Ok(pb::TargetPer::CalendarYear) => Ok(TargetPer::CalendarYear),
        Err(_) => Err(unknown(field, value, "a TargetPer (1..=4)")),
    }
}

impl From<TargetPer> for pb::TargetPer {
    fn from(per: TargetPer) -> Self {
        match per {
            TargetPer::Quarter => pb::TargetPer::Quarter,
            TargetPer::Semester => pb::TargetPer::Semester,
            TargetPer::SchoolYear => pb::TargetPer::SchoolYear,
            TargetPer::CalendarYear => pb::TargetPer::CalendarYear,
        }
    }
}

impl From<TargetStatus> for pb::TargetStatus {
    fn from(status: TargetStatus) -> Self {
        match status {
            TargetStatus::Met => pb::TargetStatus::Met,
            TargetStatus::Missed => pb::TargetStatus::Missed,
            TargetStatus::NoTarget => pb::TargetStatus::NoTarget,
        }
    }
}

impl From<CaseKind> for pb::CaseKind {
    fn from(kind: CaseKind) -> Self {
        match kind {
            CaseKind::Feedback => pb::CaseKind::Feedback,
            CaseKind::Press => pb::CaseKind::Press,
        }
    }
}

impl From<CaseStatus> for pb::CaseStatus {
    fn from(status: CaseStatus) -> Self {
        match status {
            CaseStatus::Overdue => pb::CaseStatus::Overdue,
            CaseStatus::Late => pb::CaseStatus::Late,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Commands

/// An enrolment from the wire, fields named under `enrolment.`.
pub fn enrolment_from_pb(e: pb::Enrolment) -> Result<Enrolment, DomainError> {
    Ok(Enrolment {
        code: Slug::parse("enrolment.code", &e.code)?,
        name: e.name,
        level: school_level("enrolment.level", e.level)?,
        commune: e.commune,
        enrolled_on: parse::date("enrolment.enrolled_on", &e.enrolled_on)?,
    })
}

/// An enrolment for the wire.
pub fn enrolment_to_pb(e: &Enrolment) -> pb::Enrolment {
    pb::Enrolment {
        code: e.code.to_string(),
        name: e.name.clone(),
        level: pb::SchoolLevel::from(e.level).into(),
        commune: e.commune.clone(),
        enrolled_on: date_string(e.enrolled_on),
    }
}

/// A district plan from the wire, fields named under `district_plan.` (`district_plan.date`,
/// `district_plan.targets[1].per`, …). Absent `answer_within_days` is the default (15, 7).
pub fn district_plan_from_pb(p: pb::DistrictPlan) -> Result<DistrictPlan, DomainError> {
    let f = |name: &str| format!("district_plan.{name}");
    let date = parse::date(&f("date"), &p.date)?;
    let start = parse::date(&f("period_start"), &p.period_start)?;
    let end = parse::date(&f("period_end"), &p.period_end)?;
    let period =
        DateRange::new(start, end).map_err(|e| DomainError::invalid(f("period_end"), e.rule))?;
    let targets = p
        .targets
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let field = |name: &str| f(&format!("targets[{i}].{name}"));
            Ok(Target {
                level: optional_school_level(&field("level"), t.level)?,
                area: parse::optional_area(&field("area"), t.area)?,
                per: target_per(&field("per"), t.per)?,
                min_activities: t.min_activities,
            })
        })
        .collect::<Result<_, DomainError>>()?;
    let answer_within_days =
        p.answer_within_days
            .map_or(AnswerWithinDays::DEFAULT, |a| AnswerWithinDays {
                feedback: a.feedback,
                press: a.press,
            });
    Ok(DistrictPlan {
        number: p.number,
        issuer: p.issuer,
        parent_agency: p.parent_agency,
        place: p.place,
        date,
        title: p.title,
        period,
        targets,
        answer_within_days,
    })
}

/// A district plan for the wire.
pub fn district_plan_to_pb(p: &DistrictPlan) -> pb::DistrictPlan {
    pb::DistrictPlan {
        number: p.number.clone(),
        issuer: p.issuer.clone(),
        parent_agency: p.parent_agency.clone(),
        place: p.place.clone(),
        date: date_string(p.date),
        title: p.title.clone(),
        period_start: date_string(p.period.start()),
        period_end: date_string(p.period.end()),
        targets: p
            .targets
            .iter()
            .map(|t| pb::Target {
                level: t
                    .level
                    .map_or(pb::SchoolLevel::Unspecified, pb::SchoolLevel::from)
                    .into(),
                area: parse::area_number(t.area),
                per: pb::TargetPer::from(t.per).into(),
                min_activities: t.min_activities,
            })
            .collect(),
        answer_within_days: Some(pb::AnswerWithinDays {
            feedback: p.answer_within_days.feedback,
            press: p.answer_within_days.press,
        }),
    }
}

/// `EnrollSchool` as a district command.
///
/// The request's `actor` is ignored: the aggregator takes the actor from the signed-in account.
pub fn enroll_school_request(r: pb::EnrollSchoolRequest) -> Result<DistrictCommand, DomainError> {
    let enrolment = enrolment_from_pb(required("enrolment", r.enrolment)?)?;
    Ok(DistrictCommand::EnrollSchool(enrolment))
}

/// `AdoptDistrictPlan` as a district command.
///
/// The request's `actor` is ignored, as for [`enroll_school_request`].
pub fn adopt_district_plan_request(
    r: pb::AdoptDistrictPlanRequest,
) -> Result<DistrictCommand, DomainError> {
    let plan = district_plan_from_pb(required("district_plan", r.plan)?)?;
    Ok(DistrictCommand::AdoptDistrictPlan(plan))
}

// ---------------------------------------------------------------------------------------------
// Query parameters

/// A required period (field `period`): `2018-03`, `2018-Q1`, `2017-2018-HK1`, `2017-2018`,
/// `2018` or `plan`.
pub fn period(value: &str) -> Result<Period, DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::invalid("period", Rule::Required));
    }
    Period::from_str(value)
}

/// An optional period (field `period`); empty is `None`.
pub fn optional_period(value: &str) -> Result<Option<Period>, DomainError> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        Period::from_str(value).map(Some)
    }
}

/// The optional as-of date of `GetResponsiveness` (field `as_of`).
pub fn as_of(value: &str) -> Result<Option<NaiveDate>, DomainError> {
    parse::optional_date("as_of", value)
}

/// The filter of `SearchActivities`, fields named under `filter.` (the period is `period`,
/// as in every view).
pub fn activity_filter_from_pb(
    f: Option<pb::ActivityFilter>,
) -> Result<ActivityFilter, DomainError> {
    let f = f.unwrap_or_default();
    Ok(ActivityFilter {
        school: parse::optional_slug("filter.school", &f.school)?,
        area: parse::optional_area("filter.area", f.area)?,
        topic: parse::optional_slug("filter.topic", &f.topic)?,
        channel: (f.channel != 0)
            .then(|| channel("filter.channel", f.channel))
            .transpose()?,
        responsible: (f.responsible != 0)
            .then(|| role("filter.responsible", f.responsible))
            .transpose()?,
        period: optional_period(&f.period)?,
        text: parse::optional_text(f.text),
    })
}

// ---------------------------------------------------------------------------------------------
// Views

fn optional_date_string(date: Option<NaiveDate>) -> String {
    date.map(date_string).unwrap_or_default()
}

/// An enrolled school for the wire.
pub fn enrolled_school_to_pb(s: &EnrolledSchool) -> pb::EnrolledSchool {
    pb::EnrolledSchool {
        code: s.code.clone(),
        name: s.name.clone(),
        level: s.level.clone(),
        commune: s.commune.clone(),
        enrolled_on: date_string(s.enrolled_on),
    }
}

/// The period of a view for the wire.
pub fn period_range_to_pb(p: &PeriodRange) -> pb::PeriodRange {
    pb::PeriodRange {
        period: p.period.clone(),
        start: date_string(p.start),
        end: date_string(p.end),
    }
}

fn plan_school_to_pb(s: &PlanSchoolSummary) -> pb::PlanSchoolSummary {
    pb::PlanSchoolSummary {
        school: s.school.clone(),
        areas_missed: s.areas_missed,
        total_activities: s.total_activities,
    }
}

/// The plan view for the wire.
pub fn plan_view_to_pb(v: &PlanView) -> pb::PlanView {
    pb::PlanView {
        period: Some(period_range_to_pb(&v.period)),
        rows: v
            .rows
            .iter()
            .map(|r: &PlanRow| pb::PlanRow {
                school: r.school.clone(),
                area: u32::from(r.area),
                activities: r.activities,
                channels: r.channels.clone(),
                target: r.target,
                status: pb::TargetStatus::from(r.status).into(),
            })
            .collect(),
        schools: v.schools.iter().map(plan_school_to_pb).collect(),
        areas: v
            .areas
            .iter()
            .map(|a: &PlanAreaSummary| pb::PlanAreaSummary {
                area: u32::from(a.area),
                schools_missed: a.schools_missed,
            })
            .collect(),
        lagging: v.lagging.iter().map(plan_school_to_pb).collect(),
    }
}

/// The completeness view for the wire.
pub fn completeness_to_pb(v: &CompletenessView) -> pb::CompletenessView {
    pb::CompletenessView {
        period: Some(period_range_to_pb(&v.period)),
        schools: v
            .schools
            .iter()
            .map(|s: &SchoolCompleteness| pb::SchoolCompleteness {
                school: s.school.clone(),
                activities: s.activities,
                events: s.events,
                reported: s.reported,
                on_time: s.on_time,
                on_time_rate: s.on_time_rate,
                max_delay_days: s.max_delay_days,
            })
            .collect(),
        enrolled: v.enrolled,
        reported: v.reported,
        reporting_rate: v.reporting_rate,
    }
}

fn case_stats_to_pb(s: &CaseStats) -> pb::CaseStats {
    pb::CaseStats {
        received: s.received,
        answered: s.answered,
        open: s.open,
        overdue: s.overdue,
        late: s.late,
        mean_days_to_answer: s.mean_days_to_answer,
        max_days_to_answer: s.max_days_to_answer,
    }
}

/// The responsiveness view for the wire.
pub fn responsiveness_to_pb(v: &ResponsivenessView) -> pb::ResponsivenessView {
    pb::ResponsivenessView {
        period: Some(period_range_to_pb(&v.period)),
        as_of: date_string(v.as_of),
        feedback_within_days: v.feedback_within_days,
        press_within_days: v.press_within_days,
        schools: v
            .schools
            .iter()
            .map(|s: &SchoolResponsiveness| pb::SchoolResponsiveness {
                school: s.school.clone(),
                feedback: Some(case_stats_to_pb(&s.feedback)),
                press: Some(case_stats_to_pb(&s.press)),
            })
            .collect(),
        feedback: Some(case_stats_to_pb(&v.feedback)),
        press: Some(case_stats_to_pb(&v.press)),
        flagged: v
            .flagged
            .iter()
            .map(|c: &CaseLine| pb::CaseLine {
                school: c.school.clone(),
                kind: pb::CaseKind::from(c.kind).into(),
                id: c.id.clone(),
                subject: c.subject.clone(),
                opened_on: date_string(c.opened_on),
                answered_on: optional_date_string(c.answered_on),
                days: c.days,
                status: pb::CaseStatus::from(c.status).into(),
            })
            .collect(),
    }
}

/// The commendation view for the wire.
pub fn commendation_to_pb(v: &CommendationView) -> pb::CommendationView {
    pb::CommendationView {
        period: Some(period_range_to_pb(&v.period)),
        counts: v
            .counts
            .iter()
            .map(|c: &CommendationCount| pb::CommendationCount {
                school: c.school.clone(),
                level: c.level.clone(),
                nominated: c.nominated,
                awarded: c.awarded,
            })
            .collect(),
        levels: v
            .levels
            .iter()
            .map(|l: &LevelCount| pb::LevelCount {
                level: l.level.clone(),
                nominated: l.nominated,
                awarded: l.awarded,
            })
            .collect(),
        nominations: v
            .nominations
            .iter()
            .map(|n: &NominationLine| pb::NominationLine {
                school: n.school.clone(),
                nomination_id: n.nomination_id.clone(),
                date: date_string(n.date),
                nominee_kind: n.nominee_kind.clone(),
                nominee: n.nominee.clone(),
                achievement: n.achievement.clone(),
                proposed_level: n.proposed_level.clone(),
                awarded_level: text_or_empty(n.awarded_level.as_ref()),
                decision_number: text_or_empty(n.decision_number.as_ref()),
                decision_date: optional_date_string(n.decision_date),
            })
            .collect(),
    }
}

/// The budget view for the wire.
pub fn budget_to_pb(v: &BudgetView) -> pb::BudgetView {
    let t: &BudgetTotal = &v.total;
    pb::BudgetView {
        year: v.year,
        schools: v
            .schools
            .iter()
            .map(|r: &BudgetRow| pb::BudgetRow {
                school: r.school.clone(),
                estimated: r.estimated,
                spent: r.spent,
                settled: r.settled,
                execution_rate: r.execution_rate,
            })
            .collect(),
        total: Some(pb::BudgetTotal {
            estimated: t.estimated,
            spent: t.spent,
            settled: t.settled,
            schools_settled: t.schools_settled,
            execution_rate: t.execution_rate,
        }),
    }
}

/// An activity line of a search for the wire.
pub fn activity_line_to_pb(a: &ActivityLine) -> pb::ActivityLine {
    pb::ActivityLine {
        school: a.school.clone(),
        activity_id: a.activity_id.clone(),
        date: date_string(a.date),
        area: u32::from(a.area),
        topic: text_or_empty(a.topic.as_ref()),
        channel: a.channel.clone(),
        title: a.title.clone(),
        summary: a.summary.clone(),
        audience: text_or_empty(a.audience.as_ref()),
        reach: a.reach,
        partner: text_or_empty(a.partner.as_ref()),
        evidence_url: text_or_empty(a.evidence_url.as_ref()),
        responsible: a.responsible.clone(),
    }
}

/// A page of the activity search for the wire.
pub fn activity_page_to_pb(p: &ActivityPage) -> pb::ActivityPage {
    pb::ActivityPage {
        activities: p.activities.iter().map(activity_line_to_pb).collect(),
        next_page_token: text_or_empty(p.next_page_token.as_ref()),
    }
}

/// What happened to an activity, as `WatchActivities` streams it.
#[derive(Debug, Clone, Copy)]
pub enum ActivityChangeRef<'a> {
    Recorded(&'a ActivityDetails),
    Corrected(&'a ActivityDetails),
    Retracted { reason: &'a str },
}

/// One applied activity change for `WatchActivities`.
pub fn activity_change_to_pb(
    school: &str,
    seq: u64,
    activity_id: Uuid,
    change: ActivityChangeRef<'_>,
    recorded_at: DateTime<Utc>,
) -> pb::ActivityChange {
    let (kind, activity, reason) = match change {
        ActivityChangeRef::Recorded(d) => (
            pb::ActivityChangeKind::Recorded,
            Some(activity_to_pb(d)),
            String::new(),
        ),
        ActivityChangeRef::Corrected(d) => (
            pb::ActivityChangeKind::Corrected,
            Some(activity_to_pb(d)),
            String::new(),
        ),
        ActivityChangeRef::Retracted { reason } => {
            (pb::ActivityChangeKind::Retracted, None, reason.to_string())
        }
    };
    pb::ActivityChange {
        school: school.to_string(),
        seq,
        activity_id: activity_id.to_string(),
        kind: kind.into(),
        activity,
        reason,
        recorded_at: Some(timestamp(recorded_at)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use domain::{ContentArea, ErrorKind};

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn actor() -> Option<pb::Actor> {
        Some(pb::Actor {
            role: pb::Role::DistrictOffice.into(),
            person: "Trần Văn Bình".into(),
        })
    }

    fn plan_pb() -> pb::DistrictPlan {
        pb::DistrictPlan {
            number: "1442/KH-PGDĐT".into(),
            issuer: "Phòng Giáo dục và Đào tạo Tam Nông".into(),
            parent_agency: "UBND huyện Tam Nông".into(),
            place: "Tam Nông".into(),
            date: "2017-10-18".into(),
            title: "Kế hoạch truyền thông về giáo dục và đào tạo giai đoạn 2017-2020".into(),
            period_start: "2017-10-18".into(),
            period_end: "2020-12-31".into(),
            targets: vec![
                pb::Target {
                    level: 0,
                    area: 0,
                    per: pb::TargetPer::Quarter.into(),
                    min_activities: 2,
                },
                pb::Target {
                    level: pb::SchoolLevel::Thcs.into(),
                    area: 3,
                    per: pb::TargetPer::Semester.into(),
                    min_activities: 5,
                },
            ],
            answer_within_days: None,
        }
    }

    #[test]
    fn a_district_plan_round_trips_and_defaults_its_answer_days() {
        let request = adopt_district_plan_request(pb::AdoptDistrictPlanRequest {
            actor: actor(),
            plan: Some(plan_pb()),
        })
        .unwrap();
        let DistrictCommand::AdoptDistrictPlan(plan) = &request else {
            panic!("{request:?}");
        };
        assert_eq!(plan.answer_within_days, AnswerWithinDays::DEFAULT);
        assert_eq!(
            plan.targets[1],
            Target {
                level: Some(SchoolLevel::Thcs),
                area: Some(ContentArea::from_number("a", 3).unwrap()),
                per: TargetPer::Semester,
                min_activities: 5,
            }
        );
        assert_eq!(plan.targets[0].level, None);
        assert_eq!(plan.targets[0].area, None);
        assert_eq!(plan.period.start(), d(2017, 10, 18));
        let back = district_plan_from_pb(district_plan_to_pb(plan)).unwrap();
        assert_eq!(&back, plan);
    }

    #[test]
    fn bad_fields_are_named() {
        let mut p = plan_pb();
        p.targets[1].per = 0;
        let err = district_plan_from_pb(p).unwrap_err();
        assert_eq!(err.field, "district_plan.targets[1].per");
        let mut p = plan_pb();
        p.targets[0].area = 7;
        assert_eq!(
            district_plan_from_pb(p).unwrap_err().field,
            "district_plan.targets[0].area"
        );
        let mut p = plan_pb();
        p.period_end = "2016-01-01".into();
        assert_eq!(
            district_plan_from_pb(p).unwrap_err().field,
            "district_plan.period_end"
        );
        let err = enroll_school_request(pb::EnrollSchoolRequest {
            actor: actor(),
            enrolment: Some(pb::Enrolment {
                code: "THCS An Hoa".into(),
                name: "Trường THCS An Hòa".into(),
                level: pb::SchoolLevel::Thcs.into(),
                commune: "xã An Hòa".into(),
                enrolled_on: "2017-10-18".into(),
            }),
        })
        .unwrap_err();
        assert_eq!(err.field, "enrolment.code");
        let err = enroll_school_request(pb::EnrollSchoolRequest {
            actor: None,
            enrolment: None,
        })
        .unwrap_err();
        // The actor is ignored (the signed-in administrator acts): the enrolment is what is missing.
        assert_eq!(
            (err.field.as_str(), err.rule),
            ("enrolment", Rule::Required)
        );
        assert_eq!(
            school_level("enrolment.level", 9).unwrap_err().field,
            "enrolment.level"
        );
    }

    #[test]
    fn periods_are_named_period() {
        assert_eq!(
            period("2018-Q1").unwrap(),
            Period::Quarter {
                year: 2018,
                quarter: 1
            }
        );
        assert_eq!(period("plan").unwrap(), Period::WholePlan);
        let err = period("2018-Q5").unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.kind),
            ("period", ErrorKind::InvalidArgument)
        );
        assert_eq!(period("").unwrap_err().rule, Rule::Required);
        assert_eq!(optional_period(" ").unwrap(), None);
        let status = crate::status::from_domain(&period("quý 1").unwrap_err());
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            crate::status::violated_field(&status).as_deref(),
            Some("period")
        );
        assert!(crate::status::vietnamese_message(&status).is_some());
        assert_eq!(as_of("2018-03-31").unwrap(), Some(d(2018, 3, 31)));
        assert_eq!(as_of("31/03/2018").unwrap_err().field, "as_of");
    }

    #[test]
    fn filters_leave_unset_fields_open() {
        assert_eq!(
            activity_filter_from_pb(None).unwrap(),
            ActivityFilter::default()
        );
        let filter = activity_filter_from_pb(Some(pb::ActivityFilter {
            school: "thcs-an-hoa".into(),
            area: 3,
            topic: "huong-nghiep".into(),
            channel: pb::Channel::DistrictRadio.into(),
            responsible: pb::Role::VicePrincipal.into(),
            period: "2017-2018".into(),
            text: "an hoa".into(),
        }))
        .unwrap();
        assert_eq!(filter.school.unwrap().as_str(), "thcs-an-hoa");
        assert_eq!(filter.channel, Some(domain::Channel::DistrictRadio));
        assert_eq!(filter.responsible, Some(domain::Role::VicePrincipal));
        assert_eq!(filter.period, Some(Period::SchoolYear { start_year: 2017 }));
        let err = activity_filter_from_pb(Some(pb::ActivityFilter {
            channel: 99,
            ..Default::default()
        }))
        .unwrap_err();
        assert_eq!(err.field, "filter.channel");
    }

    #[test]
    fn the_descriptor_set_carries_the_district_service() {
        let fds: prost_types::FileDescriptorSet =
            prost::Message::decode(crate::FILE_DESCRIPTOR_SET).unwrap();
        let file = fds
            .file
            .iter()
            .find(|f| f.name() == "truyenthong/v1/district_aggregator.proto")
            .expect("the district proto is compiled in");
        assert_eq!(file.service[0].name(), "DistrictAggregator");
        let methods: Vec<_> = file.service[0].method.iter().map(|m| m.name()).collect();
        for expected in [
            "EnrollSchool",
            "AdoptDistrictPlan",
            "GetPlanView",
            "WatchActivities",
        ] {
            assert!(methods.contains(&expected), "{methods:?}");
        }
        assert_eq!(
            crate::pb::district_aggregator_server::SERVICE_NAME,
            "truyenthong.v1.DistrictAggregator"
        );
    }

    #[test]
    fn views_keep_absent_values_absent() {
        let view = BudgetView {
            year: 2019,
            schools: vec![BudgetRow {
                school: "thcs-an-hoa".into(),
                estimated: 0,
                spent: 0,
                settled: None,
                execution_rate: None,
            }],
            total: BudgetTotal {
                estimated: 4_500_000,
                spent: 4_200_000,
                settled: Some(4_200_000),
                schools_settled: 1,
                execution_rate: Some(0.9333),
            },
        };
        let pb = budget_to_pb(&view);
        assert_eq!(pb.schools[0].settled, None);
        assert_eq!(pb.schools[0].execution_rate, None);
        let total = pb.total.unwrap();
        assert_eq!(total.execution_rate, Some(0.9333));
        assert_eq!(total.settled, Some(4_200_000));
    }
}
