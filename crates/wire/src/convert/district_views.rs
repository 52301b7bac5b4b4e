//! The aggregator's answers, from protobuf back into the domain's view types: what a client
//! of `DistrictAggregator` (reporting) converts at its edge.
//!
//! Field by field, the inverse of [`super::district`]'s `*_to_pb`. An answer that does not
//! read (a malformed date) is the aggregator's fault, not the client's caller's: it is an
//! [`UnreadableAnswer`] naming the field, not a `DomainError`.

use crate::convert::parse;
use crate::pb;
use chrono::NaiveDate;
use domain::district::views::{
    ActivityLine, BudgetRow, BudgetTotal, BudgetView, CaseKind, CaseLine, CaseStats, CaseStatus,
    CommendationCount, CommendationView, CompletenessView, EnrolledSchool, LevelCount,
    NominationLine, PeriodRange, PlanAreaSummary, PlanRow, PlanSchoolSummary, PlanView,
    ResponsivenessView, SchoolCompleteness, SchoolResponsiveness, TargetStatus,
};

/// A field of an aggregator's answer that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the aggregator's {field} does not read: {detail}")]
pub struct UnreadableAnswer {
    pub field: String,
    pub detail: String,
}

type Result<T> = std::result::Result<T, UnreadableAnswer>;

fn bad(what: &str, detail: impl std::fmt::Display) -> UnreadableAnswer {
    UnreadableAnswer {
        field: what.to_owned(),
        detail: detail.to_string(),
    }
}

fn date(what: &str, value: &str) -> Result<NaiveDate> {
    parse::date(what, value).map_err(|e| bad(what, e))
}

fn optional_date(what: &str, value: &str) -> Result<Option<NaiveDate>> {
    parse::optional_date(what, value).map_err(|e| bad(what, e))
}

