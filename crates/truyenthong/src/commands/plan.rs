//! `ke-hoach ban-hanh <TỆP.toml>` and `ke-hoach xem`.

use wire::pb;

use super::Ctx;
use crate::args::PlanCommand;
use crate::client;
use crate::error::CliError;
use crate::output::{plan_json, plan_text};
use crate::plan_file;

pub async fn run(ctx: &Ctx, command: PlanCommand) -> Result<(), CliError> {
    match command {
        PlanCommand::Adopt { file } => adopt(ctx, &file).await,
        PlanCommand::Show => show(ctx).await,
    }
}

async fn adopt(ctx: &Ctx, file: &std::path::Path) -> Result<(), CliError> {
    // The file first: a bad file never reaches the agent.
    let plan = plan_file::read(file)?;
    let header = ctx.header()?;
    let request = pb::AdoptPlanRequest {
        header: Some(header),
        plan: Some(wire::convert::plan_to_pb(&plan)),
    };
    let mut agent = ctx.client().await?;
    let sent = client::send_once(agent.adopt_plan(request))
        .await
        .map_err(|s| ctx.refused(s))?;
    ctx.out.sent(
        &format!("Đã ban hành kế hoạch {}", plan.number),
        None,
        &sent,
    );
    Ok(())
}

async fn show(ctx: &Ctx) -> Result<(), CliError> {
    let mut agent = ctx.client().await?;
    let reply = agent
        .get_plan(pb::GetPlanRequest {})
        .await
        .map_err(|s| ctx.refused(s))?
        .into_inner();
    match (reply.adopted, reply.plan) {
        (true, Some(plan)) => {
            if ctx.out.json {
                ctx.out
                    .json(&serde_json::json!({ "adopted": true, "plan": plan_json(&plan) }));
            } else {
                ctx.out.text(plan_text(&plan));
            }
        }
        _ => {
            if ctx.out.json {
                ctx.out.json(&serde_json::json!({ "adopted": false }));
            } else {
                ctx.out.text(
                    "Trường chưa ban hành kế hoạch. Ban hành bằng: truyenthong ke-hoach ban-hanh <TỆP.toml>",
                );
            }
        }
    }
    Ok(())
}
