//! One school's state, folded from its events, and the decision of commands against it.
//!
//! [`decide`] may refuse; [`SchoolState::apply`] cannot fail. The state keeps only what
//! decisions need (which ids exist, what is retracted, answered, awarded or settled), not
//! every field of every fact: it lives in the school agent's memory for the life of the
//! process, and district views are built elsewhere from the events themselves.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::calendar::DateRange;
use crate::codes::SchoolRef;
use crate::command::Command;
use crate::error::{DomainError, Rule, Warning};
use crate::event::{
    ActivityDetails, BudgetEstimated, BudgetSettled, CommendationAwarded, Criterion, DutyAssigned,
    EmulationCriteriaAdopted, Event, EvidenceAttached, ExpenseRecorded, FeedbackAnswered,
    FeedbackReceived, NomineeNominated, PlanAdopted, PressIssueAnswered, PressIssueRaised,
    ReporterVisitHosted,
};
use crate::evidence::{EvidenceTarget, MAX_FILES_PER_RECORD};
use crate::money::Vnd;
use crate::plan::{Plan, document_number};
use crate::roles::ContentArea;
use crate::text::{self, MAX_BODY, MAX_LINE};

/// What the decision may rely on besides the state: today's local date (injected, so tests
/// and the aggregator's re-checks choose it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionContext {
    pub today: NaiveDate,
}

/// The outcome of an accepted command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub events: Vec<Event>,
    pub warnings: Vec<Warning>,
}

