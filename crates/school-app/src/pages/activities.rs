//! `/hoat-dong`: the school's activities with their delivery, the form that records one, and
//! the form that corrects one. A refusal shows the domain's Vietnamese message beside the
//! field it names, with everything typed kept.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use domain::event::ActivityDetails;
use domain::school::activity_list::{ActivityEntry, ActivityList};
use domain::school::records::Records;
use domain::{AnyEvent, Channel, ContentArea, EventData, Plan, Role};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;
use wire::pb;

use crate::AppState;
use crate::delivery::{Delivery, Tally};
use crate::error::PageError;
use crate::layout::{self, Nav};
use crate::session::Staff;

/// Events asked for per `ListEvents` page (the agent's maximum).
const PAGE: u32 = 1000;

/// The school's activities, its status and its plan, as one page needs them.
pub(crate) struct SchoolLog {
    pub activities: ActivityList,
    pub records: Records,
    pub status: pb::AgentStatus,
    pub plan: Option<Plan>,
}

impl SchoolLog {
    /// Every record's delivery, summed: activities and the other records alike.
    pub fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        let seqs = self
            .activities
            .newest_first()
            .map(|e| e.last_seq)
            .chain(self.records.latest_seqs());
        for seq in seqs {
            tally.add(&Delivery::of(seq, &self.status));
        }
        tally
    }
}

