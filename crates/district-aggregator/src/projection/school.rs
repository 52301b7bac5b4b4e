//! A school's event: validated against the school's state as its agent decided it, then its
//! rows — the `school_events` row and those of what it records — added to the batch's
//! [`WriteBuffer`].

use domain::calendar::local_date;
use domain::district::folding::activity_search_words;
use domain::event::{ActivityDetails, Event};
use domain::{DecisionContext, Envelope, SchoolState};
use uuid::Uuid;

use super::write_buffer::{
    ActivityCorrection, ActivityRetraction, ActivityRow, Award, DutyRow, ExpenseRow,
    FeedbackAnswer, FeedbackRow, NominationRow, PressAnswer, PressIssueRow, ReporterVisitRow,
    SchoolEventRow, Statement, WriteBuffer,
};
use super::{ActivityChange, ActivityUpdate, Effects, Outcome, json};
use crate::db::to_i64;

/// Validates a school's due event against `state` and, when valid, adds what it writes to
/// `writes` and folds it into `state`.
pub(super) fn apply_school_event(
    writes: &mut WriteBuffer,
    envelope: &Envelope,
    event: Event,
    state: &mut SchoolState,
) -> Outcome {
    let ctx = DecisionContext {
        today: local_date(envelope.recorded_at),
    };
    if let Err(e) = state.check(&event, ctx) {
        return Outcome::Refused(format!("refused by the rules as of {}: {e}", ctx.today));
    }
    let school = envelope.school.as_str();
    let seq = to_i64(envelope.seq);
    writes.school_event(school_event_row(envelope));
    let area = |a: Option<domain::ContentArea>| a.map(|a| i16::from(a.number()));
    let owned = || school.to_owned();
    match &event {
        Event::PlanAdopted(_) | Event::PlanAmended(_) => {}
        Event::DutyAssigned(e) => writes.duty(DutyRow {
            school: owned(),
            seq,
            role: e.role.code().to_owned(),
            person: e.person.clone(),
            duty: e.duty.clone(),
            since: e.since,
        }),
        Event::ActivityRecorded(e) => writes.activity(ActivityRow::recorded(
            stored_details(school, e.activity_id, &e.details, seq),
            envelope.recorded_at,
            envelope.occurred_at,
        )),
        Event::ActivityCorrected(e) => {
            writes.correct_activity(stored_details(school, e.activity_id, &e.details, seq))
        }
        Event::ActivityRetracted(e) => {
            writes.retract_activity(ActivityRetraction {
                school: owned(),
                activity_id: e.activity_id,
                reason: e.reason.clone(),
                updated_seq: seq,
            });
        }
        Event::FeedbackReceived(e) => writes.feedback(FeedbackRow {
            school: owned(),
            feedback_id: e.feedback_id,
            received_on: e.received_on,
            channel: e.channel.code().to_owned(),
            citizen: e.citizen.clone(),
            subject: e.subject.clone(),
            content: e.content.clone(),
            area: area(e.area),
            received_seq: seq,
            answered_on: None,
            answer_channel: None,
            answer: None,
            answered_seq: None,
        }),
        Event::FeedbackAnswered(e) => writes.answer_feedback(FeedbackAnswer {
            school: owned(),
            feedback_id: e.feedback_id,
            answered_on: e.answered_on,
            answer_channel: e.channel.code().to_owned(),
            answer: e.answer.clone(),
            answered_seq: seq,
        }),
        Event::PressIssueRaised(e) => writes.press_issue(PressIssueRow {
            school: owned(),
            issue_id: e.issue_id,
            raised_on: e.raised_on,
            outlet: e.outlet.clone(),
            title: e.title.clone(),
            summary: e.summary.clone(),
            url: e.url.clone(),
            area: area(e.area),
            raised_seq: seq,
            answered_on: None,
            answer_channel: None,
            response: None,
            answered_seq: None,
        }),
        Event::PressIssueAnswered(e) => writes.answer_press_issue(PressAnswer {
            school: owned(),
            issue_id: e.issue_id,
            answered_on: e.answered_on,
            answer_channel: e.channel.code().to_owned(),
            response: e.response.clone(),
            answered_seq: seq,
        }),
        Event::ReporterVisitHosted(e) => writes.reporter_visit(ReporterVisitRow {
            school: owned(),
            visit_id: e.visit_id,
            date: e.date,
            outlet: e.outlet.clone(),
            reporter: e.reporter.clone(),
            purpose: e.purpose.clone(),
            area: area(e.area),
            seq,
        }),
        Event::NomineeNominated(e) => writes.nomination(NominationRow {
            school: owned(),
            nomination_id: e.nomination_id,
            date: e.date,
            nominee_kind: e.nominee_kind.code().to_owned(),
            nominee: e.nominee.clone(),
            achievement: e.achievement.clone(),
            proposed_level: e.proposed_level.code().to_owned(),
            nominated_seq: seq,
            awarded_level: None,
            decision_number: None,
            decision_date: None,
            awarded_seq: None,
        }),
        Event::CommendationAwarded(e) => writes.award(Award {
            school: owned(),
            nomination_id: e.nomination_id,
            awarded_level: e.level.code().to_owned(),
            decision_number: e.decision_number.clone(),
            decision_date: e.decision_date,
            awarded_seq: seq,
        }),
        Event::EmulationCriteriaAdopted(e) => writes.upsert(
            sqlx::query(
                "INSERT INTO emulation_criteria (school, school_year, adopted_on, criteria, seq) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (school, school_year) DO UPDATE \
                 SET adopted_on = EXCLUDED.adopted_on, criteria = EXCLUDED.criteria, seq = EXCLUDED.seq",
            )
            .bind(owned())
            .bind(e.school_year)
            .bind(e.adopted_on)
            .bind(json(&e.criteria))
            .bind(seq),
        ),
        Event::BudgetEstimated(e) => writes.upsert(
            sqlx::query(
                "INSERT INTO budgets (school, year, estimated, estimated_on, lines, estimates) VALUES ($1, $2, $3, $4, $5, 1) \
                 ON CONFLICT (school, year) DO UPDATE SET estimated = EXCLUDED.estimated, \
                 estimated_on = EXCLUDED.estimated_on, lines = EXCLUDED.lines, estimates = budgets.estimates + 1",
            )
            .bind(owned())
            .bind(e.year)
            .bind(e.total().dong())
            .bind(e.estimated_on)
            .bind(json(&e.lines)),
        ),
        Event::ExpenseRecorded(e) => writes.expense(ExpenseRow {
            school: owned(),
            expense_id: e.expense_id,
            spent_on: e.spent_on,
            item: e.item.clone(),
            amount: e.amount.dong(),
            activity_id: e.activity_id,
            voucher: e.voucher.clone(),
            seq,
        }),
        Event::EvidenceAttached(e) => writes.upsert(
            sqlx::query(
                "INSERT INTO evidence (school, record_kind, record_id, sha256, name, media_type, size, attached_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(owned())
            .bind(e.record.kind())
            .bind(e.record.id())
            .bind(e.file.sha256.clone())
            .bind(e.file.name.clone())
            .bind(e.file.media_type.clone())
            .bind(i64::try_from(e.file.size).unwrap_or(i64::MAX))
            .bind(seq),
        ),
        Event::BudgetSettled(e) => writes.upsert(
            sqlx::query(
                "INSERT INTO budgets (school, year, settled_amount, settled_on, note) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (school, year) DO UPDATE SET settled_amount = EXCLUDED.settled_amount, \
                 settled_on = EXCLUDED.settled_on, note = EXCLUDED.note",
            )
            .bind(owned())
            .bind(e.year)
            .bind(e.settled_amount.dong())
            .bind(e.settled_on)
            .bind(e.note.clone()),
        ),
    }
    state.apply(&event);
    let plan_changed = matches!(event, Event::PlanAdopted(_) | Event::PlanAmended(_));
    if plan_changed
        && let Some(statement) =
            plan_upsert(school, seq, state, matches!(event, Event::PlanAmended(_)))
    {
        writes.upsert(statement);
    }
    // The details move into the broadcast; the rows above took copies.
    let change = match event {
        Event::ActivityRecorded(e) => Some((e.activity_id, ActivityChange::Recorded(e.details))),
        Event::ActivityCorrected(e) => Some((e.activity_id, ActivityChange::Corrected(e.details))),
        Event::ActivityRetracted(e) => Some((
            e.activity_id,
            ActivityChange::Retracted { reason: e.reason },
        )),
        _ => None,
    };
    Outcome::Applied(Effects {
        activity: change.map(|(id, change)| Box::new(activity_update(envelope, id, change))),
        enrolled: None,
    })
}

/// The upsert of the school's plan as the state now holds it (adopted, with every amendment).
fn plan_upsert(school: &str, seq: i64, state: &SchoolState, amended: bool) -> Option<Statement> {
    let plan = state.plan()?;
    Some(
        sqlx::query(
            "INSERT INTO plans (school, number, issuer, parent_agency, place, date, title, period_start, period_end, \
             legal_bases, content_areas, duties, plan, amendments, adopted_seq, updated_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $15, 0, $13, $13) \
             ON CONFLICT (school) DO UPDATE SET number = EXCLUDED.number, issuer = EXCLUDED.issuer, \
             parent_agency = EXCLUDED.parent_agency, place = EXCLUDED.place, date = EXCLUDED.date, title = EXCLUDED.title, \
             period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end, legal_bases = EXCLUDED.legal_bases, \
             content_areas = EXCLUDED.content_areas, duties = EXCLUDED.duties, plan = EXCLUDED.plan, \
             amendments = plans.amendments + $14, updated_seq = EXCLUDED.updated_seq",
        )
        .bind(school.to_owned())
        .bind(plan.number.clone())
        .bind(plan.issuer.clone())
        .bind(plan.parent_agency.clone())
        .bind(plan.place.clone())
        .bind(plan.date)
        .bind(plan.title.clone())
        .bind(plan.period.start())
        .bind(plan.period.end())
        .bind(json(&plan.legal_bases))
        .bind(json(&plan.content_areas))
        .bind(json(&plan.duties))
        .bind(seq)
        .bind(i32::from(amended))
        .bind(json(plan)),
    )
}

/// The `school_events` row of a school's event.
fn school_event_row(envelope: &Envelope) -> SchoolEventRow {
    let occurred_on = local_date(envelope.occurred_at);
    let recorded_on = local_date(envelope.recorded_at);
    let delay = (recorded_on - occurred_on).num_days().max(0);
    SchoolEventRow {
        school: envelope.school.as_str().to_owned(),
        seq: to_i64(envelope.seq),
        event_id: envelope.id,
        r#type: envelope.event_type.clone(),
        schema: i32::try_from(envelope.schema).unwrap_or(i32::MAX),
        occurred_at: envelope.occurred_at,
        recorded_at: envelope.recorded_at,
        occurred_on,
        recorded_on,
        delay_days: i32::try_from(delay).unwrap_or(i32::MAX),
        actor_role: envelope.actor.role.code().to_owned(),
        actor_person: envelope.actor.person.clone(),
        data: envelope.data.as_str().to_owned(),
    }
}

/// An activity's details as the `activities` columns store them (codes, folded search
/// words), set by the event at `seq`: what a correction writes, and a recording too.
fn stored_details(
    school: &str,
    activity_id: Uuid,
    d: &ActivityDetails,
    seq: i64,
) -> ActivityCorrection {
    ActivityCorrection {
        school: school.to_owned(),
        activity_id,
        date: d.date,
        area: i16::from(d.area.number()),
        topic: d.topic.as_ref().map(|t| t.as_str().to_owned()),
        channel: d.channel.code().to_owned(),
        title: d.title.clone(),
        summary: d.summary.clone(),
        audience: d.audience.clone(),
        reach: d.reach.map(i64::from),
        partner: d.partner.clone(),
        evidence_url: d.evidence_url.clone(),
        responsible: d.responsible.code().to_owned(),
        words: activity_search_words(d).into_string(),
        corrections: 1,
        updated_seq: seq,
    }
}

fn activity_update(
    envelope: &Envelope,
    activity_id: Uuid,
    change: ActivityChange,
) -> ActivityUpdate {
    ActivityUpdate {
        school: envelope.school.as_str().to_owned(),
        seq: envelope.seq,
        activity_id,
        change,
        recorded_at: envelope.recorded_at,
    }
}
