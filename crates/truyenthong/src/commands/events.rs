//! `nhat-ky`: the school's log, newest events by default, or from a seq on.

use wire::pb;

use super::Ctx;
use crate::args::EventsArgs;
use crate::error::CliError;
use crate::output::{events_json, events_text};

/// The most one page of the agent returns.
const PAGE: u64 = 1000;

pub async fn run(ctx: &Ctx, args: EventsArgs) -> Result<(), CliError> {
    let mut agent = ctx.client().await?;
    let wanted = args.limit.max(1);
    let from = match args.from_seq {
        Some(from) => from.max(1),
        None => {
            let head = agent
                .get_status(pb::GetStatusRequest {})
                .await
                .map_err(|s| ctx.refused(s))?
                .into_inner()
                .head_seq;
            head.saturating_sub(wanted - 1).max(1)
        }
    };
    // Pages of at most PAGE until `wanted` events or the end of the log.
    let mut all = pb::ListEventsReply::default();
    let mut next = from;
    loop {
        let remaining = wanted - all.events.len() as u64;
        let page = agent
            .list_events(pb::ListEventsRequest {
                from_seq: next,
                limit: u32::try_from(remaining.min(PAGE)).unwrap_or(1000),
            })
            .await
            .map_err(|s| ctx.refused(s))?
            .into_inner();
        let empty = page.events.is_empty();
        all.events.extend(page.events);
        all.next_seq = page.next_seq;
        all.head_seq = page.head_seq;
        next = page.next_seq;
        if empty || all.events.len() as u64 >= wanted || next > page.head_seq {
            break;
        }
    }
    if ctx.out.json {
        ctx.out.json(&events_json(&all));
    } else {
        ctx.out.text(events_text(&all));
    }
    Ok(())
}