impl Decision {
    fn one(event: Event) -> Self {
        Self {
            events: vec![event],
            warnings: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Case {
    opened_on: NaiveDate,
    answered_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Nomination {
    date: NaiveDate,
    awarded: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct BudgetYear {
    estimate: Option<Vnd>,
    spent: Vnd,
    settled: bool,
}

/// Everything a school's decisions depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchoolState {
    plan: Option<Plan>,
    /// Activity id → retracted?
    activities: HashMap<Uuid, bool>,
    feedback: HashMap<Uuid, Case>,
    press_issues: HashMap<Uuid, Case>,
    visits: HashSet<Uuid>,
    nominations: HashMap<Uuid, Nomination>,
    budgets: BTreeMap<i32, BudgetYear>,
    expenses: HashSet<Uuid>,
    /// Each record's evidence files, by hash, in the order attached.
    evidence: HashMap<EvidenceTarget, Vec<String>>,
    events: u64,
}

impl SchoolState {
    /// Folds a sequence of events.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut state = Self::default();
        for event in events {
            state.apply(event);
        }
        state
    }

    pub fn plan(&self) -> Option<&Plan> {
        self.plan.as_ref()
    }

    /// How many events have been folded in.
    pub fn event_count(&self) -> u64 {
        self.events
    }

    pub fn activity_count(&self) -> usize {
        self.activities.len()
    }

    /// Applies one event. Never fails: an event is a fact already decided.
    pub fn apply(&mut self, event: &Event) {
        self.events += 1;
        match event {
            Event::PlanAdopted(e) => self.plan = Some(e.plan.clone()),
            Event::PlanAmended(e) => {
                if let Some(plan) = self.plan.as_mut() {
                    plan.amended(e);
                }
            }
            Event::DutyAssigned(_) | Event::EmulationCriteriaAdopted(_) => {}
            Event::ActivityRecorded(e) => {
                self.activities.insert(e.activity_id, false);
            }
            Event::ActivityCorrected(_) => {}
            Event::ActivityRetracted(e) => {
                self.activities.insert(e.activity_id, true);
            }
            Event::FeedbackReceived(e) => {
                self.feedback.insert(
                    e.feedback_id,
                    Case {
                        opened_on: e.received_on,
                        answered_on: None,
                    },
                );
            }
            Event::FeedbackAnswered(e) => {
                if let Some(case) = self.feedback.get_mut(&e.feedback_id) {
                    case.answered_on = Some(e.answered_on);
                }
            }
            Event::PressIssueRaised(e) => {
                self.press_issues.insert(
                    e.issue_id,
                    Case {
                        opened_on: e.raised_on,
                        answered_on: None,
                    },
                );
            }
            Event::PressIssueAnswered(e) => {
                if let Some(case) = self.press_issues.get_mut(&e.issue_id) {
                    case.answered_on = Some(e.answered_on);
                }
            }
            Event::ReporterVisitHosted(e) => {
                self.visits.insert(e.visit_id);
            }
            Event::NomineeNominated(e) => {
                self.nominations.insert(
                    e.nomination_id,
                    Nomination {
                        date: e.date,
                        awarded: false,
                    },
                );
            }
            Event::CommendationAwarded(e) => {
                if let Some(n) = self.nominations.get_mut(&e.nomination_id) {
                    n.awarded = true;
                }
            }
            Event::BudgetEstimated(e) => {
                self.budgets.entry(e.year).or_default().estimate = Some(e.total());
            }
            Event::ExpenseRecorded(e) => {
                self.expenses.insert(e.expense_id);
                let year = self.budgets.entry(e.spent_on.year()).or_default();
                year.spent = year.spent + e.amount;
            }
            Event::BudgetSettled(e) => {
                self.budgets.entry(e.year).or_default().settled = true;
            }
            Event::EvidenceAttached(e) => {
                self.evidence
                    .entry(e.record)
                    .or_default()
                    .push(e.file.sha256.clone());
            }
        }
    }

    /// The hashes of the evidence files attached to `record`, in the order attached.
    pub fn evidence_of(&self, record: &EvidenceTarget) -> &[String] {
        self.evidence.get(record).map(Vec::as_slice).unwrap_or(&[])
    }

    fn plan_or_refuse(&self) -> Result<&Plan, DomainError> {
        self.plan
            .as_ref()
            .ok_or_else(|| DomainError::precondition("plan", Rule::NoPlan))
    }

    /// Re-checks an event someone else decided (a school's event arriving at the district)
    /// with the rules that decide applies, as of `today`. Accepts exactly what `decide` would
    /// have produced from the equivalent command.
    pub fn check(&self, event: &Event, ctx: DecisionContext) -> Result<(), DomainError> {
        decide(self, Command::from(event.clone()), ctx).map(|_| ())
    }
}

/// Checks that a command addressed to school `claimed` reached the agent of school `ours`.
pub fn check_addressed_to(field: &str, ours: &SchoolRef, claimed: &str) -> Result<(), DomainError> {
    if claimed.is_empty() || claimed == ours.school.as_str() {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            Rule::WrongSchool {
                expected: ours.school.to_string(),
                actual: claimed.to_string(),
            },
        ))
    }
}

/// A date of something that happened: inside the plan period, and not after today.
fn check_past_in_period(
    field: &str,
    date: NaiveDate,
    period: DateRange,
    ctx: DecisionContext,
) -> Result<(), DomainError> {
    period.check(field, date)?;
    check_not_future(field, date, ctx)
}

/// A date that must not be after today (the district's decisions use it too).
pub(crate) fn check_not_future(
    field: &str,
    date: NaiveDate,
    ctx: DecisionContext,
) -> Result<(), DomainError> {
    if date > ctx.today {
        return Err(DomainError::invalid(
            field,
            Rule::InFuture {
                date,
                today: ctx.today,
            },
        ));
    }
    Ok(())
}

fn check_not_before(
    field: &str,
    date: NaiveDate,
    other_field: &str,
    other: NaiveDate,
) -> Result<(), DomainError> {
    if date < other {
        return Err(DomainError::invalid(
            field,
            Rule::Before {
                date,
                other_field: other_field.into(),
                other,
            },
        ));
    }
    Ok(())
}

fn check_optional_area(
    field: &str,
    plan: &Plan,
    area: Option<ContentArea>,
) -> Result<(), DomainError> {
    match area {
        Some(a) if plan.area(a).is_none() => Err(DomainError::invalid(
            field,
            Rule::AreaNotInPlan { area: a.number() },
        )),
        _ => Ok(()),
    }
}

fn check_year_in_plan(field: &str, year: i32, plan: &Plan) -> Result<(), DomainError> {
    if plan.period.years().contains(&year) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            Rule::YearOutsidePlan {
                year,
                period: plan.period,
            },
        ))
    }
}

