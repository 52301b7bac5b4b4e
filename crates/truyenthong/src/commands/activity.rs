//! `hoat-dong ghi | sua | huy | nhap`: communication activities.
//!
//! [`build`] turns the options (or a CSV row, see `import.rs`) into a protobuf `Activity`,
//! checking dates, codes and numbers here so that mistakes are named by their option or
//! column. A correction replaces an activity whole on the agent, so `sua` starts from the
//! activity as the log holds it and changes only what was given.

use domain::Role;
use domain::event::{ActivityCorrected, ActivityRecorded};
use serde_json::Value;
use tonic::Status;
use wire::pb;

use super::{Ctx, existing_id, id_or_new};
use crate::args::{ActivityCommand, ActivityFields};
use crate::client::{self, Client};
use crate::error::CliError;
use crate::values;
use crate::vocab;

pub async fn run(ctx: &Ctx, command: ActivityCommand) -> Result<(), CliError> {
    match command {
        ActivityCommand::Record { fields, id } => record(ctx, &fields, id.as_deref()).await,
        ActivityCommand::Correct { id, reason, fields } => {
            correct(ctx, &id, &reason, &fields).await
        }
        ActivityCommand::Retract { id, reason } => retract(ctx, &id, &reason).await,
        ActivityCommand::Import { file } => super::import::run(ctx, &file).await,
    }
}

/// Where an activity's values come from, to name them in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Command-line options (`--ngay`).
    Options,
    /// Columns of a CSV file (`ngay`).
    Csv,
}

impl Source {
    fn place(self, column: &str) -> String {
        match self {
            Source::Options => format!("tùy chọn --{column}"),
            Source::Csv => format!("cột «{column}»"),
        }
    }
}

/// A given option, trimmed.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim)
}

/// Builds the activity from `fields`, falling back to `base` (the recorded activity, for a
/// correction), then to defaults: the date to today when `default_today`, the responsible
/// role to the recorder's. `prefix` is the agent's field path (`activity`, `correction`).
pub fn build(
    fields: &ActivityFields,
    base: Option<&pb::Activity>,
    default_role: Role,
    source: Source,
    prefix: &str,
    default_today: bool,
) -> Result<pb::Activity, CliError> {
    let err = |message: String, name: &str, column: &str| {
        CliError::input(message, &format!("{prefix}.{name}"), &source.place(column))
    };
    let missing = |what: &str, name: &str, column: &str| {
        err(format!("{what} không được để trống"), name, column)
    };

    let date = match given(&fields.date) {
        Some(v) if !v.is_empty() || base.is_none() => {
            values::iso(values::date(v).map_err(|m| err(m, "date", "ngay"))?)
        }
        _ => match base {
            Some(b) => b.date.clone(),
            None if default_today => values::iso(values::today()),
            None => return Err(missing("Ngày", "date", "ngay")),
        },
    };
    let area = match (fields.area, base) {
        (Some(a), _) => a,
        (None, Some(b)) => b.area,
        (None, None) => {
            return Err(missing(
                "Nội dung truyền thông (số 1 đến 6)",
                "area",
                "noi-dung",
            ));
        }
    };
    let topic = match (given(&fields.topic), base) {
        (Some(t), _) => t.to_lowercase(),
        (None, Some(b)) => b.topic.clone(),
        (None, None) => String::new(),
    };
    let channel = match (given(&fields.channel), base) {
        (Some(c), _) if !c.is_empty() => {
            pb::Channel::from(vocab::channel(c).map_err(|m| err(m, "channel", "kenh"))?).into()
        }
        (_, Some(b)) => b.channel,
        (_, None) => return Err(missing("Kênh truyền thông", "channel", "kenh")),
    };
    let text = |value: &Option<String>, from_base: Option<&String>| -> Option<String> {
        match given(value) {
            Some(v) => Some(v.to_string()),
            None => from_base.cloned(),
        }
    };
    let title = text(&fields.title, base.map(|b| &b.title))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| missing("Tiêu đề", "title", "tieu-de"))?;
    let summary = text(&fields.summary, base.map(|b| &b.summary))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| missing("Tóm tắt", "summary", "tom-tat"))?;
    let responsible = match (given(&fields.responsible), base) {
        (Some(r), _) if !r.is_empty() => {
            pb::Role::from(vocab::role(r).map_err(|m| err(m, "responsible", "phu-trach"))?).into()
        }
        (_, Some(b)) => b.responsible,
        (_, None) => pb::Role::from(default_role).into(),
    };
    Ok(pb::Activity {
        date,
        area,
        topic,
        channel,
        title,
        summary,
        audience: text(&fields.audience, base.map(|b| &b.audience)).unwrap_or_default(),
        reach: fields.reach.or(base.and_then(|b| b.reach)),
        partner: text(&fields.partner, base.map(|b| &b.partner)).unwrap_or_default(),
        evidence_url: text(&fields.evidence, base.map(|b| &b.evidence_url)).unwrap_or_default(),
        responsible,
    })
}