fn optional_text(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

fn area(what: &str, area: u32) -> Result<u8> {
    u8::try_from(area)
        .ok()
        .filter(|a| (1..=6).contains(a))
        .ok_or_else(|| bad(what, format!("content area {area}")))
}

pub fn school(s: pb::EnrolledSchool) -> Result<EnrolledSchool> {
    Ok(EnrolledSchool {
        enrolled_on: date("school.enrolled_on", &s.enrolled_on)?,
        code: s.code,
        name: s.name,
        level: s.level,
        commune: s.commune,
    })
}

fn period(p: Option<pb::PeriodRange>) -> Result<PeriodRange> {
    let p = p.ok_or_else(|| bad("view", "no period"))?;
    Ok(PeriodRange {
        start: date("period.start", &p.start)?,
        end: date("period.end", &p.end)?,
        period: p.period,
    })
}

fn plan_school(s: pb::PlanSchoolSummary) -> PlanSchoolSummary {
    PlanSchoolSummary {
        school: s.school,
        areas_missed: s.areas_missed,
        total_activities: s.total_activities,
    }
}

pub fn plan_view(v: pb::PlanView) -> Result<PlanView> {
    Ok(PlanView {
        period: period(v.period)?,
        rows: v
            .rows
            .into_iter()
            .map(|r| {
                let status = match pb::TargetStatus::try_from(r.status) {
                    Ok(pb::TargetStatus::Met) => TargetStatus::Met,
                    Ok(pb::TargetStatus::Missed) => TargetStatus::Missed,
                    Ok(pb::TargetStatus::NoTarget) => TargetStatus::NoTarget,
                    _ => return Err(bad("plan_view.rows.status", r.status)),
                };
                Ok(PlanRow {
                    area: area("plan_view.rows.area", r.area)?,
                    school: r.school,
                    activities: r.activities,
                    channels: r.channels,
                    target: r.target,
                    status,
                })
            })
            .collect::<Result<_>>()?,
        schools: v.schools.into_iter().map(plan_school).collect(),
        areas: v
            .areas
            .into_iter()
            .map(|a| {
                Ok(PlanAreaSummary {
                    area: area("plan_view.areas.area", a.area)?,
                    schools_missed: a.schools_missed,
                })
            })
            .collect::<Result<_>>()?,
        lagging: v.lagging.into_iter().map(plan_school).collect(),
    })
}

pub fn completeness(v: pb::CompletenessView) -> Result<CompletenessView> {
    Ok(CompletenessView {
        period: period(v.period)?,
        schools: v
            .schools
            .into_iter()
            .map(|s| SchoolCompleteness {
                school: s.school,
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
    })
}

fn case_stats(s: Option<pb::CaseStats>) -> CaseStats {
    let s = s.unwrap_or_default();
    CaseStats {
        received: s.received,
        answered: s.answered,
        open: s.open,
        overdue: s.overdue,
        late: s.late,
        mean_days_to_answer: s.mean_days_to_answer,
        max_days_to_answer: s.max_days_to_answer,
    }
}

pub fn responsiveness(v: pb::ResponsivenessView) -> Result<ResponsivenessView> {
    Ok(ResponsivenessView {
        period: period(v.period)?,
        as_of: date("responsiveness.as_of", &v.as_of)?,
        feedback_within_days: v.feedback_within_days,
        press_within_days: v.press_within_days,
        schools: v
            .schools
            .into_iter()
            .map(|s| SchoolResponsiveness {
                school: s.school,
                feedback: case_stats(s.feedback),
                press: case_stats(s.press),
            })
            .collect(),
        feedback: case_stats(v.feedback),
        press: case_stats(v.press),
        flagged: v
            .flagged
            .into_iter()
            .map(|c| {
                let kind = match pb::CaseKind::try_from(c.kind) {
                    Ok(pb::CaseKind::Feedback) => CaseKind::Feedback,
                    Ok(pb::CaseKind::Press) => CaseKind::Press,
                    _ => return Err(bad("responsiveness.flagged.kind", c.kind)),
                };
                let status = match pb::CaseStatus::try_from(c.status) {
                    Ok(pb::CaseStatus::Overdue) => CaseStatus::Overdue,
                    Ok(pb::CaseStatus::Late) => CaseStatus::Late,
                    _ => return Err(bad("responsiveness.flagged.status", c.status)),
                };
                Ok(CaseLine {
                    opened_on: date("responsiveness.flagged.opened_on", &c.opened_on)?,
                    answered_on: optional_date(
                        "responsiveness.flagged.answered_on",
                        &c.answered_on,
                    )?,
                    school: c.school,
                    kind,
                    id: c.id,
                    subject: c.subject,
                    days: c.days,
                    status,
                })
            })
            .collect::<Result<_>>()?,
    })
}

pub fn commendation(v: pb::CommendationView) -> Result<CommendationView> {
    Ok(CommendationView {
        period: period(v.period)?,
        counts: v
            .counts
            .into_iter()
            .map(|c| CommendationCount {
                school: c.school,
                level: c.level,
                nominated: c.nominated,
                awarded: c.awarded,
            })
            .collect(),
        levels: v
            .levels
            .into_iter()
            .map(|l| LevelCount {
                level: l.level,
                nominated: l.nominated,
                awarded: l.awarded,
            })
            .collect(),
        nominations: v
            .nominations
            .into_iter()
            .map(|n| {
                Ok(NominationLine {
                    date: date("commendation.nominations.date", &n.date)?,
                    decision_date: optional_date(
                        "commendation.nominations.decision_date",
                        &n.decision_date,
                    )?,
                    school: n.school,
                    nomination_id: n.nomination_id,
                    nominee_kind: n.nominee_kind,
                    nominee: n.nominee,
                    achievement: n.achievement,
                    proposed_level: n.proposed_level,
                    awarded_level: optional_text(n.awarded_level),
                    decision_number: optional_text(n.decision_number),
                })
            })
            .collect::<Result<_>>()?,
    })
}

pub fn budget(v: pb::BudgetView) -> BudgetView {
    let total = v.total.unwrap_or_default();
    BudgetView {
        year: v.year,
        schools: v
            .schools
            .into_iter()
            .map(|r| BudgetRow {
                school: r.school,
                estimated: r.estimated,
                spent: r.spent,
                settled: r.settled,
                execution_rate: r.execution_rate,
            })
            .collect(),
        total: BudgetTotal {
            estimated: total.estimated,
            spent: total.spent,
            settled: total.settled,
            schools_settled: total.schools_settled,
            execution_rate: total.execution_rate,
        },
    }
}

pub fn activity(a: pb::ActivityLine) -> Result<ActivityLine> {
    Ok(ActivityLine {
        date: date("activity.date", &a.date)?,
        area: area("activity.area", a.area)?,
        school: a.school,
        activity_id: a.activity_id,
        topic: optional_text(a.topic),
        channel: a.channel,
        title: a.title,
        summary: a.summary,
        audience: optional_text(a.audience),
        reach: a.reach,
        partner: optional_text(a.partner),
        evidence_url: optional_text(a.evidence_url),
        responsible: a.responsible,
    })
}