fn validated_activity(
    prefix: &str,
    d: &ActivityDetails,
    plan: &Plan,
    ctx: DecisionContext,
) -> Result<ActivityDetails, DomainError> {
    let f = |name: &str| format!("{prefix}.{name}");
    check_past_in_period(&f("date"), d.date, plan.period, ctx)?;
    plan.check_topic(prefix, d.area, d.topic.as_ref())?;
    Ok(ActivityDetails {
        date: d.date,
        area: d.area,
        topic: d.topic.clone(),
        channel: d.channel,
        title: text::required_line(&f("title"), &d.title, MAX_LINE)?,
        summary: text::required_body(&f("summary"), &d.summary, MAX_BODY)?,
        audience: text::optional(&f("audience"), d.audience.as_deref(), MAX_LINE)?,
        reach: d.reach,
        partner: text::optional(&f("partner"), d.partner.as_deref(), MAX_LINE)?,
        evidence_url: text::optional_url(&f("evidence_url"), d.evidence_url.as_deref())?,
        responsible: d.responsible,
    })
}

fn live_activity(state: &SchoolState, field: &str, id: Uuid) -> Result<(), DomainError> {
    match state.activities.get(&id) {
        None => Err(DomainError::not_found(field, id)),
        Some(true) => Err(DomainError::precondition(
            field,
            Rule::Retracted { id: id.to_string() },
        )),
        Some(false) => Ok(()),
    }
}

fn open_case<'a>(
    cases: &'a HashMap<Uuid, Case>,
    field: &str,
    id: Uuid,
) -> Result<&'a Case, DomainError> {
    let case = cases
        .get(&id)
        .ok_or_else(|| DomainError::not_found(field, id))?;
    if let Some(on) = case.answered_on {
        return Err(DomainError::precondition(
            field,
            Rule::AlreadyAnswered {
                id: id.to_string(),
                on,
            },
        ));
    }
    Ok(case)
}

fn unsettled(state: &SchoolState, field: &str, year: i32) -> Result<(), DomainError> {
    if state.budgets.get(&year).is_some_and(|b| b.settled) {
        return Err(DomainError::precondition(
            field,
            Rule::BudgetSettled { year },
        ));
    }
    Ok(())
}

/// The record an evidence file is attached to exists and may still carry evidence.
fn evidence_target(state: &SchoolState, record: &EvidenceTarget) -> Result<(), DomainError> {
    let field = "evidence.record.id";
    match *record {
        EvidenceTarget::Activity(id) => live_activity(state, field, id),
        EvidenceTarget::ReporterVisit(id) => {
            if state.visits.contains(&id) {
                Ok(())
            } else {
                Err(DomainError::not_found(field, id))
            }
        }
        EvidenceTarget::PressAnswer(id) => match state.press_issues.get(&id) {
            None => Err(DomainError::not_found(field, id)),
            Some(case) if case.answered_on.is_none() => Err(DomainError::precondition(
                field,
                Rule::NotYetAnswered { id: id.to_string() },
            )),
            Some(_) => Ok(()),
        },
        EvidenceTarget::Expense(id) => {
            if state.expenses.contains(&id) {
                Ok(())
            } else {
                Err(DomainError::not_found(field, id))
            }
        }
    }
}

fn decide_evidence(state: &SchoolState, c: &EvidenceAttached) -> Result<Event, DomainError> {
    evidence_target(state, &c.record)?;
    let file = c.file.validated()?;
    let existing = state.evidence_of(&c.record);
    if existing.contains(&file.sha256) {
        return Err(DomainError::already_exists(
            "evidence.file.sha256",
            &file.sha256,
        ));
    }
    if existing.len() >= MAX_FILES_PER_RECORD {
        return Err(DomainError::precondition(
            "evidence.record",
            Rule::TooMany {
                max: MAX_FILES_PER_RECORD,
                actual: existing.len() + 1,
            },
        ));
    }
    Ok(Event::EvidenceAttached(EvidenceAttached {
        record: c.record,
        file,
    }))
}

