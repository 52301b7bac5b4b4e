//! What school staff ask for. A command is a proposed fact: it carries the payload of the
//! event it would become, with ids already chosen by the service (the domain has no
//! randomness). [`crate::school::decide`] validates it against the school's state and
//! normalises its text, or refuses it.

use uuid::Uuid;

use crate::event::{
    ActivityCorrected, ActivityRecorded, ActivityRetracted, BudgetEstimated, BudgetSettled,
    CommendationAwarded, DutyAssigned, EmulationCriteriaAdopted, Event, EvidenceAttached,
    ExpenseRecorded, FeedbackAnswered, FeedbackReceived, NomineeNominated, PressIssueAnswered,
    PressIssueRaised, ReporterVisitHosted,
};
use crate::plan::{Plan, PlanAmendment};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    AdoptPlan(Plan),
    AmendPlan(PlanAmendment),
    AssignDuty(DutyAssigned),
    RecordActivity(ActivityRecorded),
    CorrectActivity(ActivityCorrected),
    RetractActivity(ActivityRetracted),
    ReceiveFeedback(FeedbackReceived),
    AnswerFeedback(FeedbackAnswered),
    RaisePressIssue(PressIssueRaised),
    AnswerPressIssue(PressIssueAnswered),
    HostReporterVisit(ReporterVisitHosted),
    Nominate(NomineeNominated),
    AwardCommendation(CommendationAwarded),
    AdoptEmulationCriteria(EmulationCriteriaAdopted),
    EstimateBudget(BudgetEstimated),
    RecordExpense(ExpenseRecorded),
    SettleBudget(BudgetSettled),
    AttachEvidence(EvidenceAttached),
}

impl Command {
    /// The id of the thing the command creates or changes, where it has one.
    pub fn entity_id(&self) -> Option<Uuid> {
        match self {
            Command::RecordActivity(c) => Some(c.activity_id),
            Command::CorrectActivity(c) => Some(c.activity_id),
            Command::RetractActivity(c) => Some(c.activity_id),
            Command::ReceiveFeedback(c) => Some(c.feedback_id),
            Command::AnswerFeedback(c) => Some(c.feedback_id),
            Command::RaisePressIssue(c) => Some(c.issue_id),
            Command::AnswerPressIssue(c) => Some(c.issue_id),
            Command::HostReporterVisit(c) => Some(c.visit_id),
            Command::Nominate(c) => Some(c.nomination_id),
            Command::AwardCommendation(c) => Some(c.nomination_id),
            Command::RecordExpense(c) => Some(c.expense_id),
            Command::AttachEvidence(c) => Some(c.record.id()),
            Command::AdoptPlan(_)
            | Command::AmendPlan(_)
            | Command::AssignDuty(_)
            | Command::AdoptEmulationCriteria(_)
            | Command::EstimateBudget(_)
            | Command::SettleBudget(_) => None,
        }
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::AdoptPlan(_) => "adopt_plan",
            Command::AmendPlan(_) => "amend_plan",
            Command::AssignDuty(_) => "assign_duty",
            Command::RecordActivity(_) => "record_activity",
            Command::CorrectActivity(_) => "correct_activity",
            Command::RetractActivity(_) => "retract_activity",
            Command::ReceiveFeedback(_) => "receive_feedback",
            Command::AnswerFeedback(_) => "answer_feedback",
            Command::RaisePressIssue(_) => "raise_press_issue",
            Command::AnswerPressIssue(_) => "answer_press_issue",
            Command::HostReporterVisit(_) => "host_reporter_visit",
            Command::Nominate(_) => "nominate",
            Command::AwardCommendation(_) => "award_commendation",
            Command::AdoptEmulationCriteria(_) => "adopt_emulation_criteria",
            Command::EstimateBudget(_) => "estimate_budget",
            Command::RecordExpense(_) => "record_expense",
            Command::SettleBudget(_) => "settle_budget",
            Command::AttachEvidence(_) => "attach_evidence",
        }
    }
}

/// The command that would have produced this event. Used to re-check a received event with
/// the very rules that accepted it (the aggregator validates what schools send this way).
impl From<Event> for Command {
    fn from(event: Event) -> Self {
        match event {
            Event::PlanAdopted(e) => Command::AdoptPlan(e.plan),
            Event::PlanAmended(e) => Command::AmendPlan(e),
            Event::DutyAssigned(e) => Command::AssignDuty(e),
            Event::ActivityRecorded(e) => Command::RecordActivity(e),
            Event::ActivityCorrected(e) => Command::CorrectActivity(e),
            Event::ActivityRetracted(e) => Command::RetractActivity(e),
            Event::FeedbackReceived(e) => Command::ReceiveFeedback(e),
            Event::FeedbackAnswered(e) => Command::AnswerFeedback(e),
            Event::PressIssueRaised(e) => Command::RaisePressIssue(e),
            Event::PressIssueAnswered(e) => Command::AnswerPressIssue(e),
            Event::ReporterVisitHosted(e) => Command::HostReporterVisit(e),
            Event::NomineeNominated(e) => Command::Nominate(e),
            Event::CommendationAwarded(e) => Command::AwardCommendation(e),
            Event::EmulationCriteriaAdopted(e) => Command::AdoptEmulationCriteria(e),
            Event::BudgetEstimated(e) => Command::EstimateBudget(e),
            Event::ExpenseRecorded(e) => Command::RecordExpense(e),
            Event::BudgetSettled(e) => Command::SettleBudget(e),
            Event::EvidenceAttached(e) => Command::AttachEvidence(e),
        }
    }
}
