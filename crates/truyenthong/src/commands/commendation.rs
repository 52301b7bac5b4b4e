//! `khen-thuong de-nghi | quyet-dinh`: proposing exemplary people and collectives for
//! commendation (the trade union's duty) and recording the award decided.

use wire::pb;

use super::{Ctx, date_or_today, existing_id, id_or_new};
use crate::args::CommendationCommand;
use crate::client;
use crate::error::CliError;
use crate::vocab;

fn level(value: &str, field: &str) -> Result<i32, CliError> {
    vocab::level(value)
        .map(|l| pb::CommendationLevel::from(l).into())
        .map_err(|m| CliError::option(m, field, "--muc"))
}

pub async fn run(ctx: &Ctx, command: CommendationCommand) -> Result<(), CliError> {
    match command {
        CommendationCommand::Nominate {
            date,
            kind,
            nominee,
            achievement,
            level: proposed,
            id,
        } => {
            let nominee_kind = vocab::nominee_kind(&kind)
                .map(|k| pb::NomineeKind::from(k).into())
                .map_err(|m| CliError::option(m, "nomination.nominee_kind", "--loai"))?;
            let nomination_id = id_or_new(id.as_deref(), "nomination.nomination_id")?;
            let request = pb::NominateRequest {
                header: Some(ctx.header()?),
                nomination_id: nomination_id.clone(),
                date: date_or_today(date.as_deref(), "nomination.date", "--ngay")?,
                nominee_kind,
                nominee,
                achievement,
                proposed_level: level(&proposed, "nomination.proposed_level")?,
            };
            let agent = ctx.client().await?;
            let sent = client::send(&nomination_id, || {
                let mut agent = agent.clone();
                let request = request.clone();
                async move { agent.nominate(request).await }
            })
            .await
            .map_err(|s| ctx.refused(s))?;
            ctx.out
                .sent("Đã ghi đề nghị khen thưởng", Some("đề nghị"), &sent);
        }
        CommendationCommand::Award {
            id,
            level: awarded,
            decision,
            date,
        } => {
            let request = pb::AwardCommendationRequest {
                header: Some(ctx.header()?),
                nomination_id: existing_id(&id, "commendation.nomination_id", "MÃ ĐỀ NGHỊ")?,
                level: level(&awarded, "commendation.level")?,
                decision_number: decision,
                decision_date: date_or_today(
                    date.as_deref(),
                    "commendation.decision_date",
                    "--ngay",
                )?,
            };
            let mut agent = ctx.client().await?;
            let sent = client::send_once(agent.award_commendation(request))
                .await
                .map_err(|s| ctx.refused(s))?;
            ctx.out
                .sent("Đã ghi quyết định khen thưởng", Some("đề nghị"), &sent);
        }
    }
    Ok(())
}
