//! Printing: Vietnamese text for people, JSON for programs (`--json`).
//!
//! Results go to stdout, errors and progress to stderr. Writes ignore a closed pipe
//! (`truyenthong nhat-ky | head`) instead of panicking. The `*_text` functions only format,
//! so they are tested without a terminal.

use std::io::Write as _;

use chrono::{DateTime, Utc};
use domain::vi;
use serde::Serialize;
use serde_json::{Value, json};
use wire::pb;

use crate::error::CliError;
use crate::vocab;

/// Where and how results are printed.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

/// The outcome of a command the agent accepted.
#[derive(Debug, Clone)]
pub enum Sent {
    /// Recorded now, with the agent's reply.
    Reply(pb::CommandReply),
    /// A retry after a lost reply found the fact already recorded under the same id.
    AlreadyRecorded { entity_id: String },
}

impl Output {
    /// Prints text for people on stdout.
    pub fn text(&self, text: impl AsRef<str>) {
        let _ = writeln!(std::io::stdout().lock(), "{}", text.as_ref());
    }

    /// Prints a value as JSON on stdout.
    pub fn json<T: Serialize>(&self, value: &T) {
        let text = serde_json::to_string_pretty(value)
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }

    /// Prints a line on stderr (progress, notes).
    pub fn note(&self, text: impl AsRef<str>) {
        let _ = writeln!(std::io::stderr().lock(), "{}", text.as_ref());
    }

    /// Prints an error on stderr: `Lỗi: …`, or a JSON object with `--json`.
    pub fn error(&self, err: &CliError) {
        if self.json {
            let text = serde_json::to_string(&err.json()).unwrap_or_default();
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        } else {
            let _ = writeln!(std::io::stderr().lock(), "Lỗi: {}", err.vietnamese());
        }
    }

    /// Prints an accepted command: `done` says what was recorded (`Đã ghi hoạt động`);
    /// `entity` names the kind of id for staff (`mã hoạt động`), if the command has one.
    pub fn sent(&self, done: &str, entity: Option<&str>, sent: &Sent) {
        if self.json {
            self.json(&sent_json(sent));
        } else {
            self.text(sent_text(done, entity, sent));
        }
    }
}

pub fn sent_json(sent: &Sent) -> Value {
    match sent {
        Sent::Reply(r) => json!({
            "seq": r.seq,
            "event_id": r.event_id,
            "entity_id": r.entity_id,
            "warnings": r.warnings.iter().map(|w| json!({
                "field": w.field,
                "message": w.message,
                "message_vi": w.message_vi,
            })).collect::<Vec<_>>(),
            "already_recorded": false,
        }),
        Sent::AlreadyRecorded { entity_id } => json!({
            "entity_id": entity_id,
            "warnings": [],
            "already_recorded": true,
        }),
    }
}

pub fn sent_text(done: &str, entity: Option<&str>, sent: &Sent) -> String {
    match sent {
        Sent::Reply(r) => {
            let mut out = format!("{done} (sự kiện số {}).", r.seq);
            if let (Some(entity), false) = (entity, r.entity_id.is_empty()) {
                out.push_str(&format!("\nMã {entity}: {}", r.entity_id));
            }
            for w in &r.warnings {
                let message = if w.message_vi.is_empty() {
                    &w.message
                } else {
                    &w.message_vi
                };
                out.push_str(&format!("\nCảnh báo ({}): {message}", w.field));
            }
            out
        }
        Sent::AlreadyRecorded { entity_id } => {
            let mut out = format!("{done} (lần gửi trước đã được ghi; không ghi lặp).");
            if let (Some(entity), false) = (entity, entity_id.is_empty()) {
                out.push_str(&format!("\nMã {entity}: {entity_id}"));
            }
            out
        }
    }
}

/// A date `YYYY-MM-DD` as Vietnamese documents write it (`20/10/2017`); unchanged if it is not
/// a date.
pub fn vn_date(iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(vi::date)
        .unwrap_or_else(|_| iso.to_string())
}

/// An instant in Vietnam local time: `14:05:32 ngày 21/05/2018`.
pub fn local_time(instant: DateTime<Utc>) -> String {
    vi::instant_in_words(instant)
}

fn instant(ts: Option<&pb::Timestamp>) -> Option<DateTime<Utc>> {
    ts.and_then(wire::convert::datetime)
}

fn area_title(area: &pb::AreaPlan) -> String {
    if area.title.trim().is_empty() {
        domain::ContentArea::from_number("area", i64::from(area.area))
            .map(|a| a.label_vi().to_string())
            .unwrap_or_default()
    } else {
        area.title.clone()
    }
}

