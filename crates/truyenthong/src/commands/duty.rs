//! `phan-cong`: giving a named person a communication duty under a role of the plan.

use wire::pb;

use super::{Ctx, date_or_today};
use crate::args::AssignArgs;
use crate::client;
use crate::error::CliError;
use crate::vocab;

pub async fn run(ctx: &Ctx, args: AssignArgs) -> Result<(), CliError> {
    let role =
        vocab::role(&args.role).map_err(|m| CliError::option(m, "duty.role", "--giao-cho"))?;
    let request = pb::AssignDutyRequest {
        header: Some(ctx.header()?),
        role: pb::Role::from(role).into(),
        person: args.person.clone(),
        duty: args.duty,
        since: date_or_today(args.since.as_deref(), "duty.since", "--tu-ngay")?,
    };
    let mut agent = ctx.client().await?;
    let sent = client::send_once(agent.assign_duty(request))
        .await
        .map_err(|s| ctx.refused(s))?;
    ctx.out.sent(
        &format!("Đã phân công {} ({})", args.person.trim(), role.label_vi()),
        None,
        &sent,
    );
    Ok(())
}
