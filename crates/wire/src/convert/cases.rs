//! Citizens' feedback, press issues and reporter visits.

use uuid::Uuid;

use domain::event::{
    FeedbackAnswered, FeedbackReceived, PressIssueAnswered, PressIssueRaised, ReporterVisitHosted,
};
use domain::{Command, DomainError};

use super::parse;
use super::{CommandRequest, SchoolCommand, channel, with_header};
use crate::pb;

impl CommandRequest for pb::ReceiveFeedbackRequest {
    fn into_command(self, new_id: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            let received_on = parse::date("feedback.received_on", &self.received_on)?;
            let channel = channel("feedback.channel", self.channel)?;
            let area = parse::optional_area("feedback.area", self.area)?;
            Ok(Command::ReceiveFeedback(FeedbackReceived {
                feedback_id: parse::id_or_new("feedback.feedback_id", &self.feedback_id, new_id)?,
                received_on,
                channel,
                citizen: parse::optional_text(self.citizen),
                subject: self.subject,
                content: self.content,
                area,
            }))
        })
    }
}

impl CommandRequest for pb::AnswerFeedbackRequest {
    fn into_command(self, _: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            Ok(Command::AnswerFeedback(FeedbackAnswered {
                feedback_id: parse::uuid("answer.feedback_id", &self.feedback_id)?,
                answered_on: parse::date("answer.answered_on", &self.answered_on)?,
                channel: channel("answer.channel", self.channel)?,
                answer: self.answer,
            }))
        })
    }
}

impl CommandRequest for pb::RaisePressIssueRequest {
    fn into_command(self, new_id: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            let raised_on = parse::date("press_issue.raised_on", &self.raised_on)?;
            let area = parse::optional_area("press_issue.area", self.area)?;
            Ok(Command::RaisePressIssue(PressIssueRaised {
                issue_id: parse::id_or_new("press_issue.issue_id", &self.issue_id, new_id)?,
                raised_on,
                outlet: self.outlet,
                title: self.title,
                summary: self.summary,
                url: parse::optional_text(self.url),
                area,
            }))
        })
    }
}

impl CommandRequest for pb::AnswerPressIssueRequest {
    fn into_command(self, _: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            Ok(Command::AnswerPressIssue(PressIssueAnswered {
                issue_id: parse::uuid("response.issue_id", &self.issue_id)?,
                answered_on: parse::date("response.answered_on", &self.answered_on)?,
                channel: channel("response.channel", self.channel)?,
                response: self.response,
            }))
        })
    }
}

impl CommandRequest for pb::HostReporterVisitRequest {
    fn into_command(self, new_id: &mut dyn FnMut() -> Uuid) -> Result<SchoolCommand, DomainError> {
        with_header(self.header, || {
            let date = parse::date("visit.date", &self.date)?;
            let area = parse::optional_area("visit.area", self.area)?;
            Ok(Command::HostReporterVisit(ReporterVisitHosted {
                visit_id: parse::id_or_new("visit.visit_id", &self.visit_id, new_id)?,
                date,
                outlet: self.outlet,
                reporter: self.reporter,
                purpose: self.purpose,
                area,
            }))
        })
    }
}