/// The adopted plan for people: what staff need to record activities (topic codes) and who
/// does what.
pub fn plan_text(plan: &pb::Plan) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Kế hoạch số {} ngày {} của {}",
        plan.number,
        vn_date(&plan.date),
        plan.issuer
    ));
    if !plan.parent_agency.is_empty() {
        out.push_str(&format!(" ({})", plan.parent_agency));
    }
    out.push('\n');
    if !plan.title.is_empty() {
        out.push_str(&format!("«{}»\n", plan.title));
    }
    out.push_str(&format!(
        "Thời gian thực hiện: {} – {}\n",
        vn_date(&plan.period_start),
        vn_date(&plan.period_end)
    ));
    if !plan.legal_bases.is_empty() {
        out.push_str("\nCăn cứ:\n");
        for b in &plan.legal_bases {
            out.push_str(&format!(
                "  - {} ngày {} của {}\n",
                b.number,
                vn_date(&b.date),
                b.issuer
            ));
        }
    }
    out.push_str("\nNội dung truyền thông trọng tâm (dùng --noi-dung <số> --chu-de <mã> khi ghi hoạt động):\n");
    for area in &plan.content_areas {
        out.push_str(&format!("  {}. {}\n", area.area, area_title(area)));
        if area.topics.is_empty() {
            out.push_str("       (không có chủ đề; bỏ trống --chu-de)\n");
        }
        let width = area
            .topics
            .iter()
            .map(|t| t.code.chars().count())
            .max()
            .unwrap_or(0);
        for t in &area.topics {
            out.push_str(&format!("       {:<width$}  {}\n", t.code, t.title));
        }
    }
    if !plan.duties.is_empty() {
        out.push_str("\nTổ chức thực hiện:\n");
        for d in &plan.duties {
            let code = wire::convert::role("role", d.role)
                .map(|r| {
                    vocab::ROLES
                        .iter()
                        .find(|(x, _)| *x == r)
                        .map_or(r.code(), |(_, slug)| slug)
                })
                .unwrap_or("?");
            out.push_str(&format!("  {} ({code}):\n", vocab::role_label_pb(d.role)));
            for duty in &d.duties {
                out.push_str(&format!("    - {duty}\n"));
            }
        }
    }
    out.trim_end().to_string()
}