async fn record(ctx: &Ctx, fields: &ActivityFields, id: Option<&str>) -> Result<(), CliError> {
    let missing: Vec<&str> = [
        (fields.area.is_none(), "--noi-dung <1..6>"),
        (fields.channel.is_none(), "--kenh <MÃ KÊNH>"),
        (fields.title.is_none(), "--tieu-de <TIÊU ĐỀ>"),
        (fields.summary.is_none(), "--tom-tat <TÓM TẮT>"),
    ]
    .into_iter()
    .filter_map(|(absent, name)| absent.then_some(name))
    .collect();
    if !missing.is_empty() {
        return Err(CliError::Usage(format!(
            "Thiếu tùy chọn bắt buộc: {}.\nXem hướng dẫn: truyenthong hoat-dong ghi --help",
            missing.join(", ")
        )));
    }
    let header = ctx.header()?;
    let activity = build(fields, None, ctx.role()?, Source::Options, "activity", true)?;
    let activity_id = id_or_new(id, "activity.activity_id")?;
    let request = pb::RecordActivityRequest {
        header: Some(header),
        activity_id: activity_id.clone(),
        activity: Some(activity),
    };
    let agent = ctx.client().await?;
    let sent = client::send(&activity_id, || {
        let mut agent = agent.clone();
        let request = request.clone();
        async move { agent.record_activity(request).await }
    })
    .await
    .map_err(|s| ctx.refused(s))?;
    ctx.out.sent("Đã ghi hoạt động", Some("hoạt động"), &sent);
    Ok(())
}

async fn correct(
    ctx: &Ctx,
    id: &str,
    reason: &str,
    fields: &ActivityFields,
) -> Result<(), CliError> {
    let activity_id = existing_id(id, "correction.activity_id", "MÃ HOẠT ĐỘNG")?;
    let header = ctx.header()?;
    let role = ctx.role()?;
    let mut agent = ctx.client().await?;
    let base = find_activity(&mut agent, &activity_id)
        .await
        .map_err(|s| ctx.refused(s))?
        .ok_or_else(|| {
            CliError::input(
                format!("Không tìm thấy hoạt động «{activity_id}» trong sổ của trường"),
                "correction.activity_id",
                "đối số MÃ HOẠT ĐỘNG",
            )
        })?;
    let activity = build(
        fields,
        Some(&base),
        role,
        Source::Options,
        "correction",
        false,
    )?;
    let request = pb::CorrectActivityRequest {
        header: Some(header),
        activity_id,
        reason: reason.to_string(),
        activity: Some(activity),
    };
    let sent = client::send_once(agent.correct_activity(request))
        .await
        .map_err(|s| ctx.refused(s))?;
    ctx.out.sent("Đã sửa hoạt động", Some("hoạt động"), &sent);
    Ok(())
}

