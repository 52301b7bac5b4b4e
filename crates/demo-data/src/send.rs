//! Delivering a generated request to a school agent over gRPC. The one part of this crate that
//! does I/O, kept apart so generation stays pure. The client is signed in as a staff member
//! (`wire::bearer`); the event's actor is that account, so callers pick the session of
//! [`DemoRequest::role`] (see [`crate::staff`]) to keep the history's actors.

use wire::bearer::AgentClient;
use wire::pb;

use crate::DemoRequest;

/// Sends one request; the agent's reply or its refusal.
pub async fn send(
    client: &mut AgentClient,
    request: DemoRequest,
) -> Result<pb::CommandReply, tonic::Status> {
    let reply = match request {
        DemoRequest::AdoptPlan(r) => client.adopt_plan(r).await,
        DemoRequest::AssignDuty(r) => client.assign_duty(r).await,
        DemoRequest::RecordActivity(r) => client.record_activity(r).await,
        DemoRequest::CorrectActivity(r) => client.correct_activity(r).await,
        DemoRequest::RetractActivity(r) => client.retract_activity(r).await,
        DemoRequest::ReceiveFeedback(r) => client.receive_feedback(r).await,
        DemoRequest::AnswerFeedback(r) => client.answer_feedback(r).await,
        DemoRequest::RaisePressIssue(r) => client.raise_press_issue(r).await,
        DemoRequest::AnswerPressIssue(r) => client.answer_press_issue(r).await,
        DemoRequest::HostReporterVisit(r) => client.host_reporter_visit(r).await,
        DemoRequest::Nominate(r) => client.nominate(r).await,
        DemoRequest::AwardCommendation(r) => client.award_commendation(r).await,
        DemoRequest::AdoptEmulationCriteria(r) => client.adopt_emulation_criteria(r).await,
        DemoRequest::EstimateBudget(r) => client.estimate_budget(r).await,
        DemoRequest::RecordExpense(r) => client.record_expense(r).await,
        DemoRequest::SettleBudget(r) => client.settle_budget(r).await,
    }?;
    Ok(reply.into_inner())
}