/// Reads the log through the agent as `staff`: every event, folded into the activity list.
pub(crate) async fn load(staff: &Staff) -> Result<SchoolLog, PageError> {
    let mut agent = staff.agent.clone();
    let fail = |status: tonic::Status| PageError::from_status(&status);
    let status = agent
        .get_status(pb::GetStatusRequest {})
        .await
        .map_err(fail)?
        .into_inner();
    let plan = agent
        .get_plan(pb::GetPlanRequest {})
        .await
        .map_err(fail)?
        .into_inner()
        .plan
        .and_then(|p| wire::convert::plan_from_pb(p).ok());
    let mut activities = ActivityList::default();
    let mut records = Records::default();
    let mut from_seq = 1;
    loop {
        let page = agent
            .list_events(pb::ListEventsRequest {
                from_seq,
                limit: PAGE,
            })
            .await
            .map_err(fail)?
            .into_inner();
        for record in &page.events {
            let Ok(data) = EventData::parse(&record.data_json) else {
                continue;
            };
            let Ok(AnyEvent::School(event)) =
                AnyEvent::from_data_at(&record.r#type, record.schema, &data)
            else {
                continue;
            };
            let at = record
                .recorded_at
                .as_ref()
                .and_then(|t| {
                    chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)
                })
                .unwrap_or_default();
            let actor = record.actor.as_ref().map_or("", |a| a.person.as_str());
            activities.apply(record.seq, at, actor, &event);
            records.apply(record.seq, &event);
        }
        if page.events.is_empty() || page.next_seq > page.head_seq {
            break;
        }
        from_seq = page.next_seq;
    }
    Ok(SchoolLog {
        activities,
        records,
        status,
        plan,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    /// Content area number, 1..6.
    #[serde(default)]
    linh_vuc: String,
    #[serde(default)]
    kenh: String,
    /// Words to find in the title, summary, partner or recorder.
    #[serde(default)]
    tim: String,
    /// A delivery state code (`chua-gui`, …).
    #[serde(default)]
    trang_thai: String,
    /// The period: from and to (`YYYY-MM-DD`, from the date pickers), either may be empty.
    #[serde(default)]
    tu: String,
    #[serde(default)]
    den: String,
    /// Who recorded it (the account's full name).
    #[serde(default)]
    nguoi: String,
}

impl Filters {
    fn keeps(&self, entry: &ActivityEntry, delivery: &Delivery) -> bool {
        let area_ok =
            self.linh_vuc.is_empty() || entry.details.area.number().to_string() == self.linh_vuc;
        let channel_ok = self.kenh.is_empty() || entry.details.channel.code() == self.kenh;
        let state_ok = self.trang_thai.is_empty() || delivery.code() == self.trang_thai;
        let words = domain::district::folding::fold_vietnamese(&self.tim);
        let text_ok = words.split_whitespace().all(|word| {
            [
                entry.details.title.as_str(),
                entry.details.summary.as_str(),
                entry.details.partner.as_deref().unwrap_or(""),
                entry.recorded_by.as_str(),
            ]
            .iter()
            .any(|t| domain::district::folding::fold_vietnamese(t).contains(word))
        });
        let day = |typed: &str| NaiveDate::parse_from_str(typed, "%Y-%m-%d").ok();
        let from_ok = day(&self.tu).is_none_or(|from| entry.details.date >= from);
        let to_ok = day(&self.den).is_none_or(|to| entry.details.date <= to);
        let person_ok = self.nguoi.is_empty() || entry.recorded_by == self.nguoi;
        area_ok && channel_ok && state_ok && text_ok && from_ok && to_ok && person_ok
    }
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let log = load(&staff).await?;
    let tally = log.tally();
    let rows: Vec<(&ActivityEntry, Delivery)> = log
        .activities
        .newest_first()
        .map(|e| (e, Delivery::of(e.last_seq, &log.status)))
        .filter(|(e, d)| filters.keeps(e, d))
        .collect();
    let people: std::collections::BTreeSet<&str> = log
        .activities
        .newest_first()
        .map(|e| e.recorded_by.as_str())
        .filter(|p| !p.is_empty())
        .collect();
    let body = html! {
        h1 { "Hoạt động truyền thông" }
        p { a.button href="/hoat-dong/moi" { "Ghi hoạt động mới" } }
        form.filters method="get" action="/hoat-dong" {
            label { "Lĩnh vực " select name="linh_vuc" {
                option value="" { "Tất cả" }
                @for area in ContentArea::ALL {
                    option value=(area.number()) selected[filters.linh_vuc == area.number().to_string()] { (area.number()) ". " (area.label_vi()) }
                }
            } }
            label { "Kênh " select name="kenh" {
                option value="" { "Tất cả" }
                @for channel in Channel::ALL {
                    option value=(channel.code()) selected[filters.kenh == channel.code()] { (channel.label_vi()) }
                }
            } }
            label { "Tình trạng " select name="trang_thai" {
                option value="" { "Tất cả" }
                @for d in [Delivery::NotSent, Delivery::Sent, Delivery::Received, Delivery::Held(String::new()), Delivery::Refused(String::new())] {
                    option value=(d.code()) selected[filters.trang_thai == d.code()] { (d.label()) }
                }
            } }
            label { "Từ ngày " input type="date" name="tu" value=(filters.tu); }
            label { "đến ngày " input type="date" name="den" value=(filters.den); }
            label { "Người ghi " select name="nguoi" {
                option value="" { "Tất cả" }
                @for person in &people {
                    option value=(person) selected[filters.nguoi == *person] { (person) }
                }
            } }
            label { "Tìm " input type="text" name="tim" value=(filters.tim); }
            button type="submit" { "Lọc" }
        }
        p.muted { (rows.len()) " trong " (log.activities.len()) " hoạt động." }
        table.activities {
            thead { tr { th { "Ngày" } th { "Hoạt động" } th { "Lĩnh vực, kênh" } th { "Người ghi" } th { "Gửi Phòng" } th {} } }
            tbody {
                @for (entry, delivery) in &rows {
                    tr data-activity=(entry.activity_id) {
                        td { (domain::vi::date(entry.details.date)) }
                        td {
                            strong { (entry.details.title) }
                            @if let Some(reason) = &entry.retracted { br; span.reason { "Đã rút: " (reason) } }
                            @if entry.corrections > 0 { br; span.muted { "Đã sửa " (entry.corrections) " lần" } }
                        }
                        td { (entry.details.area.number()) ". " (entry.details.area.label_vi()) br; span.muted { (entry.details.channel.label_vi()) } }
                        td { (entry.recorded_by) }
                        td { (state_badge(delivery)) }
                        td {
                            @if entry.retracted.is_none() {
                                a href={ "/hoat-dong/" (entry.activity_id) "/sua" } { "Sửa" }
                                " · "
                                a.minh-chung href=(crate::pages::evidence::href(&domain::evidence::EvidenceTarget::Activity(entry.activity_id))) { "Minh chứng" }
                            }
                        }
                    }
                }
            }
        }
    };
    let page = layout::page(
        &state.school_name,
        "Hoạt động truyền thông",
        Nav::Activities,
        &staff,
        Some((&log.status, tally)),
        body,
    );
    Ok(Html(page.into_string()).into_response())
}

/// A record's delivery as the staff see it, with the district's reason when refused.
pub(crate) fn state_badge(delivery: &Delivery) -> Markup {
    html! {
        span class={ "state " (delivery.code()) } data-delivery=(delivery.code()) title=(delivery.explanation()) { (delivery.label()) }
        @match delivery {
            Delivery::Refused(reason) | Delivery::Held(reason) => { br; span.reason { (reason) } }
            _ => {}
        }
    }
}

/// What the activity form holds, as typed (kept whole when the agent refuses it).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActivityForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    reach: String,
    #[serde(default)]
    partner: String,
    #[serde(default)]
    evidence_url: String,
    #[serde(default)]
    responsible: String,
    /// Only when correcting.
    #[serde(default)]
    reason: String,
}

impl ActivityForm {
    fn of(details: &ActivityDetails) -> Self {
        Self {
            date: details.date.format("%Y-%m-%d").to_string(),
            area: details.area.number().to_string(),
            topic: details
                .topic
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
            channel: details.channel.code().to_owned(),
            title: details.title.clone(),
            summary: details.summary.clone(),
            audience: details.audience.clone().unwrap_or_default(),
            reach: details.reach.map(|r| r.to_string()).unwrap_or_default(),
            partner: details.partner.clone().unwrap_or_default(),
            evidence_url: details.evidence_url.clone().unwrap_or_default(),
            responsible: details.responsible.code().to_owned(),
            ..Self::default()
        }
    }

    /// The wire form of what was typed; what the agent must judge (dates in the plan, topics
    /// of the area) is left to it, so its message is the one shown. Only what cannot even be
    /// sent is refused here, against its field.
    fn to_pb(&self) -> Result<pb::Activity, (&'static str, String)> {
        let area = self.area.parse::<u32>().unwrap_or(0);
        let channel = Channel::parse("channel", &self.channel)
            .map(|c| pb::Channel::from(c) as i32)
            .unwrap_or(0);
        let responsible = Role::parse("responsible", &self.responsible)
            .map(|r| pb::Role::from(r) as i32)
            .unwrap_or(0);
        let reach = match self.reach.trim() {
            "" => None,
            typed => Some(typed.replace(['.', ' '], "").parse::<u32>().map_err(|_| {
                (
                    "reach",
                    "Số người được tiếp cận phải là một số nguyên không âm.".to_owned(),
                )
            })?),
        };
        let date = match self.date.trim() {
            "" => String::new(),
            typed => parse_date(typed)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .ok_or(("date", "Ngày không đúng dạng ngày/tháng/năm.".to_owned()))?,
        };
        Ok(pb::Activity {
            date,
            area,
            topic: self.topic.trim().to_owned(),
            channel,
            title: self.title.clone(),
            summary: self.summary.clone(),
            audience: self.audience.clone(),
            reach,
            partner: self.partner.clone(),
            evidence_url: self.evidence_url.trim().to_owned(),
            responsible,
        })
    }
}

/// `YYYY-MM-DD` (the date picker) or `dd/mm/yyyy` (typed by hand).
fn parse_date(typed: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(typed, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(typed, "%d/%m/%Y"))
        .ok()
}

/// The form's field a refusal names (`activity.date` → `date`).
fn form_field(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    match last {
        "activity_id" | "" => "title",
        other => other,
    }
}

/// The activity form: new (`editing` = None) or a correction.
fn form_page(
    state: &AppState,
    staff: &Staff,
    plan: Option<&Plan>,
    editing: Option<Uuid>,
    form: &ActivityForm,
    error: Option<(String, String)>,
    code: StatusCode,
) -> Response {
    let error_for = |field: &str| {
        error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
    };
    let field = |name: &'static str, label: &'static str, input: Markup| {
        html! {
            div class=@if error_for(name).is_some() { "has-error" } data-field-wrap=(name) {
                label for=(name) { (label) }
                (input)
                @if let Some(message) = error_for(name) { p.field-error data-field=(name) id={ "loi-" (name) } { (message) } }
            }
        }
    };
    let areas: Vec<&domain::plan::AreaPlan> = plan
        .map(|p| p.content_areas.iter().collect())
        .unwrap_or_default();
    let (title, action) = match editing {
        None => ("Ghi hoạt động mới".to_owned(), "/hoat-dong/moi".to_owned()),
        Some(id) => ("Sửa hoạt động".to_owned(), format!("/hoat-dong/{id}/sua")),
    };
    let general = error.as_ref().filter(|(f, _)| {
        ![
            "date",
            "area",
            "topic",
            "channel",
            "title",
            "summary",
            "audience",
            "reach",
            "partner",
            "evidence_url",
            "responsible",
            "reason",
        ]
        .contains(&f.as_str())
    });
    let body = html! {
        section.card {
            h1 { (title) }
            @if plan.is_none() { p.notice.error { "Trường chưa ban hành kế hoạch: cần ban hành kế hoạch trước khi ghi hoạt động." } }
            @if let Some((_, message)) = general { p.notice.error id="loi-chung" { (message) } }
            form.record method="post" action=(action) novalidate {
                input type="hidden" name="csrf" value=(staff.csrf());
                (field("date", "Ngày diễn ra (ngày/tháng/năm)", html! { input id="date" name="date" type="date" value=(form.date); }))
                (field("area", "Lĩnh vực nội dung", html! {
                    select id="area" name="area" {
                        @for a in &areas { option value=(a.area.number()) selected[form.area == a.area.number().to_string()] { (a.area.number()) ". " (if a.title.is_empty() { a.area.label_vi() } else { a.title.as_str() }) } }
                    }
                }))
                (field("topic", "Chủ đề", html! {
                    select id="topic" name="topic" {
                        option value="" { "(không có chủ đề)" }
                        @for a in &areas {
                            optgroup label={ (a.area.number()) ". " (a.area.label_vi()) } {
                                @for t in &a.topics { option value=(t.code.to_string()) selected[form.topic == t.code.to_string()] { (t.title) } }
                            }
                        }
                    }
                }))
                (field("channel", "Kênh truyền thông", html! {
                    select id="channel" name="channel" {
                        @for c in Channel::ALL { option value=(c.code()) selected[form.channel == c.code()] { (c.label_vi()) } }
                    }
                }))
                (field("title", "Tên hoạt động", html! { input id="title" name="title" type="text" value=(form.title); }))
                (field("summary", "Nội dung tóm tắt", html! { textarea id="summary" name="summary" { (form.summary) } }))
                (field("audience", "Đối tượng (không bắt buộc)", html! { input id="audience" name="audience" type="text" value=(form.audience); }))
                (field("reach", "Số người được tiếp cận (không bắt buộc)", html! { input id="reach" name="reach" type="text" inputmode="numeric" value=(form.reach); }))
                (field("partner", "Đơn vị phối hợp (không bắt buộc)", html! { input id="partner" name="partner" type="text" value=(form.partner); }))
                (field("evidence_url", "Đường dẫn minh chứng (không bắt buộc)", html! { input id="evidence_url" name="evidence_url" type="url" value=(form.evidence_url); }))
                (field("responsible", "Bộ phận phụ trách", html! {
                    select id="responsible" name="responsible" {
                        @for r in Role::ALL.iter().filter(|r| **r != Role::DistrictOffice) {
                            option value=(r.code()) selected[form.responsible == r.code() || (form.responsible.is_empty() && *r == staff.role())] { (r.label_vi()) }
                        }
                    }
                }))
                @if editing.is_some() {
                    (field("reason", "Lý do sửa", html! { input id="reason" name="reason" type="text" value=(form.reason); }))
                }
                button.primary type="submit" id="luu" { "Lưu" }
                " " a href="/hoat-dong" { "Huỷ" }
            }
        }
    };
    let page = layout::page(
        &state.school_name,
        "Hoạt động",
        Nav::Activities,
        staff,
        None,
        body,
    );
    (code, Html(page.into_string())).into_response()
}

pub async fn new_form(State(state): State<AppState>, staff: Staff) -> Result<Response, PageError> {
    let log = load(&staff).await?;
    let form = ActivityForm {
        date: chrono::Utc::now()
            .with_timezone(&domain::calendar::vietnam_offset())
            .date_naive()
            .format("%Y-%m-%d")
            .to_string(),
        ..ActivityForm::default()
    };
    Ok(form_page(
        &state,
        &staff,
        log.plan.as_ref(),
        None,
        &form,
        None,
        StatusCode::OK,
    ))
}

pub async fn record(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<ActivityForm>,
) -> Result<Response, PageError> {
    staff.check_csrf(&state, &form.csrf)?;
    submit(&state, &staff, None, form).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    let log = load(&staff).await?;
    let entry = log.activities.get(id).ok_or(PageError::NotFound)?;
    let form = ActivityForm::of(&entry.details);
    Ok(form_page(
        &state,
        &staff,
        log.plan.as_ref(),
        Some(id),
        &form,
        None,
        StatusCode::OK,
    ))
}

pub async fn correct(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<ActivityForm>,
) -> Result<Response, PageError> {
    staff.check_csrf(&state, &form.csrf)?;
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    submit(&state, &staff, Some(id), form).await
}

/// Sends the form to the agent; on a refusal, the same form with the message beside its field.
async fn submit(
    state: &AppState,
    staff: &Staff,
    editing: Option<Uuid>,
    form: ActivityForm,
) -> Result<Response, PageError> {
    let refused = |log: SchoolLog, field: String, message: String| {
        form_page(
            state,
            staff,
            log.plan.as_ref(),
            editing,
            &form,
            Some((field, message)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let activity = match form.to_pb() {
        Ok(activity) => activity,
        Err((field, message)) => {
            let log = load(staff).await?;
            return Ok(refused(log, field.to_owned(), message));
        }
    };
    let mut agent = staff.agent.clone();
    let reply = match editing {
        None => {
            agent
                .record_activity(pb::RecordActivityRequest {
                    header: None,
                    activity_id: String::new(),
                    activity: Some(activity),
                })
                .await
        }
        Some(id) => {
            agent
                .correct_activity(pb::CorrectActivityRequest {
                    header: None,
                    activity_id: id.to_string(),
                    reason: form.reason.clone(),
                    activity: Some(activity),
                })
                .await
        }
    };
    match reply {
        Ok(_) => Ok(Redirect::to("/hoat-dong").into_response()),
        Err(status)
            if matches!(
                status.code(),
                tonic::Code::InvalidArgument
                    | tonic::Code::FailedPrecondition
                    | tonic::Code::AlreadyExists
                    | tonic::Code::NotFound
                    | tonic::Code::PermissionDenied
            ) =>
        {
            if status.code() == tonic::Code::FailedPrecondition
                && wire::status::violated_field(&status).as_deref() == Some("password")
            {
                return Err(PageError::PasswordChangeRequired);
            }
            let field = wire::status::violated_field(&status)
                .map(|f| form_field(&f).to_owned())
                .unwrap_or_default();
            let message = wire::status::vietnamese_message(&status)
                .unwrap_or_else(|| "Không lưu được hoạt động này.".to_owned());
            let log = load(staff).await?;
            Ok(refused(log, field, message))
        }
        Err(status) => Err(PageError::from_status(&status)),
    }
}
