//! `y-kien`, `bao-chi`, `phong-vien`: citizens' feedback, press issues and reporter visits —
//! the plan's two-way communication, where answering in time matters.

use wire::pb;

use super::{Ctx, channel, date_or_today, existing_id, id_or_new};
use crate::args::{FeedbackCommand, PressCommand, ReporterCommand};
use crate::client;
use crate::error::CliError;
use crate::values;

pub async fn feedback(ctx: &Ctx, command: FeedbackCommand) -> Result<(), CliError> {
    match command {
        FeedbackCommand::Receive {
            date,
            channel: ch,
            citizen,
            subject,
            content,
            area,
            id,
        } => {
            let feedback_id = id_or_new(id.as_deref(), "feedback.feedback_id")?;
            let request = pb::ReceiveFeedbackRequest {
                header: Some(ctx.header()?),
                feedback_id: feedback_id.clone(),
                received_on: date_or_today(date.as_deref(), "feedback.received_on", "--ngay")?,
                channel: channel(&ch, "feedback.channel", "--kenh")?,
                citizen: values::text(citizen.as_deref()),
                subject,
                content,
                area: area.unwrap_or(0),
            };
            let agent = ctx.client().await?;
            let sent = client::send(&feedback_id, || {
                let mut agent = agent.clone();
                let request = request.clone();
                async move { agent.receive_feedback(request).await }
            })
            .await
            .map_err(|s| ctx.refused(s))?;
            ctx.out
                .sent("Đã ghi ý kiến người dân", Some("ý kiến"), &sent);
        }
        FeedbackCommand::Answer {
            id,
            date,
            channel: ch,
            answer,
        } => {
            let request = pb::AnswerFeedbackRequest {
                header: Some(ctx.header()?),
                feedback_id: existing_id(&id, "answer.feedback_id", "MÃ Ý KIẾN")?,
                answered_on: date_or_today(date.as_deref(), "answer.answered_on", "--ngay")?,
                channel: channel(&ch, "answer.channel", "--kenh")?,
                answer,
            };
            let mut agent = ctx.client().await?;
            let sent = client::send_once(agent.answer_feedback(request))
                .await
                .map_err(|s| ctx.refused(s))?;
            ctx.out
                .sent("Đã ghi việc trả lời ý kiến", Some("ý kiến"), &sent);
        }
    }
    Ok(())
}

pub async fn press(ctx: &Ctx, command: PressCommand) -> Result<(), CliError> {
    match command {
        PressCommand::Raise {
            date,
            outlet,
            title,
            summary,
            url,
            area,
            id,
        } => {
            let issue_id = id_or_new(id.as_deref(), "press_issue.issue_id")?;
            let request = pb::RaisePressIssueRequest {
                header: Some(ctx.header()?),
                issue_id: issue_id.clone(),
                raised_on: date_or_today(date.as_deref(), "press_issue.raised_on", "--ngay")?,
                outlet,
                title,
                summary,
                url: values::text(url.as_deref()),
                area: area.unwrap_or(0),
            };
            let agent = ctx.client().await?;
            let sent = client::send(&issue_id, || {
                let mut agent = agent.clone();
                let request = request.clone();
                async move { agent.raise_press_issue(request).await }
            })
            .await
            .map_err(|s| ctx.refused(s))?;
            ctx.out
                .sent("Đã ghi vấn đề báo chí nêu", Some("vấn đề"), &sent);
        }
        PressCommand::Answer {
            id,
            date,
            channel: ch,
            response,
        } => {
            let request = pb::AnswerPressIssueRequest {
                header: Some(ctx.header()?),
                issue_id: existing_id(&id, "response.issue_id", "MÃ VẤN ĐỀ")?,
                answered_on: date_or_today(date.as_deref(), "response.answered_on", "--ngay")?,
                channel: channel(&ch, "response.channel", "--kenh")?,
                response,
            };
            let mut agent = ctx.client().await?;
            let sent = client::send_once(agent.answer_press_issue(request))
                .await
                .map_err(|s| ctx.refused(s))?;
            ctx.out
                .sent("Đã ghi việc trả lời báo chí", Some("vấn đề"), &sent);
        }
    }
    Ok(())
}

pub async fn reporter(ctx: &Ctx, command: ReporterCommand) -> Result<(), CliError> {
    let ReporterCommand::Host {
        date,
        outlet,
        reporter,
        purpose,
        area,
        id,
    } = command;
    let visit_id = id_or_new(id.as_deref(), "visit.visit_id")?;
    let request = pb::HostReporterVisitRequest {
        header: Some(ctx.header()?),
        visit_id: visit_id.clone(),
        date: date_or_today(date.as_deref(), "visit.date", "--ngay")?,
        outlet,
        reporter,
        purpose,
        area: area.unwrap_or(0),
    };
    let agent = ctx.client().await?;
    let sent = client::send(&visit_id, || {
        let mut agent = agent.clone();
        let request = request.clone();
        async move { agent.host_reporter_visit(request).await }
    })
    .await
    .map_err(|s| ctx.refused(s))?;
    ctx.out
        .sent("Đã ghi việc tiếp phóng viên", Some("buổi tiếp"), &sent);
    Ok(())
}