/// Decides a command against the school's state: the events it becomes, or why not.
pub fn decide(
    state: &SchoolState,
    command: Command,
    ctx: DecisionContext,
) -> Result<Decision, DomainError> {
    if let Command::AdoptPlan(plan) = &command {
        if let Some(existing) = &state.plan {
            return Err(DomainError::precondition(
                "plan",
                Rule::PlanAlreadyAdopted {
                    number: existing.number.clone(),
                },
            ));
        }
        check_not_future("plan.date", plan.date, ctx)?;
        let (plan, warnings) = plan.validated()?;
        return Ok(Decision {
            events: vec![Event::PlanAdopted(PlanAdopted { plan })],
            warnings,
        });
    }
    if let Command::AttachEvidence(c) = &command {
        return decide_evidence(state, c).map(Decision::one);
    }
    let plan = state.plan_or_refuse()?;
    let period = plan.period;
    let event = match command {
        Command::AdoptPlan(_) | Command::AttachEvidence(_) => unreachable!("handled above"),
        Command::AmendPlan(a) => {
            check_not_future("amendment.date", a.date, ctx)?;
            Event::PlanAmended(plan.validate_amendment(&a)?)
        }
        Command::AssignDuty(c) => {
            check_past_in_period("duty.since", c.since, period, ctx)?;
            Event::DutyAssigned(DutyAssigned {
                role: c.role,
                person: text::required_line("duty.person", &c.person, MAX_LINE)?,
                duty: text::required_body("duty.duty", &c.duty, MAX_BODY)?,
                since: c.since,
            })
        }
        Command::RecordActivity(mut c) => {
            if state.activities.contains_key(&c.activity_id) {
                return Err(DomainError::already_exists(
                    "activity.activity_id",
                    c.activity_id,
                ));
            }
            c.details = validated_activity("activity", &c.details, plan, ctx)?;
            Event::ActivityRecorded(c)
        }
        Command::CorrectActivity(mut c) => {
            live_activity(state, "correction.activity_id", c.activity_id)?;
            c.reason = text::required_body("correction.reason", &c.reason, MAX_BODY)?;
            c.details = validated_activity("correction", &c.details, plan, ctx)?;
            Event::ActivityCorrected(c)
        }
        Command::RetractActivity(mut c) => {
            live_activity(state, "retraction.activity_id", c.activity_id)?;
            c.reason = text::required_body("retraction.reason", &c.reason, MAX_BODY)?;
            Event::ActivityRetracted(c)
        }
        Command::ReceiveFeedback(c) => {
            if state.feedback.contains_key(&c.feedback_id) {
                return Err(DomainError::already_exists(
                    "feedback.feedback_id",
                    c.feedback_id,
                ));
            }
            check_past_in_period("feedback.received_on", c.received_on, period, ctx)?;
            check_optional_area("feedback.area", plan, c.area)?;
            Event::FeedbackReceived(FeedbackReceived {
                feedback_id: c.feedback_id,
                received_on: c.received_on,
                channel: c.channel,
                citizen: text::optional("feedback.citizen", c.citizen.as_deref(), MAX_LINE)?,
                subject: text::required_line("feedback.subject", &c.subject, MAX_LINE)?,
                content: text::required_body("feedback.content", &c.content, MAX_BODY)?,
                area: c.area,
            })
        }
        Command::AnswerFeedback(c) => {
            let case = open_case(&state.feedback, "answer.feedback_id", c.feedback_id)?;
            check_not_before(
                "answer.answered_on",
                c.answered_on,
                "feedback.received_on",
                case.opened_on,
            )?;
            check_not_future("answer.answered_on", c.answered_on, ctx)?;
            Event::FeedbackAnswered(FeedbackAnswered {
                feedback_id: c.feedback_id,
                answered_on: c.answered_on,
                channel: c.channel,
                answer: text::required_body("answer.answer", &c.answer, MAX_BODY)?,
            })
        }
        Command::RaisePressIssue(c) => {
            if state.press_issues.contains_key(&c.issue_id) {
                return Err(DomainError::already_exists(
                    "press_issue.issue_id",
                    c.issue_id,
                ));
            }
            check_past_in_period("press_issue.raised_on", c.raised_on, period, ctx)?;
            check_optional_area("press_issue.area", plan, c.area)?;
            Event::PressIssueRaised(PressIssueRaised {
                issue_id: c.issue_id,
                raised_on: c.raised_on,
                outlet: text::required_line("press_issue.outlet", &c.outlet, MAX_LINE)?,
                title: text::required_line("press_issue.title", &c.title, MAX_LINE)?,
                summary: text::required_body("press_issue.summary", &c.summary, MAX_BODY)?,
                url: text::optional_url("press_issue.url", c.url.as_deref())?,
                area: c.area,
            })
        }
        Command::AnswerPressIssue(c) => {
            let case = open_case(&state.press_issues, "response.issue_id", c.issue_id)?;
            check_not_before(
                "response.answered_on",
                c.answered_on,
                "press_issue.raised_on",
                case.opened_on,
            )?;
            check_not_future("response.answered_on", c.answered_on, ctx)?;
            Event::PressIssueAnswered(PressIssueAnswered {
                issue_id: c.issue_id,
                answered_on: c.answered_on,
                channel: c.channel,
                response: text::required_body("response.response", &c.response, MAX_BODY)?,
            })
        }
        Command::HostReporterVisit(c) => {
            if state.visits.contains(&c.visit_id) {
                return Err(DomainError::already_exists("visit.visit_id", c.visit_id));
            }
            check_past_in_period("visit.date", c.date, period, ctx)?;
            check_optional_area("visit.area", plan, c.area)?;
            Event::ReporterVisitHosted(ReporterVisitHosted {
                visit_id: c.visit_id,
                date: c.date,
                outlet: text::required_line("visit.outlet", &c.outlet, MAX_LINE)?,
                reporter: text::required_line("visit.reporter", &c.reporter, MAX_LINE)?,
                purpose: text::required_body("visit.purpose", &c.purpose, MAX_BODY)?,
                area: c.area,
            })
        }
        Command::Nominate(c) => {
            if state.nominations.contains_key(&c.nomination_id) {
                return Err(DomainError::already_exists(
                    "nomination.nomination_id",
                    c.nomination_id,
                ));
            }
            check_past_in_period("nomination.date", c.date, period, ctx)?;
            Event::NomineeNominated(NomineeNominated {
                nomination_id: c.nomination_id,
                date: c.date,
                nominee_kind: c.nominee_kind,
                nominee: text::required_line("nomination.nominee", &c.nominee, MAX_LINE)?,
                achievement: text::required_body(
                    "nomination.achievement",
                    &c.achievement,
                    MAX_BODY,
                )?,
                proposed_level: c.proposed_level,
            })
        }
        Command::AwardCommendation(c) => {
            let field = "commendation.nomination_id";
            let nomination = state
                .nominations
                .get(&c.nomination_id)
                .ok_or_else(|| DomainError::not_found(field, c.nomination_id))?;
            if nomination.awarded {
                return Err(DomainError::precondition(
                    field,
                    Rule::AlreadyAwarded {
                        id: c.nomination_id.to_string(),
                    },
                ));
            }
            check_not_before(
                "commendation.decision_date",
                c.decision_date,
                "nomination.date",
                nomination.date,
            )?;
            check_not_future("commendation.decision_date", c.decision_date, ctx)?;
            Event::CommendationAwarded(CommendationAwarded {
                nomination_id: c.nomination_id,
                level: c.level,
                decision_number: document_number(
                    "commendation.decision_number",
                    &c.decision_number,
                )?,
                decision_date: c.decision_date,
            })
        }
        Command::AdoptEmulationCriteria(c) => {
            let school_year = crate::calendar::Period::SchoolYear {
                start_year: c.school_year,
            }
            .range(period);
            if !school_year.overlaps(&period) {
                return Err(DomainError::invalid(
                    "criteria.school_year",
                    Rule::YearOutsidePlan {
                        year: c.school_year,
                        period,
                    },
                ));
            }
            check_not_future("criteria.adopted_on", c.adopted_on, ctx)?;
            if c.criteria.is_empty() {
                return Err(DomainError::invalid("criteria.criteria", Rule::Required));
            }
            if c.criteria.len() > 100 {
                return Err(DomainError::invalid(
                    "criteria.criteria",
                    Rule::TooMany {
                        max: 100,
                        actual: c.criteria.len(),
                    },
                ));
            }
            let criteria = c
                .criteria
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let f = format!("criteria.criteria[{i}]");
                    if k.points > 1_000 {
                        return Err(DomainError::invalid(
                            format!("{f}.points"),
                            Rule::OutOfRange {
                                value: i64::from(k.points),
                                min: 0,
                                max: 1_000,
                            },
                        ));
                    }
                    Ok(Criterion {
                        title: text::required_body(&format!("{f}.title"), &k.title, 2_000)?,
                        points: k.points,
                    })
                })
                .collect::<Result<_, _>>()?;
            Event::EmulationCriteriaAdopted(EmulationCriteriaAdopted {
                school_year: c.school_year,
                adopted_on: c.adopted_on,
                criteria,
            })
        }
        Command::EstimateBudget(c) => {
            check_year_in_plan("budget.year", c.year, plan)?;
            unsettled(state, "budget.year", c.year)?;
            check_not_future("budget.estimated_on", c.estimated_on, ctx)?;
            if c.lines.is_empty() {
                return Err(DomainError::invalid("budget.lines", Rule::Required));
            }
            if c.lines.len() > 200 {
                return Err(DomainError::invalid(
                    "budget.lines",
                    Rule::TooMany {
                        max: 200,
                        actual: c.lines.len(),
                    },
                ));
            }
            let lines = c
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    Ok(crate::event::BudgetLine {
                        item: text::required_line(
                            &format!("budget.lines[{i}].item"),
                            &l.item,
                            MAX_LINE,
                        )?,
                        amount: l.amount,
                    })
                })
                .collect::<Result<_, DomainError>>()?;
            Event::BudgetEstimated(BudgetEstimated {
                year: c.year,
                estimated_on: c.estimated_on,
                lines,
            })
        }
        Command::RecordExpense(c) => {
            if state.expenses.contains(&c.expense_id) {
                return Err(DomainError::already_exists(
                    "expense.expense_id",
                    c.expense_id,
                ));
            }
            check_past_in_period("expense.spent_on", c.spent_on, period, ctx)?;
            unsettled(state, "expense.spent_on", c.spent_on.year())?;
            if let Some(activity) = c.activity_id {
                live_activity(state, "expense.activity_id", activity)?;
            }
            Event::ExpenseRecorded(ExpenseRecorded {
                expense_id: c.expense_id,
                spent_on: c.spent_on,
                item: text::required_line("expense.item", &c.item, MAX_LINE)?,
                amount: c.amount,
                activity_id: c.activity_id,
                voucher: text::optional("expense.voucher", c.voucher.as_deref(), 100)?,
            })
        }
        Command::SettleBudget(c) => {
            check_year_in_plan("settlement.year", c.year, plan)?;
            unsettled(state, "settlement.year", c.year)?;
            let year_start = NaiveDate::from_ymd_opt(c.year, 1, 1).unwrap_or(period.start());
            check_not_before(
                "settlement.settled_on",
                c.settled_on,
                "the start of year",
                year_start,
            )?;
            check_not_future("settlement.settled_on", c.settled_on, ctx)?;
            Event::BudgetSettled(BudgetSettled {
                year: c.year,
                settled_on: c.settled_on,
                settled_amount: c.settled_amount,
                note: text::optional("settlement.note", c.note.as_deref(), MAX_BODY)?,
            })
        }
    };
    Ok(Decision::one(event))
}

pub mod activity_list;
pub mod records;
mod snapshot;
pub use snapshot::{
    ActivitySnapshot, BudgetYearSnapshot, CaseSnapshot, EvidenceSnapshot, NominationSnapshot,
    SchoolStateSnapshot,
};

#[cfg(test)]
mod tests;
