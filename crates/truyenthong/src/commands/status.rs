//! `trang-thai`: who the agent is and how far its events have reached the district.

use wire::pb;

use super::Ctx;
use crate::error::CliError;
use crate::output::{status_json, status_text};

pub async fn run(ctx: &Ctx) -> Result<(), CliError> {
    let mut agent = ctx.client().await?;
    let status = agent
        .get_status(pb::GetStatusRequest {})
        .await
        .map_err(|s| ctx.refused(s))?
        .into_inner();
    if ctx.out.json {
        ctx.out.json(&status_json(&status));
    } else {
        ctx.out.text(status_text(&status));
    }
    Ok(())
}