async fn retract(ctx: &Ctx, id: &str, reason: &str) -> Result<(), CliError> {
    let activity_id = existing_id(id, "retraction.activity_id", "MÃ HOẠT ĐỘNG")?;
    let request = pb::RetractActivityRequest {
        header: Some(ctx.header()?),
        activity_id,
        reason: reason.to_string(),
    };
    let mut agent = ctx.client().await?;
    let sent = client::send_once(agent.retract_activity(request))
        .await
        .map_err(|s| ctx.refused(s))?;
    ctx.out.sent("Đã hủy hoạt động", Some("hoạt động"), &sent);
    Ok(())
}

/// The activity `id` as the log last has it (recorded, then corrected), or `None`.
async fn find_activity(agent: &mut Client, id: &str) -> Result<Option<pb::Activity>, Status> {
    let mut found = None;
    let mut from = 1;
    loop {
        let page = agent
            .list_events(pb::ListEventsRequest {
                from_seq: from,
                limit: 1000,
            })
            .await?
            .into_inner();
        for e in &page.events {
            if !matches!(
                e.r#type.as_str(),
                "activity.recorded" | "activity.corrected"
            ) {
                continue;
            }
            let Ok(data) = serde_json::from_str::<Value>(&e.data_json) else {
                continue;
            };
            if data.get("activity_id").and_then(Value::as_str) != Some(id) {
                continue;
            }
            let Ok(data) = domain::upcast::upcast(&e.r#type, e.schema, data) else {
                continue;
            };
            let details = if e.r#type == "activity.recorded" {
                serde_json::from_value::<ActivityRecorded>(data).map(|a| a.details)
            } else {
                serde_json::from_value::<ActivityCorrected>(data).map(|a| a.details)
            };
            if let Ok(details) = details {
                found = Some(wire::convert::activity_to_pb(&details));
            }
        }
        if page.events.is_empty() || page.next_seq > page.head_seq {
            return Ok(found);
        }
        from = page.next_seq;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fields() -> ActivityFields {
        ActivityFields {
            date: Some("15/03/2018".into()),
            area: Some(3),
            topic: Some("Huong-Nghiep".into()),
            channel: Some("dai-truyen-thanh".into()),
            title: Some("Tư vấn hướng nghiệp".into()),
            summary: Some("Buổi phát thanh".into()),
            ..Default::default()
        }
    }

    #[test]
    fn builds_from_options_with_defaults() {
        let a = build(
            &fields(),
            None,
            Role::TradeUnion,
            Source::Options,
            "activity",
            true,
        )
        .unwrap();
        assert_eq!(a.date, "2018-03-15");
        assert_eq!(a.topic, "huong-nghiep");
        assert_eq!(a.channel, pb::Channel::DistrictRadio as i32);
        assert_eq!(a.responsible, pb::Role::TradeUnion as i32);
        assert_eq!(a.reach, None);
    }

    #[test]
    fn a_bad_value_names_field_and_place() {
        let mut f = fields();
        f.date = Some("30/02/2018".into());
        let err = build(&f, None, Role::Principal, Source::Csv, "activity", false).unwrap_err();
        let text = err.vietnamese();
        assert!(
            text.contains("trường dữ liệu: activity.date, cột «ngay»"),
            "{text}"
        );
        let mut f = fields();
        f.channel = Some("bo-cau".into());
        let text = build(&f, None, Role::Principal, Source::Options, "activity", true)
            .unwrap_err()
            .vietnamese();
        assert!(text.contains("tùy chọn --kenh"), "{text}");
    }

    #[test]
    fn a_correction_keeps_what_is_not_given() {
        let base = build(
            &fields(),
            None,
            Role::Principal,
            Source::Options,
            "activity",
            true,
        )
        .unwrap();
        let change = ActivityFields {
            title: Some("Tiêu đề mới".into()),
            audience: Some("Phụ huynh khối 9".into()),
            ..Default::default()
        };
        let a = build(
            &change,
            Some(&base),
            Role::Teacher,
            Source::Options,
            "correction",
            false,
        )
        .unwrap();
        assert_eq!(a.title, "Tiêu đề mới");
        assert_eq!(a.audience, "Phụ huynh khối 9");
        assert_eq!(a.date, base.date);
        assert_eq!(a.summary, base.summary);
        assert_eq!(a.responsible, base.responsible);
    }
}