/// The adopted plan as JSON, in the shape of a plan file.
pub fn plan_json(plan: &pb::Plan) -> Value {
    json!({
        "number": plan.number,
        "issuer": plan.issuer,
        "parent_agency": plan.parent_agency,
        "place": plan.place,
        "date": plan.date,
        "title": plan.title,
        "period": { "start": plan.period_start, "end": plan.period_end },
        "legal_bases": plan.legal_bases.iter().map(|b| json!({
            "number": b.number, "date": b.date, "issuer": b.issuer, "title": b.title,
        })).collect::<Vec<_>>(),
        "purposes": plan.purposes,
        "requirements": plan.requirements,
        "content_areas": plan.content_areas.iter().map(|a| json!({
            "area": a.area,
            "title": a.title,
            "topics": a.topics.iter().map(|t| json!({"code": t.code, "title": t.title})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "duties": plan.duties.iter().map(|d| json!({
            "role": wire::convert::role("role", d.role).map(|r| r.code()).unwrap_or("unknown"),
            "duties": d.duties,
        })).collect::<Vec<_>>(),
    })
}

fn s<'a>(data: &'a Value, pointer: &str) -> &'a str {
    data.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn n(data: &Value, pointer: &str) -> i64 {
    data.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// What an event is about, in a few words, and the id of the thing it concerns (activity,
/// feedback, …) that later commands refer to.
pub fn event_summary(event_type: &str, data: &Value) -> (String, Option<String>) {
    let id = [
        "/activity_id",
        "/feedback_id",
        "/issue_id",
        "/visit_id",
        "/nomination_id",
        "/expense_id",
    ]
    .iter()
    .find_map(|p| data.pointer(p).and_then(Value::as_str))
    .map(str::to_string);
    let text = match event_type {
        "plan.adopted" => format!("{} – {}", s(data, "/plan/number"), s(data, "/plan/title")),
        "plan.amended" => {
            let number = s(data, "/number");
            if number.is_empty() {
                s(data, "/reason").to_string()
            } else {
                format!("{number}: {}", s(data, "/reason"))
            }
        }
        "duty.assigned" => format!(
            "{} ({}): {}",
            s(data, "/person"),
            vocab::role_label(s(data, "/role")),
            s(data, "/duty")
        ),
        "activity.recorded" => s(data, "/title").to_string(),
        "activity.corrected" => format!("{} (lý do: {})", s(data, "/title"), s(data, "/reason")),
        "activity.retracted" => format!("lý do: {}", s(data, "/reason")),
        "feedback.received" => s(data, "/subject").to_string(),
        "feedback.answered" => s(data, "/answer").to_string(),
        "press_issue.raised" => format!("{}: {}", s(data, "/outlet"), s(data, "/title")),
        "press_issue.answered" => s(data, "/response").to_string(),
        "reporter_visit.hosted" => format!(
            "{}, {}: {}",
            s(data, "/outlet"),
            s(data, "/reporter"),
            s(data, "/purpose")
        ),
        "nominee.nominated" => format!("{}: {}", s(data, "/nominee"), s(data, "/achievement")),
        "commendation.awarded" => format!(
            "{}, quyết định {}",
            vocab::level_label(s(data, "/level")),
            s(data, "/decision_number")
        ),
        "emulation_criteria.adopted" => {
            let year = n(data, "/school_year");
            let count = data
                .pointer("/criteria")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            format!("Năm học {year}–{}: {count} tiêu chí", year + 1)
        }
        "budget.estimated" => {
            let total: i64 = data
                .pointer("/lines")
                .and_then(Value::as_array)
                .map(|lines| lines.iter().map(|l| n(l, "/amount")).sum())
                .unwrap_or(0);
            format!("Năm {}: tổng {} đồng", n(data, "/year"), vi::int(total))
        }
        "expense.recorded" => format!("{}: {} đồng", s(data, "/item"), vi::int(n(data, "/amount"))),
        "budget.settled" => format!(
            "Năm {}: {} đồng",
            n(data, "/year"),
            vi::int(n(data, "/settled_amount"))
        ),
        "evidence.attached" => format!(
            "{} ({})",
            s(data, "/file/name"),
            vi::file_size(u64::try_from(n(data, "/file/size")).unwrap_or(0))
        ),
        _ => String::new(),
    };
    (one_line(&text), id)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    if len >= width {
        text.to_string()
    } else {
        format!("{text}{}", " ".repeat(width - len))
    }
}

/// The log for people: one line per event, with the id of what it concerns below it.
pub fn events_text(reply: &pb::ListEventsReply) -> String {
    if reply.events.is_empty() {
        return if reply.head_seq == 0 {
            "Sổ của trường chưa có sự kiện nào.".to_string()
        } else {
            format!(
                "Không có sự kiện nào trong khoảng này (sổ có {} sự kiện).",
                reply.head_seq
            )
        };
    }
    let seq_width = reply
        .events
        .iter()
        .map(|e| e.seq.to_string().len())
        .max()
        .unwrap_or(1)
        .max(2);
    let mut out = format!(
        "{}  {}  {}  {}  {}\n",
        pad("Số", seq_width),
        pad("Ngày", 10),
        pad("Loại", 22),
        pad("Nội dung", 50),
        "Gửi về Phòng"
    );
    for e in &reply.events {
        let data: Value = serde_json::from_str(&e.data_json).unwrap_or(Value::Null);
        let (summary, id) = event_summary(&e.r#type, &data);
        let date = instant(e.occurred_at.as_ref())
            .map(|t| vi::date(domain::calendar::local_date(t)))
            .unwrap_or_default();
        out.push_str(&format!(
            "{:>seq_width$}  {}  {}  {}  {}\n",
            e.seq,
            pad(&date, 10),
            pad(&excerpt(&vocab::event_type_vi(&e.r#type), 22), 22),
            pad(&excerpt(&summary, 50), 50),
            if e.published {
                "đã gửi"
            } else {
                "chưa gửi"
            }
        ));
        if let Some(id) = id {
            out.push_str(&format!("{}  mã: {id}\n", " ".repeat(seq_width)));
        }
    }
    let first = reply.events.first().map_or(0, |e| e.seq);
    let last = reply.events.last().map_or(0, |e| e.seq);
    out.push_str(&format!(
        "\nSự kiện số {first} đến {last} trong tổng số {} sự kiện.",
        reply.head_seq
    ));
    if last < reply.head_seq {
        out.push_str(&format!(
            " Xem tiếp: truyenthong nhat-ky --tu-seq {}",
            last + 1
        ));
    }
    out
}

/// The log as JSON, with each event's `data` as a JSON value.
pub fn events_json(reply: &pb::ListEventsReply) -> Value {
    let rfc3339 = |ts: Option<&pb::Timestamp>| instant(ts).map(|t| t.to_rfc3339());
    json!({
        "events": reply.events.iter().map(|e| {
            let data: Value = serde_json::from_str(&e.data_json).unwrap_or(Value::Null);
            json!({
                "seq": e.seq,
                "id": e.id,
                "type": e.r#type,
                "type_vi": vocab::event_type_vi(&e.r#type),
                "schema": e.schema,
                "occurred_at": rfc3339(e.occurred_at.as_ref()),
                "recorded_at": rfc3339(e.recorded_at.as_ref()),
                "actor": e.actor.as_ref().map(|a| json!({
                    "role": wire::convert::role("role", a.role).map(|r| r.code()).unwrap_or("unknown"),
                    "person": a.person,
                })),
                "data": data,
                "published": e.published,
            })
        }).collect::<Vec<_>>(),
        "next_seq": reply.next_seq,
        "head_seq": reply.head_seq,
    })
}

/// The agent's delivery status for people.
pub fn status_text(st: &pb::AgentStatus) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Trường: {} (huyện {}, tỉnh {})\n",
        st.school, st.district, st.province
    ));
    if st.plan_number.is_empty() {
        out.push_str("Kế hoạch: chưa ban hành\n");
    } else {
        out.push_str(&format!("Kế hoạch: {}\n", st.plan_number));
    }
    out.push_str(&format!("Sự kiện mới nhất: số {}\n", st.head_seq));
    if st.catching_up {
        out.push_str(&format!(
            "Sổ vừa khôi phục từ bản sao, đang bổ sung từ Phòng: CHƯA GHI NHẬN ĐƯỢC. {}\n",
            st.catch_up_status
        ));
    } else if !st.catch_up_status.is_empty() {
        out.push_str(&format!("Cảnh báo về sổ: {}\n", st.catch_up_status));
    }
    out.push_str(&format!(
        "Đã gửi về Phòng đến: sự kiện số {}\n",
        st.last_published_seq
    ));
    if st.backlog == 0 {
        out.push_str("Tồn đọng: không; mọi sự kiện đã gửi về Phòng\n");
    } else {
        out.push_str(&format!(
            "Tồn đọng: còn {} sự kiện chưa gửi về Phòng\n",
            st.backlog
        ));
    }
    match instant(st.last_publish_at.as_ref()) {
        Some(t) => out.push_str(&format!(
            "Lần gửi thành công gần nhất: {} (giờ Việt Nam)\n",
            local_time(t)
        )),
        None => out.push_str("Lần gửi thành công gần nhất: chưa gửi lần nào\n"),
    }
    out.push_str(if st.connected {
        "Kết nối với máy chủ sự kiện của Phòng: đang kết nối\n"
    } else {
        "Kết nối với máy chủ sự kiện của Phòng: MẤT KẾT NỐI (sự kiện vẫn được ghi và sẽ gửi khi có mạng)\n"
    });
    if !st.last_error.is_empty() {
        out.push_str(&format!(
            "Lỗi gửi gần nhất (chi tiết kỹ thuật): {}\n",
            st.last_error
        ));
    }
    out.trim_end().to_string()
}

pub fn status_json(st: &pb::AgentStatus) -> Value {
    json!({
        "province": st.province,
        "district": st.district,
        "school": st.school,
        "plan_number": st.plan_number,
        "head_seq": st.head_seq,
        "last_published_seq": st.last_published_seq,
        "backlog": st.backlog,
        "last_publish_at": instant(st.last_publish_at.as_ref()).map(|t| t.to_rfc3339()),
        "connected": st.connected,
        "last_error": st.last_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_pick_the_right_words() {
        let data = json!({"activity_id": "x-1", "title": "Tin bài\nhai dòng"});
        let (text, id) = event_summary("activity.recorded", &data);
        assert_eq!(text, "Tin bài hai dòng");
        assert_eq!(id.as_deref(), Some("x-1"));
        let (text, _) = event_summary(
            "budget.estimated",
            &json!({"year": 2018, "lines": [{"item": "a", "amount": 1_000_000}, {"item": "b", "amount": 2_000_000}]}),
        );
        assert_eq!(text, "Năm 2018: tổng 3.000.000 đồng");
    }

    #[test]
    fn status_says_backlog_in_vietnamese() {
        let st = pb::AgentStatus {
            school: "thcs-an-hoa".into(),
            head_seq: 12,
            last_published_seq: 10,
            backlog: 2,
            ..Default::default()
        };
        let text = status_text(&st);
        assert!(text.contains("còn 2 sự kiện chưa gửi về Phòng"), "{text}");
        assert!(text.contains("chưa gửi lần nào"), "{text}");
        assert!(text.contains("MẤT KẾT NỐI"), "{text}");
    }
}
